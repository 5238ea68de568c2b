package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cjmhq/cjm/event"
)

// RetentionMode is how people enter cohorts.
type RetentionMode string

// Retention modes.
const (
	// FirstTime: a person enters the cohort of the period of their first
	// Start event ever; when that falls outside [From, To), in none.
	FirstTime RetentionMode = "first_time"
	// Recurring: a person enters a cohort in every period of [From, To) in
	// which they do Start (from their first Start event of the period).
	Recurring RetentionMode = "recurring"
)

// RetentionQuery asks how many people come back, period after period,
// after they enter a cohort.
//
// A member's period 0 is the period of their entry event; period N is the
// N-th period after it. Retained[0] counts the members who did a Return
// event in the entry period at or after the entry event (the entry event
// itself counts when it is a Return event, so with Return equal to Start,
// or both empty, Retained[0] is the cohort's size); Retained[N] the members
// who did a Return event in period N (with Rolling: in period N or any
// later one, the entry period from the entry event on for N = 0).
type RetentionQuery struct {
	// Start is the event that enters a cohort, Return the event that counts
	// as coming back (names of track events, pages or screens); "" is any
	// track, page or screen event (identify, group and alias calls are not
	// activity).
	Start, Return string
	// Interval is the period: day, week (from Monday) or month (default
	// week), in Location (default UTC).
	Interval Interval
	Location *time.Location
	// Periods is how many periods each cohort shows (default 12).
	Periods int
	// From and To bound the entry events (To exclusive; zero: unbounded).
	// Returns are read up to the end: To, or the last event's time when
	// that is earlier (or To is zero). A cohort's period that starts at or
	// after the end has not been reached: -1 in Retained and Rate.
	From, To time.Time
	Mode     RetentionMode // default FirstTime
	Rolling  bool
	// CohortBy groups the members: "" by entry period; "channel" by the
	// channel of the source of the person's first event (SourceChannel
	// names it); "property:FIELD" by the value of a field of the entry
	// event (properties.platform, traits.persona; a bare NAME means
	// properties.NAME); "persona" by the person's persona: traits.persona,
	// else context.traits.persona, of the person's latest event carrying
	// either (identify calls, or events sending traits in their context).
	// Members without a value are grouped under "".
	CohortBy      string
	SourceChannel func(sourceID string) string
}

// Defaults and limits of a retention query.
const (
	DefaultRetentionPeriods = 12
	MaxRetentionPeriods     = 400
)

// ErrRetention is wrapped by the errors of a bad retention query.
var ErrRetention = errors.New("bad retention query")

// RetentionResult is a retention table: one row per cohort, and the
// average over the cohorts.
type RetentionResult struct {
	Interval Interval `json:"interval"`
	Periods  int      `json:"periods"`
	// Cohorts by entry period, oldest first; grouped by a value, largest
	// first.
	Cohorts []Cohort `json:"cohorts"`
	// Average is, per period, the retained members of all cohorts over
	// their members who reached the period (weighted by size); -1 when no
	// cohort reached it.
	Average []float64 `json:"average"`
	// Churn is, per period N >= 1, 1 - Average[N]/Average[N-1] (negative
	// when more came back than the period before); null for period 0 and
	// where either average is -1 or Average[N-1] is 0.
	Churn []*float64 `json:"churn"`
}

// Cohort is one row of a retention table.
type Cohort struct {
	// Start is the entry period's start (zero, and left out of JSON, when
	// the cohort groups by a value); Label the period (2026-03-02 for a day
	// or a week, 2026-03 for a month) or the value.
	Start time.Time `json:"start,omitzero"`
	Label string    `json:"label"`
	Size  int64     `json:"size"`
	// Eligible counts per period the members who reached it: Size, or 0
	// when not reached; with a value, members entered in different
	// periods, so fewer of them may have reached the later ones.
	Eligible []int64 `json:"eligible"`
	// Retained counts per period the members who came back; -1 when no
	// member reached the period. Rate is Retained over Eligible, or -1.
	Retained []int64   `json:"retained"`
	Rate     []float64 `json:"rate"`
}

// retentionAcc adds up one cohort's members.
type retentionAcc struct {
	size     int64
	retained []int64 // per period, not rolling
	rolled   []int64 // per period: members whose last return is in it (or later, in the last)
	avail    []int64 // by how many periods a member reached, 1..Periods
}

