package privacy

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/export"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// Export formats. FormatJSON is one JSON document (ExportVersion) with the
// events in it; FormatCSV is a zip archive of person.json (the same
// document without the events), events.csv (one row per message, the
// columns of `cjm export --format csv`), identifiers.csv and consent.csv.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// ExportVersion names the layout of an export document.
const ExportVersion = "cjm-privacy-export/1"

// Ext is the file name extension of an export format.
func Ext(format string) string {
	if format == FormatCSV {
		return ".zip"
	}
	return ".json"
}

// dossier is an export document, but for its events.
type dossier struct {
	Format      string               `json:"format"`
	RequestID   string               `json:"request_id"`
	WorkspaceID string               `json:"workspace_id"`
	GeneratedAt time.Time            `json:"generated_at"`
	Identifier  string               `json:"identifier"` // as the request named it
	Profile     identity.ProfileID   `json:"profile_id,omitempty"`
	Identifiers []exportedIdentifier `json:"identifiers"`
	Merges      []exportedMerge      `json:"merges"`
	Rejected    []exportedRejected   `json:"rejected_messages"`
	Other       map[string]any       `json:"other_data,omitempty"`
	Consent     []ConsentState       `json:"consent"`
	EventCount  int64                `json:"event_count"`
	EventsFile  string               `json:"events_file,omitempty"`
	Coverage    []string             `json:"coverage"`

	counts  map[string]int64
	records []ConsentRecord
	query   eventstore.PersonQuery
}

type exportedIdentifier struct {
	Kind      identity.Kind `json:"kind"`
	Value     string        `json:"value"`
	FirstSeen time.Time     `json:"first_seen,omitzero"`
	LastSeen  time.Time     `json:"last_seen,omitzero"`
	Shared    bool          `json:"shared,omitempty"`
}

type exportedMerge struct {
	ID        int64              `json:"id"`
	Into      identity.ProfileID `json:"into"`
	From      identity.ProfileID `json:"from"`
	By        string             `json:"by"`
	MessageID string             `json:"message_id,omitempty"`
	At        time.Time          `json:"at"`
	Actor     string             `json:"actor,omitempty"`
	UndoneAt  time.Time          `json:"undone_at,omitzero"`
	UndoneBy  string             `json:"undone_by,omitempty"`
}

type exportedRejected struct {
	ReceivedAt time.Time `json:"received_at"`
	SourceID   string    `json:"source_id"`
	Code       string    `json:"code"`
	Reason     string    `json:"reason"`
	Payload    string    `json:"payload"`
}

// exportedEvent is a message as exported: the Segment-spec fields and the
// source it came from.
type exportedEvent struct {
	SourceID string `json:"sourceId"`
	*event.Message
}

// coverage says what an export holds, for the person reading it.
var coverage = []string{
	"identifiers: every identifier linked to the profile, with when it was first and last seen",
	"merges: the merge log entries of the profile",
	"events: every stored message whose userId, anonymousId or previousId is one of the identifiers, or that carries one of the e-mail addresses or phone numbers in traits, context.traits or properties",
	"consent: every consent decision, from Consent Updated events and context.consent.categoryPreferences",
	"rejected_messages: messages refused at collection that hold one of the identifiers",
	"other_data: what other stores (profiles, staff notes) hold, when they are configured",
}

// Export writes everything held about the person with the identifier to w
// in format (FormatJSON or FormatCSV) and records the request; the export
// is not kept.
func (s *Service) Export(ctx context.Context, workspaceID string, id identity.Identifier, actor, format string, w io.Writer) (opstore.PrivacyRequest, error) {
	return s.export(ctx, workspaceID, id, actor, format, func(opstore.PrivacyRequest) (io.Writer, string, error) { return w, "", nil })
}

