package web

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// startSession logs user in: a new random token in the cookie, its hash in
// the store.
func (s *server) startSession(q *req, user opstore.User, workspaceID string) error {
	tok := auth.NewToken()
	now := s.now()
	err := s.ops.CreateSession(q.ctx, opstore.Session{
		TokenHash: auth.HashToken(tok), UserID: user.ID, WorkspaceID: workspaceID,
		CSRFToken: auth.NewToken(), CreatedAt: now, ExpiresAt: now.Add(sessionTTL),
	})
	if err != nil {
		return err
	}
	http.SetCookie(q.w, s.cookie(q.r, sessionCookie, tok, sessionTTL))
	http.SetCookie(q.w, s.cookie(q.r, csrfCookie, "", -1))
	return nil
}

// Field checks shared by the forms.

const maxNameLen = 100

func checkName(f *form, field string) {
	v := f.Get(field)
	switch {
	case v == "":
		f.Fail(field, "err.required")
	case utf8.RuneCountInString(v) > maxNameLen:
		f.Fail(field, "err.too_long")
	}
}

// checkEmail validates the e-mail field and returns it lower-cased.
func checkEmail(f *form, field string) string {
	v := strings.ToLower(f.Get(field))
	if v == "" {
		f.Fail(field, "err.required")
		return ""
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@'):], ".") || len(v) > 254 {
		f.Fail(field, "err.email")
	}
	return v
}

func checkPassword(f *form, field string) string {
	pw := f.Values.Get(field) // passwords are not trimmed
	switch err := auth.ValidatePassword(pw); {
	case pw == "":
		f.Fail(field, "err.required")
	case errors.Is(err, auth.ErrPasswordTooShort):
		f.Fail(field, "err.password_short")
	case errors.Is(err, auth.ErrPasswordTooLong):
		f.Fail(field, "err.password_long")
	case err != nil:
		f.Fail(field, "err.password_short")
	}
	return pw
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// checkWorkspace validates the name, time zone and currency fields.
func checkWorkspace(f *form) (name, tz, cur string) {
	checkName(f, "ws_name")
	tz = f.Get("timezone")
	if tz == "" {
		f.Fail("timezone", "err.required")
	} else if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		f.Fail("timezone", "err.timezone")
	}
	cur = strings.ToUpper(f.Get("currency"))
	if cur == "" {
		f.Fail("currency", "err.required")
	} else if !currencyRE.MatchString(cur) {
		f.Fail("currency", "err.currency")
	}
	return f.Get("ws_name"), tz, cur
}

// Setup: the first owner and workspace.

type setupData struct {
	Form          *form
	NeedWorkspace bool
}

func (s *server) setupPage(q *req) error {
	f := newForm(nil)
	f.Values.Set("timezone", "Asia/Ho_Chi_Minh")
	f.Values.Set("currency", "VND")
	return s.setupRender(q, f, http.StatusOK)
}

func (s *server) setupRender(q *req, f *form, status int) error {
	wss, err := s.ops.Workspaces(q.ctx)
	if err != nil {
		return err
	}
	s.render(q, status, "setup", q.page("setup.title", "", setupData{Form: f, NeedWorkspace: len(wss) == 0}))
	return nil
}

func (s *server) setupSubmit(q *req) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if n, err := s.ops.UserCount(q.ctx); err != nil {
		return err
	} else if n > 0 {
		return errNotFound
	}
	wss, err := s.ops.Workspaces(q.ctx)
	if err != nil {
		return err
	}
	f := newForm(q.r.PostForm)
	checkName(f, "name")
	email := checkEmail(f, "email")
	pw := checkPassword(f, "password")
	if f.Values.Get("password2") != pw {
		f.Fail("password2", "err.password_mismatch")
	}
	var ws opstore.Workspace
	if len(wss) == 0 {
		ws.Name, ws.TimeZone, ws.Currency = checkWorkspace(f)
	} else {
		ws = wss[0]
	}
	if !f.OK() {
		return s.setupRender(q, f, http.StatusUnprocessableEntity)
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if ws.ID == "" {
		if err := s.ops.CreateWorkspace(q.ctx, &ws); err != nil {
			return err
		}
	}
	u := opstore.User{Email: email, Name: f.Get("name"), PasswordHash: hash, Lang: q.lang}
	if err := s.ops.CreateUser(q.ctx, &u); err != nil {
		return err
	}
	if err := s.ops.SetMember(q.ctx, ws.ID, u.ID, opstore.Owner); err != nil {
		return err
	}
	s.setupDone.Store(true)
	s.log.Info("first owner created", "user", u.ID, "workspace", ws.ID)
	if err := s.startSession(q, u, ws.ID); err != nil {
		return err
	}
	return q.redirect("/", "flash.welcome")
}

// Login and logout.

type loginData struct {
	Form  *form
	Error string // a catalog key
	Next  string
}

func (s *server) loginPage(q *req) error {
	if q.loggedIn() {
		return q.redirect(localPath(q.r.URL.Query().Get("next")), "")
	}
	f := newForm(nil)
	s.render(q, http.StatusOK, "login", q.page("login.title", "", loginData{Form: f, Next: localPath(q.r.URL.Query().Get("next"))}))
	return nil
}

