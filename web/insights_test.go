package web

import (
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

// newInsightsEnv is the analytics UI with the insights page.
func newInsightsEnv(t *testing.T) *customersEnv {
	t.Helper()
	e := newAnalyticsEnv(t)
	e.web.insightRoutes(e.web.analytics)
	return e
}

// spikeShop sends 60 days of a shop's website (1 January to 1 March 2026,
// in the workspace's time zone, Asia/Ho_Chi_Minh): every day 20 messages
// received by Zalo (seven times as many, 140, on 10, 11 and 12 February),
// and five shoppers who view a product, three of whom add it to the cart
// and one of whom orders.
func (e *customersEnv) spikeShop() {
	e.t.Helper()
	ws := e.workspace().ID
	web := e.createSource("Website", opstore.Website)
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		e.t.Fatal(err)
	}
	day0 := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	var msgs []event.Message
	track := func(user, name string, at time.Time) {
		msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Track, Event: name, UserID: user, Timestamp: at.UTC()})
	}
	for d := range 60 {
		day := day0.AddDate(0, 0, d)
		n := 18 + d%5
		if day.Month() == time.February && day.Day() >= 10 && day.Day() <= 12 {
			n = 140
		}
		for i := range n {
			track(fmt.Sprintf("z%02d-%03d", d, i), "Zalo Message Received", day.Add(8*time.Hour+time.Duration(i)*time.Minute))
		}
		for i := range 5 {
			user := fmt.Sprintf("s%02d-%d", d, i)
			t0 := day.Add(time.Duration(10+i) * time.Hour)
			track(user, "Product Viewed", t0)
			if i < 3 {
				track(user, "Product Added", t0.Add(5*time.Minute))
			}
			if i < 1 {
				track(user, "Order Completed", t0.Add(20*time.Minute))
			}
		}
	}
	e.appendEvents(msgs...)
	e.settle()
}

const spikePeriod = "period=custom&from=2026-01-01&to=2026-03-01"

// cardOf is the card of the feed whose kind is kind, with the text it
// holds (the first if several), or "".
func cardOf(body, kind, holds string) string {
	for _, m := range regexp.MustCompile(`(?s)<li class="card ins-card ins-`+kind+`".*?</li>`).FindAllString(body, -1) {
		if strings.Contains(html.UnescapeString(m), holds) {
			return m
		}
	}
	return ""
}

func TestInsightsPage(t *testing.T) {
	// No events: the page says nothing was found.
	bare := newInsightsEnv(t)
	expect(t, bare.setup().get("/analytics/insights"), http.StatusOK, i18n.T("vi", "insights.title"), i18n.T("vi", "insights.how"),
		i18n.T("vi", "insights.none_title"), `href="/analytics/insights" aria-current="page"`)

	e := newInsightsEnv(t)
	c := e.setup()
	e.spikeShop()
	r := c.get("/analytics/insights?" + spikePeriod)
	expect(t, r, http.StatusOK, i18n.T("vi", "insights.range", "01/01/2026", "01/03/2026", "Asia/Ho_Chi_Minh"),
		`data-csv="cjm-insights.csv"`, i18n.T("vi", "insights.kind_spike"))
	expectNot(t, r, i18n.T("vi", "insights.none_title"))

	// The spike: three days at seven times the usual level.
	spike := cardOf(r.body, "spike", "Zalo Message Received")
	if spike == "" {
		t.Fatalf("no spike card of Zalo Message Received:\n%s", clip(r.body[strings.Index(r.body, "ins-feed"):]))
	}
	text := html.UnescapeString(spike)
	for _, want := range []string{
		"<strong>Zalo Message Received</strong>", i18n.T("vi", "insights.when_days", "10/02/2026", "12/02/2026"),
		"<strong>140</strong>", `class="ins-bars"`, `href="/events?event=Zalo+Message+Received"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("spike card lacks %q:\n%s", want, text)
		}
	}
	if !regexpMatch(text, `nhiều hơn thường lệ 3\d\d sự kiện`) {
		t.Errorf("spike card: no excess of about 360 events:\n%s", text)
	}
	// Its day-by-day link is the funnel of the event by day, from four
	// weeks before to a week after.
	daily := html.UnescapeString(regexp1(t, spike, `href="(/analytics/funnel\?[^"]+)"`))
	u, err := url.Parse(daily)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"steps": {"Zalo Message Received"}, "period": {"custom"}, "from": {"2026-01-13"}, "to": {"2026-02-19"}, "interval": {"day"}}
	if got := u.Query(); got.Encode() != want.Encode() {
		t.Errorf("day-by-day link %s, want the query %s", daily, want.Encode())
	}
	f := c.get(daily)
	expect(t, f, http.StatusOK, `data-chart="an-spec-over"`, i18n.T("vi", "funnel.over_title"))
	// The 140 people of 10 February in the table of days.
	if !regexpMatch(f.body, `(?s)<th scope="row">10/02</th>\s*<td[^>]*data-csv-value="140"`) {
		t.Errorf("the funnel by day does not show 140 on 10/02:\n%s", clip(f.body[strings.Index(f.body, "an-over-h"):]))
	}

	// The weakest step of the shop's journey, with the funnel that shows
	// it and the paths after the drop-off.
	weak := cardOf(r.body, "weak", "Product Added → Order Completed")
	if weak == "" {
		t.Fatalf("no weak step Product Added → Order Completed:\n%s", clip(r.body[strings.Index(r.body, "ins-feed"):]))
	}
	funnel := html.UnescapeString(regexp1(t, weak, `href="(/analytics/funnel\?[^"]+)"`))
	wantFunnel := "/analytics/funnel?" + url.Values{"steps": {"Product Viewed", "Product Added", "Order Completed"}, "window": {"7"},
		"period": {"custom"}, "from": {"2026-01-01"}, "to": {"2026-03-01"}}.Encode()
	if funnel != wantFunnel {
		t.Errorf("funnel link %s, want %s", funnel, wantFunnel)
	}
	expect(t, c.get(funnel), http.StatusOK, `"values":[300,180,60]`)
	paths := html.UnescapeString(regexp1(t, weak, `href="(/analytics/paths\?[^"]+)"`))
	if !strings.Contains(paths, "after_step=2") || !strings.Contains(paths, "steps=Product+Viewed&steps=Product+Added&steps=Order+Completed") {
		t.Errorf("paths link %s", paths)
	}
	if e.web.serves("/analytics/paths") {
		expect(t, c.get(paths), http.StatusOK)
	}
	// 33% of those who add to the cart order: 120 stop there.
	for _, want := range []string{"<strong>33%</strong>", i18n.N("vi", "insights.lost", 120)} {
		if !strings.Contains(html.UnescapeString(weak), want) {
			t.Errorf("weak card lacks %q:\n%s", want, weak)
		}
	}
	// The table holds the same findings, with raw numbers for CSV.
	expect(t, r, http.StatusOK, `<td class="ins-date">2026-02-10</td>`, `<td class="ins-date">2026-02-12</td>`)

	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	r = c.get("/analytics/insights?" + spikePeriod)
	expect(t, r, http.StatusOK, i18n.T("en", "insights.title"), i18n.T("en", "insights.kind_spike"),
		i18n.T("en", "insights.when_days", "Feb 10, 2026", "Feb 12, 2026"), i18n.T("en", "insights.link_funnel"))
	if !regexpMatch(html.UnescapeString(r.body), `3\d\d events more than usual`) {
		t.Error("English spike sentence: no excess of about 360 events")
	}
}

