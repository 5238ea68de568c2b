package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// newFilterEnv is the UI with every analysis page.
func newFilterEnv(t *testing.T) *customersEnv {
	t.Helper()
	e := newPathsEnv(t)
	e.web.insightRoutes(e.web.analytics)
	e.web.kpiRoutes(e.web.analytics)
	return e
}

// filterShop is shopFunnel (u01-u10 view a product on the website, u01-u06
// add it, u01-u03 order; u01-u05 came from Facebook, u06-u10 and u11's
// lone order from an email) and a shop (POS) where u21 and u22 view a
// product and u21 adds it. u01, u02 and u06 are students (traits.persona
// sinh-vien); a map's persona is Sinh viên, segment sinh-vien.
func (e *customersEnv) filterShop() (web, pos opstore.Source) {
	e.t.Helper()
	web = e.shopFunnel()
	pos = e.createSource("Cửa hàng Q3", opstore.POS)
	ws := e.workspace().ID
	at := time.Now().UTC().Add(-5 * 24 * time.Hour)
	var msgs []event.Message
	for _, u := range []string{"u21", "u22"} {
		msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: pos.ID, Type: event.Track, Event: "Product Viewed", UserID: u, Timestamp: at})
	}
	msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: pos.ID, Type: event.Track, Event: "Product Added", UserID: "u21", Timestamp: at.Add(time.Minute)})
	for _, u := range []string{"u01", "u02", "u06"} {
		msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Identify, UserID: u, Timestamp: at,
			Traits: json.RawMessage(`{"persona":"sinh-vien"}`)})
	}
	e.appendEvents(msgs...)
	e.settle()
	m := &journeymap.Map{Name: "Sinh viên mua túi", Lang: "vi", State: journeymap.Current,
		Persona: &journeymap.Persona{Name: "Sinh viên", Segment: "sinh-vien"}, Stages: []journeymap.Stage{
			{Key: "buy", Name: "Mua hàng", Touchpoints: []journeymap.Touchpoint{
				{Key: "online", Name: "Đặt online", Channel: "website", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed"}}},
			}},
		}}
	if _, err := journeymap.NewBook(e.ops).Create(context.Background(), ws, m, opstore.MapChange{Action: "created"}); err != nil {
		e.t.Fatal(err)
	}
	return web, pos
}

// chipHrefs returns the links of the active filters' chips.
func chipHrefs(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, h := range regexpAll(body, `<a class="an-chip" href="([^"]*)"`) {
		out = append(out, html.UnescapeString(h))
	}
	return out
}

func TestFunnelFilter(t *testing.T) {
	e := newFilterEnv(t)
	c := e.setup()
	web, pos := e.filterShop()
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "/analytics/funnel?" + shopSteps + "&" + v.Encode()
	}
	// The block offers the sources, the channels present and the maps'
	// personas.
	r := c.get(q())
	expect(t, r, http.StatusOK, `"values":[12,7,3]`, `name="src"`, `<option value="`+pos.ID+`">Cửa hàng Q3</option>`,
		`<option value="pos">`+i18n.T("vi", "channel.pos")+`</option>`, `<option value="sinh-vien" label="Sinh viên">`,
		i18n.T("vi", "funnel.steps_conditions"), "Product Viewed [category=tui-xach, context.device.type!=mobile]")
	expectNot(t, r, `<option value="app">`, `class="an-chip"`, `<details class="filter-box an-filter" open>`)

	for _, tc := range []struct {
		name, query, want string
	}{
		{"website source", q("src", web.ID), `"values":[10,6,3]`},
		{"shop source", q("src", pos.ID), `"values":[2,1,0]`},
		{"shop channel", q("channel", "pos"), `"values":[2,1,0]`},
		{"website channel", q("channel", "website"), `"values":[10,6,3]`},
		// u01, u02 and u06: all three added to the cart, u01 and u02 ordered.
		{"persona", q("persona", "sinh-vien"), `"values":[3,3,2]`},
		// Who ever came from Facebook: u01-u05, all their events.
		{"segment", q("segment", "context.campaign.source=facebook"), `"values":[5,5,3]`},
		// Only the email events: u06-u10 viewed, u06 added, u11's order
		// follows no view.
		{"where", q("where", "context.campaign.source=email"), `"values":[5,1,0]`},
		{"segment and source", q("segment", "context.campaign.source=facebook", "src", web.ID), `"values":[5,5,3]`},
		{"nobody", q("persona", "nobody"), i18n.T("vi", "funnel.nobody")},
	} {
		r := c.get(tc.query)
		expect(t, r, http.StatusOK, tc.want, `<details class="filter-box an-filter" open>`, `class="an-chip"`)
		if t.Failed() {
			t.Fatalf("%s: %s", tc.name, tc.query)
		}
	}

	// Each chip is the page without its filter.
	r = c.get(q("src", web.ID, "segment", "context.campaign.source=facebook"))
	expect(t, r, http.StatusOK, `"values":[5,5,3]`, i18n.T("vi", "filter.active"), "Cửa hàng online", "context.campaign.source=facebook")
	hrefs := chipHrefs(t, r.body)
	if len(hrefs) != 2 || strings.Contains(hrefs[0], "src=") || !strings.Contains(hrefs[0], "segment=") ||
		!strings.Contains(hrefs[1], "src=") || strings.Contains(hrefs[1], "segment=") {
		t.Fatalf("chips %q", hrefs)
	}
	expect(t, c.get(hrefs[0]), http.StatusOK, `"values":[5,5,3]`, "steps=Product+Viewed")
	expect(t, c.get(hrefs[1]), http.StatusOK, `"values":[10,6,3]`)

	// The links to the people and to the paths after a drop-off keep the
	// filter; the people are the filter's.
	r = c.get(q("src", pos.ID))
	people := html.UnescapeString(regexp1(t, r.body, `<a href="(/analytics/funnel/people\?[^"]*step=1[^"]*)"`))
	paths := html.UnescapeString(regexp1(t, r.body, `<a href="(/analytics/paths\?[^"]*after_step=1)"`))
	if !strings.Contains(people, "src="+pos.ID) || !strings.Contains(paths, "src="+pos.ID) {
		t.Errorf("links without the filter:\n%s\n%s", people, paths)
	}
	pr := c.get(people)
	expect(t, pr, http.StatusOK, e.profileOf(identity.UserID, "u21"), e.profileOf(identity.UserID, "u22"), "src="+pos.ID)
	expectNot(t, pr, e.profileOf(identity.UserID, "u01"))
	// The paths from the drop-off: u22 stopped after viewing.
	expect(t, c.get(paths), http.StatusOK, `name="src"`, `<option value="`+pos.ID+`" selected>`, `class="an-chip"`)
}

