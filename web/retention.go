package web

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
)

// The retention page: cohorts of people by the period they started (or by
// channel, persona or a property), and how many of them came back in each
// period after: a heatmap of the cohorts, the average retention and churn
// over the periods, the table of the same numbers, and a sentence saying
// what it means. A GET form, so its URL can be shared.

// retentionPages serve the retention tables over the workspaces' event
// indexes.
type retentionPages struct {
	*analyticsPages
	ix *analytics.Indexes
}

// retentionRoutes registers the retention page over ix.
func (s *server) retentionRoutes(ix *analytics.Indexes) {
	p := &retentionPages{analyticsPages: &analyticsPages{server: s}, ix: ix}
	s.route("GET /analytics/retention", member, "", p.retentionPage)
}

// Retention form limits and defaults.
const (
	maxRetentionPeriods = 60
	// heatmapRows is how many cohorts the heatmap shows (the latest, or
	// the largest); the table has them all.
	heatmapRows = 20
)

var (
	retentionModes   = []string{string(analytics.FirstTime), string(analytics.Recurring)}
	retentionCohorts = []string{"period", "channel", "persona", "property"}
)

// retentionForm is the retention page's query string as entered.
type retentionForm struct {
	Start, Return    string // "" is any event
	Interval         string // day, week, month
	Periods          string // 1 to maxRetentionPeriods
	Mode             string // first_time, recurring
	Rolling          bool
	Cohort           string // period, channel, persona, property (Field)
	Field            string
	Period, From, To string // as the funnel's; the default is the last 90 days
	Filter           filterForm
}

func parseRetentionForm(v url.Values) retentionForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := retentionForm{Start: g("start"), Return: g("return"), Interval: cmp.Or(g("interval"), "week"),
		Periods: cmp.Or(g("periods"), strconv.Itoa(analytics.DefaultRetentionPeriods)), Mode: cmp.Or(g("mode"), string(analytics.FirstTime)),
		Rolling: g("rolling") != "", Cohort: cmp.Or(g("cohort"), "period"), Field: g("field"), Period: g("period"), From: g("from"), To: g("to"),
		Filter: parseFilterForm(v)}
	if f.Period == "" {
		f.Period = "90"
		if f.From != "" || f.To != "" {
			f.Period = "custom"
		}
	}
	return f
}

// values is the form as a query string's values, the defaults left out.
func (f retentionForm) values() url.Values {
	v := url.Values{}
	set := func(k, val, def string) {
		if val != def {
			v.Set(k, val)
		}
	}
	set("start", f.Start, "")
	set("return", f.Return, "")
	set("interval", f.Interval, "week")
	set("periods", f.Periods, strconv.Itoa(analytics.DefaultRetentionPeriods))
	set("mode", f.Mode, string(analytics.FirstTime))
	if f.Rolling {
		v.Set("rolling", "1")
	}
	set("cohort", f.Cohort, "period")
	if f.Cohort == "property" {
		set("field", f.Field, "")
	}
	set("period", f.Period, "90")
	if f.Period == "custom" {
		set("from", f.From, "")
		set("to", f.To, "")
	}
	f.Filter.addTo(v)
	return v
}

