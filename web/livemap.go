package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/journeymap/draw"
)

// The live map: a journey map measured over the workspace's events
// (analytics.View.LiveMap). Per stage the customers, the conversion to the
// next stage and the time it takes; per touchpoint its use and whether its
// users go on more often than the others; the emotion surveys report beside
// the one the map plans; how many touchpoints customers use; and where the
// journey they take leaves the map. Every view is a GET form, so its URL
// can be shared with the team; a map's share link shows none of it.

// liveForm is the live map's query string as entered.
type liveForm struct {
	Period   string // 7, 30, 90 (days up to today), all, custom (From, To)
	From, To string // YYYY-MM-DD in the workspace's time zone
	Persona  string // traits.persona
	Where    string // FIELD=VALUE: people with an event where FIELD has VALUE
}

func parseLiveForm(v url.Values) liveForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := liveForm{Period: g("period"), From: g("from"), To: g("to"), Persona: g("persona"), Where: g("where")}
	if f.Period == "" {
		f.Period = "30"
		if f.From != "" || f.To != "" {
			f.Period = "custom"
		}
	}
	return f
}

// values is the form as a query string, the defaults left out.
func (f liveForm) values() url.Values {
	v := url.Values{}
	if f.Period != "30" {
		v.Set("period", f.Period)
	}
	if f.Period == "custom" {
		if f.From != "" {
			v.Set("from", f.From)
		}
		if f.To != "" {
			v.Set("to", f.To)
		}
	}
	if f.Persona != "" {
		v.Set("persona", f.Persona)
	}
	if f.Where != "" {
		v.Set("where", f.Where)
	}
	return v
}

// Filtered reports whether the form narrows the customers or the period.
func (f liveForm) Filtered() bool { return len(f.values()) > 0 }

// liveQuery turns the form into the period and the people of a live map
// query. The errors are by form field.
func (s *server) liveQuery(q *req, f liveForm) (analytics.LiveMapQuery, map[string]fieldMsg) {
	errs := map[string]fieldMsg{}
	fail := func(field, key string, args ...any) {
		if _, ok := errs[field]; !ok {
			errs[field] = fieldMsg{key, args}
		}
	}
	// The same periods as the funnel's, read the same way.
	var fq analytics.FunnelQuery
	(&analyticsPages{server: s}).period(q, funnelForm{Period: f.Period, From: f.From, To: f.To}, &fq, fail)
	lq := analytics.LiveMapQuery{From: fq.From, To: fq.To, Persona: f.Persona}
	if f.Where != "" {
		field, value, ok := strings.Cut(f.Where, "=")
		field, value = strings.TrimSpace(field), strings.TrimSpace(value)
		if !ok || field == "" || value == "" || strings.ContainsAny(field, " \t") {
			fail("where", "livemap.err_where")
		} else {
			lq.Where = &analytics.FieldEquals{Field: field, Value: value}
		}
	}
	return lq, errs
}

// Why a live map has no numbers to show.
const (
	liveOff         = "off"          // the server keeps no analytics index
	liveNoMatchers  = "no_matchers"  // no stage or touchpoint has a matcher
	liveBadMatchers = "bad_matchers" // a matcher does not compile
	liveNoEvents    = "no_events"    // the workspace has no events yet
)

// hasMatchers reports whether any stage or touchpoint of m has a matcher.
func hasMatchers(m *journeymap.Map) bool {
	for _, st := range m.Stages {
		if st.Match != nil {
			return true
		}
		for _, tp := range st.Touchpoints {
			if tp.Match != nil {
				return true
			}
		}
	}
	return false
}

// measureLive measures map e with the period and people of lq. With no
// result, state says why (one of the live* states).
func (s *server) measureLive(q *req, e journeymap.Entry, lq analytics.LiveMapQuery) (res *analytics.LiveMap, state string, err error) {
	if s.analytics == nil {
		return nil, liveOff, nil
	}
	if len(e.Map.Stages) == 0 || !hasMatchers(e.Map) {
		return nil, liveNoMatchers, nil
	}
	c, err := s.book().Classifier(q.ctx, q.ws.ID, e.Map)
	var invalid journeymap.Errors
	switch {
	case errors.As(err, &invalid):
		return nil, liveBadMatchers, nil
	case err != nil:
		return nil, "", err
	}
	v, err := s.analytics.View(q.ctx, q.ws.ID)
	if err != nil {
		return nil, "", err
	}
	if v.Len() == 0 {
		return nil, liveNoEvents, nil
	}
	lq.Map, lq.Classifier, lq.PlacesKey = e.Map, c, fmt.Sprintf("%s@%d", e.ID, e.Version)
	res, err = v.LiveMap(q.ctx, lq)
	return res, "", err
}

