package web

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
)

// The insights page: what stands out in a workspace's journeys, as
// analytics.View.Insights finds it — the steps that lose the most customers
// against the period before, change points in a step's conversion by
// segment (source, device, persona), customers who loop back, and days an
// event was far more (or less) frequent than usual. The form is a GET form,
// so the URL can be shared; each finding is a card with a sentence in the
// page's language, its numbers, and links to the analyses that show it (the
// funnel, the paths after the drop-off, the events), with a table of the
// same findings for a CSV download.

// insightRoutes registers the insights over ix.
func (s *server) insightRoutes(ix *analytics.Indexes) {
	s.analytics = ix
	a := &analyticsPages{server: s}
	s.route("GET /analytics/insights", member, "", a.insightsPage)
}

const (
	maxInsightBreakdowns = 5
	insightLimit         = 30
	// insightWindow is the conversion window of the journey watched, as
	// the engine's default journey and the CLI have it.
	insightWindow = 7 * 24 * time.Hour
	// insightContext is how many days before (and after) a spike its
	// day-by-day link shows.
	insightContext = 28
)

var (
	// insightBreakdowns are the engine's default breakdowns
	// (analytics.InsightQuery.Breakdowns), shown as the field's default.
	insightBreakdowns = []string{"source", "context.device.type", "traits.persona"}
)

// insightForm is the insights page's query string as entered.
type insightForm struct {
	Period     string // 30, 90 (whole days up to yesterday), all, custom (From, To)
	From, To   string // YYYY-MM-DD in the workspace's time zone
	Steps      string // the journey, one event a line; "" the shop journey
	Breakdowns string // fields, comma-separated; "" the defaults
	Filter     filterForm
}

func parseInsightForm(v url.Values) insightForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := insightForm{Period: g("period"), From: g("from"), To: g("to"), Breakdowns: strings.Join(splitFields(v.Get("breakdowns")), ", "),
		Filter: parseFilterForm(v)}
	var steps []string
	for _, s := range v["steps"] {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				steps = append(steps, line)
			}
		}
	}
	f.Steps = strings.Join(steps, "\n")
	if f.Period == "" {
		f.Period = "90"
		if f.From != "" || f.To != "" {
			f.Period = "custom"
		}
	}
	return f
}

// values is the form as a query string's values, the defaults left out.
func (f insightForm) values() url.Values {
	v := url.Values{}
	if f.Period != "90" {
		v.Set("period", f.Period)
	}
	if f.Period == "custom" {
		for k, val := range map[string]string{"from": f.From, "to": f.To} {
			if val != "" {
				v.Set(k, val)
			}
		}
	}
	for _, s := range f.StepList() {
		v.Add("steps", s)
	}
	if f.Breakdowns != "" {
		v.Set("breakdowns", f.Breakdowns)
	}
	f.Filter.addTo(v)
	return v
}

// StepList is the journey entered, one step an entry.
func (f insightForm) StepList() []string {
	if f.Steps == "" {
		return nil
	}
	return strings.Split(f.Steps, "\n")
}

// splitFields splits a list of fields at commas and spaces.
func splitFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

type insightsData struct {
	Form insightForm
	// F holds the errors by field, in the page's language.
	F            *form
	Zone         string
	MaxSteps     int
	DefaultSteps string // the shop journey, A → B → C
	// StepsPlaceholder is the shop journey one step a line.
	StepsPlaceholder string
	DefaultDims      string
	R                *insightsView // nil: not computed (an error in the form)
	Filter           *filterBlock
}

// insightsView is the findings as the page shows them.
type insightsView struct {
	Range string // the period read
	Cards []insightCard
}

// insightCard is one finding.
type insightCard struct {
	N         int
	Kind      string // weak, change, loop, spike, drop: the card's style
	Icon      string // the kind, or change-up for a conversion that rose
	KindLabel string
	Sentence  template.HTML
	Text      string // the sentence as text, for the table
	// Subject names the steps (A → B) or the events of the finding.
	SubjectLabel, Subject string
	Also                  string // the other events of a spike, comma-separated
	Segment               string // field = value, "" for none
	Period                string
	FromISO, ToISO        string // first and last day, for CSV
	Before, After         string
	BeforeRaw, AfterRaw   string // for CSV
	Effect, EffectRaw     string
	AffectedLabel         string
	Affected              int64
	Bars                  []insightBar // none: no chart
	FunnelURL, PathsURL   string
	DailyURL, EventsURL   string
}

// insightBar is a bar of a card's before/after pair.
type insightBar struct {
	Label, Value string
	Width        string // of the longest bar, in percent
	Now          bool   // the period of the finding (not the baseline)
}

