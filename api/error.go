package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cjmhq/cjm/opstore"
)

// Error codes of the API. Each maps to one HTTP status (see status).
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeInvalid          = "invalid"
	CodeInternal         = "internal"
)

// Error is an error the API reports to the caller: a code and a message
// written for the person reading the response, and optionally the details of
// an invalid document, one per problem.
type Error struct {
	Code    string
	Message string
	Details []Detail
}

// Detail is one problem of an invalid document: where (its line in the
// request body, when known, and the field path) and what.
type Detail struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// status is the one place error codes map to HTTP statuses.
func status(code string) int {
	switch code {
	case CodeBadRequest:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeConflict:
		return http.StatusConflict
	case CodeInvalid:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// asError turns any error into an API error. Store errors that the caller
// can act on (not found, conflict) keep their message; anything else is
// internal and its details stay in the log.
func asError(err error) (e *Error, internal bool) {
	switch {
	case errors.As(err, &e):
		return e, false
	case errors.Is(err, opstore.ErrNotFound):
		return &Error{Code: CodeNotFound, Message: err.Error()}, false
	case errors.Is(err, opstore.ErrConflict):
		return &Error{Code: CodeConflict, Message: err.Error()}, false
	}
	return &Error{Code: CodeInternal, Message: "internal error; the server log has the details"}, true
}

// fail answers a request with an error body {"error":{"code","message"}},
// with "details" when the error has them.
func (s *server) fail(q *request, err error) {
	e, internal := asError(err)
	if internal {
		if q.ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // the client went away; nobody reads the answer
		}
		s.log.Error("api request failed", "method", q.r.Method, "path", q.r.URL.Path,
			"workspace", q.key.WorkspaceID, "api_key", q.key.ID, "err", err)
	}
	if e.Code == CodeUnauthorized {
		q.w.Header().Set("WWW-Authenticate", `Bearer realm="cjm"`)
	}
	q.w.Header().Del("Content-Disposition")
	var body struct {
		Error struct {
			Code    string   `json:"code"`
			Message string   `json:"message"`
			Details []Detail `json:"details,omitempty"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message, body.Error.Details = e.Code, e.Message, e.Details
	writeJSON(q.w, status(e.Code), body)
}

// writeJSON is the one way responses are written.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only for types that cannot be encoded: a programming error
		b, status = []byte(`{"error":{"code":"internal","message":"response could not be encoded"}}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
