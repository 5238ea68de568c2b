package analytics

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cjmhq/cjm/eventstore"
)

// Index is an in-memory, columnar copy of one workspace's events, kept for
// the analyses: every event as a few integers (time, dictionary codes of
// its name, type, source, page path and actor), more columns (a property,
// a context field) loaded the first time a query asks for them, and the
// events ordered by person and time, so a funnel, a path or a retention
// table is one pass over each person's events in memory.
//
// The index catches up with the event store on View, at most once per
// MaxStale: it reads only the events appended since (by Seq), and starts
// over when events were deleted (privacy requests, retention). People are
// resolved through Resolve at each catch-up, so a merge or a split changes
// the counts without re-reading anything.
type Index struct {
	store eventstore.Store
	ws    string
	// Resolve returns who is behind a userId or anonymousId (identity
	// resolution: identity.People); nil counts each userId, else each
	// anonymousId, as one person.
	Resolve func(ctx context.Context) (func(userID, anonymousID string) string, error)
	// MaxStale is how old a view may be before View catches up (default 2s).
	MaxStale time.Duration

	mu   sync.Mutex // serialises catching up and column loads
	view atomic.Pointer[View]
	// read and toRead count the rows of the catch-up under way.
	read, toRead atomic.Int64

	rows    rows
	cols    map[string]*column
	names   *dict
	types   *dict
	sources *dict
	paths   *dict
	actors  *dict // "u:" + userId, or "a:" + anonymousId
	places  map[string]*placeCache
}

// rows are the index's columns, one entry per event in Seq order. They
// only grow (or start over): a View holds them cut at its length.
type rows struct {
	seq    []uint64
	ts     []int64 // milliseconds
	name   []uint32
	typ    []uint8
	source []uint32
	path   []uint32
	actor  []uint32
}

func (r *rows) len() int { return len(r.seq) }

// column is one more field of the events, dictionary coded and kept
// sparse: the rows (in Seq order) that have a value, and its code. Most
// fields are on few events (a survey's score, a campaign); a dense column
// would take four bytes of every event for each.
type column struct {
	field      string
	rows, vals []uint32
	dict       *dict
}

// set gives row (after every row set before) its value.
func (c *column) set(row int, value string, ok bool) {
	if !ok {
		return
	}
	c.rows = append(c.rows, uint32(row))
	c.vals = append(c.vals, c.dict.code(value))
}

// dense returns the codes of the first n rows (0: no value).
func (c *column) dense(n int) []uint32 {
	out := make([]uint32, n)
	for j, r := range c.rows {
		if int(r) >= n {
			break
		}
		out[r] = c.vals[j]
	}
	return out
}

// dict is an append-only dictionary of strings; code 0 is "" (missing).
type dict struct {
	mu    sync.RWMutex
	codes map[string]uint32
	strs  []string
}

func newDict() *dict { return &dict{codes: map[string]uint32{"": 0}, strs: []string{""}} }

// code returns the code of s, adding it when new.
func (d *dict) code(s string) uint32 {
	d.mu.RLock()
	c, ok := d.codes[s]
	d.mu.RUnlock()
	if ok {
		return c
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.codes[s]; ok {
		return c
	}
	c = uint32(len(d.strs))
	s = strings.Clone(s) // s may be a piece of a larger text the scan read
	d.codes[s] = c
	d.strs = append(d.strs, s)
	return c
}

// lookup returns the code of s, if s is in the dictionary.
func (d *dict) lookup(s string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.codes[s]
	return c, ok
}

// list returns the strings by code, as they are now.
func (d *dict) list() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.strs[:len(d.strs):len(d.strs)]
}

// NewIndex returns the index of a workspace's events; it reads nothing
// until the first View.
func NewIndex(store eventstore.Store, workspaceID string) *Index {
	ix := &Index{store: store, ws: workspaceID}
	ix.reset()
	return ix
}

func (ix *Index) reset() {
	ix.rows = rows{}
	ix.cols = map[string]*column{}
	ix.names, ix.types, ix.sources, ix.paths, ix.actors = newDict(), newDict(), newDict(), newDict(), newDict()
	ix.places = map[string]*placeCache{}
}

// View returns the events as they are now (catching up with the store
// when the current view is older than MaxStale).
func (ix *Index) View(ctx context.Context) (*View, error) {
	if v := ix.view.Load(); v != nil && time.Since(v.at) < cmp.Or(ix.MaxStale, 2*time.Second) {
		return v, nil
	}
	return ix.Refresh(ctx)
}

// Current returns the latest view, nil before the first.
func (ix *Index) Current() *View { return ix.view.Load() }

