package web

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

// The KPI pages: the dashboard of the AARRR KPIs (acquisition,
// activation, revenue, retention, referral, and NPS) of a period against
// the period before, with a sparkline per KPI, the figures per acquisition
// channel, repeat against first orders and the trend; and their settings:
// which events and properties the KPIs read, and the marketing spend the
// CAC is computed from. The dashboard is a GET form, so its URL can be
// shared. The definitions are analytics.KPIs'.

// kpiPages serve the KPIs over the workspaces' event indexes and the
// analytics store (settings and spend).
type kpiPages struct {
	*server
	ix *analytics.Indexes
	st opstore.AnalyticsStore
}

// kpiRoutes registers the KPI pages; they need an operational store that
// keeps KPI settings and spend.
func (s *server) kpiRoutes(ix *analytics.Indexes) {
	st, ok := s.ops.(opstore.AnalyticsStore)
	if !ok {
		s.log.Warn("web: the operational store keeps no KPI settings: the KPI pages are off")
		return
	}
	k := &kpiPages{server: s, ix: ix, st: st}
	s.route("GET /analytics/kpis", member, "", k.dashboard)
	s.route("GET /analytics/kpis/settings", member, "", k.settingsPage)
	s.route("POST /analytics/kpis/settings", member, opstore.Editor, k.saveSettings)
	s.uploadRoute("POST /analytics/kpis/spend", opstore.Editor, k.uploadSpend)
	s.route("POST /analytics/kpis/spend/delete", member, opstore.Editor, k.deleteSpend)
}

// The dashboard.

// kpiPeriods are the period choices: the last 7, 30 or 90 days up to
// today, this month, last month, this quarter and this year (up to today)
// and custom dates.
var kpiPeriods = []string{"7", "30", "90", "month", "last_month", "quarter", "year", "custom"}

// kpiForm is the dashboard's query string as entered.
type kpiForm struct {
	Period   string
	From, To string // YYYY-MM-DD in the workspace's time zone, both days in
	Interval string // day, week, month; "" picks one from the period
	Filter   filterForm
}

func parseKPIForm(v url.Values) kpiForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := kpiForm{Period: g("period"), From: g("from"), To: g("to"), Interval: g("interval"), Filter: parseFilterForm(v)}
	if f.Period == "" {
		f.Period = "30"
		if f.From != "" || f.To != "" {
			f.Period = "custom"
		}
	}
	return f
}

// values is the form as a query string's values, the defaults left out.
func (f kpiForm) values() url.Values {
	v := url.Values{}
	if f.Period != "30" {
		v.Set("period", f.Period)
	}
	if f.Period == "custom" {
		for k, val := range map[string]string{"from": f.From, "to": f.To} {
			if val != "" {
				v.Set(k, val)
			}
		}
	}
	if f.Interval != "" {
		v.Set("interval", f.Interval)
	}
	f.Filter.addTo(v)
	return v
}

type kpiData struct {
	Form     kpiForm
	F        *form // errors by field, already in the page's language
	Periods  []string
	Zone     string
	R        *kpiView // nil when the form has errors
	Settings opstore.KPISettings
	Filter   *filterBlock
}

// kpiView is a report as the dashboard shows it.
type kpiView struct {
	Range, PrevRange string
	Currency         string
	Interval         string
	Stages           []kpiStage
	Channels         []kpiChannelRow
	Unmatched        []kpiAmount
	OtherCurrency    int
	NoSpend          bool // no spend overlaps the period: CAC needs an upload
	Repeat           []kpiRepeatRow
	Uplift           string // "" when there is none
	RepeatChart      *chartSpec
	CountsChart      *chartSpec
	RevenueChart     *chartSpec
	RatesChart       *chartSpec
	Points           []kpiPointRow
	Metrics          []string // the metrics' keys, for the definitions
}

type kpiStage struct {
	Key   string
	Cards []kpiCard
}

