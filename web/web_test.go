package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
)

// env is a UI served over real HTTP on a fresh SQLite and DuckDB.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	web    *server
	ops    *sqlite.Store
	events *duckdb.Store
}

// shared stores of the test binary are not used: every test gets its own.
func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	ops, err := sqlite.Open(filepath.Join(dir, "ops.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ops.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	h, err := New(Config{
		Ops: ops, Events: events, Logger: testLogger(),
		Stats: func() ingest.Stats {
			return ingest.Stats{Accepted: 1234, Duplicates: 5, Rejected: 2, LogSeq: 1300, LoadedSeq: 1290}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, web: h.s, ops: ops, events: events}
}

// client is a browser: a cookie jar, redirects not followed, and the CSRF
// token of the last page it loaded.
type client struct {
	e    *env
	c    *http.Client
	csrf string
	lang string // Accept-Language
}

func (e *env) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status int
	body   string
	loc    string
	header http.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) resp {
	c.e.t.Helper()
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	r := resp{status: res.StatusCode, body: string(b), loc: res.Header.Get("Location"), header: res.Header}
	if m := csrfRE.FindStringSubmatch(r.body); m != nil {
		c.csrf = m[1]
	}
	return r
}

func (c *client) get(path string) resp {
	c.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return c.do(req)
}

// post submits a form with the CSRF token of the last page loaded.
func (c *client) post(path string, form url.Values) resp {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", c.csrf)
	}
	return c.rawPost(path, form, nil)
}

func (c *client) rawPost(path string, form url.Values, header http.Header) resp {
	c.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return c.do(req)
}

func (c *client) hasSession() bool {
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == sessionCookie && ck.Value != "" {
			return true
		}
	}
	return false
}

func expect(t *testing.T, r resp, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, clip(r.body))
	}
	body := html.UnescapeString(r.body)
	for _, s := range contains {
		if !strings.Contains(body, s) {
			t.Errorf("page does not contain %q; body:\n%s", s, clip(r.body))
		}
	}
}

func expectNot(t *testing.T, r resp, absent ...string) {
	t.Helper()
	body := html.UnescapeString(r.body)
	for _, s := range absent {
		if strings.Contains(body, s) {
			t.Errorf("page contains %q, it should not", s)
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

const ownerPassword = "mật khẩu chủ shop"

// setup runs the first-start flow and returns the logged-in owner's browser.
func (e *env) setup() *client {
	e.t.Helper()
	c := e.client()
	c.get("/setup")
	r := c.post("/setup", url.Values{
		"name": {"Nguyễn Thị Mai"}, "email": {"Mai@Example.vn"}, "password": {ownerPassword}, "password2": {ownerPassword},
		"ws_name": {"Cửa hàng Hoa Mai"}, "timezone": {"Asia/Ho_Chi_Minh"}, "currency": {"VND"},
	})
	if r.status != http.StatusSeeOther || r.loc != "/" {
		e.t.Fatalf("setup: status %d, location %q; body:\n%s", r.status, r.loc, clip(r.body))
	}
	return c
}

func (e *env) workspace() opstore.Workspace {
	e.t.Helper()
	wss, err := e.ops.Workspaces(context.Background())
	if err != nil || len(wss) == 0 {
		e.t.Fatalf("workspaces: %v, %v", wss, err)
	}
	return wss[0]
}

// login logs a new browser in.
func (e *env) login(email, password string) *client {
	e.t.Helper()
	c := e.client()
	c.get("/login")
	r := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("login %s: status %d; body:\n%s", email, r.status, clip(r.body))
	}
	return c
}

// addMember has the owner add a new user with a role, and returns them logged in.
func (e *env) addMember(owner *client, name, email string, role opstore.Role) *client {
	e.t.Helper()
	owner.get("/settings/users")
	r := owner.post("/settings/users", url.Values{"email": {email}, "role": {string(role)}, "name": {name}, "password": {"password-" + name}})
	expect(e.t, r, http.StatusSeeOther)
	return e.login(email, "password-"+name)
}

func TestSetupFlow(t *testing.T) {
	e := newEnv(t)
	c := e.client()

	for _, p := range []string{"/", "/login", "/sources", "/nothing-here"} {
		r := c.get(p)
		if r.status != http.StatusSeeOther || r.loc != "/setup" {
			t.Errorf("GET %s before setup: %d to %q, want 303 to /setup", p, r.status, r.loc)
		}
	}
	r := c.get("/setup")
	expect(t, r, http.StatusOK, "Chào mừng đến với cjm", `value="Asia/Ho_Chi_Minh"`, `value="VND"`)

	// Mistakes come back with the entered values and an error by the field.
	r = c.post("/setup", url.Values{
		"name": {"Nguyễn Thị Mai"}, "email": {"not-an-email"}, "password": {"short"}, "password2": {"other"},
		"ws_name": {""}, "timezone": {"Mars/Olympus"}, "currency": {"VN"},
	})
	expect(t, r, http.StatusUnprocessableEntity, `value="Nguyễn Thị Mai"`, `value="not-an-email"`, `value="Mars/Olympus"`,
		i18n.T("vi", "err.email"), i18n.T("vi", "err.password_short"), i18n.T("vi", "err.password_mismatch"),
		i18n.T("vi", "err.required"), i18n.T("vi", "err.timezone"), i18n.T("vi", "err.currency"), `aria-invalid="true"`)
	if n, _ := e.ops.UserCount(context.Background()); n != 0 {
		t.Fatalf("an invalid setup created %d users", n)
	}

	c = e.setup()
	if !c.hasSession() {
		t.Fatal("no session cookie after setup")
	}
	r = c.get("/")
	expect(t, r, http.StatusOK, "Cửa hàng Hoa Mai", "Nguyễn Thị Mai", i18n.T("vi", "flash.welcome"))

	ctx := context.Background()
	u, err := e.ops.UserByEmail(ctx, "mai@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.ops.Memberships(ctx, u.ID)
	if err != nil || len(ms) != 1 || ms[0].Role != opstore.Owner {
		t.Fatalf("owner memberships = %+v, %v", ms, err)
	}
	ws := e.workspace()
	if ws.Name != "Cửa hàng Hoa Mai" || ws.TimeZone != "Asia/Ho_Chi_Minh" || ws.Currency != "VND" {
		t.Errorf("workspace = %+v", ws)
	}

	// Setup is gone once a user exists, for everyone.
	expect(t, c.get("/setup"), http.StatusNotFound)
	expect(t, e.client().get("/setup"), http.StatusNotFound)
	r = c.post("/setup", url.Values{"name": {"X"}, "email": {"x@example.vn"}, "password": {"12345678"}, "password2": {"12345678"}})
	expect(t, r, http.StatusNotFound)
	if n, _ := e.ops.UserCount(ctx); n != 1 {
		t.Errorf("%d users after setup, want 1", n)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.setup()

	c := e.client()
	r := c.get("/sources?x=1")
	if r.status != http.StatusSeeOther || r.loc != "/login?next="+url.QueryEscape("/sources?x=1") {
		t.Fatalf("logged out: %d to %q", r.status, r.loc)
	}
	expect(t, c.get("/login"), http.StatusOK, i18n.T("vi", "login.title"))
	for _, tc := range []struct{ email, pw string }{
		{"mai@example.vn", "wrong password"},
		{"nobody@example.vn", ownerPassword},
		{"", ""},
	} {
		r := c.post("/login", url.Values{"email": {tc.email}, "password": {tc.pw}})
		if r.status != http.StatusUnauthorized && r.status != http.StatusUnprocessableEntity {
			t.Errorf("login %q/%q: status %d", tc.email, tc.pw, r.status)
		}
		expect(t, r, r.status, i18n.T("vi", "err.login"))
		if tc.pw != "" {
			expectNot(t, r, tc.pw)
		}
		if c.hasSession() {
			t.Fatalf("login %q/%q gave a session", tc.email, tc.pw)
		}
	}

	// The right password, with the e-mail in another case, logs in and goes to next.
	r = c.post("/login", url.Values{"email": {"MAI@example.vn"}, "password": {ownerPassword}, "next": {"/sources"}})
	if r.status != http.StatusSeeOther || r.loc != "/sources" || !c.hasSession() {
		t.Fatalf("login: %d to %q, session %v", r.status, r.loc, c.hasSession())
	}
	cookie := r.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Max-Age=2592000"} {
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "; "), attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	expect(t, c.get("/sources"), http.StatusOK, i18n.T("vi", "sources.title"))

	// Only the token's hash is stored.
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			if _, err := e.ops.Session(context.Background(), ck.Value); err == nil {
				t.Error("the raw session token finds a session: it is stored in clear")
			}
		}
	}

	// An open redirect is not followed.
	r = e.client().get("/login")
	c2 := e.client()
	c2.get("/login")
	r = c2.post("/login", url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}, "next": {"//evil.example/x"}})
	if r.loc != "/" {
		t.Errorf("login with next=//evil.example: location %q, want /", r.loc)
	}

	// Logout ends the session on the server too.
	c.get("/")
	r = c.post("/logout", nil)
	if r.status != http.StatusSeeOther || r.loc != "/login" {
		t.Fatalf("logout: %d to %q", r.status, r.loc)
	}
	if r := c.get("/"); r.status != http.StatusSeeOther {
		t.Errorf("after logout GET / = %d, want a redirect to login", r.status)
	}
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t)
	e.setup()
	c := e.client()
	c.get("/login")
	for i := range maxFailsPerEmail {
		r := c.post("/login", url.Values{"email": {"mai@example.vn"}, "password": {fmt.Sprint("guess", i)}})
		expect(t, r, http.StatusUnauthorized)
	}
	// Even the right password is refused while throttled, with its own message.
	r := c.post("/login", url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}})
	expect(t, r, http.StatusTooManyRequests, i18n.T("vi", "err.throttled"))
	if c.hasSession() {
		t.Fatal("a throttled login gave a session")
	}
	// After the window it works again.
	e.web.now = func() time.Time { return time.Now().Add(throttleWindow + time.Minute) }
	r = c.post("/login", url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}})
	expect(t, r, http.StatusSeeOther)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	c.get("/sources")
	good := c.csrf
	form := func(tok string) url.Values {
		v := url.Values{"name": {"Web"}, "channel": {"website"}}
		if tok != "" {
			v.Set("csrf", tok)
		}
		return v
	}
	for name, tc := range map[string]struct {
		tok    string
		header http.Header
	}{
		"no token":                 {},
		"wrong token":              {tok: wrongToken(good)},
		"cross-site fetch":         {tok: good, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		"foreign origin":           {tok: good, header: http.Header{"Origin": {"https://evil.example"}}},
		"token in header, foreign": {header: http.Header{"X-Csrf-Token": {good}, "Origin": {"https://evil.example"}}},
	} {
		r := c.rawPost("/sources", form(tc.tok), tc.header)
		expect(t, r, http.StatusForbidden, i18n.T("vi", "error.csrf_title"))
		_ = name
	}
	if srcs, _ := e.ops.Sources(context.Background(), e.workspace().ID); len(srcs) != 0 {
		t.Fatalf("a forged form created sources: %+v", srcs)
	}
	// The header works for fetch, and a same-origin browser passes.
	r := c.rawPost("/sources", form(""), http.Header{"X-Csrf-Token": {good}, "Sec-Fetch-Site": {"same-origin"}, "Origin": {e.srv.URL}})
	expect(t, r, http.StatusSeeOther)

	// Forms before login carry a token too.
	anon := e.client()
	r = anon.rawPost("/login", url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}}, nil)
	expect(t, r, http.StatusForbidden)
	if anon.hasSession() {
		t.Error("login without a CSRF token gave a session")
	}
}

