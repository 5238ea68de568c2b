package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/privacy"
)

// privacyEnv is the UI with the privacy pages over real stores, the
// ingestion pipeline (with the suppression list) and the identity resolver.
type privacyEnv struct {
	*env
	pipeline *ingest.Pipeline
	graph    *identity.Resolver
	svc      *privacy.Service
	pages    *privacyPages
}

func newPrivacyEnv(t *testing.T) *privacyEnv {
	t.Helper()
	ctx := context.Background()
	ce := cjmtest.Open(t, t.TempDir())
	if err := ce.Pipeline.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sup, err := privacy.LoadSuppression(ctx, ce.Ops)
	if err != nil {
		t.Fatal(err)
	}
	p := &privacyEnv{}
	if p.pipeline, err = ingest.Open(ctx, ingest.Options{Log: ce.Log, Store: ce.Events, Rejects: ce.Ops, LoadDelay: time.Millisecond, Drop: sup.Drop}); err != nil {
		t.Fatal(err)
	}
	ce.Pipeline = p.pipeline
	if p.graph, err = identity.NewResolver(ce.Ops, ce.Events, identity.Options{Logger: testLogger()}); err != nil {
		t.Fatal(err)
	}
	if p.svc, err = privacy.New(ctx, privacy.Config{Events: ce.Events, Store: ce.Ops, Graph: p.graph, Pipeline: p.pipeline,
		Suppression: sup, People: []privacy.PersonStore{privacy.Profiles(ce.Ops)}, ExportDir: filepath.Join(ce.Dir, "exports"), Logger: testLogger()}); err != nil {
		t.Fatal(err)
	}
	ui, err := New(Config{Ops: ce.Ops, Events: ce.Events, Pipeline: p.pipeline, ImportDir: ce.Dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	p.pages = ui.s.privacyRoutes(p.svc)
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	p.env = &env{t: t, srv: srv, web: ui.s, ops: ce.Ops, events: ce.Events}
	return p
}

// ingest stores Segment-spec messages in the first workspace and resolves them.
func (p *privacyEnv) ingest(raws ...string) {
	p.t.Helper()
	ctx := context.Background()
	ws := p.workspace()
	var ms []event.Message
	for _, raw := range raws {
		m, e := event.Normalize([]byte(raw), event.Defaults{ReceivedAt: time.Now()})
		if e != nil {
			p.t.Fatalf("%s: %v", raw, e)
		}
		m.WorkspaceID, m.SourceID = ws.ID, "src_test"
		ms = append(ms, m)
	}
	if _, err := p.pipeline.Submit(ctx, ms, nil); err != nil {
		p.t.Fatal(err)
	}
	if err := p.pipeline.Flush(ctx); err != nil {
		p.t.Fatal(err)
	}
	last, _ := p.events.LastSeq(ctx)
	for p.graph.Offset() < last {
		if _, err := p.graph.Step(ctx); err != nil {
			p.t.Fatal(err)
		}
	}
}

func (p *privacyEnv) profile(id string) identity.ProfileID {
	p.t.Helper()
	i, err := identity.ParseIdentifier(id)
	if err != nil {
		p.t.Fatal(err)
	}
	pr, err := p.graph.Resolve(context.Background(), p.workspace().ID, i)
	if err != nil {
		p.t.Fatalf("%s: %v", id, err)
	}
	return pr
}

func (p *privacyEnv) count(user string) int64 {
	p.t.Helper()
	n, err := p.events.Count(context.Background(), eventstore.Filter{WorkspaceID: p.workspace().ID, User: user})
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func TestPrivacyPageRolesAndExport(t *testing.T) {
	p := newPrivacyEnv(t)
	owner := p.setup()
	p.ingest(`{"type":"identify","userId":"u-lan","anonymousId":"a-lan","traits":{"email":"lan@example.vn","name":"Lan"}}`,
		`{"type":"track","userId":"u-lan","event":"Order Completed","properties":{"total":1290000}}`)
	viewer := p.addMember(owner, "Trần Văn Xem", "xem@example.vn", opstore.Viewer)
	editor := p.addMember(owner, "Lê Biên Tập", "editor@example.vn", opstore.Editor)

	// Viewers do not reach personal data requests.
	expect(t, viewer.get("/privacy"), http.StatusForbidden)
	viewer.get("/events")
	expect(t, viewer.post("/privacy/export", url.Values{"identifier": {"email:lan@example.vn"}, "format": {"json"}}), http.StatusForbidden)

	// Editors export, but neither erase nor set the retention.
	r := editor.get("/privacy")
	expect(t, r, http.StatusOK, i18n.T("vi", "privacy.title"), i18n.T("vi", "privacy.owner_deletes"))
	expectNot(t, r, i18n.T("vi", "privacy.delete_button"), `action="/privacy/retention"`)
	expect(t, editor.post("/privacy/delete", url.Values{"identifier": {"email:lan@example.vn"}}), http.StatusForbidden)
	expect(t, editor.post("/privacy/delete", url.Values{"identifier": {"email:lan@example.vn"}, "confirm": {"email:lan@example.vn"}}), http.StatusForbidden)
	expect(t, editor.post("/privacy/retention", url.Values{"days": {"30"}}), http.StatusForbidden)
	expect(t, editor.post("/privacy/export", url.Values{"identifier": {"not an identifier"}, "format": {"json"}}), http.StatusUnprocessableEntity,
		i18n.T("vi", "err.identifier"))
	r = editor.post("/privacy/export", url.Values{"identifier": {"Lan@Example.vn"}, "format": {"json"}})
	expect(t, r, http.StatusSeeOther)
	r = editor.get("/privacy")
	expect(t, r, http.StatusOK, i18n.T("vi", "flash.privacy_exported"), "email:l•••@e•••.vn", "staff:editor@example.vn", i18n.T("vi", "privacy.download"))
	rs, _ := p.svc.Requests(context.Background(), p.workspace().ID, 10)
	if len(rs) != 1 || rs[0].Counts["events"] != 2 {
		t.Fatalf("requests %+v", rs)
	}
	dl := "/privacy/requests/" + rs[0].ID + "/download"
	r = editor.get(dl)
	expect(t, r, http.StatusOK, `"messageId"`, `"Order Completed"`, `"email":"lan@example.vn"`, `"value": "lan@example.vn"`)
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("download headers %v", r.header)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || doc["event_count"] != float64(2) {
		t.Errorf("download is not the export: %v", err)
	}
	expect(t, viewer.get(dl), http.StatusForbidden)
	expect(t, editor.get("/privacy/requests/prq_nothing/download"), http.StatusNotFound)

	// Owners set the retention.
	owner.get("/privacy")
	expect(t, owner.post("/privacy/retention", url.Values{"days": {"-3"}}), http.StatusUnprocessableEntity, i18n.T("vi", "err.retention_days"))
	expect(t, owner.post("/privacy/retention", url.Values{"days": {"400"}}), http.StatusSeeOther)
	if pol, _ := p.svc.RetentionPolicy(context.Background(), p.workspace().ID); pol.EventDays != 400 || pol.UpdatedBy != "Nguyễn Thị Mai" {
		t.Errorf("policy %+v", pol)
	}
	expect(t, owner.get("/privacy"), http.StatusOK, "400 ngày")

	// English.
	owner.lang = "en"
	owner.c.Jar.SetCookies(mustURL(t, p.srv.URL), []*http.Cookie{{Name: langCookie, Value: "en"}})
	r = owner.get("/privacy")
	expect(t, r, http.StatusOK, "Privacy requests", "Erase the person…", "400 days")
	expectNot(t, r, "privacy.", "consent.")
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPrivacyDeleteNeedsConfirmationAndCSRF(t *testing.T) {
	p := newPrivacyEnv(t)
	owner := p.setup()
	p.ingest(`{"type":"identify","userId":"u-lan","anonymousId":"a-lan","traits":{"email":"lan@example.vn","phone":"0912 345 678"}}`,
		`{"type":"page","anonymousId":"a-lan","name":"Home"}`,
		`{"type":"track","userId":"u-minh","event":"Order Completed"}`)

	// Without the CSRF token nothing happens.
	r := owner.rawPost("/privacy/delete", url.Values{"identifier": {"email:lan@example.vn"}, "confirm": {"email:lan@example.vn"}}, nil)
	expect(t, r, http.StatusForbidden, i18n.T("vi", "error.csrf_title"))
	if n := p.count("u-lan") + p.count("a-lan"); n != 3 {
		t.Fatalf("after a forged post: %d", n)
	}

	// The first post asks for confirmation, with what will be erased.
	owner.get("/privacy")
	r = owner.post("/privacy/delete", url.Values{"identifier": {"0912345678"}})
	expect(t, r, http.StatusOK, i18n.T("vi", "privacy.confirm_title"), "2 sự kiện", "4 định danh", string(p.profile("user_id:u-lan")))
	if n := p.count("a-lan"); n != 2 {
		t.Fatalf("erased before confirming: %d left", n)
	}
	// A wrong confirmation erases nothing.
	r = owner.post("/privacy/delete", url.Values{"identifier": {"0912345678"}, "confirm": {"email:lan@example.vn"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.confirm_identifier"))
	if n := p.count("a-lan"); n != 2 {
		t.Fatalf("erased on a wrong confirmation: %d left", n)
	}
	// The same identifier, written another way, confirms.
	r = owner.post("/privacy/delete", url.Values{"identifier": {"0912345678"}, "confirm": {"phone:+84 912 345 678"}})
	expect(t, r, http.StatusSeeOther)
	if n := p.count("u-lan") + p.count("a-lan"); n != 0 {
		t.Errorf("%d events left", n)
	}
	if n := p.count("u-minh"); n != 1 {
		t.Errorf("Minh has %d events", n)
	}
	r = owner.get("/privacy")
	expect(t, r, http.StatusOK, i18n.T("vi", "flash.privacy_deleted"), i18n.T("vi", "privacy.kind_delete"), "phone · "+i18n.T("vi", "privacy.hashed"))
	expectNot(t, r, "912345678", "u-lan", "a-lan")
	// The customer is not collected again.
	p.ingest(`{"type":"track","userId":"u-lan","event":"Product Viewed"}`)
	if n := p.count("u-lan"); n != 0 {
		t.Errorf("collected again: %d", n)
	}
}

func TestReviewsAndMerges(t *testing.T) {
	p := newPrivacyEnv(t)
	owner := p.setup()
	// Two people on the shop's tablet: the second userId waits for a review.
	p.ingest(`{"type":"identify","userId":"u-lan","anonymousId":"a-shop","traits":{"email":"lan@example.vn"}}`,
		`{"type":"identify","userId":"u-minh","anonymousId":"a-shop","traits":{"email":"minh@example.vn"},"messageId":"evidence-1"}`)
	lan, minh := p.profile("user_id:u-lan"), p.profile("user_id:u-minh")
	viewer := p.addMember(owner, "Trần Văn Xem", "xem@example.vn", opstore.Viewer)
	editor := p.addMember(owner, "Lê Biên Tập", "editor@example.vn", opstore.Editor)

	r := viewer.get("/customers/reviews")
	expect(t, r, http.StatusOK, i18n.T("vi", "reviews.title"), i18n.T("vi", "reviews.reason_different_user_ids"),
		string(lan), string(minh), "user_id:u-lan", "user_id:u-minh", "anonymous_id:a-shop", "evidence-1", "/events?user=a-shop")
	expectNot(t, r, `/approve"`, `/reject"`)
	rs, _ := p.graph.Reviews(context.Background(), p.workspace().ID, true, 10)
	if len(rs) != 1 {
		t.Fatalf("reviews %+v", rs)
	}
	id := rs[0].ID
	path := "/customers/reviews/" + itoa(id)
	expect(t, viewer.post(path+"/approve", nil), http.StatusForbidden)
	r = editor.get("/customers/reviews")
	expect(t, r, http.StatusOK, i18n.T("vi", "reviews.approve"), i18n.T("vi", "reviews.reject"))
	r = editor.post(path+"/approve", nil)
	expect(t, r, http.StatusSeeOther)
	if r.loc != "/customers/reviews" {
		t.Errorf("redirect %q", r.loc)
	}
	expect(t, editor.post(path+"/reject", nil), http.StatusSeeOther) // decided already: a flash, no change
	r = editor.get("/customers/reviews")
	expect(t, r, http.StatusOK, i18n.T("vi", "flash.review_failed"), i18n.T("vi", "reviews.none"))
	r = editor.get("/customers/reviews?tab=decided")
	expect(t, r, http.StatusOK, i18n.T("vi", "reviews.decision_approved"), "Lê Biên Tập")
	expect(t, editor.post("/customers/reviews/999/approve", nil), http.StatusNotFound)

	// The merge log of the merged profile, with Split for editors.
	merged := p.profile("user_id:u-lan")
	if p.profile("user_id:u-minh") != merged {
		t.Fatal("approving did not merge")
	}
	ms, _ := p.graph.Merges(context.Background(), p.workspace().ID, merged)
	if len(ms) == 0 {
		t.Fatal("no merge logged")
	}
	mpath := "/customers/" + string(merged) + "/merges"
	r = viewer.get(mpath)
	expect(t, r, http.StatusOK, i18n.T("vi", "merges.title"), "Lê Biên Tập")
	expectNot(t, r, `/split"`)
	var m identity.Merge
	for _, x := range ms {
		if x.Actor != "" {
			m = x
		}
	}
	split := mpath + "/" + itoa(m.ID) + "/split"
	expect(t, viewer.post(split, nil), http.StatusForbidden)
	r = editor.get(mpath)
	expect(t, r, http.StatusOK, split)
	expect(t, editor.post(split, nil), http.StatusSeeOther)
	expect(t, editor.get(mpath), http.StatusOK, i18n.T("vi", "flash.split_done"))
	if p.profile("user_id:u-lan") == p.profile("user_id:u-minh") {
		t.Error("split did not part the profiles")
	}
	expect(t, editor.get("/customers/p_nobody/merges"), http.StatusNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestConsentRecordingAndSlots(t *testing.T) {
	p := newPrivacyEnv(t)
	owner := p.setup()
	p.ingest(`{"type":"identify","userId":"u-lan","traits":{"email":"lan@example.vn"},"context":{"consent":{"categoryPreferences":{"Analytics":true,"Email Marketing":false}}}}`)
	lan := p.profile("user_id:u-lan")
	viewer := p.addMember(owner, "Trần Văn Xem", "xem@example.vn", opstore.Viewer)
	viewer.get("/events")
	consent := "/customers/" + string(lan) + "/consent"
	expect(t, viewer.post(consent, url.Values{"purpose": {"zalo"}, "granted": {"yes"}}), http.StatusForbidden)
	owner.get("/events")
	r := owner.post(consent, url.Values{"purpose": {"zalo"}, "granted": {"yes"}, "text_version": {"zalo-2026"}})
	expect(t, r, http.StatusSeeOther)
	if r.loc != "/customers/"+string(lan) {
		t.Errorf("redirect %q", r.loc)
	}
	expect(t, owner.post(consent, url.Values{"purpose": {"cookies"}, "granted": {"yes"}}), http.StatusSeeOther)
	expect(t, owner.post("/customers/p_nobody/consent", url.Values{"purpose": {"zalo"}, "granted": {"yes"}}), http.StatusNotFound)

	// The slots, as the profile page renders them.
	q := &req{s: p.web, ctx: context.Background(), lang: "vi", ws: p.workspace(), role: opstore.Editor, loc: time.UTC,
		r: httptest.NewRequest(http.MethodGet, "/customers/"+string(lan), nil)}
	slots, err := p.pages.profileSlots(q, lan)
	if err != nil {
		t.Fatal(err)
	}
	pg := &page{Lang: "vi", Role: opstore.Editor, Loc: time.UTC, CSRF: "tok", Data: struct{ Privacy *profilePrivacy }{slots}}
	var buf bytes.Buffer
	for _, name := range []string{"profile_consent", "profile_privacy"} {
		if err := p.web.pages["vi"]["privacy"].ExecuteTemplate(&buf, name, pg); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	for _, want := range []string{i18n.T("vi", "consent.title"), "staff:Nguyễn Thị Mai", "zalo-2026", i18n.T("vi", "consent.granted"),
		i18n.T("vi", "consent.withdrawn"), i18n.T("vi", "consent.unknown"), consent, "/customers/" + string(lan) + "/merges",
		`name="identifier" value="user_id:u-lan"`, i18n.T("vi", "privacy.profile_export")} {
		if !strings.Contains(out, want) {
			t.Errorf("slots lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/privacy/delete") {
		t.Error("an editor is offered the erasure")
	}
	// Nothing without the privacy service.
	buf.Reset()
	pg.Data = struct{ Privacy *profilePrivacy }{}
	p.web.pages["vi"]["privacy"].ExecuteTemplate(&buf, "profile_consent", pg)
	if strings.TrimSpace(buf.String()) != "" {
		t.Errorf("slot without data: %q", buf.String())
	}
}
