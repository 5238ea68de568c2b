package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// newAnalyticsEnv is the UI with the analyses over the real event index,
// people resolved by the real identity resolver.
func newAnalyticsEnv(t *testing.T) *customersEnv {
	t.Helper()
	e := newCustomersEnv(t)
	ix := analytics.NewIndexes(e.events, func(ctx context.Context, ws string) (func(string, string) string, error) {
		return identity.People(ctx, e.resolver, ws)
	})
	e.web.analyticsRoutes(ix)
	return e
}

// shopFunnel sends ten shoppers' visits: all ten view a product, six add
// it to the cart (u01-u06), three of those order (u01-u03), u04 orders
// only after the 14-day window; u11 orders without viewing anything; u07
// calls support between viewing and leaving. The
// first five came from Facebook, the others from an email.
func (e *customersEnv) shopFunnel() opstore.Source {
	e.t.Helper()
	ws := e.workspace().ID
	web := e.createSource("Cửa hàng online", opstore.Website)
	start := time.Now().UTC().Add(-20 * 24 * time.Hour)
	var msgs []event.Message
	track := func(user, name string, at time.Time, source string) {
		msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Track, Event: name, UserID: user, Timestamp: at,
			Context: json.RawMessage(`{"campaign":{"source":"` + source + `"}}`)})
	}
	for i := 1; i <= 10; i++ {
		user := fmt.Sprintf("u%02d", i)
		src := "facebook"
		if i > 5 {
			src = "email"
		}
		t0 := start.Add(time.Duration(i) * 24 * time.Hour)
		track(user, "Product Viewed", t0, src)
		if i == 7 {
			track(user, "Support Called", t0.Add(5*time.Minute), src)
		}
		if i <= 6 {
			track(user, "Product Added", t0.Add(10*time.Minute), src)
		}
		if i <= 3 {
			track(user, "Order Completed", t0.Add(2*time.Hour), src)
		}
		if i == 4 {
			track(user, "Order Completed", t0.Add(15*24*time.Hour), src)
		}
	}
	track("u11", "Order Completed", start.Add(3*24*time.Hour), "email")
	msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Identify, UserID: "u01", Timestamp: start,
		Traits: json.RawMessage(`{"name":"Nguyễn Văn An"}`)})
	e.appendEvents(msgs...)
	e.settle()
	return web
}

const shopSteps = "steps=Product+Viewed&steps=Product+Added&steps=Order+Completed"

func TestAnalyticsHome(t *testing.T) {
	e := newAnalyticsEnv(t)
	c := e.setup()
	r := c.get("/analytics")
	expect(t, r, http.StatusOK, i18n.T("vi", "analytics.title"), i18n.T("vi", "analytics.card_funnels"), i18n.T("vi", "analytics.card_live_text"),
		`href="/analytics/funnel"`, `href="/journeys"`, i18n.T("vi", "nav.group_analytics"))
	// Analyses whose pages are not served yet are marked, not linked.
	expectNot(t, r, `<a href="/analytics/retention">`+i18n.T("vi", "analytics.card_retention"))
	for _, a := range analyses {
		for _, k := range []string{"analytics.card_" + a.Key, "analytics.card_" + a.Key + "_text"} {
			if !i18n.Has(k) {
				t.Errorf("no catalog text %s", k)
			}
		}
	}
	// Without an index, the home says the funnel is still to come.
	bare := newEnv(t)
	expect(t, bare.setup().get("/analytics"), http.StatusOK,
		`<h2>`+i18n.T("vi", "analytics.card_funnels")+` <span class="badge badge-soon">`)
}

