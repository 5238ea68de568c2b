// Package opstore holds cjm's operational data: workspaces, sources and their
// write keys, users, roles, sessions, API keys and rejected events. The Store
// interface is implemented per database (opstore/sqlite embedded by default).
package opstore

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a record would break a uniqueness rule
// (an e-mail already used, a source name already taken in the workspace).
var ErrConflict = errors.New("already exists")

// Role is what a user may do in a workspace.
type Role string

// Roles, from most to least powerful.
const (
	Owner  Role = "owner"  // everything, including users and keys
	Editor Role = "editor" // change definitions and sources
	Viewer Role = "viewer" // read only
)

// Roles lists the roles in order of power.
var Roles = []Role{Owner, Editor, Viewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Owner || r == Editor || r == Viewer }

// Can reports whether r is at least as powerful as need.
func (r Role) Can(need Role) bool { return rank(r) >= rank(need) }

func rank(r Role) int {
	switch r {
	case Owner:
		return 3
	case Editor:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// Channel is the kind of a source.
type Channel string

// Channels a source can be.
const (
	Website     Channel = "website"
	App         Channel = "app"
	POS         Channel = "pos"
	Hotline     Channel = "hotline"
	Marketplace Channel = "marketplace"
	Email       Channel = "email"
	SMS         Channel = "sms"
	Zalo        Channel = "zalo"
	Social      Channel = "social"
	Other       Channel = "other"
)

// Channels lists every channel in the order the UI shows them.
var Channels = []Channel{Website, App, POS, Hotline, Marketplace, Email, SMS, Zalo, Social, Other}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if c == k {
			return true
		}
	}
	return false
}

// Workspace is one business's space: its sources, users and data.
type Workspace struct {
	ID        string
	Name      string
	TimeZone  string // IANA name, default Asia/Ho_Chi_Minh
	Currency  string // ISO 4217, default VND
	CreatedAt time.Time
}

// Source is a place events come from, with the write key that ingests them.
type Source struct {
	ID          string
	WorkspaceID string
	Name        string
	Channel     Channel
	WriteKey    string
	// RateLimit is the messages per second the write key may send (0: the server default).
	RateLimit int
	Disabled  bool
	CreatedAt time.Time
}

// User is a person who logs into cjm.
type User struct {
	ID           string
	Email        string // lower-cased, unique
	Name         string
	PasswordHash string // argon2id, PHC string format
	Lang         string // preferred UI language ("vi", "en"), "" for the browser's
	CreatedAt    time.Time
}

// Member is a user's role in a workspace.
type Member struct {
	WorkspaceID string
	User        User
	Role        Role
}

