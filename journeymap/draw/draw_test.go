package draw

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/cjmhq/cjm/journeymap"
)

func ev(kind journeymap.EvidenceKind, source string) []journeymap.Evidence {
	return []journeymap.Evidence{{Kind: kind, Source: source, Date: "2026-09-14"}}
}

func cards(texts ...string) []journeymap.Card {
	cs := make([]journeymap.Card, len(texts))
	for i, s := range texts {
		cs[i] = journeymap.Card{ID: "c" + s[:min(3, len(s))], Text: s}
	}
	return cs
}

// pictureURI returns a small PNG as a data: URI, for an avatar.
func pictureURI(t testing.TB) string {
	img := image.NewRGBA(image.Rect(0, 0, 48, 64))
	for y := range 64 {
		for x := range 48 {
			img.Set(x, y, color.RGBA{uint8(120 + x*2), uint8(60 + y), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// zaloName is a touchpoint name given decomposed (NFD), as some keyboards
// type Vietnamese; the drawing must show it composed (NFC).
var zaloName = norm.NFD.String("Tư vấn qua Zalo OA")

// testMap is a realistic map of an electronics retailer, in Vietnamese.
func testMap(t testing.TB) *journeymap.Map {
	m := &journeymap.Map{
		Schema: journeymap.SchemaVersion,
		Name:   "Hành trình mua điều hoà của khách hàng gia đình",
		Lang:   "vi",
		State:  journeymap.Current,
		Goal: journeymap.Goal{
			Why:      "Tỷ lệ khách bỏ giỏ hàng ở bước thanh toán tăng 18% trong quý 3; cần biết khách vướng ở đâu.",
			Achieve:  "Giảm 30% tỷ lệ bỏ giỏ và tăng điểm NPS sau lắp đặt lên 50 trong 6 tháng.",
			Audience: "Ban giám đốc, khối bán lẻ và chăm sóc khách hàng",
		},
		Departments: []string{"Marketing", "Bán lẻ", "Thương mại điện tử", "Chăm sóc khách hàng", "Kỹ thuật lắp đặt"},
		Persona: &journeymap.Persona{
			Name:       "Nguyễn Thu Hà",
			Avatar:     "👩‍💼",
			Age:        "32 tuổi",
			Gender:     "Nữ",
			Occupation: "Nhân viên văn phòng",
			Location:   "Cầu Giấy, Hà Nội",
			Income:     "20–25 triệu/tháng",
			Quote:      "Tôi chỉ muốn chắc chắn mình mua đúng giá, đúng máy, và không phải chờ thợ cả ngày.",
			Goals:      []string{"Chọn máy tiết kiệm điện cho phòng ngủ 15 m²", "Được lắp đặt trong tuần", "Trả góp 0%"},
			Frustrations: []string{
				"Giá trên website và tại cửa hàng khác nhau",
				"Phải gọi tổng đài nhiều lần để hẹn lịch lắp",
			},
			Channels: []journeymap.Channel{"social", "website", "zalo", "store"},
		},
		ComparePersona: &journeymap.Persona{
			Name:       "Trần Văn Minh",
			Avatar:     pictureURI(t),
			Age:        "45 tuổi",
			Occupation: "Chủ quán cà phê",
			Location:   "Đà Nẵng",
		},
	}
	m.Stages = []journeymap.Stage{
		{
			Key: "nhan-biet", Name: "Nhận biết", CustomerGoal: "Biết có những lựa chọn nào trước mùa nóng",
			Lanes: journeymap.Lanes{
				Actions:        cards("Lướt Facebook, thấy quảng cáo giảm giá điều hoà"),
				Thoughts:       cards("Năm nay có nên thay máy cũ không?"),
				Emotion:        &journeymap.Emotion{Score: 1, Label: "Tò mò", Evidence: ev("survey", "Khảo sát 412 khách, 06/2026")},
				CompareEmotion: &journeymap.Emotion{Score: 0, Label: "Bình thường"},
				Opportunities:  cards("Nội dung so sánh điện năng tiêu thụ theo diện tích phòng"),
				Owner:          "Marketing",
				KPIs:           cards("Tiếp cận: 1,2 triệu người"),
			},
			Touchpoints: []journeymap.Touchpoint{
				{Key: "fb-ads", Name: "Quảng cáo Facebook", Channel: "ads", Expected: true, Services: []string{"offers", "information"},
					Lanes: journeymap.Lanes{Evidence: ev("analytics", "Meta Ads Manager")}},
				{Key: "friends", Name: "Bạn bè giới thiệu", Channel: "word_of_mouth", Expected: false},
				{Key: "tiktok", Name: "Video review trên TikTok", Channel: "social", Expected: false,
					Lanes: journeymap.Lanes{Thoughts: cards("Người review nói máy này chạy êm")}},
				{Key: "flyer", Name: "Tờ rơi tại chung cư", Channel: "other", Expected: true},
			},
		},
		{
			Key: "can-nhac", Name: "Cân nhắc", CustomerGoal: "So sánh giá, công suất và chính sách lắp đặt",
			Lanes: journeymap.Lanes{
				Actions: []journeymap.Card{
					{ID: "a1", Text: "So sánh 3–4 mẫu máy trên website và sàn thương mại điện tử", Evidence: ev("analytics", "GA4")},
					{ID: "a2", Text: "Nhắn Zalo hỏi giá lắp đặt trọn gói"},
				},
				Thoughts:       cards("Sao giá trên sàn lại rẻ hơn trên website của hãng?"),
				Emotion:        &journeymap.Emotion{Score: -1, Label: "Bối rối", Evidence: ev("interview", "Phỏng vấn 12 khách")},
				CompareEmotion: &journeymap.Emotion{Score: 0},
				PainPoints: []journeymap.Card{
					{ID: "p1", Text: "Thông số kỹ thuật trên website thiếu công suất điện thực tế, khách phải tự tra cứu trên trang của hãng rồi quay lại so sánh từng mẫu một, mất rất nhiều thời gian", Evidence: append(ev("review", "Google Reviews"), ev("forum", "Otofun")...)},
				},
				Opportunities: cards("Bảng so sánh cùng giá ở mọi kênh"),
				Solutions:     cards("Công cụ chọn máy theo diện tích phòng"),
				ResourcesHave: cards("Đội tư vấn Zalo 6 người"),
				ResourcesNeed: cards("Dữ liệu giá đồng bộ giữa các kênh"),
				Owner:         "Thương mại điện tử",
				MomentsOfTruth: []journeymap.Card{
					{ID: "m1", Text: "Trả lời Zalo trong 5 phút quyết định khách có đến cửa hàng hay không", Evidence: ev("analytics", "Zalo OA")},
				},
			},
			Touchpoints: []journeymap.Touchpoint{
				{Key: "web-compare", Name: "Trang so sánh sản phẩm", Channel: "website", Expected: true, Services: []string{"comparing", "prices", "information"}},
				{Key: "zalo-oa", Name: zaloName, Channel: "zalo", Expected: true, Services: []string{"support", "prices"},
					Lanes: journeymap.Lanes{PainPoints: cards("Ngoài giờ hành chính không ai trả lời"), Owner: "CSKH"}},
				{Key: "shopee", Name: "Gian hàng trên Shopee", Channel: "marketplace", Expected: false, Services: []string{"prices", "offers"}},
			},
		},
		{
			Key: "mua-hang", Name: "Mua hàng", CustomerGoal: "Thanh toán nhanh, trả góp 0%, hẹn lịch lắp",
			Lanes: journeymap.Lanes{
				Actions:        cards("Đến cửa hàng xem máy thật", "Đặt hàng trên ứng dụng"),
				Thoughts:       cards("Mong là thủ tục trả góp không rắc rối"),
				Emotion:        &journeymap.Emotion{Score: -2, Label: "Bực bội vì chờ duyệt trả góp"},
				CompareEmotion: &journeymap.Emotion{Score: -1},
				PainPoints:     cards("Chờ duyệt hồ sơ trả góp 45 phút tại quầy"),
				Opportunities:  cards("Duyệt trả góp trước trên ứng dụng"),
				Solutions:      []journeymap.Card{{ID: "s1", Text: "eKYC trong ứng dụng", Evidence: ev("department_review", "Khối tài chính")}},
				ResourcesHave:  cards("Đối tác tài chính"),
				Owner:          "Bán lẻ",
				KPIs:           cards("Tỷ lệ chuyển đổi tại cửa hàng 38%"),
				MomentsOfTruth: cards("Nhân viên giữ đúng giá đã báo qua Zalo"),
			},
			Touchpoints: []journeymap.Touchpoint{
				{Key: "store-cg", Name: "Cửa hàng Cầu Giấy", Channel: "store", Expected: true, Services: []string{"trying", "ordering", "support"},
					Lanes: journeymap.Lanes{Emotion: &journeymap.Emotion{Score: 0, Label: "Bình thường"}}},
				{Key: "app-order", Name: "Ứng dụng Sao Mai", Channel: "app", Expected: true, Services: []string{"ordering", "offers"}},
				{Key: "hotline-sales", Name: "Tổng đài bán hàng 1800", Channel: "hotline", Expected: true},
			},
		},
		{
			Key: "cham-soc", Name: "Chăm sóc", CustomerGoal: "Được lắp đặt đúng hẹn, biết ai chịu trách nhiệm",
			Lanes: journeymap.Lanes{
				Actions:        cards("Chờ thợ đến lắp đặt"),
				CompareEmotion: &journeymap.Emotion{Score: 1},
				PainPoints:     []journeymap.Card{{ID: "p9", Text: "Thợ đến trễ 3 tiếng, không báo trước", Evidence: ev("staff_feedback", "Tổ lắp đặt")}},
				Solutions:      cards("SMS báo thợ đang đến với thời gian dự kiến"),
				ResourcesNeed:  cards("Hệ thống điều phối thợ theo thời gian thực"),
				Owner:          "Kỹ thuật lắp đặt",
				KPIs:           cards("Lắp đúng hẹn ≥ 95%"),
			},
			Touchpoints: []journeymap.Touchpoint{
				{Key: "email-confirm", Name: "Email xác nhận đơn hàng", Channel: "email", Expected: true},
				{Key: "sms-delivery", Name: "SMS lịch giao hàng", Channel: "sms", Expected: true, Services: []string{"delivery"}},
				{Key: "hotline-care", Name: "Tổng đài bảo hành", Channel: "hotline", Expected: false, Services: []string{"support"}},
			},
		},
		{
			Key: "trung-thanh", Name: "Trung thành", CustomerGoal: "Được ưu đãi khi mua thêm và giới thiệu bạn bè",
			Lanes: journeymap.Lanes{
				Actions:        cards("Tích điểm, giới thiệu cho đồng nghiệp"),
				Thoughts:       cards("Lần sau mua tủ lạnh cũng sẽ mua ở đây"),
				Emotion:        &journeymap.Emotion{Score: 2, Label: "Hài lòng", Evidence: ev("survey", "NPS sau lắp đặt")},
				CompareEmotion: &journeymap.Emotion{Score: 2},
				Opportunities:  cards("Chương trình giới thiệu bạn bè"),
				Owner:          "Marketing",
				KPIs:           cards("NPS 41 → 50"),
			},
			Touchpoints: []journeymap.Touchpoint{
				{Key: "event-vip", Name: "Sự kiện tri ân khách hàng", Channel: "events", Expected: true},
				{Key: "app-loyalty", Name: "Tích điểm trên ứng dụng", Channel: "app", Expected: true, Services: []string{"tích điểm", "offers"}},
			},
		},
	}
	return m
}

// vi is the Vietnamese text of the keys, as the i18n catalogs have it.
var vi = map[string]string{
	KeyStateCurrent:        "Hiện tại (as-is)",
	KeyStateFuture:         "Tương lai (to-be)",
	KeyGoalWhy:             "Vì sao có bản đồ này",
	KeyGoalAchieve:         "Cần đạt được gì",
	KeyGoalAudience:        "Dành cho ai",
	KeyDepartments:         "Phòng ban phụ trách",
	KeyComparePersona:      "Chân dung so sánh",
	KeyUnplanned:           "ngoài kế hoạch",
	KeyPersonaGoals:        "Mục tiêu",
	KeyPersonaFrustrations: "Nỗi bực dọc",

	KeyCompareTo:       "So sánh với",
	KeyCustomer:        "Khách hàng",
	KeyBacked:          "có bằng chứng",
	KeyLegend:          "Chú giải",
	KeyLegendEmotion:   "Cảm xúc",
	KeyLegendNoEmotion: "chưa ghi nhận cảm xúc",
	KeyLegendEvidence:  "có bằng chứng (số nguồn)",
	KeyLegendUnplanned: "điểm chạm ngoài kế hoạch",
	KeyLegendMoment:    "khoảnh khắc quyết định",

	KeyLane + "measured":         "Số liệu đo",
	KeyLane + "touchpoints":      "Điểm chạm",
	KeyLane + "actions":          "Hành động của khách",
	KeyLane + "thoughts":         "Suy nghĩ",
	KeyLane + "emotion":          "Cảm xúc",
	KeyLane + "pain_points":      "Điểm đau",
	KeyLane + "opportunities":    "Cơ hội",
	KeyLane + "solutions":        "Giải pháp",
	KeyLane + "resources_have":   "Nguồn lực đang có",
	KeyLane + "resources_need":   "Nguồn lực cần thêm",
	KeyLane + "owner":            "Người phụ trách",
	KeyLane + "kpis":             "KPI",
	KeyLane + "moments_of_truth": "Khoảnh khắc quyết định",

	KeyChannel + "website":       "Website",
	KeyChannel + "app":           "Ứng dụng",
	KeyChannel + "marketplace":   "Sàn TMĐT",
	KeyChannel + "social":        "Mạng xã hội",
	KeyChannel + "zalo":          "Zalo",
	KeyChannel + "store":         "Cửa hàng",
	KeyChannel + "hotline":       "Tổng đài",
	KeyChannel + "email":         "Email",
	KeyChannel + "sms":           "SMS",
	KeyChannel + "ads":           "Quảng cáo",
	KeyChannel + "events":        "Sự kiện",
	KeyChannel + "word_of_mouth": "Truyền miệng",
	KeyChannel + "other":         "Khác",

	KeyService + "information": "Thông tin sản phẩm",
	KeyService + "booking":     "Đặt lịch",
	KeyService + "comparing":   "So sánh",
	KeyService + "prices":      "Xem giá",
	KeyService + "offers":      "Ưu đãi, khuyến mãi",
	KeyService + "support":     "Hỗ trợ",
	KeyService + "trying":      "Dùng thử",
	KeyService + "ordering":    "Đặt hàng",
	KeyService + "delivery":    "Giao hàng",
}

var testOptions = Options{
	T: func(key string) string { return vi[key] },
	Measures: map[string]string{
		"nhan-biet":   "48.210 khách · 100%",
		"can-nhac":    "19.774 khách · 41%",
		"mua-hang":    "6.118 khách · 12,7%",
		"trung-thanh": "2.004 khách · 4,2%",
		"fb-ads":      "31.502 lượt",
		"zalo-oa":     "3.870 hội thoại",
	},
	Generated: "cjm · xuất lúc 2026-11-22 14:05",
}

// outDir returns where to keep the outputs for a look, or "".
func outDir(t *testing.T) string {
	v := os.Getenv("CJM_DRAW_OUT")
	if v == "" {
		return ""
	}
	dir := "/tmp/draw-out"
	if filepath.IsAbs(v) {
		dir = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func keep(t *testing.T, name string, b []byte) {
	if dir := outDir(t); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func render(t *testing.T, f func(io.Writer, *journeymap.Map, Options) error, m *journeymap.Map, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f(&buf, m, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// svgDoc is what the tests read back from an SVG.
type svgDoc struct {
	root    xml.StartElement
	title   string
	texts   []string            // each <text>, whitespace collapsed
	markers []map[string]string // attributes of elements with data-series
}

func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	var cur strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				doc.root = tok.Copy()
			}
			stack = append(stack, tok.Name.Local)
			if tok.Name.Local == "text" {
				cur.Reset()
			}
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if attrs["data-series"] != "" {
				doc.markers = append(doc.markers, attrs)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if tok.Name.Local == "text" {
				doc.texts = append(doc.texts, strings.Join(strings.Fields(cur.String()), " "))
			}
		case xml.CharData:
			if slices.Contains(stack, "text") {
				cur.Write(tok)
			}
			if len(stack) == 2 && stack[1] == "title" {
				doc.title += string(tok)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("SVG ends inside %v", stack)
	}
	return doc
}

func (d svgDoc) hasText(s string) bool {
	return slices.ContainsFunc(d.texts, func(t string) bool { return strings.Contains(t, s) })
}

func TestSVG(t *testing.T) {
	m := testMap(t)
	b := render(t, SVG, m, testOptions)
	keep(t, "map.svg", b)
	doc := parseSVG(t, b)

	root := map[string]string{}
	for _, a := range doc.root.Attr {
		root[a.Name.Local] = a.Value
	}
	if doc.root.Name.Local != "svg" || root["role"] != "img" || root["aria-label"] != m.Name {
		t.Errorf("root element %s with %v, want svg role=img aria-label=%q", doc.root.Name.Local, root, m.Name)
	}
	if doc.title != m.Name {
		t.Errorf("title %q, want %q", doc.title, m.Name)
	}
	if bytes.Contains(b, []byte(zaloName)) {
		t.Error("SVG contains the decomposed (NFD) touchpoint name")
	}
	var want []string
	for _, s := range m.Stages {
		want = append(want, s.Name)
		for _, tp := range s.Touchpoints {
			want = append(want, norm.NFC.String(tp.Name))
		}
	}
	want = append(want, "Tò mò", "Bối rối", "Hài lòng", "Nguyễn Thu Hà", "Trần Văn Minh", "48.210 khách · 100%",
		"ngoài kế hoạch", "Điểm chạm", "Khoảnh khắc quyết định", "1/6 có bằng chứng", "NPS 41 -> 50", "Hỗ trợ", "tích điểm")
	for _, s := range want {
		if !doc.hasText(s) {
			t.Errorf("SVG has no text %q", s)
		}
	}
	// The long pain point wraps over several lines of one text element.
	long := m.Stages[1].PainPoints[0].Text
	if !doc.hasText(long) {
		t.Errorf("SVG has no text %q (wrapped lines joined)", long)
	}
	if n := bytes.Count(b, []byte("<tspan")); n <= len(doc.texts) {
		t.Errorf("%d tspans for %d texts: nothing wrapped", n, len(doc.texts))
	}

	// One marker per emotion point, its shape encoding the score.
	type point struct{ series, stage, score, shape string }
	var got []point
	for _, a := range doc.markers {
		got = append(got, point{a["data-series"], a["data-stage"], a["data-score"], a["data-shape"]})
	}
	wantPts := []point{
		{"persona", "nhan-biet", "+1", "circle"},
		{"persona", "can-nhac", "-1", "triangle-down"},
		{"persona", "mua-hang", "-2", "triangle-down-filled"},
		{"persona", "trung-thanh", "+2", "circle-filled"},
		{"compare", "nhan-biet", "0", "cross"},
		{"compare", "can-nhac", "0", "cross"},
		{"compare", "mua-hang", "-1", "arrow-down"},
		{"compare", "cham-soc", "+1", "square"},
		{"compare", "trung-thanh", "+2", "square-filled"},
	}
	if !slices.Equal(got, wantPts) {
		t.Errorf("emotion markers\n got %v\nwant %v", got, wantPts)
	}
	// A point without a label is labelled with its score.
	if !doc.hasText("Bực bội vì chờ duyệt trả góp") {
		t.Error("no label for the -2 point")
	}
}

func TestSVGEscapes(t *testing.T) {
	m := &journeymap.Map{Name: `A & B <"quoted"> 'x'` + "\x01", Stages: []journeymap.Stage{
		{Key: "s", Name: "<script>alert(1)</script>", Lanes: journeymap.Lanes{Actions: cards("a < b && c > d")}},
	}}
	b := render(t, SVG, m, Options{})
	doc := parseSVG(t, b)
	if !doc.hasText("<script>alert(1)</script>") || !doc.hasText("a < b && c > d") {
		t.Errorf("texts %q", doc.texts)
	}
	if bytes.Contains(b, []byte("<script")) {
		t.Error("unescaped markup in the SVG")
	}
	if doc.title != `A & B <"quoted"> 'x'` {
		t.Errorf("title %q", doc.title)
	}
}

func TestPNG(t *testing.T) {
	m := testMap(t)
	b := render(t, PNG, m, testOptions)
	keep(t, "map.png", b)
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := layout(m, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.Bounds().Size(), image.Pt(int(sc.w*2+0.999), int(sc.h*2+0.999)); got != want {
		t.Errorf("size %v, want %v (2x the layout)", got, want)
	}

	// Every emotion marker is drawn: pixels of the curve's colour around it.
	markers := 0
	for _, it := range sc.items {
		if !slices.ContainsFunc(it.attrs, func(a [2]string) bool { return a[0] == "data-series" }) {
			continue
		}
		markers++
		x0, y0, x1, y1 := it.bounds()
		r := image.Rect(int(x0*2), int(y0*2), int(x1*2), int(y1*2))
		if n := count(img, r, func(c color.RGBA) bool { return c == it.stroke }); n < 20 {
			t.Errorf("marker %v: %d pixels of its colour in %v", it.attrs, n, r)
		}
	}
	if markers != 9 {
		t.Errorf("%d markers, want 9", markers)
	}
	// Not blank, and mostly white.
	all := img.Bounds()
	inked := count(img, all, func(c color.RGBA) bool { return c != color.RGBA{255, 255, 255, 255} })
	if f := float64(inked) / float64(all.Dx()*all.Dy()); f < 0.1 || f > 0.8 {
		t.Errorf("%.0f%% of the pixels are not white", f*100)
	}

	// A map with fewer stages is narrower.
	small := m.Clone()
	small.Stages = small.Stages[:3]
	sb := render(t, PNG, small, testOptions)
	cfg, err := png.DecodeConfig(bytes.NewReader(sb))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width >= img.Bounds().Dx() {
		t.Errorf("3 stages are %d px wide, 5 stages %d", cfg.Width, img.Bounds().Dx())
	}
}

func count(img image.Image, r image.Rectangle, f func(color.RGBA) bool) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if f(color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)) {
				n++
			}
		}
	}
	return n
}

func TestPDF(t *testing.T) {
	m := testMap(t)
	b := render(t, PDF, m, testOptions)
	keep(t, "map.pdf", b)
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("PDF starts with %q", b[:min(len(b), 8)])
	}
	path := filepath.Join(t.TempDir(), "map.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("text", func(t *testing.T) {
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext is not installed (Debian: poppler-utils); cannot read the PDF's text")
		}
		out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		txt := norm.NFC.String(string(out))
		for _, s := range m.Stages {
			if !strings.Contains(txt, s.Name) {
				t.Errorf("PDF text has no stage %q", s.Name)
			}
		}
		for _, s := range []string{"Nguyễn Thu Hà", "Cửa hàng Cầu Giấy", norm.NFC.String(zaloName), "Bực bội"} {
			if !strings.Contains(txt, s) {
				t.Errorf("PDF text has no %q", s)
			}
		}
	})
	t.Run("render", func(t *testing.T) {
		if _, err := exec.LookPath("pdftoppm"); err != nil {
			t.Skip("pdftoppm is not installed (Debian: poppler-utils); cannot render the PDF")
		}
		prefix := filepath.Join(t.TempDir(), "page")
		if out, err := exec.Command("pdftoppm", "-png", "-r", "60", path, prefix).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
		pages, _ := filepath.Glob(prefix + "*.png")
		if len(pages) == 0 {
			t.Fatal("pdftoppm made no page")
		}
		for _, p := range pages {
			pb, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(pb))
			if err != nil {
				t.Fatal(err)
			}
			if s := img.Bounds().Size(); s.X <= s.Y {
				t.Errorf("%s is %v: not landscape", filepath.Base(p), s)
			}
			if n := count(img, img.Bounds(), func(c color.RGBA) bool { return c.R < 200 }); n < 1000 {
				t.Errorf("%s looks blank (%d dark pixels)", filepath.Base(p), n)
			}
			keep(t, "pdf-"+filepath.Base(p), pb)
		}
	})
}

func TestDeterministic(t *testing.T) {
	for name, f := range map[string]func(io.Writer, *journeymap.Map, Options) error{"svg": SVG, "png": PNG, "pdf": PDF} {
		a := render(t, f, testMap(t), testOptions)
		b := render(t, f, testMap(t), testOptions)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two drawings of the same map differ", name)
		}
	}
}

func TestSmallMaps(t *testing.T) {
	maps := map[string]*journeymap.Map{
		"empty":       {},
		"no persona":  {Name: "Map", Stages: []journeymap.Stage{{Key: "a", Name: "A"}}},
		"future":      {Name: "To-be", State: journeymap.Future, Stages: []journeymap.Stage{{Key: "a", Name: "A", Lanes: journeymap.Lanes{Emotion: &journeymap.Emotion{Score: 9}}}}},
		"url avatar":  {Name: "M", Persona: &journeymap.Persona{Name: "Lê An", Avatar: "https://example.com/a.png"}},
		"bad picture": {Name: "M", Persona: &journeymap.Persona{Name: "Lê An", Avatar: "data:image/png;base64,AAAA"}},
	}
	for name, m := range maps {
		t.Run(name, func(t *testing.T) {
			for _, f := range []func(io.Writer, *journeymap.Map, Options) error{SVG, PNG, PDF} {
				render(t, f, m, Options{})
			}
		})
	}
	if err := SVG(io.Discard, nil, Options{}); err == nil {
		t.Error("a nil map draws")
	}
}

func TestKeys(t *testing.T) {
	asked := map[string]bool{}
	o := testOptions
	o.T = func(key string) string { asked[key] = true; return "" }
	m := testMap(t)
	m.State = journeymap.Future
	m.CompareTo = "Hiện trạng 2026"
	render(t, SVG, m, o)
	for k := range asked {
		if !slices.Contains(Keys, k) {
			t.Errorf("key %q is not in Keys", k)
		}
	}
	for _, k := range Keys {
		if english[k] == "" {
			t.Errorf("key %q has no English text", k)
		}
		if vi[k] == "" {
			t.Errorf("key %q has no Vietnamese text in the test catalog", k)
		}
	}
}

func TestInitials(t *testing.T) {
	me, err := newMetrics()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, avatar, want string }{
		{"Nguyễn Thu Hà", "", "NH"},
		{"Nguyễn Thu Hà", "👩‍💼", "NH"},
		{"Nguyễn Thu Hà", "https://example.com/x.png", "NH"},
		{"Nguyễn Thu Hà", "TH", "TH"},
		{"ánh", "", "Á"},
		{"", "", "?"},
	}
	for _, tt := range tests {
		if got := initials(&journeymap.Persona{Name: tt.name, Avatar: tt.avatar}, me); got != tt.want {
			t.Errorf("initials(%q, %q) = %q, want %q", tt.name, tt.avatar, got, tt.want)
		}
	}
}

