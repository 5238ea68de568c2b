package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

const rejectedPageSize = 50

// rejectCodes are the reason codes the UI explains (reason.CODE in the catalog).
var rejectCodes = []string{
	"missing_identity", "missing_event", "missing_type", "invalid_type", "missing_timestamp", "invalid_timestamp",
	"invalid_json", "invalid_object", "invalid_string", "too_long", "message_too_large", "missing_group_id",
	"missing_previous_id", "missing_user_id", "invalid_context",
}

type rejectedData struct {
	Source, Code string
	Sources      []opstore.Source
	Codes        []string
	Rows         []rejectedRow
	Older        string
	Paged        bool
	Total        int
}

type rejectedRow struct {
	opstore.Rejected
	SourceName string
	Explain    string // catalog key explaining the code, "" when unknown
	From       string // where it came from, as a person reads it (origin)
	Position   string // its place in a batch, "" when it was not in one
}

func (s *server) rejectedPage(q *req) error {
	v := q.r.URL.Query()
	before, _ := strconv.ParseInt(v.Get("before"), 10, 64)
	d := rejectedData{Source: v.Get("source"), Code: v.Get("code"), Codes: rejectCodes, Paged: before > 0}
	var names map[string]string
	var err error
	if d.Sources, names, err = s.sourceNames(q); err != nil {
		return err
	}
	if d.Total, err = s.ops.RejectedCount(q.ctx, q.ws.ID); err != nil {
		return err
	}
	rs, err := s.ops.Rejected(q.ctx, opstore.RejectedFilter{
		WorkspaceID: q.ws.ID, SourceID: d.Source, Code: d.Code, BeforeID: before, Limit: rejectedPageSize + 1,
	})
	if err != nil {
		return err
	}
	more := len(rs) > rejectedPageSize
	if more {
		rs = rs[:rejectedPageSize]
		older := url.Values{}
		if d.Source != "" {
			older.Set("source", d.Source)
		}
		if d.Code != "" {
			older.Set("code", d.Code)
		}
		older.Set("before", strconv.FormatInt(rs[len(rs)-1].ID, 10))
		d.Older = "/rejected?" + older.Encode()
	}
	for _, r := range rs {
		row := rejectedRow{Rejected: r, SourceName: names[r.SourceID]}
		if row.SourceName == "" {
			row.SourceName = r.SourceID
		}
		if i18n.Has("reason." + r.Code) {
			row.Explain = "reason." + r.Code
		}
		row.From, row.Index = origin(q.lang, r.Origin, r.Index)
		if row.Index >= 0 {
			row.Position = i18n.T(q.lang, "rejected.index", row.Index)
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(q, http.StatusOK, "rejected", q.page("rejected.title", "nav.rejected", d))
	return nil
}

// origin describes where a rejected message came from in lang, and returns
// its index in a batch (-1 when it was not in one). Origins are written by
// their producer:
//
//   - "POST /v1/KIND": an HTTP request to the collector, shown as it is;
//     index -1 for a single-message endpoint (/v1/track…), the message's
//     index for a batch. Before the method was named these were written
//     "http:/v1/KIND", with index 0 for a single message.
//   - "import:FILE:LINE": a file import (cjm import), index -1, shown as
//     "file FILE, line LINE".
//   - "demo": the demo data generator.
//
// Anything else is shown as it is.
func origin(lang, o string, index int) (string, int) {
	switch {
	case strings.HasPrefix(o, "http:/v1/"):
		path := strings.TrimPrefix(o, "http:")
		if kind := strings.TrimPrefix(path, "/v1/"); kind != "batch" && kind != "b" && kind != "import" {
			index = -1
		}
		return "POST " + path, index
	case strings.HasPrefix(o, "import:"):
		file := strings.TrimPrefix(o, "import:")
		if i := strings.LastIndexByte(file, ':'); i >= 0 {
			if line, err := strconv.Atoi(file[i+1:]); err == nil && line > 0 {
				return i18n.T(lang, "rejected.origin_import", file[:i], line), index
			}
		}
		return i18n.T(lang, "rejected.origin_file", file), index
	case o == "demo":
		return i18n.T(lang, "rejected.origin_demo"), index
	}
	return o, index
}
