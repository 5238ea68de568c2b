package journeymap_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
)

func TestBook(t *testing.T) {
	ctx := context.Background()
	ops, err := sqlite.Open(filepath.Join(t.TempDir(), "ops.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ops.Close() })
	ws := opstore.Workspace{Name: "Shop"}
	if err := ops.CreateWorkspace(ctx, &ws); err != nil {
		t.Fatal(err)
	}
	book := journeymap.NewBook(ops)
	who := opstore.MapChange{AuthorName: "test"}

	m, _ := journeymap.FromTemplate("aida", "vi")
	e, err := book.Create(ctx, ws.ID, m, who)
	if err != nil || e.Version != 1 {
		t.Fatalf("create: %v, %+v", err, e.MapRecord)
	}
	if _, err := book.Create(ctx, ws.ID, m.Clone(), who); !errors.Is(err, opstore.ErrConflict) {
		t.Errorf("same name again: %v", err)
	}
	bad := m.Clone()
	bad.Stages[0].Touchpoints = append(bad.Stages[0].Touchpoints, journeymap.Touchpoint{Name: "X", Channel: "tv"})
	var errs journeymap.Errors
	if _, err := book.Save(ctx, ws.ID, e.ID, 1, bad, who); !errors.As(err, &errs) {
		t.Errorf("invalid save: %v", err)
	}

	// Two editors on version 1: the second is refused.
	rename := journeymap.Edit{Op: "set", Target: "map", Field: "name", Value: []byte(`"AIDA online"`)}
	if e, err = book.Edit(ctx, ws.ID, e.ID, 1, []journeymap.Edit{rename}, who); err != nil || e.Version != 2 {
		t.Fatalf("edit: %v %d", err, e.Version)
	}
	if _, err := book.Edit(ctx, ws.ID, e.ID, 1, []journeymap.Edit{rename}, who); !errors.Is(err, opstore.ErrStale) {
		t.Errorf("stale edit: %v", err)
	}

	// Import: the same document is no new version; a changed one is.
	y, err := journeymap.Marshal(e.Map)
	if err != nil {
		t.Fatal(err)
	}
	if got, created, err := book.Import(ctx, ws.ID, y, who); err != nil || created || got.Version != 2 {
		t.Errorf("identical import: %v created=%v v%d", err, created, got.Version)
	}
	changed := []byte(string(y) + "departments: [Marketing]\n")
	if got, created, err := book.Import(ctx, ws.ID, changed, who); err != nil || created || got.Version != 3 || len(got.Map.Departments) != 1 {
		t.Errorf("changed import: %v created=%v %+v", err, created, got.MapRecord)
	}

	// Restore version 1 as version 4; duplicate under a new name.
	r, err := book.Restore(ctx, ws.ID, e.ID, 1, who)
	if err != nil || r.Version != 4 || r.Map.Name != m.Name {
		t.Errorf("restore: %v %+v", err, r.MapRecord)
	}
	d, err := book.Duplicate(ctx, ws.ID, e.ID, "Bản sao", who)
	if err != nil || d.ID == e.ID || d.Version != 1 || len(d.Map.Stages) != len(m.Stages) {
		t.Errorf("duplicate: %v %+v", err, d.MapRecord)
	}
	if f, err := book.Find(ctx, ws.ID, "bản sao"); err != nil || f.ID != d.ID {
		t.Errorf("find by name: %v", err)
	}
	if _, err := book.Get(ctx, "ws_other", e.ID); !errors.Is(err, opstore.ErrNotFound) {
		t.Errorf("another workspace: %v", err)
	}
}
