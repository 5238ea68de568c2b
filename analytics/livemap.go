package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cjmhq/cjm/journeymap"
)

// LiveMapQuery is a journey map measured over a period, for everyone or
// for one persona or group of people.
type LiveMapQuery struct {
	Map        *journeymap.Map
	Classifier *journeymap.Classifier
	PlacesKey  string // the map's id and version (see View.Places)
	From, To   time.Time
	// Persona keeps the people whose persona (traits.persona, else
	// context.traits.persona, the latest value) is this; "" keeps everyone.
	Persona string
	// Where keeps the people with at least one event in the period whose
	// Field has Value (e.g. context.campaign.source = facebook).
	Where *FieldEquals
	// Emotion are the survey answers the emotion lane is read from
	// (default DefaultEmotion).
	Emotion []EmotionSource
}

// FieldEquals is a condition on one field of an event.
type FieldEquals struct {
	Field, Value string
}

// EmotionSource is a survey answer read as an emotion: the score in Field
// of Event, from Min (-2, very unhappy) to Max (+2, delighted).
type EmotionSource struct {
	Event    string
	Field    string
	Min, Max float64
}

// DefaultEmotion reads satisfaction surveys (CSAT 1-5), NPS answers (0-10)
// and review ratings (1-5).
var DefaultEmotion = []EmotionSource{
	{Event: "Survey Answered", Field: "properties.csat", Min: 1, Max: 5},
	{Event: "Survey Answered", Field: "properties.nps", Min: 0, Max: 10},
	{Event: "Review Submitted", Field: "properties.rating", Min: 1, Max: 5},
}

// LiveMap is a journey map measured: what customers did at each stage and
// touchpoint, and where the journey they took differs from the map.
type LiveMap struct {
	From, To time.Time
	// Customers is how many people had at least one event on the map.
	Customers int64
	Stages    []LiveStage
	// TouchpointsUsed is the distribution of the number of different
	// touchpoints a customer used, with how many of them reached the last
	// stage; Expected is the number of expected touchpoints on the map.
	TouchpointsUsed []UsedBucket
	Expected        int
	// OutOfOrder counts customers who entered a later stage before an
	// earlier one, with the most common such jumps.
	OutOfOrder      int64
	OutOfOrderJumps []StageJump
	// Unplanned lists the touchpoints marked unplanned that customers used;
	// Missing the expected touchpoints no customer used.
	Unplanned []TouchpointRef
	Missing   []TouchpointRef
	// Unclassified counts the events in the period no matcher claims.
	Unclassified int64
	Events       int64
}

// LiveStage is one stage measured.
type LiveStage struct {
	Key       string
	Customers int64
	Events    int64
	// NextRate is the share of the stage's customers who reached the next
	// stage afterwards (-1 for the last stage); DropOff is how many did not.
	NextRate float64
	DropOff  int64
	// MedianSeconds is the median time from entering the stage to entering
	// the next one, over those who went on (-1 when none did).
	MedianSeconds float64
	// Emotion is the mean survey answer in this stage on the -2..+2 scale,
	// over Answers answers (-3 when there is none).
	Emotion     float64
	Answers     int64
	Touchpoints []LiveTouchpoint
}

// LiveTouchpoint is one touchpoint measured.
type LiveTouchpoint struct {
	Key       string
	Expected  bool
	Events    int64
	Customers int64
	// Share is Customers over the stage's customers.
	Share float64
	// RateUsers and RateOthers are how many of the stage's customers who
	// used (or did not use) the touchpoint reached the next stage (-1 for
	// the last stage or when there is nobody to count).
	RateUsers, RateOthers float64
	Emotion               float64
	Answers               int64
}

// UsedBucket is how many customers used N different touchpoints (the last
// bucket: N or more), and how many of them reached the last stage.
type UsedBucket struct {
	Touchpoints int
	Customers   int64
	Completed   int64
}

// StageJump counts the customers who entered stage Later before the
// earlier stage Earlier (on the map's order).
type StageJump struct {
	Later, Earlier string
	Customers      int64
}

// TouchpointRef names a touchpoint, with its use.
type TouchpointRef struct {
	Stage, Touchpoint string
	Customers         int64
}

// maxUsedBucket is the last bucket of the touchpoints-used distribution.
const maxUsedBucket = 10

