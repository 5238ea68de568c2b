package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
)

const ws = "ws_test"

// t0 is when the test messages start.
var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// env is a resolver over a real SQLite and DuckDB in a temporary directory.
type env struct {
	t      *testing.T
	ops    identity.IdentityStore
	sql    *sqlite.Store
	events *duckdb.Store
	r      *identity.Resolver
	opts   identity.Options
	seq    uint64
}

func newEnv(t *testing.T, opts identity.Options) *env {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "cjm.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{MemoryLimit: "256MB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ev.Close()
		s.Close()
	})
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0.Add(1000 * time.Hour) }
	}
	e := &env{t: t, ops: s, sql: s, events: ev, opts: opts}
	e.restart()
	return e
}

// restart makes a new resolver on the stores, as a new process would.
func (e *env) restart() {
	e.t.Helper()
	r, err := identity.NewResolver(e.ops, e.events, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.r = r
}

// send appends messages to the event store in order; a message without a
// time is at t0 plus its position in minutes, without an id "m<seq>".
func (e *env) send(ms ...event.Message) {
	e.t.Helper()
	for i := range ms {
		e.seq++
		m := &ms[i]
		m.Seq, m.WorkspaceID = e.seq, ws
		if m.SourceID == "" {
			m.SourceID = "src_web"
		}
		if m.MessageID == "" {
			m.MessageID = fmt.Sprintf("m%d", e.seq)
		}
		if m.Timestamp.IsZero() {
			m.Timestamp = t0.Add(time.Duration(e.seq) * time.Minute)
		}
		m.ReceivedAt = m.Timestamp
	}
	if err := e.events.Append(context.Background(), ms); err != nil {
		e.t.Fatal(err)
	}
}

// resolve runs the resolver until it has applied everything sent.
func (e *env) resolve() {
	e.t.Helper()
	for {
		n, err := e.r.Step(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 && e.r.Offset() >= e.seq {
			return
		}
	}
}

func (e *env) profile(s string) identity.ProfileID {
	e.t.Helper()
	p, err := e.r.Resolve(context.Background(), ws, mustID(s))
	if err != nil {
		e.t.Fatalf("Resolve(%s): %v", s, err)
	}
	return p
}

func mustID(s string) identity.Identifier {
	id, err := identity.ParseIdentifier(s)
	if err != nil {
		panic(err)
	}
	return id
}

func traits(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	if !json.Valid([]byte(s)) {
		panic("bad JSON: " + s)
	}
	return json.RawMessage(s)
}

func page(anon string) event.Message {
	return event.Message{Type: event.Page, Name: "Trang chủ", AnonymousID: anon}
}

func track(user, anon string) event.Message {
	return event.Message{Type: event.Track, Event: "Product Viewed", UserID: user, AnonymousID: anon}
}

func identify(user, anon, t string) event.Message {
	return event.Message{Type: event.Identify, UserID: user, AnonymousID: anon, Traits: traits(t)}
}

func alias(previous, user string) event.Message {
	return event.Message{Type: event.Alias, UserID: user, PreviousID: previous}
}

func at(m event.Message, d time.Duration) event.Message {
	m.Timestamp = t0.Add(d)
	return m
}

// state is the graph as the stores and memory hold it, for comparisons.
type state struct {
	Profiles map[string]identity.ProfileID // identifier -> profile
	Shared   []string
	Merges   []string
	Reviews  []string
	Offset   uint64
}

// dump reads the state, checking that the store holds what memory holds.
func (e *env) dump() state {
	e.t.Helper()
	ctx := context.Background()
	s := state{Profiles: map[string]identity.ProfileID{}, Offset: e.r.Offset()}
	pids := map[string]bool{}
	err := e.r.EachIdentifier(ctx, ws, func(id identity.Identifier, p identity.ProfileID) error {
		s.Profiles[id.String()] = p
		pids[string(p)] = true
		pids[string(identity.NewProfileID(ws, id))] = true
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	stored := map[string]identity.ProfileID{}
	if err := e.ops.EachIdentifierRecord(ctx, func(r *opstore.IdentifierRecord) error {
		stored[r.Kind+":"+r.Value] = identity.ProfileID(r.ProfileID)
		if r.SharedSeq != 0 {
			s.Shared = append(s.Shared, r.Kind+":"+r.Value)
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	if d := cmp.Diff(s.Profiles, stored); d != "" {
		e.t.Errorf("the store holds other profiles than memory (-memory +store):\n%s", d)
	}
	if off, _ := e.ops.IdentityOffset(ctx); off != s.Offset {
		e.t.Errorf("stored offset %d, resolver at %d", off, s.Offset)
	}
	ms, err := e.ops.IdentityMerges(ctx, ws, slices.Sorted(func(yield func(string) bool) {
		for p := range pids {
			if !yield(p) {
				return
			}
		}
	}))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range ms {
		undone := ""
		if !m.UndoneAt.IsZero() {
			undone = " undone by " + m.UndoneBy
		}
		s.Merges = append(s.Merges, fmt.Sprintf("%s <- %s by %s:%s %s%s", m.Into, m.From, m.By.Kind, m.By.Value, m.Actor, undone))
	}
	sort.Strings(s.Merges)
	rs, err := e.ops.IdentityReviews(ctx, ws, false, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rs {
		s.Reviews = append(s.Reviews, fmt.Sprintf("%s %s %s %s:%s %s", r.Reason, r.A, r.B, r.By.Kind, r.By.Value, r.Decision))
	}
	sort.Strings(s.Reviews)
	sort.Strings(s.Shared)
	return s
}

// openReasons lists the reasons of the open reviews, oldest first.
func (e *env) openReasons() []string {
	e.t.Helper()
	rs, err := e.r.Reviews(context.Background(), ws, true, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	out := []string{}
	for i := len(rs) - 1; i >= 0; i-- {
		out = append(out, rs[i].Reason)
	}
	return out
}

func TestScenarios(t *testing.T) {
	const diff, shared = identity.ReasonDifferentUserIDs, identity.ReasonSharedIdentifier
	for _, tc := range []struct {
		name string
		msgs []event.Message
		// same lists groups of identifiers that resolve to one profile;
		// apart pairs that resolve to two.
		same  [][]string
		apart [][2]string
		// idOf maps an identifier to the one its profile's id derives from.
		idOf    map[string]string
		merges  int
		reviews []string // reasons of the open reviews, oldest first
		shared  []string
		count   int // identifiers in the graph, when not 0
		junk    uint64
	}{
		{
			name: "anonymous then login",
			msgs: []event.Message{page("a1"), page("a1"), identify("kh1", "a1", `{"email":" Lan@X.vn","name":"Lan"}`), track("kh1", "a1")},
			same: [][]string{{"anonymous_id:a1", "user_id:kh1", "email:lan@x.vn"}},
			idOf: map[string]string{"user_id:kh1": "anonymous_id:a1"},
		},
		{
			name:   "login on two devices",
			msgs:   []event.Message{page("a1"), identify("kh1", "a1", `{}`), page("a2"), page("a2"), track("kh1", "a2"), page("a2")},
			same:   [][]string{{"anonymous_id:a1", "anonymous_id:a2", "user_id:kh1"}},
			idOf:   map[string]string{"user_id:kh1": "anonymous_id:a1"},
			merges: 1,
		},
		{
			name: "the email known before the account",
			msgs: []event.Message{page("a2"), identify("", "a2", `{"email":"lan@x.vn"}`), page("a1"),
				identify("kh1", "a1", `{"email":"LAN@x.vn","phone":"0912 345 678"}`)},
			same:   [][]string{{"anonymous_id:a1", "anonymous_id:a2", "user_id:kh1", "email:lan@x.vn", "phone:+84912345678"}},
			idOf:   map[string]string{"user_id:kh1": "anonymous_id:a2"},
			merges: 1,
		},
		{
			name: "alias chains",
			msgs: []event.Message{page("a1"), alias("a1", "kh1"), track("kh1", ""), alias("kh1", "kh9"), track("kh9", "a2"),
				identify("kh5", "a5", `{}`), alias("kh5", "kh9")},
			same:   [][]string{{"anonymous_id:a1", "user_id:kh1", "user_id:kh9", "anonymous_id:a2", "user_id:kh5", "anonymous_id:a5"}},
			idOf:   map[string]string{"user_id:kh9": "anonymous_id:a1"},
			merges: 1,
		},
		{
			name: "two userIds share a device",
			msgs: []event.Message{page("t1"), identify("kh1", "t1", `{}`), identify("kh2", "t1", `{}`), track("kh1", "t1"),
				track("kh2", "t1"), identify("kh2", "t1", `{}`)},
			same:    [][]string{{"anonymous_id:t1", "user_id:kh1"}},
			apart:   [][2]string{{"user_id:kh1", "user_id:kh2"}},
			reviews: []string{diff},
		},
		{
			name: "a recycled phone number",
			msgs: []event.Message{identify("kh1", "a1", `{"phone":"0912 345 678"}`), track("kh1", "a1"),
				at(identify("kh2", "a2", `{"phone":"+84 912 345 678"}`), 3*365*24*time.Hour), track("kh2", "a2")},
			same:    [][]string{{"user_id:kh1", "anonymous_id:a1", "phone:+84912345678"}, {"user_id:kh2", "anonymous_id:a2"}},
			apart:   [][2]string{{"user_id:kh1", "user_id:kh2"}},
			reviews: []string{diff},
		},
		{
			name: "junk ids",
			msgs: []event.Message{track("undefined", "a1"), identify("null", "anonymous", `{"email":"test@test.com","phone":"0000000000"}`),
				page("0"), identify("kh1", "[object Object]", `{"email":"noemail@x.vn","phone":"-1","zalo_id":"guest"}`),
				identify("kh2", "a1", `{"email":"N/A"}`), page("undefined")},
			same:  [][]string{{"anonymous_id:a1", "user_id:kh2"}, {"user_id:kh1"}},
			apart: [][2]string{{"user_id:kh1", "user_id:kh2"}},
			count: 3,
			junk:  12,
		},
		{
			name: "identify arriving after the events it explains",
			msgs: []event.Message{at(track("kh1", ""), 10*time.Hour), at(page("a1"), time.Hour), at(track("", "a1"), 2*time.Hour),
				at(identify("kh1", "a1", `{"email":"lan@x.vn"}`), 0)},
			same:   [][]string{{"anonymous_id:a1", "user_id:kh1", "email:lan@x.vn"}},
			idOf:   map[string]string{"anonymous_id:a1": "user_id:kh1"},
			merges: 1,
		},
		{
			name: "a shared device reaches the cap",
			msgs: []event.Message{page("t1"), identify("kh1", "t1", `{}`), identify("kh2", "t1", `{}`), identify("kh3", "t1", `{}`),
				identify("kh4", "t1", `{}`), identify("kh5", "t1", `{}`), track("kh6", "t1")},
			same:    [][]string{{"anonymous_id:t1", "user_id:kh1"}},
			apart:   [][2]string{{"user_id:kh1", "user_id:kh2"}, {"user_id:kh4", "user_id:kh5"}, {"user_id:kh5", "user_id:kh6"}},
			reviews: []string{diff, diff, shared},
			shared:  []string{"anonymous_id:t1"},
		},
		{
			name: "an info@ address shared by a shop's staff",
			msgs: []event.Message{identify("kh1", "a1", `{"email":"info@shop.vn"}`), identify("kh2", "a2", `{"email":"info@shop.vn"}`),
				identify("kh3", "a3", `{"email":"info@shop.vn"}`), identify("kh4", "a4", `{"email":"info@shop.vn"}`),
				identify("kh5", "a5", `{"email":"info@shop.vn"}`), identify("", "a6", `{"email":"info@shop.vn"}`)},
			same:    [][]string{{"user_id:kh1", "email:info@shop.vn", "anonymous_id:a1"}, {"user_id:kh4", "anonymous_id:a4"}, {"user_id:kh5", "anonymous_id:a5"}, {"anonymous_id:a6"}},
			apart:   [][2]string{{"user_id:kh4", "user_id:kh5"}, {"anonymous_id:a6", "user_id:kh1"}},
			reviews: []string{diff, diff, shared},
			shared:  []string{"email:info@shop.vn"},
		},
		{
			name: "one shopper on every channel",
			msgs: []event.Message{
				identify("kh1", "w1", `{"email":"lan@x.vn","phone":"0912 345 678"}`),
				identify("", "shopee:123456789", `{"phone":"84912345678","marketplace":"shopee","buyer_id":"123456789"}`),
				track("", "shopee:123456789"),
				track("", "tel:+84912345678"),
				identify("", "zalo:8412345678901234567", `{"name":"Lan","zalo_id":"8412345678901234567"}`),
				identify("kh1", "", `{"zalo_id":"8412345678901234567","phone":"+84 912 345 678"}`),
				identify("kh1", "", `{"loyalty_card":"MAY10000001","phone":"0912.345.678"}`),
				{Type: event.Track, Event: "Email Opened", UserID: "kh1", Context: traits(`{"traits":{"email":"lan@x.vn"}}`)},
			},
			same: [][]string{{"user_id:kh1", "anonymous_id:w1", "email:lan@x.vn", "phone:+84912345678",
				"marketplace_buyer_id:shopee:123456789", "anonymous_id:shopee:123456789", "anonymous_id:tel:+84912345678",
				"zalo_id:8412345678901234567", "anonymous_id:zalo:8412345678901234567", "loyalty_card:MAY10000001"}},
			idOf:   map[string]string{"user_id:kh1": "user_id:kh1"},
			merges: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, identity.Options{})
			e.send(tc.msgs...)
			e.resolve()
			for _, g := range tc.same {
				p := e.profile(g[0])
				for _, s := range g[1:] {
					if q := e.profile(s); q != p {
						t.Errorf("%s is in %s, %s in %s: want one profile", g[0], p, s, q)
					}
				}
				ls, err := e.r.Identifiers(context.Background(), ws, p)
				if err != nil {
					t.Fatal(err)
				}
				if len(ls) != len(g) {
					t.Errorf("profile of %s holds %d identifiers %v, want %d", g[0], len(ls), ls, len(g))
				}
			}
			for _, a := range tc.apart {
				if e.profile(a[0]) == e.profile(a[1]) {
					t.Errorf("%s and %s are in one profile", a[0], a[1])
				}
			}
			for s, root := range tc.idOf {
				if p, want := e.profile(s), identity.NewProfileID(ws, mustID(root)); p != want {
					t.Errorf("profile of %s is %s, want %s (from %s)", s, p, want, root)
				}
			}
			st := e.dump()
			if len(st.Merges) != tc.merges {
				t.Errorf("merges %q, want %d", st.Merges, tc.merges)
			}
			if got := e.openReasons(); !slices.Equal(got, tc.reviews) && (len(got) > 0 || len(tc.reviews) > 0) {
				t.Errorf("open reviews %q, want %q", got, tc.reviews)
			}
			if !slices.Equal(st.Shared, tc.shared) {
				t.Errorf("shared %q, want %q", st.Shared, tc.shared)
			}
			stats := e.r.Stats()
			if tc.count > 0 && stats.Identifiers != tc.count {
				t.Errorf("%d identifiers %v, want %d", stats.Identifiers, st.Profiles, tc.count)
			}
			if stats.Junk != tc.junk {
				t.Errorf("%d junk values, want %d", stats.Junk, tc.junk)
			}
			if stats.Messages != uint64(len(tc.msgs)) || stats.Offset != e.seq {
				t.Errorf("stats %+v, want %d messages", stats, len(tc.msgs))
			}
			// The same state when the graph is read back from the store.
			e.restart()
			if d := cmp.Diff(st, e.dump()); d != "" {
				t.Errorf("state after a restart (-before +after):\n%s", d)
			}
		})
	}
}

// Each identifier keeps the earliest and latest times of the messages that
// held it, whatever order they arrived in.
func TestOutOfOrderTimes(t *testing.T) {
	e := newEnv(t, identity.Options{})
	e.send(at(track("", "a1"), 5*time.Hour), at(track("", "a1"), time.Hour), at(identify("kh1", "a1", `{}`), 3*time.Hour),
		at(track("", "a1"), 2*time.Hour))
	e.resolve()
	ls, err := e.r.Identifiers(context.Background(), ws, e.profile("anonymous_id:a1"))
	if err != nil {
		t.Fatal(err)
	}
	want := []identity.Linked{
		{Identifier: mustID("user_id:kh1"), FirstSeen: t0.Add(3 * time.Hour), LastSeen: t0.Add(3 * time.Hour)},
		{Identifier: mustID("anonymous_id:a1"), FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(5 * time.Hour)},
	}
	if d := cmp.Diff(want, ls); d != "" {
		t.Errorf("identifiers (-want +got):\n%s", d)
	}
	e.restart()
	ls, _ = e.r.Identifiers(context.Background(), ws, e.profile("anonymous_id:a1"))
	if d := cmp.Diff(want, ls); d != "" {
		t.Errorf("identifiers after a restart (-want +got):\n%s", d)
	}
}

// wrongMerge builds a profile with a wrong merge: someone typed Lan's
// e-mail in a form on device a2.
func wrongMerge(t *testing.T, e *env) identity.Merge {
	t.Helper()
	e.send(page("a1"), identify("kh1", "a1", `{"email":"lan@x.vn"}`), page("a2"), track("", "a2"),
		identify("", "a2", `{"email":"lan@x.vn"}`), track("", "a2"))
	e.resolve()
	p := e.profile("user_id:kh1")
	if e.profile("anonymous_id:a2") != p {
		t.Fatal("no merge to split")
	}
	ms, err := e.r.Merges(context.Background(), ws, p)
	if err != nil || len(ms) != 1 {
		t.Fatalf("merges %+v, %v", ms, err)
	}
	m := ms[0]
	if m.Into != identity.NewProfileID(ws, mustID("anonymous_id:a1")) || m.From != identity.NewProfileID(ws, mustID("anonymous_id:a2")) ||
		m.By != mustID("anonymous_id:a2") || m.MessageID != "m5" || !m.At.Equal(t0.Add(5*time.Minute)) || m.Actor != "" {
		t.Errorf("merge %+v", m)
	}
	return m
}

func TestSplit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Options{})
	m := wrongMerge(t, e)
	rec := &recorder{}
	e.r.SetListener(rec)
	if err := e.r.Split(ctx, ws, m.ID, "chi"); err != nil {
		t.Fatal(err)
	}
	p1, p2 := identity.NewProfileID(ws, mustID("anonymous_id:a1")), identity.NewProfileID(ws, mustID("anonymous_id:a2"))
	check := func(when string) {
		t.Helper()
		want := map[string]identity.ProfileID{"anonymous_id:a1": p1, "user_id:kh1": p1, "email:lan@x.vn": p1, "anonymous_id:a2": p2}
		if d := cmp.Diff(want, e.dump().Profiles); d != "" {
			t.Errorf("%s: profiles (-want +got):\n%s", when, d)
		}
	}
	check("after the split")
	rec.check(t, []string{ws + " changed " + string(min(p1, p2)) + "," + string(max(p1, p2))})
	got, err := e.r.Merge(ctx, ws, m.ID)
	if err != nil || got.UndoneBy != "chi" || !got.UndoneAt.Equal(t0.Add(1000*time.Hour)) {
		t.Errorf("merge after the split: %+v, %v", got, err)
	}
	if err := e.r.Split(ctx, ws, m.ID, "chi"); !errors.Is(err, identity.ErrDecided) {
		t.Errorf("a second split: %v, want ErrDecided", err)
	}
	if err := e.r.Split(ctx, ws, 999, "chi"); !errors.Is(err, identity.ErrNoMerge) {
		t.Errorf("split of no merge: %v, want ErrNoMerge", err)
	}

	// The same link shown again does not merge them again, nor queue them.
	e.send(identify("", "a2", `{"email":"lan@x.vn"}`), track("kh1", "a1"))
	e.resolve()
	check("after the link came again")
	e.restart()
	check("after a restart")

	// Nor does reading the whole log again.
	if err := e.ops.SaveIdentity(ctx, &opstore.IdentityBatch{SetOffset: true}); err != nil {
		t.Fatal(err)
	}
	e.restart()
	e.resolve()
	check("after reading the log again")
	if r := e.openReasons(); len(r) != 0 {
		t.Errorf("open reviews %q", r)
	}
}

// A split recomputes the whole profile: the other merges hold, and each
// part keeps the id of the identifier that started it.
func TestSplitRecomputes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Options{})
	e.send(page("a1"), identify("kh1", "a1", `{"phone":"0912345678"}`), // p(a1): a1, kh1, phone
		page("a2"), track("kh1", "a2"), // a2's profile merged into p(a1)
		page("a3"), identify("", "a3", `{"phone":"0912 345 678"}`), // wrong: a3 merged by phone
		page("a4"), identify("", "a4", `{"email":"x@y.vn"}`), identify("", "a3", `{"email":"x@y.vn"}`), // a4 joins via a3
		identify("kh1", "a1", `{"loyalty_card":"MAY1"}`))
	e.resolve()
	all := e.profile("user_id:kh1")
	for _, s := range []string{"anonymous_id:a2", "anonymous_id:a3", "anonymous_id:a4", "email:x@y.vn", "loyalty_card:MAY1"} {
		if e.profile(s) != all {
			t.Fatalf("%s not merged", s)
		}
	}
	ms, _ := e.r.Merges(ctx, ws, all)
	var wrong int64
	for _, m := range ms {
		if m.From == identity.NewProfileID(ws, mustID("anonymous_id:a3")) {
			wrong = m.ID
		}
	}
	if len(ms) != 3 || wrong == 0 {
		t.Fatalf("merges %+v", ms)
	}
	if err := e.r.Split(ctx, ws, wrong, "chi"); err != nil {
		t.Fatal(err)
	}
	p1, p3 := identity.NewProfileID(ws, mustID("anonymous_id:a1")), identity.NewProfileID(ws, mustID("anonymous_id:a3"))
	want := map[string]identity.ProfileID{
		"anonymous_id:a1": p1, "user_id:kh1": p1, "phone:+84912345678": p1, "anonymous_id:a2": p1, "loyalty_card:MAY1": p1,
		"anonymous_id:a3": p3, "anonymous_id:a4": p3, "email:x@y.vn": p3,
	}
	st := e.dump()
	if d := cmp.Diff(want, st.Profiles); d != "" {
		t.Errorf("profiles after the split (-want +got):\n%s", d)
	}
	var undone int
	for _, m := range st.Merges {
		if strings.Contains(m, "undone") {
			undone++
		}
	}
	if len(st.Merges) != 3 || undone != 1 {
		t.Errorf("merge log %q: want the 3 merges, 1 undone", st.Merges)
	}
	e.restart()
	if d := cmp.Diff(st, e.dump()); d != "" {
		t.Errorf("after a restart (-before +after):\n%s", d)
	}
}

func TestApproveReject(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Options{})
	// A family tablet: kh1 first, then kh2 and kh3 log in on it.
	e.send(page("t1"), identify("kh1", "t1", `{}`), identify("kh2", "t1", `{"email":"b@x.vn"}`), identify("kh3", "t1", `{}`))
	e.resolve()
	rs, err := e.r.Reviews(ctx, ws, true, 10)
	if err != nil || len(rs) != 2 {
		t.Fatalf("reviews %+v, %v", rs, err)
	}
	p1, p2, p3 := e.profile("user_id:kh1"), e.profile("user_id:kh2"), e.profile("user_id:kh3")
	r3, r2 := rs[0], rs[1] // newest first
	// A is the profile of the message's userId, B the one it was linked to.
	if r2.A != p2 || r2.B != p1 || r2.By != mustID("anonymous_id:t1") || r2.Reason != identity.ReasonDifferentUserIDs || r2.MessageID != "m3" ||
		r3.A != p3 || r3.B != p1 {
		t.Errorf("reviews %+v", rs)
	}
	got, err := e.r.Review(ctx, ws, r2.ID)
	if err != nil || got != r2 {
		t.Errorf("Review = %+v, %v", got, err)
	}

	// kh2 is kh1's second account after all: approved, merged, logged.
	rec := &recorder{}
	e.r.SetListener(rec)
	if err := e.r.Approve(ctx, ws, r2.ID, "chi"); err != nil {
		t.Fatal(err)
	}
	if e.profile("user_id:kh2") != p1 || e.profile("email:b@x.vn") != p1 {
		t.Error("approve did not merge")
	}
	rec.check(t, []string{fmt.Sprintf("%s changed %s merged %s->%s", ws, p1, p2, p1)})
	ms, _ := e.r.Merges(ctx, ws, p1)
	if len(ms) != 1 || ms[0].Actor != "chi" || ms[0].Into != p1 || ms[0].From != p2 || ms[0].By != mustID("anonymous_id:t1") {
		t.Errorf("merges %+v", ms)
	}
	// kh3 is someone else: rejected, and never queued again.
	if err := e.r.Reject(ctx, ws, r3.ID, "chi"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{e.r.Approve(ctx, ws, r2.ID, "chi"), e.r.Reject(ctx, ws, r3.ID, "chi")} {
		if !errors.Is(err, identity.ErrDecided) {
			t.Errorf("deciding again: %v, want ErrDecided", err)
		}
	}
	if err := e.r.Approve(ctx, ws, 999, "chi"); !errors.Is(err, identity.ErrNoReview) {
		t.Errorf("approve of no review: %v", err)
	}
	e.send(identify("kh3", "t1", `{}`), track("kh3", "t1"), identify("kh2", "t1", `{}`))
	e.resolve()
	if r := e.openReasons(); len(r) != 0 {
		t.Errorf("open reviews %q after the decisions", r)
	}
	if e.profile("user_id:kh3") != p3 {
		t.Error("kh3 moved")
	}
	all, _ := e.r.Reviews(ctx, ws, false, 10)
	if len(all) != 2 || all[0].Decision != identity.Rejected || all[1].Decision != identity.Approved || all[1].DecidedBy != "chi" ||
		!all[1].DecidedAt.Equal(t0.Add(1000*time.Hour)) {
		t.Errorf("decided reviews %+v", all)
	}
	// Reading the log again keeps the approved merge (its evidence is
	// kept) and the rejected pair apart.
	st := e.dump()
	if err := e.ops.SaveIdentity(ctx, &opstore.IdentityBatch{SetOffset: true}); err != nil {
		t.Fatal(err)
	}
	e.restart()
	e.resolve()
	if d := cmp.Diff(st, e.dump()); d != "" {
		t.Errorf("after reading the log again (-before +after):\n%s", d)
	}
	// Splitting the approved merge recomputes without it.
	if err := e.r.Split(ctx, ws, ms[0].ID, "chi"); err != nil {
		t.Fatal(err)
	}
	if e.profile("user_id:kh2") != p2 || e.profile("email:b@x.vn") != p2 || e.profile("anonymous_id:t1") != p1 {
		t.Errorf("after splitting the approved merge: kh2 in %s, t1 in %s", e.profile("user_id:kh2"), e.profile("anonymous_id:t1"))
	}
}

func TestErase(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Options{})
	m := wrongMerge(t, e)
	e.send(identify("kh2", "a1", `{}`), identify("kh9", "z9", `{"email":"other@x.vn"}`)) // a review of kh1's profile
	e.resolve()
	p := e.profile("user_id:kh1")
	rec := &recorder{}
	e.r.SetListener(rec)
	// By the id the merged-away profile had: the person's profile goes.
	got, err := e.r.Erase(ctx, ws, m.From)
	if err != nil {
		t.Fatal(err)
	}
	want := []identity.Identifier{mustID("user_id:kh1"), mustID("email:lan@x.vn"), mustID("anonymous_id:a1"), mustID("anonymous_id:a2")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("erased (-want +got):\n%s", d)
	}
	rec.check(t, []string{ws + " changed " + string(p)})
	check := func(when string) {
		t.Helper()
		for _, id := range want {
			if p, err := e.r.Resolve(ctx, ws, id); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("%s: %s resolves to %s, %v", when, id, p, err)
			}
			if ms, _ := e.r.SearchIdentifiers(ctx, ws, id.Value, 10); len(ms) != 0 {
				t.Errorf("%s: search %s finds %+v", when, id.Value, ms)
			}
		}
		if ms, _ := e.r.Merges(ctx, ws, p); len(ms) != 0 {
			t.Errorf("%s: merges %+v", when, ms)
		}
		if _, err := e.r.Merge(ctx, ws, m.ID); !errors.Is(err, identity.ErrNoMerge) {
			t.Errorf("%s: the merge is still there: %v", when, err)
		}
		if rs, _ := e.r.Reviews(ctx, ws, false, 10); len(rs) != 0 {
			t.Errorf("%s: reviews %+v", when, rs)
		}
		if es, _ := e.ops.IdentityEdges(ctx, ws, []opstore.IdentityKey{{Kind: "anonymous_id", Value: "a1"}, {Kind: "user_id", Value: "kh2"}}); len(es) != 0 {
			t.Errorf("%s: evidence %+v", when, es)
		}
		if _, err := e.r.Identifiers(ctx, ws, p); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%s: Identifiers of the erased profile: %v", when, err)
		}
		// Others stay.
		if e.profile("user_id:kh2") == "" || e.profile("email:other@x.vn") != e.profile("user_id:kh9") {
			t.Errorf("%s: other profiles changed", when)
		}
	}
	check("after Erase")
	e.restart()
	check("after a restart")
	if _, err := e.r.Erase(ctx, ws, p); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("erasing again: %v, want ErrNotFound", err)
	}
	// The person comes back with new messages only, as someone new.
	e.send(identify("kh1", "a1", `{}`))
	e.resolve()
	if got := e.profile("user_id:kh1"); got != identity.NewProfileID(ws, mustID("user_id:kh1")) {
		t.Errorf("kh1 comes back as %s", got)
	}
}

