package opstore

import (
	"context"
	"strconv"
	"time"
)

// The profile index: what package profile derives from the events and the
// identity graph so that customers can be listed, searched, filtered and
// sorted without reading the event store. It is derived data: every row can
// be rebuilt from the events, the identity graph and the journey maps.
//
// Events are counted per actor, the identifier an event is attributed to
// before identity resolution (its userId, else its anonymousId); a profile
// is the sum of the actors the identity graph gives it.

// Actor kinds, named as the identity graph names them.
const (
	ActorUser      = "user_id"
	ActorAnonymous = "anonymous_id"
)

// Actor is an event's userId (Kind ActorUser), else its anonymousId.
type Actor struct {
	Kind string
	ID   string
}

// ActorActivity is what a batch of events adds to one actor.
type ActorActivity struct {
	WorkspaceID string
	Actor
	// ProfileID is the profile the identity graph gave the actor when the
	// batch was read, "" when it had none yet. It is kept only for an actor
	// the index has not linked to a profile already.
	ProfileID           string
	FirstSeen, LastSeen time.Time
	Events, Orders      int64
	Revenue             int64 // in the workspace currency's minor units
	Channels            uint32
	LastOrderAt         time.Time // zero: no order in the batch
	Refs                []EventRef
	Traits              []TraitChange // in the order they happened
	Stages              []ActorStage  // one per map at most: the latest the batch placed
}

// EventRef places one event of an actor in the event store.
type EventRef struct {
	At  time.Time
	Seq uint64
}

// TraitChange is a trait value an identify call set.
type TraitChange struct {
	Trait, Value string
	At           time.Time
	Seq          uint64
	SourceID     string
}

// ActorStage is the latest place of an actor's events on a journey map.
type ActorStage struct {
	MapID             string
	Stage, Touchpoint string // keys; Touchpoint "" for the stage itself
	At                time.Time
	Seq               uint64
}

// ProfileBatch is what the events with From < Seq <= To add to the index.
type ProfileBatch struct {
	From, To uint64
	Actors   []ActorActivity
}

// ProfileMark is a profile queued to be looked at again.
type ProfileMark struct {
	WorkspaceID, ProfileID string
	// Relink asks to read the profile's actors from the identity graph
	// (the graph said the profile changed).
	Relink bool
	// Dirty asks to recompute the profile's row: its actors had events,
	// or an actor left it.
	Dirty bool
	// Mark orders the queue, and names this queueing: SaveProfiles clears
	// the marks it is given, so a profile queued again meanwhile (with a
	// new mark) stays queued.
	Mark int64
}

// ProfileLink is what the identity graph says a marked profile holds.
type ProfileLink struct {
	Mark   ProfileMark
	Actors []Actor
}

// ActorFacts is an actor of a profile as the index holds it.
type ActorFacts struct {
	Actor
	FirstSeen, LastSeen time.Time
	Events, Orders      int64
	Revenue             int64
	Channels            uint32
	LastOrderAt         time.Time
}

// ProfileFacts is everything a profile row is computed from.
type ProfileFacts struct {
	WorkspaceID, ProfileID string
	Actors                 []ActorFacts
	// Traits holds the latest value of each trait over the actors.
	Traits []TraitChange
	// Stages holds the latest place over the actors on each map.
	Stages []ActorStage
	// TermsHash is the hash of the search terms the row was last saved with.
	TermsHash int64
}

// ProfileRow is a profile as the customers list shows, filters, sorts and
// searches it.
type ProfileRow struct {
	WorkspaceID, ID string
	Name            string
	// NameKey is the name folded for sorting ("nguyen van an"), "~" for
	// none, so that profiles without a name sort last.
	NameKey      string
	Email, Phone string
	// Actor is the profile's userId if it has one, else its latest
	// anonymousId.
	Actor               Actor
	FirstSeen, LastSeen time.Time
	Events, Orders      int64
	Revenue             int64
	Channels            uint32
	LastOrderAt         time.Time
	// Terms are the words the profile is found by, separated by spaces:
	// its name, phone and trait values folded (lower case, no diacritics),
	// its e-mail address whole. TermsHash is their hash: the full-text
	// index is rewritten only when it changes.
	Terms     string
	TermsHash int64
	Stages    []ActorStage
}

// ProfileSort orders the customers list.
type ProfileSort string

// Sort orders; each is descending but by name.
const (
	SortLastSeen ProfileSort = "last_seen"
	SortRevenue  ProfileSort = "revenue"
	SortOrders   ProfileSort = "orders"
	SortName     ProfileSort = "name"
)

// ProfileQuery selects and orders profiles. Zero fields do not filter.
type ProfileQuery struct {
	WorkspaceID string
	// Words search the profiles' terms (see ProfileRow.Terms): each must
	// start a word of them. Written as the terms are (folded; an e-mail
	// address whole, lower-cased).
	Words []string
	// IDs keeps only these profiles (the identifier search of the graph);
	// with Words, a profile passes when it is in IDs or has the words.
	IDs        []string
	Channels   uint32 // any of these channels
	MinOrders  int64
	MinRevenue int64
	SeenSince  time.Time
	StageMap   string // with Stage: the current stage on this map
	Stage      string
	Sort       ProfileSort
	After      *ProfileCursor // keyset paging: rows after this one
	Limit      int
	// Count asks Profiles to count the matches too, up to CountLimit (0:
	// all of them).
	Count      bool
	CountLimit int
}