func TestInsightsErrors(t *testing.T) {
	e := newInsightsEnv(t)
	c := e.setup()
	e.spikeShop()
	for _, tc := range []struct {
		query, field, want string
	}{
		{"period=custom&from=2026-13-01", "from", i18n.T("vi", "funnel.err_date")},
		{"period=custom", "from", i18n.T("vi", "funnel.err_dates")},
		{"period=custom&from=2026-03-02&to=2026-03-01", "to", i18n.T("vi", "funnel.err_date_order")},
		{"period=custom&from=2099-01-01", "to", i18n.T("vi", "insights.err_today")},
		{"period=week", "period", i18n.T("vi", "funnel.err_choice")},
		{"steps=Product+Viewed", "steps", i18n.T("vi", "insights.err_steps_two")},
		{"steps=" + url.QueryEscape(strings.Repeat("A\n", 11)), "steps", i18n.T("vi", "funnel.err_steps_max", 10)},
		{"breakdowns=a,b,c,d,e,f", "breakdowns", i18n.T("vi", "insights.err_breakdowns_max", 5)},
	} {
		r := c.get("/analytics/insights?" + tc.query)
		expect(t, r, http.StatusUnprocessableEntity, tc.want, `aria-invalid="true"`, `id="`+tc.field+`-err"`)
		expectNot(t, r, `class="ins-feed"`, i18n.T("vi", "insights.none_title"))
	}
	// Custom steps are one a line; a shared URL may repeat them.
	r := c.get("/analytics/insights?" + spikePeriod + "&steps=" + url.QueryEscape("Product Viewed\r\nOrder Completed"))
	expect(t, r, http.StatusOK, "Product Viewed\nOrder Completed</textarea>")
	if cardOf(r.body, "weak", "Product Viewed → Order Completed") == "" {
		t.Error("no weak step of the custom journey")
	}
	r = c.get("/analytics/insights?" + spikePeriod + "&steps=Product+Viewed&steps=Product+Added")
	expect(t, r, http.StatusOK, "Product Viewed\nProduct Added</textarea>")
}

// Event names are data: a sentence escapes them, and only its own
// emphasis is HTML.
func TestInsightSentence(t *testing.T) {
	h, text := richText("en", "insights.s_spike", strong(`<img src=x onerror=alert(1)>`), "on Feb 10, 2026", strong("140"), "20", "7", "120 events more than usual")
	if strings.Contains(string(h), "<img") || !strings.Contains(string(h), "<strong>&lt;img src=x onerror=alert(1)&gt;</strong> spiked on Feb 10, 2026: up to <strong>140</strong> a day") {
		t.Errorf("HTML %s", h)
	}
	if text != "<img src=x onerror=alert(1)> spiked on Feb 10, 2026: up to 140 a day against a usual 20 a day (×7), 120 events more than usual." {
		t.Errorf("text %q", text)
	}
	for _, tc := range []struct {
		x    float64
		lang string
		want string
	}{{0.4, "vi", "0,4"}, {7, "vi", "7"}, {5.64, "vi", "5,6"}, {1234.6, "vi", "1.235"}, {1234.6, "en", "1,235"}, {12.3, "en", "12"}} {
		if got := insightCount(tc.lang, tc.x); got != tc.want {
			t.Errorf("insightCount(%s, %v) = %q, want %q", tc.lang, tc.x, got, tc.want)
		}
	}
	for w, want := range map[time.Duration][2]string{0: {"14", "d"}, 7 * 24 * time.Hour: {"7", "d"}, 90 * time.Minute: {"90", "m"}, 3 * time.Hour: {"3", "h"}} {
		if n, u := windowParts(w); n != want[0] || u != want[1] {
			t.Errorf("windowParts(%v) = %s %s, want %v", w, n, u, want)
		}
	}
}
