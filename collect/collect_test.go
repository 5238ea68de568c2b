package collect_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/collect"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

type server struct {
	*cjmtest.Env
	url string
}

func newServer(t *testing.T) *server {
	return newServerAt(t, nil)
}

// newServerAt starts a collector whose clock is now (nil: the real clock).
func newServerAt(t *testing.T, now func() time.Time) *server {
	e := cjmtest.New(t)
	mux := http.NewServeMux()
	collect.New(collect.Options{Sources: e.Ops, Pipeline: e.Pipeline, Now: now}).Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &server{Env: e, url: ts.URL}
}

type reply struct {
	status int
	header http.Header
	body   struct {
		Success    bool `json:"success"`
		Accepted   int  `json:"accepted"`
		Duplicates int  `json:"duplicates"`
		Rejected   []struct {
			Index  int    `json:"index"`
			Code   string `json:"code"`
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"rejected"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
}

func (s *server) post(t *testing.T, path, key string, body []byte, hdr map[string]string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s: response is not JSON: %s", path, raw)
	}
	if r.status != http.StatusOK && (r.body.Error == nil || r.body.Error.Code == "" || r.body.Error.Message == "") {
		t.Errorf("%s: error %d without code and message: %s", path, r.status, raw)
	}
	return r
}

func (s *server) stored(t *testing.T, f eventstore.Filter) []event.Message {
	t.Helper()
	if err := s.Pipeline.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []event.Message
	if err := s.Events.Scan(context.Background(), f, func(m *event.Message) error { out = append(out, *m); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEndpoints(t *testing.T) {
	s := newServer(t)
	key := s.Source.WriteKey
	tests := []struct {
		name, path, key, body string
		hdr                   map[string]string
		status                int
		code                  string
		accepted              int
	}{
		{"track", "/v1/track", key, `{"userId":"u1","event":"Product Viewed","messageId":"t1"}`, nil, 200, "", 1},
		{"short track", "/v1/t", key, `{"anonymousId":"a1","event":"Product Viewed","messageId":"t2"}`, nil, 200, "", 1},
		{"identify", "/v1/identify", key, `{"userId":"u1","traits":{"email":"lan@example.vn"},"messageId":"i1"}`, nil, 200, "", 1},
		{"short identify", "/v1/i", key, `{"userId":"u1","messageId":"i2"}`, nil, 200, "", 1},
		{"page", "/v1/page", key, `{"anonymousId":"a1","name":"Home","messageId":"p1"}`, nil, 200, "", 1},
		{"short page", "/v1/p", key, `{"anonymousId":"a1","messageId":"p2"}`, nil, 200, "", 1},
		{"screen", "/v1/screen", key, `{"userId":"u1","name":"Cart","messageId":"s1"}`, nil, 200, "", 1},
		{"short screen", "/v1/s", key, `{"userId":"u1","messageId":"s2"}`, nil, 200, "", 1},
		{"group", "/v1/group", key, `{"userId":"u1","groupId":"g1","messageId":"g1"}`, nil, 200, "", 1},
		{"short group", "/v1/g", key, `{"userId":"u1","groupId":"g1","messageId":"g2"}`, nil, 200, "", 1},
		{"alias", "/v1/alias", key, `{"userId":"u1","previousId":"a1","messageId":"al1"}`, nil, 200, "", 1},
		{"short alias", "/v1/a", key, `{"userId":"u1","previousId":"a1","messageId":"al2"}`, nil, 200, "", 1},
		{"write key in body", "/v1/track", "", `{"writeKey":"` + key + `","userId":"u1","event":"E","messageId":"wk1"}`, nil, 200, "", 1},
		{"duplicate", "/v1/track", key, `{"userId":"u1","event":"Product Viewed","messageId":"t1"}`, nil, 200, "", 0},
		{"no write key", "/v1/track", "", `{"userId":"u1","event":"E"}`, nil, 401, "missing_write_key", 0},
		{"unknown write key", "/v1/track", "wk_nope", `{"userId":"u1","event":"E"}`, nil, 401, "invalid_write_key", 0},
		{"malformed json", "/v1/track", key, `{"userId":"u1",`, nil, 400, "invalid_json", 0},
		{"invalid message", "/v1/track", key, `{"userId":"u1"}`, nil, 400, "missing_event", 0},
		{"malformed batch", "/v1/batch", key, `{"batch":`, nil, 400, "invalid_json", 0},
		{"batch not array", "/v1/batch", key, `{"batch":{"a":1}}`, nil, 400, "invalid_batch", 0},
		{"oversize message", "/v1/track", key, `{"userId":"u1","event":"E","properties":{"x":"` + strings.Repeat("x", 33<<10) + `"}}`, nil, 413, "body_too_large", 0},
		{"oversize batch", "/v1/batch", key, `{"batch":[{"type":"track","userId":"u","event":"E","properties":{"x":"` + strings.Repeat("x", 501<<10) + `"}}]}`, nil, 413, "body_too_large", 0},
		{"too many messages", "/v1/batch", key, `{"batch":[` + strings.TrimSuffix(strings.Repeat(`{"type":"track","userId":"u","event":"E"},`, 2501), ",") + `]}`, nil, 413, "batch_too_large", 0},
		{"unsupported encoding", "/v1/track", key, `{}`, map[string]string{"Content-Encoding": "br"}, 415, "unsupported_encoding", 0},
		{"bad gzip", "/v1/track", key, `not gzip`, map[string]string{"Content-Encoding": "gzip"}, 400, "invalid_gzip", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(t, tt.path, tt.key, []byte(tt.body), tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%+v)", r.status, tt.status, r.body.Error)
			}
			if tt.code != "" && (r.body.Error == nil || r.body.Error.Code != tt.code) {
				t.Fatalf("error %+v, want code %s", r.body.Error, tt.code)
			}
			if r.body.Accepted != tt.accepted {
				t.Errorf("accepted %d, want %d", r.body.Accepted, tt.accepted)
			}
			if tt.status == 200 && !r.body.Success {
				t.Error("success is false")
			}
		})
	}
	got := s.stored(t, eventstore.Filter{})
	if len(got) != 13 {
		t.Fatalf("stored %d messages, want 13", len(got))
	}
	types := map[event.Type]int{}
	for _, m := range got {
		types[m.Type]++
		if m.WorkspaceID != s.Workspace.ID || m.SourceID != s.Source.ID || m.ReceivedAt.IsZero() {
			t.Errorf("message %s lacks its origin: %+v", m.MessageID, m)
		}
	}
	if types[event.Track] != 3 || types[event.Identify] != 2 || types[event.Alias] != 2 {
		t.Errorf("types %v", types)
	}
}

func TestBatchKeepsValidAndReportsRejected(t *testing.T) {
	s := newServer(t)
	body := `{"batch":[
		{"type":"track","userId":"u1","event":"Order Completed","messageId":"b0","properties":{"revenue":1290000}},
		{"type":"track","userId":"u1","messageId":"b1"},
		{"type":"identify","messageId":"b2"},
		{"type":"page","anonymousId":"a","name":"Home","messageId":"b3","timestamp":"last tuesday"},
		{"type":"page","anonymousId":"a","name":"Home","messageId":"b4","context":{"ip":"10.0.0.1"}}
	],"context":{"library":{"name":"analytics-go","version":"3.1.0"}},"sentAt":"2026-11-22T10:00:00Z"}`
	r := s.post(t, "/v1/batch", s.Source.WriteKey, []byte(body), nil)
	if r.status != 200 || r.body.Accepted != 2 {
		t.Fatalf("status %d accepted %d", r.status, r.body.Accepted)
	}
	want := map[int]string{1: "event", 2: "userId", 3: "timestamp"}
	if len(r.body.Rejected) != 3 {
		t.Fatalf("rejected %+v", r.body.Rejected)
	}
	for _, rj := range r.body.Rejected {
		if want[rj.Index] != rj.Field || rj.Reason == "" {
			t.Errorf("rejected %+v", rj)
		}
	}
	kept, err := s.Ops.Rejected(context.Background(), opstore.RejectedFilter{WorkspaceID: s.Workspace.ID})
	if err != nil || len(kept) != 3 {
		t.Fatalf("rejected store: %v %+v", err, kept)
	}
	for _, k := range kept {
		if k.SourceID != s.Source.ID || k.Payload == "" || k.Origin != "POST /v1/batch" {
			t.Errorf("kept %+v", k)
		}
	}
	got := s.stored(t, eventstore.Filter{})
	if len(got) != 2 {
		t.Fatalf("stored %d", len(got))
	}
	for _, m := range got {
		var c map[string]any
		if err := json.Unmarshal(m.Context, &c); err != nil || c["library"] == nil {
			t.Errorf("%s: batch context not merged: %s", m.MessageID, m.Context)
		}
		if m.MessageID == "b4" && c["ip"] != "10.0.0.1" {
			t.Errorf("own context lost: %s", m.Context)
		}
	}
}

func TestGzipAndCORS(t *testing.T) {
	s := newServer(t)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	fmt.Fprintf(zw, `{"batch":[{"type":"track","anonymousId":"a","event":"Zipped","messageId":"z1"}]}`)
	zw.Close()
	r := s.post(t, "/v1/b", s.Source.WriteKey, zb.Bytes(), map[string]string{"Content-Encoding": "gzip", "Origin": "https://maybouti.vn"})
	if r.status != 200 || r.body.Accepted != 1 {
		t.Fatalf("gzip: %d %+v", r.status, r.body)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allow-origin %q", got)
	}
	req, _ := http.NewRequest(http.MethodOptions, s.url+"/v1/t", nil)
	req.Header.Set("Origin", "https://maybouti.vn")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-retry-count")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("preflight status %d", resp.StatusCode)
	}
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "content-type", "x-retry-count"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight does not allow %s: %q", h, allowed)
		}
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Error("preflight does not allow POST")
	}
}