// Session is a logged-in browser. Only the SHA-256 of the token is stored.
type Session struct {
	TokenHash   string
	UserID      string
	WorkspaceID string // the workspace the user is looking at
	CSRFToken   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// APIKey is a secret key for the JSON API. Only its hash is stored; Prefix
// (the first characters) lets people recognise it.
type APIKey struct {
	ID          string
	WorkspaceID string
	Name        string
	Prefix      string
	Hash        string
	Role        Role
	CreatedAt   time.Time
	LastUsedAt  time.Time
}

// Rejected is a message that failed validation, kept so nothing is silently dropped.
type Rejected struct {
	ID          int64
	WorkspaceID string
	SourceID    string
	ReceivedAt  time.Time
	// Origin says how it arrived: "http", or "import:FILE:LINE".
	Origin string
	// Index is the position of the message in its batch (-1 for a whole request).
	Index  int
	Code   string // machine-readable reason, e.g. "missing_identity"
	Field  string // the offending field, e.g. "userId"
	Reason string // human-readable
	// Payload is the raw message as received (truncated to 64 KB).
	Payload string
}

// RejectedFilter narrows a list of rejected messages.
type RejectedFilter struct {
	WorkspaceID string
	SourceID    string // "" for all
	Code        string // "" for all
	BeforeID    int64  // paging: only IDs below this (0: from the newest)
	Limit       int
}

// Store is the operational database.
type Store interface {
	Workspaces(ctx context.Context) ([]Workspace, error)
	Workspace(ctx context.Context, id string) (Workspace, error)
	CreateWorkspace(ctx context.Context, w *Workspace) error // fills ID, CreatedAt and defaults
	UpdateWorkspace(ctx context.Context, w Workspace) error

	Sources(ctx context.Context, workspaceID string) ([]Source, error)
	Source(ctx context.Context, id string) (Source, error)
	SourceByName(ctx context.Context, workspaceID, name string) (Source, error)
	SourceByWriteKey(ctx context.Context, writeKey string) (Source, error)
	CreateSource(ctx context.Context, s *Source) error // fills ID, WriteKey (if empty), CreatedAt
	UpdateSource(ctx context.Context, s Source) error
	RotateWriteKey(ctx context.Context, id string) (string, error)

	Users(ctx context.Context) ([]User, error)
	UserCount(ctx context.Context) (int, error)
	User(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	CreateUser(ctx context.Context, u *User) error // fills ID, CreatedAt
	UpdateUser(ctx context.Context, u User) error
	DeleteUser(ctx context.Context, id string) error

	Members(ctx context.Context, workspaceID string) ([]Member, error)
	// Memberships lists the workspaces a user belongs to, with the role in each.
	Memberships(ctx context.Context, userID string) ([]Member, error)
	SetMember(ctx context.Context, workspaceID, userID string, role Role) error
	RemoveMember(ctx context.Context, workspaceID, userID string) error

	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, tokenHash string) (Session, error) // ErrNotFound when expired
	UpdateSessionWorkspace(ctx context.Context, tokenHash, workspaceID string) error
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions logs a user out everywhere but the session
	// keepTokenHash ("" for everywhere), e.g. after a password change.
	DeleteUserSessions(ctx context.Context, userID, keepTokenHash string) error

	APIKeys(ctx context.Context, workspaceID string) ([]APIKey, error)
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	CreateAPIKey(ctx context.Context, k *APIKey) error
	DeleteAPIKey(ctx context.Context, workspaceID, id string) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// AddRejected stores rejected messages in one transaction.
	AddRejected(ctx context.Context, rs []Rejected) error
	Rejected(ctx context.Context, f RejectedFilter) ([]Rejected, error)
	RejectedCount(ctx context.Context, workspaceID string) (int, error)
	// DeleteRejected forgets rejected messages received before a time, in
	// every workspace (retention), and says how many.
	DeleteRejected(ctx context.Context, before time.Time) (int64, error)

	// Journey maps. Every method is scoped to a workspace: a map of another
	// workspace is ErrNotFound. Each write is one transaction, with its
	// activity log entries.

	// CreateMap stores version 1 of a new map; ErrConflict when the name is
	// taken in the workspace (case-insensitive).
	CreateMap(ctx context.Context, workspaceID, name, state string, doc []byte, ch MapChange) (MapRecord, error)
	// SaveMap appends version baseVersion+1; ErrStale when the map is no
	// longer at baseVersion (0: whatever is current). Saving what the latest
	// version already holds changes nothing and returns it.
	SaveMap(ctx context.Context, workspaceID, mapID string, baseVersion int, name, state string, doc []byte, ch MapChange) (MapRecord, error)
	Map(ctx context.Context, workspaceID, mapID string) (MapRecord, error)
	MapByName(ctx context.Context, workspaceID, name string) (MapRecord, error)
	Maps(ctx context.Context, workspaceID string) ([]MapRecord, error)
	// DeleteMap deletes a map with its versions, comments, shares and activity.
	DeleteMap(ctx context.Context, workspaceID, mapID string) error
	MapVersions(ctx context.Context, workspaceID, mapID string) ([]MapVersion, error) // newest first, without Doc
	MapVersion(ctx context.Context, workspaceID, mapID string, version int) (MapVersion, error)

	AddMapComment(ctx context.Context, workspaceID string, c MapComment) (MapComment, error) // fills ID, CreatedAt
	MapComments(ctx context.Context, workspaceID, mapID string) ([]MapComment, error)        // oldest first
	ResolveMapComment(ctx context.Context, workspaceID, mapID, commentID, userID, userName string) error
	DeleteMapComment(ctx context.Context, workspaceID, mapID, commentID string) error
	// MentionsOf lists the comments mentioning a user in a workspace, newest first.
	MentionsOf(ctx context.Context, workspaceID, userID string, limit int) ([]MapComment, error)

	// CreateMapShare stores a read-only link; a zero expiresAt never expires.
	CreateMapShare(ctx context.Context, workspaceID, mapID, tokenHash, prefix, createdBy string, expiresAt time.Time) (MapShare, error)
	MapShares(ctx context.Context, workspaceID, mapID string) ([]MapShare, error)
	// MapShareByTokenHash returns an active (unrevoked, unexpired) share and
	// the latest version of its map; ErrNotFound otherwise.
	MapShareByTokenHash(ctx context.Context, tokenHash string) (MapShare, MapRecord, error)
	RevokeMapShare(ctx context.Context, workspaceID, mapID, shareID, userID, userName string) error

	MapActivities(ctx context.Context, workspaceID, mapID string, limit int) ([]MapActivity, error) // newest first

	Close() error
}
