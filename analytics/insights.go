package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"
)

// InsightQuery says where to look for findings.
type InsightQuery struct {
	From, To time.Time
	Location *time.Location // day boundaries (default UTC)
	// Funnels are the journeys whose transitions are ranked, watched for
	// change points and loops (default: DefaultInsightFunnel where its
	// events occur). A map's stages can be one (Steps "stage:KEY" with the
	// map's classifier, as in FunnelQuery).
	Funnels []FunnelQuery
	// Breakdowns are the fields whose values split the transitions for
	// change points: "source" (the event's source, named by SourceName) or
	// a field path (default: source, context.device.type, traits.persona).
	Breakdowns []string
	SourceName func(sourceID string) string
	// Limit caps the findings returned (default 30).
	Limit int
}

// DefaultInsightFunnel is the shopping journey of a retailer, as the
// Segment e-commerce spec names its events.
var DefaultInsightFunnel = []string{"Product List Viewed", "Product Viewed", "Product Added", "Checkout Started", "Order Completed"}

// InsightKind is what a finding is about.
type InsightKind string

// Kinds of finding.
const (
	WeakTransition InsightKind = "weak_transition" // a step that loses many customers
	ChangePoint    InsightKind = "change_point"    // a step's conversion changed at a date, in a segment
	Loop           InsightKind = "loop"            // customers going back to an earlier step again and again
	EventSpike     InsightKind = "spike"           // an event far more frequent than usual
	EventDrop      InsightKind = "drop"            // an event far less frequent than usual
)

// Insight is one finding: what, where, when, how big, and whom it touches.
type Insight struct {
	Kind InsightKind `json:"kind"`
	// Steps are the funnel steps concerned (a transition: two), Event the
	// event of a spike or drop.
	Steps []string `json:"steps,omitempty"`
	Event string   `json:"event,omitempty"`
	// Events are all the events of a spike or drop found on the same days,
	// the largest first (Event is the first).
	Events []string `json:"events,omitempty"`
	// Segment is the breakdown value the finding holds for (field=value).
	SegmentField string `json:"segment_field,omitempty"`
	SegmentValue string `json:"segment_value,omitempty"`
	// Start and End bound the period of the finding (End exclusive).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Before and After are rates (transitions, change points: conversion
	// before and after, or the baseline and the period's rate) or counts
	// per period (spikes: baseline and peak).
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Effect is the size of the finding: the change in conversion (points),
	// the ratio of a spike to its baseline, or the number of back-steps.
	Effect float64 `json:"effect"`
	// Customers is how many customers the finding touches (those lost at a
	// transition, entrants after a change, looping customers, events over
	// the baseline for a spike).
	Customers int64 `json:"customers"`
	// Score ranks the findings, highest first.
	Score float64 `json:"score"`
	// Funnel is the funnel that shows it (steps and breakdown).
	Funnel *FunnelQuery `json:"-"`
}

