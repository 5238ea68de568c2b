package eventstore

import (
	"context"
	"time"
)

// IdentityRow is a message as identity resolution reads it: who it is from
// and the few parts of its JSON that may name the person.
type IdentityRow struct {
	Seq                                    uint64
	WorkspaceID, SourceID, Type, MessageID string
	UserID, AnonymousID, PreviousID        string
	Timestamp                              time.Time // UTC
	// Traits is the traits object of an identify call ("" for other calls,
	// whose traits describe a group, or when there are none).
	Traits string
	// ContextTraits and ExternalIDs are context.traits and
	// context.externalIds as JSON text, "" when absent.
	ContextTraits, ExternalIDs string
}

// IdentityScanner reads the event store for identity resolution.
// eventstore/duckdb implements it.
type IdentityScanner interface {
	// LastSeq is the highest Seq stored (0 when empty).
	LastSeq(ctx context.Context) (uint64, error)
	// ScanIdentity calls fn for every message with from < Seq <= to, in
	// Seq order. The row is reused between calls; its strings may be kept
	// (they share memory with the whole row: clone what is kept long).
	ScanIdentity(ctx context.Context, from, to uint64, fn func(*IdentityRow) error) error
}
