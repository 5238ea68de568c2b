package profile

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// Service reads profiles for the customers pages, the API and the CLI.
type Service struct {
	cfg  Config
	book *journeymap.Book
}

// NewService returns the profiles of cfg (Store, Ops, Events and Graph).
func NewService(cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{cfg: cfg, book: journeymap.NewBook(cfg.Ops)}
}

// ErrMerged is returned (wrapped in a *MergedError) for a profile that was
// merged into another.
var ErrMerged = errors.New("profile merged into another")

// MergedError says which profile a merged one joined.
type MergedError struct{ Into identity.ProfileID }

func (e *MergedError) Error() string { return "profile merged into " + string(e.Into) }
func (e *MergedError) Unwrap() error { return ErrMerged }

// Query selects and orders customers. Zero fields do not filter.
type Query struct {
	// Text finds customers by an identifier (a whole "kind:value", or the
	// start of a value), a profile id, their name (case and diacritics do
	// not matter: "nguyen van" finds "Nguyễn Văn An"), e-mail, phone in any
	// Vietnamese form, or a trait value.
	Text           string
	Channel        opstore.Channel
	MapID, Stage   string // the current stage on a map
	MinOrders      int64
	MinRevenue     int64 // minor units
	SeenWithinDays int
	Sort           opstore.ProfileSort
	// After is the Next of the previous page.
	After string
	Limit int
}

// Active reports whether q filters anything.
func (q Query) Active() bool {
	return strings.TrimSpace(q.Text) != "" || q.Channel != "" || (q.MapID != "" && q.Stage != "") ||
		q.MinOrders > 0 || q.MinRevenue > 0 || q.SeenWithinDays > 0
}

// Summary is a customer as the list shows it.
type Summary struct {
	opstore.ProfileRow
	Display  string // DisplayName, of the actor when nothing else is known
	Channels []opstore.Channel
	// Anonymous: nothing is known but an anonymousId.
	Anonymous bool
}

// Page is one page of customers.
type Page struct {
	Customers []Summary
	// Total is how many customers the query selects; when Capped, at
	// least that many: a filtered list is counted up to CountLimit, and
	// only as long as counting is quick.
	Total  int64
	Capped bool
	// Next is the After of the next page, "" on the last.
	Next string
}

// CountLimit is how far a filtered list is counted: "10,000+" beyond.
const CountLimit = 10_000

// searchIDs is how many profiles an identifier prefix brings at most.
const searchIDs = 200

// IdentifierSearcher finds identifiers by the beginning of their value,
// with their profiles. The identity resolver implements it.
type IdentifierSearcher interface {
	SearchIdentifiers(ctx context.Context, workspace, prefix string, limit int) ([]identity.Match, error)
}

// currenter says which profile now holds what a profile started (itself,
// or the one it was merged into). The identity resolver implements it.
type currenter interface {
	Current(ctx context.Context, workspace string, p identity.ProfileID) (identity.ProfileID, error)
}

// storeQuery is q as the store takes it.
func (s *Service) storeQuery(ctx context.Context, ws string, q Query) (opstore.ProfileQuery, bool, error) {
	sq := opstore.ProfileQuery{WorkspaceID: ws, Channels: ChannelMask(q.Channel), MinOrders: q.MinOrders, MinRevenue: q.MinRevenue,
		Sort: q.Sort, Limit: q.Limit}
	if q.MapID != "" && q.Stage != "" {
		sq.StageMap, sq.Stage = q.MapID, q.Stage
	}
	if q.SeenWithinDays > 0 {
		sq.SeenSince = s.cfg.Now().Add(-time.Duration(q.SeenWithinDays) * 24 * time.Hour)
	}
	text := strings.TrimSpace(q.Text)
	if text == "" {
		return sq, true, nil
	}
	ids, err := s.findIdentifiers(ctx, ws, text)
	if err != nil {
		return sq, false, err
	}
	sq.IDs = ids
	sq.Words = searchWords(text)
	return sq, len(sq.Words) > 0 || len(sq.IDs) > 0, nil
}

