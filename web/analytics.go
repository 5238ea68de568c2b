package web

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

// The analytics pages: the home of the analyses and the funnel (steps,
// conversion, breakdowns, conversion over time, time to convert, and the
// people at each step). Every view of a funnel is a GET form, so its URL
// can be shared; charts are drawn by static/charts.js from JSON specs the
// page carries, beside tables that hold the same numbers.

// analyticsPages serve the analyses over the workspaces' event indexes
// (server.analytics).
type analyticsPages struct {
	*server
}

// analyticsRoutes registers the analyses over ix.
func (s *server) analyticsRoutes(ix *analytics.Indexes) {
	s.analytics = ix
	a := &analyticsPages{server: s}
	s.route("GET /analytics/funnel", member, "", a.funnelPage)
	s.route("GET /analytics/funnel/people", member, "", a.funnelPeople)
}

// analysis is a card of the analytics home.
type analysis struct {
	Key   string // the card's texts are analytics.card_KEY and analytics.card_KEY_text
	Href  string
	Ready bool // its page is served
}

var analyses = []analysis{
	{Key: "funnels", Href: "/analytics/funnel"},
	{Key: "paths", Href: "/analytics/paths"},
	{Key: "retention", Href: "/analytics/retention"},
	{Key: "kpis", Href: "/analytics/kpis"},
	{Key: "insights", Href: "/analytics/insights"},
	{Key: "live", Href: "/journeys"},
}

func (s *server) analyticsHome(q *req) error {
	cards := slices.Clone(analyses)
	for i := range cards {
		cards[i].Ready = s.serves(cards[i].Href)
	}
	s.render(q, http.StatusOK, "analytics", q.page("analytics.title", "nav.analytics_home", cards))
	return nil
}

// serves reports whether a GET of path reaches a page of its own (not the
// catch-all "not found").
func (s *server) serves(path string) bool {
	_, pattern := s.mux.Handler(&http.Request{Method: http.MethodGet, Host: "cjm", URL: &url.URL{Path: path}})
	return pattern != "" && pattern != "/"
}

// Funnel form limits and defaults.
const (
	maxFunnelSteps  = 10
	peoplePageLimit = 500     // people listed on the page
	peopleCSVLimit  = 100_000 // people in a CSV download
)

var (
	funnelOrders = []string{string(analytics.Ordered), string(analytics.Strict), string(analytics.Unordered)}
	windowUnits  = []string{"m", "h", "d", "w"}
	aggregates   = []string{"person", "session", "group"}
	intervals    = []string{"day", "week", "month"}
	// breakdownHints are suggested for the breakdown field.
	breakdownHints = []string{"context.campaign.source", "context.campaign.medium", "context.campaign.name", "context.device.type",
		"context.os.name", "context.locale", "properties.category", "properties.payment_method", "properties.store_id"}
	// typeLabels are what eventstore.EventNames lists for events without a
	// name; no funnel step matches them.
	typeLabels = []string{"identify", "group", "alias", "page", "screen"}
)

// funnelForm is the funnel page's query string as entered.
type funnelForm struct {
	Steps       []string // empty inputs dropped
	Order       string
	Window      string // a whole number, of WindowUnit
	WindowUnit  string // m, h, d or w
	Period      string // 7, 30, 90 (days up to today), all, custom (From, To)
	From, To    string // YYYY-MM-DD in the workspace's time zone
	Aggregate   string // person, session, group (by the property Group)
	Group       string
	Breakdown   string
	Attribution string
	Exclude     string // EVENT:FROM-TO lines, steps numbered from 1
	Interval    string // day, week, month; "" picks one from the period
	Map         string // the id of the map whose stages may be steps
	Filter      filterForm
}

func parseFunnelForm(v url.Values) funnelForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := funnelForm{Order: g("order"), Window: g("window"), WindowUnit: g("unit"), Period: g("period"), From: g("from"), To: g("to"),
		Aggregate: g("agg"), Group: g("group"), Breakdown: g("breakdown"), Attribution: g("attribution"),
		Exclude: strings.TrimSpace(strings.ReplaceAll(v.Get("exclude"), "\r\n", "\n")), Interval: g("interval"), Map: g("map"),
		Filter: parseFilterForm(v)}
	for _, s := range v["steps"] {
		if s = strings.TrimSpace(s); s != "" {
			f.Steps = append(f.Steps, s)
		}
	}
	f.Order = cmp.Or(f.Order, string(analytics.Ordered))
	f.Window = cmp.Or(f.Window, "14")
	f.WindowUnit = cmp.Or(f.WindowUnit, "d")
	f.Aggregate = cmp.Or(f.Aggregate, "person")
	f.Attribution = cmp.Or(f.Attribution, string(analytics.FirstTouch))
	if f.Period == "" {
		f.Period = "30"
		if f.From != "" || f.To != "" {
			f.Period = "custom"
		}
	}
	return f
}

