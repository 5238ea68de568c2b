package demo

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
)

// fakeClock is a clock that Live's Sleep moves on. Live calls it from its
// own goroutine only.
type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		panic("Live slept for " + d.String())
	}
	f.t = f.t.Add(d)
	return nil
}

// liveMsg is an emitted live message with its source and the clock at emit.
type liveOut struct {
	src string
	at  time.Time
	m   event.Message
}

var liveData = Options{Customers: 500}

// playLive runs Live on a fake clock from start for d and returns what it
// emitted and the hash of it.
func playLive(t *testing.T, seed int64, start time.Time, d time.Duration) ([]liveOut, [32]byte) {
	t.Helper()
	clk := &fakeClock{t: start}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out []liveOut
	h := sha256.New()
	err := Live(ctx, LiveOptions{Data: liveData, Seed: seed, Now: clk.now, Sleep: clk.sleep}, func(src string, msgs []event.Message) error {
		if len(msgs) == 0 {
			t.Error("empty batch")
		}
		for i := range msgs {
			hashMessage(h, src, &msgs[i])
			out = append(out, liveOut{src, clk.t, msgs[i]})
		}
		if clk.t.Sub(start) >= d {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Live: %v", err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return out, sum
}

func TestLive(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 3, 3, 0, 0, 0, time.UTC) // 10:00 in Hà Nội, a Tuesday
	const hours = 3
	out, sum := playLive(t, 42, start, hours*time.Hour)
	_, sum2 := playLive(t, 42, start, hours*time.Hour)
	if sum != sum2 {
		t.Error("same seed and clock, different messages")
	}
	if _, sum3 := playLive(t, 43, start, hours*time.Hour); sum == sum3 {
		t.Error("seeds 42 and 43 gave the same messages")
	}

	// The history of the same customers, to see that live sessions join it.
	hist := map[string]bool{}
	if _, err := Generate(context.Background(), liveData, func(_ string, msgs []event.Message) error {
		for _, m := range msgs {
			hist[m.UserID], hist[m.AnonymousID] = true, true
		}
		delete(hist, "")
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	generated := regexp.MustCompile(`^demo-\d+-`)
	sources := map[string]bool{}
	for _, s := range Sources {
		sources[s.Key] = true
	}
	ids := map[string]bool{}
	labels := map[string]int{}
	bySrc := map[string]int{}
	var known, anon, views, orders int
	sessions := map[string][2]time.Time{}
	for _, x := range out {
		m := x.m
		if !sources[x.src] {
			t.Fatalf("unknown source %q", x.src)
		}
		if !strings.HasPrefix(m.MessageID, LiveIDPrefix) || generated.MatchString(m.MessageID) || ids[m.MessageID] {
			t.Fatalf("message ID %q: not a fresh live ID", m.MessageID)
		}
		ids[m.MessageID] = true
		if m.Timestamp.After(x.at) || x.at.Sub(m.Timestamp) > time.Second || m.Timestamp.Location() != time.UTC {
			t.Fatalf("%s at %v: timestamp %v", m.Label(), x.at, m.Timestamp)
		}
		c := m
		c.ReceivedAt = x.at
		if err := event.Check(&c); err != nil {
			t.Fatalf("invalid %s: %v: %+v", m.Label(), err, m)
		}
		for _, o := range []json.RawMessage{m.Properties, m.Traits, m.Context} {
			if o != nil && !json.Valid(o) {
				t.Fatalf("invalid JSON %s", o)
			}
		}
		labels[m.Label()]++
		bySrc[x.src]++
		if hist[m.UserID] || hist[m.AnonymousID] {
			known++
		}
		if m.UserID == "" {
			anon++
		}
		switch m.Type {
		case event.Page, event.Screen:
			views++
		}
		if m.Event == "Order Completed" {
			orders++
			p := props(t, &m)
			if p["currency"] != "VND" || p["revenue"].(float64) < 50000 {
				t.Errorf("order %s", m.Properties)
			}
		}
		if x.src == "web" || x.src == "app" {
			var ctx struct {
				SessionID int64 `json:"sessionId"`
			}
			_ = json.Unmarshal(m.Context, &ctx)
			k := m.AnonymousID + "/" + time.UnixMilli(ctx.SessionID).String()
			s := sessions[k]
			if s[0].IsZero() {
				s[0] = m.Timestamp
			}
			s[1] = m.Timestamp
			sessions[k] = s
		}
	}
	n := len(out)
	perSec := float64(n) / (hours * 3600)
	t.Logf("%d events in %d hours (one every %.1f s), %d web/app sessions; %d page/screen views, %d orders; %.0f%% of events by customers of the data set, %.0f%% anonymous",
		n, hours, 1/perSec, len(sessions), views, orders, 100*float64(known)/float64(n), 100*float64(anon)/float64(n))
	t.Logf("by source %v", bySrc)
	t.Logf("events %v", labels)
	if perSec < 1.0/3 || perSec > 1 {
		t.Errorf("one event every %.1f s, want 1-3 s", 1/perSec)
	}
	if orders == 0 || views < 4*orders {
		t.Errorf("%d page/screen views, %d orders", views, orders)
	}
	for _, l := range []string{"Product List Viewed", "Product Viewed", "Product Added", "Checkout Started", "Order Completed",
		"Call Started", "Email Opened", "ZNS Delivered", "Application Opened", "Home"} {
		if labels[l] == 0 {
			t.Errorf("no %s", l)
		}
	}
	for _, s := range []string{"web", "app", "hotline", "pos", "email", "zalo"} {
		if bySrc[s] == 0 {
			t.Errorf("no events from %s", s)
		}
	}
	if known < n/3 || anon < n/10 {
		t.Errorf("%d of %d events by customers of the data set, %d anonymous", known, n, anon)
	}
	var long int
	for _, s := range sessions {
		if s[1].Sub(s[0]) >= 30*time.Second {
			long++
		}
	}
	if long < len(sessions)/3 {
		t.Errorf("%d of %d sessions last 30 s or more", long, len(sessions))
	}
}

func TestLiveNight(t *testing.T) {
	t.Parallel()
	out, _ := playLive(t, 1, time.Date(2026, 11, 3, 16, 30, 0, 0, time.UTC), time.Hour) // 23:30 in Hà Nội
	for _, x := range out {
		if x.src == "hotline" || x.src == "pos" {
			t.Fatalf("%s from %s at night", x.m.Label(), x.src)
		}
	}
	if len(out) < 600 {
		t.Errorf("%d events in an hour at night", len(out))
	}
}

func TestLiveRate(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: start}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := Live(ctx, LiveOptions{Data: liveData, Seed: 5, Rate: 10, Now: clk.now, Sleep: clk.sleep}, func(_ string, msgs []event.Message) error {
		n += len(msgs)
		if clk.t.Sub(start) >= 10*time.Minute {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if r := float64(n) / 600; r < 7 || r > 13 {
		t.Errorf("Rate 10: %.1f events/s", r)
	}
}

func TestLiveStops(t *testing.T) {
	t.Parallel()
	// The real clock: Live sleeps until the next event and wakes when ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := Live(ctx, LiveOptions{Data: liveData, Rate: 0.01}, func(string, []event.Message) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if el := time.Since(begin); el > 2*time.Second {
		t.Errorf("stopped %v after start", el)
	}

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := Live(canceled, LiveOptions{Data: liveData}, func(string, []event.Message) error {
		t.Error("emit after cancel")
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}

	boom := errors.New("boom")
	clk := &fakeClock{t: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)}
	calls := 0
	err = Live(context.Background(), LiveOptions{Data: liveData, Seed: 3, Now: clk.now, Sleep: clk.sleep}, func(string, []event.Message) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Errorf("emit error: %v after %d calls", err, calls)
	}
	if err := Live(context.Background(), LiveOptions{}, nil); err == nil {
		t.Error("nil emit")
	}
}