func TestFilterErrors(t *testing.T) {
	e := newFilterEnv(t)
	c := e.setup()
	e.filterShop()
	for _, tc := range []struct {
		query, field, want string
	}{
		{"segment=nope", "segment", i18n.T("vi", "filter.err_field_equals", "nope")},
		{"segment=" + url.QueryEscape("context.campaign.source="), "segment", i18n.T("vi", "filter.err_field_equals", "context.campaign.source=")},
		{"where=" + url.QueryEscape("=email"), "where", i18n.T("vi", "filter.err_field_equals", "=email")},
		{"src=src_nope", "src", i18n.T("vi", "filter.err_source")},
		{"channel=app", "channel", i18n.T("vi", "filter.err_channel")},
		{"persona=" + strings.Repeat("x", 201), "persona", i18n.T("vi", "filter.err_long", 200)},
	} {
		for _, page := range []string{"/analytics/funnel?" + shopSteps + "&", "/analytics/paths?start=Product+Viewed&", "/analytics/retention?",
			"/analytics/insights?", "/analytics/kpis?"} {
			r := c.get(page + tc.query)
			expect(t, r, http.StatusUnprocessableEntity, `<p class="field-error" id="`+tc.field+`-err">`+html.EscapeString(tc.want),
				`<details class="filter-box an-filter" open>`)
			expectNot(t, r, `data-chart=`)
		}
	}
	// A source and a channel it is not of.
	web, _ := e.sourcesByChannel(t)
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&channel=pos&src="+web), http.StatusUnprocessableEntity,
		html.EscapeString(i18n.T("vi", "filter.err_source_channel", "Cửa hàng online", i18n.T("vi", "channel.pos"))))
	// The people of a wrongly filtered funnel: to the funnel, which says why.
	if r := c.get("/analytics/funnel/people?" + shopSteps + "&step=1&segment=nope"); r.status != http.StatusSeeOther {
		t.Errorf("people of a bad filter: status %d", r.status)
	}
	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get("/analytics/funnel?"+shopSteps+"&segment=nope"), http.StatusUnprocessableEntity,
		html.EscapeString(i18n.T("en", "filter.err_field_equals", "nope")), i18n.T("en", "filter.title"))
}

// sourcesByChannel returns the ids of the website and POS sources.
func (e *customersEnv) sourcesByChannel(t *testing.T) (web, pos string) {
	t.Helper()
	srcs, err := e.ops.Sources(context.Background(), e.workspace().ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		switch s.Channel {
		case opstore.Website:
			web = s.ID
		case opstore.POS:
			pos = s.ID
		}
	}
	return web, pos
}

