package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// retentionShop sends two weekly cohorts, at noon in Hà Nội (the
// workspace's time zone). The week of Monday 2 March 2026: r1-r4 visit the
// website on the 3rd; r1 and r2 come back the week after, r3 the week after
// that, r4 never. The week of 9 March: r5 and r6 visit a shop
// (POS) on the 10th; r5 comes back the week after. The last event is on
// 17 March: the second cohort has not reached its second week.
func (e *customersEnv) retentionShop() {
	e.t.Helper()
	ws := e.workspace().ID
	web := e.createSource("Web shop", opstore.Website)
	pos := e.createSource("Cửa hàng Q3", opstore.POS)
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		e.t.Fatal(err)
	}
	var msgs []event.Message
	visit := func(src opstore.Source, user string, day int) {
		msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "Order Completed", UserID: user,
			Timestamp: time.Date(2026, 3, day, 12, 0, 0, 0, loc)})
	}
	for _, u := range []string{"r1", "r2", "r3", "r4"} {
		visit(web, u, 3)
	}
	visit(web, "r1", 10)
	visit(web, "r2", 11)
	visit(web, "r3", 16)
	visit(pos, "r5", 10)
	visit(pos, "r6", 10)
	visit(pos, "r5", 17)
	e.appendEvents(msgs...)
	e.settle()
}

const retentionMarch = "/analytics/retention?period=custom&from=2026-03-02&to=2026-03-31&periods=4"

// cohortCells returns the CSV values of the cohort table's row whose
// header is label: the size, then the rate of every period.
func cohortCells(t *testing.T, body, label string) []string {
	t.Helper()
	row := regexp1(t, body, `(?s)<tr>\s*<th scope="row">`+regexp.QuoteMeta(label)+`</th>(.*?)</tr>`)
	return regexpAll(row, `data-csv-value="([^"]*)"`)
}

func TestRetentionPage(t *testing.T) {
	// No events: nobody started.
	bare := newPathsEnv(t)
	expect(t, bare.setup().get("/analytics/retention"), http.StatusOK, i18n.T("vi", "retention.title"), i18n.T("vi", "retention.nobody"),
		`href="/analytics/retention" aria-current="page"`)

	e := newPathsEnv(t)
	c := e.setup()
	e.retentionShop()
	r := c.get(retentionMarch)
	expect(t, r, http.StatusOK, "Sau 2 tuần, 25,0% khách còn quay lại.", `data-csv="cjm-retention.csv"`,
		`data-chart="an-spec-heatmap"`, `data-chart="an-spec-curve"`, "Tuần 02/03", "Tuần 09/03", i18n.T("vi", "retention.week_n", 3),
		i18n.T("vi", "retention.basis_first_time", i18n.T("vi", "retention.any_activity"), i18n.T("vi", "retention.any_activity")),
		i18n.T("vi", "retention.heatmap_from1"), `title="2 trên 4 khách"`)
	for label, want := range map[string]string{
		"Tuần 02/03":                      "4 100.0 50.0 25.0 ",
		"Tuần 09/03":                      "2 100.0 50.0  ",
		i18n.T("vi", "retention.average"): "6 100.0 50.0 25.0 ",
		i18n.T("vi", "retention.churn"):   "  50.0 50.0 ",
	} {
		if got := strings.Join(cohortCells(t, r.body, label), " "); got != want {
			t.Errorf("row %s: %q, want %q", label, got, want)
		}
	}
	// The heatmap starts at week 1 (week 0 is everyone); the cells of the
	// weeks not reached yet are left out.
	var hm chartSpec
	src := html.UnescapeString(regexp1(t, r.body, `(?s)<script type="application/json" id="an-spec-heatmap">(.*?)</script>`))
	if err := json.Unmarshal([]byte(src), &hm); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hm.Labels, hm.Y, hm.Cells) != "[Tuần 1 Tuần 2 Tuần 3] [02/03 · 4 09/03 · 2] [[0 0 50] [1 0 25] [0 1 50]]" || hm.Unit != "%" {
		t.Errorf("heatmap %s", src)
	}

	// Rolling: back in week N or any later one.
	r = c.get(retentionMarch + "&rolling=1")
	if got := strings.Join(cohortCells(t, r.body, "Tuần 02/03"), " "); got != "4 100.0 75.0 25.0 " {
		t.Errorf("rolling: %q", got)
	}
	// By channel: the channel of each person's first event.
	r = c.get(retentionMarch + "&cohort=channel")
	expect(t, r, http.StatusOK, i18n.T("vi", "retention.cohort_channel"))
	if got := strings.Join(cohortCells(t, r.body, i18n.T("vi", "channel.pos")), " "); got != "2 100.0 50.0  " {
		t.Errorf("by channel, POS: %q", got)
	}
	if got := strings.Join(cohortCells(t, r.body, "Website"), " "); got != "4 100.0 50.0 25.0 " {
		t.Errorf("by channel, website: %q", got)
	}
	// Monthly: one cohort, March, whose first month is not over.
	r = c.get(retentionMarch + "&interval=month")
	expect(t, r, http.StatusOK, "03/2026", i18n.T("vi", "retention.summary_none"))
	// No one started in the period.
	expect(t, c.get("/analytics/retention?period=custom&from=2025-01-01&to=2025-01-31"), http.StatusOK, i18n.T("vi", "retention.nobody"))

	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	r = c.get(retentionMarch)
	expect(t, r, http.StatusOK, i18n.T("en", "retention.title"), "After 2 weeks, 25.0% of customers come back.", "Week of Mar 2", "Week 1",
		`title="2 of 4 customers"`)
	expect(t, c.get(strings.Replace(retentionMarch, "periods=4", "periods=2", 1)), http.StatusOK, "After 1 week, 50.0% of customers come back.")
}

