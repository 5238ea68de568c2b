package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// newKPIEnv is the UI with the KPI pages over a real event index (people
// counted by user id) and the real SQLite analytics store.
func newKPIEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.web.kpiRoutes(analytics.NewIndexes(e.events, nil))
	return e
}

// kpiShop stores the events of three customers of two sources: u1 came in
// February and orders 200.000 in March; u2 signs up, adds to cart and
// orders 100.000 then 150.000; u3 orders 80.000 on Shopee. And the spend:
// 1.400.000 on the website and 700.000 on Shopee over the period.
func kpiShop(t *testing.T, e *env) {
	t.Helper()
	ws := e.workspace().ID
	web := e.createSource("Website", opstore.Website)
	shop := e.createSource("Shopee Mall", opstore.Marketplace)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Add(5 * time.Hour) // noon in Hà Nội
	}
	ev := func(src opstore.Source, user, name, day, props string) event.Message {
		m := event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: name, UserID: user, Timestamp: at(day)}
		if props != "" {
			m.Properties = json.RawMessage(props)
		}
		return m
	}
	e.appendEvents(
		ev(web, "u1", "Page Viewed", "2026-02-20", ""),
		ev(web, "u1", "Order Completed", "2026-03-03", `{"revenue":200000}`),
		ev(web, "u2", "Signed Up", "2026-03-04", ""),
		ev(web, "u2", "Product Added", "2026-03-05", ""),
		ev(web, "u2", "Order Completed", "2026-03-06", `{"revenue":100000}`),
		ev(web, "u2", "Order Completed", "2026-03-10", `{"revenue":150000}`),
		ev(shop, "u3", "Order Completed", "2026-03-09", `{"total":"80000"}`),
	)
	day := func(s string) time.Time { return at(s).Truncate(24 * time.Hour) }
	err := e.ops.ReplaceSpend(context.Background(), ws, []opstore.Spend{
		{Channel: "website", From: day("2026-03-02"), To: day("2026-03-16"), Amount: 1_400_000, Currency: "VND"},
		{Channel: "Shopee Mall", Campaign: "sale", From: day("2026-03-02"), To: day("2026-03-09"), Amount: 700_000, Currency: "VND"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

const kpiMarch = "/analytics/kpis?period=custom&from=2026-03-02&to=2026-03-15&interval=week"

// The dashboard shows the figures of the hand-made shop, in both
// languages, with the specs of its charts.
func TestKPIDashboard(t *testing.T) {
	e := newKPIEnv(t)
	c := e.setup()
	kpiShop(t, e)

	r := c.get(kpiMarch)
	// New: u2 and u3 (u1 arrived in February, the previous period). Spend
	// 2.100.000 over 2. Orders 4 for 530.000; first orders (u1, u2, u3)
	// average 126.667, u2's repeat order 150.000: 18,4% more.
	expect(t, r, http.StatusOK, i18n.T("vi", "kpi.title"), i18n.T("vi", "nav.kpis"),
		"02/03/2026 – 15/03/2026", "16/02/2026 – 01/03/2026",
		"2.100.000 VND", "1.050.000 VND", "530.000 VND", "132.500 VND", `<td class="num" data-csv-value="126667">126.667</td>`,
		`<td class="num" data-csv-value="150000">150.000</td>`,
		i18n.T("vi", "kpi.uplift", "+18,4%"), "50,0%", "100,0%",
		i18n.T("vi", "kpi.vs_previous", "1"), "+100,0%",
		i18n.T("vi", "channel.website"), i18n.T("vi", "channel.marketplace"), `data-csv-value="1400000">1.400.000</td>`, `data-csv-value="700000">700.000</td>`,
		`data-csv="cjm-kpi-channels.csv"`, `data-csv="cjm-kpi-repeat-vs-new.csv"`, `data-chart="kpi-spec-repeat"`,
		`data-chart="kpi-spark-new-customers"`, `id="kpi-spec-counts"`, `id="kpi-spec-rates"`)
	cards := kpiCards(t, r.body)
	for key, want := range map[string]string{"new_customers": "2", "cac": "1.050.000 VND", "orders": "4", "conversion_rate": "100,0%",
		"activation_rate": "50,0%", "repeat_uplift": "18,4%", "active": "3", "nps": "—", "spend": "2.100.000 VND"} {
		if cards[key] != want {
			t.Errorf("card %s = %q, want %q", key, cards[key], want)
		}
	}
	// The spark of new customers: one point per week, 1 and 1.
	spec := kpiSpec(t, r.body, "kpi-spark-new-customers")
	if spec.Kind != "kpi" || len(spec.Labels) != 2 || len(spec.Series) != 1 || len(spec.Series[0].Data) != 2 ||
		*spec.Series[0].Data[0] != 1 || *spec.Series[0].Data[1] != 1 {
		t.Errorf("spark: %+v", spec)
	}
	if spec := kpiSpec(t, r.body, "kpi-spec-repeat"); spec.Kind != "bars" || *spec.Series[0].Data[1] != 150000 {
		t.Errorf("repeat chart: %+v", spec)
	}

	c.post("/lang", url.Values{"lang": {"en"}})
	r = c.get(kpiMarch)
	expect(t, r, http.StatusOK, "Mar 2, 2026 – Mar 15, 2026", "530,000 VND", i18n.T("en", "kpi.uplift", "+18.4%"),
		i18n.T("en", "channel.marketplace"), i18n.T("en", "kpi.m_cac"))

	// A bad date is said next to its field; the presets all work.
	r = c.get("/analytics/kpis?period=custom&from=31/02/2026")
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("en", "kpi.err_date"))
	for _, p := range kpiPeriods[:len(kpiPeriods)-1] {
		expect(t, c.get("/analytics/kpis?period="+p), http.StatusOK, i18n.T("en", "kpi.m_new_customers"))
	}
	expect(t, c.get("/analytics/kpis?period=forever"), http.StatusUnprocessableEntity, i18n.T("en", "kpi.err_choice"))
	expect(t, c.get("/analytics/kpis?period=custom&from=2020-01-01&to=2026-01-01&interval=day"), http.StatusUnprocessableEntity,
		i18n.T("en", "kpi.err_too_many_points"))
}

// kpiCards reads the value of each KPI card of a page.
func kpiCards(t *testing.T, body string) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`(?s)data-kpi="([a-z_]+)">.*?<span class="kpi-value">([^<]*)</span>`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	if len(out) != len(analytics.KPIMetrics) {
		t.Errorf("%d cards, want %d", len(out), len(analytics.KPIMetrics))
	}
	return out
}

// kpiSpec reads the chart spec of id from a page.
func kpiSpec(t *testing.T, body, id string) chartSpec {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="` + id + `">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no spec %s", id)
	}
	var spec chartSpec
	if err := json.Unmarshal([]byte(m[1]), &spec); err != nil {
		t.Fatalf("spec %s: %v\n%s", id, err, m[1])
	}
	return spec
}

