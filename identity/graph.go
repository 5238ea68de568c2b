package identity

import (
	"cmp"
	"encoding/base32"
	"slices"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/cjmhq/cjm/opstore"
)

// Review reasons.
const (
	ReasonDifferentUserIDs = "different_user_ids"
	ReasonSharedIdentifier = "shared_identifier"
)

// Review decisions.
const (
	Approved = "approved"
	Rejected = "rejected"
)

// DefaultCap is how many people (profiles holding a userId) one identifier
// may be seen with before it counts as shared.
const DefaultCap = 3

var profileEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewProfileID is the id of the profile an identifier starts in a
// workspace: "p_" and 16 lower-case base32 characters of the identifier's
// hash. A profile keeps its id when other identifiers join it, so a
// visitor's profile id does not change when they log in.
func NewProfileID(workspace string, id Identifier) ProfileID {
	var b [64]byte
	buf := append(b[:0], workspace...)
	buf = append(buf, 0)
	buf = append(buf, id.Kind...)
	buf = append(buf, ':')
	buf = append(buf, id.Value...)
	h := xxh3.Hash128(buf).Bytes()
	var out [2 + 26]byte
	copy(out[:], "p_")
	profileEncoding.Encode(out[2:], h[:])
	return ProfileID(strings.ToLower(string(out[:2+16])))
}

// The graph is kept in memory, one space per workspace: every identifier
// (node) points to its profile, every profile lists its identifiers. It
// changes only by message (apply, in log order) and by a person's
// decision; the Resolver stores the changes.

// space is the identity graph of one workspace.
type space struct {
	ws       string
	cap      int
	nodes    map[Identifier]*node
	order    []*node // in order of creation, nil where erased (EachIdentifier)
	profiles map[ProfileID]*profile
	// roots maps every profile id ever made to the identifier it derives
	// from, also after the profile was merged into another.
	roots map[ProfileID]*node
	// pairs are the edges stored (their Pair hash).
	pairs map[uint64]struct{}
	// blocks keep the profiles of two identifiers apart, both ways.
	blocks map[Identifier][]Identifier
	// reviewed are the pairs of profiles with an open or rejected review.
	reviewed map[[2]ProfileID]struct{}

	scratch []*node
	hbuf    []byte
}

func newSpace(ws string, capacity int) *space {
	return &space{ws: ws, cap: capacity, nodes: map[Identifier]*node{}, profiles: map[ProfileID]*profile{},
		roots: map[ProfileID]*node{}, pairs: map[uint64]struct{}{}, blocks: map[Identifier][]Identifier{},
		reviewed: map[[2]ProfileID]struct{}{}}
}

// node is an identifier of the graph.
type node struct {
	id                  Identifier
	prof                *profile // nil only while a replay has not met it yet
	root                bool     // some profile id derives from it
	firstSeen, lastSeen int64    // Unix ms
	firstSeq            uint64
	sharedSeq           uint64   // shared from this log position on; 0: not shared
	users               []uint64 // hashes of the user ids it was seen with, at most cap+1
	dirty               bool     // changed since stored
	pos                 int      // index in space.order
}

// active reports whether the identifier links profiles in the message at seq.
func (n *node) active(seq uint64) bool { return n.sharedSeq == 0 || n.sharedSeq > seq }

// profile is a person: the identifiers that resolve to them.
type profile struct {
	id      ProfileID
	root    *node
	members []*node
	users   []*node // the members of kind user_id
}

// rep stands for the person in the counts of shared identifiers: the hash
// of their first user id, 0 without one.
func (p *profile) rep() uint64 {
	if len(p.users) == 0 {
		return 0
	}
	return userHash(p.users[0].id.Value)
}

func userHash(userID string) uint64 { return xxh3.HashString(userID) | 1 }

// older reports whether a was started before b.
func older(a, b *profile) bool {
	if a.root.firstSeq != b.root.firstSeq {
		return a.root.firstSeq < b.root.firstSeq
	}
	return a.id < b.id
}

