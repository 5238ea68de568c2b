package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/fileimport"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// newImportEnv is newEnv with the ingestion pipeline over real stores, for
// imports. Its events arrive through the pipeline only (appendEvents would
// get ahead of the event log).
func newImportEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	ce := cjmtest.Open(t, dir)
	h, err := New(Config{Ops: ce.Ops, Events: ce.Events, Pipeline: ce.Pipeline, Stats: ce.Pipeline.Stats, ImportDir: dir,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, web: h.s, ops: ce.Ops, events: ce.Events}
}

// upload posts a multipart form: the CSRF token of the last page first
// (unless fields has one), fields, then the file (none when name is "").
func (c *client) upload(path string, fields url.Values, name string, content []byte) resp {
	c.e.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if !fields.Has("csrf") {
		_ = w.WriteField("csrf", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if name != "" {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			c.e.t.Fatal(err)
		}
		_, _ = fw.Write(content)
	}
	if err := w.Close(); err != nil {
		c.e.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &b)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

type jobStatus struct {
	State   string            `json:"state"`
	Percent int               `json:"percent"`
	Stats   map[string]string `json:"stats"`
}

// waitImport polls an import's status until it is no longer running.
func (c *client) waitImport(jobPath string) jobStatus {
	c.e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.get(jobPath + "/status")
		expect(c.e.t, r, http.StatusOK)
		var st jobStatus
		if err := json.Unmarshal([]byte(r.body), &st); err != nil {
			c.e.t.Fatalf("status JSON: %v\n%s", err, r.body)
		}
		if st.State != string(stateRunning) {
			return st
		}
		if time.Now().After(deadline) {
			c.e.t.Fatalf("the import at %s still runs: %+v", jobPath, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scan(t *testing.T, e *env, f eventstore.Filter) []event.Message {
	t.Helper()
	var out []event.Message
	if err := e.events.Scan(context.Background(), f, func(m *event.Message) error {
		out = append(out, *m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace()
	web := e.createSource("Website", opstore.Website)
	pos := e.createSource("Cửa hàng Q1", opstore.POS)
	other := opstore.Workspace{Name: "Shop khác"}
	if err := e.ops.CreateWorkspace(context.Background(), &other); err != nil {
		t.Fatal(err)
	}
	vn := time.FixedZone("ICT", 7*3600)
	e.appendEvents(
		event.Message{WorkspaceID: ws.ID, SourceID: web.ID, Type: event.Page, Name: "Trang chủ", AnonymousID: "anon-1",
			Timestamp: time.Date(2026, 3, 14, 23, 30, 0, 0, vn)},
		event.Message{WorkspaceID: ws.ID, SourceID: web.ID, Type: event.Track, Event: "Product Viewed", UserID: "u1",
			Properties: []byte(`{"product_id":"SKU-1","price":250000}`), Timestamp: time.Date(2026, 3, 15, 0, 30, 0, 0, vn)},
		event.Message{WorkspaceID: ws.ID, SourceID: pos.ID, Type: event.Track, Event: "Order Completed", UserID: "u2",
			Properties: []byte(`{"revenue":990000,"store":"Quận 1"}`), Timestamp: time.Date(2026, 3, 16, 9, 0, 0, 0, vn)},
		event.Message{WorkspaceID: other.ID, SourceID: "src_other", Type: event.Track, Event: "Secret", UserID: "u9",
			Timestamp: time.Date(2026, 3, 15, 9, 0, 0, 0, vn)},
	)
	e.web.now = func() time.Time { return time.Date(2026, 3, 20, 20, 0, 0, 0, time.UTC) } // 21 March in Vietnam

	r := c.get("/data")
	expect(t, r, http.StatusOK, i18n.T("vi", "data.export_title"), i18n.T("vi", "data.import_off"), `action="/data/export#export"`)

	download := func(q string) (resp, []string) {
		t.Helper()
		r := c.get("/data/export?" + q)
		expect(t, r, http.StatusOK)
		_, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
		if err != nil || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export?%s: Content-Disposition %q (%v); body:\n%s", q, r.header.Get("Content-Disposition"), err, clip(r.body))
		}
		var labels []string
		if strings.Contains(q, "format=csv") {
			if params["filename"] != "cjm-events-20260321.csv" {
				t.Errorf("file name %q", params["filename"])
			}
			if !strings.HasPrefix(r.body, "\ufeffmessageId,type,timestamp") {
				t.Errorf("CSV export starts %q", clip(r.body[:min(len(r.body), 60)]))
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs[1:] {
				labels = append(labels, rec[5]+rec[6]) // event, name
			}
			return r, labels
		}
		if params["filename"] != "cjm-events-20260321.jsonl" {
			t.Errorf("file name %q", params["filename"])
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
			t.Errorf("content type %q", ct)
		}
		sc := bufio.NewScanner(strings.NewReader(r.body))
		for sc.Scan() {
			var m event.Message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			labels = append(labels, m.Label())
		}
		return r, labels
	}
	for _, tc := range []struct{ q, want string }{
		{"format=jsonl", "Trang chủ,Product Viewed,Order Completed"},
		{"format=csv", "Trang chủ,Product Viewed,Order Completed"},
		{"format=jsonl&source=" + pos.ID, "Order Completed"},
		{"format=jsonl&type=page", "Trang chủ"},
		{"format=jsonl&event=Product+Viewed", "Product Viewed"},
		{"format=csv&user=u2", "Order Completed"},
		{"format=jsonl&user=anon-1", "Trang chủ"},
		// Days in the workspace's time zone, both included.
		{"format=jsonl&from=2026-03-15&to=2026-03-15", "Product Viewed"},
		{"format=jsonl&from=2026-03-15", "Product Viewed,Order Completed"},
		{"format=csv&to=2026-03-14", "Trang chủ"},
	} {
		_, labels := download(tc.q)
		if got := strings.Join(labels, ","); got != tc.want {
			t.Errorf("export?%s = %q, want %q", tc.q, got, tc.want)
		}
	}
	// The other workspace's events are never in it.
	r, _ = download("format=csv")
	expectNot(t, r, "Secret", "u9")

	// Nothing to download, bad input: the page again, with the values kept.
	r = c.get("/data/export?format=jsonl&event=Nothing+Like+This")
	expect(t, r, http.StatusOK, i18n.T("vi", "data.export_none"), `value="Nothing Like This"`)
	if cd := r.header.Get("Content-Disposition"); cd != "" {
		t.Errorf("no events, yet Content-Disposition %q", cd)
	}
	r = c.get("/data/export?format=jsonl&from=15/03/2026&to=2026-03-10&user=u1")
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.date"), `value="u1"`)
	expect(t, c.get("/data/export?format=jsonl&from=2026-03-15&to=2026-03-10"), http.StatusUnprocessableEntity, i18n.T("vi", "err.date_order"))
	expect(t, c.get("/data/export?format=xml"), http.StatusUnprocessableEntity, i18n.T("vi", "err.export_format"))

	// The live events page links to the export with its filters.
	r = c.get("/events?source=" + pos.ID + "&event=Order+Completed")
	expect(t, r, http.StatusOK, i18n.T("vi", "events.export_link"),
		`href="/data?event=Order+Completed&source=`+pos.ID+`#export"`)
	r = c.get("/data?event=Order+Completed&source=" + pos.ID)
	expect(t, r, http.StatusOK, `value="Order Completed"`, `<option value="`+pos.ID+`" selected>`)

	// Viewers export too, but are not offered the import.
	e.web.now = time.Now
	viewer := e.addMember(c, "Xem", "xem@example.vn", opstore.Viewer)
	if _, lines := downloadAs(t, viewer, "format=jsonl"); len(lines) != 3 {
		t.Errorf("the viewer's export has %d events, want 3", len(lines))
	}
	expectNot(t, viewer.get("/data"), `action="/data/import"`)
}

// downloadAs downloads an export as c and returns its JSONL lines.
func downloadAs(t *testing.T, c *client, q string) (resp, []string) {
	t.Helper()
	r := c.get("/data/export?" + q)
	expect(t, r, http.StatusOK)
	var lines []string
	for l := range strings.SplitSeq(strings.TrimSpace(r.body), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return r, lines
}

var jobPathRE = regexp.MustCompile(`^/data/import/[0-9a-f]{16}$`)

func TestImportJSONL(t *testing.T) {
	e := newImportEnv(t)
	c := e.setup()
	ws := e.workspace()
	lines := []string{
		`{"type":"track","messageId":"m-1","userId":"KH001","event":"Order Completed","properties":{"revenue":1290000},"timestamp":"2026-03-15T10:30:00+07:00"}`,
		`{"type":"identify","messageId":"m-2","userId":"KH001","traits":{"phone":"0901234567"},"timestamp":"2026-03-15T10:00:00+07:00"}`,
		`{"type":"track","messageId":"m-3","userId":"KH002","properties":{"note":"no event name"},"timestamp":"2026-03-15T11:00:00+07:00"}`,
		``,
		`{"type":"page","messageId":"m-4","anonymousId":"a-1","name":"Khuyến mãi","timestamp":"2026-03-16T08:00:00+07:00"}`,
	}
	file := []byte(strings.Join(lines, "\n") + "\n")

	r := c.get("/data")
	expect(t, r, http.StatusOK, i18n.T("vi", "data.import_title"), `enctype="multipart/form-data"`, "cjm-sample.csv", "cjm-sample.jsonl")
	r = c.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Cửa hàng Quận 1"}, "new_channel": {"pos"}}, "don-hang.jsonl", file)
	if r.status != http.StatusSeeOther || !jobPathRE.MatchString(r.loc) {
		t.Fatalf("upload: %d to %q; body:\n%s", r.status, r.loc, clip(r.body))
	}
	job := r.loc
	st := c.waitImport(job)
	if st.State != string(stateDone) || st.Percent != 100 {
		t.Fatalf("import ended %+v", st)
	}
	src, err := e.ops.SourceByName(context.Background(), ws.ID, "Cửa hàng Quận 1")
	if err != nil || src.Channel != opstore.POS {
		t.Fatalf("the new source: %+v, %v", src, err)
	}
	msgs := scan(t, e, eventstore.Filter{WorkspaceID: ws.ID})
	if len(msgs) != 3 {
		t.Fatalf("%d events stored, want 3: %+v", len(msgs), msgs)
	}
	for _, m := range msgs {
		if m.SourceID != src.ID {
			t.Errorf("event %s in source %s, want %s", m.MessageID, m.SourceID, src.ID)
		}
	}

	r = c.get(job)
	expect(t, r, http.StatusOK, "don-hang.jsonl", i18n.T("vi", "import.done_title"),
		i18n.N("vi", "import.result_stored", 3), i18n.N("vi", "import.result_rejected", 1),
		i18n.T("vi", "import.errors_title"), `<td class="num">3</td>`, "missing_event", i18n.T("vi", "reason.missing_event"),
		i18n.T("vi", "import.download_rejected"), i18n.T("vi", "import.kept_note"), `href="/events?source=`+src.ID+`"`,
		`href="/rejected?source=`+src.ID+`"`)
	r = c.get(job + "/rejected")
	expect(t, r, http.StatusOK)
	if r.body != lines[2]+"\n" {
		t.Errorf("rejected lines file %q, want the third line", r.body)
	}
	if _, p, _ := mime.ParseMediaType(r.header.Get("Content-Disposition")); p["filename"] != "don-hang.rejected.jsonl" {
		t.Errorf("rejected file name %q", r.header.Get("Content-Disposition"))
	}
	// The rejected line is on the rejected events page too, with its line.
	expect(t, c.get("/rejected"), http.StatusOK, i18n.T("vi", "rejected.origin_import", "don-hang.jsonl", 3))
	// The job is listed on the page, with the restart note.
	expect(t, c.get("/data"), http.StatusOK, `href="`+job+`"`, i18n.T("vi", "data.jobs_kept"))

	// The same file again, into the existing source: nothing stored twice.
	c.get("/data")
	r = c.upload("/data/import", url.Values{"source": {src.ID}}, "don-hang.jsonl", file)
	expect(t, r, http.StatusSeeOther)
	again := r.loc
	if st := c.waitImport(again); st.State != string(stateDone) {
		t.Fatalf("second import: %+v", st)
	}
	r = c.get(again)
	expect(t, r, http.StatusOK, i18n.N("vi", "import.result_stored", 0), i18n.N("vi", "import.result_duplicates", 3))
	if n, _ := e.events.Count(context.Background(), eventstore.Filter{WorkspaceID: ws.ID}); n != 3 {
		t.Errorf("%d events after importing the file twice, want 3", n)
	}

	// In English, with plurals.
	c.post("/lang", url.Values{"lang": {"en"}})
	expect(t, c.get(again), http.StatusOK, "0 new events stored", "3 duplicates skipped", "1 line rejected")
	c.post("/lang", url.Values{"lang": {"vi"}})

	// Another workspace cannot see the job.
	stranger := e.addMember(c, "Lạ", "la@example.vn", opstore.Editor)
	if err := e.ops.RemoveMember(context.Background(), ws.ID, mustUser(t, e, "la@example.vn")); err != nil {
		t.Fatal(err)
	}
	other := opstore.Workspace{Name: "Shop khác"}
	if err := e.ops.CreateWorkspace(context.Background(), &other); err != nil {
		t.Fatal(err)
	}
	if err := e.ops.SetMember(context.Background(), other.ID, mustUser(t, e, "la@example.vn"), opstore.Owner); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{job, job + "/status", job + "/rejected"} {
		expect(t, stranger.get(p), http.StatusNotFound)
	}
}

func mustUser(t *testing.T, e *env, email string) string {
	t.Helper()
	u, err := e.ops.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

const ordersCSV = "ma_khach_hang,sdt,Sự kiện,thoi_gian,Cửa hàng,doanh_thu,ghi chú\n" +
	"KH001,0901234567,Mua hàng,15/03/2026 10:30,Quận 1,1290000,khách quen\n" +
	"KH002,0912345678,Mua hàng,15/03/2026 14:05,Quận 3,450000.5,\n" +
	"KH003,0987654321,Gọi hotline,ngày mai,,,\"gọi lại, sau 5 giờ\"\n"

func TestImportCSV(t *testing.T) {
	e := newImportEnv(t)
	c := e.setup()
	ws := e.workspace()
	src := e.createSource("Cửa hàng", opstore.POS)
	c.get("/data")
	r := c.upload("/data/import", url.Values{"source": {src.ID}}, "don hàng.csv", []byte("\ufeff"+ordersCSV))
	if r.status != http.StatusSeeOther || !jobPathRE.MatchString(r.loc) {
		t.Fatalf("upload: %d to %q; body:\n%s", r.status, r.loc, clip(r.body))
	}
	job := r.loc

	// The preview and the guessed mapping.
	r = c.get(job)
	expect(t, r, http.StatusOK, i18n.T("vi", "mapping.preview_title"), "<td>Mua hàng</td>", "<td>0912345678</td>",
		"<th scope=\"col\">ghi chú</th>", i18n.T("vi", "mapping.start"))
	selected := func(body, field string) string {
		t.Helper()
		m := regexp.MustCompile(`(?s)<select id="` + field + `" name="` + field + `".*?</select>`).FindString(body)
		if m == "" {
			t.Fatalf("no select %s", field)
		}
		if s := regexp.MustCompile(`<option value="([^"]*)" selected>`).FindStringSubmatch(m); s != nil {
			return s[1]
		}
		return ""
	}
	for field, want := range map[string]string{"t_userId": "ma_khach_hang", "t_event": "Sự kiện", "t_timestamp": "thoi_gian",
		"t_anonymousId": "", "t_messageId": "", "t_type": "", "t_name": ""} {
		if got := selected(r.body, field); got != want {
			t.Errorf("%s defaults to %q, want %q", field, got, want)
		}
	}
	for _, want := range []string{`name="x1_key" value="phone"`, `name="x4_key" value="cua_hang"`, `name="x5_key" value="doanh_thu"`,
		`name="x6_key" value="ghi_chu"`, `name="x0_key" value=""`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the mapping lacks %s", want)
		}
	}
	if !regexp.MustCompile(`(?s)name="x1_to".*?<option value="traits" selected>`).MatchString(r.body) {
		t.Error("sdt is not kept as a customer trait by default")
	}

	// The defaults, as the browser sends them.
	form := url.Values{
		"t_userId": {"ma_khach_hang"}, "t_anonymousId": {""}, "t_event": {"Sự kiện"}, "t_timestamp": {"thoi_gian"},
		"t_messageId": {""}, "t_type": {""}, "t_name": {""},
		"x0_to": {""}, "x0_key": {""}, "x1_to": {"traits"}, "x1_key": {"phone"}, "x2_to": {""}, "x2_key": {""},
		"x3_to": {""}, "x3_key": {""}, "x4_to": {"properties"}, "x4_key": {"cua_hang"},
		"x5_to": {"properties"}, "x5_key": {"doanh_thu"}, "x6_to": {"properties"}, "x6_key": {"ghi_chu"},
		"time_format": {""}, "time_custom": {""}, "timezone": {"Asia/Ho_Chi_Minh"},
	}
	r = c.post(job, form)
	expect(t, r, http.StatusSeeOther)
	if st := c.waitImport(job); st.State != string(stateDone) {
		t.Fatalf("import: %+v", st)
	}
	msgs := scan(t, e, eventstore.Filter{WorkspaceID: ws.ID})
	if len(msgs) != 2 {
		t.Fatalf("%d events stored, want 2", len(msgs))
	}
	m := msgs[0]
	if m.UserID != "KH001" || m.Event != "Mua hàng" || m.Type != event.Track || m.SourceID != src.ID ||
		!m.Timestamp.Equal(time.Date(2026, 3, 15, 3, 30, 0, 0, time.UTC)) {
		t.Errorf("first event: %+v", m)
	}
	var props map[string]any
	if err := json.Unmarshal(m.Properties, &props); err != nil {
		t.Fatal(err)
	}
	if props["doanh_thu"] != float64(1290000) || props["cua_hang"] != "Quận 1" || props["ghi_chu"] != "khách quen" {
		t.Errorf("properties %s: revenue must be a number", m.Properties)
	}
	if string(m.Traits) != `{"phone":"0901234567"}` {
		t.Errorf("traits %s: the phone number stays text", m.Traits)
	}
	if !strings.Contains(string(msgs[1].Properties), `"doanh_thu":450000.5`) {
		t.Errorf("second event's properties %s", msgs[1].Properties)
	}
	r = c.get(job)
	expect(t, r, http.StatusOK, i18n.N("vi", "import.result_stored", 2), i18n.N("vi", "import.result_rejected", 1),
		"invalid_timestamp", `<td class="num">4</td>`)
	r = c.get(job + "/rejected")
	expect(t, r, http.StatusOK)
	if want := "ma_khach_hang,sdt,Sự kiện,thoi_gian,Cửa hàng,doanh_thu,ghi chú\nKH003,0987654321,Gọi hotline,ngày mai,,,\"gọi lại, sau 5 giờ\"\n"; r.body != want {
		t.Errorf("rejected lines:\n%q\nwant\n%q", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("rejected lines content type %q", ct)
	}
	// Started once: a second submit goes to the job page.
	expect(t, c.post(job, form), http.StatusSeeOther)
}

func TestImportMappingErrors(t *testing.T) {
	e := newImportEnv(t)
	c := e.setup()
	c.get("/data")
	r := c.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Hotline"}, "new_channel": {"hotline"}}, "goi.tsv",
		[]byte("phone\taction\ttime\tnote\n0901\tCalled\t2026-03-15 10:00\thi\n"))
	expect(t, r, http.StatusSeeOther)
	job := r.loc
	r = c.get(job)
	expect(t, r, http.StatusOK, "<td>Called</td>")
	if srcs, _ := e.ops.Sources(context.Background(), e.workspace().ID); len(srcs) != 0 {
		t.Errorf("the new source was created before the import started: %+v", srcs)
	}

	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no customer", url.Values{"t_event": {"action"}, "t_timestamp": {"time"}, "timezone": {"UTC"}}, "t_userId", "err.map_identity"},
		{"no time", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "timezone": {"UTC"}}, "t_timestamp", "err.map_time"},
		{"no event", url.Values{"t_userId": {"phone"}, "timezone": {"UTC"}}, "t_event", "err.map_event"},
		{"unknown column", url.Values{"t_userId": {"nope"}, "t_event": {"action"}, "timezone": {"UTC"}}, "t_userId", "err.map_column"},
		{"bad key", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "x3_to": {"properties"}, "x3_key": {"a,b=c"}, "timezone": {"UTC"}}, "x3_key", "err.map_key"},
		{"empty key", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "x3_to": {"traits"}, "timezone": {"UTC"}}, "x3_key", "err.required"},
		{"twice", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "x0_to": {"traits"}, "x0_key": {"note"}, "x3_to": {"traits"}, "x3_key": {"note"}, "timezone": {"UTC"}}, "x3_key", "err.map_twice"},
		{"bad kind", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "x3_to": {"secrets"}, "x3_key": {"k"}, "timezone": {"UTC"}}, "x3_to", "err.map_kind"},
		{"custom time, empty", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "time_format": {"custom"}, "timezone": {"UTC"}}, "time_custom", "err.required"},
		{"unknown preset", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "time_format": {"%s"}, "timezone": {"UTC"}}, "time_format", "err.time_format"},
		{"bad zone", url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "timezone": {"Mars/Base"}}, "timezone", "err.timezone"},
	} {
		r := c.post(job, tc.form)
		expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "mapping.fix"))
		if !strings.Contains(r.body, `id="`+tc.field+`-err">`+esc(i18n.T("vi", tc.want))) {
			t.Errorf("%s: no %s next to %s; body:\n%s", tc.name, tc.want, tc.field, clip(r.body))
		}
		// The entered values are kept (those of text fields: a select shows
		// only its options).
		for k, v := range tc.form {
			if (strings.HasSuffix(k, "_key") || k == "timezone") && v[0] != "" && !strings.Contains(r.body, `value="`+esc(v[0])+`"`) {
				t.Errorf("%s: the value %s=%q is not kept", tc.name, k, v[0])
			}
		}
	}
	if n, _ := e.events.Count(context.Background(), eventstore.Filter{WorkspaceID: e.workspace().ID}); n != 0 {
		t.Errorf("%d events stored by refused mappings", n)
	}
	// A good mapping then runs, into the source created now.
	r = c.post(job, url.Values{"t_userId": {"phone"}, "t_event": {"action"}, "t_timestamp": {"time"}, "time_format": {"custom"},
		"time_custom": {"%Y-%m-%d %H:%M"}, "timezone": {"Asia/Ho_Chi_Minh"}})
	expect(t, r, http.StatusSeeOther)
	if st := c.waitImport(job); st.State != string(stateDone) || st.Stats["stored"] != "1" {
		t.Fatalf("import: %+v", st)
	}
	msgs := scan(t, e, eventstore.Filter{WorkspaceID: e.workspace().ID})
	if len(msgs) != 1 || msgs[0].UserID != "0901" || !msgs[0].Timestamp.Equal(time.Date(2026, 3, 15, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("stored %+v", msgs)
	}
	if src, err := e.ops.SourceByName(context.Background(), e.workspace().ID, "Hotline"); err != nil || msgs[0].SourceID != src.ID {
		t.Errorf("source: %+v, %v", src, err)
	}
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestUploadRefused(t *testing.T) {
	e := newImportEnv(t)
	owner := e.setup()
	dir := filepath.Join(e.web.imports.base, "imports")
	jsonl := []byte(`{"type":"track","userId":"u","event":"E"}` + "\n")
	files := func() []string {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, en := range entries {
			names = append(names, en.Name())
		}
		return names
	}

	// A viewer may not upload.
	viewer := e.addMember(owner, "Xem", "xem@example.vn", opstore.Viewer)
	viewer.get("/data")
	r := viewer.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"X"}, "new_channel": {"pos"}}, "a.jsonl", jsonl)
	expect(t, r, http.StatusForbidden, i18n.T("vi", "error.forbidden_title"))

	// No CSRF token, a wrong one, a token after the file: refused.
	owner.get("/data")
	good := owner.csrf
	for name, fields := range map[string]url.Values{
		"no token":    {"csrf": {""}, "source": {"new"}, "new_name": {"X"}, "new_channel": {"pos"}},
		"wrong token": {"csrf": {"x" + good[1:]}, "source": {"new"}, "new_name": {"X"}, "new_channel": {"pos"}},
	} {
		r := owner.upload("/data/import", fields, "a.jsonl", jsonl)
		expect(t, r, http.StatusForbidden, i18n.T("vi", "error.csrf_title"))
		_ = name
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", "a.jsonl")
	_, _ = fw.Write(jsonl)
	_ = w.WriteField("csrf", good)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/data/import", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	expect(t, owner.do(req), http.StatusForbidden)
	if len(files()) != 0 || len(e.web.imports.list(e.workspace().ID)) != 0 {
		t.Fatalf("refused uploads left files %v", files())
	}

	// Form errors, with the entered values kept.
	for _, tc := range []struct {
		name   string
		fields url.Values
		file   string
		body   []byte
		status int
		field  string
		want   string
	}{
		{"no source", url.Values{}, "a.jsonl", jsonl, 422, "source", i18n.T("vi", "err.source_choose")},
		{"no name", url.Values{"source": {"new"}, "new_channel": {"pos"}}, "a.jsonl", jsonl, 422, "new_name", i18n.T("vi", "err.required")},
		{"no file", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "", nil, 422, "file", i18n.T("vi", "err.file_required")},
		{"excel", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.xlsx", []byte("PK"), 422, "file", i18n.T("vi", "err.file_type")},
		{"empty", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.csv", nil, 422, "file", i18n.T("vi", "err.file_empty")},
		{"json array", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.json", []byte(` [{"type":"track"}]`), 422, "file", i18n.T("vi", "err.file_json_array")},
		{"too large", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.jsonl", bytes.Repeat(jsonl, 100), 413, "file",
			i18n.T("vi", "err.file_too_large", fileSize("vi", 1000))},
	} {
		e.web.maxUpload = 1000
		owner.get("/data")
		r := owner.upload("/data/import", tc.fields, tc.file, tc.body)
		expect(t, r, tc.status)
		if !strings.Contains(r.body, `id="`+tc.field+`-err">`+esc(tc.want)) {
			t.Errorf("%s: no %q next to %s; body:\n%s", tc.name, tc.want, tc.field, clip(r.body))
		}
		if v := tc.fields.Get("new_name"); v != "" && !strings.Contains(r.body, `value="`+v+`"`) {
			t.Errorf("%s: the source name is not kept", tc.name)
		}
	}
	if len(files()) != 0 {
		t.Errorf("refused uploads left files %v", files())
	}
	if srcs, _ := e.ops.Sources(context.Background(), e.workspace().ID); len(srcs) != 0 {
		t.Errorf("refused uploads created sources %+v", srcs)
	}

	// One import at a time per workspace.
	e.web.maxUpload = defaultMaxUpload
	running := &importJob{ID: "00000000000000aa", WorkspaceID: e.workspace().ID, File: "big.csv", Format: "csv", Created: time.Now(), state: stateRunning}
	e.web.imports.add(running, time.Now())
	r = owner.get("/data")
	expect(t, r, http.StatusOK, i18n.T("vi", "data.import_running"), `href="/data/import/00000000000000aa"`)
	r = owner.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.jsonl", jsonl)
	expect(t, r, http.StatusUnprocessableEntity, i18n.T("vi", "err.import_running"))
	running.finish(fileimport.Summary{}, nil, time.Now())
	owner.get("/data")
	r = owner.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.jsonl", jsonl)
	expect(t, r, http.StatusSeeOther)
	if st := owner.waitImport(r.loc); st.State != string(stateDone) {
		t.Errorf("after the other import: %+v", st)
	}
}

// Every page of an import renders in both languages without a raw key.
func TestImportPagesHaveNoRawKeys(t *testing.T) {
	e := newImportEnv(t)
	c := e.setup()
	c.get("/data")
	r := c.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Kho"}, "new_channel": {"pos"}}, "a.csv", []byte(ordersCSV))
	mapping := r.loc
	c.get("/data")
	r = c.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Web"}, "new_channel": {"website"}}, "b.jsonl",
		[]byte("{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"}\n{\"type\":\"track\"}\n"))
	done := r.loc
	c.waitImport(done)
	keyRE := regexp.MustCompile(`\b(?:nav|err|data|import|mapping|fmt|reason|field|events)\.[a-z0-9_.]+[a-z0-9]\b`)
	for _, lang := range i18n.Langs {
		c.get("/")
		c.post("/lang", url.Values{"lang": {lang}})
		for _, p := range []string{"/data", mapping, done, "/data/export?format=jsonl&event=none"} {
			r := c.get(p)
			text := regexp.MustCompile(`(?s)<pre.*?</pre>|<script.*?</script>|(href|src|action|id|for|class|aria-[a-z]+|name|value|list|data-[a-z-]+|download)="[^"]*"`).ReplaceAllString(r.body, "")
			if k := keyRE.FindString(text); k != "" {
				t.Errorf("%s %s shows the raw key %q", lang, p, k)
			}
		}
	}
	for _, c := range coreTargets {
		for _, k := range []string{c.Label, c.Hint} {
			if !i18n.Has(k) {
				t.Errorf("catalog lacks %q", k)
			}
		}
	}
	for _, k := range objectKinds {
		if !i18n.Has("mapping.kind_" + k) {
			t.Errorf("catalog lacks mapping.kind_%s", k)
		}
	}
}

func TestDefaultMapping(t *testing.T) {
	for _, tc := range []struct {
		header string
		row    string
		want   map[string]string
	}{
		{"Mã khách hàng,Số điện thoại,Hành động,Thời gian,Email", "KH1,0901,Mua,15/03/2026,a@b.vn",
			map[string]string{"t_userId": "Mã khách hàng", "t_event": "Hành động", "t_timestamp": "Thời gian", "x1_key": "phone", "x1_to": "traits", "x4_to": "traits", "x4_key": "email"}},
		{"CustomerID,Event,Date,type", "1,Buy,2026-03-15,Áo",
			map[string]string{"t_userId": "CustomerID", "t_event": "Event", "t_timestamp": "Date", "t_type": "", "x3_to": "properties", "x3_key": "type"}},
		{"sdt,su_kien,ngay,type,Doanh thu (VND)", "0901,Mua,15/03/2026,track,100",
			map[string]string{"t_userId": "sdt", "t_event": "su_kien", "t_timestamp": "ngay", "t_type": "type", "x0_to": "", "x4_key": "doanh_thu_vnd"}},
		{"device_id,action,time,a,A", "d1,Open,1710000000,1,2",
			map[string]string{"t_anonymousId": "device_id", "t_userId": "", "x3_key": "a", "x4_key": "a_2"}},
	} {
		p := &csvPreview{Header: tc.header, Columns: strings.Split(tc.header, ","), Rows: [][]string{strings.Split(tc.row, ",")}}
		f := defaultMapping(p, "Asia/Ho_Chi_Minh")
		for k, want := range tc.want {
			if got := f.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.header, k, got, want)
			}
		}
	}
}

// Close stops a running import and waits for it: the server can shut down
// without pulling the stores from under it.
func TestCloseStopsRunningImports(t *testing.T) {
	e := newImportEnv(t)
	c := e.setup()
	var b strings.Builder
	for i := range 300000 {
		fmt.Fprintf(&b, `{"type":"track","messageId":"m-%d","userId":"KH%d","event":"Viewed","timestamp":"2026-03-15T10:30:00+07:00"}`+"\n", i, i%1000)
	}
	c.get("/data")
	r := c.upload("/data/import", url.Values{"source": {"new"}, "new_name": {"Lớn"}, "new_channel": {"other"}}, "lon.jsonl", []byte(b.String()))
	if r.status != http.StatusSeeOther {
		t.Fatalf("upload: %d", r.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := (&UI{e.web}).Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// No waiting: once Close returned, the job has ended.
	sr := c.get(r.loc + "/status")
	var st jobStatus
	if err := json.Unmarshal([]byte(sr.body), &st); err != nil {
		t.Fatal(err)
	}
	if st.State == string(stateRunning) {
		t.Errorf("import still running after Close: %+v", st)
	}
}
