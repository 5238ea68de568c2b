package event

import (
	"encoding/binary"
	"errors"
	"time"
)

// The binary form of a message in the event log: a version byte, then each
// field as a uvarint length and bytes, times as a presence byte and varint Unix nanoseconds.
// It is several times cheaper than JSON to write and read.
const codecVersion = 1

var errCodec = errors.New("event: corrupt binary message")

// AppendBinary appends the binary form of m to buf.
func AppendBinary(buf []byte, m *Message) []byte {
	buf = append(buf, codecVersion)
	for _, s := range [...]string{m.WorkspaceID, m.SourceID, m.MessageID, string(m.Type), m.UserID, m.AnonymousID,
		m.Event, m.Name, m.GroupID, m.PreviousID} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, b := range [...][]byte{m.Properties, m.Traits, m.Context, m.Integrations} {
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	for _, t := range [...]time.Time{m.Timestamp, m.OriginalTimestamp, m.SentAt, m.ReceivedAt} {
		if t.IsZero() {
			buf = append(buf, 0)
			continue
		}
		buf = append(buf, 1)
		buf = binary.AppendVarint(buf, t.UnixNano())
	}
	return buf
}

// DecodeBinary decodes the binary form made by AppendBinary. Byte slices in m
// are copies, so b may be reused after the call.
func DecodeBinary(b []byte, m *Message) error {
	if len(b) == 0 || b[0] != codecVersion {
		return errCodec
	}
	b = b[1:]
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	strs := [...]*string{&m.WorkspaceID, &m.SourceID, &m.MessageID, nil, &m.UserID, &m.AnonymousID,
		&m.Event, &m.Name, &m.GroupID, &m.PreviousID}
	for i, p := range strs {
		v, ok := next()
		if !ok {
			return errCodec
		}
		if i == 3 {
			m.Type = Type(v)
			continue
		}
		*p = string(v)
	}
	for _, p := range [...]*[]byte{(*[]byte)(&m.Properties), (*[]byte)(&m.Traits), (*[]byte)(&m.Context), (*[]byte)(&m.Integrations)} {
		v, ok := next()
		if !ok {
			return errCodec
		}
		if len(v) == 0 {
			*p = nil
		} else {
			*p = append([]byte(nil), v...)
		}
	}
	for _, p := range [...]*time.Time{&m.Timestamp, &m.OriginalTimestamp, &m.SentAt, &m.ReceivedAt} {
		if len(b) == 0 || b[0] > 1 {
			return errCodec
		}
		present := b[0] == 1
		b = b[1:]
		*p = time.Time{}
		if !present {
			continue
		}
		n, k := binary.Varint(b)
		if k <= 0 {
			return errCodec
		}
		b = b[k:]
		*p = time.Unix(0, n).UTC()
	}
	if len(b) != 0 {
		return errCodec
	}
	return nil
}
