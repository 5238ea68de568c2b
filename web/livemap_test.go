package web

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// newLiveEnv is newEnv with the analytics index the live map reads.
func newLiveEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	h, err := New(Config{Ops: e.ops, Events: e.events, Logger: testLogger(), Analytics: analytics.NewIndexes(e.events, nil)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.srv, e.web = srv, h.s
	return e
}

// liveTestMap has three stages: xem (web, the expected zalo nobody uses,
// the unplanned forum), mua (checkout) and sau (review), each with the
// emotion the map plans.
func liveTestMap(t *testing.T, e *env, ws string) string {
	t.Helper()
	tp := func(key, name, ch, ev string, expected bool) journeymap.Touchpoint {
		return journeymap.Touchpoint{Key: key, Name: name, Channel: journeymap.Channel(ch), Expected: expected,
			Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: ev}}}
	}
	stage := func(key, name string, score int, tps ...journeymap.Touchpoint) journeymap.Stage {
		st := journeymap.Stage{Key: key, Name: name, Touchpoints: tps}
		st.Emotion = &journeymap.Emotion{Score: score}
		return st
	}
	m := &journeymap.Map{Name: "Mua online", Lang: "vi", State: journeymap.Current,
		Persona: &journeymap.Persona{Name: "Chị Lan", Segment: "office"},
		Stages: []journeymap.Stage{
			stage("xem", "Tìm hiểu", 1, tp("web", "Xem website", "website", "Product Viewed", true), tp("zalo", "Zalo OA", "zalo", "Zalo Clicked", true),
				tp("forum", "Diễn đàn", "social", "Forum Post", false)),
			stage("mua", "Mua hàng", -1, tp("checkout", "Thanh toán", "website", "Order Completed", true)),
			stage("sau", "Sau mua", 2, tp("review", "Đánh giá", "website", "Review Submitted", true)),
		}}
	entry, err := journeymap.NewBook(e.ops).Create(context.Background(), ws, m, opstore.MapChange{Action: "created"})
	if err != nil {
		t.Fatal(err)
	}
	return entry.ID
}

// liveTestEvents are the journeys of four customers two days ago:
//
//	u1 (office):  web, checkout 10 min later, review (5 stars) 60 min later
//	u2 (office):  web, the forum a minute later, gone
//	u3 (student): web, checkout 30 min later (paid cash on delivery)
//	u4 (office):  web, then an event no matcher claims
//
// By hand: xem 4 customers, 2 went on (50%), 2 dropped off, median
// (10 min, 30 min) = 20 min; mua 2, 1 went on (50%) after 60 min; sau 1,
// emotion +2 from 1 answer. 9 events, 1 not on the map.
func liveTestEvents(ws string) []event.Message {
	t0 := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Minute)
	persona := func(p string) json.RawMessage { return json.RawMessage(`{"traits":{"persona":"` + p + `"}}`) }
	ev := func(user, name string, min int, ctx, props json.RawMessage) event.Message {
		return event.Message{WorkspaceID: ws, Type: event.Track, Event: name, UserID: user, Context: ctx, Properties: props,
			Timestamp: t0.Add(time.Duration(min) * time.Minute)}
	}
	return []event.Message{
		ev("u1", "Product Viewed", 0, persona("office"), nil),
		ev("u1", "Order Completed", 10, nil, nil),
		ev("u1", "Review Submitted", 70, nil, json.RawMessage(`{"rating":5}`)),
		ev("u2", "Product Viewed", 0, persona("office"), nil),
		ev("u2", "Forum Post", 1, nil, nil),
		ev("u3", "Product Viewed", 0, persona("student"), nil),
		ev("u3", "Order Completed", 30, nil, json.RawMessage(`{"payment":"cod"}`)),
		ev("u4", "Product Viewed", 0, persona("office"), nil),
		ev("u4", "Scroll Depth", 2, nil, nil),
	}
}