// liveMeasuresJSON serves the map page's "Measured" row: by stage and
// touchpoint key the text the row shows, as before, and under "_live" the
// numbers behind them. It takes the live page's query (period, from, to,
// persona, where; the last 30 days by default). Without an analytics
// index it serves the matchers' own count (mapMeasuresJSON).
func (s *server) liveMeasuresJSON(q *req) error {
	if s.analytics == nil {
		return s.mapMeasuresJSON(q)
	}
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	f := parseLiveForm(q.r.URL.Query())
	lq, errs := s.liveQuery(q, f)
	if len(errs) > 0 {
		msgs := map[string]string{}
		for field, m := range errs {
			msgs[field] = i18n.T(q.lang, m.Key, m.Args...)
		}
		return writeJSON(q, http.StatusBadRequest, map[string]any{"error": msgs})
	}
	res, _, err := s.measureLive(q, e, lq)
	if err != nil {
		return err
	}
	out := map[string]any{}
	if res == nil {
		return writeJSON(q, http.StatusOK, out) // nothing measured: the row keeps its dashes
	}
	lang := q.lang
	type stageJSON struct {
		Customers     int64    `json:"customers"`
		Events        int64    `json:"events"`
		NextRate      *float64 `json:"next_rate"` // percent, null on the last stage
		DropOff       int64    `json:"drop_off"`
		MedianSeconds *float64 `json:"median_seconds"`
	}
	type touchpointJSON struct {
		Customers int64   `json:"customers"`
		Events    int64   `json:"events"`
		Share     float64 `json:"share"` // percent of the stage's customers
	}
	live := struct {
		From        *time.Time                `json:"from"`
		To          *time.Time                `json:"to"`
		Customers   int64                     `json:"customers"`
		Events      int64                     `json:"events"`
		URL         string                    `json:"url"`
		Stages      map[string]stageJSON      `json:"stages"`
		Touchpoints map[string]touchpointJSON `json:"touchpoints"`
	}{Customers: res.Customers, Events: res.Events, Stages: map[string]stageJSON{}, Touchpoints: map[string]touchpointJSON{},
		URL: liveURL(e.ID, f)}
	if !lq.From.IsZero() {
		live.From = &lq.From
	}
	if !lq.To.IsZero() {
		live.To = &lq.To
	}
	for si, ls := range res.Stages {
		st := e.Map.Stages[si]
		sj := stageJSON{Customers: ls.Customers, Events: ls.Events, DropOff: ls.DropOff, NextRate: percentOf(ls.NextRate)}
		text := i18n.N(lang, "measure.stage", ls.Customers, i18n.Number(lang, ls.Customers))
		if ls.NextRate >= 0 {
			text += " · " + i18n.T(lang, "livemap.measure_next", ratePct(lang, ls.NextRate))
		}
		if ls.MedianSeconds >= 0 {
			m := ls.MedianSeconds
			sj.MedianSeconds = &m
			text += " · " + i18n.T(lang, "livemap.measure_median", humanDuration(lang, m))
		}
		out[st.Key] = text
		live.Stages[st.Key] = sj
		for ti, lt := range ls.Touchpoints {
			live.Touchpoints[lt.Key] = touchpointJSON{Customers: lt.Customers, Events: lt.Events, Share: math.Round(1000*lt.Share) / 10}
			if st.Touchpoints[ti].Match != nil {
				out[lt.Key] = i18n.N(lang, "measure.touchpoint", lt.Customers, i18n.Number(lang, lt.Customers), ratePct(lang, lt.Share))
			}
		}
	}
	out["_live"] = live
	return writeJSON(q, http.StatusOK, out)
}

