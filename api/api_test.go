package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cjmhq/cjm/api"
	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/export"
	"github.com/cjmhq/cjm/opstore"
)

// clock is the API's injected time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// env is a running API over real stores with two workspaces: A (cjmtest's,
// with sources "Website" and "POS", five events and two rejected messages)
// and B (one source, one event, one rejected message).
type env struct {
	*cjmtest.Env
	url   string
	clock *clock
	pos   opstore.Source    // A's second source
	b     opstore.Workspace // the other workspace
	bSrc  opstore.Source
	keys  map[string]string // owner, editor, viewer (of A); b (editor of B)
	keyID map[string]string
}

var t0 = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{Env: cjmtest.New(t), clock: &clock{t: t0.Add(72 * time.Hour)}, keys: map[string]string{}, keyID: map[string]string{}}
	e.pos = opstore.Source{WorkspaceID: e.Workspace.ID, Name: "POS", Channel: opstore.POS}
	must(t, e.Ops.CreateSource(ctx, &e.pos))
	e.b = opstore.Workspace{Name: "Other shop"}
	must(t, e.Ops.CreateWorkspace(ctx, &e.b))
	e.bSrc = opstore.Source{WorkspaceID: e.b.ID, Name: "B site", Channel: opstore.Website}
	must(t, e.Ops.CreateSource(ctx, &e.bSrc))
	for name, k := range map[string]struct {
		ws   string
		role opstore.Role
	}{"owner": {e.Workspace.ID, opstore.Owner}, "editor": {e.Workspace.ID, opstore.Editor},
		"viewer": {e.Workspace.ID, opstore.Viewer}, "b": {e.b.ID, opstore.Editor}} {
		key, prefix := auth.NewAPIKey()
		ak := opstore.APIKey{WorkspaceID: k.ws, Name: name, Prefix: prefix, Hash: auth.HashToken(key), Role: k.role}
		must(t, e.Ops.CreateAPIKey(ctx, &ak))
		e.keys[name], e.keyID[name] = key, ak.ID
	}

	msg := func(src opstore.Source, id string, typ event.Type, user, anon, name string, at time.Duration, props string) event.Message {
		m := event.Message{WorkspaceID: src.WorkspaceID, SourceID: src.ID, MessageID: id, Type: typ, UserID: user, AnonymousID: anon,
			Timestamp: t0.Add(at), ReceivedAt: t0.Add(at + time.Second)}
		switch typ {
		case event.Track:
			m.Event = name
		case event.Page:
			m.Name = name
		}
		if props != "" {
			m.Properties = json.RawMessage(props)
		}
		return m
	}
	_, err := e.Pipeline.Submit(ctx, []event.Message{
		msg(e.Source, "m1", event.Track, "u1", "", "Product Viewed", 1*time.Hour, `{"sku":"A1"}`),
		msg(e.Source, "m2", event.Page, "", "a1", "Home", 2*time.Hour, ""),
		msg(e.pos, "m3", event.Track, "u1", "", "Order Completed", 3*time.Hour, `{"revenue":185000}`),
		msg(e.Source, "m4", event.Identify, "u2", "", "", 24*time.Hour, ""),
		msg(e.Source, "m5", event.Track, "u2", "", "Product Viewed", 25*time.Hour, `{"sku":"B2"}`),
		msg(e.bSrc, "b1", event.Track, "secret-user", "", "Secret Event", 5*time.Hour, ""),
	}, []opstore.Rejected{
		{WorkspaceID: e.Workspace.ID, SourceID: e.Source.ID, Origin: "http", Index: 0, Code: "missing_event", Field: "event",
			Reason: "a track needs an event", Payload: `{"type":"track","userId":"u1"}`},
		{WorkspaceID: e.Workspace.ID, SourceID: e.pos.ID, Origin: "import:pos.jsonl:7", Index: -1, Code: "invalid_json",
			Reason: "not JSON", Payload: `{oops`},
		{WorkspaceID: e.b.ID, SourceID: e.bSrc.ID, Origin: "http", Code: "missing_identity", Field: "userId", Payload: `{}`},
	})
	must(t, err)
	must(t, e.Pipeline.Flush(ctx))

	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(api.Config{Ops: e.Ops, Events: e.Events, Stats: e.Pipeline.Stats, Now: e.clock.now}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
	err    struct{ Code, Message string } // of an error body
}

