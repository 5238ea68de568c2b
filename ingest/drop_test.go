package ingest_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/ingest"
)

// Options.Drop drops messages at Submit, and in the loader those appended
// before the drop rule changed (an erasure while they waited in the log).
func TestDropAtSubmitAndBeforeLoading(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	if err := e.Pipeline.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var erased atomic.Value // the user id being dropped
	erased.Store("")
	drop := func(m *event.Message) bool { return m.UserID != "" && m.UserID == erased.Load().(string) }
	p, err := ingest.Open(ctx, ingest.Options{Log: e.Log, Store: e.Events, Rejects: e.Ops, LoadDelay: time.Millisecond, Drop: drop})
	if err != nil {
		t.Fatal(err)
	}
	e.Pipeline = p
	m := func(id, user string) event.Message {
		ms := msg(e, id)
		ms.UserID = user
		return ms
	}

	// Appended while nobody is erased, but not loaded yet.
	p.PauseLoading()
	res, err := p.Submit(ctx, []event.Message{m("a1", "lan"), m("a2", "minh"), m("a3", "lan")}, nil)
	if err != nil || res.Accepted != 3 || res.Suppressed != 0 {
		t.Fatalf("first batch: %+v, %v", res, err)
	}
	erased.Store("lan")
	batch := []event.Message{m("b1", "minh"), m("b2", "lan"), m("b3", "minh")}
	res, err = p.Submit(ctx, batch, nil)
	if err != nil || res.Accepted != 2 || res.Suppressed != 1 {
		t.Fatalf("second batch: %+v, %v", res, err)
	}
	if batch[1].MessageID != "b2" {
		t.Error("Submit changed the caller's batch")
	}
	p.ResumeLoading()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var stored []string
	if err := e.Events.Scan(ctx, eventstore.Filter{}, func(m *event.Message) error {
		stored = append(stored, m.MessageID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a2", "b1", "b3"}; !slices.Equal(stored, want) {
		t.Errorf("stored %v, want %v", stored, want)
	}
	if st := p.Stats(); st.Suppressed != 3 || st.Accepted != 5 || st.LoadedSeq != st.LogSeq {
		t.Errorf("stats %+v: want 3 suppressed (1 at submit, 2 before loading), 5 accepted, all loaded", st)
	}

	// A batch whose last messages are dropped is still loaded up to its end.
	if _, err := p.Submit(ctx, []event.Message{m("c1", "minh")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.PauseLoading()
	if _, err := p.Submit(ctx, []event.Message{m("c2", "minh")}, nil); err != nil {
		t.Fatal(err)
	}
	erased.Store("minh")
	p.ResumeLoading()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.Events.Count(ctx, eventstore.Filter{User: "minh"}); n != 4 {
		t.Errorf("minh has %d stored, want 4 (c2 dropped by the loader)", n)
	}
	if st := p.Stats(); st.LoadedSeq != st.LogSeq {
		t.Errorf("loaded up to %d of %d", st.LoadedSeq, st.LogSeq)
	}
}