// ExportFile writes the export into the export directory, for download in
// the UI (see OpenExport); the request's File names it. Export files are
// removed after Config.ExportTTL, and when the person is erased.
func (s *Service) ExportFile(ctx context.Context, workspaceID string, id identity.Identifier, actor, format string) (opstore.PrivacyRequest, error) {
	var f *os.File
	r, err := s.export(ctx, workspaceID, id, actor, format, func(r opstore.PrivacyRequest) (io.Writer, string, error) {
		if err := os.MkdirAll(s.cfg.ExportDir, 0o700); err != nil {
			return nil, "", err
		}
		name := r.ID + Ext(format)
		var err error
		f, err = os.OpenFile(filepath.Join(s.cfg.ExportDir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		return f, name, err
	})
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}
	return r, err
}

// OpenExport opens the export file of a request; opstore.ErrNotFound when
// it has none (any more).
func (s *Service) OpenExport(ctx context.Context, workspaceID, requestID string) (*os.File, opstore.PrivacyRequest, error) {
	r, err := s.cfg.Store.PrivacyRequest(ctx, workspaceID, requestID)
	if err != nil {
		return nil, r, err
	}
	if r.Kind != opstore.RequestExport || r.Status != opstore.RequestDone || r.File == "" || filepath.Base(r.File) != r.File {
		return nil, r, fmt.Errorf("export of request %s: %w", requestID, opstore.ErrNotFound)
	}
	f, err := os.Open(filepath.Join(s.cfg.ExportDir, r.File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, r, fmt.Errorf("export of request %s: %w", requestID, opstore.ErrNotFound)
	}
	return f, r, err
}

// export records the request, opens its output with open and writes it.
func (s *Service) export(ctx context.Context, workspaceID string, id identity.Identifier, actor, format string,
	open func(opstore.PrivacyRequest) (io.Writer, string, error)) (opstore.PrivacyRequest, error) {
	if format != FormatJSON && format != FormatCSV {
		return opstore.PrivacyRequest{}, fmt.Errorf("export format %q: want json or csv", format)
	}
	r := opstore.PrivacyRequest{WorkspaceID: workspaceID, Kind: opstore.RequestExport, IdentifierKind: string(id.Kind),
		IdentifierHash: Hash(workspaceID, id), Hint: Mask(id), Actor: actor, RequestedAt: s.cfg.Now()}
	if err := s.cfg.Store.CreatePrivacyRequest(ctx, &r); err != nil {
		return r, err
	}
	err := s.catchUp(ctx)
	var p person
	if err == nil {
		p, err = s.find(ctx, workspaceID, id)
	}
	if err == nil {
		var w io.Writer
		if w, r.File, err = open(r); err == nil {
			var d *dossier
			if d, err = s.gather(ctx, r, p); err == nil {
				if format == FormatCSV {
					err = s.writeZip(ctx, d, w)
				} else {
					err = s.writeJSON(ctx, d, w)
				}
				r.Counts = d.counts
			}
		}
	}
	return s.finish(ctx, r, p, err)
}

// finish records the outcome of a request.
func (s *Service) finish(ctx context.Context, r opstore.PrivacyRequest, p person, err error) (opstore.PrivacyRequest, error) {
	r.Status, r.CompletedAt = opstore.RequestDone, s.cfg.Now()
	if err != nil {
		r.Status, r.Error, r.File = opstore.RequestFailed, p.scrub(err), ""
	}
	if ferr := s.cfg.Store.FinishPrivacyRequest(context.WithoutCancel(ctx), r); ferr != nil {
		return r, errors.Join(err, ferr)
	}
	return r, err
}

// gather reads all but the events.
func (s *Service) gather(ctx context.Context, r opstore.PrivacyRequest, p person) (*dossier, error) {
	d := &dossier{Format: ExportVersion, RequestID: r.ID, WorkspaceID: r.WorkspaceID, GeneratedAt: s.cfg.Now().UTC(),
		Identifier: p.named.String(), Profile: p.profile, Identifiers: []exportedIdentifier{}, Merges: []exportedMerge{},
		Rejected: []exportedRejected{}, Coverage: coverage, counts: map[string]int64{}, query: p.query(r.WorkspaceID)}
	for _, l := range p.ids {
		d.Identifiers = append(d.Identifiers, exportedIdentifier{Kind: l.Kind, Value: l.Value, FirstSeen: l.FirstSeen, LastSeen: l.LastSeen, Shared: l.Shared})
	}
	d.counts["identifiers"] = int64(len(d.Identifiers))
	if p.profile != "" {
		ms, err := s.cfg.Graph.Merges(ctx, r.WorkspaceID, p.profile)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			d.Merges = append(d.Merges, exportedMerge{ID: m.ID, Into: m.Into, From: m.From, By: m.By.String(), MessageID: m.MessageID,
				At: m.At, Actor: m.Actor, UndoneAt: m.UndoneAt, UndoneBy: m.UndoneBy})
		}
		d.counts["merges"] = int64(len(d.Merges))
		for _, ps := range s.cfg.People {
			v, err := ps.ExportPerson(ctx, r.WorkspaceID, p.profile, p.own())
			if err != nil {
				return nil, fmt.Errorf("export from %s: %w", ps.Name(), err)
			}
			if v != nil {
				if d.Other == nil {
					d.Other = map[string]any{}
				}
				d.Other[ps.Name()] = v
				d.counts[ps.Name()] = 1
			}
		}
	}
	rej, err := s.cfg.Store.RejectedOf(ctx, r.WorkspaceID, p.values())
	if err != nil {
		return nil, err
	}
	for _, x := range rej {
		d.Rejected = append(d.Rejected, exportedRejected{ReceivedAt: x.ReceivedAt, SourceID: x.SourceID, Code: x.Code, Reason: x.Reason, Payload: x.Payload})
	}
	d.counts["rejected"] = int64(len(d.Rejected))
	return d, nil
}

// events calls fn for each of the person's messages, gathering consent and
// the count on the way.
func (s *Service) events(ctx context.Context, d *dossier, fn func(*event.Message) error) error {
	err := s.cfg.Events.ScanPerson(ctx, d.query, func(m *event.Message) error {
		d.EventCount++
		d.records = append(d.records, ConsentFrom(m)...)
		return fn(m)
	})
	d.Consent = DeriveConsent(d.records)
	d.counts["events"] = d.EventCount
	d.counts["consent_records"] = int64(len(d.records))
	return err
}

// writeJSON writes the export document with its events.
func (s *Service) writeJSON(ctx context.Context, d *dossier, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`{"format":` + strconv.Quote(d.Format) + `,"events":[`)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	first := true
	err := s.events(ctx, d, func(m *event.Message) error {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		return enc.Encode(exportedEvent{SourceID: m.SourceID, Message: m})
	})
	if err != nil {
		return err
	}
	rest, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	// The document's other members follow the events: drop its "{" and
	// its "format", already written.
	rest = bytes.TrimPrefix(rest, []byte("{\n  \"format\": "+strconv.Quote(d.Format)+","))
	bw.WriteString("],")
	bw.Write(rest)
	bw.WriteByte('\n')
	return bw.Flush()
}

