package web

import (
	"cmp"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
)

// The paths page: the sequences of events people (or their sessions) go
// through from a start event, up to an end event, or after they dropped
// off a step of a funnel, as a Sankey diagram, the most common whole paths
// and the nodes with how many paths stop at each. Like the funnel, it is a
// GET form whose URL can be shared; the funnel's "dropped off" rows link
// here with the funnel's own query string and after_step.

// pathPages serve the paths over the workspaces' event indexes.
type pathPages struct {
	*analyticsPages
	ix *analytics.Indexes
}

// pathRoutes registers the paths page over ix.
func (s *server) pathRoutes(ix *analytics.Indexes) {
	p := &pathPages{analyticsPages: &analyticsPages{server: s}, ix: ix}
	s.route("GET /analytics/paths", member, "", p.pathsPage)
}

// pathForm is the paths page's query string as entered. Its own fields
// have names the funnel's query string does not use (the funnel's steps
// and exclude mean other things), so a funnel's query can come along
// whole: Funnel is read from the same query string, and used when
// AfterStep is set.
type pathForm struct {
	Start, End  string
	Length      string // the longest path, in events: 1 to analytics.MaxPathSteps
	Per         string // session or person
	Collapse    bool
	Ignore      string // event names or labels left out, one a line
	Clean       string // REGEX=ALIAS rules, one a line
	Map         string // the id of the map for stages, touchpoints and Touchpoints
	Touchpoints bool   // label events by the map's touchpoints
	Period      string // as the funnel's: 7, 30, 90, all, custom
	From, To    string
	AfterStep   string     // 1-based: paths of who dropped off after this funnel step
	Funnel      funnelForm // the funnel of AfterStep
	Filter      filterForm
	// Asked is whether the query string asks for anything: without it, the
	// page explains paths instead of computing the first events of every
	// session.
	Asked bool
}

func parsePathForm(v url.Values) pathForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	lines := func(k string) string { return strings.TrimSpace(strings.ReplaceAll(v.Get(k), "\r\n", "\n")) }
	f := pathForm{Start: g("start"), End: g("end"), Length: g("length"), Per: g("per"), Collapse: g("collapse") != "",
		Ignore: lines("ignore"), Clean: lines("clean"), Map: g("map"), Touchpoints: g("touchpoints") != "",
		Period: g("period"), From: g("from"), To: g("to"), AfterStep: g("after_step"), Filter: parseFilterForm(v), Asked: len(v) > 0}
	f.Length = cmp.Or(f.Length, strconv.Itoa(analytics.DefaultPathSteps))
	f.Per = cmp.Or(f.Per, "session")
	if f.Period == "" {
		f.Period = "30"
		if f.From != "" || f.To != "" {
			f.Period = "custom"
		}
	}
	if f.AfterStep != "" {
		f.Funnel = parseFunnelForm(v)
	}
	return f
}

// values is the form as a query string's values, the defaults left out.
func (f pathForm) values() url.Values {
	v := url.Values{}
	if f.AfterStep != "" {
		v = f.Funnel.values()
		v.Set("after_step", f.AfterStep)
	}
	set := func(k, val, def string) {
		if val != def {
			v.Set(k, val)
		} else {
			v.Del(k)
		}
	}
	flag := func(k string, on bool) {
		if on {
			v.Set(k, "1")
		}
	}
	set("start", f.Start, "")
	set("end", f.End, "")
	set("length", f.Length, strconv.Itoa(analytics.DefaultPathSteps))
	set("per", f.Per, "session")
	flag("collapse", f.Collapse)
	set("ignore", f.Ignore, "")
	set("clean", f.Clean, "")
	set("map", f.Map, "")
	flag("touchpoints", f.Touchpoints)
	set("period", f.Period, "30")
	if f.Period == "custom" {
		set("from", f.From, "")
		set("to", f.To, "")
	}
	f.Filter.addTo(v)
	return v
}

// MoreSet counts the options under "More options" that are set.
func (f pathForm) MoreSet() int {
	n := 0
	for _, set := range []bool{f.Ignore != "", f.Clean != "", f.Map != "", f.Touchpoints} {
		if set {
			n++
		}
	}
	return n
}