// findIdentifiers returns the profiles text names as an identifier: a
// profile id, a whole identifier ("email:lan@x.vn", an e-mail address, a
// phone number), or the start of an identifier's value.
func (s *Service) findIdentifiers(ctx context.Context, ws, text string) ([]string, error) {
	var out []string
	add := func(p identity.ProfileID) {
		if !slices.Contains(out, string(p)) {
			out = append(out, string(p))
		}
	}
	if strings.HasPrefix(text, "p_") && !strings.ContainsAny(text, " \t") {
		add(identity.ProfileID(text))
	}
	if s.cfg.Graph == nil {
		return out, nil
	}
	var ids []identity.Identifier
	if id, err := identity.ParseIdentifier(text); err == nil {
		ids = append(ids, id)
	}
	if e, ok := NormalizeEmail(text); ok {
		ids = append(ids, identity.Identifier{Kind: identity.Email, Value: e})
	}
	if p, ok := NormalizePhone(text); ok {
		ids = append(ids, identity.Identifier{Kind: identity.Phone, Value: p})
	}
	for _, k := range []identity.Kind{identity.UserID, identity.LoyaltyCard, identity.Zalo, identity.Facebook} {
		if v, err := identity.Normalize(k, text); err == nil {
			ids = append(ids, identity.Identifier{Kind: k, Value: v})
		}
	}
	for _, id := range ids {
		p, err := s.cfg.Graph.Resolve(ctx, ws, id)
		switch {
		case err == nil:
			add(p)
		case !errors.Is(err, identity.ErrNotFound) && !errors.Is(err, identity.ErrJunk):
			return nil, err
		}
	}
	if is, ok := s.cfg.Graph.(IdentifierSearcher); ok && len(text) >= 3 {
		ms, err := is.SearchIdentifiers(ctx, ws, text, searchIDs)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			add(m.Profile)
		}
	}
	return out, nil
}

// Search returns a page of the customers q selects.
func (s *Service) Search(ctx context.Context, ws string, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	sq, ok, err := s.storeQuery(ctx, ws, q)
	if err != nil || !ok {
		return Page{}, err
	}
	if q.After != "" {
		c, err := parseCursor(q.After)
		if err != nil {
			return Page{}, err
		}
		sq.After = &c
	}
	sq.Limit = q.Limit + 1
	sq.Count = true
	if q.Active() {
		sq.CountLimit = CountLimit
	}
	rows, n, err := s.cfg.Store.Profiles(ctx, sq)
	if err != nil {
		return Page{}, err
	}
	p := Page{Total: n.N, Capped: n.AtLeast}
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		p.Next = formatCursor(rows[len(rows)-1].Cursor(q.Sort))
	}
	for _, r := range rows {
		p.Customers = append(p.Customers, summary(r))
	}
	return p, nil
}

func summary(r opstore.ProfileRow) Summary {
	return Summary{ProfileRow: r, Display: DisplayName(r.Name, r.Email, r.Phone, r.Actor.ID), Channels: Channels(r.Channels),
		Anonymous: r.Name == "" && r.Email == "" && r.Phone == "" && r.Actor.Kind == opstore.ActorAnonymous}
}

// Export calls fn for every customer q selects, in its order (q.After and
// q.Limit are ignored), straight from the store: nothing is held.
func (s *Service) Export(ctx context.Context, ws string, q Query, fn func(Summary) error) error {
	sq, ok, err := s.storeQuery(ctx, ws, q)
	if err != nil || !ok {
		return err
	}
	return s.cfg.Store.EachProfile(ctx, sq, func(r opstore.ProfileRow) error { return fn(summary(r)) })
}

func formatCursor(c opstore.ProfileCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Value + "\x00" + c.ID))
}

// ErrBadCursor is returned (wrapped) for a paging cursor that is not one.
var ErrBadCursor = errors.New("not a paging cursor")

func parseCursor(s string) (opstore.ProfileCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	v, id, ok := strings.Cut(string(b), "\x00")
	if err != nil || !ok || id == "" {
		return opstore.ProfileCursor{}, fmt.Errorf("%q: %w", s, ErrBadCursor)
	}
	return opstore.ProfileCursor{Value: v, ID: id}, nil
}

// Get returns a profile with everything known about it but its timeline.
// A profile merged into another is a *MergedError; one without events
// is opstore.ErrNotFound.
func (s *Service) Get(ctx context.Context, ws string, id identity.ProfileID) (*Profile, error) {
	row, err := s.cfg.Store.Profile(ctx, ws, string(id))
	if errors.Is(err, opstore.ErrNotFound) {
		if into, ok := s.mergedInto(ctx, ws, id); ok {
			return nil, &MergedError{Into: into}
		}
	}
	if err != nil {
		return nil, err
	}
	p := &Profile{ID: id, WorkspaceID: ws, Name: row.Name, Email: row.Email, Phone: row.Phone, History: map[string][]Trait{}}
	w, err := s.cfg.Ops.Workspace(ctx, ws)
	if err != nil {
		return nil, err
	}
	p.Stats = Stats{FirstSeen: row.FirstSeen, LastSeen: row.LastSeen, Events: row.Events, Orders: row.Orders, Revenue: row.Revenue,
		Currency: w.Currency, Channels: Channels(row.Channels), LastOrderAt: row.LastOrderAt}
	if s.cfg.Graph != nil {
		if p.Identifiers, err = s.cfg.Graph.Identifiers(ctx, ws, id); err != nil && !errors.Is(err, identity.ErrNotFound) {
			return nil, err
		}
	}
	changes, err := s.cfg.Store.ProfileTraits(ctx, ws, string(id))
	if err != nil {
		return nil, err
	}
	for _, c := range changes { // newest first
		t := Trait{Name: c.Trait, Value: c.Value, At: c.At, SourceID: c.SourceID}
		if _, seen := p.History[c.Trait]; !seen {
			p.Traits = append(p.Traits, t)
		}
		p.History[c.Trait] = append(p.History[c.Trait], t)
	}
	slices.SortFunc(p.Traits, func(a, b Trait) int { return strings.Compare(a.Name, b.Name) })
	for _, t := range p.Traits {
		if t.Name == "persona" {
			p.Persona = t.Value
		}
	}
	if p.Stages, err = s.stages(ctx, ws, row.Stages); err != nil {
		return nil, err
	}
	if p.Notes, err = s.cfg.Store.ProfileNotes(ctx, ws, string(id)); err != nil {
		return nil, err
	}
	if p.Actors, err = s.cfg.Store.ProfileActors(ctx, ws, string(id)); err != nil {
		return nil, err
	}
	return p, nil
}

