package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

// customersEnv is the UI with the customers pages over the real identity
// resolver and profile indexer.
type customersEnv struct {
	*env
	resolver *identity.Resolver
	indexer  *profile.Indexer
	svc      *profile.Service
}

func newCustomersEnv(t *testing.T) *customersEnv {
	t.Helper()
	e := newEnv(t)
	r, err := identity.NewResolver(e.ops, e.events, identity.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := profile.Config{Store: e.ops, Ops: e.ops, Events: e.events, Graph: r, Logger: testLogger()}
	ix := profile.NewIndexer(cfg)
	r.SetListener(ix)
	svc := profile.NewService(cfg)
	e.web.customerRoutes(svc, nil)
	return &customersEnv{env: e, resolver: r, indexer: ix, svc: svc}
}

// settle resolves identities and indexes profiles until both are done.
func (e *customersEnv) settle() {
	e.t.Helper()
	ctx := context.Background()
	for {
		n, err := e.resolver.Step(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if err := e.indexer.CatchUp(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *customersEnv) profileOf(kind identity.Kind, value string) string {
	e.t.Helper()
	p, err := e.resolver.Resolve(context.Background(), e.workspace().ID, identity.Identifier{Kind: kind, Value: value})
	if err != nil {
		e.t.Fatalf("resolve %s:%s: %v", kind, value, err)
	}
	return string(p)
}

// shop sends the story of a few customers: An browses anonymously, logs in
// and buys online and in a shop; Đào buys a lot on the website; many
// visitors only look.
func (e *customersEnv) shop() (web, pos opstore.Source, mapID string) {
	e.t.Helper()
	ws := e.workspace().ID
	web = e.createSource("Website", opstore.Website)
	pos = e.createSource("Cửa hàng Q1", opstore.POS)
	m := &journeymap.Map{Name: "Mua sắm", Lang: "vi", State: journeymap.Current,
		Persona: &journeymap.Persona{Name: "Dân văn phòng", Segment: "office"}, Stages: []journeymap.Stage{
			{Key: "discover", Name: "Khám phá", Touchpoints: []journeymap.Touchpoint{
				{Key: "site", Name: "Xem website", Channel: "website", Match: &journeymap.Matcher{Rule: journeymap.Rule{Type: "page"}}},
			}},
			{Key: "buy", Name: "Mua hàng", Touchpoints: []journeymap.Touchpoint{
				{Key: "online", Name: "Đặt online", Channel: "website", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed", Source: "Website"}}},
				{Key: "store", Name: "Mua tại cửa hàng", Channel: "store", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed", Source: "Cửa hàng Q1"}}},
			}},
		}}
	entry, err := journeymap.NewBook(e.ops).Create(context.Background(), ws, m, opstore.MapChange{Action: "created"})
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now().UTC().Add(-time.Hour)
	day := 24 * time.Hour
	msgs := []event.Message{
		{SourceID: web.ID, Type: event.Page, Name: "Trang chủ", AnonymousID: "a1", Timestamp: now.Add(-20 * day)},
		{SourceID: web.ID, Type: event.Identify, AnonymousID: "a1", UserID: "kh1", Timestamp: now.Add(-20*day + time.Minute),
			Traits: json.RawMessage(`{"name":"Nguyễn Văn An","email":"an@example.vn","phone":"0912 345 678","persona":"office","city":"Hà Nội"}`)},
		{SourceID: web.ID, Type: event.Track, Event: "Order Completed", UserID: "kh1", Timestamp: now.Add(-20*day + 2*time.Minute),
			Properties: json.RawMessage(`{"revenue":500000,"order_id":"W-1"}`)},
		{SourceID: pos.ID, Type: event.Identify, UserID: "kh1", Timestamp: now.Add(-2 * day), Traits: json.RawMessage(`{"city":"Đà Nẵng"}`)},
		{SourceID: pos.ID, Type: event.Track, Event: "Order Completed", UserID: "kh1", Timestamp: now.Add(-2*day + time.Minute),
			Properties: json.RawMessage(`{"total":300000,"order_id":"POS-7"}`)},
		{SourceID: web.ID, Type: event.Identify, UserID: "kh2", Timestamp: now.Add(-30 * day),
			Traits: json.RawMessage(`{"name":"Trần Thị Đào","email":"dao@example.vn"}`)},
		{SourceID: web.ID, Type: event.Track, Event: "Order Completed", UserID: "kh2", Timestamp: now.Add(-30*day + time.Minute),
			Properties: json.RawMessage(`{"revenue":1500000}`)},
		{SourceID: web.ID, Type: event.Track, Event: "Order Completed", UserID: "kh2", Timestamp: now.Add(-30*day + 2*time.Minute),
			Properties: json.RawMessage(`{"revenue":900000}`)},
	}
	for i := range 52 {
		msgs = append(msgs, event.Message{SourceID: web.ID, Type: event.Page, Name: "Trang chủ", AnonymousID: fmt.Sprintf("visitor-%02d", i),
			Timestamp: now.Add(-time.Duration(60+i) * day)})
	}
	for i := range msgs {
		msgs[i].WorkspaceID = ws
	}
	e.appendEvents(msgs...)
	e.settle()
	return web, pos, entry.ID
}

func TestCustomersList(t *testing.T) {
	e := newCustomersEnv(t)
	c := e.setup()
	expect(t, c.get("/customers"), http.StatusOK, i18n.T("vi", "customers.none"), i18n.T("vi", "customers.search_label"))

	_, _, mapID := e.shop()
	kh1, kh2 := e.profileOf(identity.UserID, "kh1"), e.profileOf(identity.UserID, "kh2")
	r := c.get("/customers")
	expect(t, r, http.StatusOK, "54 khách hàng", "Nguyễn Văn An", "Trần Thị Đào", "an@example.vn", "0912 345 678",
		"2.400.000 VND", "800.000 VND", `href="/customers/`+kh1+`"`, i18n.T("vi", "customers.next_page"), "Mua sắm", "Khám phá")
	expectNot(t, r, "visitor-51") // the oldest visitor is on the second page
	// The second page.
	next := regexp1(t, r.body, `href="(/customers\?after=[^"]+)"`)
	r = c.get(unamp(next))
	expect(t, r, http.StatusOK, "visitor-51", i18n.T("vi", "customers.first_page"))
	expectNot(t, r, "Nguyễn Văn An")

	for _, tc := range []struct {
		query      string
		want, not  []string
		wantStatus int
	}{
		{"q=nguyen+van", []string{"Nguyễn Văn An", "1 khách hàng"}, []string{"Trần Thị Đào"}, 200},
		{"q=NGUYEN+VAN+AN", []string{"Nguyễn Văn An"}, nil, 200},
		{"q=" + url.QueryEscape("+84 912 345 678"), []string{"Nguyễn Văn An"}, []string{"Trần Thị Đào"}, 200},
		{"q=0912.345.678", []string{"Nguyễn Văn An"}, nil, 200},
		{"q=dao%40example.vn", []string{"Trần Thị Đào"}, []string{"Nguyễn Văn An"}, 200},
		{"q=kh2", []string{"Trần Thị Đào"}, []string{"Nguyễn Văn An"}, 200},
		{"q=da+nang", []string{"Nguyễn Văn An"}, []string{"Trần Thị Đào"}, 200},
		{"q=visitor-07", []string{"visitor-07", "1 khách hàng"}, nil, 200},
		{"q=kh%C3%B4ng+ai", []string{i18n.T("vi", "customers.none_filtered")}, nil, 200},
		{"channel=pos", []string{"Nguyễn Văn An", "1 khách hàng"}, []string{"Trần Thị Đào"}, 200},
		{"orders=2", []string{"Nguyễn Văn An", "Trần Thị Đào", "2 khách hàng"}, nil, 200},
		{"revenue=1.000.000", []string{"Trần Thị Đào"}, []string{"Nguyễn Văn An"}, 200},
		{"days=7", []string{"Nguyễn Văn An", "1 khách hàng"}, []string{"Trần Thị Đào"}, 200},
		{"stage=" + mapID + ":buy", []string{"Nguyễn Văn An", "Trần Thị Đào", "2 khách hàng"}, nil, 200},
		{"stage=" + mapID + ":discover", []string{"52 khách hàng"}, []string{"Nguyễn Văn An"}, 200},
		{"orders=-1", []string{i18n.T("vi", "customers.err_number"), `aria-invalid="true"`}, nil, 422},
		{"revenue=nhiều", []string{i18n.T("vi", "customers.err_number")}, nil, 422},
	} {
		r := c.get("/customers?" + tc.query)
		expect(t, r, tc.wantStatus, tc.want...)
		expectNot(t, r, tc.not...)
	}
	// Sorted by revenue: Đào, then An.
	r = c.get("/customers?sort=revenue")
	if i, j := strings.Index(r.body, "Trần Thị Đào"), strings.Index(r.body, "Nguyễn Văn An"); i < 0 || j < i {
		t.Errorf("by revenue: Đào at %d, An at %d", i, j)
	}
	r = c.get("/customers?sort=name")
	if i, j := strings.Index(r.body, "Nguyễn Văn An"), strings.Index(r.body, "Trần Thị Đào"); i < 0 || j < i {
		t.Errorf("by name: An at %d, Đào at %d", i, j)
	}
	expect(t, c.get("/customers?after=nope!"), http.StatusNotFound)

	// The CSV of a filtered list.
	r = c.get("/customers/export.csv?orders=1&sort=revenue")
	expect(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if _, p, _ := mime.ParseMediaType(r.header.Get("Content-Disposition")); !strings.HasPrefix(p["filename"], "cjm-customers-") {
		t.Errorf("disposition %q", r.header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "profile_id" || recs[0][8] != "revenue_vnd" || recs[1][0] != kh2 || recs[1][8] != "2400000" ||
		recs[2][1] != "Nguyễn Văn An" || recs[2][3] != "+84912345678" || recs[2][9] != "website;pos" {
		t.Errorf("csv:\n%s", r.body)
	}
	// In English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, c.get("/customers?orders=1"), http.StatusOK, "2 customers", "2,400,000 VND", "Customer list")
}

func TestCustomerProfile(t *testing.T) {
	e := newCustomersEnv(t)
	owner := e.setup()
	_, _, mapID := e.shop()
	kh1 := e.profileOf(identity.UserID, "kh1")
	r := owner.get("/customers/" + kh1)
	expect(t, r, http.StatusOK,
		"<h1>Nguyễn Văn An</h1>", "Mã khách hàng", "kh1", "Mã ẩn danh", "a1", "+84912345678",
		"800.000 VND", "400.000 VND", i18n.T("vi", "profile.ltv_hint"), "2 ngày",
		`href="/journeys/`+mapID+`">Mua sắm</a>`, "Mua hàng", "Mua tại cửa hàng",
		"office", `href="/journeys/`+mapID+`/about">Mua sắm</a>`,
		"Đà Nẵng", "1 giá trị trước đó", "Hà Nội",
		"Đặt online", "Xem website", "/events?user=kh1", "/events?user=a1", "POS-7",
		i18n.T("vi", "profile.add_note"))
	expectNot(t, r, "Trần Thị Đào", "%!")
	// The timeline is newest first.
	if i, j := strings.Index(r.body, "POS-7"), strings.Index(r.body, "W-1"); i < 0 || j < i {
		t.Errorf("timeline order: POS-7 at %d, W-1 at %d", i, j)
	}

	// Notes: an editor adds one; a viewer reads but cannot add.
	r = owner.post("/customers/"+kh1+"/notes", url.Values{"body": {"Khách quen, thích túi da"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/customers/"+kh1) {
		t.Fatalf("add note: %d to %q", r.status, r.loc)
	}
	expect(t, owner.get("/customers/"+kh1), http.StatusOK, "Khách quen, thích túi da", i18n.T("vi", "flash.note_added"))
	expect(t, owner.post("/customers/"+kh1+"/notes", url.Values{"body": {"  "}}), http.StatusUnprocessableEntity, i18n.T("vi", "err.required"))
	viewer := e.addMember(owner, "Bình", "binh@example.vn", opstore.Viewer)
	r = viewer.get("/customers/" + kh1)
	expect(t, r, http.StatusOK, "Khách quen, thích túi da", i18n.T("vi", "profile.viewer_note"))
	expectNot(t, r, `action="/customers/`+kh1+`/notes"`)
	expect(t, viewer.post("/customers/"+kh1+"/notes", url.Values{"body": {"Tôi cũng muốn ghi"}}), http.StatusForbidden)
	notes, _ := e.ops.ProfileNotes(context.Background(), e.workspace().ID, kh1)
	if len(notes) != 1 {
		t.Fatalf("notes %+v", notes)
	}
	expect(t, viewer.post(fmt.Sprintf("/customers/%s/notes/%d/delete", kh1, notes[0].ID), nil), http.StatusForbidden)
	r = owner.post(fmt.Sprintf("/customers/%s/notes/%d/delete", kh1, notes[0].ID), nil)
	expect(t, r, http.StatusSeeOther)
	expectNot(t, owner.get("/customers/"+kh1), "Khách quen, thích túi da")

	// A visitor who logs in later: the anonymous profile joins the
	// customer's, and its old address leads there.
	ws := e.workspace().ID
	e.appendEvents(event.Message{WorkspaceID: ws, Type: event.Page, Name: "Trang chủ", AnonymousID: "visitor-03", Timestamp: time.Now().UTC().Add(-time.Minute)})
	e.settle()
	old := e.profileOf(identity.AnonymousID, "visitor-03")
	e.appendEvents(event.Message{WorkspaceID: ws, Type: event.Identify, AnonymousID: "visitor-03", UserID: "kh1", Timestamp: time.Now().UTC()})
	e.settle()
	now := e.profileOf(identity.UserID, "kh1")
	if old != now {
		r = owner.get("/customers/" + old)
		if r.status != http.StatusSeeOther || r.loc != "/customers/"+now {
			t.Errorf("merged profile: %d to %q, want /customers/%s", r.status, r.loc, now)
		}
	}
	expect(t, owner.get("/customers/"+now), http.StatusOK, "visitor-03", "/events?user=visitor-03")
	expect(t, owner.get("/customers/p_nosuchprofile00"), http.StatusNotFound)
	expect(t, owner.get("/customers/"+now+"?before=bad"), http.StatusNotFound)

	// Timeline paging.
	kh2 := e.profileOf(identity.UserID, "kh2")
	var msgs []event.Message
	for i := range 60 {
		msgs = append(msgs, event.Message{WorkspaceID: ws, Type: event.Track, Event: fmt.Sprintf("Viewed %02d", i), UserID: "kh2",
			Timestamp: time.Now().UTC().Add(-time.Duration(100-i) * time.Minute)})
	}
	e.appendEvents(msgs...)
	e.settle()
	r = owner.get("/customers/" + kh2)
	expect(t, r, http.StatusOK, "Viewed 59", "Viewed 10", i18n.T("vi", "profile.older"))
	expectNot(t, r, "Viewed 09")
	older := regexp1(t, r.body, `href="(/customers/[^"]+\?before=[^"]+)"`)
	expect(t, owner.get(unamp(older)), http.StatusOK, "Viewed 09", "Viewed 00", "revenue", i18n.T("vi", "profile.newest"))

	// In English.
	owner.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	expect(t, owner.get("/customers/"+kh1), http.StatusOK, "Customer id", "Lifetime value", "Omnichannel timeline", "2 days")

	// No page shows a raw catalog key, in either language.
	rawKey := regexp.MustCompile(`\b(?:customers|profile|flash|nav|fmt|channel)\.[a-z0-9_]+\b`)
	attrs := regexp.MustCompile(`(?s)<pre.*?</pre>|(href|src|action|id|for|class|aria-[a-z]+|name|value|list|title|data-[a-z-]+)="[^"]*"`)
	for _, lang := range i18n.Langs {
		owner.post("/lang", url.Values{"lang": {lang}, "next": {"/"}})
		for _, p := range []string{"/customers", "/customers?q=zzz", "/customers?orders=x", "/customers/" + kh1, "/customers/" + kh2, "/customers/" + old} {
			r := owner.get(p)
			if k := rawKey.FindString(attrs.ReplaceAllString(r.body, "")); k != "" {
				t.Errorf("%s %s shows the raw key %q", lang, p, k)
			}
			expectNot(t, r, "%!")
		}
	}
	for _, k := range identity.Kinds {
		if !i18n.Has("profile.kind_" + string(k)) {
			t.Errorf("no catalog text for identifier kind %s", k)
		}
	}
}

func regexp1(t *testing.T, body, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, clip(body))
	}
	return m[1]
}

// unamp unescapes the &amp; of an href.
func unamp(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }
