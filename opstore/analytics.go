package opstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// KPISettings says which events and properties a workspace's KPIs (AARRR:
// acquisition, activation, retention, referral, revenue) read. A workspace
// that never saved its own reads DefaultKPISettings with its own currency.
//
// Event names are compared exactly, as Segment names them ("Order
// Completed"); property names are top-level keys of the event's properties
// ("revenue", not "properties.revenue").
type KPISettings struct {
	WorkspaceID string
	// SignupEvents mark a new customer when present. A customer is new at
	// their first event anyway; these let a sign-up count even when the
	// person was seen before as an anonymous visitor. Optional.
	SignupEvents []string
	// ActivationEvents are the "aha" moment: a customer is activated at
	// the first of them. For a retailer that is putting something in the
	// cart ("Product Added"): browsing alone says little, and buying is
	// the revenue step. Optional (no activation KPI when empty).
	ActivationEvents []string
	// PurchaseEvent is a completed order. Required.
	PurchaseEvent string
	// RevenueProperty holds the value of an order in the currency's major
	// unit (dong, dollars). When an order lacks it, the KPIs read the
	// RevenueFallbacks in order (see RevenueProperties). Required.
	RevenueProperty string
	// ReferralEvent is a customer inviting someone. Optional.
	ReferralEvent string
	// NPSEvent is an answer to the NPS survey, with the 0-10 score in
	// NPSProperty (required when NPSEvent is set). Optional.
	NPSEvent    string
	NPSProperty string
	// Currency is the ISO 4217 code revenue and spend are reported in.
	Currency  string
	UpdatedAt time.Time // zero until saved
	UpdatedBy string    // user id, "" for the CLI/system
}

// Default KPI settings. The purchase and revenue names follow Segment's
// e-commerce spec, which the tracker, the demo and the profile index
// (profile.DefaultPurchase) use; the NPS names are those of the demo's
// post-purchase survey ("Survey Answered" with the score in "nps").
// "Referral Sent" names a refer-a-friend invitation the way Segment names
// events (object, past-tense action); the demo sends none, so its referral
// KPI stays empty until a shop tracks one.
const (
	DefaultSignupEvent     = "Signed Up"
	DefaultActivationEvent = "Product Added"
	DefaultPurchaseEvent   = "Order Completed"
	DefaultRevenueProperty = "revenue"
	DefaultReferralEvent   = "Referral Sent"
	DefaultNPSEvent        = "Survey Answered"
	DefaultNPSProperty     = "nps"
	DefaultKPICurrency     = "VND"
)

// RevenueFallbacks are read, in order, when an order lacks RevenueProperty:
// Segment's "total" (revenue with shipping and tax), then "value". They
// are the same as profile.DefaultPurchase reads.
var RevenueFallbacks = []string{"total", "value"}

// Limits on KPI settings.
const (
	MaxKPIName   = 255 // an event or property name, in bytes (as event names are limited)
	MaxKPIEvents = 50  // events in one list
)

// DefaultKPISettings are the settings of a workspace that never saved its own.
func DefaultKPISettings(workspaceID string) KPISettings {
	return KPISettings{
		WorkspaceID:      workspaceID,
		SignupEvents:     []string{DefaultSignupEvent},
		ActivationEvents: []string{DefaultActivationEvent},
		PurchaseEvent:    DefaultPurchaseEvent,
		RevenueProperty:  DefaultRevenueProperty,
		ReferralEvent:    DefaultReferralEvent,
		NPSEvent:         DefaultNPSEvent,
		NPSProperty:      DefaultNPSProperty,
		Currency:         DefaultKPICurrency,
	}
}

// RevenueProperties lists the properties an order's value is read from,
// first present wins: RevenueProperty, then the RevenueFallbacks it is not.
func (k *KPISettings) RevenueProperties() []string {
	out := []string{k.RevenueProperty}
	for _, p := range RevenueFallbacks {
		if p != k.RevenueProperty {
			out = append(out, p)
		}
	}
	return out
}

