package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

// IdentityStore is where the resolver keeps the graph (opstore/sqlite
// implements it).
type IdentityStore = opstore.IdentityStore

// EventSource is where the resolver reads messages (eventstore/duckdb
// implements it).
type EventSource = eventstore.IdentityScanner

// Errors of the review queue and the merge log, returned wrapped.
var (
	ErrNoReview = errors.New("no such review")
	ErrNoMerge  = errors.New("no such merge")
	ErrDecided  = errors.New("already decided")
)

// Listener is told which profiles the resolver changed.
type Listener interface {
	// ProfilesChanged is called after each stored change of a workspace's
	// graph, from the goroutine that made it (the resolver's, or the one
	// calling Approve, Split or Erase): changed are the profiles whose
	// identifiers changed (joined, merged into, split, erased); merged maps
	// each profile merged away to the profile that now holds it. A split
	// lists every part in changed. It may be called from several
	// goroutines at once, and should return quickly: the resolver waits
	// for it.
	ProfilesChanged(ctx context.Context, workspace string, changed []ProfileID, merged map[ProfileID]ProfileID)
}

// Options tune a Resolver.
type Options struct {
	// Cap is how many people (profiles holding a userId) an identifier
	// may be seen with; past it, it is shared and links nothing (default 3).
	Cap int
	// Batch is the most messages applied and stored at once (default 100,000).
	Batch int
	// Poll is how long Run waits when it has read everything (default 200 ms).
	Poll time.Duration
	// SourceName names a source by its id: a buyer_id trait without a
	// marketplace trait is qualified with it ("Shopee Mall" -> shopee:ID).
	SourceName func(ctx context.Context, sourceID string) string
	Listener   Listener
	Logger     *slog.Logger
	// Now is the clock of decisions (Approve, Reject, Split); default time.Now.
	Now func() time.Time
}

// Resolver resolves identifiers into profiles as messages reach the event
// store: Run reads them in log order, applies them to the graph held in
// memory and stores each batch of changes with the new offset in one
// transaction. It implements Graph; reads are answered from memory.
type Resolver struct {
	ops    IdentityStore
	events EventSource
	opts   Options
	log    *slog.Logger

	mu     sync.RWMutex // guards spaces and all they hold
	spaces map[string]*space

	// wmu makes one writer at a time: a batch, or a person's decision.
	// The store then always holds what memory holds, but for pending.
	wmu     sync.Mutex
	pending *saving
	sources map[string]string // source id -> name

	offset atomic.Uint64
	nmu    sync.Mutex
	moved  chan struct{} // closed when offset moves

	listener atomic.Pointer[Listener]

	messages, junk, merges, reviews, batches atomic.Uint64
	lastBatch                                atomic.Int64 // ns
	errMu                                    sync.Mutex
	lastErr                                  string
}

var _ Graph = (*Resolver)(nil)

// saving is a batch being stored with what it changed.
type saving struct {
	batch *opstore.IdentityBatch
	ch    *changes
}

// notice is what a Listener is told about one workspace.
type notice struct {
	ws      string
	changed []ProfileID
	merged  map[ProfileID]ProfileID
}

// NewResolver loads the identity graph from ops and returns a resolver
// that goes on from where the last one stopped.
func NewResolver(ops IdentityStore, events EventSource, opts Options) (*Resolver, error) {
	if opts.Cap <= 0 {
		opts.Cap = DefaultCap
	}
	if opts.Batch <= 0 {
		opts.Batch = 100000
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Resolver{ops: ops, events: events, opts: opts, log: opts.Logger, spaces: map[string]*space{},
		sources: map[string]string{}, moved: make(chan struct{})}
	if opts.Listener != nil {
		r.SetListener(opts.Listener)
	}
	if err := r.load(context.Background()); err != nil {
		return nil, fmt.Errorf("identity: load graph: %w", err)
	}
	return r, nil
}

// load reads the graph from the store.
func (r *Resolver) load(ctx context.Context) error {
	off, err := r.ops.IdentityOffset(ctx)
	if err != nil {
		return err
	}
	r.offset.Store(off)
	if err := r.ops.EachIdentifierRecord(ctx, func(rec *opstore.IdentifierRecord) error {
		r.space(rec.WorkspaceID).load(rec)
		return nil
	}); err != nil {
		return err
	}
	for _, sp := range r.spaces {
		sp.finish()
	}
	if err := r.ops.EachIdentityPair(ctx, func(ws string, pair uint64) error {
		r.space(ws).pairs[pair] = struct{}{}
		return nil
	}); err != nil {
		return err
	}
	blocks, err := r.ops.IdentityBlocks(ctx)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		r.space(b.WorkspaceID).addBlock(fromKey(b.A), fromKey(b.B))
	}
	return r.ops.EachIdentityReviewPair(ctx, func(ws, a, b string) error {
		r.space(ws).reviewed[pairKey(ProfileID(a), ProfileID(b))] = struct{}{}
		return nil
	})
}

