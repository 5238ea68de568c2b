package analytics

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/journeymap"
)

// PathQuery asks which sequences of events actors go through.
//
// Each event gets a label: its name (a track event's name, a page or
// screen name; an unnamed page or screen is labelled by its path; other
// events without a name, identify, group and alias calls, are left out),
// or with ByTouchpoint the name of the map touchpoint it falls on. Clean
// rules then rewrite labels. An actor's labelled events, in time order,
// make its sequence, and the path is cut from the sequence:
//
//   - Start only: from the first event matching Start, at most Steps events;
//   - End only: the Steps events up to and including the first event
//     matching End (shorter when the actor has fewer before it);
//   - Start and End: from the first Start event to the first End event after
//     it, cut to the first Steps events when longer; actors with no End
//     after their Start are not counted;
//   - neither: the actor's first Steps events;
//   - AfterFunnel: see there.
//
// Actors without a matching Start (or End) event are not counted.
type PathQuery struct {
	// From and To bound the events read (To exclusive); zero: all time.
	From, To time.Time
	// Start and End are event names or labels (after cleaning, e.g. a page
	// path or an alias); with Map and Classifier set, also "stage:KEY" and
	// "touchpoint:KEY" of that map. An event matching Start or End is kept
	// even with ByTouchpoint when it falls on no touchpoint (labelled by its
	// name).
	Start, End string
	Map        *journeymap.Map
	// Classifier is compiled from Map; PlacesKey names it for the index's
	// cache of where each event falls (the map's id and version).
	Classifier *journeymap.Classifier
	PlacesKey  string
	// Steps is the longest path, in events (default 5, at most MaxPathSteps).
	Steps int
	// Session cuts each person's events into sessions (context.sessionId,
	// else properties.session_id, else a gap of SessionGap) and counts each
	// session's path; else one path per person.
	Session bool
	// CollapseRepeats merges consecutive events with the same label into
	// one (A A A B becomes A B), after Exclude has dropped events.
	CollapseRepeats bool
	// Exclude drops events before paths are made: by event name or label.
	Exclude []string
	// Clean rewrites labels: the first rule whose pattern matches a label
	// replaces it with its alias (e.g. ^/product/ becomes "/product/*").
	Clean []CleanRule
	// ByTouchpoint labels events by the name of the touchpoint they fall on
	// (the stage's name for an event its stage's own matcher claims) and
	// drops events on no place. Needs Map and Classifier.
	ByTouchpoint bool
	// TopLabels is how many labels each step shows (default 10); the
	// others of the step are merged into one node labelled OtherLabel.
	TopLabels int
	// AfterFunnel asks for the paths of the actors who dropped off a funnel
	// after step DropStep (0-based): the funnel is computed as View.Funnel
	// does (its own steps, window, order, From/To, exclusions, aggregate);
	// the actors whose best attempt is not excluded and reached step
	// DropStep but not the next one are kept (with DropStep the last step:
	// the actors who converted). Each path starts at the event that filled
	// step DropStep in that attempt (actors whose event is outside From and
	// To are not counted), labelled as any event (by the step's name when it
	// has no label, e.g. unclassified with ByTouchpoint, or excluded), and
	// goes on with the actor's later events as a Start path does (up to the
	// first End after it when End is set). The funnel's Aggregate
	// picks the actors; when it is empty, Session does. Start must be empty.
	AfterFunnel *FunnelQuery
	DropStep    int
}

// CleanRule rewrites the labels its pattern matches to Alias.
type CleanRule struct {
	Pattern *regexp.Regexp
	Alias   string
}

// ParseCleanRule reads "REGEX=ALIAS"; the last "=" separates the alias,
// so the pattern may hold "=".
func ParseCleanRule(s string) (CleanRule, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || i == len(s)-1 {
		return CleanRule{}, fmt.Errorf("%w: clean rule %q: want REGEX=ALIAS, e.g. '^/product/.*=/product/*'", ErrPaths, s)
	}
	re, err := regexp.Compile(s[:i])
	if err != nil {
		return CleanRule{}, fmt.Errorf("%w: clean rule %q: %v", ErrPaths, s, err)
	}
	return CleanRule{Pattern: re, Alias: s[i+1:]}, nil
}

