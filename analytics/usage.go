// Package analytics measures a workspace's events against its journey maps:
// how much of the traffic each stage and touchpoint claims, and what no
// matcher claims.
package analytics

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/journeymap"
)

// Usage is how much of a workspace's traffic a map's matchers claim in a
// period.
//
// Stages, Touchpoints and StageOnly are indexed like the map's stages and
// touchpoints, but reach only as far as the last place an event was put
// on: read them through Stage, Touchpoint and OwnStage, which give a zero
// PlaceUsage past the end.
type Usage struct {
	From, To time.Time
	// Events is every event scanned; Matched those placed on the map.
	Events, Matched int64
	// Stages counts per stage the events placed on the stage or any of its
	// touchpoints.
	Stages []PlaceUsage
	// Touchpoints counts per [stage][touchpoint].
	Touchpoints [][]PlaceUsage
	// StageOnly counts the events placed by a stage's own matcher, on no
	// touchpoint.
	StageOnly []PlaceUsage
	// Unmatched is the top MaxUnmatched (type, name, source) groups of
	// events no matcher claims, most frequent first.
	Unmatched []UnmatchedEvent
}

// PlaceUsage is what a stage or touchpoint claims.
type PlaceUsage struct {
	Events, Customers int64
	// Sample holds up to MaxSamples of the events, most recent first.
	Sample []Sample
}

// Sample is one event as the usage shows it.
type Sample struct {
	Timestamp                                                  time.Time
	Type, Name, SourceID, Path, UserID, AnonymousID, MessageID string
}

// UnmatchedEvent is a group of events no matcher claims, with the most
// recent of them as its sample.
type UnmatchedEvent struct {
	Type, Name, SourceID string
	Events, Customers    int64
	Sample               Sample
}

// Limits of a Usage.
const (
	MaxSamples   = 5
	MaxUnmatched = 50
)

// Stage returns the usage of stage i.
func (u *Usage) Stage(i int) PlaceUsage { return at(u.Stages, i) }

// OwnStage returns the usage of stage i's own matcher.
func (u *Usage) OwnStage(i int) PlaceUsage { return at(u.StageOnly, i) }

// Touchpoint returns the usage of touchpoint j of stage i.
func (u *Usage) Touchpoint(i, j int) PlaceUsage {
	if i < 0 || i >= len(u.Touchpoints) {
		return PlaceUsage{}
	}
	return at(u.Touchpoints[i], j)
}

func at(ps []PlaceUsage, i int) PlaceUsage {
	if i < 0 || i >= len(ps) {
		return PlaceUsage{}
	}
	return ps[i]
}