// space returns the graph of a workspace, made empty if new (call with mu
// held for writing, or while loading).
func (r *Resolver) space(ws string) *space {
	sp := r.spaces[ws]
	if sp == nil {
		sp = newSpace(strings.Clone(ws), r.opts.Cap)
		r.spaces[sp.ws] = sp
	}
	return sp
}

// SetListener sets (or, with nil, removes) the listener.
func (r *Resolver) SetListener(l Listener) {
	if l == nil {
		r.listener.Store(nil)
		return
	}
	r.listener.Store(&l)
}

// Run resolves messages as they reach the event store until ctx ends. A
// failing batch is retried; Run returns nil when ctx ends.
func (r *Resolver) Run(ctx context.Context) error {
	for {
		n, err := r.Step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := time.Duration(0)
		switch {
		case err != nil:
			r.setErr(err)
			r.log.Error("identity resolution", "err", err, "offset", r.offset.Load())
			wait = time.Second
		case n == 0:
			wait = r.opts.Poll
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
	}
}

// Step resolves the next batch of messages, if the event store has any
// past the offset, and returns how many it applied.
func (r *Resolver) Step(ctx context.Context) (int, error) {
	n, notes, err := r.step(ctx)
	r.tell(ctx, notes)
	return n, err
}

func (r *Resolver) step(ctx context.Context) (int, []notice, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	notes, err := r.flushLocked(ctx)
	if err != nil {
		return 0, nil, err
	}
	off := r.offset.Load()
	last, err := r.events.LastSeq(ctx)
	if err != nil {
		return 0, notes, err
	}
	if last <= off {
		return 0, notes, nil
	}
	start := time.Now()
	to := min(last, off+uint64(r.opts.Batch))
	ch := newChanges()
	var (
		x       Extracted
		m       msg
		n       int
		applied = off
	)
	scanErr := r.events.ScanIdentity(ctx, off, to, func(row *eventstore.IdentityRow) error {
		Extract(row, r.sourceName(ctx, row.SourceID), &x)
		r.mu.Lock()
		r.apply(row, &x, &m, ch)
		r.mu.Unlock()
		ch.junk += x.Junk
		applied = row.Seq
		n++
		return nil
	})
	if scanErr != nil {
		// Store what was applied: memory is ahead of the store otherwise.
		to = applied
	}
	if to > off || len(ch.dirty) > 0 {
		r.pending = &saving{batch: r.batchOf(ch, to), ch: ch}
		more, err := r.flushLocked(ctx)
		notes = append(notes, more...)
		if err != nil {
			return n, notes, err
		}
	}
	if scanErr != nil {
		return n, notes, scanErr
	}
	r.messages.Add(uint64(n))
	r.junk.Add(uint64(ch.junk))
	r.batches.Add(1)
	r.lastBatch.Store(int64(time.Since(start)))
	r.setErr(nil)
	return n, notes, nil
}

// apply adds one message to the graph (mu held).
func (r *Resolver) apply(row *eventstore.IdentityRow, x *Extracted, m *msg, ch *changes) {
	sp := r.space(row.WorkspaceID)
	ids := x.IDs
	if x.Previous != "" {
		// previousId is a user id the graph knows, else an anonymous id.
		p := Identifier{Kind: AnonymousID, Value: x.Previous}
		if sp.nodes[Identifier{Kind: UserID, Value: x.Previous}] != nil {
			p.Kind = UserID
		}
		if !slices.Contains(ids, p) {
			x.IDs = append(ids, p)
			x.sort()
			ids = x.IDs
		}
	}
	*m = msg{seq: row.Seq, id: row.MessageID, at: row.Timestamp.UnixMilli(), alias: x.Alias, ids: ids}
	sp.apply(m, ch)
}

// sourceName names a source, asking Options.SourceName once per source.
func (r *Resolver) sourceName(ctx context.Context, id string) string {
	if r.opts.SourceName == nil || id == "" {
		return ""
	}
	name, ok := r.sources[id]
	if !ok {
		name = r.opts.SourceName(ctx, id)
		r.sources[strings.Clone(id)] = name
	}
	return name
}

// batchOf turns changes into a batch for the store, up to log position
// offset (0: a decision, which keeps the offset).
func (r *Resolver) batchOf(ch *changes, offset uint64) *opstore.IdentityBatch {
	b := &opstore.IdentityBatch{Offset: offset, SetOffset: offset > 0, Edges: ch.edges, Merges: ch.merges, Reviews: ch.reviews}
	b.Identifiers = make([]opstore.IdentifierRecord, 0, len(ch.dirty))
	for _, d := range ch.dirty {
		d.n.dirty = false
		if d.n.prof == nil {
			continue
		}
		b.Identifiers = append(b.Identifiers, d.sp.record(d.n))
	}
	return b
}

// flushLocked stores the pending batch, if any (wmu held), and returns
// what the listener is to be told.
func (r *Resolver) flushLocked(ctx context.Context) ([]notice, error) {
	p := r.pending
	if p == nil {
		return nil, nil
	}
	if err := r.ops.SaveIdentity(ctx, p.batch); err != nil {
		return nil, fmt.Errorf("identity: store changes: %w", err)
	}
	r.pending = nil
	r.merges.Add(uint64(len(p.batch.Merges)))
	r.reviews.Add(uint64(len(p.batch.Reviews)))
	if p.batch.SetOffset && p.batch.Offset > r.offset.Load() {
		r.offset.Store(p.batch.Offset)
		r.nmu.Lock()
		close(r.moved)
		r.moved = make(chan struct{})
		r.nmu.Unlock()
	}
	return notices(p.ch), nil
}

// notices sums up changes per workspace for the listener.
func notices(ch *changes) []notice {
	var out []notice
	for ws, set := range ch.changed {
		mm := ch.merged[ws]
		n := notice{ws: ws}
		if len(mm) > 0 {
			n.merged = make(map[ProfileID]ProfileID, len(mm))
			for from, into := range mm {
				for range len(mm) { // follow a -> b -> c
					next, ok := mm[into]
					if !ok {
						break
					}
					into = next
				}
				n.merged[from] = into
				delete(set, from)
				set[into] = struct{}{}
			}
		}
		for p := range set {
			n.changed = append(n.changed, p)
		}
		slices.Sort(n.changed)
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b notice) int { return strings.Compare(a.ws, b.ws) })
	return out
}