// ProfileCount is how many profiles a query selects: N, or at least N
// when AtLeast (past the count limit, or when counting would take too
// long).
type ProfileCount struct {
	N       int64
	AtLeast bool
}

// ProfileCursor is the position of a row in a sorted list.
type ProfileCursor struct {
	Value string // the sort column's value, as text
	ID    string
}

// Cursor is the position of p in a list sorted by sort.
func (p ProfileRow) Cursor(sort ProfileSort) ProfileCursor {
	switch sort {
	case SortRevenue:
		return ProfileCursor{Value: strconv.FormatInt(p.Revenue, 10), ID: p.ID}
	case SortOrders:
		return ProfileCursor{Value: strconv.FormatInt(p.Orders, 10), ID: p.ID}
	case SortName:
		return ProfileCursor{Value: p.NameKey, ID: p.ID}
	}
	return ProfileCursor{Value: strconv.FormatInt(p.LastSeen.UnixMilli(), 10), ID: p.ID}
}

// ProfileNote is a staff note on a profile.
type ProfileNote struct {
	ID          int64
	WorkspaceID string
	ProfileID   string
	AuthorID    string
	AuthorName  string
	Body        string
	CreatedAt   time.Time
}

// ProfileStore keeps the profile index. Only one indexer writes it.
type ProfileStore interface {
	// ProfileOffset is the highest event Seq the index has taken in.
	ProfileOffset(ctx context.Context) (uint64, error)
	// ApplyProfileBatch adds a batch to the index, queues the profiles of
	// its actors for recomputing, and moves the offset to b.To, in one
	// transaction. It is idempotent: a batch whose To is not above the
	// offset changes nothing; one that does not start at the offset
	// (From != offset) is refused with ErrStale.
	ApplyProfileBatch(ctx context.Context, b ProfileBatch) error
	// MarkProfiles queues profiles for relinking (the identity graph
	// changed them) and records merges (from -> into), whose notes move to
	// the profile they were merged into.
	MarkProfiles(ctx context.Context, workspaceID string, changed []string, merged map[string]string) error
	// ProfileMarks returns up to limit queued profiles, oldest first.
	ProfileMarks(ctx context.Context, limit int) ([]ProfileMark, error)
	// LinkProfiles sets the actors of marked profiles, in one transaction.
	// Each link's actors become the whole set of its profile's actors:
	// actors linked elsewhere move to it (their old profiles are queued
	// dirty), actors not known yet are added without events, and its other
	// actors are unlinked. The relink flag of each mark is cleared, unless
	// the profile was queued again since. It returns the marks of the
	// profiles whose actors with events changed (to recompute).
	LinkProfiles(ctx context.Context, links []ProfileLink) (changed map[int64]bool, err error)
	// ProfileFacts reads what the rows of the queued profiles are computed from.
	ProfileFacts(ctx context.Context, marks []ProfileMark) ([]ProfileFacts, error)
	// SaveProfiles writes recomputed rows, deletes the rows of profiles
	// without events (gone: those in gone), and clears the marks read, in
	// one transaction.
	SaveProfiles(ctx context.Context, rows []ProfileRow, gone []ProfileMark, done []ProfileMark) error

	// MapMatchers returns, per map id, the fingerprint of the matchers the
	// index's stages of a workspace were computed with.
	MapMatchers(ctx context.Context, workspaceID string) (map[string]int64, error)
	// ReplaceMapStages replaces every stage of a map with stages (nil for
	// a deleted map), records the fingerprint of its matchers, and
	// recomputes the profiles' current stage on that map.
	ReplaceMapStages(ctx context.Context, workspaceID, mapID string, fingerprint int64, stages map[Actor]ActorStage) error

	// Profile returns a profile's row; ErrNotFound when it has none.
	Profile(ctx context.Context, workspaceID, id string) (ProfileRow, error)
	// ProfileActors lists the actors of a profile.
	ProfileActors(ctx context.Context, workspaceID, id string) ([]ActorFacts, error)
	// ProfileTraits lists every recorded value of the traits of a profile's
	// actors, newest first.
	ProfileTraits(ctx context.Context, workspaceID, id string) ([]TraitChange, error)
	// ProfileEvents lists the events of a profile's actors newest first
	// (by time, then Seq), starting after before (zero: from the newest).
	ProfileEvents(ctx context.Context, workspaceID, id string, before EventRef, limit int) ([]ActorEvent, error)
	// Profiles lists the profiles q selects, in its order, and counts them
	// when q.Count.
	Profiles(ctx context.Context, q ProfileQuery) ([]ProfileRow, ProfileCount, error)
	// EachProfile calls fn for every profile q selects, in its order
	// (q.Limit and q.After are ignored), for exports.
	EachProfile(ctx context.Context, q ProfileQuery, fn func(ProfileRow) error) error
	// ForgetProfile removes a profile from the index: its row, notes, and
	// its actors with their events, traits and stages, and the actors
	// given (a privacy erasure, after the identity graph forgot them).
	ForgetProfile(ctx context.Context, workspaceID, id string, actors []Actor) error

	AddProfileNote(ctx context.Context, n ProfileNote) (ProfileNote, error)                 // fills ID, CreatedAt
	ProfileNotes(ctx context.Context, workspaceID, profileID string) ([]ProfileNote, error) // newest first
	DeleteProfileNote(ctx context.Context, workspaceID, profileID string, id int64) error
}

// ActorEvent is an event of a profile's actor.
type ActorEvent struct {
	Actor
	EventRef
}