// do sends a request. key "" sends none; "basic:KEY" sends KEY by Basic auth;
// anything else is a bearer token. Every error must have a JSON error body.
func (e *env) do(t *testing.T, method, path, key, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	must(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case key == "":
	case strings.HasPrefix(key, "basic:"):
		req.SetBasicAuth(strings.TrimPrefix(key, "basic:"), "")
	default:
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	r.body, err = io.ReadAll(resp.Body)
	must(t, err)
	if r.status >= 400 {
		var eb struct {
			Error *struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%s %s: status %d without a JSON error body: %s", method, path, r.status, r.body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: error Content-Type %q", method, path, ct)
		}
		r.err = *eb.Error
	}
	return r
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

type eventOut struct {
	Seq      uint64 `json:"seq"`
	SourceID string `json:"source_id"`
	event.Message
}

type eventPage struct {
	Events        []eventOut `json:"events"`
	NextBeforeSeq uint64     `json:"next_before_seq"`
}

type sourceOut struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	Channel     string `json:"channel"`
	WriteKey    string `json:"write_key"`
	RateLimit   int    `json:"rate_limit"`
	Disabled    bool   `json:"disabled"`
}

type rejectedPage struct {
	Rejected []struct {
		ID       int64  `json:"id"`
		SourceID string `json:"source_id"`
		Origin   string `json:"origin"`
		Index    int    `json:"index"`
		Code     string `json:"code"`
		Field    string `json:"field"`
		Payload  string `json:"payload"`
	} `json:"rejected"`
	NextBeforeID int64 `json:"next_before_id"`
}

// ids lists the messageIds of a page, in order.
func ids(p eventPage) string {
	var s []string
	for _, ev := range p.Events {
		s = append(s, ev.MessageID)
	}
	return strings.Join(s, ",")
}

func wantEvents(want string) func(*testing.T, *env, reply) {
	return func(t *testing.T, _ *env, r reply) {
		if got := ids(decode[eventPage](t, r.body)); got != want {
			t.Errorf("events %q, want %q", got, want)
		}
	}
}

func wantCount(want int64) func(*testing.T, *env, reply) {
	return func(t *testing.T, _ *env, r reply) {
		if got := decode[struct{ Count int64 }](t, r.body).Count; got != want {
			t.Errorf("count %d, want %d", got, want)
		}
	}
}

func wantRejected(want string) func(*testing.T, *env, reply) {
	return func(t *testing.T, _ *env, r reply) {
		var codes []string
		for _, rj := range decode[rejectedPage](t, r.body).Rejected {
			codes = append(codes, rj.Code)
		}
		if got := strings.Join(codes, ","); got != want {
			t.Errorf("rejected codes %q, want %q", got, want)
		}
	}
}

type scenario struct {
	name         string
	method, path string
	key          string // a name in env.keys, "" for none, "raw:KEY", or "basic:NAME" / "basic:KEY" for Basic auth
	body         string
	status       int
	code         string // error code, for errors
	msg          string // a part of the error message
	check        func(*testing.T, *env, reply)
}

func (e *env) run(t *testing.T, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			switch {
			case strings.HasPrefix(key, "raw:"):
				key = strings.TrimPrefix(key, "raw:")
			case strings.HasPrefix(key, "basic:"):
				if k, ok := e.keys[strings.TrimPrefix(key, "basic:")]; ok {
					key = "basic:" + k
				}
			case key != "":
				key = e.keys[key]
			}
			path := strings.NewReplacer("{A}", e.Source.ID, "{POS}", e.pos.ID, "{B}", e.bSrc.ID).Replace(tt.path)
			r := e.do(t, tt.method, path, key, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.code != "" && r.err.Code != tt.code {
				t.Errorf("error code %q, want %q (%s)", r.err.Code, tt.code, r.err.Message)
			}
			if tt.msg != "" && !strings.Contains(r.err.Message, tt.msg) {
				t.Errorf("error message %q does not mention %q", r.err.Message, tt.msg)
			}
			if tt.check != nil {
				tt.check(t, e, r)
			}
		})
	}
}

