package event

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/zeebo/xxh3"
)

// Limits of the Segment HTTP tracking API.
const (
	MaxMessageBytes  = 32 << 10  // one message
	MaxBatchBytes    = 500 << 10 // one batch request body
	MaxBatchMessages = 2500      // messages in one batch
	maxNameLen       = 255       // event, page and screen names
	maxIDLen         = 255       // userId, anonymousId, messageId, ...
	futureTolerance  = 24 * time.Hour
)

// Error is a validation failure of one message: what was wrong and where.
type Error struct {
	Code   string `json:"code"`            // machine-readable, e.g. "missing_identity"
	Field  string `json:"field,omitempty"` // e.g. "timestamp"
	Reason string `json:"reason"`          // for people
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Reason
	}
	return e.Reason
}

func invalid(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Defaults are what a message inherits from its request.
type Defaults struct {
	// Type is the type implied by the endpoint (/v1/track => Track); empty for batches.
	Type Type
	// Context is the batch-level context; the message's own keys win.
	Context json.RawMessage
	// SentAt is the batch-level sentAt, used when the message has none.
	SentAt time.Time
	// ReceivedAt is when the request arrived.
	ReceivedAt time.Time
	// File says the message comes from a file (an import or an export being
	// re-imported): its time is taken as written, never corrected for clock
	// skew from sentAt, and it must have one.
	File bool
}

// wire is a message as senders write it: raw JSON values, because some
// clients send identifiers as numbers.
type wire struct {
	Type, MessageID, UserID, AnonymousID, Event, Name, GroupID, PreviousID json.RawMessage
	Properties, Traits, Context, Integrations                              json.RawMessage
	Timestamp, OriginalTimestamp, SentAt                                   json.RawMessage
	// compact notes which object values need no compaction.
	compact map[string]bool
}

// decodeWire reads the members of a message in one pass (see scan.go).
func decodeWire(raw []byte, w *wire) error {
	return topObject(raw, func(m member) error {
		key := string(m.key)
		if m.escaped {
			if err := json.Unmarshal(append(append([]byte{'"'}, m.key...), '"'), &key); err != nil {
				return err
			}
		}
		var dst *json.RawMessage
		switch key {
		case "type":
			dst = &w.Type
		case "messageId":
			dst = &w.MessageID
		case "userId":
			dst = &w.UserID
		case "anonymousId":
			dst = &w.AnonymousID
		case "event":
			dst = &w.Event
		case "name":
			dst = &w.Name
		case "groupId":
			dst = &w.GroupID
		case "previousId":
			dst = &w.PreviousID
		case "properties":
			dst = &w.Properties
		case "traits":
			dst = &w.Traits
		case "context":
			dst = &w.Context
		case "integrations":
			dst = &w.Integrations
		case "timestamp":
			dst = &w.Timestamp
		case "originalTimestamp":
			dst = &w.OriginalTimestamp
		case "sentAt":
			dst = &w.SentAt
		default:
			return nil
		}
		*dst = m.val
		if !m.compact {
			if w.compact == nil {
				w.compact = map[string]bool{}
			}
			w.compact[key] = false
		}
		return nil
	})
}

// Normalize decodes one Segment-spec message, applies the request defaults and
// checks it (see Check). The returned message has no workspace, source or seq.
func Normalize(raw []byte, d Defaults) (Message, *Error) {
	var m Message
	if len(raw) > MaxMessageBytes {
		return m, invalid("message_too_large", "", "message is %d bytes, the limit is %d", len(raw), MaxMessageBytes)
	}
	var w wire
	if err := decodeWire(raw, &w); err != nil {
		return m, invalid("invalid_json", "", "message is not a JSON object: %s", jsonErr(err))
	}
	var e *Error
	str := func(field string, v json.RawMessage) string {
		if e != nil {
			return ""
		}
		s, err := idString(field, v)
		if err != nil {
			e = err
		}
		return s
	}
	m.Type = Type(strings.ToLower(strings.TrimSpace(str("type", w.Type))))
	if m.Type == "" {
		m.Type = d.Type
	}
	m.MessageID = str("messageId", w.MessageID)
	m.UserID = str("userId", w.UserID)
	m.AnonymousID = str("anonymousId", w.AnonymousID)
	m.Event = str("event", w.Event)
	m.Name = str("name", w.Name)
	m.GroupID = str("groupId", w.GroupID)
	m.PreviousID = str("previousId", w.PreviousID)
	if e != nil {
		return m, e
	}
	for _, o := range []struct {
		field string
		src   json.RawMessage
		dst   *json.RawMessage
	}{
		{"properties", w.Properties, &m.Properties},
		{"traits", w.Traits, &m.Traits},
		{"context", w.Context, &m.Context},
		{"integrations", w.Integrations, &m.Integrations},
	} {
		obj, err := object(o.field, o.src, w.compact == nil || w.compact[o.field])
		if err != nil {
			return m, err
		}
		*o.dst = obj
	}
	if len(d.Context) > 0 {
		merged, err := MergeObjects(d.Context, m.Context)
		if err != nil {
			return m, invalid("invalid_context", "context", "batch context cannot be merged: %v", err)
		}
		m.Context = merged
	}
	var ts time.Time
	for _, t := range []struct {
		field string
		src   json.RawMessage
		dst   *time.Time
	}{
		{"timestamp", w.Timestamp, &ts},
		{"originalTimestamp", w.OriginalTimestamp, &m.OriginalTimestamp},
		{"sentAt", w.SentAt, &m.SentAt},
	} {
		v, err := parseTimeField(t.field, t.src)
		if err != nil {
			return m, err
		}
		*t.dst = v
	}
	if m.SentAt.IsZero() {
		m.SentAt = d.SentAt
	}
	m.ReceivedAt = d.ReceivedAt
	sent := ts.IsZero() && m.OriginalTimestamp.IsZero()
	switch {
	case d.File && sent:
		return m, invalid("missing_timestamp", "timestamp", "a line in a file needs a timestamp (or originalTimestamp): when did it happen?")
	case d.File:
		m.Timestamp = ts
		if m.Timestamp.IsZero() {
			m.Timestamp = m.OriginalTimestamp
		}
	default:
		m.Timestamp = correctSkew(ts, m.OriginalTimestamp, m.SentAt, m.ReceivedAt)
	}
	if sent && m.MessageID == "" {
		// Without an id or a time of its own, two identical messages are two
		// events: give this one a unique id rather than one from its content.
		m.MessageID = "cjm-" + uuid.NewString()
	}
	if err := check(&m, true); err != nil {
		return m, err
	}
	return m, nil
}

// correctSkew computes the event time the Segment way: the client's event time
// shifted by the difference between the server's receive time and the client's
// send time, receivedAt - (sentAt - eventTime). Without sentAt the client's
// time is trusted (historical imports); without any time, receivedAt is used.
func correctSkew(timestamp, original, sentAt, receivedAt time.Time) time.Time {
	t := original
	if t.IsZero() {
		t = timestamp
	}
	switch {
	case t.IsZero():
		return receivedAt
	case sentAt.IsZero() || receivedAt.IsZero():
		return t
	}
	return receivedAt.Add(-sentAt.Sub(t))
}

// Check validates and normalises a message in place, whatever path it came
// through (HTTP, file import, demo): the type is known, it has an identity,
// the fields its type needs are there, names and ids are trimmed and not too
// long, JSON objects are objects, and it has a messageId (derived from its
// content when the sender gave none, so re-sending the same content dedups).
func Check(m *Message) *Error { return check(m, false) }

// check is Check; objectsValid says the JSON objects were already validated
// (by the scanner in Normalize).
func check(m *Message, objectsValid bool) *Error {
	m.Type = Type(strings.ToLower(strings.TrimSpace(string(m.Type))))
	if m.Type == "" {
		return invalid("missing_type", "type", "type is required (track, identify, page, screen, group or alias)")
	}
	if !m.Type.Valid() {
		return invalid("invalid_type", "type", "unknown type %q (want track, identify, page, screen, group or alias)", clip(string(m.Type)))
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"messageId", &m.MessageID, maxIDLen},
		{"userId", &m.UserID, maxIDLen},
		{"anonymousId", &m.AnonymousID, maxIDLen},
		{"groupId", &m.GroupID, maxIDLen},
		{"previousId", &m.PreviousID, maxIDLen},
		{"event", &m.Event, maxNameLen},
		{"name", &m.Name, maxNameLen},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if !utf8.ValidString(*f.v) {
			return invalid("invalid_string", f.name, "%s is not valid UTF-8", f.name)
		}
		if strings.IndexFunc(*f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return invalid("invalid_string", f.name, "%s contains a control character", f.name)
		}
		if n := utf8.RuneCountInString(*f.v); n > f.max {
			return invalid("too_long", f.name, "%s is %d characters, the limit is %d", f.name, n, f.max)
		}
	}
	if m.UserID == "" && m.AnonymousID == "" {
		return invalid("missing_identity", "userId", "userId or anonymousId is required")
	}
	switch m.Type {
	case Track:
		if m.Event == "" {
			return invalid("missing_event", "event", "a track call needs an event name")
		}
	case Group:
		if m.GroupID == "" {
			return invalid("missing_group_id", "groupId", "a group call needs a groupId")
		}
	case Alias:
		if m.PreviousID == "" {
			return invalid("missing_previous_id", "previousId", "an alias call needs a previousId")
		}
		if m.UserID == "" {
			return invalid("missing_user_id", "userId", "an alias call needs a userId")
		}
	}
	if m.Type != Track {
		m.Event = ""
	}
	for _, o := range []struct {
		name string
		v    json.RawMessage
	}{{"properties", m.Properties}, {"traits", m.Traits}, {"context", m.Context}, {"integrations", m.Integrations}} {
		if len(o.v) > 0 && !objectsValid {
			if !isObject(o.v) {
				return invalid("invalid_object", o.name, "%s must be a JSON object", o.name)
			}
			if !utf8.Valid(o.v) {
				return invalid("invalid_string", o.name, "%s contains text that is not valid UTF-8", o.name)
			}
		}
	}
	if m.Timestamp.IsZero() {
		return invalid("missing_timestamp", "timestamp", "the event time is unknown")
	}
	m.Timestamp = m.Timestamp.UTC()
	for _, t := range []struct {
		name string
		v    *time.Time
	}{{"timestamp", &m.Timestamp}, {"originalTimestamp", &m.OriginalTimestamp}, {"sentAt", &m.SentAt}, {"receivedAt", &m.ReceivedAt}} {
		if t.v.IsZero() {
			continue
		}
		*t.v = t.v.UTC()
		if y := t.v.Year(); y < 1970 || y >= 2200 {
			return invalid("invalid_timestamp", t.name, "%s %s is out of range (1970 to 2199)", t.name, t.v.Format(time.RFC3339))
		}
	}
	if !m.ReceivedAt.IsZero() && m.Timestamp.After(m.ReceivedAt.Add(futureTolerance)) {
		return invalid("invalid_timestamp", "timestamp", "timestamp %s is more than a day in the future", m.Timestamp.Format(time.RFC3339))
	}
	if m.MessageID == "" {
		m.MessageID = contentID(m)
	}
	return nil
}

