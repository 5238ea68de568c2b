package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cjmhq/cjm/fileimport"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// File imports from the browser. A file is uploaded into the import
// directory; a CSV file then gets its column mapping; the import runs in the
// background through fileimport and the pipeline, as `cjm import` does,
// while its page shows the progress. Import jobs live in memory: a restart
// forgets them (not the events they stored).

const (
	defaultMaxUpload = 1 << 30
	// uploadTimeout is how long reading an upload may take: the server's
	// read timeout is made for forms, not for a large file on a slow line.
	uploadTimeout = 2 * time.Hour
	jobsKept      = 20             // finished imports kept per workspace
	mappingTTL    = 24 * time.Hour // how long an uploaded CSV file waits for its mapping
	errorsShown   = 50             // rejected lines listed on an import's page
	// flushTimeout bounds the wait for the event store to load an import's
	// events; they are durable before it, and load later if it runs out.
	flushTimeout = 10 * time.Minute
)

type importState string

const (
	stateMapping importState = "mapping" // a CSV file waits for its column mapping
	stateRunning importState = "running"
	stateDone    importState = "done"
	stateFailed  importState = "failed"
)

var errImportRunning = errors.New("an import is running in this workspace")

// importJob is one uploaded file and its import.
type importJob struct {
	ID, WorkspaceID string
	File            string // the name of the uploaded file
	Format          fileimport.Format
	Size            int64
	Created         time.Time
	path            string      // the uploaded file, removed when the import ends
	rejects         string      // the rejected lines, kept for download
	preview         *csvPreview // CSV files only

	mu                sync.Mutex
	state             importState
	source            sourceChoice
	started, finished time.Time
	progress          fileimport.Progress
	loading           bool // every line is stored; the event store is loading them
	summary           fileimport.Summary
	err               string
}

// sourceChoice is the source an import goes to: an existing one (id), or
// one to create when the import starts (name and channel).
type sourceChoice struct {
	id, name string
	channel  opstore.Channel
}

// importJobs are the import jobs of the server, and their files.
type importJobs struct {
	base string // Config.ImportDir

	mu   sync.Mutex
	dir  string // created on first use
	jobs map[string]*importJob
}

func newImportJobs(base string) *importJobs {
	return &importJobs{base: base, jobs: map[string]*importJob{}}
}

// directory returns the directory of uploaded and rejected files, created
// on first use.
func (js *importJobs) directory() (string, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.dir != "" {
		return js.dir, nil
	}
	var dir string
	var err error
	if js.base == "" {
		dir, err = os.MkdirTemp("", "cjm-imports-")
	} else {
		// Files left by an earlier run belong to jobs it forgot.
		dir = filepath.Join(js.base, "imports")
		if err = os.RemoveAll(dir); err == nil {
			err = os.MkdirAll(dir, 0o750)
		}
	}
	if err != nil {
		return "", fmt.Errorf("import directory: %w", err)
	}
	js.dir = dir
	return dir, nil
}

