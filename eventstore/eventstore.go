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
	Close() error
}

// NameCount is an event label and how often it occurs.
type NameCount struct {
	Name  string
	Count int64
}