// contentID derives a messageId from what the message says, so that the same
// message sent twice without an id is stored once.
func contentID(m *Message) string {
	var b bytes.Buffer
	for _, s := range []string{string(m.Type), m.UserID, m.AnonymousID, m.Event, m.Name, m.GroupID, m.PreviousID,
		m.Timestamp.UTC().Format(time.RFC3339Nano)} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	b.Write(m.Properties)
	b.WriteByte(0)
	b.Write(m.Traits)
	h := xxh3.Hash128(b.Bytes()).Bytes()
	return "cjm-" + hex.EncodeToString(h[:])
}

// DedupKey is the 64-bit key under which a message is deduplicated: its
// messageId within its workspace.
func DedupKey(workspaceID, messageID string) uint64 {
	h := xxh3.New()
	h.WriteString(workspaceID)
	h.Write([]byte{0})
	h.WriteString(messageID)
	return h.Sum64()
}

// idString reads an identifier that may be a JSON string or number.
func idString(field string, v json.RawMessage) (string, *Error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	switch v[0] {
	case '"':
		s, ok := unquote(v)
		if !ok {
			return "", invalid("invalid_string", field, "%s is not a valid string", field)
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(v), nil
	}
	return "", invalid("invalid_string", field, "%s must be a string", field)
}

// unquote decodes a JSON string literal that the scanner already validated.
func unquote(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// object checks an optional JSON object and returns it compacted (nil when
// absent, null or empty). compact says the scanner saw no whitespace in it.
func object(field string, v json.RawMessage, compact bool) (json.RawMessage, *Error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	if v[0] != '{' {
		return nil, invalid("invalid_object", field, "%s must be a JSON object", field)
	}
	if compact {
		if len(v) == 2 {
			return nil, nil
		}
		return append(json.RawMessage(nil), v...), nil
	}
	var b bytes.Buffer
	b.Grow(len(v))
	if err := json.Compact(&b, v); err != nil {
		return nil, invalid("invalid_json", field, "%s is not valid JSON: %s", field, jsonErr(err))
	}
	if b.Len() == 2 {
		return nil, nil
	}
	return b.Bytes(), nil
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 1 && v[0] == '{' && json.Valid(v)
}

// MergeObjects merges two JSON objects key by key (one level deep): keys of
// over win over base. The result has sorted keys. Both must be valid objects.
func MergeObjects(base, over json.RawMessage) (json.RawMessage, error) {
	if len(over) == 0 {
		return base, nil
	}
	if len(base) == 0 {
		return over, nil
	}
	type kv struct {
		key string
		val []byte
	}
	var members []kv
	seen := map[string]int{}
	add := func(m member) error {
		key := string(m.key)
		if m.escaped {
			if err := json.Unmarshal(append(append([]byte{'"'}, m.key...), '"'), &key); err != nil {
				return err
			}
		}
		val := m.val
		if !m.compact {
			var b bytes.Buffer
			if err := json.Compact(&b, val); err != nil {
				return err
			}
			val = b.Bytes()
		}
		if i, ok := seen[key]; ok {
			members[i].val = val
			return nil
		}
		seen[key] = len(members)
		members = append(members, kv{key, val})
		return nil
	}
	if err := topObject(base, add); err != nil {
		return nil, err
	}
	if err := topObject(over, add); err != nil {
		return nil, err
	}
	sort.Slice(members, func(i, j int) bool { return members[i].key < members[j].key })
	out := make([]byte, 0, len(base)+len(over))
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(m.key)
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, m.val...)
	}
	return append(out, '}'), nil
}

func parseTimeField(field string, v json.RawMessage) (time.Time, *Error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return time.Time{}, nil
	}
	if v[0] != '"' {
		// Unix milliseconds, as some clients send.
		ms, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return time.Time{}, invalid("invalid_timestamp", field, "%s must be an ISO-8601 string or Unix milliseconds", field)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	s, ok := unquote(v)
	if !ok {
		return time.Time{}, invalid("invalid_timestamp", field, "%s is not a valid string", field)
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, invalid("invalid_timestamp", field, "%s %q is not an ISO-8601 date-time", field, clip(s))
	}
	return t, nil
}

// isoLayouts are the ISO-8601 forms accepted for message times, tried in order.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses an ISO-8601 date-time; one without a zone is UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date-time", clip(s))
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}
