package web

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"sync"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/opstore"
)

func TestLiveInBrowser(t *testing.T) {
	if os.Getenv("CJM_SHOTS") == "" {
		t.Skip()
	}
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	src := e.createSource("Website", opstore.Website)
	e.appendEvents(event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "First", UserID: "u"})
	u, _ := url.Parse(e.srv.URL)
	var cookie string
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var once sync.Once
	authed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events/feed" {
			once.Do(func() {
				t.Logf("feed: %s", r.URL)
				e.appendEvents(event.Message{WorkspaceID: ws, SourceID: src.ID, Type: event.Track, Event: "Arrived Later", UserID: "u2"})
			})
		}
		r.Header.Set("Cookie", cookie)
		proxy.ServeHTTP(w, r)
	}))
	defer authed.Close()
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=8000", "--dump-dom", authed.URL+"/events")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	dom := string(out)
	i := strings.Index(dom, `id="event-rows"`)
	t.Logf("rows: %s", dom[i:min(len(dom), i+1500)])
	if !strings.Contains(dom, "Arrived Later") || !strings.Contains(dom, "is-new") {
		t.Error("live row not added")
	}
}