// FieldError is one field of settings that cannot be saved. Code is
// machine-readable, for the UI to translate: "required", "too_long",
// "too_many", "duplicate" or "invalid".
type FieldError struct {
	Field   string // the Go field name, e.g. "ActivationEvents"
	Code    string
	Message string // in English
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// FieldErrors is every problem found in settings.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Validate tidies the settings (names trimmed, empty list entries dropped,
// a "properties." prefix removed, the currency upper-cased) and reports
// every problem as FieldErrors, or returns nil.
func (k *KPISettings) Validate() error {
	var errs FieldErrors
	add := func(field, code, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	name := func(field string, s *string, required bool) {
		*s = strings.TrimSpace(*s)
		switch {
		case *s == "" && required:
			add(field, "required", "is required")
		case len(*s) > MaxKPIName:
			add(field, "too_long", "%.40q… is longer than %d bytes", *s, MaxKPIName)
		case !utf8.ValidString(*s):
			add(field, "invalid", "is not valid UTF-8")
		}
	}
	property := func(field string, s *string, required bool) {
		*s = strings.TrimPrefix(strings.TrimSpace(*s), "properties.")
		name(field, s, required)
	}
	list := func(field string, l *[]string) {
		var out []string
		for i := range *l {
			s := strings.TrimSpace((*l)[i])
			if s == "" {
				continue
			}
			if slices.Contains(out, s) {
				add(field, "duplicate", "%q is listed twice", s)
				continue
			}
			name(field, &s, false)
			out = append(out, s)
		}
		if len(out) > MaxKPIEvents {
			add(field, "too_many", "lists %d events, at most %d", len(out), MaxKPIEvents)
		}
		*l = out
	}

	k.WorkspaceID = strings.TrimSpace(k.WorkspaceID)
	if k.WorkspaceID == "" {
		add("WorkspaceID", "required", "is required")
	}
	list("SignupEvents", &k.SignupEvents)
	list("ActivationEvents", &k.ActivationEvents)
	name("PurchaseEvent", &k.PurchaseEvent, true)
	property("RevenueProperty", &k.RevenueProperty, true)
	name("ReferralEvent", &k.ReferralEvent, false)
	name("NPSEvent", &k.NPSEvent, false)
	property("NPSProperty", &k.NPSProperty, k.NPSEvent != "")
	k.Currency = strings.ToUpper(strings.TrimSpace(k.Currency))
	if !ValidCurrency(k.Currency) {
		add("Currency", "invalid", "%q is not an ISO 4217 code such as VND or USD", k.Currency)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ValidCurrency reports whether c looks like an ISO 4217 code: three
// upper-case letters.
func ValidCurrency(c string) bool {
	return len(c) == 3 && strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// Spend is the marketing spend of one channel, or one campaign of it, over
// the days [From, To). Dates are workspace-local calendar days, each held
// as 00:00 UTC of that date (2026-10-01 is 2026-10-01T00:00:00Z), so a
// month of October is From 2026-10-01, To 2026-11-01.
type Spend struct {
	WorkspaceID string
	Channel     string // as written in the imported file, e.g. "Facebook Ads"
	Campaign    string // "" for the channel as a whole
	From, To    time.Time
	Amount      int64  // in Currency's minor units (dong for VND, cents for USD)
	Currency    string // ISO 4217
	ImportedAt  time.Time
}

// Validate checks a spend row: a channel, names no longer than MaxKPIName,
// dates at 00:00 UTC with From before To, an amount not negative and a
// currency code.
func (s *Spend) Validate() error {
	switch {
	case strings.TrimSpace(s.Channel) == "":
		return fmt.Errorf("spend: channel is required")
	case len(s.Channel) > MaxKPIName || len(s.Campaign) > MaxKPIName:
		return fmt.Errorf("spend of %.40q: channel and campaign are at most %d bytes", s.Channel, MaxKPIName)
	case !isDate(s.From) || !isDate(s.To):
		return fmt.Errorf("spend of %q: from %s and to %s must be dates at 00:00 UTC", s.Channel, s.From, s.To)
	case !s.From.Before(s.To):
		return fmt.Errorf("spend of %q: from %s is not before to %s", s.Channel, s.From.Format(time.DateOnly), s.To.Format(time.DateOnly))
	case s.Amount < 0:
		return fmt.Errorf("spend of %q: amount %d is negative", s.Channel, s.Amount)
	case !ValidCurrency(s.Currency):
		return fmt.Errorf("spend of %q: currency %q is not an ISO 4217 code", s.Channel, s.Currency)
	}
	return nil
}

// isDate reports whether t is a date as Spend holds them: not zero, 00:00 UTC.
func isDate(t time.Time) bool {
	return !t.IsZero() && t.Location() == time.UTC && t.Equal(t.Truncate(24*time.Hour))
}

// AnalyticsStore keeps what the KPIs need besides the events: each
// workspace's KPI settings and its imported marketing spend (for CAC).
// opstore/sqlite implements it next to Store.
type AnalyticsStore interface {
	// KPISettings returns a workspace's settings: DefaultKPISettings, with
	// the workspace's currency, when it never saved its own. An unknown
	// workspace is ErrNotFound.
	KPISettings(ctx context.Context, workspaceID string) (KPISettings, error)
	// SaveKPISettings validates (see KPISettings.Validate) and stores the
	// settings; a zero UpdatedAt is now.
	SaveKPISettings(ctx context.Context, k KPISettings) error

	// ReplaceSpend stores rows in one transaction, replacing the row of
	// the same (channel, campaign, from) when there is one: importing the
	// same file again changes nothing, not even ImportedAt. Rows with an
	// empty WorkspaceID take workspaceID; an invalid row refuses them all.
	ReplaceSpend(ctx context.Context, workspaceID string, rows []Spend) error
	// ListSpend lists the spend overlapping [from, to), by From, channel
	// and campaign; a zero from or to leaves that side open.
	ListSpend(ctx context.Context, workspaceID string, from, to time.Time) ([]Spend, error)
	// DeleteSpend deletes one row; ErrNotFound when there is none.
	DeleteSpend(ctx context.Context, workspaceID, channel, campaign string, from time.Time) error
}