// values is the form as a query string's values: the defaults left out,
// so shared links stay short.
func (f funnelForm) values() url.Values {
	v := url.Values{}
	for _, s := range f.Steps {
		v.Add("steps", s)
	}
	set := func(k, val, def string) {
		if val != def {
			v.Set(k, val)
		}
	}
	set("order", f.Order, string(analytics.Ordered))
	set("window", f.Window, "14")
	set("unit", f.WindowUnit, "d")
	set("period", f.Period, "30")
	if f.Period == "custom" {
		set("from", f.From, "")
		set("to", f.To, "")
	}
	set("agg", f.Aggregate, "person")
	if f.Aggregate == "group" {
		set("group", f.Group, "")
	}
	set("breakdown", f.Breakdown, "")
	if f.Breakdown != "" {
		set("attribution", f.Attribution, string(analytics.FirstTouch))
	}
	set("exclude", f.Exclude, "")
	set("interval", f.Interval, "")
	set("map", f.Map, "")
	f.Filter.addTo(v)
	return v
}

// MoreSet counts the options under "More options" that are set.
func (f funnelForm) MoreSet() int {
	n := 0
	for _, set := range []bool{f.Aggregate != "person", f.Breakdown != "", f.Exclude != "", f.Interval != "", f.Map != ""} {
		if set {
			n++
		}
	}
	return n
}

// fieldMsg is an error of a form field: a catalog key and its arguments.
type fieldMsg struct {
	Key  string
	Args []any
}

// funnelSetup is what a funnel query needs beside the form: the workspace's
// maps, and the chosen one.
type funnelSetup struct {
	maps   []journeymap.Entry
	chosen *journeymap.Entry
}

// funnelQuery turns the form into the query it asks for. The errors are by
// form field ("" when the form names no steps yet: nothing to compute).
func (a *analyticsPages) funnelQuery(q *req, f funnelForm, setup funnelSetup) (analytics.FunnelQuery, map[string]fieldMsg, error) {
	errs := map[string]fieldMsg{}
	fail := func(field, key string, args ...any) {
		if _, ok := errs[field]; !ok {
			errs[field] = fieldMsg{key, args}
		}
	}
	fq := analytics.FunnelQuery{Steps: f.Steps, Order: analytics.Order(f.Order), Location: q.loc, Attribution: f.Attribution}
	if len(f.Steps) > maxFunnelSteps {
		fail("steps", "funnel.err_steps_max", maxFunnelSteps)
	}
	if c := setup.chosen; c != nil {
		fq.Map, fq.PlacesKey = c.Map, fmt.Sprintf("%s@%d", c.ID, c.Version)
	} else if f.Map != "" {
		fail("map", "funnel.err_map")
	}
	places := false
	for _, s := range f.Steps {
		kind, key, _ := strings.Cut(s, ":")
		if kind != "stage" && kind != "touchpoint" {
			continue
		}
		places = true
		switch {
		case fq.Map == nil:
			fail("steps", "funnel.err_need_map", s)
		case kind == "stage" && !slices.ContainsFunc(fq.Map.Stages, func(st journeymap.Stage) bool { return st.Key == key }):
			fail("steps", "funnel.err_stage", key, setup.chosen.Name)
		case kind == "touchpoint":
			if _, si := fq.Map.Touchpoint(key); si < 0 {
				fail("steps", "funnel.err_touchpoint", key, setup.chosen.Name)
			}
		}
	}
	if !slices.Contains(funnelOrders, f.Order) {
		fail("order", "funnel.err_choice")
	}
	if !slices.Contains(windowUnits, f.WindowUnit) {
		fail("window", "funnel.err_window")
	} else if w, err := analytics.ParseWindow(f.Window + f.WindowUnit); err != nil {
		fail("window", "funnel.err_window")
	} else {
		fq.Window = w
	}
	a.period(q, f, &fq, fail)
	switch f.Aggregate {
	case "person", "session":
		fq.Aggregate = f.Aggregate
	case "group":
		if f.Group == "" {
			fail("group", "funnel.err_group")
		}
		fq.Aggregate = "group:" + f.Group
	default:
		fail("agg", "funnel.err_choice")
	}
	if f.Breakdown != "" {
		if strings.ContainsAny(f.Breakdown, " \t") {
			fail("breakdown", "funnel.err_field", f.Breakdown)
		}
		fq.Breakdown = f.Breakdown
	}
	if _, _, err := analytics.ParseAttribution(f.Attribution, max(len(f.Steps), 1)); err != nil {
		fail("attribution", "funnel.err_choice")
	}
	for _, line := range strings.Split(f.Exclude, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		ex, key, args := parseExclusion(line, len(f.Steps))
		if key != "" {
			fail("exclude", key, args...)
			continue
		}
		fq.Exclusions = append(fq.Exclusions, ex)
	}
	switch f.Interval {
	case "":
		fq.Interval = autoInterval(fq.From, fq.To)
	case "day", "week", "month":
		fq.Interval = analytics.Interval(f.Interval)
	default:
		fail("interval", "funnel.err_choice")
	}
	if places && fq.Map != nil && len(errs) == 0 {
		c, err := a.book().Classifier(q.ctx, q.ws.ID, fq.Map)
		if err != nil {
			return fq, errs, err
		}
		fq.Classifier = c
	}
	return fq, errs, nil
}