func newRetentionAcc(periods int) *retentionAcc {
	return &retentionAcc{retained: make([]int64, periods), rolled: make([]int64, periods), avail: make([]int64, periods+1)}
}

func (a *retentionAcc) merge(o *retentionAcc) {
	a.size += o.size
	for i := range a.retained {
		a.retained[i] += o.retained[i]
		a.rolled[i] += o.rolled[i]
	}
	for i := range a.avail {
		a.avail[i] += o.avail[i]
	}
}

// retentionGroups is what CohortBy groups members by.
type retentionGroups struct {
	by     string // "", "channel", "property" or "persona"
	labels []string
	// Label ids: by source code (channel), by code of the field (property),
	// by codes of traits.persona and context.traits.persona (persona).
	bySource        []uint32
	field           []uint32
	byField         []uint32
	persona, ctxPer []uint32
	byPersona       []uint32
	byCtxPersona    []uint32
}

func (g *retentionGroups) label(s string, codes map[string]uint32) uint32 {
	if c, ok := codes[s]; ok {
		return c
	}
	c := uint32(len(g.labels))
	codes[s] = c
	g.labels = append(g.labels, s)
	return c
}

func (v *View) retentionGroups(ctx context.Context, q *RetentionQuery) (*retentionGroups, error) {
	g := &retentionGroups{}
	codes := map[string]uint32{}
	g.label("", codes) // id 0: no value
	values := func(field string) ([]uint32, []uint32, error) {
		col, vals, err := v.column(ctx, field)
		if err != nil {
			return nil, nil, err
		}
		ids := make([]uint32, len(vals))
		for i, s := range vals {
			ids[i] = g.label(s, codes)
		}
		return col, ids, nil
	}
	var err error
	switch by := q.CohortBy; {
	case by == "":
	case by == "channel":
		if q.SourceChannel == nil {
			return nil, fmt.Errorf("%w: cohorts by channel need the sources' channels", ErrRetention)
		}
		g.by = "channel"
		srcs := v.ix.sources.list()
		g.bySource = make([]uint32, len(srcs))
		for i, s := range srcs {
			g.bySource[i] = g.label(q.SourceChannel(s), codes)
		}
	case by == "persona":
		g.by = "persona"
		if g.persona, g.byPersona, err = values("traits.persona"); err != nil {
			return nil, err
		}
		if g.ctxPer, g.byCtxPersona, err = values("context.traits.persona"); err != nil {
			return nil, err
		}
	case strings.HasPrefix(by, "property:") && len(by) > len("property:"):
		g.by = "property"
		if g.field, g.byField, err = values(fieldPath(strings.TrimPrefix(by, "property:"))); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: cohort by %q is not channel, persona or property:FIELD", ErrRetention, by)
	}
	return g, nil
}

// of returns the group of a member entering with event r among a person's
// events evs (time order).
func (g *retentionGroups) of(v *View, evs []uint32, r uint32) uint32 {
	switch g.by {
	case "channel":
		return g.bySource[v.source[evs[0]]]
	case "property":
		return g.byField[g.field[r]]
	case "persona":
		for i := len(evs) - 1; i >= 0; i-- {
			e := evs[i]
			if c := g.persona[e]; c != 0 {
				return g.byPersona[c]
			}
			if c := g.ctxPer[e]; c != 0 {
				return g.byCtxPersona[c]
			}
		}
	}
	return 0
}

// An event's code for a retention query: whether it enters and returns,
// and above retShift its period: retBefore before From, 1+k in period k,
// retAfter at or after the end (0 for the events that do neither).
const (
	retStart  uint32 = 1
	retReturn uint32 = 2
	retShift         = 2
	retBefore uint32 = 0
	retAfter  uint32 = 1<<30 - 1
)

// retentionCoder gives the events their codes.
type retentionCoder struct {
	v                 *View
	isStart, isReturn []bool
	activity          [256]bool
	bounds            []int64 // period starts, then the start of the period after the end
	from, end         int64
}

