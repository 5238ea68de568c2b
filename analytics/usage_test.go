package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/journeymap"
)

func openStore(t testing.TB) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(filepath.Join(t.TempDir(), "events.duckdb"), duckdb.Options{MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var sources = []journeymap.SourceInfo{
	{ID: "src_web", Name: "Website", Channel: "website"},
	{ID: "src_shopee", Name: "Shopee Mall", Channel: "marketplace"},
	{ID: "src_pos", Name: "Cửa hàng", Channel: "pos"},
	{ID: "src_app", Name: "Ứng dụng", Channel: "app"},
	{ID: "src_hotline", Name: "Tổng đài", Channel: "hotline"},
}

func match(r journeymap.Rule) *journeymap.Matcher { return &journeymap.Matcher{Rule: r} }

// testMap: discover (web visit, zalo ad; its own matcher takes Signed Up),
// buy (web order of at least 100.000, Shopee order), care (hotline, and a
// touchpoint without a matcher).
func testMap() *journeymap.Map {
	return &journeymap.Map{Name: "Mua hàng", Lang: "vi", State: journeymap.Current, Stages: []journeymap.Stage{
		{Key: "discover", Name: "Khám phá", Match: match(journeymap.Rule{Event: "Signed Up"}), Touchpoints: []journeymap.Touchpoint{
			{Key: "web-visit", Name: "Xem website", Channel: "website", Match: match(journeymap.Rule{Type: "page", Path: "/**", Source: "Website"})},
			{Key: "zalo-ad", Name: "Quảng cáo Zalo", Channel: "ads", Match: match(journeymap.Rule{Event: "Ad Clicked",
				Where: []journeymap.Condition{{Field: "context.campaign.source", Op: journeymap.OpEq, Value: "zalo"}}})},
		}},
		{Key: "buy", Name: "Mua", Touchpoints: []journeymap.Touchpoint{
			{Key: "web-order", Name: "Đặt trên web", Channel: "website", Match: match(journeymap.Rule{Event: "Order Completed", Source: "Website",
				Where: []journeymap.Condition{{Field: "properties.total", Op: journeymap.OpGte, Value: "100000"}}})},
			{Key: "shopee-order", Name: "Đặt trên Shopee", Channel: "marketplace", Match: match(journeymap.Rule{Event: "Order Completed", Source: "Shopee Mall"})},
		}},
		{Key: "care", Name: "Chăm sóc", Touchpoints: []journeymap.Touchpoint{
			{Key: "hotline", Name: "Gọi tổng đài", Channel: "hotline", Match: match(journeymap.Rule{Event: "Call Started"})},
			{Key: "store", Name: "Cửa hàng", Channel: "store"},
		}},
	}}
}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestMatcherUsage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	type in struct {
		min        int
		typ        event.Type
		name, src  string
		user, anon string
		props, cx  string
		ws         string
	}
	// Seq order is not time order.
	ins := []in{
		{min: 5, typ: event.Page, name: "Home", src: "src_web", anon: "a1", cx: `{"page":{"path":"/"}}`},                      // 1 web-visit
		{min: 1, typ: event.Page, name: "Sản phẩm", src: "src_web", anon: "a1", props: `{"url":"https://x.vn/san-pham/tui"}`}, // 2 web-visit
		{min: 7, typ: event.Page, name: "Home", src: "src_web", user: "u1", anon: "a1", cx: `{"page":{"path":"/"}}`},          // 3 web-visit
		{min: 3, typ: event.Page, name: "Home", src: "src_web", anon: "a2", cx: `{"page":{"path":"/"}}`},                      // 4 web-visit
		{min: 9, typ: event.Page, name: "Home", src: "src_web", anon: "a3", cx: `{"page":{"path":"/"}}`},                      // 5 web-visit
		{min: 11, typ: event.Page, name: "Home", src: "src_web", anon: "a4", cx: `{"page":{"path":"/khuyen-mai"}}`},           // 6 web-visit
		{min: 2, typ: event.Track, name: "Ad Clicked", src: "src_web", user: "u2", cx: `{"campaign":{"source":"zalo"}}`},      // 7 zalo-ad
		{min: 4, typ: event.Track, name: "Ad Clicked", src: "src_web", user: "u3", cx: `{"campaign":{"source":"facebook"}}`},  // 8 -
		{min: 6, typ: event.Track, name: "Signed Up", src: "src_web", user: "u1"},                                             // 9 discover itself
		{min: 8, typ: event.Track, name: "Order Completed", src: "src_web", user: "u1", props: `{"total":250000}`},            // 10 web-order
		{min: 10, typ: event.Track, name: "Order Completed", src: "src_web", user: "u2", props: `{"total":50000}`},            // 11 -
		{min: 12, typ: event.Track, name: "Order Completed", src: "src_shopee", user: "u4", props: `{"total":90000}`},         // 12 shopee-order
		{min: 13, typ: event.Track, name: "Order Completed", src: "src_shopee", user: "u4"},                                   // 13 shopee-order
		{min: 14, typ: event.Track, name: "Order Completed", src: "src_pos", user: "u5", props: `{"total":500000}`},           // 14 -
		{min: 15, typ: event.Track, name: "Order Completed", src: "src_web", anon: "a9", props: `{"total":null}`},             // 15 -
		{min: 16, typ: event.Identify, src: "src_web", user: "u1"},                                                            // 16 -
		{min: 17, typ: event.Track, name: "Product Viewed", src: "src_web", anon: "a1"},                                       // 17 -
		{min: 18, typ: event.Track, name: "Product Viewed", src: "src_web", anon: "a1"},                                       // 18 -
		{min: 19, typ: event.Track, name: "Product Viewed", src: "src_web", user: "u1", anon: "a1"},                           // 19 -
		{min: -1, typ: event.Page, name: "Home", src: "src_web", anon: "a1", cx: `{"page":{"path":"/"}}`},                     // 20 before from
		{min: 24 * 60, typ: event.Page, name: "Home", src: "src_web", anon: "a1", cx: `{"page":{"path":"/"}}`},                // 21 at to
		{min: 5, typ: event.Page, name: "Home", src: "src_web", anon: "a1", cx: `{"page":{"path":"/"}}`, ws: "other"},         // 22 other workspace
	}
	var ms []event.Message
	for i, x := range ins {
		m := event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: x.src, MessageID: fmt.Sprint("m", i+1), Type: x.typ,
			UserID: x.user, AnonymousID: x.anon, Timestamp: t0.Add(time.Duration(x.min) * time.Minute)}
		if x.ws != "" {
			m.WorkspaceID = x.ws
		}
		if x.typ == event.Track {
			m.Event = x.name
		} else {
			m.Name = x.name
		}
		if x.props != "" {
			m.Properties = json.RawMessage(x.props)
		}
		if x.cx != "" {
			m.Context = json.RawMessage(x.cx)
		}
		ms = append(ms, m)
	}
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	c, err := journeymap.Compile(testMap(), sources)
	if err != nil {
		t.Fatal(err)
	}
	from, to := t0, t0.Add(24*time.Hour)
	u, err := MatcherUsage(ctx, s, c, "ws", from, to)
	if err != nil {
		t.Fatal(err)
	}

	smp := func(seq int) Sample {
		m := ms[seq-1]
		name := m.Label()
		if m.Type == event.Identify {
			name = ""
		}
		return Sample{Timestamp: m.Timestamp, Type: string(m.Type), Name: name, SourceID: m.SourceID, Path: journeymap.MessagePath(&m),
			UserID: m.UserID, AnonymousID: m.AnonymousID, MessageID: m.MessageID}
	}
	place := func(events, customers int64, seqs ...int) PlaceUsage {
		p := PlaceUsage{Events: events, Customers: customers}
		for _, s := range seqs {
			p.Sample = append(p.Sample, smp(s))
		}
		return p
	}
	want := &Usage{From: from, To: to, Events: 19, Matched: 11,
		Stages: []PlaceUsage{
			place(8, 6, 6, 5, 3, 9, 1), // a1 u1 a2 a3 a4 u2
			place(3, 2, 13, 12, 10),
		},
		Touchpoints: [][]PlaceUsage{
			{place(6, 5, 6, 5, 3, 1, 4), place(1, 1, 7)},
			{place(1, 1, 10), place(2, 1, 13, 12)},
		},
		StageOnly: []PlaceUsage{place(1, 1, 9)},
		Unmatched: []UnmatchedEvent{
			{Type: "track", Name: "Product Viewed", SourceID: "src_web", Events: 3, Customers: 2, Sample: smp(19)},
			{Type: "track", Name: "Order Completed", SourceID: "src_web", Events: 2, Customers: 2, Sample: smp(15)},
			{Type: "identify", Name: "", SourceID: "src_web", Events: 1, Customers: 1, Sample: smp(16)},
			{Type: "track", Name: "Ad Clicked", SourceID: "src_web", Events: 1, Customers: 1, Sample: smp(8)},
			{Type: "track", Name: "Order Completed", SourceID: "src_pos", Events: 1, Customers: 1, Sample: smp(14)},
		},
	}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if got := smp(2).Path; got != "/san-pham/tui" {
		t.Errorf("path from url: %q", got)
	}
	// Places past what the slices hold read as zero.
	if u.Stage(2).Events != 0 || u.OwnStage(1).Events != 0 || u.Touchpoint(2, 0).Events != 0 || u.Touchpoint(1, 1).Events != 2 {
		t.Error("accessors")
	}

	// No events: all zero.
	empty, err := MatcherUsage(ctx, s, c, "nobody", from, to)
	if err != nil || empty.Events != 0 || empty.Matched != 0 || len(empty.Unmatched) != 0 || len(empty.Stages) != 0 {
		t.Errorf("empty workspace: %v %+v", err, empty)
	}
}