// kpiCard is one KPI: its value, the previous period's, the change and a
// sparkline over the period's intervals.
type kpiCard struct {
	Key       string
	Value     string
	Previous  string
	Change    string // "" when there is nothing to compare
	Direction string // up, down or flat
	Tone      string // good, bad or "" (no change, or nothing better)
	SparkID   string
	Spark     *chartSpec // nil with fewer than two intervals
}

type kpiChannelRow struct {
	Label                                      string
	New, Activated, Active, Purchasers, Orders int64
	Spend, CAC, Revenue                        string
	SpendRaw, CACRaw, RevenueRaw               string
	HasSpend                                   bool
}

type kpiAmount struct{ Channel, Amount string }

type kpiRepeatRow struct {
	Key                string // first or repeat
	Orders, Buyers     int64
	Revenue, AOV       string
	RevenueRaw, AOVRaw string
}

type kpiPointRow struct {
	Label                                   string
	New, Active, Purchasers, Orders         int64
	Revenue, Conversion, Retention          string
	RevenueRaw, ConversionRaw, RetentionRaw string
}

func (k *kpiPages) dashboard(q *req) error {
	f := parseKPIForm(q.r.URL.Query())
	d := &kpiData{Form: f, F: newForm(nil), Periods: kpiPeriods}
	pg := q.page("kpi.title", "nav.kpis", d)
	d.Zone = pg.Zone()
	fail := func(field, key string, args ...any) { d.F.Fail(field, i18n.T(q.lang, key, args...)) }
	flt, block, errs, err := k.parseFilter(q, f.Filter, d.F, "/analytics/kpis", f.values())
	if err != nil {
		return err
	}
	d.Filter = block
	for field, m := range errs {
		fail(field, m.Key, m.Args...)
	}
	from, to := k.kpiPeriod(q, f, fail)
	kq := analytics.KPIQuery{From: from, To: to, Location: q.loc}
	switch f.Interval {
	case "":
		kq.Interval = autoInterval(from, to)
	case "day", "week", "month":
		kq.Interval = analytics.Interval(f.Interval)
	default:
		fail("interval", "kpi.err_choice")
	}
	if d.Settings, err = k.st.KPISettings(q.ctx, q.ws.ID); err != nil {
		return err
	}
	if !d.F.OK() {
		k.render(q, http.StatusUnprocessableEntity, "kpis", pg)
		return nil
	}
	kq.Settings = d.Settings
	if kq.Spend, err = k.st.ListSpend(q.ctx, q.ws.ID, time.Time{}, time.Time{}); err != nil {
		return err
	}
	srcs, err := k.ops.Sources(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	kq.SetSources(srcs)
	v, err := filteredView(q, k.ix, flt)
	if err != nil {
		return err
	}
	res, err := v.KPIs(q.ctx, kq)
	if errors.Is(err, analytics.ErrKPI) {
		// The only way left to ask too much: a day interval over years.
		fail("interval", "kpi.err_too_many_points")
		k.render(q, http.StatusUnprocessableEntity, "kpis", pg)
		return nil
	} else if err != nil {
		return err
	}
	d.R = kpiResult(q.lang, q.loc, res)
	k.render(q, http.StatusOK, "kpis", pg)
	return nil
}

// kpiPeriod reads the period of the form: [from, to) in the workspace's
// time zone.
func (k *kpiPages) kpiPeriod(q *req, f kpiForm, fail func(field, key string, args ...any)) (from, to time.Time) {
	now := k.now().In(q.loc)
	y, m, day := now.Date()
	today := time.Date(y, m, day, 0, 0, 0, 0, q.loc)
	tomorrow := today.AddDate(0, 0, 1)
	switch f.Period {
	case "7", "30", "90":
		n, _ := strconv.Atoi(f.Period)
		return tomorrow.AddDate(0, 0, -n), tomorrow
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, q.loc), tomorrow
	case "last_month":
		first := time.Date(y, m, 1, 0, 0, 0, 0, q.loc)
		return first.AddDate(0, -1, 0), first
	case "quarter":
		return time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, q.loc), tomorrow
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, q.loc), tomorrow
	case "custom":
		date := func(field, s string) time.Time {
			t, err := time.ParseInLocation(time.DateOnly, s, q.loc)
			if err != nil || t.Year() < 1970 || t.Year() > 2999 {
				fail(field, "kpi.err_date")
				return time.Time{}
			}
			return t
		}
		if f.From == "" {
			fail("from", "kpi.err_from")
			return
		}
		from = date("from", f.From)
		to = tomorrow
		if f.To != "" {
			if to = date("to", f.To); !to.IsZero() {
				to = to.AddDate(0, 0, 1)
			}
		}
		if !from.IsZero() && !to.IsZero() && !from.Before(to) {
			fail("to", "kpi.err_date_order")
		}
		return from, to
	}
	fail("period", "kpi.err_choice")
	return
}

