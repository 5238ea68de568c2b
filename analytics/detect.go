package analytics

// Detectors behind the insights cjm finds for a retailer: level shifts in a
// conversion rate, spikes and drops in an event count, customers going back
// in a funnel, and the funnel transitions that lose the most. They are pure
// functions over small, already aggregated series: deterministic, no I/O,
// no clock. Callers turn what they return into findings.

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// RatePoint is one period of a conversion series: Den entrants, of whom Num
// converted, in the bucket that starts at T.
type RatePoint struct {
	T        time.Time
	Num, Den int64
}

// Shift is a change point in a conversion series: where the rate changed,
// the rate and the entrants on either side, and how sure the change is.
type Shift struct {
	At    time.Time // start of the first period at the new rate
	Index int       // index of that period in the series
	// Before and After are the rates of the stretches between this shift
	// and its neighbours (or the ends of the series); DenBefore and
	// DenAfter their entrants.
	Before, After       float64
	DenBefore, DenAfter int64
	// Z is the two-proportion z of After against Before, divided by the
	// square root of the series' overdispersion (see ChangePoints);
	// negative for a fall.
	Z float64
}

// detMinEntrants is the fewest entrants a side of a shift must have.
const detMinEntrants = 30

// detChi2Median is the median of the chi-square distribution with one
// degree of freedom: the median z² of two periods with the same rate.
const detChi2Median = 0.454936423119572

