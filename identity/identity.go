// Package identity resolves the identifiers customers leave on every channel
// (anonymousId, userId, e-mail, phone, Zalo and Facebook ids, loyalty cards,
// marketplace buyer ids, custom ids) into one profile per person, with guards
// that keep two people apart, a review queue for the merges a guard stops,
// and a merge log that can be undone.
//
// Events stay as they were sent: a profile is a derived view (identifier ->
// profile), kept in the operational store and rebuilt from the evidence, so
// a merge or a split changes who is counted without re-ingesting anything.
package identity

import (
	"context"
	"errors"
	"time"
)

// Kind is the type of an identifier.
type Kind string

// Identifier kinds.
const (
	AnonymousID      Kind = "anonymous_id"
	UserID           Kind = "user_id"
	Email            Kind = "email"
	Phone            Kind = "phone"
	Zalo             Kind = "zalo_id"
	Facebook         Kind = "facebook_id"
	LoyaltyCard      Kind = "loyalty_card"
	MarketplaceBuyer Kind = "marketplace_buyer_id"
	Custom           Kind = "custom"
)

// Kinds lists the identifier kinds.
var Kinds = []Kind{UserID, Email, Phone, Zalo, Facebook, LoyaltyCard, MarketplaceBuyer, AnonymousID, Custom}

// Identifier is one normalised identifier, written "kind:value"
// ("email:lan@example.vn", "phone:+84912345678").
type Identifier struct {
	Kind  Kind
	Value string
}

// String writes the identifier as "kind:value".
func (i Identifier) String() string { return string(i.Kind) + ":" + i.Value }

// ProfileID names a profile: "p_" and 16 base32 characters, derived from the
// identifier that started it, so the common case rewrites nothing.
type ProfileID string

// ErrJunk is returned (wrapped) for a value that is no identifier at all:
// empty, "null", "undefined", "anonymous", "0", "-1", "guest",
// "[object Object]", "test@test.com" and the like.
var ErrJunk = errors.New("not a usable identifier")

// ErrNotFound is returned (wrapped) when no profile has the identifier or id.
var ErrNotFound = errors.New("no such profile")

// Linked is an identifier as a profile holds it.
type Linked struct {
	Identifier
	FirstSeen, LastSeen time.Time
	// Shared marks an identifier seen with more people than the cap
	// (a shop's tablet, a switchboard number, info@): it is kept on the
	// profile for reference but links nothing.
	Shared bool
}

// Merge is one entry of the merge log: two profiles joined into one, with
// the evidence (the message and the identifier that linked them).
type Merge struct {
	ID         int64
	Workspace  string
	Into, From ProfileID
	By         Identifier // the identifier the two shared
	MessageID  string     // the message that showed the link ("" for a manual merge)
	At         time.Time
	Actor      string // "" for automatic, else the user who approved it
	UndoneAt   time.Time
	UndoneBy   string
}

// Review is a merge a guard stopped, waiting for a person to decide.
type Review struct {
	ID        int64
	Workspace string
	A, B      ProfileID
	By        Identifier
	MessageID string
	// Reason is why it was stopped: "different_user_ids" or "shared_identifier".
	Reason    string
	At        time.Time
	DecidedAt time.Time
	Decision  string // "", "approved", "rejected"
	DecidedBy string
}

// Graph is the identity graph of the workspaces, as the rest of cjm reads
// and changes it. Package identity implements it over the operational store.
type Graph interface {
	// Resolve returns the profile that holds the identifier.
	Resolve(ctx context.Context, workspace string, id Identifier) (ProfileID, error)
	// Identifiers lists the identifiers of a profile, strongest kind first.
	Identifiers(ctx context.Context, workspace string, p ProfileID) ([]Linked, error)
	// Merges lists the merge log entries that involve a profile, newest first.
	Merges(ctx context.Context, workspace string, p ProfileID) ([]Merge, error)
	// Reviews lists the review queue, open ones first, newest first.
	Reviews(ctx context.Context, workspace string, open bool, limit int) ([]Review, error)
	// Approve merges the two profiles of a review; Reject keeps them apart
	// for good (the same link is not queued again).
	Approve(ctx context.Context, workspace string, review int64, actor string) error
	Reject(ctx context.Context, workspace string, review int64, actor string) error
	// Split undoes a merge: the profiles are recomputed from the evidence
	// without it, and the link that caused it will not merge them again.
	Split(ctx context.Context, workspace string, merge int64, actor string) error
	// Erase removes a profile's identifiers, links, merges and reviews (for
	// a privacy deletion) and returns the identifiers it held.
	Erase(ctx context.Context, workspace string, p ProfileID) ([]Identifier, error)
	// EachIdentifier calls fn for every identifier of a workspace with the
	// profile it resolves to, for analytics to count people.
	EachIdentifier(ctx context.Context, workspace string, fn func(Identifier, ProfileID) error) error
}
