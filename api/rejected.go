package api

import (
	"math"
	"net/http"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

type rejectedJSON struct {
	ID         int64     `json:"id"`
	SourceID   string    `json:"source_id"`
	ReceivedAt time.Time `json:"received_at"`
	Origin     string    `json:"origin"`
	Index      int       `json:"index"`
	Code       string    `json:"code"`
	Field      string    `json:"field"`
	Reason     string    `json:"reason"`
	Payload    string    `json:"payload"`
}

func (s *server) listRejected(q *request) error {
	p, err := queryParams(q, "source", "code", "before_id", "limit")
	if err != nil {
		return err
	}
	f := opstore.RejectedFilter{WorkspaceID: q.workspaceID(), Code: p.str("code")}
	if f.Limit, err = p.int("limit", defaultLimit, 1, maxLimit); err != nil {
		return err
	}
	before, err := p.uint("before_id")
	if err != nil {
		return err
	}
	if before > math.MaxInt64 {
		return errorf(CodeBadRequest, "before_id %d is too large", before)
	}
	f.BeforeID = int64(before)
	if id := p.str("source"); id != "" {
		if _, err := s.sourceOf(q, id); err != nil {
			return err
		}
		f.SourceID = id
	}
	rs, err := s.ops.Rejected(q.ctx, f)
	if err != nil {
		return err
	}
	out := struct {
		Rejected []rejectedJSON `json:"rejected"`
		// NextBeforeID is the before_id of the next (older) page, 0 when this page is the last.
		NextBeforeID int64 `json:"next_before_id"`
	}{Rejected: make([]rejectedJSON, len(rs))}
	for i, r := range rs {
		out.Rejected[i] = rejectedJSON{ID: r.ID, SourceID: r.SourceID, ReceivedAt: r.ReceivedAt.UTC(), Origin: r.Origin,
			Index: r.Index, Code: r.Code, Field: r.Field, Reason: r.Reason, Payload: r.Payload}
	}
	if len(rs) == f.Limit {
		out.NextBeforeID = rs[len(rs)-1].ID
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}
