package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/opstore"
)

// TestShots takes screenshots of the pages with chromium (CJM_SHOTS=dir).
func TestShots(t *testing.T) {
	dir := os.Getenv("CJM_SHOTS")
	if dir == "" {
		t.Skip("CJM_SHOTS not set")
	}
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace().ID
	web := e.createSource("Website chính", opstore.Website)
	pos := e.createSource("Cửa hàng Quận 1", opstore.POS)
	e.createSource("Zalo OA", opstore.Zalo)
	names := []string{"Product Viewed", "Added to Cart", "Order Completed", "Checkout Started", "Signed Up"}
	var msgs []event.Message
	now := time.Now().UTC()
	for i := range 400 {
		day := i % 14
		if i%3 == 0 {
			day = i % 5
		}
		src := web.ID
		if i%4 == 0 {
			src = pos.ID
		}
		props, _ := json.Marshal(map[string]any{"product_id": fmt.Sprintf("SKU-%03d", i%37), "price": 150000 + i*1000, "currency": "VND"})
		m := event.Message{WorkspaceID: ws, SourceID: src, Type: event.Track, Event: names[i%len(names)], UserID: fmt.Sprintf("kh-%04d", i%53),
			Properties: props, Context: []byte(`{"ip":"14.161.2.3","locale":"vi-VN","page":{"url":"https://hoamai.vn/san-pham"}}`),
			Timestamp: now.Add(-time.Duration(day)*24*time.Hour - time.Duration(i)*time.Minute)}
		if i%7 == 0 {
			m.Type, m.Event, m.Name, m.UserID, m.AnonymousID = event.Page, "", "Trang chủ", "", fmt.Sprintf("anon-%d", i)
		}
		msgs = append(msgs, m)
	}
	// Append in time order so the newest has the highest seq.
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	e.appendEvents(msgs...)
	var rs []opstore.Rejected
	for i := range 8 {
		code, field, reason := "missing_identity", "userId", "userId or anonymousId is required"
		if i%2 == 1 {
			code, field, reason = "invalid_timestamp", "timestamp", `timestamp "hôm qua" is not an ISO-8601 date-time`
		}
		rs = append(rs, opstore.Rejected{WorkspaceID: ws, SourceID: web.ID, ReceivedAt: now.Add(-time.Duration(i) * time.Hour), Origin: "http:/v1/batch",
			Index: i, Code: code, Field: field, Reason: reason, Payload: `{"type":"track","event":"Order Completed","properties":{"revenue":990000}}`})
	}
	if err := e.ops.AddRejected(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	e.addMember(c, "Trần Văn Hùng", "hung@example.vn", opstore.Editor)
	e.addMember(c, "Lê Thu Hà", "ha@example.vn", opstore.Viewer)

	u, _ := url.Parse(e.srv.URL)
	var cookies []string
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
	}
	lang := os.Getenv("CJM_SHOTS_LANG")
	if lang != "" {
		cookies = append(cookies, "lang="+lang)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	anon := httputil.NewSingleHostReverseProxy(u)
	authed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Cookie", strings.Join(cookies, "; "))
		proxy.ServeHTTP(w, r)
	}))
	defer authed.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lang != "" {
			r.Header.Set("Cookie", "lang="+lang)
		}
		anon.ServeHTTP(w, r)
	}))
	defer plain.Close()
	shots := map[string]string{
		"overview": "/", "events": "/events", "sources": "/sources", "source": "/sources/" + web.ID, "rejected": "/rejected",
		"users": "/settings/users", "apikeys": "/settings/api-keys", "workspace": "/settings/workspace", "journeys": "/journeys",
	}
	size := os.Getenv("CJM_SHOTS_SIZE")
	if size == "" {
		size = "1400,1100"
	}
	take := func(name, base, path string) {
		out := fmt.Sprintf("%s/%s.png", dir, name)
		cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--user-data-dir="+t.TempDir(),
			"--screenshot="+out, "--window-size="+size, "--virtual-time-budget=3000", base+path)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, b)
		}
	}
	for name, p := range shots {
		take(name, authed.URL, p)
	}
	take("login", plain.URL, "/login")
}