func TestViewerReadsButCannotChange(t *testing.T) {
	e := newEnv(t)
	owner := e.setup()
	owner.get("/sources")
	r := owner.post("/sources", url.Values{"name": {"Website chính"}, "channel": {"website"}})
	expect(t, r, http.StatusSeeOther)
	srcPath := r.loc

	viewer := e.addMember(owner, "Trần Văn Xem", "xem@example.vn", opstore.Viewer)
	r = viewer.get("/sources")
	expect(t, r, http.StatusOK, "Website chính", i18n.T("vi", "common.viewer_note"))
	expectNot(t, r, i18n.T("vi", "sources.create"))
	r = viewer.get(srcPath)
	expect(t, r, http.StatusOK, "Website chính")
	expectNot(t, r, i18n.T("vi", "source.rotate"), i18n.T("vi", "source.disable"))
	for _, p := range []string{"/events", "/rejected", "/settings/users", "/settings/api-keys", "/settings/workspace", "/journeys"} {
		expect(t, viewer.get(p), http.StatusOK)
	}

	viewer.get("/sources")
	expect(t, viewer.post("/sources", url.Values{"name": {"Ứng dụng"}, "channel": {"app"}}), http.StatusForbidden,
		i18n.T("vi", "error.forbidden_title"))
	expect(t, viewer.post(srcPath+"/rotate", nil), http.StatusForbidden)
	expect(t, viewer.post(srcPath+"/enabled", url.Values{"enabled": {"false"}}), http.StatusForbidden)
	expect(t, viewer.post("/settings/users", url.Values{"email": {"x@example.vn"}, "role": {"owner"}}), http.StatusForbidden)
	expect(t, viewer.post("/settings/api-keys", url.Values{"name": {"k"}, "role": {"owner"}}), http.StatusForbidden)
	expect(t, viewer.post("/settings/workspace", url.Values{"ws_name": {"X"}, "timezone": {"UTC"}, "currency": {"USD"}}), http.StatusForbidden)
	if srcs, _ := e.ops.Sources(context.Background(), e.workspace().ID); len(srcs) != 1 {
		t.Errorf("sources after the viewer's attempts: %d, want 1", len(srcs))
	}

	// An editor manages sources but not users.
	editor := e.addMember(owner, "Lê Biên Tập", "editor@example.vn", opstore.Editor)
	editor.get("/sources")
	expect(t, editor.post("/sources", url.Values{"name": {"Ứng dụng"}, "channel": {"app"}}), http.StatusSeeOther)
	expect(t, editor.post(srcPath+"/enabled", url.Values{"enabled": {"false"}}), http.StatusSeeOther)
	expect(t, editor.post("/settings/users", url.Values{"email": {"y@example.vn"}, "role": {"owner"}}), http.StatusForbidden)
	r = editor.get("/settings/users")
	expectNot(t, r, i18n.T("vi", "users.add_submit"))
}