// retentionQuery turns the form into the query it asks for, with the
// errors by form field.
func (p *retentionPages) retentionQuery(q *req, f retentionForm) (analytics.RetentionQuery, map[string]fieldMsg, error) {
	errs := map[string]fieldMsg{}
	fail := func(field, key string, args ...any) {
		if _, ok := errs[field]; !ok {
			errs[field] = fieldMsg{key, args}
		}
	}
	rq := analytics.RetentionQuery{Start: f.Start, Return: f.Return, Location: q.loc, Mode: analytics.RetentionMode(f.Mode), Rolling: f.Rolling}
	if iv, err := analytics.ParseInterval(f.Interval); err != nil || !slices.Contains(intervals, f.Interval) {
		fail("interval", "funnel.err_choice")
	} else {
		rq.Interval = iv
	}
	if n, err := strconv.Atoi(f.Periods); err != nil || n < 1 || n > maxRetentionPeriods {
		fail("periods", "retention.err_periods", maxRetentionPeriods)
	} else {
		rq.Periods = n
	}
	if !slices.Contains(retentionModes, f.Mode) {
		fail("mode", "funnel.err_choice")
	}
	switch f.Cohort {
	case "period":
	case "channel":
		rq.CohortBy = "channel"
		srcs, err := p.ops.Sources(q.ctx, q.ws.ID)
		if err != nil {
			return rq, errs, err
		}
		channels := map[string]string{}
		for _, s := range srcs {
			channels[s.ID] = string(s.Channel)
		}
		rq.SourceChannel = func(id string) string { return channels[id] }
	case "persona":
		rq.CohortBy = "persona"
	case "property":
		switch {
		case f.Field == "":
			fail("field", "retention.err_field_empty")
		case strings.ContainsAny(f.Field, " \t"):
			fail("field", "funnel.err_field", f.Field)
		}
		rq.CohortBy = "property:" + f.Field
	default:
		fail("cohort", "funnel.err_choice")
	}
	var bounds analytics.FunnelQuery
	p.period(q, funnelForm{Period: f.Period, From: f.From, To: f.To}, &bounds, fail)
	rq.From, rq.To = bounds.From, bounds.To
	return rq, errs, nil
}

type retentionData struct {
	Form retentionForm
	// F holds the errors by field, already in the page's language.
	F          *form
	Names      []string
	Cohorts    []string
	Intervals  []string
	Fields     []string // suggested properties to group by
	MaxPeriods int
	Zone       string
	R          *retentionView // nil: nothing computed
	Filter     *filterBlock
}

// retentionView is a computed retention table as the page shows it.
type retentionView struct {
	Headings []string // the periods: Week 0, Week 1, ...
	Cohorts  []cohortRow
	Average  []rateCell
	Churn    []rateCell
	Total    int64
	ByValue  bool   // cohorts by a value, not by period
	Summary  string // "After 4 weeks, 23% of customers come back."
	Basis    string // what the numbers count
	Heatmap  *chartSpec
	Curve    *chartSpec
	// Shown is how many cohorts the heatmap shows, when fewer than all.
	Shown int
	// HeatFrom1: the heatmap leaves out period 0 (100% for every cohort).
	HeatFrom1 bool
	// ChurnBelow: some churn is negative, which the chart leaves out.
	ChurnBelow bool
}

type cohortRow struct {
	Label string
	Size  int64
	Cells []rateCell
}

// rateCell is a share of a cohort in one period; Text is "" for a period
// the cohort has not reached yet.
type rateCell struct {
	Text, Raw string
	Title     string // retained of eligible
}

// Suggested properties to group cohorts by.
var cohortFieldHints = []string{"properties.platform", "context.campaign.source", "context.device.type", "properties.store_id", "traits.city"}

// The period names, the texts of the summary by interval, and of what a
// cohort is by mode.
var (
	periodNames      = map[analytics.Interval]string{analytics.Day: "retention.day_n", analytics.Week: "retention.week_n", analytics.Month: "retention.month_n"}
	retentionSummary = map[analytics.Interval]string{analytics.Day: "retention.summary_days", analytics.Week: "retention.summary_weeks", analytics.Month: "retention.summary_months"}
	// summaryHorizon is the period the summary speaks of when the cohorts
	// reached it: a week of days, a month of weeks, a quarter of months.
	summaryHorizon = map[analytics.Interval]int{analytics.Day: 7, analytics.Week: 4, analytics.Month: 3}
	retentionBasis = map[string]string{string(analytics.FirstTime): "retention.basis_first_time", string(analytics.Recurring): "retention.basis_recurring"}
)

