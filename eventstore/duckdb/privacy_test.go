package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

// personMsgs are messages of two people (Lan: user u-lan, device a-lan,
// lan@example.vn, +84912345678; Minh: u-minh) and one of another workspace.
func personMsgs() []event.Message {
	m := func(seq int, ws, user, anon string, props, traits, ctx string) event.Message {
		msg := event.Message{Seq: uint64(seq), WorkspaceID: ws, SourceID: "web", MessageID: "m" + string(rune('a'+seq)),
			Type: event.Track, Event: "Product Viewed", UserID: user, AnonymousID: anon,
			Timestamp: t0.Add(time.Duration(seq) * time.Hour), ReceivedAt: t0}
		if props != "" {
			msg.Properties = json.RawMessage(props)
		}
		if traits != "" {
			msg.Type, msg.Event, msg.Traits = event.Identify, "", json.RawMessage(traits)
		}
		if ctx != "" {
			msg.Context = json.RawMessage(ctx)
		}
		return msg
	}
	return []event.Message{
		m(1, "ws", "", "a-lan", "", "", ""),
		m(2, "ws", "u-lan", "a-lan", "", `{"email":" Lan@Example.VN ","name":"Lan"}`, ""),
		m(3, "ws", "u-minh", "", "", "", ""),
		m(4, "ws", "", "a-other", "", `{"phone":"0912 345 678"}`, ""),              // Lan's phone, national form
		m(5, "ws", "", "a-other2", `{"email":"lan@example.vn"}`, "", ""),           // e-mail in properties
		m(6, "ws", "", "a-other3", "", "", `{"traits":{"phone":"+84 912345678"}}`), // context.traits
		m(7, "ws", "u-minh", "a-lan", `{"email":"lan@example.vn"}`, "", ""),        // Minh's, on Lan's device, for Lan
		m(8, "ws2", "u-lan", "", "", "", ""),                                       // another workspace
		m(9, "ws", "", "a-lan", "", "", `{"consent":{"categoryPreferences":{"Analytics":true}}}`),
	}
}

func seqs(t *testing.T, s *Store, q eventstore.PersonQuery) []uint64 {
	t.Helper()
	var got []uint64
	if err := s.ScanPerson(context.Background(), q, func(m *event.Message) error {
		got = append(got, m.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestScanAndDeletePerson(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Append(ctx, personMsgs()); err != nil {
		t.Fatal(err)
	}
	lan := eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{"u-lan", "a-lan"}, Emails: []string{"lan@example.vn"}, Phones: []string{"+84912345678"}}
	for _, tc := range []struct {
		name string
		q    eventstore.PersonQuery
		want []uint64
	}{
		{"everything of Lan", lan, []uint64{1, 2, 4, 5, 6, 9}},
		{"ids only", eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{"u-lan"}}, []uint64{2}},
		{"e-mail only: not in another user's messages", eventstore.PersonQuery{WorkspaceID: "ws", Emails: []string{"LAN@example.vn"}}, []uint64{5}},
		{"anonymous id only", eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{"a-lan"}}, []uint64{1, 9}},
		{"phone only", eventstore.PersonQuery{WorkspaceID: "ws", Phones: []string{"+84912345678"}}, []uint64{4, 6}},
		{"consent only", eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{"a-lan"}, ConsentOnly: true}, []uint64{9}},
		{"other workspace", eventstore.PersonQuery{WorkspaceID: "ws2", IDs: []string{"u-lan"}}, []uint64{8}},
		{"nothing asked", eventstore.PersonQuery{WorkspaceID: "ws"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, seqs(t, s, tc.q)); diff != "" {
				t.Errorf("seqs (-want +got):\n%s", diff)
			}
		})
	}

	n, err := s.DeletePerson(ctx, lan)
	if err != nil || n != 6 {
		t.Fatalf("deleted %d, %v; want 6", n, err)
	}
	if got := seqs(t, s, lan); len(got) != 0 {
		t.Errorf("after delete, still %v", got)
	}
	var left []uint64
	s.Scan(ctx, eventstore.Filter{}, func(m *event.Message) error { left = append(left, m.Seq); return nil })
	if !slices.Equal(left, []uint64{3, 7, 8}) {
		t.Errorf("left %v, want 3 7 8", left)
	}
}

