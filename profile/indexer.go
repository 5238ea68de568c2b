package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// Config is what the indexer and the service work with.
type Config struct {
	Store  opstore.ProfileStore
	Ops    opstore.Store // workspaces (currency), sources (channels), maps
	Events eventstore.Store
	Graph  identity.Graph
	// Purchase says which events are orders (default DefaultPurchase).
	Purchase Purchase
	Logger   *slog.Logger
	// BatchSize is how many events one batch of the index takes in at
	// most (default 10,000).
	BatchSize int
	// Poll is how often the indexer looks for new events when nothing
	// wakes it (default one second).
	Poll time.Duration
	Now  func() time.Time
}

func (c Config) withDefaults() Config {
	c.Purchase = c.Purchase.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 10_000
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Indexer keeps the profile index: it reads the event store from its own
// offset in batches, each taken in with one transaction (a batch read
// twice changes nothing), and recomputes the profiles whose actors had
// events or that the identity graph changed (ProfilesChanged, the
// identity.Listener). When a journey map's matchers change it recomputes
// every actor's stage on that map.
//
// Only one Indexer may run over a store.
type Indexer struct {
	cfg  Config
	book *journeymap.Book
	wake chan struct{}

	mu      sync.Mutex // guards the caches below (Run and CatchUp may overlap in tests)
	sources map[string]opstore.Source
	wss     map[string]*workspaceMaps
}

// workspaceMaps are the compiled maps of a workspace.
type workspaceMaps struct {
	maps []compiledMap
}

type compiledMap struct {
	id          string
	m           *journeymap.Map
	c           *journeymap.Classifier // nil when its matchers do not compile
	fingerprint int64
}

// NewIndexer returns an indexer over cfg.
func NewIndexer(cfg Config) *Indexer {
	cfg = cfg.withDefaults()
	return &Indexer{cfg: cfg, book: journeymap.NewBook(cfg.Ops), wake: make(chan struct{}, 1),
		sources: map[string]opstore.Source{}, wss: map[string]*workspaceMaps{}}
}

// Notify wakes the indexer: there are new events or identity changes.
func (ix *Indexer) Notify() {
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// Run indexes until ctx ends, waking on Notify and every Poll.
func (ix *Indexer) Run(ctx context.Context) error {
	backoff := ix.cfg.Poll
	for {
		n, err := ix.step(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			ix.cfg.Logger.Error("profile index", "err", err)
			backoff = min(2*backoff, time.Minute)
		default:
			backoff = ix.cfg.Poll
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ix.wake:
		case <-time.After(backoff):
		}
	}
}

// CatchUp takes in every stored event and every queued identity change,
// then returns.
func (ix *Indexer) CatchUp(ctx context.Context) error {
	for {
		n, err := ix.step(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// step does one round of work and says how much it did.
func (ix *Indexer) step(ctx context.Context) (int, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.refreshMaps(ctx); err != nil {
		return 0, err
	}
	// Events first: their actors are then linked already when the graph's
	// news of their profiles is read, which then changes nothing.
	n, err := ix.indexBatch(ctx)
	if err != nil {
		return n, err
	}
	m, err := ix.recompute(ctx)
	return n + m, err
}

// ProfilesChanged implements identity.Listener: the graph changed these
// profiles (merged maps each profile merged away to the one it joined).
// They are queued for the indexer, which reads their identifiers from the
// graph; notes follow merges at once.
func (ix *Indexer) ProfilesChanged(ctx context.Context, workspace string, changed []identity.ProfileID, merged map[identity.ProfileID]identity.ProfileID) {
	ids := make([]string, len(changed))
	for i, p := range changed {
		ids[i] = string(p)
	}
	m := make(map[string]string, len(merged))
	for from, into := range merged {
		m[string(from)] = string(into)
	}
	if err := ix.cfg.Store.MarkProfiles(ctx, workspace, ids, m); err != nil {
		ix.cfg.Logger.Error("profile index: queueing changed profiles", "workspace", workspace, "count", len(ids), "err", err)
		return
	}
	ix.Notify()
}

// indexBatch takes in the next batch of events; it returns how many
// events it read.
func (ix *Indexer) indexBatch(ctx context.Context) (int, error) {
	off, err := ix.cfg.Store.ProfileOffset(ctx)
	if err != nil {
		return 0, err
	}
	last, err := ix.cfg.Events.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	if last <= off {
		return 0, nil
	}
	to := min(last, off+uint64(ix.cfg.BatchSize))
	b := newBatch(ix)
	n := 0
	err = ix.cfg.Events.Scan(ctx, eventstore.Filter{AfterSeq: off, BeforeSeq: to + 1}, func(m *event.Message) error {
		n++
		return b.add(ctx, m)
	})
	if err != nil {
		return n, err
	}
	acts, err := b.activities(ctx)
	if err != nil {
		return n, err
	}
	if err := ix.cfg.Store.ApplyProfileBatch(ctx, opstore.ProfileBatch{From: off, To: to, Actors: acts}); err != nil {
		return n, err
	}
	return max(n, 1), nil
}

// batch gathers what a batch of events adds to each actor.
type batch struct {
	ix       *Indexer
	acts     map[actorKey]*opstore.ActorActivity
	order    []actorKey
	currency map[string]int              // workspace -> minor digits
	stages   map[actorKey]map[string]int // actor -> map id -> index in Stages
}

type actorKey struct {
	ws string
	opstore.Actor
}

func newBatch(ix *Indexer) *batch {
	return &batch{ix: ix, acts: map[actorKey]*opstore.ActorActivity{}, currency: map[string]int{},
		stages: map[actorKey]map[string]int{}}
}

// actorOf is the actor of a message: its userId, else its anonymousId,
// normalised as the identity graph writes them; ok is false for junk.
func actorOf(m *event.Message) (opstore.Actor, bool) {
	kind, raw := identity.UserID, m.UserID
	if raw == "" {
		kind, raw = identity.AnonymousID, m.AnonymousID
	}
	v, err := identity.Normalize(kind, raw)
	if err != nil {
		return opstore.Actor{}, false
	}
	return opstore.Actor{Kind: string(kind), ID: v}, true
}

func (b *batch) add(ctx context.Context, m *event.Message) error {
	a, ok := actorOf(m)
	if !ok {
		return nil
	}
	k := actorKey{m.WorkspaceID, a}
	act := b.acts[k]
	if act == nil {
		act = &opstore.ActorActivity{WorkspaceID: m.WorkspaceID, Actor: a, FirstSeen: m.Timestamp, LastSeen: m.Timestamp}
		b.acts[k] = act
		b.order = append(b.order, k)
	}
	ts := m.Timestamp
	if ts.Before(act.FirstSeen) {
		act.FirstSeen = ts
	}
	if ts.After(act.LastSeen) {
		act.LastSeen = ts
	}
	act.Events++
	act.Refs = append(act.Refs, opstore.EventRef{At: ts, Seq: m.Seq})
	ch, err := b.ix.channel(ctx, m.SourceID)
	if err != nil {
		return err
	}
	act.Channels |= channelBit(ch)
	p := b.ix.cfg.Purchase
	if m.Type == event.Track && m.Event == p.Event {
		digits, err := b.minorDigits(ctx, m.WorkspaceID)
		if err != nil {
			return err
		}
		act.Orders++
		act.Revenue += orderValue(m.Properties, p.Revenue, digits)
		if ts.After(act.LastOrderAt) {
			act.LastOrderAt = ts
		}
	}
	if m.Type == event.Identify {
		for _, t := range traitValues(m.Traits) {
			// Within a batch, a value repeated is not a change.
			if n := len(act.Traits); n > 0 {
				if prev := lastTrait(act.Traits, t.name); prev != nil && prev.Value == t.value {
					continue
				}
			}
			act.Traits = append(act.Traits, opstore.TraitChange{Trait: t.name, Value: t.value, At: ts, Seq: m.Seq, SourceID: m.SourceID})
		}
	}
	maps, err := b.ix.workspaceMaps(ctx, m.WorkspaceID)
	if err != nil {
		return err
	}
	for _, cm := range maps.maps {
		if cm.c == nil {
			continue
		}
		pl := cm.c.ClassifyMessage(m)
		if pl.Stage < 0 {
			continue
		}
		g := opstore.ActorStage{MapID: cm.id, Stage: cm.m.Stages[pl.Stage].Key, At: ts, Seq: m.Seq}
		if pl.Touchpoint >= 0 {
			g.Touchpoint = cm.m.Stages[pl.Stage].Touchpoints[pl.Touchpoint].Key
		}
		idx := b.stages[k]
		if idx == nil {
			idx = map[string]int{}
			b.stages[k] = idx
		}
		if i, ok := idx[cm.id]; ok {
			if old := act.Stages[i]; later(g.At, g.Seq, old.At, old.Seq) {
				act.Stages[i] = g
			}
			continue
		}
		idx[cm.id] = len(act.Stages)
		act.Stages = append(act.Stages, g)
	}
	return nil
}

// later reports whether (at, seq) comes after (at2, seq2).
func later(at time.Time, seq uint64, at2 time.Time, seq2 uint64) bool {
	return at.After(at2) || at.Equal(at2) && seq > seq2
}

func lastTrait(ts []opstore.TraitChange, name string) *opstore.TraitChange {
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Trait == name {
			return &ts[i]
		}
	}
	return nil
}

// activities are the batch's actors with the profile the graph gives each.
func (b *batch) activities(ctx context.Context) ([]opstore.ActorActivity, error) {
	out := make([]opstore.ActorActivity, 0, len(b.order))
	for _, k := range b.order {
		act := b.acts[k]
		if b.ix.cfg.Graph != nil {
			p, err := b.ix.cfg.Graph.Resolve(ctx, k.ws, identity.Identifier{Kind: identity.Kind(k.Kind), Value: k.ID})
			switch {
			case err == nil:
				act.ProfileID = string(p)
			case !errors.Is(err, identity.ErrNotFound) && !errors.Is(err, identity.ErrJunk):
				return nil, err
			}
		}
		out = append(out, *act)
	}
	return out, nil
}

func (b *batch) minorDigits(ctx context.Context, ws string) (int, error) {
	if d, ok := b.currency[ws]; ok {
		return d, nil
	}
	w, err := b.ix.cfg.Ops.Workspace(ctx, ws)
	d := 0 // VND, the default, when the workspace is not (or no longer) known
	switch {
	case err == nil:
		d = minorDigits(w.Currency)
	case !errors.Is(err, opstore.ErrNotFound):
		return 0, err
	}
	b.currency[ws] = d
	return d, nil
}

// channel is the channel of a source ("" when it is not known).
func (ix *Indexer) channel(ctx context.Context, sourceID string) (opstore.Channel, error) {
	if s, ok := ix.sources[sourceID]; ok {
		return s.Channel, nil
	}
	s, err := ix.cfg.Ops.Source(ctx, sourceID)
	if err != nil && !errors.Is(err, opstore.ErrNotFound) {
		return "", err
	}
	ix.sources[sourceID] = s
	return s.Channel, nil
}

// orderValue is the value of an order in minor units: the first of the
// properties present, a JSON number or a numeric text.
func orderValue(props json.RawMessage, names []string, digits int) int64 {
	if len(props) == 0 {
		return 0
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(props, &m) != nil {
		return 0
	}
	for _, n := range names {
		raw, ok := m[n]
		if !ok {
			continue
		}
		s := string(bytes.TrimSpace(raw))
		if strings.HasPrefix(s, `"`) {
			if json.Unmarshal(raw, &s) != nil {
				continue
			}
			s = strings.TrimSpace(s)
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return int64(math.Round(v * math.Pow10(digits)))
		}
	}
	return 0
}

type traitValue struct{ name, value string }

// maxTraitValue is the longest trait value kept, in bytes.
const maxTraitValue = 1000

// traitValues are the top-level traits of an identify call as text: a
// string as it is, any other value as JSON; nulls are left out.
func traitValues(traits json.RawMessage) []traitValue {
	if len(traits) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(traits))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return nil
	}
	out := make([]traitValue, 0, len(m))
	for _, k := range sortedKeys(m) {
		var s string
		switch v := m[k].(type) {
		case nil:
			continue
		case string:
			s = strings.TrimSpace(v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(b)
		}
		if s == "" {
			continue
		}
		if len(s) > maxTraitValue {
			s = truncate(s, maxTraitValue)
		}
		out = append(out, traitValue{k, s})
	}
	return out
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// workspaceMaps returns the compiled maps of a workspace.
func (ix *Indexer) workspaceMaps(ctx context.Context, ws string) (*workspaceMaps, error) {
	if w, ok := ix.wss[ws]; ok {
		return w, nil
	}
	w, err := ix.compileMaps(ctx, ws)
	if err != nil {
		return nil, err
	}
	ix.wss[ws] = w
	return w, nil
}

// compileMaps compiles the current maps of a workspace.
func (ix *Indexer) compileMaps(ctx context.Context, ws string) (*workspaceMaps, error) {
	entries, err := ix.book.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	srcs, err := ix.cfg.Ops.Sources(ctx, ws)
	if err != nil {
		return nil, err
	}
	w := &workspaceMaps{}
	for _, e := range entries {
		c, err := ix.book.Classifier(ctx, ws, e.Map)
		var invalid journeymap.Errors
		switch {
		case errors.As(err, &invalid):
			c = nil // classifies nothing until fixed
		case err != nil:
			return nil, err
		}
		w.maps = append(w.maps, compiledMap{id: e.ID, m: e.Map, c: c, fingerprint: fingerprint(e.Map, srcs)})
	}
	return w, nil
}

// fingerprint identifies what a map's classification depends on: its
// stages and touchpoints with their keys and matchers, and the sources
// the matchers may name.
func fingerprint(m *journeymap.Map, srcs []opstore.Source) int64 {
	type tp struct {
		Key   string
		Match *journeymap.Matcher
	}
	type st struct {
		Key   string
		Match *journeymap.Matcher
		Tps   []tp
	}
	var doc struct {
		Stages  []st
		Sources []opstore.Source
	}
	for _, s := range m.Stages {
		x := st{Key: s.Key, Match: s.Match}
		for _, t := range s.Touchpoints {
			x.Tps = append(x.Tps, tp{t.Key, t.Match})
		}
		doc.Stages = append(doc.Stages, x)
	}
	for _, s := range srcs {
		doc.Sources = append(doc.Sources, opstore.Source{ID: s.ID, Name: s.Name, Channel: s.Channel})
	}
	b, _ := json.Marshal(doc)
	h := fnv.New64a()
	h.Write(b)
	return int64(h.Sum64() >> 1)
}

// refreshMaps compiles the maps of every workspace again and, for each map
// whose matchers changed since its stages were computed (or that is new,
// or was deleted), recomputes every actor's stage on it.
func (ix *Indexer) refreshMaps(ctx context.Context) error {
	wss, err := ix.cfg.Ops.Workspaces(ctx)
	if err != nil {
		return err
	}
	ix.sources = map[string]opstore.Source{}
	for _, ws := range wss {
		w, err := ix.compileMaps(ctx, ws.ID)
		if err != nil {
			return err
		}
		ix.wss[ws.ID] = w
		done, err := ix.cfg.Store.MapMatchers(ctx, ws.ID)
		if err != nil {
			return err
		}
		for _, cm := range w.maps {
			if fp, ok := done[cm.id]; ok && fp == cm.fingerprint {
				continue
			}
			if err := ix.relabel(ctx, ws.ID, cm); err != nil {
				return err
			}
		}
		for id := range done {
			if !w.has(id) {
				if err := ix.cfg.Store.ReplaceMapStages(ctx, ws.ID, id, 0, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *workspaceMaps) has(id string) bool {
	for _, cm := range w.maps {
		if cm.id == id {
			return true
		}
	}
	return false
}

// relabel recomputes every actor's latest place on a map from the events
// the index has taken in.
func (ix *Indexer) relabel(ctx context.Context, ws string, cm compiledMap) error {
	start := time.Now()
	off, err := ix.cfg.Store.ProfileOffset(ctx)
	if err != nil {
		return err
	}
	stages := map[opstore.Actor]opstore.ActorStage{}
	if cm.c != nil && off > 0 {
		e := journeymap.Event{Fields: make([]journeymap.Value, len(cm.c.Fields()))}
		err := ix.cfg.Events.ScanRows(ctx, eventstore.RowQuery{WorkspaceID: ws, Fields: cm.c.Fields()}, func(r *eventstore.Row) error {
			if r.Seq > off {
				return nil
			}
			m := event.Message{UserID: r.UserID, AnonymousID: r.AnonymousID}
			a, ok := actorOf(&m)
			if !ok {
				return nil
			}
			e.Type, e.Name, e.SourceID, e.Path = r.Type, r.Name, r.SourceID, r.Path
			for i, f := range r.Fields {
				e.Fields[i] = journeymap.Value{S: f.S, OK: f.OK}
			}
			pl := cm.c.Classify(&e)
			if pl.Stage < 0 {
				return nil
			}
			if old, ok := stages[a]; ok && !later(r.Timestamp, r.Seq, old.At, old.Seq) {
				return nil
			}
			g := opstore.ActorStage{MapID: cm.id, Stage: cm.m.Stages[pl.Stage].Key, At: r.Timestamp, Seq: r.Seq}
			if pl.Touchpoint >= 0 {
				g.Touchpoint = cm.m.Stages[pl.Stage].Touchpoints[pl.Touchpoint].Key
			}
			stages[a] = g
			return nil
		})
		if err != nil {
			return fmt.Errorf("relabel map %s: %w", cm.id, err)
		}
	}
	if err := ix.cfg.Store.ReplaceMapStages(ctx, ws, cm.id, cm.fingerprint, stages); err != nil {
		return err
	}
	ix.cfg.Logger.Debug("profile index: stages recomputed", "workspace", ws, "map", cm.id, "actors", len(stages), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// recomputeBatch is how many queued profiles one round recomputes.
const recomputeBatch = 2000

// recompute relinks and recomputes queued profiles; it returns how many.
func (ix *Indexer) recompute(ctx context.Context) (int, error) {
	marks, err := ix.cfg.Store.ProfileMarks(ctx, recomputeBatch)
	if err != nil || len(marks) == 0 {
		return 0, err
	}
	var links []opstore.ProfileLink
	for _, m := range marks {
		if !m.Relink || ix.cfg.Graph == nil {
			continue
		}
		ids, err := ix.cfg.Graph.Identifiers(ctx, m.WorkspaceID, identity.ProfileID(m.ProfileID))
		if err != nil && !errors.Is(err, identity.ErrNotFound) {
			return 0, err
		}
		l := opstore.ProfileLink{Mark: m}
		for _, id := range ids {
			if id.Kind == identity.UserID || id.Kind == identity.AnonymousID {
				l.Actors = append(l.Actors, opstore.Actor{Kind: string(id.Kind), ID: id.Value})
			}
		}
		links = append(links, l)
	}
	changed, err := ix.cfg.Store.LinkProfiles(ctx, links)
	if err != nil {
		return 0, err
	}
	// A relink that moved no actor with events leaves the row as it is.
	var dirty []opstore.ProfileMark
	for _, m := range marks {
		if m.Dirty || changed[m.Mark] {
			dirty = append(dirty, m)
		}
	}
	facts, err := ix.cfg.Store.ProfileFacts(ctx, dirty)
	if err != nil {
		return 0, err
	}
	var rows []opstore.ProfileRow
	var gone []opstore.ProfileMark
	for i, f := range facts {
		if row, ok := summarise(f); ok {
			rows = append(rows, row)
		} else {
			gone = append(gone, dirty[i])
		}
	}
	if err := ix.cfg.Store.SaveProfiles(ctx, rows, gone, marks); err != nil {
		return 0, err
	}
	return len(marks), nil
}

// summarise computes a profile's row from its facts; ok is false when the
// profile has no events (left to be deleted).
func summarise(f opstore.ProfileFacts) (opstore.ProfileRow, bool) {
	r := opstore.ProfileRow{WorkspaceID: f.WorkspaceID, ID: f.ProfileID, Stages: f.Stages}
	for _, a := range f.Actors {
		if a.Events == 0 {
			continue
		}
		// Actors come userIds first, the latest first.
		if r.Actor.ID == "" {
			r.Actor = a.Actor
		}
		if r.FirstSeen.IsZero() || a.FirstSeen.Before(r.FirstSeen) {
			r.FirstSeen = a.FirstSeen
		}
		if a.LastSeen.After(r.LastSeen) {
			r.LastSeen = a.LastSeen
		}
		r.Events += a.Events
		r.Orders += a.Orders
		r.Revenue += a.Revenue
		r.Channels |= a.Channels
		if a.LastOrderAt.After(r.LastOrderAt) {
			r.LastOrderAt = a.LastOrderAt
		}
	}
	if r.Events == 0 {
		return r, false
	}
	traits := map[string]string{}
	for _, t := range f.Traits {
		traits[t.Trait] = t.Value
	}
	r.Name, r.Email, r.Phone = nameOf(traits), emailOf(traits), phoneOf(traits)
	r.NameKey = Fold(r.Name)
	if r.NameKey == "" {
		r.NameKey = "~"
	}
	r.Terms, r.TermsHash = terms(r.Name, r.Email, r.Phone, traits)
	return r, true
}

// nameOf is the name traits give: name, else first and last name.
func nameOf(traits map[string]string) string {
	if n := strings.TrimSpace(traits["name"]); n != "" {
		return n
	}
	pick := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(traits[k]); v != "" {
				return v
			}
		}
		return ""
	}
	// Vietnamese names are written family name first.
	return strings.TrimSpace(pick("last_name", "lastName") + " " + pick("first_name", "firstName"))
}

func emailOf(traits map[string]string) string {
	e, _ := NormalizeEmail(traits["email"])
	return e
}

func phoneOf(traits map[string]string) string {
	p, _ := NormalizePhone(traits["phone"])
	return p
}