func (p *retentionPages) retentionPage(q *req) error {
	f := parseRetentionForm(q.r.URL.Query())
	d := &retentionData{Form: f, F: newForm(nil), Cohorts: retentionCohorts, Intervals: intervals, Fields: cohortFieldHints, MaxPeriods: maxRetentionPeriods}
	pg := q.page("retention.title", "nav.retention", d)
	d.Zone = pg.Zone()
	names, err := p.events.EventNames(q.ctx, q.ws.ID, 500)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n.Name != "" && !slices.Contains(typeLabels, n.Name) {
			d.Names = append(d.Names, n.Name)
		}
	}
	flt, block, errs, err := p.parseFilter(q, f.Filter, d.F, "/analytics/retention", f.values())
	if err != nil {
		return err
	}
	d.Filter = block
	rq, rerrs, err := p.retentionQuery(q, f)
	if err != nil {
		return err
	}
	mergeErrs(errs, rerrs)
	var res *analytics.RetentionResult
	if len(errs) == 0 {
		res, err = p.compute(q, rq, flt)
		var bad *badFunnelError
		if errors.As(err, &bad) {
			errs["start"] = fieldMsg{"retention.err_invalid", []any{bad.detail}}
		} else if err != nil {
			return err
		}
	}
	for field, m := range errs {
		d.F.Fail(field, i18n.T(q.lang, m.Key, m.Args...))
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		d.R = retentionResult(q.lang, f, rq, res)
	}
	p.render(q, status, "retention", pg)
	return nil
}

// compute runs the retention query on the workspace's events as they are
// now; a query the analytics package refuses is a *badFunnelError.
func (p *retentionPages) compute(q *req, rq analytics.RetentionQuery, flt analytics.Filter) (*analytics.RetentionResult, error) {
	v, err := filteredView(q, p.ix, flt)
	if err != nil {
		return nil, err
	}
	res, err := v.Retention(q.ctx, rq)
	if errors.Is(err, analytics.ErrRetention) {
		return nil, &badFunnelError{strings.TrimPrefix(err.Error(), analytics.ErrRetention.Error()+": ")}
	}
	return res, err
}

// retentionResult lays out a result for the page.
func retentionResult(lang string, f retentionForm, rq analytics.RetentionQuery, res *analytics.RetentionResult) *retentionView {
	v := &retentionView{ByValue: rq.CohortBy != ""}
	for n := range res.Periods {
		v.Headings = append(v.Headings, i18n.T(lang, periodNames[res.Interval], n))
	}
	cell := func(rate float64, retained, eligible int64) rateCell {
		if rate < 0 {
			return rateCell{}
		}
		return rateCell{Text: shareText(lang, rate), Raw: strconv.FormatFloat(math.Round(1000*rate)/10, 'f', 1, 64),
			Title: i18n.T(lang, "retention.cell_title", i18n.Number(lang, retained), i18n.Number(lang, eligible))}
	}
	for _, c := range res.Cohorts {
		row := cohortRow{Label: cohortLabel(lang, rq, c, false), Size: c.Size}
		for n := range res.Periods {
			row.Cells = append(row.Cells, cell(c.Rate[n], c.Retained[n], c.Eligible[n]))
		}
		v.Cohorts = append(v.Cohorts, row)
		v.Total += c.Size
	}
	for n, a := range res.Average {
		var kept, eligible int64
		for _, c := range res.Cohorts {
			if c.Eligible[n] > 0 {
				kept, eligible = kept+c.Retained[n], eligible+c.Eligible[n]
			}
		}
		v.Average = append(v.Average, cell(a, kept, eligible))
		ch := rateCell{}
		if c := res.Churn[n]; c != nil {
			ch = rateCell{Text: shareText(lang, *c), Raw: strconv.FormatFloat(math.Round(1000**c)/10, 'f', 1, 64)}
		}
		v.Churn = append(v.Churn, ch)
	}
	if len(res.Cohorts) == 0 {
		return v
	}
	v.Summary = retentionSentence(lang, res)
	doing := func(name string) string {
		if name == "" {
			return i18n.T(lang, "retention.any_activity")
		}
		return i18n.T(lang, "retention.event_named", name)
	}
	v.Basis = i18n.T(lang, retentionBasis[f.Mode], doing(f.Start), doing(f.Return))

	// The heatmap: the latest cohorts by period, the largest by value. When
	// the return event is the starting event, period 0 is 100% for every
	// cohort: the heatmap starts at period 1, so that its colours tell the
	// later periods apart.
	rows := res.Cohorts
	if len(rows) > heatmapRows {
		if v.ByValue {
			rows = rows[:heatmapRows]
		} else {
			rows = rows[len(rows)-heatmapRows:]
		}
		v.Shown = heatmapRows
	}
	first := 0
	if f.Start == f.Return && res.Periods > 1 {
		first, v.HeatFrom1 = 1, true
	}
	hm := &chartSpec{Kind: "heatmap", Lang: lang, Unit: "%", Labels: v.Headings[first:],
		Summary: i18n.T(lang, "retention.heatmap_summary", len(rows), res.Periods-first)}
	for y, c := range rows {
		hm.Y = append(hm.Y, cohortLabel(lang, rq, c, true)+" · "+i18n.Number(lang, c.Size))
		for n, r := range c.Rate[first:] {
			if r >= 0 {
				hm.Cells = append(hm.Cells, [3]float64{float64(n), float64(y), math.Round(1000*r) / 10})
			}
		}
	}
	v.Heatmap = hm

	curve := &chartSpec{Kind: "line", Lang: lang, Unit: "%", Labels: v.Headings, Summary: v.Summary,
		Series: []chartSeries{{Name: i18n.T(lang, "retention.average")}, {Name: i18n.T(lang, "retention.churn")}}}
	for n, a := range res.Average {
		var r *float64
		if a >= 0 {
			x := math.Round(1000*a) / 10
			r = &x
		}
		// The chart's axis starts at 0: a negative churn (more came back
		// than in the period before) is only in the table.
		var c *float64
		if ch := res.Churn[n]; ch != nil && *ch >= 0 {
			x := math.Round(1000**ch) / 10
			c = &x
		} else if ch != nil {
			v.ChurnBelow = true
		}
		curve.Series[0].Data = append(curve.Series[0].Data, r)
		curve.Series[1].Data = append(curve.Series[1].Data, c)
	}
	v.Curve = curve
	return v
}