// ChangePoints finds level shifts in a conversion rate series by binary
// segmentation: in a stretch of the series it tries every split, takes the
// one with the largest |z| of a pooled two-proportion z-test (before against
// after), keeps it when |z| >= minZ and |after-before| >= minEffect, then
// looks at the two halves the same way. Only splits that leave each side
// at least minLen periods with entrants and at least 30 entrants are tried.
// Once no stretch splits further, each shift is tested again against its
// final neighbours and the weakest that fails is dropped until all pass, so
// every shift returned holds against the stretches around it.
//
// minEffect is an absolute difference in rate (0.05 is five points); pass a
// smaller one for rare conversions. minLen below 1 counts as 1. For a daily
// series of a few months minZ 4, minEffect 0.05 and minLen 7 find a fall
// from 0.55 to 0.15 to the day, and stay quiet on binomial noise around a
// constant rate; for a weekly series use minLen 3.
//
// Real conversion series vary more from period to period than binomial
// sampling alone (weekdays, campaigns, bots), which makes a plain z-test
// see shifts everywhere once volumes are large. So every z is divided by
// the square root of the series' dispersion: the median z² of consecutive
// periods' rates over that of chi-square(1), never less than 1. A median
// of neighbour pairs is not moved by the few pairs that straddle a shift.
//
// Periods with Den <= 0 carry no information: they count neither towards
// minLen nor towards the rates, and a shift is never placed on one (At is
// the first period with entrants at the new rate). Num is clamped to
// [0, Den]. The series must be sorted by T. Shifts are returned in time
// order; nil when there are none.
func ChangePoints(series []RatePoint, minZ, minEffect float64, minLen int) []Shift {
	n := len(series)
	minLen = max(minLen, 1)
	// Prefix sums: converted, entrants and periods with entrants in [0, i).
	pn := make([]int64, n+1)
	pd := make([]int64, n+1)
	pc := make([]int, n+1)
	for i, p := range series {
		num, den := detClean(p)
		pn[i+1] = pn[i] + num
		pd[i+1] = pd[i] + den
		pc[i+1] = pc[i]
		if den > 0 {
			pc[i+1]++
		}
	}
	scale := math.Sqrt(detDispersion(series))

	// split tests the split of [lo, hi) at k: eligible when both sides
	// are long and big enough, kept when it also passes the thresholds.
	type split struct {
		before, after       float64
		denBefore, denAfter int64
		z                   float64
	}
	test := func(lo, k, hi int) (s split, eligible, kept bool) {
		if series[k].Den <= 0 || pc[k]-pc[lo] < minLen || pc[hi]-pc[k] < minLen {
			return s, false, false
		}
		nb, db := pn[k]-pn[lo], pd[k]-pd[lo]
		na, da := pn[hi]-pn[k], pd[hi]-pd[k]
		if db < detMinEntrants || da < detMinEntrants {
			return s, false, false
		}
		s = split{
			before: float64(nb) / float64(db), after: float64(na) / float64(da),
			denBefore: db, denAfter: da,
			z: detTwoProportionZ(nb, db, na, da) / scale,
		}
		kept = math.Abs(s.z) >= minZ && math.Abs(s.after-s.before) >= minEffect
		return s, true, kept
	}

	var cuts []int
	var segment func(lo, hi int)
	segment = func(lo, hi int) {
		best, bestZ := -1, -1.0
		for k := lo + 1; k < hi; k++ {
			if s, ok, _ := test(lo, k, hi); ok && math.Abs(s.z) > bestZ {
				best, bestZ = k, math.Abs(s.z)
			}
		}
		if best < 0 {
			return
		}
		if _, _, kept := test(lo, best, hi); !kept {
			return
		}
		cuts = append(cuts, best)
		segment(lo, best)
		segment(best, hi)
	}
	segment(0, n)
	slices.Sort(cuts)

	// Test each cut against its final neighbours; drop the weakest that
	// fails and test again.
	bounds := func(j int) (lo, hi int) {
		lo, hi = 0, n
		if j > 0 {
			lo = cuts[j-1]
		}
		if j < len(cuts)-1 {
			hi = cuts[j+1]
		}
		return lo, hi
	}
	for {
		weakest, weakestZ := -1, math.Inf(1)
		for j, k := range cuts {
			lo, hi := bounds(j)
			if s, _, kept := test(lo, k, hi); !kept && math.Abs(s.z) < weakestZ {
				weakest, weakestZ = j, math.Abs(s.z)
			}
		}
		if weakest < 0 {
			break
		}
		cuts = slices.Delete(cuts, weakest, weakest+1)
	}

	var out []Shift
	for j, k := range cuts {
		lo, hi := bounds(j)
		s, _, _ := test(lo, k, hi)
		out = append(out, Shift{
			At: series[k].T, Index: k,
			Before: s.before, After: s.after,
			DenBefore: s.denBefore, DenAfter: s.denAfter,
			Z: s.z,
		})
	}
	return out
}

// detClean returns a point's converted and entrants, with entrants below
// zero as zero and converted clamped to [0, entrants].
func detClean(p RatePoint) (num, den int64) {
	den = max(p.Den, 0)
	return min(max(p.Num, 0), den), den
}

// detTwoProportionZ is the pooled two-proportion z of rate na/da against
// nb/db; 0 when the pooled rate is 0 or 1.
func detTwoProportionZ(nb, db, na, da int64) float64 {
	p := float64(nb+na) / float64(db+da)
	v := p * (1 - p) * (1/float64(db) + 1/float64(da))
	if v <= 0 {
		return 0
	}
	return (float64(na)/float64(da) - float64(nb)/float64(db)) / math.Sqrt(v)
}

// detDispersion estimates how much more a conversion series varies from
// period to period than binomial sampling allows: the median z² of
// consecutive periods with entrants, over the median of chi-square(1). It
// is at least 1, and 1 when there are fewer than 5 pairs to judge by.
func detDispersion(series []RatePoint) float64 {
	var z2 []float64
	prev := -1
	for i, p := range series {
		if _, den := detClean(p); den == 0 {
			continue
		}
		if prev >= 0 {
			nb, db := detClean(series[prev])
			na, da := detClean(p)
			z := detTwoProportionZ(nb, db, na, da)
			z2 = append(z2, z*z)
		}
		prev = i
	}
	if len(z2) < 5 {
		return 1
	}
	return max(1, detMedian(z2)/detChi2Median)
}

