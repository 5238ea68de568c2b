package ingest_test

import (
	"path/filepath"

	"github.com/cjmhq/cjm/eventlog"
	"strings"

	"context"
	"fmt"
	"github.com/cjmhq/cjm/ingest"
	"sync"
	"testing"
	"time"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

func msg(e *cjmtest.Env, id string) event.Message {
	return event.Message{WorkspaceID: e.Workspace.ID, SourceID: e.Source.ID, MessageID: id, Type: event.Track,
		UserID: "u1", Event: "Order Completed", Timestamp: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
}

func count(t *testing.T, e *cjmtest.Env) int64 {
	t.Helper()
	if err := e.Pipeline.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := e.Events.Count(context.Background(), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubmitDedupsWithinAndAcrossBatches(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	res, err := e.Pipeline.Submit(ctx, []event.Message{msg(e, "a"), msg(e, "b"), msg(e, "a")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 1 {
		t.Errorf("first batch: %+v", res)
	}
	res, err = e.Pipeline.Submit(ctx, []event.Message{msg(e, "b"), msg(e, "c")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Duplicates != 1 {
		t.Errorf("second batch: %+v", res)
	}
	// The same messageId in another workspace is another message.
	other := msg(e, "a")
	other.WorkspaceID = "ws_other"
	if res, _ := e.Pipeline.Submit(ctx, []event.Message{other}, nil); res.Accepted != 1 {
		t.Errorf("other workspace: %+v", res)
	}
	if n := count(t, e); n != 4 {
		t.Errorf("stored %d, want 4", n)
	}
}

func TestDedupSurvivesRestart(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	if _, err := e.Pipeline.Submit(ctx, []event.Message{msg(e, "a"), msg(e, "b")}, nil); err != nil {
		t.Fatal(err)
	}
	count(t, e)
	// Appended to the log but (possibly) not yet loaded: still known after reopen.
	if _, err := e.Pipeline.Submit(ctx, []event.Message{msg(e, "c")}, nil); err != nil {
		t.Fatal(err)
	}
	ws, src := e.Workspace, e.Source
	e.Close()
	e2 := cjmtest.Open(t, e.Dir)
	e2.Workspace, e2.Source = ws, src
	res, err := e2.Pipeline.Submit(ctx, []event.Message{msg(e2, "a"), msg(e2, "c"), msg(e2, "d")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Duplicates != 2 {
		t.Errorf("after restart: %+v", res)
	}
	if n := count(t, e2); n != 4 {
		t.Errorf("stored %d, want 4", n)
	}
}

func TestConcurrentSubmitStoresEachOnce(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	// 8 senders, each sending the same 500 ids in batches of 50: every id stored once.
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range 10 {
				var ms []event.Message
				for i := range 50 {
					ms = append(ms, msg(e, fmt.Sprintf("m%d", b*50+i)))
				}
				if _, err := e.Pipeline.Submit(ctx, ms, nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := count(t, e); n != 500 {
		t.Errorf("stored %d, want 500", n)
	}
	s := e.Pipeline.Stats()
	if s.Accepted != 500 || s.Duplicates != 3500 {
		t.Errorf("stats %+v", s)
	}
}

func TestRejectedAreKept(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	rej := []opstore.Rejected{{WorkspaceID: e.Workspace.ID, SourceID: e.Source.ID, ReceivedAt: time.Now(), Origin: "http:/v1/batch",
		Index: 3, Code: "missing_event", Field: "event", Reason: "a track call needs an event name", Payload: `{"type":"track"}`}}
	if _, err := e.Pipeline.Submit(ctx, []event.Message{msg(e, "a")}, rej); err != nil {
		t.Fatal(err)
	}
	got, err := e.Ops.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: e.Workspace.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Code != "missing_event" || got[0].Index != 3 || got[0].Payload != `{"type":"track"}` {
		t.Errorf("rejected %+v", got)
	}
}

func BenchmarkSubmit(b *testing.B) {
	e := cjmtest.New(b)
	ctx := context.Background()
	batch := make([]event.Message, 100)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = msg(e, fmt.Sprint(n))
			batch[i].Properties = []byte(`{"product_id":"SKU-1","price":1290000,"currency":"VND"}`)
			n++
		}
		if _, err := e.Pipeline.Submit(ctx, batch, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

func TestPauseLoading(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	e.Pipeline.PauseLoading()
	res, err := e.Pipeline.Submit(ctx, []event.Message{msg(e, "a"), msg(e, "b")}, nil)
	if err != nil || res.Accepted != 2 {
		t.Fatal(res, err)
	}
	time.Sleep(300 * time.Millisecond) // longer than the load delay
	if n, _ := e.Events.Count(ctx, eventstore.Filter{}); n != 0 {
		t.Errorf("loaded %d while paused", n)
	}
	e.Pipeline.ResumeLoading()
	if n := count(t, e); n != 2 {
		t.Errorf("stored %d after resume", n)
	}
}

// refusing is the real DuckDB store refusing one message id, as a store
// would refuse a message it cannot hold.
type refusing struct {
	eventstore.Store
	bad string
}

func (r refusing) Append(ctx context.Context, msgs []event.Message) error {
	for _, m := range msgs {
		if m.MessageID == r.bad {
			return fmt.Errorf("cannot store %s", m.MessageID)
		}
	}
	return r.Store.Append(ctx, msgs)
}

func TestLoaderSkipsAMessageTheStoreRefuses(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	e.Close()
	env := cjmtest.Open(t, e.Dir)
	env.Workspace, env.Source = e.Workspace, e.Source
	// Reopen the pipeline over a store that refuses "m7".
	if err := env.Pipeline.Close(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := ingest.Open(ctx, ingest.Options{Log: env.Log, Store: refusing{env.Events, "m7"}, Rejects: env.Ops, LoadDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	env.Pipeline = p
	var ms []event.Message
	for i := range 20 {
		ms = append(ms, msg(env, fmt.Sprint("m", i)))
	}
	if _, err := p.Submit(ctx, ms, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, env); n != 19 {
		t.Errorf("stored %d, want the 19 others", n)
	}
	rej, _ := env.Ops.Rejected(ctx, opstore.RejectedFilter{WorkspaceID: env.Workspace.ID})
	if len(rej) != 1 || rej[0].Code != "store_failed" || !strings.Contains(rej[0].Payload, `"messageId":"m7"`) {
		t.Errorf("rejected %+v", rej)
	}
}

func TestCancelledSubmitLeavesNoKeys(t *testing.T) {
	e := cjmtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A caller that already gave up: whatever happens, a retry must be stored.
	_, _ = e.Pipeline.Submit(ctx, []event.Message{msg(e, "a")}, nil)
	res, err := e.Pipeline.Submit(context.Background(), []event.Message{msg(e, "a")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, e); n != 1 {
		t.Errorf("stored %d (retry answered %+v), want 1", n, res)
	}
}

func TestDuplicateWaitsForTheOriginalToBeDurable(t *testing.T) {
	dir := t.TempDir()
	e := cjmtest.New(t)
	ctx := context.Background()
	// A log whose group commit waits 300 ms: the original is not durable for a while.
	log, err := eventlog.Open(filepath.Join(dir, "log"), eventlog.Options{MaxDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	p, err := ingest.Open(ctx, ingest.Options{Log: log, Store: e.Events, Rejects: e.Ops})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	go func() { _, _ = p.Submit(ctx, []event.Message{msg(e, "a")}, nil) }()
	time.Sleep(50 * time.Millisecond)
	res, err := p.Submit(ctx, []event.Message{msg(e, "a")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 1 || log.LastSeq() != 1 {
		t.Errorf("duplicate answered %+v while the log holds %d records: acknowledged before the original was durable", res, log.LastSeq())
	}
}

func TestLoaderDoesNotStallOnARefusedLastMessage(t *testing.T) {
	e := cjmtest.New(t)
	ctx := context.Background()
	if err := e.Pipeline.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Windows of 10; the 10th message (the last of the first window) is refused.
	p, err := ingest.Open(ctx, ingest.Options{Log: e.Log, Store: refusing{e.Events, "m9"}, Rejects: e.Ops, LoadBatch: 10, LoadDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Pipeline = p
	var ms []event.Message
	for i := range 20 {
		ms = append(ms, msg(e, fmt.Sprint("m", i)))
	}
	if _, err := p.Submit(ctx, ms, nil); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatalf("loader stalled: %v (stats %+v)", err, p.Stats())
	}
	if n, _ := e.Events.Count(ctx, eventstore.Filter{}); n != 19 {
		t.Errorf("stored %d, want 19", n)
	}
}
