package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/identity"
)

// Purpose is what a person consents to their data being used for.
type Purpose string

// Purposes of consent.
const (
	Analytics       Purpose = "analytics"
	Email           Purpose = "email"
	SMS             Purpose = "sms"
	Zalo            Purpose = "zalo"
	Personalisation Purpose = "personalisation"
)

// Purposes lists the purposes in the order the UI shows them.
var Purposes = []Purpose{Analytics, Email, SMS, Zalo, Personalisation}

// ConsentEvent is the track event that records a consent decision, with
// properties purpose, granted (bool), text_version and source.
const ConsentEvent = "Consent Updated"

// StaffSource is the source id of the consent events staff record in the UI.
const StaffSource = "cjm-staff"

// purposeNames maps consent category names, as consent managers and
// Segment's context.consent.categoryPreferences write them, to purposes.
// Keys are folded by foldCategory (lower case, "_" and "-" as spaces). A
// category not listed is ignored. "Advertising" and "targeting" count as
// personalisation: both use a person's data to choose what they are shown.
var purposeNames = map[string]Purpose{
	"analytics": Analytics, "analytic": Analytics, "analytics cookies": Analytics, "statistics": Analytics,
	"performance": Analytics, "measurement": Analytics, "phân tích": Analytics, "thống kê": Analytics,

	"email": Email, "e mail": Email, "emails": Email, "email marketing": Email, "marketing email": Email,
	"marketing emails": Email, "newsletter": Email,

	"sms": SMS, "sms marketing": SMS, "text messages": SMS, "text message": SMS, "tin nhắn": SMS, "tin nhắn sms": SMS,

	"zalo": Zalo, "zalo oa": Zalo, "zalo zns": Zalo, "zalo marketing": Zalo,

	"personalisation": Personalisation, "personalization": Personalisation, "personalised": Personalisation,
	"personalized": Personalisation, "personalisation cookies": Personalisation, "personalization cookies": Personalisation,
	"advertising": Personalisation, "targeting": Personalisation, "ads": Personalisation,
	"cá nhân hoá": Personalisation, "cá nhân hóa": Personalisation, "quảng cáo": Personalisation,
}

func foldCategory(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("_", " ", "-", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// ParsePurpose reads a purpose or a consent category name (see
// purposeNames), case-insensitively.
func ParsePurpose(s string) (Purpose, bool) {
	p, ok := purposeNames[foldCategory(s)]
	return p, ok
}

// ConsentRecord is one consent decision for one purpose.
type ConsentRecord struct {
	Purpose Purpose   `json:"purpose"`
	Granted bool      `json:"granted"`
	At      time.Time `json:"at"`
	// Source says who or what recorded it: "staff:NAME" for staff in the
	// UI, the properties.source of a Consent Updated event, else
	// "source:SOURCE_ID"; "consent_manager" for categoryPreferences.
	Source      string `json:"source"`
	TextVersion string `json:"text_version,omitempty"` // the version of the text agreed to
	MessageID   string `json:"message_id"`
	Seq         uint64 `json:"-"`
	// Explicit is true for a Consent Updated event, false for a message's
	// context.consent.categoryPreferences.
	Explicit bool `json:"explicit"`
}

// ConsentState is a person's consent for one purpose: the latest decision
// and the history. A purpose nobody recorded is not given.
type ConsentState struct {
	Purpose Purpose `json:"purpose"`
	Known   bool    `json:"known"`
	Granted bool    `json:"granted"`
	// History lists the decisions newest first: every Consent Updated event,
	// and the categoryPreferences of messages where they changed.
	History []ConsentRecord `json:"history"`
}

// Latest is the decision in force, the zero record when none.
func (c ConsentState) Latest() ConsentRecord {
	if len(c.History) == 0 {
		return ConsentRecord{}
	}
	return c.History[0]
}

// consentProps are the properties of a Consent Updated event.
type consentProps struct {
	Purpose      string          `json:"purpose"`
	Granted      json.RawMessage `json:"granted"`
	TextVersion  string          `json:"text_version"`
	TextVersion2 string          `json:"textVersion"`
	Source       string          `json:"source"`
}

// consentContext is what context.consent may say.
type consentContext struct {
	Consent *struct {
		CategoryPreferences map[string]json.RawMessage `json:"categoryPreferences"`
		TextVersion         string                     `json:"text_version"`
		TextVersion2        string                     `json:"textVersion"`
	} `json:"consent"`
}

// boolValue reads a JSON true/false, "true"/"false"/"yes"/"no"/"1"/"0" or 1/0.
func boolValue(v json.RawMessage) (bool, bool) {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(v)), `"`))
	switch s {
	case "true", "yes", "1", "granted", "on":
		return true, true
	case "false", "no", "0", "denied", "off", "withdrawn":
		return false, true
	}
	return false, false
}

