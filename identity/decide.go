package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cjmhq/cjm/opstore"
)

// The Graph's changes by a person: each is stored in one transaction and
// told to the listener like a batch.

// decide runs fn as the one writer, after any pending batch is stored,
// then stores the batch fn returns and tells the listener.
func (r *Resolver) decide(ctx context.Context, fn func() (*opstore.IdentityBatch, *changes, error)) error {
	notes, err := r.decideLocked(ctx, fn)
	r.tell(ctx, notes)
	return err
}

func (r *Resolver) decideLocked(ctx context.Context, fn func() (*opstore.IdentityBatch, *changes, error)) ([]notice, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	notes, err := r.flushLocked(ctx)
	if err != nil {
		return notes, err
	}
	b, ch, err := fn()
	if err != nil {
		return notes, err
	}
	r.pending = &saving{batch: b, ch: ch}
	more, err := r.flushLocked(ctx)
	return append(notes, more...), err
}

// openReview reads a review that is still open.
func (r *Resolver) openReview(ctx context.Context, workspace string, id int64) (opstore.IdentityReview, error) {
	rv, err := r.ops.IdentityReview(ctx, workspace, id)
	switch {
	case errors.Is(err, opstore.ErrNotFound):
		return rv, fmt.Errorf("review %d: %w", id, ErrNoReview)
	case err != nil:
		return rv, err
	case rv.Decision != "":
		return rv, fmt.Errorf("review %d was %s: %w", id, rv.Decision, ErrDecided)
	}
	return rv, nil
}

func decider(actor string) string {
	if actor == "" {
		return "staff"
	}
	return actor
}

// Approve implements Graph: the profiles that hold what the review's two
// profiles started are merged (the one holding a userId kept, else the
// older), logged with the actor, and the link kept as evidence so that a
// recomputation merges them again.
func (r *Resolver) Approve(ctx context.Context, workspace string, review int64, actor string) error {
	actor = decider(actor)
	return r.decide(ctx, func() (*opstore.IdentityBatch, *changes, error) {
		rv, err := r.openReview(ctx, workspace, review)
		if err != nil {
			return nil, nil, err
		}
		now := r.opts.Now().UTC()
		ch := newChanges()
		r.mu.Lock()
		defer r.mu.Unlock()
		sp := r.space(workspace)
		a, b := sp.current(ProfileID(rv.A)), sp.current(ProfileID(rv.B))
		if a != nil && b != nil && a != b {
			if sp.blocked(a, b) {
				return nil, nil, fmt.Errorf("review %d: the two profiles were split apart since: %w", review, ErrDecided)
			}
			m := &msg{seq: r.offset.Load(), id: rv.MessageID, at: now.UnixMilli(), manual: true, actor: actor}
			ra, rb := rootOf(sp, ProfileID(rv.A), a), rootOf(sp, ProfileID(rv.B), b)
			sp.evidence(m, []*node{ra, rb}, ch)
			into, from := a, b
			if !keeps(a, b) {
				into, from = b, a
			}
			sp.merge(into, from, fromKey(rv.By), m, ch)
		}
		delete(sp.reviewed, pairKey(ProfileID(rv.A), ProfileID(rv.B)))
		batch := r.batchOf(ch, 0)
		batch.Decisions = []opstore.IdentityReview{{ID: rv.ID, WorkspaceID: workspace, Decision: Approved, DecidedAt: now, DecidedBy: actor}}
		return batch, ch, nil
	})
}

// rootOf is the identifier profile id p derives from, else the root of the
// profile that holds it now.
func rootOf(sp *space, p ProfileID, holder *profile) *node {
	if n := sp.roots[p]; n != nil {
		return n
	}
	return holder.root
}

// Reject implements Graph: the two profiles are blocked from merging.
func (r *Resolver) Reject(ctx context.Context, workspace string, review int64, actor string) error {
	actor = decider(actor)
	return r.decide(ctx, func() (*opstore.IdentityBatch, *changes, error) {
		rv, err := r.openReview(ctx, workspace, review)
		if err != nil {
			return nil, nil, err
		}
		now := r.opts.Now().UTC()
		batch := &opstore.IdentityBatch{Decisions: []opstore.IdentityReview{
			{ID: rv.ID, WorkspaceID: workspace, Decision: Rejected, DecidedAt: now, DecidedBy: actor}}}
		r.mu.Lock()
		defer r.mu.Unlock()
		sp := r.space(workspace)
		sp.reviewed[pairKey(ProfileID(rv.A), ProfileID(rv.B))] = struct{}{}
		a, b := sp.current(ProfileID(rv.A)), sp.current(ProfileID(rv.B))
		if a != nil && b != nil {
			ra, rb := rootOf(sp, ProfileID(rv.A), a), rootOf(sp, ProfileID(rv.B), b)
			sp.addBlock(ra.id, rb.id)
			batch.Blocks = []opstore.IdentityBlock{{WorkspaceID: workspace, A: key(ra.id), B: key(rb.id), Reason: Rejected,
				Ref: rv.ID, At: now, Actor: actor}}
		}
		return batch, newChanges(), nil
	})
}

