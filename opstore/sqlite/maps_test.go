package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/cjmhq/cjm/opstore"
)

var mapIDPattern = regexp.MustCompile(`^(map|cmt|shr)_[a-z2-7]{16}$`)

var byLan = opstore.MapChange{AuthorID: "usr_lan", AuthorName: "Nguyễn Thị Lan"}

func mustMap(t *testing.T, s *Store, workspaceID, name string) opstore.MapRecord {
	t.Helper()
	r, err := s.CreateMap(context.Background(), workspaceID, name, "current", []byte(`{"name":"`+name+`"}`), byLan)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// activity is what a test checks of an activity entry.
type activity struct{ User, Action, Detail string }

func activities(t *testing.T, s *Store, workspaceID, mapID string) []activity {
	t.Helper()
	as, err := s.MapActivities(context.Background(), workspaceID, mapID, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := []activity{}
	for _, a := range as {
		out = append(out, activity{a.UserName, a.Action, a.Detail})
	}
	return out
}

func TestMapCreateAndSave(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")

	doc1 := []byte(`{"name":"Mua hàng online","stages":[]}`)
	r, err := s.CreateMap(ctx, w.ID, "  Mua hàng online ", "current", doc1, byLan)
	wantErr(t, err, nil, "")
	if !mapIDPattern.MatchString(r.ID) || r.ID[:4] != "map_" {
		t.Errorf("map ID %q", r.ID)
	}
	want := opstore.MapRecord{
		ID: r.ID, WorkspaceID: w.ID, Name: "Mua hàng online", State: "current", Version: 1, Doc: doc1,
		CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "usr_lan", UpdatedByName: "Nguyễn Thị Lan",
	}
	diff(t, "created map", r, want)
	got, err := s.Map(ctx, w.ID, r.ID)
	wantErr(t, err, nil, "")
	diff(t, "Map", got, want)
	for _, name := range []string{"Mua hàng online", "MUA HÀNG ONLINE", " mua hàng online", norm.NFD.String("MUA HÀNG ONLINE")} {
		got, err := s.MapByName(ctx, w.ID, name)
		wantErr(t, err, nil, "")
		diff(t, "MapByName "+name, got, want)
	}

	// Saving on the version read appends the next one.
	clock.add(time.Minute)
	doc2 := []byte(`{"name":"Mua hàng online","stages":[{"key":"aware"}]}`)
	minh := opstore.MapChange{AuthorID: "usr_minh", AuthorName: "minh@example.vn"}
	r2, err := s.SaveMap(ctx, w.ID, r.ID, 1, "Mua hàng online", "current", doc2, minh)
	wantErr(t, err, nil, "")
	want.Version, want.Doc, want.UpdatedAt, want.UpdatedBy, want.UpdatedByName = 2, doc2, t0.Add(time.Minute), "usr_minh", "minh@example.vn"
	diff(t, "saved map", r2, want)
	got, _ = s.Map(ctx, w.ID, r.ID)
	diff(t, "Map after save", got, want)

	// A second save from version 1 is stale, and changes nothing.
	_, err = s.SaveMap(ctx, w.ID, r.ID, 1, "Mua hàng online", "future", []byte(`{}`), byLan)
	wantErr(t, err, opstore.ErrStale, "is at version 2, not 1")
	if errors.Is(err, opstore.ErrConflict) || errors.Is(err, opstore.ErrNotFound) {
		t.Errorf("stale error %v also wraps another sentinel", err)
	}
	_, err = s.SaveMap(ctx, w.ID, r.ID, 7, "Mua hàng online", "current", doc2, byLan)
	wantErr(t, err, opstore.ErrStale, "")
	got, _ = s.Map(ctx, w.ID, r.ID)
	diff(t, "Map after stale saves", got, want)

	// Saving what the latest version holds is a no-op, from any base.
	clock.add(time.Minute)
	for _, base := range []int{0, 2} {
		same, err := s.SaveMap(ctx, w.ID, r.ID, base, " Mua hàng online ", "current", []byte(string(doc2)), byLan)
		wantErr(t, err, nil, "")
		diff(t, fmt.Sprintf("identical save from %d", base), same, want)
	}

	// Base 0 saves over whatever is current; a note and action are recorded.
	doc3 := []byte(`{"v":3}`)
	r3, err := s.SaveMap(ctx, w.ID, r.ID, 0, "Mua hàng online", "future", doc3,
		opstore.MapChange{Note: "imported from map.yaml", Action: "imported"})
	wantErr(t, err, nil, "")
	if r3.Version != 3 || r3.State != "future" || r3.UpdatedBy != "" || r3.UpdatedByName != "" || !r3.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("import save = %+v", r3)
	}

	// Renaming: to a free name, also in case only; never to a taken one.
	mustMap(t, s, w.ID, "Hành trình")
	clock.add(time.Minute)
	r4, err := s.SaveMap(ctx, w.ID, r.ID, 3, "Đặt bàn", "future", doc3, byLan)
	wantErr(t, err, nil, "")
	if r4.Version != 4 || r4.Name != "Đặt bàn" {
		t.Errorf("renamed map = %+v", r4)
	}
	for _, taken := range []string{"Hành trình", "HÀNH TRÌNH", "hành TRÌNH", norm.NFD.String("HÀNH TRÌNH")} {
		_, err = s.SaveMap(ctx, w.ID, r.ID, 4, taken, "future", doc3, byLan)
		wantErr(t, err, opstore.ErrConflict, "already exists in this workspace")
		_, err = s.CreateMap(ctx, w.ID, taken, "current", doc1, byLan)
		wantErr(t, err, opstore.ErrConflict, "already exists in this workspace")
	}
	r5, err := s.SaveMap(ctx, w.ID, r.ID, 4, "ĐẶT BÀN", "future", doc3, byLan)
	wantErr(t, err, nil, "")
	if r5.Version != 5 || r5.Name != "ĐẶT BÀN" {
		t.Errorf("case-only rename = %+v", r5)
	}
	// The same name is free in another workspace.
	other := mustWorkspace(t, s, "Other")
	mustMap(t, s, other.ID, "Hành trình")

	diff(t, "activity", activities(t, s, w.ID, r.ID), []activity{
		{"Nguyễn Thị Lan", "renamed", "Đặt bàn → ĐẶT BÀN"},
		{"Nguyễn Thị Lan", "saved", "version 5"},
		{"Nguyễn Thị Lan", "renamed", "Mua hàng online → Đặt bàn"},
		{"Nguyễn Thị Lan", "saved", "version 4"},
		{"", "imported", "version 3: imported from map.yaml"},
		{"minh@example.vn", "saved", "version 2"},
		{"Nguyễn Thị Lan", "created", "version 1"},
	})

	// Maps lists by name without case, with documents.
	list, err := s.Maps(ctx, w.ID)
	wantErr(t, err, nil, "")
	var names []string
	for _, m := range list {
		names = append(names, m.Name)
		if len(m.Doc) == 0 {
			t.Errorf("Maps: %s without a document", m.Name)
		}
	}
	diff(t, "Maps", names, []string{"Hành trình", "ĐẶT BÀN"})
	diff(t, "Maps[1]", list[1], r5)

	_, err = s.SaveMap(ctx, w.ID, "map_missing", 0, "x", "current", doc1, byLan)
	wantErr(t, err, opstore.ErrNotFound, `map "map_missing"`)
	_, err = s.Map(ctx, w.ID, "map_missing")
	wantErr(t, err, opstore.ErrNotFound, `map "map_missing"`)
	_, err = s.MapByName(ctx, w.ID, "Nothing")
	wantErr(t, err, opstore.ErrNotFound, `map "Nothing"`)
	_, err = s.CreateMap(ctx, "ws_missing", "x", "current", doc1, byLan)
	wantErr(t, err, opstore.ErrNotFound, `workspace "ws_missing"`)
}

func TestMapValidation(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	m := mustMap(t, s, w.ID, "Map")
	for _, tt := range []struct {
		name, state string
		doc         []byte
		msg         string
	}{
		{" ", "current", []byte("{}"), "map name is empty"},
		{"x", "", []byte("{}"), `map state "" is neither current nor future`},
		{"x", "Current", []byte("{}"), `map state "Current"`},
		{"x", "current", nil, "map document is empty"},
	} {
		_, err := s.CreateMap(ctx, w.ID, tt.name, tt.state, tt.doc, byLan)
		wantInvalid(t, err, tt.msg)
		_, err = s.SaveMap(ctx, w.ID, m.ID, 0, tt.name, tt.state, tt.doc, byLan)
		wantInvalid(t, err, tt.msg)
	}
	_, err := s.SaveMap(ctx, w.ID, m.ID, -1, "x", "current", []byte("{}"), byLan)
	wantInvalid(t, err, "negative")
	if list, _ := s.Maps(ctx, w.ID); len(list) != 1 || list[0].Version != 1 {
		t.Errorf("Maps after invalid writes = %+v", list)
	}
}

// Editors saving the same version at once: exactly one wins, the others are
// told the map is stale.
func TestMapConcurrentSave(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	m := mustMap(t, s, w.ID, "Map")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var saved, stale int
	for i := range 8 {
		wg.Go(func() {
			_, err := s.SaveMap(ctx, w.ID, m.ID, 1, "Map", "current", fmt.Appendf(nil, `{"editor":%d}`, i), byLan)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				saved++
			case errors.Is(err, opstore.ErrStale):
				stale++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if saved != 1 || stale != 7 {
		t.Errorf("%d saved and %d stale, want 1 and 7", saved, stale)
	}
	if got, _ := s.Map(ctx, w.ID, m.ID); got.Version != 2 {
		t.Errorf("version %d after the race, want 2", got.Version)
	}
}

func TestMapVersions(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	m := mustMap(t, s, w.ID, "Map")
	clock.add(time.Second)
	_, err := s.SaveMap(ctx, w.ID, m.ID, 1, "Map v2", "future", []byte(`{"v":2}`),
		opstore.MapChange{AuthorID: "usr_an", AuthorName: "An", Note: "restored version 1", Action: "restored"})
	wantErr(t, err, nil, "")

	v1 := opstore.MapVersion{MapID: m.ID, Version: 1, Name: "Map", State: "current",
		AuthorID: "usr_lan", AuthorName: "Nguyễn Thị Lan", CreatedAt: t0}
	v2 := opstore.MapVersion{MapID: m.ID, Version: 2, Name: "Map v2", State: "future",
		AuthorID: "usr_an", AuthorName: "An", Note: "restored version 1", CreatedAt: t0.Add(time.Second)}
	list, err := s.MapVersions(ctx, w.ID, m.ID)
	wantErr(t, err, nil, "")
	diff(t, "MapVersions", list, []opstore.MapVersion{v2, v1})

	for _, tt := range []struct {
		want opstore.MapVersion
		doc  string
	}{{v1, `{"name":"Map"}`}, {v2, `{"v":2}`}} {
		got, err := s.MapVersion(ctx, w.ID, m.ID, tt.want.Version)
		wantErr(t, err, nil, "")
		tt.want.Doc = []byte(tt.doc)
		diff(t, fmt.Sprintf("MapVersion %d", tt.want.Version), got, tt.want)
	}
	_, err = s.MapVersion(ctx, w.ID, m.ID, 3)
	wantErr(t, err, opstore.ErrNotFound, "version 3 of map")
	_, err = s.MapVersions(ctx, w.ID, "map_missing")
	wantErr(t, err, opstore.ErrNotFound, "map_missing")
}

func TestMapComments(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	m := mustMap(t, s, w.ID, "Map")
	m2 := mustMap(t, s, w.ID, "Map 2")

	c1, err := s.AddMapComment(ctx, w.ID, opstore.MapComment{
		MapID: m.ID, Target: " aware ", AuthorID: "usr_lan", AuthorName: "Lan",
		Body: " @An @Minh xem lại giai đoạn này ", Mentions: []string{"usr_minh", "usr_an", "usr_minh", " "},
	})
	wantErr(t, err, nil, "")
	if !mapIDPattern.MatchString(c1.ID) || c1.ID[:4] != "cmt_" {
		t.Errorf("comment ID %q", c1.ID)
	}
	diff(t, "added comment", c1, opstore.MapComment{
		ID: c1.ID, MapID: m.ID, Target: "aware", AuthorID: "usr_lan", AuthorName: "Lan",
		Body: "@An @Minh xem lại giai đoạn này", Mentions: []string{"usr_an", "usr_minh"}, CreatedAt: t0,
	})
	clock.add(time.Second)
	c2, err := s.AddMapComment(ctx, w.ID, opstore.MapComment{MapID: m.ID, AuthorID: "usr_an", AuthorName: "An", Body: "Cả bản đồ ổn"})
	wantErr(t, err, nil, "")
	if c2.Mentions != nil || c2.Target != "" {
		t.Errorf("comment without mentions = %+v", c2)
	}
	clock.add(time.Second)
	c3, err := s.AddMapComment(ctx, w.ID, opstore.MapComment{MapID: m2.ID, Target: "card_1", AuthorID: "usr_minh", AuthorName: "Minh",
		Body: "@An?", Mentions: []string{"usr_an"}})
	wantErr(t, err, nil, "")

	list, err := s.MapComments(ctx, w.ID, m.ID)
	wantErr(t, err, nil, "")
	diff(t, "MapComments", list, []opstore.MapComment{c1, c2})

	mentions, err := s.MentionsOf(ctx, w.ID, "usr_an", 0)
	wantErr(t, err, nil, "")
	diff(t, "MentionsOf an", mentions, []opstore.MapComment{c3, c1})
	mentions, _ = s.MentionsOf(ctx, w.ID, "usr_an", 1)
	diff(t, "MentionsOf an, limit 1", mentions, []opstore.MapComment{c3})
	mentions, _ = s.MentionsOf(ctx, w.ID, "usr_lan", 0)
	diff(t, "MentionsOf lan", mentions, []opstore.MapComment{})

	// Resolving stamps the time once.
	clock.add(time.Second)
	wantErr(t, s.ResolveMapComment(ctx, w.ID, m.ID, c1.ID, "usr_minh", "Minh"), nil, "")
	clock.add(time.Second)
	wantErr(t, s.ResolveMapComment(ctx, w.ID, m.ID, c1.ID, "usr_an", "An"), nil, "")
	list, _ = s.MapComments(ctx, w.ID, m.ID)
	c1.ResolvedAt = t0.Add(3 * time.Second)
	diff(t, "MapComments after resolve", list, []opstore.MapComment{c1, c2})
	wantErr(t, s.ResolveMapComment(ctx, w.ID, m2.ID, c1.ID, "usr_an", "An"), opstore.ErrNotFound, c1.ID)

	// Deleting takes the mentions along.
	wantErr(t, s.DeleteMapComment(ctx, w.ID, m.ID, c1.ID), nil, "")
	wantErr(t, s.DeleteMapComment(ctx, w.ID, m.ID, c1.ID), opstore.ErrNotFound, c1.ID)
	wantErr(t, s.DeleteMapComment(ctx, w.ID, m.ID, c3.ID), opstore.ErrNotFound, c3.ID) // on another map
	list, _ = s.MapComments(ctx, w.ID, m.ID)
	diff(t, "MapComments after delete", list, []opstore.MapComment{c2})
	mentions, _ = s.MentionsOf(ctx, w.ID, "usr_an", 0)
	diff(t, "MentionsOf an after delete", mentions, []opstore.MapComment{c3})
	if n, _ := count(ctx, s, "", `select count(*) from map_comment_mentions where comment_id = ?`, c1.ID); n != 0 {
		t.Errorf("%d mentions of a deleted comment left", n)
	}

	diff(t, "activity", activities(t, s, w.ID, m.ID), []activity{
		{"Minh", "comment_resolved", "aware"},
		{"An", "commented", ""},
		{"Lan", "commented", "aware"},
		{"Nguyễn Thị Lan", "created", "version 1"},
	})

	_, err = s.AddMapComment(ctx, w.ID, opstore.MapComment{MapID: m.ID, Body: "  "})
	wantInvalid(t, err, "comment is empty")
	_, err = s.AddMapComment(ctx, w.ID, opstore.MapComment{MapID: "map_missing", Body: "x"})
	wantErr(t, err, opstore.ErrNotFound, "map_missing")
	_, err = s.AddMapComment(ctx, w.ID, opstore.MapComment{ID: c2.ID, MapID: m.ID, Body: "x"})
	wantErr(t, err, opstore.ErrConflict, c2.ID)
}

func TestMapShares(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	u := mustUser(t, s, "lan@example.vn")
	m := mustMap(t, s, w.ID, "Map")

	forever, err := s.CreateMapShare(ctx, w.ID, m.ID, "hash-forever", "abcd", u.ID, time.Time{})
	wantErr(t, err, nil, "")
	if !mapIDPattern.MatchString(forever.ID) || forever.ID[:4] != "shr_" {
		t.Errorf("share ID %q", forever.ID)
	}
	diff(t, "created share", forever, opstore.MapShare{ID: forever.ID, MapID: m.ID, Prefix: "abcd", CreatedBy: u.ID, CreatedAt: t0})
	clock.add(time.Second)
	day, err := s.CreateMapShare(ctx, w.ID, m.ID, "hash-day", "efgh", "usr_gone", t0.Add(24*time.Hour+time.Second).In(time.FixedZone("ICT", 7*3600)))
	wantErr(t, err, nil, "")
	if !day.ExpiresAt.Equal(t0.Add(24*time.Hour+time.Second)) || day.ExpiresAt.Location() != time.UTC {
		t.Errorf("share expires at %v", day.ExpiresAt)
	}
	clock.add(time.Second)
	revoked, err := s.CreateMapShare(ctx, w.ID, m.ID, "hash-revoked", "ijkl", u.ID, time.Time{})
	wantErr(t, err, nil, "")
	clock.add(time.Second)
	wantErr(t, s.RevokeMapShare(ctx, w.ID, m.ID, revoked.ID, u.ID, "Lan"), nil, "")
	wantErr(t, s.RevokeMapShare(ctx, w.ID, m.ID, revoked.ID, u.ID, "Lan"), nil, "") // again: no change
	revoked.RevokedAt = t0.Add(3 * time.Second)

	list, err := s.MapShares(ctx, w.ID, m.ID)
	wantErr(t, err, nil, "")
	diff(t, "MapShares", list, []opstore.MapShare{forever, day, revoked})

	// A newer version of the map is what a share shows.
	latest, err := s.SaveMap(ctx, w.ID, m.ID, 1, "Map", "current", []byte(`{"v":2}`), byLan)
	wantErr(t, err, nil, "")

	check := func(when string, active map[string]opstore.MapShare) {
		t.Helper()
		for _, hash := range []string{"hash-forever", "hash-day", "hash-revoked", "hash-wrong", ""} {
			sh, r, err := s.MapShareByTokenHash(ctx, hash)
			want, ok := active[hash]
			if !ok {
				wantErr(t, err, opstore.ErrNotFound, "map share")
				continue
			}
			wantErr(t, err, nil, "")
			diff(t, when+" share "+hash, sh, want)
			diff(t, when+" map of "+hash, r, latest)
		}
	}
	check("now", map[string]opstore.MapShare{"hash-forever": forever, "hash-day": day})
	clock.add(24*time.Hour - 3*time.Second) // one second before expiry
	check("before expiry", map[string]opstore.MapShare{"hash-forever": forever, "hash-day": day})
	clock.add(time.Second) // at expiry
	check("at expiry", map[string]opstore.MapShare{"hash-forever": forever})

	diff(t, "activity", activities(t, s, w.ID, m.ID), []activity{
		{"Nguyễn Thị Lan", "saved", "version 2"},
		{"Lan", "share_revoked", "ijkl"},
		{"Test lan@example.vn", "shared", "ijkl"},
		{"", "shared", "efgh"}, // creator not in the users table
		{"Test lan@example.vn", "shared", "abcd"},
		{"Nguyễn Thị Lan", "created", "version 1"},
	})

	_, err = s.CreateMapShare(ctx, w.ID, m.ID, "hash-day", "x", u.ID, time.Time{})
	wantErr(t, err, opstore.ErrConflict, "token hash")
	_, err = s.CreateMapShare(ctx, w.ID, m.ID, "", "x", u.ID, time.Time{})
	wantInvalid(t, err, "no token hash")
	_, err = s.CreateMapShare(ctx, w.ID, m.ID, "hash-past", "x", u.ID, clock.now())
	wantInvalid(t, err, "not in the future")
	_, err = s.CreateMapShare(ctx, w.ID, "map_missing", "hash-new", "x", u.ID, time.Time{})
	wantErr(t, err, opstore.ErrNotFound, "map_missing")
	wantErr(t, s.RevokeMapShare(ctx, w.ID, m.ID, "shr_missing", u.ID, "Lan"), opstore.ErrNotFound, "shr_missing")
}

func TestMapActivityLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	m := mustMap(t, s, w.ID, "Map")
	for i := range 60 {
		_, err := s.SaveMap(ctx, w.ID, m.ID, i+1, "Map", "current", fmt.Appendf(nil, `{"v":%d}`, i+2), byLan)
		wantErr(t, err, nil, "")
	}
	for _, tt := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {3, 3}, {100, 61}, {5000, 61}} {
		as, err := s.MapActivities(ctx, w.ID, m.ID, tt.limit)
		wantErr(t, err, nil, "")
		if len(as) != tt.want {
			t.Errorf("limit %d: %d entries, want %d", tt.limit, len(as), tt.want)
			continue
		}
		for i := 1; i < len(as); i++ {
			if as[i].ID >= as[i-1].ID {
				t.Fatalf("limit %d: entries not newest first: %d after %d", tt.limit, as[i].ID, as[i-1].ID)
			}
		}
		if as[0].Detail != "version 61" || as[0].MapID != m.ID || !as[0].At.Equal(t0) {
			t.Errorf("newest entry = %+v", as[0])
		}
	}
}

// Nothing of a map is visible or changeable through another workspace.
func TestMapWorkspaceIsolation(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other")
	m := mustMap(t, s, w.ID, "Map")
	c, err := s.AddMapComment(ctx, w.ID, opstore.MapComment{MapID: m.ID, Body: "hi", Mentions: []string{"usr_an"}})
	wantErr(t, err, nil, "")
	sh, err := s.CreateMapShare(ctx, w.ID, m.ID, "hash", "ab", "", time.Time{})
	wantErr(t, err, nil, "")

	o := other.ID
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"Map", func() error { _, err := s.Map(ctx, o, m.ID); return err }},
		{"MapByName", func() error { _, err := s.MapByName(ctx, o, "Map"); return err }},
		{"SaveMap", func() error { _, err := s.SaveMap(ctx, o, m.ID, 0, "Map", "future", []byte("{}"), byLan); return err }},
		{"DeleteMap", func() error { return s.DeleteMap(ctx, o, m.ID) }},
		{"MapVersions", func() error { _, err := s.MapVersions(ctx, o, m.ID); return err }},
		{"MapVersion", func() error { _, err := s.MapVersion(ctx, o, m.ID, 1); return err }},
		{"AddMapComment", func() error {
			_, err := s.AddMapComment(ctx, o, opstore.MapComment{MapID: m.ID, Body: "x"})
			return err
		}},
		{"MapComments", func() error { _, err := s.MapComments(ctx, o, m.ID); return err }},
		{"ResolveMapComment", func() error { return s.ResolveMapComment(ctx, o, m.ID, c.ID, "", "") }},
		{"DeleteMapComment", func() error { return s.DeleteMapComment(ctx, o, m.ID, c.ID) }},
		{"CreateMapShare", func() error {
			_, err := s.CreateMapShare(ctx, o, m.ID, "hash2", "cd", "", time.Time{})
			return err
		}},
		{"MapShares", func() error { _, err := s.MapShares(ctx, o, m.ID); return err }},
		{"RevokeMapShare", func() error { return s.RevokeMapShare(ctx, o, m.ID, sh.ID, "", "") }},
		{"MapActivities", func() error { _, err := s.MapActivities(ctx, o, m.ID, 0); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.call(), opstore.ErrNotFound, "") })
	}
	if list, err := s.Maps(ctx, o); err != nil || len(list) != 0 {
		t.Errorf("Maps of the other workspace = %v, %v", list, err)
	}
	if list, err := s.MentionsOf(ctx, o, "usr_an", 0); err != nil || len(list) != 0 {
		t.Errorf("MentionsOf in the other workspace = %v, %v", list, err)
	}

	// Everything is still there, unchanged, for the map's own workspace.
	got, err := s.Map(ctx, w.ID, m.ID)
	wantErr(t, err, nil, "")
	diff(t, "map", got, m)
	cs, _ := s.MapComments(ctx, w.ID, m.ID)
	diff(t, "comments", cs, []opstore.MapComment{c})
	shs, _ := s.MapShares(ctx, w.ID, m.ID)
	diff(t, "shares", shs, []opstore.MapShare{sh})
	if as := activities(t, s, w.ID, m.ID); len(as) != 3 {
		t.Errorf("activity = %v, want 3 entries", as)
	}
}