// receive writes the uploaded file part to the import directory, at most
// limit bytes (else an *http.MaxBytesError), and returns its job.
func (js *importJobs) receive(part *multipart.Part, format fileimport.Format, ws string, limit int64, now time.Time) (*importJob, error) {
	dir, err := js.directory()
	if err != nil {
		return nil, err
	}
	id := newJobID()
	j := &importJob{ID: id, WorkspaceID: ws, File: uploadName(part.FileName()), Format: format, Created: now,
		path: filepath.Join(dir, "upload-"+id), rejects: filepath.Join(dir, "rejected-"+id), state: stateMapping}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	j.Size, err = io.Copy(f, io.LimitReader(part, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && j.Size > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err != nil {
		_ = os.Remove(j.path)
		return nil, err
	}
	return j, nil
}

func newJobID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uploadName is the name of an uploaded file as it is shown and recorded.
func uploadName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	if utf8.RuneCountInString(name) > 120 {
		name = string([]rune(name)[:120])
	}
	if name == "" || name == "." || name == "/" {
		name = "upload"
	}
	return name
}

// add registers j, and forgets old jobs: finished ones beyond the last
// jobsKept of a workspace, and files that waited too long for a mapping.
func (js *importJobs) add(j *importJob, now time.Time) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.jobs[j.ID] = j
	finished := map[string][]*importJob{}
	for _, o := range js.jobs {
		o.mu.Lock()
		state := o.state
		o.mu.Unlock()
		switch {
		case state == stateMapping && now.Sub(o.Created) > mappingTTL:
			js.forget(o)
		case state == stateDone || state == stateFailed:
			finished[o.WorkspaceID] = append(finished[o.WorkspaceID], o)
		}
	}
	for _, jobs := range finished {
		if len(jobs) <= jobsKept {
			continue
		}
		newestFirst(jobs)
		for _, o := range jobs[jobsKept:] {
			js.forget(o)
		}
	}
}

// drop forgets j and its files.
func (js *importJobs) drop(j *importJob) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.forget(j)
}

// forget drops j and its files; js.mu is held.
func (js *importJobs) forget(j *importJob) {
	delete(js.jobs, j.ID)
	_ = os.Remove(j.path)
	_ = os.Remove(j.rejects)
}

func newestFirst(jobs []*importJob) {
	slices.SortFunc(jobs, func(a, b *importJob) int { return b.Created.Compare(a.Created) })
}

// get returns the job id of workspace ws, or nil.
func (js *importJobs) get(id, ws string) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	if j := js.jobs[id]; j != nil && j.WorkspaceID == ws {
		return j
	}
	return nil
}

// list returns the jobs of workspace ws, newest first.
func (js *importJobs) list(ws string) []*importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	var out []*importJob
	for _, j := range js.jobs {
		if j.WorkspaceID == ws {
			out = append(out, j)
		}
	}
	newestFirst(out)
	return out
}

// running returns the running job of workspace ws, or nil.
func (js *importJobs) running(ws string) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.runningLocked(ws)
}

func (js *importJobs) runningLocked(ws string) *importJob {
	for _, j := range js.jobs {
		if j.WorkspaceID != ws {
			continue
		}
		j.mu.Lock()
		running := j.state == stateRunning
		j.mu.Unlock()
		if running {
			return j
		}
	}
	return nil
}

// start marks j running into src, unless another import of its workspace
// runs (errImportRunning): one import at a time per workspace.
func (js *importJobs) start(j *importJob, src opstore.Source, now time.Time) error {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.runningLocked(j.WorkspaceID) != nil {
		return errImportRunning
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != stateMapping {
		return fmt.Errorf("import %s is %s", j.ID, j.state)
	}
	j.state, j.started = stateRunning, now
	j.source = sourceChoice{id: src.ID, name: src.Name, channel: src.Channel}
	return nil
}

func (j *importJob) setProgress(p fileimport.Progress) {
	j.mu.Lock()
	j.progress = p
	j.mu.Unlock()
}

func (j *importJob) setLoading(sum fileimport.Summary) {
	j.mu.Lock()
	j.loading, j.progress = true, sum.Progress
	j.mu.Unlock()
}

func (j *importJob) finish(sum fileimport.Summary, err error, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.summary, j.progress, j.finished, j.loading = sum, sum.Progress, now, false
	j.state = stateDone
	if err != nil {
		j.state, j.err = stateFailed, err.Error()
	}
}

// check looks at the start of an uploaded file and returns the catalog key
// of what is wrong with it, or "". A CSV file gets its preview.
func (j *importJob) check() string {
	if j.Size == 0 {
		return "err.file_empty"
	}
	if j.Format == fileimport.CSV {
		p, err := readPreview(j.path)
		if err != nil {
			return "err.file_csv"
		}
		j.preview = p
		return ""
	}
	f, err := os.Open(j.path)
	if err != nil {
		return "err.file_unreadable"
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for {
		r, _, err := br.ReadRune()
		if err != nil {
			return "err.file_empty"
		}
		switch r {
		case ' ', '\t', '\r', '\n', '\ufeff':
			continue
		case '[':
			return "err.file_json_array"
		case '{':
			return ""
		}
		return "err.file_not_jsonl"
	}
}

// formatOf is the format of a file, by its extension ("" for none cjm reads).
func formatOf(name string) fileimport.Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".json", ".ndjson":
		return fileimport.JSONL
	case ".csv", ".tsv":
		return fileimport.CSV
	}
	return ""
}