// period sets the bounds of the events read: the last 7, 30 or 90 days up
// to today, all time, or the days From to To (both included) in the
// workspace's time zone.
func (a *analyticsPages) period(q *req, f funnelForm, fq *analytics.FunnelQuery, fail func(field, key string, args ...any)) {
	now := a.now().In(q.loc)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, q.loc)
	switch f.Period {
	case "7", "30", "90":
		n, _ := strconv.Atoi(f.Period)
		fq.From, fq.To = tomorrow.AddDate(0, 0, -n), tomorrow
	case "all":
	case "custom":
		day := func(field, s string) time.Time {
			if s == "" {
				return time.Time{}
			}
			t, err := time.ParseInLocation(time.DateOnly, s, q.loc)
			if err != nil {
				fail(field, "funnel.err_date")
			}
			return t
		}
		fq.From = day("from", f.From)
		if fq.To = day("to", f.To); !fq.To.IsZero() {
			fq.To = fq.To.AddDate(0, 0, 1)
		}
		if f.From == "" && f.To == "" {
			fail("from", "funnel.err_dates")
		}
		if !fq.From.IsZero() && !fq.To.IsZero() && !fq.From.Before(fq.To) {
			fail("to", "funnel.err_date_order")
		}
	default:
		fail("period", "funnel.err_choice")
	}
}

// autoInterval buckets the conversion over time by day up to a month, by
// week up to half a year, else by month.
func autoInterval(from, to time.Time) analytics.Interval {
	if from.IsZero() || to.IsZero() {
		return analytics.Week
	}
	switch d := to.Sub(from); {
	case d <= 31*24*time.Hour:
		return analytics.Day
	case d <= 183*24*time.Hour:
		return analytics.Week
	}
	return analytics.Month
}

// parseExclusion reads "EVENT:FROM-TO" with steps numbered from 1, as the
// page shows them; it returns the exclusion, or the catalog key of what is
// wrong and its arguments.
func parseExclusion(line string, steps int) (analytics.Exclusion, string, []any) {
	i := strings.LastIndexByte(line, ':')
	if i <= 0 {
		return analytics.Exclusion{}, "funnel.err_exclusion", []any{line}
	}
	from, to, ok := strings.Cut(strings.TrimSpace(line[i+1:]), "-")
	f, err1 := strconv.Atoi(strings.TrimSpace(from))
	t, err2 := strconv.Atoi(strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil {
		return analytics.Exclusion{}, "funnel.err_exclusion", []any{line}
	}
	name := strings.TrimSpace(line[:i])
	if f < 1 || t <= f || t > steps {
		return analytics.Exclusion{}, "funnel.err_exclusion_range", []any{line, steps}
	}
	ex, err := analytics.ParseExclusion(fmt.Sprintf("%s:%d-%d", name, f-1, t-1), steps)
	if err != nil {
		return analytics.Exclusion{}, "funnel.err_invalid", []any{err.Error()}
	}
	return ex, "", nil
}

// option is an entry of a select or datalist.
type option struct{ Value, Label string }

// stepInput is one of the form's step fields.
type stepInput struct {
	N     int
	Value string
}

type funnelData struct {
	Form funnelForm
	// F holds the errors by field, already in the page's language (for the
	// "invalid" and "ferr" template helpers).
	F           *form
	MoreErr     bool // an error is under "More options"
	Inputs      []stepInput
	Names       []string // event names for the steps' datalist
	Maps        []option
	Places      []option // the chosen map's stages and touchpoints
	Attribution []option
	Breakdowns  []string
	Units       []string
	Zone        string
	// Example is a funnel of the two most frequent events, for the empty
	// state; "" when the workspace has too few.
	Example  string
	Examples []string
	R        *funnelView // nil: nothing computed
	Base     string      // the query string of this funnel
	Filter   *filterBlock
}

// funnelView is a computed funnel as the page shows it.
type funnelView struct {
	Steps                []stepRow
	Entered, Converted   int64
	Conversion           string
	MedianTime           string
	Chart                chartSpec
	BreakdownField       string
	BreakdownRows        []breakdownRow
	BreakdownChart       *chartSpec
	Over                 []overRow
	OverChart            *chartSpec
	IntervalKey          string
	TimeToConvert        []ttcRow
	TTCChart             *chartSpec
	PeopleURL            string // the people page, without step
	Aggregate            string
	ShowPeople, Multiple bool
}

type stepRow struct {
	N                int
	Label            string
	Count, Dropped   int64
	FromFirst        string
	FromPrev         string
	FirstRaw         string // for CSV
	PrevRaw          string
	Avg, Median      string
	AvgRaw, MedRaw   string
	ReachedURL       string
	DroppedURL       string
	HasPrev, HasTime bool
}

type breakdownRow struct {
	Value      string
	Counts     []int64
	Conversion string
	ConvRaw    string
}

type overRow struct {
	Label      string
	Counts     []int64
	Conversion string
	ConvRaw    string
}

type ttcRow struct {
	Label  string
	Count  int64
	Share  string
	ShrRaw string
}

// chartSpec is what static/charts.js draws: its kind, the words it shows
// (localised here) and the numbers.
type chartSpec struct {
	Kind    string            `json:"kind"` // funnel, line, bars, sankey, heatmap, kpi
	Lang    string            `json:"lang"`
	Summary string            `json:"summary"` // the accessible description
	Orient  string            `json:"orient,omitempty"`
	Labels  []string          `json:"labels,omitempty"`
	Values  []int64           `json:"values,omitempty"`
	Series  []chartSeries     `json:"series,omitempty"`
	Unit    string            `json:"unit,omitempty"` // "%" for rates
	Text    map[string]string `json:"text,omitempty"`
	// Heatmaps: the rows (Labels are the columns) and the cells, each
	// [column, row, value].
	Y     []string     `json:"y,omitempty"`
	Cells [][3]float64 `json:"cells,omitempty"`
	// Sankey diagrams.
	Nodes []chartNode `json:"nodes,omitempty"`
	Links []chartLink `json:"links,omitempty"`
}

type chartSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"` // nil: no value
}

