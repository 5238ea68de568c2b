package identity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore/sqlite"
)

// benchMessages is how many messages BenchmarkResolver resolves
// (CJM_BENCH_MESSAGES overrides it).
func benchMessages() int {
	if n, err := strconv.Atoi(os.Getenv("CJM_BENCH_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// traffic makes the messages of a shop's customers, in sessions of ten on
// one device: nine pages and tracks and one identify (10%). Half the
// people have an account (they log in on their phone or computer, one in
// four on both, with their e-mail and phone in any Vietnamese format), the
// others sign up for the newsletter or buy on Shopee with their phone;
// some use the shop's tablets; some values are junk.
type traffic struct {
	r        *rand.Rand
	people   int
	seq      uint64
	loggedIn map[string]bool
	ctx      []json.RawMessage
}

func newTraffic(people int) *traffic {
	t := &traffic{r: rand.New(rand.NewPCG(1, 2)), people: people, loggedIn: map[string]bool{}}
	for _, p := range []string{"/", "/danh-muc/tui-xach", "/san-pham/tui-may-m", "/gio-hang", "/thanh-toan"} {
		t.ctx = append(t.ctx, json.RawMessage(fmt.Sprintf(
			`{"library":{"name":"analytics.js","version":"4.1.0"},"page":{"path":%q,"url":"https://maybouti.vn%s","title":"Mây Boutique"},`+
				`"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15","locale":"vi-VN","ip":"113.161.0.1"}`, p, p)))
	}
	return t
}

var phoneForms = []string{"0%s %s %s", "+84%s%s%s", "84%s%s%s", "0%s.%s.%s", "(+84) %s-%s-%s", "0%s%s%s"}

func (t *traffic) phone(person int) string {
	n := fmt.Sprintf("9%08d", person)
	f := phoneForms[t.r.IntN(len(phoneForms))]
	return fmt.Sprintf(f, n[:3], n[3:6], n[6:])
}

// session appends the ten messages of one visit to out.
func (t *traffic) session(out []event.Message) []event.Message {
	// A few people come back often.
	person := int(float64(t.people) * t.r.Float64() * t.r.Float64())
	user := ""
	if person%2 == 0 {
		user = "kh" + strconv.Itoa(person)
	}
	dev := person % 7 / 6 // one in seven has a second device
	if t.r.IntN(4) == 0 {
		dev = 1 - dev
	}
	anon := fmt.Sprintf("%08x-%04x-4c1e-9f3a-%012x", person, dev, person*7919)
	if t.r.IntN(200) == 0 { // a store tablet
		anon = fmt.Sprintf("tablet-store-%02d", t.r.IntN(20))
	}
	shopee := user == "" && person%5 == 1
	idAt := t.r.IntN(10)
	logged := user != "" && t.loggedIn[anon+user]
	ts := t0.Add(time.Duration(t.seq) * 50 * time.Millisecond)
	for i := range 10 {
		t.seq++
		m := event.Message{Seq: t.seq, WorkspaceID: "ws_bench", SourceID: "src_web", MessageID: "m" + strconv.FormatUint(t.seq, 36),
			AnonymousID: anon, Timestamp: ts.Add(time.Duration(i) * 20 * time.Second), ReceivedAt: ts, Context: t.ctx[i%len(t.ctx)]}
		if logged {
			m.UserID = user
		}
		switch {
		case i == idAt:
			m.Type = event.Identify
			email := fmt.Sprintf("khach.%d@gmail.com", person)
			switch {
			case t.r.IntN(100) == 0:
				m.UserID, email = "undefined", "test@test.com"
			case user != "":
				m.UserID = user
				logged = true
				t.loggedIn[anon+user] = true
			case shopee:
				m.SourceID, m.AnonymousID, m.Context = "src_shopee", "shopee:"+strconv.Itoa(person), nil
			}
			tr := map[string]any{"name": "Nguyễn Thị Lan", "email": email, "phone": t.phone(person), "city": "Hà Nội"}
			if shopee {
				tr = map[string]any{"phone": t.phone(person), "buyer_id": strconv.Itoa(person), "marketplace": "shopee"}
			}
			m.Traits, _ = json.Marshal(tr)
		case i%3 == 0:
			m.Type, m.Name = event.Page, "Sản phẩm"
			m.Properties = json.RawMessage(`{"path":"/san-pham/tui-may-m","title":"Túi Mây M"}`)
		default:
			m.Type, m.Event = event.Track, "Product Viewed"
			m.Properties = json.RawMessage(`{"product_id":"TUI-042","sku":"TUI-042-M","price":1290000,"currency":"VND"}`)
		}
		out = append(out, m)
	}
	return out
}

// memSource serves rows read once from the event store, to time the
// resolver's own work (apply and store) without the scan.
type memSource struct{ rows []eventstore.IdentityRow }

func (s *memSource) LastSeq(context.Context) (uint64, error) {
	return s.rows[len(s.rows)-1].Seq, nil
}

func (s *memSource) ScanIdentity(_ context.Context, from, to uint64, fn func(*eventstore.IdentityRow) error) error {
	// Seqs are 1..n without gaps.
	for i := from; i < to && i < uint64(len(s.rows)); i++ {
		if err := fn(&s.rows[i]); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkResolver resolves a million messages (10% identify calls) into
// a fresh SQLite store: "scan" reads them from a real DuckDB event store as
// Run does; "apply" from memory, timing apply and store alone.
func BenchmarkResolver(b *testing.B) {
	n := benchMessages()
	ctx := context.Background()
	dir := b.TempDir()
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{MemoryLimit: "512MB"})
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	tr := newTraffic(n / 8)
	identifies := 0
	for int(tr.seq) < n {
		var ms []event.Message
		for len(ms) < 50_000 && int(tr.seq) < n {
			ms = tr.session(ms)
		}
		for i := range ms {
			if ms[i].Type == event.Identify {
				identifies++
			}
		}
		if err := events.Append(ctx, ms); err != nil {
			b.Fatal(err)
		}
	}
	total := int(tr.seq)
	mem := &memSource{}
	if err := events.ScanIdentity(ctx, 0, tr.seq, func(r *eventstore.IdentityRow) error {
		mem.rows = append(mem.rows, *r)
		return nil
	}); err != nil {
		b.Fatal(err)
	}

	run := func(b *testing.B, src identity.EventSource) {
		var elapsed time.Duration
		var st identity.Stats
		var load time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			ops, err := sqlite.Open(filepath.Join(b.TempDir(), fmt.Sprintf("cjm%d.sqlite", i)))
			if err != nil {
				b.Fatal(err)
			}
			r, err := identity.NewResolver(ops, src, identity.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			for r.Offset() < uint64(total) {
				if _, err := r.Step(ctx); err != nil {
					b.Fatal(err)
				}
			}
			elapsed += time.Since(start)
			b.StopTimer()
			st = r.Stats()
			t0 := time.Now()
			if _, err := identity.NewResolver(ops, src, identity.Options{}); err != nil {
				b.Fatal(err)
			}
			load = time.Since(t0)
			ops.Close()
		}
		b.ReportMetric(float64(total)*float64(b.N)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(0, "ns/op")
		b.Logf("%d messages (%.1f%% identify calls): %d identifiers, %d profiles, %d merges, %d reviews, %d junk values, %d batches; graph loaded again in %s",
			total, 100*float64(identifies)/float64(total), st.Identifiers, st.Profiles, st.Merges, st.Reviews, st.Junk, st.Batches, load.Round(time.Millisecond))
	}
	b.Run("scan", func(b *testing.B) { run(b, events) })
	b.Run("apply", func(b *testing.B) { run(b, mem) })
}
