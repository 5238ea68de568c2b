package sqlite

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/opstore"
)

func privacyWorkspace(t *testing.T, s *Store, name string) opstore.Workspace {
	t.Helper()
	w := opstore.Workspace{Name: name}
	if err := s.CreateWorkspace(context.Background(), &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestPrivacyRequests(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	w := privacyWorkspace(t, s, "Shop")
	other := privacyWorkspace(t, s, "Other")

	exp := opstore.PrivacyRequest{WorkspaceID: w.ID, Kind: opstore.RequestExport, IdentifierKind: "email", IdentifierHash: "h-lan",
		Hint: "email:l•••@e•••.vn", Actor: "staff:Mai"}
	if err := s.CreatePrivacyRequest(ctx, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.ID == "" || exp.Status != opstore.RequestRunning || !exp.RequestedAt.Equal(t0.Truncate(time.Millisecond)) {
		t.Errorf("created %+v", exp)
	}
	clock.add(time.Minute)
	exp.Status, exp.File, exp.Counts = opstore.RequestDone, exp.ID+".json", map[string]int64{"events": 12, "identifiers": 3}
	if err := s.FinishPrivacyRequest(ctx, exp); err != nil {
		t.Fatal(err)
	}
	clock.add(time.Minute)
	del := opstore.PrivacyRequest{WorkspaceID: w.ID, Kind: opstore.RequestDelete, IdentifierKind: "phone", IdentifierHash: "h-lan-phone", Actor: "cli:root"}
	if err := s.CreatePrivacyRequest(ctx, &del); err != nil {
		t.Fatal(err)
	}

	got, err := s.PrivacyRequests(ctx, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != del.ID || got[1].ID != exp.ID {
		t.Fatalf("list %+v", got)
	}
	want := exp
	want.CompletedAt = t0.Add(time.Minute).Truncate(time.Millisecond)
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("export request (-want +got):\n%s", diff)
	}
	if got[0].Counts == nil || len(got[0].Counts) != 0 || !got[0].CompletedAt.IsZero() {
		t.Errorf("running request %+v", got[0])
	}
	if _, err := s.PrivacyRequest(ctx, other.ID, exp.ID); !isNotFound(err) {
		t.Errorf("request of another workspace: %v", err)
	}
	if err := s.FinishPrivacyRequest(ctx, opstore.PrivacyRequest{ID: exp.ID, WorkspaceID: other.ID, Status: opstore.RequestDone}); !isNotFound(err) {
		t.Errorf("finishing another workspace's request: %v", err)
	}
	if err := s.CreatePrivacyRequest(ctx, &opstore.PrivacyRequest{WorkspaceID: w.ID, Kind: "peek", IdentifierHash: "x"}); err == nil {
		t.Error("unknown kind accepted")
	}

	// Erasing the person forgets the hint and the export file.
	files, err := s.ForgetExports(ctx, w.ID, []string{"h-lan", "h-unknown"})
	if err != nil || !slices.Equal(files, []string{exp.ID + ".json"}) {
		t.Fatalf("forget: %v, %v", files, err)
	}
	r, _ := s.PrivacyRequest(ctx, w.ID, exp.ID)
	if r.Hint != "" || r.File != "" || r.Counts["events"] != 12 {
		t.Errorf("after forgetting: %+v", r)
	}

	// Exports expire.
	exp2 := opstore.PrivacyRequest{WorkspaceID: w.ID, Kind: opstore.RequestExport, IdentifierKind: "email", IdentifierHash: "h2", File: "old.zip"}
	if err := s.CreatePrivacyRequest(ctx, &exp2); err != nil {
		t.Fatal(err)
	}
	if files, _ := s.ExpireExports(ctx, exp2.RequestedAt); len(files) != 0 {
		t.Errorf("expired too early: %v", files)
	}
	if files, _ := s.ExpireExports(ctx, exp2.RequestedAt.Add(time.Millisecond)); !slices.Equal(files, []string{"old.zip"}) {
		t.Errorf("expired %v", files)
	}
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, opstore.ErrNotFound) }

func TestSuppressedIdentifiers(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := privacyWorkspace(t, s, "Shop")
	add := []opstore.Suppressed{{WorkspaceID: w.ID, Hash: "a", Kind: "email", RequestID: "prq_1"}, {WorkspaceID: w.ID, Hash: "b", Kind: "user_id"}}
	if err := s.AddSuppressed(ctx, add); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSuppressed(ctx, add[:1]); err != nil { // again: kept once
		t.Fatal(err)
	}
	if err := s.AddSuppressed(ctx, []opstore.Suppressed{{WorkspaceID: "ws_none", Hash: "c"}}); !isNotFound(err) {
		t.Errorf("unknown workspace: %v", err)
	}
	var got []string
	if err := s.EachSuppressed(ctx, func(x opstore.Suppressed) error {
		got = append(got, x.WorkspaceID+"/"+x.Hash+"/"+x.Kind+"/"+x.RequestID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{w.ID + "/a/email/prq_1", w.ID + "/b/user_id/"}; !slices.Equal(got, want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
	if n, _ := s.SuppressedCount(ctx, w.ID); n != 2 {
		t.Errorf("count %d", n)
	}
}

func TestRetentionPolicies(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	w := privacyWorkspace(t, s, "Shop")
	w2 := privacyWorkspace(t, s, "Keeps all")
	p, err := s.RetentionPolicy(ctx, w.ID)
	if err != nil || p.EventDays != 0 || p.WorkspaceID != w.ID {
		t.Fatalf("default policy %+v, %v", p, err)
	}
	if err := s.SetRetentionPolicy(ctx, opstore.RetentionPolicy{WorkspaceID: w.ID, EventDays: 30, UpdatedBy: "Mai"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRetentionPolicy(ctx, opstore.RetentionPolicy{WorkspaceID: w2.ID, EventDays: 0, UpdatedBy: "Mai"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRetentionPolicy(ctx, opstore.RetentionPolicy{WorkspaceID: w.ID, EventDays: -1}); err == nil {
		t.Error("negative days accepted")
	}
	clock.add(time.Hour)
	if err := s.SetRetentionPolicy(ctx, opstore.RetentionPolicy{WorkspaceID: w.ID, EventDays: 365, UpdatedBy: "Lan"}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.RetentionPolicies(ctx)
	if err != nil || len(ps) != 1 || ps[0].EventDays != 365 || ps[0].UpdatedBy != "Lan" || !ps[0].LastRunAt.IsZero() {
		t.Fatalf("policies %+v, %v", ps, err)
	}
	ran := t0.Add(2 * time.Hour)
	if err := s.RecordRetentionRun(ctx, w.ID, ran, 42); err != nil {
		t.Fatal(err)
	}
	p, _ = s.RetentionPolicy(ctx, w.ID)
	if !p.LastRunAt.Equal(ran.Truncate(time.Millisecond)) || p.LastDeleted != 42 || p.EventDays != 365 {
		t.Errorf("after a run %+v", p)
	}
}

func TestRejectedOf(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := privacyWorkspace(t, s, "Shop")
	rs := []opstore.Rejected{
		{WorkspaceID: w.ID, SourceID: "src", Code: "missing_event", Payload: `{"type":"track","userId":"u-lan"}`},
		{WorkspaceID: w.ID, SourceID: "src", Code: "missing_event", Payload: `{"type":"track","traits":{"email":"Lan@Example.vn"}}`},
		{WorkspaceID: w.ID, SourceID: "src", Code: "missing_event", Payload: `{"type":"track","userId":"u-lan2"}`}, // not u-lan
		{WorkspaceID: "ws_other", SourceID: "src", Code: "missing_event", Payload: `{"userId":"u-lan"}`},
	}
	if err := s.AddRejected(ctx, rs); err != nil {
		t.Fatal(err)
	}
	values := []string{"u-lan", "lan@example.vn"}
	got, err := s.RejectedOf(ctx, w.ID, values)
	if err != nil || len(got) != 2 || got[0].Payload != rs[1].Payload || got[1].Payload != rs[0].Payload {
		t.Fatalf("rejected of Lan: %+v, %v", got, err)
	}
	if n, err := s.DeleteRejectedOf(ctx, w.ID, values); err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if n, _ := s.RejectedCount(ctx, w.ID); n != 1 {
		t.Errorf("%d rejected left, want 1", n)
	}
	if n, _ := s.RejectedCount(ctx, "ws_other"); n != 1 {
		t.Errorf("other workspace lost its rejected message")
	}
	if got, _ := s.RejectedOf(ctx, w.ID, nil); len(got) != 0 {
		t.Errorf("no values: %v", got)
	}
}
