package web

import (
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// newPathsEnv is the analytics UI with the paths and retention pages.
func newPathsEnv(t *testing.T) *customersEnv {
	t.Helper()
	e := newAnalyticsEnv(t)
	e.web.pathRoutes(e.web.analytics)
	e.web.retentionRoutes(e.web.analytics)
	return e
}

// pathShop sends ten days ago one visit (a session) per shopper, a minute
// between events:
//
//	u1        List → Product → Added → Order
//	u2 u3 u4  List → Product → Added
//	u5 u6     List → Product
//	u7        List
//	u8        List → Search → Product
//	u9        /san-pham/ao-1 → /san-pham/ao-2 → Added (unnamed pages)
//	u10       /san-pham/quan-3 → Added
//
// (List is "Product List Viewed", Product "Product Viewed", Added
// "Product Added", Order "Order Completed", Search "Products Searched").
func (e *customersEnv) pathShop() {
	e.t.Helper()
	ws := e.workspace().ID
	web := e.createSource("Web shop", opstore.Website)
	t0 := time.Now().UTC().Add(-10 * 24 * time.Hour)
	names := map[string]string{"List": "Product List Viewed", "Product": "Product Viewed", "Added": "Product Added",
		"Order": "Order Completed", "Search": "Products Searched"}
	visits := map[string]string{
		"u01": "List Product Added Order", "u02": "List Product Added", "u03": "List Product Added", "u04": "List Product Added",
		"u05": "List Product", "u06": "List Product", "u07": "List", "u08": "List Search Product",
		"u09": "/san-pham/ao-1 /san-pham/ao-2 Added", "u10": "/san-pham/quan-3 Added",
	}
	var msgs []event.Message
	i := 0
	for _, user := range slices.Sorted(maps.Keys(visits)) {
		at := t0.Add(time.Duration(i) * time.Hour)
		i++
		for k, step := range strings.Fields(visits[user]) {
			m := event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Track, Event: names[step], UserID: user,
				Timestamp: at.Add(time.Duration(k) * time.Minute)}
			if strings.HasPrefix(step, "/") {
				m.Type, m.Event = event.Page, ""
				m.Context = json.RawMessage(fmt.Sprintf(`{"page":{"path":%q}}`, step))
			}
			msgs = append(msgs, m)
		}
	}
	e.appendEvents(msgs...)
	e.settle()
}

const pathsFromList = "/analytics/paths?start=Product+List+Viewed"

// sankeyOf reads the Sankey spec of a paths page.
func sankeyOf(t *testing.T, body string) sankeySpec {
	t.Helper()
	var s sankeySpec
	src := html.UnescapeString(regexp1(t, body, `(?s)<script type="application/json" id="an-spec-paths">(.*?)</script>`))
	if err := json.Unmarshal([]byte(src), &s); err != nil {
		t.Fatalf("sankey spec: %v\n%s", err, src)
	}
	return s
}

