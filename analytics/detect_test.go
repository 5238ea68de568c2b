package analytics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// detDay0 is a Monday.
var detDay0 = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

const detDay = 24 * time.Hour

// detDayN is the start of day i of a series starting at detDay0.
func detDayN(i int) time.Time { return detDay0.Add(time.Duration(i) * detDay) }

// detRates builds a daily series from num/den pairs.
func detRates(pairs ...[2]int64) []RatePoint {
	s := make([]RatePoint, len(pairs))
	for i, p := range pairs {
		s[i] = RatePoint{T: detDayN(i), Num: p[0], Den: p[1]}
	}
	return s
}

// detRepeat is n copies of the pair num/den.
func detRepeat(n int, num, den int64) [][2]int64 {
	s := make([][2]int64, n)
	for i := range s {
		s[i] = [2]int64{num, den}
	}
	return s
}

// detBinomial draws from Binomial(n, p).
func detBinomial(r *rand.Rand, n int64, p float64) int64 {
	var k int64
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return k
}

// detRandRates is a series of n periods of length step, with den entrants
// drawn uniformly from [lo, hi] and Binomial(den, rate(i)) converted.
func detRandRates(seed uint64, n int, step time.Duration, lo, hi int64, rate func(i int) float64) []RatePoint {
	r := rand.New(rand.NewPCG(seed, 0xc0ffee))
	s := make([]RatePoint, n)
	for i := range s {
		den := lo + r.Int64N(hi-lo+1)
		s[i] = RatePoint{T: detDay0.Add(time.Duration(i) * step), Num: detBinomial(r, den, rate(i)), Den: den}
	}
	return s
}

var detApprox = cmpopts.EquateApprox(0, 1e-4)

