// Package ingest is the one path every message takes into cjm, whatever sent
// it (the HTTP collector, a file import, the demo): deduplicate on messageId,
// append durably to the event log (the acknowledgement point), keep rejected
// messages, and load the log into the event store in the background.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventlog"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

// RejectStore keeps rejected messages (opstore.Store does).
type RejectStore interface {
	AddRejected(ctx context.Context, rs []opstore.Rejected) error
}

// Options configure a Pipeline.
type Options struct {
	Log     *eventlog.Log
	Store   eventstore.Store
	Rejects RejectStore
	Logger  *slog.Logger
	// LoadBatch is the most messages loaded into the store in one transaction (default 20,000).
	LoadBatch int
	// LoadDelay is how long the loader lets a small backlog (under a quarter
	// of LoadBatch) gather before loading it (default 200 ms): fewer, larger
	// event store transactions leave more CPU for acknowledging. WaitLoaded
	// and Flush cut the wait short.
	LoadDelay time.Duration
	// Drop, when set, says which messages are not to be kept (those of a
	// person whose data was erased): they are dropped at Submit, and again
	// by the loader before they reach the store (they may have been
	// appended before the erasure), and counted in Stats.Suppressed.
	Drop func(*event.Message) bool
}

// Pipeline ingests messages. It is safe for concurrent use.
type Pipeline struct {
	log     *eventlog.Log
	store   eventstore.Store
	rejects RejectStore
	logger  *slog.Logger
	batch   int
	delay   time.Duration
	hurry   chan struct{} // poked by WaitLoaded to skip the load delay
	drop    func(*event.Message) bool

	pauseMu sync.Mutex
	paused  chan struct{} // non-nil while loading is paused; closed on resume

	mu      sync.Mutex // guards seen, pending and writes
	seen    *keySet
	pending *keySet             // keys of messages being appended, not yet durable
	writes  map[*write]struct{} // the appends under way

	loaded   atomic.Uint64
	loadMu   sync.Mutex
	loadCond *sync.Cond
	loadErr  error

	accepted, duplicates, rejected, suppressed atomic.Uint64

	cancel context.CancelFunc
	done   chan struct{}
}

// Result says what became of a submitted batch.
type Result struct {
	Accepted   int // newly stored
	Duplicates int // already stored before (same messageId in the workspace)
	// Rejected lists the messages that failed validation, by batch index.
	Rejected []Rejection
	// Suppressed counts the messages Options.Drop dropped.
	Suppressed int
	// LastSeq is the log position of the last accepted message (0 if none).
	LastSeq uint64
}

// Rejection is one rejected message of a batch.
type Rejection struct {
	Index int `json:"index"`
	event.Error
}