// Handlers.

// uploadImport receives a file to import (multipart: the CSRF token and the
// source first, then the file). A JSONL file starts importing at once; a
// CSV file goes to its page for the column mapping.
func (s *server) uploadImport(q *req) error {
	if s.pipeline == nil {
		return errNotFound
	}
	f := newForm(q.r.PostForm)
	choice, err := s.checkSourceChoice(q, f)
	if err != nil {
		return err
	}
	if s.imports.running(q.ws.ID) != nil {
		f.Fail("file", "err.import_running")
	}
	var format fileimport.Format
	if q.file == nil || q.file.FileName() == "" {
		f.Fail("file", "err.file_required")
	} else if format = formatOf(q.file.FileName()); format == "" {
		f.Fail("file", "err.file_type")
	}
	if !f.OK() {
		return s.dataRender(q, exportDefaults(), f, "", http.StatusUnprocessableEntity)
	}
	// A large file takes longer than the server's read timeout allows a form.
	_ = http.NewResponseController(q.w).SetReadDeadline(time.Now().Add(uploadTimeout))
	j, err := s.imports.receive(q.file, format, q.ws.ID, s.maxUpload, s.now())
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		f.Fail("file", "err.file_too_large")
		return s.dataRender(q, exportDefaults(), f, "", http.StatusRequestEntityTooLarge)
	} else if err != nil {
		return err
	}
	// Fields after the file, if any, are read and ignored.
	if _, err := readParts(q.parts, url.Values{}); err != nil {
		s.log.Warn("reading the rest of an upload form", "err", err)
	}
	if key := j.check(); key != "" {
		_ = os.Remove(j.path)
		f.Fail("file", key)
		return s.dataRender(q, exportDefaults(), f, "", http.StatusUnprocessableEntity)
	}
	j.source = choice
	s.imports.add(j, s.now())
	s.log.Info("file uploaded for import", "workspace", q.ws.ID, "user", q.user.ID, "import", j.ID, "file", j.File, "bytes", j.Size)
	if j.Format == fileimport.JSONL {
		if err := s.launch(q, j, fileimport.Options{}); err != nil {
			s.imports.drop(j)
			if errors.Is(err, errImportRunning) { // another started meanwhile
				f.Fail("file", "err.import_running")
				return s.dataRender(q, exportDefaults(), f, "", http.StatusConflict)
			}
			return err
		}
	}
	return q.redirect("/data/import/"+j.ID, "")
}

func exportDefaults() *form {
	f := newForm(nil)
	f.Values.Set("format", "jsonl")
	return f
}