// keeps reports whether a merge of a and b keeps a: the one holding a user
// id, else the older one.
func keeps(a, b *profile) bool {
	if (len(a.users) > 0) != (len(b.users) > 0) {
		return len(a.users) > 0
	}
	return older(a, b)
}

func pairKey(a, b ProfileID) [2]ProfileID {
	if b < a {
		a, b = b, a
	}
	return [2]ProfileID{a, b}
}

// msg is a message as the graph applies it.
type msg struct {
	seq   uint64
	id    string // messageId
	at    int64  // Unix ms
	alias bool
	ids   []Identifier // strongest kind first
	// manual is a link a person approved: it passes every guard but blocks.
	manual bool
	actor  string
}

// changes collects what applying messages changed, to be stored and told.
type changes struct {
	replay  bool // recomputing a profile: log nothing but reviews
	dirty   []dirtyNode
	edges   []opstore.IdentityEdge
	merges  []opstore.IdentityMerge
	reviews []opstore.IdentityReview
	// per workspace: profiles whose identifiers changed, and merges from -> into
	changed map[string]map[ProfileID]struct{}
	merged  map[string]map[ProfileID]ProfileID
	junk    int
}

// dirtyNode is an identifier to store, with its workspace.
type dirtyNode struct {
	sp *space
	n  *node
}

func newChanges() *changes {
	return &changes{changed: map[string]map[ProfileID]struct{}{}, merged: map[string]map[ProfileID]ProfileID{}}
}

func (ch *changes) touch(ws string, p ProfileID) {
	if ch.replay {
		return
	}
	m := ch.changed[ws]
	if m == nil {
		m = map[ProfileID]struct{}{}
		ch.changed[ws] = m
	}
	m[p] = struct{}{}
}

func (ch *changes) markDirty(sp *space, n *node) {
	if ch.replay || n.dirty {
		return
	}
	n.dirty = true
	ch.dirty = append(ch.dirty, dirtyNode{sp, n})
}

// apply adds a message to the graph: its identifiers are recorded, their
// links stored as evidence, counted against the cap, and their profiles
// joined as far as the guards allow.
func (sp *space) apply(m *msg, ch *changes) {
	ns := sp.scratch[:0]
	for _, id := range m.ids {
		n := sp.nodes[id]
		switch {
		case n == nil && ch.replay:
			continue // not part of what is recomputed
		case n == nil:
			n = &node{id: Identifier{Kind: id.Kind, Value: strings.Clone(id.Value)}, firstSeen: m.at, lastSeen: m.at,
				firstSeq: m.seq, pos: len(sp.order)}
			sp.nodes[n.id] = n
			sp.order = append(sp.order, n)
			ch.markDirty(sp, n)
		case !ch.replay:
			if m.at > n.lastSeen {
				n.lastSeen = m.at
				ch.markDirty(sp, n)
			}
			if m.at < n.firstSeen {
				n.firstSeen = m.at
				ch.markDirty(sp, n)
			}
		}
		ns = append(ns, n)
	}
	sp.scratch = ns[:0]
	if len(ns) == 0 {
		return
	}
	var shared []*node
	if !ch.replay {
		shared = sp.count(m, ns, ch)
		sp.evidence(m, ns, ch)
	}
	sp.link(m, ns, ch)
	for _, x := range shared {
		// Queue the link the shared identifier would have made: its profile
		// and the person of the message.
		a := x.prof
		var b *profile
		for _, n := range ns {
			if n.prof != nil && n.prof != a && len(n.prof.users) > 0 && n.active(m.seq) {
				b = n.prof
				break
			}
		}
		if a != nil && b != nil {
			sp.review(a, b, x, ReasonSharedIdentifier, m, ch)
		}
	}
}

