package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/opstore"
)

func actor(kind, id string) opstore.Actor { return opstore.Actor{Kind: kind, ID: id} }

// A batch is taken in once; the offset moves with it; a batch that does
// not start at the offset is refused.
func TestProfileBatchIdempotent(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute).Truncate(time.Millisecond) }
	b := opstore.ProfileBatch{From: 0, To: 3, Actors: []opstore.ActorActivity{{
		WorkspaceID: "ws", Actor: actor(opstore.ActorUser, "kh1"), ProfileID: "p_1",
		FirstSeen: at(1), LastSeen: at(3), Events: 3, Orders: 1, Revenue: 500000, Channels: 1, LastOrderAt: at(3),
		Refs:   []opstore.EventRef{{At: at(1), Seq: 1}, {At: at(2), Seq: 2}, {At: at(3), Seq: 3}},
		Traits: []opstore.TraitChange{{Trait: "name", Value: "Lan", At: at(1), Seq: 1, SourceID: "src"}},
		Stages: []opstore.ActorStage{{MapID: "map_1", Stage: "buy", Touchpoint: "web", At: at(3), Seq: 3}},
	}}}
	for range 2 {
		if err := s.ApplyProfileBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if off, _ := s.ProfileOffset(ctx); off != 3 {
		t.Fatalf("offset %d", off)
	}
	wantErr(t, s.ApplyProfileBatch(ctx, opstore.ProfileBatch{From: 1, To: 5}), opstore.ErrStale, "")

	// The profile is queued; its facts are the actor's.
	marks, err := s.ProfileMarks(ctx, 10)
	if err != nil || len(marks) != 1 || marks[0].ProfileID != "p_1" || marks[0].Relink || !marks[0].Dirty {
		t.Fatalf("marks %+v, %v", marks, err)
	}
	facts, err := s.ProfileFacts(ctx, marks)
	if err != nil {
		t.Fatal(err)
	}
	want := opstore.ProfileFacts{WorkspaceID: "ws", ProfileID: "p_1",
		Actors: []opstore.ActorFacts{{Actor: actor(opstore.ActorUser, "kh1"), FirstSeen: at(1), LastSeen: at(3), Events: 3, Orders: 1,
			Revenue: 500000, Channels: 1, LastOrderAt: at(3)}},
		Traits: []opstore.TraitChange{{Trait: "name", Value: "Lan", At: at(1), Seq: 1, SourceID: "src"}},
		Stages: []opstore.ActorStage{{MapID: "map_1", Stage: "buy", Touchpoint: "web", At: at(3), Seq: 3}},
	}
	if d := cmp.Diff([]opstore.ProfileFacts{want}, facts); d != "" {
		t.Errorf("facts (-want +got):\n%s", d)
	}

	// A second batch adds to the actor; a repeated trait value is no change.
	b2 := opstore.ProfileBatch{From: 3, To: 4, Actors: []opstore.ActorActivity{{
		WorkspaceID: "ws", Actor: actor(opstore.ActorUser, "kh1"), ProfileID: "p_other",
		FirstSeen: at(0), LastSeen: at(0), Events: 1, Refs: []opstore.EventRef{{At: at(0), Seq: 4}},
		Traits: []opstore.TraitChange{{Trait: "name", Value: "Lan", At: at(4), Seq: 4}, {Trait: "name", Value: "Lan Nguyễn", At: at(5), Seq: 4}},
		Stages: []opstore.ActorStage{{MapID: "map_1", Stage: "discover", At: at(0), Seq: 4}},
	}}}
	if err := s.ApplyProfileBatch(ctx, b2); err != nil {
		t.Fatal(err)
	}
	marks, _ = s.ProfileMarks(ctx, 10)
	facts, err = s.ProfileFacts(ctx, marks)
	if err != nil {
		t.Fatal(err)
	}
	f := facts[0]
	if a := f.Actors[0]; a.Events != 4 || !a.FirstSeen.Equal(at(0)) || !a.LastSeen.Equal(at(3)) || f.ProfileID != "p_1" {
		t.Errorf("after the second batch: %+v (profile %s)", a, f.ProfileID)
	}
	if f.Stages[0].Stage != "buy" {
		t.Errorf("an older event moved the stage: %+v", f.Stages)
	}
	traits, _ := s.ProfileTraits(ctx, "ws", "p_1")
	if len(traits) != 2 || traits[0].Value != "Lan Nguyễn" || traits[1].Value != "Lan" {
		t.Errorf("trait history %+v", traits)
	}

	// Saving the row lists and finds the profile; the marks are cleared.
	row := opstore.ProfileRow{WorkspaceID: "ws", ID: "p_1", Name: "Lan Nguyễn", NameKey: "lan nguyen", FirstSeen: at(0), LastSeen: at(3),
		Events: 4, Orders: 1, Revenue: 500000, Channels: 1, LastOrderAt: at(3), Terms: "lan nguyen", TermsHash: 7, Stages: f.Stages}
	if err := s.SaveProfiles(ctx, []opstore.ProfileRow{row}, nil, marks); err != nil {
		t.Fatal(err)
	}
	if marks, _ := s.ProfileMarks(ctx, 10); len(marks) != 0 {
		t.Errorf("marks left: %+v", marks)
	}
	got, err := s.Profile(ctx, "ws", "p_1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(row, got); d != "" {
		t.Errorf("profile (-want +got):\n%s", d)
	}
	rows, n, err := s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", Words: []string{"nguy"}, Count: true})
	if err != nil || n.N != 1 || len(rows) != 1 {
		t.Errorf("search: %d rows, count %+v, %v", len(rows), n, err)
	}
	evs, err := s.ProfileEvents(ctx, "ws", "p_1", opstore.EventRef{}, 2)
	if err != nil || len(evs) != 2 || evs[0].Seq != 3 || evs[1].Seq != 2 {
		t.Errorf("events %+v, %v", evs, err)
	}
	evs, _ = s.ProfileEvents(ctx, "ws", "p_1", evs[1].EventRef, 10)
	if len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 4 {
		t.Errorf("older events %+v", evs)
	}
}

