// Package api is cjm's JSON API for engineers and scripts: the workspace, its
// sources, stored and rejected events, and ingestion stats. Every endpoint
// but its own description needs a secret API key (auth.NewAPIKey), which
// belongs to one workspace and has a role. The API is described by
// openapi.yaml, served without a key at GET /api/openapi.yaml.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
)

// openAPISpec is the OpenAPI 3.0 description of the API (openapi.yaml).
//
//go:embed openapi.yaml
var openAPISpec []byte

// Config is what the API needs.
type Config struct {
	Ops    opstore.Store
	Events eventstore.Store
	Stats  func() ingest.Stats // may be nil
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

type server struct {
	ops    opstore.Store
	events eventstore.Store
	stats  func() ingest.Stats
	log    *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux

	touchMu sync.Mutex
	touched map[string]time.Time // API key ID -> last recorded use
}

// New returns the handler of every path under /api/. It is meant to be
// mounted as-is (no prefix stripping): mux.Handle("/api/", api.New(cfg)).
func New(cfg Config) http.Handler {
	s := &server{ops: cfg.Ops, events: cfg.Events, stats: cfg.Stats, log: cfg.Logger, now: cfg.Now,
		mux: http.NewServeMux(), touched: map[string]time.Time{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.handler(rt))
	}
	s.mux.Handle("/api/", s.handler(route{handle: s.noRoute}))
	return s.mux
}

// route is one endpoint. need is the least role a key must have; "" means the
// endpoint is public.
type route struct {
	pattern string
	need    opstore.Role
	handle  func(*request) error
}

// routes lists every endpoint; openapi.yaml documents exactly these.
func (s *server) routes() []route {
	return []route{
		{"GET /api/openapi.yaml", "", s.openAPI},
		{"GET /api/v1/workspace", opstore.Viewer, s.workspace},
		{"GET /api/v1/sources", opstore.Viewer, s.listSources},
		{"POST /api/v1/sources", opstore.Editor, s.createSource},
		{"GET /api/v1/sources/{id}", opstore.Viewer, s.getSource},
		{"PATCH /api/v1/sources/{id}", opstore.Editor, s.updateSource},
		{"POST /api/v1/sources/{id}/rotate-key", opstore.Editor, s.rotateKey},
		{"GET /api/v1/events", opstore.Viewer, s.listEvents},
		{"GET /api/v1/events/count", opstore.Viewer, s.countEvents},
		{"GET /api/v1/events/export", opstore.Viewer, s.exportEvents},
		{"GET /api/v1/event-names", opstore.Viewer, s.eventNames},
		{"GET /api/v1/rejected", opstore.Viewer, s.listRejected},
		{"GET /api/v1/stats", opstore.Viewer, s.statsOf},
		{"GET /api/v1/maps", opstore.Viewer, s.listMaps},
		{"POST /api/v1/maps", opstore.Editor, s.createMap},
		{"POST /api/v1/maps/import", opstore.Editor, s.importMap},
		{"GET /api/v1/maps/{id}", opstore.Viewer, s.getMap},
		{"PUT /api/v1/maps/{id}", opstore.Editor, s.putMap},
		{"DELETE /api/v1/maps/{id}", opstore.Editor, s.deleteMap},
		{"POST /api/v1/maps/{id}/edits", opstore.Editor, s.editMap},
		{"GET /api/v1/maps/{id}/versions", opstore.Viewer, s.mapVersions},
		{"GET /api/v1/maps/{id}/versions/{version}", opstore.Viewer, s.mapVersion},
		{"POST /api/v1/maps/{id}/versions/{version}/restore", opstore.Editor, s.restoreMap},
		{"GET /api/v1/maps/{id}/diff", opstore.Viewer, s.diffMap},
		{"GET /api/v1/maps/{id}/export.svg", opstore.Viewer, s.exportMap},
		{"GET /api/v1/maps/{id}/export.png", opstore.Viewer, s.exportMap},
		{"GET /api/v1/maps/{id}/export.pdf", opstore.Viewer, s.exportMap},
		{"GET /api/v1/map-templates", opstore.Viewer, s.mapTemplates},
	}
}

// request is one API call being answered.
type request struct {
	ctx context.Context
	w   http.ResponseWriter
	r   *http.Request
	key opstore.APIKey // zero on public endpoints
}

func (q *request) workspaceID() string { return q.key.WorkspaceID }

// handler wraps a route: authenticate, run, and answer errors in one place.
func (s *server) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		q := &request{ctx: r.Context(), w: w, r: r}
		err := s.authorize(q, rt.need)
		if err == nil {
			err = rt.handle(q)
		}
		if err != nil {
			s.fail(q, err)
		}
	})
}

func (s *server) openAPI(q *request) error {
	q.w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	q.w.Header().Set("Cache-Control", "no-cache")
	_, err := q.w.Write(openAPISpec)
	return err
}

// noRoute answers paths under /api/ that no route matches: 405 when the path
// exists with other methods, else 404.
func (s *server) noRoute(q *request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == q.r.Method {
			continue
		}
		probe := q.r.Clone(q.ctx)
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		q.w.Header().Set("Allow", strings.Join(allow, ", "))
		return errorf(CodeMethodNotAllowed, "method %s is not allowed on %s (allowed: %s)", q.r.Method, q.r.URL.Path, strings.Join(allow, ", "))
	}
	return errorf(CodeNotFound, "no API endpoint at %s %s; the endpoints are listed in /api/openapi.yaml", q.r.Method, q.r.URL.Path)
}