func TestSkewCorrection(t *testing.T) {
	s := newServer(t)
	// The client's clock is one hour fast: its event happened 5 s before it sent.
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"batch":[{"type":"track","userId":"u","event":"E","messageId":"sk","originalTimestamp":%q}],"sentAt":%q}`,
		now.Add(time.Hour-5*time.Second).Format(time.RFC3339Nano), now.Add(time.Hour).Format(time.RFC3339Nano))
	if r := s.post(t, "/v1/batch", s.Source.WriteKey, []byte(body), nil); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	m := s.stored(t, eventstore.Filter{})[0]
	if d := m.ReceivedAt.Sub(m.Timestamp); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("timestamp %v is %v before receivedAt %v, want ~5s", m.Timestamp, d, m.ReceivedAt)
	}
}

func TestRateLimitAndDisabledSource(t *testing.T) {
	// A stopped clock: no tokens come back between the requests.
	stopped := time.Now()
	s := newServerAt(t, func() time.Time { return stopped })
	ctx := context.Background()
	limited := opstore.Source{WorkspaceID: s.Workspace.ID, Name: "Slow", Channel: opstore.Other, RateLimit: 10}
	if err := s.Ops.CreateSource(ctx, &limited); err != nil {
		t.Fatal(err)
	}
	batch := `{"batch":[` + strings.TrimSuffix(strings.Repeat(`{"type":"track","userId":"u","event":"E"},`, event.MaxBatchMessages), ",") + `]}`
	if r := s.post(t, "/v1/batch", limited.WriteKey, []byte(batch), nil); r.status != 200 {
		t.Fatalf("first batch within the burst: %d %+v", r.status, r.body.Error)
	}
	r := s.post(t, "/v1/track", limited.WriteKey, []byte(`{"userId":"u","event":"E","messageId":"late"}`), nil)
	if r.status != http.StatusTooManyRequests || r.body.Error.Code != "rate_limited" {
		t.Fatalf("status %d %+v, want 429", r.status, r.body.Error)
	}
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	// Other keys are not limited by it.
	if r := s.post(t, "/v1/track", s.Source.WriteKey, []byte(`{"userId":"u","event":"E"}`), nil); r.status != 200 {
		t.Errorf("other key: %d", r.status)
	}
	disabled := opstore.Source{WorkspaceID: s.Workspace.ID, Name: "Old", Channel: opstore.Other}
	if err := s.Ops.CreateSource(ctx, &disabled); err != nil {
		t.Fatal(err)
	}
	disabled.Disabled = true
	if err := s.Ops.UpdateSource(ctx, disabled); err != nil {
		t.Fatal(err)
	}
	if r := s.post(t, "/v1/track", disabled.WriteKey, []byte(`{"userId":"u","event":"E"}`), nil); r.status != http.StatusForbidden {
		t.Errorf("disabled source: %d", r.status)
	}
}