// kpiResult lays out a report for the page.
func kpiResult(lang string, loc *time.Location, r *analytics.KPIReport) *kpiView {
	length := r.To.Sub(r.From)
	v := &kpiView{Currency: r.Currency, Interval: string(r.Interval), OtherCurrency: r.SpendOtherCurrency,
		Range: kpiDayRange(lang, loc, r.From, r.To), PrevRange: kpiDayRange(lang, loc, r.From.Add(-length), r.From)}
	labels := make([]string, len(r.Series))
	for i, p := range r.Series {
		// The first interval is cut to the period: it starts at From.
		start := p.Start
		if start.Before(r.From) {
			start = r.From
		}
		labels[i] = kpiPointLabel(lang, r.Interval, start.In(loc))
	}
	intervalName := i18n.T(lang, kpiKey("interval", string(r.Interval)))

	// The cards, by stage, with a sparkline each.
	for _, m := range analytics.KPIMetrics {
		if len(v.Stages) == 0 || v.Stages[len(v.Stages)-1].Key != m.Stage {
			v.Stages = append(v.Stages, kpiStage{Key: m.Stage})
		}
		st := &v.Stages[len(v.Stages)-1]
		c := kpiCard{Key: m.Key, Value: kpiValue(lang, m, &r.Period, r.Currency), Previous: kpiValue(lang, m, &r.Previous, r.Currency),
			Direction: "flat", SparkID: "kpi-spark-" + strings.ReplaceAll(m.Key, "_", "-")}
		if ch, points, ok := m.Change(&r.Period, &r.Previous); ok {
			c.Change = kpiChange(lang, m, ch, points)
			switch {
			case ch > 1e-9:
				c.Direction = "up"
			case ch < -1e-9:
				c.Direction = "down"
			}
			if c.Direction != "flat" {
				c.Tone = "good"
				if (c.Direction == "down") != m.LowerIsBetter {
					c.Tone = "bad"
				}
			}
		}
		v.Metrics = append(v.Metrics, m.Key)
		if len(r.Series) > 1 {
			label := i18n.T(lang, kpiKey("m", m.Key))
			spark := &chartSpec{Kind: "kpi", Lang: lang, Labels: labels, Summary: i18n.T(lang, "kpi.spark_summary", label, intervalName)}
			series := chartSeries{Name: label}
			for _, p := range r.Series {
				series.Data = append(series.Data, kpiChartValue(m, &p.KPIFigures, r.Currency))
			}
			if m.Kind == "rate" {
				spark.Unit = "%"
			}
			spark.Series = []chartSeries{series}
			c.Spark = spark
		}
		st.Cards = append(st.Cards, c)
	}

	// Per acquisition channel.
	spent := false
	for _, ch := range r.Channels {
		row := kpiChannelRow{Label: kpiChannelLabel(lang, ch.Channel), New: ch.NewCustomers, Activated: ch.Activated, Active: ch.Active,
			Purchasers: ch.Purchasers, Orders: ch.Orders, Spend: kpiPlain(lang, ch.Spend, r.Currency), SpendRaw: kpiMajor(ch.Spend, r.Currency),
			Revenue: kpiPlain(lang, ch.Revenue, r.Currency), RevenueRaw: kpiMajor(ch.Revenue, r.Currency), CAC: "—", HasSpend: ch.Spend > 0 || ch.CAC != nil}
		if ch.CAC != nil {
			row.CAC, row.CACRaw = kpiPlain(lang, *ch.CAC, r.Currency), kpiMajor(*ch.CAC, r.Currency)
		}
		spent = spent || row.HasSpend
		v.Channels = append(v.Channels, row)
	}
	for _, u := range r.UnmatchedSpend {
		v.Unmatched = append(v.Unmatched, kpiAmount{Channel: u.Channel, Amount: money(lang, u.Amount, r.Currency)})
	}
	v.NoSpend = !spent && len(v.Unmatched) == 0 && r.Period.CAC == nil

	// Repeat against first orders.
	p := r.Period
	opt := func(x *int64) (string, string) {
		if x == nil {
			return "—", ""
		}
		return kpiPlain(lang, *x, r.Currency), kpiMajor(*x, r.Currency)
	}
	first := kpiRepeatRow{Key: "first", Orders: p.FirstOrders, Buyers: p.NewBuyers, Revenue: kpiPlain(lang, p.FirstRevenue, r.Currency),
		RevenueRaw: kpiMajor(p.FirstRevenue, r.Currency)}
	first.AOV, first.AOVRaw = opt(p.FirstAOV)
	repeat := kpiRepeatRow{Key: "repeat", Orders: p.RepeatOrders, Buyers: p.RepeatBuyers, Revenue: kpiPlain(lang, p.RepeatRevenue, r.Currency),
		RevenueRaw: kpiMajor(p.RepeatRevenue, r.Currency)}
	repeat.AOV, repeat.AOVRaw = opt(p.RepeatAOV)
	v.Repeat = []kpiRepeatRow{first, repeat}
	if p.RepeatUplift != nil {
		v.Uplift = kpiSignedPercent(lang, 100**p.RepeatUplift)
	}
	if p.FirstAOV != nil || p.RepeatAOV != nil {
		aov := func(x *int64) *float64 {
			if x == nil {
				return nil
			}
			f := kpiMajorFloat(*x, r.Currency)
			return &f
		}
		v.RepeatChart = &chartSpec{Kind: "bars", Lang: lang,
			Labels: []string{i18n.T(lang, "kpi.repeat_first"), i18n.T(lang, "kpi.repeat_repeat")},
			Series: []chartSeries{{Name: i18n.T(lang, "kpi.col_aov_in", r.Currency), Data: []*float64{aov(p.FirstAOV), aov(p.RepeatAOV)}}},
			Summary: i18n.T(lang, "kpi.repeat_summary", kpiValue(lang, kpiMetric("aov"), &analytics.KPIFigures{AOV: p.FirstAOV}, r.Currency),
				kpiValue(lang, kpiMetric("aov"), &analytics.KPIFigures{AOV: p.RepeatAOV}, r.Currency))}
	}

	// The trend.
	if len(r.Series) > 0 {
		series := func(ms ...string) []chartSeries {
			var out []chartSeries
			for _, key := range ms {
				m := kpiMetric(key)
				s := chartSeries{Name: i18n.T(lang, kpiKey("m", key))}
				for _, pt := range r.Series {
					s.Data = append(s.Data, kpiChartValue(m, &pt.KPIFigures, r.Currency))
				}
				out = append(out, s)
			}
			return out
		}
		v.CountsChart = &chartSpec{Kind: "line", Lang: lang, Labels: labels, Series: series("new_customers", "active", "purchasers", "orders"),
			Summary: i18n.T(lang, "kpi.trend_counts_summary", intervalName)}
		// Revenue, and the part of it from first and from repeat orders.
		v.RevenueChart = &chartSpec{Kind: "line", Lang: lang, Labels: labels,
			Summary: i18n.T(lang, "kpi.trend_revenue_summary", intervalName, r.Currency)}
		for _, part := range []struct {
			key string
			get func(f *analytics.KPIFigures) int64
		}{
			{"kpi.m_revenue", func(f *analytics.KPIFigures) int64 { return f.Revenue }},
			{"kpi.repeat_first", func(f *analytics.KPIFigures) int64 { return f.FirstRevenue }},
			{"kpi.repeat_repeat", func(f *analytics.KPIFigures) int64 { return f.RepeatRevenue }},
		} {
			s := chartSeries{Name: i18n.T(lang, part.key) + " (" + r.Currency + ")"}
			for _, pt := range r.Series {
				x := kpiMajorFloat(part.get(&pt.KPIFigures), r.Currency)
				s.Data = append(s.Data, &x)
			}
			v.RevenueChart.Series = append(v.RevenueChart.Series, s)
		}
		v.RatesChart = &chartSpec{Kind: "line", Lang: lang, Unit: "%", Labels: labels,
			Series:  series("conversion_rate", "activation_rate", "retention_rate"),
			Summary: i18n.T(lang, "kpi.trend_rates_summary", intervalName)}
	}
	for i, pt := range r.Series {
		row := kpiPointRow{Label: labels[i], New: pt.NewCustomers, Active: pt.Active, Purchasers: pt.Purchasers, Orders: pt.Orders,
			Revenue: kpiPlain(lang, pt.Revenue, r.Currency), RevenueRaw: kpiMajor(pt.Revenue, r.Currency),
			Conversion: kpiPercent(lang, pt.ConversionRate), Retention: kpiPercent(lang, pt.RetentionRate),
			ConversionRaw: kpiRawPercent(pt.ConversionRate), RetentionRaw: kpiRawPercent(pt.RetentionRate)}
		v.Points = append(v.Points, row)
	}
	return v
}

