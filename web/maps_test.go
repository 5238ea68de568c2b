package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/journeymap/draw"
	"github.com/cjmhq/cjm/opstore"
)

// newMap creates a map from a template through the UI and returns its id.
func newMap(t *testing.T, c *client, template, name string) string {
	t.Helper()
	expect(t, c.get("/journeys/new"), http.StatusOK, "AARRR")
	r := c.post("/journeys", url.Values{"template": {template}, "lang": {"vi"}, "name": {name}})
	expect(t, r, http.StatusSeeOther)
	id := strings.TrimPrefix(r.loc, "/journeys/")
	if !strings.HasPrefix(id, "map_") {
		t.Fatalf("redirected to %q", r.loc)
	}
	return id
}

// editJSON posts edits as the map page's script does.
func editJSON(t *testing.T, c *client, id string, base int, edits ...journeymap.Edit) resp {
	t.Helper()
	body, _ := json.Marshal(editRequest{Base: base, Edits: edits})
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+"/journeys/"+id+"/edit", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	return c.do(req)
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func TestJourneyMapEditing(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace()
	id := newMap(t, c, "aarrr", "Hành trình ứng dụng")
	page := c.get("/journeys/" + id)
	expect(t, page, http.StatusOK, "Hành trình ứng dụng", "Kích hoạt (Activation)", "Doanh thu (Revenue)", `data-edit=`, i18n.T("vi", "lane.pain_points"))

	// Inline edits: add a touchpoint with a pain point, set an emotion,
	// move the last stage first.
	r := editJSON(t, c, id, 1,
		journeymap.Edit{Op: "add", Field: "touchpoint", Stage: "activation", Index: -1, Value: raw(map[string]any{"name": "Đăng ký Zalo", "channel": "zalo"})},
		journeymap.Edit{Op: "add", Field: "card", Target: "stage:activation", Lane: "pain_points", Index: -1, Value: raw(map[string]string{"text": "Mã OTP đến chậm"})},
		journeymap.Edit{Op: "set", Target: "stage:activation", Field: "emotion", Value: raw(map[string]any{"score": -2, "label": "Bực"})},
		journeymap.Edit{Op: "move", Target: "stage:revenue", Index: 0},
	)
	expect(t, r, http.StatusOK, `"version":2`)
	// The same base again is stale.
	r = editJSON(t, c, id, 1, journeymap.Edit{Op: "set", Target: "map", Field: "name", Value: raw("X")})
	expect(t, r, http.StatusConflict, i18n.T("vi", "map.err_stale"))
	// An invalid change is refused with the reason.
	r = editJSON(t, c, id, 2, journeymap.Edit{Op: "set", Target: "touchpoint:dang-ky-zalo", Field: "channel", Value: raw("tivi")})
	expect(t, r, http.StatusConflict, `unknown channel`)

	page = c.get("/journeys/" + id)
	expect(t, page, http.StatusOK, "Đăng ký Zalo", "Mã OTP đến chậm", `data-score="-2"`, "Bực")
	body := page.body
	if strings.Index(body, "Doanh thu (Revenue)") > strings.Index(body, "Thu hút khách (Acquisition)") {
		t.Error("the moved stage is not drawn first")
	}
	expect(t, c.get("/journeys/"+id+"?view=table"), http.StatusOK, "<caption>", "Mã OTP đến chậm", "−2 Bực")

	// The part page: evidence and a comment mentioning a teammate.
	viewer := e.addMember(c, "Trần Văn Bình", "binh@example.vn", opstore.Viewer)
	m, err := journeymap.NewBook(e.ops).Get(context.Background(), ws.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	card := m.Map.Stage("activation").PainPoints[0].ID
	expect(t, c.get("/journeys/"+id+"/part/card:"+card), http.StatusOK, "Mã OTP đến chậm", i18n.T("vi", "part.no_evidence"))
	r = c.post("/journeys/"+id+"/evidence", url.Values{"target": {"card:" + card}, "kind": {"survey"}, "source": {"Khảo sát app"}, "date": {"2026-10-01"}, "next": {"/journeys/" + id + "/part/card:" + card}})
	expect(t, r, http.StatusSeeOther)
	r = c.post("/journeys/"+id+"/evidence", url.Values{"target": {"card:" + card}, "kind": {"rumour"}, "source": {"x"}, "date": {"hôm qua"}, "next": {"/journeys/" + id + "/part/card:" + card}})
	expect(t, r, http.StatusSeeOther)
	expect(t, c.get("/journeys/"+id+"/part/card:"+card), http.StatusOK, i18n.T("vi", "flash.part_err_evidence"))
	// A stage's own card is not mistaken for a touchpoint's.
	expectNot(t, c.get("/journeys/"+id+"/part/card:"+card), `id="tp-channel"`)
	r = c.post("/journeys/"+id+"/comments", url.Values{"target": {"card:" + card}, "body": {"@binh xem giúp chỗ OTP nhé"}})
	expect(t, r, http.StatusSeeOther)
	expect(t, c.get("/journeys/"+id+"/part/card:"+card), http.StatusOK, "Khảo sát app", "@binh xem giúp chỗ OTP nhé")
	mentions, err := e.ops.MentionsOf(context.Background(), ws.ID, userID(t, e, "binh@example.vn"), 10)
	if err != nil || len(mentions) != 1 {
		t.Errorf("mentions of binh: %v, %v", mentions, err)
	}
	expect(t, c.get("/journeys/"+id), http.StatusOK, "✓ 1", "💬 1")
	expect(t, viewer.get("/journeys"), http.StatusOK, i18n.T("vi", "maps.mentions"), "@binh xem giúp chỗ OTP nhé", "/part/card:"+card)

	// The touchpoint's own lanes, by plain forms: a card whose text looks
	// like JSON stays text; the emotion form sends JSON on purpose.
	tpPage := "/journeys/" + id + "/part/touchpoint:dang-ky-zalo"
	expect(t, c.get(tpPage), http.StatusOK, i18n.T("vi", "part.lanes"))
	r = c.post("/journeys/"+id+"/edit", url.Values{"op": {"add"}, "field": {"card"}, "target": {"touchpoint:dang-ky-zalo"}, "lane": {"thoughts"}, "index": {"-1"}, "value": {"true"}, "next": {tpPage}})
	expect(t, r, http.StatusSeeOther)
	r = c.post("/journeys/"+id+"/edit", url.Values{"op": {"set"}, "field": {"emotion"}, "target": {"touchpoint:dang-ky-zalo"}, "json": {"1"}, "value": {`{"score":-1}`}, "next": {tpPage}})
	expect(t, r, http.StatusSeeOther)
	m, err = journeymap.NewBook(e.ops).Get(context.Background(), ws.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := m.Map.Touchpoint("dang-ky-zalo")
	if len(tp.Thoughts) != 1 || tp.Thoughts[0].Text != "true" || tp.Emotion == nil || tp.Emotion.Score != -1 {
		t.Errorf("touchpoint lanes: thoughts %+v, emotion %+v", tp.Thoughts, tp.Emotion)
	}

	r = c.post(tpPage+"/services", url.Values{"service": {"prices", "ordering", "bogus"}, "other": {"gói quà, trả góp"}})
	expect(t, r, http.StatusSeeOther)
	m, _ = journeymap.NewBook(e.ops).Get(context.Background(), ws.ID, id)
	if tp, _ := m.Map.Touchpoint("dang-ky-zalo"); strings.Join(tp.Services, "|") != "prices|ordering|gói quà|trả góp" {
		t.Errorf("services = %q", tp.Services)
	}

	// A viewer reads but cannot edit.
	expectNot(t, viewer.get("/journeys/"+id), `data-edit=`)
	r = editJSON(t, viewer, id, 0, journeymap.Edit{Op: "set", Target: "map", Field: "name", Value: raw("X")})
	expect(t, r, http.StatusForbidden)

	// Versions, diff and restore.
	expect(t, c.get("/journeys/"+id+"/versions"), http.StatusOK, "v1", "v3")
	expect(t, c.get("/journeys/"+id+"/versions/2"), http.StatusOK, "Đăng ký Zalo", "Mã OTP đến chậm", i18n.T("vi", "change.reordered"))
	expect(t, c.post("/journeys/"+id+"/versions/1/restore", nil), http.StatusSeeOther)
	expectNot(t, c.get("/journeys/"+id), "Đăng ký Zalo")

	// Goal and persona form.
	c.get("/journeys/" + id + "/about")
	r = c.post("/journeys/"+id+"/about", url.Values{"base": {"0"}, "name": {"Hành trình ứng dụng"}, "state": {"current"}, "why": {"Giảm bỏ cuộc ở bước OTP"},
		"p_name": {"Anh Minh"}, "p_age": {"22–30"}, "p_goals": {"Mua nhanh\nGiá tốt"}, "p_channels": {"app", "zalo"}})
	expect(t, r, http.StatusSeeOther)
	expect(t, c.get("/journeys/"+id), http.StatusOK, "Giảm bỏ cuộc ở bước OTP", "Anh Minh", "Mua nhanh")
	r = c.post("/journeys/"+id+"/about", url.Values{"base": {"0"}, "name": {"Hành trình ứng dụng"}, "state": {"current"}, "p_name": {"Anh Minh"}, "p_channels": {"tivi"}})
	expect(t, r, 422, `unknown channel`)
}

func userID(t *testing.T, e *env, email string) string {
	t.Helper()
	u, err := e.ops.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestJourneyMapShareAndExport(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	id := newMap(t, c, "retail", "Bán lẻ")
	for format, ctype := range map[string]string{"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf", "yaml": "application/yaml"} {
		r := c.get("/journeys/" + id + "/export/" + format)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), ctype) {
			t.Errorf("export %s: %d %s", format, r.status, r.header.Get("Content-Type"))
		}
	}
	if _, err := journeymap.Parse([]byte(c.get("/journeys/" + id + "/export/yaml").body)); err != nil {
		t.Errorf("exported YAML does not read back: %v", err)
	}

	c.get("/journeys/" + id + "/share")
	r := c.post("/journeys/"+id+"/share", url.Values{"days": {"7"}})
	expect(t, r, http.StatusOK, i18n.T("vi", "share.created"))
	link := regexp.MustCompile(`/share/[A-Za-z0-9_-]+`).FindString(r.body)
	if link == "" {
		t.Fatal("no share link on the page")
	}
	anon := e.client()
	expect(t, anon.get(link), http.StatusOK, "Bán lẻ", "Nhận biết", i18n.T("vi", "map.shared_note"))
	expectNot(t, anon.get(link), `data-edit=`, "/journeys/"+id+"/versions")
	r = anon.get(link + "/export/svg")
	if r.status != 200 || !strings.Contains(r.body, "<svg") {
		t.Errorf("shared export: %d", r.status)
	}
	shares, err := e.ops.MapShares(context.Background(), e.workspace().ID, id)
	if err != nil || len(shares) != 1 {
		t.Fatal(shares, err)
	}
	// Seven days later the link has expired.
	e.web.now = func() time.Time { return time.Now().AddDate(0, 0, 8) }
	expect(t, c.post("/journeys/"+id+"/share", url.Values{"days": {"999999"}}), http.StatusOK)
	e.web.now = time.Now
	e.ops.SetClock(func() time.Time { return time.Now().AddDate(0, 0, 8) })
	expect(t, anon.get(link), http.StatusNotFound)
	e.ops.SetClock(time.Now)
	expect(t, anon.get(link), http.StatusOK)
	expect(t, c.post("/journeys/"+id+"/share/"+shares[0].ID+"/revoke", nil), http.StatusSeeOther)
	expect(t, anon.get(link), http.StatusNotFound)
	expect(t, anon.get("/share/not-a-token"), http.StatusNotFound)
}

func TestJourneyMapImportErrors(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	id := newMap(t, c, "simple", "Đơn giản")
	y := c.get("/journeys/" + id + "/export/yaml").body
	bad := strings.Replace(y, "channel: website", "channel: webiste", 1)
	r := c.upload("/journeys/import", nil, "map.yaml", []byte(bad))
	expect(t, r, 422, "map.yaml:", `unknown channel "webiste"`)
	r = c.upload("/journeys/import", nil, "map.yaml", []byte(strings.Replace(y, "name: Đơn giản", "name: Bản sao nhập", 1)))
	expect(t, r, http.StatusSeeOther)
	expect(t, c.get("/journeys"), http.StatusOK, "Đơn giản", "Bản sao nhập")
}

func TestJourneyMapKeysInCatalog(t *testing.T) {
	var keys []string
	for _, c := range journeymap.Channels {
		keys = append(keys, "tpchannel."+string(c))
	}
	for _, k := range journeymap.EvidenceKinds {
		keys = append(keys, "evidence."+string(k))
	}
	for _, s := range journeymap.Services {
		keys = append(keys, "service."+s)
	}
	for _, l := range journeymap.LaneKeys {
		keys = append(keys, "lane."+l, "list."+l)
	}
	for _, a := range []string{"created", "saved", "restored", "imported", "duplicated", "renamed", "commented", "comment_resolved", "shared", "share_revoked"} {
		keys = append(keys, "activity."+a)
	}
	keys = append(keys, draw.Keys...)
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("catalog lacks %q", k)
		}
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("CJM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// TestFlashKeys checks that every flash message a handler redirects with is
// a "flash." key of the catalog: takeFlash shows no other key.
func TestFlashKeys(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\.redirect\([^\n]*,\s*"([^"]+)"\)`)
	n := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			n++
			if !strings.HasPrefix(m[1], "flash.") || !i18n.Has(m[1]) {
				t.Errorf("%s: redirect with flash %q: it must be a flash.* key of the catalog", f, m[1])
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d redirects with a flash; the pattern is broken", n)
	}
}

// TestJourneyMapMeasures checks the numbers the map page fills into its
// "Measured" row: customers per stage, and per touchpoint with a matcher
// with their share of the stage's customers.
func TestJourneyMapMeasures(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace()
	id := newMap(t, c, "simple", "Đo")
	m, err := journeymap.NewBook(e.ops).Get(context.Background(), ws.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	stage := m.Map.Stages[1]
	tp := stage.Touchpoints[0]
	r := editJSON(t, c, id, 1, journeymap.Edit{Op: "set", Target: "touchpoint:" + tp.Key, Field: "match", Value: raw(map[string]string{"event": "Order Completed"})},
		journeymap.Edit{Op: "set", Target: "stage:" + stage.Key, Field: "match", Value: raw(map[string]string{"event": "Cart Viewed"})})
	expect(t, r, http.StatusOK)
	var msgs []event.Message
	for i, u := range []string{"u1", "u2", "u3", "u4"} {
		msgs = append(msgs, event.Message{WorkspaceID: ws.ID, Type: event.Track, Event: "Cart Viewed", UserID: u})
		if i < 3 {
			msgs = append(msgs, event.Message{WorkspaceID: ws.ID, Type: event.Track, Event: "Order Completed", UserID: u})
		}
	}
	e.appendEvents(msgs...)
	got := map[string]string{}
	r = c.get("/journeys/" + id + "/measures")
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got[stage.Key] != "4 khách hàng" || got[tp.Key] != "3 khách · 75,0%" || got[m.Map.Stages[0].Key] != "0 khách hàng" {
		t.Errorf("measures = %v", got)
	}
}