// LinkProfiles moves actors between profiles and queues the one left.
func TestLinkProfile(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a1, a2 := actor(opstore.ActorAnonymous, "a1"), actor(opstore.ActorUser, "kh1")
	b := opstore.ProfileBatch{From: 0, To: 2, Actors: []opstore.ActorActivity{
		{WorkspaceID: "ws", Actor: a1, ProfileID: "p_a", FirstSeen: t0, LastSeen: t0, Events: 1},
		{WorkspaceID: "ws", Actor: a2, ProfileID: "p_b", FirstSeen: t0, LastSeen: t0, Events: 1},
	}}
	if err := s.ApplyProfileBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	marks, _ := s.ProfileMarks(ctx, 10)
	if err := s.SaveProfiles(ctx, nil, nil, marks); err != nil {
		t.Fatal(err)
	}
	// The graph merged p_a into p_b.
	if _, err := s.AddProfileNote(ctx, opstore.ProfileNote{WorkspaceID: "ws", ProfileID: "p_a", AuthorID: "usr_1", AuthorName: "Mai", Body: "Khách quen"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkProfiles(ctx, "ws", []string{"p_b"}, map[string]string{"p_a": "p_b"}); err != nil {
		t.Fatal(err)
	}
	marks, _ = s.ProfileMarks(ctx, 10)
	relink := map[string]bool{}
	for _, m := range marks {
		relink[m.ProfileID] = m.Relink
	}
	if !relink["p_a"] || !relink["p_b"] {
		t.Fatalf("marks %+v", marks)
	}
	var links []opstore.ProfileLink
	for _, m := range marks {
		var actors []opstore.Actor
		if m.ProfileID == "p_b" {
			actors = []opstore.Actor{a2, a1, actor(opstore.ActorAnonymous, "a-new")}
		}
		links = append(links, opstore.ProfileLink{Mark: m, Actors: actors})
	}
	changed, err := s.LinkProfiles(ctx, links)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 {
		t.Errorf("changed marks %v, want both", changed)
	}
	facts, err := s.ProfileFacts(ctx, marks)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		n := len(f.Actors)
		if f.ProfileID == "p_a" && n != 0 || f.ProfileID == "p_b" && n != 3 {
			t.Errorf("%s has %d actors: %+v", f.ProfileID, n, f.Actors)
		}
	}
	notes, _ := s.ProfileNotes(ctx, "ws", "p_b")
	if len(notes) != 1 {
		t.Errorf("the note did not follow the merge: %+v", notes)
	}
}

// Sorting, filters and keyset paging over saved rows.
func TestProfilesListing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var rows []opstore.ProfileRow
	for i := range 25 {
		rows = append(rows, opstore.ProfileRow{WorkspaceID: "ws", ID: fmt.Sprintf("p_%02d", i), Name: fmt.Sprintf("Khách %02d", i),
			NameKey: fmt.Sprintf("khach %02d", i), FirstSeen: t0, LastSeen: t0.Add(time.Duration(i%5) * time.Hour),
			Events: 1, Orders: int64(i % 3), Revenue: int64(i * 1000), Channels: 1 << (i % 2), TermsHash: int64(i), Terms: fmt.Sprintf("khach %02d", i),
			Stages: []opstore.ActorStage{{MapID: "m", Stage: []string{"a", "b"}[i%2], At: t0}}})
	}
	if err := s.SaveProfiles(ctx, rows, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, sort := range []opstore.ProfileSort{opstore.SortLastSeen, opstore.SortRevenue, opstore.SortOrders, opstore.SortName} {
		q := opstore.ProfileQuery{WorkspaceID: "ws", Sort: sort, Limit: 7, MinOrders: 1}
		var got []string
		for {
			page, _, err := s.Profiles(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				got = append(got, p.ID)
			}
			if len(page) < q.Limit {
				break
			}
			c := page[len(page)-1].Cursor(sort)
			q.After = &c
		}
		var all []string
		if err := s.EachProfile(ctx, opstore.ProfileQuery{WorkspaceID: "ws", Sort: sort, MinOrders: 1}, func(p opstore.ProfileRow) error {
			all = append(all, p.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 16 || cmp.Diff(all, got) != "" {
			t.Errorf("sort %s: paged %v, all %v", sort, got, all)
		}
	}
	for _, few := range []int{2000, 1} {
		fewCandidates = few
		_, n, err := s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", Channels: 2, StageMap: "m", Stage: "b", MinRevenue: 10000,
			SeenSince: t0.Add(2 * time.Hour), Count: true})
		// Odd i from 11 to 23 with i%5 >= 2: 13, 17, 19, 23.
		if err != nil || n != (opstore.ProfileCount{N: 4}) {
			t.Errorf("filtered count %+v, %v (few = %d)", n, err, few)
		}
	}
	fewCandidates = 2000
	_, n, _ := s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", Limit: 5, Count: true, CountLimit: 10})
	if n != (opstore.ProfileCount{N: 10, AtLeast: true}) {
		t.Errorf("capped count %+v", n)
	}
	// A search that finds few profiles reads them and sorts them; one that
	// finds many walks the sort order.
	for _, few := range []int{2000, 1} {
		fewCandidates = few
		rows, n, _ := s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", IDs: []string{"p_03", "p_04"}, Words: []string{"khach", "05"},
			MinRevenue: 4000, Sort: opstore.SortRevenue, Count: true})
		if n.N != 2 || len(rows) != 2 || rows[0].ID != "p_05" || rows[1].ID != "p_04" {
			t.Errorf("ids or match, few = %d: %+v, %+v", few, n, rows)
		}
		c := rows[0].Cursor(opstore.SortRevenue)
		rows, _, _ = s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", IDs: []string{"p_03", "p_04"}, Words: []string{"khach", "05"},
			MinRevenue: 4000, Sort: opstore.SortRevenue, After: &c})
		if len(rows) != 1 || rows[0].ID != "p_04" {
			t.Errorf("next page, few = %d: %+v", few, rows)
		}
	}
	fewCandidates = 2000
	// A count that takes too long says at least the page.
	countTime = 0
	rows, n, err := s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", Channels: 2, Limit: 3, Count: true})
	countTime = 60 * time.Millisecond
	if err != nil || len(rows) != 3 || n != (opstore.ProfileCount{N: 3, AtLeast: true}) {
		t.Errorf("count past its time: %d rows, %+v, %v", len(rows), n, err)
	}
	if err := s.ForgetProfile(ctx, "ws", "p_05", nil); err != nil {
		t.Fatal(err)
	}
	_, n, _ = s.Profiles(ctx, opstore.ProfileQuery{WorkspaceID: "ws", Words: []string{"khach", "05"}, Count: true})
	if n.N != 0 {
		t.Errorf("a forgotten profile is still found")
	}
}
