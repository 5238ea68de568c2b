package analytics

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	sec = int64(1000)
	day = 86400 * sec
)

// ev builds an event at t matching the steps named by their index.
func ev(t int64, steps ...int) FunnelEvent {
	var m uint64
	for _, s := range steps {
		m |= 1 << s
	}
	return FunnelEvent{T: t, Steps: m}
}

// ex builds an event matching exclusion 0.
func ex(t int64) FunnelEvent { return FunnelEvent{T: t, Excl: 1} }

// other is an event that matches nothing in the funnel.
func other(t int64) FunnelEvent { return FunnelEvent{T: t} }

func TestFunnelAttempts(t *testing.T) {
	excl := []Exclusion{{Name: "X", From: 0, To: 1}}
	cases := []struct {
		name     string
		rule     FunnelRule
		evs      []FunnelEvent
		reached  int
		excluded bool
		at       []int64
	}{
		{"ordered, all three", FunnelRule{Steps: 3, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0), ev(10*sec, 1), ev(20*sec, 2)}, 3, false, []int64{0, 10 * sec, 20 * sec}},
		{"window is inclusive", FunnelRule{Steps: 2, Window: 30 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0), ev(30*sec, 1)}, 2, false, nil},
		{"one millisecond too late", FunnelRule{Steps: 2, Window: 30 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0), ev(30*sec+1, 1)}, 1, false, nil},
		{"window in days", FunnelRule{Steps: 2, Window: 14 * day, Order: Ordered},
			[]FunnelEvent{ev(0, 0), ev(13*day, 1), ev(15*day, 1)}, 2, false, []int64{0, 13 * day}},
		{"window measured from step 1, not the previous step", FunnelRule{Steps: 3, Window: 10 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0), ev(6*sec, 1), ev(12*sec, 2)}, 2, false, nil},
		{"ordered lets other events between", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0), other(1 * sec), ev(2*sec, 1)}, 2, false, nil},
		{"ordered ignores a step out of order", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 1), ev(1*sec, 0)}, 1, false, nil},
		{"strict: another event breaks the chain", FunnelRule{Steps: 2, Window: 60 * sec, Order: Strict},
			[]FunnelEvent{ev(0, 0), other(1 * sec), ev(2*sec, 1)}, 1, false, nil},
		{"strict: adjacent steps", FunnelRule{Steps: 2, Window: 60 * sec, Order: Strict},
			[]FunnelEvent{other(0), ev(1*sec, 0), ev(2*sec, 1), other(3 * sec)}, 2, false, nil},
		{"strict: a repeated step 1 restarts the attempt", FunnelRule{Steps: 2, Window: 60 * sec, Order: Strict},
			[]FunnelEvent{ev(0, 0), ev(1*sec, 0), ev(2*sec, 1)}, 2, false, []int64{1 * sec, 2 * sec}},
		{"repeated steps need separate events", FunnelRule{Steps: 3, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0, 1), ev(1*sec, 0, 1), ev(2*sec, 2)}, 3, false, nil},
		{"one event cannot fill two steps", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(0, 0, 1)}, 1, false, nil},
		{"same timestamp: the later event follows", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(5*sec, 0), ev(5*sec, 1)}, 2, false, []int64{5 * sec, 5 * sec}},
		{"same timestamp: the earlier event does not", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered},
			[]FunnelEvent{ev(5*sec, 1), ev(5*sec, 0)}, 1, false, nil},
		{"unordered: entry through any step", FunnelRule{Steps: 3, Window: 60 * sec, Order: Unordered},
			[]FunnelEvent{ev(0, 2), ev(1*sec, 0), ev(2*sec, 1)}, 3, false, []int64{0, 1 * sec, 2 * sec}},
		{"unordered: each step once, by distinct events", FunnelRule{Steps: 3, Window: 60 * sec, Order: Unordered},
			[]FunnelEvent{ev(0, 0), ev(1*sec, 0), ev(2*sec, 1)}, 2, false, nil},
		{"unordered: an event matching two steps is placed where it fits", FunnelRule{Steps: 2, Window: 60 * sec, Order: Unordered},
			[]FunnelEvent{ev(0, 0, 1), ev(1*sec, 0)}, 2, false, nil},
		{"unordered: the window holds", FunnelRule{Steps: 2, Window: 10 * sec, Order: Unordered},
			[]FunnelEvent{ev(0, 1), ev(11*sec, 0)}, 1, false, nil},
		{"exclusion between the steps", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, Exclusions: excl},
			[]FunnelEvent{ev(0, 0), ex(1 * sec), ev(2*sec, 1)}, 2, true, nil},
		{"exclusion after step TO does not count", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, Exclusions: excl},
			[]FunnelEvent{ev(0, 0), ev(2*sec, 1), ex(3 * sec)}, 2, false, nil},
		{"exclusion without step TO, inside the window", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, Exclusions: excl},
			[]FunnelEvent{ev(0, 0), ex(50 * sec)}, 1, true, nil},
		{"exclusion after the window", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, Exclusions: excl},
			[]FunnelEvent{ev(0, 0), ex(61 * sec)}, 1, false, nil},
		{"exclusion before step FROM", FunnelRule{Steps: 3, Window: 60 * sec, Order: Ordered, Exclusions: []Exclusion{{Name: "X", From: 1, To: 2}}},
			[]FunnelEvent{ev(0, 0), ex(1 * sec), ev(2*sec, 1), ev(3*sec, 2)}, 3, false, nil},
		{"re-entry after an excluded attempt", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, Exclusions: excl},
			[]FunnelEvent{ev(0, 0), ex(1 * sec), ev(2*sec, 1), ev(100*sec, 0), ev(101*sec, 1)}, 2, false, []int64{100 * sec, 101 * sec}},
		{"the best attempt is excluded: out of every step", FunnelRule{Steps: 3, Window: 60 * sec, Order: Ordered, Exclusions: excl},
			[]FunnelEvent{ev(0, 0), ex(1 * sec), ev(2*sec, 1), ev(3*sec, 2), ev(100*sec, 0), ev(101*sec, 1)}, 3, true, nil},
		{"step 1 before From does not start", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, From: 10 * sec, To: 100 * sec},
			[]FunnelEvent{ev(0, 0), ev(20*sec, 1)}, 0, false, nil},
		{"step 1 inside From-To, later steps may be after To", FunnelRule{Steps: 2, Window: 60 * sec, Order: Ordered, From: 10 * sec, To: 100 * sec},
			[]FunnelEvent{ev(90*sec, 0), ev(120*sec, 1)}, 2, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rule.Check(); err != nil {
				t.Fatal(err)
			}
			a := tc.rule.Best(tc.evs)
			if a.Reached != tc.reached || a.Excluded != tc.excluded {
				t.Errorf("reached %d excluded %v, want %d %v (%+v)", a.Reached, a.Excluded, tc.reached, tc.excluded, a)
			}
			if tc.at != nil && !cmp.Equal(a.At, tc.at) {
				t.Errorf("at %v, want %v", a.At, tc.at)
			}
		})
	}
}