func TestPathsPage(t *testing.T) {
	e := newPathsEnv(t)
	c := e.setup()
	// Nothing yet: the page explains paths.
	expect(t, c.get("/analytics/paths"), http.StatusOK, i18n.T("vi", "paths.what_title"), i18n.T("vi", "funnel.no_events"),
		`href="/analytics/paths" aria-current="page"`)

	e.pathShop()
	// The example starts at the most frequent event.
	expect(t, c.get("/analytics/paths"), http.StatusOK, i18n.T("vi", "paths.example", "Product List Viewed"),
		`href="/analytics/paths?start=Product+List+Viewed"`, `<option value="Product Added">`)

	r := c.get(pathsFromList)
	expect(t, r, http.StatusOK, i18n.T("vi", "paths.kpi_actors_session"), `data-chart="an-spec-paths"`,
		`data-csv="cjm-paths-top.csv"`, `data-csv="cjm-paths-nodes.csv"`, "37,5%")
	// The top paths, most first, with their share of the 8 sessions.
	top := regexpAll(r.body, `<th scope="row" data-csv-value="([^"]+)">`)
	want := []string{
		"Product List Viewed → Product Viewed → Product Added", "Product List Viewed → Product Viewed",
		"Product List Viewed", "Product List Viewed → Product Viewed → Product Added → Order Completed",
		"Product List Viewed → Products Searched → Product Viewed",
	}
	if !slices.Equal(top, want) {
		t.Errorf("top paths:\n%q\nwant\n%q", top, want)
	}
	if !regexpMatch(r.body, `(?s)Product Added</th>\s*<td class="num" data-csv-value="3">3</td>\s*<td class="num" data-csv-value="37.5">37,5%</td>`) {
		t.Errorf("the most common path's count and share:\n%s", clip(r.body[strings.Index(r.body, "an-top-h"):]))
	}
	// The nodes: step, label, count, stopped here.
	for _, row := range [][4]string{{"1", "Product List Viewed", "8", "1"}, {"2", "Product Viewed", "6", "2"}, {"2", "Products Searched", "1", "0"},
		{"3", "Product Added", "4", "3"}, {"4", "Order Completed", "1", "1"}} {
		re := fmt.Sprintf(`(?s)<td class="num">%s</td>\s*<th scope="row">%s</th>\s*<td class="num" data-csv-value="%s">[^<]*</td>\s*<td class="num" data-csv-value="%s">`,
			row[0], row[1], row[2], row[3])
		if !regexpMatch(r.body, re) {
			t.Errorf("no node row %v", row)
		}
	}
	// The Sankey: a column per step, the paths that stop flowing into a
	// grey node of the next column.
	s := sankeyOf(t, r.body)
	stopped := i18n.T("vi", "paths.stopped")
	depth := map[string]int{}
	for _, n := range s.Nodes {
		depth[strings.Trim(n.Name, "\u200b\u2060")] = max(depth[strings.Trim(n.Name, "\u200b\u2060")], n.Depth)
	}
	if s.Kind != "sankey" || depth["Product List Viewed"] != 0 || depth["Order Completed"] != 3 || depth[stopped] != 4 {
		t.Errorf("sankey nodes: %+v", s.Nodes)
	}
	links := map[string]int64{}
	for _, l := range s.Links {
		links[strings.Trim(l.Source, "\u200b")+" > "+strings.Trim(l.Target, "\u200b\u2060")] += l.Value
	}
	if links["Product List Viewed > Product Viewed"] != 6 || links["Product List Viewed > "+stopped] != 1 ||
		links["Product Added > "+stopped] != 3 || links["Product Viewed > Product Added"] != 4 {
		t.Errorf("sankey links: %v", links)
	}

	// Two steps: the paths are cut, and say so.
	r = c.get(pathsFromList + "&length=2")
	expect(t, r, http.StatusOK, i18n.T("vi", "paths.kpi_truncated", 2), `data-csv-value="Product List Viewed → Product Viewed"`)
	expectNot(t, r, "Product Added</th>")

	// Per person over the whole period: the same, each shopper one visit.
	expect(t, c.get(pathsFromList+"&per=person"), http.StatusOK, i18n.T("vi", "paths.kpi_actors_person"), "37,5%")

	// The last 7 days hold no visit.
	expect(t, c.get(pathsFromList+"&period=7"), http.StatusOK, i18n.T("vi", "paths.nobody"))
	// Up to an end event: the steps before it.
	r = c.get("/analytics/paths?end=Order+Completed")
	expect(t, r, http.StatusOK, i18n.T("vi", "paths.chart_note_end"),
		`data-csv-value="Product List Viewed → Product Viewed → Product Added → Order Completed"`)

	// Cleaning rules merge the product pages; collapsing merges repeats.
	clean := "&clean=" + url.QueryEscape("^/san-pham/.*=/san-pham/*")
	r = c.get("/analytics/paths?start=" + url.QueryEscape("/san-pham/*") + clean)
	expect(t, r, http.StatusOK, `data-csv-value="/san-pham/* → /san-pham/* → Product Added"`, `data-csv-value="/san-pham/* → Product Added"`)
	r = c.get("/analytics/paths?start=" + url.QueryEscape("/san-pham/*") + clean + "&collapse=1")
	expect(t, r, http.StatusOK, `data-csv-value="/san-pham/* → Product Added"`, "100,0%")
	// Left-out events are not in the paths.
	r = c.get(pathsFromList + "&ignore=Product+Viewed")
	expect(t, r, http.StatusOK, `data-csv-value="Product List Viewed → Product Added → Order Completed"`)

	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get(pathsFromList), http.StatusOK, i18n.T("en", "paths.title"), "37.5%", i18n.T("en", "paths.top_title"), i18n.T("en", "nav.paths"))
}