// mergedInto is the profile id joined, when it was merged (and not split
// again).
func (s *Service) mergedInto(ctx context.Context, ws string, id identity.ProfileID) (identity.ProfileID, bool) {
	if s.cfg.Graph == nil {
		return "", false
	}
	if c, ok := s.cfg.Graph.(currenter); ok {
		p, err := c.Current(ctx, ws, id)
		return p, err == nil && p != id
	}
	ms, err := s.cfg.Graph.Merges(ctx, ws, id)
	if err != nil {
		return "", false
	}
	for _, m := range ms { // newest first
		if m.From == id && m.UndoneAt.IsZero() && m.Into != id {
			return m.Into, true
		}
	}
	return "", false
}

// stages names the index's current stages with the maps as they are now.
func (s *Service) stages(ctx context.Context, ws string, gs []opstore.ActorStage) ([]Stage, error) {
	if len(gs) == 0 {
		return nil, nil
	}
	entries, err := s.book.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	done, err := s.cfg.Store.MapMatchers(ctx, ws)
	if err != nil {
		return nil, err
	}
	srcs, err := s.cfg.Ops.Sources(ctx, ws)
	if err != nil {
		return nil, err
	}
	var out []Stage
	for _, e := range entries {
		i := slices.IndexFunc(gs, func(g opstore.ActorStage) bool { return g.MapID == e.ID })
		if i < 0 {
			continue
		}
		g := gs[i]
		st := Stage{MapID: e.ID, MapName: e.Name, StageKey: g.Stage, StageName: g.Stage, TouchpointKey: g.Touchpoint, At: g.At,
			Stale: done[e.ID] != fingerprint(e.Map, srcs)}
		for _, sg := range e.Map.Stages {
			if sg.Key != g.Stage {
				continue
			}
			st.StageName = sg.Name
			for _, t := range sg.Touchpoints {
				if t.Key == g.Touchpoint {
					st.Touchpoint = t.Name
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// Timeline is a page of a profile's events, newest first.
type Timeline struct {
	Events []TimelineEvent
	// Maps are the workspace's maps the labels refer to, by name.
	Maps []MapRef
	// Next is the before of the next (older) page, "" at the end.
	Next string
}

// MapRef names a map.
type MapRef struct{ ID, Name string }

// TimelineEvent is an event with its place on each map that places it.
type TimelineEvent struct {
	event.Message
	Actor  opstore.Actor
	Places []Place
}

// Place is where a map puts an event.
type Place struct {
	MapID, MapName         string
	StageKey, Stage        string
	TouchpointKey, Touchpt string // "" for the stage itself
	Channel                journeymap.Channel
}

// Timeline returns up to limit events of a profile older than before (""
// for the newest), each labelled on every map of the workspace.
func (s *Service) Timeline(ctx context.Context, ws string, id identity.ProfileID, before string, limit int) (Timeline, error) {
	if limit <= 0 {
		limit = 50
	}
	var from opstore.EventRef
	if before != "" {
		c, err := parseCursor(before)
		if err != nil {
			return Timeline{}, err
		}
		var ms, seq int64
		if _, err := fmt.Sscanf(c.Value+" "+c.ID, "%d %d", &ms, &seq); err != nil {
			return Timeline{}, fmt.Errorf("%q: %w", before, ErrBadCursor)
		}
		from = opstore.EventRef{At: time.UnixMilli(ms).UTC(), Seq: uint64(seq)}
	}
	refs, err := s.cfg.Store.ProfileEvents(ctx, ws, string(id), from, limit+1)
	if err != nil {
		return Timeline{}, err
	}
	var t Timeline
	if len(refs) > limit {
		refs = refs[:limit]
		last := refs[len(refs)-1]
		t.Next = formatCursor(opstore.ProfileCursor{Value: fmt.Sprint(last.At.UnixMilli()), ID: fmt.Sprint(last.Seq)})
	}
	msgs, err := s.messages(ctx, ws, refs)
	if err != nil {
		return Timeline{}, err
	}
	maps, err := s.classifiers(ctx, ws)
	if err != nil {
		return Timeline{}, err
	}
	for _, cm := range maps {
		t.Maps = append(t.Maps, MapRef{cm.id, cm.m.Name})
	}
	for _, r := range refs {
		m, ok := msgs[r.Seq]
		if !ok {
			continue // deleted since (privacy, retention)
		}
		te := TimelineEvent{Message: *m, Actor: r.Actor}
		for _, cm := range maps {
			if cm.c == nil {
				continue
			}
			pl := cm.c.ClassifyMessage(m)
			if pl.Stage < 0 {
				continue
			}
			sg := cm.m.Stages[pl.Stage]
			p := Place{MapID: cm.id, MapName: cm.m.Name, StageKey: sg.Key, Stage: sg.Name}
			if pl.Touchpoint >= 0 {
				tp := sg.Touchpoints[pl.Touchpoint]
				p.TouchpointKey, p.Touchpt, p.Channel = tp.Key, tp.Name, tp.Channel
			}
			te.Places = append(te.Places, p)
		}
		t.Events = append(t.Events, te)
	}
	return t, nil
}

// messages reads the events refs name from the event store: just those
// Seqs when it can (eventstore.SeqReader), else for each actor the range
// of Seq its events span.
func (s *Service) messages(ctx context.Context, ws string, refs []opstore.ActorEvent) (map[uint64]*event.Message, error) {
	out := make(map[uint64]*event.Message, len(refs))
	keep := func(m *event.Message) error {
		if out[m.Seq] == nil {
			c := *m
			out[m.Seq] = &c
		}
		return nil
	}
	if sr, ok := s.cfg.Events.(eventstore.SeqReader); ok {
		seqs := make([]uint64, len(refs))
		for i, r := range refs {
			seqs[i] = r.Seq
		}
		return out, sr.ReadSeqs(ctx, ws, seqs, keep)
	}
	type span struct{ lo, hi uint64 }
	spans := map[opstore.Actor]*span{}
	want := make(map[uint64]bool, len(refs))
	var order []opstore.Actor
	for _, r := range refs {
		want[r.Seq] = true
		sp := spans[r.Actor]
		if sp == nil {
			spans[r.Actor] = &span{r.Seq, r.Seq}
			order = append(order, r.Actor)
			continue
		}
		sp.lo, sp.hi = min(sp.lo, r.Seq), max(sp.hi, r.Seq)
	}
	for _, a := range order {
		sp := spans[a]
		f := eventstore.Filter{WorkspaceID: ws, User: a.ID, AfterSeq: sp.lo - 1, BeforeSeq: sp.hi + 1}
		err := s.cfg.Events.Scan(ctx, f, func(m *event.Message) error {
			if !want[m.Seq] {
				return nil
			}
			return keep(m)
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// classifiers compiles the workspace's maps, by name.
func (s *Service) classifiers(ctx context.Context, ws string) ([]compiledMap, error) {
	entries, err := s.book.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	var out []compiledMap
	for _, e := range entries {
		c, err := s.book.Classifier(ctx, ws, e.Map)
		var invalid journeymap.Errors
		if err != nil && !errors.As(err, &invalid) {
			return nil, err
		}
		out = append(out, compiledMap{id: e.ID, m: e.Map, c: c})
	}
	return out, nil
}

// AddNote adds a staff note to a profile.
func (s *Service) AddNote(ctx context.Context, ws string, id identity.ProfileID, authorID, authorName, body string) (opstore.ProfileNote, error) {
	return s.cfg.Store.AddProfileNote(ctx, opstore.ProfileNote{WorkspaceID: ws, ProfileID: string(id), AuthorID: authorID, AuthorName: authorName, Body: body})
}

// DeleteNote deletes a staff note.
func (s *Service) DeleteNote(ctx context.Context, ws string, id identity.ProfileID, note int64) error {
	return s.cfg.Store.DeleteProfileNote(ctx, ws, string(id), note)
}

// Erase removes a profile from the index: its row, notes, the activity of
// its userIds and anonymousIds and of those in ids (the identifiers the
// identity graph erased with it). For privacy erasures.
func (s *Service) Erase(ctx context.Context, ws string, id identity.ProfileID, ids []identity.Identifier) error {
	var actors []opstore.Actor
	for _, i := range ids {
		if i.Kind == identity.UserID || i.Kind == identity.AnonymousID {
			actors = append(actors, opstore.Actor{Kind: string(i.Kind), ID: i.Value})
		}
	}
	return s.cfg.Store.ForgetProfile(ctx, ws, string(id), actors)
}