// evidence stores the message's links not stored before: a star from its
// first identifier that links (not shared), to the others in their order,
// so that a replay of the edges among any profile's identifiers links what
// the message linked.
func (sp *space) evidence(m *msg, ns []*node, ch *changes) {
	kind := opstore.EdgeMessage
	switch {
	case m.manual:
		kind = opstore.EdgeManual
	case m.alias:
		kind = opstore.EdgeAlias
	}
	hub := 0
	for i, n := range ns {
		if n.active(m.seq) {
			hub = i
			break
		}
	}
	a := ns[hub]
	for j, b := range ns {
		if j == hub {
			continue
		}
		h := sp.pairHash(a.id, b.id, kind)
		if _, ok := sp.pairs[h]; ok {
			continue
		}
		sp.pairs[h] = struct{}{}
		ch.edges = append(ch.edges, opstore.IdentityEdge{WorkspaceID: sp.ws, Pair: h, A: key(a.id), B: key(b.id),
			Ord: j + 1, Seq: m.seq, MessageID: m.id, At: fromMilli(m.at), Kind: kind})
	}
}

func (sp *space) pairHash(a, b Identifier, kind string) uint64 {
	buf := append(sp.hbuf[:0], sp.ws...)
	for _, s := range []string{string(a.Kind), a.Value, string(b.Kind), b.Value, kind} {
		buf = append(buf, 0)
		buf = append(buf, s...)
	}
	sp.hbuf = buf
	return xxh3.Hash(buf) >> 1 // stored as a signed 64-bit integer
}

// count adds the people of the message (its user ids, and the profiles
// holding user ids that its identifiers belong to) to each of its other
// identifiers, and marks shared those seen with more than cap people. It
// returns the identifiers it marked.
func (sp *space) count(m *msg, ns []*node, ch *changes) []*node {
	var reps [8]uint64
	nr := 0
	addRep := func(h uint64) {
		if h == 0 || nr == len(reps) || slices.Contains(reps[:nr], h) {
			return
		}
		reps[nr] = h
		nr++
	}
	for _, n := range ns {
		switch {
		case n.id.Kind == UserID:
			addRep(userHash(n.id.Value))
		case n.prof != nil && n.active(m.seq):
			addRep(n.prof.rep())
		}
	}
	if nr == 0 {
		return nil
	}
	var shared []*node
	for _, n := range ns {
		if n.id.Kind == UserID || !n.active(m.seq) {
			continue
		}
		for _, h := range reps[:nr] {
			if len(n.users) > sp.cap || slices.Contains(n.users, h) {
				continue
			}
			n.users = append(n.users, h)
			ch.markDirty(sp, n)
		}
		if len(n.users) > sp.cap {
			n.sharedSeq = m.seq
			ch.markDirty(sp, n)
			shared = append(shared, n)
		}
	}
	return shared
}

// link joins the message's identifiers into one profile as far as the
// guards allow. The profile of the message's userId leads; a new
// identifier joins the message's profile rather than start one, so that
// the common case (a visitor logging in) merges nothing.
func (sp *space) link(m *msg, ns []*node, ch *changes) {
	var target *profile
	if u := ns[0]; u.id.Kind == UserID {
		switch {
		case u.prof != nil:
			target = u.prof
		default:
			var p *profile
			for _, n := range ns[1:] {
				if n.prof != nil && n.active(m.seq) {
					p = n.prof
					break
				}
			}
			if p != nil && (len(p.users) == 0 || m.manual || sp.waived(m, ns, p, nil, nil, u)) {
				sp.join(p, u, ch)
				target = p
			} else {
				target = sp.create(u, ch)
			}
		}
	}
	for _, n := range ns {
		if n.prof == nil || n.prof == target || !n.active(m.seq) {
			continue
		}
		if target == nil {
			target = n.prof
			continue
		}
		target = sp.union(m, ns, target, n.prof, n, ch)
	}
	for _, n := range ns {
		if n.prof != nil || !n.active(m.seq) {
			continue
		}
		switch {
		case target == nil:
			target = sp.create(n, ch)
		case n.id.Kind == UserID && len(target.users) > 0 && !m.manual && !sp.waived(m, ns, target, nil, nil, n):
			p := sp.create(n, ch)
			sp.review(target, p, n, ReasonDifferentUserIDs, m, ch)
		default:
			sp.join(target, n, ch)
		}
	}
}

