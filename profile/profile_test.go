package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
)

// env is a profile index on a fresh SQLite and DuckDB, with an identity
// graph over a map.
type env struct {
	t       testing.TB
	ops     *sqlite.Store
	events  *duckdb.Store
	graph   *mapGraph
	ix      *Indexer
	svc     *Service
	ws      opstore.Workspace
	web     opstore.Source
	pos     opstore.Source
	mapID   string
	now     time.Time
	nextSeq uint64
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	ops, err := sqlite.Open(filepath.Join(dir, "cjm.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ops.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.Options{MemoryLimit: "256MB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	e := &env{t: t, ops: ops, events: events, graph: newMapGraph(), now: t0.Add(40 * 24 * time.Hour)}
	ctx := context.Background()
	e.ws = opstore.Workspace{Name: "Cửa hàng"}
	if err := ops.CreateWorkspace(ctx, &e.ws); err != nil {
		t.Fatal(err)
	}
	e.web = opstore.Source{WorkspaceID: e.ws.ID, Name: "Website", Channel: opstore.Website}
	e.pos = opstore.Source{WorkspaceID: e.ws.ID, Name: "Cửa hàng Q1", Channel: opstore.POS}
	for _, s := range []*opstore.Source{&e.web, &e.pos} {
		if err := ops.CreateSource(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Store: ops, Ops: ops, Events: events, Graph: e.graph, Now: func() time.Time { return e.now },
		Logger: slog.New(slog.DiscardHandler)}
	e.ix = NewIndexer(cfg)
	e.graph.listener = e.ix
	e.svc = NewService(cfg)
	return e
}

// addMap stores a map that places page views on "discover / website" and
// orders on "buy / order" (or "buy" itself for the shop's orders).
func (e *env) addMap() {
	e.t.Helper()
	m := &journeymap.Map{Name: "Mua sắm", Lang: "vi", State: journeymap.Current, Stages: []journeymap.Stage{
		{Key: "discover", Name: "Khám phá", Touchpoints: []journeymap.Touchpoint{
			{Key: "website", Name: "Xem website", Channel: "website", Match: &journeymap.Matcher{Rule: journeymap.Rule{Type: "page"}}},
		}},
		{Key: "buy", Name: "Mua hàng", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed"}}, Touchpoints: []journeymap.Touchpoint{
			{Key: "order", Name: "Đặt online", Channel: "website", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed", Source: "Website"}}},
		}},
	}}
	entry, err := journeymap.NewBook(e.ops).Create(context.Background(), e.ws.ID, m, opstore.MapChange{Action: "created"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.mapID = entry.ID
}

// send appends messages to the event store with the next Seqs.
func (e *env) send(msgs ...event.Message) {
	e.t.Helper()
	for i := range msgs {
		e.nextSeq++
		m := &msgs[i]
		m.Seq = e.nextSeq
		if m.WorkspaceID == "" {
			m.WorkspaceID = e.ws.ID
		}
		if m.SourceID == "" {
			m.SourceID = e.web.ID
		}
		if m.MessageID == "" {
			m.MessageID = fmt.Sprint("m", m.Seq)
		}
		m.ReceivedAt = m.Timestamp
	}
	if err := e.events.Append(context.Background(), msgs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) catchUp() {
	e.t.Helper()
	if err := e.ix.CatchUp(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func page(anon, user, name string, ts time.Time) event.Message {
	return event.Message{Type: event.Page, Name: name, AnonymousID: anon, UserID: user, Timestamp: ts,
		Context: json.RawMessage(`{"page":{"path":"/` + name + `"}}`)}
}

func track(user, name, props string, ts time.Time) event.Message {
	return event.Message{Type: event.Track, Event: name, UserID: user, Timestamp: ts, Properties: json.RawMessage(props)}
}

func identify(anon, user, traits string, ts time.Time) event.Message {
	return event.Message{Type: event.Identify, AnonymousID: anon, UserID: user, Timestamp: ts, Traits: json.RawMessage(traits)}
}

// story is a shopper who browses anonymously, logs in, buys online and
// then in a shop.
func (e *env) story() {
	pos := track("kh1", "Order Completed", `{"total":300000,"order_id":"POS-1"}`, at(60*24*3))
	pos.SourceID = e.pos.ID
	e.send(
		page("a1", "", "trang-chu", at(0)),
		page("a1", "", "tui-xach", at(1)),
		identify("a1", "kh1", `{"name":"Nguyễn Văn An","email":"An@Example.vn","phone":"0912 345 678","persona":"office","city":"Hà Nội"}`, at(2)),
		track("kh1", "Order Completed", `{"revenue":500000,"total":530000,"order_id":"W-1"}`, at(3)),
		identify("", "kh1", `{"name":"Nguyễn Văn An","city":"Đà Nẵng"}`, at(60*24)),
		pos,
		page("zz", "", "trang-chu", at(5)),
	)
}

func TestProfile360(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addMap()
	e.graph.link(e.ws.ID, "p_anon", "anonymous_id:a1")
	e.graph.link(e.ws.ID, "p_kh1", "user_id:kh1", "email:an@example.vn", "phone:+84912345678")
	e.graph.link(e.ws.ID, "p_zz", "anonymous_id:zz")
	e.story()
	e.catchUp()

	// Before the graph joins them, the anonymous visits are their own profile.
	anon, err := e.svc.Get(ctx, e.ws.ID, "p_anon")
	if err != nil {
		t.Fatal(err)
	}
	if anon.Stats.Events != 2 || anon.Stats.Orders != 0 {
		t.Errorf("anonymous profile: %+v", anon.Stats)
	}
	// The graph merges them; the notes follow.
	if _, err := e.svc.AddNote(ctx, e.ws.ID, "p_anon", "usr_1", "Mai", "Hỏi về túi xách"); err != nil {
		t.Fatal(err)
	}
	e.graph.merge(e.ws.ID, "p_anon", "p_kh1")
	e.catchUp()
	if _, err := e.svc.Get(ctx, e.ws.ID, "p_anon"); err == nil {
		t.Error("the merged profile is still there")
	}

	p, err := e.svc.Get(ctx, e.ws.ID, "p_kh1")
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{FirstSeen: at(0), LastSeen: at(60 * 24 * 3), Events: 6, Orders: 2, Revenue: 800000, Currency: "VND",
		Channels: []opstore.Channel{opstore.Website, opstore.POS}, LastOrderAt: at(60 * 24 * 3)}
	if d := cmp.Diff(want, p.Stats); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
	if p.Stats.AverageOrder() != 400000 || p.Stats.LifetimeValue() != 800000 {
		t.Errorf("AOV %d, LTV %d", p.Stats.AverageOrder(), p.Stats.LifetimeValue())
	}
	if d, ok := p.Stats.DaysSinceOrder(e.now); !ok || d != 37 {
		t.Errorf("days since the last order: %d, %v", d, ok)
	}
	if p.Name != "Nguyễn Văn An" || p.Email != "an@example.vn" || p.Phone != "+84912345678" || p.Persona != "office" {
		t.Errorf("name %q email %q phone %q persona %q", p.Name, p.Email, p.Phone, p.Persona)
	}
	if city := p.History["city"]; len(city) != 2 || city[0].Value != "Đà Nẵng" || city[1].Value != "Hà Nội" || !city[1].At.Equal(at(2)) {
		t.Errorf("city history %+v", city)
	}
	if name := p.History["name"]; len(name) != 1 {
		t.Errorf("an unchanged name is one value: %+v", name)
	}
	var latest []string
	for _, tr := range p.Traits {
		latest = append(latest, tr.Name+"="+tr.Value)
	}
	if d := cmp.Diff([]string{"city=Đà Nẵng", "email=An@Example.vn", "name=Nguyễn Văn An", "persona=office", "phone=0912 345 678"}, latest); d != "" {
		t.Errorf("latest traits (-want +got):\n%s", d)
	}
	if len(p.Stages) != 1 || p.Stages[0].StageName != "Mua hàng" || p.Stages[0].Touchpoint != "" || p.Stages[0].Stale {
		t.Errorf("stages %+v", p.Stages)
	}
	if len(p.Notes) != 1 || p.Notes[0].Body != "Hỏi về túi xách" {
		t.Errorf("notes %+v", p.Notes)
	}
	if len(p.Identifiers) != 4 {
		t.Errorf("identifiers %+v", p.Identifiers)
	}

	// The timeline: newest first, each event placed on the map.
	tl, err := e.svc.Timeline(ctx, e.ws.ID, "p_kh1", "", 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range tl.Events {
		s := ev.Label()
		for _, pl := range ev.Places {
			s += " @" + pl.Stage
			if pl.Touchpt != "" {
				s += "/" + pl.Touchpt
			}
		}
		got = append(got, s)
	}
	if d := cmp.Diff([]string{"Order Completed @Mua hàng", "identify", "Order Completed @Mua hàng/Đặt online", "identify"}, got); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
	if tl.Next == "" {
		t.Fatal("no older page")
	}
	tl, err = e.svc.Timeline(ctx, e.ws.ID, "p_kh1", tl.Next, 4)
	if err != nil || len(tl.Events) != 2 || tl.Next != "" || tl.Events[0].Name != "tui-xach" || tl.Events[0].Places[0].Touchpt != "Xem website" {
		t.Errorf("older page: %+v, %v", tl, err)
	}

	// Editing the map's matchers re-labels the stages.
	book := journeymap.NewBook(e.ops)
	entry, _ := book.Get(ctx, e.ws.ID, e.mapID)
	entry.Map.Stages[1].Match = nil
	entry.Map.Stages[1].Touchpoints[0].Match.Source = ""
	if _, err := book.Save(ctx, e.ws.ID, e.mapID, 0, entry.Map, opstore.MapChange{Action: "saved"}); err != nil {
		t.Fatal(err)
	}
	p, _ = e.svc.Get(ctx, e.ws.ID, "p_kh1")
	if !p.Stages[0].Stale {
		t.Error("a stage of changed matchers is not marked stale")
	}
	e.catchUp()
	p, _ = e.svc.Get(ctx, e.ws.ID, "p_kh1")
	if len(p.Stages) != 1 || p.Stages[0].Touchpoint != "Đặt online" || p.Stages[0].Stale || !p.Stages[0].At.Equal(at(60*24*3)) {
		t.Errorf("stages after the edit %+v", p.Stages)
	}
}

// Taking the same events in again, or recomputing again after a crash
// between a batch and its recompute, changes nothing.
func TestIndexerIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addMap()
	e.graph.link(e.ws.ID, "p_kh1", "user_id:kh1", "anonymous_id:a1")
	e.story()
	e.catchUp()
	before, err := e.svc.Get(ctx, e.ws.ID, "p_kh1")
	if err != nil {
		t.Fatal(err)
	}
	// A second indexer (a restart) over the same stores.
	cfg := e.ix.cfg
	again := NewIndexer(cfg)
	if err := again.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	// A batch applied twice (the offset says it is done).
	b := opstore.ProfileBatch{From: 0, To: 3, Actors: []opstore.ActorActivity{{WorkspaceID: e.ws.ID, Actor: opstore.Actor{Kind: "user_id", ID: "kh1"}, Events: 3,
		FirstSeen: at(0), LastSeen: at(0)}}}
	if err := e.ops.ApplyProfileBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Every profile queued again, as after a crash before recomputing.
	if err := e.ops.MarkProfiles(ctx, e.ws.ID, []string{"p_kh1", "p_gone"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := again.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := e.svc.Get(ctx, e.ws.ID, "p_kh1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("profile changed (-before +after):\n%s", d)
	}
	tl, _ := e.svc.Timeline(ctx, e.ws.ID, "p_kh1", "", 100)
	if len(tl.Events) != 6 {
		t.Errorf("timeline has %d events", len(tl.Events))
	}
	// An event store that cannot read by Seq gives the same timeline.
	cfg.Events = struct{ eventstore.Store }{e.events}
	tl2, err := NewService(cfg).Timeline(ctx, e.ws.ID, "p_kh1", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tl, tl2); d != "" {
		t.Errorf("timeline read by ranges (-by seq +by ranges):\n%s", d)
	}
	// Events arriving before the graph knows their actor wait for it.
	e.send(page("a9", "", "trang-chu", at(10)), track("kh9", "Order Completed", `{"value":"120000"}`, at(11)))
	e.catchUp()
	if _, err := e.svc.Get(ctx, e.ws.ID, "p_kh9"); err == nil {
		t.Fatal("a profile before the graph named it")
	}
	e.graph.link(e.ws.ID, "p_kh9", "user_id:kh9", "anonymous_id:a9")
	e.catchUp()
	p, err := e.svc.Get(ctx, e.ws.ID, "p_kh9")
	if err != nil || p.Stats.Events != 2 || p.Stats.Revenue != 120000 {
		t.Fatalf("late profile: %+v, %v", p, err)
	}
}

// Customers are found by name without diacritics, by phone in any form,
// by e-mail, by identifier and by trait value; filters and sorting apply.
func TestSearch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addMap()
	e.graph.link(e.ws.ID, "p_kh1", "user_id:kh1", "anonymous_id:a1", "email:an@example.vn", "phone:+84912345678")
	e.graph.link(e.ws.ID, "p_kh2", "user_id:kh2")
	e.graph.link(e.ws.ID, "p_kh3", "user_id:kh3")
	e.graph.link(e.ws.ID, "p_zz", "anonymous_id:zz")
	e.story()
	e.send(
		identify("", "kh2", `{"name":"Trần Thị Đào","phone":"+84 988 111 222","loyalty_card":"VIP-0042"}`, at(10)),
		track("kh2", "Order Completed", `{"revenue":2000000}`, at(11)),
		identify("", "kh3", `{"name":"Nguyễn Thị Văn Anh","email":"Van-Anh+shop@mail.vn"}`, at(12)),
	)
	e.catchUp()
	ids := func(q Query) []string {
		t.Helper()
		p, err := e.svc.Search(ctx, e.ws.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range p.Customers {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		if int64(len(out)) != p.Total {
			t.Errorf("%+v: %d customers, total %d", q, len(out), p.Total)
		}
		return out
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"nguyen van", []string{"p_kh1", "p_kh3"}},
		{"NGUYỄN VĂN AN", []string{"p_kh1", "p_kh3"}}, // every word starts a word of the name
		{"nguyen van anh", []string{"p_kh3"}},
		{"van anh", []string{"p_kh3"}},
		{"dao", []string{"p_kh2"}},
		{"tran thi", []string{"p_kh2"}},
		{"0912345678", []string{"p_kh1"}},
		{"0912 345 678", []string{"p_kh1"}},
		{"+84912345678", []string{"p_kh1"}},
		{"84912345678", []string{"p_kh1"}},
		{"0912.345", []string{"p_kh1"}},
		{"0988111222", []string{"p_kh2"}},
		{"an@example.vn", []string{"p_kh1"}},
		{"AN@EXAMPLE.VN", []string{"p_kh1"}},
		{"van-anh+shop@mail.vn", []string{"p_kh3"}},
		{"van-anh+shop@", []string{"p_kh3"}},
		{"kh2", []string{"p_kh2"}},
		{"user_id:kh3", []string{"p_kh3"}},
		{"vip-0042", []string{"p_kh2"}},
		{"da nang", []string{"p_kh1"}},
		{"p_zz", []string{"p_zz"}},
		{"không ai", nil},
	} {
		if got := ids(Query{Text: tc.text}); !slices.Equal(got, tc.want) {
			t.Errorf("search %q: %v, want %v", tc.text, got, tc.want)
		}
	}
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{}, []string{"p_kh1", "p_kh2", "p_kh3", "p_zz"}},
		{Query{Channel: opstore.POS}, []string{"p_kh1"}},
		{Query{MinOrders: 1}, []string{"p_kh1", "p_kh2"}},
		{Query{MinRevenue: 1000000}, []string{"p_kh2"}},
		{Query{MapID: e.mapID, Stage: "buy"}, []string{"p_kh1", "p_kh2"}},
		{Query{MapID: e.mapID, Stage: "discover"}, []string{"p_zz"}},
		{Query{SeenWithinDays: 38}, []string{"p_kh1"}},
		{Query{Text: "nguyen", MinOrders: 1}, []string{"p_kh1"}},
	} {
		if got := ids(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
		}
	}
	// Sorted by revenue, a page at a time.
	var order []string
	q := Query{Sort: opstore.SortRevenue, Limit: 1}
	for {
		p, err := e.svc.Search(ctx, e.ws.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, p.Customers[0].ID)
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if d := cmp.Diff([]string{"p_kh2", "p_kh1", "p_zz", "p_kh3"}, order); d != "" {
		t.Errorf("by revenue (-want +got):\n%s", d)
	}
	p, _ := e.svc.Search(ctx, e.ws.ID, Query{Sort: opstore.SortName})
	var names []string
	for _, c := range p.Customers {
		names = append(names, c.Display)
	}
	if d := cmp.Diff([]string{"Nguyễn Thị Văn Anh", "Nguyễn Văn An", "Trần Thị Đào", "zz"}, names); d != "" {
		t.Errorf("by name (-want +got):\n%s", d)
	}
	var exported []string
	if err := e.svc.Export(ctx, e.ws.ID, Query{Text: "nguyen", Sort: opstore.SortName}, func(s Summary) error {
		exported = append(exported, s.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"p_kh3", "p_kh1"}, exported); d != "" {
		t.Errorf("export (-want +got):\n%s", d)
	}
	if _, err := e.svc.Search(ctx, e.ws.ID, Query{After: "not a cursor!"}); err == nil {
		t.Error("a bad cursor is accepted")
	}
}

func TestFoldAndTerms(t *testing.T) {
	for in, want := range map[string]string{
		"Nguyễn  Văn Đức": "nguyen van duc", "ĐẶNG thị Ánh": "dang thi anh", "an@example.vn": "an example vn", "  ": "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"0912 345 678": "0912345678", "+84 912": "84912", "nguyễn văn": "nguyen|van", `a"b`: "a|b", "An@Example.VN": "an@example.vn",
	} {
		if got := strings.Join(searchWords(in), "|"); got != want {
			t.Errorf("searchWords(%q) = %q, want %q", in, got, want)
		}
	}
	if v := orderValue(json.RawMessage(`{"total":"12.5"}`), DefaultPurchase.Revenue, 2); v != 1250 {
		t.Errorf("order value %d", v)
	}
	if v := orderValue(json.RawMessage(`{"revenue":null,"total":99000}`), DefaultPurchase.Revenue, 0); v != 99000 {
		t.Errorf("order value %d", v)
	}
	_ = identity.ProfileID("")
}