// Insights looks for findings in the period.
func (v *View) Insights(ctx context.Context, q InsightQuery) ([]Insight, error) {
	loc := cmp.Or(q.Location, time.UTC)
	from, to := q.From, q.To
	if from.IsZero() || to.IsZero() {
		lo, hi := v.timeSpan()
		if from.IsZero() {
			from = time.UnixMilli(lo)
		}
		if to.IsZero() {
			to = time.UnixMilli(hi + 1)
		}
	}
	from = Day.Start(from.In(loc))
	funnels := q.Funnels
	if len(funnels) == 0 {
		var steps []string
		for _, s := range DefaultInsightFunnel {
			if _, ok := v.nameCode(s); ok {
				steps = append(steps, s)
			}
		}
		if len(steps) >= 2 {
			funnels = []FunnelQuery{{Steps: steps, Window: 7 * 24 * time.Hour}}
		}
	}
	dims := q.Breakdowns
	if dims == nil {
		dims = []string{"source", "context.device.type", "traits.persona"}
	}
	var out []Insight
	for _, f := range funnels {
		f.From, f.To, f.Location = from, to, loc
		found, err := v.funnelInsights(ctx, f, dims, q.SourceName)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	spikes, err := v.spikeInsights(ctx, from, to, loc)
	if err != nil {
		return nil, err
	}
	out = append(out, spikes...)
	slices.SortStableFunc(out, func(a, b Insight) int { return cmp.Compare(b.Score, a.Score) })
	if limit := cmp.Or(q.Limit, 30); len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// daysUpTo counts the days from day0 (a midnight) that begin before end
// (exclusive): a day that end cuts short counts, the day end starts does
// not.
func daysUpTo(day0, end time.Time) int {
	n := int(daysBetween(day0, end))
	if end.After(Day.Start(end)) {
		n++
	}
	return n
}

// timeSpan returns the first and last event times (milliseconds).
func (v *View) timeSpan() (lo, hi int64) {
	if v.n == 0 {
		return 0, 0
	}
	lo, hi = math.MaxInt64, math.MinInt64
	for _, t := range v.ts {
		lo, hi = min(lo, t), max(hi, t)
	}
	return lo, hi
}

// funnelInsights ranks a funnel's transitions against the previous period
// of the same length, finds change points in each transition per
// breakdown value, and customers who loop.
func (v *View) funnelInsights(ctx context.Context, f FunnelQuery, dims []string, sourceName func(string) string) ([]Insight, error) {
	cur, err := v.Funnel(ctx, f)
	if err != nil {
		return nil, err
	}
	prev := f
	prev.From, prev.To = f.From.Add(-f.To.Sub(f.From)), f.From
	base, err := v.Funnel(ctx, prev)
	if err != nil {
		return nil, err
	}
	var out []Insight
	var ts []Transition
	for k := 0; k+1 < len(cur.Steps); k++ {
		tr := Transition{From: k, To: k + 1, Entered: cur.Steps[k].Count, Converted: cur.Steps[k+1].Count, BaselineRate: -1}
		if base.Steps[k].Count >= 30 {
			tr.BaselineRate = float64(base.Steps[k+1].Count) / float64(base.Steps[k].Count)
		}
		ts = append(ts, tr)
	}
	for _, r := range WeakestTransitions(ts) {
		if r.Lost == 0 {
			break
		}
		tr := ts[r.Index]
		fq := f
		out = append(out, Insight{Kind: WeakTransition, Steps: []string{f.Steps[tr.From], f.Steps[tr.To]},
			Start: f.From, End: f.To, Before: r.Baseline, After: r.Rate, Effect: r.Rate - max(r.Baseline, 0),
			Customers: r.Lost, Score: float64(r.Lost) * 0.5, Funnel: &fq})
	}

	changes, loops, err := v.transitionSeries(ctx, f, dims, sourceName)
	if err != nil {
		return nil, err
	}
	out = append(out, changes...)
	out = append(out, loops...)
	return out, nil
}

// transitionSeries builds, for each transition k → k+1 and each value of
// each breakdown, the daily series of people who did step k (entered) and
// did step k+1 within a day after (converted), and looks for change
// points in them; it also counts the people who go back from a step to an
// earlier one at least twice.
func (v *View) transitionSeries(ctx context.Context, f FunnelQuery, dims []string, sourceName func(string) string) ([]Insight, []Insight, error) {
	m, err := v.stepMasks(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	type dim struct {
		field  string
		codes  []uint32 // nil: the source
		values []string
	}
	var ds []dim
	for _, d := range dims {
		if d == "source" {
			vals := v.ix.sources.list()
			if sourceName != nil {
				named := make([]string, len(vals))
				for i, s := range vals {
					named[i] = cmp.Or(sourceName(s), s)
				}
				vals = named
			}
			ds = append(ds, dim{field: "source", values: vals})
			continue
		}
		codes, values, err := v.column(ctx, fieldPath(d))
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, dim{field: d, codes: codes, values: values})
	}
	valueOf := func(d *dim, r uint32) uint32 {
		if d.codes == nil {
			return v.source[r]
		}
		return d.codes[r]
	}
	loc := cmp.Or(f.Location, time.UTC)
	day0 := Day.Start(f.From.In(loc))
	nDays := daysUpTo(day0, f.To.In(loc))
	dayOf := func(t int64) int { return int(daysBetween(day0, time.UnixMilli(t).In(loc))) }
	steps := len(f.Steps)
	dayMs := int64(24 * time.Hour / time.Millisecond)

	// key: transition, dimension, value → per-day entered and converted.
	type key struct {
		k, d int
		val  uint32
	}
	type series struct{ num, den []int64 }
	type acc struct {
		s     map[key]*series
		backs map[[2]int]int64
	}
	workers := v.workers(len(v.persons))
	accs := make([]acc, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			a := acc{s: map[key]*series{}, backs: map[[2]int]int64{}}
			var rows []uint32
			var seq []int
			n := len(v.persons)
			for p := n * w / workers; p < n*(w+1)/workers; p++ {
				rows = rows[:0]
				for _, r := range v.events(p) {
					if s, _ := m.masks(r); s != 0 && m.keep(r) {
						rows = append(rows, r)
					}
				}
				if len(rows) == 0 {
					continue
				}
				// Entries: the first step-k event of each day; converted
				// when a step-k+1 event follows within a day.
				seen := map[[2]int]bool{}
				seq = seq[:0]
				for i, r := range rows {
					s, _ := m.masks(r)
					for k := 0; k < steps-1; k++ {
						if s&(1<<k) == 0 {
							continue
						}
						d := dayOf(v.ts[r])
						if d < 0 || d >= nDays || seen[[2]int{k, d}] {
							continue
						}
						seen[[2]int{k, d}] = true
						conv := false
						for _, r2 := range rows[i+1:] {
							if v.ts[r2]-v.ts[r] > dayMs {
								break
							}
							if s2, _ := m.masks(r2); s2&(1<<(k+1)) != 0 {
								conv = true
								break
							}
						}
						for di := range ds {
							kk := key{k, di, valueOf(&ds[di], r)}
							sr := a.s[kk]
							if sr == nil {
								sr = &series{num: make([]int64, nDays), den: make([]int64, nDays)}
								a.s[kk] = sr
							}
							sr.den[d]++
							if conv {
								sr.num[d]++
							}
						}
					}
					// The step sequence, for loops: the highest step the
					// event matches.
					if s != 0 {
						seq = append(seq, 63-bits.LeadingZeros64(s))
					}
				}
				if backs, from, to := Loops(seq); backs >= 2 {
					a.backs[[2]int{from, to}]++
				}
			}
			accs[w] = a
		})
	}
	wg.Wait()
	all := map[key]*series{}
	backs := map[[2]int]int64{}
	for _, a := range accs {
		for k, s := range a.s {
			if all[k] == nil {
				all[k] = &series{num: make([]int64, nDays), den: make([]int64, nDays)}
			}
			for d := range nDays {
				all[k].num[d] += s.num[d]
				all[k].den[d] += s.den[d]
			}
		}
		for k, n := range a.backs {
			backs[k] += n
		}
	}

	var changes []Insight
	keys := slices.SortedFunc(func(yield func(key) bool) {
		for k := range all {
			if !yield(k) {
				return
			}
		}
	}, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.d, b.d), cmp.Compare(a.val, b.val))
	})
	for _, kk := range keys {
		s := all[kk]
		if kk.val == 0 {
			continue // no value: not a segment
		}
		pts := make([]RatePoint, nDays)
		for d := range nDays {
			pts[d] = RatePoint{T: day0.AddDate(0, 0, d), Num: s.num[d], Den: s.den[d]}
		}
		for _, sh := range ChangePoints(pts, 4, 0.05, 7) {
			dd := ds[kk.d]
			end := f.To
			var entrants int64
			for d := sh.Index; d < nDays; d++ {
				entrants += s.den[d]
			}
			fq := f
			fq.Steps = []string{f.Steps[kk.k], f.Steps[kk.k+1]}
			fq.Breakdown = ""
			if dd.codes != nil {
				fq.Breakdown = dd.field
			}
			changes = append(changes, Insight{Kind: ChangePoint, Steps: fq.Steps, SegmentField: dd.field, SegmentValue: dd.values[kk.val],
				Start: sh.At, End: end, Before: sh.Before, After: sh.After, Effect: sh.After - sh.Before,
				Customers: entrants, Score: math.Abs(sh.After-sh.Before) * float64(entrants), Funnel: &fq})
		}
	}
	var loops []Insight
	for pair, n := range backs {
		if n < 10 {
			continue
		}
		fq := f
		loops = append(loops, Insight{Kind: Loop, Steps: []string{f.Steps[pair[0]], f.Steps[pair[1]]}, Start: f.From, End: f.To,
			Effect: float64(n), Customers: n, Score: float64(n) * 0.3, Funnel: &fq})
	}
	slices.SortFunc(loops, func(a, b Insight) int { return cmp.Compare(b.Customers, a.Customers) })
	return changes, loops, nil
}

