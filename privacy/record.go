package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/identity"
)

// ErrNoActor is returned when a profile has no userId or anonymousId to
// record consent against.
var ErrNoActor = errors.New("the profile has no userId or anonymousId")

// ConsentInput is a consent decision staff record (heard on the phone,
// signed at the counter).
type ConsentInput struct {
	Purpose     Purpose
	Granted     bool
	TextVersion string
	Staff       string // the staff member's name
}

// RecordConsent records a consent decision for a profile as a Consent
// Updated event (source "staff:NAME"), through the ingestion pipeline, and
// waits until it is in the event store: it is durable and audited like any
// event, and Consent reads it back at once. It is attributed to the
// profile's strongest userId, else an anonymousId.
func (s *Service) RecordConsent(ctx context.Context, workspaceID string, p identity.ProfileID, in ConsentInput) (event.Message, error) {
	if s.cfg.Pipeline == nil {
		return event.Message{}, errors.New("privacy: no ingestion pipeline to record consent with")
	}
	if !validPurpose(in.Purpose) {
		return event.Message{}, fmt.Errorf("consent purpose %q is unknown", in.Purpose)
	}
	staff := strings.TrimSpace(in.Staff)
	if staff == "" {
		return event.Message{}, errors.New("consent: the staff member is not named")
	}
	ids, err := s.cfg.Graph.Identifiers(ctx, workspaceID, p)
	if err != nil {
		return event.Message{}, err
	}
	m := event.Message{WorkspaceID: workspaceID, SourceID: StaffSource, MessageID: uuid.NewString(), Type: event.Track, Event: ConsentEvent}
	for _, l := range ids { // strongest kind first
		switch {
		case l.Shared:
		case l.Kind == identity.UserID && m.UserID == "":
			m.UserID = l.Value
		case l.Kind == identity.AnonymousID && m.AnonymousID == "":
			m.AnonymousID = l.Value
		}
	}
	if m.UserID != "" {
		m.AnonymousID = ""
	}
	if m.UserID == "" && m.AnonymousID == "" {
		return event.Message{}, fmt.Errorf("record consent for %s: %w", p, ErrNoActor)
	}
	props := map[string]any{"purpose": in.Purpose, "granted": in.Granted, "source": "staff:" + staff}
	if v := strings.TrimSpace(in.TextVersion); v != "" {
		props["text_version"] = v
	}
	if m.Properties, err = json.Marshal(props); err != nil {
		return m, err
	}
	now := s.cfg.Now().UTC()
	m.Timestamp, m.ReceivedAt = now, now
	if e := event.Check(&m); e != nil {
		return m, e
	}
	res, err := s.cfg.Pipeline.Submit(ctx, []event.Message{m}, nil)
	if err != nil {
		return m, err
	}
	if res.Accepted == 0 {
		// Dropped: the profile's identifiers are suppressed (erased).
		return m, fmt.Errorf("record consent for %s: the message was not stored (suppressed identifier)", p)
	}
	return m, s.cfg.Pipeline.WaitLoaded(ctx, res.LastSeq)
}

func validPurpose(p Purpose) bool {
	for _, x := range Purposes {
		if x == p {
			return true
		}
	}
	return false
}

// Consent reads a profile's consent (see the package function Consent).
func (s *Service) Consent(ctx context.Context, workspaceID string, p identity.ProfileID) ([]ConsentState, error) {
	return Consent(ctx, s.cfg.Events, s.cfg.Graph, workspaceID, p)
}
