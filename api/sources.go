package api

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cjmhq/cjm/opstore"
)

// Source limits.
const (
	maxSourceName = 100
	maxRateLimit  = 1_000_000
)

type sourceJSON struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	Name        string          `json:"name"`
	Channel     opstore.Channel `json:"channel"`
	WriteKey    string          `json:"write_key"`
	RateLimit   int             `json:"rate_limit"`
	Disabled    bool            `json:"disabled"`
	CreatedAt   time.Time       `json:"created_at"`
}

func sourceOut(src opstore.Source) sourceJSON {
	return sourceJSON{ID: src.ID, WorkspaceID: src.WorkspaceID, Name: src.Name, Channel: src.Channel,
		WriteKey: src.WriteKey, RateLimit: src.RateLimit, Disabled: src.Disabled, CreatedAt: src.CreatedAt.UTC()}
}

// sourceOf returns the source with the given id if it belongs to the key's
// workspace; a source of another workspace is not found.
func (s *server) sourceOf(q *request, id string) (opstore.Source, error) {
	src, err := s.ops.Source(q.ctx, id)
	if err == nil && src.WorkspaceID != q.workspaceID() {
		err = opstore.ErrNotFound
	}
	if errors.Is(err, opstore.ErrNotFound) {
		return src, errorf(CodeNotFound, "source %q not found in this workspace", id)
	}
	return src, err
}

func (s *server) listSources(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	srcs, err := s.ops.Sources(q.ctx, q.workspaceID())
	if err != nil {
		return err
	}
	out := make([]sourceJSON, len(srcs))
	for i, src := range srcs {
		out[i] = sourceOut(src)
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

func (s *server) getSource(q *request) error {
	src, err := s.sourceOf(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(q.w, http.StatusOK, sourceOut(src))
	return nil
}

func (s *server) createSource(q *request) error {
	var in struct {
		Name      string          `json:"name"`
		Channel   opstore.Channel `json:"channel"`
		RateLimit int             `json:"rate_limit"`
		Disabled  bool            `json:"disabled"`
	}
	if err := decode(q, &in); err != nil {
		return err
	}
	src := opstore.Source{WorkspaceID: q.workspaceID(), Name: in.Name, Channel: in.Channel, RateLimit: in.RateLimit, Disabled: in.Disabled}
	if in.Channel == "" {
		return errorf(CodeBadRequest, "channel is required; it must be one of: %s", join(opstore.Channels))
	}
	if err := checkSource(&src); err != nil {
		return err
	}
	if err := s.ops.CreateSource(q.ctx, &src); err != nil {
		return sourceConflict(err, src.Name)
	}
	s.log.Info("source created", "workspace", src.WorkspaceID, "source", src.ID, "api_key", q.key.ID)
	q.w.Header().Set("Location", "/api/v1/sources/"+src.ID)
	writeJSON(q.w, http.StatusCreated, sourceOut(src))
	return nil
}

func (s *server) updateSource(q *request) error {
	var in struct {
		Name      *string          `json:"name"`
		Channel   *opstore.Channel `json:"channel"`
		RateLimit *int             `json:"rate_limit"`
		Disabled  *bool            `json:"disabled"`
	}
	if err := decode(q, &in); err != nil {
		return err
	}
	src, err := s.sourceOf(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if in.Name != nil {
		src.Name = *in.Name
	}
	if in.Channel != nil {
		src.Channel = *in.Channel
		if src.Channel == "" {
			return errorf(CodeBadRequest, "channel must be one of: %s", join(opstore.Channels))
		}
	}
	if in.RateLimit != nil {
		src.RateLimit = *in.RateLimit
	}
	if in.Disabled != nil {
		src.Disabled = *in.Disabled
	}
	if err := checkSource(&src); err != nil {
		return err
	}
	if err := s.ops.UpdateSource(q.ctx, src); err != nil {
		return sourceConflict(err, src.Name)
	}
	s.log.Info("source updated", "workspace", src.WorkspaceID, "source", src.ID, "api_key", q.key.ID)
	writeJSON(q.w, http.StatusOK, sourceOut(src))
	return nil
}

func (s *server) rotateKey(q *request) error {
	src, err := s.sourceOf(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if src.WriteKey, err = s.ops.RotateWriteKey(q.ctx, src.ID); err != nil {
		return err
	}
	s.log.Info("source write key rotated", "workspace", src.WorkspaceID, "source", src.ID, "api_key", q.key.ID)
	writeJSON(q.w, http.StatusOK, sourceOut(src))
	return nil
}

// checkSource validates and trims what a caller may set on a source.
func checkSource(src *opstore.Source) error {
	src.Name = strings.TrimSpace(src.Name)
	switch {
	case src.Name == "":
		return errorf(CodeBadRequest, "name is required")
	case utf8.RuneCountInString(src.Name) > maxSourceName:
		return errorf(CodeBadRequest, "name is longer than %d characters", maxSourceName)
	case !src.Channel.Valid():
		return errorf(CodeBadRequest, "channel %q is unknown; it must be one of: %s", src.Channel, join(opstore.Channels))
	case src.RateLimit < 0 || src.RateLimit > maxRateLimit:
		return errorf(CodeBadRequest, "rate_limit must be from 0 (the server default) to %d messages per second, not %d", maxRateLimit, src.RateLimit)
	}
	return nil
}

// sourceConflict words a duplicate name for the caller.
func sourceConflict(err error, name string) error {
	if errors.Is(err, opstore.ErrConflict) {
		return errorf(CodeConflict, "a source named %q already exists in this workspace", name)
	}
	return err
}