type chartNode struct {
	Name string `json:"name"`
}

type chartLink struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Value  int64  `json:"value"`
}

func (a *analyticsPages) funnelPage(q *req) error {
	f := parseFunnelForm(q.r.URL.Query())
	d := &funnelData{Form: f, F: newForm(nil), Breakdowns: breakdownHints, Units: windowUnits, Base: f.values().Encode()}
	setup, err := a.funnelSetup(q, f, d)
	if err != nil {
		return err
	}
	pg := q.page("funnel.title", "nav.funnels", d)
	d.Zone = pg.Zone()
	flt, block, errs, err := a.parseFilter(q, f.Filter, d.F, "/analytics/funnel", f.values())
	if err != nil {
		return err
	}
	d.Filter = block
	if len(f.Steps) > 0 {
		fq, ferrs, err := a.funnelQuery(q, f, setup)
		if err != nil {
			return err
		}
		mergeErrs(errs, ferrs)
		var res *analytics.FunnelResult
		if len(errs) == 0 {
			res, err = a.compute(q, fq, flt)
			var bad *badFunnelError
			if errors.As(err, &bad) {
				errs["steps"] = fieldMsg{"funnel.err_invalid", []any{bad.detail}}
			} else if err != nil {
				return err
			}
		}
		if len(errs) == 0 {
			d.R = funnelResult(q.lang, f, fq, setup.chosen, res)
		}
	}
	for field, m := range errs {
		d.F.Fail(field, i18n.T(q.lang, m.Key, m.Args...))
		switch field {
		case "agg", "group", "breakdown", "attribution", "interval", "map", "exclude":
			d.MoreErr = true
		}
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	a.render(q, status, "funnel", pg)
	return nil
}

// badFunnelError is a funnel the analytics package refused, with its reason.
type badFunnelError struct{ detail string }

func (e *badFunnelError) Error() string { return e.detail }

// compute runs the funnel on the workspace's events as they are now, as
// the filter narrows them.
func (a *analyticsPages) compute(q *req, fq analytics.FunnelQuery, flt analytics.Filter) (*analytics.FunnelResult, error) {
	v, err := filteredView(q, a.analytics, flt)
	if err != nil {
		return nil, err
	}
	res, err := v.Funnel(q.ctx, fq)
	if errors.Is(err, analytics.ErrFunnel) {
		return nil, &badFunnelError{strings.TrimPrefix(err.Error(), analytics.ErrFunnel.Error()+": ")}
	}
	return res, err
}

// funnelSetup reads the workspace's maps and event names into the form's
// choices, and returns the chosen map.
func (a *analyticsPages) funnelSetup(q *req, f funnelForm, d *funnelData) (funnelSetup, error) {
	var setup funnelSetup
	var err error
	if setup.maps, err = a.book().List(q.ctx, q.ws.ID); err != nil {
		return setup, err
	}
	for i, e := range setup.maps {
		d.Maps = append(d.Maps, option{e.ID, e.Name})
		if e.ID == f.Map {
			setup.chosen = &setup.maps[i]
		}
	}
	if c := setup.chosen; c != nil {
		for _, st := range c.Map.Stages {
			d.Places = append(d.Places, option{"stage:" + st.Key, i18n.T(q.lang, "funnel.place_stage", st.Name)})
			for _, tp := range st.Touchpoints {
				d.Places = append(d.Places, option{"touchpoint:" + tp.Key, i18n.T(q.lang, "funnel.place_touchpoint", st.Name, tp.Name)})
			}
		}
	}
	names, err := a.events.EventNames(q.ctx, q.ws.ID, 500)
	if err != nil {
		return setup, err
	}
	for _, n := range names {
		if n.Name != "" && !slices.Contains(typeLabels, n.Name) {
			d.Names = append(d.Names, n.Name)
		}
	}
	if len(d.Names) >= 2 {
		d.Examples = d.Names[:2]
		ex := funnelForm{Steps: d.Examples, Order: string(analytics.Ordered), Window: "14", WindowUnit: "d", Period: "30", Aggregate: "person",
			Attribution: string(analytics.FirstTouch)}
		d.Example = "/analytics/funnel?" + ex.values().Encode()
	}
	n := min(maxFunnelSteps, max(len(f.Steps)+1, 4))
	for i := range max(n, len(f.Steps)) {
		in := stepInput{N: i + 1}
		if i < len(f.Steps) {
			in.Value = f.Steps[i]
		}
		d.Inputs = append(d.Inputs, in)
	}
	for i := range max(len(f.Steps), 1) {
		label := i18n.T(q.lang, "funnel.step_n", i+1)
		if i < len(f.Steps) {
			label += ": " + stepLabel(q.lang, f.Steps[i], setup.chosen)
		}
		d.Attribution = append(d.Attribution, option{fmt.Sprintf("step:%d", i), label})
	}
	return setup, nil
}

// stepLabel names a step: an event name as it is, a stage or touchpoint by
// its name on the map.
func stepLabel(lang, step string, m *journeymap.Entry) string {
	kind, key, _ := strings.Cut(step, ":")
	if m == nil || kind != "stage" && kind != "touchpoint" {
		return step
	}
	for _, st := range m.Map.Stages {
		if kind == "stage" && st.Key == key {
			return i18n.T(lang, "funnel.place_stage", st.Name)
		}
		for _, tp := range st.Touchpoints {
			if kind == "touchpoint" && tp.Key == key {
				return i18n.T(lang, "funnel.place_touchpoint", st.Name, tp.Name)
			}
		}
	}
	return step
}

// funnelResult lays out a result for the page.
func funnelResult(lang string, f funnelForm, fq analytics.FunnelQuery, chosen *journeymap.Entry, res *analytics.FunnelResult) *funnelView {
	labels := make([]string, len(f.Steps))
	for i, s := range f.Steps {
		labels[i] = stepLabel(lang, s, chosen)
	}
	base := f.values()
	v := &funnelView{PeopleURL: "/analytics/funnel/people?" + base.Encode(), Aggregate: f.Aggregate, Multiple: len(f.Steps) > 1,
		ShowPeople: f.Aggregate != "group", IntervalKey: byInterval[fq.Interval]}
	first := res.Steps[0].Count
	last := res.Steps[len(res.Steps)-1].Count
	v.Entered, v.Converted = first, last
	v.Conversion = pct(lang, last, first)
	people := func(step int, dropped bool) string {
		pv := f.values()
		pv.Set("step", strconv.Itoa(step))
		if dropped {
			pv.Set("dropped", "1")
		}
		return "/analytics/funnel/people?" + pv.Encode()
	}
	// The people page's step is 1-based, as the page numbers the steps.
	for i, s := range res.Steps {
		r := stepRow{N: i + 1, Label: labels[i], Count: s.Count, FromFirst: pct(lang, s.Count, first), FirstRaw: rawPct(s.Count, first)}
		if i > 0 {
			r.HasPrev = true
			r.FromPrev, r.PrevRaw = pct(lang, s.Count, res.Steps[i-1].Count), rawPct(s.Count, res.Steps[i-1].Count)
		}
		if s.AvgSeconds != nil {
			r.HasTime = true
			r.Avg, r.Median = humanDuration(lang, *s.AvgSeconds), humanDuration(lang, *s.MedianSeconds)
			r.AvgRaw, r.MedRaw = strconv.FormatFloat(*s.AvgSeconds, 'f', 0, 64), strconv.FormatFloat(*s.MedianSeconds, 'f', 0, 64)
		}
		if i+1 < len(res.Steps) {
			r.Dropped = s.Count - res.Steps[i+1].Count
		}
		r.ReachedURL, r.DroppedURL = people(i+1, false), people(i+1, true)
		v.Steps = append(v.Steps, r)
	}
	counts := make([]int64, len(res.Steps))
	for i, s := range res.Steps {
		counts[i] = s.Count
	}
	orient := "vertical"
	if len(f.Steps) > 6 {
		orient = "horizontal"
	}
	v.Chart = chartSpec{Kind: "funnel", Lang: lang, Orient: orient, Labels: numbered(labels), Values: counts,
		Summary: i18n.T(lang, "funnel.chart_summary", len(f.Steps), i18n.Number(lang, first), i18n.Number(lang, last), v.Conversion),
		Text: map[string]string{"reached": i18n.T(lang, "funnel.chart_reached"), "dropped": i18n.T(lang, "funnel.chart_dropped"),
			"fromFirst": i18n.T(lang, "funnel.chart_from_first"), "fromPrev": i18n.T(lang, "funnel.chart_from_prev")}}

	if fq.Breakdown != "" && len(res.Breakdowns) > 0 {
		v.BreakdownField = fq.Breakdown
		chart := &chartSpec{Kind: "bars", Lang: lang, Unit: "%", Series: []chartSeries{{Name: i18n.T(lang, "funnel.conversion")}},
			Summary: i18n.T(lang, "funnel.breakdown_summary", fq.Breakdown)}
		for _, b := range res.Breakdowns {
			row := breakdownRow{Value: cmp.Or(b.Value, i18n.T(lang, "funnel.none_value"))}
			for _, s := range b.Steps {
				row.Counts = append(row.Counts, s.Count)
			}
			n0, nk := b.Steps[0].Count, b.Steps[len(b.Steps)-1].Count
			row.Conversion, row.ConvRaw = pct(lang, nk, n0), rawPct(nk, n0)
			v.BreakdownRows = append(v.BreakdownRows, row)
			if len(chart.Labels) < 12 {
				chart.Labels = append(chart.Labels, row.Value)
				chart.Series[0].Data = append(chart.Series[0].Data, rate(nk, n0))
			}
		}
		if len(v.BreakdownRows) > 1 && len(f.Steps) > 1 {
			v.BreakdownChart = chart
		}
	}

	if len(res.Over) > 0 {
		v.Over, v.OverChart = overTime(lang, fq, labels, res.Over)
	}
	if len(res.TimeToConvert) > 0 {
		v.TimeToConvert, v.TTCChart = timeToConvert(lang, res.TimeToConvert, last)
		v.MedianTime = medianBucket(lang, res.TimeToConvert)
	}
	if len(f.Steps) > 1 {
		if med := res.Steps[len(res.Steps)-1].MedianSeconds; med != nil && len(f.Steps) == 2 {
			v.MedianTime = humanDuration(lang, *med)
		}
	}
	return v
}

// byInterval names the periods of the conversion over time.
var byInterval = map[analytics.Interval]string{analytics.Day: "funnel.by_day", analytics.Week: "funnel.by_week", analytics.Month: "funnel.by_month"}

// overTime is the conversion by period of entry: every period from the
// first to the last with entrants (none in between: no rate).
func overTime(lang string, fq analytics.FunnelQuery, labels []string, over []analytics.FunnelPeriod) ([]overRow, *chartSpec) {
	byStart := map[int64][]int64{}
	for _, p := range over {
		byStart[p.Start.Unix()] = p.Counts
	}
	layout := i18n.T(lang, "fmt.day")
	if fq.Interval == analytics.Month {
		layout = i18n.T(lang, "funnel.fmt_month")
	}
	chart := &chartSpec{Kind: "line", Lang: lang, Unit: "%",
		Summary: i18n.T(lang, "funnel.over_note", i18n.T(lang, byInterval[fq.Interval]))}
	steps := len(labels)
	for k := 1; k < steps; k++ {
		chart.Series = append(chart.Series, chartSeries{Name: fmt.Sprintf("%d. %s", k+1, labels[k])})
	}
	if steps == 1 {
		chart.Unit = ""
		chart.Series = []chartSeries{{Name: i18n.T(lang, "funnel.entered")}}
	}
	var rows []overRow
	end := over[len(over)-1].Start
	for t := over[0].Start; !t.After(end); t = fq.Interval.Next(t) {
		c := byStart[t.Unix()]
		if c == nil {
			c = make([]int64, steps)
		}
		label := t.Format(layout)
		if fq.Interval == analytics.Week {
			label = i18n.T(lang, "funnel.week_of", label)
		}
		rows = append(rows, overRow{Label: label, Counts: c, Conversion: pct(lang, c[steps-1], c[0]), ConvRaw: rawPct(c[steps-1], c[0])})
		chart.Labels = append(chart.Labels, t.Format(layout))
		if steps == 1 {
			n := float64(c[0])
			chart.Series[0].Data = append(chart.Series[0].Data, &n)
			continue
		}
		for k := 1; k < steps; k++ {
			chart.Series[k-1].Data = append(chart.Series[k-1].Data, rate(c[k], c[0]))
		}
	}
	return rows, chart
}

// timeToConvert is the histogram of the time from step 1 to the last step.
func timeToConvert(lang string, buckets []analytics.DurationBucket, converted int64) ([]ttcRow, *chartSpec) {
	chart := &chartSpec{Kind: "bars", Lang: lang, Series: []chartSeries{{Name: i18n.T(lang, "funnel.col_people")}},
		Summary: i18n.T(lang, "funnel.ttc_summary", i18n.Number(lang, converted))}
	var rows []ttcRow
	for _, b := range buckets {
		label := bucketLabel(lang, b)
		rows = append(rows, ttcRow{Label: label, Count: b.Count, Share: pct(lang, b.Count, converted), ShrRaw: rawPct(b.Count, converted)})
		n := float64(b.Count)
		chart.Labels = append(chart.Labels, label)
		chart.Series[0].Data = append(chart.Series[0].Data, &n)
	}
	return rows, chart
}

// medianBucket names the bucket holding the median conversion time.
func medianBucket(lang string, buckets []analytics.DurationBucket) string {
	var total, seen int64
	for _, b := range buckets {
		total += b.Count
	}
	for _, b := range buckets {
		if seen += b.Count; total > 0 && seen*2 >= total {
			return bucketLabel(lang, b)
		}
	}
	return ""
}

func bucketLabel(lang string, b analytics.DurationBucket) string {
	switch {
	case b.MinSeconds == 0:
		return i18n.T(lang, "funnel.ttc_under", shortDuration(lang, b.MaxSeconds))
	case b.MaxSeconds < 0:
		return i18n.T(lang, "funnel.ttc_over", shortDuration(lang, b.MinSeconds))
	}
	// 1–3 days, not 1 day – 3 days.
	lo, unit := roundUnit(b.MinSeconds)
	if hi, u := roundUnit(b.MaxSeconds); u == unit && unit != "" {
		return i18n.T(lang, durationRanges[unit], lo, hi)
	}
	return i18n.T(lang, "funnel.ttc_range", shortDuration(lang, b.MinSeconds), shortDuration(lang, b.MaxSeconds))
}

// The texts of a whole number of days, hours or minutes, and of a range.
var (
	durationUnits  = map[string]string{"d": "funnel.dur_days_short", "h": "funnel.dur_hours_short", "m": "funnel.dur_minutes_short"}
	durationRanges = map[string]string{"d": "funnel.dur_days_range", "h": "funnel.dur_hours_range", "m": "funnel.dur_minutes_range"}
)

// roundUnit writes a round number of seconds in its largest whole unit:
// (3, "d"), (90, "m"); "" when it is not a whole number of minutes.
func roundUnit(sec float64) (int, string) {
	s := int(sec)
	switch {
	case s >= 86400 && s%86400 == 0:
		return s / 86400, "d"
	case s >= 3600 && s%3600 == 0:
		return s / 3600, "h"
	case s >= 60 && s%60 == 0:
		return s / 60, "m"
	}
	return s, ""
}

// shortDuration writes a round number of seconds in its largest unit.
func shortDuration(lang string, sec float64) string {
	n, unit := roundUnit(sec)
	if unit == "" {
		return i18n.T(lang, "fmt.seconds", n)
	}
	return i18n.T(lang, durationUnits[unit], n)
}

// humanDuration writes a time span the way people say it, to two units:
// 45 s, 3 min 20 s, 2 h 5 min, 3 d 4 h.
func humanDuration(lang string, sec float64) string {
	s := int64(math.Round(sec))
	switch {
	case s < 60:
		return i18n.T(lang, "fmt.seconds", s)
	case s < 3600:
		return i18n.T(lang, "fmt.minutes", s/60, s%60)
	case s < 86400:
		m := (s + 30) / 60
		return i18n.T(lang, "fmt.hours", m/60, m%60)
	}
	h := (s + 1800) / 3600
	return i18n.T(lang, "funnel.dur_days", h/24, h%24)
}

// numbered puts each step's number before its label.
func numbered(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = fmt.Sprintf("%d. %s", i+1, l)
	}
	return out
}