func (a *analyticsPages) insightsPage(q *req) error {
	f := parseInsightForm(q.r.URL.Query())
	d := &insightsData{Form: f, F: newForm(nil), MaxSteps: maxFunnelSteps,
		DefaultSteps: strings.Join(analytics.DefaultInsightFunnel, " → "), StepsPlaceholder: strings.Join(analytics.DefaultInsightFunnel, "\n"), DefaultDims: strings.Join(insightBreakdowns, ", ")}
	pg := q.page("insights.title", "nav.insights", d)
	d.Zone = pg.Zone()
	flt, block, errs, err := a.parseFilter(q, f.Filter, d.F, "/analytics/insights", f.values())
	if err != nil {
		return err
	}
	d.Filter = block
	iq, ierrs, err := a.insightQuery(q, f)
	if err != nil {
		return err
	}
	mergeErrs(errs, ierrs)
	var found []analytics.Insight
	if len(errs) == 0 {
		found, err = a.findInsights(q, iq, flt)
		var bad *badFunnelError
		if errors.As(err, &bad) {
			errs["steps"] = fieldMsg{"funnel.err_invalid", []any{bad.detail}}
		} else if err != nil {
			return err
		}
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
		for field, m := range errs {
			d.F.Fail(field, i18n.T(q.lang, m.Key, m.Args...))
		}
	} else {
		d.R = insightsResult(q.lang, q.loc, iq, found, f.Filter)
	}
	a.render(q, status, "insights", pg)
	return nil
}

// insightQuery turns the form into the query it asks for; the errors are
// by form field. The period ends at the latest at the start of today: a
// day still going on would look like a drop.
func (a *analyticsPages) insightQuery(q *req, f insightForm) (analytics.InsightQuery, map[string]fieldMsg, error) {
	errs := map[string]fieldMsg{}
	fail := func(field, key string, args ...any) {
		if _, ok := errs[field]; !ok {
			errs[field] = fieldMsg{key, args}
		}
	}
	iq := analytics.InsightQuery{Location: q.loc, Limit: insightLimit}
	now := a.now().In(q.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, q.loc)
	switch f.Period {
	case "30", "90":
		n, _ := strconv.Atoi(f.Period)
		iq.From, iq.To = today.AddDate(0, 0, -n), today
	case "all":
		iq.To = today
	case "custom":
		var fq analytics.FunnelQuery
		a.period(q, funnelForm{Period: f.Period, From: f.From, To: f.To}, &fq, fail)
		iq.From, iq.To = fq.From, fq.To
		if iq.To.IsZero() || iq.To.After(today) {
			iq.To = today
		}
		if len(errs) == 0 && !iq.From.IsZero() && !iq.From.Before(iq.To) {
			fail("to", "insights.err_today")
		}
	default:
		fail("period", "funnel.err_choice")
	}
	if steps := f.StepList(); len(steps) > 0 && !slices.Equal(steps, analytics.DefaultInsightFunnel) {
		switch {
		case len(steps) < 2:
			fail("steps", "insights.err_steps_two")
		case len(steps) > maxFunnelSteps:
			fail("steps", "funnel.err_steps_max", maxFunnelSteps)
		}
		iq.Funnels = []analytics.FunnelQuery{{Steps: steps, Window: insightWindow}}
	}
	if dims := splitFields(f.Breakdowns); len(dims) > maxInsightBreakdowns {
		fail("breakdowns", "insights.err_breakdowns_max", maxInsightBreakdowns)
	} else if len(dims) > 0 {
		iq.Breakdowns = dims
	}
	if len(errs) > 0 {
		return iq, errs, nil
	}
	_, names, err := a.sourceNames(q)
	if err != nil {
		return iq, errs, err
	}
	iq.SourceName = func(id string) string { return names[id] }
	return iq, errs, nil
}

// findInsights looks for findings in the workspace's events as they are
// now, as the filter narrows them.
func (a *analyticsPages) findInsights(q *req, iq analytics.InsightQuery, flt analytics.Filter) ([]analytics.Insight, error) {
	v, err := filteredView(q, a.analytics, flt)
	if err != nil {
		return nil, err
	}
	found, err := v.Insights(q.ctx, iq)
	if errors.Is(err, analytics.ErrFunnel) {
		return nil, &badFunnelError{strings.TrimPrefix(err.Error(), analytics.ErrFunnel.Error()+": ")}
	}
	return found, err
}