// Split implements Graph: the merge is marked undone, the two profiles it
// joined are blocked from merging again, and the profile that holds them
// is recomputed from the evidence (the same rules, in log order, without
// the blocked link): each part gets back the id derived from the
// identifier that started it.
func (r *Resolver) Split(ctx context.Context, workspace string, merge int64, actor string) error {
	actor = decider(actor)
	return r.decide(ctx, func() (*opstore.IdentityBatch, *changes, error) {
		mg, err := r.ops.IdentityMerge(ctx, workspace, merge)
		switch {
		case errors.Is(err, opstore.ErrNotFound):
			return nil, nil, fmt.Errorf("merge %d: %w", merge, ErrNoMerge)
		case err != nil:
			return nil, nil, err
		case !mg.UndoneAt.IsZero():
			return nil, nil, fmt.Errorf("merge %d was undone already: %w", merge, ErrDecided)
		}
		now := r.opts.Now().UTC()
		ch := newChanges()
		batch := &opstore.IdentityBatch{}
		r.mu.RLock()
		sp := r.spaces[workspace]
		var ri, rf *node
		var comp *profile
		var keys []opstore.IdentityKey
		if sp != nil {
			ri, rf = sp.roots[ProfileID(mg.Into)], sp.roots[ProfileID(mg.From)]
		}
		if ri != nil && rf != nil && ri.prof == rf.prof {
			comp = ri.prof
			for _, n := range comp.members {
				keys = append(keys, key(n.id))
			}
		}
		r.mu.RUnlock()
		var edges []opstore.IdentityEdge
		if comp != nil {
			// Only this goroutine changes the graph (wmu): comp stays as read.
			if edges, err = r.ops.IdentityEdges(ctx, workspace, keys); err != nil {
				return nil, nil, err
			}
		}
		r.mu.Lock()
		if ri != nil && rf != nil {
			sp.addBlock(ri.id, rf.id)
			batch.Blocks = []opstore.IdentityBlock{{WorkspaceID: workspace, A: key(ri.id), B: key(rf.id), Reason: "split",
				Ref: mg.ID, At: now, Actor: actor}}
		}
		if comp != nil {
			sp.recompute(comp, edges, ch)
		}
		r.mu.Unlock()
		b := r.batchOf(ch, 0)
		b.Blocks = batch.Blocks
		b.Undone = []opstore.IdentityMerge{{ID: mg.ID, WorkspaceID: workspace, UndoneAt: now, UndoneBy: actor}}
		return b, ch, nil
	})
}

