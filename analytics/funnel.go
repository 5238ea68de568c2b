package analytics

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// Order is how a funnel's steps must follow each other.
type Order string

// Funnel orders.
const (
	// Ordered: the steps in order; other events may come between them.
	Ordered Order = "ordered"
	// Strict: the steps in order with no other event of the actor between
	// two steps; one breaks the chain.
	Strict Order = "strict"
	// Unordered: every step once, in any order.
	Unordered Order = "unordered"
)

// Exclusion drops an attempt in which its event happens after step From is
// reached and before step To is reached (or, when To is not reached, inside
// the attempt's window). From and To are 0-based step indexes, From < To.
type Exclusion struct {
	Name     string
	From, To int
}

// ParseExclusion reads "EVENT:FROM-TO" (the event name may itself hold
// colons; the last one separates the range).
func ParseExclusion(s string, steps int) (Exclusion, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return Exclusion{}, fmt.Errorf("exclusion %q: want EVENT:FROM-TO, e.g. \"Call Abandoned:1-2\"", s)
	}
	from, to, ok := strings.Cut(s[i+1:], "-")
	f, err1 := strconv.Atoi(from)
	t, err2 := strconv.Atoi(to)
	if !ok || err1 != nil || err2 != nil {
		return Exclusion{}, fmt.Errorf("exclusion %q: the range %q is not FROM-TO with whole numbers", s, s[i+1:])
	}
	e := Exclusion{Name: s[:i], From: f, To: t}
	return e, e.check(steps)
}

func (e Exclusion) check(steps int) error {
	switch {
	case e.From < 0 || e.To < 0:
		return fmt.Errorf("exclusion %s:%d-%d: step indexes start at 0", e.Name, e.From, e.To)
	case e.From >= e.To:
		return fmt.Errorf("exclusion %s:%d-%d: FROM must be before TO", e.Name, e.From, e.To)
	case e.To >= steps:
		return fmt.Errorf("exclusion %s:%d-%d: the funnel has steps 0 to %d", e.Name, e.From, e.To, steps-1)
	}
	return nil
}

// FunnelEvent is one event of an actor as the funnel sees it: when, which
// steps and exclusions it matches (bit i for step or exclusion i), and its
// breakdown value.
type FunnelEvent struct {
	T         int64 // milliseconds, sorted ascending (ties keep their order)
	Steps     uint64
	Excl      uint64
	Breakdown string
}

// Attempt is an actor's best pass through a funnel: how many steps it
// reached and when it reached each.
type Attempt struct {
	Reached  int     // steps reached, 0 when the actor never entered
	At       []int64 // time of each reached step
	Events   []int   // index of the event that filled each reached step
	Excluded bool
}

// FunnelRule is what decides an actor's attempts.
type FunnelRule struct {
	Steps  int
	Window int64 // milliseconds from the step-1 event, inclusive
	Order  Order
	// From and To bound the step-1 event (To exclusive); 0 for none.
	From, To   int64
	Exclusions []Exclusion
}

// ErrFunnel is wrapped by the errors of a bad funnel definition.
var ErrFunnel = errors.New("bad funnel")

// Check reports what is wrong with the rule.
func (r *FunnelRule) Check() error {
	if r.Steps < 1 || r.Steps > 32 {
		return fmt.Errorf("%w: a funnel has 1 to 32 steps, not %d", ErrFunnel, r.Steps)
	}
	if r.Window <= 0 {
		return fmt.Errorf("%w: the conversion window must be positive", ErrFunnel)
	}
	switch r.Order {
	case Ordered, Strict, Unordered:
	default:
		return fmt.Errorf("%w: order %q is not ordered, strict or unordered", ErrFunnel, r.Order)
	}
	for _, e := range r.Exclusions {
		if err := e.check(r.Steps); err != nil {
			return fmt.Errorf("%w: %v", ErrFunnel, err)
		}
	}
	return nil
}

// Best returns the actor's best attempt: every event matching step 1 (for
// an unordered funnel, any step) inside [From, To) starts an attempt; the
// attempt reaching the most steps wins, on a tie one that is not excluded,
// then the earliest. When the best attempt is excluded, the actor is
// excluded from every step; a later attempt that reaches as far without
// the exclusion (a re-entry) counts instead.
func (r *FunnelRule) Best(evs []FunnelEvent) Attempt {
	return r.BestBuf(evs, &AttemptBuf{})
}

