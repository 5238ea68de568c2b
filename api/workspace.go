package api

import (
	"net/http"
	"time"

	"github.com/cjmhq/cjm/eventstore"
)

type workspaceJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TimeZone  string    `json:"time_zone"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *server) workspace(q *request) error {
	ws, err := s.ops.Workspace(q.ctx, q.workspaceID())
	if err != nil {
		return err
	}
	writeJSON(q.w, http.StatusOK, workspaceJSON{ID: ws.ID, Name: ws.Name, TimeZone: ws.TimeZone,
		Currency: ws.Currency, CreatedAt: ws.CreatedAt.UTC()})
	return nil
}

type statsJSON struct {
	// Events and Rejected count what the workspace has stored.
	Events   int64 `json:"events"`
	Rejected int   `json:"rejected"`
	// Ingest is the server's ingestion pipeline since it started (all
	// workspaces); absent when the server does not report it.
	Ingest *ingestJSON `json:"ingest,omitempty"`
}

type ingestJSON struct {
	Accepted   uint64 `json:"accepted"`
	Duplicates uint64 `json:"duplicates"`
	Rejected   uint64 `json:"rejected"`
	LogSeq     uint64 `json:"log_seq"`
	LoadedSeq  uint64 `json:"loaded_seq"`
	// Behind is how many acknowledged messages are not yet queryable.
	Behind    uint64 `json:"behind"`
	DedupKeys int    `json:"dedup_keys"`
	LoadError string `json:"load_error,omitempty"`
}

func (s *server) statsOf(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	var out statsJSON
	var err error
	if out.Events, err = s.events.Count(q.ctx, eventstore.Filter{WorkspaceID: q.workspaceID()}); err != nil {
		return err
	}
	if out.Rejected, err = s.ops.RejectedCount(q.ctx, q.workspaceID()); err != nil {
		return err
	}
	if s.stats != nil {
		st := s.stats()
		out.Ingest = &ingestJSON{Accepted: st.Accepted, Duplicates: st.Duplicates, Rejected: st.Rejected,
			LogSeq: st.LogSeq, LoadedSeq: st.LoadedSeq, DedupKeys: st.DedupKeys, LoadError: st.LoadError}
		if st.LogSeq > st.LoadedSeq {
			out.Ingest.Behind = st.LogSeq - st.LoadedSeq
		}
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}