func TestRetentionErrors(t *testing.T) {
	e := newPathsEnv(t)
	c := e.setup()
	e.retentionShop()
	for _, tc := range []struct {
		query, field, want string
	}{
		{"&interval=year", "interval", i18n.T("vi", "funnel.err_choice")},
		{"&periods=0", "periods", i18n.T("vi", "retention.err_periods", maxRetentionPeriods)},
		{"&periods=61", "periods", i18n.T("vi", "retention.err_periods", maxRetentionPeriods)},
		{"&periods=x", "periods", i18n.T("vi", "retention.err_periods", maxRetentionPeriods)},
		{"&mode=sometimes", "mode", i18n.T("vi", "funnel.err_choice")},
		{"&cohort=city", "cohort", i18n.T("vi", "funnel.err_choice")},
		{"&cohort=property", "field", i18n.T("vi", "retention.err_field_empty")},
		{"&cohort=property&field=" + url.QueryEscape("two words"), "field", i18n.T("vi", "funnel.err_field", "two words")},
		{"&period=forever", "period", i18n.T("vi", "funnel.err_choice")},
		{"&from=2026-04-01", "to", i18n.T("vi", "funnel.err_date_order")},
	} {
		r := c.get("/analytics/retention?to=2026-03-31" + tc.query)
		expect(t, r, http.StatusUnprocessableEntity, tc.want, `class="field-error"`, `aria-invalid="true"`)
		if !strings.Contains(r.body, `id="`+tc.field+`-err"`) {
			t.Errorf("%s: the error is not by the field %s", tc.query, tc.field)
		}
		expectNot(t, r, `data-chart=`)
	}
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get(retentionMarch+"&interval=year"), http.StatusUnprocessableEntity, i18n.T("en", "funnel.err_choice"))
}

func TestRetentionFormRoundTrip(t *testing.T) {
	v := url.Values{"start": {" Signed Up "}, "return": {"Order Completed"}, "interval": {"month"}, "periods": {"6"}, "mode": {"recurring"},
		"rolling": {"1"}, "cohort": {"property"}, "field": {"platform"}, "period": {"all"}}
	f := parseRetentionForm(v)
	if f.Start != "Signed Up" || !f.Rolling || f.Field != "platform" {
		t.Errorf("parsed %+v", f)
	}
	if g := parseRetentionForm(f.values()); fmt.Sprint(g) != fmt.Sprint(f) {
		t.Errorf("round trip:\n%+v\n%+v", f, g)
	}
	if d := parseRetentionForm(url.Values{}).values().Encode(); d != "" {
		t.Errorf("defaults in the URL: %s", d)
	}
}