// Limits and defaults of a path query.
const (
	DefaultPathSteps = 5
	MaxPathSteps     = 20
	DefaultTopLabels = 10
	TopPathCount     = 20
	// OtherLabel names the node of a step's labels beyond its top ones.
	OtherLabel = "(other)"
)

// ErrPaths is wrapped by the errors of a bad path query.
var ErrPaths = errors.New("bad paths query")

// PathResult is the paths as a Sankey diagram (nodes per step and links
// between the nodes of consecutive steps) and the most common paths.
type PathResult struct {
	// Nodes are ordered by step, then count (most first), OtherLabel last
	// in its step.
	Nodes []PathNode `json:"nodes"`
	// Links go from a node of step k to a node of step k+1, ordered by
	// source then target.
	Links []PathLink `json:"links"`
	// TopPaths are the TopPathCount most common paths (labels as cleaned,
	// never OtherLabel), most first.
	TopPaths []PathCount `json:"top_paths"`
	// Actors is how many paths were counted (people, or sessions).
	Actors int64 `json:"actors"`
	// Truncated is how many of them the Steps limit cut (the actor went on,
	// or with End only, had events before).
	Truncated int64 `json:"truncated"`
}

// PathNode is one label at one step. Step is the 0-based position in the
// path; with End only, paths are aligned on their end, so the End event
// is at step Steps-1 and a shorter path starts at a later step. DropOff
// counts the paths that ended at this node (not those cut by Steps).
type PathNode struct {
	Step    int    `json:"step"`
	Label   string `json:"label"`
	Count   int64  `json:"count"`
	DropOff int64  `json:"drop_off"`
}

// PathLink counts the paths going from node Source to node Target
// (indexes into Nodes).
type PathLink struct {
	Source int   `json:"source"`
	Target int   `json:"target"`
	Count  int64 `json:"count"`
}

// PathCount is one whole path and how many actors took it.
type PathCount struct {
	Labels []string `json:"labels"`
	Count  int64    `json:"count"`
}

// An event's code for a path query: its label code shifted by
// pathLabelShift, and flags: it matches Start, End; it is inside From and
// To; it carries a session id.
const (
	flagStart uint8 = 1 << iota
	flagEnd
	flagIn
	flagSession
	pathLabelShift = 4
)

// pathLabels gives each event of a view its label code (0: left out) and
// whether it matches Start or End.
type pathLabels struct {
	v        *View
	from, to int64
	byName   []uint32 // by name code
	dropName []bool
	byPath   []uint32 // unnamed pages and screens, by path code
	page     [256]bool
	flagName []uint8
	// by label code
	flagLabel []uint8
	dropLabel []bool
	// with a map
	places       []uint16
	byPlace      []uint32 // by place code (ByTouchpoint)
	flagPlace    []uint8
	byTouchpoint bool
	// With sessions: the session id fields.
	sess []uint32 // see sessionIDs

	clean  []CleanRule
	labels []string
	codes  map[string]uint32
	// With AfterFunnel: the label of the drop step's name.
	dropStep uint32
}

// code returns the code of a label after cleaning.
func (l *pathLabels) code(s string) uint32 {
	for _, c := range l.clean {
		if c.Pattern.MatchString(s) {
			s = c.Alias
			break
		}
	}
	if c, ok := l.codes[s]; ok {
		return c
	}
	c := uint32(len(l.labels))
	l.codes[s] = c
	l.labels = append(l.labels, s)
	return c
}

// label returns event r's label code (0: the path leaves it out) and
// whether it matches Start or End.
func (l *pathLabels) label(r uint32) (uint32, uint8) {
	v := l.v
	nc := v.name[r]
	if l.dropName[nc] {
		return 0, 0
	}
	lab := l.byName[nc]
	if nc == 0 && l.page[v.typ[r]] {
		lab = l.byPath[v.path[r]]
	}
	flags := l.flagName[nc]
	if l.places != nil {
		pc := l.places[r]
		flags |= l.flagPlace[pc]
		if l.byTouchpoint {
			if tl := l.byPlace[pc]; tl != 0 {
				lab = tl
			} else if flags == 0 {
				return 0, 0
			}
		}
	}
	if lab == 0 || l.dropLabel[lab] {
		return 0, 0
	}
	return lab, flags | l.flagLabel[lab]
}