// AttemptBuf is the memory BestBuf works in: one per goroutine, reused
// from actor to actor, so that a funnel over a million people does not
// allocate for each.
type AttemptBuf struct {
	cur, best attemptMem
}

type attemptMem struct {
	at []int64
	ev []int
}

// BestBuf is Best working in buf: the attempt returned holds buf's memory
// until the next call with it.
func (r *FunnelRule) BestBuf(evs []FunnelEvent, buf *AttemptBuf) Attempt {
	var best Attempt
	for i := range evs {
		e := &evs[i]
		if r.From != 0 && e.T < r.From || r.To != 0 && e.T >= r.To {
			continue
		}
		start := e.Steps&1 != 0
		if r.Order == Unordered {
			start = e.Steps&(1<<r.Steps-1) != 0
		}
		if !start {
			continue
		}
		a := r.attempt(evs, i, &buf.cur)
		if a.Reached > best.Reached || a.Reached == best.Reached && best.Excluded && !a.Excluded {
			best = a
			buf.cur, buf.best = buf.best, buf.cur // best keeps its memory
			if a.Reached == r.Steps && !a.Excluded {
				break
			}
		}
	}
	return best
}

func (r *FunnelRule) attempt(evs []FunnelEvent, start int, mem *attemptMem) Attempt {
	if r.Order == Unordered {
		return r.unordered(evs, start, mem)
	}
	end := evs[start].T + r.Window
	a := Attempt{Reached: 1, At: append(mem.at[:0], evs[start].T), Events: append(mem.ev[:0], start)}
	prev := start
	for k := 1; k < r.Steps; k++ {
		found := -1
		for j := prev + 1; j < len(evs) && evs[j].T <= end; j++ {
			if evs[j].Steps&(1<<k) != 0 {
				found = j
				break
			}
			if r.Order == Strict {
				break // another event between two steps breaks the chain
			}
		}
		if found < 0 {
			break
		}
		a.Reached++
		a.At = append(a.At, evs[found].T)
		a.Events = append(a.Events, found)
		prev = found
	}
	mem.at, mem.ev = a.At, a.Events
	a.Excluded = r.excluded(evs, start, a, end)
	return a
}

// unordered fills as many distinct steps as possible with distinct events
// inside the window (a maximum matching of events to steps).
func (r *FunnelRule) unordered(evs []FunnelEvent, start int, mem *attemptMem) Attempt {
	end := evs[start].T + r.Window
	mask := uint64(1)<<r.Steps - 1
	var cand []int
	for j := start; j < len(evs) && evs[j].T <= end; j++ {
		if evs[j].Steps&mask != 0 {
			cand = append(cand, j)
		}
	}
	stepOf := make([]int, r.Steps) // event filling each step, -1 none
	for k := range stepOf {
		stepOf[k] = -1
	}
	// The start event must fill a step: seat it first.
	var tryEvent func(j int, seen uint64) bool
	tryEvent = func(j int, seen uint64) bool {
		for m := evs[j].Steps & mask &^ seen; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			seen |= 1 << k
			if stepOf[k] < 0 || tryEvent(stepOf[k], seen) {
				stepOf[k] = j
				return true
			}
		}
		return false
	}
	tryEvent(start, 0)
	for _, j := range cand[1:] {
		tryEvent(j, 0)
	}
	a := Attempt{At: mem.at[:0], Events: mem.ev[:0]}
	var filled []int
	for _, j := range stepOf {
		if j >= 0 {
			filled = append(filled, j)
		}
	}
	slices.Sort(filled)
	for _, j := range filled {
		a.Reached++
		a.At = append(a.At, evs[j].T)
		a.Events = append(a.Events, j)
	}
	mem.at, mem.ev = a.At, a.Events
	a.Excluded = r.excluded(evs, start, a, end)
	return a
}

// excluded reports whether an exclusion event falls after step From of a
// and before step To (or the window's end when To was not reached).
func (r *FunnelRule) excluded(evs []FunnelEvent, start int, a Attempt, end int64) bool {
	for x, ex := range r.Exclusions {
		if a.Reached <= ex.From {
			continue
		}
		after := a.Events[ex.From]
		until := end
		if a.Reached > ex.To {
			until = a.At[ex.To]
		}
		for j := after + 1; j < len(evs) && evs[j].T <= until; j++ {
			if evs[j].Excl&(1<<x) != 0 && (a.Reached <= ex.To || j < a.Events[ex.To]) {
				return true
			}
		}
	}
	return false
}

