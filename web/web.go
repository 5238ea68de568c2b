// Package web is cjm's server-rendered user interface: setup, login, the
// overview, live events, sources, rejected events, file import and export,
// and settings, in Vietnamese and English. Templates and assets are
// embedded; the UI needs no build step and no external resources.
package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // workspace time zones must load on machines without tzdata

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/privacy"
	"github.com/cjmhq/cjm/profile"
)

//go:embed templates static
var files embed.FS

// Config is what the UI needs.
type Config struct {
	Ops    opstore.Store
	Events eventstore.Store
	Stats  func() ingest.Stats // may be nil
	// Pipeline ingests the files imported on the Import & export page; nil
	// turns file import off (export still works).
	Pipeline *ingest.Pipeline
	// ImportDir is where uploaded files and the rejected lines of imports
	// are kept while the server runs, in its subdirectory "imports", which
	// is emptied on the first upload after a start. Default: a new directory
	// under os.TempDir().
	ImportDir string
	Logger    *slog.Logger
	// SecureCookies adds Secure to every cookie (set when served behind
	// https). Without it, cookies still get Secure on requests that came
	// over TLS or carry "X-Forwarded-Proto: https".
	SecureCookies bool
	// Profiles and Privacy serve the customers, review and privacy pages;
	// nil leaves those pages out.
	Profiles *profile.Service
	Privacy  *privacy.Service
	// Analytics serves the analyses (funnels, ...) from the in-memory
	// index of each workspace's events; nil leaves them out (the analytics
	// home page stays, saying so).
	Analytics *analytics.Indexes
}

// Session lifetime and cookie names.
const (
	sessionTTL    = 30 * 24 * time.Hour
	sessionCookie = "cjm_session"
	csrfCookie    = "cjm_csrf" // the CSRF token of forms shown before login
	langCookie    = "lang"
	flashCookie   = "cjm_flash"
	maxFormBytes  = 1 << 20
)

type server struct {
	ops    opstore.Store
	events eventstore.Store
	stats  func() ingest.Stats
	log    *slog.Logger
	secure bool

	pipeline  *ingest.Pipeline
	analytics *analytics.Indexes // nil: no analyses
	imports   *importJobs
	maxUpload int64 // the largest file an import takes, in bytes

	// Background work (imports) runs under bg and is waited for by Close.
	bg       context.Context
	bgCancel context.CancelFunc
	bgWait   sync.WaitGroup

	mux      *http.ServeMux
	pages    map[string]map[string]*template.Template // lang -> page -> template
	assetVer string
	cop      *http.CrossOriginProtection
	now      func() time.Time
	throttle *throttle

	setupDone atomic.Bool
	setupMu   sync.Mutex
	// membersMu serialises role changes and removals, which check that a
	// workspace keeps an owner before they write.
	membersMu sync.Mutex
	// dummyHash is checked against when a login names an unknown e-mail, so
	// that answer takes as long as a wrong password.
	dummyHash string
}

// UI is the web interface: the handler of every UI path, meant to be
// mounted at "/" (it uses no path under /v1/ or /api/), and the background
// work it starts (file imports), which Close stops.
type UI struct{ s *server }

// New returns the web interface.
func New(cfg Config) (*UI, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	return &UI{s}, nil
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.s.ServeHTTP(w, r) }

// Close stops running imports (what they stored stays stored; importing
// the file again skips it as duplicates) and waits for them, until ctx ends.
func (u *UI) Close(ctx context.Context) error {
	u.s.bgCancel()
	done := make(chan struct{})
	go func() { u.s.bgWait.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newServer(cfg Config) (*server, error) {
	if cfg.Ops == nil || cfg.Events == nil {
		return nil, errors.New("web: Config.Ops and Config.Events are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dummy, err := auth.HashPassword(auth.NewToken())
	if err != nil {
		return nil, err
	}
	s := &server{
		ops: cfg.Ops, events: cfg.Events, stats: cfg.Stats, log: cfg.Logger, secure: cfg.SecureCookies,
		mux: http.NewServeMux(), cop: http.NewCrossOriginProtection(), now: time.Now,
		throttle: newThrottle(), dummyHash: dummy,
		pipeline: cfg.Pipeline, imports: newImportJobs(cfg.ImportDir), maxUpload: defaultMaxUpload,
	}
	s.bg, s.bgCancel = context.WithCancel(context.Background())
	if s.assetVer, err = assetVersion(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	var slots func(*req, identity.ProfileID) (*profilePrivacy, error)
	if cfg.Privacy != nil {
		slots = s.privacyRoutes(cfg.Privacy).profileSlots
	}
	if cfg.Profiles != nil {
		s.customerRoutes(cfg.Profiles, slots)
	}
	s.route("GET /analytics", member, "", s.analyticsHome)
	if cfg.Analytics != nil {
		s.analyticsRoutes(cfg.Analytics)
		s.pathRoutes(cfg.Analytics)
		s.retentionRoutes(cfg.Analytics)
		s.kpiRoutes(cfg.Analytics)
		s.insightRoutes(cfg.Analytics)
	}
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// access says who may reach a route.
type access int

const (
	public  access = iota // no session needed (login, setup, language)
	member                // logged in, with a workspace
	account               // logged in, with or without a workspace
)

// route registers h for pattern. GET pages are open to every member (viewers
// read everything); a POST needs the role need.
func (s *server) route(pattern string, acc access, need opstore.Role, h func(*req) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, acc, need, false, h)
	})
}

// uploadRoute registers h for a form of members that carries a file
// (multipart/form-data). Its text fields before the file, the CSRF token
// first, are read and checked as any form's; the file is left for h to
// stream from q.file, so a large file is never held in memory.
func (s *server) uploadRoute(pattern string, need opstore.Role, h func(*req) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, member, need, true, h)
	})
}