func (v *View) pathLabels(ctx context.Context, q *PathQuery) (*pathLabels, error) {
	names := v.names()
	l := &pathLabels{v: v, clean: q.Clean, labels: []string{""}, codes: map[string]uint32{"": 0}, byTouchpoint: q.ByTouchpoint}
	if !q.From.IsZero() {
		l.from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		l.to = q.To.UnixMilli()
	}
	for i, t := range v.ix.types.list() {
		if i < len(l.page) && (t == string(event.Page) || t == string(event.Screen)) {
			l.page[i] = true
		}
	}
	excluded := map[string]bool{}
	for _, x := range q.Exclude {
		excluded[x] = true
	}
	l.byName, l.dropName, l.flagName = make([]uint32, len(names)), make([]bool, len(names)), make([]uint8, len(names))
	for c, name := range names {
		if c == 0 {
			continue
		}
		l.byName[c] = l.code(name)
		l.dropName[c] = excluded[name]
		if name == q.Start {
			l.flagName[c] |= flagStart
		}
		if name == q.End {
			l.flagName[c] |= flagEnd
		}
	}
	// Unnamed pages and screens: only the paths they have are labelled.
	paths := v.ix.paths.list()
	l.byPath = make([]uint32, len(paths))
	seen := make([]bool, len(paths))
	for r := range v.n {
		if v.name[r] == 0 && l.page[v.typ[r]] {
			seen[v.path[r]] = true
		}
	}
	for c, p := range paths {
		if seen[c] && c != 0 {
			l.byPath[c] = l.code(p)
		}
	}

	startPlaces, err := pathPlaces(q.Map, q.Start)
	if err != nil {
		return nil, err
	}
	endPlaces, err := pathPlaces(q.Map, q.End)
	if err != nil {
		return nil, err
	}
	if q.ByTouchpoint || startPlaces != nil || endPlaces != nil {
		if q.Map == nil || q.Classifier == nil {
			return nil, fmt.Errorf("%w: touchpoints and stages need the map and its classifier", ErrPaths)
		}
		if l.places, err = v.Places(ctx, q.PlacesKey, q.Classifier); err != nil {
			return nil, err
		}
		l.flagPlace = make([]uint8, 1<<16)
		for _, pc := range startPlaces {
			l.flagPlace[pc] |= flagStart
		}
		for _, pc := range endPlaces {
			l.flagPlace[pc] |= flagEnd
		}
		if q.ByTouchpoint {
			l.byPlace = make([]uint32, 1<<16)
			for si, st := range q.Map.Stages {
				l.byPlace[PlaceCode(journeymap.Place{Stage: si, Touchpoint: -1})] = l.code(st.Name)
				for ti, tp := range st.Touchpoints {
					l.byPlace[PlaceCode(journeymap.Place{Stage: si, Touchpoint: ti})] = l.code(tp.Name)
				}
			}
		}
	}

	if q.AfterFunnel != nil {
		l.dropStep = l.code(q.AfterFunnel.Steps[q.DropStep])
	}
	l.flagLabel, l.dropLabel = make([]uint8, len(l.labels)), make([]bool, len(l.labels))
	for c, s := range l.labels {
		if c == 0 {
			continue
		}
		l.dropLabel[c] = excluded[s]
		if s == q.Start {
			l.flagLabel[c] |= flagStart
		}
		if s == q.End {
			l.flagLabel[c] |= flagEnd
		}
	}
	return l, nil
}

