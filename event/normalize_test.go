package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var recv = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		d     Defaults
		check func(t *testing.T, m Message)
		code  string // expected error code, "" for valid
		field string
	}{
		{name: "track", raw: `{"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue": 100},"messageId":"m1","timestamp":"2026-11-20T08:00:00+07:00"}`,
			check: func(t *testing.T, m Message) {
				if m.Type != Track || m.Event != "Order Completed" || m.UserID != "u1" || m.MessageID != "m1" {
					t.Errorf("got %+v", m)
				}
				if want := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC); !m.Timestamp.Equal(want) || m.Timestamp.Location() != time.UTC {
					t.Errorf("timestamp %v, want %v UTC", m.Timestamp, want)
				}
				if string(m.Properties) != `{"revenue":100}` {
					t.Errorf("properties %s", m.Properties)
				}
			}},
		{name: "type from endpoint", raw: `{"anonymousId":"a1","event":"Clicked"}`, d: Defaults{Type: Track},
			check: func(t *testing.T, m Message) {
				if m.Type != Track || !m.Timestamp.Equal(recv) {
					t.Errorf("got type %q ts %v", m.Type, m.Timestamp)
				}
				if !strings.HasPrefix(m.MessageID, "cjm-") {
					t.Errorf("given messageId %q", m.MessageID)
				}
			}},
		{name: "numeric userId", raw: `{"type":"identify","userId":12345,"traits":{"email":"a@b.vn"}}`,
			check: func(t *testing.T, m Message) {
				if m.UserID != "12345" {
					t.Errorf("userId %q", m.UserID)
				}
			}},
		{name: "page name kept, event dropped", raw: `{"type":"page","anonymousId":"a","name":"Home","event":"x"}`,
			check: func(t *testing.T, m Message) {
				if m.Name != "Home" || m.Event != "" {
					t.Errorf("name %q event %q", m.Name, m.Event)
				}
			}},
		{name: "type is case-insensitive", raw: `{"type":"TRACK","userId":"u","event":"E"}`,
			check: func(t *testing.T, m Message) {
				if m.Type != Track {
					t.Errorf("type %q", m.Type)
				}
			}},
		{name: "skew corrected from sentAt", raw: `{"type":"track","userId":"u","event":"E","originalTimestamp":"2026-11-22T12:00:00Z","sentAt":"2026-11-22T12:00:10Z"}`,
			check: func(t *testing.T, m Message) {
				// client clock is 2h10s ahead of... receivedAt 10:00:00 - (sentAt - original = 10s) = 09:59:50
				if want := recv.Add(-10 * time.Second); !m.Timestamp.Equal(want) {
					t.Errorf("timestamp %v, want %v", m.Timestamp, want)
				}
			}},
		{name: "batch sentAt applies", raw: `{"type":"track","userId":"u","event":"E","timestamp":"2026-11-22T09:00:00Z"}`,
			d: Defaults{SentAt: time.Date(2026, 11, 22, 9, 0, 5, 0, time.UTC)},
			check: func(t *testing.T, m Message) {
				if want := recv.Add(-5 * time.Second); !m.Timestamp.Equal(want) {
					t.Errorf("timestamp %v, want %v", m.Timestamp, want)
				}
			}},
		{name: "unix millis timestamp", raw: `{"type":"track","userId":"u","event":"E","timestamp":1763800000000}`,
			check: func(t *testing.T, m Message) {
				if !m.Timestamp.Equal(time.UnixMilli(1763800000000)) {
					t.Errorf("timestamp %v", m.Timestamp)
				}
			}},
		{name: "batch context merged, message wins", raw: `{"type":"track","userId":"u","event":"E","context":{"ip":"1.2.3.4","locale":"vi-VN"}}`,
			d: Defaults{Context: json.RawMessage(`{"library":{"name":"analytics-go"},"locale":"en-US"}`)},
			check: func(t *testing.T, m Message) {
				if got := string(m.Context); got != `{"ip":"1.2.3.4","library":{"name":"analytics-go"},"locale":"vi-VN"}` {
					t.Errorf("context %s", got)
				}
			}},
		{name: "trims ids", raw: `{"type":"track","userId":"  u1 ","event":" E "}`,
			check: func(t *testing.T, m Message) {
				if m.UserID != "u1" || m.Event != "E" {
					t.Errorf("%q %q", m.UserID, m.Event)
				}
			}},
		{name: "no identity", raw: `{"type":"track","event":"E"}`, code: "missing_identity", field: "userId"},
		{name: "null identity", raw: `{"type":"track","event":"E","userId":null,"anonymousId":""}`, code: "missing_identity", field: "userId"},
		{name: "track without event", raw: `{"type":"track","userId":"u"}`, code: "missing_event", field: "event"},
		{name: "unknown type", raw: `{"type":"click","userId":"u"}`, code: "invalid_type", field: "type"},
		{name: "no type", raw: `{"userId":"u"}`, code: "missing_type", field: "type"},
		{name: "bad timestamp", raw: `{"type":"track","userId":"u","event":"E","timestamp":"yesterday"}`, code: "invalid_timestamp", field: "timestamp"},
		{name: "far future", raw: `{"type":"track","userId":"u","event":"E","timestamp":"2030-01-01T00:00:00Z"}`, code: "invalid_timestamp", field: "timestamp"},
		{name: "properties not object", raw: `{"type":"track","userId":"u","event":"E","properties":[1,2]}`, code: "invalid_object", field: "properties"},
		{name: "userId object", raw: `{"type":"track","userId":{"a":1},"event":"E"}`, code: "invalid_string", field: "userId"},
		{name: "not json", raw: `{"type":"track",`, code: "invalid_json"},
		{name: "array", raw: `[1]`, code: "invalid_json"},
		{name: "oversize", raw: `{"type":"track","userId":"u","event":"E","properties":{"x":"` + strings.Repeat("a", MaxMessageBytes) + `"}}`, code: "message_too_large"},
		{name: "long event", raw: `{"type":"track","userId":"u","event":"` + strings.Repeat("é", 256) + `"}`, code: "too_long", field: "event"},
		{name: "alias needs previousId", raw: `{"type":"alias","userId":"u"}`, code: "missing_previous_id", field: "previousId"},
		{name: "group needs groupId", raw: `{"type":"group","userId":"u"}`, code: "missing_group_id", field: "groupId"},
		{name: "NUL in userId", raw: `{"type":"track","userId":"a\u0000b","event":"E"}`, code: "invalid_string", field: "userId"},
		{name: "newline in event", raw: `{"type":"track","userId":"u","event":"E\nF"}`, code: "invalid_string", field: "event"},
		{name: "lone high surrogate", raw: `{"type":"track","userId":"u","event":"E","properties":{"a":"\ud800"}}`, code: "invalid_json"},
		{name: "lone low surrogate", raw: `{"type":"track","userId":"u","event":"E","properties":{"a":"\udc00x"}}`, code: "invalid_json"},
		{name: "surrogate pair", raw: `{"type":"track","userId":"u","event":"E","properties":{"a":"\ud83d\ude00"}}`,
			check: func(t *testing.T, m Message) {
				if string(m.Properties) != `{"a":"\ud83d\ude00"}` {
					t.Errorf("properties %s", m.Properties)
				}
			}},
		{name: "file line keeps its time", raw: `{"type":"track","userId":"u","event":"E","timestamp":"2025-01-01T00:00:00Z","sentAt":"2025-01-01T00:00:05Z"}`,
			d: Defaults{File: true},
			check: func(t *testing.T, m Message) {
				if !m.Timestamp.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("timestamp %v moved", m.Timestamp)
				}
			}},
		{name: "file line without time", raw: `{"type":"track","userId":"u","event":"E"}`, d: Defaults{File: true}, code: "missing_timestamp", field: "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			d.ReceivedAt = recv
			m, err := Normalize([]byte(tt.raw), d)
			if tt.code != "" {
				if err == nil {
					t.Fatalf("accepted %+v, want error %s", m, tt.code)
				}
				if err.Code != tt.code || err.Field != tt.field {
					t.Fatalf("error %s/%s (%s), want %s/%s", err.Code, err.Field, err.Reason, tt.code, tt.field)
				}
				if err.Reason == "" {
					t.Error("error without a reason")
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !m.ReceivedAt.Equal(recv) {
				t.Errorf("receivedAt %v", m.ReceivedAt)
			}
			tt.check(t, m)
		})
	}
}