// A restart loads the graph from the store and goes on; the result is the
// same as one run through.
func TestRestart(t *testing.T) {
	msgs := demoLike(400)
	one := newEnv(t, identity.Options{Batch: 1000})
	one.send(msgs...)
	one.resolve()
	want := one.dump()

	e := newEnv(t, identity.Options{Batch: 37})
	e.send(slices.Clone(msgs[:250])...)
	for range 3 {
		if _, err := e.r.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	e.restart()
	e.resolve()
	e.send(slices.Clone(msgs[250:])...)
	e.restart()
	e.resolve()
	if d := cmp.Diff(want, e.dump()); d != "" {
		t.Errorf("restarted twice in the middle (-one run +restarted):\n%s", d)
	}
	if len(want.Merges) == 0 || len(want.Reviews) == 0 {
		t.Errorf("the test data made %d merges and %d reviews: want some of each", len(want.Merges), len(want.Reviews))
	}
}

// Processing the same messages twice (a crash after a batch was stored but
// before the offset was known to have moved, or a replay of the log) leaves
// the same state; a batch that fails to store is retried as it was.
func TestCrashIdempotency(t *testing.T) {
	ctx := context.Background()
	msgs := demoLike(300)
	e := newEnv(t, identity.Options{Batch: 50})
	e.send(msgs...)
	e.resolve()
	want := e.dump()

	// Every batch applied again, over the graph it made.
	if err := e.ops.SaveIdentity(ctx, &opstore.IdentityBatch{SetOffset: true}); err != nil {
		t.Fatal(err)
	}
	e.restart()
	e.resolve()
	if d := cmp.Diff(want, e.dump()); d != "" {
		t.Errorf("after processing every batch twice (-once +twice):\n%s", d)
	}

	// The store fails now and then: the resolver keeps the batch and
	// stores it when the store is back.
	e2 := newEnv(t, identity.Options{Batch: 50})
	f := &failing{IdentityStore: e2.sql}
	e2.ops = f
	e2.restart()
	e2.send(msgs...)
	fails := 0
	for e2.r.Offset() < e2.seq {
		f.failNext(fails%3 == 0)
		if _, err := e2.r.Step(ctx); err != nil {
			fails++
		}
	}
	if fails == 0 {
		t.Fatal("the store never failed")
	}
	if d := cmp.Diff(want, e2.dump()); d != "" {
		t.Errorf("with a failing store (-reference +got):\n%s", d)
	}
	// A crash with a batch applied in memory but not stored: a new process
	// starts from the stored offset.
	e3 := newEnv(t, identity.Options{Batch: 50})
	f3 := &failing{IdentityStore: e3.sql}
	e3.ops = f3
	e3.restart()
	e3.send(msgs...)
	for range 3 {
		if _, err := e3.r.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f3.failNext(true)
	if _, err := e3.r.Step(ctx); err == nil {
		t.Fatal("the store did not fail")
	}
	e3.ops = e3.sql // the crash: the failed batch is lost with the process
	e3.restart()
	e3.resolve()
	if d := cmp.Diff(want, e3.dump()); d != "" {
		t.Errorf("after a crash with a batch not stored (-reference +got):\n%s", d)
	}
}

// failing is the real store with SaveIdentity failing on demand.
type failing struct {
	identity.IdentityStore
	mu   sync.Mutex
	fail bool
}

func (f *failing) failNext(b bool) { f.mu.Lock(); f.fail = b; f.mu.Unlock() }

func (f *failing) SaveIdentity(ctx context.Context, b *opstore.IdentityBatch) error {
	f.mu.Lock()
	fail := f.fail
	f.fail = false
	f.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return f.IdentityStore.SaveIdentity(ctx, b)
}

// demoLike makes n messages of shoppers: visits, logins on one or two
// devices, phones in several forms, a shared tablet, a recycled phone.
func demoLike(n int) []event.Message {
	var out []event.Message
	phones := []string{"0912 345 6%02d", "+84 912 345 6%02d", "84912345 6%02d", "0912.345.6%02d"}
	for i := 0; len(out) < n; i++ {
		c := i % 40
		anon := fmt.Sprintf("a%d-%d", c, i%3)
		user := fmt.Sprintf("kh%03d", c)
		switch i % 7 {
		case 0, 1, 4:
			out = append(out, page(anon))
		case 2:
			out = append(out, identify(user, anon, fmt.Sprintf(`{"email":"KH%03d@x.vn","phone":%q}`, c, fmt.Sprintf(phones[i%4], c%30))))
		case 3:
			out = append(out, track(user, anon))
		case 5:
			out = append(out, identify(user, "tablet", `{}`))
		case 6:
			out = append(out, identify("", fmt.Sprintf("shopee:%d", c), fmt.Sprintf(`{"phone":"09123456%02d","buyer_id":"%d","marketplace":"shopee"}`, c%30, c)))
		}
	}
	return out[:n]
}

// recorder is a Listener that writes down what it is told.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) ProfilesChanged(_ context.Context, workspace string, changed []identity.ProfileID, merged map[identity.ProfileID]identity.ProfileID) {
	s := workspace + " changed " + strings.Join(func() []string {
		var out []string
		for _, p := range changed {
			out = append(out, string(p))
		}
		return out
	}(), ",")
	var ms []string
	for from, into := range merged {
		ms = append(ms, string(from)+"->"+string(into))
	}
	sort.Strings(ms)
	if len(ms) > 0 {
		s += " merged " + strings.Join(ms, ",")
	}
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) check(t *testing.T, want []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := cmp.Diff(want, r.calls); d != "" {
		t.Errorf("listener calls (-want +got):\n%s", d)
	}
	r.calls = nil
}

func TestListener(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, identity.Options{Listener: rec})
	e.send(page("a1"), page("a2"))
	e.resolve()
	p1, p2 := identity.NewProfileID(ws, mustID("anonymous_id:a1")), identity.NewProfileID(ws, mustID("anonymous_id:a2"))
	rec.check(t, []string{fmt.Sprintf("%s changed %s,%s", ws, min(p1, p2), max(p1, p2))})
	e.send(page("a1"), track("", "a1")) // nothing new: no call
	e.resolve()
	rec.check(t, nil)
	e.send(identify("kh1", "a1", `{}`), track("kh1", "a2"))
	e.resolve()
	rec.check(t, []string{fmt.Sprintf("%s changed %s merged %s->%s", ws, p1, p2, p1)})
}