// mapRows counts the rows of every map table.
func mapRows(t *testing.T, s *Store) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, table := range []string{"maps", "map_versions", "map_comments", "map_comment_mentions", "map_shares", "map_activity"} {
		n, err := count(context.Background(), s, table, `select count(*) from `+table)
		if err != nil {
			t.Fatal(err)
		}
		got[table] = n
	}
	return got
}

func TestDeleteMapCascades(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other")
	fill := func(workspaceID string) opstore.MapRecord {
		m := mustMap(t, s, workspaceID, "Map")
		_, err := s.SaveMap(ctx, workspaceID, m.ID, 1, "Map", "future", []byte(`{"v":2}`), byLan)
		wantErr(t, err, nil, "")
		_, err = s.AddMapComment(ctx, workspaceID, opstore.MapComment{MapID: m.ID, Body: "x", Mentions: []string{"usr_a", "usr_b"}})
		wantErr(t, err, nil, "")
		_, err = s.CreateMapShare(ctx, workspaceID, m.ID, "hash-"+workspaceID, "ab", "", time.Time{})
		wantErr(t, err, nil, "")
		return m
	}
	m := fill(w.ID)
	fill(other.ID)
	single := map[string]int{"maps": 1, "map_versions": 2, "map_comments": 1, "map_comment_mentions": 2, "map_shares": 1, "map_activity": 4}
	double := map[string]int{}
	for k, v := range single {
		double[k] = 2 * v
	}
	diff(t, "rows before delete", mapRows(t, s), double)

	wantErr(t, s.DeleteMap(ctx, w.ID, m.ID), nil, "")
	diff(t, "rows after delete", mapRows(t, s), single)
	wantErr(t, s.DeleteMap(ctx, w.ID, m.ID), opstore.ErrNotFound, m.ID)
	_, _, err := s.MapShareByTokenHash(ctx, "hash-"+w.ID)
	wantErr(t, err, opstore.ErrNotFound, "")
	// The name is free again.
	mustMap(t, s, w.ID, "MAP")

	// Deleting a workspace deletes its maps.
	if _, err := s.w.ExecContext(ctx, `delete from workspaces where id = ?`, other.ID); err != nil {
		t.Fatal(err)
	}
	diff(t, "rows after deleting a workspace", mapRows(t, s), map[string]int{
		"maps": 1, "map_versions": 1, "map_comments": 0, "map_comment_mentions": 0, "map_shares": 0, "map_activity": 1,
	})
}

// A database made by a cjm that knew only the first migration gets the map
// tables when opened, keeping its data.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cjm.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`create table schema_version (version integer primary key, name text not null, applied_at integer not null) strict`,
		ms[0].sql,
		`insert into schema_version values (1, '0001_init.sql', 0)`,
		`insert into workspaces values ('ws_old', 'Old shop', 'Asia/Ho_Chi_Minh', 'VND', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, _ := openAt(t, path)
	var versions []int
	rows, err := s.r.QueryContext(ctx, `select version from schema_version order by version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	want := []int{}
	for _, m := range ms {
		want = append(want, m.version)
	}
	diff(t, "schema versions", versions, want)
	diff(t, "map tables", mapRows(t, s), map[string]int{
		"maps": 0, "map_versions": 0, "map_comments": 0, "map_comment_mentions": 0, "map_shares": 0, "map_activity": 0,
	})
	m := mustMap(t, s, "ws_old", "Hành trình")
	got, err := s.MapByName(ctx, "ws_old", "HÀNH TRÌNH")
	wantErr(t, err, nil, "")
	diff(t, "map in a migrated database", got, m)
}