func TestFunnelPage(t *testing.T) {
	e := newAnalyticsEnv(t)
	c := e.setup()
	// Nothing yet: the page explains funnels.
	expect(t, c.get("/analytics/funnel"), http.StatusOK, i18n.T("vi", "funnel.what_title"), i18n.T("vi", "funnel.no_events"))

	e.shopFunnel()
	r := c.get("/analytics/funnel")
	expect(t, r, http.StatusOK, i18n.T("vi", "funnel.what_title"), i18n.T("vi", "funnel.example", "Product Viewed", "Product Added"),
		`/analytics/funnel?steps=Product+Viewed&steps=Product+Added`, `<option value="Product Added">`)

	r = c.get("/analytics/funnel?" + shopSteps + "&breakdown=context.campaign.source")
	expect(t, r, http.StatusOK, `"values":[10,6,3]`, `data-csv-value="10"`, `data-csv-value="6"`, `data-csv-value="3"`,
		"60,0%", "30,0%", "50,0%", // of step 1, of the previous step
		"10 phút 0 giây", "1 giờ 50 phút", // the median times from the previous step
		i18n.T("vi", "funnel.breakdown_title", "context.campaign.source"), "facebook", "email",
		i18n.T("vi", "funnel.over_title"), i18n.T("vi", "funnel.ttc_title"), `data-chart="an-spec-funnel"`, `data-csv="cjm-funnel.csv"`,
		`href="/analytics/funnel/people?`, `aria-current="page"`)
	// Facebook: 5 viewed, 5 added, 3 ordered; email: 5, 1, 0.
	if !regexpMatch(r.body, `(?s)<th scope="row">facebook</th>\s*<td[^>]*>5</td>\s*<td[^>]*>5</td>\s*<td[^>]*>3</td>`) ||
		!regexpMatch(r.body, `(?s)<th scope="row">email</th>\s*<td[^>]*>5</td>\s*<td[^>]*>1</td>\s*<td[^>]*>0</td>`) {
		t.Errorf("breakdown rows:\n%s", clip(r.body[strings.Index(r.body, "an-bd-h"):]))
	}
	// A 30-day window lets u04's late order count.
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&window=30"), http.StatusOK, `"values":[10,6,4]`)
	// Unordered: u11's lone order counts as step 1 of an attempt.
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&order=unordered"), http.StatusOK, `"values":[11,6,3]`)
	// An exclusion between steps 1 and 2 (numbered as on the page) takes
	// u07 out of every step; one between steps 2 and 3 nobody.
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&exclude="+url.QueryEscape("Support Called:1-2")), http.StatusOK, `"values":[9,6,3]`)
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&exclude="+url.QueryEscape("Support Called:2-3")), http.StatusOK, `"values":[10,6,3]`)
	// The last 7 days hold no step 1.
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&period=7"), http.StatusOK, i18n.T("vi", "funnel.nobody"))

	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get("/analytics/funnel?"+shopSteps), http.StatusOK, i18n.T("en", "funnel.title"), "60.0%", "10 min 0 s", i18n.T("en", "nav.funnels"))
}

// The chart scripts are embedded and served with a long cache.
func TestChartAssets(t *testing.T) {
	e := newAnalyticsEnv(t)
	c := e.setup()
	r := c.get("/analytics/funnel")
	for _, name := range []string{"vendor/echarts/echarts.min.js", "charts.js", "analytics.css"} {
		src := regexp1(t, r.body, `"(/static/`+regexp.QuoteMeta(name)+`\?v=[0-9a-f]+)"`)
		a := c.get(src)
		expect(t, a, http.StatusOK)
		if cc := a.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		if ct := a.header.Get("Content-Type"); strings.HasSuffix(name, ".js") && !strings.Contains(ct, "javascript") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
	}
	expect(t, c.get("/static/vendor/echarts/LICENSE"), http.StatusOK, "Apache License")
	if v := c.get("/static/vendor/echarts/VERSION"); !regexpMatch(v.body, `^\d+\.\d+\.\d+\n$`) {
		t.Errorf("VERSION %q", v.body)
	}
}

func TestFunnelErrors(t *testing.T) {
	e := newAnalyticsEnv(t)
	c := e.setup()
	e.shopFunnel()
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"&window=0", i18n.T("vi", "funnel.err_window")},
		{"&window=abc&unit=d", i18n.T("vi", "funnel.err_window")},
		{"&unit=y", i18n.T("vi", "funnel.err_window")},
		{"&order=sideways", i18n.T("vi", "funnel.err_choice")},
		{"&exclude=Refund", i18n.T("vi", "funnel.err_exclusion", "Refund")},
		{"&exclude=" + url.QueryEscape("Refund:3-1"), i18n.T("vi", "funnel.err_exclusion_range", "Refund:3-1", 3)},
		{"&exclude=" + url.QueryEscape("Refund:1-4"), i18n.T("vi", "funnel.err_exclusion_range", "Refund:1-4", 3)},
		{"&steps=stage:buy", i18n.T("vi", "funnel.err_need_map", "stage:buy")},
		{"&map=map_nope", i18n.T("vi", "funnel.err_map")},
		{"&period=custom&from=2026-13-01", i18n.T("vi", "funnel.err_date")},
		{"&period=custom", i18n.T("vi", "funnel.err_dates")},
		{"&period=custom&from=2026-03-02&to=2026-03-01", i18n.T("vi", "funnel.err_date_order")},
		{"&agg=group", i18n.T("vi", "funnel.err_group")},
		{"&attribution=step:7", i18n.T("vi", "funnel.err_choice")},
		{"&breakdown=" + url.QueryEscape("two words"), i18n.T("vi", "funnel.err_field", "two words")},
		{strings.Repeat("&steps=X", 9), i18n.T("vi", "funnel.err_steps_max", 10)},
	} {
		r := c.get("/analytics/funnel?" + shopSteps + tc.query)
		expect(t, r, http.StatusUnprocessableEntity, tc.want, `aria-invalid="true"`, `class="field-error"`)
		expectNot(t, r, `data-chart=`)
	}
	// A stage the chosen map does not have.
	_, _, mapID := e.shop()
	r := c.get("/analytics/funnel?steps=stage:discover&steps=stage:nope&map=" + mapID)
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "funnel.err_stage", "nope", "Mua sắm"))
	// The map's stages and touchpoints are offered as steps, and work as steps.
	r = c.get("/analytics/funnel?steps=stage:discover&steps=touchpoint:online&map=" + mapID + "&period=90")
	expect(t, r, http.StatusOK, `<option value="stage:buy" label="Giai đoạn: Mua hàng">`, "Điểm chạm: Mua hàng › Đặt online", `"values":[`)
	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&window=0"), http.StatusUnprocessableEntity, i18n.T("en", "funnel.err_window"))
}

