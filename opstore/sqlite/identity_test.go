package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

func ik(kind, value string) opstore.IdentityKey { return opstore.IdentityKey{Kind: kind, Value: value} }

// identityBatch is a batch as the resolver writes one: two profiles, the
// evidence, a merge and a review, up to offset 10.
func identityBatch(at time.Time) *opstore.IdentityBatch {
	rec := func(ws, kind, value, profile string, root bool, seq uint64, users ...uint64) opstore.IdentifierRecord {
		return opstore.IdentifierRecord{WorkspaceID: ws, IdentityKey: ik(kind, value), ProfileID: profile, Root: root,
			FirstSeen: at.Add(time.Duration(seq) * time.Minute), LastSeen: at.Add(time.Hour), FirstSeq: seq, Users: users}
	}
	return &opstore.IdentityBatch{
		Offset: 10, SetOffset: true,
		Identifiers: []opstore.IdentifierRecord{
			rec("ws", "anonymous_id", "a1", "p_a1", true, 1, 7, 9),
			rec("ws", "user_id", "kh001", "p_a1", false, 2),
			rec("ws", "email", "lan@x.vn", "p_a1", false, 2, 7),
			rec("ws", "phone", "+84912345678", "p_a1", false, 3),
			rec("ws", "anonymous_id", "a2", "p_a1", true, 4),
			rec("ws", "user_id", "kh002", "p_kh002", true, 5),
			rec("other", "email", "lan@x.vn", "p_o", true, 6),
		},
		Edges: []opstore.IdentityEdge{
			{WorkspaceID: "ws", Pair: 11, A: ik("user_id", "kh001"), B: ik("email", "lan@x.vn"), Ord: 1, Seq: 2, MessageID: "m2", At: at, Kind: opstore.EdgeMessage},
			{WorkspaceID: "ws", Pair: 12, A: ik("user_id", "kh001"), B: ik("anonymous_id", "a1"), Ord: 2, Seq: 2, MessageID: "m2", At: at, Kind: opstore.EdgeMessage},
			{WorkspaceID: "ws", Pair: 13, A: ik("user_id", "kh001"), B: ik("anonymous_id", "a2"), Ord: 1, Seq: 4, MessageID: "m4", At: at, Kind: opstore.EdgeMessage},
			{WorkspaceID: "ws", Pair: 14, A: ik("user_id", "kh002"), B: ik("anonymous_id", "a2"), Ord: 1, Seq: 5, MessageID: "m5", At: at, Kind: opstore.EdgeMessage},
		},
		Merges: []opstore.IdentityMerge{{WorkspaceID: "ws", Into: "p_a1", From: "p_a2", By: ik("anonymous_id", "a2"), MessageID: "m4", Seq: 4, At: at}},
		Reviews: []opstore.IdentityReview{{WorkspaceID: "ws", A: "p_a1", B: "p_kh002", By: ik("anonymous_id", "a2"), MessageID: "m5", Seq: 5,
			Reason: "different_user_ids", At: at}},
	}
}

func TestIdentityBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if off, err := s.IdentityOffset(ctx); err != nil || off != 0 {
		t.Fatalf("IdentityOffset of a new store = %d, %v", off, err)
	}
	b := identityBatch(t0)
	// Stored twice (a batch replayed after a crash): nothing doubles.
	for range 2 {
		if err := s.SaveIdentity(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if off, err := s.IdentityOffset(ctx); err != nil || off != 10 {
		t.Errorf("IdentityOffset = %d, %v; want 10", off, err)
	}
	var got []opstore.IdentifierRecord
	err := s.EachIdentifierRecord(ctx, func(r *opstore.IdentifierRecord) error {
		c := *r
		c.Users = append([]uint64(nil), r.Users...)
		if len(c.Users) == 0 {
			c.Users = nil
		}
		got = append(got, c)
		return nil
	})
	wantErr(t, err, nil, "")
	want := map[opstore.IdentityKey]opstore.IdentifierRecord{}
	for _, r := range b.Identifiers {
		want[opstore.IdentityKey{Kind: r.WorkspaceID + "/" + r.Kind, Value: r.Value}] = r
	}
	if len(got) != len(want) {
		t.Errorf("%d identifiers stored, want %d", len(got), len(want))
	}
	for _, r := range got {
		diff(t, "identifier "+r.Value, r, want[opstore.IdentityKey{Kind: r.WorkspaceID + "/" + r.Kind, Value: r.Value}])
	}

	pairs := map[uint64]string{}
	wantErr(t, s.EachIdentityPair(ctx, func(ws string, p uint64) error { pairs[p] = ws; return nil }), nil, "")
	diff(t, "pairs", pairs, map[uint64]string{11: "ws", 12: "ws", 13: "ws", 14: "ws"})

	edges, err := s.IdentityEdges(ctx, "ws", []opstore.IdentityKey{ik("anonymous_id", "a2"), ik("email", "lan@x.vn")})
	wantErr(t, err, nil, "")
	diff(t, "edges of a2 and the e-mail", edges, []opstore.IdentityEdge{b.Edges[0], b.Edges[2], b.Edges[3]})
	if edges, _ := s.IdentityEdges(ctx, "other", []opstore.IdentityKey{ik("email", "lan@x.vn")}); len(edges) != 0 {
		t.Errorf("edges of another workspace: %v", edges)
	}

	ms, err := s.IdentityMerges(ctx, "ws", []string{"p_a2"})
	wantErr(t, err, nil, "")
	if len(ms) != 1 || ms[0].ID == 0 {
		t.Fatalf("merges = %+v, want the one merge", ms)
	}
	m := b.Merges[0]
	m.ID = ms[0].ID
	diff(t, "merge", ms[0], m)
	got1, err := s.IdentityMerge(ctx, "ws", m.ID)
	wantErr(t, err, nil, "")
	diff(t, "IdentityMerge", got1, m)
	_, err = s.IdentityMerge(ctx, "other", m.ID)
	wantErr(t, err, opstore.ErrNotFound, "")

	rs, err := s.IdentityReviews(ctx, "ws", true, 0)
	wantErr(t, err, nil, "")
	if len(rs) != 1 {
		t.Fatalf("reviews = %+v", rs)
	}
	rv := b.Reviews[0]
	rv.ID = rs[0].ID
	diff(t, "review", rs[0], rv)
	var rpairs [][2]string
	wantErr(t, s.EachIdentityReviewPair(ctx, func(ws, a, b string) error { rpairs = append(rpairs, [2]string{a, b}); return nil }), nil, "")
	diff(t, "review pairs", rpairs, [][2]string{{"p_a1", "p_kh002"}})

	// Decisions: undo the merge, reject the review with a block.
	later := t0.Add(24 * time.Hour)
	d := &opstore.IdentityBatch{
		Undone:    []opstore.IdentityMerge{{ID: m.ID, WorkspaceID: "ws", UndoneAt: later, UndoneBy: "lan"}},
		Decisions: []opstore.IdentityReview{{ID: rv.ID, WorkspaceID: "ws", Decision: "rejected", DecidedAt: later, DecidedBy: "lan"}},
		Blocks: []opstore.IdentityBlock{{WorkspaceID: "ws", A: ik("anonymous_id", "a1"), B: ik("user_id", "kh002"), Reason: "rejected",
			Ref: rv.ID, At: later, Actor: "lan"}},
	}
	for range 2 {
		wantErr(t, s.SaveIdentity(ctx, d), nil, "")
	}
	if off, _ := s.IdentityOffset(ctx); off != 10 {
		t.Errorf("a batch without SetOffset moved the offset to %d", off)
	}
	got1, _ = s.IdentityMerge(ctx, "ws", m.ID)
	m.UndoneAt, m.UndoneBy = later, "lan"
	diff(t, "undone merge", got1, m)
	rs, _ = s.IdentityReviews(ctx, "ws", false, 0)
	rv.Decision, rv.DecidedAt, rv.DecidedBy = "rejected", later, "lan"
	diff(t, "rejected review", rs, []opstore.IdentityReview{rv})
	if rs, _ := s.IdentityReviews(ctx, "ws", true, 0); len(rs) != 0 {
		t.Errorf("open reviews after the decision: %+v", rs)
	}
	blocks, err := s.IdentityBlocks(ctx)
	wantErr(t, err, nil, "")
	diff(t, "blocks", blocks, d.Blocks)
}

func TestIdentityReviewQueueOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	b := &opstore.IdentityBatch{}
	for i := range 5 {
		b.Reviews = append(b.Reviews, opstore.IdentityReview{WorkspaceID: "ws", A: "p_a", B: "p_" + string(rune('b'+i)),
			By: ik("phone", "+84912345678"), MessageID: "m", Seq: uint64(i + 1), Reason: "shared_identifier", At: t0})
	}
	wantErr(t, s.SaveIdentity(ctx, b), nil, "")
	rs, _ := s.IdentityReviews(ctx, "ws", false, 0)
	wantErr(t, s.SaveIdentity(ctx, &opstore.IdentityBatch{Decisions: []opstore.IdentityReview{
		{ID: rs[0].ID, WorkspaceID: "ws", Decision: "approved", DecidedAt: t0, DecidedBy: "x"}}}), nil, "")
	rs, _ = s.IdentityReviews(ctx, "ws", false, 0)
	var order []string
	for _, r := range rs {
		order = append(order, r.B+":"+r.Decision)
	}
	// Open first, newest first; then the decided.
	diff(t, "queue", order, []string{"p_e:", "p_d:", "p_c:", "p_b:", "p_f:approved"})
	if rs, _ := s.IdentityReviews(ctx, "ws", true, 2); len(rs) != 2 || rs[0].B != "p_e" {
		t.Errorf("open reviews, limit 2: %+v", rs)
	}
	// An approved review is not remembered as a pair to keep apart.
	n := 0
	s.EachIdentityReviewPair(ctx, func(_, _, _ string) error { n++; return nil })
	if n != 4 {
		t.Errorf("%d review pairs, want the 4 not approved", n)
	}
	_, err := s.IdentityReview(ctx, "ws", 999)
	wantErr(t, err, opstore.ErrNotFound, "")
}

func TestSearchIdentifierRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	b := identityBatch(t0)
	b.Identifiers = append(b.Identifiers,
		opstore.IdentifierRecord{WorkspaceID: "ws", IdentityKey: ik("email", "lan.tran@x.vn"), ProfileID: "p_t", FirstSeen: t0, LastSeen: t0},
		opstore.IdentifierRecord{WorkspaceID: "ws", IdentityKey: ik("user_id", "lam"), ProfileID: "p_l", FirstSeen: t0, LastSeen: t0},
		opstore.IdentifierRecord{WorkspaceID: "ws", IdentityKey: ik("user_id", "lan\xff"), ProfileID: "p_ff", FirstSeen: t0, LastSeen: t0},
		opstore.IdentifierRecord{WorkspaceID: "ws", IdentityKey: ik("user_id", "lao"), ProfileID: "p_o", FirstSeen: t0, LastSeen: t0})
	wantErr(t, s.SaveIdentity(ctx, b), nil, "")
	values := func(rs []opstore.IdentifierRecord) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.Kind+":"+r.Value)
		}
		return out
	}
	for _, tc := range []struct {
		kind, prefix string
		limit        int
		want         []string
	}{
		{"", "lan", 0, []string{"email:lan.tran@x.vn", "email:lan@x.vn", "user_id:lan\xff"}},
		{"email", "lan", 0, []string{"email:lan.tran@x.vn", "email:lan@x.vn"}},
		{"", "lan", 1, []string{"email:lan.tran@x.vn"}},
		{"", "+8491", 0, []string{"phone:+84912345678"}},
		{"", "kh", 0, []string{"user_id:kh001", "user_id:kh002"}},
		{"", "zzz", 0, []string{}},
	} {
		rs, err := s.SearchIdentifierRecords(ctx, "ws", tc.kind, tc.prefix, tc.limit)
		wantErr(t, err, nil, "")
		diff(t, "search "+tc.kind+":"+tc.prefix, values(rs), tc.want)
	}
}

func TestEraseIdentity(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	b := identityBatch(t0)
	b.Blocks = []opstore.IdentityBlock{{WorkspaceID: "ws", A: ik("anonymous_id", "a1"), B: ik("user_id", "kh002"), Reason: "split", At: t0}}
	wantErr(t, s.SaveIdentity(ctx, b), nil, "")
	var keys []opstore.IdentityKey
	for _, r := range b.Identifiers[:5] {
		keys = append(keys, r.IdentityKey)
	}
	e := &opstore.IdentityBatch{Erase: []opstore.IdentityErase{{WorkspaceID: "ws", Identifiers: keys, Profiles: []string{"p_a1", "p_a2"}}}}
	wantErr(t, s.SaveIdentity(ctx, e), nil, "")
	var left []string
	s.EachIdentifierRecord(ctx, func(r *opstore.IdentifierRecord) error {
		left = append(left, r.WorkspaceID+"/"+r.Kind+":"+r.Value)
		return nil
	})
	diff(t, "identifiers left", left, []string{"other/email:lan@x.vn", "ws/user_id:kh002"})
	if es, _ := s.IdentityEdges(ctx, "ws", append(keys, ik("user_id", "kh002"))); len(es) != 0 {
		t.Errorf("edges left: %+v", es)
	}
	if ms, _ := s.IdentityMerges(ctx, "ws", []string{"p_a1", "p_a2"}); len(ms) != 0 {
		t.Errorf("merges left: %+v", ms)
	}
	if rs, _ := s.IdentityReviews(ctx, "ws", false, 0); len(rs) != 0 {
		t.Errorf("reviews left: %+v", rs)
	}
	if bs, _ := s.IdentityBlocks(ctx); len(bs) != 0 {
		t.Errorf("blocks left: %+v", bs)
	}
}

// A batch that fails stores nothing of itself, not even its offset.
func TestIdentityBatchAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	b := identityBatch(t0)
	b.Reviews[0].Reason = "no such reason" // the check constraint fails at the end
	if err := s.SaveIdentity(ctx, b); err == nil {
		t.Fatal("SaveIdentity with a bad review succeeded")
	}
	if off, _ := s.IdentityOffset(ctx); off != 0 {
		t.Errorf("offset %d after a failed batch", off)
	}
	n := 0
	s.EachIdentifierRecord(ctx, func(*opstore.IdentifierRecord) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d identifiers stored by a failed batch", n)
	}
	stop := errors.New("stop")
	wantErr(t, s.SaveIdentity(ctx, identityBatch(t0)), nil, "")
	if err := s.EachIdentifierRecord(ctx, func(*opstore.IdentifierRecord) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("EachIdentifierRecord returned %v, want fn's error", err)
	}
}