// The paths, retention, insights and KPIs pages take the same filter.
func TestOtherPagesFilter(t *testing.T) {
	e := newFilterEnv(t)
	c := e.setup()
	web, pos := e.filterShop()
	actors := func(r resp) string {
		t.Helper()
		return regexp1(t, r.body, `<span class="stat-value">([0-9.]+)</span>`)
	}
	paths := "/analytics/paths?start=Product+Viewed&per=person"
	for query, want := range map[string]string{
		"":                   "12",
		"&src=" + pos.ID:     "2",
		"&channel=website":   "10",
		"&persona=sinh-vien": "3",
		"&segment=" + url.QueryEscape("context.campaign.source=facebook"): "5",
		"&where=" + url.QueryEscape("context.campaign.source=email"):      "5",
	} {
		r := c.get(paths + query)
		expect(t, r, http.StatusOK)
		if got := actors(r); got != want {
			t.Errorf("paths%s: %s customers, want %s", query, got, want)
		}
	}
	// The chip of a paths page keeps its own fields.
	r := c.get(paths + "&src=" + pos.ID)
	if h := chipHrefs(t, r.body); len(h) != 1 || h[0] != "/analytics/paths?per=person&start=Product+Viewed" {
		t.Errorf("paths chips %q", h)
	}

	// Retention: everyone who did anything in the last 90 days (u01-u11,
	// u21, u22), the shop's two, the email's six.
	for query, want := range map[string]int64{
		"":               13,
		"&channel=pos":   2,
		"&src=" + web.ID: 11,
		"&where=" + url.QueryEscape("context.campaign.source=email"): 6,
	} {
		expect(t, c.get("/analytics/retention?period=90"+query), http.StatusOK, i18n.N("vi", "retention.total", want))
	}

	// Insights and KPIs take it too; the insights' links keep it.
	expect(t, c.get("/analytics/insights?src="+pos.ID), http.StatusOK, `class="an-chip"`, `<option value="`+pos.ID+`" selected>`)
	expect(t, c.get("/analytics/kpis?channel=pos"), http.StatusOK, `class="an-chip"`, `<option value="pos" selected>`)
	loc := time.UTC
	in := analytics.Insight{Kind: analytics.EventSpike, Event: "Order Completed", Start: time.Date(2026, 2, 10, 0, 0, 0, 0, loc),
		End: time.Date(2026, 2, 11, 0, 0, 0, 0, loc)}
	if u := spikeDailyURL(loc, in, analytics.InsightQuery{}, filterForm{Source: "src_1", Persona: "sinh-vien"}); !strings.Contains(u, "src=src_1") ||
		!strings.Contains(u, "persona=sinh-vien") {
		t.Errorf("spike link %s", u)
	}
	fq := &analytics.FunnelQuery{Steps: []string{"A", "B"}, Window: 7 * 24 * time.Hour}
	card := insightCardOf("vi", loc, 1, analytics.Insight{Kind: analytics.WeakTransition, Steps: []string{"A", "B"}, Funnel: fq, Before: -1},
		analytics.InsightQuery{}, filterForm{Channel: "pos"})
	if !strings.Contains(card.FunnelURL, "channel=pos") || !strings.Contains(card.PathsURL, "channel=pos") {
		t.Errorf("insight links %s %s", card.FunnelURL, card.PathsURL)
	}
}

func TestFilterFormRoundTrip(t *testing.T) {
	v := url.Values{"src": {" s1 "}, "channel": {"pos"}, "persona": {"sinh-vien"}, "segment": {"a=b"}, "where": {""}}
	f := parseFunnelForm(v)
	if f.Filter != (filterForm{Source: "s1", Channel: "pos", Persona: "sinh-vien", Segment: "a=b"}) || f.Filter.Count() != 4 {
		t.Errorf("parsed %+v", f.Filter)
	}
	if got := f.values().Encode(); got != "channel=pos&persona=sinh-vien&segment=a%3Db&src=s1" {
		t.Errorf("values %s", got)
	}
	p := parsePathForm(url.Values{"src": {"s1"}, "steps": {"A", "B"}, "after_step": {"1"}})
	if got := p.values(); len(got["src"]) != 1 {
		t.Errorf("the paths' filter twice: %v", got)
	}
	if fe, _, ok := parseFieldEquals("category = tui-xach"); !ok || fe.Field != "properties.category" || fe.Value != "tui-xach" {
		t.Errorf("parseFieldEquals: %+v %v", fe, ok)
	}
	for _, bad := range []string{"nope", "=x", "a=", "two words=x"} {
		if _, m, ok := parseFieldEquals(bad); ok || m.Key != "filter.err_field_equals" {
			t.Errorf("%q accepted", bad)
		}
	}
}
