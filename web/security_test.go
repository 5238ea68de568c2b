package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLocalPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/sources", "/sources"},
		{"/events?x=1", "/events?x=1"},
		{"/events?q=a%2Fb&x=%C3%A1", "/events?q=a%2Fb&x=%C3%A1"},
		{"/sources/abc#rows", "/sources/abc#rows"},
		{"/tìm", "/tìm"},

		{"", "/"},
		{"sources", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/\t/evil.com", "/"},
		{"/\t\\evil.com", "/"},
		{"\t//evil.com", "/"},
		{"/\n/evil.com", "/"},
		{"/\r/evil.com", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
		{"/\x00/evil.com", "/"},
		{"/\x7f/evil.com", "/"},
		{"/\u0085/evil.com", "/"}, // a C1 control (NEL)
		{"/a/b\\c", "/"},
		{"/a?next=\\evil", "/"},
		{"/\xff", "/"},
		{"http://evil.com", "/"},
		{"https://evil.com/", "/"},
		{"https:evil.com", "/"},
		{"javascript:alert(1)", "/"},
		{"/%2F/evil.com", "/"}, // its path decodes to "//evil.com"
		{"/%5Cevil.com", "/"},  // "/\evil.com"
		{"/%09/evil.com", "/"}, // "/\t/evil.com"
		{"/a%0Ab", "/"},
		{"/%zz", "/"}, // does not parse
	} {
		if got := localPath(tc.in); got != tc.want {
			t.Errorf("localPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// What arrives in a form or query after decoding the encoded attacks.
	for _, enc := range []string{
		"/%09/evil.com", "/%09%5Cevil.com", "%2F%09%2Fevil.com", "/%0A/evil.com", "/%0D/evil.com",
		"%2F%2Fevil.com", "/%5Cevil.com", "%5C%5Cevil.com", "http%3A%2F%2Fevil.com", "/%00/evil.com",
		"/%252F/evil.com", "/%2509/evil.com",
	} {
		dec, err := url.QueryUnescape(enc)
		if err != nil {
			t.Fatal(err)
		}
		if got := localPath(dec); got != "/" {
			t.Errorf("localPath(%q) (from %q) = %q, want /", dec, enc, got)
		}
	}
}

// A logged-in user sent to /login?next=... is redirected at once, and /lang
// and /login redirect to their form's next: none may leave the site.
func TestOpenRedirect(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	attacks := []string{"/\t/evil.com", "/\t\\evil.com", "/\n/evil.com", "//evil.com", "/\\evil.com", "http://evil.com", "/%2F/evil.com"}
	for _, a := range attacks {
		r := c.get("/login?next=" + url.QueryEscape(a))
		if r.status != http.StatusSeeOther || r.loc != "/" {
			t.Errorf("GET /login?next=%q: %d to %q, want / ", a, r.status, r.loc)
		}
	}
	// The raw encodings of the report.
	for _, q := range []string{"/%09/evil.com", "/%09%5Cevil.com", "%2F%09%2Fevil.com", "/%0A/evil.com"} {
		r := c.get("/login?next=" + q)
		if r.status != http.StatusSeeOther || r.loc != "/" {
			t.Errorf("GET /login?next=%s: %d to %q, want /", q, r.status, r.loc)
		}
	}
	for _, a := range attacks {
		c.get("/")
		r := c.post("/lang", url.Values{"lang": {"vi"}, "next": {a}})
		if r.status != http.StatusSeeOther || r.loc != "/" {
			t.Errorf("POST /lang next=%q: %d to %q, want /", a, r.status, r.loc)
		}
	}
	for _, a := range attacks {
		b := e.client()
		b.get("/login?next=" + url.QueryEscape(a))
		r := b.post("/login", url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}, "next": {a}})
		if r.status != http.StatusSeeOther || r.loc != "/" {
			t.Errorf("POST /login next=%q: %d to %q, want /", a, r.status, r.loc)
		}
	}
	// A path on the site is still followed.
	r := c.get("/login?next=" + url.QueryEscape("/sources?x=1"))
	if r.status != http.StatusSeeOther || r.loc != "/sources?x=1" {
		t.Errorf("GET /login?next=/sources?x=1: %d to %q", r.status, r.loc)
	}
}

// Parallel wrong guesses for one e-mail: only the limit of them get to the
// password check, the rest are refused at once.
func TestLoginThrottleConcurrent(t *testing.T) {
	e := newEnv(t)
	e.setup()
	c := e.client()
	c.get("/login")
	const n = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"email": {"mai@example.vn"}, "password": {"guess " + strings.Repeat("x", i)}, "csrf": {c.csrf}}
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := c.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			statuses[res.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[http.StatusUnauthorized] != maxFailsPerEmail || statuses[http.StatusTooManyRequests] != n-maxFailsPerEmail {
		t.Errorf("statuses %v: want %d checked (401) and %d throttled (429)", statuses, maxFailsPerEmail, n-maxFailsPerEmail)
	}
	// The right password is refused too, now.
	r := c.post("/login", url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}})
	expect(t, r, http.StatusTooManyRequests)
}