// CountPoint is one period of an event count series: N events in the
// bucket that starts at T.
type CountPoint struct {
	T time.Time
	N int64
}

// Spike is a run of consecutive periods far above (for Spikes) or below
// (for Drops) their expected count.
type Spike struct {
	From, To   time.Time // start of the run; start of the period after it
	Start, End int       // indexes of the run, End exclusive
	// The peak is the run's most extreme period (largest |Z|): its time,
	// its count, the count expected for it, Peak/Baseline (a Baseline
	// under 1 counts as 1) and its z (see Spikes).
	PeakAt   time.Time
	Peak     int64
	Baseline float64
	Ratio    float64
	Z        float64
	// Excess is the sum over the run of count minus expected count:
	// the extra events of a spike, negative for a drop.
	Excess float64
}

// Spikes finds runs of periods whose count is well above what the recent
// past predicts: a robust z of at least minZ and a count at least minRatio
// times the expected one. Consecutive such periods make one Spike. Use
// window 28, minZ 4 and minRatio 2 for daily series.
//
// The expected count of a period is the median of the `window` periods
// before it (before the start of the run it extends, so a long spike does
// not raise its own baseline). Its z is the smaller (closer to 0) of the
// robust z, (count − expected) / (1.4826 × the median absolute deviation
// of those periods), and the Poisson z of the count, 2(√(count+3/8) −
// √(expected+3/8)) (Anscombe's transform): a flat series, whose deviation
// is 0, or a quiet one of a few events a day does not turn every blip
// into a spike, while a noisy one needs more than Poisson noise. The first
// periods of a series lack that history and are judged against the first
// 2·window periods instead (the whole series when shorter), leaving out
// the run itself: a spike early in the series is not missed and a
// long-term trend does not decide. Fewer than 3 periods to judge by judge
// nothing.
//
// Retail traffic is seasonal: a weekend may well see twice a weekday's
// orders, and a plain trailing median would take every Saturday for a
// spike. So when the periods are days (23 to 25 hours apart, for local
// time buckets) every count is first divided by its weekday's factor, and
// the expected count of a period is the median of the deseasonalised
// window times its own weekday's factor. A weekday's factor is the median
// over the whole series of its count+1 against the median count+1 of the
// seven days around it (one added so that days with no events, such as a
// closed Sunday, stay finite); medians let a few days of campaign or a
// change of level barely move it. Hourly series use the hour of day the
// same way. Each weekday (hour) needs 3 periods or no factors are used.
//
// A run longer than window/2 periods is a change of level, not a spike: it
// is not reported, and its periods then count as history for later ones
// (ChangePoints is the tool for levels). Negative counts count as 0. window
// below 1 counts as 28. The series must be sorted by T and is best
// complete, with zero-count periods present.
func Spikes(series []CountPoint, window int, minZ, minRatio float64) []Spike {
	return detRuns(series, window, minZ, minRatio, 1)
}

// Drops is Spikes turned upside down: runs of periods with a z of at most
// -minZ and a count at most 1/minRatio times the expected one, such as a
// day the site or its tracking was down. Peak is then the count of the
// run's deepest period, Z is negative and so is Excess.
func Drops(series []CountPoint, window int, minZ, minRatio float64) []Spike {
	return detRuns(series, window, minZ, minRatio, -1)
}

