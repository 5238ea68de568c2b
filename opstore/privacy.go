package opstore

import (
	"context"
	"time"
)

// Privacy request kinds.
const (
	RequestExport = "export"
	RequestDelete = "delete"
)

// Privacy request states.
const (
	RequestRunning = "running"
	RequestDone    = "done"
	RequestFailed  = "failed"
)

// PrivacyRequest is the audit record of a data subject's request: an export
// of everything held about a person, or its erasure. It never holds the
// identifier itself, only its keyed hash (see privacy.Hash).
type PrivacyRequest struct {
	ID          string
	WorkspaceID string
	Kind        string // RequestExport or RequestDelete
	// IdentifierKind is the kind of the identifier the request named
	// ("email"); IdentifierHash its keyed hash.
	IdentifierKind string
	IdentifierHash string
	// Hint is a masked form of the identifier ("email:l•••@e•••.vn") shown
	// in the list of an export; "" for a deletion, and cleared when the
	// person is erased.
	Hint   string
	Actor  string // who asked: "staff:NAME" or "cli:USER"
	Status string // RequestRunning, RequestDone or RequestFailed
	Error  string
	// Counts says how many records each store exported or erased
	// ("events", "identifiers", "rejected", ...).
	Counts map[string]int64
	// File is the export file's name in the export directory; "" when
	// there is none (a deletion, an export written elsewhere, or removed).
	File        string
	RequestedAt time.Time
	CompletedAt time.Time // zero while running
}

// Suppressed is an identifier that must not be collected again: its keyed
// hash, never the value.
type Suppressed struct {
	WorkspaceID string
	Hash        string
	Kind        string // the identifier's kind
	RequestID   string // the deletion that added it
	CreatedAt   time.Time
}

// RetentionPolicy says how long a workspace keeps its events.
type RetentionPolicy struct {
	WorkspaceID string
	EventDays   int // 0: keep forever
	UpdatedBy   string
	UpdatedAt   time.Time
	// LastRunAt and LastDeleted say when the retention job last ran for
	// the workspace and how many events it deleted then.
	LastRunAt   time.Time
	LastDeleted int64
}

// PrivacyStore keeps the privacy requests' audit records, the suppression
// list and the retention policies, and finds a person's rejected messages.
// opstore/sqlite implements it next to Store.
type PrivacyStore interface {
	// CreatePrivacyRequest stores a new request (fills ID, RequestedAt, and
	// Status RequestRunning when empty).
	CreatePrivacyRequest(ctx context.Context, r *PrivacyRequest) error
	// FinishPrivacyRequest records the outcome: Status, Error, Counts, File
	// and CompletedAt (now when zero).
	FinishPrivacyRequest(ctx context.Context, r PrivacyRequest) error
	PrivacyRequest(ctx context.Context, workspaceID, id string) (PrivacyRequest, error)
	// PrivacyRequests lists a workspace's requests, newest first.
	PrivacyRequests(ctx context.Context, workspaceID string, limit int) ([]PrivacyRequest, error)
	// ForgetExports clears the Hint and File of a workspace's requests for
	// the given identifier hashes (the person is being erased) and returns
	// the export files they named, for the caller to remove.
	ForgetExports(ctx context.Context, workspaceID string, hashes []string) ([]string, error)
	// ExpireExports clears the File of exports requested before a time and
	// returns the files, for the caller to remove.
	ExpireExports(ctx context.Context, before time.Time) ([]string, error)

	// AddSuppressed adds identifiers to the suppression list (present ones
	// are kept as they are).
	AddSuppressed(ctx context.Context, s []Suppressed) error
	// EachSuppressed calls fn for every suppressed identifier of every workspace.
	EachSuppressed(ctx context.Context, fn func(Suppressed) error) error
	SuppressedCount(ctx context.Context, workspaceID string) (int, error)

	// RetentionPolicy returns a workspace's policy; a workspace that never
	// set one keeps events forever (EventDays 0).
	RetentionPolicy(ctx context.Context, workspaceID string) (RetentionPolicy, error)
	SetRetentionPolicy(ctx context.Context, p RetentionPolicy) error
	// RetentionPolicies lists the policies that delete events (EventDays > 0).
	RetentionPolicies(ctx context.Context) ([]RetentionPolicy, error)
	RecordRetentionRun(ctx context.Context, workspaceID string, at time.Time, deleted int64) error

	// RejectedOf lists a workspace's rejected messages whose payload holds
	// one of values as a JSON string (case-insensitively), newest first;
	// DeleteRejectedOf deletes them and says how many.
	RejectedOf(ctx context.Context, workspaceID string, values []string) ([]Rejected, error)
	DeleteRejectedOf(ctx context.Context, workspaceID string, values []string) (int64, error)
}