func TestChangePoints(t *testing.T) {
	cat := func(parts ...[][2]int64) []RatePoint {
		var all [][2]int64
		for _, p := range parts {
			all = append(all, p...)
		}
		return detRates(all...)
	}
	// z of 0.5 against 0.2 with d entrants each side: pooled rate 0.35.
	z := func(d float64) float64 { return -0.3 / math.Sqrt(0.35*0.65*2/d) }
	cases := []struct {
		name   string
		series []RatePoint
		minLen int
		want   []Shift
	}{
		{"step at 5", cat(detRepeat(5, 50, 100), detRepeat(5, 20, 100)), 2,
			[]Shift{{At: detDayN(5), Index: 5, Before: 0.5, After: 0.2, DenBefore: 500, DenAfter: 500, Z: -9.9449}}},
		{"constant", cat(detRepeat(10, 50, 100)), 2, nil},
		{"two changes", cat(detRepeat(6, 50, 100), detRepeat(6, 20, 100), detRepeat(6, 50, 100)), 2,
			[]Shift{
				{At: detDayN(6), Index: 6, Before: 0.5, After: 0.2, DenBefore: 600, DenAfter: 600, Z: z(600)},
				{At: detDayN(12), Index: 12, Before: 0.2, After: 0.5, DenBefore: 600, DenAfter: 600, Z: -z(600)},
			}},
		// 5 entrants a day: 25 a side, under 30, however clear the fall.
		{"tiny samples", cat(detRepeat(5, 5, 5), detRepeat(5, 0, 5)), 2, nil},
		{"side too short", cat(detRepeat(9, 50, 100), detRepeat(1, 20, 100)), 2, nil},
		// z is about 9.5, but 0.50 to 0.47 is under minEffect 0.05.
		{"small effect", cat(detRepeat(5, 5000, 10000), detRepeat(5, 4700, 10000)), 2, nil},
		{"den zeros", detRates(
			[2]int64{50, 100}, [2]int64{0, 0}, [2]int64{50, 100}, [2]int64{50, 100}, [2]int64{0, 0},
			[2]int64{0, 0}, [2]int64{20, 100}, [2]int64{20, 100}, [2]int64{0, 0}, [2]int64{20, 100}), 2,
			// The change is somewhere in days 4 and 5 with no entrants;
			// day 6 is the first seen at the new rate.
			[]Shift{{At: detDayN(6), Index: 6, Before: 0.5, After: 0.2, DenBefore: 300, DenAfter: 300, Z: z(300)}}},
		// Two periods with entrants a side are fewer than minLen 3.
		{"den zeros count not towards minLen", detRates(
			[2]int64{50, 100}, [2]int64{0, 0}, [2]int64{50, 100}, [2]int64{0, 0},
			[2]int64{20, 100}, [2]int64{0, 0}, [2]int64{20, 100}), 3, nil},
		{"no entrants at all", cat(detRepeat(20, 0, 0)), 2, nil},
		{"empty", nil, 2, nil},
		// Num above Den counts as Den, negative as 0.
		{"clamped", cat(detRepeat(5, 150, 100), detRepeat(5, -3, 100)), 2,
			[]Shift{{At: detDayN(5), Index: 5, Before: 1, After: 0, DenBefore: 500, DenAfter: 500, Z: -math.Sqrt(1000)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ChangePoints(c.series, 4, 0.05, c.minLen)
			if diff := cmp.Diff(c.want, got, detApprox); diff != "" {
				t.Errorf("ChangePoints (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChangePointStory is the web and app story: six months of daily (or
// weekly) conversion; web falls from 0.55 to 0.15 two months before the end
// and must be found to the period, app stays around 0.5 and must not.
func TestChangePointStory(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		step   time.Duration
		lo, hi int64
		minLen int
		at     int
	}{
		{"daily", 182, detDay, 40, 160, 7, 182 - 61},
		{"weekly", 26, 7 * detDay, 400, 900, 3, 26 - 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(20) {
				web := detRandRates(seed, c.n, c.step, c.lo, c.hi, func(i int) float64 {
					if i < c.at {
						return 0.55
					}
					return 0.15
				})
				got := ChangePoints(web, 4, 0.05, c.minLen)
				if len(got) != 1 {
					t.Fatalf("seed %d: web: want 1 shift, got %+v", seed, got)
				}
				s := got[0]
				if d := s.Index - c.at; d < -1 || d > 1 || !s.At.Equal(web[s.Index].T) {
					t.Errorf("seed %d: web: shift at %d (%v), want %d±1", seed, s.Index, s.At, c.at)
				}
				if math.Abs(s.Before-0.55) > 0.03 || math.Abs(s.After-0.15) > 0.03 || s.Z > -10 {
					t.Errorf("seed %d: web: %+v, want about 0.55 to 0.15 with a strong negative z", seed, s)
				}
				app := detRandRates(seed, c.n, c.step, c.lo, c.hi, func(int) float64 { return 0.5 })
				if got := ChangePoints(app, 4, 0.05, c.minLen); got != nil {
					t.Errorf("seed %d: app: want no shift, got %+v", seed, got)
				}
			}
		})
	}
}

// TestChangePointsNoise counts false shifts in noise around a constant
// rate over many seeds.
func TestChangePointsNoise(t *testing.T) {
	cases := []struct {
		name      string
		n         int
		lo, hi    int64
		minLen    int
		minEffect float64
		rate      func(r *rand.Rand) float64 // each period's true rate
	}{
		{"daily binomial", 182, 20, 200, 7, 0.05, func(*rand.Rand) float64 { return 0.5 }},
		{"daily low volume", 182, 3, 15, 7, 0.05, func(*rand.Rand) float64 { return 0.3 }},
		{"weekly binomial", 26, 200, 1000, 3, 0.05, func(*rand.Rand) float64 { return 0.5 }},
		// Each day's rate wanders (sd 0.03) and volumes are large: a plain
		// z-test would find shifts everywhere with a small minEffect; the
		// dispersion correction must not.
		{"daily overdispersed", 182, 1500, 2500, 7, 0.01, func(r *rand.Rand) float64 { return 0.5 + 0.03*r.NormFloat64() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			found := 0
			for seed := range uint64(50) {
				r := rand.New(rand.NewPCG(seed, 7))
				series := detRandRates(seed, c.n, detDay, c.lo, c.hi, func(int) float64 { return c.rate(r) })
				got := ChangePoints(series, 4, c.minEffect, c.minLen)
				if len(got) > 0 {
					t.Logf("seed %d: %+v", seed, got)
				}
				found += len(got)
			}
			if found > 1 {
				t.Errorf("%d false shifts over 50 seeds, want at most 1", found)
			}
		})
	}
}

// detCounts builds a daily count series.
func detCounts(ns ...int64) []CountPoint {
	s := make([]CountPoint, len(ns))
	for i, n := range ns {
		s[i] = CountPoint{T: detDayN(i), N: n}
	}
	return s
}

// detFlat is n days of count c, with the given days changed.
func detFlat(n int, c int64, days map[int]int64) []CountPoint {
	ns := make([]int64, n)
	for i := range ns {
		ns[i] = c
		if v, ok := days[i]; ok {
			ns[i] = v
		}
	}
	return detCounts(ns...)
}

// detRetail is 182 days of retail orders from a Monday: mean(i) on
// weekdays, twice that at weekends, with Poisson noise, times
// boost[i] where given.
func detRetail(seed uint64, mean func(i int) float64, boost map[int]float64) []CountPoint {
	r := rand.New(rand.NewPCG(seed, 42))
	s := make([]CountPoint, 182)
	for i := range s {
		m := mean(i)
		if wd := detDayN(i).Weekday(); wd == time.Saturday || wd == time.Sunday {
			m *= 2
		}
		if b, ok := boost[i]; ok {
			m *= b
		}
		s[i] = CountPoint{T: detDayN(i), N: detPoisson(r, m)}
	}
	return s
}

// detPoisson draws from Poisson(m): by inversion for small means, by the
// normal approximation for large ones.
func detPoisson(r *rand.Rand, m float64) int64 {
	if m >= 30 {
		return max(0, int64(math.Round(m+math.Sqrt(m)*r.NormFloat64())))
	}
	k, p, u := int64(0), math.Exp(-m), r.Float64()
	for c := p; u > c; c += p {
		k++
		p *= m / float64(k)
	}
	return k
}

// detFrom sets days from to to (exclusive) to c, for detFlat.
func detFrom(from, to int, c int64) map[int]int64 {
	m := map[int]int64{}
	for i := from; i < to; i++ {
		m[i] = c
	}
	return m
}

func TestSpikes(t *testing.T) {
	// On a flat 10 the median absolute deviation is 0, so z is the
	// Poisson z 2(√(count+3/8) − √(10+3/8)).
	cases := []struct {
		name          string
		series        []CountPoint
		spikes, drops []Spike
	}{
		{"one day", detFlat(40, 10, map[int]int64{30: 50}),
			[]Spike{{From: detDayN(30), To: detDayN(31), Start: 30, End: 31, PeakAt: detDayN(30),
				Peak: 50, Baseline: 10, Ratio: 5, Z: 7.7530, Excess: 40}}, nil},
		// Judged against the first 40 days, the run left out.
		{"day 3", detFlat(40, 10, map[int]int64{3: 50}),
			[]Spike{{From: detDayN(3), To: detDayN(4), Start: 3, End: 4, PeakAt: detDayN(3),
				Peak: 50, Baseline: 10, Ratio: 5, Z: 7.7530, Excess: 40}}, nil},
		{"three days merge", detFlat(40, 10, map[int]int64{20: 40, 21: 60, 22: 50}),
			[]Spike{{From: detDayN(20), To: detDayN(23), Start: 20, End: 23, PeakAt: detDayN(21),
				Peak: 60, Baseline: 10, Ratio: 6, Z: 9.0982, Excess: 120}}, nil},
		{"last day", detFlat(40, 10, map[int]int64{39: 50}),
			[]Spike{{From: detDayN(39), To: detDayN(40), Start: 39, End: 40, PeakAt: detDayN(39),
				Peak: 50, Baseline: 10, Ratio: 5, Z: 7.7530, Excess: 40}}, nil},
		{"drop is not a spike", detFlat(40, 10, map[int]int64{30: 0}), nil,
			[]Spike{{From: detDayN(30), To: detDayN(31), Start: 30, End: 31, PeakAt: detDayN(30),
				Peak: 0, Baseline: 10, Ratio: 0, Z: -5.2173, Excess: -10}}},
		// 19 is under 2x.
		{"under the ratio", detFlat(40, 10, map[int]int64{30: 19}), nil, nil},
		// 10 to 40 for good at day 60: a change of level, not a spike.
		{"level shift", detFlat(120, 10, detFrom(60, 120, 40)), nil, nil},
		{"too short", detCounts(10, 50, 10), nil, nil},
		{"empty", nil, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.spikes, Spikes(c.series, 28, 3, 2), detApprox); diff != "" {
				t.Errorf("Spikes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.drops, Drops(c.series, 28, 3, 2), detApprox); diff != "" {
				t.Errorf("Drops (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSpikesRetail runs the detector on six months of daily orders with
// weekends at twice the weekdays, over 50 seeds: every planted spike or
// drop must be found with its exact days, and at most one run in all the
// seeds may be found where nothing was planted.
func TestSpikesRetail(t *testing.T) {
	flat := func(int) float64 { return 100 }
	quiet := func(int) float64 { return 2 }
	cases := []struct {
		name  string
		mean  func(i int) float64
		boost map[int]float64
		want  [][2]int // Start, End of each spike
		drops [][2]int
	}{
		{"weekends alone", flat, nil, nil, nil},
		// Days 102-104 are Friday to Sunday: Saturday is 1000 orders.
		{"campaign 5x", flat, map[int]float64{102: 5, 103: 5, 104: 5}, [][2]int{{102, 105}}, nil},
		{"campaign on day 3", flat, map[int]float64{3: 5}, [][2]int{{3, 4}}, nil},
		{"outage", flat, map[int]float64{80: 0.1}, nil, [][2]int{{80, 81}}},
		{"growth", func(i int) float64 { return 60 + float64(i) }, nil, nil, nil},
		// 2 orders a weekday, 4 a weekend day.
		{"quiet shop", quiet, nil, nil, nil},
		{"quiet shop campaign", quiet, map[int]float64{60: 20}, [][2]int{{60, 61}}, nil},
		{"closed Sundays", func(i int) float64 {
			if detDayN(i).Weekday() == time.Sunday {
				return 0
			}
			return 100
		}, nil, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			extra := 0
			for seed := range uint64(50) {
				series := detRetail(seed, c.mean, c.boost)
				check := func(what string, got []Spike, want [][2]int) {
					found := map[[2]int]bool{}
					for _, s := range got {
						r := [2]int{s.Start, s.End}
						if !s.From.Equal(series[s.Start].T) || !s.To.Equal(detDayN(s.End)) {
							t.Errorf("seed %d: %s: %+v: From/To do not match Start/End", seed, what, s)
						}
						if slices.Contains(want, r) {
							found[r] = true
						} else {
							t.Logf("seed %d: %s: unexpected %+v", seed, what, s)
							extra++
						}
					}
					for _, r := range want {
						if !found[r] {
							t.Errorf("seed %d: %s: %v not found in %+v", seed, what, r, got)
						}
					}
				}
				check("spikes", Spikes(series, 28, 4, 2), c.want)
				check("drops", Drops(series, 28, 4, 2), c.drops)
			}
			if extra > 1 {
				t.Errorf("%d unexpected runs over 50 seeds, want at most 1", extra)
			}
		})
	}
}

func TestLoops(t *testing.T) {
	cases := []struct {
		steps           []int
		backs, from, to int
	}{
		{nil, 0, -1, -1},
		{[]int{0, 1, 2}, 0, -1, -1},
		{[]int{0, 1, 1, 2}, 0, -1, -1},
		{[]int{0, 1, 0, 1, 2}, 1, 1, 0},
		{[]int{0, 1, 2, 1, 2, 1}, 2, 2, 1},
		{[]int{0, 1, 2, 1, 2, 1, 3}, 2, 2, 1},
		// 3->0 once, 2->1 twice.
		{[]int{0, 1, 2, 3, 0, 1, 2, 1, 2, 1}, 3, 2, 1},
		// A tie goes to the edge seen first.
		{[]int{0, 2, 1, 3, 0}, 2, 2, 1},
	}
	for _, c := range cases {
		backs, from, to := Loops(c.steps)
		if backs != c.backs || from != c.from || to != c.to {
			t.Errorf("Loops(%v) = %d, %d->%d; want %d, %d->%d", c.steps, backs, from, to, c.backs, c.from, c.to)
		}
	}
}

func TestWeakestTransitions(t *testing.T) {
	cases := []struct {
		name string
		ts   []Transition
		want []RankedTransition
	}{
		{"with baselines", []Transition{
			{From: 0, To: 1, Entered: 1000, Converted: 600, BaselineRate: -1},
			{From: 1, To: 2, Entered: 500, Converted: 200, BaselineRate: 0.6},
			{From: 2, To: 3, Entered: 2000, Converted: 1700, BaselineRate: 0.85},
			{From: 3, To: 4, Entered: 0, Converted: 0, BaselineRate: 0.5},
			{From: 4, To: 5, Entered: 100, Converted: 90, BaselineRate: 0.8},
		}, []RankedTransition{
			// 300 lost, losing 0.6 against 0.4: 300 × 1.5.
			{Index: 1, Lost: 300, Rate: 0.4, Baseline: 0.6, Excess: 100, Score: 450},
			{Index: 0, Lost: 400, Rate: 0.6, Baseline: -1, Score: 400},
			{Index: 2, Lost: 300, Rate: 0.85, Baseline: 0.85, Excess: 0, Score: 300},
			// Better than its baseline: 10 × 0.1/0.2.
			{Index: 4, Lost: 10, Rate: 0.9, Baseline: 0.8, Excess: -10, Score: 5},
			{Index: 3, Lost: 0, Rate: 0, Baseline: 0.5, Excess: 0, Score: 0},
		}},
		{"without baselines", []Transition{
			{Entered: 1000, Converted: 600, BaselineRate: -1},
			{Entered: 500, Converted: 200, BaselineRate: -1},
			{Entered: 2000, Converted: 1700, BaselineRate: math.NaN()},
			{Entered: 0, Converted: 0, BaselineRate: -1},
			{Entered: 100, Converted: 90, BaselineRate: -1},
		}, []RankedTransition{
			{Index: 0, Lost: 400, Rate: 0.6, Baseline: -1, Score: 400},
			// A tie on Lost and Score goes to the lower index.
			{Index: 1, Lost: 300, Rate: 0.4, Baseline: -1, Score: 300},
			{Index: 2, Lost: 300, Rate: 0.85, Baseline: -1, Score: 300},
			{Index: 4, Lost: 10, Rate: 0.9, Baseline: -1, Score: 10},
			{Index: 3, Lost: 0, Rate: 0, Baseline: -1, Score: 0},
		}},
		{"baseline of 1 and clamping", []Transition{
			{Entered: 100, Converted: 150, BaselineRate: 0.5},
			// Losing 0.1 against 1-1 taken as 0.01: 10 × 10.
			{Entered: 100, Converted: 90, BaselineRate: 1.2},
		}, []RankedTransition{
			{Index: 1, Lost: 10, Rate: 0.9, Baseline: 1, Excess: 10, Score: 100},
			{Index: 0, Lost: 0, Rate: 1, Baseline: 0.5, Excess: -50, Score: 0},
		}},
		{"empty", nil, []RankedTransition{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, WeakestTransitions(c.ts), detApprox); diff != "" {
				t.Errorf("WeakestTransitions (-want +got):\n%s", diff)
			}
		})
	}
}