// writeZip writes the export as a zip archive of CSV files and person.json.
func (s *Service) writeZip(ctx context.Context, d *dossier, w io.Writer) error {
	zw := zip.NewWriter(w)
	f, err := zw.Create("events.csv")
	if err != nil {
		return err
	}
	if _, err := export.Write(ctx, personEvents{EventStore: s.cfg.Events, s: s, d: d}, eventstore.Filter{}, "csv", f); err != nil {
		return err
	}
	d.EventsFile = "events.csv"
	if f, err = zw.Create("person.json"); err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	if err := writeCSV(zw, "identifiers.csv", []string{"kind", "value", "first_seen", "last_seen", "shared"}, len(d.Identifiers), func(i int) []string {
		x := d.Identifiers[i]
		return []string{string(x.Kind), x.Value, stamp(x.FirstSeen), stamp(x.LastSeen), strconv.FormatBool(x.Shared)}
	}); err != nil {
		return err
	}
	var rows [][]string
	for _, c := range d.Consent {
		for _, h := range c.History {
			rows = append(rows, []string{string(c.Purpose), strconv.FormatBool(h.Granted), stamp(h.At), h.Source, h.TextVersion,
				h.MessageID, strconv.FormatBool(h.Explicit)})
		}
	}
	if err := writeCSV(zw, "consent.csv", []string{"purpose", "granted", "at", "source", "text_version", "message_id", "explicit"}, len(rows),
		func(i int) []string { return rows[i] }); err != nil {
		return err
	}
	return zw.Close()
}

func writeCSV(zw *zip.Writer, name string, header []string, n int, row func(int) []string) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write(header)
	for i := range n {
		cw.Write(row(i))
	}
	cw.Flush()
	return cw.Error()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// personEvents is the event store seen through a person's query, so that
// export.Write writes the person's events as `cjm export` writes all.
type personEvents struct {
	EventStore
	s *Service
	d *dossier
}

// Scan implements eventstore.Store for export.Write: the filter is ignored.
func (p personEvents) Scan(ctx context.Context, _ eventstore.Filter, fn func(*event.Message) error) error {
	return p.s.events(ctx, p.d, fn)
}