// event returns event r's code (see flagStart).
func (l *pathLabels) event(r uint32) uint32 {
	v := l.v
	if t := v.ts[r]; l.from != 0 && t < l.from || l.to != 0 && t >= l.to {
		return 0
	}
	lab, fl := l.label(r)
	c := lab<<pathLabelShift | uint32(fl|flagIn)
	if l.sess != nil && l.sess[r] != 0 {
		c |= uint32(flagSession)
	}
	return c
}

// pathPlaces returns the place codes "stage:KEY" or "touchpoint:KEY" of m
// stand for; nil when s is not one (or there is no map).
func pathPlaces(m *journeymap.Map, s string) ([]uint16, error) {
	kind, key, _ := strings.Cut(s, ":")
	if m == nil || kind != "stage" && kind != "touchpoint" {
		return nil, nil
	}
	if kind == "stage" {
		si := slices.IndexFunc(m.Stages, func(st journeymap.Stage) bool { return st.Key == key })
		if si < 0 {
			return nil, fmt.Errorf("%w: the map has no stage %q", ErrPaths, key)
		}
		codes := []uint16{PlaceCode(journeymap.Place{Stage: si, Touchpoint: -1})}
		for ti := range m.Stages[si].Touchpoints {
			codes = append(codes, PlaceCode(journeymap.Place{Stage: si, Touchpoint: ti}))
		}
		return codes, nil
	}
	_, si := m.Touchpoint(key)
	if si < 0 {
		return nil, fmt.Errorf("%w: the map has no touchpoint %q", ErrPaths, key)
	}
	ti := slices.IndexFunc(m.Stages[si].Touchpoints, func(t journeymap.Touchpoint) bool { return t.Key == key })
	return []uint16{PlaceCode(journeymap.Place{Stage: si, Touchpoint: ti})}, nil
}

// pathTally counts one worker's distinct paths. A key is a flag byte (1:
// cut by Steps at its end) then the label codes as uvarints.
type pathTally struct {
	index  map[string]int32
	keys   []string
	counts []int64
	buf    []byte
}