// kpiMetric is the metric of a key of analytics.KPIMetrics.
func kpiMetric(key string) analytics.KPIMetric {
	i := slices.IndexFunc(analytics.KPIMetrics, func(m analytics.KPIMetric) bool { return m.Key == key })
	return analytics.KPIMetrics[i]
}

// kpiValue writes metric m of f the way lang writes it.
func kpiValue(lang string, m analytics.KPIMetric, f *analytics.KPIFigures, currency string) string {
	x, ok := m.Value(f)
	if !ok {
		return "—"
	}
	switch m.Kind {
	case "money":
		return money(lang, int64(x), currency)
	case "rate":
		return kpiDecimal(lang, 100*x, 1) + "%"
	case "seconds":
		return humanDuration(lang, x)
	case "number":
		return kpiDecimal(lang, x, 2)
	case "score":
		return kpiDecimal(lang, x, 0)
	}
	return i18n.Number(lang, int64(x))
}

// kpiChange writes a change: points for a rate, a signed number for a
// score, else a percentage.
func kpiChange(lang string, m analytics.KPIMetric, change float64, points bool) string {
	switch {
	case points && m.Kind == "rate":
		return i18n.T(lang, "kpi.change_points", kpiSigned(lang, 100*change, 1))
	case points:
		return kpiSigned(lang, change, 0)
	}
	return kpiSignedPercent(lang, 100*change)
}

