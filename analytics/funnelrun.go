package analytics

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cjmhq/cjm/journeymap"
)

// FunnelQuery is a funnel to compute over a workspace's events.
type FunnelQuery struct {
	// Steps are event names (track event, page or screen name); with Map
	// set, also "stage:KEY" and "touchpoint:KEY" of that map.
	Steps []string
	Map   *journeymap.Map
	// Classifier is compiled from Map; PlacesKey names it for the index's
	// cache of where each event falls (the map's id and version).
	Classifier *journeymap.Classifier
	PlacesKey  string
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
	// Interval buckets the conversion over time by the day, week (from
	// Monday) or month of entry, in Location (default UTC); "" for none.
	Interval Interval
	Location *time.Location
	// People asks for the actors at a step: those who reached step
	// People.Step (0-based), or with Dropped those who reached it and not
	// the next; at most People.Limit (default 1000).
	People *PeopleQuery
}

// PeopleQuery picks the actors of one step of a funnel.
type PeopleQuery struct {
	Step    int
	Dropped bool
	Limit   int
}

// FunnelResult is a computed funnel: the steps overall and per breakdown
// value (most entrants first), and on request the conversion over time,
// the time to convert and the actors at a step.
type FunnelResult struct {
	Steps      []StepResult      `json:"steps"`
	Breakdowns []BreakdownResult `json:"breakdowns"`
	// Over is the conversion by period of entry (with Interval).
	Over []FunnelPeriod `json:"over_time,omitempty"`
	// TimeToConvert is a histogram of the time from step 1 to the last
	// step of the actors who converted.
	TimeToConvert []DurationBucket `json:"time_to_convert,omitempty"`
	// People are the actors asked for: person ids (a profile id, or "u:"
	// or "a:" and the id), up to the limit, and how many there are in all.
	People      []string `json:"people,omitempty"`
	PeopleTotal int64    `json:"people_total,omitempty"`
}

// BreakdownResult is the funnel of the actors counted under one value.
type BreakdownResult struct {
	Value string       `json:"value"`
	Steps []StepResult `json:"steps"`
}

// FunnelPeriod is the funnel of the actors who entered in one period.
type FunnelPeriod struct {
	Start  time.Time `json:"start"`
	Counts []int64   `json:"counts"`
}

// DurationBucket counts conversions that took from Min up to Max seconds;
// the last bucket has Max -1 (no upper bound).
type DurationBucket struct {
	MinSeconds float64 `json:"min_seconds"`
	MaxSeconds float64 `json:"max_seconds"`
	Count      int64   `json:"count"`
}

// SessionGap ends a session when no event comes for this long.
const SessionGap = 30 * time.Minute

// fieldPath turns a bare property name into properties.NAME.
func fieldPath(f string) string {
	for _, root := range []string{"properties.", "context.", "traits."} {
		if strings.HasPrefix(f, root) {
			return f
		}
	}
	return "properties." + f
}