func (t *pathTally) add(labels []uint32, cut bool) {
	b := t.buf[:0]
	if cut {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, l := range labels {
		b = binary.AppendUvarint(b, uint64(l))
	}
	t.buf = b
	if i, ok := t.index[string(b)]; ok {
		t.counts[i]++
		return
	}
	k := string(b)
	t.index[k] = int32(len(t.keys))
	t.keys = append(t.keys, k)
	t.counts = append(t.counts, 1)
}

// pathCutter turns an actor's events into its path.
type pathCutter struct {
	l        *pathLabels
	steps    int
	collapse bool
	start    bool // cut from the first Start event
	end      bool // cut at the first End event
	// With AfterFunnel: the drop event's fallback label.
	dropLabel uint32

	labs  []uint32
	flags []uint8
	codes []uint32 // seq's scratch
}

// seq fills the labels and flags of the events kept, in order; first, when
// not negative, is the position of an event always kept (the drop event).
func (c *pathCutter) seq(rows []uint32, first int) {
	codes := c.codes[:0]
	for i, r := range rows {
		code := c.l.event(r)
		if i == first {
			// The drop event of a funnel: always kept, where the path starts.
			code = cmp.Or(code>>pathLabelShift, c.dropLabel)<<pathLabelShift | code&(1<<pathLabelShift-1) | uint32(flagStart)
		}
		codes = append(codes, code)
	}
	c.codes = codes
	c.seqCodes(codes)
}

// seqCodes is seq over events whose codes (pathLabels.event) are known.
func (c *pathCutter) seqCodes(codes []uint32) {
	c.labs, c.flags = c.labs[:0], c.flags[:0]
	for _, code := range codes {
		lab, fl := code>>pathLabelShift, uint8(code)&(flagStart|flagEnd)
		if lab == 0 {
			continue
		}
		if n := len(c.labs); c.collapse && n > 0 && c.labs[n-1] == lab {
			c.flags[n-1] |= fl
			continue
		}
		c.labs = append(c.labs, lab)
		c.flags = append(c.flags, fl)
	}
}

// cut returns the path of the sequence, whether Steps cut it, and false
// when the actor has no path.
func (c *pathCutter) cut() (path []uint32, cut, ok bool) {
	labs, n := c.labs, len(c.labs)
	if n == 0 {
		return nil, false, false
	}
	i := 0
	if c.start {
		i = slices.IndexFunc(c.flags, func(f uint8) bool { return f&flagStart != 0 })
		if i < 0 {
			return nil, false, false
		}
	}
	if !c.end {
		j := min(n, i+c.steps)
		return labs[i:j], j < n, true
	}
	from := i
	if c.start {
		from = i + 1 // the End after the Start
	}
	j := -1
	for k := from; k < n; k++ {
		if c.flags[k]&flagEnd != 0 {
			j = k
			break
		}
	}
	if j < 0 {
		return nil, false, false
	}
	if !c.start {
		i = max(0, j-c.steps+1)
		return labs[i : j+1], i > 0, true
	}
	if j-i+1 > c.steps {
		return labs[i : i+c.steps], true, true
	}
	return labs[i : j+1], false, true
}

// Paths computes the paths actors take through the view's events.
func (v *View) Paths(ctx context.Context, q PathQuery) (*PathResult, error) {
	q.Steps = cmp.Or(q.Steps, DefaultPathSteps)
	q.TopLabels = cmp.Or(q.TopLabels, DefaultTopLabels)
	switch {
	case q.Steps < 1 || q.Steps > MaxPathSteps:
		return nil, fmt.Errorf("%w: steps %d: a path has 1 to %d steps", ErrPaths, q.Steps, MaxPathSteps)
	case q.TopLabels < 1:
		return nil, fmt.Errorf("%w: top labels %d: want at least 1", ErrPaths, q.TopLabels)
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return nil, fmt.Errorf("%w: from %s is not before to %s", ErrPaths, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	case q.Start != "" && slices.Contains(q.Exclude, q.Start) || q.End != "" && slices.Contains(q.Exclude, q.End):
		return nil, fmt.Errorf("%w: the start or end event is excluded", ErrPaths)
	}
	for _, c := range q.Clean {
		if c.Pattern == nil || c.Alias == "" {
			return nil, fmt.Errorf("%w: a clean rule needs a pattern and an alias", ErrPaths)
		}
	}
	if f := q.AfterFunnel; f != nil {
		if q.Start != "" {
			return nil, fmt.Errorf("%w: after a funnel, paths start at the drop-off step: leave the start empty", ErrPaths)
		}
		if len(f.Steps) == 0 {
			return nil, fmt.Errorf("%w: the funnel has no steps", ErrPaths)
		}
		if q.DropStep < 0 || q.DropStep >= len(f.Steps) {
			return nil, fmt.Errorf("%w: drop step %d: the funnel has steps 0 to %d", ErrPaths, q.DropStep, len(f.Steps)-1)
		}
	}
	l, err := v.pathLabels(ctx, &q)
	if err != nil {
		return nil, err
	}
	if q.Session && q.AfterFunnel == nil {
		if l.sess, err = v.sessionIDs(ctx); err != nil {
			return nil, err
		}
	}
	proto := pathCutter{l: l, steps: q.Steps, collapse: q.CollapseRepeats, start: q.Start != "", end: q.End != ""}

	workers := max(1, runtime.GOMAXPROCS(0))
	tallies := make([]*pathTally, workers)
	var run func(w int, c *pathCutter, t *pathTally)
	if q.AfterFunnel != nil {
		proto.start = true // at the drop event, flagged as the start
		proto.dropLabel = l.dropStep
		if run, err = v.afterFunnel(ctx, &q, l); err != nil {
			return nil, err
		}
	} else {
		run = func(w int, c *pathCutter, t *pathTally) {
			n := len(v.persons)
			var buf, codes []uint32
			for p := n * w / workers; p < n*(w+1)/workers; p++ {
				if p%4096 == 0 && ctx.Err() != nil {
					return
				}
				rows := v.events(p)
				if !q.Session {
					c.seq(rows, -1)
					if path, cut, ok := c.cut(); ok {
						t.add(path, cut)
					}
					continue
				}
				// Sessions: the events inside From and To, cut by a gap
				// (by their ids when some carry one).
				buf, codes = buf[:0], codes[:0]
				ids := false
				for _, r := range rows {
					if code := l.event(r); code&uint32(flagIn) != 0 {
						buf = append(buf, r)
						codes = append(codes, code)
						ids = ids || code&uint32(flagSession) != 0
					}
				}
				if ids {
					for _, s := range v.splitSessions(buf, l.sess) {
						c.seq(s, -1)
						if path, cut, ok := c.cut(); ok {
							t.add(path, cut)
						}
					}
					continue
				}
				gap := SessionGap.Milliseconds()
				for i, start := 0, 0; i < len(buf); i++ {
					if i+1 == len(buf) || v.ts[buf[i+1]]-v.ts[buf[i]] > gap {
						c.seqCodes(codes[start : i+1])
						if path, cut, ok := c.cut(); ok {
							t.add(path, cut)
						}
						start = i + 1
					}
				}
			}
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := proto
			t := &pathTally{index: map[string]int32{}}
			run(w, &c, t)
			tallies[w] = t
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return pathResult(tallies, l.labels, &q), nil
}

// afterFunnel returns what a worker runs for PathQuery.AfterFunnel: the
// funnel's actors, each one's best attempt, and the path from its drop
// event.
func (v *View) afterFunnel(ctx context.Context, q *PathQuery, l *pathLabels) (func(w int, c *pathCutter, t *pathTally), error) {
	f := q.AfterFunnel
	if len(f.Steps) == 0 {
		return nil, fmt.Errorf("%w: no steps", ErrFunnel)
	}
	rule := FunnelRule{Steps: len(f.Steps), Window: f.Window.Milliseconds(), Order: cmp.Or(f.Order, Ordered), Exclusions: f.Exclusions}
	if !f.From.IsZero() {
		rule.From = f.From.UnixMilli()
	}
	if !f.To.IsZero() {
		rule.To = f.To.UnixMilli()
	}
	if err := rule.Check(); err != nil {
		return nil, err
	}
	agg := f.Aggregate
	switch {
	case agg == "" && q.Session:
		agg = "session"
	case agg != "" && agg != "session" && q.Session:
		return nil, fmt.Errorf("%w: sessions asked for, but the funnel counts %s: the funnel's aggregate picks the actors", ErrPaths, agg)
	}
	m, err := v.stepMasks(ctx, *f)
	if err != nil {
		return nil, err
	}
	keep := func(r uint32) bool {
		return l.event(r)&uint32(flagIn) != 0 || m.keep(r)
	}
	as, err := v.actorsOf(ctx, agg, keep)
	if err != nil {
		return nil, err
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	return func(w int, c *pathCutter, t *pathTally) {
		var evs []FunnelEvent
		var pos []int
		as.each(w, workers, func(_ string, rows []uint32) {
			evs, pos = evs[:0], pos[:0]
			for i, r := range rows {
				if m.keep(r) {
					steps, excl := m.masks(r)
					evs = append(evs, FunnelEvent{T: v.ts[r], Steps: steps, Excl: excl})
					pos = append(pos, i)
				}
			}
			a := rule.Best(evs)
			if a.Excluded || a.Reached != q.DropStep+1 {
				return
			}
			from := pos[a.Events[q.DropStep]]
			if l.event(rows[from])&uint32(flagIn) == 0 {
				return
			}
			c.seq(rows[from:], 0)
			if path, cut, ok := c.cut(); ok {
				t.add(path, cut)
			}
		})
	}, nil
}

// pathResult adds up the workers' paths into nodes, links and top paths.
func pathResult(tallies []*pathTally, labels []string, q *PathQuery) *PathResult {
	all := map[string]int64{}
	for _, t := range tallies {
		for i, k := range t.keys {
			all[k] += t.counts[i]
		}
	}
	type nodeKey struct {
		step  int
		label uint32
	}
	type linkKey struct {
		step     int
		from, to uint32
	}
	nodes := map[nodeKey]int64{}
	drops := map[nodeKey]int64{}
	links := map[linkKey]int64{}
	top := map[string]int64{}
	res := &PathResult{Nodes: []PathNode{}, Links: []PathLink{}, TopPaths: []PathCount{}}
	endAligned := q.End != "" && q.Start == "" && q.AfterFunnel == nil
	var labs []uint32
	for k, n := range all {
		labs = labs[:0]
		for b := k[1:]; len(b) > 0; {
			l, w := binary.Uvarint([]byte(b))
			labs = append(labs, uint32(l))
			b = b[w:]
		}
		cut := k[0] == 1
		res.Actors += n
		if cut {
			res.Truncated += n
		}
		off := 0
		if endAligned {
			off = q.Steps - len(labs)
		}
		for i, l := range labs {
			nodes[nodeKey{off + i, l}] += n
			if i > 0 {
				links[linkKey{off + i - 1, labs[i-1], l}] += n
			}
		}
		if !cut || endAligned {
			drops[nodeKey{off + len(labs) - 1, labs[len(labs)-1]}] += n
		}
		top[k[1:]] += n
	}

	// Each step's top labels, the rest as one node.
	byStep := make([][]nodeKey, q.Steps)
	for nk := range nodes {
		byStep[nk.step] = append(byStep[nk.step], nk)
	}
	index := map[nodeKey]int{}
	for step, nks := range byStep {
		slices.SortFunc(nks, func(a, b nodeKey) int {
			return cmp.Or(cmp.Compare(nodes[b], nodes[a]), cmp.Compare(labels[a.label], labels[b.label]))
		})
		otherAt := -1
		for i, nk := range nks {
			if i < q.TopLabels {
				index[nk] = len(res.Nodes)
				res.Nodes = append(res.Nodes, PathNode{Step: step, Label: labels[nk.label], Count: nodes[nk], DropOff: drops[nk]})
				continue
			}
			if otherAt < 0 {
				otherAt = len(res.Nodes)
				res.Nodes = append(res.Nodes, PathNode{Step: step, Label: OtherLabel})
			}
			index[nk] = otherAt
			res.Nodes[otherAt].Count += nodes[nk]
			res.Nodes[otherAt].DropOff += drops[nk]
		}
	}
	type edge struct{ src, dst int }
	edges := map[edge]int64{}
	for lk, n := range links {
		edges[edge{index[nodeKey{lk.step, lk.from}], index[nodeKey{lk.step + 1, lk.to}]}] += n
	}
	for _, e := range slices.SortedFunc(maps.Keys(edges), func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.src, b.src), cmp.Compare(a.dst, b.dst))
	}) {
		res.Links = append(res.Links, PathLink{Source: e.src, Target: e.dst, Count: edges[e]})
	}

	res.TopPaths = topPaths(top, labels)
	return res
}

// topPaths returns the TopPathCount paths with the highest counts, ties by
// their labels; paths are keyed by their label codes as uvarints.
func topPaths(counts map[string]int64, labels []string) []PathCount {
	decode := func(k string) []string {
		out := []string{}
		for b := []byte(k); len(b) > 0; {
			l, w := binary.Uvarint(b)
			out = append(out, labels[l])
			b = b[w:]
		}
		return out
	}
	// before reports whether path a (count n) ranks before path b.
	before := func(n int64, a []string, b PathCount) bool {
		return n > b.Count || n == b.Count && slices.Compare(a, b.Labels) < 0
	}
	var top []PathCount // sorted, at most TopPathCount
	for k, n := range counts {
		if len(top) == TopPathCount && n < top[len(top)-1].Count {
			continue // the common case: decodes nothing
		}
		pc := PathCount{Labels: decode(k), Count: n}
		if len(top) == TopPathCount && !before(n, pc.Labels, top[len(top)-1]) {
			continue
		}
		i := slices.IndexFunc(top, func(o PathCount) bool { return before(n, pc.Labels, o) })
		if i < 0 {
			i = len(top)
		}
		top = slices.Insert(top, i, pc)
		top = top[:min(len(top), TopPathCount)]
	}
	if top == nil {
		return []PathCount{}
	}
	return top
}