func (s *server) routes() {
	static, _ := fs.Sub(files, "static")
	fileServer := http.FileServerFS(static)
	s.mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		http.StripPrefix("/static", fileServer).ServeHTTP(w, r)
	})

	s.route("GET /setup", public, "", s.setupPage)
	s.route("POST /setup", public, "", s.setupSubmit)
	s.route("GET /login", public, "", s.loginPage)
	s.route("POST /login", public, "", s.loginSubmit)
	s.route("POST /logout", public, "", s.logout)
	s.route("POST /lang", public, "", s.setLang)

	s.route("GET /{$}", member, "", s.overview)
	s.route("GET /events", member, "", s.eventsPage)
	s.route("GET /events/feed", member, "", s.eventsFeed)
	s.route("GET /sources", member, "", s.sourcesPage)
	s.route("POST /sources", member, opstore.Editor, s.createSource)
	s.route("GET /sources/{id}", member, "", s.sourcePage)
	s.route("POST /sources/{id}/rotate", member, opstore.Editor, s.rotateKey)
	s.route("POST /sources/{id}/enabled", member, opstore.Editor, s.setSourceEnabled)
	s.route("GET /rejected", member, "", s.rejectedPage)
	s.route("GET /data", member, "", s.dataPage)
	s.route("GET /data/export", member, "", s.exportEvents)
	s.uploadRoute("POST /data/import", opstore.Editor, s.uploadImport)
	s.route("GET /data/import/{id}", member, "", s.importPage)
	s.route("POST /data/import/{id}", member, opstore.Editor, s.startImport)
	s.route("GET /data/import/{id}/status", member, "", s.importStatus)
	s.route("GET /data/import/{id}/rejected", member, "", s.importRejects)
	s.mapRoutes()
	for _, sec := range upcoming {
		s.route("GET /"+sec.Path, member, "", s.upcomingPage(sec))
	}
	s.route("GET /settings/users", member, "", s.usersPage)
	s.route("POST /settings/users", member, opstore.Owner, s.addMember)
	s.route("POST /settings/users/{id}/role", member, opstore.Owner, s.changeRole)
	s.route("POST /settings/users/{id}/remove", member, opstore.Owner, s.removeMember)
	s.route("GET /settings/api-keys", member, "", s.apiKeysPage)
	s.route("POST /settings/api-keys", member, opstore.Owner, s.createAPIKey)
	s.route("POST /settings/api-keys/{id}/delete", member, opstore.Owner, s.deleteAPIKey)
	s.route("GET /settings/workspace", member, "", s.workspacePage)
	s.route("POST /settings/workspace", member, opstore.Owner, s.updateWorkspace)

	s.route("POST /workspace", account, "", s.switchWorkspace)
	s.route("GET /workspaces/new", account, "", s.newWorkspacePage)
	s.route("POST /workspaces", account, "", s.createWorkspace)
	s.route("GET /account", account, "", s.accountPage)
	s.route("POST /account", account, "", s.updateAccount)

	s.route("/", public, "", func(q *req) error { return errNotFound })
}

// req is one request with what the UI knows about its sender.
type req struct {
	s    *server
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	lang string

	// Set when logged in.
	sess        opstore.Session
	user        opstore.User
	memberships []opstore.Member
	workspaces  []opstore.Workspace // the workspaces of memberships, by name (sortWorkspaces)
	ws          opstore.Workspace   // zero when the user has no workspace
	role        opstore.Role
	loc         *time.Location

	csrf string // the token forms must carry

	// file is the file part of an upload form (see uploadRoute), nil when
	// the form has none; parts is the rest of the form after it.
	file  *multipart.Part
	parts *multipart.Reader
}

