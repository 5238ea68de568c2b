package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/opstore"
)

// t0 is the time the test clock starts at.
var t0 = time.Date(2026, 3, 1, 8, 30, 0, 123_000_000, time.UTC)

// testClock is the time a store made by newStore believes it is.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// newStore opens a freshly migrated store on a new file, with a clock at t0.
// It is closed when the test ends.
func newStore(t *testing.T) (*Store, *testClock) {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "cjm.db"))
}

func openAt(t *testing.T, path string) (*Store, *testClock) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c := &testClock{t: t0}
	s.now = c.now
	return s, c
}

// wantErr fails unless err wraps target (nil: unless err is nil) and, when
// msg is not empty, its text contains msg.
func wantErr(t *testing.T, err, target error, msg string) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("error = %v, want one wrapping %q", err, target)
	case err != nil && msg != "" && !strings.Contains(err.Error(), msg):
		t.Fatalf("error = %q, want it to say %q", err, msg)
	}
}

// wantInvalid fails unless err is a validation error: not nil, neither
// not-found nor conflict, saying msg.
func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil || errors.Is(err, opstore.ErrNotFound) || errors.Is(err, opstore.ErrConflict) {
		t.Fatalf("error = %v, want a validation error", err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("error = %q, want it to say %q", err, msg)
	}
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func mustWorkspace(t *testing.T, s *Store, name string) opstore.Workspace {
	t.Helper()
	w := opstore.Workspace{Name: name}
	if err := s.CreateWorkspace(context.Background(), &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func mustUser(t *testing.T, s *Store, email string) opstore.User {
	t.Helper()
	u := opstore.User{Email: email, Name: "Test " + email, PasswordHash: "$argon2id$x"}
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

var (
	idPattern       = regexp.MustCompile(`^(ws|src|usr|key)_[a-z2-7]{16}$`)
	writeKeyPattern = regexp.MustCompile(`^wk_[A-Za-z0-9_-]{32}$`)
)

func TestOpenPragmasAndSchema(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, db := range []struct {
		name string
		q    func(string) string
	}{
		{"writer", func(p string) (v string) { s.w.QueryRowContext(ctx, "pragma "+p).Scan(&v); return v }},
		{"reader", func(p string) (v string) { s.r.QueryRowContext(ctx, "pragma "+p).Scan(&v); return v }},
	} {
		got := map[string]string{}
		for _, p := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout"} {
			got[p] = db.q(p)
		}
		diff(t, db.name+" pragmas", got, map[string]string{
			"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000",
		})
	}
	if got := (func() (v string) { s.r.QueryRowContext(ctx, "pragma query_only").Scan(&v); return v })(); got != "1" {
		t.Errorf("reader query_only = %s, want 1", got)
	}
	if _, err := s.r.ExecContext(ctx, `insert into workspaces values ('x', 'x', 'UTC', 'VND', 0)`); err == nil {
		t.Error("the read pool accepted a write")
	}

	var versions []int
	rows, err := s.w.QueryContext(ctx, `select version from schema_version order by version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(ms) || versions[len(versions)-1] != len(ms) {
		t.Errorf("schema_version holds %v, want 1..%d", versions, len(ms))
	}
	for _, table := range []string{"workspaces", "sources", "users", "members", "sessions", "api_keys", "rejected"} {
		var n int
		if err := s.r.QueryRowContext(ctx, `select count(*) from sqlite_schema where type = 'table' and name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, %v", table, n, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, path := range []string{"", ":memory:", filepath.Join(t.TempDir(), "missing-dir", "cjm.db")} {
		if s, err := Open(path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// Paths are passed to SQLite as escaped file: URIs; characters that mean
// something in a URI must not change which file is opened.
func TestOpenAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%20chars")
	path := filepath.Join(dir, "cjm?.db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := openAt(t, path)
	mustWorkspace(t, s, "Shop")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("%s was not created", path)
	}
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cjm.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w := opstore.Workspace{Name: "Phở 24"}
	if err := s.CreateWorkspace(ctx, &w); err != nil {
		t.Fatal(err)
	}
	src := opstore.Source{WorkspaceID: w.ID, Name: "Website", Channel: opstore.Website}
	if err := s.CreateSource(ctx, &src); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		s, _ := openAt(t, path)
		got, err := s.Workspace(ctx, w.ID)
		wantErr(t, err, nil, "")
		diff(t, "workspace after reopen", got, w)
		gotSrc, err := s.SourceByWriteKey(ctx, src.WriteKey)
		wantErr(t, err, nil, "")
		diff(t, "source after reopen", gotSrc, src)
		var rows, max int
		s.r.QueryRowContext(ctx, `select count(*), max(version) from schema_version`).Scan(&rows, &max)
		ms, _ := migrations()
		if rows != len(ms) || max != len(ms) {
			t.Errorf("schema_version has %d rows up to %d, want %d", rows, max, len(ms))
		}
		s.Close()
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cjm.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`insert into schema_version values (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a newer database: %v, want an error saying it is newer", err)
	}
}

func TestWorkspaces(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)

	w := opstore.Workspace{Name: "  Cà phê Sữa  "}
	wantErr(t, s.CreateWorkspace(ctx, &w), nil, "")
	if !idPattern.MatchString(w.ID) || !strings.HasPrefix(w.ID, "ws_") {
		t.Errorf("workspace ID %q", w.ID)
	}
	diff(t, "created workspace", w, opstore.Workspace{
		ID: w.ID, Name: "Cà phê Sữa", TimeZone: "Asia/Ho_Chi_Minh", Currency: "VND", CreatedAt: t0,
	})
	got, err := s.Workspace(ctx, w.ID)
	wantErr(t, err, nil, "")
	diff(t, "Workspace", got, w)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}

	clock.add(time.Hour)
	w2 := opstore.Workspace{Name: "Bánh mì", TimeZone: "Europe/Berlin", Currency: "eur"}
	wantErr(t, s.CreateWorkspace(ctx, &w2), nil, "")
	if w2.Currency != "EUR" || w2.TimeZone != "Europe/Berlin" || !w2.CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("created %+v", w2)
	}
	list, err := s.Workspaces(ctx)
	wantErr(t, err, nil, "")
	diff(t, "Workspaces", list, []opstore.Workspace{w2, w}) // by name

	w.Name, w.TimeZone, w.Currency = "Cà phê", "UTC", "usd"
	wantErr(t, s.UpdateWorkspace(ctx, w), nil, "")
	got, _ = s.Workspace(ctx, w.ID)
	w.Currency = "USD"
	diff(t, "updated workspace", got, w)

	_, err = s.Workspace(ctx, "ws_missing")
	wantErr(t, err, opstore.ErrNotFound, `workspace "ws_missing"`)
	wantErr(t, s.UpdateWorkspace(ctx, opstore.Workspace{ID: "ws_missing", Name: "x"}), opstore.ErrNotFound, "ws_missing")

	dup := opstore.Workspace{ID: w.ID, Name: "Again"}
	wantErr(t, s.CreateWorkspace(ctx, &dup), opstore.ErrConflict, w.ID)

	for _, bad := range []struct {
		w   opstore.Workspace
		msg string
	}{
		{opstore.Workspace{Name: "  "}, "name is empty"},
		{opstore.Workspace{Name: "x", TimeZone: "Mars/Olympus"}, `time zone "Mars/Olympus"`},
		{opstore.Workspace{Name: "x", TimeZone: "Local"}, `time zone "Local"`},
		{opstore.Workspace{Name: "x", Currency: "VNDX"}, `currency "VNDX"`},
		{opstore.Workspace{Name: "x", Currency: "V1D"}, `currency "V1D"`},
	} {
		wantInvalid(t, s.CreateWorkspace(ctx, &bad.w), bad.msg)
		bad.w.ID = w.ID
		wantInvalid(t, s.UpdateWorkspace(ctx, bad.w), bad.msg)
	}
	list, _ = s.Workspaces(ctx)
	if len(list) != 2 {
		t.Errorf("%d workspaces after invalid creates, want 2", len(list))
	}
}

func TestWorkspacesEmpty(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	ws, err := s.Workspaces(ctx)
	if err != nil || ws == nil || len(ws) != 0 {
		t.Errorf("Workspaces on an empty store = %#v, %v; want an empty slice", ws, err)
	}
	srcs, err := s.Sources(ctx, "ws_none")
	if err != nil || srcs == nil || len(srcs) != 0 {
		t.Errorf("Sources of a missing workspace = %#v, %v; want an empty slice", srcs, err)
	}
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other shop")

	web := opstore.Source{WorkspaceID: w.ID, Name: " Website ", Channel: opstore.Website, RateLimit: 100}
	wantErr(t, s.CreateSource(ctx, &web), nil, "")
	if !strings.HasPrefix(web.ID, "src_") || !idPattern.MatchString(web.ID) {
		t.Errorf("source ID %q", web.ID)
	}
	if !writeKeyPattern.MatchString(web.WriteKey) {
		t.Errorf("write key %q", web.WriteKey)
	}
	diff(t, "created source", web, opstore.Source{
		ID: web.ID, WorkspaceID: w.ID, Name: "Website", Channel: opstore.Website,
		WriteKey: web.WriteKey, RateLimit: 100, CreatedAt: t0,
	})

	pos := opstore.Source{WorkspaceID: w.ID, Name: "Cửa hàng Quận 1", WriteKey: "wk_given_by_import"}
	wantErr(t, s.CreateSource(ctx, &pos), nil, "")
	if pos.Channel != opstore.Other || pos.WriteKey != "wk_given_by_import" {
		t.Errorf("created %+v, want channel other and the given write key", pos)
	}

	// Lookups.
	for _, lookup := range []struct {
		name string
		get  func() (opstore.Source, error)
	}{
		{"Source", func() (opstore.Source, error) { return s.Source(ctx, web.ID) }},
		{"SourceByName", func() (opstore.Source, error) { return s.SourceByName(ctx, w.ID, "Website") }},
		{"SourceByWriteKey", func() (opstore.Source, error) { return s.SourceByWriteKey(ctx, web.WriteKey) }},
	} {
		got, err := lookup.get()
		wantErr(t, err, nil, "")
		diff(t, lookup.name, got, web)
	}
	list, err := s.Sources(ctx, w.ID)
	wantErr(t, err, nil, "")
	diff(t, "Sources", list, []opstore.Source{pos, web})

	_, err = s.Source(ctx, "src_missing")
	wantErr(t, err, opstore.ErrNotFound, "src_missing")
	_, err = s.SourceByName(ctx, other.ID, "Website")
	wantErr(t, err, opstore.ErrNotFound, `source "Website"`)
	_, err = s.SourceByWriteKey(ctx, "wk_nope")
	wantErr(t, err, opstore.ErrNotFound, "write key")

	// Uniqueness: a name once per workspace, a write key once overall.
	dup := opstore.Source{WorkspaceID: w.ID, Name: "Website"}
	wantErr(t, s.CreateSource(ctx, &dup), opstore.ErrConflict, `source "Website" already exists in this workspace`)
	same := opstore.Source{WorkspaceID: other.ID, Name: "Website"}
	wantErr(t, s.CreateSource(ctx, &same), nil, "")
	stolen := opstore.Source{WorkspaceID: other.ID, Name: "App", WriteKey: web.WriteKey}
	wantErr(t, s.CreateSource(ctx, &stolen), opstore.ErrConflict, "write key")
	orphan := opstore.Source{WorkspaceID: "ws_missing", Name: "App"}
	wantErr(t, s.CreateSource(ctx, &orphan), opstore.ErrNotFound, `workspace "ws_missing"`)

	// Validation.
	for _, bad := range []struct {
		src opstore.Source
		msg string
	}{
		{opstore.Source{WorkspaceID: w.ID, Name: ""}, "name is empty"},
		{opstore.Source{WorkspaceID: w.ID, Name: "x", Channel: "fax"}, `channel "fax" is unknown`},
		{opstore.Source{WorkspaceID: w.ID, Name: "x", RateLimit: -1}, "rate limit -1"},
	} {
		wantInvalid(t, s.CreateSource(ctx, &bad.src), bad.msg)
		bad.src.ID = web.ID
		wantInvalid(t, s.UpdateSource(ctx, bad.src), bad.msg)
	}

	// Update changes name, channel, rate limit and disabled; not the
	// workspace, write key or creation time.
	upd := web
	upd.Name, upd.Channel, upd.RateLimit, upd.Disabled = "Web shop", opstore.Marketplace, 0, true
	upd.WorkspaceID, upd.WriteKey, upd.CreatedAt = other.ID, "wk_ignored", t0.Add(time.Hour)
	wantErr(t, s.UpdateSource(ctx, upd), nil, "")
	got, _ := s.Source(ctx, web.ID)
	web.Name, web.Channel, web.RateLimit, web.Disabled = "Web shop", opstore.Marketplace, 0, true
	diff(t, "updated source", got, web)

	upd = web
	upd.Name = pos.Name
	wantErr(t, s.UpdateSource(ctx, upd), opstore.ErrConflict, fmt.Sprintf("source %q already exists in this workspace", pos.Name))
	wantErr(t, s.UpdateSource(ctx, opstore.Source{ID: "src_missing", Name: "x"}), opstore.ErrNotFound, "src_missing")

	// Rotating the write key retires the old one.
	key, err := s.RotateWriteKey(ctx, web.ID)
	wantErr(t, err, nil, "")
	if !writeKeyPattern.MatchString(key) || key == web.WriteKey {
		t.Errorf("RotateWriteKey = %q (old %q)", key, web.WriteKey)
	}
	_, err = s.SourceByWriteKey(ctx, web.WriteKey)
	wantErr(t, err, opstore.ErrNotFound, "")
	got, err = s.SourceByWriteKey(ctx, key)
	wantErr(t, err, nil, "")
	if got.ID != web.ID {
		t.Errorf("new write key finds %s, want %s", got.ID, web.ID)
	}
	_, err = s.RotateWriteKey(ctx, "src_missing")
	wantErr(t, err, opstore.ErrNotFound, "src_missing")
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)

	n, err := s.UserCount(ctx)
	if err != nil || n != 0 {
		t.Fatalf("UserCount on a new store = %d, %v", n, err)
	}

	lan := opstore.User{Email: "  Lan.Nguyen@Example.VN ", Name: " Nguyễn Thị Lan ", PasswordHash: "$argon2id$lan", Lang: "vi"}
	wantErr(t, s.CreateUser(ctx, &lan), nil, "")
	if !strings.HasPrefix(lan.ID, "usr_") || !idPattern.MatchString(lan.ID) {
		t.Errorf("user ID %q", lan.ID)
	}
	diff(t, "created user", lan, opstore.User{
		ID: lan.ID, Email: "lan.nguyen@example.vn", Name: "Nguyễn Thị Lan", PasswordHash: "$argon2id$lan", Lang: "vi", CreatedAt: t0,
	})
	clock.add(time.Minute)
	an := mustUser(t, s, "an@example.vn")

	got, err := s.User(ctx, lan.ID)
	wantErr(t, err, nil, "")
	diff(t, "User", got, lan)
	got, err = s.UserByEmail(ctx, " LAN.nguyen@example.vn")
	wantErr(t, err, nil, "")
	diff(t, "UserByEmail", got, lan)
	list, err := s.Users(ctx)
	wantErr(t, err, nil, "")
	diff(t, "Users", list, []opstore.User{an, lan})
	if n, _ := s.UserCount(ctx); n != 2 {
		t.Errorf("UserCount = %d, want 2", n)
	}

	_, err = s.User(ctx, "usr_missing")
	wantErr(t, err, opstore.ErrNotFound, "usr_missing")
	_, err = s.UserByEmail(ctx, "nobody@example.vn")
	wantErr(t, err, opstore.ErrNotFound, "nobody@example.vn")

	dup := opstore.User{Email: "LAN.NGUYEN@example.vn"}
	wantErr(t, s.CreateUser(ctx, &dup), opstore.ErrConflict, `a user with e-mail "lan.nguyen@example.vn" already exists`)
	for _, email := range []string{"", "lan", "@example.vn", "lan@", "lan nguyen@example.vn", "Lan <lan@example.vn>"} {
		u := opstore.User{Email: email}
		wantInvalid(t, s.CreateUser(ctx, &u), "not an e-mail address")
	}

	upd := lan
	upd.Email, upd.Name, upd.PasswordHash, upd.Lang = "Lan@Example.VN", "Lan", "$argon2id$new", "en"
	wantErr(t, s.UpdateUser(ctx, upd), nil, "")
	got, _ = s.User(ctx, lan.ID)
	upd.Email = "lan@example.vn"
	diff(t, "updated user", got, upd)

	upd.Email = an.Email
	wantErr(t, s.UpdateUser(ctx, upd), opstore.ErrConflict, an.Email)
	wantErr(t, s.UpdateUser(ctx, opstore.User{ID: "usr_missing", Email: "x@y.z"}), opstore.ErrNotFound, "usr_missing")

	wantErr(t, s.DeleteUser(ctx, an.ID), nil, "")
	_, err = s.User(ctx, an.ID)
	wantErr(t, err, opstore.ErrNotFound, "")
	wantErr(t, s.DeleteUser(ctx, an.ID), opstore.ErrNotFound, an.ID)
	if n, _ := s.UserCount(ctx); n != 1 {
		t.Errorf("UserCount after delete = %d, want 1", n)
	}
	// The e-mail address is free again.
	again := opstore.User{Email: an.Email}
	wantErr(t, s.CreateUser(ctx, &again), nil, "")
}

func TestMembers(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	shop := mustWorkspace(t, s, "Shop")
	cafe := mustWorkspace(t, s, "Cafe")
	lan := mustUser(t, s, "lan@example.vn")
	an := mustUser(t, s, "an@example.vn")

	wantErr(t, s.SetMember(ctx, shop.ID, lan.ID, opstore.Owner), nil, "")
	wantErr(t, s.SetMember(ctx, shop.ID, an.ID, opstore.Viewer), nil, "")
	wantErr(t, s.SetMember(ctx, cafe.ID, lan.ID, opstore.Editor), nil, "")

	members, err := s.Members(ctx, shop.ID)
	wantErr(t, err, nil, "")
	diff(t, "Members", members, []opstore.Member{
		{WorkspaceID: shop.ID, User: an, Role: opstore.Viewer},
		{WorkspaceID: shop.ID, User: lan, Role: opstore.Owner},
	})
	ms, err := s.Memberships(ctx, lan.ID)
	wantErr(t, err, nil, "")
	diff(t, "Memberships", ms, []opstore.Member{ // by workspace name
		{WorkspaceID: cafe.ID, User: lan, Role: opstore.Editor},
		{WorkspaceID: shop.ID, User: lan, Role: opstore.Owner},
	})

	// Setting again changes the role.
	wantErr(t, s.SetMember(ctx, shop.ID, an.ID, opstore.Editor), nil, "")
	ms, _ = s.Memberships(ctx, an.ID)
	diff(t, "Memberships after role change", ms, []opstore.Member{{WorkspaceID: shop.ID, User: an, Role: opstore.Editor}})
	if !ms[0].Role.Can(opstore.Viewer) || ms[0].Role.Can(opstore.Owner) {
		t.Errorf("editor role powers wrong")
	}

	wantInvalid(t, s.SetMember(ctx, shop.ID, an.ID, "admin"), `role "admin" is unknown`)
	wantInvalid(t, s.SetMember(ctx, shop.ID, an.ID, ""), `role "" is unknown`)
	wantErr(t, s.SetMember(ctx, "ws_missing", an.ID, opstore.Viewer), opstore.ErrNotFound, "ws_missing")
	wantErr(t, s.SetMember(ctx, shop.ID, "usr_missing", opstore.Viewer), opstore.ErrNotFound, "usr_missing")

	wantErr(t, s.RemoveMember(ctx, shop.ID, an.ID), nil, "")
	wantErr(t, s.RemoveMember(ctx, shop.ID, an.ID), opstore.ErrNotFound, an.ID)
	ms, _ = s.Memberships(ctx, an.ID)
	if len(ms) != 0 {
		t.Errorf("Memberships after removal = %v", ms)
	}

	// Deleting a user ends their memberships.
	wantErr(t, s.DeleteUser(ctx, lan.ID), nil, "")
	for _, w := range []opstore.Workspace{shop, cafe} {
		if members, _ := s.Members(ctx, w.ID); len(members) != 0 {
			t.Errorf("members of %s after deleting the user: %v", w.Name, members)
		}
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	u := mustUser(t, s, "lan@example.vn")

	sess := opstore.Session{TokenHash: "hash1", UserID: u.ID, CSRFToken: "csrf1", ExpiresAt: t0.Add(24 * time.Hour)}
	wantErr(t, s.CreateSession(ctx, sess), nil, "")
	got, err := s.Session(ctx, "hash1")
	wantErr(t, err, nil, "")
	sess.CreatedAt = t0
	diff(t, "Session", got, sess)

	wantErr(t, s.CreateSession(ctx, sess), opstore.ErrConflict, "session")
	wantErr(t, s.CreateSession(ctx, opstore.Session{TokenHash: "h", UserID: "usr_missing", ExpiresAt: t0.Add(time.Hour)}), opstore.ErrNotFound, "usr_missing")
	wantErr(t, s.CreateSession(ctx, opstore.Session{TokenHash: "h", UserID: u.ID, WorkspaceID: "ws_missing", ExpiresAt: t0.Add(time.Hour)}), opstore.ErrNotFound, "ws_missing")
	wantInvalid(t, s.CreateSession(ctx, opstore.Session{UserID: u.ID, ExpiresAt: t0}), "no token hash")
	wantInvalid(t, s.CreateSession(ctx, opstore.Session{TokenHash: "h"}), "no user")
	wantInvalid(t, s.CreateSession(ctx, opstore.Session{TokenHash: "h", UserID: u.ID}), "no expiry")

	// Switching workspace.
	wantErr(t, s.UpdateSessionWorkspace(ctx, "hash1", w.ID), nil, "")
	got, _ = s.Session(ctx, "hash1")
	if got.WorkspaceID != w.ID {
		t.Errorf("WorkspaceID = %q, want %q", got.WorkspaceID, w.ID)
	}
	wantErr(t, s.UpdateSessionWorkspace(ctx, "hash1", "ws_missing"), opstore.ErrNotFound, "ws_missing")
	wantErr(t, s.UpdateSessionWorkspace(ctx, "nope", w.ID), opstore.ErrNotFound, "session")
	wantErr(t, s.UpdateSessionWorkspace(ctx, "hash1", ""), nil, "")
	got, _ = s.Session(ctx, "hash1")
	if got.WorkspaceID != "" {
		t.Errorf("WorkspaceID = %q after clearing", got.WorkspaceID)
	}
	_, err = s.Session(ctx, "nope")
	wantErr(t, err, opstore.ErrNotFound, "session")

	// Expiry: valid until the instant it expires, then gone.
	clock.add(24*time.Hour - time.Millisecond)
	if _, err := s.Session(ctx, "hash1"); err != nil {
		t.Errorf("session a millisecond before expiry: %v", err)
	}
	clock.add(time.Millisecond)
	_, err = s.Session(ctx, "hash1")
	wantErr(t, err, opstore.ErrNotFound, "session")
	wantErr(t, s.UpdateSessionWorkspace(ctx, "hash1", w.ID), opstore.ErrNotFound, "session")

	// Creating a session prunes the expired ones.
	wantErr(t, s.CreateSession(ctx, opstore.Session{TokenHash: "hash2", UserID: u.ID, ExpiresAt: clock.now().Add(time.Hour)}), nil, "")
	var n int
	s.r.QueryRowContext(ctx, `select count(*) from sessions`).Scan(&n)
	if n != 1 {
		t.Errorf("%d sessions stored after pruning, want 1", n)
	}

	wantErr(t, s.DeleteSession(ctx, "hash2"), nil, "")
	_, err = s.Session(ctx, "hash2")
	wantErr(t, err, opstore.ErrNotFound, "")
	wantErr(t, s.DeleteSession(ctx, "hash2"), opstore.ErrNotFound, "session")

	// Deleting the user logs them out everywhere.
	wantErr(t, s.CreateSession(ctx, opstore.Session{TokenHash: "hash3", UserID: u.ID, ExpiresAt: clock.now().Add(time.Hour)}), nil, "")
	wantErr(t, s.DeleteUser(ctx, u.ID), nil, "")
	_, err = s.Session(ctx, "hash3")
	wantErr(t, err, opstore.ErrNotFound, "")
}

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other")

	k := opstore.APIKey{WorkspaceID: w.ID, Name: " CI export ", Prefix: "cjm_sk_abcde", Hash: "h1", Role: opstore.Viewer}
	wantErr(t, s.CreateAPIKey(ctx, &k), nil, "")
	if !strings.HasPrefix(k.ID, "key_") || !idPattern.MatchString(k.ID) {
		t.Errorf("API key ID %q", k.ID)
	}
	diff(t, "created key", k, opstore.APIKey{
		ID: k.ID, WorkspaceID: w.ID, Name: "CI export", Prefix: "cjm_sk_abcde", Hash: "h1", Role: opstore.Viewer, CreatedAt: t0,
	})
	clock.add(time.Second)
	k2 := opstore.APIKey{WorkspaceID: w.ID, Name: "POS sync", Prefix: "cjm_sk_fghij", Hash: "h2", Role: opstore.Editor}
	wantErr(t, s.CreateAPIKey(ctx, &k2), nil, "")

	list, err := s.APIKeys(ctx, w.ID)
	wantErr(t, err, nil, "")
	diff(t, "APIKeys", list, []opstore.APIKey{k, k2})
	got, err := s.APIKeyByHash(ctx, "h2")
	wantErr(t, err, nil, "")
	diff(t, "APIKeyByHash", got, k2)
	_, err = s.APIKeyByHash(ctx, "h3")
	wantErr(t, err, opstore.ErrNotFound, "API key")

	dup := opstore.APIKey{WorkspaceID: other.ID, Name: "x", Hash: "h1", Role: opstore.Viewer}
	wantErr(t, s.CreateAPIKey(ctx, &dup), opstore.ErrConflict, "API key")
	orphan := opstore.APIKey{WorkspaceID: "ws_missing", Name: "x", Hash: "h9", Role: opstore.Viewer}
	wantErr(t, s.CreateAPIKey(ctx, &orphan), opstore.ErrNotFound, "ws_missing")
	for _, bad := range []struct {
		k   opstore.APIKey
		msg string
	}{
		{opstore.APIKey{WorkspaceID: w.ID, Name: " ", Hash: "h9", Role: opstore.Viewer}, "name is empty"},
		{opstore.APIKey{WorkspaceID: w.ID, Name: "x", Role: opstore.Viewer}, "no hash"},
		{opstore.APIKey{WorkspaceID: w.ID, Name: "x", Hash: "h9", Role: "root"}, `role "root"`},
	} {
		wantInvalid(t, s.CreateAPIKey(ctx, &bad.k), bad.msg)
	}

	// Touching records the latest use and never goes back.
	used := t0.Add(time.Hour + 500*time.Microsecond)
	wantErr(t, s.TouchAPIKey(ctx, k.ID, used), nil, "")
	wantErr(t, s.TouchAPIKey(ctx, k.ID, t0.Add(time.Minute)), nil, "")
	got, _ = s.APIKeyByHash(ctx, "h1")
	if want := used.Truncate(time.Millisecond); !got.LastUsedAt.Equal(want) || got.LastUsedAt.Location() != time.UTC {
		t.Errorf("LastUsedAt = %v, want %v UTC", got.LastUsedAt, want)
	}
	wantErr(t, s.TouchAPIKey(ctx, "key_missing", used), opstore.ErrNotFound, "key_missing")

	// A key is deleted only through its own workspace.
	wantErr(t, s.DeleteAPIKey(ctx, other.ID, k.ID), opstore.ErrNotFound, k.ID)
	wantErr(t, s.DeleteAPIKey(ctx, w.ID, k.ID), nil, "")
	wantErr(t, s.DeleteAPIKey(ctx, w.ID, k.ID), opstore.ErrNotFound, k.ID)
	_, err = s.APIKeyByHash(ctx, "h1")
	wantErr(t, err, opstore.ErrNotFound, "")
	list, _ = s.APIKeys(ctx, w.ID)
	diff(t, "APIKeys after delete", list, []opstore.APIKey{k2})
}

func TestRejected(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other")

	// 120 messages: sources alternate web/pos, codes cycle through three.
	codes := []string{"missing_identity", "bad_timestamp", "too_large"}
	var batch []opstore.Rejected
	for i := range 120 {
		src := "src_web"
		if i%2 == 1 {
			src = "src_pos"
		}
		batch = append(batch, opstore.Rejected{
			WorkspaceID: w.ID, SourceID: src, Origin: "http", Index: i,
			Code: codes[i%3], Field: "userId", Reason: fmt.Sprintf("message %d", i), Payload: fmt.Sprintf(`{"n":%d}`, i),
		})
	}
	wantErr(t, s.AddRejected(ctx, batch[:60]), nil, "")
	clock.add(time.Second)
	wantErr(t, s.AddRejected(ctx, batch[60:]), nil, "")
	wantErr(t, s.AddRejected(ctx, []opstore.Rejected{{WorkspaceID: other.ID, SourceID: "src_x", Index: -1, Code: "bad_json", Origin: "import:a.jsonl:7"}}), nil, "")
	wantErr(t, s.AddRejected(ctx, nil), nil, "")

	if n, err := s.RejectedCount(ctx, w.ID); err != nil || n != 120 {
		t.Errorf("RejectedCount = %d, %v; want 120", n, err)
	}
	if n, _ := s.RejectedCount(ctx, other.ID); n != 1 {
		t.Errorf("RejectedCount(other) = %d, want 1", n)
	}

	// Default page: the newest 50, newest first, all fields back.
	page, err := s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: w.ID})
	wantErr(t, err, nil, "")
	if len(page) != 50 {
		t.Fatalf("default page has %d, want 50", len(page))
	}
	want := batch[119]
	want.ID, want.ReceivedAt = page[0].ID, t0.Add(time.Second)
	diff(t, "newest rejected", page[0], want)
	if page[len(page)-1].Index != 70 {
		t.Errorf("default page ends at message %d, want 70", page[len(page)-1].Index)
	}

	// Paging with BeforeID walks every message exactly once, newest first.
	var seen []int
	var before int64
	for pages := 0; ; pages++ {
		page, err := s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: w.ID, BeforeID: before, Limit: 7})
		wantErr(t, err, nil, "")
		if len(page) == 0 {
			if pages != 18 { // ceil(120/7) pages with rows
				t.Errorf("%d pages, want 18", pages)
			}
			break
		}
		for _, r := range page {
			seen = append(seen, r.Index)
			if before != 0 && r.ID >= before {
				t.Fatalf("ID %d on a page before %d", r.ID, before)
			}
		}
		before = page[len(page)-1].ID
	}
	for i, idx := range seen {
		if idx != 119-i {
			t.Fatalf("paging saw message %d at position %d, want %d", idx, i, 119-i)
		}
	}
	if len(seen) != 120 {
		t.Errorf("paging saw %d messages, want 120", len(seen))
	}

	// Filters.
	for _, tt := range []struct {
		name string
		f    opstore.RejectedFilter
		want []int // message indexes, newest first
	}{
		{"source", opstore.RejectedFilter{SourceID: "src_pos", Limit: 3}, []int{119, 117, 115}},
		{"code", opstore.RejectedFilter{Code: "bad_timestamp", Limit: 3}, []int{118, 115, 112}},
		{"source and code", opstore.RejectedFilter{SourceID: "src_web", Code: "missing_identity", Limit: 3}, []int{114, 108, 102}},
		{"source, code, before", opstore.RejectedFilter{SourceID: "src_web", Code: "missing_identity", Limit: 3, BeforeID: -1}, []int{114, 108, 102}},
		{"unknown source", opstore.RejectedFilter{SourceID: "src_none"}, []int{}},
	} {
		tt.f.WorkspaceID = w.ID
		page, err := s.Rejected(ctx, tt.f)
		wantErr(t, err, nil, "")
		got := []int{}
		for _, r := range page {
			got = append(got, r.Index)
			if (tt.f.SourceID != "" && r.SourceID != tt.f.SourceID) || (tt.f.Code != "" && r.Code != tt.f.Code) {
				t.Errorf("%s: got %+v", tt.name, r)
			}
		}
		diff(t, tt.name, got, tt.want)
	}
	// Before an ID in the middle, filtered.
	all, _ := s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: w.ID, Limit: 1000})
	mid := all[10] // message 109
	page, _ = s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: w.ID, Code: "missing_identity", BeforeID: mid.ID, Limit: 2})
	if len(page) != 2 || page[0].Index != 108 || page[1].Index != 105 {
		t.Errorf("filtered page before message 109 = %+v", page)
	}

	// Limits: above the maximum is the maximum.
	big := make([]opstore.Rejected, 1000)
	for i := range big {
		big[i] = opstore.Rejected{WorkspaceID: w.ID, SourceID: "src_web", Code: "too_large", Index: i}
	}
	wantErr(t, s.AddRejected(ctx, big), nil, "")
	page, _ = s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: w.ID, Limit: 5000})
	if len(page) != MaxRejectedLimit {
		t.Errorf("Limit 5000 returned %d, want %d", len(page), MaxRejectedLimit)
	}

	// Other workspaces are separate.
	page, _ = s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: other.ID})
	if len(page) != 1 || page[0].Origin != "import:a.jsonl:7" || page[0].Index != -1 || !page[0].ReceivedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("other workspace's rejected = %+v", page)
	}

	_, err = s.Rejected(ctx, opstore.RejectedFilter{})
	wantInvalid(t, err, "no workspace")
}

func TestAddRejectedValidatesWholeBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	err := s.AddRejected(ctx, []opstore.Rejected{{WorkspaceID: w.ID, Code: "a"}, {Code: "b"}})
	wantInvalid(t, err, "rejected message 1 has no workspace")
	if n, _ := s.RejectedCount(ctx, w.ID); n != 0 {
		t.Errorf("%d rejected stored from a failed batch, want 0", n)
	}
}

func TestRejectedPayloadTruncated(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	received := time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("ICT", 7*3600))
	payloads := []string{
		strings.Repeat("a", MaxRejectedPayload),
		strings.Repeat("a", MaxRejectedPayload+1),
		strings.Repeat("a", MaxRejectedPayload-1) + "ễ", // 3 bytes straddling the limit
	}
	var rs []opstore.Rejected
	for i, p := range payloads {
		rs = append(rs, opstore.Rejected{WorkspaceID: w.ID, Index: i, Payload: p, ReceivedAt: received})
	}
	wantErr(t, s.AddRejected(ctx, rs), nil, "")
	got, err := s.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: w.ID})
	wantErr(t, err, nil, "")
	wantLen := []int{MaxRejectedPayload, MaxRejectedPayload, MaxRejectedPayload - 1}
	for _, r := range got {
		if len(r.Payload) != wantLen[r.Index] || !strings.HasPrefix(payloads[r.Index], r.Payload) {
			t.Errorf("payload %d kept %d bytes, want %d", r.Index, len(r.Payload), wantLen[r.Index])
		}
		if want := time.Date(2026, 1, 1, 20, 4, 5, 678_000_000, time.UTC); r.ReceivedAt != want {
			t.Errorf("ReceivedAt = %v, want %v", r.ReceivedAt, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aễ", 3, "a"},  // ễ is 3 bytes
		{"aễ", 4, "aễ"}, //
		{"ễễ", 5, "ễ"},
		{"ễ", 0, ""},
	} {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// Many goroutines write and read at once: the single writer connection
// serialises writes without SQLITE_BUSY, and readers see committed data.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				u := opstore.User{Email: fmt.Sprintf("u%d-%d@example.vn", g, i)}
				if err := s.CreateUser(ctx, &u); err != nil {
					errs <- err
					return
				}
				if err := s.SetMember(ctx, w.ID, u.ID, opstore.Viewer); err != nil {
					errs <- err
					return
				}
				if _, err := s.UserByEmail(ctx, u.Email); err != nil {
					errs <- err
					return
				}
				if err := s.AddRejected(ctx, []opstore.Rejected{{WorkspaceID: w.ID, Code: "x"}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := s.UserCount(ctx); n != 160 {
		t.Errorf("UserCount = %d, want 160", n)
	}
	if m, _ := s.Members(ctx, w.ID); len(m) != 160 {
		t.Errorf("%d members, want 160", len(m))
	}
	if n, _ := s.RejectedCount(ctx, w.ID); n != 160 {
		t.Errorf("RejectedCount = %d, want 160", n)
	}
}

func TestMigrationFiles(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Fatalf("migrations = %v", ms)
	}
	for i, m := range ms {
		if m.version != i+1 || strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %d: version %d, %d bytes", i, m.version, len(m.sql))
		}
	}
}

func TestDeleteUserSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	u := mustUser(t, s, "lan@example.vn")
	other := mustUser(t, s, "minh@example.vn")
	for _, h := range []string{"a", "b", "c"} {
		wantErr(t, s.CreateSession(ctx, opstore.Session{TokenHash: h, UserID: u.ID, ExpiresAt: t0.Add(time.Hour)}), nil, "")
	}
	wantErr(t, s.CreateSession(ctx, opstore.Session{TokenHash: "o", UserID: other.ID, ExpiresAt: t0.Add(time.Hour)}), nil, "")
	wantErr(t, s.DeleteUserSessions(ctx, u.ID, "b"), nil, "")
	for h, alive := range map[string]bool{"a": false, "b": true, "c": false, "o": true} {
		_, err := s.Session(ctx, h)
		if (err == nil) != alive {
			t.Errorf("session %s: err %v, want alive=%v", h, err, alive)
		}
	}
	wantErr(t, s.DeleteUserSessions(ctx, u.ID, ""), nil, "")
	if _, err := s.Session(ctx, "b"); err == nil {
		t.Error("session b survived logging out everywhere")
	}
}

func TestDeleteRejected(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w := mustWorkspace(t, s, "Shop")
	var rs []opstore.Rejected
	for i := range 5 {
		rs = append(rs, opstore.Rejected{WorkspaceID: w.ID, ReceivedAt: t0.Add(time.Duration(i) * 24 * time.Hour), Code: "x", Reason: "y"})
	}
	wantErr(t, s.AddRejected(ctx, rs), nil, "")
	n, err := s.DeleteRejected(ctx, t0.Add(2*24*time.Hour))
	wantErr(t, err, nil, "")
	if n != 2 {
		t.Errorf("deleted %d, want the 2 older ones", n)
	}
	if left, _ := s.RejectedCount(ctx, w.ID); left != 3 {
		t.Errorf("%d left, want 3", left)
	}
}