func TestRunAndCaught(t *testing.T) {
	e := newEnv(t, identity.Options{Poll: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.r.Run(ctx) }()
	e.send(page("a1"), identify("kh1", "a1", `{}`))
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := e.r.Caught(wctx, e.seq); err != nil {
		t.Fatal(err)
	}
	if e.profile("user_id:kh1") != e.profile("anonymous_id:a1") {
		t.Error("not resolved")
	}
	short, scancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer scancel()
	if err := e.r.Caught(short, e.seq+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Caught of a message not sent: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
}

func TestSearchAndEach(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Options{})
	e.send(identify("kh001", "a1", `{"email":"Lan.Nguyen@x.vn","phone":"0912 345 678"}`),
		identify("kh002", "a2", `{"email":"lam@x.vn","phone":"0987 654 320"}`), page("a3"))
	e.resolve()
	p1, p2 := e.profile("user_id:kh001"), e.profile("user_id:kh002")
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"La", []string{"email:lam@x.vn", "email:lan.nguyen@x.vn"}},
		{"lan.", []string{"email:lan.nguyen@x.vn"}},
		{"0912 34", []string{"phone:+84912345678"}},
		{"+8498", []string{"phone:+84987654320"}},
		{"kh00", []string{"user_id:kh001", "user_id:kh002"}},
		{"email:l", []string{"email:lam@x.vn", "email:lan.nguyen@x.vn"}},
		{"user:a", []string{}},
		{"a", []string{"anonymous_id:a1", "anonymous_id:a2", "anonymous_id:a3"}},
		{"nobody", []string{}},
		{" ", []string{}},
	} {
		ms, err := e.r.SearchIdentifiers(ctx, ws, tc.q, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, m := range ms {
			got = append(got, m.String())
			if want := e.profile(m.String()); m.Profile != want {
				t.Errorf("search %q: %s in %s, want %s", tc.q, m, m.Profile, want)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("search %q = %q, want %q", tc.q, got, tc.want)
		}
	}
	if ms, _ := e.r.SearchIdentifiers(ctx, ws, "a", 2); len(ms) != 2 {
		t.Errorf("search with limit 2: %d", len(ms))
	}
	n := map[identity.ProfileID]int{}
	if err := e.r.EachIdentifier(ctx, ws, func(_ identity.Identifier, p identity.ProfileID) error { n[p]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(n) != 3 || n[p1] != 4 || n[p2] != 4 {
		t.Errorf("EachIdentifier: %v", n)
	}
	if err := e.r.EachIdentifier(ctx, "ws_none", func(identity.Identifier, identity.ProfileID) error {
		return errors.New("called")
	}); err != nil {
		t.Errorf("EachIdentifier of an empty workspace: %v", err)
	}
	if cur, err := e.r.Current(ctx, ws, identity.NewProfileID(ws, mustID("user_id:kh001"))); err != nil || cur != p1 {
		t.Errorf("Current of an id never a profile's: %s, %v", cur, err)
	}
}

// A message whose first identifier is shared still links the others, and
// a recomputation links them again.
func TestSplitAfterASharedIdentifier(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Options{})
	for i := 1; i <= 4; i++ { // info@ becomes shared
		e.send(identify(fmt.Sprintf("kh%d", i), fmt.Sprintf("a%d", i), `{"email":"info@shop.vn"}`))
	}
	e.send(page("a10"), identify("kh10", "a10", `{}`),
		// The shared e-mail comes first, then Lan's new phone and her device.
		identify("", "a10", `{"email":"info@shop.vn","phone":"0912 000 111"}`),
		// Someone else's device gives Lan's phone: a wrong merge.
		page("a12"), identify("", "a12", `{"phone":"0912000111"}`))
	e.resolve()
	lan := e.profile("user_id:kh10")
	if e.profile("phone:0912000111") != lan || e.profile("anonymous_id:a12") != lan || e.profile("email:info@shop.vn") == lan {
		t.Fatal("not the graph to split")
	}
	ms, _ := e.r.Merges(ctx, ws, lan)
	if len(ms) != 1 {
		t.Fatalf("merges %+v", ms)
	}
	if err := e.r.Split(ctx, ws, ms[0].ID, "chi"); err != nil {
		t.Fatal(err)
	}
	if e.profile("phone:0912000111") != lan || e.profile("anonymous_id:a10") != lan {
		t.Error("the split lost the link the message with the shared e-mail made")
	}
	if e.profile("anonymous_id:a12") != identity.NewProfileID(ws, mustID("anonymous_id:a12")) {
		t.Error("a12 was not split off")
	}
}
