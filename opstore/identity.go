package opstore

import (
	"context"
	"time"
)

// The identity graph as the operational store keeps it for package
// identity, which owns its rules: these records only carry its state.
// Identifiers are named by kind and normalised value; profiles by their
// "p_" ids; times are UTC.

// IdentityKey names an identifier: its kind ("email") and normalised value.
type IdentityKey struct{ Kind, Value string }

// IdentifierRecord is one identifier of a workspace with the profile it
// belongs to.
type IdentifierRecord struct {
	WorkspaceID string
	IdentityKey
	ProfileID string
	// Root marks the identifier a profile id is derived from.
	Root                bool
	FirstSeen, LastSeen time.Time
	// FirstSeq is the log position of the first message that held it.
	FirstSeq uint64
	// SharedSeq is the log position from which it is shared (seen with too
	// many people) and links nothing; 0 when it is not shared.
	SharedSeq uint64
	// Users are hashes of the user ids it was seen with, up to the cap.
	Users []uint64
}

// Edge kinds: a link shown by a message, by an alias call, or made by a
// person approving a review.
const (
	EdgeMessage = "message"
	EdgeAlias   = "alias"
	EdgeManual  = "manual"
)

// IdentityEdge is one piece of evidence: two identifiers seen together,
// first in message MessageID. A message's identifiers are stored as a star
// from one of them (A) to the others (B), Ord giving their order.
type IdentityEdge struct {
	WorkspaceID string
	// Pair is a hash of the workspace, the two identifiers and the kind,
	// which name the edge: storing an edge twice keeps the first.
	Pair      uint64
	A, B      IdentityKey
	Ord       int
	Seq       uint64
	MessageID string
	At        time.Time
	Kind      string // EdgeMessage, EdgeAlias or EdgeManual
}

// IdentityMerge is an entry of the merge log.
type IdentityMerge struct {
	ID          int64 // set by the store
	WorkspaceID string
	Into, From  string
	By          IdentityKey
	MessageID   string
	Seq         uint64
	At          time.Time
	Actor       string // "" for an automatic merge
	UndoneAt    time.Time
	UndoneBy    string
}

// IdentityReview is a link a guard stopped.
type IdentityReview struct {
	ID          int64 // set by the store
	WorkspaceID string
	A, B        string // profiles
	By          IdentityKey
	MessageID   string
	Seq         uint64
	Reason      string
	At          time.Time
	DecidedAt   time.Time
	Decision    string // "", "approved", "rejected"
	DecidedBy   string
}

// IdentityBlock keeps the profiles of two identifiers apart for good: a
// split merge or a rejected review.
type IdentityBlock struct {
	WorkspaceID string
	A, B        IdentityKey
	Reason      string // "split" or "rejected"
	Ref         int64  // the merge or review
	At          time.Time
	Actor       string
}

// IdentityErase removes identifiers with their evidence and blocks, and the
// merges and reviews of profiles.
type IdentityErase struct {
	WorkspaceID string
	Identifiers []IdentityKey
	Profiles    []string
}

// IdentityBatch is a set of changes to the identity graph, stored in one
// transaction; storing the same batch twice changes nothing more.
type IdentityBatch struct {
	// Offset is the last event log position the batch accounts for;
	// stored when SetOffset.
	Offset    uint64
	SetOffset bool
	// Identifiers are stored whole, replacing what was stored.
	Identifiers []IdentifierRecord
	// Edges already stored (same workspace and Pair) are kept as they were.
	Edges []IdentityEdge
	// Merges are new entries of the log; an automatic one (no Actor) of a
	// seq and From already logged is not added again.
	Merges []IdentityMerge
	// Undone marks merges undone: ID, UndoneAt and UndoneBy.
	Undone []IdentityMerge
	// Reviews are new entries of the queue; one of a seq and pair of
	// profiles already queued is not added again.
	Reviews []IdentityReview
	// Decisions record decided reviews: ID, Decision, DecidedAt, DecidedBy.
	Decisions []IdentityReview
	Blocks    []IdentityBlock
	Erase     []IdentityErase
}

// IdentityStore keeps the identity graph of every workspace (package
// identity reads it all at start and then writes batches). opstore/sqlite
// implements it next to Store.
type IdentityStore interface {
	// IdentityOffset is the last event log position stored with a batch (0
	// at first).
	IdentityOffset(ctx context.Context) (uint64, error)
	// SaveIdentity stores a batch in one transaction.
	SaveIdentity(ctx context.Context, b *IdentityBatch) error

	// EachIdentifierRecord calls fn for every identifier of every
	// workspace; the record is reused between calls.
	EachIdentifierRecord(ctx context.Context, fn func(*IdentifierRecord) error) error
	// EachIdentityPair calls fn with the Pair of every stored edge.
	EachIdentityPair(ctx context.Context, fn func(workspaceID string, pair uint64) error) error
	// IdentityBlocks lists the blocks of every workspace.
	IdentityBlocks(ctx context.Context) ([]IdentityBlock, error)
	// EachIdentityReviewPair calls fn with the profiles of every open or
	// rejected review.
	EachIdentityReviewPair(ctx context.Context, fn func(workspaceID, a, b string) error) error

	// IdentityEdges lists the edges of a workspace that touch any of ids,
	// in Seq order.
	IdentityEdges(ctx context.Context, workspaceID string, ids []IdentityKey) ([]IdentityEdge, error)
	// IdentityMerge returns one merge log entry; ErrNotFound when the
	// workspace has none of that id.
	IdentityMerge(ctx context.Context, workspaceID string, id int64) (IdentityMerge, error)
	// IdentityMerges lists the merges into or from any of profiles, newest first.
	IdentityMerges(ctx context.Context, workspaceID string, profiles []string) ([]IdentityMerge, error)
	// IdentityReview returns one review; ErrNotFound when the workspace
	// has none of that id.
	IdentityReview(ctx context.Context, workspaceID string, id int64) (IdentityReview, error)
	// IdentityReviews lists the review queue, open reviews first, newest
	// first; with open, only those. limit <= 0 is 50.
	IdentityReviews(ctx context.Context, workspaceID string, open bool, limit int) ([]IdentityReview, error)
	// SearchIdentifierRecords lists identifiers of a workspace whose value
	// starts with prefix (of kind, when not ""), by value. limit <= 0 is 50.
	SearchIdentifierRecords(ctx context.Context, workspaceID, kind, prefix string, limit int) ([]IdentifierRecord, error)
}