func TestDerivedMessageIDIsStable(t *testing.T) {
	raw := []byte(`{"type":"track","userId":"u","event":"E","timestamp":"2026-11-01T00:00:00Z","properties":{"a":1}}`)
	a, _ := Normalize(raw, Defaults{ReceivedAt: recv})
	b, _ := Normalize(raw, Defaults{ReceivedAt: recv.Add(time.Hour)})
	if a.MessageID != b.MessageID {
		t.Errorf("same content, different ids %s %s", a.MessageID, b.MessageID)
	}
	c, _ := Normalize([]byte(`{"type":"track","userId":"u","event":"E","timestamp":"2026-11-01T00:00:00Z","properties":{"a":2}}`), Defaults{ReceivedAt: recv})
	if a.MessageID == c.MessageID {
		t.Error("different content, same id")
	}
}

func TestNoIDNoTimeIsUnique(t *testing.T) {
	raw := []byte(`{"type":"page","anonymousId":"a","name":"Home"}`)
	a, _ := Normalize(raw, Defaults{ReceivedAt: recv})
	b, _ := Normalize(raw, Defaults{ReceivedAt: recv})
	if a.MessageID == b.MessageID {
		t.Errorf("two page views without id or time got one id %s: the second would be dropped as a duplicate", a.MessageID)
	}
}