// insightKinds are the catalog keys of each kind of finding: its name, and
// what its count of customers (or events) is.
var insightKinds = map[analytics.InsightKind]struct{ class, label, affected string }{
	analytics.WeakTransition: {"weak", "insights.kind_weak", "insights.affected_weak"},
	analytics.ChangePoint:    {"change", "insights.kind_change", "insights.affected_change"},
	analytics.Loop:           {"loop", "insights.kind_loop", "insights.affected_loop"},
	analytics.EventSpike:     {"spike", "insights.kind_spike", "insights.affected_spike"},
	analytics.EventDrop:      {"drop", "insights.kind_drop", "insights.affected_drop"},
}

// insightsResult lays out the findings for the page, in their order; their
// links to the other analyses keep the page's filter.
func insightsResult(lang string, loc *time.Location, iq analytics.InsightQuery, found []analytics.Insight, flt filterForm) *insightsView {
	v := &insightsView{}
	zone := loc.String()
	if iq.From.IsZero() {
		v.Range = i18n.T(lang, "insights.range_all", insightDay(lang, loc, lastDay(iq.To)), zone)
	} else {
		v.Range = i18n.T(lang, "insights.range", insightDay(lang, loc, iq.From), insightDay(lang, loc, lastDay(iq.To)), zone)
	}
	for _, in := range found {
		if _, ok := insightKinds[in.Kind]; !ok {
			continue // a kind this page does not know yet
		}
		v.Cards = append(v.Cards, insightCardOf(lang, loc, len(v.Cards)+1, in, iq, flt))
	}
	return v
}

// insightCardOf describes one finding: its sentence, numbers, chart and
// links.
func insightCardOf(lang string, loc *time.Location, n int, in analytics.Insight, iq analytics.InsightQuery, flt filterForm) insightCard {
	k := insightKinds[in.Kind]
	c := insightCard{N: n, Kind: k.class, Icon: k.class, KindLabel: i18n.T(lang, k.label), AffectedLabel: i18n.T(lang, k.affected), Affected: in.Customers,
		FromISO: in.Start.In(loc).Format(time.DateOnly), ToISO: lastDay(in.End).In(loc).Format(time.DateOnly), Effect: "—"}
	first, last := insightDay(lang, loc, in.Start), insightDay(lang, loc, lastDay(in.End))
	c.Period = first
	if last != first {
		c.Period = i18n.T(lang, "insights.days", first, last)
	}
	if in.SegmentField != "" {
		c.Segment = in.SegmentField + " = " + in.SegmentValue
	}
	var key string
	var args []any
	transition := len(in.Steps) == 2
	if transition {
		c.SubjectLabel, c.Subject = i18n.T(lang, "insights.f_steps"), in.Steps[0]+" → "+in.Steps[1]
	}
	switch in.Kind {
	case analytics.ChangePoint:
		key, c.Icon = "insights.s_change_down", "change"
		if in.After > in.Before {
			key, c.Icon = "insights.s_change_up", "change-up"
		}
		args = []any{strong(in.Steps[0]), strong(in.Steps[1]), insightSegment(lang, in.SegmentField, in.SegmentValue),
			strong(insightRate(lang, in.Before)), strong(insightRate(lang, in.After)), first, i18n.N(lang, "insights.entrants", in.Customers)}
		c.Before, c.After = insightPercent(lang, in.Before), insightPercent(lang, in.After)
		c.BeforeRaw, c.AfterRaw = insightRaw(in.Before), insightRaw(in.After)
		c.Effect, c.EffectRaw = i18n.T(lang, "insights.points", kpiSigned(lang, 100*in.Effect, 1)), insightRaw(in.Effect)
		c.Bars = insightBars(lang, in.Before, in.After, "insights.bar_before", "insights.bar_after", c.Before, c.After)
	case analytics.WeakTransition:
		lost := i18n.N(lang, "insights.lost", in.Customers)
		if in.Before >= 0 {
			key = "insights.s_weak"
			if in.After > in.Before {
				key = "insights.s_weak_up" // better than before, and still where most are lost
			}
			args = []any{strong(in.Steps[0]), strong(in.Steps[1]), strong(insightRate(lang, in.After)), insightRate(lang, in.Before), lost, first, last}
			c.Before, c.BeforeRaw = insightPercent(lang, in.Before), insightRaw(in.Before)
			c.Effect, c.EffectRaw = i18n.T(lang, "insights.points", kpiSigned(lang, 100*(in.After-in.Before), 1)), insightRaw(in.After-in.Before)
			c.Bars = insightBars(lang, in.Before, in.After, "insights.bar_prev", "insights.bar_now", c.Before, insightPercent(lang, in.After))
		} else {
			key = "insights.s_weak_new"
			args = []any{strong(in.Steps[0]), strong(in.Steps[1]), strong(insightRate(lang, in.After)), lost, first, last}
			c.Before = "—"
		}
		c.After, c.AfterRaw = insightPercent(lang, in.After), insightRaw(in.After)
	case analytics.Loop:
		key = "insights.s_loop"
		args = []any{i18n.N(lang, "insights.loopers", in.Customers), strong(in.Steps[0]), strong(in.Steps[1]), first, last}
		c.Before, c.After = "—", "—"
	case analytics.EventSpike, analytics.EventDrop:
		when := i18n.T(lang, "insights.when_day", first)
		if last != first {
			when = i18n.T(lang, "insights.when_days", first, last)
		}
		events := in.Events
		if len(events) == 0 {
			events = []string{in.Event}
		}
		c.SubjectLabel, c.Subject = i18n.T(lang, "insights.f_event"), in.Event
		if len(events) > 1 {
			c.Also = strings.Join(events[1:min(len(events), 6)], ", ")
		}
		c.Before, c.After = insightUsual(lang, in.Before), insightCount(lang, in.After)
		c.BeforeRaw, c.AfterRaw = strconv.FormatFloat(in.Before, 'f', 1, 64), strconv.FormatFloat(in.After, 'f', 0, 64)
		c.Effect, c.EffectRaw = i18n.T(lang, "insights.ratio", insightCount(lang, in.Effect)), strconv.FormatFloat(in.Effect, 'f', 2, 64)
		if in.Kind == analytics.EventSpike {
			key = "insights.s_spike"
			args = []any{strong(in.Event), when, strong(c.After), c.Before, insightCount(lang, in.Effect), i18n.N(lang, "insights.excess", in.Customers)}
			c.Bars = insightBars(lang, in.Before, in.After, "insights.bar_usual", "insights.bar_peak", c.Before, c.After)
		} else {
			key = "insights.s_drop"
			args = []any{strong(in.Event), when, strong(c.After), c.Before, i18n.N(lang, "insights.shortfall", in.Customers)}
			c.Bars = insightBars(lang, in.Before, in.After, "insights.bar_usual", "insights.bar_low", c.Before, c.After)
		}
		c.EventsURL = "/events?" + url.Values{"event": {in.Event}}.Encode()
		c.DailyURL = spikeDailyURL(loc, in, iq, flt)
	}
	c.Sentence, c.Text = richText(lang, key, args...)
	if fq := in.Funnel; fq != nil {
		ff := insightFunnelForm(loc, fq)
		ff.Filter = flt
		if in.Kind == analytics.ChangePoint {
			ff.Interval = "day" // the conversion by day shows the change
		}
		c.FunnelURL = "/analytics/funnel?" + ff.values().Encode()
		if transition && in.Kind != analytics.Loop {
			if k := slices.Index(fq.Steps, in.Steps[0]); k >= 0 && k+1 < len(fq.Steps) && fq.Steps[k+1] == in.Steps[1] {
				pv := ff.values()
				pv.Set("after_step", strconv.Itoa(k+1)) // numbered from 1, as the pages number the steps
				c.PathsURL = "/analytics/paths?" + pv.Encode()
			}
		}
	}
	return c
}