// A funnel's "dropped off" rows link to the paths of who dropped off, and
// those paths start at the step they dropped off after.
func TestPathsAfterFunnel(t *testing.T) {
	e := newPathsEnv(t)
	c := e.setup()
	e.pathShop()
	funnel := "steps=Product+List+Viewed&steps=Product+Added"
	r := c.get("/analytics/funnel?" + funnel)
	expect(t, r, http.StatusOK, `href="/analytics/paths?`+funnel+`&after_step=1"`, i18n.T("vi", "paths.link_paths"))

	// u05-u08 viewed a list and added nothing.
	r = c.get("/analytics/paths?" + funnel + "&after_step=1")
	expect(t, r, http.StatusOK, i18n.T("vi", "paths.after_dropped", 1, "Product List Viewed", 2, "Product Added"),
		i18n.T("vi", "paths.kpi_actors_person"), `href="/analytics/funnel?`+funnel+`"`,
		`href="/analytics/paths?start=Product+List+Viewed"`, // the same paths without the funnel
		`<input type="hidden" name="steps" value="Product List Viewed">`, `<input type="hidden" name="after_step" value="1">`,
		`data-csv-value="Product List Viewed → Product Viewed"`, `data-csv-value="Product List Viewed → Products Searched → Product Viewed"`)
	expectNot(t, r, `data-csv-value="Product List Viewed → Product Viewed → Product Added"`, `name="start"`)
	if !regexpMatch(r.body, `(?s)data-csv-value="Product List Viewed → Product Viewed">[^\n]*</th>\s*<td class="num" data-csv-value="2">2</td>\s*<td class="num" data-csv-value="50.0">`) {
		t.Errorf("2 of the 4 who dropped off viewed a product:\n%s", clip(r.body[strings.Index(r.body, "an-top-h"):]))
	}
	// After the last step: those who converted.
	expect(t, c.get("/analytics/paths?"+funnel+"&after_step=2"), http.StatusOK,
		i18n.T("vi", "paths.after_converted", 2, "Product Added"), `data-csv-value="Product Added → Order Completed"`)
}

func TestPathsErrors(t *testing.T) {
	e := newPathsEnv(t)
	c := e.setup()
	e.pathShop()
	funnel := "&steps=Product+List+Viewed&steps=Product+Added"
	for _, tc := range []struct {
		query, field, want string
	}{
		{"&length=0", "length", i18n.T("vi", "paths.err_length", 20)},
		{"&length=21", "length", i18n.T("vi", "paths.err_length", 20)},
		{"&length=abc", "length", i18n.T("vi", "paths.err_length", 20)},
		{"&per=group", "per", i18n.T("vi", "funnel.err_choice")},
		{"&clean=" + url.QueryEscape("^/san-pham/(=x"), "clean", i18n.T("vi", "paths.err_clean_regex", "^/san-pham/(", "missing closing )")},
		{"&clean=" + url.QueryEscape("^/san-pham/"), "clean", i18n.T("vi", "paths.err_clean", "^/san-pham/")},
		{"&ignore=Product+List+Viewed", "ignore", i18n.T("vi", "paths.err_ignore", "Product List Viewed")},
		{"&end=stage:buy", "end", i18n.T("vi", "funnel.err_need_map", "stage:buy")},
		{"&touchpoints=1", "touchpoints", i18n.T("vi", "paths.err_touchpoints")},
		{"&map=map_nope", "map", i18n.T("vi", "funnel.err_map")},
		{"&period=custom", "from", i18n.T("vi", "funnel.err_dates")},
		{"&period=custom&from=2026-03-02&to=2026-03-01", "to", i18n.T("vi", "funnel.err_date_order")},
		{funnel + "&after_step=1", "start", i18n.T("vi", "paths.err_start_after")},
		{funnel + "&after_step=3", "after_step", i18n.T("vi", "paths.err_after_step", 2)},
		{funnel + "&after_step=1&window=0", "after_step", i18n.T("vi", "funnel.err_window")},
		{"&after_step=1", "after_step", i18n.T("vi", "paths.err_no_funnel")},
	} {
		r := c.get(pathsFromList + tc.query)
		expect(t, r, http.StatusUnprocessableEntity, tc.want, `class="field-error"`)
		if !strings.Contains(r.body, `id="`+tc.field+`-err"`) {
			t.Errorf("%s: the error is not by the field %s", tc.query, tc.field)
		}
		expectNot(t, r, `data-chart=`)
	}
	// The options' errors open "More options".
	expect(t, c.get(pathsFromList+"&clean=x"), http.StatusUnprocessableEntity, `<details class="filter-box an-more" open>`)
	// A map's stages and touchpoints work as start and end, and as labels.
	_, _, mapID := e.shop()
	r := c.get("/analytics/paths?start=stage:discover&map=" + mapID + "&touchpoints=1&period=90")
	expect(t, r, http.StatusOK, `<option value="touchpoint:online" label="Điểm chạm: Mua hàng › Đặt online">`, `data-csv-value="Xem website → Đặt online"`)
	expect(t, c.get("/analytics/paths?start=stage:nope&map="+mapID), http.StatusUnprocessableEntity, i18n.T("vi", "funnel.err_stage", "nope", "Mua sắm"))
	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get(pathsFromList+"&length=0"), http.StatusUnprocessableEntity, i18n.T("en", "paths.err_length", 20))
}