// stageNumbers reads the customers and the go-on rate of each stage from
// the live page.
func stageNumbers(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-stage-customers="([a-z]+)" data-value="(\d+)"`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	for _, m := range regexp.MustCompile(`data-stage-next="([a-z]+)">([^<]+)<`).FindAllStringSubmatch(body, -1) {
		out[m[1]+" next"] = m[2]
	}
	return out
}

func TestLiveMap(t *testing.T) {
	e := newLiveEnv(t)
	c := e.setup()
	ws := e.workspace()
	id := liveTestMap(t, e, ws.ID)
	live := "/journeys/" + id + "/live"

	// No events yet: the page says so and links to the sources.
	expect(t, c.get(live), http.StatusOK, i18n.T("vi", "livemap.no_events"), `href="/sources"`)
	// The index answers from a view up to 2 s old (and never younger than
	// 50 ms): here it catches up on every request.
	e.web.analytics.Index(ws.ID).MaxStale = time.Nanosecond
	e.appendEvents(liveTestEvents(ws.ID)...)
	time.Sleep(60 * time.Millisecond)

	r := c.get(live)
	expect(t, r, http.StatusOK, "Tìm hiểu", "Mua hàng", "Sau mua",
		"20 phút 0 giây", "1 giờ 0 phút", // median time in stage
		`data-tp-customers="web">4<`, "100,0%", // every xem customer used the website
		i18n.T("vi", "livemap.missing"), // nobody used zalo
		`data-chart="lm-spec-stages"`, `id="lm-spec-stages"`, `data-chart="lm-spec-used"`, `data-chart="lm-spec-completion"`,
		"+2,0 (1 câu trả lời)",       // the review's 5 stars
		"thấp hơn 67 điểm phần trăm", // forum users (0%) against the others (2 of 3)
		`data-csv="cjm-live-stages.csv"`, `data-csv="cjm-live-touchpoints.csv"`, `data-csv="cjm-live-unplanned.csv"`,
		`data-csv="cjm-live-missing.csv"`, `data-csv="cjm-live-touchpoints-used.csv"`,
		"11,1%", // 1 of 9 events not on the map
		`href="/journeys/`+id+`/matchers"`)
	expectNot(t, r, "%!", "livemap.")
	want := map[string]string{"xem": "4", "mua": "2", "sau": "1", "xem next": "50,0%", "mua next": "50,0%"}
	if got := stageNumbers(t, r.body); !maps.Equal(got, want) {
		t.Errorf("stages = %v, want %v", got, want)
	}

	// A persona: u1, u2 and u4 are office workers; one of the three went on.
	r = c.get(live + "?" + url.Values{"persona": {"office"}, "period": {"all"}}.Encode())
	expect(t, r, http.StatusOK, `value="office"`, i18n.T("vi", "livemap.all_time"))
	want = map[string]string{"xem": "3", "mua": "1", "sau": "1", "xem next": "33,3%", "mua next": "100,0%"}
	if got := stageNumbers(t, r.body); !maps.Equal(got, want) {
		t.Errorf("persona office: stages = %v, want %v", got, want)
	}
	// A segment: those who paid cash on delivery (u3 alone).
	r = c.get(live + "?" + url.Values{"where": {"payment=cod"}}.Encode())
	want = map[string]string{"xem": "1", "mua": "1", "sau": "0", "xem next": "100,0%", "mua next": "0,0%"}
	if got := stageNumbers(t, r.body); !maps.Equal(got, want) {
		t.Errorf("where payment=cod: stages = %v, want %v", got, want)
	}
	// Filters that do not read are refused with the reason.
	expect(t, c.get(live+"?where=payment"), http.StatusUnprocessableEntity, i18n.T("vi", "livemap.err_where"))
	expect(t, c.get(live+"?period=custom&from=2026-13-01"), http.StatusUnprocessableEntity)
	// Days long ago: nobody.
	expect(t, c.get(live+"?period=custom&from=2020-01-01&to=2020-01-31"), http.StatusOK, i18n.T("vi", "livemap.nobody"))

	// The map page links to it, from its header and its measured row.
	if n := strings.Count(c.get("/journeys/"+id).body, `href="/journeys/`+id+`/live"`); n != 2 {
		t.Errorf("the map page links %d times to the live page, want 2", n)
	}

	// The measures of the map page's "Measured" row.
	var got map[string]json.RawMessage
	r = c.get("/journeys/" + id + "/measures")
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var text string
	_ = json.Unmarshal(got["xem"], &text)
	if text != "4 khách hàng · 50,0% đi tiếp · trung vị 20 phút 0 giây" {
		t.Errorf("measures xem = %q", text)
	}
	_ = json.Unmarshal(got["web"], &text)
	if text != "4 khách · 100,0%" {
		t.Errorf("measures web = %q", text)
	}
	var lv struct {
		Customers int64  `json:"customers"`
		URL       string `json:"url"`
		Stages    map[string]struct {
			Customers     int64    `json:"customers"`
			NextRate      *float64 `json:"next_rate"`
			MedianSeconds *float64 `json:"median_seconds"`
		} `json:"stages"`
		Touchpoints map[string]struct {
			Customers int64   `json:"customers"`
			Share     float64 `json:"share"`
		} `json:"touchpoints"`
	}
	if err := json.Unmarshal(got["_live"], &lv); err != nil {
		t.Fatal(err, r.body)
	}
	xem, sau := lv.Stages["xem"], lv.Stages["sau"]
	if lv.Customers != 4 || lv.URL != live || xem.Customers != 4 || xem.NextRate == nil || *xem.NextRate != 50 || xem.MedianSeconds == nil || *xem.MedianSeconds != 1200 ||
		sau.NextRate != nil || lv.Touchpoints["forum"].Customers != 1 || lv.Touchpoints["forum"].Share != 25 {
		t.Errorf("measures _live = %s", got["_live"])
	}
	r = c.get("/journeys/" + id + "/measures?persona=office&period=all")
	if !strings.Contains(r.body, `"xem":"3 khách hàng`) {
		t.Errorf("measures for a persona: %s", r.body)
	}
	expect(t, c.get("/journeys/"+id+"/measures?where=nope"), http.StatusBadRequest)

	// A viewer sees it, in English too.
	viewer := e.addMember(c, "Trần Văn Bình", "binh@example.vn", opstore.Viewer)
	viewer.get("/")
	viewer.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	r = viewer.get(live)
	expect(t, r, http.StatusOK, "Live numbers", "20 min 0 s", "67 points lower", "+2.0 (1 answer)")
	if got := stageNumbers(t, r.body); got["xem next"] != "50.0%" {
		t.Errorf("english stages = %v", got)
	}

	// A share link shows the map without any live number, and does not
	// open the live page.
	c.get("/journeys/" + id + "/share")
	link := regexp.MustCompile(`/share/[A-Za-z0-9_-]+`).FindString(c.post("/journeys/"+id+"/share", url.Values{"days": {"7"}}).body)
	if link == "" {
		t.Fatal("no share link")
	}
	anon := e.client()
	r = anon.get(link)
	expect(t, r, http.StatusOK, "Tìm hiểu")
	expectNot(t, r, "/live", "data-measures", "data-stage-customers", "50,0%", i18n.T("vi", "livemap.open"))
	for _, p := range []string{live, "/journeys/" + id + "/measures"} {
		if r := anon.get(p); r.status == http.StatusOK || strings.Contains(r.body, "50,0%") {
			t.Errorf("%s without a session: %d", p, r.status)
		}
	}
}

func TestLiveMapEmptyStates(t *testing.T) {
	e := newLiveEnv(t)
	c := e.setup()
	// A map from a template has no matchers: the page says so and links
	// to the matchers editor.
	id := newMap(t, c, "simple", "Chưa đo")
	expect(t, c.get("/journeys/"+id+"/live"), http.StatusOK, i18n.T("vi", "livemap.no_matchers"), `href="/journeys/`+id+`/matchers"`)
	expect(t, c.get("/journeys/nope/live"), http.StatusNotFound)

	// Without an analytics index the page says so, and the map page's
	// measures come from the matchers alone.
	plain := newEnv(t)
	pc := plain.setup()
	pid := liveTestMap(t, plain, plain.workspace().ID)
	plain.appendEvents(liveTestEvents(plain.workspace().ID)...)
	expect(t, pc.get("/journeys/"+pid+"/live"), http.StatusOK, i18n.T("vi", "livemap.off"))
	r := pc.get("/journeys/" + pid + "/measures")
	expect(t, r, http.StatusOK, `"xem":"4 khách hàng"`)
	expectNot(t, r, "_live")
}
