package api

import (
	"net/http"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/export"
)

// Paging limits of list endpoints.
const (
	defaultLimit     = 50
	maxLimit         = 1000
	defaultNameLimit = 100
)

// filterParams are the query parameters every event endpoint filters by.
var filterParams = []string{"source", "type", "event", "user", "from", "to", "before_seq", "after_seq"}

func withFilter(extra ...string) []string { return append(extra, filterParams...) }

// eventJSON is a stored message: its log position and source, then the
// Segment-spec message fields.
type eventJSON struct {
	Seq      uint64 `json:"seq"`
	SourceID string `json:"source_id"`
	*event.Message
}

// filter reads the event filters of a request, scoped to the key's workspace.
func (s *server) filter(q *request, p params) (eventstore.Filter, error) {
	f := eventstore.Filter{WorkspaceID: q.workspaceID(), Event: p.str("event"), User: p.str("user")}
	var err error
	if id := p.str("source"); id != "" {
		if _, err := s.sourceOf(q, id); err != nil {
			return f, err
		}
		f.SourceID = id
	}
	if f.Type, err = oneOf(p, "type", event.Types); err != nil {
		return f, err
	}
	if f.From, err = p.time("from"); err != nil {
		return f, err
	}
	if f.To, err = p.time("to"); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, errorf(CodeBadRequest, "from (%s) must be before to (%s)", p.str("from"), p.str("to"))
	}
	if f.BeforeSeq, err = p.uint("before_seq"); err != nil {
		return f, err
	}
	if f.AfterSeq, err = p.uint("after_seq"); err != nil {
		return f, err
	}
	return f, nil
}

func (s *server) listEvents(q *request) error {
	p, err := queryParams(q, withFilter("limit")...)
	if err != nil {
		return err
	}
	limit, err := p.int("limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	f, err := s.filter(q, p)
	if err != nil {
		return err
	}
	msgs, err := s.events.Recent(q.ctx, f, limit)
	if err != nil {
		return err
	}
	out := struct {
		Events []eventJSON `json:"events"`
		// NextBeforeSeq is the before_seq of the next (older) page, 0 when this page is the last.
		NextBeforeSeq uint64 `json:"next_before_seq"`
	}{Events: make([]eventJSON, len(msgs))}
	for i := range msgs {
		out.Events[i] = eventJSON{Seq: msgs[i].Seq, SourceID: msgs[i].SourceID, Message: &msgs[i]}
	}
	if len(msgs) == limit {
		out.NextBeforeSeq = msgs[len(msgs)-1].Seq
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

func (s *server) countEvents(q *request) error {
	p, err := queryParams(q, filterParams...)
	if err != nil {
		return err
	}
	f, err := s.filter(q, p)
	if err != nil {
		return err
	}
	n, err := s.events.Count(q.ctx, f)
	if err != nil {
		return err
	}
	writeJSON(q.w, http.StatusOK, struct {
		Count int64 `json:"count"`
	}{n})
	return nil
}

func (s *server) eventNames(q *request) error {
	p, err := queryParams(q, "limit")
	if err != nil {
		return err
	}
	limit, err := p.int("limit", defaultNameLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	names, err := s.events.EventNames(q.ctx, q.workspaceID(), limit)
	if err != nil {
		return err
	}
	type nameJSON struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
	}
	out := make([]nameJSON, len(names))
	for i, n := range names {
		out[i] = nameJSON{n.Name, n.Count}
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

// exportTypes are the Content-Types of the export formats.
var exportTypes = map[string]string{"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}

func (s *server) exportEvents(q *request) error {
	p, err := queryParams(q, withFilter("format")...)
	if err != nil {
		return err
	}
	format := p.str("format")
	if format == "" {
		format = "jsonl"
	}
	if _, err := oneOf(p, "format", export.Formats); err != nil {
		return err
	}
	f, err := s.filter(q, p)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", exportTypes[format])
	h.Set("Content-Disposition", `attachment; filename="cjm-events-`+s.now().UTC().Format("20060102-150405")+`.`+format+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	w := &sentWriter{w: q.w}
	n, err := export.Write(q.ctx, s.events, f, format, w)
	if err != nil && w.sent {
		// Part of the file is out: cut the connection so the client sees a
		// failed download rather than a complete-looking, truncated file.
		s.log.Error("api export failed mid-stream", "workspace", q.workspaceID(), "exported", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// sentWriter records whether anything reached the response.
type sentWriter struct {
	w    http.ResponseWriter
	sent bool
}

func (s *sentWriter) Write(p []byte) (int, error) {
	s.sent = true
	return s.w.Write(p)
}