// Progress is how far the catch-up under way is: rows read of rows to
// read (0, 0 when none is under way).
func (ix *Index) Progress() (read, total int64) { return ix.read.Load(), ix.toRead.Load() }

// Refresh catches up with the store now and returns the new view.
func (ix *Index) Refresh(ctx context.Context) (*View, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if v := ix.view.Load(); v != nil && time.Since(v.at) < 50*time.Millisecond {
		return v, nil // another caller just caught up
	}
	n := ix.rows.len()
	if n > 0 {
		// Were events deleted? Then the index starts over.
		last := ix.rows.seq[n-1]
		have, err := ix.store.Count(ctx, eventstore.Filter{WorkspaceID: ix.ws, BeforeSeq: last + 1})
		if err != nil {
			return nil, err
		}
		if have != int64(n) {
			ix.reset()
		}
	}
	if err := ix.catchUp(ctx); err != nil {
		return nil, err
	}
	v, err := ix.newView(ctx)
	if err != nil {
		return nil, err
	}
	ix.view.Store(v)
	return v, nil
}

// catchUp reads the events appended since the last one indexed, with the
// loaded columns.
func (ix *Index) catchUp(ctx context.Context) error {
	var after uint64
	if n := ix.rows.len(); n > 0 {
		after = ix.rows.seq[n-1]
	}
	fields := make([]string, 0, len(ix.cols))
	for f := range ix.cols {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	cols := make([]*column, len(fields))
	for i, f := range fields {
		cols[i] = ix.cols[f]
	}
	r := &ix.rows
	// Grow the columns once to what is coming: appending would leave up
	// to half of each unused.
	coming, err := ix.store.Count(ctx, eventstore.Filter{WorkspaceID: ix.ws, AfterSeq: after})
	if err != nil {
		return err
	}
	passes := 1 + (max(0, len(cols)-(fieldsPerScan-1))+fieldsPerScan-1)/fieldsPerScan
	ix.read.Store(0)
	ix.toRead.Store(coming * int64(passes))
	defer ix.toRead.Store(0)
	if k := int(coming); k > 0 {
		r.seq, r.ts, r.name, r.typ = slices.Grow(r.seq, k), slices.Grow(r.ts, k), slices.Grow(r.name, k), slices.Grow(r.typ, k)
		r.source, r.path, r.actor = slices.Grow(r.source, k), slices.Grow(r.path, k), slices.Grow(r.actor, k)
	}
	// The first read brings the events with a few fields, more reads the
	// other fields (see fieldsPerScan).
	first, rest := cols[:min(len(cols), fieldsPerScan-1)], cols[min(len(cols), fieldsPerScan-1):]
	n0 := r.len()
	err = ix.store.ScanRows(ctx, eventstore.RowQuery{WorkspaceID: ix.ws, AfterSeq: after, Fields: fields[:len(first)]}, func(e *eventstore.Row) error {
		ix.read.Add(1)
		if n := r.len(); n > 0 && e.Seq <= r.seq[n-1] {
			return nil
		}
		actor := ""
		switch {
		case e.UserID != "":
			actor = "u:" + e.UserID
		case e.AnonymousID != "":
			actor = "a:" + e.AnonymousID
		}
		r.seq = append(r.seq, e.Seq)
		r.ts = append(r.ts, e.Timestamp.UnixMilli())
		r.name = append(r.name, ix.names.code(e.Name))
		r.typ = append(r.typ, uint8(ix.types.code(e.Type)))
		r.source = append(r.source, ix.sources.code(e.SourceID))
		r.path = append(r.path, ix.paths.code(e.Path))
		r.actor = append(r.actor, ix.actors.code(actor))
		for i, c := range first {
			c.set(r.len()-1, e.Fields[i].S, e.Fields[i].OK)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ix.fill(ctx, rest, after, n0)
}

// fieldsPerScan is how many fields one read of the store brings at most:
// DuckDB runs out of memory at its default limit (96MB) reading seven
// JSON fields of ten million events in one query, and reads four well.
const fieldsPerScan = 4

// fill reads the fields of cols for the indexed events after Seq after
// (rows from `from` on), fieldsPerScan fields per read of the store.
func (ix *Index) fill(ctx context.Context, cols []*column, after uint64, from int) error {
	seqs := ix.rows.seq
	for len(cols) > 0 {
		group := cols[:min(len(cols), fieldsPerScan)]
		cols = cols[len(group):]
		names := make([]string, len(group))
		for i, c := range group {
			names[i] = c.field
		}
		i := from
		err := ix.store.ScanRows(ctx, eventstore.RowQuery{WorkspaceID: ix.ws, AfterSeq: after, Fields: names}, func(e *eventstore.Row) error {
			ix.read.Add(1)
			// Rows come in Seq order, as the index holds them.
			for i < len(seqs) && seqs[i] < e.Seq {
				i++
			}
			if i < len(seqs) && seqs[i] == e.Seq {
				for j, c := range group {
					c.set(i, e.Fields[j].S, e.Fields[j].OK)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("analytics index: read %v: %w", names, err)
		}
	}
	return nil
}

// Want asks for fields to be read with the events from the next catch-up
// on (or at once, for the events already indexed), so that one read of the
// store brings them all.
func (ix *Index) Want(ctx context.Context, fields ...string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.load(ctx, fields)
}

// load reads the fields not yet in the index for the events it holds, in
// one scan of the store. ix.mu is held.
func (ix *Index) load(ctx context.Context, fields []string) error {
	var missing []*column
	for _, f := range fields {
		if _, ok := ix.cols[f]; !ok {
			c := &column{field: f, dict: newDict()}
			ix.cols[f] = c
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 || ix.rows.len() == 0 {
		return nil
	}
	if err := ix.fill(ctx, missing, 0, 0); err != nil {
		for _, c := range missing {
			delete(ix.cols, c.field)
		}
		return err
	}
	return nil
}

// anyValue reports whether any indexed event has a value of field.
func (ix *Index) anyValue(ctx context.Context, field string) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.load(ctx, []string{field}); err != nil {
		return false, err
	}
	return len(ix.cols[field].rows) > 0, nil
}

// sparse returns the rows (Seq order) of the first n events that have a
// value of field, their codes, and the dictionary: a field few events carry
// costs little this way.
func (ix *Index) sparse(ctx context.Context, field string, n int) (rows, vals []uint32, values []string, err error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.load(ctx, []string{field}); err != nil {
		return nil, nil, nil, err
	}
	c := ix.cols[field]
	k, _ := slices.BinarySearch(c.rows, uint32(n))
	return c.rows[:k:k], c.vals[:k:k], c.dict.list(), nil
}

// column returns the codes of field for the first n events (Seq order)
// and its dictionary, reading the field from the store the first time it
// is asked for.
func (ix *Index) column(ctx context.Context, field string, n int) ([]uint32, []string, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.load(ctx, []string{field}); err != nil {
		return nil, nil, err
	}
	c := ix.cols[field]
	return c.dense(n), c.dict.list(), nil
}

// View is the index at one moment: its events ordered by person, then
// time, then Seq, every column in that order, so that a query reads each
// person's events from consecutive memory. It never changes; queries on
// it may run concurrently.
//
// An event of a view is its position in that order; raw holds the index's
// columns in Seq order, and order maps each position to its Seq-order row
// (for the columns and places kept by the index).
type View struct {
	ix *Index
	at time.Time
	n  int

	ts     []int64
	name   []uint32
	typ    []uint8
	source []uint32
	path   []uint32

	raw   rows
	order []uint32
	// ident is 0, 1, ..., n-1: events(p) is a slice of it.
	ident []uint32

	// person is each actor's person; persons names each person (a
	// profile id, or "u:"/"a:" and the id when identity does not know it).
	person  []uint32
	persons []string
	// start[p] is where person p's events begin (start has one more entry).
	start []uint32

	mu     sync.Mutex
	places map[string][]uint16 // by map version, in the view's order
}

// Len is the number of events (of people: events without any id are not
// analysed).
func (v *View) Len() int { return v.n }

// Persons is the number of people.
func (v *View) Persons() int { return len(v.persons) }

// PersonID names person p.
func (v *View) PersonID(p int) string { return v.persons[p] }

// Names lists the event names by code.
func (v *View) names() []string { return v.ix.names.list() }

func (ix *Index) newView(ctx context.Context) (*View, error) {
	r := ix.rows
	n := r.len()
	raw := rows{seq: r.seq[:n:n], ts: r.ts[:n:n], name: r.name[:n:n], typ: r.typ[:n:n], source: r.source[:n:n], path: r.path[:n:n], actor: r.actor[:n:n]}
	v := &View{ix: ix, at: time.Now(), raw: raw, places: map[string][]uint16{}}

	// Actors to people.
	actors := ix.actors.list()
	var resolve func(u, a string) string
	if ix.Resolve != nil {
		var err error
		if resolve, err = ix.Resolve(ctx); err != nil {
			return nil, fmt.Errorf("analytics index: resolve people: %w", err)
		}
	}
	// An id identity does not know is a person of its own, named by the
	// actor's key (no copy); profiles may gather several actors.
	v.person = make([]uint32, len(actors))
	profiles := map[string]uint32{}
	for a, key := range actors {
		if key == "" {
			v.person[a] = noPerson
			continue
		}
		id := key
		if resolve != nil {
			var pid string
			if key[0] == 'u' {
				pid = resolve(key[2:], "")
			} else {
				pid = resolve("", key[2:])
			}
			if pid != "" && pid != key {
				p, ok := profiles[pid]
				if !ok {
					p = uint32(len(v.persons))
					profiles[pid] = p
					v.persons = append(v.persons, pid)
				}
				v.person[a] = p
				continue
			}
		}
		v.person[a] = uint32(len(v.persons))
		v.persons = append(v.persons, id)
	}

	// Events by person (a counting sort), then by time within each person.
	np := len(v.persons)
	v.start = make([]uint32, np+1)
	for i := range n {
		if p := v.person[raw.actor[i]]; p != noPerson {
			v.start[p+1]++
		}
	}
	for p := range np {
		v.start[p+1] += v.start[p]
	}
	v.order = make([]uint32, v.start[np])
	fill := slices.Clone(v.start[:np])
	for i := range n {
		if p := v.person[raw.actor[i]]; p != noPerson {
			v.order[fill[p]] = uint32(i)
			fill[p]++
		}
	}
	byTime := func(a, b uint32) int { return cmp.Or(cmp.Compare(raw.ts[a], raw.ts[b]), cmp.Compare(a, b)) }
	v.parallel(np, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			evs := v.order[v.start[p]:v.start[p+1]]
			if !slices.IsSortedFunc(evs, byTime) {
				slices.SortFunc(evs, byTime)
			}
		}
	})

	// The columns in that order.
	v.n = len(v.order)
	v.ts, v.name, v.typ = gather(raw.ts, v.order), gather(raw.name, v.order), gather(raw.typ, v.order)
	v.source, v.path = gather(raw.source, v.order), gather(raw.path, v.order)
	v.ident = make([]uint32, v.n)
	for i := range v.ident {
		v.ident[i] = uint32(i)
	}
	return v, nil
}

// gather returns col[order[0]], col[order[1]], ...
func gather[T any](col []T, order []uint32) []T {
	out := make([]T, len(order))
	for i, r := range order {
		out[i] = col[r]
	}
	return out
}

// noPerson marks an actor without any id.
const noPerson = ^uint32(0)

// byTime orders two events of the view by time (then position).
func (v *View) byTime(a, b uint32) int {
	return cmp.Or(cmp.Compare(v.ts[a], v.ts[b]), cmp.Compare(a, b))
}

// parallel splits [0, n) into one range per CPU and runs fn on each.
func (v *View) parallel(n int, fn func(lo, hi int)) {
	workers := v.workers(n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// workers is how many goroutines share n items: one per CPU, each with
// at least 1024 of them.
func (v *View) workers(n int) int {
	return min(runtime.GOMAXPROCS(0), max(1, n/1024))
}

// events returns person p's events (indexes into the columns), in time order.
func (v *View) events(p int) []uint32 { return v.ident[v.start[p]:v.start[p+1]] }

// column returns a field of every event (properties.NAME, context.X,
// traits.X) as dictionary codes in the view's order, and the dictionary.
func (v *View) column(ctx context.Context, field string) (codes []uint32, values []string, err error) {
	// The index keeps the field in Seq order; the view's order is made for
	// each query rather than kept, which would hold every field twice.
	raw, values, err := v.ix.column(ctx, field, v.raw.len())
	if err != nil {
		return nil, nil, err
	}
	return gather(raw, v.order), values, nil
}

// nameCode returns the code of an event name, if any event has it.
func (v *View) nameCode(name string) (uint32, bool) { return v.ix.names.lookup(name) }

// Row is one event as Rows gives it.
type Row struct {
	Person uint32 // index of the person (see PersonID)
	TS     int64  // milliseconds
	Name   string
}

// Rows returns an iterator over every event with its person, by person and
// time (to hand the same events to another engine).
func (v *View) Rows() func() (Row, bool) {
	names := v.names()
	p, i := 0, 0
	return func() (Row, bool) {
		for p < len(v.persons) && i >= int(v.start[p+1]-v.start[p]) {
			p, i = p+1, 0
		}
		if p >= len(v.persons) {
			return Row{}, false
		}
		r := int(v.start[p]) + i
		i++
		return Row{Person: uint32(p), TS: v.ts[r], Name: names[v.name[r]]}, true
	}
}