// MatcherUsage classifies every event of workspace ws with from <= timestamp
// < to with c, and counts what each place of the map claims.
//
// Customers are counted by userId, else anonymousId: identity resolution,
// which will join a person's anonymous and known ids, comes later, so until
// then one person seen both ways counts twice. Each place keeps the 64-bit
// hashes of its customers' ids (about 40 bytes a customer), not the ids.
func MatcherUsage(ctx context.Context, events eventstore.Store, c *journeymap.Classifier, ws string, from, to time.Time) (*Usage, error) {
	var (
		total, matched int64
		own            []*counter
		tps            [][]*counter
		unmatched      = map[groupKey]*group{}
		ev             journeymap.Event
	)
	fields := c.Fields()
	ev.Fields = make([]journeymap.Value, len(fields))
	err := events.ScanRows(ctx, eventstore.RowQuery{WorkspaceID: ws, From: from, To: to, Fields: fields}, func(r *eventstore.Row) error {
		total++
		ev.Type, ev.Name, ev.SourceID, ev.Path = r.Type, r.Name, r.SourceID, r.Path
		for i, f := range r.Fields {
			ev.Fields[i] = journeymap.Value{S: f.S, OK: f.OK}
		}
		id, known := customer(r)
		p := c.Classify(&ev)
		if p.Stage < 0 {
			k := groupKey{r.Type, r.Name, r.SourceID}
			g := unmatched[k]
			if g == nil {
				g = &group{people: map[uint64]struct{}{}}
				unmatched[k] = g
			}
			g.events++
			if known {
				g.people[id] = struct{}{}
			}
			if g.events == 1 || g.last.before(r.Timestamp, r.Seq) {
				g.last = sampleOf(r)
			}
			return nil
		}
		matched++
		if p.Touchpoint < 0 {
			own = grow(own, p.Stage)
			own[p.Stage].add(id, known, r)
			return nil
		}
		for len(tps) <= p.Stage {
			tps = append(tps, nil)
		}
		tps[p.Stage] = grow(tps[p.Stage], p.Touchpoint)
		tps[p.Stage][p.Touchpoint].add(id, known, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	u := &Usage{From: from, To: to, Events: total, Matched: matched, StageOnly: usages(own), Touchpoints: make([][]PlaceUsage, len(tps))}
	for i := range tps {
		u.Touchpoints[i] = usages(tps[i])
	}
	// A stage's usage is its own and its touchpoints' together.
	u.Stages = make([]PlaceUsage, max(len(own), len(tps)))
	for i := range u.Stages {
		var parts []*counter
		if i < len(own) {
			parts = append(parts, own[i])
		}
		if i < len(tps) {
			parts = append(parts, tps[i]...)
		}
		u.Stages[i] = merge(parts).usage()
	}
	for k, g := range unmatched {
		u.Unmatched = append(u.Unmatched, UnmatchedEvent{Type: k.typ, Name: k.name, SourceID: k.source,
			Events: g.events, Customers: int64(len(g.people)), Sample: g.last.Sample})
	}
	slices.SortFunc(u.Unmatched, func(a, b UnmatchedEvent) int {
		return cmp.Or(cmp.Compare(b.Events, a.Events), cmp.Compare(b.Customers, a.Customers),
			cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.SourceID, b.SourceID))
	})
	if len(u.Unmatched) > MaxUnmatched {
		u.Unmatched = slices.Clip(u.Unmatched[:MaxUnmatched])
	}
	return u, nil
}

// customer is the hash of the id a row is counted under, and whether it
// has one. A userId and an anonymousId that happen to be the same text
// are different customers.
func customer(r *eventstore.Row) (uint64, bool) {
	switch {
	case r.UserID != "":
		return xxh3.HashString(r.UserID), true
	case r.AnonymousID != "":
		return xxh3.HashStringSeed(r.AnonymousID, 1), true
	}
	return 0, false
}

// sampled is a Sample with the Seq that orders samples of the same time.
type sampled struct {
	Sample
	seq uint64
}

func sampleOf(r *eventstore.Row) sampled {
	return sampled{Sample{Timestamp: r.Timestamp, Type: r.Type, Name: r.Name, SourceID: r.SourceID, Path: r.Path,
		UserID: r.UserID, AnonymousID: r.AnonymousID, MessageID: r.MessageID}, r.Seq}
}

// before reports whether s happened before the event at t with seq.
func (s *sampled) before(t time.Time, seq uint64) bool {
	return s.Timestamp.Before(t) || s.Timestamp.Equal(t) && s.seq < seq
}

type groupKey struct{ typ, name, source string }

type group struct {
	events int64
	people map[uint64]struct{}
	last   sampled
}

// counter counts the events of one place and keeps the MaxSamples most
// recent. Rows come in Seq order, which is not always time order (an
// import adds old events), so the samples are the latest by timestamp.
type counter struct {
	events int64
	people map[uint64]struct{}
	recent [MaxSamples]sampled
	n      int // samples held
	oldest int // index in recent of the oldest held, once full
}

func (c *counter) add(id uint64, known bool, r *eventstore.Row) {
	c.events++
	if known {
		c.people[id] = struct{}{}
	}
	if c.n < MaxSamples || c.recent[c.oldest].before(r.Timestamp, r.Seq) {
		s := sampleOf(r)
		c.keep(&s)
	}
}

// keep holds s as one of the most recent samples if it is.
func (c *counter) keep(s *sampled) {
	switch {
	case c.n < MaxSamples:
		c.recent[c.n] = *s
		c.n++
		if c.n < MaxSamples {
			return
		}
	case c.recent[c.oldest].before(s.Timestamp, s.seq):
		c.recent[c.oldest] = *s
	default:
		return
	}
	c.oldest = 0
	for i := 1; i < MaxSamples; i++ {
		if c.recent[i].before(c.recent[c.oldest].Timestamp, c.recent[c.oldest].seq) {
			c.oldest = i
		}
	}
}

func (c *counter) usage() PlaceUsage {
	if c == nil {
		return PlaceUsage{}
	}
	u := PlaceUsage{Events: c.events, Customers: int64(len(c.people))}
	held := slices.Clone(c.recent[:c.n])
	slices.SortFunc(held, func(a, b sampled) int {
		return cmp.Or(b.Timestamp.Compare(a.Timestamp), cmp.Compare(b.seq, a.seq))
	})
	for _, s := range held {
		u.Sample = append(u.Sample, s.Sample)
	}
	return u
}

// merge is the counter of the events of all of cs (nil ones are empty).
func merge(cs []*counter) *counter {
	size := 0
	for _, c := range cs {
		if c != nil {
			size = max(size, len(c.people))
		}
	}
	m := &counter{people: make(map[uint64]struct{}, size)}
	for _, c := range cs {
		if c == nil {
			continue
		}
		m.events += c.events
		for id := range c.people {
			m.people[id] = struct{}{}
		}
		for i := range c.n {
			m.keep(&c.recent[i])
		}
	}
	return m
}

// grow makes cs long enough to hold index i, with a counter there.
func grow(cs []*counter, i int) []*counter {
	for len(cs) <= i {
		cs = append(cs, nil)
	}
	if cs[i] == nil {
		cs[i] = &counter{people: map[uint64]struct{}{}}
	}
	return cs
}

func usages(cs []*counter) []PlaceUsage {
	out := make([]PlaceUsage, len(cs))
	for i, c := range cs {
		out[i] = c.usage()
	}
	return out
}