// checkSourceChoice checks the source fields of the upload form: an
// existing source of the workspace, or "new" with a name and a channel.
func (s *server) checkSourceChoice(q *req, f *form) (sourceChoice, error) {
	switch v := f.Get("source"); v {
	case "":
		f.Fail("source", "err.source_choose")
	case "new":
		checkName(f, "new_name")
		ch := opstore.Channel(f.Get("new_channel"))
		if !ch.Valid() {
			f.Fail("new_channel", "err.channel")
		}
		if f.Err("new_name") == "" {
			if _, err := s.ops.SourceByName(q.ctx, q.ws.ID, f.Get("new_name")); err == nil {
				f.Fail("new_name", "err.source_exists")
			} else if !errors.Is(err, opstore.ErrNotFound) {
				return sourceChoice{}, err
			}
		}
		return sourceChoice{name: f.Get("new_name"), channel: ch}, nil
	default:
		src, err := s.ops.Source(q.ctx, v)
		if errors.Is(err, opstore.ErrNotFound) || err == nil && src.WorkspaceID != q.ws.ID {
			f.Fail("source", "err.source_choose")
			return sourceChoice{}, nil
		} else if err != nil {
			return sourceChoice{}, err
		}
		return sourceChoice{id: src.ID, name: src.Name, channel: src.Channel}, nil
	}
	return sourceChoice{}, nil
}

// launch starts importing j with o (its format settings) in the background.
func (s *server) launch(q *req, j *importJob, o fileimport.Options) error {
	if s.imports.running(q.ws.ID) != nil {
		return errImportRunning
	}
	src, err := s.importSource(q, j)
	if err != nil {
		return err
	}
	if err := s.imports.start(j, src, s.now()); err != nil {
		return err
	}
	o.Pipeline, o.WorkspaceID, o.SourceID, o.Format, o.Name = s.pipeline, j.WorkspaceID, src.ID, j.Format, j.File
	s.log.Info("import started", "workspace", j.WorkspaceID, "user", q.user.ID, "import", j.ID, "source", src.ID)
	s.bgWait.Add(1)
	go func() {
		defer s.bgWait.Done()
		s.runImport(j, o)
	}()
	return nil
}

// importSource returns the source j goes to, creating it if the uploader
// asked for a new one (or the one of that name, if it was created since).
func (s *server) importSource(q *req, j *importJob) (opstore.Source, error) {
	j.mu.Lock()
	c := j.source
	j.mu.Unlock()
	if c.id != "" {
		src, err := s.ops.Source(q.ctx, c.id)
		if err == nil && src.WorkspaceID != q.ws.ID {
			err = errNotFound
		}
		return src, err
	}
	src, err := s.ops.SourceByName(q.ctx, q.ws.ID, c.name)
	if !errors.Is(err, opstore.ErrNotFound) {
		return src, err
	}
	src = opstore.Source{WorkspaceID: q.ws.ID, Name: c.name, Channel: c.channel}
	if err := s.ops.CreateSource(q.ctx, &src); errors.Is(err, opstore.ErrConflict) {
		return s.ops.SourceByName(q.ctx, q.ws.ID, c.name)
	} else if err != nil {
		return src, err
	}
	s.log.Info("source created", "workspace", q.ws.ID, "source", src.ID, "user", q.user.ID)
	return src, nil
}

// runImport imports j's file, then waits until the event store has loaded
// its events, so they show on the other pages when the job says done.
func (s *server) runImport(j *importJob, o fileimport.Options) {
	var sum fileimport.Summary
	err := func() error {
		defer os.Remove(j.path)
		f, err := os.Open(j.path)
		if err != nil {
			return err
		}
		defer f.Close()
		rej := &fileimport.RejectsFile{Path: j.rejects}
		o.Rejects, o.Progress = rej, j.setProgress
		sum, err = fileimport.Import(s.bg, f, o)
		if cerr := rej.Close(); err == nil {
			err = cerr
		}
		return err
	}()
	if err == nil {
		j.setLoading(sum)
		ctx, cancel := context.WithTimeout(s.bg, flushTimeout)
		if ferr := s.pipeline.Flush(ctx); ferr != nil && !errors.Is(ferr, context.DeadlineExceeded) {
			err = ferr
		}
		cancel()
	}
	j.finish(sum, err, s.now())
	if err != nil {
		s.log.Error("import failed", "workspace", j.WorkspaceID, "import", j.ID, "file", j.File, "err", err)
		return
	}
	s.log.Info("import done", "workspace", j.WorkspaceID, "import", j.ID, "lines", sum.Lines, "stored", sum.Accepted,
		"duplicates", sum.Duplicates, "rejected", sum.Rejected)
}