// tell calls the listener.
func (r *Resolver) tell(ctx context.Context, notes []notice) {
	l := r.listener.Load()
	if l == nil {
		return
	}
	for _, n := range notes {
		(*l).ProfilesChanged(ctx, n.ws, n.changed, n.merged)
	}
}

// Offset is the log position of the last message resolved and stored.
func (r *Resolver) Offset() uint64 { return r.offset.Load() }

// Caught waits until every message up to log position seq is resolved
// and stored (or ctx ends).
func (r *Resolver) Caught(ctx context.Context, seq uint64) error {
	for {
		r.nmu.Lock()
		moved := r.moved
		r.nmu.Unlock()
		if r.offset.Load() >= seq {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats are the resolver's counters.
type Stats struct {
	Offset      uint64 // log position resolved and stored
	Messages    uint64 // messages applied since start
	Junk        uint64 // identifier values dropped as junk since start
	Merges      uint64 // merges logged since start
	Reviews     uint64 // links queued for review since start
	Batches     uint64
	LastBatch   time.Duration
	Identifiers int // in memory, every workspace
	Profiles    int
	LastError   string
}

// Stats returns the counters.
func (r *Resolver) Stats() Stats {
	s := Stats{Offset: r.offset.Load(), Messages: r.messages.Load(), Junk: r.junk.Load(), Merges: r.merges.Load(),
		Reviews: r.reviews.Load(), Batches: r.batches.Load(), LastBatch: time.Duration(r.lastBatch.Load())}
	r.mu.RLock()
	for _, sp := range r.spaces {
		s.Identifiers += len(sp.nodes)
		s.Profiles += len(sp.profiles)
	}
	r.mu.RUnlock()
	r.errMu.Lock()
	s.LastError = r.lastErr
	r.errMu.Unlock()
	return s
}

func (r *Resolver) setErr(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	r.lastErr = ""
	if err != nil {
		r.lastErr = err.Error()
	}
}

func fromMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