// Open starts a pipeline: it rebuilds the dedup index from the store and the
// log's unloaded tail, then starts the loader.
func Open(ctx context.Context, o Options) (*Pipeline, error) {
	if o.LoadBatch <= 0 {
		o.LoadBatch = 20000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LoadDelay <= 0 {
		o.LoadDelay = 200 * time.Millisecond
	}
	p := &Pipeline{log: o.Log, store: o.Store, rejects: o.Rejects, logger: o.Logger, batch: o.LoadBatch, delay: o.LoadDelay, drop: o.Drop,
		hurry: make(chan struct{}, 1), done: make(chan struct{}), pending: newKeySet(0), writes: map[*write]struct{}{}}
	p.loadCond = sync.NewCond(&p.loadMu)
	last, err := o.Store.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	if ls := o.Log.LastSeq(); last > ls {
		return nil, fmt.Errorf("event store is ahead of the event log (store at %d, log at %d): the log was removed or replaced", last, ls)
	}
	n, err := o.Store.Count(ctx, eventstore.Filter{})
	if err != nil {
		return nil, err
	}
	p.seen = newKeySet(int(n) + 1<<16)
	if err := o.Store.DedupKeys(ctx, func(k uint64) { p.seen.add(k) }); err != nil {
		return nil, err
	}
	var m event.Message
	if _, err := o.Log.ReadFrom(last, 0, func(_ uint64, rec []byte) error {
		if err := event.DecodeBinary(rec, &m); err != nil {
			return err
		}
		p.seen.add(event.DedupKey(m.WorkspaceID, m.MessageID))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	p.loaded.Store(last)
	lctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.load(lctx)
	return p, nil
}

// Submit ingests messages that passed event.Normalize or event.Check and carry
// their WorkspaceID and SourceID, and keeps the rejected ones. It returns once
// the new messages are durable in the log; dedup is on (workspace, messageId),
// also within the batch. rejected are stored as given (their Index is kept).
func (p *Pipeline) Submit(ctx context.Context, msgs []event.Message, rejected []opstore.Rejected) (Result, error) {
	var res Result
	if len(rejected) > 0 {
		if err := p.rejects.AddRejected(ctx, rejected); err != nil {
			return res, fmt.Errorf("store rejected messages: %w", err)
		}
		p.rejected.Add(uint64(len(rejected)))
	}
	if p.drop != nil {
		msgs, res.Suppressed = p.keep(msgs, false)
	}
	if len(msgs) == 0 {
		return res, nil
	}
	// Decide under the lock which messages are new; a message whose first
	// copy is still being written (a client retrying while the fsync runs)
	// is acknowledged only once that write is durable.
	mine := &write{done: make(chan struct{})}
	var waits []*write
	keys := make([]uint64, 0, len(msgs))
	news := make([]int, 0, len(msgs))
	inFlightDup := false
	p.mu.Lock()
	for i := range msgs {
		k := event.DedupKey(msgs[i].WorkspaceID, msgs[i].MessageID)
		if p.pending.has(k) {
			inFlightDup = true
			res.Duplicates++
			continue
		}
		if !p.seen.add(k) {
			res.Duplicates++
			continue
		}
		p.pending.add(k)
		keys = append(keys, k)
		news = append(news, i)
	}
	if inFlightDup {
		// Its first copy is in one of the writes under way: wait for them all.
		for w := range p.writes {
			waits = append(waits, w)
		}
	}
	if len(news) > 0 {
		p.writes[mine] = struct{}{}
	}
	p.mu.Unlock()

	var err error
	if len(news) > 0 {
		size := 0
		for _, i := range news {
			m := &msgs[i]
			size += 128 + len(m.MessageID) + len(m.UserID) + len(m.AnonymousID) + len(m.Event) + len(m.Name) +
				len(m.Properties) + len(m.Traits) + len(m.Context) + len(m.Integrations)
		}
		buf := make([]byte, 0, size)
		recs := make([][]byte, 0, len(news))
		for _, i := range news {
			start := len(buf)
			buf = event.AppendBinary(buf, &msgs[i])
			recs = append(recs, buf[start:len(buf):len(buf)])
		}
		// Not cancellable: once queued the records are written anyway, and
		// a caller that gave up must not leave keys of unwritten messages.
		var first uint64
		if first, err = p.log.Append(context.WithoutCancel(ctx), recs); err == nil {
			res.Accepted = len(recs)
			res.LastSeq = first + uint64(len(recs)) - 1
		}
	}
	p.mu.Lock()
	for _, k := range keys {
		p.pending.remove(k)
		if err != nil {
			p.seen.remove(k) // not written: a retry must not be taken for a duplicate
		}
	}
	delete(p.writes, mine)
	p.mu.Unlock()
	mine.err = err
	close(mine.done)
	if err != nil {
		return Result{Rejected: res.Rejected}, fmt.Errorf("append to event log: %w", err)
	}
	p.accepted.Add(uint64(res.Accepted))
	p.duplicates.Add(uint64(res.Duplicates))
	for _, w := range waits {
		if w == mine {
			continue
		}
		select {
		case <-w.done:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		if w.err != nil {
			return res, fmt.Errorf("an earlier copy of a message in this batch could not be stored: %w", w.err)
		}
	}
	return res, nil
}

// keep returns the messages of msgs that p.drop keeps, and how many it
// dropped. msgs is filtered in place when inPlace is set, else (a caller's
// batch) left as it is.
func (p *Pipeline) keep(msgs []event.Message, inPlace bool) ([]event.Message, int) {
	var kept []event.Message
	n := 0
	for i := range msgs {
		if !p.drop(&msgs[i]) {
			if n > 0 {
				kept = append(kept, msgs[i])
			}
			continue
		}
		if n == 0 {
			if inPlace {
				kept = msgs[:i]
			} else {
				kept = append(make([]event.Message, 0, len(msgs)-1), msgs[:i]...)
			}
		}
		n++
	}
	if n == 0 {
		return msgs, 0
	}
	p.suppressed.Add(uint64(n))
	return kept, n
}

// write is one Submit's append to the log, which duplicates sent meanwhile wait for.
type write struct {
	done chan struct{}
	err  error
}

// load tails the log into the store until ctx ends.
func (p *Pipeline) load(ctx context.Context) {
	defer func() {
		close(p.done)
		p.loadMu.Lock()
		p.loadCond.Broadcast() // wake WaitLoaded callers: they see done
		p.loadMu.Unlock()
	}()
	batch := make([]event.Message, 0, p.batch)
	for {
		loaded := p.loaded.Load()
		if p.log.LastSeq() <= loaded {
			if err := p.log.Wait(ctx, loaded); err != nil {
				return
			}
		}
		if ch := p.pausedCh(); ch != nil {
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
		if p.log.LastSeq()-loaded < uint64(p.batch/4) {
			t := time.NewTimer(p.delay)
			select {
			case <-t.C:
			case <-p.hurry:
			case <-ctx.Done():
				t.Stop()
				return
			}
			t.Stop()
		}
		batch = batch[:0]
		var decodeErr error
		last, err := p.log.ReadFrom(loaded, p.batch, func(seq uint64, rec []byte) error {
			batch = append(batch, event.Message{})
			m := &batch[len(batch)-1]
			if err := event.DecodeBinary(rec, m); err != nil {
				decodeErr = fmt.Errorf("log record %d: %w", seq, err)
				return decodeErr
			}
			m.Seq = seq
			return nil
		})
		if err == nil {
			if p.drop != nil {
				batch, _ = p.keep(batch, true)
			}
			var stored uint64
			stored, err = p.storeBatch(batch)
			if stored > loaded {
				p.setLoaded(stored)
				loaded = stored
			}
		}
		if err != nil {
			p.logger.Error("loading events into the store", "err", err, "from_seq", loaded+1)
			p.setLoadErr(err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		p.setLoaded(last)
		if err := p.log.Release(last); err != nil {
			p.logger.Warn("releasing loaded log segments", "err", err)
		}
	}
}

// storeBatch appends batch to the event store. When the store refuses the
// batch, it looks for the message the store refuses on its own (halving the
// batch): one that fails while the message after it loads is kept in the
// rejected store and skipped, so one bad message cannot stop the loader. A
// failure of everything (a full disk) is returned, and the loader retries.
func (p *Pipeline) storeBatch(batch []event.Message) (stored uint64, err error) {
	ctx := context.Background()
	for len(batch) > 0 {
		err := p.store.Append(ctx, batch)
		if err == nil {
			return batch[len(batch)-1].Seq, nil
		}
		if n := p.storePrefix(batch); n > 0 {
			stored = batch[n-1].Seq
			batch = batch[n:] // now batch[0] fails on its own
		}
		if len(batch) < 2 || p.store.Append(ctx, batch[1:2]) != nil {
			// Nothing after it loads (yet): not provably this message's
			// fault. The next attempt starts at it, with what follows.
			return stored, err
		}
		if perr := p.poison(batch[0], err); perr != nil {
			return stored, perr
		}
		stored = batch[1].Seq
		batch = batch[2:]
	}
	return stored, nil
}

// storePrefix stores the longest prefix of batch that the store accepts,
// halving, and returns its length.
func (p *Pipeline) storePrefix(batch []event.Message) int {
	if p.store.Append(context.Background(), batch) == nil {
		return len(batch)
	}
	if len(batch) == 1 {
		return 0
	}
	mid := len(batch) / 2
	if k := p.storePrefix(batch[:mid]); k < mid {
		return k
	}
	return mid + p.storePrefix(batch[mid:])
}

// poison keeps a message the event store refused in the rejected store; if
// that fails too, the message is not skipped.
func (p *Pipeline) poison(m event.Message, err error) error {
	p.logger.Error("event store refused a message; kept as rejected", "seq", m.Seq, "messageId", m.MessageID, "err", err)
	payload, _ := json.Marshal(&m)
	r := opstore.Rejected{WorkspaceID: m.WorkspaceID, SourceID: m.SourceID, ReceivedAt: m.ReceivedAt, Origin: "store",
		Index: -1, Code: "store_failed", Reason: "the event store refused this message: " + err.Error(), Payload: string(payload)}
	if err := p.rejects.AddRejected(context.Background(), []opstore.Rejected{r}); err != nil {
		return fmt.Errorf("keeping refused message %d as rejected: %w", m.Seq, err)
	}
	p.rejected.Add(1)
	return nil
}

func (p *Pipeline) setLoaded(seq uint64) {
	p.loadMu.Lock()
	p.loaded.Store(seq)
	p.loadErr = nil
	p.loadMu.Unlock()
	p.loadCond.Broadcast()
}

func (p *Pipeline) setLoadErr(err error) {
	p.loadMu.Lock()
	p.loadErr = err
	p.loadMu.Unlock()
	p.loadCond.Broadcast()
}

// PauseLoading stops loading the log into the event store until
// ResumeLoading: a bulk import then has both cores for ingesting, and loads
// afterwards. Messages are acknowledged (durable) as usual meanwhile.
func (p *Pipeline) PauseLoading() {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	if p.paused == nil {
		p.paused = make(chan struct{})
	}
}

// ResumeLoading undoes PauseLoading.
func (p *Pipeline) ResumeLoading() {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	if p.paused != nil {
		close(p.paused)
		p.paused = nil
	}
}

func (p *Pipeline) pausedCh() chan struct{} {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	return p.paused
}

// WaitLoaded blocks until every message up to seq is in the event store.
// Call ResumeLoading first if loading was paused.
func (p *Pipeline) WaitLoaded(ctx context.Context, seq uint64) error {
	stop := context.AfterFunc(ctx, func() {
		p.loadMu.Lock()
		p.loadCond.Broadcast()
		p.loadMu.Unlock()
	})
	defer stop()
	if p.loaded.Load() < seq {
		select {
		case p.hurry <- struct{}{}:
		default:
		}
	}
	p.loadMu.Lock()
	defer p.loadMu.Unlock()
	for p.loaded.Load() < seq {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-p.done:
			return errors.New("ingest: pipeline closed before loading finished")
		default:
		}
		p.loadCond.Wait()
	}
	return nil
}

// Flush waits until everything acknowledged so far is in the event store.
func (p *Pipeline) Flush(ctx context.Context) error {
	return p.WaitLoaded(ctx, p.log.LastSeq())
}

// Stats are the pipeline's counters since it started.
type Stats struct {
	Accepted, Duplicates, Rejected uint64
	// Suppressed counts the messages Options.Drop dropped, at Submit or
	// before loading.
	Suppressed        uint64
	LogSeq, LoadedSeq uint64
	DedupKeys         int
	LoadError         string
}

// Stats returns the current counters.
func (p *Pipeline) Stats() Stats {
	s := Stats{Accepted: p.accepted.Load(), Duplicates: p.duplicates.Load(), Rejected: p.rejected.Load(), Suppressed: p.suppressed.Load(),
		LogSeq: p.log.LastSeq(), LoadedSeq: p.loaded.Load()}
	p.mu.Lock()
	s.DedupKeys = p.seen.len()
	p.mu.Unlock()
	p.loadMu.Lock()
	if p.loadErr != nil {
		s.LoadError = p.loadErr.Error()
	}
	p.loadMu.Unlock()
	return s
}

// Close stops the loader after it has loaded what the log holds (bounded by
// ctx). The log and the stores are closed by their owner.
func (p *Pipeline) Close(ctx context.Context) error {
	err := p.Flush(ctx)
	p.cancel()
	<-p.done
	p.loadMu.Lock()
	p.loadCond.Broadcast()
	p.loadMu.Unlock()
	return err
}
