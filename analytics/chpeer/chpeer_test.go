package chpeer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/google/go-cmp/cmp"
)

// startServer starts a server in a temporary directory, stopped when the
// test ends, or skips the test when ClickHouse is not installed.
func startServer(tb testing.TB) *Server {
	tb.Helper()
	if _, ok := Available(); !ok {
		tb.Skip("ClickHouse is not installed: apt-get install clickhouse-server clickhouse-client (CI installs it)")
	}
	s, err := Start(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
		if s.cmd.ProcessState == nil {
			tb.Error("the server process was not waited for")
		}
	})
	return s
}

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// at is an event of actor a at t0+d.
func at(a uint32, d time.Duration, name string) Event {
	return Event{Actor: a, TS: t0.Add(d).UnixMilli(), Name: name}
}

const odd = "it's\ta \\ \"x\"\n"

// funnelEvents is a small hand-made data set; the comment on each actor is
// its level in the funnel signup, view, cart, buy with a one-hour window
// and no bounds.
var funnelEvents = []Event{
	// 1: all four steps in half an hour: 4.
	at(1, 0, "signup"), at(1, 10*time.Minute, "view"), at(1, 20*time.Minute, "cart"), at(1, 30*time.Minute, "buy"),
	// 2: the cart comes two hours later, out of the window: 2.
	at(2, 0, "signup"), at(2, 10*time.Minute, "view"), at(2, 2*time.Hour, "cart"),
	// 3: other events between the steps: 3.
	at(3, 0, "signup"), at(3, time.Minute, "page"), at(3, 5*time.Minute, "view"), at(3, 6*time.Minute, "ping"),
	at(3, 7*time.Minute, "page"), at(3, 50*time.Minute, "cart"),
	// 4: a first attempt stops at view; a second one a day later converts: 4.
	at(4, 0, "signup"), at(4, 10*time.Minute, "view"), at(4, 3*time.Hour, "cart"),
	at(4, 24*time.Hour, "signup"), at(4, 24*time.Hour+5*time.Minute, "view"),
	at(4, 24*time.Hour+10*time.Minute, "cart"), at(4, 24*time.Hour+15*time.Minute, "buy"),
	// 5: never signs up: 0.
	at(5, 0, "view"), at(5, time.Minute, "cart"), at(5, 2*time.Minute, "buy"),
	// 6: signs up only: 1.
	at(6, 0, "signup"),
	// 7: cart before view, so no cart after the view: 2.
	at(7, 0, "signup"), at(7, 10*time.Minute, "cart"), at(7, 20*time.Minute, "view"), at(7, 30*time.Minute, "buy"),
	// 8: view exactly at the window's end (inclusive), cart a second after: 2.
	at(8, 0, "signup"), at(8, time.Hour, "view"), at(8, time.Hour+time.Second, "cart"),
	// 9: signs up 10 minutes before T0+2d, views 20 minutes after: 2.
	at(9, 48*time.Hour-10*time.Minute, "signup"), at(9, 48*time.Hour+20*time.Minute, "view"),
	// 10: signs up at T0+2d: 2.
	at(10, 48*time.Hour, "signup"), at(10, 48*time.Hour+time.Minute, "view"),
	// 11: signs up a second before T0+12h, views, signs up again, carts: 3.
	at(11, 12*time.Hour-time.Second, "signup"), at(11, 12*time.Hour+10*time.Minute, "view"),
	at(11, 12*time.Hour+20*time.Minute, "signup"), at(11, 12*time.Hour+30*time.Minute, "cart"),
	// 12: only an event whose name needs escaping.
	at(12, 0, odd),
}