// Hidden are the funnel's fields the paths form carries along unseen (the
// period and the map are the form's own).
func (f pathForm) Hidden() []param {
	if f.AfterStep == "" {
		return nil
	}
	var out []param
	v := f.Funnel.values()
	for _, k := range []string{"steps", "order", "window", "unit", "agg", "group", "breakdown", "attribution", "exclude", "interval"} {
		for _, val := range v[k] {
			out = append(out, param{k, val})
		}
	}
	return append(out, param{"after_step", f.AfterStep})
}

// param is a query string parameter, for a hidden input.
type param struct{ Name, Value string }

// pathSetup is what a path query needs beside the form.
type pathSetup struct {
	funnelSetup
	length    int
	afterStep int // 1-based; 0 without a funnel
}

// pathQuery turns the form into the query it asks for, with the errors by
// form field.
func (p *pathPages) pathQuery(q *req, f pathForm, setup *pathSetup) (analytics.PathQuery, map[string]fieldMsg, error) {
	errs := map[string]fieldMsg{}
	fail := func(field, key string, args ...any) {
		if _, ok := errs[field]; !ok {
			errs[field] = fieldMsg{key, args}
		}
	}
	pq := analytics.PathQuery{Start: f.Start, End: f.End, Session: f.Per == "session", CollapseRepeats: f.Collapse, ByTouchpoint: f.Touchpoints}
	n, err := strconv.Atoi(f.Length)
	if err != nil || n < 1 || n > analytics.MaxPathSteps {
		fail("length", "paths.err_length", analytics.MaxPathSteps)
	}
	pq.Steps, setup.length = n, n
	if f.Per != "session" && f.Per != "person" {
		fail("per", "funnel.err_choice")
	}
	chosen := setup.chosen
	if f.Map != "" && chosen == nil {
		fail("map", "funnel.err_map")
	}
	places := f.Touchpoints
	for _, fe := range [][2]string{{"start", f.Start}, {"end", f.End}} {
		field, s := fe[0], fe[1]
		kind, key, _ := strings.Cut(s, ":")
		if kind != "stage" && kind != "touchpoint" {
			continue
		}
		places = true
		switch {
		case chosen == nil:
			fail(field, "funnel.err_need_map", s)
		case kind == "stage" && !slices.ContainsFunc(chosen.Map.Stages, func(st journeymap.Stage) bool { return st.Key == key }):
			fail(field, "funnel.err_stage", key, chosen.Name)
		case kind == "touchpoint":
			if _, si := chosen.Map.Touchpoint(key); si < 0 {
				fail(field, "funnel.err_touchpoint", key, chosen.Name)
			}
		}
	}
	if f.Touchpoints && chosen == nil && f.Map == "" {
		fail("touchpoints", "paths.err_touchpoints")
	}
	for line := range strings.SplitSeq(f.Ignore, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if line == f.Start || line == f.End {
			fail("ignore", "paths.err_ignore", line)
		}
		pq.Exclude = append(pq.Exclude, line)
	}
	for line := range strings.SplitSeq(f.Clean, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		rule, key, args := parseCleanLine(line)
		if key != "" {
			fail("clean", key, args...)
			continue
		}
		pq.Clean = append(pq.Clean, rule)
	}
	var bounds analytics.FunnelQuery
	p.period(q, funnelForm{Period: f.Period, From: f.From, To: f.To}, &bounds, fail)
	pq.From, pq.To = bounds.From, bounds.To

	if f.AfterStep != "" {
		k, err := strconv.Atoi(f.AfterStep)
		switch {
		case len(f.Funnel.Steps) == 0:
			fail("after_step", "paths.err_no_funnel")
		case err != nil || k < 1 || k > len(f.Funnel.Steps):
			fail("after_step", "paths.err_after_step", len(f.Funnel.Steps))
		default:
			setup.afterStep = k
		}
		if f.Start != "" {
			fail("start", "paths.err_start_after")
		}
		if setup.afterStep > 0 {
			fq, ferrs, err := p.funnelQuery(q, f.Funnel, setup.funnelSetup)
			if err != nil {
				return pq, errs, err
			}
			// The period and the map are this form's own fields; the other
			// errors are the funnel's, told above the form.
			for _, field := range slices.Sorted(maps.Keys(ferrs)) {
				m := ferrs[field]
				switch field {
				case "period", "from", "to", "map":
					fail(field, m.Key, m.Args...)
				default:
					fail("after_step", "paths.err_funnel", i18n.T(q.lang, m.Key, m.Args...))
				}
			}
			pq.AfterFunnel, pq.DropStep = &fq, setup.afterStep-1
			// The funnel's way of counting picks the actors.
			pq.Session = fq.Aggregate == "session"
		}
	}
	if places && chosen != nil && len(errs) == 0 {
		c, err := p.book().Classifier(q.ctx, q.ws.ID, chosen.Map)
		if err != nil {
			return pq, errs, err
		}
		pq.Map, pq.Classifier, pq.PlacesKey = chosen.Map, c, chosen.ID+"@"+strconv.Itoa(chosen.Version)
	}
	return pq, errs, nil
}