// spikeInsights looks for days on which an event was far more (or less)
// frequent than its seasonal baseline.
func (v *View) spikeInsights(ctx context.Context, from, to time.Time, loc *time.Location) ([]Insight, error) {
	day0 := Day.Start(from.In(loc))
	nDays := daysUpTo(day0, to.In(loc))
	if nDays < 14 {
		return nil, nil
	}
	names := v.names()
	counts := make([][]int64, len(names))
	lo, hi := day0.UnixMilli(), to.UnixMilli()
	// Day boundaries, so each event needs one search, not a time zone.
	bounds := make([]int64, nDays+1)
	for d := range bounds {
		bounds[d] = day0.AddDate(0, 0, d).UnixMilli()
	}
	for r := range v.n {
		t := v.ts[r]
		if t < lo || t >= hi {
			continue
		}
		d, found := slices.BinarySearch(bounds, t)
		if !found {
			d--
		}
		if d < 0 || d >= nDays {
			continue
		}
		c := v.name[r]
		if counts[c] == nil {
			counts[c] = make([]int64, nDays)
		}
		counts[c][d]++
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Insight
	for c, days := range counts {
		if days == nil || names[c] == "" {
			continue
		}
		var total int64
		for _, n := range days {
			total += n
		}
		if total < 30 {
			continue // too rare to judge day by day
		}
		pts := make([]CountPoint, nDays)
		for d := range nDays {
			pts[d] = CountPoint{T: day0.AddDate(0, 0, d), N: days[d]}
		}
		weight := 1.0
		if outbound(names[c]) {
			weight = 0.2
		}
		for _, s := range Spikes(pts, 28, 4, 2) {
			out = append(out, Insight{Kind: EventSpike, Event: names[c], Start: s.From, End: s.To, Before: s.Baseline, After: float64(s.Peak),
				Effect: s.Ratio, Customers: int64(s.Excess), Score: s.Excess * weight})
		}
		for _, s := range Drops(pts, 28, 4, 2) {
			out = append(out, Insight{Kind: EventDrop, Event: names[c], Start: s.From, End: s.To, Before: s.Baseline, After: float64(s.Peak),
				Effect: s.Ratio, Customers: int64(math.Abs(s.Excess)), Score: math.Abs(s.Excess) * 0.5})
		}
	}
	return groupByDays(out), nil
}

// outbound reports whether an event is a message the business sent (an
// e-mail, SMS or Zalo message delivered or sent): its spikes are the
// business's own campaigns, so they rank below what customers did.
func outbound(name string) bool {
	return strings.HasSuffix(name, " Delivered") || strings.HasSuffix(name, " Sent") && !strings.Contains(name, "Referral")
}

// groupByDays merges the spikes (and the drops) whose days overlap into
// one finding: a campaign lifts many events at once, and is one story.
func groupByDays(found []Insight) []Insight {
	slices.SortStableFunc(found, func(a, b Insight) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), a.Start.Compare(b.Start), cmp.Compare(b.Score, a.Score))
	})
	var out []Insight
	var group []Insight
	flush := func() {
		if len(group) == 0 {
			return
		}
		slices.SortStableFunc(group, func(a, b Insight) int { return cmp.Compare(b.Score, a.Score) })
		g := group[0]
		for _, in := range group {
			if !slices.Contains(g.Events, in.Event) {
				g.Events = append(g.Events, in.Event)
			}
			if in.Start.Before(g.Start) {
				g.Start = in.Start
			}
			if in.End.After(g.End) {
				g.End = in.End
			}
		}
		for _, in := range group[1:] {
			g.Score += in.Score * 0.1
		}
		out = append(out, g)
		group = group[:0]
	}
	for _, in := range found {
		if len(group) > 0 && (in.Kind != group[0].Kind || !in.Start.Before(groupEnd(group))) {
			flush()
		}
		group = append(group, in)
	}
	flush()
	return out
}

