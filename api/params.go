package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBody is the largest request body the API reads.
const maxBody = 64 << 10

// params reads a request's query parameters, rejecting unknown ones so a
// mistyped name is an error rather than a silently ignored filter.
type params struct {
	v url.Values
}

func queryParams(q *request, known ...string) (params, error) {
	v := q.r.URL.Query()
	for name := range v {
		if !slices.Contains(known, name) {
			if len(known) == 0 {
				return params{}, errorf(CodeBadRequest, "unknown query parameter %q (this endpoint takes none)", name)
			}
			return params{}, errorf(CodeBadRequest, "unknown query parameter %q (this endpoint takes: %s)", name, strings.Join(slices.Sorted(slices.Values(known)), ", "))
		}
	}
	for name, vals := range v {
		if len(vals) > 1 {
			return params{}, errorf(CodeBadRequest, "query parameter %q is given %d times; give it once", name, len(vals))
		}
	}
	return params{v: v}, nil
}

func (p params) str(name string) string {
	if vals := p.v[name]; len(vals) > 0 {
		return strings.TrimSpace(vals[0])
	}
	return ""
}

// int reads an integer in [lo, hi], def when absent.
func (p params) int(name string, def, lo, hi int) (int, error) {
	s := p.str(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errorf(CodeBadRequest, "%s must be an integer from %d to %d, not %q", name, lo, hi, s)
	}
	return n, nil
}

// uint reads a non-negative integer, 0 when absent.
func (p params) uint(name string) (uint64, error) {
	s := p.str(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errorf(CodeBadRequest, "%s must be a non-negative integer, not %q", name, s)
	}
	return n, nil
}

// time reads an RFC 3339 time, the zero time when absent.
func (p params) time(name string) (time.Time, error) {
	s := p.str(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errorf(CodeBadRequest, "%s must be an RFC 3339 time such as 2026-01-31T17:00:00Z or 2026-02-01T00:00:00+07:00, not %q", name, s)
	}
	return t.UTC(), nil
}

// oneOf reads a value that must be one of valid ("" when absent).
func oneOf[T ~string](p params, name string, valid []T) (T, error) {
	s := T(p.str(name))
	if s == "" || slices.Contains(valid, s) {
		return s, nil
	}
	return "", errorf(CodeBadRequest, "%s %q is unknown; it must be one of: %s", name, s, join(valid))
}

func join[T ~string](vals []T) string {
	ss := make([]string, len(vals))
	for i, v := range vals {
		ss[i] = string(v)
	}
	return strings.Join(ss, ", ")
}

// decode reads a JSON object body into v, refusing unknown fields.
func decode(q *request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(q.w, q.r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return errorf(CodeBadRequest, "request body must hold a single JSON object")
		}
		return nil
	}
	var (
		typeErr *json.UnmarshalTypeError
		syntax  *json.SyntaxError
		tooBig  *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return errorf(CodeBadRequest, "request body is empty; send a JSON object")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return errorf(CodeBadRequest, "%s must be a JSON %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return errorf(CodeBadRequest, "request body must be a JSON object, not %s", typeErr.Value)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(CodeBadRequest, "request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	case errors.As(err, &tooBig):
		return errorf(CodeBadRequest, "request body is larger than %d bytes", maxBody)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(CodeBadRequest, "request body has an unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return errorf(CodeBadRequest, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind the way JSON calls it.
func jsonKind(kind string) string {
	switch {
	case kind == "bool":
		return "boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice":
		return "array"
	case kind == "struct", kind == "map":
		return "object"
	}
	return kind
}