func TestSources(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	r := c.get("/sources")
	expect(t, r, http.StatusOK, i18n.T("vi", "sources.none"))
	for _, ch := range opstore.Channels {
		if !strings.Contains(r.body, `<option value="`+string(ch)+`"`) {
			t.Errorf("channel %s is not offered", ch)
		}
	}
	expect(t, r, http.StatusOK, "Sàn thương mại điện tử", "Cửa hàng (POS)")

	// Validation keeps what was entered.
	r = c.post("/sources", url.Values{"name": {""}, "channel": {"fax"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.required"), i18n.T("vi", "err.channel"))
	r = c.post("/sources", url.Values{"name": {"Zalo OA"}, "channel": {"zalo"}})
	expect(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.loc, "/sources/") {
		t.Fatalf("created source: location %q", r.loc)
	}
	srcPath := r.loc
	r = c.post("/sources", url.Values{"name": {"Zalo OA"}, "channel": {"app"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.source_taken"), `value="Zalo OA"`)

	src, err := e.ops.Source(context.Background(), strings.TrimPrefix(srcPath, "/sources/"))
	if err != nil {
		t.Fatal(err)
	}
	r = c.get(srcPath)
	base := e.srv.URL
	expect(t, r, http.StatusOK, i18n.T("vi", "flash.source_created"), src.WriteKey,
		"curl -u "+src.WriteKey+": -H 'Content-Type: application/json'", base+"/v1/track",
		`analytics.NewWithConfig("`+src.WriteKey+`", analytics.Config{Endpoint: "`+base+`"})`,
		`new Analytics({ writeKey: '`+src.WriteKey+`', host: '`+base+`' })`,
		base+"/v1/t", "gopkg.in/segmentio/analytics-go.v3", "@segment/analytics-node")
	expect(t, c.get("/sources"), http.StatusOK, "Zalo OA", "Zalo")

	// Rotate and disable.
	r = c.post(srcPath+"/rotate", nil)
	expect(t, r, http.StatusSeeOther)
	rotated, _ := e.ops.Source(context.Background(), src.ID)
	if rotated.WriteKey == src.WriteKey {
		t.Error("rotate kept the write key")
	}
	r = c.get(srcPath)
	expect(t, r, http.StatusOK, rotated.WriteKey, i18n.T("vi", "flash.key_rotated"))
	expectNot(t, r, src.WriteKey)
	expect(t, c.post(srcPath+"/enabled", url.Values{"enabled": {"false"}}), http.StatusSeeOther)
	if s, _ := e.ops.Source(context.Background(), src.ID); !s.Disabled {
		t.Error("source still enabled")
	}
	expect(t, c.get(srcPath), http.StatusOK, i18n.T("vi", "source.disabled_note"), i18n.T("vi", "source.enable"))

	// Another workspace's source is not found.
	other := opstore.Workspace{Name: "Khác"}
	if err := e.ops.CreateWorkspace(context.Background(), &other); err != nil {
		t.Fatal(err)
	}
	foreign := opstore.Source{WorkspaceID: other.ID, Name: "Lạ", Channel: opstore.Website}
	if err := e.ops.CreateSource(context.Background(), &foreign); err != nil {
		t.Fatal(err)
	}
	expect(t, c.get("/sources/"+foreign.ID), http.StatusNotFound)
	expect(t, c.post("/sources/"+foreign.ID+"/rotate", nil), http.StatusNotFound)
	expect(t, c.get("/sources/nope"), http.StatusNotFound, i18n.T("vi", "error.notfound_title"))
}

// appendEvents stores messages with increasing Seq.
func (e *env) appendEvents(msgs ...event.Message) {
	e.t.Helper()
	last, err := e.events.LastSeq(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range msgs {
		msgs[i].Seq = last + uint64(i) + 1
		if msgs[i].MessageID == "" {
			msgs[i].MessageID = fmt.Sprint("m", msgs[i].Seq)
		}
		if msgs[i].Timestamp.IsZero() {
			msgs[i].Timestamp = time.Now().UTC().Add(-time.Minute)
		}
		msgs[i].ReceivedAt = msgs[i].Timestamp
	}
	if err := e.events.Append(context.Background(), msgs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) createSource(name string, ch opstore.Channel) opstore.Source {
	e.t.Helper()
	s := opstore.Source{WorkspaceID: e.workspace().ID, Name: name, Channel: ch}
	if err := e.ops.CreateSource(context.Background(), &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestLiveEventsFeed(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	web := e.createSource("Website", opstore.Website)
	pos := e.createSource("Cửa hàng Q1", opstore.POS)
	e.appendEvents(
		event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Page, Name: "Trang chủ", AnonymousID: "anon-1"},
		event.Message{WorkspaceID: ws, SourceID: web.ID, Type: event.Track, Event: "Product Viewed", UserID: "u1",
			Properties: []byte(`{"product_id":"SKU-1","price":250000}`)},
		event.Message{WorkspaceID: ws, SourceID: pos.ID, Type: event.Track, Event: "Order Completed", UserID: "u2",
			Properties: []byte(`{"revenue":990000}`), Context: []byte(`{"ip":"1.2.3.4"}`)},
		event.Message{WorkspaceID: "other-workspace", SourceID: "x", Type: event.Track, Event: "Secret", UserID: "u9"},
	)

	getFeed := func(q string) feed {
		t.Helper()
		r := c.get("/events/feed?" + q)
		expect(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("feed content type %q", ct)
		}
		var f feed
		if err := json.Unmarshal([]byte(r.body), &f); err != nil {
			t.Fatalf("feed JSON: %v\n%s", err, r.body)
		}
		return f
	}
	labels := func(f feed) string {
		var s []string
		for _, ev := range f.Events {
			s = append(s, fmt.Sprint(ev.Seq, ":", ev.Label))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct{ q, want string }{
		{"after=0", "3:Order Completed,2:Product Viewed,1:Trang chủ"},
		{"after=1", "3:Order Completed,2:Product Viewed"},
		{"after=3", ""},
		{"after=0&source=" + pos.ID, "3:Order Completed"},
		{"after=0&type=page", "1:Trang chủ"},
		{"after=0&event=Product+Viewed", "2:Product Viewed"},
		{"after=0&user=u2", "3:Order Completed"},
		{"after=0&user=anon-1", "1:Trang chủ"},
		{"after=1&source=" + web.ID + "&type=track", "2:Product Viewed"},
	} {
		if got := labels(getFeed(tc.q)); got != tc.want {
			t.Errorf("feed?%s = %q, want %q", tc.q, got, tc.want)
		}
	}
	f := getFeed("after=1")
	if f.Last != 3 {
		t.Errorf("last = %d, want 3", f.Last)
	}
	if ev := f.Events[0]; ev.Source != "Cửa hàng Q1" || ev.UserID != "u2" || ev.Type != event.Track ||
		!strings.Contains(string(ev.Message), `"revenue":990000`) || !strings.Contains(f.HTML, "Order Completed") {
		t.Errorf("feed event = %+v\nhtml: %s", ev, f.HTML)
	}
	if f := getFeed("after=3"); f.Last != 3 || len(f.Events) != 0 || f.Events == nil {
		t.Errorf("empty feed = %+v", f)
	}
	expect(t, c.get("/events/feed?after=abc"), http.StatusBadRequest)

	// The page lists them, newest first, with the full message and the names to filter by.
	r := c.get("/events")
	expect(t, r, http.StatusOK, "Order Completed", "Product Viewed", "Trang chủ", `"product_id": "SKU-1"`, `"ip": "1.2.3.4"`,
		`data-after="3"`, `<option value="Order Completed">`, "Asia/Ho_Chi_Minh")
	expectNot(t, r, "Secret")
	if strings.Index(r.body, "Order Completed</span>") > strings.Index(r.body, "Product Viewed</span>") {
		t.Error("events page is not newest first")
	}
	r = c.get("/events?source=" + pos.ID)
	expect(t, r, http.StatusOK, "Order Completed", `data-feed="/events/feed?source=`+pos.ID+`"`)
	expectNot(t, r, "Product Viewed</span>")

	// The feed wants a session.
	anon := e.client()
	if r := anon.get("/events/feed?after=0"); r.status == http.StatusOK {
		t.Error("feed served without a session")
	}
}

func TestLiveEventsPaging(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	src := e.createSource("Website", opstore.Website)
	var msgs []event.Message
	for i := range eventsPageSize + 10 {
		msgs = append(msgs, event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: fmt.Sprintf("Ev%03d", i), UserID: "u"})
	}
	e.appendEvents(msgs...)
	r := c.get("/events")
	expect(t, r, http.StatusOK, "Ev059", "Ev010", i18n.T("vi", "events.older"))
	expectNot(t, r, "Ev009<")
	m := regexp.MustCompile(`href="(/events\?before=\d+)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no load-older link")
	}
	r = c.get(html.UnescapeString(m[1]))
	expect(t, r, http.StatusOK, "Ev009", "Ev000", i18n.T("vi", "events.newest"))
	expectNot(t, r, "Ev010<", "data-feed=")
}

func TestRejectedPage(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	src := e.createSource("Website", opstore.Website)
	var rs []opstore.Rejected
	for i := range 60 {
		code, field := "missing_identity", "userId"
		if i%2 == 1 {
			code, field = "invalid_timestamp", "timestamp"
		}
		rs = append(rs, opstore.Rejected{WorkspaceID: ws, SourceID: src.ID, ReceivedAt: time.Now(), Origin: "POST /v1/batch",
			Index: i % 7, Code: code, Field: field, Reason: "reason " + code, Payload: fmt.Sprintf(`{"event":"Bad %02d"}`, i)})
	}
	if err := e.ops.AddRejected(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	r := c.get("/rejected")
	expect(t, r, http.StatusOK, "missing_identity", "invalid_timestamp", "userId", "POST /v1/batch", "Website",
		i18n.T("vi", "rejected.index", 59%7), i18n.N("vi", "rejected.total", 60),
		i18n.T("vi", "reason.missing_identity"), `{"event":"Bad 59"}`, "reason invalid_timestamp", i18n.T("vi", "events.older"))
	expectNot(t, r, `Bad 00"`)
	r = c.get("/rejected?code=missing_identity")
	expect(t, r, http.StatusOK, `Bad 58"`)
	expectNot(t, r, `Bad 59"`)
	m := regexp.MustCompile(`href="(/rejected\?[^"]*before=\d+[^"]*)"`).FindStringSubmatch(c.get("/rejected").body)
	if m == nil {
		t.Fatal("no older link")
	}
	r = c.get(html.UnescapeString(m[1]))
	expect(t, r, http.StatusOK, `Bad 00"`, `Bad 09"`)
	expectNot(t, r, `Bad 10"`)
	expect(t, c.get("/rejected?source=nope"), http.StatusOK, i18n.T("vi", "rejected.none_filtered"))

	// The overview counts them.
	expect(t, c.get("/"), http.StatusOK, `<span class="stat-value">60</span>`)
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	r := c.get("/")
	expect(t, r, http.StatusOK, `<html lang="vi">`, "Sự kiện trực tiếp", "Nguồn dữ liệu", "Người dùng và vai trò", "Đăng xuất")
	r = c.post("/lang", url.Values{"lang": {"en"}, "next": {"/sources"}})
	if r.status != http.StatusSeeOther || r.loc != "/sources" {
		t.Fatalf("switch: %d to %q", r.status, r.loc)
	}
	r = c.get("/")
	expect(t, r, http.StatusOK, `<html lang="en">`, "Live events", "Sources", "Users and roles", "Log out")
	expectNot(t, r, "Sự kiện trực tiếp", "Đăng xuất")

	// The choice is the user's: a new browser gets it after login.
	c2 := e.login("mai@example.vn", ownerPassword)
	expect(t, c2.get("/"), http.StatusOK, "Live events")

	// Before login, the browser's language decides.
	anon := e.client()
	anon.lang = "en-US,en;q=0.9"
	expect(t, anon.get("/login"), http.StatusOK, `<html lang="en">`, "Log in")
	anon.lang = "fr-FR,fr;q=0.9"
	expect(t, anon.get("/login"), http.StatusOK, `<html lang="vi">`, "Đăng nhập")
	anon.get("/login")
	expect(t, anon.post("/lang", url.Values{"lang": {"en"}, "next": {"/login"}}), http.StatusSeeOther)
	expect(t, anon.get("/login"), http.StatusOK, "Log in")
	expect(t, anon.post("/lang", url.Values{"lang": {"xx"}}), http.StatusNotFound)
}

func TestUsersAndRoles(t *testing.T) {
	e := newEnv(t)
	owner := e.setup()
	ctx := context.Background()
	ws := e.workspace().ID

	r := owner.get("/settings/users")
	expect(t, r, http.StatusOK, "Nguyễn Thị Mai", "mai@example.vn", i18n.T("vi", "users.you"))

	// A new e-mail needs a name and a password.
	r = owner.post("/settings/users", url.Values{"email": {"hoa@example.vn"}, "role": {"editor"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.required"), `value="hoa@example.vn"`)
	r = owner.post("/settings/users", url.Values{"email": {"hoa@example.vn"}, "role": {"king"}, "name": {"Hoa"}, "password": {"12345678"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.role"))
	r = owner.post("/settings/users", url.Values{"email": {"hoa@example.vn"}, "role": {"editor"}, "name": {"Phạm Hoa"}, "password": {"12345678"}})
	expect(t, r, http.StatusSeeOther)
	expect(t, owner.get("/settings/users"), http.StatusOK, "Phạm Hoa", "hoa@example.vn", i18n.T("vi", "flash.member_added"))
	hoa, err := e.ops.UserByEmail(ctx, "hoa@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	r = owner.post("/settings/users", url.Values{"email": {"hoa@example.vn"}, "role": {"viewer"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.already_member"))

	// An existing user of another workspace is added without a password.
	other := opstore.Workspace{Name: "Chi nhánh"}
	if err := e.ops.CreateWorkspace(ctx, &other); err != nil {
		t.Fatal(err)
	}
	lan := opstore.User{Email: "lan@example.vn", Name: "Lan", PasswordHash: "x"}
	if err := e.ops.CreateUser(ctx, &lan); err != nil {
		t.Fatal(err)
	}
	if err := e.ops.SetMember(ctx, other.ID, lan.ID, opstore.Owner); err != nil {
		t.Fatal(err)
	}
	owner.get("/settings/users")
	expect(t, owner.post("/settings/users", url.Values{"email": {"Lan@example.vn"}, "role": {"viewer"}}), http.StatusSeeOther)
	if ms, _ := e.ops.Members(ctx, ws); len(ms) != 3 {
		t.Fatalf("%d members, want 3", len(ms))
	}

	// Change a role.
	expect(t, owner.post("/settings/users/"+hoa.ID+"/role", url.Values{"role": {"owner"}}), http.StatusSeeOther)
	role := func(id string) opstore.Role {
		ms, _ := e.ops.Members(ctx, ws)
		for _, m := range ms {
			if m.User.ID == id {
				return m.Role
			}
		}
		return ""
	}
	if got := role(hoa.ID); got != opstore.Owner {
		t.Fatalf("Hoa's role = %q", got)
	}

	// Two owners: one may step down, then the last one may not.
	mai, _ := e.ops.UserByEmail(ctx, "mai@example.vn")
	expect(t, owner.post("/settings/users/"+hoa.ID+"/role", url.Values{"role": {"editor"}}), http.StatusSeeOther)
	r = owner.post("/settings/users/"+mai.ID+"/role", url.Values{"role": {"viewer"}})
	expect(t, r, http.StatusConflict, i18n.T("vi", "err.last_owner"))
	r = owner.post("/settings/users/"+mai.ID+"/remove", nil)
	expect(t, r, http.StatusConflict, i18n.T("vi", "err.last_owner"))
	if role(mai.ID) != opstore.Owner {
		t.Fatal("the last owner lost the role")
	}

	// Remove a member; unknown members are 404.
	expect(t, owner.post("/settings/users/"+lan.ID+"/remove", nil), http.StatusSeeOther)
	if role(lan.ID) != "" {
		t.Error("Lan is still a member")
	}
	if ms, _ := e.ops.Memberships(ctx, lan.ID); len(ms) != 1 {
		t.Errorf("Lan's other membership was touched: %+v", ms)
	}
	expect(t, owner.post("/settings/users/nobody/remove", nil), http.StatusNotFound)
	expect(t, owner.post("/settings/users/"+lan.ID+"/role", url.Values{"role": {"editor"}}), http.StatusNotFound)
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	c.get("/settings/api-keys")
	expect(t, c.post("/settings/api-keys", url.Values{"name": {""}, "role": {"viewer"}}), http.StatusUnprocessableEntity, i18n.T("vi", "err.required"))
	r := c.post("/settings/api-keys", url.Values{"name": {"Đồng bộ CRM"}, "role": {"editor"}})
	expect(t, r, http.StatusOK, i18n.T("vi", "apikeys.created"))
	key := regexp.MustCompile(`cjm_sk_[a-z2-7]{40}`).FindString(r.body)
	if key == "" {
		t.Fatalf("no key shown:\n%s", clip(r.body))
	}
	keys, err := e.ops.APIKeys(context.Background(), e.workspace().ID)
	if err != nil || len(keys) != 1 || keys[0].Role != opstore.Editor || !strings.HasPrefix(key, keys[0].Prefix) {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	if _, err := e.ops.APIKeyByHash(context.Background(), keys[0].Hash); err != nil {
		t.Fatal(err)
	}
	// Shown once: the list has the prefix only.
	r = c.get("/settings/api-keys")
	expect(t, r, http.StatusOK, "Đồng bộ CRM", keys[0].Prefix, i18n.T("vi", "apikeys.never"))
	expectNot(t, r, key)
	expect(t, c.post("/settings/api-keys/"+keys[0].ID+"/delete", nil), http.StatusSeeOther)
	if keys, _ := e.ops.APIKeys(context.Background(), e.workspace().ID); len(keys) != 0 {
		t.Errorf("keys after delete: %+v", keys)
	}
}

func TestWorkspaces(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ctx := context.Background()
	c.get("/settings/workspace")
	r := c.post("/settings/workspace", url.Values{"ws_name": {"Hoa Mai"}, "timezone": {"Asia/Nowhere"}, "currency": {"dong"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.timezone"), i18n.T("vi", "err.currency"), `value="Asia/Nowhere"`)
	expect(t, c.post("/settings/workspace", url.Values{"ws_name": {"Hoa Mai Group"}, "timezone": {"Asia/Bangkok"}, "currency": {"thb"}}), http.StatusSeeOther)
	if ws := e.workspace(); ws.Name != "Hoa Mai Group" || ws.TimeZone != "Asia/Bangkok" || ws.Currency != "THB" {
		t.Errorf("workspace = %+v", ws)
	}

	// An owner creates a second workspace and lands in it; the switcher goes back.
	c.get("/workspaces/new")
	expect(t, c.post("/workspaces", url.Values{"ws_name": {"Chi nhánh Hà Nội"}, "timezone": {"Asia/Ho_Chi_Minh"}, "currency": {"VND"}}), http.StatusSeeOther)
	r = c.get("/")
	expect(t, r, http.StatusOK, "Chi nhánh Hà Nội", "Hoa Mai Group")
	wss, _ := e.ops.Workspaces(ctx)
	var first string
	for _, w := range wss {
		if w.Name == "Hoa Mai Group" {
			first = w.ID
		}
	}
	r = c.post("/workspace", url.Values{"workspace": {first}, "next": {"/sources/src_x?y=1"}})
	if r.status != http.StatusSeeOther || r.loc != "/sources" {
		t.Fatalf("switch: %d to %q", r.status, r.loc)
	}
	expect(t, c.get("/settings/workspace"), http.StatusOK, `value="Hoa Mai Group"`)

	// Not a member: refused.
	stranger := opstore.Workspace{Name: "Người lạ"}
	if err := e.ops.CreateWorkspace(ctx, &stranger); err != nil {
		t.Fatal(err)
	}
	expect(t, c.post("/workspace", url.Values{"workspace": {stranger.ID}}), http.StatusForbidden)

	// A viewer may not create workspaces.
	viewer := e.addMember(c, "Xem", "xem@example.vn", opstore.Viewer)
	expect(t, viewer.get("/workspaces/new"), http.StatusForbidden)
}

func TestOverview(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	r := c.get("/")
	expect(t, r, http.StatusOK, i18n.T("vi", "overview.checklist"), i18n.T("vi", "overview.check_source.title"),
		"<svg", `role="img"`, i18n.T("vi", "overview.chart_table"), i18n.T("vi", "overview.no_events"),
		"1.234", "1.300", "1.290", i18n.T("vi", "overview.ingest_behind", "10"))

	ws := e.workspace().ID
	src := e.createSource("Website", opstore.Website)
	now := time.Now().UTC()
	e.appendEvents(
		event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "A", UserID: "u", Timestamp: now.Add(-time.Minute)},
		event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "B", UserID: "u", Timestamp: now.Add(-3 * 24 * time.Hour)},
		event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "C", UserID: "u", Timestamp: now.Add(-30 * 24 * time.Hour)},
	)
	r = c.get("/")
	// Today 1, 7 days 2, total 3, one source; two steps of three done.
	expect(t, r, http.StatusOK, i18n.N("vi", "overview.checklist_progress", 3, 2, 3))
	for _, want := range []string{"1", "2", "3", "1"} {
		if !strings.Contains(r.body, `<span class="stat-value">`+want+`</span>`) {
			t.Errorf("overview lacks the figure %s", want)
		}
	}
	if n := strings.Count(r.body, `<g class="chart-bar`); n != chartDays {
		t.Errorf("%d bars, want %d", n, chartDays)
	}
	// Once everything is done the checklist goes away.
	e.addMember(c, "Hoa", "hoa@example.vn", opstore.Editor)
	expectNot(t, c.get("/"), i18n.T("vi", "overview.checklist"))
}

func TestUpcomingSections(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	for _, sec := range upcoming {
		r := c.get("/" + sec.Path)
		expect(t, r, http.StatusOK, i18n.T("vi", sec.Title), i18n.T("vi", "upcoming.not_yet"), i18n.T("vi", sec.Features[0]),
			`aria-current="page"`)
	}
	expect(t, c.get("/analytics"), http.StatusOK, "Phễu chuyển đổi")
}

func TestAccount(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	other := e.login("mai@example.vn", ownerPassword) // the same person on another device
	c.get("/account")
	r := c.post("/account", url.Values{"name": {"Mai"}, "current_password": {"wrong"}, "new_password": {"new password 1"}, "new_password2": {"new password 1"}})
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.current_password"))
	expect(t, c.post("/account", url.Values{"name": {"Mai"}, "current_password": {ownerPassword}, "new_password": {"new password 1"}, "new_password2": {"new password 1"}}), http.StatusSeeOther)
	e.login("mai@example.vn", "new password 1")
	expect(t, c.get("/"), http.StatusOK, ">Mai<")
	// The new password logged the other device out; this one stays in.
	if r := other.get("/"); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "/login") {
		t.Errorf("other session after a password change: %d %s", r.status, r.header.Get("Location"))
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.get("/setup")
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	m := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	r = c.get(m[1])
	expect(t, r, http.StatusOK, "--brand")
	if !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("static cache control = %q", r.header.Get("Cache-Control"))
	}
	expect(t, c.get("/static/app.js"), http.StatusOK, "data-feed")
}

// Every page renders in every language without a missing catalog key.
func TestNoMissingKeys(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	src := e.createSource("Website", opstore.Website)
	keyRE := regexp.MustCompile(`\b(?:nav|err|flash|field|common|layout|overview|events|sources|source|rejected|reason|users|apikeys|workspace|setup|login|account|role|channel|upcoming|error|fmt|lang)\.[a-z0-9_.]+[a-z0-9]\b`)
	for _, lang := range i18n.Langs {
		c.get("/")
		c.post("/lang", url.Values{"lang": {lang}})
		for _, p := range []string{"/", "/events", "/sources", "/sources/" + src.ID, "/rejected", "/settings/users", "/settings/api-keys",
			"/settings/workspace", "/workspaces/new", "/account", "/journeys", "/analytics", "/customers", "/automation", "/surveys", "/nope"} {
			r := c.get(p)
			text := regexp.MustCompile(`(?s)<pre.*?</pre>|<script.*?</script>|(href|src|action|id|for|class|aria-[a-z]+|name|value|list|data-[a-z-]+)="[^"]*"`).ReplaceAllString(r.body, "")
			if k := keyRE.FindString(text); k != "" {
				t.Errorf("%s %s shows the raw key %q", lang, p, k)
			}
		}
	}
}

func TestDynamicKeysInCatalog(t *testing.T) {
	var keys []string
	for _, c := range opstore.Channels {
		keys = append(keys, "channel."+string(c))
	}
	for _, r := range opstore.Roles {
		keys = append(keys, "role."+string(r), "role."+string(r)+"_text")
	}
	for _, c := range rejectCodes {
		keys = append(keys, "reason."+c)
	}
	for _, l := range i18n.Langs {
		keys = append(keys, "lang."+l)
	}
	for _, s := range upcoming {
		keys = append(keys, s.Title, s.Intro, "nav."+s.Path)
		keys = append(keys, s.Features...)
	}
	for _, g := range navigation("") {
		if g.Key != "" {
			keys = append(keys, g.Key)
		}
		for _, it := range g.Items {
			keys = append(keys, it.Key)
		}
	}
	for _, k := range []string{"overview.check_source", "overview.check_event", "overview.check_team"} {
		keys = append(keys, k+".title", k+".text")
	}
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("catalog lacks %q", k)
		}
	}
}

func TestConcurrentSetup(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client()
			c.get("/setup")
			pw := "password-123"
			c.post("/setup", url.Values{"name": {"N"}, "email": {fmt.Sprintf("u%d@example.vn", i)}, "password": {pw}, "password2": {pw},
				"ws_name": {"W"}, "timezone": {"UTC"}, "currency": {"USD"}})
		}()
	}
	wg.Wait()
	if n, _ := e.ops.UserCount(context.Background()); n != 1 {
		t.Errorf("%d users after concurrent setups, want 1", n)
	}
	if wss, _ := e.ops.Workspaces(context.Background()); len(wss) != 1 {
		t.Errorf("%d workspaces after concurrent setups, want 1", len(wss))
	}
}

// inOrder checks that each of names appears in s, in that order.
func inOrder(t *testing.T, what, s string, names ...string) {
	t.Helper()
	s = html.UnescapeString(s)
	at := 0
	for _, n := range names {
		i := strings.Index(s[at:], n)
		if i < 0 {
			t.Errorf("%s: %q is missing or out of order (want %q)", what, n, names)
			return
		}
		at += i + len(n)
	}
}

// Counts use the plural form of the language: English says "1 event" and
// "2 events"; Vietnamese has one form.
func TestCountTexts(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	one := e.createSource("Một", opstore.Website)
	two := e.createSource("Hai", opstore.App)
	e.appendEvents(
		event.Message{WorkspaceID: ws, SourceID: one.ID, Type: event.Track, Event: "A", UserID: "u"},
		event.Message{WorkspaceID: ws, SourceID: two.ID, Type: event.Track, Event: "B", UserID: "u"},
		event.Message{WorkspaceID: ws, SourceID: two.ID, Type: event.Track, Event: "C", UserID: "u"},
	)
	if err := e.ops.AddRejected(context.Background(), []opstore.Rejected{{WorkspaceID: ws, SourceID: one.ID, ReceivedAt: time.Now(),
		Origin: "POST /v1/track", Index: -1, Code: "missing_event", Field: "event", Reason: "r", Payload: "{}"}}); err != nil {
		t.Fatal(err)
	}
	c.get("/")
	c.post("/lang", url.Values{"lang": {"en"}})

	r := c.get("/sources/" + one.ID)
	expect(t, r, http.StatusOK, "· 1 event ·")
	expectNot(t, r, "1 events")
	expect(t, c.get("/sources/"+two.ID), http.StatusOK, "· 2 events ·")
	r = c.get("/rejected")
	expect(t, r, http.StatusOK, "1 rejected event in all")
	expectNot(t, r, "1 rejected events")
	// The busiest day of the chart had 2 events (today); the checklist has 3 steps.
	expect(t, c.get("/"), http.StatusOK, "the busiest day had 3 events.", "2 of 3 steps done")

	c.post("/lang", url.Values{"lang": {"vi"}})
	expect(t, c.get("/sources/"+one.ID), http.StatusOK, "· 1 sự kiện ·")
	expect(t, c.get("/rejected"), http.StatusOK, "Tổng cộng 1 sự kiện bị từ chối")

	// The template function takes every integer type the pages count with.
	tn := funcs("en")["tn"].(func(string, any, ...any) (string, error))
	for _, n := range []any{1, int64(1), uint64(1), int32(1)} {
		if s, err := tn("source.events_count", n); err != nil || s != "1 event" {
			t.Errorf("tn(%T 1) = %q, %v", n, s, err)
		}
	}
	if s, err := tn("source.events_count", 1234); err != nil || s != "1,234 events" {
		t.Errorf("tn(1234) = %q, %v", s, err)
	}
	if _, err := tn("source.events_count", "1"); err == nil {
		t.Error("tn took a string for a count")
	}
}

func TestRejectedOrigin(t *testing.T) {
	for _, tc := range []struct {
		lang, origin string
		index        int
		want         string
		wantIndex    int
	}{
		{"en", "POST /v1/track", -1, "POST /v1/track", -1},
		{"en", "POST /v1/batch", 3, "POST /v1/batch", 3},
		{"en", "POST /v1/b", 0, "POST /v1/b", 0},
		// Written before the method was named: a single message said index 0.
		{"en", "http:/v1/track", 0, "POST /v1/track", -1},
		{"en", "http:/v1/t", 0, "POST /v1/t", -1},
		{"en", "http:/v1/batch", 4, "POST /v1/batch", 4},
		{"en", "import:orders.jsonl:12", -1, "file orders.jsonl, line 12", -1},
		{"vi", "import:orders.jsonl:12", -1, "tệp orders.jsonl, dòng 12", -1},
		{"en", "import:C:/data/đơn hàng.csv:7", -1, "file C:/data/đơn hàng.csv, line 7", -1},
		{"en", "import:odd", -1, "file odd", -1},
		{"vi", "demo", 5, "dữ liệu mẫu", 5},
		{"en", "something else", -1, "something else", -1},
	} {
		got, idx := origin(tc.lang, tc.origin, tc.index)
		if got != tc.want || idx != tc.wantIndex {
			t.Errorf("origin(%s, %q, %d) = %q, %d; want %q, %d", tc.lang, tc.origin, tc.index, got, idx, tc.want, tc.wantIndex)
		}
	}

	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	src := e.createSource("Website", opstore.Website)
	at := time.Now()
	var rs []opstore.Rejected
	for i, o := range []struct {
		origin string
		index  int
	}{{"POST /v1/track", -1}, {"POST /v1/batch", 3}, {"import:orders.jsonl:12", -1}, {"http:/v1/identify", 0}} {
		rs = append(rs, opstore.Rejected{WorkspaceID: ws, SourceID: src.ID, ReceivedAt: at.Add(time.Duration(i) * time.Second),
			Origin: o.origin, Index: o.index, Code: "missing_identity", Field: "userId", Reason: "r", Payload: fmt.Sprintf(`{"n":%d}`, i)})
	}
	if err := e.ops.AddRejected(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	origins := regexp.MustCompile(`(?s)<span class="cell-origin">(.*?)</span>\s*</summary>`)
	for _, lang := range []string{"en", "vi"} {
		c.get("/")
		c.post("/lang", url.Values{"lang": {lang}})
		r := c.get("/rejected")
		expect(t, r, http.StatusOK)
		var cells []string
		for _, m := range origins.FindAllStringSubmatch(r.body, -1) {
			cells = append(cells, html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "|")))
		}
		// Newest first; only the batch message has a position.
		want := []string{
			"|POST /v1/identify|",
			"|" + i18n.T(lang, "rejected.origin_import", "orders.jsonl", 12) + "|",
			"|POST /v1/batch||" + i18n.T(lang, "rejected.index", 3) + "|",
			"|POST /v1/track|",
		}
		if strings.Join(cells, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: came-from cells\n%s\nwant\n%s", lang, strings.Join(cells, "\n"), strings.Join(want, "\n"))
		}
		if n := strings.Count(r.body, i18n.T(lang, "rejected.batch_index")); n != 1 {
			t.Errorf("%s: %d rows give a position in a batch, want 1", lang, n)
		}
	}
}

// The live list is in arrival order; a row shows the event time, and the
// receive time under it when the two are more than a minute apart.
func TestLiveEventsReceivedTime(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	src := e.createSource("Website", opstore.Website)
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	now := time.Now().UTC().Truncate(time.Second)
	happened := now.Add(-72 * time.Hour)
	msgs := []event.Message{
		{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "Imported", UserID: "u", Timestamp: happened, ReceivedAt: now},
		{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "Prompt", UserID: "u", Timestamp: now.Add(-30 * time.Second), ReceivedAt: now},
	}
	for i := range msgs {
		msgs[i].Seq, msgs[i].MessageID = uint64(i+1), fmt.Sprint("r", i)
	}
	if err := e.events.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"vi", "en"} {
		c.get("/")
		c.post("/lang", url.Values{"lang": {lang}})
		r := c.get("/events")
		received := i18n.T(lang, "events.received", when(lang, loc, now))
		expect(t, r, http.StatusOK, i18n.T(lang, "events.intro"), i18n.T(lang, "events.col_event_time"), when(lang, loc, happened), received)
		if n := strings.Count(html.UnescapeString(r.body), received); n != 1 {
			t.Errorf("%s: the receive time is shown %d times, want once (only for the imported event)", lang, n)
		}
		inOrder(t, lang+" events", r.body, "Prompt", when(lang, loc, happened), received, "Imported")
	}
	var f feed
	if err := json.Unmarshal([]byte(c.get("/events/feed?after=0").body), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Events) != 2 || f.Events[1].Received == "" || f.Events[0].Received != "" || !f.Events[1].ReceivedAt.Equal(now) {
		t.Errorf("feed rows: %+v", f.Events)
	}
	if !strings.Contains(f.HTML, `class="received"`) {
		t.Error("the feed's rows lack the receive time")
	}
}

// The events filters fold behind a toggle, open when a filter is set.
func TestEventFiltersToggle(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	r := c.get("/events")
	expect(t, r, http.StatusOK, `<details class="card filter-box" data-filter-box>`, i18n.T("vi", "events.filters_toggle"))
	r = c.get("/events?type=track&user=u1")
	expect(t, r, http.StatusOK, `<details class="card filter-box" data-filter-box open>`, i18n.N("vi", "events.filters_set", 2))
	c.post("/lang", url.Values{"lang": {"en"}})
	expect(t, c.get("/events?type=track"), http.StatusOK, "1 filter set")
}

func TestSortByName(t *testing.T) {
	names := []string{"Zalo OA", "Ứng dụng Mây", "Website", "Đại lý Đà Nẵng", "Cửa hàng 10", "Cửa hàng 2", "an giang", "Uyên", "Dược", "cửa hàng 2", "Ăn vặt", "Âu", "Ba"}
	sortByName(names, func(s string) string { return s })
	want := []string{"an giang", "Ăn vặt", "Âu", "Ba", "cửa hàng 2", "Cửa hàng 2", "Cửa hàng 10", "Dược", "Đại lý Đà Nẵng", "Uyên", "Ứng dụng Mây", "Website", "Zalo OA"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("sorted\n%q\nwant\n%q", names, want)
	}
}

// Names are listed in Vietnamese order, not by code point: "Ứng dụng Mây"
// comes before "Zalo OA", "Đà Lạt" right after the D's.
func TestNamesInVietnameseOrder(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ctx := context.Background()
	for _, n := range []string{"Zalo OA", "Ứng dụng Mây", "Website", "Đại lý", "Cửa hàng 10", "Cửa hàng 2"} {
		e.createSource(n, opstore.Website)
	}
	sourceOrder := []string{"Cửa hàng 2", "Cửa hàng 10", "Đại lý", "Ứng dụng Mây", "Website", "Zalo OA"}
	inOrder(t, "sources page", c.get("/sources").body, sourceOrder...)
	for _, p := range []string{"/events", "/rejected"} {
		body := c.get(p).body
		body = body[strings.Index(body, `id="f-source"`):]
		inOrder(t, p+" source filter", body, sourceOrder...)
	}

	// Workspaces in the switcher.
	mai, err := e.ops.UserByEmail(ctx, "mai@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Zalo Shop", "Ứng Hòa", "Đà Lạt", "Bến Tre"} {
		w := opstore.Workspace{Name: n, TimeZone: "Asia/Ho_Chi_Minh", Currency: "VND"}
		if err := e.ops.CreateWorkspace(ctx, &w); err != nil {
			t.Fatal(err)
		}
		if err := e.ops.SetMember(ctx, w.ID, mai.ID, opstore.Owner); err != nil {
			t.Fatal(err)
		}
	}
	body := c.get("/").body
	sel := body[strings.Index(body, `name="workspace"`):]
	sel = sel[:strings.Index(sel, "</select>")]
	inOrder(t, "workspace switcher", sel, "Bến Tre", "Cửa hàng Hoa Mai", "Đà Lạt", "Ứng Hòa", "Zalo Shop")

	// Members.
	for _, n := range []string{"Vũ Thị Lan", "Ưng Hoàng", "Đặng Văn Bình", "Bùi An"} {
		e.addMember(c, n, strings.ReplaceAll(strings.ToLower(n), " ", ".")+"@example.vn", opstore.Viewer)
	}
	inOrder(t, "members", c.get("/settings/users").body, "Bùi An", "Đặng Văn Bình", "Nguyễn Thị Mai", "Ưng Hoàng", "Vũ Thị Lan")
}

// The only owner cannot be demoted or removed: the server refuses with a
// clear message, and the page disables those controls and says why.
func TestLastOwnerControls(t *testing.T) {
	e := newEnv(t)
	owner := e.setup()
	ctx := context.Background()
	mai, _ := e.ops.UserByEmail(ctx, "mai@example.vn")
	e.addMember(owner, "Phạm Hoa", "hoa@example.vn", opstore.Editor)
	hoa, _ := e.ops.UserByEmail(ctx, "hoa@example.vn")

	r := owner.get("/settings/users")
	expect(t, r, http.StatusOK, i18n.T("vi", "users.last_owner"),
		`<select id="role-`+mai.ID+`" name="role" disabled`, `<select id="role-`+hoa.ID+`" name="role">`,
		`action="/settings/users/`+hoa.ID+`/remove"`)
	expectNot(t, r, `action="/settings/users/`+mai.ID+`/remove"`)
	if n := strings.Count(r.body, ` disabled `); n != 3 {
		t.Errorf("%d disabled controls, want 3 (role, change, remove of the owner)", n)
	}

	// The server refuses all the same, in the user's language.
	owner.post("/lang", url.Values{"lang": {"en"}})
	owner.get("/settings/users")
	r = owner.post("/settings/users/"+mai.ID+"/role", url.Values{"role": {"editor"}})
	expect(t, r, http.StatusConflict, "The last owner cannot be removed or given another role. Make someone else an owner first.")
	expect(t, owner.post("/settings/users/"+mai.ID+"/remove", nil), http.StatusConflict, i18n.T("en", "err.last_owner"))
	// Staying an owner is not a change of role.
	expect(t, owner.post("/settings/users/"+mai.ID+"/role", url.Values{"role": {"owner"}}), http.StatusSeeOther)

	// With a second owner, both may be changed.
	expect(t, owner.post("/settings/users/"+hoa.ID+"/role", url.Values{"role": {"owner"}}), http.StatusSeeOther)
	r = owner.get("/settings/users")
	expectNot(t, r, i18n.T("en", "users.last_owner"), " disabled ")
	expect(t, r, http.StatusOK, `action="/settings/users/`+mai.ID+`/remove"`)

	// Two owners demoting each other at once: one of them stays owner.
	hoaC := e.login("hoa@example.vn", "password-Phạm Hoa")
	hoaC.get("/settings/users")
	var wg sync.WaitGroup
	for _, x := range []struct {
		c  *client
		id string
	}{{owner, hoa.ID}, {hoaC, mai.ID}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/settings/users/"+x.id+"/role",
				strings.NewReader(url.Values{"role": {"viewer"}, "csrf": {x.c.csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := x.c.c.Do(req)
			if err == nil {
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	ms, _ := e.ops.Members(ctx, e.workspace().ID)
	owners := 0
	for _, m := range ms {
		if m.Role == opstore.Owner {
			owners++
		}
	}
	if owners != 1 {
		t.Errorf("%d owners after two owners demoted each other at once, want 1", owners)
	}
}

// wrongToken is tok with its first character changed (to another one, even
// when the token happens to start with x).
func wrongToken(tok string) string {
	if tok[0] == 'x' {
		return "y" + tok[1:]
	}
	return "x" + tok[1:]
}