func TestIconPath(t *testing.T) {
	for _, c := range journeymap.Channels {
		d := IconPath(c)
		if _, ok := channelIcons[c]; !ok {
			t.Errorf("no icon for channel %q", c)
		}
		segs, err := parsePath(d)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		for _, s := range segs {
			for _, p := range s.p {
				if p.X < 0 || p.X > 24 || p.Y < 0 || p.Y > 24 {
					t.Errorf("%s: point %v outside the 24×24 box", c, p)
				}
			}
		}
	}
	if IconPath("carrier_pigeon") != IconPath("other") {
		t.Error("an unknown channel does not get the other icon")
	}
}

func TestParsePath(t *testing.T) {
	segs, err := parsePath("M1 2L3,4H5V6C7 8 9 10 11 12Q13 14 15 16Z M0 0 1 1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pathData(segs), "M1 2L3 4L5 4L5 6C7 8 9 10 11 12Q13 14 15 16ZM0 0L1 1"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, bad := range []string{"L1 2", "M1", "M1 2 l3 4", "M1 2A1 1 0 0 1 3 4", "M1 2Z3"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) succeeds", bad)
		}
	}
}

func TestWrap(t *testing.T) {
	me, err := newMetrics()
	if err != nil {
		t.Fatal(err)
	}
	s := "Thông số kỹ thuật trên website thiếu công suất điện thực tế, khách phải tự tra cứu Siêudàiquáđikhôngcóchỗngắt"
	lines := me.wrap(s, 12, false, 120)
	if len(lines) < 4 {
		t.Errorf("%d lines: %q", len(lines), lines)
	}
	for _, l := range lines {
		if w := me.width(l, 12, false); w > 120 {
			t.Errorf("line %q is %.1f wide, more than 120", l, w)
		}
	}
	if got := strings.Join(lines, " "); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(s, " ", "") {
		t.Errorf("wrapping lost text: %q", got)
	}
	if me.width("Mua hàng", 12, true) <= me.width("Mua hàng", 12, false) {
		t.Error("bold is not wider than regular")
	}
}

// TestPDFTallContent checks that a stage header taller than a page, and a
// lane cell taller than a page, still give a finite PDF (the pager must
// always move on).
func TestPDFTallContent(t *testing.T) {
	m := testMap(t)
	m.Stages[0].CustomerGoal = strings.Repeat("Khách muốn biết rõ giá, phí giao hàng và thời gian nhận. ", 70)
	m.Stages[1].PainPoints = append(m.Stages[1].PainPoints, journeymap.Card{ID: "ctall", Text: strings.Repeat("Chờ tổng đài quá lâu, không ai gọi lại. ", 100)})
	var b bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- PDF(&b, m, Options{}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("PDF did not finish in 30 s")
	}
	if pages := bytes.Count(b.Bytes(), []byte("/Type /Page\n")) + bytes.Count(b.Bytes(), []byte("/Type /Page ")); pages == 0 || pages > 50 {
		t.Errorf("%d pages", pages)
	}
}