func (q *req) loggedIn() bool { return q.user.ID != "" }

// Errors a handler returns to get the matching error page.
var (
	errNotFound  = errors.New("not found")
	errForbidden = errors.New("forbidden")
)

func (s *server) serve(w http.ResponseWriter, r *http.Request, acc access, need opstore.Role, upload bool, h func(*req) error) {
	q := &req{s: s, w: w, r: r, ctx: r.Context(), loc: time.UTC}
	q.lang = s.requestLang(r)

	// First start: everything leads to /setup until the owner exists.
	if !s.setupDone.Load() {
		n, err := s.ops.UserCount(q.ctx)
		if err != nil {
			s.fail(q, err)
			return
		}
		if n > 0 {
			s.setupDone.Store(true)
		} else if r.URL.Path != "/setup" && r.URL.Path != "/lang" {
			http.Redirect(w, r, "/setup", http.StatusSeeOther)
			return
		}
	}
	if s.setupDone.Load() && r.URL.Path == "/setup" {
		s.fail(q, errNotFound)
		return
	}

	if err := s.loadSession(q); err != nil {
		s.fail(q, err)
		return
	}
	if !q.loggedIn() {
		if tok, err := r.Cookie(csrfCookie); err == nil && len(tok.Value) >= 32 {
			q.csrf = tok.Value
		} else if r.Method == http.MethodGet {
			q.csrf = auth.NewToken()
			http.SetCookie(w, s.cookie(r, csrfCookie, q.csrf, 0))
		}
	}

	if acc != public && !q.loggedIn() {
		switch {
		case r.URL.Path == "/events/feed", strings.HasPrefix(r.URL.Path, "/data/import/") && strings.HasSuffix(r.URL.Path, "/status"):
			http.Error(w, "not logged in", http.StatusUnauthorized)
		case r.Method == http.MethodGet:
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		default: // a form after the session ended
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		}
		return
	}
	if r.Method == http.MethodPost {
		var err error
		if upload && isMultipart(r) {
			err = s.readUploadFields(q)
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			err = r.ParseForm()
		}
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
	}
	if r.Method == http.MethodPost && !s.csrfOK(q) {
		s.log.Warn("rejected a form without a valid CSRF token", "path", r.URL.Path, "remote", r.RemoteAddr)
		s.render(q, http.StatusForbidden, "error", q.page("error.csrf_title", "", errorData{Message: "error.csrf"}))
		return
	}
	if acc == member && q.ws.ID == "" {
		s.render(q, http.StatusOK, "noworkspace", q.page("noworkspace.title", "", nil))
		return
	}
	if need != "" && !q.role.Can(need) {
		s.fail(q, errForbidden)
		return
	}
	if err := h(q); err != nil {
		s.fail(q, err)
	}
}

// requestLang is the language of the lang cookie, else the browser's.
func (s *server) requestLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && i18n.Valid(c.Value) {
		return c.Value
	}
	return i18n.Match(r.Header.Get("Accept-Language"))
}

// loadSession fills q from the session cookie, if it names a live session.
func (s *server) loadSession(q *req) error {
	c, err := q.r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.ops.Session(q.ctx, auth.HashToken(c.Value))
	if errors.Is(err, opstore.ErrNotFound) {
		http.SetCookie(q.w, s.cookie(q.r, sessionCookie, "", -1))
		return nil
	}
	if err != nil {
		return err
	}
	user, err := s.ops.User(q.ctx, sess.UserID)
	if errors.Is(err, opstore.ErrNotFound) {
		_ = s.ops.DeleteSession(q.ctx, sess.TokenHash)
		http.SetCookie(q.w, s.cookie(q.r, sessionCookie, "", -1))
		return nil
	}
	if err != nil {
		return err
	}
	ms, err := s.ops.Memberships(q.ctx, user.ID)
	if err != nil {
		return err
	}
	q.sess, q.user, q.memberships, q.csrf = sess, user, ms, sess.CSRFToken
	if _, err := q.r.Cookie(langCookie); err != nil && i18n.Valid(user.Lang) {
		q.lang = user.Lang
	}
	// The session's workspace, if the user is still a member; else the first.
	var cur *opstore.Member
	for i := range ms {
		if ms[i].WorkspaceID == sess.WorkspaceID {
			cur = &ms[i]
		}
	}
	if cur == nil && len(ms) > 0 {
		cur = &ms[0]
		if err := s.ops.UpdateSessionWorkspace(q.ctx, sess.TokenHash, cur.WorkspaceID); err != nil {
			return err
		}
	}
	if cur == nil {
		return nil
	}
	all, err := s.ops.Workspaces(q.ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]opstore.Workspace, len(all))
	for _, w := range all {
		byID[w.ID] = w
	}
	for _, m := range ms {
		if w, ok := byID[m.WorkspaceID]; ok {
			q.workspaces = append(q.workspaces, w)
		}
	}
	sortWorkspaces(q.workspaces)
	ws, ok := byID[cur.WorkspaceID]
	if !ok {
		return fmt.Errorf("workspace %s of a membership: %w", cur.WorkspaceID, opstore.ErrNotFound)
	}
	q.ws, q.role = ws, cur.Role
	if loc, err := time.LoadLocation(ws.TimeZone); err == nil {
		q.loc = loc
	}
	return nil
}