// TestRead covers authentication, every read endpoint, validation and
// workspace isolation on one unchanging data set.
func TestRead(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		// Authentication.
		{name: "no key", method: "GET", path: "/api/v1/workspace", status: 401, code: "unauthorized", msg: "missing API key",
			check: func(t *testing.T, _ *env, r reply) {
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
			}},
		{name: "unknown key", method: "GET", path: "/api/v1/workspace", key: "raw:cjm_sk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", status: 401, code: "unauthorized", msg: "unknown API key"},
		{name: "not a key", method: "GET", path: "/api/v1/workspace", key: "raw:hunter2", status: 401, code: "unauthorized", msg: "unknown API key"},
		{name: "write key", method: "GET", path: "/api/v1/workspace", key: "raw:" + e.Source.WriteKey, status: 401, code: "unauthorized", msg: "write keys can only ingest"},
		{name: "write key by basic auth", method: "GET", path: "/api/v1/events", key: "basic:" + e.Source.WriteKey, status: 401, code: "unauthorized", msg: "write keys can only ingest"},
		{name: "basic auth", method: "GET", path: "/api/v1/workspace", key: "basic:viewer", status: 200},
		{name: "openapi needs no key", method: "GET", path: "/api/openapi.yaml", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") || !bytes.HasPrefix(r.body, []byte("openapi: 3.0")) {
					t.Errorf("Content-Type %q, body %.40q", ct, r.body)
				}
			}},
		{name: "unknown path", method: "GET", path: "/api/v1/nope", key: "viewer", status: 404, code: "not_found"},
		{name: "wrong method", method: "DELETE", path: "/api/v1/workspace", key: "viewer", status: 405, code: "method_not_allowed",
			check: func(t *testing.T, _ *env, r reply) {
				if r.header.Get("Allow") != "GET" {
					t.Errorf("Allow %q, want GET", r.header.Get("Allow"))
				}
			}},

		// Workspace and sources.
		{name: "workspace", method: "GET", path: "/api/v1/workspace", key: "viewer", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				ws := decode[struct{ ID, Name, Time_Zone, Currency string }](t, r.body)
				if ws.ID != e.Workspace.ID || ws.Name != "Test shop" || ws.Time_Zone != "Asia/Ho_Chi_Minh" || ws.Currency != "VND" {
					t.Errorf("workspace %+v", ws)
				}
			}},
		{name: "sources", method: "GET", path: "/api/v1/sources", key: "viewer", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				srcs := decode[[]sourceOut](t, r.body)
				if len(srcs) != 2 || srcs[0].Name != "POS" || srcs[1].Name != "Website" || srcs[1].WriteKey != e.Source.WriteKey ||
					srcs[0].Channel != "pos" || srcs[0].WorkspaceID != e.Workspace.ID {
					t.Errorf("sources %+v", srcs)
				}
			}},
		{name: "source", method: "GET", path: "/api/v1/sources/{A}", key: "viewer", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				if src := decode[sourceOut](t, r.body); src.ID != e.Source.ID || src.Name != "Website" || src.Channel != "website" {
					t.Errorf("source %+v", src)
				}
			}},
		{name: "unknown source", method: "GET", path: "/api/v1/sources/src_nope", key: "viewer", status: 404, code: "not_found", msg: "src_nope"},

		// Events.
		{name: "events newest first", method: "GET", path: "/api/v1/events", key: "viewer", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				p := decode[eventPage](t, r.body)
				if got := ids(p); got != "m5,m4,m3,m2,m1" {
					t.Fatalf("events %s", got)
				}
				if p.NextBeforeSeq != 0 {
					t.Errorf("next_before_seq %d on the last page", p.NextBeforeSeq)
				}
				for i := 1; i < len(p.Events); i++ {
					if p.Events[i].Seq >= p.Events[i-1].Seq {
						t.Errorf("seq %d after %d", p.Events[i].Seq, p.Events[i-1].Seq)
					}
				}
				m5, m3 := p.Events[0], p.Events[2]
				if m5.SourceID != e.Source.ID || m5.Type != event.Track || m5.UserID != "u2" || m5.Event != "Product Viewed" ||
					string(m5.Properties) != `{"sku":"B2"}` || !m5.Timestamp.Equal(t0.Add(25*time.Hour)) || m5.ReceivedAt.IsZero() {
					t.Errorf("m5 %+v", m5)
				}
				if m3.SourceID != e.pos.ID {
					t.Errorf("m3 source %q, want POS", m3.SourceID)
				}
				// The wire form is the Segment message plus seq and source_id.
				var raw []map[string]any
				must(t, json.Unmarshal(decode[struct{ Events json.RawMessage }](t, r.body).Events, &raw))
				for _, k := range []string{"seq", "source_id", "messageId", "type", "userId", "event", "properties", "timestamp", "receivedAt"} {
					if _, ok := raw[0][k]; !ok {
						t.Errorf("event has no %q: %v", k, raw[0])
					}
				}
			}},
		{name: "events by type", method: "GET", path: "/api/v1/events?type=track", key: "viewer", status: 200, check: wantEvents("m5,m3,m1")},
		{name: "events by name", method: "GET", path: "/api/v1/events?event=Product+Viewed", key: "viewer", status: 200, check: wantEvents("m5,m1")},
		{name: "events by page name", method: "GET", path: "/api/v1/events?event=Home", key: "viewer", status: 200, check: wantEvents("m2")},
		{name: "events by user", method: "GET", path: "/api/v1/events?user=u1", key: "viewer", status: 200, check: wantEvents("m3,m1")},
		{name: "events by anonymous id", method: "GET", path: "/api/v1/events?user=a1", key: "viewer", status: 200, check: wantEvents("m2")},
		{name: "events by source", method: "GET", path: "/api/v1/events?source={POS}", key: "viewer", status: 200, check: wantEvents("m3")},
		{name: "events from", method: "GET", path: "/api/v1/events?from=2026-02-02T00:00:00Z", key: "viewer", status: 200, check: wantEvents("m5,m4")},
		{name: "events in a range with offsets", method: "GET", path: "/api/v1/events?from=" + url.QueryEscape("2026-02-01T09:00:00+07:00") +
			"&to=" + url.QueryEscape("2026-02-01T10:00:00+07:00"), key: "viewer", status: 200, check: wantEvents("m2")},
		{name: "events limit", method: "GET", path: "/api/v1/events?limit=2", key: "viewer", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				p := decode[eventPage](t, r.body)
				if ids(p) != "m5,m4" || p.NextBeforeSeq != p.Events[1].Seq {
					t.Errorf("page %s, next_before_seq %d", ids(p), p.NextBeforeSeq)
				}
			}},
		{name: "count", method: "GET", path: "/api/v1/events/count", key: "viewer", status: 200, check: wantCount(5)},
		{name: "count filtered", method: "GET", path: "/api/v1/events/count?event=Product+Viewed&user=u2", key: "viewer", status: 200, check: wantCount(1)},
		{name: "event names", method: "GET", path: "/api/v1/event-names", key: "viewer", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				names := decode[[]struct {
					Name  string
					Count int64
				}](t, r.body)
				if len(names) != 4 || names[0].Name != "Product Viewed" || names[0].Count != 2 {
					t.Errorf("names %+v", names)
				}
				for _, n := range names {
					if n.Name == "Secret Event" {
						t.Error("another workspace's event name is listed")
					}
				}
			}},
		{name: "event names limit", method: "GET", path: "/api/v1/event-names?limit=1", key: "viewer", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				if n := len(decode[[]any](t, r.body)); n != 1 {
					t.Errorf("%d names, want 1", n)
				}
			}},

		// Rejected and stats.
		{name: "rejected", method: "GET", path: "/api/v1/rejected", key: "viewer", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				p := decode[rejectedPage](t, r.body)
				if len(p.Rejected) != 2 || p.NextBeforeID != 0 {
					t.Fatalf("rejected %+v", p)
				}
				rj := p.Rejected[0]
				if rj.Code != "invalid_json" || rj.SourceID != e.pos.ID || rj.Origin != "import:pos.jsonl:7" || rj.Index != -1 || rj.Payload != "{oops" {
					t.Errorf("newest rejected %+v", rj)
				}
				if p.Rejected[1].Field != "event" || p.Rejected[1].ID >= rj.ID {
					t.Errorf("oldest rejected %+v", p.Rejected[1])
				}
			}},
		{name: "rejected by code", method: "GET", path: "/api/v1/rejected?code=missing_event", key: "viewer", status: 200, check: wantRejected("missing_event")},
		{name: "rejected by source", method: "GET", path: "/api/v1/rejected?source={POS}", key: "viewer", status: 200, check: wantRejected("invalid_json")},
		{name: "rejected paged", method: "GET", path: "/api/v1/rejected?limit=1", key: "viewer", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				p := decode[rejectedPage](t, r.body)
				if len(p.Rejected) != 1 || p.NextBeforeID != p.Rejected[0].ID {
					t.Fatalf("page %+v", p)
				}
				next := e.do(t, "GET", fmt.Sprintf("/api/v1/rejected?limit=1&before_id=%d", p.NextBeforeID), e.keys["viewer"], "")
				if q := decode[rejectedPage](t, next.body); len(q.Rejected) != 1 || q.Rejected[0].Code != "missing_event" {
					t.Errorf("second page %+v", q)
				}
			}},
		{name: "stats", method: "GET", path: "/api/v1/stats", key: "viewer", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				st := decode[struct {
					Events, Rejected int64
					Ingest           *struct{ Accepted, Rejected, Log_Seq, Loaded_Seq, Behind uint64 }
				}](t, r.body)
				if st.Events != 5 || st.Rejected != 2 || st.Ingest == nil || st.Ingest.Accepted != 6 || st.Ingest.Rejected != 3 ||
					st.Ingest.Log_Seq != st.Ingest.Loaded_Seq || st.Ingest.Behind != 0 {
					t.Errorf("stats %s", r.body)
				}
			}},

		// Validation.
		{name: "limit zero", method: "GET", path: "/api/v1/events?limit=0", key: "viewer", status: 400, code: "bad_request", msg: "limit"},
		{name: "limit too big", method: "GET", path: "/api/v1/events?limit=1001", key: "viewer", status: 400, code: "bad_request", msg: "limit must be an integer from 1 to 1000"},
		{name: "limit not a number", method: "GET", path: "/api/v1/rejected?limit=ten", key: "viewer", status: 400, code: "bad_request", msg: "limit"},
		{name: "names limit", method: "GET", path: "/api/v1/event-names?limit=-1", key: "viewer", status: 400, code: "bad_request", msg: "limit"},
		{name: "bad from", method: "GET", path: "/api/v1/events?from=yesterday", key: "viewer", status: 400, code: "bad_request", msg: "from must be an RFC 3339 time"},
		{name: "date only", method: "GET", path: "/api/v1/events/count?to=2026-02-01", key: "viewer", status: 400, code: "bad_request", msg: "to must be an RFC 3339 time"},
		{name: "from after to", method: "GET", path: "/api/v1/events?from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z", key: "viewer", status: 400, code: "bad_request", msg: "must be before"},
		{name: "bad type", method: "GET", path: "/api/v1/events?type=click", key: "viewer", status: 400, code: "bad_request", msg: "type \"click\" is unknown; it must be one of: track, identify"},
		{name: "bad before_seq", method: "GET", path: "/api/v1/events?before_seq=-1", key: "viewer", status: 400, code: "bad_request", msg: "before_seq"},
		{name: "bad after_seq", method: "GET", path: "/api/v1/events/export?after_seq=x", key: "viewer", status: 400, code: "bad_request", msg: "after_seq"},
		{name: "bad before_id", method: "GET", path: "/api/v1/rejected?before_id=1.5", key: "viewer", status: 400, code: "bad_request", msg: "before_id"},
		{name: "unknown parameter", method: "GET", path: "/api/v1/events?form=2026-02-01T00:00:00Z", key: "viewer", status: 400, code: "bad_request", msg: `unknown query parameter "form"`},
		{name: "repeated parameter", method: "GET", path: "/api/v1/events?type=track&type=page", key: "viewer", status: 400, code: "bad_request", msg: `"type" is given 2 times`},
		{name: "bad format", method: "GET", path: "/api/v1/events/export?format=xml", key: "viewer", status: 400, code: "bad_request", msg: "format \"xml\" is unknown; it must be one of: jsonl, csv"},
		{name: "unknown source filter", method: "GET", path: "/api/v1/events?source=src_nope", key: "viewer", status: 404, code: "not_found", msg: "src_nope"},

		// Isolation: B's key sees only B.
		{name: "B's sources", method: "GET", path: "/api/v1/sources", key: "b", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				if srcs := decode[[]sourceOut](t, r.body); len(srcs) != 1 || srcs[0].ID != e.bSrc.ID {
					t.Errorf("sources %+v", srcs)
				}
			}},
		{name: "B reads A's source", method: "GET", path: "/api/v1/sources/{A}", key: "b", status: 404, code: "not_found"},
		{name: "A reads B's source", method: "GET", path: "/api/v1/sources/{B}", key: "owner", status: 404, code: "not_found"},
		{name: "B changes A's source", method: "PATCH", path: "/api/v1/sources/{A}", key: "b", body: `{"disabled":true}`, status: 404, code: "not_found"},
		{name: "B rotates A's key", method: "POST", path: "/api/v1/sources/{A}/rotate-key", key: "b", status: 404, code: "not_found"},
		{name: "B's workspace", method: "GET", path: "/api/v1/workspace", key: "b", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				if id := decode[struct{ ID string }](t, r.body).ID; id != e.b.ID {
					t.Errorf("workspace %s, want B", id)
				}
			}},
		{name: "B's events", method: "GET", path: "/api/v1/events", key: "b", status: 200, check: wantEvents("b1")},
		{name: "B filters by A's source", method: "GET", path: "/api/v1/events?source={A}", key: "b", status: 404, code: "not_found"},
		{name: "B's count", method: "GET", path: "/api/v1/events/count", key: "b", status: 200, check: wantCount(1)},
		{name: "A never sees B's user", method: "GET", path: "/api/v1/events?user=secret-user", key: "viewer", status: 200, check: wantEvents("")},
		{name: "B's rejected", method: "GET", path: "/api/v1/rejected", key: "b", status: 200, check: wantRejected("missing_identity")},
		{name: "B's export", method: "GET", path: "/api/v1/events/export", key: "b", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				if !bytes.Contains(r.body, []byte(`"messageId":"b1"`)) || bytes.Count(r.body, []byte("\n")) != 1 {
					t.Errorf("export %s", r.body)
				}
			}},
		{name: "B's stats", method: "GET", path: "/api/v1/stats", key: "b", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				if st := decode[struct{ Events, Rejected int }](t, r.body); st.Events != 1 || st.Rejected != 1 {
					t.Errorf("stats %s", r.body)
				}
			}},
	})
}