// The settings form says what is wrong with each field, in the user's
// language, and saves what is right.
func TestKPISettingsValidation(t *testing.T) {
	e := newKPIEnv(t)
	c := e.setup()
	r := c.get("/analytics/kpis/settings")
	expect(t, r, http.StatusOK, i18n.T("vi", "kpi.settings_title"), i18n.T("vi", "kpi.defaults_note"), `value="Order Completed"`, `value="VND"`)

	bad := url.Values{"purchase_event": {" "}, "revenue_property": {"revenue"}, "currency": {"dong"},
		"activation_events": {"Product Added\r\nProduct Added"}, "nps_event": {"Survey Answered"}, "nps_property": {""}}
	for _, lang := range i18n.Langs {
		c.get("/analytics/kpis/settings")
		c.post("/lang", url.Values{"lang": {lang}})
		c.get("/analytics/kpis/settings")
		r = c.post("/analytics/kpis/settings", bad)
		expect(t, r, http.StatusUnprocessableEntity, i18n.T(lang, "kpi.err_required"), i18n.T(lang, "kpi.err_currency"),
			i18n.T(lang, "kpi.err_duplicate", "Product Added"), `id="purchase_event-err"`, `id="nps_property-err"`, `id="currency-err"`,
			`id="activation_events-err"`)
		expectNot(t, r, `id="revenue_property-err"`)
	}
	ws := e.workspace().ID
	if k, _ := e.ops.KPISettings(context.Background(), ws); !k.UpdatedAt.IsZero() {
		t.Errorf("invalid settings were saved: %+v", k)
	}

	good := url.Values{"purchase_event": {"Đặt hàng"}, "revenue_property": {"properties.tong_tien"}, "currency": {"usd"},
		"activation_events": {"Product Added\nWishlist Added\n"}, "signup_events": {""}, "referral_event": {"Referral Sent"},
		"nps_event": {""}, "nps_property": {""}}
	r = c.post("/analytics/kpis/settings", good)
	expect(t, r, http.StatusSeeOther)
	k, err := e.ops.KPISettings(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if k.PurchaseEvent != "Đặt hàng" || k.RevenueProperty != "tong_tien" || k.Currency != "USD" || len(k.ActivationEvents) != 2 ||
		len(k.SignupEvents) != 0 || k.UpdatedAt.IsZero() || k.UpdatedBy == "" {
		t.Errorf("saved %+v", k)
	}
	expect(t, c.get("/analytics/kpis/settings"), http.StatusOK, i18n.T("en", "flash.kpi_settings_saved"), `value="tong_tien"`, "Wishlist Added")
}

// A spend file with a bad line stores its good rows and lists the bad
// one; a row can be deleted.
func TestKPISpendUpload(t *testing.T) {
	e := newKPIEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	c.get("/analytics/kpis/settings")
	file := strings.Join([]string{
		"Kênh,Chiến dịch,Từ ngày,Đến ngày,Chi phí (VNĐ)",
		"Website,,02/03/2026,15/03/2026,1.400.000",
		"Shopee Mall,sale,02/03/2026,08/03/2026,700000",
		"Facebook,,31/02/2026,15/03/2026,100000",
	}, "\r\n")
	r := c.upload("/analytics/kpis/spend", nil, "chi-phi.csv", []byte(file))
	expect(t, r, http.StatusOK, i18n.N("vi", "kpi.upload_stored", 2, "2", "chi-phi.csv"), i18n.N("vi", "kpi.upload_problems", 1),
		i18n.T("vi", "kpi.line", 4)+" · "+i18n.T("vi", "kpi.col_from"), "Shopee Mall", "1.400.000 VND")
	rows, err := e.ops.ListSpend(context.Background(), ws, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Channel != "Shopee Mall" || rows[1].Amount != 1_400_000 {
		t.Fatalf("stored %+v", rows)
	}

	// A good file: back to the page with a flash.
	r = c.upload("/analytics/kpis/spend", nil, "spend.csv", []byte("channel,from,to,amount\nZalo,2026-03-01,2026-03-31,300000\n"))
	expect(t, r, http.StatusSeeOther)
	// No file, a file that is no spend file.
	expect(t, c.upload("/analytics/kpis/spend", nil, "", nil), http.StatusUnprocessableEntity, i18n.T("vi", "kpi.err_file"))
	expect(t, c.upload("/analytics/kpis/spend", nil, "x.csv", []byte("a,b\n1,2\n")), http.StatusUnprocessableEntity, i18n.T("vi", "kpi.line", 1))

	r = c.get("/analytics/kpis/settings")
	expect(t, r, http.StatusOK, "Zalo", "300.000 VND", `action="/analytics/kpis/spend/delete"`)
	r = c.post("/analytics/kpis/spend/delete", url.Values{"channel": {"Shopee Mall"}, "campaign": {"sale"}, "from": {"2026-03-02"}})
	expect(t, r, http.StatusSeeOther)
	expect(t, c.post("/analytics/kpis/spend/delete", url.Values{"channel": {"Shopee Mall"}, "campaign": {"sale"}, "from": {"2026-03-02"}}),
		http.StatusNotFound)
	if rows, _ := e.ops.ListSpend(context.Background(), ws, time.Time{}, time.Time{}); len(rows) != 2 {
		t.Errorf("after the delete: %+v", rows)
	}
	expect(t, c.get("/analytics/kpis/settings"), http.StatusOK, i18n.T("vi", "flash.kpi_spend_deleted"))
}

// A viewer reads the dashboard and the settings but cannot change them.
func TestKPIViewerCannotSave(t *testing.T) {
	e := newKPIEnv(t)
	owner := e.setup()
	kpiShop(t, e)
	viewer := e.addMember(owner, "Lan", "lan@example.vn", opstore.Viewer)
	ws := e.workspace().ID

	expect(t, viewer.get(kpiMarch), http.StatusOK, "530.000 VND")
	r := viewer.get("/analytics/kpis/settings")
	expect(t, r, http.StatusOK, i18n.T("vi", "kpi.viewer"), i18n.T("vi", "kpi.spend_viewer"), "<fieldset disabled>")
	expectNot(t, r, `action="/analytics/kpis/spend/delete"`, `enctype="multipart/form-data"`)

	r = viewer.post("/analytics/kpis/settings", url.Values{"purchase_event": {"Mua"}, "revenue_property": {"revenue"}, "currency": {"VND"}})
	expect(t, r, http.StatusForbidden)
	r = viewer.upload("/analytics/kpis/spend", nil, "spend.csv", []byte("channel,from,to,amount\nZalo,2026-03-01,2026-03-31,300000\n"))
	expect(t, r, http.StatusForbidden)
	r = viewer.post("/analytics/kpis/spend/delete", url.Values{"channel": {"website"}, "from": {"2026-03-02"}})
	expect(t, r, http.StatusForbidden)

	k, err := e.ops.KPISettings(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := e.ops.ListSpend(context.Background(), ws, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if k.PurchaseEvent != opstore.DefaultPurchaseEvent || len(rows) != 2 {
		t.Errorf("a viewer changed the settings (%q) or the spend (%d rows)", k.PurchaseEvent, len(rows))
	}
}

// Every catalog key the KPI pages build from a name is in the catalog.
func TestKPIKeysInCatalog(t *testing.T) {
	var keys []string
	for _, m := range analytics.KPIMetrics {
		keys = append(keys, kpiKey("m", m.Key), kpiKey("h", m.Key))
	}
	for _, s := range analytics.KPIStages {
		keys = append(keys, kpiKey("stage", s))
	}
	for _, p := range kpiPeriods {
		keys = append(keys, kpiKey("period", p))
	}
	for _, iv := range []string{"day", "week", "month"} {
		keys = append(keys, kpiKey("interval", iv))
	}
	for _, c := range []string{"channel", "campaign", "from", "to", "amount", "currency"} {
		keys = append(keys, kpiKey("col", c))
	}
	for _, r := range []string{"first", "repeat"} {
		keys = append(keys, kpiKey("repeat", r))
	}
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("catalog lacks %q", k)
		}
	}
}