// Funnel computes a funnel over the view's events.
func (v *View) Funnel(ctx context.Context, q FunnelQuery) (*FunnelResult, error) {
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
	if q.People != nil && (q.People.Step < 0 || q.People.Step >= len(q.Steps)) {
		return nil, fmt.Errorf("%w: people at step %d: the funnel has steps 0 to %d", ErrFunnel, q.People.Step, len(q.Steps)-1)
	}
	m, err := v.stepMasks(ctx, q)
	if err != nil {
		return nil, err
	}
	var bdCodes []uint32
	var bdValues []string
	if q.Breakdown != "" {
		if bdCodes, bdValues, err = v.column(ctx, fieldPath(q.Breakdown)); err != nil {
			return nil, err
		}
	}
	actors, err := v.actorsOf(ctx, q.Aggregate, m.keep)
	if err != nil {
		return nil, err
	}
	loc := cmp.Or(q.Location, time.UTC)

	// Each worker tallies its share of the actors; the shares add up.
	type share struct {
		total    *Tally
		byValue  map[string]*Tally
		entrants map[string]int64
		over     map[int64][]int64
		ttc      []int64
		people   []string
		peopleN  int64
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	shares := make([]share, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sh := share{total: NewTally(len(q.Steps)), byValue: map[string]*Tally{}, entrants: map[string]int64{}, over: map[int64][]int64{}}
			var evs []FunnelEvent
			var buf AttemptBuf
			actors.each(w, workers, func(id string, rows []uint32) {
				evs = evs[:0]
				for _, r := range rows {
					steps, excl := m.masks(r)
					evs = append(evs, FunnelEvent{T: v.ts[r], Steps: steps, Excl: excl})
					if bdCodes != nil {
						evs[len(evs)-1].Breakdown = bdValues[bdCodes[r]]
					}
				}
				a := rule.BestBuf(evs, &buf)
				if a.Reached == 0 || a.Excluded {
					return
				}
				sh.total.Add(a)
				if bdCodes != nil {
					for _, val := range Values(evs, a, attr, attrStep) {
						if sh.byValue[val] == nil {
							sh.byValue[val] = NewTally(len(q.Steps))
						}
						sh.byValue[val].Add(a)
						sh.entrants[val]++
					}
				}
				if q.Interval != "" {
					p := q.Interval.Start(time.UnixMilli(a.At[0]).In(loc)).UnixMilli()
					if sh.over[p] == nil {
						sh.over[p] = make([]int64, len(q.Steps))
					}
					for k := range a.Reached {
						sh.over[p][k]++
					}
				}
				if a.Reached == len(q.Steps) && len(q.Steps) > 1 {
					sh.ttc = append(sh.ttc, a.At[a.Reached-1]-a.At[0])
				}
				if pq := q.People; pq != nil && a.Reached > pq.Step && (!pq.Dropped || a.Reached == pq.Step+1) {
					sh.peopleN++
					if len(sh.people) < cmp.Or(pq.Limit, 1000) {
						sh.people = append(sh.people, id)
					}
				}
			})
			shares[w] = sh
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	total := NewTally(len(q.Steps))
	byValue := map[string]*Tally{}
	entrants := map[string]int64{}
	over := map[int64][]int64{}
	var ttc []int64
	res := &FunnelResult{Breakdowns: []BreakdownResult{}}
	for _, sh := range shares {
		total.Merge(sh.total)
		for val, t := range sh.byValue {
			if byValue[val] == nil {
				byValue[val] = NewTally(len(q.Steps))
			}
			byValue[val].Merge(t)
			entrants[val] += sh.entrants[val]
		}
		for p, c := range sh.over {
			if over[p] == nil {
				over[p] = make([]int64, len(q.Steps))
			}
			for k := range c {
				over[p][k] += c[k]
			}
		}
		ttc = append(ttc, sh.ttc...)
		res.People = append(res.People, sh.people...)
		res.PeopleTotal += sh.peopleN
	}
	if q.People != nil {
		slices.Sort(res.People)
		res.People = res.People[:min(len(res.People), cmp.Or(q.People.Limit, 1000))]
	}
	res.Steps = total.Steps(q.Steps)
	for val, t := range byValue {
		res.Breakdowns = append(res.Breakdowns, BreakdownResult{Value: val, Steps: t.Steps(q.Steps)})
	}
	slices.SortFunc(res.Breakdowns, func(a, b BreakdownResult) int {
		return cmp.Or(cmp.Compare(entrants[b.Value], entrants[a.Value]), cmp.Compare(a.Value, b.Value))
	})
	for _, p := range slices.Sorted(maps.Keys(over)) {
		res.Over = append(res.Over, FunnelPeriod{Start: time.UnixMilli(p).In(loc), Counts: over[p]})
	}
	res.TimeToConvert = durationHistogram(ttc)
	return res, nil
}

// stepMasks is which steps and exclusions each event matches.
type stepMasks struct {
	names              []uint32 // each event's name code
	byName, exclByName []uint64 // by name code
	conds              []condStep
	places             []uint16 // with map steps: each event's place
	byPlace            map[uint16]uint64
	strict             bool
	from, to           int64
	ts                 []int64
}

// masks returns the step and exclusion masks of event r.
func (m *stepMasks) masks(r uint32) (uint64, uint64) {
	return m.byName[m.names[r]] | m.placeMask(r) | m.condMask(r), m.exclByName[m.names[r]]
}

// condMask is the bits of the steps with property conditions event r
// fills.
func (m *stepMasks) condMask(r uint32) uint64 {
	var bits uint64
	for i := range m.conds {
		c := &m.conds[i]
		if m.names[r] != c.name {
			continue
		}
		ok := true
		for _, w := range c.where {
			if (w.codes[r] == w.want) == w.neg {
				ok = false
				break
			}
		}
		if ok {
			bits |= c.bit
		}
	}
	return bits
}

// condStep is a step on an event name with conditions on its fields.
type condStep struct {
	bit   uint64
	name  uint32
	where []condField
}

type condField struct {
	codes []uint32
	want  uint32 // the value's code; none (never equal) when no event has it
	neg   bool   // != rather than =
}

// ParseStep reads a funnel step: an event name, optionally with
// conditions on its fields in brackets, e.g.
// "Product Viewed [category=tui-xach, context.device.type!=mobile]"
// (a bare field name means properties.NAME).
func ParseStep(s string) (name string, where []StepCondition, err error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndex(s, " [")
	if i < 0 || !strings.HasSuffix(s, "]") {
		return s, nil, nil
	}
	name = strings.TrimSpace(s[:i])
	for _, part := range strings.Split(s[i+2:len(s)-1], ",") {
		neg := false
		field, value, ok := strings.Cut(part, "!=")
		if ok {
			neg = true
		} else if field, value, ok = strings.Cut(part, "="); !ok {
			return "", nil, fmt.Errorf("%w: step %q: condition %q is not FIELD=VALUE or FIELD!=VALUE", ErrFunnel, s, strings.TrimSpace(part))
		}
		if field = strings.TrimSpace(field); field == "" {
			return "", nil, fmt.Errorf("%w: step %q: a condition has no field", ErrFunnel, s)
		}
		where = append(where, StepCondition{Field: fieldPath(field), Value: strings.TrimSpace(value), Not: neg})
	}
	return name, where, nil
}

// StepCondition is a condition on a field of a step's event.
type StepCondition struct {
	Field, Value string
	Not          bool
}

func (m *stepMasks) placeMask(r uint32) uint64 {
	if m.places == nil {
		return 0
	}
	return m.byPlace[m.places[r]]
}

// keep reports whether the funnel reads event r: inside the bounds, and
// matching a step or an exclusion (a strict funnel reads every event).
func (m *stepMasks) keep(r uint32) bool {
	if t := m.ts[r]; m.from != 0 && t < m.from || m.to != 0 && t >= m.to {
		return false
	}
	if m.strict {
		return true
	}
	s, x := m.masks(r)
	return s|x != 0
}

func (v *View) stepMasks(ctx context.Context, q FunnelQuery) (*stepMasks, error) {
	names := v.names()
	m := &stepMasks{names: v.name, ts: v.ts, byName: make([]uint64, len(names)), exclByName: make([]uint64, len(names)), strict: q.Order == Strict}
	if !q.From.IsZero() {
		m.from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		m.to = q.To.UnixMilli()
	}
	byName, places, err := stepPlaces(q)
	if err != nil {
		return nil, err
	}
	for i, step := range q.Steps {
		name, where, err := ParseStep(step)
		if err != nil {
			return nil, err
		}
		if len(where) == 0 {
			continue
		}
		delete(byName, step)
		cs := condStep{bit: 1 << i, name: ^uint32(0)}
		if c, ok := v.nameCode(name); ok {
			cs.name = c
		}
		for _, w := range where {
			codes, values, err := v.column(ctx, w.Field)
			if err != nil {
				return nil, err
			}
			want := uint32(slices.Index(values, w.Value))
			if w.Value == "" {
				want = 0 // "field=" means missing
			}
			cs.where = append(cs.where, condField{codes: codes, want: want, neg: w.Not})
		}
		m.conds = append(m.conds, cs)
	}
	for name, bits := range byName {
		if c, ok := v.nameCode(name); ok && int(c) < len(names) {
			m.byName[c] |= bits
		}
	}
	for i, e := range q.Exclusions {
		if c, ok := v.nameCode(e.Name); ok && int(c) < len(names) {
			m.exclByName[c] |= 1 << i
		}
	}
	if len(places) > 0 {
		if q.Classifier == nil {
			return nil, fmt.Errorf("%w: stage and touchpoint steps need the map's classifier", ErrFunnel)
		}
		if m.places, err = v.Places(ctx, q.PlacesKey, q.Classifier); err != nil {
			return nil, err
		}
		m.byPlace = map[uint16]uint64{}
		for si := range q.Map.Stages {
			for ti := -1; ti < len(q.Map.Stages[si].Touchpoints); ti++ {
				var bits uint64
				for _, ps := range places {
					if si == ps.stage && (ps.tp < 0 || ti == ps.tp) {
						bits |= ps.bit
					}
				}
				if bits != 0 {
					m.byPlace[PlaceCode(journeymap.Place{Stage: si, Touchpoint: ti})] = bits
				}
			}
		}
	}
	return m, nil
}

type placeStep struct {
	stage, tp int
	bit       uint64
}

// stepPlaces reads the steps: the bits of each event name, and the map's
// stages and touchpoints.
func stepPlaces(q FunnelQuery) (map[string]uint64, []placeStep, error) {
	byName := map[string]uint64{}
	var places []placeStep
	for i, s := range q.Steps {
		kind, key, _ := strings.Cut(s, ":")
		switch {
		case q.Map != nil && kind == "stage":
			idx := slices.IndexFunc(q.Map.Stages, func(st journeymap.Stage) bool { return st.Key == key })
			if idx < 0 {
				return nil, nil, fmt.Errorf("%w: the map has no stage %q", ErrFunnel, key)
			}
			places = append(places, placeStep{idx, -1, 1 << i})
		case q.Map != nil && kind == "touchpoint":
			_, si := q.Map.Touchpoint(key)
			if si < 0 {
				return nil, nil, fmt.Errorf("%w: the map has no touchpoint %q", ErrFunnel, key)
			}
			ti := slices.IndexFunc(q.Map.Stages[si].Touchpoints, func(t journeymap.Touchpoint) bool { return t.Key == key })
			places = append(places, placeStep{si, ti, 1 << i})
		default:
			byName[s] |= 1 << i
		}
	}
	return byName, places, nil
}

// durationHistogram buckets conversion times (milliseconds) on a log
// scale: under a minute, minutes, hours, days.
func durationHistogram(ms []int64) []DurationBucket {
	if len(ms) == 0 {
		return nil
	}
	edges := []float64{0, 60, 5 * 60, 15 * 60, 3600, 3 * 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400}
	out := make([]DurationBucket, len(edges))
	for i := range edges {
		out[i].MinSeconds = edges[i]
		if i+1 < len(edges) {
			out[i].MaxSeconds = edges[i+1]
		} else {
			out[i].MaxSeconds = math.Inf(1)
		}
	}
	for _, d := range ms {
		s := float64(d) / 1000
		i, _ := slices.BinarySearch(edges, s)
		if i == len(edges) || edges[i] > s {
			i--
		}
		out[max(i, 0)].Count++
	}
	// Drop the empty buckets at the top.
	for len(out) > 1 && out[len(out)-1].Count == 0 {
		out = out[:len(out)-1]
	}
	if math.IsInf(out[len(out)-1].MaxSeconds, 1) {
		out[len(out)-1].MaxSeconds = -1 // open-ended; JSON has no infinity
	}
	return out
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