// parseCleanLine reads a cleaning rule "REGEX=ALIAS" (the last "=" splits
// it); it returns the rule, or the catalog key of what is wrong and its
// arguments.
func parseCleanLine(line string) (analytics.CleanRule, string, []any) {
	i := strings.LastIndexByte(line, '=')
	if i <= 0 || i == len(line)-1 {
		return analytics.CleanRule{}, "paths.err_clean", []any{line}
	}
	if _, err := regexp.Compile(line[:i]); err != nil {
		detail := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			detail = string(se.Code)
		}
		return analytics.CleanRule{}, "paths.err_clean_regex", []any{line[:i], detail}
	}
	rule, err := analytics.ParseCleanRule(line)
	if err != nil {
		return analytics.CleanRule{}, "paths.err_clean", []any{line}
	}
	return rule, "", nil
}

type pathsData struct {
	Form pathForm
	// F holds the errors by field, already in the page's language.
	F         *form
	MoreErr   bool // an error is under "More options"
	Names     []string
	Maps      []option
	Places    []option // the chosen map's stages and touchpoints
	Zone      string
	MaxLength int
	// With after_step: the funnel's steps, the step dropped off after
	// (Last: the funnel's last step, so the paths of who converted), the
	// funnel's way of counting, and the links to the funnel and to the
	// paths from that step without the funnel.
	Funnel           []string
	AfterStep        int
	AfterLabel       string
	NextLabel        string
	AfterLast        bool
	FunnelAgg        string
	FunnelURL        string
	WithoutFunnelURL string
	// Example is a paths query from the most frequent event, for the empty
	// state; "" when the workspace has no events.
	Example, ExampleEvent string
	R                     *pathsView // nil: nothing computed
	Filter                *filterBlock
}

// pathsView is a computed paths query as the page shows it.
type pathsView struct {
	Actors, Truncated int64
	TruncatedShare    string
	TopShare          string
	Unit              string // what a path is of: session, person or group
	Steps             int
	EndAligned        bool // End only: the paths are aligned on their end
	Chart             *sankeySpec
	Top               []topPathRow
	Nodes             []pathNodeRow
}

type topPathRow struct {
	Labels          []string
	Text            string // the labels joined by arrows, for CSV
	Count           int64
	Share, ShareRaw string
}

type pathNodeRow struct {
	Step                  int // 1-based
	Label                 string
	Other                 bool
	Count, DropOff        int64
	DropShare, DropRawPct string
}

// sankeySpec is a chartSpec whose nodes and links carry, beside their
// names and values, what charts.js hands to ECharts as they are: a node's
// column (depth) and the colours of the drop-off nodes and links.
type sankeySpec struct {
	chartSpec
	Nodes []sankeyNode `json:"nodes"`
	Links []sankeyLink `json:"links"`
}

type sankeyNode struct {
	Name      string       `json:"name"`
	Depth     int          `json:"depth"`
	ItemStyle *sankeyStyle `json:"itemStyle,omitempty"`
}

