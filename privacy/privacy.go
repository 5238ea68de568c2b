// Package privacy carries out what data protection law (Vietnam's Personal
// Data Protection Law 91/2025 with Decree 356/2025, and the GDPR) asks of
// cjm: consent per purpose, read from the events; exports of everything held
// about a person; erasure from every store, with an audit record and a
// suppression list so that an erased person is not collected again; and an
// event retention policy per workspace.
//
// Consent is data like any other: it is recorded as "Consent Updated" track
// events (staff recording consent in the UI submit one through the ingestion
// pipeline) and read from the events with Consent, so it is durable,
// auditable and erased with the person.
package privacy

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
)

// PersonStore is a store that holds data derived from a person's events or
// entered about them (profiles, staff notes, segment membership, journey
// state): privacy exports and erasures go through each one the Service is
// given.
type PersonStore interface {
	// Name names the store in exports and in the counts of a request
	// ("profile", "notes").
	Name() string
	// ExportPerson returns what the store holds about a profile, as a value
	// encoding/json writes; nil when nothing.
	ExportPerson(ctx context.Context, workspaceID string, p identity.ProfileID, ids []identity.Identifier) (any, error)
	// ErasePerson deletes it and says how many records it deleted.
	ErasePerson(ctx context.Context, workspaceID string, p identity.ProfileID, ids []identity.Identifier) (int64, error)
}

// Ingester submits messages and waits for them to be loaded
// (*ingest.Pipeline does).
type Ingester interface {
	Submit(ctx context.Context, msgs []event.Message, rejected []opstore.Rejected) (ingest.Result, error)
	WaitLoaded(ctx context.Context, seq uint64) error
	Flush(ctx context.Context) error
}

// EventStore is the event store as privacy needs it.
type EventStore interface {
	eventstore.Store
	eventstore.PersonalData
}

