package web

import (
	"net/http"
	"net/url"
	"strconv"

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
		d.Rows = append(d.Rows, row)
	}
	s.render(q, http.StatusOK, "rejected", q.page("rejected.title", "nav.rejected", d))
	return nil
}
