package opstore

import (
	"errors"
	"time"
)

// ErrStale is returned (wrapped) by SaveMap when the map changed since the
// version the caller read.
var ErrStale = errors.New("changed since it was read")

// MapRecord is a journey map and its latest version. The document is opaque
// JSON to the store; package journeymap owns its format.
type MapRecord struct {
	ID            string // "map_" + random
	WorkspaceID   string
	Name          string // unique per workspace (case-insensitive), not empty
	State         string // "current" or "future"
	Version       int    // latest version number, 1-based
	Doc           []byte // the JSON document of that version
	CreatedAt     time.Time
	UpdatedAt     time.Time
	UpdatedBy     string // user id ("" for the CLI/system)
	UpdatedByName string // user's name or e-mail at the time, "" for system
}

// MapVersion is one saved version of a map.
type MapVersion struct {
	MapID      string
	Version    int
	Name       string
	State      string
	Doc        []byte // nil in lists (MapVersions), set by MapVersion
	AuthorID   string
	AuthorName string
	Note       string // e.g. "restored version 3", "imported from map.yaml"
	CreatedAt  time.Time
}

// MapChange describes who saves a map and why; it is written to the version
// and the activity log.
type MapChange struct {
	AuthorID, AuthorName string
	Note                 string
	Action               string // activity action: "created", "saved", "restored", "imported", "duplicated"
}

// MapComment is a comment on a card, stage or touchpoint of a map.
type MapComment struct {
	ID                   string // "cmt_" + random
	MapID                string
	Target               string // key of a stage/touchpoint or id of a card; "" = the map as a whole
	AuthorID, AuthorName string
	Body                 string
	Mentions             []string // user ids mentioned, sorted, without duplicates; nil for none
	CreatedAt            time.Time
	ResolvedAt           time.Time // zero while open
}

// MapShare is a read-only link to a map. Only the hash of its token is stored.
type MapShare struct {
	ID        string // "shr_" + random
	MapID     string
	Prefix    string // first characters of the token, to tell links apart in the UI
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: active
}

// MapActivity is one entry of a map's activity log.
type MapActivity struct {
	ID               int64
	MapID            string
	UserID, UserName string
	// Action is one of created, saved, restored, imported, duplicated,
	// renamed, commented, comment_resolved, shared, share_revoked.
	Action string
	Detail string
	At     time.Time
}