// detRuns finds spikes (dir 1) or drops (dir -1); see Spikes.
func detRuns(series []CountPoint, window int, minZ, minRatio float64, dir float64) []Spike {
	n := len(series)
	if window < 1 {
		window = 28
	}
	step := detStep(series)
	factor := detSeasonal(series, step)
	x := make([]float64, n)
	y := make([]float64, n) // deseasonalised
	for i, p := range series {
		x[i] = float64(max(p.N, 0))
		y[i] = x[i] / factor[i]
	}
	early := min(n, 2*window)
	maxRun := max(1, window/2)

	var out []Spike
	var cur *Spike
	end := func(i int) {
		if cur != nil && i-cur.Start <= maxRun {
			cur.End = i
			cur.From = series[cur.Start].T
			if i < n {
				cur.To = series[i].T
			} else {
				cur.To = series[n-1].T.Add(step)
			}
			out = append(out, *cur)
		}
		cur = nil
	}
	ref := make([]float64, 0, max(window, early))
	for i := range n {
		start := i
		if cur != nil {
			start = cur.Start
		}
		// The periods to judge by, leaving out the run and this period.
		ref = ref[:0]
		if start >= window {
			ref = append(ref, y[start-window:start]...)
		} else {
			for j := range early {
				if j < start || j > i {
					ref = append(ref, y[j])
				}
			}
		}
		if len(ref) < 3 {
			end(i)
			continue
		}
		base := detMedian(ref)
		for j, v := range ref {
			ref[j] = math.Abs(v - base)
		}
		mad := detMedian(ref)
		expect := base * factor[i]
		z := detCountZ(x[i], expect, 1.4826*mad*factor[i])
		ratio := x[i] / max(expect, 1)
		hit := dir*z >= minZ && (dir > 0 && ratio >= minRatio || dir < 0 && ratio*minRatio <= 1)
		if !hit {
			end(i)
			continue
		}
		if cur == nil {
			cur = &Spike{Start: i}
		}
		if i == cur.Start || math.Abs(z) > math.Abs(cur.Z) {
			cur.PeakAt, cur.Peak, cur.Baseline, cur.Ratio, cur.Z = series[i].T, int64(x[i]), expect, ratio, z
		}
		cur.Excess += x[i] - expect
		if i+1-cur.Start > maxRun {
			// A change of level: forget the run, its periods become
			// history for the next ones.
			cur = nil
		}
	}
	end(n)
	return out
}

// detCountZ is the z of count x against expected count e: the robust z
// (x-e)/sd or, when it is closer to 0, the Poisson z by Anscombe's
// transform, 2(√(x+3/8) − √(e+3/8)).
func detCountZ(x, e, sd float64) float64 {
	z := 2 * (math.Sqrt(x+0.375) - math.Sqrt(e+0.375))
	if sd > 0 {
		if r := (x - e) / sd; math.Abs(r) < math.Abs(z) {
			return r
		}
	}
	return z
}

