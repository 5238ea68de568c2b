package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/export"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// The Import & export page: download the workspace's events as a file, and
// upload files of events (see imports.go).

// dataData is the Import & export page.
type dataData struct {
	Export     *form
	ExportNote string // catalog key of a note on the export form
	Upload     *form
	Sources    []opstore.Source
	Types      []event.Type
	Names      []eventstore.NameCount
	Jobs       []jobView
	Running    string // the id of the workspace's running import, if any
	ImportOn   bool   // false when the server has no pipeline to import with
	MaxUpload  string // the largest file, as people read it
	MaxBytes   int64
	Zone       string
	Today      string // yyyy-mm-dd in the workspace's time zone, the latest date to pick
}

func (s *server) dataPage(q *req) error {
	ex := newForm(q.r.URL.Query())
	if ex.Get("format") == "" {
		ex.Values.Set("format", "jsonl")
	}
	return s.dataRender(q, ex, nil, "", http.StatusOK)
}

// dataRender renders the page with the export form ex and the upload form up
// (nil for a fresh one).
func (s *server) dataRender(q *req, ex, up *form, note string, status int) error {
	d := dataData{Export: ex, ExportNote: note, Upload: up, Types: event.Types,
		ImportOn: s.pipeline != nil, MaxUpload: fileSize(q.lang, s.maxUpload), MaxBytes: s.maxUpload,
		Today: s.now().In(q.loc).Format(time.DateOnly)}
	var err error
	if d.Sources, _, err = s.sourceNames(q); err != nil {
		return err
	}
	if d.Names, err = s.events.EventNames(q.ctx, q.ws.ID, 200); err != nil {
		return err
	}
	if d.Upload == nil {
		d.Upload = newForm(nil)
		d.Upload.Values.Set("new_channel", string(opstore.Other))
		if len(d.Sources) == 0 {
			d.Upload.Values.Set("source", "new")
		}
	}
	names := make(map[string]string, len(d.Sources))
	for _, src := range d.Sources {
		names[src.ID] = src.Name
	}
	for _, j := range s.imports.list(q.ws.ID) {
		v := j.view(q.lang, names, s.now())
		if v.Running {
			d.Running = v.ID
		}
		d.Jobs = append(d.Jobs, v)
	}
	p := q.page("data.title", "nav.data", &d)
	d.Zone = p.Zone()
	s.render(q, status, "data", p)
	return nil
}

// exportQuery is a checked export form.
type exportQuery struct {
	format string
	filter eventstore.Filter
}

// checkExport checks the export form f: the format, and filters like the
// live events page's plus a range of days (both included) in the
// workspace's time zone.
func (s *server) checkExport(q *req, f *form) exportQuery {
	x := exportQuery{format: f.Get("format")}
	if !slices.Contains(export.Formats, x.format) {
		f.Fail("format", "err.export_format")
	}
	ef := eventFilter{Source: f.Get("source"), Type: f.Get("type"), Event: f.Get("event"), User: f.Get("user")}
	if ef.Type != "" && !event.Type(ef.Type).Valid() {
		f.Fail("type", "err.event_type")
	}
	x.filter = ef.store(q.ws.ID)
	day := func(field string) time.Time {
		v := f.Get(field)
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, v, q.loc)
		if err != nil {
			f.Fail(field, "err.date")
		}
		return t
	}
	from, to := day("from"), day("to")
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		f.Fail("to", "err.date_order")
	}
	x.filter.From = from
	if !to.IsZero() {
		x.filter.To = to.AddDate(0, 0, 1)
	}
	return x
}

// exportEvents downloads the workspace's events that match the export form
// as a file, streamed as it is read from the store.
func (s *server) exportEvents(q *req) error {
	f := newForm(q.r.URL.Query())
	x := s.checkExport(q, f)
	if !f.OK() {
		return s.dataRender(q, f, nil, "", http.StatusUnprocessableEntity)
	}
	n, err := s.events.Count(q.ctx, x.filter)
	if err != nil {
		return err
	}
	if n == 0 {
		return s.dataRender(q, f, nil, "data.export_none", http.StatusOK)
	}
	name := fmt.Sprintf("cjm-events-%s.%s", s.now().In(q.loc).Format("20060102"), x.format)
	h := q.w.Header()
	out := &downloadWriter{w: q.w}
	switch x.format {
	case "csv":
		h.Set("Content-Type", "text/csv; charset=utf-8")
		// Excel reads a CSV file as UTF-8 (Vietnamese text) only after a
		// byte order mark; cjm import and most tools skip it.
		out.prefix = []byte("\ufeff")
	default:
		h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	}
	h.Set("Content-Disposition", attachment(name))
	h.Set("Cache-Control", "no-store")
	written, err := export.Write(q.ctx, s.events, x.filter, x.format, out)
	if err != nil {
		return out.failed(q, err)
	}
	s.log.Info("events exported", "workspace", q.ws.ID, "user", q.user.ID, "format", x.format, "events", written)
	return nil
}

// attachment is the Content-Disposition of a download named name.
func attachment(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// downloadWriter writes a download: prefix before the first byte, and
// whether anything was sent, which decides how a failure is told.
type downloadWriter struct {
	w      io.Writer
	prefix []byte
	sent   bool
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	d.sent = true
	if d.prefix != nil {
		if _, err := d.w.Write(d.prefix); err != nil {
			return 0, err
		}
		d.prefix = nil
	}
	return d.w.Write(p)
}

// failed reports err: as an error page when nothing was sent yet, else by
// breaking the connection, so the browser says the download failed instead
// of keeping a cut-off file.
func (d *downloadWriter) failed(q *req, err error) error {
	if !d.sent || errors.Is(err, context.Canceled) {
		for _, k := range []string{"Content-Disposition", "Content-Type"} {
			q.w.Header().Del(k)
		}
		return err
	}
	q.s.log.Error("download failed midway", "path", q.r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// fileSize writes n bytes as people read it: "850 KB", "1.2 GB" ("1,2 GB"
// in Vietnamese).
func fileSize(lang string, n int64) string {
	if n < 1024 {
		return i18n.T(lang, "fmt.bytes", i18n.Number(lang, n))
	}
	units := []string{"KB", "MB", "GB", "TB"}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	num := strconv.FormatFloat(v, 'f', 1, 64)
	if v >= 100 {
		num = strconv.FormatFloat(v, 'f', 0, 64)
	}
	num = strings.TrimSuffix(num, ".0")
	return strings.Replace(num, ".", i18n.T(lang, "fmt.decimal"), 1) + " " + units[u]
}
