// Package profile is the 360-degree view of a customer: the identifiers the
// identity graph joined into one profile, their traits (latest value wins,
// with history), computed attributes (first and last seen, channels,
// orders, revenue, average order value, lifetime value, days since the
// last order, the current stage on each journey map, persona), staff notes
// and one omnichannel timeline of everything the person did, each event
// labelled with its stage and touchpoint on every map.
//
// An Indexer keeps the profile index (opstore.ProfileStore) as the event
// store grows and as the identity graph changes; a Service reads it for
// the customers pages, their search, filters and CSV export.
package profile

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// Purchase says which events are orders and what they bring.
type Purchase struct {
	// Event is the track event of a completed order; default
	// "Order Completed" (Segment's e-commerce spec).
	Event string
	// Revenue lists the properties read for the order's value, first
	// present wins; default revenue, total, value. Values are in the
	// workspace currency's major unit (dong, dollars) and are kept in
	// its minor units.
	Revenue []string
}

// DefaultPurchase is Segment's "Order Completed" with revenue, else total,
// else value.
var DefaultPurchase = Purchase{Event: "Order Completed", Revenue: []string{"revenue", "total", "value"}}

func (p Purchase) withDefaults() Purchase {
	if p.Event == "" {
		p.Event = DefaultPurchase.Event
	}
	if len(p.Revenue) == 0 {
		p.Revenue = DefaultPurchase.Revenue
	}
	return p
}

// Profile is everything known about one customer.
type Profile struct {
	ID          identity.ProfileID
	WorkspaceID string
	// Name, Email and Phone are the latest values of those traits (from
	// any of the profile's identifiers); Name is "" when none was sent.
	Name, Email, Phone string
	Identifiers        []identity.Linked // strongest kind first
	// Traits holds the latest value of each trait, by name; History every
	// value each trait had, newest first.
	Traits  []Trait
	History map[string][]Trait
	Stats   Stats
	// Stages is the current stage on each journey map of the workspace
	// that placed any of the customer's events.
	Stages []Stage
	// Persona is the traits.persona value, "" when none.
	Persona string
	Notes   []opstore.ProfileNote
	// Actors are the userIds and anonymousIds the events came with.
	Actors []opstore.ActorFacts
}

// Trait is one value of a trait, as an identify call set it.
type Trait struct {
	Name, Value string
	At          time.Time
	SourceID    string
}

// Stats are the computed attributes of a profile.
type Stats struct {
	FirstSeen, LastSeen time.Time
	Events, Orders      int64
	// Revenue is the sum of the orders' values, in minor units of the
	// workspace currency. Lifetime value is the revenue so far: cjm does
	// not predict future orders.
	Revenue     int64
	Currency    string
	Channels    []opstore.Channel // the kinds of the sources the events came from
	LastOrderAt time.Time         // zero: no order
}

// AverageOrder is the revenue per order (0 without orders), in minor units.
func (s Stats) AverageOrder() int64 {
	if s.Orders == 0 {
		return 0
	}
	return s.Revenue / s.Orders
}

// LifetimeValue is the revenue so far.
func (s Stats) LifetimeValue() int64 { return s.Revenue }

// DaysSinceOrder is the number of whole days from the last order to now;
// ok is false without orders.
func (s Stats) DaysSinceOrder(now time.Time) (days int, ok bool) {
	if s.LastOrderAt.IsZero() {
		return 0, false
	}
	d := now.Sub(s.LastOrderAt)
	if d < 0 {
		d = 0
	}
	return int(d / (24 * time.Hour)), true
}

// Stage is a profile's current place on a journey map: where the map puts
// its most recent event the map places.
type Stage struct {
	MapID, MapName string
	StageKey       string
	StageName      string
	TouchpointKey  string // "" when the event placed the stage itself
	Touchpoint     string
	At             time.Time
	// Stale: the map changed since the stage was computed; the index is
	// recomputing it.
	Stale bool
}

// channelBit is the bit of a source channel in a channel mask.
func channelBit(c opstore.Channel) uint32 {
	if i := slices.Index(opstore.Channels, c); i >= 0 {
		return 1 << i
	}
	return 0
}

// ChannelMask is the mask of channels, for filtering.
func ChannelMask(cs ...opstore.Channel) uint32 {
	var m uint32
	for _, c := range cs {
		m |= channelBit(c)
	}
	return m
}

// Channels lists the channels of a mask, in the order of opstore.Channels.
func Channels(mask uint32) []opstore.Channel {
	var out []opstore.Channel
	for i, c := range opstore.Channels {
		if mask&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// minorDigits is the number of minor-unit digits of a currency (ISO 4217).
func minorDigits(currency string) int {
	switch strings.ToUpper(currency) {
	case "VND", "JPY", "KRW", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF", "KMF", "GNF", "RWF", "VUV", "XPF", "BIF", "DJF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// MinorDigits is the number of digits after the decimal point of a
// currency's amounts: 0 for VND, 2 for USD.
func MinorDigits(currency string) int { return minorDigits(currency) }

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DisplayName is the name to show for a profile: its name, else its
// e-mail, else its phone, else its id.
func DisplayName(name, email, phone, id string) string {
	for _, s := range []string{name, email, phone} {
		if s != "" {
			return s
		}
	}
	return id
}