type sankeyLink struct {
	Source    string       `json:"source"`
	Target    string       `json:"target"`
	Value     int64        `json:"value"`
	LineStyle *sankeyStyle `json:"lineStyle,omitempty"`
}

type sankeyStyle struct {
	Color   string  `json:"color"`
	Opacity float64 `json:"opacity,omitempty"`
}

// The colours of the nodes that are not events: the merged "(other)"
// labels and the paths that stop.
var (
	otherStyle = &sankeyStyle{Color: "#8795a5"}
	dropStyle  = &sankeyStyle{Color: "#c3cad3"}
	dropLine   = &sankeyStyle{Color: "#aab4bf", Opacity: 0.3}
)

func (p *pathPages) pathsPage(q *req) error {
	f := parsePathForm(q.r.URL.Query())
	d := &pathsData{Form: f, F: newForm(nil), MaxLength: analytics.MaxPathSteps}
	pg := q.page("paths.title", "nav.paths", d)
	d.Zone = pg.Zone()
	var setup pathSetup
	ff := f.Funnel
	ff.Map = f.Map
	var scratch funnelData
	var err error
	if setup.funnelSetup, err = p.funnelSetup(q, ff, &scratch); err != nil {
		return err
	}
	d.Names, d.Maps, d.Places = scratch.Names, scratch.Maps, scratch.Places
	if len(d.Names) > 0 {
		d.ExampleEvent = d.Names[0]
		d.Example = "/analytics/paths?" + pathForm{Start: d.ExampleEvent, Length: f.Length, Per: "session", Period: "30"}.values().Encode()
	}
	flt, block, errs, err := p.parseFilter(q, f.Filter, d.F, "/analytics/paths", f.values())
	if err != nil {
		return err
	}
	d.Filter = block
	if !f.Asked {
		p.render(q, http.StatusOK, "paths", pg)
		return nil
	}
	pq, perrs, err := p.pathQuery(q, f, &setup)
	if err != nil {
		return err
	}
	mergeErrs(errs, perrs)
	if k := setup.afterStep; k > 0 {
		for _, s := range f.Funnel.Steps {
			d.Funnel = append(d.Funnel, stepLabel(q.lang, s, setup.chosen))
		}
		d.AfterStep, d.AfterLabel, d.AfterLast = k, d.Funnel[k-1], k == len(d.Funnel)
		if !d.AfterLast {
			d.NextLabel = d.Funnel[k]
		}
		d.FunnelAgg = f.Funnel.Aggregate
		if !slices.Contains(aggregates, d.FunnelAgg) {
			d.FunnelAgg = "person" // the funnel's error says what is wrong
		}
		d.FunnelURL = "/analytics/funnel?" + f.Funnel.values().Encode()
		alone := f
		alone.AfterStep, alone.Start = "", f.Funnel.Steps[k-1]
		d.WithoutFunnelURL = "/analytics/paths?" + alone.values().Encode()
	}
	var res *analytics.PathResult
	if len(errs) == 0 {
		res, err = p.compute(q, pq, flt)
		var bad *badFunnelError
		if errors.As(err, &bad) {
			field := "start"
			if pq.AfterFunnel != nil {
				field = "after_step"
			}
			errs[field] = fieldMsg{"paths.err_invalid", []any{bad.detail}}
		} else if err != nil {
			return err
		}
	}
	for field, m := range errs {
		d.F.Fail(field, i18n.T(q.lang, m.Key, m.Args...))
		switch field {
		case "ignore", "clean", "map", "touchpoints":
			d.MoreErr = true
		}
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		d.R = pathsResult(q.lang, pq, setup, res)
	}
	p.render(q, status, "paths", pg)
	return nil
}

// compute runs the paths query on the workspace's events as they are now,
// as the filter narrows them; a query the analytics package refuses is a
// *badFunnelError.
func (p *pathPages) compute(q *req, pq analytics.PathQuery, flt analytics.Filter) (*analytics.PathResult, error) {
	v, err := filteredView(q, p.ix, flt)
	if err != nil {
		return nil, err
	}
	res, err := v.Paths(q.ctx, pq)
	for _, bad := range []error{analytics.ErrPaths, analytics.ErrFunnel} {
		if errors.Is(err, bad) {
			return nil, &badFunnelError{strings.TrimPrefix(err.Error(), bad.Error()+": ")}
		}
	}
	return res, err
}