// liveURL is the live page of map id with the form's filters.
func liveURL(id string, f liveForm) string {
	u := "/journeys/" + url.PathEscape(id) + "/live"
	if v := f.values(); len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// percentOf is a rate (0..1, -1 for none) in percent for JSON, nil for none.
func percentOf(r float64) *float64 {
	if r < 0 {
		return nil
	}
	p := math.Round(1000*r) / 10
	return &p
}

// ratePct writes a rate (0..1) as a percentage with one decimal, the way
// lang writes decimals; "—" for no rate (-1).
func ratePct(lang string, r float64) string {
	if r < 0 {
		return "—"
	}
	s := strconv.FormatFloat(100*r, 'f', 1, 64)
	return strings.Replace(s, ".", i18n.T(lang, "fmt.decimal"), 1) + "%"
}

// rawRate is ratePct for a CSV file: a plain number, "" for no rate.
func rawRate(r float64) string {
	if r < 0 {
		return ""
	}
	return strconv.FormatFloat(100*r, 'f', 1, 64)
}

// signedScore writes a mean emotion (-2..+2) with one decimal and its sign.
func signedScore(lang string, v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 1, 64)
	s = strings.Replace(s, ".", i18n.T(lang, "fmt.decimal"), 1)
	switch {
	case v >= 0.05:
		return "+" + s
	case v <= -0.05:
		return "−" + s
	}
	return strings.Replace("0.0", ".", i18n.T(lang, "fmt.decimal"), 1)
}

// liveData is the live page.
type liveData struct {
	Entry    journeymap.Entry
	Form     liveForm
	F        *form // the errors by field, in the page's language
	Personas []option
	Zone     string
	State    string // why there are no numbers (see measureLive), "" when there are
	Period   string // the period measured, in words
	R        *liveView
}

// liveView is a measured map as the page shows it.
type liveView struct {
	Customers, Events, Unclassified int64
	UnclassifiedPct                 string
	Completed                       int64 // customers in the last stage
	CompletedPct                    string
	Width                           int // of the stage columns, for the emotion curve
	Stages                          []liveStageRow
	Touchpoints                     int // how many touchpoints the map has
	Curve                           emotionLane
	Measured                        bool // a survey answer counts in some stage
	StageChart                      chartSpec
	UsedChart, CompletionChart      chartSpec
	Used                            []usedRow
	Expected                        int
	OutOfOrder                      int64
	OutOfOrderPct                   string
	Jumps                           []jumpRow
	Unplanned, Missing              []tpRefRow
}

type liveStageRow struct {
	N                  int
	Key, Name          string
	Last               bool
	Customers, Events  int64
	DropOff            int64
	Next, NextRaw      string
	NextBar            float64 // 0..100
	Median, MedianRaw  string
	Planned            *journeymap.Emotion
	Emotion, EmoRaw    string // measured, "" when no answer
	Answers            int64
	Touchpoints        []liveTouchpointRow
	ShareOfAll         string
	ShareOfAllRaw      string
	HasTouchpointMatch bool
}

type liveTouchpointRow struct {
	Key, Name, Channel  string
	Icon                string
	Expected, Match     bool
	Missing, Unplanned  bool // expected and unused; not expected and used
	Events, Customers   int64
	Share, ShareRaw     string
	ShareBar            float64
	HasRates            bool
	Users, Others       string
	UsersRaw, OthersRaw string
	UsersBar, OthersBar float64
	Diff, DiffClass     string // "+12 points", better / worse / ""
}

type usedRow struct {
	Label                   string
	Touchpoints             int
	Customers, Completed    int64
	Share, ShareRaw         string
	Completion, CompleteRaw string
	Expected                bool
}

type jumpRow struct {
	Later, Earlier string
	Customers      int64
}

type tpRefRow struct {
	Stage, Touchpoint string
	Key               string
	Customers         int64
}

// Rates of users and non-users of a touchpoint this far apart (in
// percentage points) are flagged as better or worse.
const liveDiffPoints = 5

func (s *server) liveMapPage(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	f := parseLiveForm(q.r.URL.Query())
	d := &liveData{Entry: e, Form: f, F: newForm(nil), Personas: livePersonas(e.Map)}
	p := q.page("livemap.title", "nav.journeys", d).withTitleArgs(e.Name)
	d.Zone = p.Zone()
	lq, errs := s.liveQuery(q, f)
	status := http.StatusOK
	if len(errs) > 0 {
		for field, m := range errs {
			d.F.Fail(field, i18n.T(q.lang, m.Key, m.Args...))
		}
		status = http.StatusUnprocessableEntity
	} else {
		d.Period = periodText(q, f, lq)
		res, state, err := s.measureLive(q, e, lq)
		if err != nil {
			return err
		}
		d.State = state
		if res != nil {
			d.R = liveResult(q.lang, e, res)
		}
	}
	s.render(q, status, "map_live", p)
	return nil
}

