package privacy

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/collect"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
)

// env is the real stores and pipeline (with the suppression list's Drop),
// an in-test identity graph and a Service over them.
type env struct {
	*cjmtest.Env
	t     *testing.T
	graph *identity.Resolver
	svc   *Service
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{Env: cjmtest.New(t), t: t, now: t0.Add(30 * 24 * time.Hour)}
	ctx := context.Background()
	// The pipeline again, with the suppression list's Drop, as the app wires it.
	if err := e.Pipeline.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sup, err := LoadSuppression(ctx, e.Ops)
	if err != nil {
		t.Fatal(err)
	}
	if e.Pipeline, err = ingest.Open(ctx, ingest.Options{Log: e.Log, Store: e.Events, Rejects: e.Ops, LoadDelay: time.Millisecond, Drop: sup.Drop}); err != nil {
		t.Fatal(err)
	}
	if e.graph, err = identity.NewResolver(e.Ops, e.Events, identity.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(ctx, Config{Events: e.Events, Store: e.Ops, Graph: e.graph, Pipeline: e.Pipeline, Suppression: sup,
		People: []PersonStore{Profiles(e.Ops)}, ExportDir: filepath.Join(e.Dir, "exports"), Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// submit ingests Segment-spec messages (JSON) and waits until they are loaded.
func (e *env) submit(raws ...string) ingest.Result {
	e.t.Helper()
	var ms []event.Message
	for _, raw := range raws {
		m, err := event.Normalize([]byte(raw), event.Defaults{ReceivedAt: t0.AddDate(0, 2, 0), File: true})
		if err != nil {
			e.t.Fatalf("%s: %v", raw, err)
		}
		m.WorkspaceID, m.SourceID = e.Workspace.ID, e.Source.ID
		ms = append(ms, m)
	}
	res, err := e.Pipeline.Submit(context.Background(), ms, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.Pipeline.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.catchUp(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return res
}

// profile is the profile that holds an identifier.
func (e *env) profile(id string) identity.ProfileID {
	e.t.Helper()
	p, err := e.graph.Resolve(context.Background(), e.Workspace.ID, mustID(e.t, id))
	if err != nil {
		e.t.Fatalf("%s: %v", id, err)
	}
	return p
}

// lanAndMinh stores the events of two customers who used a shop's tablet
// (a-shop: Lan first, so it is hers, and Minh's order on it waits for a
// review), a rejected message of Lan's and a staff note on her profile.
func (e *env) lanAndMinh() {
	e.t.Helper()
	e.submit(
		`{"type":"page","anonymousId":"a-lan","name":"Home","timestamp":"2026-05-01T09:00:00Z","messageId":"l1"}`,
		`{"type":"identify","anonymousId":"a-lan","userId":"u-lan","traits":{"email":"Lan@Example.vn","phone":"0912 345 678","name":"Lan"},"timestamp":"2026-05-01T09:01:00Z","messageId":"l2"}`,
		`{"type":"track","userId":"u-lan","event":"Order Completed","properties":{"total":1290000},"timestamp":"2026-05-02T10:00:00Z","messageId":"l3"}`,
		`{"type":"track","userId":"u-lan","event":"Consent Updated","properties":{"purpose":"email","granted":true,"text_version":"v2","source":"checkout"},"timestamp":"2026-05-02T10:01:00Z","messageId":"l4"}`,
		`{"type":"page","anonymousId":"a-lan","name":"Cart","context":{"consent":{"categoryPreferences":{"Analytics":true,"Advertising":false}}},"timestamp":"2026-05-03T08:00:00Z","messageId":"l5"}`,
		`{"type":"track","anonymousId":"a-newsletter","event":"Newsletter Subscribed","properties":{"email":"lan@example.vn"},"timestamp":"2026-05-03T09:00:00Z","messageId":"l6"}`,
		`{"type":"track","anonymousId":"a-shop","userId":"u-lan","event":"Store Visit","timestamp":"2026-05-04T09:00:00Z","messageId":"l7"}`,
		`{"type":"track","anonymousId":"a-shop","event":"Product Viewed","timestamp":"2026-05-04T09:05:00Z","messageId":"s1"}`,
		`{"type":"track","userId":"u-minh","anonymousId":"a-shop","event":"Order Completed","timestamp":"2026-05-04T10:00:00Z","messageId":"m1"}`,
		`{"type":"identify","userId":"u-minh","traits":{"email":"minh@example.vn"},"timestamp":"2026-05-04T10:01:00Z","messageId":"m2"}`,
	)
	if err := e.Ops.AddRejected(context.Background(), []opstore.Rejected{
		{WorkspaceID: e.Workspace.ID, SourceID: e.Source.ID, Code: "missing_event", Payload: `{"type":"track","userId":"u-lan"}`},
		{WorkspaceID: e.Workspace.ID, SourceID: e.Source.ID, Code: "missing_event", Payload: `{"type":"track","userId":"u-minh"}`},
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.Ops.AddProfileNote(context.Background(), opstore.ProfileNote{WorkspaceID: e.Workspace.ID, ProfileID: string(e.profile("user_id:u-lan")), AuthorName: "Mai", Body: "Prefers Zalo"}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) messageIDs(q string, args ...any) []string {
	e.t.Helper()
	rows, err := e.Events.DB().Query(`SELECT message_id FROM events WHERE `+q+` ORDER BY seq`, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// opsDB opens the operational SQLite file read-only, to look into it directly.
func (e *env) opsDB() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.Dir, "cjm.sqlite")+"?_pragma=query_only(1)")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func mustID(t *testing.T, s string) identity.Identifier {
	t.Helper()
	id, err := identity.ParseIdentifier(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDeleteErasesThePersonFromEveryStore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.lanAndMinh()
	ws := e.Workspace.ID
	lan, minh := e.profile("user_id:u-lan"), e.profile("user_id:u-minh")
	if e.profile("anonymous_id:a-shop") != lan {
		t.Fatal("the tablet is not Lan's")
	}
	if rs, _ := e.graph.Reviews(ctx, ws, true, 10); len(rs) != 1 {
		t.Fatalf("reviews %+v: want Minh's order on Lan's tablet", rs)
	}
	pv, err := e.svc.PreviewDelete(ctx, ws, mustID(t, "phone:0912345678"))
	if err != nil || pv.Profile != lan || pv.Events != 8 || pv.Identifiers != 5 {
		t.Fatalf("preview %+v, %v", pv, err)
	}

	r, err := e.svc.Delete(ctx, ws, mustID(t, "email:LAN@example.vn"), "cli:root")
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int64{"events": 8, "identifiers": 5, "rejected": 1, "suppressed": 5, "profile": 1, "exports": 0}
	if r.Status != opstore.RequestDone || !mapsEqual(r.Counts, wantCounts) {
		t.Errorf("request %+v, want counts %v", r, wantCounts)
	}

	// The event store: nothing by any of Lan's identifiers, nor carrying
	// her e-mail or phone; Minh's events stay, the one on her tablet too.
	if got := e.messageIDs(`workspace_id = ? AND (user_id = 'u-lan' OR anonymous_id IN ('a-lan', 'a-newsletter')
		OR (anonymous_id = 'a-shop' AND user_id IS NULL))`, ws); len(got) != 0 {
		t.Errorf("Lan's events left: %v", got)
	}
	if got := e.messageIDs(`contains(lower(coalesce(traits, '') || coalesce(properties, '') || coalesce(context, '')), 'lan@example.vn')
		OR contains(coalesce(traits, ''), '345 678')`); len(got) != 0 {
		t.Errorf("events carrying Lan's contact details left: %v", got)
	}
	if got := e.messageIDs(`event = 'Consent Updated' OR contains(context, 'categoryPreferences')`); len(got) != 0 {
		t.Errorf("consent events left: %v", got)
	}
	if got := e.messageIDs(`true`); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Errorf("events left %v, want m1 m2", got)
	}
	// The identity graph: no identifier of hers, no merge, no review.
	for _, id := range []string{"user_id:u-lan", "email:lan@example.vn", "phone:+84912345678", "anonymous_id:a-lan", "anonymous_id:a-shop"} {
		if p, err := e.graph.Resolve(ctx, ws, mustID(t, id)); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("graph still resolves %s to %s (%v)", id, p, err)
		}
	}
	if _, err := e.graph.Identifiers(ctx, ws, lan); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Lan's profile: %v", err)
	}
	if rs, _ := e.graph.Reviews(ctx, ws, true, 10); len(rs) != 0 {
		t.Errorf("reviews left %+v", rs)
	}
	if e.profile("user_id:u-minh") != minh {
		t.Error("Minh's profile changed")
	}
	// The graph does not learn her again from the store (a restart reloads it).
	g2, err := identity.NewResolver(e.Ops, e.Events, identity.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g2.Resolve(ctx, ws, mustID(t, "user_id:u-lan")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("reloaded graph resolves u-lan: %v", err)
	}
	// The operational store, looked into directly.
	db := e.opsDB()
	for _, q := range []string{
		`select count(*) from rejected where payload like '%u-lan%'`,
		`select count(*) from profile_notes where profile_id = '` + string(lan) + `'`,
		`select count(*) from privacy_requests where hint <> '' or error like '%lan%' or actor like '%lan%'`,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d, %v", q, n, err)
		}
	}
	// No table of the operational store holds her identifiers in clear.
	for _, v := range []string{"lan@example.vn", "u-lan", "a-lan", "+84912345678", "0912345678", "a-shop"} {
		if where := findValue(t, db, v); where != "" {
			t.Errorf("%q is still in %s", v, where)
		}
	}
	var hash string
	if err := db.QueryRow(`select identifier_hash from privacy_requests where id = ?`, r.ID).Scan(&hash); err != nil || hash != Hash(ws, mustID(t, "email:lan@example.vn")) {
		t.Errorf("audit hash %q, %v", hash, err)
	}
	var nsup int
	db.QueryRow(`select count(*) from suppressed_identifiers where workspace_id = ?`, ws).Scan(&nsup)
	if nsup != 5 {
		t.Errorf("%d suppressed identifiers, want 5", nsup)
	}
	// Minh is untouched.
	if n, _ := e.Ops.RejectedCount(ctx, ws); n != 1 {
		t.Errorf("%d rejected left, want Minh's", n)
	}
}

// findValue looks for v in every text column of every table of db, and
// says where it is ("" for nowhere).
func findValue(t *testing.T, db *sql.DB, v string) string {
	t.Helper()
	rows, err := db.Query(`select m.name, p.name from sqlite_master m join pragma_table_info(m.name) p
		where m.type = 'table' and upper(p.type) = 'TEXT'`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		rows.Scan(&c[0], &c[1])
		cols = append(cols, c)
	}
	rows.Close()
	for _, c := range cols {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`select count(*) from %q where instr(lower(%q), ?) > 0`, c[0], c[1]), strings.ToLower(v)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return c[0] + "." + c[1]
		}
	}
	return ""
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// After an erasure, a Segment client sending the person's messages again
// through the real collector gets them acknowledged, and none is stored.
func TestSuppressedIdentifiersAreNotCollectedAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	srv := httptest.NewServer(collectorHandler(collect.New(collect.Options{Sources: e.Ops, Pipeline: e.Pipeline})))
	defer srv.Close()
	send := func(msgs ...analytics.Message) {
		t.Helper()
		var mu sync.Mutex
		var failed []error
		c, err := analytics.NewWithConfig(e.Source.WriteKey, analytics.Config{Endpoint: srv.URL, BatchSize: 100, Interval: time.Hour,
			Callback: callback{fail: func(err error) { mu.Lock(); failed = append(failed, err); mu.Unlock() }}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if err := c.Enqueue(m); err != nil {
				t.Fatal(err)
			}
		}
		err = c.Close()
		mu.Lock()
		defer mu.Unlock()
		if err != nil || len(failed) > 0 {
			t.Fatalf("send: %v %v", err, failed)
		}
		if err := e.Pipeline.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	at := t0
	send(
		analytics.Identify{AnonymousId: "a-lan", UserId: "u-lan", Traits: analytics.NewTraits().SetEmail("lan@example.vn").SetPhone("+84 912 345 678"), Timestamp: at},
		analytics.Track{UserId: "u-lan", Event: "Order Completed", Timestamp: at},
		analytics.Track{UserId: "u-minh", Event: "Order Completed", Timestamp: at},
	)
	if _, err := e.svc.Delete(ctx, e.Workspace.ID, mustID(t, "user_id:u-lan"), "cli:root"); err != nil {
		t.Fatal(err)
	}
	before := e.Pipeline.Stats().Suppressed
	send(
		analytics.Track{UserId: "u-lan", Event: "Product Viewed", Timestamp: at},                                                 // her userId
		analytics.Page{AnonymousId: "a-lan", Name: "Home", Timestamp: at},                                                        // her device
		analytics.Identify{AnonymousId: "a-new-phone", Traits: analytics.NewTraits().SetEmail(" LAN@example.vn"), Timestamp: at}, // her e-mail, a new device
		analytics.Identify{AnonymousId: "a-new-tablet", Traits: analytics.NewTraits().SetPhone("0912.345.678"), Timestamp: at},   // her phone
		analytics.Track{AnonymousId: "a-pos", Event: "Signed Up", Properties: analytics.NewProperties().Set("email", "lan@example.vn"), Timestamp: at},
		analytics.Alias{PreviousId: "u-lan", UserId: "u-lan-2", Timestamp: at}, // her old userId
		analytics.Track{UserId: "u-minh", Event: "Product Viewed", Timestamp: at},
		analytics.Track{UserId: "u-minh", AnonymousId: "a-lan", Event: "Product Viewed", Timestamp: at}, // Minh, on her old phone
	)
	if got := e.messageIDs(`workspace_id = ? AND (user_id LIKE 'u-lan%' OR anonymous_id IN ('a-new-phone', 'a-new-tablet', 'a-pos')
		OR anonymous_id = 'a-lan' AND user_id IS NULL)`, e.Workspace.ID); len(got) != 0 {
		t.Errorf("stored again: %v", got)
	}
	if n, _ := e.Events.Count(ctx, eventstore.Filter{User: "u-minh"}); n != 3 {
		t.Errorf("Minh has %d events, want 3", n)
	}
	if got := e.Pipeline.Stats().Suppressed - before; got != 6 {
		t.Errorf("suppressed %d, want 6", got)
	}
	// Nor does the graph learn them again.
	if err := e.svc.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"user_id:u-lan", "email:lan@example.vn", "phone:+84912345678", "user_id:u-lan-2"} {
		if _, err := e.graph.Resolve(ctx, e.Workspace.ID, mustID(t, id)); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("graph resolves %s again: %v", id, err)
		}
	}

	// The list survives a restart.
	sup, err := LoadSuppression(ctx, e.Ops)
	if err != nil || sup.Len() != 4 || !sup.Has(e.Workspace.ID, mustID(t, "phone:0912345678")) || sup.Has("ws_other", mustID(t, "user_id:u-lan")) {
		t.Errorf("loaded suppression list: %d entries, %v", sup.Len(), err)
	}
}

func collectorHandler(c *collect.Collector) http.Handler {
	mux := http.NewServeMux()
	c.Register(mux)
	return mux
}

// callback reports the Segment client's failures.
type callback struct{ fail func(error) }

func (callback) Success(analytics.Message)                {}
func (c callback) Failure(_ analytics.Message, err error) { c.fail(err) }

func TestExport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.lanAndMinh()
	ws := e.Workspace.ID

	var buf bytes.Buffer
	r, err := e.svc.Export(ctx, ws, mustID(t, "user_id:u-lan"), "cli:root", FormatJSON, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format      string                     `json:"format"`
		Profile     string                     `json:"profile_id"`
		Identifiers []exportedIdentifier       `json:"identifiers"`
		Merges      []exportedMerge            `json:"merges"`
		Events      []map[string]any           `json:"events"`
		EventCount  int                        `json:"event_count"`
		Consent     []ConsentState             `json:"consent"`
		Rejected    []exportedRejected         `json:"rejected_messages"`
		Other       map[string]json.RawMessage `json:"other_data"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	var ids []string
	for _, ev := range doc.Events {
		ids = append(ids, ev["messageId"].(string))
	}
	if !slices.Equal(ids, []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7", "s1"}) || doc.EventCount != 8 {
		t.Errorf("events %v (%d)", ids, doc.EventCount)
	}
	if ev := doc.Events[1]; ev["sourceId"] != e.Source.ID || ev["traits"].(map[string]any)["name"] != "Lan" || ev["timestamp"] == nil {
		t.Errorf("identify exported as %v", ev)
	}
	if doc.Format != ExportVersion || doc.Profile != string(e.profile("user_id:u-lan")) || len(doc.Identifiers) != 5 || len(doc.Rejected) != 1 {
		t.Errorf("export %+v", doc)
	}
	got := map[Purpose]bool{}
	for _, c := range doc.Consent {
		if c.Known {
			got[c.Purpose] = c.Granted
		}
	}
	if want := map[Purpose]bool{Email: true, Analytics: true, Personalisation: false}; !maps2Equal(got, want) {
		t.Errorf("consent %v, want %v", got, want)
	}
	if !strings.Contains(string(doc.Other["profile"]), "Prefers Zalo") {
		t.Errorf("staff notes not exported: %s", doc.Other["profile"])
	}
	if r.Status != opstore.RequestDone || r.Counts["events"] != 8 || r.Hint != "user_id:u-•••" || r.File != "" {
		t.Errorf("request %+v", r)
	}

	// CSV: a zip archive, kept for download.
	r, err = e.svc.ExportFile(ctx, ws, mustID(t, "phone:+84912345678"), "staff:Mai", FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	f, rr, err := e.svc.OpenExport(ctx, ws, r.ID)
	if err != nil || rr.File != r.ID+".zip" {
		t.Fatalf("open export: %+v, %v", rr, err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		files[zf.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	rows, err := csv.NewReader(bytes.NewReader(files["events.csv"])).ReadAll()
	if err != nil || len(rows) != 9 || rows[0][0] != "messageId" || rows[2][0] != "l2" {
		t.Errorf("events.csv: %v, %v", rows, err)
	}
	consent, _ := csv.NewReader(bytes.NewReader(files["consent.csv"])).ReadAll()
	if len(consent) != 4 {
		t.Errorf("consent.csv %v", consent)
	}
	idrows, _ := csv.NewReader(bytes.NewReader(files["identifiers.csv"])).ReadAll()
	if len(idrows) != 6 {
		t.Errorf("identifiers.csv %v", idrows)
	}
	if !bytes.Contains(files["person.json"], []byte(`"events_file": "events.csv"`)) || bytes.Contains(files["person.json"], []byte(`"messageId"`)) {
		t.Errorf("person.json %s", files["person.json"])
	}

	// Another workspace cannot reach it; erasing the person removes it.
	if _, _, err := e.svc.OpenExport(ctx, "ws_other", r.ID); !errors.Is(err, opstore.ErrNotFound) {
		t.Errorf("other workspace: %v", err)
	}
	d, err := e.svc.Delete(ctx, ws, mustID(t, "email:lan@example.vn"), "cli:root")
	if err != nil || d.Counts["exports"] != 1 {
		t.Fatalf("delete: %+v, %v", d, err)
	}
	if _, _, err := e.svc.OpenExport(ctx, ws, r.ID); !errors.Is(err, opstore.ErrNotFound) {
		t.Errorf("export after erasure: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(e.Dir, "exports")); len(left) != 0 {
		t.Errorf("export files left: %v", left)
	}

	// Someone cjm knows nothing of: an empty export, still recorded.
	buf.Reset()
	r, err = e.svc.Export(ctx, ws, mustID(t, "email:nobody@example.vn"), "cli:root", FormatJSON, &buf)
	if err != nil || r.Counts["events"] != 0 || !strings.Contains(buf.String(), `"events":[]`) {
		t.Errorf("unknown person: %+v, %v\n%s", r, err, buf.String())
	}
}

func maps2Equal(a, b map[Purpose]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRecordConsentThroughThePipeline(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.lanAndMinh()
	ws := e.Workspace.ID
	lan := e.profile("user_id:u-lan")
	e.now = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	m, err := e.svc.RecordConsent(ctx, ws, lan, ConsentInput{Purpose: Zalo, Granted: true, TextVersion: "zalo-v1", Staff: "Mai"})
	if err != nil {
		t.Fatal(err)
	}
	if m.UserID != "u-lan" || m.SourceID != StaffSource || m.Event != ConsentEvent {
		t.Errorf("recorded as %+v", m)
	}
	e.now = e.now.Add(time.Hour)
	if _, err := e.svc.RecordConsent(ctx, ws, lan, ConsentInput{Purpose: Email, Granted: false, Staff: "Mai"}); err != nil {
		t.Fatal(err)
	}
	cs, err := e.svc.Consent(ctx, ws, lan)
	if err != nil {
		t.Fatal(err)
	}
	byPurpose := map[Purpose]ConsentState{}
	for _, c := range cs {
		byPurpose[c.Purpose] = c
	}
	z := byPurpose[Zalo]
	if !z.Known || !z.Granted || z.Latest().Source != "staff:Mai" || z.Latest().TextVersion != "zalo-v1" || !z.Latest().At.Equal(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("zalo %+v", z)
	}
	em := byPurpose[Email]
	if !em.Known || em.Granted || len(em.History) != 2 || em.History[1].Source != "checkout" {
		t.Errorf("email %+v", em)
	}
	if s := byPurpose[SMS]; s.Known || s.Granted {
		t.Errorf("sms %+v: unknown is not given", s)
	}
	// Durable and auditable like any event: it is in the event store.
	if n, _ := e.Events.Count(ctx, eventstore.Filter{WorkspaceID: ws, SourceID: StaffSource, Event: ConsentEvent}); n != 2 {
		t.Errorf("%d staff consent events stored", n)
	}
	for _, bad := range []ConsentInput{{Purpose: "cookies", Staff: "Mai"}, {Purpose: Email}} {
		if _, err := e.svc.RecordConsent(ctx, ws, lan, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := e.svc.RecordConsent(ctx, ws, "p_nobody", ConsentInput{Purpose: Email, Staff: "Mai"}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestRetentionDeletesOnlyOlderEvents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws := e.Workspace.ID
	other := opstore.Workspace{Name: "Other shop"}
	if err := e.Ops.CreateWorkspace(ctx, &other); err != nil {
		t.Fatal(err)
	}
	var raws []string
	for d := range 10 { // one event a day, from t0
		raws = append(raws, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Visit","timestamp":%q,"messageId":"d%d"}`, d, t0.AddDate(0, 0, d).Format(time.RFC3339), d))
	}
	e.submit(raws...)
	// The other workspace's old events, which keeps everything.
	old := event.Message{WorkspaceID: other.ID, SourceID: "src", MessageID: "o1", Type: event.Track, Event: "Visit", UserID: "x", Timestamp: t0.AddDate(-1, 0, 0)}
	if _, err := e.Pipeline.Submit(ctx, []event.Message{old}, nil); err != nil {
		t.Fatal(err)
	}
	e.Pipeline.Flush(ctx)

	ret := e.svc.Retention()
	if n, err := ret.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("no policy: deleted %d, %v", n, err)
	}
	if err := e.svc.SetRetention(ctx, ws, 5, "Mai"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetRetention(ctx, other.ID, 0, "Mai"); err != nil {
		t.Fatal(err)
	}
	e.now = t0.AddDate(0, 0, 9).Add(time.Hour) // keeps events from day 4 + 1h on
	n, err := ret.RunOnce(ctx)
	if err != nil || n != 5 {
		t.Fatalf("deleted %d, %v; want 5", n, err)
	}
	if got := e.messageIDs(`workspace_id = ?`, ws); !slices.Equal(got, []string{"d5", "d6", "d7", "d8", "d9"}) {
		t.Errorf("left %v", got)
	}
	if got := e.messageIDs(`workspace_id = ?`, other.ID); len(got) != 1 {
		t.Errorf("other workspace lost events: %v", got)
	}
	p, _ := e.svc.RetentionPolicy(ctx, ws)
	if p.LastDeleted != 5 || !p.LastRunAt.Equal(e.now) {
		t.Errorf("policy after the run %+v", p)
	}
	// The loader keeps its position: new events still load.
	e.submit(`{"type":"track","userId":"u","event":"Visit","timestamp":"2026-05-10T12:00:00Z","messageId":"new"}`)
	if got := e.messageIDs(`message_id = 'new'`); len(got) != 1 {
		t.Error("a new event did not load after the deletion")
	}

	// Run stops with its context.
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- ret.Run(ctx2) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestExportsExpire(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.lanAndMinh()
	r, err := e.svc.ExportFile(ctx, e.Workspace.ID, mustID(t, "user_id:u-minh"), "staff:Mai", FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(8 * 24 * time.Hour)
	if _, err := e.svc.Retention().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.OpenExport(ctx, e.Workspace.ID, r.ID); !errors.Is(err, opstore.ErrNotFound) {
		t.Errorf("expired export: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "exports", r.File)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("expired export file: %v", err)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"email:lan@example.vn":  "email:l•••@e•••.vn",
		"phone:+84912345678":    "phone:+84•••678",
		"user_id:kh-000123":     "user_id:kh•••",
		"user_id:a":             "user_id:•",
		"anonymous_id:8d3f-aa1": "anonymous_id:8d•••",
	} {
		if got := Mask(mustID(t, in)); got != want {
			t.Errorf("Mask(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDropReadsEveryIdentifier(t *testing.T) {
	s := NewSuppression()
	m := &event.Message{WorkspaceID: "ws", Type: event.Track, UserID: "u1"}
	if s.Drop(m) {
		t.Fatal("empty list dropped a message")
	}
	s.add([]string{Hash("ws", mustID(t, "email:lan@example.vn")), Hash("ws", mustID(t, "anonymous_id:a-lan"))})
	for _, tc := range []struct {
		m    event.Message
		drop bool
	}{
		{event.Message{WorkspaceID: "ws", Type: event.Track, UserID: "u1"}, false},
		{event.Message{WorkspaceID: "ws", Type: event.Track, AnonymousID: "a-lan"}, true},
		{event.Message{WorkspaceID: "ws2", Type: event.Track, AnonymousID: "a-lan"}, false},
		{event.Message{WorkspaceID: "ws", Type: event.Identify, UserID: "u9", Traits: json.RawMessage(`{"email":" LAN@example.vn"}`)}, true},
		{event.Message{WorkspaceID: "ws", Type: event.Track, UserID: "u9", Context: json.RawMessage(`{"traits":{"email":"lan@example.vn"}}`)}, true},
		{event.Message{WorkspaceID: "ws", Type: event.Track, UserID: "u9", Properties: json.RawMessage(`{"email":"lan@example.vn"}`)}, true},
		{event.Message{WorkspaceID: "ws", Type: event.Track, UserID: "u9", Properties: json.RawMessage(`{"note":"lan@example.vn"}`)}, false},
		{event.Message{WorkspaceID: "ws", Type: event.Alias, AnonymousID: "a-9", PreviousID: "a-lan"}, true},
		// Another person's message on the erased person's device is theirs.
		{event.Message{WorkspaceID: "ws", Type: event.Track, UserID: "u9", AnonymousID: "a-lan"}, false},
		{event.Message{WorkspaceID: "ws", Type: event.Alias, UserID: "u9", PreviousID: "a-lan"}, false},
	} {
		if got := s.Drop(&tc.m); got != tc.drop {
			t.Errorf("Drop(%+v) = %v, want %v", tc.m, got, tc.drop)
		}
	}
}
