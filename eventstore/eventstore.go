// Package eventstore defines how cjm keeps events: an append-only store of
// normalised messages, filled from the event log, read by the UI, the export
// and the analytics. Backends: eventstore/duckdb (embedded, default).
package eventstore

import (
	"context"
	"time"

	"github.com/cjmhq/cjm/event"
)

// Filter narrows a read of the store. Zero fields do not filter.
type Filter struct {
	WorkspaceID string
	SourceID    string
	Type        event.Type
	Event       string // track event name or page/screen name, exact
	// User matches userId or anonymousId, exact.
	User string
	From time.Time // timestamp >= From
	To   time.Time // timestamp < To
	// AfterSeq keeps only messages with Seq > AfterSeq (live tailing).
	AfterSeq uint64
	// BeforeSeq keeps only messages with Seq < BeforeSeq (paging back), 0 for none.
	BeforeSeq uint64
}

// Store is an event store.
type Store interface {
	// Append stores messages that carry their log Seq, in Seq order. It is
	// idempotent: messages with Seq <= LastSeq() are skipped.
	Append(ctx context.Context, msgs []event.Message) error
	// LastSeq is the highest Seq stored (0 when empty).
	LastSeq(ctx context.Context) (uint64, error)
	// DedupKeys calls fn with the dedup key of every stored message (see
	// event.DedupKey), to rebuild the in-memory dedup index at start.
	DedupKeys(ctx context.Context, fn func(key uint64)) error
	// Recent returns up to limit messages matching f, newest (highest Seq) first.
	Recent(ctx context.Context, f Filter, limit int) ([]event.Message, error)
	// Scan calls fn for every message matching f in Seq order.
	Scan(ctx context.Context, f Filter, fn func(*event.Message) error) error
	// Count counts messages matching f.
	Count(ctx context.Context, f Filter) (int64, error)
	// EventNames lists distinct event labels in a workspace with their counts, most frequent first.
	EventNames(ctx context.Context, workspaceID string, limit int) ([]NameCount, error)
	// ScanRows calls fn for every message of a workspace with From <=
	// timestamp < To, in Seq order (not time order: an import adds old
	// events late), with just what classifying and counting need. The Row
	// is reused between calls: fn must copy what it keeps of it (its
	// strings may be kept as they are).
	ScanRows(ctx context.Context, q RowQuery, fn func(*Row) error) error
	Close() error
}

// RowQuery says which messages ScanRows reads, and which fields.
type RowQuery struct {
	WorkspaceID string
	From, To    time.Time // From <= timestamp < To; a zero time does not bound
	// AfterSeq keeps only messages with Seq > AfterSeq (an index catching up).
	AfterSeq uint64
	// Fields are dotted paths into a message's properties, traits or
	// context (properties.total, context.campaign.source, traits.city),
	// whose values Row.Fields carries in this order.
	Fields []string
}

// Row is a message as ScanRows reads it.
type Row struct {
	Seq  uint64
	Type string
	// Name is the event name of a track, the page or screen name of a page
	// or screen, as journeymap.Event wants it (see Classifier.ClassifyMessage).
	Name     string
	SourceID string
	// Path is the page path: context.page.path, else properties.path, else
	// the path of context.page.url or properties.url (journeymap.MessagePath).
	Path                           string
	UserID, AnonymousID, MessageID string
	Timestamp                      time.Time    // UTC
	Fields                         []FieldValue // aligned with RowQuery.Fields
}

// FieldValue is the value of a field as text: a JSON string unquoted, any
// other JSON value written out. OK is false when the field is missing or
// null.
type FieldValue struct {
	S  string
	OK bool
}

// NameCount is an event label and how often it occurs.
type NameCount struct {
	Name  string
	Count int64
}