// recompute rebuilds profile comp from the evidence among its identifiers:
// it replays, in log order, each identifier's first message and each
// message that linked two of them, with the graph's rules and blocks, then
// gives every identifier the profile the replay put it in.
func (sp *space) recompute(comp *profile, edges []opstore.IdentityEdge, ch *changes) {
	tmp := newSpace(sp.ws, sp.cap)
	tmp.blocks, tmp.reviewed = sp.blocks, sp.reviewed
	for _, n := range comp.members {
		tmp.nodes[n.id] = &node{id: n.id, firstSeq: n.firstSeq, sharedSeq: n.sharedSeq, firstSeen: n.firstSeen, lastSeen: n.lastSeen}
	}
	type event struct {
		rank int // 0: an identifier first seen alone, 1: a message, 2: an approval
		m    msg
	}
	type gkey struct {
		seq    uint64
		manual bool
	}
	var events []*event
	groups := map[gkey]*event{}
	for _, e := range edges {
		a, b := fromKey(e.A), fromKey(e.B)
		if tmp.nodes[a] == nil || tmp.nodes[b] == nil {
			continue
		}
		k := gkey{e.Seq, e.Kind == opstore.EdgeManual}
		g := groups[k]
		if g == nil {
			g = &event{rank: 1, m: msg{seq: e.Seq, id: e.MessageID, at: e.At.UnixMilli(), alias: e.Kind == opstore.EdgeAlias,
				manual: k.manual}}
			if k.manual {
				g.rank = 2
			}
			groups[k] = g
			events = append(events, g)
		}
		for _, id := range [2]Identifier{a, b} {
			if !slices.Contains(g.m.ids, id) {
				g.m.ids = append(g.m.ids, id)
			}
		}
	}
	for _, n := range comp.members {
		if g := groups[gkey{n.firstSeq, false}]; g == nil || !slices.Contains(g.m.ids, n.id) {
			events = append(events, &event{rank: 0, m: msg{seq: n.firstSeq, at: n.firstSeen, ids: []Identifier{n.id}}})
		}
	}
	slices.SortStableFunc(events, func(a, b *event) int {
		return cmp.Or(cmp.Compare(a.m.seq, b.m.seq), cmp.Compare(a.rank, b.rank))
	})
	rch := newChanges()
	rch.replay = true
	for _, e := range events {
		tmp.apply(&e.m, rch)
	}
	ch.reviews = append(ch.reviews, rch.reviews...)

	// Identifiers the replay left out (shared from the start) stand alone.
	for _, n := range comp.members {
		if t := tmp.nodes[n.id]; t.prof == nil {
			tmp.create(t, rch)
		}
	}
	delete(sp.profiles, comp.id)
	ch.touch(sp.ws, comp.id)
	ids := make([]ProfileID, 0, len(tmp.profiles))
	for id := range tmp.profiles {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := tmp.profiles[id]
		p := &profile{id: id, root: sp.nodes[t.root.id]}
		for _, tn := range t.members {
			n := sp.nodes[tn.id]
			n.prof = p
			if tn.root && !n.root {
				n.root = true
				sp.roots[NewProfileID(sp.ws, n.id)] = n
				ch.markDirty(sp, n)
			}
			p.members = append(p.members, n)
			if n.id.Kind == UserID {
				p.users = append(p.users, n)
			}
		}
		sp.profiles[id] = p
		ch.touch(sp.ws, id)
	}
	// Every identifier moved unless its part kept comp's id.
	for _, n := range comp.members {
		if n.prof.id != comp.id {
			ch.markDirty(sp, n)
		}
	}
}

// Erase implements Graph for the profile that holds what p started: its
// identifiers, the evidence and blocks that name them, and the merges and
// reviews of it and of the profiles merged into it are deleted from memory
// and the store. Messages already resolved are not read again, so the
// identifiers come back only with new messages.
func (r *Resolver) Erase(ctx context.Context, workspace string, p ProfileID) ([]Identifier, error) {
	var erased []Identifier
	err := r.decide(ctx, func() (*opstore.IdentityBatch, *changes, error) {
		r.mu.RLock()
		var pr *profile
		sp := r.spaces[workspace]
		if sp != nil {
			pr = sp.current(p)
		}
		var keys []opstore.IdentityKey
		var lineage []string
		if pr != nil {
			for _, n := range pr.members {
				keys = append(keys, key(n.id))
				erased = append(erased, n.id)
			}
			lineage = sp.lineage(pr)
		}
		r.mu.RUnlock()
		if pr == nil {
			return nil, nil, fmt.Errorf("profile %s: %w", p, ErrNotFound)
		}
		edges, err := r.ops.IdentityEdges(ctx, workspace, keys)
		if err != nil {
			return nil, nil, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, n := range pr.members {
			delete(sp.nodes, n.id)
			sp.order[n.pos] = nil
			if n.root {
				delete(sp.roots, NewProfileID(workspace, n.id))
			}
			for _, q := range sp.blocks[n.id] {
				rest := slices.DeleteFunc(sp.blocks[q], func(x Identifier) bool { return x == n.id })
				if len(rest) == 0 {
					delete(sp.blocks, q)
				} else {
					sp.blocks[q] = rest
				}
			}
			delete(sp.blocks, n.id)
		}
		delete(sp.profiles, pr.id)
		for _, e := range edges {
			delete(sp.pairs, e.Pair)
		}
		gone := map[ProfileID]bool{}
		for _, id := range lineage {
			gone[ProfileID(id)] = true
		}
		for k := range sp.reviewed {
			if gone[k[0]] || gone[k[1]] {
				delete(sp.reviewed, k)
			}
		}
		ch := newChanges()
		ch.touch(workspace, pr.id)
		return &opstore.IdentityBatch{Erase: []opstore.IdentityErase{{WorkspaceID: workspace, Identifiers: keys, Profiles: lineage}}}, ch, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(erased, func(a, b Identifier) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Value, b.Value))
	})
	return erased, nil
}