// Config is what a Service works with.
type Config struct {
	Events   EventStore
	Store    opstore.PrivacyStore
	Graph    identity.Graph
	Pipeline Ingester
	// Suppression is the list the pipeline's Drop reads (the same one, so
	// that an erasure takes effect at once); nil loads one from Store.
	Suppression *Suppression
	// People are the other stores that hold data about a person.
	People []PersonStore
	// ExportDir keeps the exports made for download in the UI (default: a
	// "privacy-exports" directory under os.TempDir()).
	ExportDir string
	// ExportTTL is how long an export file is kept (default 7 days).
	ExportTTL time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service handles consent, privacy requests and retention. It is safe for
// concurrent use.
type Service struct {
	cfg Config
	sup *Suppression
}

// New returns a Service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Events == nil || cfg.Store == nil || cfg.Graph == nil {
		return nil, errors.New("privacy: Config.Events, Store and Graph are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ExportDir == "" {
		cfg.ExportDir = filepath.Join(os.TempDir(), "cjm-privacy-exports")
	}
	if cfg.ExportTTL <= 0 {
		cfg.ExportTTL = 7 * 24 * time.Hour
	}
	s := &Service{cfg: cfg, sup: cfg.Suppression}
	if s.sup == nil {
		var err error
		if s.sup, err = LoadSuppression(ctx, cfg.Store); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Graph is the identity graph the Service works with.
func (s *Service) Graph() identity.Graph { return s.cfg.Graph }

// Suppression is the suppression list.
func (s *Service) Suppression() *Suppression { return s.sup }

// Requests lists a workspace's privacy requests, newest first.
func (s *Service) Requests(ctx context.Context, workspaceID string, limit int) ([]opstore.PrivacyRequest, error) {
	return s.cfg.Store.PrivacyRequests(ctx, workspaceID, limit)
}

// Request returns one privacy request.
func (s *Service) Request(ctx context.Context, workspaceID, id string) (opstore.PrivacyRequest, error) {
	return s.cfg.Store.PrivacyRequest(ctx, workspaceID, id)
}

// RetentionPolicy and SetRetention read and set a workspace's event retention.
func (s *Service) RetentionPolicy(ctx context.Context, workspaceID string) (opstore.RetentionPolicy, error) {
	return s.cfg.Store.RetentionPolicy(ctx, workspaceID)
}

// SetRetention keeps a workspace's events for days (0: forever).
func (s *Service) SetRetention(ctx context.Context, workspaceID string, days int, actor string) error {
	return s.cfg.Store.SetRetentionPolicy(ctx, opstore.RetentionPolicy{WorkspaceID: workspaceID, EventDays: days, UpdatedBy: actor})
}

// SuppressedCount is the size of a workspace's suppression list.
func (s *Service) SuppressedCount(ctx context.Context, workspaceID string) (int, error) {
	return s.cfg.Store.SuppressedCount(ctx, workspaceID)
}

// person is what is held about the subject of a request.
type person struct {
	named   identity.Identifier
	profile identity.ProfileID // "" when no profile holds the identifier
	ids     []identity.Linked
}

// find looks the person up by one identifier.
func (s *Service) find(ctx context.Context, workspaceID string, id identity.Identifier) (person, error) {
	p := person{named: id}
	prof, err := s.cfg.Graph.Resolve(ctx, workspaceID, id)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		p.ids = []identity.Linked{{Identifier: id}}
		return p, nil
	case err != nil:
		return p, err
	}
	p.profile = prof
	if p.ids, err = s.cfg.Graph.Identifiers(ctx, workspaceID, prof); err != nil {
		return p, err
	}
	named := false
	for _, l := range p.ids {
		named = named || l.Identifier == id
	}
	if !named {
		p.ids = append(p.ids, identity.Linked{Identifier: id})
	}
	return p, nil
}

// own lists the identifiers that are the person's alone: the shared ones (a
// shop's tablet, a switchboard number) are left out, as their events may be
// other people's.
func (p person) own() []identity.Identifier {
	var out []identity.Identifier
	for _, l := range p.ids {
		if !l.Shared || l.Identifier == p.named {
			out = append(out, l.Identifier)
		}
	}
	return out
}

// query is the event store query of the person's messages: by every own
// identifier's value as userId, anonymousId or previousId, and by e-mail
// and phone in traits and properties.
func (p person) query(workspaceID string) eventstore.PersonQuery {
	q := eventstore.PersonQuery{WorkspaceID: workspaceID}
	for _, id := range p.own() {
		q.IDs = append(q.IDs, id.Value)
		switch id.Kind {
		case identity.Email:
			q.Emails = append(q.Emails, id.Value)
		case identity.Phone:
			q.Phones = append(q.Phones, id.Value)
		}
	}
	return q
}

// values are what rejected messages are searched for: each identifier's
// value, and a Vietnamese phone number's national form.
func (p person) values() []string {
	var out []string
	for _, id := range p.own() {
		out = append(out, id.Value)
		if rest, ok := strings.CutPrefix(id.Value, "+84"); ok && id.Kind == identity.Phone {
			out = append(out, "0"+rest, "84"+rest)
		}
	}
	return out
}

// scrub removes the person's identifier values from an error's text, so
// that a failed request's audit record holds none.
func (p person) scrub(err error) string {
	msg := err.Error()
	for _, v := range p.values() {
		if len(v) >= 3 {
			msg = strings.ReplaceAll(msg, v, "•••")
		}
	}
	return msg
}

// Mask writes an identifier for a list, with most of it hidden:
// "email:l•••@e•••.vn", "phone:+84•••678", "user_id:kh•••".
func Mask(id identity.Identifier) string {
	v := id.Value
	hide := func(s string, keep int) string {
		r := []rune(s)
		if len(r) <= keep {
			return strings.Repeat("•", max(1, len(r)))
		}
		return string(r[:keep]) + "•••"
	}
	switch id.Kind {
	case identity.Email:
		local, domain, _ := strings.Cut(v, "@")
		name, tld := domain, ""
		if i := strings.LastIndexByte(domain, '.'); i > 0 {
			name, tld = domain[:i], domain[i:]
		}
		return string(id.Kind) + ":" + hide(local, 1) + "@" + hide(name, 1) + tld
	case identity.Phone:
		if len(v) > 6 {
			return string(id.Kind) + ":" + v[:3] + "•••" + v[len(v)-3:]
		}
	}
	return string(id.Kind) + ":" + hide(v, 2)
}

// Actor names who made a request: "staff:NAME" in the UI, "cli:USER" from the CLI.
func Actor(kind, name string) string { return kind + ":" + name }