// code returns event r's code; k is the period of the person's previous
// event coded (-1 for none; events come in time order), updated.
func (rc *retentionCoder) code(r uint32, k *int) uint32 {
	v := rc.v
	if !rc.activity[v.typ[r]] {
		return 0
	}
	var c uint32
	if rc.isStart[v.name[r]] {
		c |= retStart
	}
	if rc.isReturn[v.name[r]] {
		c |= retReturn
	}
	if c == 0 {
		return 0
	}
	switch t := v.ts[r]; {
	case t < rc.from:
		return c | retBefore<<retShift
	case t >= rc.end:
		return c | retAfter<<retShift
	default:
		b := rc.bounds
		if *k < 0 || t < b[*k] {
			*k, _ = slices.BinarySearch(b, t+1)
			*k-- // b[k] <= t < b[k+1]
		}
		for b[*k+1] <= t { // t < end <= the last bound
			*k++
		}
		return c | uint32(*k+1)<<retShift
	}
}

// Retention computes a retention table over the view's events.
func (v *View) Retention(ctx context.Context, q RetentionQuery) (*RetentionResult, error) {
	q.Interval = cmp.Or(q.Interval, Week)
	q.Periods = cmp.Or(q.Periods, DefaultRetentionPeriods)
	q.Mode = cmp.Or(q.Mode, FirstTime)
	loc := cmp.Or(q.Location, time.UTC)
	if _, err := ParseInterval(string(q.Interval)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRetention, err)
	}
	switch {
	case q.Periods < 1 || q.Periods > MaxRetentionPeriods:
		return nil, fmt.Errorf("%w: periods %d: want 1 to %d", ErrRetention, q.Periods, MaxRetentionPeriods)
	case q.Mode != FirstTime && q.Mode != Recurring:
		return nil, fmt.Errorf("%w: mode %q is not first_time or recurring", ErrRetention, q.Mode)
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return nil, fmt.Errorf("%w: from %s is not before to %s", ErrRetention, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	groups, err := v.retentionGroups(ctx, &q)
	if err != nil {
		return nil, err
	}
	res := &RetentionResult{Interval: q.Interval, Periods: q.Periods, Cohorts: []Cohort{}}

	// Which events enter and return.
	rc := &retentionCoder{v: v}
	for i, t := range v.ix.types.list() {
		if i < len(rc.activity) && (t == string(event.Track) || t == string(event.Page) || t == string(event.Screen)) {
			rc.activity[i] = true
		}
	}
	names := v.names()
	matcher := func(name string) []bool {
		m := make([]bool, len(names))
		for c, n := range names {
			m[c] = name == "" || n == name
		}
		return m
	}
	rc.isStart, rc.isReturn = matcher(q.Start), matcher(q.Return)

	// The end of the data, and the periods from the first entry possible.
	if v.n == 0 {
		return res.average(), nil
	}
	first, last := v.ts[0], v.ts[0]
	for _, t := range v.ts {
		first, last = min(first, t), max(last, t)
	}
	end := last + 1
	if !q.To.IsZero() {
		end = min(end, q.To.UnixMilli())
	}
	from := first
	if !q.From.IsZero() {
		from = max(from, q.From.UnixMilli())
	}
	if from >= end {
		return res.average(), nil
	}
	var bounds []int64 // period starts, then the start of the period after the end
	for t := q.Interval.Start(time.UnixMilli(from).In(loc)); ; t = q.Interval.Next(t) {
		bounds = append(bounds, t.UnixMilli())
		if t.UnixMilli() >= end {
			break
		}
		if len(bounds) > 1<<24 {
			return nil, fmt.Errorf("%w: more than %d periods between %s and the end of the data", ErrRetention, 1<<24, time.UnixMilli(from).In(loc).Format(time.DateOnly))
		}
	}
	lastPeriod := len(bounds) - 2 // the period holding end-1
	byPeriod := groups.by == ""
	nKeys := len(groups.labels)
	if byPeriod {
		nKeys = lastPeriod + 1
	}

	rc.bounds, rc.from, rc.end = bounds, from, end

	type entry struct {
		k int // period
		i int // position in the person's events
	}
	type ret struct{ k, last int }
	var mu sync.Mutex
	var shares [][]*retentionAcc
	v.parallel(len(v.persons), func(lo, hi int) {
		accs := make([]*retentionAcc, nKeys)
		var entries []entry
		var rets []ret
		for p := lo; p < hi; p++ {
			if p%4096 == 0 && ctx.Err() != nil {
				return
			}
			evs := v.events(p)
			// The first entry.
			i0, k := -1, -1
			var c0 uint32
			for i, r := range evs {
				if c := rc.code(r, &k); c&retStart != 0 && (q.Mode == FirstTime || c>>retShift != retBefore) {
					i0, c0 = i, c
					break
				}
			}
			if i0 < 0 {
				continue
			}
			if pc := c0 >> retShift; pc == retBefore || pc == retAfter {
				continue
			}
			entries, rets = entries[:0], rets[:0]
			for i := i0; i < len(evs); i++ {
				c := rc.code(evs[i], &k)
				if c&(retStart|retReturn) == 0 {
					continue
				}
				pc := c >> retShift
				if pc == retAfter {
					break
				}
				k := int(pc) - 1
				if (i == i0 || q.Mode == Recurring && c&retStart != 0) && (len(entries) == 0 || entries[len(entries)-1].k != k) {
					entries = append(entries, entry{k: k, i: i})
				}
				if c&retReturn != 0 {
					if n := len(rets); n > 0 && rets[n-1].k == k {
						rets[n-1].last = i
					} else {
						rets = append(rets, ret{k, i})
					}
				}
			}
			j := 0 // first return period not before the entry's
			for _, e := range entries {
				key := uint32(e.k)
				if !byPeriod {
					key = groups.of(v, evs, evs[e.i])
				}
				a := accs[key]
				if a == nil {
					a = newRetentionAcc(q.Periods)
					accs[key] = a
				}
				a.size++
				a.avail[min(q.Periods, lastPeriod-e.k+1)]++
				for j < len(rets) && rets[j].k < e.k {
					j++
				}
				for _, rt := range rets[j:] {
					if rt.k-e.k >= q.Periods {
						break
					}
					if rt.k > e.k || rt.last >= e.i {
						a.retained[rt.k-e.k]++
					}
				}
				if n := len(rets); n > 0 && rets[n-1].last >= e.i {
					a.rolled[min(rets[n-1].k-e.k, q.Periods-1)]++
				}
			}
		}
		mu.Lock()
		shares = append(shares, accs)
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	total := make([]*retentionAcc, nKeys)
	for _, accs := range shares {
		for key, a := range accs {
			if a == nil {
				continue
			}
			if total[key] == nil {
				total[key] = newRetentionAcc(q.Periods)
			}
			total[key].merge(a)
		}
	}
	for key, a := range total {
		if a == nil {
			continue
		}
		c := Cohort{Size: a.size, Eligible: make([]int64, q.Periods), Retained: make([]int64, q.Periods), Rate: make([]float64, q.Periods)}
		if byPeriod {
			c.Start = time.UnixMilli(bounds[key]).In(loc)
			c.Label = c.Start.Format(time.DateOnly)
			if q.Interval == Month {
				c.Label = c.Start.Format("2006-01")
			}
		} else {
			c.Label = groups.labels[key]
		}
		var eligible, rolled int64
		for n := q.Periods - 1; n >= 0; n-- {
			eligible += a.avail[n+1] // members who reached more than n periods
			rolled += a.rolled[n]
			c.Eligible[n] = eligible
			c.Retained[n] = a.retained[n]
			if q.Rolling {
				c.Retained[n] = rolled
			}
			c.Rate[n] = float64(c.Retained[n]) / float64(max(eligible, 1))
			if eligible == 0 {
				c.Retained[n], c.Rate[n] = -1, -1
			}
		}
		res.Cohorts = append(res.Cohorts, c)
	}
	if !byPeriod {
		slices.SortFunc(res.Cohorts, func(a, b Cohort) int {
			return cmp.Or(cmp.Compare(b.Size, a.Size), strings.Compare(a.Label, b.Label))
		})
	}
	return res.average(), nil
}

// average fills Average and Churn from the cohorts.
func (res *RetentionResult) average() *RetentionResult {
	res.Average, res.Churn = make([]float64, res.Periods), make([]*float64, res.Periods)
	for n := range res.Periods {
		var kept, eligible int64
		for _, c := range res.Cohorts {
			if c.Eligible[n] > 0 {
				kept += c.Retained[n]
				eligible += c.Eligible[n]
			}
		}
		res.Average[n] = -1
		if eligible > 0 {
			res.Average[n] = float64(kept) / float64(eligible)
		}
		if n > 0 && res.Average[n] >= 0 && res.Average[n-1] > 0 {
			c := 1 - res.Average[n]/res.Average[n-1]
			res.Churn[n] = &c
		}
	}
	return res
}