// waived reports whether an alias call names one user id on each side: an
// alias says two user ids are one person, which the different_user_ids
// guard would otherwise stop. A side is a profile (a, b) or a new
// identifier (an, bn).
func (sp *space) waived(m *msg, ns []*node, a, b *profile, an, bn *node) bool {
	if !m.alias {
		return false
	}
	var us [2]*node
	k := 0
	for _, n := range ns {
		if n.id.Kind == UserID && k < 2 {
			us[k] = n
			k++
		}
	}
	if k < 2 {
		return false
	}
	in := func(u *node, p *profile, n *node) bool { return (p != nil && u.prof == p) || (n != nil && u == n) }
	return in(us[0], a, an) && in(us[1], b, bn) || in(us[1], a, an) && in(us[0], b, bn)
}

// union merges two profiles linked by identifier by unless a guard stops
// it, and returns the profile the message goes on with.
func (sp *space) union(m *msg, ns []*node, t, p *profile, by *node, ch *changes) *profile {
	if sp.blocked(t, p) {
		return t
	}
	if len(t.users) > 0 && len(p.users) > 0 && !m.manual && !sp.waived(m, ns, t, p, nil, nil) {
		sp.review(t, p, by, ReasonDifferentUserIDs, m, ch)
		return t
	}
	into, from := t, p
	if !keeps(t, p) {
		into, from = p, t
	}
	sp.merge(into, from, by.id, m, ch)
	return into
}

// blocked reports whether a block keeps profiles a and b apart.
func (sp *space) blocked(a, b *profile) bool {
	if len(sp.blocks) == 0 {
		return false
	}
	if len(b.members) < len(a.members) {
		a, b = b, a
	}
	for _, n := range a.members {
		for _, q := range sp.blocks[n.id] {
			if qn := sp.nodes[q]; qn != nil && qn.prof == b {
				return true
			}
		}
	}
	return false
}

func (sp *space) addBlock(a, b Identifier) {
	if !slices.Contains(sp.blocks[a], b) {
		sp.blocks[a] = append(sp.blocks[a], b)
	}
	if !slices.Contains(sp.blocks[b], a) {
		sp.blocks[b] = append(sp.blocks[b], a)
	}
}

// create starts a profile with identifier n, the id derived from it.
func (sp *space) create(n *node, ch *changes) *profile {
	p := &profile{id: NewProfileID(sp.ws, n.id), root: n}
	sp.profiles[p.id] = p
	sp.roots[p.id] = n
	if !n.root {
		n.root = true
		ch.markDirty(sp, n)
	}
	sp.join(p, n, ch)
	return p
}

// join adds identifier n to profile p.
func (sp *space) join(p *profile, n *node, ch *changes) {
	n.prof = p
	p.members = append(p.members, n)
	if n.id.Kind == UserID {
		p.users = append(p.users, n)
	}
	ch.markDirty(sp, n)
	ch.touch(sp.ws, p.id)
}

// merge moves every identifier of from into into, and logs it.
func (sp *space) merge(into, from *profile, by Identifier, m *msg, ch *changes) {
	for _, n := range from.members {
		n.prof = into
		ch.markDirty(sp, n)
	}
	into.members = append(into.members, from.members...)
	into.users = append(into.users, from.users...)
	delete(sp.profiles, from.id)
	if ch.replay {
		return
	}
	ch.merges = append(ch.merges, opstore.IdentityMerge{WorkspaceID: sp.ws, Into: string(into.id), From: string(from.id),
		By: key(by), MessageID: m.id, Seq: m.seq, At: fromMilli(m.at), Actor: m.actor})
	ch.touch(sp.ws, into.id)
	mm := ch.merged[sp.ws]
	if mm == nil {
		mm = map[ProfileID]ProfileID{}
		ch.merged[sp.ws] = mm
	}
	mm[from.id] = into.id
}

// review queues a link a guard stopped, once per pair of profiles (and
// never again for a pair once rejected).
func (sp *space) review(a, b *profile, by *node, reason string, m *msg, ch *changes) {
	k := pairKey(a.id, b.id)
	if _, ok := sp.reviewed[k]; ok || sp.blocked(a, b) {
		return
	}
	sp.reviewed[k] = struct{}{}
	ch.reviews = append(ch.reviews, opstore.IdentityReview{WorkspaceID: sp.ws, A: string(a.id), B: string(b.id), By: key(by.id),
		MessageID: m.id, Seq: m.seq, Reason: reason, At: fromMilli(m.at)})
}

