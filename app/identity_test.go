package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// callbacks counts what the Segment client reports.
type callbacks struct {
	mu       sync.Mutex
	ok, fail int
	errs     []string
}

func (c *callbacks) Success(analytics.Message) { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *callbacks) Failure(_ analytics.Message, err error) {
	c.mu.Lock()
	c.fail++
	c.errs = append(c.errs, err.Error())
	c.mu.Unlock()
}
func (c *callbacks) done() int { c.mu.Lock(); defer c.mu.Unlock(); return c.ok + c.fail }

// listener notes the profiles it is told of.
type listener struct {
	mu   sync.Mutex
	seen map[identity.ProfileID]bool
}

func (l *listener) ProfilesChanged(_ context.Context, _ string, changed []identity.ProfileID, merged map[identity.ProfileID]identity.ProfileID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range changed {
		l.seen[p] = true
	}
	for from := range merged {
		delete(l.seen, from)
	}
}

// Segment's Go client sends identify, alias, page and track calls of
// several shoppers through the real collector; the identity resolver of
// the running app puts them in profiles, and a restarted app has them too.
func TestIdentityEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	changed := &listener{seen: map[identity.ProfileID]bool{}}
	a, err := app.Open(ctx, app.Config{DataDir: dir, Logger: logger,
		IdentityListener: func(*app.App) identity.Listener { return changed }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { a.Close() }()
	w, err := a.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := opstore.Source{WorkspaceID: w.ID, Name: "Shopee Mall", Channel: opstore.Marketplace}
	if err := a.Ops.CreateSource(ctx, &src); err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	cb := &callbacks{}
	client, err := analytics.NewWithConfig(src.WriteKey, analytics.Config{Endpoint: srv.URL, BatchSize: 5, Interval: 20 * time.Millisecond,
		Callback: cb, Logger: analytics.StdLogger(slog.NewLogLogger(logger.Handler(), slog.LevelInfo))})
	if err != nil {
		t.Fatal(err)
	}
	traits := func(kv ...any) analytics.Traits {
		tr := analytics.NewTraits()
		for i := 0; i < len(kv); i += 2 {
			tr.Set(kv[i].(string), kv[i+1])
		}
		return tr
	}
	// Phases, each sent once the one before is acknowledged: the client
	// uploads batches concurrently, so only phases keep an order.
	phases := [][]analytics.Message{{
		// Lan browses anonymously on her phone, then on her laptop; Minh too.
		analytics.Page{AnonymousId: "anon-lan-phone", Name: "Trang chủ"},
		analytics.Track{AnonymousId: "anon-lan-phone", Event: "Product Viewed", Properties: analytics.NewProperties().SetSKU("TUI-042")},
		analytics.Page{AnonymousId: "anon-lan-laptop", Name: "Giỏ hàng"},
		analytics.Page{AnonymousId: "anon-minh", Name: "Đăng ký"},
	}, {
		// Lan logs in on her phone; Minh signs up (alias from his visitor
		// id); a customer uses the store's tablet.
		analytics.Identify{UserId: "kh-001", AnonymousId: "anon-lan-phone", Traits: traits("email", "Lan.Nguyen@Example.vn", "phone", "0912 345 678", "name", "Nguyễn Thị Lan")},
		analytics.Alias{PreviousId: "anon-minh", UserId: "kh-002"},
		analytics.Identify{UserId: "kh-003", AnonymousId: "tablet-store-1", Traits: traits("name", "Hà")},
	}, {
		// Lan orders, then logs in on her laptop, and buys on Shopee with
		// her phone number written another way; Minh gives his phone;
		// another customer uses the tablet; a broken integration sends junk.
		analytics.Track{UserId: "kh-001", AnonymousId: "anon-lan-phone", Event: "Order Completed", Properties: analytics.NewProperties().SetRevenue(1290000)},
		analytics.Track{UserId: "kh-001", AnonymousId: "anon-lan-laptop", Event: "Checkout Started"},
		analytics.Identify{AnonymousId: "shopee:555123", Traits: traits("phone", "84912345678", "buyer_id", "555123")},
		analytics.Identify{UserId: "kh-002", Traits: traits("phone", "+84 987 111 222")},
		analytics.Identify{UserId: "kh-004", AnonymousId: "tablet-store-1", Traits: traits("name", "Tuấn")},
		analytics.Track{UserId: "undefined", AnonymousId: "anon-junk", Event: "Product Viewed"},
		analytics.Identify{UserId: "null", AnonymousId: "anon-junk", Traits: traits("email", "test@test.com", "phone", "0000000000")},
	}}
	sent := 0
	for _, phase := range phases {
		for _, m := range phase {
			if err := client.Enqueue(m); err != nil {
				t.Fatal(err)
			}
		}
		sent += len(phase)
		deadline := time.Now().Add(30 * time.Second)
		for cb.done() < sent {
			if time.Now().After(deadline) {
				t.Fatalf("after 30 s only %d of %d messages were acknowledged", cb.done(), sent)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if cb.fail > 0 {
		t.Fatalf("the client dropped %d messages: %q", cb.fail, cb.errs)
	}

	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.Pipeline.Flush(wait); err != nil {
		t.Fatal(err)
	}
	if err := a.Identity.Caught(wait, a.Log.LastSeq()); err != nil {
		t.Fatal(err)
	}

	check := func(when string, g identity.Graph) {
		t.Helper()
		resolve := func(s string) identity.ProfileID {
			t.Helper()
			id, err := identity.ParseIdentifier(s)
			if err != nil {
				t.Fatal(err)
			}
			p, err := g.Resolve(ctx, w.ID, id)
			if err != nil {
				t.Errorf("%s: Resolve(%s): %v", when, s, err)
			}
			return p
		}
		lan := resolve("user_id:kh-001")
		if want := identity.NewProfileID(w.ID, identity.Identifier{Kind: identity.AnonymousID, Value: "anon-lan-phone"}); lan != want {
			t.Errorf("%s: Lan's profile is %s, want %s (her first visit's)", when, lan, want)
		}
		for _, s := range []string{"anonymous_id:anon-lan-phone", "anonymous_id:anon-lan-laptop", "email:lan.nguyen@example.vn",
			"phone:0912345678", "marketplace_buyer_id:shopee:555123", "anonymous_id:shopee:555123"} {
			if p := resolve(s); p != lan {
				t.Errorf("%s: %s is in %s, not in Lan's profile %s", when, s, p, lan)
			}
		}
		ids, err := g.Identifiers(ctx, w.ID, lan)
		if err != nil || len(ids) != 7 || ids[0].Kind != identity.UserID {
			t.Errorf("%s: Lan's identifiers %v, %v", when, ids, err)
		}
		merges, err := g.Merges(ctx, w.ID, lan)
		if err != nil || len(merges) != 1 || merges[0].By.Value != "anon-lan-laptop" {
			t.Errorf("%s: Lan's merges %+v, %v", when, merges, err)
		}
		minh := resolve("user_id:kh-002")
		if resolve("anonymous_id:anon-minh") != minh || resolve("phone:0987111222") != minh || minh == lan {
			t.Errorf("%s: Minh's identifiers are not his profile's alone", when)
		}
		if resolve("user_id:kh-003") == resolve("user_id:kh-004") {
			t.Errorf("%s: two customers of one tablet merged", when)
		}
		reviews, err := g.Reviews(ctx, w.ID, true, 10)
		if err != nil || len(reviews) != 1 || reviews[0].Reason != identity.ReasonDifferentUserIDs || reviews[0].By.Value != "tablet-store-1" {
			t.Errorf("%s: reviews %+v, %v", when, reviews, err)
		}
		n := 0
		if err := g.EachIdentifier(ctx, w.ID, func(identity.Identifier, identity.ProfileID) error { n++; return nil }); err != nil || n != 14 {
			t.Errorf("%s: %d identifiers (%v), want 14: the junk is left out", when, n, err)
		}
		if _, err := g.Resolve(ctx, w.ID, identity.Identifier{Kind: identity.UserID, Value: "undefined"}); !errors.Is(err, identity.ErrJunk) {
			t.Errorf("%s: Resolve(user_id:undefined): %v", when, err)
		}
	}
	check("running", a.Identity)
	// The listener heard of every profile there is.
	err = a.Identity.EachIdentifier(ctx, w.ID, func(id identity.Identifier, p identity.ProfileID) error {
		changed.mu.Lock()
		defer changed.mu.Unlock()
		if !changed.seen[p] {
			t.Errorf("the listener was not told of %s, the profile of %s", p, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Identity.Stats(); s.Messages != uint64(sent) || s.Junk != 4 || s.LastError != "" {
		t.Errorf("stats %+v", s)
	}

	// Restarted on the same data directory, the graph is loaded back.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a, err = app.Open(ctx, app.Config{DataDir: dir, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	check("restarted", a.Identity)
	if s := a.Identity.Stats(); s.Offset != uint64(sent) || s.Messages != 0 {
		t.Errorf("stats after a restart %+v", s)
	}
}