// kpiChartValue is metric m of f as a chart plots it: money in major
// units, rates in percent, times in minutes; nil when missing.
func kpiChartValue(m analytics.KPIMetric, f *analytics.KPIFigures, currency string) *float64 {
	x, ok := m.Value(f)
	if !ok {
		return nil
	}
	switch m.Kind {
	case "money":
		x = kpiMajorFloat(int64(x), currency)
	case "rate":
		x = math.Round(1000*x) / 10
	case "seconds":
		x = math.Round(x/6) / 10
	case "number", "score":
		x = math.Round(10*x) / 10
	}
	return &x
}

// kpiPointLabel names an interval of the series by its start.
func kpiPointLabel(lang string, iv analytics.Interval, start time.Time) string {
	if iv == analytics.Month {
		return start.Format(i18n.T(lang, "kpi.fmt_month"))
	}
	return start.Format(i18n.T(lang, "fmt.day"))
}

// kpiDayRange writes [from, to) as its first and last days.
func kpiDayRange(lang string, loc *time.Location, from, to time.Time) string {
	layout := i18n.T(lang, "kpi.fmt_date")
	return i18n.T(lang, "kpi.range", from.In(loc).Format(layout), to.Add(-time.Nanosecond).In(loc).Format(layout))
}

// kpiChannelLabel names an acquisition channel: a channel of opstore in
// lang, "" as unknown, anything else as it is.
func kpiChannelLabel(lang, ch string) string {
	switch {
	case ch == "":
		return i18n.T(lang, "kpi.channel_unknown")
	case opstore.Channel(ch).Valid():
		return i18n.T(lang, "channel."+ch)
	}
	return ch
}

