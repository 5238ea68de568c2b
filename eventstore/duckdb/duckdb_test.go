package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"), Options{MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

func msgs(from, n int) []event.Message {
	out := make([]event.Message, n)
	for i := range out {
		seq := from + i
		out[i] = event.Message{Seq: uint64(seq), WorkspaceID: "ws", SourceID: []string{"web", "pos"}[seq%2], MessageID: fmt.Sprint("m", seq),
			Type: event.Track, UserID: fmt.Sprint("u", seq%10), Event: []string{"Product Viewed", "Order Completed", "Signed In"}[seq%3],
			Properties: json.RawMessage(`{"revenue":1290000,"name":"Túi xách"}`), Context: json.RawMessage(`{"locale":"vi-VN"}`),
			Timestamp: t0.Add(time.Duration(seq) * time.Minute), ReceivedAt: t0.Add(time.Duration(seq)*time.Minute + time.Second)}
		if seq%5 == 0 {
			out[i].Type, out[i].Event, out[i].Name, out[i].UserID, out[i].AnonymousID = event.Page, "", "Home", "", fmt.Sprint("a", seq)
		}
	}
	return out
}

func TestAppendIsIdempotentAndReadsBack(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Append(ctx, msgs(1, 100)); err != nil {
		t.Fatal(err)
	}
	// Re-appending an overlapping range stores only the new tail.
	if err := s.Append(ctx, msgs(51, 100)); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastSeq(ctx); last != 150 {
		t.Errorf("last seq %d", last)
	}
	var got []event.Message
	if err := s.Scan(ctx, eventstore.Filter{}, func(m *event.Message) error { got = append(got, *m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 {
		t.Fatalf("scanned %d", len(got))
	}
	want := msgs(1, 150)
	for i := range got {
		a, _ := json.Marshal(want[i])
		b, _ := json.Marshal(got[i])
		if string(a) != string(b) || got[i].Seq != want[i].Seq || got[i].SourceID != want[i].SourceID {
			t.Fatalf("message %d:\n got %s\nwant %s", i, b, a)
		}
	}
	keys := 0
	if err := s.DedupKeys(ctx, func(k uint64) {
		keys++
	}); err != nil || keys != 150 {
		t.Errorf("dedup keys %d %v", keys, err)
	}
}

func TestFilters(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Append(ctx, msgs(1, 300)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    eventstore.Filter
		want int64
	}{
		{"all", eventstore.Filter{}, 300},
		{"workspace", eventstore.Filter{WorkspaceID: "ws"}, 300},
		{"other workspace", eventstore.Filter{WorkspaceID: "nope"}, 0},
		{"source", eventstore.Filter{SourceID: "pos"}, 150},
		{"type", eventstore.Filter{Type: event.Page}, 60},
		{"event name", eventstore.Filter{Event: "Signed In"}, 80}, // seq%3==0 minus pages (seq%15==0: 20)
		{"page name", eventstore.Filter{Event: "Home"}, 60},
		{"user", eventstore.Filter{User: "u1"}, 30}, // seq%10==1 are never pages
		{"anonymous user", eventstore.Filter{User: "a5"}, 1},
		{"time range", eventstore.Filter{From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)}, 10},
		{"after seq", eventstore.Filter{AfterSeq: 290}, 10},
		{"before seq", eventstore.Filter{BeforeSeq: 11}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Count(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("count %d, want %d", n, tt.want)
			}
		})
	}
	recent, err := s.Recent(ctx, eventstore.Filter{Type: event.Track}, 5)
	if err != nil || len(recent) != 5 || recent[0].Seq != 299 || recent[4].Seq != 294 {
		t.Fatalf("recent: %v %+v", err, recent)
	}
	names, err := s.EventNames(ctx, "ws", 10)
	if err != nil || len(names) != 4 || names[0].Name != "Product Viewed" && names[0].Name != "Order Completed" {
		t.Errorf("names %v %+v", err, names)
	}
}

func BenchmarkAppend(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const batch = 200000
	seq := 1
	for b.Loop() {
		b.StopTimer()
		ms := msgs(seq, batch)
		b.StartTimer()
		if err := s.Append(ctx, ms); err != nil {
			b.Fatal(err)
		}
		seq += batch
	}
	b.ReportMetric(float64(seq-1)/b.Elapsed().Seconds(), "msgs/s")
}

func TestSettings(t *testing.T) {
	s := open(t)
	var v string
	if err := s.db.QueryRow(`SELECT current_setting('checkpoint_threshold')`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "64.0 MiB" && v != "61.0 MiB" && v != "64MB" {
		t.Errorf("checkpoint_threshold %q", v)
	}
}
