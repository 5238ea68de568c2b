package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/journeymap"
)

// FunnelQuery is a funnel to compute over a workspace's events.
type FunnelQuery struct {
	Workspace string
	// Steps are event names (track event, page or screen name); with Map
	// set, also "stage:KEY" and "touchpoint:KEY" of that map.
	Steps      []string
	Map        *journeymap.Map
	Classifier *journeymap.Classifier // compiled from Map
	Window     time.Duration
	Order      Order
	// From and To bound the events read and the step-1 event; zero: all time.
	From, To   time.Time
	Exclusions []Exclusion // by event name
	// Aggregate counts "person" (the default), "session" (context.sessionId,
	// else properties.session_id, else a 30-minute gap starts a new one) or
	// "group:PROPERTY" (the value of a property, e.g. group:properties.store_id).
	Aggregate string
	// Breakdown is a field (properties.browser, context.campaign.source; a
	// bare name means properties.NAME) whose value splits the result.
	Breakdown   string
	Attribution string // first_touch (default), last_touch, all_events, step:N
	// Person names the person behind a userId or anonymousId (identity
	// resolution); nil counts userId, else anonymousId.
	Person func(userID, anonymousID string) string
}

// FunnelResult is a computed funnel: the steps overall and per breakdown
// value (most entrants first).
type FunnelResult struct {
	Steps      []StepResult      `json:"steps"`
	Breakdowns []BreakdownResult `json:"breakdowns"`
}

// BreakdownResult is the funnel of the actors counted under one value.
type BreakdownResult struct {
	Value string       `json:"value"`
	Steps []StepResult `json:"steps"`
}

// SessionGap ends a session when no event comes for this long.
const SessionGap = 30 * time.Minute

type funnelItem struct {
	t       int64
	seq     uint64
	session string
	ev      FunnelEvent
}

// fieldPath turns a bare property name into properties.NAME.
func fieldPath(f string) string {
	for _, root := range []string{"properties.", "context.", "traits."} {
		if strings.HasPrefix(f, root) {
			return f
		}
	}
	return "properties." + f
}

// RunFunnel reads the events and computes the funnel.
func RunFunnel(ctx context.Context, events eventstore.Store, q FunnelQuery) (*FunnelResult, error) {
	if len(q.Steps) == 0 {
		return nil, fmt.Errorf("%w: no steps", ErrFunnel)
	}
	rule := FunnelRule{Steps: len(q.Steps), Window: q.Window.Milliseconds(), Order: cmp.Or(q.Order, Ordered), Exclusions: q.Exclusions}
	if !q.From.IsZero() {
		rule.From = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		rule.To = q.To.UnixMilli()
	}
	if err := rule.Check(); err != nil {
		return nil, err
	}
	attr, attrStep, err := ParseAttribution(q.Attribution, len(q.Steps))
	if err != nil {
		return nil, err
	}
	match, err := stepMatcher(q)
	if err != nil {
		return nil, err
	}
	person := q.Person
	if person == nil {
		person = func(u, a string) string { return cmp.Or(u, a) }
	}

	// The fields read: the classifier's, the breakdown, sessions, the group.
	fields := []string{}
	var classify []int
	if q.Classifier != nil {
		fields = append(fields, q.Classifier.Fields()...)
		for i := range fields {
			classify = append(classify, i)
		}
	}
	bd, sessA, sessB, group := -1, -1, -1, -1
	add := func(f string) int { fields = append(fields, f); return len(fields) - 1 }
	if q.Breakdown != "" {
		bd = add(fieldPath(q.Breakdown))
	}
	agg := cmp.Or(q.Aggregate, "person")
	switch {
	case agg == "person":
	case agg == "session":
		sessA, sessB = add("context.sessionId"), add("properties.session_id")
	case strings.HasPrefix(agg, "group:") && len(agg) > len("group:"):
		group = add(fieldPath(strings.TrimPrefix(agg, "group:")))
	default:
		return nil, fmt.Errorf("%w: aggregate %q is not person, session or group:PROPERTY", ErrFunnel, agg)
	}

	actors := map[string][]funnelItem{}
	jev := journeymap.Event{}
	err = events.ScanRows(ctx, eventstore.RowQuery{WorkspaceID: q.Workspace, From: q.From, To: q.To, Fields: fields}, func(r *eventstore.Row) error {
		var place journeymap.Place
		if q.Classifier != nil {
			jev.Type, jev.Name, jev.SourceID, jev.Path = r.Type, r.Name, r.SourceID, r.Path
			jev.Fields = jev.Fields[:0]
			for _, i := range classify {
				jev.Fields = append(jev.Fields, journeymap.Value{S: r.Fields[i].S, OK: r.Fields[i].OK})
			}
			place = q.Classifier.Classify(&jev)
		}
		steps, excl := match(r.Name, place)
		if steps == 0 && excl == 0 && rule.Order != Strict {
			return nil
		}
		key := ""
		if group >= 0 {
			if !r.Fields[group].OK {
				return nil
			}
			key = r.Fields[group].S
		} else {
			key = person(r.UserID, r.AnonymousID)
		}
		if key == "" {
			return nil
		}
		it := funnelItem{t: r.Timestamp.UnixMilli(), seq: r.Seq, ev: FunnelEvent{T: r.Timestamp.UnixMilli(), Steps: steps, Excl: excl}}
		if bd >= 0 && r.Fields[bd].OK {
			it.ev.Breakdown = r.Fields[bd].S
		}
		if sessA >= 0 {
			switch {
			case r.Fields[sessA].OK:
				it.session = r.Fields[sessA].S
			case r.Fields[sessB].OK:
				it.session = r.Fields[sessB].S
			}
		}
		actors[key] = append(actors[key], it)
		return nil
	})
	if err != nil {
		return nil, err
	}

	total := NewTally(len(q.Steps))
	byValue := map[string]*Tally{}
	entrants := map[string]int64{}
	var evs []FunnelEvent
	count := func(evs []FunnelEvent) {
		a := rule.Best(evs)
		if a.Reached == 0 || a.Excluded {
			return
		}
		total.Add(a)
		if bd < 0 {
			return
		}
		for _, v := range Values(evs, a, attr, attrStep) {
			if byValue[v] == nil {
				byValue[v] = NewTally(len(q.Steps))
			}
			byValue[v].Add(a)
			entrants[v]++
		}
	}
	for _, items := range actors {
		slices.SortFunc(items, func(a, b funnelItem) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.seq, b.seq)) })
		if sessA < 0 {
			evs = evs[:0]
			for _, it := range items {
				evs = append(evs, it.ev)
			}
			count(evs)
			continue
		}
		for _, s := range sessions(items) {
			evs = evs[:0]
			for _, it := range s {
				evs = append(evs, it.ev)
			}
			count(evs)
		}
	}
	res := &FunnelResult{Steps: total.Steps(q.Steps), Breakdowns: []BreakdownResult{}}
	for v, t := range byValue {
		res.Breakdowns = append(res.Breakdowns, BreakdownResult{Value: v, Steps: t.Steps(q.Steps)})
	}
	slices.SortFunc(res.Breakdowns, func(a, b BreakdownResult) int {
		return cmp.Or(cmp.Compare(entrants[b.Value], entrants[a.Value]), cmp.Compare(a.Value, b.Value))
	})
	return res, nil
}