func TestDecodeBatch(t *testing.T) {
	b, err := DecodeBatch([]byte(`{"batch":[{"type":"track"},{"type":"page"}],"context":{"library":{"name":"x"}},"sentAt":"2026-11-22T09:59:59Z","writeKey":"wk"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Messages) != 2 || b.WriteKey != "wk" || b.SentAt.IsZero() || string(b.Context) != `{"library":{"name":"x"}}` {
		t.Errorf("got %+v", b)
	}
	for _, bad := range []struct{ body, code string }{
		{`{"batch":{}}`, "invalid_batch"},
		{`{}`, "invalid_batch"},
		{`nope`, "invalid_json"},
		{`{"batch":[],"sentAt":"x"}`, "invalid_timestamp"},
		{`{"batch":[` + strings.Repeat(`{},`, MaxBatchMessages) + `{}]}`, "batch_too_large"},
	} {
		if _, err := DecodeBatch([]byte(bad.body)); err == nil || err.Code != bad.code {
			t.Errorf("%.40s: error %v, want %s", bad.body, err, bad.code)
		}
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	m := Message{WorkspaceID: "ws", SourceID: "src", MessageID: "m", Type: Track, UserID: "u", AnonymousID: "a", Event: "E",
		Properties: json.RawMessage(`{"a":1}`), Context: json.RawMessage(`{"b":"c"}`),
		Timestamp: recv, SentAt: recv.Add(time.Second), ReceivedAt: recv.Add(2 * time.Second)}
	var got Message
	if err := DecodeBinary(AppendBinary(nil, &m), &got); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(got)
	if string(a) != string(b) || got.WorkspaceID != "ws" || got.SourceID != "src" {
		t.Errorf("round trip:\n%s\n%s", a, b)
	}
	buf := AppendBinary(nil, &m)
	for _, cut := range []int{0, 1, 5, len(buf) - 1} {
		if err := DecodeBinary(buf[:cut], &got); err == nil {
			t.Errorf("truncated at %d decoded", cut)
		}
	}
}

// FuzzNormalize: no input makes the parser panic, and whatever it accepts is
// a valid message that survives the log's binary form unchanged.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","userId":"u","event":"E","properties":{"a":[1,{"b":null}]}}`,
		`{"type":"identify","anonymousId":"a","traits":{"email":"x@y.vn"},"timestamp":"2026-01-01"}`,
		`{"type":"page","userId":1,"name":"Home","context":{"page":{"path":"/"}},"sentAt":"2026-11-22T10:00:00Z","originalTimestamp":"2026-11-22T09:00:00Z"}`,
		`{"type":"alias","userId":"u","previousId":"p"}`,
		`{"type":"group","userId":"u","groupId":"g","timestamp":1700000000000}`,
		`{"type":"track","userId":"u","event":"\u0000"}`,
		`{"type":"screen","anonymousId":"a","integrations":{"All":false}}`,
		`{}`, `[]`, `null`, `{"type":"track","userId":"u","event":"E","timestamp":"2026-13-45T99:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Normalize(raw, Defaults{ReceivedAt: recv, Context: json.RawMessage(`{"library":{"name":"fuzz"}}`)})
		// The one-pass scanner agrees with encoding/json on what is JSON
		// (it is stricter only on invalid UTF-8 and absurd nesting).
		stdValid := json.Valid(raw) && utf8.Valid(raw) && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) &&
			bytes.Count(raw, []byte("{"))+bytes.Count(raw, []byte("[")) < maxDepth &&
			!bytes.Contains(bytes.ToLower(raw), []byte(`\ud`)) // the scanner refuses lone surrogates; encoding/json replaces them
		if err != nil && err.Code == "invalid_json" && stdValid {
			t.Fatalf("valid JSON rejected: %v", err)
		}
		if err == nil && !json.Valid(raw) {
			t.Fatalf("invalid JSON accepted")
		}
		if err != nil {
			if err.Code == "" || err.Reason == "" {
				t.Fatalf("error without code or reason: %+v", err)
			}
			return
		}
		if !m.Type.Valid() || m.Actor() == "" || m.MessageID == "" || m.Timestamp.IsZero() {
			t.Fatalf("accepted an invalid message %+v", m)
		}
		if m.Type == Track && m.Event == "" {
			t.Fatal("track without event accepted")
		}
		for _, o := range []json.RawMessage{m.Properties, m.Traits, m.Context, m.Integrations} {
			if len(o) > 0 && (!isObject(o) || !utf8.Valid(o)) {
				t.Fatalf("non-object or invalid UTF-8 stored: %q", o)
			}
		}
		var back Message
		if err := DecodeBinary(AppendBinary(nil, &m), &back); err != nil {
			t.Fatal(err)
		}
		if back.MessageID != m.MessageID || !back.Timestamp.Equal(m.Timestamp) || string(back.Properties) != string(m.Properties) {
			t.Fatalf("binary round trip changed the message")
		}
		if err := Check(&back); err != nil {
			t.Fatalf("normalised message fails Check: %v", err)
		}
	})
}
