package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/journeymap/draw"
	"github.com/cjmhq/cjm/opstore"
)

// maxMapBody is the largest map document the API reads (a persona avatar
// alone may be a 512 KB data URI).
const maxMapBody = 4 << 20

type mapSummaryJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Stages    int       `json:"stages"`
	Template  string    `json:"template,omitempty"`
}

type mapJSON struct {
	mapSummaryJSON
	Map *journeymap.Map `json:"map"`
}

func mapSummary(e journeymap.Entry) mapSummaryJSON {
	by := e.UpdatedByName
	if by == "" {
		by = e.UpdatedBy
	}
	return mapSummaryJSON{ID: e.ID, Name: e.Name, State: e.State, Version: e.Version,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(), UpdatedBy: by,
		Stages: len(e.Map.Stages), Template: e.Map.Template}
}

type versionJSON struct {
	Version    int       `json:"version"`
	Name       string    `json:"name"`
	State      string    `json:"state"`
	AuthorID   string    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Note       string    `json:"note"`
	CreatedAt  time.Time `json:"created_at"`
}

func versionOut(v opstore.MapVersion) versionJSON {
	return versionJSON{Version: v.Version, Name: v.Name, State: v.State, AuthorID: v.AuthorID,
		AuthorName: v.AuthorName, Note: v.Note, CreatedAt: v.CreatedAt.UTC()}
}

type versionDocJSON struct {
	MapID string `json:"map_id"`
	versionJSON
	Map *journeymap.Map `json:"map"`
}