func isMultipart(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "multipart/form-data"
}

// readUploadFields reads the text fields of a multipart form up to its file
// (into r.PostForm and r.Form, as ParseForm would), and leaves the file in
// q.file. The body may be as large as the largest import.
func (s *server) readUploadFields(q *req) error {
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, s.maxUpload+maxFormBytes)
	mr, err := q.r.MultipartReader()
	if err != nil {
		return err
	}
	form := url.Values{}
	if q.file, err = readParts(mr, form); err != nil {
		return err
	}
	q.parts = mr
	q.r.PostForm = form
	q.r.Form = url.Values{}
	for k, v := range q.r.URL.Query() {
		q.r.Form[k] = v
	}
	for k, v := range form {
		q.r.Form[k] = append(q.r.Form[k], v...)
	}
	return nil
}

// readParts adds the text fields of mr to form up to the first file part,
// which it returns (nil at the end of the form). The text fields together
// may have at most maxFormBytes.
func readParts(mr *multipart.Reader, form url.Values) (*multipart.Part, error) {
	var size int64
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if p.FileName() != "" || p.FormName() == "file" {
			return p, nil
		}
		b, err := io.ReadAll(io.LimitReader(p, maxFormBytes-size+1))
		if err != nil {
			return nil, err
		}
		if size += int64(len(b)); size > maxFormBytes {
			return nil, errors.New("form fields too large")
		}
		form.Add(p.FormName(), string(b))
	}
}

// csrfOK checks a state-changing request: the browser must not say it comes
// from another site, and it must carry the form's token.
func (s *server) csrfOK(q *req) bool {
	if err := s.cop.Check(q.r); err != nil {
		return false
	}
	tok := q.r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = q.r.PostFormValue("csrf")
	}
	return q.csrf != "" && tok != "" && constantTimeEqual(tok, q.csrf)
}

// cookie makes a cookie of the UI for a response to r: HttpOnly,
// SameSite=Lax, and Secure when configured or when r came over https.
// maxAge 0 is a browser-session cookie, -1 deletes it.
func (s *server) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure || isHTTPS(r)}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// isHTTPS reports whether r came over TLS, to this server or to a proxy in
// front of it that says so in X-Forwarded-Proto. The header is trusted only
// to add Secure to cookies, which a forged one cannot turn to harm.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// fail renders the error page for err.
func (s *server) fail(q *req, err error) {
	var indexing *analytics.IndexingError
	switch {
	case errors.As(err, &indexing):
		// The first build of a big workspace's analytics index: say how
		// far it is, and look again in a few seconds.
		q.w.Header().Set("Refresh", "3")
		q.w.Header().Set("Retry-After", "3")
		s.render(q, http.StatusServiceUnavailable, "indexing", q.page("indexing.title", "nav.analytics_home", indexing.Percent()))
	case errors.Is(err, errNotFound), errors.Is(err, opstore.ErrNotFound):
		s.render(q, http.StatusNotFound, "error", q.page("error.notfound_title", "", errorData{Message: "error.notfound"}))
	case errors.Is(err, errForbidden):
		s.render(q, http.StatusForbidden, "error", q.page("error.forbidden_title", "", errorData{Message: "error.forbidden"}))
	case errors.Is(err, context.Canceled):
		// The browser went away.
	default:
		s.log.Error("web request failed", "method", q.r.Method, "path", q.r.URL.Path, "err", err)
		s.render(q, http.StatusInternalServerError, "error", q.page("error.internal_title", "", errorData{Message: "error.internal"}))
	}
}

type errorData struct{ Message string }

// redirect answers a form with a redirect (303) and an optional flash
// message, a catalog key shown once on the next page.
func (q *req) redirect(path, flash string) error {
	if flash != "" {
		http.SetCookie(q.w, q.s.cookie(q.r, flashCookie, flash, time.Minute))
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

// takeFlash returns the pending flash message key, once.
func (q *req) takeFlash() string {
	c, err := q.r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(q.w, q.s.cookie(q.r, flashCookie, "", -1))
	if strings.HasPrefix(c.Value, "flash.") && i18n.Has(c.Value) {
		return c.Value
	}
	return ""
}

// assetVersion is a short hash of the static files, for cache busting.
func assetVersion() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(files, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}
