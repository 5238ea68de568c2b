package identity_test

import (
	"context"
	"testing"

	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/identity"
)

// The demo's shoppers resolve as the demo made them: each customer's
// account, e-mail, phone (in whatever format each channel wrote it),
// loyalty card, Zalo id and marketplace buyer id in one profile, no two
// customers together, and nothing for review (the demo has no shared
// devices).
func TestDemoData(t *testing.T) {
	ctx := context.Background()
	names := map[string]string{}
	for _, s := range demo.Sources {
		names["src_"+s.Key] = s.Name
	}
	e := newEnv(t, identity.Options{SourceName: func(_ context.Context, id string) string { return names[id] }})
	var identifies []event.Message
	st, err := demo.Generate(ctx, demo.Options{Customers: 600}, func(key string, ms []event.Message) error {
		for i := range ms {
			ms[i].SourceID = "src_" + key
			if ms[i].Type == event.Identify {
				identifies = append(identifies, ms[i])
			}
		}
		e.send(ms...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.resolve()
	stats := e.r.Stats()
	t.Logf("demo: %d customers, %d messages: %d identifiers in %d profiles, %d merges, %d reviews, %d junk values",
		st.Customers, st.Messages, stats.Identifiers, stats.Profiles, stats.Merges, stats.Reviews, stats.Junk)
	if stats.Reviews != 0 || stats.Junk != 0 {
		t.Errorf("%d reviews and %d junk values in the demo data", stats.Reviews, stats.Junk)
	}
	// Every identify's identifiers are in one profile, that of its userId.
	users := map[identity.ProfileID]string{}
	for _, m := range identifies {
		x := identity.ExtractMessage(&m, names[m.SourceID])
		p := e.profile(x.IDs[0].String())
		for _, id := range x.IDs[1:] {
			if q := e.profile(id.String()); q != p {
				t.Errorf("identify %s: %s in %s, %s in %s", m.MessageID, x.IDs[0], p, id, q)
			}
		}
		if m.UserID != "" {
			if u, ok := users[p]; ok && u != m.UserID {
				t.Errorf("users %s and %s in one profile %s", u, m.UserID, p)
			}
			users[p] = m.UserID
		}
	}
	// Marketplace buyers who gave the phone of a known customer are that customer.
	joined := 0
	for _, m := range identifies {
		x := identity.ExtractMessage(&m, names[m.SourceID])
		for _, id := range x.IDs {
			if id.Kind == identity.MarketplaceBuyer {
				if _, ok := users[e.profile(id.String())]; ok {
					joined++
				}
			}
		}
	}
	if joined == 0 {
		t.Error("no marketplace buyer joined a customer's profile")
	}
	t.Logf("%d customers with an account, %d marketplace identifies joined to one", len(users), joined)
}