// diffSideJSON names one side of a diff.
type diffSideJSON struct {
	MapID   string `json:"map_id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
}

type diffJSON struct {
	From    diffSideJSON        `json:"from"`
	To      diffSideJSON        `json:"to"`
	Changes []journeymap.Change `json:"changes"`
}

// book is the workspace maps service every map endpoint goes through.
func (s *server) book() *journeymap.Book { return journeymap.NewBook(s.ops) }

// mapChange is who an API call saves a map as: its API key.
func mapChange(q *request) opstore.MapChange {
	return opstore.MapChange{AuthorName: "API key " + q.key.Name}
}

// findMap returns the map named by the {id} of the path: its id or its name.
func (s *server) findMap(q *request) (journeymap.Entry, error) {
	id := q.r.PathValue("id")
	e, err := s.book().Find(q.ctx, q.workspaceID(), id)
	if errors.Is(err, opstore.ErrNotFound) {
		return e, errorf(CodeNotFound, "no map %q in this workspace (give its id or its name)", id)
	}
	return e, err
}

// mapError words the errors of journeymap and of map writes for the caller:
// an invalid document is 422 with one detail per problem, an edit that
// cannot be applied 422, a stale base version and a taken name 409.
func mapError(err error, name string) error {
	var (
		errs journeymap.Errors
		ee   *journeymap.EditError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &errs):
		return invalidMap(errs)
	case errors.As(err, &ee):
		return errorf(CodeInvalid, "the edit cannot be applied: %s", ee.Msg)
	case errors.Is(err, opstore.ErrStale):
		return errorf(CodeConflict, "%v; get the map again and redo the change on its latest version", err)
	case errors.Is(err, opstore.ErrConflict):
		return errorf(CodeConflict, "a map named %q already exists in this workspace; give another name", name)
	}
	return err
}

func invalidMap(errs journeymap.Errors) *Error {
	e := &Error{Code: CodeInvalid, Details: make([]Detail, len(errs))}
	for i, fe := range errs {
		e.Details[i] = Detail{Line: fe.Line, Field: fe.Field, Message: fe.Message}
	}
	switch len(errs) {
	case 0:
		e.Message = "the map is invalid"
	case 1:
		e.Message = "the map is invalid: " + errs[0].Error()
	default:
		e.Message = fmt.Sprintf("the map has %d problems (see details), the first: %s", len(errs), errs[0].Error())
	}
	return e
}

// bodyFormat is how a map document is sent.
type bodyFormat int

const (
	bodyAny  bodyFormat = iota // no or an unspecific Content-Type: YAML or JSON
	bodyJSON                   // application/json
	bodyYAML                   // application/yaml and its aliases
)

func formatOf(contentType string) (bodyFormat, error) {
	if strings.TrimSpace(contentType) == "" {
		return bodyAny, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON, nil
	case isYAMLType(mt):
		return bodyYAML, nil
	case mt == "text/plain", mt == "application/octet-stream", mt == "application/x-www-form-urlencoded":
		// What curl --data-binary @map.yaml and the like send unless told.
		return bodyAny, nil
	}
	return 0, errorf(CodeBadRequest, "Content-Type %q is not supported; send the map as application/yaml or application/json", contentType)
}

func isYAMLType(mt string) bool {
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		return true
	}
	return strings.HasSuffix(mt, "+yaml")
}

// readMapBody reads a request body holding a map document (or, for
// POST /api/v1/maps, a template request).
func readMapBody(q *request) ([]byte, bodyFormat, error) {
	format, err := formatOf(q.r.Header.Get("Content-Type"))
	if err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, maxMapBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, 0, errorf(CodeBadRequest, "request body is larger than %d bytes", maxMapBody)
	case err != nil:
		return nil, 0, err
	case len(bytes.TrimSpace(body)) == 0:
		return nil, 0, errorf(CodeBadRequest, "request body is empty; send a map document in YAML or JSON")
	}
	if format == bodyJSON {
		var raw json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				line := bytes.Count(body[:min(int(syntax.Offset), len(body))], []byte("\n")) + 1
				return nil, 0, errorf(CodeBadRequest, "request body is not valid JSON: line %d: %v (send YAML as application/yaml)", line, syntax)
			}
			return nil, 0, errorf(CodeBadRequest, "request body is not valid JSON: %v", err)
		}
	}
	return body, format, nil
}

// parseMap reads a map document body, JSON or YAML.
func parseMap(q *request) (*journeymap.Map, error) {
	body, _, err := readMapBody(q)
	if err != nil {
		return nil, err
	}
	m, err := journeymap.Parse(body)
	return m, mapError(err, "")
}

// wantYAML reports whether a map is asked for as YAML: ?format=yaml, or an
// Accept header naming a YAML type before JSON.
func wantYAML(q *request, p params) (bool, error) {
	format, err := oneOf(p, "format", []string{"json", "yaml"})
	if err != nil || format != "" {
		return format == "yaml", err
	}
	for _, part := range strings.Split(q.r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		switch {
		case err != nil:
		case isYAMLType(mt):
			return true, nil
		case mt == "application/json":
			return false, nil
		}
	}
	return false, nil
}

// writeYAML answers with a map document as YAML.
func writeYAML(q *request, status int, m *journeymap.Map) error {
	b, err := journeymap.Marshal(m)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	q.w.WriteHeader(status)
	_, err = q.w.Write(b)
	return err
}

// writeMap answers with a stored map: JSON with its record, or its YAML.
func writeMap(q *request, status int, e journeymap.Entry, asYAML bool) error {
	q.w.Header().Set("ETag", strconv.Quote(strconv.Itoa(e.Version)))
	if asYAML {
		return writeYAML(q, status, e.Map)
	}
	writeJSON(q.w, status, mapJSON{mapSummary(e), e.Map})
	return nil
}

func (s *server) listMaps(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	es, err := s.book().List(q.ctx, q.workspaceID())
	if err != nil {
		return err
	}
	out := make([]mapSummaryJSON, len(es))
	for i, e := range es {
		out[i] = mapSummary(e)
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

// createMap makes a map from a template ({"template","lang","name"}) or
// from a whole document.
func (s *server) createMap(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	body, format, err := readMapBody(q)
	if err != nil {
		return err
	}
	var m *journeymap.Map
	if format != bodyYAML && isTemplateRequest(body) {
		var in struct {
			Template string `json:"template"`
			Lang     string `json:"lang"`
			Name     string `json:"name"`
		}
		q.r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decode(q, &in); err != nil {
			return err
		}
		if in.Lang == "" {
			in.Lang = i18n.Default
		}
		if m, err = journeymap.FromTemplate(in.Template, in.Lang); err != nil {
			return errorf(CodeBadRequest, "%s", strings.TrimPrefix(err.Error(), "journeymap: "))
		}
		if name := strings.TrimSpace(in.Name); name != "" {
			m.Name = name
		}
	} else if m, err = journeymap.Parse(body); err != nil {
		return mapError(err, "")
	}
	e, err := s.book().Create(q.ctx, q.workspaceID(), m, mapChange(q))
	if err != nil {
		return mapError(err, m.Name)
	}
	s.log.Info("map created", "workspace", q.workspaceID(), "map", e.ID, "api_key", q.key.ID)
	q.w.Header().Set("Location", "/api/v1/maps/"+e.ID)
	return writeMap(q, http.StatusCreated, e, false)
}

// isTemplateRequest reports whether a JSON body asks for a map from a
// template rather than holding a document: it names a template and has no
// stages.
func isTemplateRequest(body []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return false
	}
	_, tpl := keys["template"]
	_, stages := keys["stages"]
	return tpl && !stages
}

func (s *server) getMap(q *request) error {
	p, err := queryParams(q, "format")
	if err != nil {
		return err
	}
	asYAML, err := wantYAML(q, p)
	if err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	return writeMap(q, http.StatusOK, e, asYAML)
}

// baseVersion reads the version a change was made on: If-Match (a version,
// quoted or not, as ETag gives it) or ?base; 0 when neither is given.
func baseVersion(q *request, p params) (int, error) {
	base, err := p.int("base", 0, 1, math.MaxInt32)
	if err != nil {
		return 0, err
	}
	h := strings.TrimSpace(q.r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return base, nil
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	switch {
	case err != nil || v < 1:
		return 0, errorf(CodeBadRequest, "If-Match must be the map version the change was made on (its ETag), such as \"3\", not %s", h)
	case base != 0 && base != v:
		return 0, errorf(CodeBadRequest, "If-Match %s and base=%d disagree; give one", h, base)
	}
	return v, nil
}

func (s *server) putMap(q *request) error {
	p, err := queryParams(q, "base")
	if err != nil {
		return err
	}
	base, err := baseVersion(q, p)
	if err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	m, err := parseMap(q)
	if err != nil {
		return err
	}
	saved, err := s.book().Save(q.ctx, q.workspaceID(), e.ID, base, m, mapChange(q))
	if err != nil {
		return mapError(err, m.Name)
	}
	if saved.Version != e.Version {
		s.log.Info("map saved", "workspace", q.workspaceID(), "map", e.ID, "version", saved.Version, "api_key", q.key.ID)
	}
	return writeMap(q, http.StatusOK, saved, false)
}

// importMap stores a document as a new version of the map of its name, or
// as a new map: 201 when created, 200 otherwise (the version stays when the
// document is unchanged).
func (s *server) importMap(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	body, _, err := readMapBody(q)
	if err != nil {
		return err
	}
	ch := mapChange(q)
	ch.Note = "imported through the API"
	e, created, err := s.book().Import(q.ctx, q.workspaceID(), body, ch)
	if err != nil {
		return mapError(err, "")
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		q.w.Header().Set("Location", "/api/v1/maps/"+e.ID)
	}
	s.log.Info("map imported", "workspace", q.workspaceID(), "map", e.ID, "version", e.Version, "created", created, "api_key", q.key.ID)
	return writeMap(q, status, e, false)
}

func (s *server) editMap(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	var in struct {
		Base  int               `json:"base"`
		Edits []journeymap.Edit `json:"edits"`
	}
	if err := decode(q, &in); err != nil {
		return err
	}
	if len(in.Edits) == 0 {
		return errorf(CodeBadRequest, "edits is empty; give at least one edit")
	}
	if in.Base < 0 {
		return errorf(CodeBadRequest, "base must be the version the edits were made on (or 0 for the latest), not %d", in.Base)
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	saved, err := s.book().Edit(q.ctx, q.workspaceID(), e.ID, in.Base, in.Edits, mapChange(q))
	if err != nil {
		return mapError(err, e.Name)
	}
	return writeMap(q, http.StatusOK, saved, false)
}

func (s *server) deleteMap(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	if err := s.ops.DeleteMap(q.ctx, q.workspaceID(), e.ID); err != nil {
		return err
	}
	s.log.Info("map deleted", "workspace", q.workspaceID(), "map", e.ID, "name", e.Name, "api_key", q.key.ID)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) mapVersions(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	vs, err := s.ops.MapVersions(q.ctx, q.workspaceID(), e.ID)
	if err != nil {
		return err
	}
	out := make([]versionJSON, len(vs))
	for i, v := range vs {
		out[i] = versionOut(v)
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

// versionOf reads a version number (of the path's {version}, or a query
// parameter) of map e, which must exist.
func versionOf(e journeymap.Entry, what, s string) (int, error) {
	v, err := strconv.Atoi(s)
	switch {
	case err != nil || v < 1:
		return 0, errorf(CodeBadRequest, "%s must be a version number from 1 to %d, not %q", what, e.Version, s)
	case v > e.Version:
		return 0, errorf(CodeNotFound, "map %q has no version %d; its latest is %d", e.Name, v, e.Version)
	}
	return v, nil
}

func (s *server) mapVersion(q *request) error {
	p, err := queryParams(q, "format")
	if err != nil {
		return err
	}
	asYAML, err := wantYAML(q, p)
	if err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	n, err := versionOf(e, "version", q.r.PathValue("version"))
	if err != nil {
		return err
	}
	m, v, err := s.book().Version(q.ctx, q.workspaceID(), e.ID, n)
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", strconv.Quote(strconv.Itoa(n)))
	if asYAML {
		return writeYAML(q, http.StatusOK, m)
	}
	writeJSON(q.w, http.StatusOK, versionDocJSON{MapID: e.ID, versionJSON: versionOut(v), Map: m})
	return nil
}

func (s *server) restoreMap(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	n, err := versionOf(e, "version", q.r.PathValue("version"))
	if err != nil {
		return err
	}
	saved, err := s.book().Restore(q.ctx, q.workspaceID(), e.ID, n, mapChange(q))
	if err != nil {
		return mapError(err, e.Name)
	}
	s.log.Info("map restored", "workspace", q.workspaceID(), "map", e.ID, "from_version", n, "version", saved.Version, "api_key", q.key.ID)
	return writeMap(q, http.StatusOK, saved, false)
}

// diffMap lists the changes between two versions of a map (by default the
// latest and the one before), or from another map (?against, such as the
// current map a future one is compared with) to this one.
func (s *server) diffMap(q *request) error {
	p, err := queryParams(q, "from", "to", "against")
	if err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	to := diffSideJSON{MapID: e.ID, Name: e.Name, Version: e.Version}
	var out diffJSON
	if against := p.str("against"); against != "" {
		if p.str("from") != "" || p.str("to") != "" {
			return errorf(CodeBadRequest, "against compares the latest versions of two maps; it takes no from or to")
		}
		other, err := s.book().Find(q.ctx, q.workspaceID(), against)
		if errors.Is(err, opstore.ErrNotFound) {
			return errorf(CodeNotFound, "no map %q in this workspace to compare with", against)
		}
		if err != nil {
			return err
		}
		out = diffJSON{From: diffSideJSON{MapID: other.ID, Name: other.Name, Version: other.Version}, To: to,
			Changes: journeymap.Diff(other.Map, e.Map)}
	} else {
		if v := p.str("to"); v != "" {
			if to.Version, err = versionOf(e, "to", v); err != nil {
				return err
			}
		}
		from := to.Version - 1
		if v := p.str("from"); v != "" {
			if from, err = versionOf(e, "from", v); err != nil {
				return err
			}
		} else if from < 1 {
			return errorf(CodeBadRequest, "version 1 is the first version of map %q; there is nothing before it to compare with", e.Name)
		}
		a, av, err := s.book().Version(q.ctx, q.workspaceID(), e.ID, from)
		if err != nil {
			return err
		}
		b, bv, err := s.book().Version(q.ctx, q.workspaceID(), e.ID, to.Version)
		if err != nil {
			return err
		}
		to.Name = bv.Name
		out = diffJSON{From: diffSideJSON{MapID: e.ID, Name: av.Name, Version: from}, To: to, Changes: journeymap.Diff(a, b)}
	}
	if out.Changes == nil {
		out.Changes = []journeymap.Change{}
	}
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

func (s *server) mapTemplates(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	writeJSON(q.w, http.StatusOK, journeymap.Templates)
	return nil
}

// exportMap sends the map drawn as SVG, PNG or PDF, as an attachment named
// after the map.
func (s *server) exportMap(q *request) error {
	if _, err := queryParams(q); err != nil {
		return err
	}
	e, err := s.findMap(q)
	if err != nil {
		return err
	}
	_, ext, _ := strings.Cut(path.Base(q.r.URL.Path), ".")
	var buf bytes.Buffer
	err = draw.Write(&buf, ext, e.Map, draw.Options{T: draw.Labels(e.Map.Lang)})
	if errors.Is(err, draw.ErrFormat) {
		return errorf(CodeNotFound, "no export format %q (svg, png, pdf)", ext)
	}
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", draw.ContentType(ext))
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", journeymap.Slug(e.Name, "map")+"."+ext))
	h.Set("ETag", strconv.Quote(strconv.Itoa(e.Version)))
	_, err = q.w.Write(buf.Bytes())
	return err
}