// pct writes n of total as a percentage with one decimal, the way lang
// writes decimals; "—" when total is 0.
func pct(lang string, n, total int64) string {
	if total == 0 {
		return "—"
	}
	s := strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64)
	return strings.Replace(s, ".", i18n.T(lang, "fmt.decimal"), 1) + "%"
}

// rawPct is pct for a CSV file: a plain number, "" when total is 0.
func rawPct(n, total int64) string {
	if total == 0 {
		return ""
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64)
}

// rate is n of total in percent for a chart, nil when total is 0.
func rate(n, total int64) *float64 {
	if total == 0 {
		return nil
	}
	r := math.Round(1000*float64(n)/float64(total)) / 10
	return &r
}

// peopleData is the people of one step of a funnel.
type peopleData struct {
	Form     funnelForm
	Step     int // 1-based
	Label    string
	Dropped  bool
	Total    int64
	People   []personRow
	Capped   bool
	CSVURL   string
	BackURL  string
	Group    bool
	Last     bool
	ErrorMsg string
}

// personRow is a person of a funnel step, with what their profile says
// (Known false: no profile, e.g. a group, or one not indexed yet).
type personRow struct {
	ID, Href                string
	Known                   bool
	Display, Initial, Email string
	Phone                   string
	LastSeen                time.Time
}