// TestSources runs source changes in order on one workspace.
func TestSources(t *testing.T) {
	e := newEnv(t)
	var created sourceOut
	e.run(t, []scenario{
		{name: "viewer may not create", method: "POST", path: "/api/v1/sources", key: "viewer", body: `{"name":"Hotline","channel":"hotline"}`,
			status: 403, code: "forbidden", msg: "editor role"},
		{name: "viewer may not rotate", method: "POST", path: "/api/v1/sources/{A}/rotate-key", key: "viewer", status: 403, code: "forbidden"},
		{name: "viewer may not change", method: "PATCH", path: "/api/v1/sources/{A}", key: "viewer", body: `{"disabled":true}`, status: 403, code: "forbidden"},
		{name: "write key may not create", method: "POST", path: "/api/v1/sources", key: "raw:" + e.Source.WriteKey, body: `{"name":"X","channel":"app"}`,
			status: 401, code: "unauthorized", msg: "write keys can only ingest"},
		{name: "editor creates", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"  Hotline ","channel":"hotline"}`, status: 201,
			check: func(t *testing.T, e *env, r reply) {
				created = decode[sourceOut](t, r.body)
				if created.ID == "" || created.Name != "Hotline" || created.Channel != "hotline" || !strings.HasPrefix(created.WriteKey, "wk_") ||
					created.WorkspaceID != e.Workspace.ID {
					t.Errorf("created %+v", created)
				}
				if loc := r.header.Get("Location"); loc != "/api/v1/sources/"+created.ID {
					t.Errorf("Location %q", loc)
				}
				stored, err := e.Ops.Source(context.Background(), created.ID)
				if err != nil || stored.WriteKey != created.WriteKey {
					t.Errorf("stored %+v, %v", stored, err)
				}
			}},
		{name: "owner creates", method: "POST", path: "/api/v1/sources", key: "owner", body: `{"name":"Zalo OA","channel":"zalo","rate_limit":50}`, status: 201,
			check: func(t *testing.T, _ *env, r reply) {
				if src := decode[sourceOut](t, r.body); src.RateLimit != 50 {
					t.Errorf("created %+v", src)
				}
			}},
		{name: "duplicate name", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"Hotline","channel":"hotline"}`,
			status: 409, code: "conflict", msg: `"Hotline" already exists`},
		{name: "same name in another workspace", method: "POST", path: "/api/v1/sources", key: "b", body: `{"name":"Hotline","channel":"hotline"}`, status: 201},
		{name: "bad channel", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"Fax","channel":"fax"}`,
			status: 400, code: "bad_request", msg: `channel "fax" is unknown; it must be one of: website, app, pos, hotline, marketplace, email, sms, zalo, social, other`},
		{name: "no channel", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"Fax"}`, status: 400, code: "bad_request", msg: "channel is required"},
		{name: "no name", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"  ","channel":"app"}`, status: 400, code: "bad_request", msg: "name is required"},
		{name: "long name", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"` + strings.Repeat("ư", 101) + `","channel":"app"}`,
			status: 400, code: "bad_request", msg: "name is longer than 100"},
		{name: "unknown field", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"X","channel":"app","kind":"x"}`,
			status: 400, code: "bad_request", msg: `unknown field "kind"`},
		{name: "wrong field type", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"X","channel":"app","rate_limit":"fast"}`,
			status: 400, code: "bad_request", msg: "rate_limit must be a JSON number"},
		{name: "not JSON", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":`, status: 400, code: "bad_request", msg: "not valid JSON"},
		{name: "empty body", method: "POST", path: "/api/v1/sources", key: "editor", status: 400, code: "bad_request", msg: "empty"},
		{name: "two objects", method: "POST", path: "/api/v1/sources", key: "editor", body: `{"name":"X","channel":"app"}{}`, status: 400, code: "bad_request", msg: "single JSON object"},
		{name: "disable", method: "PATCH", path: "/api/v1/sources/{A}", key: "editor", body: `{"disabled":true,"rate_limit":200}`, status: 200,
			check: func(t *testing.T, e *env, r reply) {
				src := decode[sourceOut](t, r.body)
				if !src.Disabled || src.RateLimit != 200 || src.Name != "Website" || src.Channel != "website" {
					t.Errorf("patched %+v", src)
				}
				if stored, _ := e.Ops.Source(context.Background(), e.Source.ID); !stored.Disabled || stored.RateLimit != 200 {
					t.Errorf("stored %+v", stored)
				}
			}},
		{name: "rename", method: "PATCH", path: "/api/v1/sources/{A}", key: "owner", body: `{"name":"Web shop","disabled":false}`, status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				if src := decode[sourceOut](t, r.body); src.Name != "Web shop" || src.Disabled || src.RateLimit != 200 {
					t.Errorf("patched %+v", src)
				}
			}},
		{name: "rename to a taken name", method: "PATCH", path: "/api/v1/sources/{A}", key: "editor", body: `{"name":"POS"}`, status: 409, code: "conflict"},
		{name: "negative rate limit", method: "PATCH", path: "/api/v1/sources/{A}", key: "editor", body: `{"rate_limit":-1}`, status: 400, code: "bad_request", msg: "rate_limit"},
		{name: "bad channel on change", method: "PATCH", path: "/api/v1/sources/{A}", key: "editor", body: `{"channel":"fax"}`, status: 400, code: "bad_request", msg: "website, app"},
		{name: "change unknown source", method: "PATCH", path: "/api/v1/sources/src_nope", key: "editor", body: `{"disabled":true}`, status: 404, code: "not_found"},
		{name: "rotate", method: "POST", path: "/api/v1/sources/{A}/rotate-key", key: "editor", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				src := decode[sourceOut](t, r.body)
				if src.WriteKey == e.Source.WriteKey || !strings.HasPrefix(src.WriteKey, "wk_") {
					t.Fatalf("write key not rotated: %+v", src)
				}
				if _, err := e.Ops.SourceByWriteKey(context.Background(), e.Source.WriteKey); err == nil {
					t.Error("the old write key still works")
				}
			}},
		{name: "list after changes", method: "GET", path: "/api/v1/sources", key: "viewer", status: 200,
			check: func(t *testing.T, _ *env, r reply) {
				var names []string
				for _, s := range decode[[]sourceOut](t, r.body) {
					names = append(names, s.Name)
				}
				if got := strings.Join(names, ","); got != "Hotline,POS,Web shop,Zalo OA" {
					t.Errorf("sources %s", got)
				}
			}},
	})
}