// insightFunnelForm is the funnel page's form for the funnel that shows a
// finding: its steps, window, breakdown and days.
func insightFunnelForm(loc *time.Location, fq *analytics.FunnelQuery) funnelForm {
	n, unit := windowParts(fq.Window)
	ff := funnelForm{Steps: fq.Steps, Order: cmp.Or(string(fq.Order), string(analytics.Ordered)), Window: n, WindowUnit: unit,
		Period: "all", Aggregate: "person", Attribution: string(analytics.FirstTouch), Breakdown: fq.Breakdown}
	if !fq.From.IsZero() && !fq.To.IsZero() {
		ff.Period, ff.From, ff.To = "custom", fq.From.In(loc).Format(time.DateOnly), lastDay(fq.To).In(loc).Format(time.DateOnly)
	}
	return ff
}

// spikeDailyURL is the funnel page with the spike's event as its one step,
// by day, over the spike and the weeks before it.
func spikeDailyURL(loc *time.Location, in analytics.Insight, iq analytics.InsightQuery, flt filterForm) string {
	from := in.Start.In(loc).AddDate(0, 0, -insightContext)
	if !iq.From.IsZero() && from.Before(iq.From) {
		from = iq.From
	}
	to := in.End.In(loc).AddDate(0, 0, 7)
	if !iq.To.IsZero() && to.After(iq.To) {
		to = iq.To
	}
	ff := funnelForm{Steps: []string{in.Event}, Order: string(analytics.Ordered), Window: "14", WindowUnit: "d", Period: "custom",
		From: from.Format(time.DateOnly), To: lastDay(to).In(loc).Format(time.DateOnly), Aggregate: "person",
		Attribution: string(analytics.FirstTouch), Interval: "day", Filter: flt}
	return "/analytics/funnel?" + ff.values().Encode()
}