// funnelPeople lists the people who reached a step of a funnel, or with
// dropped=1 those who reached it and went no further; format=csv
// downloads them all (up to peopleCSVLimit).
func (a *analyticsPages) funnelPeople(q *req) error {
	v := q.r.URL.Query()
	f := parseFunnelForm(v)
	step, err := strconv.Atoi(v.Get("step"))
	if err != nil || step < 1 || step > len(f.Steps) {
		return errNotFound
	}
	dropped := v.Get("dropped") == "1"
	csvOut := v.Get("format") == "csv"
	d := &peopleData{Form: f, Step: step, Dropped: dropped && step < len(f.Steps), Group: f.Aggregate == "group",
		BackURL: "/analytics/funnel?" + f.values().Encode()}
	var setup funnelSetup
	var scratch funnelData
	if setup, err = a.funnelSetup(q, f, &scratch); err != nil {
		return err
	}
	d.Label = stepLabel(q.lang, f.Steps[step-1], setup.chosen)
	d.Last = step == len(f.Steps)
	fq, errs, err := a.funnelQuery(q, f, setup)
	if err != nil {
		return err
	}
	flt, _, ferrs, err := a.parseFilter(q, f.Filter, newForm(nil), "", nil)
	if err != nil {
		return err
	}
	mergeErrs(errs, ferrs)
	if len(errs) > 0 {
		// The funnel's own page tells what is wrong.
		http.Redirect(q.w, q.r, d.BackURL, http.StatusSeeOther)
		return nil
	}
	limit := peoplePageLimit
	if csvOut {
		limit = peopleCSVLimit
	}
	fq.People = &analytics.PeopleQuery{Step: step - 1, Dropped: d.Dropped, Limit: limit}
	res, err := a.compute(q, fq, flt)
	var bad *badFunnelError
	if errors.As(err, &bad) {
		http.Redirect(q.w, q.r, d.BackURL, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if csvOut {
		return a.peopleCSV(q, f, step, d.Dropped, res.People)
	}
	d.Total, d.Capped = res.PeopleTotal, res.PeopleTotal > int64(len(res.People))
	for _, id := range res.People {
		row, err := a.person(q, id, d.Group)
		if err != nil {
			return err
		}
		d.People = append(d.People, row)
	}
	cv := f.values()
	cv.Set("step", strconv.Itoa(step))
	if d.Dropped {
		cv.Set("dropped", "1")
	}
	cv.Set("format", "csv")
	d.CSVURL = "/analytics/funnel/people?" + cv.Encode()
	title := "funnel.people_title"
	if d.Dropped {
		title = "funnel.dropped_title"
	}
	a.render(q, http.StatusOK, "funnel_people", q.page(title, "nav.funnels", d).withTitleArgs(step, d.Label))
	return nil
}

// profileReader reads a customer profile (opstore.ProfileStore, which the
// operational stores implement).
type profileReader interface {
	Profile(ctx context.Context, workspaceID, id string) (opstore.ProfileRow, error)
}

// person describes a person of a funnel by their profile, when they have one.
func (a *analyticsPages) person(q *req, id string, group bool) (personRow, error) {
	row := personRow{ID: id, Href: personHref(id, group)}
	pid := id
	if i := strings.LastIndexByte(pid, '#'); i > 0 {
		pid = pid[:i]
	}
	if group || strings.HasPrefix(pid, "u:") || strings.HasPrefix(pid, "a:") {
		return row, nil
	}
	profiles, ok := a.ops.(profileReader)
	if !ok {
		return row, nil
	}
	p, err := profiles.Profile(q.ctx, q.ws.ID, pid)
	if errors.Is(err, opstore.ErrNotFound) {
		return row, nil
	}
	if err != nil {
		return row, err
	}
	row.Known, row.Email, row.Phone, row.LastSeen = true, p.Email, displayPhone(p.Phone), p.LastSeen
	row.Display = profile.DisplayName(p.Name, p.Email, row.Phone, p.Actor.ID)
	row.Initial = initialOf(row.Display)
	return row, nil
}

// personHref links a person of a funnel to what the UI knows of them: a
// profile, or the customers search for an id identity does not know. A
// session ("PERSON#N") links to its person; a group to nothing.
func personHref(id string, group bool) string {
	if group {
		return ""
	}
	if i := strings.LastIndexByte(id, '#'); i > 0 {
		id = id[:i]
	}
	if raw, ok := strings.CutPrefix(id, "u:"); ok {
		return "/customers?" + url.Values{"q": {raw}}.Encode()
	}
	if raw, ok := strings.CutPrefix(id, "a:"); ok {
		return "/customers?" + url.Values{"q": {raw}}.Encode()
	}
	return "/customers/" + url.PathEscape(id)
}

// peopleCSV writes the people of a step as CSV.
func (a *analyticsPages) peopleCSV(q *req, f funnelForm, step int, dropped bool, people []string) error {
	h := q.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	kind := "reached"
	if dropped {
		kind = "dropped"
	}
	h.Set("Content-Disposition", attachment(fmt.Sprintf("cjm-funnel-step%d-%s-%s.csv", step, kind, a.now().In(q.loc).Format("20060102"))))
	h.Set("Cache-Control", "no-store")
	out := &downloadWriter{w: q.w, prefix: []byte("\ufeff")}
	w := csv.NewWriter(out)
	group := f.Aggregate == "group"
	if err := w.Write([]string{"id", "profile_id", "user_id", "anonymous_id", "session", "step", "status"}); err != nil {
		return out.failed(q, err)
	}
	for _, id := range people {
		row := []string{id, "", "", "", "", strconv.Itoa(step), kind}
		if !group {
			person := id
			if i := strings.LastIndexByte(id, '#'); i > 0 && f.Aggregate == "session" {
				person, row[4] = id[:i], id[i+1:]
			}
			switch {
			case strings.HasPrefix(person, "u:"):
				row[2] = person[2:]
			case strings.HasPrefix(person, "a:"):
				row[3] = person[2:]
			default:
				row[1] = person
			}
		}
		if err := w.Write(row); err != nil {
			return out.failed(q, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return out.failed(q, err)
	}
	a.log.Info("funnel people exported", "workspace", q.ws.ID, "user", q.user.ID, "people", len(people))
	return nil
}