// groupEnd is the latest end of a group's findings.
func groupEnd(group []Insight) time.Time {
	end := group[0].End
	for _, in := range group[1:] {
		if in.End.After(end) {
			end = in.End
		}
	}
	return end
}

// String describes a finding in English (the CLI's text output).
func (in Insight) String() string {
	seg := ""
	if in.SegmentField != "" {
		seg = fmt.Sprintf(" [%s=%s]", in.SegmentField, in.SegmentValue)
	}
	period := in.Start.Format(time.DateOnly) + " – " + in.End.Add(-time.Millisecond).Format(time.DateOnly)
	switch in.Kind {
	case WeakTransition:
		base := "no baseline"
		if in.Before >= 0 {
			base = fmt.Sprintf("%.1f%% the period before", 100*in.Before)
		}
		return fmt.Sprintf("weak step %s → %s: %.1f%% convert (%s), %d customers lost, %s", in.Steps[0], in.Steps[1], 100*in.After, base, in.Customers, period)
	case ChangePoint:
		return fmt.Sprintf("conversion %s → %s%s changed from %.1f%% to %.1f%% on %s (%d entrants since)", in.Steps[0], in.Steps[1], seg, 100*in.Before, 100*in.After, in.Start.Format(time.DateOnly), in.Customers)
	case Loop:
		return fmt.Sprintf("%d customers go back from %s to %s again and again, %s", in.Customers, in.Steps[0], in.Steps[1], period)
	case EventSpike:
		more := ""
		if len(in.Events) > 1 {
			more = fmt.Sprintf(" (with %s)", strings.Join(in.Events[1:min(len(in.Events), 6)], ", "))
		}
		return fmt.Sprintf("spike in %s%s: up to %.0f a day against %.0f usual (×%.1f), %s, %d more than usual", in.Event, more, in.After, in.Before, in.Effect, period, in.Customers)
	case EventDrop:
		return fmt.Sprintf("drop in %s: down to %.0f a day against %.0f usual, %s", in.Event, in.After, in.Before, period)
	}
	return string(in.Kind)
}