// LiveMap measures a journey map over the view's events.
func (v *View) LiveMap(ctx context.Context, q LiveMapQuery) (*LiveMap, error) {
	m := q.Map
	if m == nil || q.Classifier == nil {
		return nil, fmt.Errorf("live map: no map")
	}
	if len(m.Stages) == 0 || len(m.Stages) > 250 {
		return nil, fmt.Errorf("live map: a map has 1 to 250 stages, not %d", len(m.Stages))
	}
	places, err := v.Places(ctx, q.PlacesKey, q.Classifier)
	if err != nil {
		return nil, err
	}
	var from, to int64 = 0, 0
	if !q.From.IsZero() {
		from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		to = q.To.UnixMilli()
	}
	inPeriod := func(r uint32) bool {
		t := v.ts[r]
		return (from == 0 || t >= from) && (to == 0 || t < to)
	}
	keepPerson, err := v.personFilter(ctx, q.Persona, q.Where, inPeriod)
	if err != nil {
		return nil, err
	}
	srcs := q.Emotion
	if srcs == nil {
		srcs = DefaultEmotion
	}
	emo, err := v.emotionReader(ctx, srcs)
	if err != nil {
		return nil, err
	}

	ns := len(m.Stages)
	// Touchpoints get one flat index: tpBase[s] + t.
	tpBase := make([]int, ns+1)
	for s, st := range m.Stages {
		tpBase[s+1] = tpBase[s] + len(st.Touchpoints)
	}
	ntp := tpBase[ns]

	type acc struct {
		customers, events, dropOff, answers []int64
		emotion                             []float64
		next                                []int64
		gaps                                [][]int64
		tpEvents, tpCustomers, tpNext       []int64
		tpAnswers                           []int64
		tpEmotion                           []float64
		used                                []UsedBucket
		outOfOrder, unclassified, all, ppl  int64
		jumps                               map[[2]int]int64
	}
	newAcc := func() *acc {
		a := &acc{customers: make([]int64, ns), events: make([]int64, ns), dropOff: make([]int64, ns), answers: make([]int64, ns),
			emotion: make([]float64, ns), next: make([]int64, ns), gaps: make([][]int64, ns),
			tpEvents: make([]int64, ntp), tpCustomers: make([]int64, ntp), tpNext: make([]int64, ntp),
			tpAnswers: make([]int64, ntp), tpEmotion: make([]float64, ntp),
			used: make([]UsedBucket, maxUsedBucket+1), jumps: map[[2]int]int64{}}
		for i := range a.used {
			a.used[i].Touchpoints = i
		}
		return a
	}
	workers := v.workers(len(v.persons))
	accs := make([]*acc, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			a := newAcc()
			first := make([]int64, ns) // first time in each stage, -1 never
			used := make([]bool, ntp)  // touchpoints used
			n := len(v.persons)
			for p := n * w / workers; p < n*(w+1)/workers; p++ {
				if keepPerson != nil && !keepPerson[p] {
					continue
				}
				for s := range first {
					first[s] = -1
				}
				clear(used)
				nused, any := 0, false
				cur := -1 // the stage the person is in
				for _, r := range v.events(p) {
					if !inPeriod(r) {
						continue
					}
					a.all++
					pl := PlaceOf(places[r])
					if pl.Stage < 0 {
						a.unclassified++
					} else {
						any = true
						a.events[pl.Stage]++
						if first[pl.Stage] < 0 {
							first[pl.Stage] = v.ts[r]
						}
						cur = pl.Stage
						if pl.Touchpoint >= 0 {
							i := tpBase[pl.Stage] + pl.Touchpoint
							a.tpEvents[i]++
							if !used[i] {
								used[i] = true
								nused++
							}
						}
					}
					// A survey answer counts for its own place, else the
					// stage the person is in.
					if score, ok := emo(r); ok {
						s, t := pl.Stage, pl.Touchpoint
						if s < 0 {
							s, t = cur, -1
						}
						if s >= 0 {
							a.emotion[s] += score
							a.answers[s]++
							if t >= 0 {
								a.tpEmotion[tpBase[s]+t] += score
								a.tpAnswers[tpBase[s]+t]++
							}
						}
					}
				}
				if !any {
					continue
				}
				a.ppl++
				completed := first[ns-1] >= 0
				a.used[min(nused, maxUsedBucket)].Customers++
				if completed {
					a.used[min(nused, maxUsedBucket)].Completed++
				}
				ooo := false
				for s := range ns {
					if first[s] < 0 {
						continue
					}
					a.customers[s]++
					went := s+1 < ns && first[s+1] >= first[s]
					if went {
						a.next[s]++
						a.gaps[s] = append(a.gaps[s], first[s+1]-first[s])
					} else if s+1 < ns {
						a.dropOff[s]++
					}
					for t := tpBase[s]; t < tpBase[s+1]; t++ {
						if used[t] {
							a.tpCustomers[t]++
							if went {
								a.tpNext[t]++
							}
						}
					}
					// Entered a later stage before this one?
					for s2 := s + 1; s2 < ns; s2++ {
						if first[s2] >= 0 && first[s2] < first[s] {
							ooo = true
							a.jumps[[2]int{s2, s}]++
						}
					}
				}
				if ooo {
					a.outOfOrder++
				}
			}
			accs[w] = a
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := newAcc()
	for _, a := range accs {
		add := func(dst, src []int64) {
			for i := range dst {
				dst[i] += src[i]
			}
		}
		addf := func(dst, src []float64) {
			for i := range dst {
				dst[i] += src[i]
			}
		}
		add(t.customers, a.customers)
		add(t.events, a.events)
		add(t.dropOff, a.dropOff)
		add(t.answers, a.answers)
		add(t.next, a.next)
		add(t.tpEvents, a.tpEvents)
		add(t.tpCustomers, a.tpCustomers)
		add(t.tpNext, a.tpNext)
		add(t.tpAnswers, a.tpAnswers)
		addf(t.emotion, a.emotion)
		addf(t.tpEmotion, a.tpEmotion)
		for s := range t.gaps {
			t.gaps[s] = append(t.gaps[s], a.gaps[s]...)
		}
		for i := range t.used {
			t.used[i].Customers += a.used[i].Customers
			t.used[i].Completed += a.used[i].Completed
		}
		for k, n := range a.jumps {
			t.jumps[k] += n
		}
		t.outOfOrder += a.outOfOrder
		t.unclassified += a.unclassified
		t.all += a.all
		t.ppl += a.ppl
	}

	res := &LiveMap{From: q.From, To: q.To, Customers: t.ppl, OutOfOrder: t.outOfOrder, Unclassified: t.unclassified, Events: t.all}
	ratio := func(num, den int64) float64 {
		if den == 0 {
			return -1
		}
		return float64(num) / float64(den)
	}
	mean := func(sum float64, n int64) float64 {
		if n == 0 {
			return -3
		}
		return sum / float64(n)
	}
	for s, st := range m.Stages {
		ls := LiveStage{Key: st.Key, Customers: t.customers[s], Events: t.events[s], DropOff: t.dropOff[s],
			NextRate: -1, MedianSeconds: -1, Emotion: mean(t.emotion[s], t.answers[s]), Answers: t.answers[s]}
		if s+1 < ns {
			ls.NextRate = ratio(t.next[s], t.customers[s])
			if g := t.gaps[s]; len(g) > 0 {
				ls.MedianSeconds = float64(median(g)) / 1000
			}
		}
		for j, tp := range st.Touchpoints {
			i := tpBase[s] + j
			lt := LiveTouchpoint{Key: tp.Key, Expected: tp.Expected, Events: t.tpEvents[i], Customers: t.tpCustomers[i],
				Share: max(ratio(t.tpCustomers[i], t.customers[s]), 0), RateUsers: -1, RateOthers: -1,
				Emotion: mean(t.tpEmotion[i], t.tpAnswers[i]), Answers: t.tpAnswers[i]}
			if s+1 < ns {
				lt.RateUsers = ratio(t.tpNext[i], t.tpCustomers[i])
				lt.RateOthers = ratio(t.next[s]-t.tpNext[i], t.customers[s]-t.tpCustomers[i])
			}
			ls.Touchpoints = append(ls.Touchpoints, lt)
			if tp.Expected {
				res.Expected++
				if lt.Customers == 0 {
					res.Missing = append(res.Missing, TouchpointRef{Stage: st.Key, Touchpoint: tp.Key})
				}
			} else if lt.Customers > 0 {
				res.Unplanned = append(res.Unplanned, TouchpointRef{Stage: st.Key, Touchpoint: tp.Key, Customers: lt.Customers})
			}
		}
		res.Stages = append(res.Stages, ls)
	}
	res.TouchpointsUsed = t.used
	for k, n := range t.jumps {
		res.OutOfOrderJumps = append(res.OutOfOrderJumps, StageJump{Later: m.Stages[k[0]].Key, Earlier: m.Stages[k[1]].Key, Customers: n})
	}
	slices.SortFunc(res.OutOfOrderJumps, func(a, b StageJump) int {
		return cmp.Or(cmp.Compare(b.Customers, a.Customers), cmp.Compare(a.Later, b.Later), cmp.Compare(a.Earlier, b.Earlier))
	})
	slices.SortFunc(res.Unplanned, func(a, b TouchpointRef) int { return cmp.Compare(b.Customers, a.Customers) })
	return res, nil
}

// median returns the median of xs (sorting it).
func median(xs []int64) int64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// personFilter returns which people a query keeps (nil: everyone): by
// persona, and by having an event in the period with a field's value.
func (v *View) personFilter(ctx context.Context, persona string, where *FieldEquals, inPeriod func(uint32) bool) ([]bool, error) {
	if persona == "" && where == nil {
		return nil, nil
	}
	keep := make([]bool, len(v.persons))
	for p := range keep {
		keep[p] = true
	}
	if persona != "" {
		a, av, err := v.column(ctx, "traits.persona")
		if err != nil {
			return nil, err
		}
		b, bv, err := v.column(ctx, "context.traits.persona")
		if err != nil {
			return nil, err
		}
		for p := range keep {
			last := ""
			for _, r := range v.events(p) {
				switch {
				case a[r] != 0:
					last = av[a[r]]
				case b[r] != 0:
					last = bv[b[r]]
				}
			}
			keep[p] = last == persona
		}
	}
	if where != nil {
		codes, values, err := v.column(ctx, fieldPath(where.Field))
		if err != nil {
			return nil, err
		}
		want := uint32(0)
		for c, s := range values {
			if c > 0 && s == where.Value {
				want = uint32(c)
			}
		}
		for p := range keep {
			if !keep[p] {
				continue
			}
			found := false
			for _, r := range v.events(p) {
				if want != 0 && codes[r] == want && inPeriod(r) {
					found = true
					break
				}
			}
			keep[p] = found
		}
	}
	return keep, nil
}

// emotionReader returns a function giving the emotion (-2..+2) of an event
// that is a survey answer.
func (v *View) emotionReader(ctx context.Context, srcs []EmotionSource) (func(r uint32) (float64, bool), error) {
	type reader struct {
		name   uint32
		rows   []uint32 // the rows (Seq order) with a value, and its code
		codes  []uint32
		scores []float64 // by value code; NaN-free: ok marks parsed
		ok     []bool
		src    EmotionSource
	}
	var rs []reader
	fields := make([]string, len(srcs))
	for i, s := range srcs {
		fields[i] = fieldPath(s.Field)
	}
	if err := v.ix.Want(ctx, fields...); err != nil { // one read of the store for all
		return nil, err
	}
	for _, s := range srcs {
		name, ok := v.nameCode(s.Event)
		if !ok || s.Max <= s.Min {
			continue
		}
		// The field in the index's order: only the survey events read it,
		// through v.order, which is cheaper than ordering all of it.
		rows, codes, values, err := v.ix.sparse(ctx, fieldPath(s.Field), v.raw.len())
		if err != nil {
			return nil, err
		}
		rd := reader{name: name, rows: rows, codes: codes, scores: make([]float64, len(values)), ok: make([]bool, len(values)), src: s}
		for c, val := range values {
			var f float64
			if _, err := fmt.Sscan(val, &f); err == nil && c > 0 && f >= s.Min && f <= s.Max {
				rd.scores[c], rd.ok[c] = (f-s.Min)/(s.Max-s.Min)*4-2, true
			}
		}
		rs = append(rs, rd)
	}
	return func(r uint32) (float64, bool) {
		for i := range rs {
			rd := &rs[i]
			if v.name[r] != rd.name {
				continue
			}
			j, found := slices.BinarySearch(rd.rows, v.order[r])
			if !found {
				continue
			}
			if c := rd.codes[j]; int(c) < len(rd.ok) && rd.ok[c] {
				return rd.scores[c], true
			}
		}
		return 0, false
	}, nil
}