// pathsResult lays out a result for the page.
func pathsResult(lang string, pq analytics.PathQuery, setup pathSetup, res *analytics.PathResult) *pathsView {
	v := &pathsView{Actors: res.Actors, Truncated: res.Truncated, Steps: setup.length, Unit: "person",
		EndAligned: pq.End != "" && pq.Start == "" && pq.AfterFunnel == nil}
	switch {
	case pq.AfterFunnel != nil && strings.HasPrefix(pq.AfterFunnel.Aggregate, "group:"):
		v.Unit = "group"
	case pq.Session:
		v.Unit = "session"
	}
	v.TruncatedShare = pct(lang, res.Truncated, res.Actors)
	if len(res.TopPaths) > 0 {
		v.TopShare = pct(lang, res.TopPaths[0].Count, res.Actors)
	}
	for _, tp := range res.TopPaths {
		v.Top = append(v.Top, topPathRow{Labels: tp.Labels, Text: strings.Join(tp.Labels, " → "), Count: tp.Count,
			Share: pct(lang, tp.Count, res.Actors), ShareRaw: rawPct(tp.Count, res.Actors)})
	}
	label := func(n analytics.PathNode) string {
		if n.Label == analytics.OtherLabel {
			return i18n.T(lang, "paths.other")
		}
		return n.Label
	}
	for _, n := range res.Nodes {
		v.Nodes = append(v.Nodes, pathNodeRow{Step: n.Step + 1, Label: label(n), Other: n.Label == analytics.OtherLabel,
			Count: n.Count, DropOff: n.DropOff, DropShare: pct(lang, n.DropOff, n.Count), DropRawPct: rawPct(n.DropOff, n.Count)})
	}
	if len(res.Links) > 0 || len(res.Nodes) > 1 {
		v.Chart = sankeyChart(lang, pq, setup.length, res, label)
	}
	return v
}

// sankeyChart draws the nodes step by step, each step a column. ECharts
// names nodes by their text, so a label seen at several steps is told
// apart by invisible zero-width spaces, one per step. The paths that stop
// at a node (when no End event ends them all) flow into a grey node of the
// next column, one per column.
func sankeyChart(lang string, pq analytics.PathQuery, steps int, res *analytics.PathResult, label func(analytics.PathNode) string) *sankeySpec {
	c := &sankeySpec{chartSpec: chartSpec{Kind: "sankey", Lang: lang,
		Summary: i18n.T(lang, "paths.chart_summary", i18n.Number(lang, res.Actors), steps)}}
	names := make([]string, len(res.Nodes))
	for i, n := range res.Nodes {
		names[i] = label(n) + strings.Repeat("\u200b", n.Step)
		sn := sankeyNode{Name: names[i], Depth: n.Step}
		if n.Label == analytics.OtherLabel {
			sn.ItemStyle = otherStyle
		}
		c.Nodes = append(c.Nodes, sn)
	}
	for _, l := range res.Links {
		c.Links = append(c.Links, sankeyLink{Source: names[l.Source], Target: names[l.Target], Value: l.Count})
	}
	if pq.End != "" {
		return c // every path ends at the End event, or is cut
	}
	drops := map[int]string{}
	for i, n := range res.Nodes {
		if n.DropOff == 0 || n.Step+1 >= steps {
			continue
		}
		name, ok := drops[n.Step+1]
		if !ok {
			name = i18n.T(lang, "paths.stopped") + strings.Repeat("\u200b", n.Step+1) + "\u2060"
			drops[n.Step+1] = name
			c.Nodes = append(c.Nodes, sankeyNode{Name: name, Depth: n.Step + 1, ItemStyle: dropStyle})
		}
		c.Links = append(c.Links, sankeyLink{Source: names[i], Target: name, Value: n.DropOff, LineStyle: dropLine})
	}
	return c
}