// detStep is the median spacing of a series' periods; 0 for fewer than two.
func detStep(series []CountPoint) time.Duration {
	var d []time.Duration
	for i := 1; i < len(series); i++ {
		d = append(d, series[i].T.Sub(series[i-1].T))
	}
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// detSeasonal returns each period's seasonal factor: by weekday for daily
// series, by hour of day for hourly ones; all 1 for other series or when a
// weekday (hour) has fewer than 3 periods. The factor of a weekday is the
// median, over its periods, of count+1 against the local level+1, the
// level being the median of the week (day) of periods around the period:
// one of each weekday (hour), so the level neither follows the season nor
// jumps at a change of level. See Spikes.
func detSeasonal(series []CountPoint, step time.Duration) []float64 {
	n := len(series)
	f := make([]float64, n)
	for i := range f {
		f[i] = 1
	}
	var key func(time.Time) int
	var period int
	switch {
	case step >= 23*time.Hour && step <= 25*time.Hour:
		key, period = func(t time.Time) int { return int(t.Weekday()) }, 7
	case step == time.Hour:
		key, period = func(t time.Time) int { return t.Hour() }, 24
	default:
		return f
	}
	if n < 3*period {
		return f
	}
	x := make([]float64, n)
	for i, p := range series {
		x[i] = float64(max(p.N, 0))
	}
	groups := make([][]float64, period)
	around := make([]float64, period)
	for i, p := range series {
		j := min(max(i-period/2, 0), n-period)
		copy(around, x[j:j+period])
		k := key(p.T)
		groups[k] = append(groups[k], (x[i]+1)/(detMedian(around)+1))
	}
	byKey := make([]float64, period)
	for k, g := range groups {
		if len(g) < 3 {
			return f
		}
		byKey[k] = detMedian(g)
	}
	for i, p := range series {
		f[i] = byKey[key(p.T)]
	}
	return f
}

// detMedian is the median of xs, which it reorders; 0 when empty.
func detMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// Loops counts how often an actor went back in a funnel: steps are the
// indexes of the funnel steps the actor reached, in time order (for example
// [0 1 2 1 2 1 3]), and every step lower than the one before it is one
// going back. It returns that count and the most frequent back edge (from
// the higher step to the lower one; the first seen on a tie), or -1, -1
// when the actor never went back. Repeating a step is not going back.
func Loops(steps []int) (backs, from, to int) {
	from, to = -1, -1
	seen := map[[2]int]int{}
	most := 0
	for i := 1; i < len(steps); i++ {
		if steps[i] >= steps[i-1] {
			continue
		}
		backs++
		e := [2]int{steps[i-1], steps[i]}
		seen[e]++
		if seen[e] > most {
			most, from, to = seen[e], e[0], e[1]
		}
	}
	return backs, from, to
}

// Transition is one step-to-step conversion of a funnel: of Entered actors
// who reached step From, Converted went on to step To.
type Transition struct {
	From, To           int
	Entered, Converted int64
	// BaselineRate is the rate of the same transition over a reference
	// period or population, below 0 when unknown.
	BaselineRate float64
}

// RankedTransition is a transition as WeakestTransitions ranks it.
type RankedTransition struct {
	Index    int     // index in the slice given to WeakestTransitions
	Lost     int64   // Entered - Converted
	Rate     float64 // Converted / Entered, 0 when nobody entered
	Baseline float64 // BaselineRate clamped to [0, 1], -1 when unknown
	// Excess is how many more were lost than at the baseline rate,
	// Entered × (Baseline - Rate): negative when the transition does
	// better than its baseline, 0 when the baseline is unknown.
	Excess float64
	Score  float64
}

// WeakestTransitions ranks transitions by how much they lose, weakest
// first. The score is the customers lost weighted by how much worse the
// transition loses them than its baseline:
//
//	Score = Lost × (1 - Rate) / (1 - Baseline)
//
// with 1 - Baseline taken as at least 0.01, and a weight of 1 (Score =
// Lost) when the baseline is unknown. A transition at its baseline scores
// its losses, one losing twice its usual share scores double, one doing
// better than usual scores less: so a regression ranks above a step that
// always leaked as much, and all scores are counted in customers. Ties go
// to the larger Lost, then the lower index. Converted is clamped to
// [0, Entered] and Entered below 0 counts as 0.
func WeakestTransitions(ts []Transition) []RankedTransition {
	out := make([]RankedTransition, len(ts))
	for i, t := range ts {
		entered := max(t.Entered, 0)
		converted := min(max(t.Converted, 0), entered)
		r := RankedTransition{Index: i, Lost: entered - converted, Baseline: -1}
		if entered > 0 {
			r.Rate = float64(converted) / float64(entered)
		}
		r.Score = float64(r.Lost)
		if t.BaselineRate >= 0 { // false for NaN too
			r.Baseline = min(t.BaselineRate, 1)
			r.Excess = float64(entered) * (r.Baseline - r.Rate)
			r.Score *= (1 - r.Rate) / max(1-r.Baseline, 0.01)
		}
		out[i] = r
	}
	slices.SortStableFunc(out, func(a, b RankedTransition) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(b.Lost, a.Lost),
			cmp.Compare(a.Index, b.Index),
		)
	})
	return out
}