func TestThrottleReserve(t *testing.T) {
	now := time.Now()
	th := newThrottle()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.reserve("a@example.vn", "192.0.2.1", now) {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != maxFailsPerEmail {
		t.Errorf("%d parallel attempts reserved, want %d", ok, maxFailsPerEmail)
	}

	// Successes and released attempts do not use up an address's allowance.
	th = newThrottle()
	for i := range 2 * maxFailsPerIP {
		email := strings.Repeat("b", i+1) + "@example.vn"
		if !th.reserve(email, "192.0.2.2", now) {
			t.Fatalf("attempt %d refused", i)
		}
		if i%2 == 0 {
			th.succeeded(email, "192.0.2.2")
		} else {
			th.release(email, "192.0.2.2")
		}
	}
	// Released attempts do not count against the e-mail either.
	for i := range 2 * maxFailsPerEmail {
		if !th.reserve("c@example.vn", "192.0.2.3", now) {
			t.Fatalf("attempt %d refused", i)
		}
		th.release("c@example.vn", "192.0.2.3")
	}
	// A success clears the e-mail's failures.
	for range maxFailsPerEmail {
		th.reserve("d@example.vn", "192.0.2.4", now)
	}
	if th.reserve("d@example.vn", "192.0.2.4", now) {
		t.Fatal("over the limit, an attempt was allowed")
	}
	th.succeeded("d@example.vn", "192.0.2.4")
	if !th.reserve("d@example.vn", "192.0.2.4", now) {
		t.Fatal("after a success, an attempt was refused")
	}
}

// serve runs one request through the handler directly, so that it can look
// like it came over TLS.
func serve(e *env, req *http.Request) *http.Response {
	w := httptest.NewRecorder()
	e.web.ServeHTTP(w, req)
	return w.Result()
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t)
	e.setup()
	for _, tc := range []struct {
		name   string
		url    string
		proto  string
		secure bool
	}{
		{"plain http", "http://cjm.example/login", "", false},
		{"tls", "https://cjm.example/login", "", true},
		{"forwarded https", "http://cjm.example/login", "https", true},
		{"forwarded HTTPS", "http://cjm.example/login", "HTTPS", true},
		{"forwarded list", "http://cjm.example/login", "https, http", true},
		{"forwarded http", "http://cjm.example/login", "http", false},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.url, nil)
		if (req.TLS != nil) != strings.HasPrefix(tc.url, "https:") {
			t.Fatalf("%s: TLS %v", tc.name, req.TLS != nil)
		}
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		res := serve(e, req)
		ck := cookieNamed(res, csrfCookie)
		if res.StatusCode != http.StatusOK || ck == nil {
			t.Fatalf("%s: status %d, cookies %v", tc.name, res.StatusCode, res.Header.Values("Set-Cookie"))
		}
		if ck.Secure != tc.secure || !ck.HttpOnly {
			t.Errorf("%s: csrf cookie %q: Secure %v, want %v", tc.name, res.Header.Get("Set-Cookie"), ck.Secure, tc.secure)
		}
	}

	// Logging in over TLS and behind an https proxy gives a Secure session.
	for _, tc := range []struct {
		name  string
		url   string
		proto string
	}{
		{"tls", "https://cjm.example", ""},
		{"forwarded https", "http://cjm.example", "https"},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.url+"/login", nil)
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		res := serve(e, req)
		csrf := cookieNamed(res, csrfCookie)
		if csrf == nil {
			t.Fatalf("%s: no csrf cookie", tc.name)
		}
		form := url.Values{"email": {"mai@example.vn"}, "password": {ownerPassword}, "csrf": {csrf.Value}}
		req = httptest.NewRequest(http.MethodPost, tc.url+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		req.AddCookie(csrf)
		res = serve(e, req)
		sess := cookieNamed(res, sessionCookie)
		if res.StatusCode != http.StatusSeeOther || sess == nil {
			t.Fatalf("%s: login: status %d, cookies %v", tc.name, res.StatusCode, res.Header.Values("Set-Cookie"))
		}
		if !sess.Secure || !sess.HttpOnly {
			t.Errorf("%s: session cookie %q is not Secure and HttpOnly", tc.name, res.Header.Get("Set-Cookie"))
		}
	}

	// The configuration flag makes every cookie Secure.
	e.web.secure = true
	res := serve(e, httptest.NewRequest(http.MethodGet, "http://cjm.example/login", nil))
	if ck := cookieNamed(res, csrfCookie); ck == nil || !ck.Secure {
		t.Errorf("with SecureCookies, csrf cookie %q is not Secure", res.Header.Get("Set-Cookie"))
	}
}