// windowParts writes a funnel window as the funnel form has it: a whole
// number of days, hours or minutes.
func windowParts(w time.Duration) (string, string) {
	switch {
	case w <= 0:
		return "14", "d"
	case w%(24*time.Hour) == 0:
		return strconv.Itoa(int(w / (24 * time.Hour))), "d"
	case w%time.Hour == 0:
		return strconv.Itoa(int(w / time.Hour)), "h"
	}
	return strconv.Itoa(max(1, int(w/time.Minute))), "m"
}

// lastDay is the day an exclusive end falls in the day before.
func lastDay(end time.Time) time.Time { return end.Add(-time.Millisecond) }

// insightDay writes the day of t in the workspace's time zone.
func insightDay(lang string, loc *time.Location, t time.Time) string {
	return t.In(loc).Format(i18n.T(lang, "insights.fmt_date"))
}

// insightSegment names a segment in a sentence: the source Website, mobile
// devices, the persona Sinh viên, or field = value.
func insightSegment(lang, field, value string) string {
	switch field {
	case "":
		return ""
	case "source":
		return i18n.T(lang, "insights.seg_source", value)
	case "context.device.type":
		return i18n.T(lang, "insights.seg_device", value)
	case "traits.persona":
		return i18n.T(lang, "insights.seg_persona", value)
	}
	return i18n.T(lang, "insights.seg_field", field, value)
}

// insightRate writes a rate in whole percent, for sentences: 88%.
func insightRate(lang string, r float64) string { return kpiDecimal(lang, 100*r, 0) + "%" }

// insightPercent writes a rate in percent with one decimal: 88,4%.
func insightPercent(lang string, r float64) string { return kpiDecimal(lang, 100*r, 1) + "%" }

// insightRaw is a rate (or a change of rate) in percent, for CSV.
func insightRaw(r float64) string { return strconv.FormatFloat(100*r, 'f', 1, 64) }

// insightCount writes a count or ratio: whole above 10, else with one
// decimal unless it is whole (0,4; 7; 12).
func insightCount(lang string, x float64) string {
	if math.Abs(x) >= 10 || x == math.Trunc(x) {
		return kpiDecimal(lang, x, 0)
	}
	return kpiDecimal(lang, x, 1)
}

// insightUsual writes the usual count a day of an event: "under 1" for
// less, as a spike's ratio is against at least 1.
func insightUsual(lang string, x float64) string {
	if x < 1 {
		return i18n.T(lang, "insights.usual_under")
	}
	return insightCount(lang, x)
}

// insightBars is a before/after pair of bars, the longer one full width.
func insightBars(lang string, before, after float64, beforeKey, afterKey, beforeText, afterText string) []insightBar {
	top := max(before, after)
	if top <= 0 || before < 0 {
		return nil
	}
	width := func(x float64) string {
		return strconv.FormatFloat(max(0.5, math.Round(1000*x/top)/10), 'f', 1, 64) + "%"
	}
	return []insightBar{
		{Label: i18n.T(lang, beforeKey), Value: beforeText, Width: width(before)},
		{Label: i18n.T(lang, afterKey), Value: afterText, Width: width(after), Now: true},
	}
}

// strong is an argument of a sentence shown in bold.
type strong string

// richText is the catalog text key with args, as HTML whose strong
// arguments are in <strong>, and as plain text.
func richText(lang, key string, args ...any) (template.HTML, string) {
	plain := make([]any, len(args))
	marked := make([]any, len(args))
	var pairs []string
	for i, a := range args {
		s, ok := a.(strong)
		if !ok {
			plain[i], marked[i] = a, a
			continue
		}
		plain[i] = string(s)
		mark := fmt.Sprintf("\ue000%d\ue001", i) // private-use characters: no text has them
		marked[i] = mark
		pairs = append(pairs, mark, "<strong>"+template.HTMLEscapeString(string(s))+"</strong>")
	}
	text := strings.Join(strings.Fields(i18n.T(lang, key, plain...)), " ")
	html := strings.Join(strings.Fields(template.HTMLEscapeString(i18n.T(lang, key, marked...))), " ")
	return template.HTML(strings.NewReplacer(pairs...).Replace(html)), text //nolint:gosec // every part is escaped
}
