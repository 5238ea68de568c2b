package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
	"github.com/cjmhq/cjm/profile"
)

// The customers pages at scale: a million customers in a real SQLite file,
// and a DuckDB event store where one customer's 10,000 events sit among
// the events of those million others (2,010,000 events in all), resolved
// by the real identity resolver and indexed by the profile indexer. The
// stores are made once in CJM_BENCH_DIR (default: a directory under the
// system's temp dir, kept between runs; making them takes minutes) and
// opened with the server's settings (DuckDB: one thread of two, 96 MB).
//
//	go test ./web -run XXX -bench BenchmarkCustomers -benchtime 20x

const (
	benchCustomers = 1_000_000
	benchVIPEvents = 10_000
	benchPassword  = "mật khẩu đo hiệu năng"
)

var (
	familyNames = []string{"Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ",
		"Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middleNames = []string{"Văn", "Thị", "Minh", "Ngọc", "Thanh", "Hữu", "Đức", "Thu", "Hoàng", "Quốc", "Kim", "Gia"}
	givenNames  = []string{"An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh",
		"Long", "Mai", "Minh", "Nam", "Nga", "Ngọc", "Phúc", "Phương", "Quân", "Quang", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung",
		"Tuấn", "Vân", "Việt", "Yến", "Đào", "Ánh", "Bảo", "Cường", "Diệp"}
)

type benchData struct {
	srv      *httptest.Server
	client   *http.Client
	vip      string // the profile with 10,000 events
	ws       string
	mapID    string
	nameOf20 string // the name of customer 20
}

// benchStores opens (making them the first time) the stores of the
// benchmark and serves the UI over them.
func benchStores(b *testing.B) *benchData {
	b.Helper()
	dir := os.Getenv("CJM_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "cjm-bench-customers")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err != nil {
		makeBenchStores(b, dir)
		if err := os.WriteFile(done, []byte(time.Now().String()), 0o640); err != nil {
			b.Fatal(err)
		}
	}
	ops, err := sqlite.Open(filepath.Join(dir, "cjm.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ops.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { events.Close() })
	r, err := identity.NewResolver(ops, events, identity.Options{Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	svc := profile.NewService(profile.Config{Store: ops, Ops: ops, Events: events, Graph: r, Logger: testLogger()})
	ui, err := New(Config{Ops: ops, Events: events, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ui.s.customerRoutes(svc, nil)
	d := &benchData{srv: httptest.NewServer(ui)}
	b.Cleanup(d.srv.Close)
	wss, err := ops.Workspaces(ctx)
	if err != nil || len(wss) != 1 {
		b.Fatalf("workspaces %v, %v", wss, err)
	}
	d.ws = wss[0].ID
	vip, err := r.Resolve(ctx, d.ws, identity.Identifier{Kind: identity.UserID, Value: "vip"})
	if err != nil {
		b.Fatal(err)
	}
	d.vip = string(vip)
	maps, err := ops.Maps(ctx, d.ws)
	if err != nil || len(maps) != 1 {
		b.Fatalf("maps %v, %v", maps, err)
	}
	d.mapID = maps[0].ID
	d.nameOf20 = benchName(rand.New(rand.NewPCG(20, 20)))
	jar, _ := cookiejar.New(nil)
	d.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := d.get(b, "/login")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		b.Fatal("no CSRF token on the login page")
	}
	res, err := d.client.PostForm(d.srv.URL+"/login", url.Values{"csrf": {m[1]}, "email": {"bench@example.vn"}, "password": {benchPassword}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: %v %v", res.Status, err)
	}
	res.Body.Close()
	return d
}

func (d *benchData) get(b *testing.B, path string) string {
	res, err := d.client.Get(d.srv.URL + path)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s %v\n%s", path, res.Status, err, clip(string(body)))
	}
	return string(body)
}

func benchName(r *rand.Rand) string {
	return familyNames[r.IntN(len(familyNames))] + " " + middleNames[r.IntN(len(middleNames))] + " " + givenNames[r.IntN(len(givenNames))]
}

// makeBenchStores writes the events of a million customers and of one with
// 10,000 events, then resolves and indexes them. Interrupted, it goes on
// from where it stopped.
func makeBenchStores(b *testing.B, dir string) {
	ctx := context.Background()
	start := time.Now()
	ops, err := sqlite.Open(filepath.Join(dir, "cjm.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer ops.Close()
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{MemoryLimit: "1GB", CheckpointThreshold: "256MB"})
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	if last, err := events.LastSeq(ctx); err != nil || last > 0 {
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("events written before: resolving and indexing from where it stopped")
		resolveAndIndex(b, ops, events, last)
		return
	}
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	u := opstore.User{Email: "bench@example.vn", Name: "Đo Hiệu Năng", PasswordHash: hash, Lang: "vi"}
	ws := opstore.Workspace{Name: "Đo hiệu năng"}
	if err := ops.CreateUser(ctx, &u); err != nil {
		b.Fatal(err)
	}
	if err := ops.CreateWorkspace(ctx, &ws); err != nil {
		b.Fatal(err)
	}
	if err := ops.SetMember(ctx, ws.ID, u.ID, opstore.Owner); err != nil {
		b.Fatal(err)
	}
	web := opstore.Source{WorkspaceID: ws.ID, Name: "Website", Channel: opstore.Website}
	pos := opstore.Source{WorkspaceID: ws.ID, Name: "Cửa hàng", Channel: opstore.POS}
	for _, s := range []*opstore.Source{&web, &pos} {
		if err := ops.CreateSource(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	m, err := journeymap.FromTemplate("retail", "vi")
	if err != nil {
		b.Fatal(err)
	}
	m.Name = "Bán lẻ"
	m.Stages[0].Touchpoints = append(m.Stages[0].Touchpoints, journeymap.Touchpoint{Key: "web-page", Name: "Xem website", Channel: "website",
		Match: &journeymap.Matcher{Rule: journeymap.Rule{Type: "page"}}})
	m.Stages[2].Touchpoints = append(m.Stages[2].Touchpoints, journeymap.Touchpoint{Key: "order", Name: "Đặt hàng", Channel: "website",
		Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed"}}})
	if _, err := journeymap.NewBook(ops).Create(ctx, ws.ID, m, opstore.MapChange{Action: "created"}); err != nil {
		b.Fatal(err)
	}

	t0 := time.Now().UTC().Add(-365 * 24 * time.Hour)
	span := 364 * 24 * time.Hour
	ctxJSON := json.RawMessage(`{"library":{"name":"analytics.js","version":"5.2.0"},"locale":"vi-VN","page":{"path":"/san-pham/tui-xach","url":"https://shop.example.vn/san-pham/tui-xach"},"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}`)
	var seq uint64
	batch := make([]event.Message, 0, 100_000)
	flush := func() {
		if err := events.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	add := func(m event.Message) {
		seq++
		m.Seq, m.WorkspaceID, m.MessageID, m.ReceivedAt = seq, ws.ID, fmt.Sprint("m", seq), m.Timestamp
		if m.Context == nil {
			m.Context = ctxJSON
		}
		batch = append(batch, m)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	vipEvery := 2 * benchCustomers / benchVIPEvents
	vip := 0
	for i := range benchCustomers {
		r := rand.New(rand.NewPCG(uint64(i), uint64(i)))
		uid := fmt.Sprintf("kh%07d", i)
		ts := t0.Add(span / benchCustomers * time.Duration(i))
		traits := fmt.Sprintf(`{"name":%q,"email":"kh%07d@example.vn","phone":"09%08d","city":"Hà Nội"}`, benchName(r), i, i)
		add(event.Message{SourceID: web.ID, Type: event.Identify, UserID: uid, AnonymousID: "a" + uid, Timestamp: ts, Traits: json.RawMessage(traits)})
		if i%3 == 0 {
			add(event.Message{SourceID: pos.ID, Type: event.Track, Event: "Order Completed", UserID: uid, Timestamp: ts.Add(time.Minute),
				Properties: json.RawMessage(fmt.Sprintf(`{"revenue":%d,"order_id":"O-%d"}`, 100_000+r.IntN(5_000_000), i))})
		} else {
			add(event.Message{SourceID: web.ID, Type: event.Page, Name: "Sản phẩm", AnonymousID: "a" + uid, Timestamp: ts.Add(time.Minute)})
		}
		if i%vipEvery == 0 && vip < benchVIPEvents {
			// The customer with 10,000 events, spread over the log.
			for range 2 {
				m := event.Message{SourceID: web.ID, Type: event.Page, Name: "Sản phẩm", UserID: "vip", Timestamp: ts.Add(2 * time.Minute)}
				switch vip % 10 {
				case 0:
					m.Type, m.Name, m.Event = event.Track, "", "Order Completed"
					m.Properties = json.RawMessage(`{"revenue":890000}`)
				case 1:
					m.Type, m.Name, m.Event = event.Track, "", "Product Viewed"
					m.Properties = json.RawMessage(`{"product_id":"SKU-1","price":890000}`)
				case 2:
					m.Type, m.Name = event.Identify, ""
					m.Traits = json.RawMessage(`{"name":"Khách Hàng Thân Thiết","email":"vip@example.vn","phone":"0987 654 321","tier":"gold"}`)
				}
				vip++
				add(m)
			}
		}
	}
	flush()
	b.Logf("wrote %d events in %v", seq, time.Since(start).Round(time.Second))

	resolveAndIndex(b, ops, events, seq)
}

// resolveAndIndex runs the identity resolver and then the profile indexer
// over the whole event store.
func resolveAndIndex(b *testing.B, ops *sqlite.Store, events *duckdb.Store, seq uint64) {
	ctx := context.Background()
	mark := time.Now()
	r, err := identity.NewResolver(ops, events, identity.Options{Batch: 50_000, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ix := profile.NewIndexer(profile.Config{Store: ops, Ops: ops, Events: events, Graph: r, Logger: testLogger(), BatchSize: 50_000})
	r.SetListener(ix)
	for {
		n, err := r.Step(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.Logf("resolved identities in %v", time.Since(mark).Round(time.Second))
	mark = time.Now()
	if err := ix.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("indexed profiles in %v (%.0f events/s)", time.Since(mark).Round(time.Second), float64(seq)/time.Since(mark).Seconds())
}

func BenchmarkCustomers(b *testing.B) {
	d := benchStores(b)
	given := strings.Fields(d.nameOf20)
	for _, bc := range []struct {
		name, path, want string
	}{
		{"list", "/customers", "khách hàng"},
		{"search_full_name", "/customers?q=" + url.QueryEscape(d.nameOf20), d.nameOf20},
		{"search_folded_name", "/customers?q=" + url.QueryEscape(profile.Fold(d.nameOf20)), d.nameOf20},
		{"search_surname", "/customers?q=nguyen", "Nguyễn"},
		{"search_two_words", "/customers?q=" + url.QueryEscape(profile.Fold(given[0]+" "+given[2])), given[0]},
		{"search_phone_national", "/customers?q=" + url.QueryEscape("0900 000 020"), d.nameOf20},
		{"search_phone_e164", "/customers?q=" + url.QueryEscape("+84900000020"), d.nameOf20},
		{"search_phone_prefix", "/customers?q=090000002", d.nameOf20},
		{"search_email", "/customers?q=kh0000020%40example.vn", d.nameOf20},
		{"search_user_id", "/customers?q=kh0000020", d.nameOf20},
		{"search_none", "/customers?q=khongcoai", "Không có khách hàng"},
		{"filter_orders_by_revenue", "/customers?orders=1&sort=revenue", "khách hàng"},
		{"filter_channel_seen_30d", "/customers?channel=pos&days=30", "khách hàng"},
		{"filter_stage", "/customers?stage=" + url.QueryEscape(d.mapID+":"+"purchase"), "khách hàng"},
		{"search_and_filter", "/customers?q=nguyen&orders=1&sort=name", "Nguyễn"},
		{"profile_10k_events", "/customers/" + d.vip, "Khách Hàng Thân Thiết"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if body := d.get(b, bc.path); !strings.Contains(body, bc.want) {
				b.Fatalf("%s does not show %q:\n%s", bc.path, bc.want, clip(body))
			}
			for b.Loop() {
				d.get(b, bc.path)
			}
		})
	}
}