// current is the profile that holds what profile id p started (p itself,
// or the profile it was merged into), nil when there is none.
func (sp *space) current(p ProfileID) *profile {
	if pr := sp.profiles[p]; pr != nil {
		return pr
	}
	if r := sp.roots[p]; r != nil {
		return r.prof
	}
	return nil
}

// lineage lists the profile ids a profile is made of: its own and those of
// the profiles merged into it.
func (sp *space) lineage(p *profile) []string {
	out := []string{string(p.id)}
	for _, n := range p.members {
		if n.root {
			if id := NewProfileID(sp.ws, n.id); id != p.id {
				out = append(out, string(id))
			}
		}
	}
	return out
}

// linked is an identifier as Graph readers see it.
func (n *node) linked() Linked {
	return Linked{Identifier: n.id, FirstSeen: fromMilli(n.firstSeen), LastSeen: fromMilli(n.lastSeen), Shared: n.sharedSeq != 0}
}

// sortLinked puts identifiers strongest kind first, then by first seen.
func sortLinked(ls []Linked) {
	slices.SortFunc(ls, func(a, b Linked) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), a.FirstSeen.Compare(b.FirstSeen), strings.Compare(a.Value, b.Value))
	})
}

// record is n as the store keeps it.
func (sp *space) record(n *node) opstore.IdentifierRecord {
	return opstore.IdentifierRecord{WorkspaceID: sp.ws, IdentityKey: key(n.id), ProfileID: string(n.prof.id), Root: n.root,
		FirstSeen: fromMilli(n.firstSeen), LastSeen: fromMilli(n.lastSeen), FirstSeq: n.firstSeq, SharedSeq: n.sharedSeq,
		Users: slices.Clone(n.users)}
}

// load adds a stored identifier; finish links profiles to their roots
// once all are loaded.
func (sp *space) load(r *opstore.IdentifierRecord) {
	n := &node{id: Identifier{Kind: kindOf(r.Kind), Value: r.Value}, root: r.Root, firstSeen: r.FirstSeen.UnixMilli(),
		lastSeen: r.LastSeen.UnixMilli(), firstSeq: r.FirstSeq, sharedSeq: r.SharedSeq, pos: len(sp.order)}
	if len(r.Users) > 0 {
		n.users = slices.Clone(r.Users)
	}
	sp.nodes[n.id] = n
	sp.order = append(sp.order, n)
	pid := ProfileID(r.ProfileID)
	p := sp.profiles[pid]
	if p == nil {
		p = &profile{id: pid}
		sp.profiles[pid] = p
	}
	n.prof = p
	p.members = append(p.members, n)
	if n.id.Kind == UserID {
		p.users = append(p.users, n)
	}
	if n.root {
		sp.roots[NewProfileID(sp.ws, n.id)] = n
	}
}

// finish gives every loaded profile its root. A profile whose root is
// missing (which the resolver never stores) gets its oldest identifier.
func (sp *space) finish() {
	for id, p := range sp.profiles {
		if r := sp.roots[id]; r != nil && r.prof == p {
			p.root = r
			continue
		}
		p.root = p.members[0]
		for _, n := range p.members[1:] {
			if n.firstSeq < p.root.firstSeq {
				p.root = n
			}
		}
	}
}

func key(id Identifier) opstore.IdentityKey {
	return opstore.IdentityKey{Kind: string(id.Kind), Value: id.Value}
}

func fromKey(k opstore.IdentityKey) Identifier {
	return Identifier{Kind: kindOf(k.Kind), Value: k.Value}
}

// kindOf is the Kind named s, sharing the constant's memory when it is one.
func kindOf(s string) Kind {
	for _, k := range Kinds {
		if string(k) == s {
			return k
		}
	}
	return Kind(s)
}