// retentionSentence says the average retention after a round number of
// periods (a week of days, a month of weeks, a quarter of months), or
// after the last period the cohorts reached when they did not reach it.
func retentionSentence(lang string, res *analytics.RetentionResult) string {
	n := -1
	if h := summaryHorizon[res.Interval]; h < res.Periods && res.Average[h] >= 0 {
		n = h
	} else {
		for k := res.Periods - 1; k >= 1; k-- {
			if res.Average[k] >= 0 {
				n = k
				break
			}
		}
	}
	if n < 1 {
		return i18n.T(lang, "retention.summary_none")
	}
	return i18n.N(lang, retentionSummary[res.Interval], int64(n), n, shareText(lang, res.Average[n]))
}

// cohortLabel names a cohort: its period (a day, the week of its Monday,
// a month; short: a week by its Monday's date alone), or its value: a
// channel by its name, no value as such.
func cohortLabel(lang string, rq analytics.RetentionQuery, c analytics.Cohort, short bool) string {
	switch {
	case rq.CohortBy == "":
		switch rq.Interval {
		case analytics.Month:
			return c.Start.Format(i18n.T(lang, "funnel.fmt_month"))
		case analytics.Week:
			if !short {
				return i18n.T(lang, "funnel.week_of", c.Start.Format(i18n.T(lang, "fmt.day")))
			}
		}
		return c.Start.Format(i18n.T(lang, "fmt.day"))
	case c.Label == "":
		return i18n.T(lang, "funnel.none_value")
	case rq.CohortBy == "channel":
		if k := "channel." + c.Label; i18n.Has(k) {
			return i18n.T(lang, k)
		}
	}
	return c.Label
}

// shareText writes a share (0.235; churn may be negative) as a percentage
// with one decimal, the way lang writes decimals.
func shareText(lang string, r float64) string {
	s := strconv.FormatFloat(math.Round(1000*r)/10, 'f', 1, 64)
	return strings.Replace(s, ".", i18n.T(lang, "fmt.decimal"), 1) + "%"
}
