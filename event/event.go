// Package event is the customer event model of cjm: the messages of the Segment
// tracking spec (track, identify, page, screen, group, alias), how they are decoded
// from the wire, validated and normalised before anything is stored.
package event

import (
	"encoding/json"
	"time"
)

// Type is the kind of a message, as in the Segment spec.
type Type string

// The message types of the Segment spec.
const (
	Track    Type = "track"
	Identify Type = "identify"
	Page     Type = "page"
	Screen   Type = "screen"
	Group    Type = "group"
	Alias    Type = "alias"
)

// Types lists every valid type, in the order the UI shows them.
var Types = []Type{Track, Identify, Page, Screen, Group, Alias}

// Valid reports whether t is a type of the spec.
func (t Type) Valid() bool {
	switch t {
	case Track, Identify, Page, Screen, Group, Alias:
		return true
	}
	return false
}

// Message is one normalised event as cjm stores it. All times are UTC.
// JSON objects (properties, traits, context, integrations) are kept as raw,
// compact JSON objects; nil means absent. Its JSON encoding is the Segment
// spec's message (what `cjm export` writes); cjm's own fields are left out.
type Message struct {
	// Seq is the position of the message in the event log, assigned when the
	// message is durably appended; 0 before that.
	Seq uint64 `json:"-"`
	// WorkspaceID and SourceID say where the message came from; set by cjm,
	// never by the sender.
	WorkspaceID string `json:"-"`
	SourceID    string `json:"-"`

	MessageID   string `json:"messageId"`
	Type        Type   `json:"type"`
	UserID      string `json:"userId,omitempty"`
	AnonymousID string `json:"anonymousId,omitempty"`
	// Event is the event name of a track call.
	Event string `json:"event,omitempty"`
	// Name is the page or screen name of a page or screen call.
	Name string `json:"name,omitempty"`
	// GroupID is the group of a group call.
	GroupID string `json:"groupId,omitempty"`
	// PreviousID is the old identity of an alias call.
	PreviousID string `json:"previousId,omitempty"`

	Properties   json.RawMessage `json:"properties,omitempty"`
	Traits       json.RawMessage `json:"traits,omitempty"`
	Context      json.RawMessage `json:"context,omitempty"`
	Integrations json.RawMessage `json:"integrations,omitempty"`

	// Timestamp is when the event happened, corrected for the client's clock
	// skew (see Normalize).
	Timestamp time.Time `json:"timestamp"`
	// OriginalTimestamp is the event time as the client's clock said it, if sent.
	OriginalTimestamp time.Time `json:"originalTimestamp,omitzero"`
	// SentAt is when the client sent the message, by the client's clock, if sent.
	SentAt time.Time `json:"sentAt,omitzero"`
	// ReceivedAt is when cjm received the message, by the server's clock.
	ReceivedAt time.Time `json:"receivedAt"`
}

// Label is the name shown for the message in lists: the event name of a track,
// the page or screen name, else the type.
func (m *Message) Label() string {
	switch {
	case m.Event != "":
		return m.Event
	case m.Name != "":
		return m.Name
	}
	return string(m.Type)
}

// Actor is the identifier the message is attributed to before identity
// resolution: the userId when known, else the anonymousId.
func (m *Message) Actor() string {
	if m.UserID != "" {
		return m.UserID
	}
	return m.AnonymousID
}