// Only the MaxUnmatched most frequent groups are kept.
func TestMatcherUsageTopUnmatched(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var ms []event.Message
	for i := range 60 {
		for j := range i + 1 {
			ms = append(ms, event.Message{Seq: uint64(len(ms) + 1), WorkspaceID: "ws", SourceID: "src_web", MessageID: fmt.Sprint("m", len(ms)),
				Type: event.Track, Event: fmt.Sprintf("E%02d", i), AnonymousID: fmt.Sprint("a", j%7), Timestamp: t0.Add(time.Duration(j) * time.Second)})
		}
	}
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	c, err := journeymap.Compile(testMap(), sources)
	if err != nil {
		t.Fatal(err)
	}
	u, err := MatcherUsage(ctx, s, c, "ws", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if u.Events != int64(len(ms)) || u.Matched != 0 || len(u.Unmatched) != MaxUnmatched {
		t.Fatalf("events %d matched %d groups %d", u.Events, u.Matched, len(u.Unmatched))
	}
	for k, g := range u.Unmatched {
		i := 59 - k
		if g.Name != fmt.Sprintf("E%02d", i) || g.Events != int64(i+1) || g.Customers != int64(min(i+1, 7)) || g.Sample.Timestamp != t0.Add(time.Duration(i)*time.Second) {
			t.Errorf("group %d: %+v", k, g)
		}
	}
}

// benchMap is a retail map over the benchmark's mix of events.
func benchMap() *journeymap.Map {
	gte := func(f, v string) []journeymap.Condition {
		return []journeymap.Condition{{Field: f, Op: journeymap.OpGte, Value: v}}
	}
	return &journeymap.Map{Name: "Bán lẻ", Lang: "vi", State: journeymap.Current, Stages: []journeymap.Stage{
		{Key: "aware", Name: "Nhận biết", Touchpoints: []journeymap.Touchpoint{
			{Key: "zalo", Name: "Zalo OA", Channel: "zalo", Match: match(journeymap.Rule{Where: []journeymap.Condition{{Field: "context.campaign.source", Op: journeymap.OpEq, Value: "zalo"}}})},
			{Key: "home", Name: "Trang chủ", Channel: "website", Match: match(journeymap.Rule{Type: "page", Path: "/"})},
			{Key: "email", Name: "E-mail", Channel: "email", Match: match(journeymap.Rule{Event: "Email *"})},
		}},
		{Key: "consider", Name: "Cân nhắc", Touchpoints: []journeymap.Touchpoint{
			{Key: "product-web", Name: "Trang sản phẩm", Channel: "website", Match: match(journeymap.Rule{Type: "page", Path: "/san-pham/**"})},
			{Key: "product-app", Name: "Sản phẩm trong app", Channel: "app", Match: match(journeymap.Rule{Event: "Product Viewed", Channel: "app"})},
			{Key: "search", Name: "Tìm kiếm", Channel: "website", Match: match(journeymap.Rule{Event: "Products Searched"})},
			{Key: "cart", Name: "Giỏ hàng", Channel: "website", Match: match(journeymap.Rule{Any: []journeymap.Rule{{Event: "Product Added"}, {Event: "Cart Viewed"}}})},
		}},
		{Key: "buy", Name: "Mua", Match: match(journeymap.Rule{Event: "Checkout Started"}), Touchpoints: []journeymap.Touchpoint{
			{Key: "big-order", Name: "Đơn lớn", Channel: "website", Match: &journeymap.Matcher{Precedence: 1, Rule: journeymap.Rule{Event: "Order Completed", Where: gte("properties.total", "2000000")}}},
			{Key: "shopee", Name: "Shopee", Channel: "marketplace", Match: match(journeymap.Rule{Event: "Order Completed", Source: "Shopee Mall"})},
			{Key: "store", Name: "Cửa hàng", Channel: "store", Match: match(journeymap.Rule{Event: "Order Completed", Channel: "pos"})},
			{Key: "web-order", Name: "Đặt online", Channel: "website", Match: match(journeymap.Rule{Event: "Order Completed"})},
		}},
		{Key: "care", Name: "Chăm sóc", Touchpoints: []journeymap.Touchpoint{
			{Key: "hotline", Name: "Tổng đài", Channel: "hotline", Match: match(journeymap.Rule{Event: "Call *", Source: "Tổng đài"})},
			{Key: "review", Name: "Đánh giá", Channel: "website", Match: match(journeymap.Rule{Event: "Review Submitted",
				Where: []journeymap.Condition{{Field: "properties.rating", Op: journeymap.OpIn, Values: []string{"4", "5"}}}})},
		}},
	}}
}

// benchEvents is a demo-like day of traffic: mostly page and product
// views, fewer carts and orders, some calls, e-mails and app opens.
func benchEvents(n int) []event.Message {
	type kind struct {
		weight   int
		typ      event.Type
		name     string
		srcs     []string
		path     string
		props    string
		campaign bool
	}
	kinds := []kind{
		{20, event.Page, "Home", []string{"src_web"}, "/", ``, true},
		{25, event.Page, "Sản phẩm", []string{"src_web"}, "/san-pham/tui-xach-%d", `{"sku":"TX-%d","price":%d}`, false},
		{6, event.Page, "Danh mục", []string{"src_web"}, "/danh-muc/%d", ``, false},
		{12, event.Track, "Product Viewed", []string{"src_app", "src_web", "src_shopee"}, "", `{"sku":"TX-%d","price":%d}`, false},
		{4, event.Track, "Products Searched", []string{"src_web", "src_app"}, "", `{"query":"túi %d"}`, false},
		{6, event.Track, "Product Added", []string{"src_web", "src_app"}, "", `{"sku":"TX-%d","price":%d}`, false},
		{3, event.Track, "Cart Viewed", []string{"src_web", "src_app"}, "/gio-hang", ``, false},
		{2, event.Track, "Checkout Started", []string{"src_web", "src_app"}, "/thanh-toan", `{"total":%d}`, false},
		{3, event.Track, "Order Completed", []string{"src_web", "src_app", "src_shopee", "src_pos"}, "", `{"order_id":"DH%d","total":%d,"currency":"VND"}`, false},
		{2, event.Track, "Call Started", []string{"src_hotline"}, "", `{"queue":"cskh","duration":%d}`, false},
		{1, event.Track, "Call Ended", []string{"src_hotline"}, "", `{"queue":"cskh","duration":%d}`, false},
		{5, event.Track, "Email Opened", []string{"src_web"}, "", `{"campaign":"tet-%d"}`, false},
		{4, event.Track, "Application Opened", []string{"src_app"}, "", ``, false},
		{1, event.Track, "Review Submitted", []string{"src_web", "src_shopee"}, "", `{"rating":%d}`, false},
		{2, event.Identify, "", []string{"src_web", "src_app"}, "", ``, false},
		{4, event.Track, "Scroll Depth", []string{"src_web"}, "", `{"percent":%d}`, false},
	}
	var bag []int
	for i, k := range kinds {
		for range k.weight {
			bag = append(bag, i)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	fill := func(f string) string {
		if f == "" {
			return ""
		}
		var args []any
		for range min(2, countVerbs(f)) {
			args = append(args, rnd.IntN(4_000_000))
		}
		return fmt.Sprintf(f, args...)
	}
	ms := make([]event.Message, n)
	start := t0
	for i := range ms {
		k := kinds[bag[rnd.IntN(len(bag))]]
		person := rnd.IntN(50_000)
		m := event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: k.srcs[rnd.IntN(len(k.srcs))], MessageID: fmt.Sprint("m", i+1),
			Type: k.typ, Timestamp: start.Add(time.Duration(i) * 2 * time.Second), ReceivedAt: start.Add(time.Duration(i) * 2 * time.Second)}
		if person%3 == 0 {
			m.AnonymousID = fmt.Sprint("anon-", person)
		} else {
			m.UserID = fmt.Sprint("kh", person)
		}
		if k.typ == event.Track {
			m.Event = k.name
		} else {
			m.Name = k.name
		}
		if p := fill(k.props); p != "" {
			m.Properties = json.RawMessage(p)
		}
		cx := `{"locale":"vi-VN","userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"`
		if k.path != "" {
			cx += fmt.Sprintf(`,"page":{"path":%q,"url":"https://maybouti.vn%s"}`, fill(k.path), "/")
		}
		if k.campaign || rnd.IntN(10) == 0 {
			cx += `,"campaign":{"source":"` + []string{"zalo", "facebook", "google"}[rnd.IntN(3)] + `","medium":"cpc"}`
		}
		m.Context = json.RawMessage(cx + "}")
		ms[i] = m
	}
	return ms
}

func countVerbs(f string) int {
	n := 0
	for i := 0; i+1 < len(f); i++ {
		if f[i] == '%' {
			n++
		}
	}
	return n
}

func BenchmarkMatcherUsage(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	s, err := duckdb.Open(filepath.Join(b.TempDir(), "events.duckdb"), duckdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ms := benchEvents(n)
	for i := 0; i < n; i += 100_000 {
		if err := s.Append(ctx, ms[i:min(n, i+100_000)]); err != nil {
			b.Fatal(err)
		}
	}
	ms = nil
	c, err := journeymap.Compile(benchMap(), sources)
	if err != nil {
		b.Fatal(err)
	}
	var u *Usage
	for b.Loop() {
		if u, err = MatcherUsage(ctx, s, c, "ws", t0, t0.Add(365*24*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	if u.Events != n {
		b.Fatalf("scanned %d events", u.Events)
	}
	b.ReportMetric(float64(u.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(100*float64(u.Matched)/float64(u.Events), "%matched")
}