func TestParseExclusion(t *testing.T) {
	e, err := ParseExclusion("Call: Abandoned:1-2", 3)
	if err != nil || e != (Exclusion{Name: "Call: Abandoned", From: 1, To: 2}) {
		t.Errorf("%+v %v", e, err)
	}
	for _, bad := range []string{"X", "X:2-1", "X:1-1", "X:0-3", "X:a-b", "X:-1-2", ":0-1"} {
		if _, err := ParseExclusion(bad, 3); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTallyAndAttribution(t *testing.T) {
	rule := FunnelRule{Steps: 3, Window: day, Order: Ordered}
	actors := [][]FunnelEvent{
		{{T: 0, Steps: 1, Breakdown: "Chrome"}, {T: 10 * sec, Steps: 2, Breakdown: "Safari"}, {T: 40 * sec, Steps: 4, Breakdown: "Safari"}},
		{{T: 0, Steps: 1, Breakdown: "Chrome"}, {T: 30 * sec, Steps: 2, Breakdown: "Chrome"}},
		{{T: 0, Steps: 1, Breakdown: "Firefox"}},
		{{T: 0, Steps: 2, Breakdown: "Edge"}}, // never entered
	}
	tally := NewTally(3)
	perValue := map[Attribution]map[string]int{}
	for _, evs := range actors {
		a := rule.Best(evs)
		tally.Add(a)
		for _, attr := range []Attribution{FirstTouch, LastTouch, AllEvents} {
			if perValue[attr] == nil {
				perValue[attr] = map[string]int{}
			}
			for _, v := range Values(evs, a, attr, 0) {
				perValue[attr][v]++
			}
		}
	}
	f := func(v float64) *float64 { return &v }
	want := []StepResult{
		{Name: "A", Count: 3},
		{Name: "B", Count: 2, AvgSeconds: f(20), MedianSeconds: f(20)},
		{Name: "C", Count: 1, AvgSeconds: f(30), MedianSeconds: f(30)},
	}
	if d := cmp.Diff(want, tally.Steps([]string{"A", "B", "C"})); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	wantAttr := map[Attribution]map[string]int{
		FirstTouch: {"Chrome": 2, "Firefox": 1},
		LastTouch:  {"Safari": 1, "Chrome": 1, "Firefox": 1},
		AllEvents:  {"Chrome": 2, "Safari": 1, "Firefox": 1},
	}
	if d := cmp.Diff(wantAttr, perValue); d != "" {
		t.Errorf("attribution (-want +got):\n%s", d)
	}
	a := rule.Best(actors[0])
	if got := Values(actors[0], a, "step", 1); !cmp.Equal(got, []string{"Safari"}) {
		t.Errorf("step:1 = %v", got)
	}
	if got := Values(actors[1], rule.Best(actors[1]), "step", 2); !cmp.Equal(got, []string{"Chrome"}) {
		t.Errorf("step:2 not reached = %v", got)
	}
}