func (s *server) loginSubmit(q *req) error {
	f := newForm(q.r.PostForm)
	email := strings.ToLower(f.Get("email"))
	pw := f.Values.Get("password")
	next := localPath(f.Get("next"))
	fail := func(status int, key string) error {
		f.Values.Del("password")
		s.render(q, status, "login", q.page("login.title", "", loginData{Form: f, Error: key, Next: next}))
		return nil
	}
	if email == "" || pw == "" {
		return fail(http.StatusUnprocessableEntity, "err.login")
	}
	ip := clientIP(q.r)
	// The attempt is counted as a failure before the (slow) password check,
	// so that parallel guesses cannot all pass the limit; a success undoes it.
	if !s.throttle.reserve(email, ip, s.now()) {
		return fail(http.StatusTooManyRequests, "err.throttled")
	}
	user, err := s.ops.UserByEmail(q.ctx, email)
	hash := user.PasswordHash
	if errors.Is(err, opstore.ErrNotFound) {
		hash = s.dummyHash
	} else if err != nil {
		s.throttle.release(email, ip)
		return err
	}
	ok, err := auth.CheckPassword(hash, pw)
	if err != nil {
		s.log.Error("checking a password", "user", user.ID, "err", err)
		ok = false
	}
	if !ok || user.ID == "" {
		s.log.Info("failed login", "remote", ip)
		return fail(http.StatusUnauthorized, "err.login")
	}
	s.throttle.succeeded(email, ip)
	if rehash, err := auth.NeedsRehash(user.PasswordHash); err == nil && rehash {
		if h, err := auth.HashPassword(pw); err == nil {
			user.PasswordHash = h
			if err := s.ops.UpdateUser(q.ctx, user); err != nil {
				s.log.Warn("storing a rehashed password", "user", user.ID, "err", err)
			}
		}
	}
	ws := ""
	if ms, err := s.ops.Memberships(q.ctx, user.ID); err != nil {
		return err
	} else if len(ms) > 0 {
		ws = ms[0].WorkspaceID
	}
	if err := s.startSession(q, user, ws); err != nil {
		return err
	}
	return q.redirect(next, "")
}

func (s *server) logout(q *req) error {
	if q.loggedIn() {
		if err := s.ops.DeleteSession(q.ctx, q.sess.TokenHash); err != nil {
			return err
		}
	}
	http.SetCookie(q.w, s.cookie(q.r, sessionCookie, "", -1))
	return q.redirect("/login", "")
}

// setLang switches the UI language: a cookie, and the user's preference.
func (s *server) setLang(q *req) error {
	lang := q.r.PostFormValue("lang")
	if !i18n.Valid(lang) {
		return errNotFound
	}
	http.SetCookie(q.w, s.cookie(q.r, langCookie, lang, 365*24*time.Hour))
	if q.loggedIn() && q.user.Lang != lang {
		q.user.Lang = lang
		if err := s.ops.UpdateUser(q.ctx, q.user); err != nil {
			return err
		}
	}
	return q.redirect(localPath(q.r.PostFormValue("next")), "")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// throttle counts failed logins per e-mail and per client address, and
// refuses further attempts for a while after too many.
type throttle struct {
	mu    sync.Mutex
	fails map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

const (
	throttleWindow   = 15 * time.Minute
	maxFailsPerEmail = 5
	maxFailsPerIP    = 30 // higher: many people may share one address
)

func newThrottle() *throttle { return &throttle{fails: map[string]*failures{}} }

// reserve counts an attempt for email and ip, as a failure, if both are
// under their limits, and reports whether it did. The check and the count are
// one step, so that parallel attempts cannot all pass; an attempt that turns
// out not to be a wrong password is given back with succeeded or release.
func (t *throttle) reserve(email, ip string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.count("e:"+email, now) >= maxFailsPerEmail || t.count("ip:"+ip, now) >= maxFailsPerIP {
		return false
	}
	if len(t.fails) > 100000 {
		for k, f := range t.fails {
			if now.Sub(f.since) > throttleWindow {
				delete(t.fails, k)
			}
		}
	}
	for _, key := range []string{"e:" + email, "ip:" + ip} {
		f := t.fails[key]
		if f == nil || now.Sub(f.since) > throttleWindow {
			f = &failures{since: now}
			t.fails[key] = f
		}
		f.n++
	}
	return true
}

func (t *throttle) count(key string, now time.Time) int {
	f := t.fails[key]
	if f == nil || now.Sub(f.since) > throttleWindow {
		return 0
	}
	return f.n
}

// release gives back an attempt counted by reserve.
func (t *throttle) release(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.uncount("e:" + email)
	t.uncount("ip:" + ip)
}

func (t *throttle) uncount(key string) {
	if f := t.fails[key]; f != nil && f.n > 0 {
		f.n--
	}
}

// succeeded clears the failures of email, and gives back the attempt that
// reserve counted for ip.
func (t *throttle) succeeded(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, "e:"+email)
	t.uncount("ip:" + ip)
}