// Attribution picks the breakdown value an actor is counted under.
type Attribution string

// Attributions.
const (
	FirstTouch Attribution = "first_touch" // the step-1 event's value
	LastTouch  Attribution = "last_touch"  // the last reached step's value
	AllEvents  Attribution = "all_events"  // every value of the attempt's events
)

// ParseAttribution reads first_touch, last_touch, all_events or step:N.
func ParseAttribution(s string, steps int) (Attribution, int, error) {
	switch a := Attribution(s); a {
	case "", FirstTouch:
		return FirstTouch, 0, nil
	case LastTouch, AllEvents:
		return a, 0, nil
	}
	if n, ok := strings.CutPrefix(s, "step:"); ok {
		k, err := strconv.Atoi(n)
		if err == nil && k >= 0 && k < steps {
			return "step", k, nil
		}
		return "", 0, fmt.Errorf("%w: attribution %q: the funnel has steps 0 to %d", ErrFunnel, s, steps-1)
	}
	return "", 0, fmt.Errorf("%w: attribution %q is not first_touch, last_touch, all_events or step:N", ErrFunnel, s)
}

// StepResult is one step of a funnel result. Count is cumulative: the actors
// that reached at least this step. The times are from the previous step to
// this one, over the actors that reached it (nil for step 1).
type StepResult struct {
	Name          string   `json:"name"`
	Count         int64    `json:"count"`
	AvgSeconds    *float64 `json:"avg_seconds"`
	MedianSeconds *float64 `json:"median_seconds"`
}

// Tally adds up best attempts into step results.
type Tally struct {
	counts []int64
	gaps   [][]int64 // per step, the milliseconds from the previous step
}

// NewTally starts a tally of a funnel with n steps.
func NewTally(n int) *Tally {
	return &Tally{counts: make([]int64, n), gaps: make([][]int64, n)}
}

// Add counts one actor's best attempt (excluded or empty attempts count
// nowhere).
func (t *Tally) Add(a Attempt) {
	if a.Excluded {
		return
	}
	for k := 0; k < a.Reached; k++ {
		t.counts[k]++
		if k > 0 {
			t.gaps[k] = append(t.gaps[k], a.At[k]-a.At[k-1])
		}
	}
}

// Merge adds the counts of o (a tally of the same funnel).
func (t *Tally) Merge(o *Tally) {
	for k := range t.counts {
		t.counts[k] += o.counts[k]
		t.gaps[k] = append(t.gaps[k], o.gaps[k]...)
	}
}

// Steps returns the results, named after names.
func (t *Tally) Steps(names []string) []StepResult {
	out := make([]StepResult, len(t.counts))
	for k := range out {
		out[k] = StepResult{Name: names[k], Count: t.counts[k]}
		if g := t.gaps[k]; len(g) > 0 {
			var sum float64
			for _, v := range g {
				sum += float64(v)
			}
			avg := sum / float64(len(g)) / 1000
			slices.Sort(g)
			med := float64(g[len(g)/2])
			if len(g)%2 == 0 {
				med = float64(g[len(g)/2-1]+g[len(g)/2]) / 2
			}
			med /= 1000
			out[k].AvgSeconds, out[k].MedianSeconds = &avg, &med
		}
	}
	return out
}

// Values returns the breakdown values an attempt is counted under.
func Values(evs []FunnelEvent, a Attempt, attr Attribution, step int) []string {
	if a.Reached == 0 {
		return nil
	}
	switch attr {
	case LastTouch:
		return []string{evs[a.Events[a.Reached-1]].Breakdown}
	case AllEvents:
		var vs []string
		for _, j := range a.Events {
			if !slices.Contains(vs, evs[j].Breakdown) {
				vs = append(vs, evs[j].Breakdown)
			}
		}
		return vs
	case "step":
		if step < a.Reached {
			return []string{evs[a.Events[step]].Breakdown}
		}
		// Not reached: counted under the value of the last step reached.
		return []string{evs[a.Events[a.Reached-1]].Breakdown}
	}
	return []string{evs[a.Events[0]].Breakdown}
}