// ConsentFrom reads the consent decisions a message records: a Consent
// Updated track event's, and those of context.consent.categoryPreferences
// (a category several map to the same purpose grants it only if they all
// do).
func ConsentFrom(m *event.Message) []ConsentRecord {
	var out []ConsentRecord
	if m.Type == event.Track && m.Event == ConsentEvent && len(m.Properties) > 0 {
		var p consentProps
		if json.Unmarshal(m.Properties, &p) == nil {
			purpose, ok := ParsePurpose(p.Purpose)
			granted, okb := boolValue(p.Granted)
			if ok && okb {
				r := ConsentRecord{Purpose: purpose, Granted: granted, At: m.Timestamp, Source: strings.TrimSpace(p.Source),
					TextVersion: cmpOr(p.TextVersion, p.TextVersion2), MessageID: m.MessageID, Seq: m.Seq, Explicit: true}
				if r.Source == "" {
					r.Source = "source:" + m.SourceID
				}
				out = append(out, r)
			}
		}
	}
	if len(m.Context) > 0 && strings.Contains(string(m.Context), "categoryPreferences") {
		var c consentContext
		if json.Unmarshal(m.Context, &c) == nil && c.Consent != nil {
			got := map[Purpose]bool{}
			for name, v := range c.Consent.CategoryPreferences {
				purpose, ok := ParsePurpose(name)
				granted, okb := boolValue(v)
				if !ok || !okb {
					continue
				}
				if prev, seen := got[purpose]; seen {
					granted = granted && prev
				}
				got[purpose] = granted
			}
			for _, purpose := range Purposes {
				if granted, ok := got[purpose]; ok {
					out = append(out, ConsentRecord{Purpose: purpose, Granted: granted, At: m.Timestamp, Source: "consent_manager",
						TextVersion: cmpOr(c.Consent.TextVersion, c.Consent.TextVersion2), MessageID: m.MessageID, Seq: m.Seq})
				}
			}
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// DeriveConsent turns decisions (in any order) into the state of every
// purpose, in the order of Purposes. Decisions are ordered by time, then by
// log position; a categoryPreferences decision that repeats the state in
// force is left out of the history.
func DeriveConsent(records []ConsentRecord) []ConsentState {
	rs := slices.Clone(records)
	slices.SortStableFunc(rs, func(a, b ConsentRecord) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return compareUint(a.Seq, b.Seq)
	})
	states := make([]ConsentState, len(Purposes))
	idx := map[Purpose]int{}
	for i, p := range Purposes {
		states[i] = ConsentState{Purpose: p}
		idx[p] = i
	}
	for _, r := range rs {
		i, ok := idx[r.Purpose]
		if !ok {
			continue
		}
		st := &states[i]
		if !r.Explicit && st.Known && st.Granted == r.Granted {
			continue
		}
		st.Known, st.Granted = true, r.Granted
		st.History = append(st.History, r)
	}
	for i := range states {
		slices.Reverse(states[i].History)
	}
	return states
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Consent reads the consent of a profile from its events: those of all its
// userIds and anonymousIds (other than shared ones, whose events may be
// someone else's). A store that implements eventstore.PersonalData is
// asked for the consent messages only.
func Consent(ctx context.Context, events eventstore.Store, graph identity.Graph, workspaceID string, p identity.ProfileID) ([]ConsentState, error) {
	ids, err := graph.Identifiers(ctx, workspaceID, p)
	if err != nil {
		return nil, err
	}
	var actors []string
	for _, l := range ids {
		if !l.Shared && (l.Kind == identity.UserID || l.Kind == identity.AnonymousID) {
			actors = append(actors, l.Value)
		}
	}
	var records []ConsentRecord
	collect := func(m *event.Message) error {
		records = append(records, ConsentFrom(m)...)
		return nil
	}
	if len(actors) == 0 {
		return DeriveConsent(nil), nil
	}
	if pd, ok := events.(eventstore.PersonalData); ok {
		q := eventstore.PersonQuery{WorkspaceID: workspaceID, IDs: actors, ConsentOnly: true}
		if err := pd.ScanPerson(ctx, q, collect); err != nil {
			return nil, fmt.Errorf("consent of %s: %w", p, err)
		}
		return DeriveConsent(records), nil
	}
	seen := map[uint64]bool{}
	for _, a := range actors {
		if err := events.Scan(ctx, eventstore.Filter{WorkspaceID: workspaceID, User: a}, func(m *event.Message) error {
			if seen[m.Seq] {
				return nil
			}
			seen[m.Seq] = true
			return collect(m)
		}); err != nil {
			return nil, fmt.Errorf("consent of %s: %w", p, err)
		}
	}
	return DeriveConsent(records), nil
}