// job returns the import of the path in the user's workspace.
func (s *server) job(q *req) (*importJob, error) {
	j := s.imports.get(q.r.PathValue("id"), q.ws.ID)
	if j == nil {
		return nil, errNotFound
	}
	return j, nil
}

// importPageData is an import's page: the column mapping of a CSV file
// before it runs, then its progress and result.
type importPageData struct {
	Job     jobView
	Mapping *mappingData // while the file waits for its mapping
}

func (s *server) importPage(q *req) error {
	j, err := s.job(q)
	if err != nil {
		return err
	}
	var m *mappingData
	if j.view(q.lang, nil, s.now()).Mapping {
		if j.preview == nil {
			return errNotFound // a JSONL file that never started: dropped at once
		}
		m = newMappingData(j.preview, defaultMapping(j.preview, q.ws.TimeZone))
	}
	return s.importRender(q, j, m, http.StatusOK)
}

func (s *server) importRender(q *req, j *importJob, m *mappingData, status int) error {
	_, names, err := s.sourceNames(q)
	if err != nil {
		return err
	}
	d := importPageData{Job: j.view(q.lang, names, s.now()), Mapping: m}
	s.render(q, status, "import", q.page("import.title", "nav.data", d).withTitleArgs(j.File))
	return nil
}

// startImport takes the column mapping of a CSV file and starts its import.
func (s *server) startImport(q *req) error {
	j, err := s.job(q)
	if err != nil {
		return err
	}
	if !j.view(q.lang, nil, s.now()).Mapping || j.preview == nil {
		return q.redirect("/data/import/"+j.ID, "")
	}
	m := newMappingData(j.preview, newForm(q.r.PostForm))
	o := s.checkMapping(m)
	if m.Form.OK() && m.Failure == "" {
		err = s.launch(q, j, o)
		if errors.Is(err, errImportRunning) {
			m.Failure = "err.import_running"
		} else if err != nil {
			return err
		}
	}
	if !m.Form.OK() || m.Failure != "" {
		return s.importRender(q, j, m, http.StatusUnprocessableEntity)
	}
	return q.redirect("/data/import/"+j.ID, "")
}

// importStatus is the progress of an import as JSON, polled by its page.
func (s *server) importStatus(q *req) error {
	j, err := s.job(q)
	if err != nil {
		return err
	}
	v := j.view(q.lang, nil, s.now())
	out := struct {
		State   importState       `json:"state"`
		Percent int               `json:"percent"`
		Phase   string            `json:"phase"`
		Stats   map[string]string `json:"stats"`
	}{State: v.State, Percent: v.Percent, Phase: i18n.T(q.lang, v.Phase), Stats: map[string]string{}}
	for _, st := range v.Stats {
		out.Stats[st.Key] = st.Value
	}
	q.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	q.w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(q.w).Encode(out)
}

// importRejects downloads the rejected lines of an import, as a file of the
// imported format (a CSV file with its header) to fix and import again.
func (s *server) importRejects(q *req) error {
	j, err := s.job(q)
	if err != nil {
		return err
	}
	if !j.view(q.lang, nil, s.now()).HasRejects {
		return errNotFound
	}
	f, err := os.Open(j.rejects)
	if errors.Is(err, os.ErrNotExist) {
		return errNotFound
	} else if err != nil {
		return err
	}
	defer f.Close()
	ext := filepath.Ext(j.File)
	name := strings.TrimSuffix(j.File, ext) + ".rejected" + ext
	h := q.w.Header()
	if j.Format == fileimport.CSV {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	}
	h.Set("Content-Disposition", attachment(name))
	h.Set("Cache-Control", "no-store")
	out := &downloadWriter{w: q.w}
	if _, err := io.Copy(out, f); err != nil {
		return out.failed(q, err)
	}
	return nil
}

