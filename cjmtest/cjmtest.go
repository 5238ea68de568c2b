// Package cjmtest builds real stores for tests: a freshly migrated SQLite
// operational store, an event log and a DuckDB event store in t.TempDir(),
// with the ingestion pipeline over them and one workspace and source.
package cjmtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cjmhq/cjm/eventlog"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
)

// Env is a set of real stores in one temporary directory.
type Env struct {
	Dir       string
	Ops       *sqlite.Store
	Log       *eventlog.Log
	Events    *duckdb.Store
	Pipeline  *ingest.Pipeline
	Workspace opstore.Workspace
	Source    opstore.Source
}

// New opens a fresh environment, closed when the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	e := Open(t, t.TempDir())
	ctx := context.Background()
	e.Workspace = opstore.Workspace{Name: "Test shop"}
	if err := e.Ops.CreateWorkspace(ctx, &e.Workspace); err != nil {
		t.Fatal(err)
	}
	e.Source = opstore.Source{WorkspaceID: e.Workspace.ID, Name: "Website", Channel: opstore.Website}
	if err := e.Ops.CreateSource(ctx, &e.Source); err != nil {
		t.Fatal(err)
	}
	return e
}

// Open opens the stores in dir (which may hold earlier data) without adding
// anything; Close is registered with t.Cleanup, and may be called earlier.
func Open(t testing.TB, dir string) *Env {
	t.Helper()
	e := &Env{Dir: dir}
	var err error
	if e.Ops, err = sqlite.Open(filepath.Join(dir, "cjm.sqlite")); err != nil {
		t.Fatal(err)
	}
	if e.Log, err = eventlog.Open(filepath.Join(dir, "log"), eventlog.Options{}); err != nil {
		t.Fatal(err)
	}
	if e.Events, err = duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{MemoryLimit: "256MB"}); err != nil {
		t.Fatal(err)
	}
	if e.Pipeline, err = ingest.Open(context.Background(), ingest.Options{Log: e.Log, Store: e.Events, Rejects: e.Ops}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// Close closes everything (idempotent).
func (e *Env) Close() {
	if e.Pipeline != nil {
		_ = e.Pipeline.Close(context.Background())
		e.Pipeline = nil
	}
	if e.Events != nil {
		_ = e.Events.Close()
		e.Events = nil
	}
	if e.Log != nil {
		_ = e.Log.Close()
		e.Log = nil
	}
	if e.Ops != nil {
		_ = e.Ops.Close()
		e.Ops = nil
	}
}