// Deleting the newest messages keeps the store's position, so the loader
// does not read the log again from an older seq, also after a reopen.
func TestDeleteKeepsLastSeq(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Append(ctx, personMsgs()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeletePerson(ctx, eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{"a-lan"}}); err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if last, _ := s.LastSeq(ctx); last != 9 {
		t.Errorf("last seq after deleting seq 9: %d, want 9", last)
	}
	// Appending again what was deleted is still skipped as already stored.
	if err := s.Append(ctx, personMsgs()); err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, s, eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{"a-lan"}}); len(got) != 0 {
		t.Errorf("messages of a-lan came back: %v", got)
	}
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if last, _ := s.LastSeq(ctx); last != 9 {
		t.Errorf("last seq after reopening: %d, want 9", last)
	}
	if err := s.Append(ctx, msgs(10, 2)); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastSeq(ctx); last != 11 {
		t.Errorf("last seq after appending: %d, want 11", last)
	}
}

func TestDeleteBefore(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Append(ctx, personMsgs()); err != nil {
		t.Fatal(err)
	}
	// Messages are an hour apart from t0+1h; keep ws from t0+5h on.
	n, err := s.DeleteBefore(ctx, "ws", t0.Add(5*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("deleted %d, %v; want 4", n, err)
	}
	var left []uint64
	s.Scan(ctx, eventstore.Filter{}, func(m *event.Message) error { left = append(left, m.Seq); return nil })
	if !slices.Equal(left, []uint64{5, 6, 7, 8, 9}) {
		t.Errorf("left %v", left)
	}
	if _, err := s.DeleteBefore(ctx, "", t0); err == nil {
		t.Error("no workspace: want an error")
	}
}

func TestPhoneDigits(t *testing.T) {
	if got := PhoneDigits("+84912345678"); !slices.Equal(got, []string{"84912345678", "0912345678"}) {
		t.Errorf("VN: %v", got)
	}
	if got := PhoneDigits("+6591234567"); !slices.Equal(got, []string{"6591234567"}) {
		t.Errorf("SG: %v", got)
	}
}

// BenchmarkPerson measures finding and deleting one person's messages among
// 1M (10 per person, one identify per person carrying e-mail and phone).
func BenchmarkPerson(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const n = 1_000_000
	batch := make([]event.Message, 0, 50_000)
	for i := 1; i <= n; i++ {
		p := i / 10
		m := event.Message{Seq: uint64(i), WorkspaceID: "ws", SourceID: "web", MessageID: fmt.Sprint("m", i), Type: event.Track,
			Event: "Product Viewed", UserID: fmt.Sprint("u", p), AnonymousID: fmt.Sprint("a", p), Properties: json.RawMessage(`{"price":129000}`),
			Context: json.RawMessage(`{"locale":"vi-VN","page":{"path":"/san-pham"}}`), Timestamp: t0.Add(time.Duration(i) * time.Second)}
		if i%10 == 0 {
			m.Type, m.Event = event.Identify, ""
			m.Traits = json.RawMessage(fmt.Sprintf(`{"email":"kh%d@example.vn","phone":"09%08d","name":"Khách %d"}`, p, p, p))
		}
		batch = append(batch, m)
		if len(batch) == cap(batch) {
			if err := s.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Run("scan", func(b *testing.B) {
		for i := range b.N {
			p := 1000 + i
			q := eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{fmt.Sprint("u", p), fmt.Sprint("a", p)},
				Emails: []string{fmt.Sprintf("kh%d@example.vn", p)}, Phones: []string{fmt.Sprintf("+849%08d", p)}}
			k := 0
			if err := s.ScanPerson(ctx, q, func(*event.Message) error { k++; return nil }); err != nil || k != 10 {
				b.Fatalf("found %d, %v", k, err)
			}
		}
	})
	next := 50_000
	b.Run("delete", func(b *testing.B) {
		for range b.N {
			p := next
			next++
			q := eventstore.PersonQuery{WorkspaceID: "ws", IDs: []string{fmt.Sprint("u", p), fmt.Sprint("a", p)},
				Emails: []string{fmt.Sprintf("kh%d@example.vn", p)}, Phones: []string{fmt.Sprintf("+849%08d", p)}}
			if k, err := s.DeletePerson(ctx, q); err != nil || k != 10 {
				b.Fatalf("deleted %d, %v", k, err)
			}
		}
	})
}