// The analytics home links the paths and retention pages once they are
// served, and a viewer may see them.
func TestPathsHomeAndAccess(t *testing.T) {
	e := newPathsEnv(t)
	owner := e.setup()
	e.pathShop()
	expect(t, owner.get("/analytics"), http.StatusOK, `<a href="/analytics/paths">`+i18n.T("vi", "analytics.card_paths")+`</a>`,
		`<a href="/analytics/retention">`+i18n.T("vi", "analytics.card_retention")+`</a>`,
		`href="/analytics/paths"`, i18n.T("vi", "nav.paths"), i18n.T("vi", "nav.retention"))
	viewer := e.addMember(owner, "Lan", "lan@example.vn", opstore.Viewer)
	expect(t, viewer.get(pathsFromList), http.StatusOK, `data-chart="an-spec-paths"`)
	expect(t, viewer.get("/analytics/retention"), http.StatusOK, `data-csv="cjm-retention.csv"`)
	for _, p := range []string{pathsFromList, "/analytics/retention"} {
		if r := e.client().get(p); r.status != http.StatusSeeOther || !strings.Contains(r.loc, "/login") {
			t.Errorf("%s logged out: %d %s", p, r.status, r.loc)
		}
	}
}

func TestPathFormRoundTrip(t *testing.T) {
	v := url.Values{"start": {" A "}, "length": {"7"}, "per": {"person"}, "collapse": {"1"}, "ignore": {"X\r\nY"},
		"clean": {"^/a/.*=/a/*"}, "period": {"custom"}, "from": {"2026-01-01"},
		"steps": {"A", "B"}, "window": {"2"}, "unit": {"h"}, "after_step": {"1"}}
	f := parsePathForm(v)
	if f.Start != "A" || f.Ignore != "X\nY" || !f.Collapse || f.Funnel.Window != "2" || !slices.Equal(f.Funnel.Steps, []string{"A", "B"}) {
		t.Errorf("parsed %+v", f)
	}
	g := parsePathForm(f.values())
	if fmt.Sprint(g) != fmt.Sprint(f) {
		t.Errorf("round trip:\n%+v\n%+v", f, g)
	}
	if d := parsePathForm(url.Values{"start": {"A"}}).values().Encode(); d != "start=A" {
		t.Errorf("defaults in the URL: %s", d)
	}
	var hidden []string
	for _, h := range f.Hidden() {
		hidden = append(hidden, h.Name+"="+h.Value)
	}
	if want := []string{"steps=A", "steps=B", "window=2", "unit=h", "after_step=1"}; !slices.Equal(hidden, want) {
		t.Errorf("hidden %v, want %v", hidden, want)
	}
}

// regexpAll returns the first group of every match of re in s.
func regexpAll(s, re string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(s, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}