// TestEventPaging walks every page with next_before_seq.
func TestEventPaging(t *testing.T) {
	e := newEnv(t)
	var got []string
	path := "/api/v1/events?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := e.do(t, "GET", path, e.keys["viewer"], "")
		p := decode[eventPage](t, r.body)
		for _, ev := range p.Events {
			got = append(got, ev.MessageID)
		}
		if p.NextBeforeSeq == 0 {
			break
		}
		path = fmt.Sprintf("/api/v1/events?limit=2&before_seq=%d", p.NextBeforeSeq)
	}
	if s := strings.Join(got, ","); s != "m5,m4,m3,m2,m1" {
		t.Errorf("paged events %s", s)
	}
	// Tailing: only what came after a seq.
	first := decode[eventPage](t, e.do(t, "GET", "/api/v1/events?limit=1&type=page", e.keys["viewer"], "").body).Events[0]
	r := e.do(t, "GET", fmt.Sprintf("/api/v1/events?after_seq=%d", first.Seq), e.keys["viewer"], "")
	if s := ids(decode[eventPage](t, r.body)); s != "m5,m4,m3" {
		t.Errorf("after m2: %s", s)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/api/v1/events/export?format=jsonl", e.keys["viewer"], "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/x-ndjson" ||
		r.header.Get("Content-Disposition") != `attachment; filename="cjm-events-20260204-000000.jsonl"` {
		t.Fatalf("status %d, headers %v", r.status, r.header)
	}
	var got []string
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		var m event.Message
		must(t, json.Unmarshal(sc.Bytes(), &m))
		got = append(got, m.MessageID)
		if m.MessageID == "m3" && (string(m.Properties) != `{"revenue":185000}` || m.UserID != "u1" || !m.Timestamp.Equal(t0.Add(3*time.Hour))) {
			t.Errorf("m3 exported as %s", sc.Bytes())
		}
	}
	if s := strings.Join(got, ","); s != "m1,m2,m3,m4,m5" {
		t.Errorf("jsonl export %s, want oldest first", s)
	}

	// The default format is JSONL.
	if def := e.do(t, "GET", "/api/v1/events/export", e.keys["viewer"], ""); !bytes.Equal(def.body, r.body) {
		t.Error("default export differs from format=jsonl")
	}

	r = e.do(t, "GET", "/api/v1/events/export?format=csv&type=track&user=u1", e.keys["viewer"], "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasSuffix(r.header.Get("Content-Disposition"), `.csv"`) {
		t.Fatalf("status %d, headers %v", r.status, r.header)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	must(t, err)
	if len(rows) != 3 || !slices.Equal(rows[0], export.CSVHeader) {
		t.Fatalf("csv %q", rows)
	}
	col := func(row []string, name string) string { return row[slices.Index(export.CSVHeader, name)] }
	if col(rows[1], "messageId") != "m1" || col(rows[2], "messageId") != "m3" || col(rows[2], "sourceId") != e.pos.ID ||
		col(rows[2], "properties") != `{"revenue":185000}` || col(rows[1], "event") != "Product Viewed" {
		t.Errorf("csv rows %q", rows[1:])
	}
}

// TestTouchAPIKey checks the key's last use is recorded at most once a minute.
func TestTouchAPIKey(t *testing.T) {
	e := newEnv(t)
	lastUsed := func() time.Time {
		keys, err := e.Ops.APIKeys(context.Background(), e.Workspace.ID)
		must(t, err)
		for _, k := range keys {
			if k.ID == e.keyID["viewer"] {
				return k.LastUsedAt
			}
		}
		t.Fatal("viewer key is gone")
		return time.Time{}
	}
	if !lastUsed().IsZero() {
		t.Fatal("key used before any request")
	}
	start := e.clock.now()
	for _, step := range []struct {
		at   time.Duration
		want time.Duration
	}{{0, 0}, {30 * time.Second, 0}, {59 * time.Second, 0}, {61 * time.Second, 61 * time.Second}, {90 * time.Second, 61 * time.Second}, {3 * time.Minute, 3 * time.Minute}} {
		e.clock.set(start.Add(step.at))
		if r := e.do(t, "GET", "/api/v1/workspace", e.keys["viewer"], ""); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		if got := lastUsed(); !got.Equal(start.Add(step.want)) {
			t.Errorf("after a request at +%v: last used %v, want +%v", step.at, got, step.want)
		}
	}
	// A refused request by role still counts as a use of the key.
	e.clock.set(start.Add(10 * time.Minute))
	if r := e.do(t, "POST", "/api/v1/sources", e.keys["viewer"], `{"name":"X","channel":"app"}`); r.status != 403 {
		t.Fatalf("status %d", r.status)
	}
	if got := lastUsed(); !got.Equal(start.Add(10 * time.Minute)) {
		t.Errorf("last used %v after a forbidden request", got)
	}
}