// kpiDecimal writes x with digits decimals the way lang writes numbers.
func kpiDecimal(lang string, x float64, digits int) string {
	neg := x < 0
	s := strconv.FormatFloat(math.Abs(x), 'f', digits, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := i18n.Number(lang, n)
	if frac != "" {
		out += i18n.T(lang, "fmt.decimal") + frac
	}
	if neg && strings.Trim(s, "0.") != "" {
		out = "−" + out
	}
	return out
}

// kpiSigned is kpiDecimal with a sign: +1,5, −2,0, 0,0.
func kpiSigned(lang string, x float64, digits int) string {
	s := kpiDecimal(lang, x, digits)
	if !strings.HasPrefix(s, "−") && strings.Trim(strconv.FormatFloat(math.Abs(x), 'f', digits, 64), "0.") != "" {
		s = "+" + s
	}
	return s
}

// kpiSignedPercent writes a change in percent: +12,5%.
func kpiSignedPercent(lang string, pct float64) string { return kpiSigned(lang, pct, 1) + "%" }

// kpiPercent writes a rate (a fraction) in percent, "—" when missing.
func kpiPercent(lang string, x *float64) string {
	if x == nil {
		return "—"
	}
	return kpiDecimal(lang, 100**x, 1) + "%"
}

// kpiRawPercent is a rate in percent for a CSV file, "" when missing.
func kpiRawPercent(x *float64) string {
	if x == nil {
		return ""
	}
	return strconv.FormatFloat(100**x, 'f', 1, 64)
}

// kpiPlain is an amount the way money writes it, without the currency (a
// table's column names it).
func kpiPlain(lang string, minor int64, currency string) string {
	return strings.TrimSuffix(money(lang, minor, currency), " "+currency)
}

// kpiMajor writes minor units in the major unit, plainly, for CSV.
func kpiMajor(minor int64, currency string) string {
	return strconv.FormatFloat(kpiMajorFloat(minor, currency), 'f', profile.MinorDigits(currency), 64)
}

// kpiMajorFloat is minor units in the major unit.
func kpiMajorFloat(minor int64, currency string) float64 {
	return float64(minor) / math.Pow10(profile.MinorDigits(currency))
}

// The settings.

// kpiSettingsFields are the form's fields, by the settings' field names.
var kpiSettingsFields = map[string]string{
	"SignupEvents": "signup_events", "ActivationEvents": "activation_events", "PurchaseEvent": "purchase_event",
	"RevenueProperty": "revenue_property", "ReferralEvent": "referral_event", "NPSEvent": "nps_event",
	"NPSProperty": "nps_property", "Currency": "currency",
}

// Spend file limits.
const maxSpendFile = 5 << 20

type kpiSettingsData struct {
	F        *form
	Names    []string // event names, for the datalists
	Saved    opstore.KPISettings
	Spend    []kpiSpendRow
	Upload   *kpiUpload
	UF       *form // the upload form's errors
	MaxBytes string
}

type kpiSpendRow struct {
	Channel, Campaign string
	First, Last, From string
	Amount, Currency  string
	Imported          time.Time
}

// kpiUpload is what an upload stored and the lines it left out.
type kpiUpload struct {
	File   string
	Stored int
	Errors []kpiLineError
}

type kpiLineError struct {
	Line  int
	Field string // the column, in the page's language; "" for the line
	Msg   string
}

func kpiSettingsForm(k opstore.KPISettings) *form {
	f := newForm(nil)
	f.Values.Set("signup_events", strings.Join(k.SignupEvents, "\n"))
	f.Values.Set("activation_events", strings.Join(k.ActivationEvents, "\n"))
	f.Values.Set("purchase_event", k.PurchaseEvent)
	f.Values.Set("revenue_property", k.RevenueProperty)
	f.Values.Set("referral_event", k.ReferralEvent)
	f.Values.Set("nps_event", k.NPSEvent)
	f.Values.Set("nps_property", k.NPSProperty)
	f.Values.Set("currency", k.Currency)
	return f
}

func (k *kpiPages) settingsPage(q *req) error {
	saved, err := k.st.KPISettings(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	return k.settingsRender(q, &kpiSettingsData{F: kpiSettingsForm(saved), UF: newForm(nil)}, http.StatusOK)
}

func (k *kpiPages) settingsRender(q *req, d *kpiSettingsData, status int) error {
	var err error
	if d.Saved, err = k.st.KPISettings(q.ctx, q.ws.ID); err != nil {
		return err
	}
	names, err := k.events.EventNames(q.ctx, q.ws.ID, 500)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n.Name != "" && !slices.Contains(typeLabels, n.Name) {
			d.Names = append(d.Names, n.Name)
		}
	}
	rows, err := k.st.ListSpend(q.ctx, q.ws.ID, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	for _, r := range rows {
		d.Spend = append(d.Spend, kpiSpendRow{Channel: r.Channel, Campaign: r.Campaign, From: r.From.Format(time.DateOnly),
			First: r.From.Format(i18n.T(q.lang, "kpi.fmt_date")), Last: r.To.AddDate(0, 0, -1).Format(i18n.T(q.lang, "kpi.fmt_date")),
			Amount: money(q.lang, r.Amount, r.Currency), Currency: r.Currency, Imported: r.ImportedAt})
	}
	d.MaxBytes = i18n.Number(q.lang, maxSpendFile>>20)
	k.render(q, status, "kpi_settings", q.page("kpi.settings_title", "nav.kpis", d))
	return nil
}

func (k *kpiPages) saveSettings(q *req) error {
	f := newForm(q.r.PostForm)
	ks := opstore.KPISettings{WorkspaceID: q.ws.ID,
		SignupEvents: lines(f.Values.Get("signup_events")), ActivationEvents: lines(f.Values.Get("activation_events")),
		PurchaseEvent: f.Get("purchase_event"), RevenueProperty: f.Get("revenue_property"), ReferralEvent: f.Get("referral_event"),
		NPSEvent: f.Get("nps_event"), NPSProperty: f.Get("nps_property"), Currency: f.Get("currency"), UpdatedBy: q.user.ID}
	err := ks.Validate()
	if err == nil {
		err = k.st.SaveKPISettings(q.ctx, ks)
	}
	var fes opstore.FieldErrors
	if errors.As(err, &fes) {
		for _, fe := range fes {
			field, ok := kpiSettingsFields[fe.Field]
			if !ok {
				return err
			}
			f.Fail(field, kpiFieldMessage(q.lang, fe, f.Values.Get(field)))
		}
		return k.settingsRender(q, &kpiSettingsData{F: f, UF: newForm(nil)}, http.StatusUnprocessableEntity)
	} else if err != nil {
		return err
	}
	k.log.Info("KPI settings saved", "workspace", q.ws.ID, "user", q.user.ID)
	return q.redirect("/analytics/kpis/settings", "flash.kpi_settings_saved")
}

// kpiFieldMessage is a settings error in lang; entered is the field as
// entered (for the name listed twice).
func kpiFieldMessage(lang string, fe opstore.FieldError, entered string) string {
	switch fe.Code {
	case "required":
		return i18n.T(lang, "kpi.err_required")
	case "too_long":
		return i18n.T(lang, "kpi.err_too_long", opstore.MaxKPIName)
	case "too_many":
		return i18n.T(lang, "kpi.err_too_many", opstore.MaxKPIEvents)
	case "duplicate":
		seen := map[string]bool{}
		for _, l := range lines(entered) {
			if seen[l] {
				return i18n.T(lang, "kpi.err_duplicate", l)
			}
			seen[l] = true
		}
	case "invalid":
		if fe.Field == "Currency" {
			return i18n.T(lang, "kpi.err_currency")
		}
	}
	return i18n.T(lang, "kpi.err_invalid")
}

// uploadSpend imports a marketing spend file: the good rows are stored
// (replacing those of the same channel, campaign and first day), the
// lines with a problem listed.
func (k *kpiPages) uploadSpend(q *req) error {
	uf := newForm(q.r.PostForm)
	if q.file == nil || q.file.FileName() == "" {
		uf.Fail("file", i18n.T(q.lang, "kpi.err_file"))
		return k.settingsRender(q, k.settingsAgain(q, uf), http.StatusUnprocessableEntity)
	}
	data, err := io.ReadAll(io.LimitReader(q.file, maxSpendFile+1))
	if err != nil {
		return err
	}
	if len(data) > maxSpendFile {
		uf.Fail("file", i18n.T(q.lang, "kpi.err_file_large", i18n.Number(q.lang, maxSpendFile>>20)))
		return k.settingsRender(q, k.settingsAgain(q, uf), http.StatusRequestEntityTooLarge)
	}
	name := q.file.FileName()
	// Fields after the file, if any, are read and ignored.
	if _, err := readParts(q.parts, url.Values{}); err != nil {
		k.log.Warn("reading the rest of a spend upload", "err", err)
	}
	settings, err := k.st.KPISettings(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	rows, errs := analytics.ParseSpend(bytes.NewReader(data), q.ws.ID, settings.Currency)
	if len(rows) > 0 {
		if err := k.st.ReplaceSpend(q.ctx, q.ws.ID, rows); err != nil {
			return err
		}
	}
	k.log.Info("spend imported", "workspace", q.ws.ID, "user", q.user.ID, "file", name, "rows", len(rows), "problems", len(errs))
	if len(errs) == 0 {
		return q.redirect("/analytics/kpis/settings", "flash.kpi_spend_imported")
	}
	up := &kpiUpload{File: name, Stored: len(rows)}
	for _, e := range errs {
		le := kpiLineError{Line: e.Line, Msg: e.Msg}
		if e.Field != "" {
			le.Field = i18n.T(q.lang, kpiKey("col", e.Field))
		}
		up.Errors = append(up.Errors, le)
	}
	d := k.settingsAgain(q, newForm(nil))
	d.Upload = up
	status := http.StatusOK
	if len(rows) == 0 {
		status = http.StatusUnprocessableEntity
	}
	return k.settingsRender(q, d, status)
}

// settingsAgain is the settings page's data after a spend form: the
// settings as saved, the upload form's errors.
func (k *kpiPages) settingsAgain(q *req, uf *form) *kpiSettingsData {
	saved, err := k.st.KPISettings(q.ctx, q.ws.ID)
	if err != nil {
		saved = opstore.DefaultKPISettings(q.ws.ID)
	}
	return &kpiSettingsData{F: kpiSettingsForm(saved), UF: uf}
}

func (k *kpiPages) deleteSpend(q *req) error {
	f := newForm(q.r.PostForm)
	from, err := time.Parse(time.DateOnly, f.Get("from"))
	if err != nil {
		return errNotFound
	}
	err = k.st.DeleteSpend(q.ctx, q.ws.ID, f.Values.Get("channel"), f.Values.Get("campaign"), from)
	if errors.Is(err, opstore.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	k.log.Info("spend deleted", "workspace", q.ws.ID, "user", q.user.ID, "channel", f.Values.Get("channel"), "from", f.Get("from"))
	return q.redirect("/analytics/kpis/settings", "flash.kpi_spend_deleted")
}

// kpiKey is the catalog key of a text built from a name: kpiKey("m",
// "aov") is "kpi.m_aov" (the metric's label), "h" its definition.
func kpiKey(kind, name string) string { return "kpi." + kind + "_" + name }