func TestServer(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()

	t.Run("funnel", func(t *testing.T) {
		i := 0
		n, err := s.Load(ctx, "events", func() (Event, bool) {
			if i == len(funnelEvents) {
				return Event{}, false
			}
			i++
			return funnelEvents[i-1], true
		})
		if err != nil || n != int64(len(funnelEvents)) {
			t.Fatalf("Load = %d, %v; want %d rows", n, err, len(funnelEvents))
		}
		full := []string{"signup", "view", "cart", "buy"}
		for _, tc := range []struct {
			name     string
			steps    []string
			window   time.Duration
			from, to time.Time
			want     []int64
		}{
			{"unbounded", full, time.Hour, time.Time{}, time.Time{}, []int64{10, 9, 4, 2}},
			// Only actor 4's second attempt and the step-1 events of
			// actors 9 and 11 are inside; 10 signs up at To (exclusive).
			{"from to", full, time.Hour, t0.Add(12 * time.Hour), t0.Add(48 * time.Hour), []int64{3, 1, 1, 1}},
			{"from only", full, time.Hour, t0.Add(12 * time.Hour), time.Time{}, []int64{4, 3, 1, 1}},
			// Actor 8's view at exactly one hour falls out.
			{"window a second shorter", full, time.Hour - time.Second, time.Time{}, time.Time{}, []int64{10, 8, 4, 2}},
			// Whole-second data: 999ms more window changes nothing.
			{"window with milliseconds", full, time.Hour + 999*time.Millisecond, time.Time{}, time.Time{}, []int64{10, 9, 4, 2}},
			// One signup cannot be both steps; only 11 signs up twice
			// within the hour.
			{"repeated step", []string{"signup", "signup"}, time.Hour, time.Time{}, time.Time{}, []int64{10, 1}},
			{"repeated step, long window", []string{"signup", "signup"}, 48 * time.Hour, time.Time{}, time.Time{}, []int64{10, 2}},
			{"skipping steps", []string{"signup", "buy"}, time.Hour, time.Time{}, time.Time{}, []int64{10, 3}},
			{"name to escape", []string{odd}, time.Hour, time.Time{}, time.Time{}, []int64{1}},
			{"no such event", []string{"nothing", "signup"}, time.Hour, time.Time{}, time.Time{}, []int64{0, 0}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, server, wall, err := s.WindowFunnel(ctx, "events", tc.steps, tc.window, tc.from, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ClickHouse counts (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.want, cjmCounts(funnelEvents, tc.steps, tc.window, tc.from, tc.to)); diff != "" {
					t.Errorf("cjm's ordered funnel disagrees (-want +got):\n%s", diff)
				}
				if server <= 0 || wall < server {
					t.Errorf("server time %v, wall time %v", server, wall)
				}
			})
		}
	})

	t.Run("load 200k", func(t *testing.T) {
		const rows = 200_000
		rng := rand.New(rand.NewPCG(1, 2))
		i := 0
		n, err := s.Load(ctx, "big", func() (Event, bool) {
			if i == rows {
				return Event{}, false
			}
			i++
			return Event{Actor: uint32(i / 10), TS: t0.UnixMilli() + rng.Int64N(90*86400)*1000, Name: fmt.Sprint("e", rng.IntN(8))}, true
		})
		if err != nil || n != rows {
			t.Fatalf("Load = %d, %v; want %d rows", n, err, rows)
		}
		out, err := s.Query(ctx, "SELECT count(), uniqExact(actor), uniqExact(name) FROM big", nil)
		if err != nil || out != "200000\t20001\t8\n" {
			t.Errorf("count = %q, %v", out, err)
		}
	})

	t.Run("bad event", func(t *testing.T) {
		evs := []Event{at(1, 0, "ok"), {Actor: 2, TS: -5000, Name: "before 1970"}}
		n, err := s.Load(ctx, "bad", func() (Event, bool) {
			if len(evs) == 0 {
				return Event{}, false
			}
			e := evs[0]
			evs = evs[1:]
			return e, true
		})
		if err == nil || !strings.Contains(err.Error(), "1970 to 2038") || n != 1 {
			t.Errorf("Load = %d, %v; want an error on the second event", n, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		if _, err := s.Query(ctx, "SELECT nosuchcolumn FROM events", nil); err == nil || !strings.Contains(err.Error(), "nosuchcolumn") {
			t.Errorf("Query error = %v; want ClickHouse's message", err)
		}
		if _, _, _, err := s.WindowFunnel(ctx, "events; DROP TABLE events", []string{"a"}, time.Hour, time.Time{}, time.Time{}); err == nil {
			t.Error("a table name with SQL in it was accepted")
		}
		if _, _, _, err := s.WindowFunnel(ctx, "missing", []string{"a"}, time.Hour, time.Time{}, time.Time{}); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("WindowFunnel on a missing table: %v", err)
		}
	})
}

// cjmCounts is the same funnel computed by cjm's ordered funnel over the
// events inside [from, to), as cjm's View.Funnel reads them.
func cjmCounts(events []Event, steps []string, window time.Duration, from, to time.Time) []int64 {
	rule := analytics.FunnelRule{Steps: len(steps), Window: window.Milliseconds(), Order: analytics.Ordered}
	byActor := map[uint32][]analytics.FunnelEvent{}
	for _, e := range events {
		if !from.IsZero() && e.TS < from.UnixMilli() || !to.IsZero() && e.TS >= to.UnixMilli() {
			continue
		}
		var m uint64
		for k, s := range steps {
			if s == e.Name {
				m |= 1 << k
			}
		}
		if m != 0 {
			byActor[e.Actor] = append(byActor[e.Actor], analytics.FunnelEvent{T: e.TS, Steps: m})
		}
	}
	tally := analytics.NewTally(len(steps))
	for _, evs := range byActor {
		slices.SortStableFunc(evs, func(a, b analytics.FunnelEvent) int { return int(a.T - b.T) })
		tally.Add(rule.Best(evs))
	}
	var counts []int64
	for _, r := range tally.Steps(steps) {
		counts = append(counts, r.Count)
	}
	return counts
}

// BenchmarkWindowFunnel10M loads 10 million events of a million actors (10
// each, 8 names, whole seconds over 90 days) and times a 4-step funnel with
// a 7-day window. It reports the load time and the best server and wall
// times of the queries; run it with -benchtime=3x for a best of 3.
func BenchmarkWindowFunnel10M(b *testing.B) {
	s := startServer(b)
	ctx := context.Background()
	const actors, perActor = 1_000_000, 10
	names := []string{"visit", "signup", "view", "search", "cart", "checkout", "buy", "support"}
	rng := rand.New(rand.NewPCG(10, 10))
	var actor, k uint32
	var ts [perActor]int64
	start := time.Now()
	n, err := s.Load(ctx, "bench", func() (Event, bool) {
		if k == perActor {
			k = 0
			actor++
		}
		if actor == actors {
			return Event{}, false
		}
		if k == 0 {
			for i := range ts {
				ts[i] = t0.Unix() + rng.Int64N(90*86400)
			}
			slices.Sort(ts[:])
		}
		k++
		return Event{Actor: actor, TS: ts[k-1] * 1000, Name: names[rng.IntN(len(names))]}, true
	})
	if err != nil || n != actors*perActor {
		b.Fatalf("Load = %d, %v", n, err)
	}
	load := time.Since(start)
	steps := []string{"visit", "view", "cart", "buy"}
	best, bestWall := time.Duration(1<<62), time.Duration(1<<62)
	var counts []int64
	for b.Loop() {
		c, server, wall, err := s.WindowFunnel(ctx, "bench", steps, 7*24*time.Hour, time.Time{}, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		counts = c
		best, bestWall = min(best, server), min(bestWall, wall)
	}
	b.ReportMetric(load.Seconds(), "load-s")
	b.ReportMetric(float64(best.Milliseconds()), "best-server-ms")
	b.ReportMetric(float64(bestWall.Milliseconds()), "best-wall-ms")
	b.Logf("loaded %d rows in %v; counts %v; best query %v (server), %v (wall)", n, load, counts, best, bestWall)
}