// jobView is an import as the pages show it, at one moment.
type jobView struct {
	ID, File         string
	Source, SourceID string
	Format           fileimport.Format
	State            importState
	Mapping          bool // waiting for the column mapping
	Running          bool
	Done             bool // finished, with or without rejected lines
	Failed           bool // stopped by an error (Error)
	Created          time.Time
	Size             string
	Percent          int
	Phase            string // catalog key of what the import is doing
	Stats            []jobStat
	Lines            int64
	Stored           int64
	Duplicates       int64
	Rejected         int64
	Errors           []lineError // the first rejected lines
	HasRejects       bool
	Error            string
}

// jobStat is one figure of a running import: Key names it for the polling
// script, Label is a catalog key, Value the figure as shown.
type jobStat struct{ Key, Label, Value string }

// lineError is a rejected line as the page shows it.
type lineError struct {
	Line        int
	Code, Field string
	Reason      string // from the validator, in English
	Explain     string // catalog key explaining Code, "" when there is none
}

func (j *importJob) view(lang string, sources map[string]string, now time.Time) jobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := jobView{ID: j.ID, File: j.File, Format: j.Format, State: j.state, Created: j.Created, Size: fileSize(lang, j.Size),
		Source: j.source.name, SourceID: j.source.id, Error: j.err}
	if name := sources[j.source.id]; name != "" {
		v.Source = name
	}
	v.Mapping, v.Running = j.state == stateMapping, j.state == stateRunning
	v.Done, v.Failed = j.state == stateDone, j.state == stateFailed
	if v.Mapping {
		return v
	}
	// The bytes of the lines processed, not those read ahead of them.
	p := j.progress
	read := p.Bytes
	if j.loading || !v.Running {
		read = j.Size
	}
	if j.Size > 0 {
		v.Percent = int(min(100, 100*read/j.Size))
	}
	v.Phase = "import.phase_reading"
	if j.loading {
		v.Phase = "import.phase_loading"
	}
	end := now
	if !j.finished.IsZero() {
		end = j.finished
	}
	elapsed := end.Sub(j.started)
	rate := int64(0)
	if secs := elapsed.Seconds(); secs >= 0.5 {
		rate = int64(float64(p.Lines) / secs)
	}
	v.Lines, v.Stored, v.Duplicates, v.Rejected = int64(p.Lines), int64(p.Accepted), int64(p.Duplicates), int64(p.Rejected)
	num := func(n int64) string { return i18n.Number(lang, n) }
	v.Stats = []jobStat{
		{"read", "import.stat_read", i18n.T(lang, "import.read_of", fileSize(lang, read), v.Size)},
		{"lines", "import.stat_lines", num(v.Lines)},
		{"stored", "import.stat_stored", num(v.Stored)},
		{"duplicates", "import.stat_duplicates", num(v.Duplicates)},
		{"rejected", "import.stat_rejected", num(v.Rejected)},
		{"rate", "import.stat_rate", i18n.T(lang, "import.rate", num(rate))},
		{"elapsed", "import.stat_elapsed", duration(lang, elapsed)},
	}
	if v.Running {
		return v
	}
	v.HasRejects = j.summary.Rejected > 0
	for i, le := range j.summary.Errors {
		if i == errorsShown {
			break
		}
		e := lineError{Line: le.Line, Code: le.Code, Field: le.Field, Reason: le.Reason}
		if i18n.Has("reason." + le.Code) {
			e.Explain = "reason." + le.Code
		}
		v.Errors = append(v.Errors, e)
	}
	return v
}

// duration writes d as people read it: "45 s", "3 min 5 s", "1 h 2 min".
func duration(lang string, d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return i18n.T(lang, "fmt.seconds", s)
	case s < 3600:
		return i18n.T(lang, "fmt.minutes", s/60, s%60)
	}
	return i18n.T(lang, "fmt.hours", s/3600, s%3600/60)
}
