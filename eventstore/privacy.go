package eventstore

import (
	"context"
	"time"

	"github.com/cjmhq/cjm/event"
)

// PersonQuery names the messages of one person in a workspace, for a
// privacy export or erasure. A message matches when its userId is one of
// IDs; or, unless it carries another userId (it is then that person's),
// when its anonymousId or previousId (alias) is one of IDs, or an e-mail
// address or phone number it carries (traits.email, context.traits.email,
// properties.email and the same paths for phone) is one of Emails or Phones.
type PersonQuery struct {
	WorkspaceID string
	IDs         []string
	// Emails are matched trimmed and case-insensitively.
	Emails []string
	// Phones are E.164 numbers ("+84912345678"); a stored number matches
	// when its digits are those of the E.164 form, or, for a Vietnamese
	// number, of its national form ("0912 345 678", "84912345678").
	Phones []string
	// ConsentOnly keeps only the messages that may record consent: the
	// "Consent Updated" track events and those carrying
	// context.consent.categoryPreferences.
	ConsentOnly bool
}

// Empty reports whether q can match nothing.
func (q PersonQuery) Empty() bool { return len(q.IDs)+len(q.Emails)+len(q.Phones) == 0 }

// PersonalData is what privacy requests and the retention policy need of an
// event store beyond Store. The DuckDB store implements it.
type PersonalData interface {
	// ScanPerson calls fn for every message matching q, in Seq order.
	ScanPerson(ctx context.Context, q PersonQuery, fn func(*event.Message) error) error
	// DeletePerson deletes the messages matching q and says how many.
	DeletePerson(ctx context.Context, q PersonQuery) (int64, error)
	// DeleteBefore deletes a workspace's messages whose timestamp is before
	// the given time (the retention policy) and says how many.
	DeleteBefore(ctx context.Context, workspaceID string, before time.Time) (int64, error)
}