// sessions splits a person's time-sorted events into sessions: by session
// id where the events carry one, else by a gap of SessionGap.
func sessions(items []funnelItem) [][]funnelItem {
	byID := map[string][]funnelItem{}
	var ids []string
	var noID []funnelItem
	for _, it := range items {
		if it.session == "" {
			noID = append(noID, it)
			continue
		}
		if _, ok := byID[it.session]; !ok {
			ids = append(ids, it.session)
		}
		byID[it.session] = append(byID[it.session], it)
	}
	var out [][]funnelItem
	for _, id := range ids {
		out = append(out, byID[id])
	}
	start := 0
	for i := range noID {
		if i > 0 && noID[i].t-noID[i-1].t > SessionGap.Milliseconds() {
			out = append(out, noID[start:i])
			start = i
		}
	}
	if start < len(noID) {
		out = append(out, noID[start:])
	}
	return out
}

// stepMatcher returns a function giving the step and exclusion masks of an
// event from its name and its place on the map.
func stepMatcher(q FunnelQuery) (func(name string, p journeymap.Place) (uint64, uint64), error) {
	byName := map[string]uint64{}
	type placeStep struct {
		stage, tp int
		bit       uint64
	}
	var places []placeStep
	for i, s := range q.Steps {
		kind, key, _ := strings.Cut(s, ":")
		switch {
		case q.Map != nil && kind == "stage":
			idx := slices.IndexFunc(q.Map.Stages, func(st journeymap.Stage) bool { return st.Key == key })
			if idx < 0 {
				return nil, fmt.Errorf("%w: the map has no stage %q", ErrFunnel, key)
			}
			places = append(places, placeStep{idx, -1, 1 << i})
		case q.Map != nil && kind == "touchpoint":
			_, si := q.Map.Touchpoint(key)
			if si < 0 {
				return nil, fmt.Errorf("%w: the map has no touchpoint %q", ErrFunnel, key)
			}
			ti := slices.IndexFunc(q.Map.Stages[si].Touchpoints, func(t journeymap.Touchpoint) bool { return t.Key == key })
			places = append(places, placeStep{si, ti, 1 << i})
		default:
			byName[s] |= 1 << i
		}
	}
	exclByName := map[string]uint64{}
	for i, e := range q.Exclusions {
		exclByName[e.Name] |= 1 << i
	}
	return func(name string, p journeymap.Place) (uint64, uint64) {
		steps := byName[name]
		for _, ps := range places {
			if p.Stage == ps.stage && (ps.tp < 0 || p.Touchpoint == ps.tp) {
				steps |= ps.bit
			}
		}
		return steps, exclByName[name]
	}, nil
}

// ParseWindow reads a conversion window: a number and a unit, s, m, h, d,
// w or mo (30 days), e.g. 30s, 10m, 14d, 3mo.
func ParseWindow(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"mo", 30 * 24 * time.Hour}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			var v int64
			if _, err := fmt.Sscan(n, &v); err == nil && v > 0 && fmt.Sprint(v) == n && v <= 3650*int64(24*time.Hour/u.d+1) {
				return time.Duration(v) * u.d, nil
			}
			break
		}
	}
	return 0, fmt.Errorf("%w: window %q is not a positive number with s, m, h, d, w or mo (e.g. 14d)", ErrFunnel, s)
}