func TestFunnelPeople(t *testing.T) {
	e := newAnalyticsEnv(t)
	c := e.setup()
	e.shopFunnel()
	prof := func(u string) string { return e.profileOf(identity.UserID, u) }

	// Who added to the cart and did not order: u04, u05, u06.
	r := c.get("/analytics/funnel/people?" + shopSteps + "&step=2&dropped=1")
	expect(t, r, http.StatusOK, i18n.T("vi", "funnel.dropped_title", 2, "Product Added"), "3 người",
		`href="/customers/`+prof("u04")+`"`, `href="/customers/`+prof("u06")+`"`)
	expectNot(t, r, prof("u01"), prof("u07"))
	// Who reached step 3.
	r = c.get("/analytics/funnel/people?" + shopSteps + "&step=3")
	expect(t, r, http.StatusOK, "3 người", prof("u01"), prof("u02"), prof("u03"), "Nguyễn Văn An")

	// The CSV has every one of them, with their profile ids.
	r = c.get("/analytics/funnel/people?" + shopSteps + "&step=1&dropped=1&format=csv")
	expect(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if _, p, _ := mime.ParseMediaType(r.header.Get("Content-Disposition")); !strings.HasPrefix(p["filename"], "cjm-funnel-step1-dropped-") {
		t.Errorf("disposition %q", r.header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(r.body, "\ufeff") {
		t.Error("the CSV has no byte order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range recs[1:] {
		got = append(got, rec[1])
		if rec[5] != "1" || rec[6] != "dropped" {
			t.Errorf("row %v", rec)
		}
	}
	want := []string{prof("u07"), prof("u08"), prof("u09"), prof("u10")}
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(recs[0], ",") != "id,profile_id,user_id,anonymous_id,session,step,status" || !slices.Equal(got, want) {
		t.Errorf("csv:\n%s\nwant profiles %v", r.body, want)
	}

	// Bad steps.
	expect(t, c.get("/analytics/funnel/people?"+shopSteps+"&step=4"), http.StatusNotFound)
	expect(t, c.get("/analytics/funnel/people?"+shopSteps+"&step=x"), http.StatusNotFound)
	if r := c.get("/analytics/funnel/people?" + shopSteps + "&step=1&window=0"); r.status != http.StatusSeeOther {
		t.Errorf("a bad funnel's people: status %d, want a redirect to the funnel", r.status)
	}
}

func TestFunnelViewer(t *testing.T) {
	e := newAnalyticsEnv(t)
	owner := e.setup()
	e.shopFunnel()
	viewer := e.addMember(owner, "Lan", "lan@example.vn", opstore.Viewer)
	expect(t, viewer.get("/analytics/funnel?"+shopSteps), http.StatusOK, `"values":[10,6,3]`)
	expect(t, viewer.get("/analytics/funnel/people?"+shopSteps+"&step=3&format=csv"), http.StatusOK, "profile_id")
	expect(t, viewer.get("/analytics"), http.StatusOK)
	// Logged out: to the login page.
	if r := e.client().get("/analytics/funnel?" + shopSteps); r.status != http.StatusSeeOther || !strings.Contains(r.loc, "/login") {
		t.Errorf("logged out: %d %s", r.status, r.loc)
	}
}

func TestFunnelFormRoundTrip(t *testing.T) {
	v := url.Values{"steps": {" A ", "", "B"}, "window": {"2"}, "unit": {"h"}, "order": {"strict"}, "period": {"custom"}, "from": {"2026-01-01"},
		"exclude": {"X:1-2\r\nY:1-2"}, "agg": {"person"}, "breakdown": {"context.campaign.source"}, "attribution": {"last_touch"}}
	f := parseFunnelForm(v)
	if !slices.Equal(f.Steps, []string{"A", "B"}) || f.Exclude != "X:1-2\nY:1-2" {
		t.Errorf("parsed %+v", f)
	}
	g := parseFunnelForm(f.values())
	if fmt.Sprint(g) != fmt.Sprint(f) {
		t.Errorf("round trip:\n%+v\n%+v", f, g)
	}
	if d := parseFunnelForm(url.Values{"steps": {"A"}}).values().Encode(); d != "steps=A" {
		t.Errorf("defaults in the URL: %s", d)
	}
}

func TestFunnelFormatting(t *testing.T) {
	for _, tc := range []struct {
		sec    float64
		vi, en string
	}{
		{44.6, "45 giây", "45 s"},
		{200, "3 phút 20 giây", "3 min 20 s"},
		{2*3600 + 5*60 + 10, "2 giờ 5 phút", "2 h 5 min"},
		{3*86400 + 4*3600 + 10, "3 ngày 4 giờ", "3 d 4 h"},
	} {
		if got := humanDuration("vi", tc.sec); got != tc.vi {
			t.Errorf("vi %v = %q, want %q", tc.sec, got, tc.vi)
		}
		if got := humanDuration("en", tc.sec); got != tc.en {
			t.Errorf("en %v = %q, want %q", tc.sec, got, tc.en)
		}
	}
	for _, tc := range []struct {
		b    analytics.DurationBucket
		want string
	}{
		{analytics.DurationBucket{MinSeconds: 0, MaxSeconds: 60}, "Under 1 min"},
		{analytics.DurationBucket{MinSeconds: 900, MaxSeconds: 3600}, "15 min – 1 h"},
		{analytics.DurationBucket{MinSeconds: 86400, MaxSeconds: 3 * 86400}, "1–3 d"},
		{analytics.DurationBucket{MinSeconds: 6 * 3600, MaxSeconds: 86400}, "6 h – 1 d"},
		{analytics.DurationBucket{MinSeconds: 30 * 86400, MaxSeconds: -1}, "30 d or more"},
	} {
		if got := bucketLabel("en", tc.b); got != tc.want {
			t.Errorf("bucket %+v = %q, want %q", tc.b, got, tc.want)
		}
	}
	if pct("vi", 1, 3) != "33,3%" || pct("en", 2, 3) != "66.7%" || pct("en", 1, 0) != "—" {
		t.Errorf("pct: %s %s %s", pct("vi", 1, 3), pct("en", 2, 3), pct("en", 1, 0))
	}
	for _, tc := range []struct {
		line string
		key  string
		ex   analytics.Exclusion
	}{
		{"Call Abandoned:1-2", "", analytics.Exclusion{Name: "Call Abandoned", From: 0, To: 1}},
		{"a:b:2-3", "", analytics.Exclusion{Name: "a:b", From: 1, To: 2}},
		{"Call Abandoned", "funnel.err_exclusion", analytics.Exclusion{}},
		{"X:1-x", "funnel.err_exclusion", analytics.Exclusion{}},
		{"X:2-2", "funnel.err_exclusion_range", analytics.Exclusion{}},
		{"X:0-2", "funnel.err_exclusion_range", analytics.Exclusion{}},
	} {
		ex, key, _ := parseExclusion(tc.line, 3)
		if key != tc.key || ex != tc.ex {
			t.Errorf("%q: %+v %q", tc.line, ex, key)
		}
	}
	if personHref("u:kh 1", false) != "/customers?q=kh+1" || personHref("prof_1#2", false) != "/customers/prof_1" || personHref("store-1", true) != "" {
		t.Error("personHref")
	}
}

func regexpMatch(s, re string) bool { return regexp.MustCompile(re).MatchString(s) }

// While a big workspace's index is first built, an analysis page says how
// far it is and reloads itself; then the page shows the funnel.
func TestFunnelPageWhileIndexing(t *testing.T) {
	defer func(n int64) { analytics.InlineBuild = n }(analytics.InlineBuild)
	analytics.InlineBuild = 5 // the shop has more events than that
	e := newAnalyticsEnv(t)
	c := e.setup()
	e.shopFunnel()
	// The first request starts the build and answers at once.
	r := c.get("/analytics/funnel?" + shopSteps)
	expect(t, r, http.StatusServiceUnavailable, i18n.T("vi", "indexing.title"), `<progress max="100"`)
	if r.header.Get("Refresh") == "" {
		t.Error("the indexing page does not reload itself")
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.status == http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		r = c.get("/analytics/funnel?" + shopSteps)
	}
	expect(t, r, http.StatusOK, `"values":[10,6,3]`)
}
