package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// actorSet is who a query counts: people, their sessions, or groups, each
// with its events in time order.
type actorSet struct {
	v    *View
	keep func(r uint32) bool
	// With sessions: the session id of each event (two fields, the first
	// wins), else a gap of SessionGap splits.
	sess []uint32
	// With groups: the rows by group.
	groups                 []string
	groupOrder, groupStart []uint32
	byGroup                bool
	sessions               bool
}

// actorsOf returns the actors of an aggregation: "person" (default),
// "session" or "group:PROPERTY". keep picks the events a query reads.
func (v *View) actorsOf(ctx context.Context, aggregate string, keep func(r uint32) bool) (*actorSet, error) {
	as := &actorSet{v: v, keep: keep}
	agg := cmp.Or(aggregate, "person")
	switch {
	case agg == "person":
	case agg == "session":
		as.sessions = true
		var err error
		if as.sess, err = v.sessionIDs(ctx); err != nil {
			return nil, err
		}
	case strings.HasPrefix(agg, "group:") && len(agg) > len("group:"):
		codes, values, err := v.column(ctx, fieldPath(strings.TrimPrefix(agg, "group:")))
		if err != nil {
			return nil, err
		}
		as.byGroup, as.groups = true, values
		as.groupStart = make([]uint32, len(values)+1)
		for r := range v.n {
			if codes[r] != 0 && keep(uint32(r)) {
				as.groupStart[codes[r]+1]++
			}
		}
		for g := range values {
			as.groupStart[g+1] += as.groupStart[g]
		}
		as.groupOrder = make([]uint32, as.groupStart[len(values)])
		fill := slices.Clone(as.groupStart[:len(values)])
		for r := range v.n {
			if c := codes[r]; c != 0 && keep(uint32(r)) {
				as.groupOrder[fill[c]] = uint32(r)
				fill[c]++
			}
		}
		for g := range values {
			rows := as.groupOrder[as.groupStart[g]:as.groupStart[g+1]]
			if !slices.IsSortedFunc(rows, v.byTime) {
				slices.SortFunc(rows, v.byTime)
			}
		}
	default:
		return nil, fmt.Errorf("%w: aggregate %q is not person, session or group:PROPERTY", ErrFunnel, agg)
	}
	return as, nil
}

// each calls fn with every actor of worker w's share (of workers) and its
// kept events in time order. The slice passed is reused between calls.
func (as *actorSet) each(w, workers int, fn func(id string, rows []uint32)) {
	v := as.v
	if as.byGroup {
		n := len(as.groups)
		for g := n * w / workers; g < n*(w+1)/workers; g++ {
			if rows := as.groupOrder[as.groupStart[g]:as.groupStart[g+1]]; len(rows) > 0 {
				fn(as.groups[g], rows)
			}
		}
		return
	}
	var buf []uint32
	n := len(v.persons)
	for p := n * w / workers; p < n*(w+1)/workers; p++ {
		buf = buf[:0]
		for _, r := range v.events(p) {
			if as.keep(r) {
				buf = append(buf, r)
			}
		}
		if len(buf) == 0 {
			continue
		}
		if !as.sessions {
			fn(v.persons[p], buf)
			continue
		}
		for i, s := range v.splitSessions(buf, as.sess) {
			fn(fmt.Sprintf("%s#%d", v.persons[p], i+1), s)
		}
	}
}

// sessionIDs returns each event's session id as one code (that of
// context.sessionId, else that of properties.session_id with the top bit
// set; 0 for none), or nil when no event carries one: then sessions are
// cut by time alone, and nothing is copied.
func (v *View) sessionIDs(ctx context.Context) ([]uint32, error) {
	if err := v.ix.Want(ctx, "context.sessionId", "properties.session_id"); err != nil {
		return nil, err
	}
	anyA, err := v.ix.anyValue(ctx, "context.sessionId")
	if err != nil {
		return nil, err
	}
	anyB, err := v.ix.anyValue(ctx, "properties.session_id")
	if err != nil || !anyA && !anyB {
		return nil, err
	}
	var ids []uint32
	if anyA {
		if ids, _, err = v.column(ctx, "context.sessionId"); err != nil {
			return nil, err
		}
	}
	if anyB {
		b, _, err := v.column(ctx, "properties.session_id")
		if err != nil {
			return nil, err
		}
		if ids == nil {
			ids = make([]uint32, len(b))
		}
		for i, c := range b {
			if ids[i] == 0 && c != 0 {
				ids[i] = c | 1<<31
			}
		}
	}
	return ids, nil
}

// sessionRuns is splitSessions when every event carries a session id and
// each session's events come together (the usual case): the sessions are
// runs of rows, cut where the id changes, with nothing copied. ok is false
// otherwise.
func sessionRuns(rows []uint32, sess []uint32) (runs [][]uint32, ok bool) {
	if sess == nil {
		return nil, false
	}
	id := func(r uint32) uint32 { return sess[r] }
	var seen []uint32 // the ids of the runs so far (few per person)
	start := 0
	for i, r := range rows {
		cur := id(r)
		if cur == 0 {
			return nil, false
		}
		if i > 0 && cur == id(rows[i-1]) {
			continue
		}
		if i > 0 {
			runs = append(runs, rows[start:i])
			start = i
		}
		// An id seen in an earlier run: the sessions interleave.
		if len(seen) > 64 || slices.Contains(seen, cur) {
			return nil, false
		}
		seen = append(seen, cur)
	}
	if len(rows) > 0 {
		runs = append(runs, rows[start:])
	}
	return runs, true
}

// splitSessions splits a person's events (time order) into sessions: by
// session id where the events carry one (context.sessionId, else
// properties.session_id), else by a gap of SessionGap. sess (see
// sessionIDs) is nil when no event has an id.
func (v *View) splitSessions(rows []uint32, sess []uint32) [][]uint32 {
	if runs, ok := sessionRuns(rows, sess); ok {
		return runs
	}
	type key = uint32
	byID := map[key][]uint32{}
	var ids []key
	var noID []uint32
	for _, r := range rows {
		if sess == nil || sess[r] == 0 {
			noID = append(noID, r)
			continue
		}
		k := sess[r]
		if _, ok := byID[k]; !ok {
			ids = append(ids, k)
		}
		byID[k] = append(byID[k], r)
	}
	var out [][]uint32
	for _, id := range ids {
		out = append(out, byID[id])
	}
	gap := SessionGap.Milliseconds()
	start := 0
	for i := range noID {
		if i > 0 && v.ts[noID[i]]-v.ts[noID[i-1]] > gap {
			out = append(out, noID[start:i])
			start = i
		}
	}
	if start < len(noID) {
		out = append(out, noID[start:])
	}
	return out
}