// livePersonas are the suggestions of the persona field: the segments of
// the map's personas, else their names.
func livePersonas(m *journeymap.Map) []option {
	var out []option
	for _, p := range []*journeymap.Persona{m.Persona, m.ComparePersona} {
		if p == nil {
			continue
		}
		o := option{Value: p.Segment, Label: p.Name}
		if o.Value == "" {
			o.Value = p.Name
		}
		out = append(out, o)
	}
	return out
}

// periodText says the period measured: the last N days, all time, or the
// days from and to.
func periodText(q *req, f liveForm, lq analytics.LiveMapQuery) string {
	switch f.Period {
	case "7", "30", "90":
		n, _ := strconv.Atoi(f.Period)
		return i18n.N(q.lang, "livemap.last_days", int64(n))
	case "all":
		return i18n.T(q.lang, "livemap.all_time")
	}
	layout := i18n.T(q.lang, "fmt.date")
	from, to := "…", "…"
	if !lq.From.IsZero() {
		from = lq.From.In(q.loc).Format(layout)
	}
	if !lq.To.IsZero() {
		to = lq.To.In(q.loc).AddDate(0, 0, -1).Format(layout)
	}
	return i18n.T(q.lang, "livemap.days_range", from, to)
}

// liveResult lays out a measured map for the page.
func liveResult(lang string, e journeymap.Entry, res *analytics.LiveMap) *liveView {
	m := e.Map
	v := &liveView{Customers: res.Customers, Events: res.Events, Unclassified: res.Unclassified, Expected: res.Expected,
		OutOfOrder: res.OutOfOrder, Width: colWidth * len(m.Stages)}
	v.UnclassifiedPct = percent(lang, res.Unclassified, res.Events)
	v.OutOfOrderPct = percent(lang, res.OutOfOrder, res.Customers)
	last := res.Stages[len(res.Stages)-1]
	v.Completed, v.CompletedPct = last.Customers, percent(lang, last.Customers, res.Customers)
	names := map[string]string{} // stage and touchpoint names by key
	labels := make([]string, len(m.Stages))
	counts := make([]int64, len(m.Stages))
	falling := true
	for si, ls := range res.Stages {
		st := m.Stages[si]
		names[st.Key] = st.Name
		row := liveStageRow{N: si + 1, Key: st.Key, Name: st.Name, Last: si+1 == len(m.Stages), Customers: ls.Customers, Events: ls.Events,
			DropOff: ls.DropOff, Next: ratePct(lang, ls.NextRate), NextRaw: rawRate(ls.NextRate), NextBar: max(ls.NextRate, 0) * 100,
			Median: "—", Planned: st.Emotion, Answers: ls.Answers,
			ShareOfAll: percent(lang, ls.Customers, res.Customers), ShareOfAllRaw: rawPct(ls.Customers, res.Customers)}
		if ls.MedianSeconds >= 0 {
			row.Median, row.MedianRaw = humanDuration(lang, ls.MedianSeconds), strconv.FormatFloat(ls.MedianSeconds, 'f', 0, 64)
		}
		if ls.Answers > 0 {
			row.Emotion, row.EmoRaw = signedScore(lang, ls.Emotion), strconv.FormatFloat(ls.Emotion, 'f', 2, 64)
			v.Measured = true
		}
		for ti, lt := range ls.Touchpoints {
			tp := st.Touchpoints[ti]
			names[tp.Key] = tp.Name
			v.Touchpoints++
			tr := liveTouchpointRow{Key: tp.Key, Name: tp.Name, Channel: string(tp.Channel), Icon: draw.IconPath(tp.Channel),
				Expected: tp.Expected, Match: tp.Match != nil, Missing: tp.Expected && lt.Customers == 0, Unplanned: !tp.Expected && lt.Customers > 0,
				Events: lt.Events, Customers: lt.Customers, Share: ratePct(lang, lt.Share), ShareRaw: rawRate(lt.Share), ShareBar: lt.Share * 100}
			row.HasTouchpointMatch = row.HasTouchpointMatch || tr.Match
			if lt.RateUsers >= 0 || lt.RateOthers >= 0 {
				tr.HasRates = true
				tr.Users, tr.UsersRaw, tr.UsersBar = ratePct(lang, lt.RateUsers), rawRate(lt.RateUsers), max(lt.RateUsers, 0)*100
				tr.Others, tr.OthersRaw, tr.OthersBar = ratePct(lang, lt.RateOthers), rawRate(lt.RateOthers), max(lt.RateOthers, 0)*100
				if lt.RateUsers >= 0 && lt.RateOthers >= 0 {
					diff := math.Round(100 * (lt.RateUsers - lt.RateOthers))
					switch {
					case diff >= liveDiffPoints:
						tr.Diff, tr.DiffClass = i18n.N(lang, "livemap.diff_better", int64(diff)), "better"
					case diff <= -liveDiffPoints:
						tr.Diff, tr.DiffClass = i18n.N(lang, "livemap.diff_worse", int64(-diff)), "worse"
					default:
						tr.Diff = i18n.T(lang, "livemap.diff_same")
					}
				}
			}
			row.Touchpoints = append(row.Touchpoints, tr)
		}
		v.Stages = append(v.Stages, row)
		labels[si], counts[si] = st.Name, ls.Customers
		if si > 0 && ls.Customers > counts[si-1] {
			falling = false
		}
	}
	v.Curve = liveCurve(lang, m, res)

	// The stages as a funnel, when each has fewer customers than the one
	// before (else the funnel's scale, set by the first, would cut bars).
	first, lastN := counts[0], counts[len(counts)-1]
	v.StageChart = chartSpec{Kind: "funnel", Lang: lang, Labels: numbered(labels), Values: counts,
		Summary: i18n.T(lang, "livemap.stage_chart_summary", len(labels), i18n.Number(lang, first), i18n.Number(lang, lastN)),
		Text: map[string]string{"reached": i18n.T(lang, "livemap.chart_customers"), "dropped": i18n.T(lang, "livemap.chart_fewer"),
			"fromFirst": i18n.T(lang, "livemap.chart_from_first"), "fromPrev": i18n.T(lang, "livemap.chart_from_prev")}}
	if len(labels) > 6 {
		v.StageChart.Orient = "horizontal"
	}
	if !falling {
		data := make([]*float64, len(counts))
		for i, c := range counts {
			n := float64(c)
			data[i] = &n
		}
		v.StageChart = chartSpec{Kind: "bars", Lang: lang, Labels: numbered(labels), Summary: v.StageChart.Summary,
			Series: []chartSeries{{Name: i18n.T(lang, "livemap.chart_customers"), Data: data}}}
	}

	// Touchpoints used: every bucket from the first to the last with
	// customers, and at least up to the expected count.
	lo, hi := -1, -1
	for i, b := range res.TouchpointsUsed {
		if b.Customers > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	if lo >= 0 {
		top := len(res.TouchpointsUsed) - 1
		hi = min(max(hi, res.Expected), top)
		lo = min(lo, max(res.Expected, 0))
		v.UsedChart = chartSpec{Kind: "bars", Lang: lang, Summary: i18n.T(lang, "livemap.used_summary", res.Expected),
			Series: []chartSeries{{Name: i18n.T(lang, "livemap.chart_customers")}}}
		v.CompletionChart = chartSpec{Kind: "line", Lang: lang, Unit: "%", Summary: i18n.T(lang, "livemap.completion_summary"),
			Series: []chartSeries{{Name: i18n.T(lang, "livemap.col_completion")}}}
		for i := lo; i <= hi; i++ {
			b := res.TouchpointsUsed[i]
			label := strconv.Itoa(b.Touchpoints)
			if i == top {
				label = i18n.T(lang, "livemap.or_more", b.Touchpoints)
			}
			chartLabel := label
			if b.Touchpoints == res.Expected {
				chartLabel = i18n.T(lang, "livemap.expected_mark", label)
			}
			r := usedRow{Label: label, Touchpoints: b.Touchpoints, Customers: b.Customers, Completed: b.Completed, Expected: b.Touchpoints == res.Expected,
				Share: percent(lang, b.Customers, res.Customers), ShareRaw: rawPct(b.Customers, res.Customers),
				Completion: percent(lang, b.Completed, b.Customers), CompleteRaw: rawPct(b.Completed, b.Customers)}
			v.Used = append(v.Used, r)
			n := float64(b.Customers)
			v.UsedChart.Labels = append(v.UsedChart.Labels, chartLabel)
			v.UsedChart.Series[0].Data = append(v.UsedChart.Series[0].Data, &n)
			v.CompletionChart.Labels = append(v.CompletionChart.Labels, chartLabel)
			v.CompletionChart.Series[0].Data = append(v.CompletionChart.Series[0].Data, rate(b.Completed, b.Customers))
		}
	}

	for i, j := range res.OutOfOrderJumps {
		if i == 10 {
			break
		}
		v.Jumps = append(v.Jumps, jumpRow{Later: names[j.Later], Earlier: names[j.Earlier], Customers: j.Customers})
	}
	for _, r := range res.Unplanned {
		v.Unplanned = append(v.Unplanned, tpRefRow{Stage: names[r.Stage], Touchpoint: names[r.Touchpoint], Key: r.Touchpoint, Customers: r.Customers})
	}
	for _, r := range res.Missing {
		v.Missing = append(v.Missing, tpRefRow{Stage: names[r.Stage], Touchpoint: names[r.Touchpoint], Key: r.Touchpoint})
	}
	return v
}

// emotionLane is the live page's emotion curves: the map's and the
// surveys', in the grid's coordinates (as the map's own emotion curve).
type emotionLane struct {
	Width, Height int
	Levels        []curveLevel
	Lines         []emotionLine
}

type emotionLine struct {
	Class, Points string
	Marks         []emotionMark
}

// emotionMark is a point with its label: right of the point, or left of it
// (End) in the last column, where the label would leave the picture; the
// map's labels above the line and the surveys' below, unless that leaves
// the picture (DY is the label's offset).
type emotionMark struct {
	curveMark
	End bool
	DY  int
}

// labelDY places a label above a point at y, or below it.
func labelDY(y int, below bool) int {
	switch {
	case below && y+18 <= curveH-4, !below && y-9 < 14:
		return 18
	}
	return -9
}

// liveCurve draws the emotion the map plans for each stage and the one its
// customers' survey answers report.
func liveCurve(lang string, m *journeymap.Map, res *analytics.LiveMap) emotionLane {
	c := emotionLane{Width: colWidth * len(m.Stages), Height: curveH}
	for sc := 2; sc >= -2; sc-- {
		c.Levels = append(c.Levels, curveLevel{curveY(sc), sc})
	}
	planned := emotionLine{Class: "curve-main"}
	measured := emotionLine{Class: "curve-measured"}
	var pp, mp []string
	last := len(m.Stages) - 1
	for i, st := range m.Stages {
		x := colWidth*i + colWidth/2
		if em := st.Emotion; em != nil {
			y := curveY(em.Score)
			pp = append(pp, fmt.Sprintf("%d,%d", x, y))
			label := em.Label
			if label == "" {
				label = strings.Replace(fmt.Sprintf("%+d", em.Score), "-", "−", 1)
			}
			planned.Marks = append(planned.Marks, emotionMark{curveMark: curveMark{X: x, Y: y, Score: em.Score, Label: label,
				Shape: shapeFor(x, y, em.Score, planned.Class)}, End: i == last, DY: labelDY(y, false)})
		}
		ls := res.Stages[i]
		if ls.Answers == 0 {
			continue
		}
		score := max(-2, min(2, ls.Emotion))
		y := int(math.Round(18 + (2-score)*float64(curveH-36)/4))
		mp = append(mp, fmt.Sprintf("%d,%d", x, y))
		rounded := int(math.Round(score))
		label := i18n.N(lang, "livemap.emotion_point", ls.Answers, signedScore(lang, ls.Emotion), i18n.Number(lang, ls.Answers))
		measured.Marks = append(measured.Marks, emotionMark{curveMark: curveMark{X: x, Y: y, Score: rounded, Label: label,
			Shape: shapeFor(x, y, rounded, measured.Class)}, End: i == last, DY: labelDY(y, true)})
	}
	planned.Points, measured.Points = strings.Join(pp, " "), strings.Join(mp, " ")
	for _, l := range []emotionLine{planned, measured} {
		if len(l.Marks) > 0 {
			c.Lines = append(c.Lines, l)
		}
	}
	return c
}
