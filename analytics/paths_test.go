package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/journeymap"
)

// tev is a hand-made event: minutes after t0, a track event name, or with
// path an unnamed page (name set too: a named page).
type tev struct {
	user      string
	min       float64
	name      string
	path      string
	src       string
	props, cx string
	identify  bool
}

// appendEvents stores events of workspace ws, numbering them from seq.
func appendEvents(t testing.TB, s eventstore.Store, ws string, seq int, evs []tev) {
	t.Helper()
	var ms []event.Message
	for i, x := range evs {
		m := event.Message{Seq: uint64(seq + i), WorkspaceID: ws, SourceID: cmpOr(x.src, "src"), MessageID: fmt.Sprint(ws, "-m", seq+i), Type: event.Track,
			Event: x.name, UserID: x.user, Timestamp: t0.Add(time.Duration(x.min * float64(time.Minute)))}
		switch {
		case x.identify:
			m.Type, m.Event = event.Identify, ""
		case x.path != "":
			m.Type, m.Event, m.Name = event.Page, "", x.name
			m.Context = json.RawMessage(fmt.Sprintf(`{"page":{"path":%q}}`, x.path))
		}
		if x.props != "" {
			m.Properties = json.RawMessage(x.props)
		}
		if x.cx != "" {
			m.Context = json.RawMessage(x.cx)
		}
		if x.identify && x.props != "" {
			m.Properties, m.Traits = nil, json.RawMessage(x.props)
		}
		ms = append(ms, m)
	}
	if err := s.Append(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// viewOf returns a new index's view of workspace ws.
func viewOf(t testing.TB, s eventstore.Store, ws string) *View {
	t.Helper()
	v, err := NewIndex(s, ws).View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// top renders top paths as "A>B>C=n".
func top(r *PathResult) []string {
	var out []string
	for _, p := range r.TopPaths {
		out = append(out, fmt.Sprintf("%s=%d", strings.Join(p.Labels, ">"), p.Count))
	}
	return out
}

func TestPaths(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// Workspace ws: u4's two visits are an hour apart (two sessions).
	var evs []tev
	for _, p := range []struct {
		user  string
		steps string
	}{
		{"u1", "0 Home,1 Search,2 Product,3 Cart,4 Checkout,5 Order"},
		{"u2", "0 Home,1 Product,2 Product,3 Product,4 Cart"},
		{"u3", "0 Search,1 Home,2 Product,3 Home"},
		{"u4", "0 Home,1 Product,2 Cart,62 Home,63 Product,64 Order"},
		{"u5", "0 Product,1 Cart,2 Order"},
	} {
		for _, st := range strings.Split(p.steps, ",") {
			var m float64
			var name string
			fmt.Sscanf(st, "%g %s", &m, &name)
			evs = append(evs, tev{user: p.user, min: m, name: name})
		}
	}
	// u1 is also identified (left out of paths), u6 only after To.
	evs = append(evs, tev{user: "u1", min: 0.5, identify: true}, tev{user: "u6", min: 24 * 60, name: "Home"})
	appendEvents(t, s, "ws", 1, evs)
	// Workspace pages: unnamed pages, labelled by path.
	appendEvents(t, s, "pages", 100, []tev{
		{user: "p1", min: 0, path: "/home"}, {user: "p1", min: 1, path: "/product/tui-xach"}, {user: "p1", min: 2, path: "/product/vi-da"}, {user: "p1", min: 3, name: "Order"},
		{user: "p2", min: 0, path: "/home"}, {user: "p2", min: 1, path: "/product/giay"}, {user: "p2", min: 2, path: "/cart"},
		{user: "p3", min: 0, path: "/product/ao"}, {user: "p3", min: 1, path: "/home"},
	})
	// Workspace sess: s1's A and B share a session id 40 minutes apart;
	// C and D, without one, are an hour apart.
	appendEvents(t, s, "sess", 200, []tev{
		{user: "s1", min: 0, name: "A", cx: `{"sessionId":"x"}`}, {user: "s1", min: 40, name: "B", cx: `{"sessionId":"x"}`},
		{user: "s1", min: 41, name: "C"}, {user: "s1", min: 101, name: "D"},
	})
	v, pages, sess := viewOf(t, s, "ws"), viewOf(t, s, "pages"), viewOf(t, s, "sess")

	m := &journeymap.Map{Name: "Mua", Stages: []journeymap.Stage{
		{Key: "browse", Name: "Xem", Touchpoints: []journeymap.Touchpoint{
			{Key: "tp-home", Name: "Trang chủ", Match: match(journeymap.Rule{Event: "Home"})},
			{Key: "tp-product", Name: "Sản phẩm", Match: match(journeymap.Rule{Event: "Product"})},
		}},
		{Key: "buy", Name: "Mua", Touchpoints: []journeymap.Touchpoint{
			{Key: "tp-order", Name: "Đặt hàng", Match: match(journeymap.Rule{Event: "Order"})},
		}},
	}}
	cl, err := journeymap.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	clean := func(s string) CleanRule {
		c, err := ParseCleanRule(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	to := t0.Add(12 * time.Hour)
	funnel := &FunnelQuery{Steps: []string{"Home", "Cart", "Order"}, Window: time.Hour}

	cases := []struct {
		name      string
		v         *View
		q         PathQuery
		top       []string
		actors    int64
		truncated int64
	}{
		{"start: from the first Home, 3 steps", v, PathQuery{Start: "Home", Steps: 3, To: to},
			[]string{"Home>Product>Cart=1", "Home>Product>Home=1", "Home>Product>Product=1", "Home>Search>Product=1"}, 4, 3},
		{"end: the 3 steps up to the first Order", v, PathQuery{End: "Order", Steps: 3, To: to},
			[]string{"Cart>Checkout>Order=1", "Home>Product>Order=1", "Product>Cart>Order=1"}, 3, 2},
		{"start and end: only actors reaching Order", v, PathQuery{Start: "Home", End: "Order", Steps: 6, To: to},
			[]string{"Home>Product>Cart>Home>Product>Order=1", "Home>Search>Product>Cart>Checkout>Order=1"}, 2, 0},
		{"start and end, longer than the steps: cut", v, PathQuery{Start: "Home", End: "Order", Steps: 5, To: to},
			[]string{"Home>Product>Cart>Home>Product=1", "Home>Search>Product>Cart>Checkout=1"}, 2, 2},
		{"neither: the first 2 events", v, PathQuery{Steps: 2, To: to},
			[]string{"Home>Product=2", "Home>Search=1", "Product>Cart=1", "Search>Home=1"}, 5, 5},
		{"to is exclusive, from bounds too", v, PathQuery{Steps: 2, From: t0.Add(62 * time.Minute)},
			[]string{"Home=1", "Home>Product=1"}, 2, 1},
		{"sessions: u4's visits an hour apart are two paths", v, PathQuery{Start: "Home", Steps: 3, Session: true, To: to},
			[]string{"Home>Product>Cart=1", "Home>Product>Home=1", "Home>Product>Order=1", "Home>Product>Product=1", "Home>Search>Product=1"}, 5, 2},
		{"sessions, start and end", v, PathQuery{Start: "Home", End: "Order", Steps: 6, Session: true, To: to},
			[]string{"Home>Product>Order=1", "Home>Search>Product>Cart>Checkout>Order=1"}, 2, 0},
		{"sessions by id, else by gap", sess, PathQuery{Session: true},
			[]string{"A>B=1", "C=1", "D=1"}, 3, 0},
		{"collapse repeats", v, PathQuery{Start: "Home", Steps: 3, CollapseRepeats: true, To: to},
			[]string{"Home>Product>Cart=2", "Home>Product>Home=1", "Home>Search>Product=1"}, 4, 2},
		{"exclusions are dropped first", v, PathQuery{Start: "Home", Steps: 3, Exclude: []string{"Search"}, To: to},
			[]string{"Home>Product>Cart=2", "Home>Product>Home=1", "Home>Product>Product=1"}, 4, 3},
		{"unnamed pages by path, cleaned", pages, PathQuery{Start: "/home", Steps: 3, Clean: []CleanRule{clean(`^/product/.*=/product/*`)}},
			[]string{"/home=1", "/home>/product/*>/cart=1", "/home>/product/*>/product/*=1"}, 3, 1},
		{"start at an alias", pages, PathQuery{Start: "/product/*", Steps: 2, Clean: []CleanRule{clean(`^/product/.*=/product/*`)}},
			[]string{"/product/*>/cart=1", "/product/*>/home=1", "/product/*>/product/*=1"}, 3, 1},
		{"by touchpoint, from a touchpoint", v, PathQuery{Start: "touchpoint:tp-home", Steps: 3, ByTouchpoint: true, Map: m, Classifier: cl, To: to},
			[]string{"Trang chủ>Sản phẩm>Trang chủ=2", "Trang chủ>Sản phẩm>Sản phẩm=1", "Trang chủ>Sản phẩm>Đặt hàng=1"}, 4, 2},
		{"start at a stage, events by name", v, PathQuery{Start: "stage:buy", Steps: 2, Map: m, Classifier: cl, To: to},
			[]string{"Order=3"}, 3, 0},
		{"after the funnel, dropped after Cart", v, PathQuery{AfterFunnel: funnel, DropStep: 1, To: to},
			[]string{"Cart=1", "Cart>Home>Product>Order=1"}, 2, 0},
		{"after the funnel, dropped after Home", v, PathQuery{AfterFunnel: funnel, DropStep: 0, To: to},
			[]string{"Home>Product>Home=1"}, 1, 0},
		{"after the funnel by session", v, PathQuery{AfterFunnel: funnel, DropStep: 1, Session: true, To: to},
			[]string{"Cart=2"}, 2, 0},
		{"after the funnel, up to End", v, PathQuery{AfterFunnel: funnel, DropStep: 1, End: "Product", To: to},
			[]string{"Cart>Home>Product=1"}, 1, 0},
		{"after the funnel, converted", v, PathQuery{AfterFunnel: funnel, DropStep: 2, To: to},
			[]string{"Order=1"}, 1, 0},
		{"after the funnel, the drop event unlabelled: the step's name, cleaned", v, PathQuery{AfterFunnel: funnel, DropStep: 1, To: to,
			ByTouchpoint: true, Map: m, Classifier: cl, Clean: []CleanRule{clean("^Cart$=Giỏ hàng")}},
			[]string{"Giỏ hàng=1", "Giỏ hàng>Trang chủ>Sản phẩm>Đặt hàng=1"}, 2, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.v.Paths(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.top, top(got)); d != "" {
				t.Errorf("top paths (-want +got):\n%s", d)
			}
			if got.Actors != c.actors || got.Truncated != c.truncated {
				t.Errorf("actors %d, truncated %d; want %d, %d", got.Actors, got.Truncated, c.actors, c.truncated)
			}
		})
	}

	t.Run("nodes and links, other", func(t *testing.T) {
		got, err := v.Paths(ctx, PathQuery{Start: "Home", Steps: 3, TopLabels: 2, To: to})
		if err != nil {
			t.Fatal(err)
		}
		// Step 2 has Product 2, Cart 1, Home 1: Home is the other.
		want := &PathResult{
			Nodes: []PathNode{
				{0, "Home", 4, 0},
				{1, "Product", 3, 0}, {1, "Search", 1, 0},
				{2, "Product", 2, 0}, {2, "Cart", 1, 0}, {2, OtherLabel, 1, 1},
			},
			Links:    []PathLink{{0, 1, 3}, {0, 2, 1}, {1, 3, 1}, {1, 4, 1}, {1, 5, 1}, {2, 3, 1}},
			TopPaths: got.TopPaths, Actors: 4, Truncated: 3,
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		// End only: aligned on the end, Order at step 2 in every path.
		got, err = v.Paths(ctx, PathQuery{End: "Order", Steps: 3, To: to, Session: true})
		if err != nil {
			t.Fatal(err)
		}
		wantNodes := []PathNode{
			{0, "Cart", 1, 0}, {0, "Home", 1, 0}, {0, "Product", 1, 0},
			{1, "Cart", 1, 0}, {1, "Checkout", 1, 0}, {1, "Product", 1, 0},
			{2, "Order", 3, 3},
		}
		if d := cmp.Diff(wantNodes, got.Nodes); d != "" {
			t.Errorf("end aligned (-want +got):\n%s", d)
		}
		b, _ := json.Marshal(got)
		if !strings.Contains(string(b), `"top_paths":[{"labels":["Cart","Checkout","Order"],"count":1}`) || !strings.Contains(string(b), `"drop_off":3`) {
			t.Errorf("JSON: %s", b)
		}
	})

	t.Run("nothing matches", func(t *testing.T) {
		got, err := v.Paths(ctx, PathQuery{Start: "Nowhere"})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got); string(b) != `{"nodes":[],"links":[],"top_paths":[],"actors":0,"truncated":0}` {
			t.Errorf("%s", b)
		}
	})

	for _, bad := range []PathQuery{
		{Steps: 21},
		{Steps: -1},
		{Start: "Home", Exclude: []string{"Home"}},
		{Start: "stage:browse", Map: m}, // no classifier
		{Start: "stage:pay", Map: m, Classifier: cl},
		{End: "touchpoint:tp-none", Map: m, Classifier: cl},
		{ByTouchpoint: true},
		{AfterFunnel: funnel, Start: "Home"},
		{AfterFunnel: funnel, DropStep: 3},
		{AfterFunnel: &FunnelQuery{Window: time.Hour}},
		{AfterFunnel: &FunnelQuery{Steps: []string{"Home"}, Window: time.Hour, Aggregate: "group:store"}, Session: true},
		{From: t0, To: t0},
		{Clean: []CleanRule{{Alias: "x"}}},
	} {
		if _, err := v.Paths(ctx, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	for _, bad := range []string{"=x", "abc", "^/product/=", "(=x"} {
		if _, err := ParseCleanRule(bad); err == nil {
			t.Errorf("clean rule %q: no error", bad)
		}
	}
	if c, err := ParseCleanRule(`\?a=b$=with a`); err != nil || c.Alias != "with a" || c.Pattern.String() != `\?a=b$` {
		t.Errorf("clean rule with =: %+v %v", c, err)
	}
}

// syntheticView builds a view in memory (no store) of people with
// perPerson events each over days, event names drawn from a skewed list.
func syntheticView(tb testing.TB, people, perPerson, days int) *View {
	tb.Helper()
	ix := NewIndex(nil, "bench")
	names := []string{"Home", "Product Viewed", "Search", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed",
		"Signed Up", "Promotion Viewed", "Review Written", "Store Visited", "Call Started", "Zalo Message", "Coupon Applied"}
	codes := make([]uint32, len(names))
	for i, n := range names {
		codes[i] = ix.names.code(n)
	}
	typ := uint8(ix.types.code("track"))
	src := []uint32{ix.sources.code("src_web"), ix.sources.code("src_app"), ix.sources.code("src_pos")}
	rng := rand.New(rand.NewPCG(1, 2))
	r := &ix.rows
	n := people * perPerson
	r.seq, r.ts, r.name, r.typ, r.source, r.path, r.actor = make([]uint64, 0, n), make([]int64, 0, n), make([]uint32, 0, n),
		make([]uint8, 0, n), make([]uint32, 0, n), make([]uint32, 0, n), make([]uint32, 0, n)
	actors := make([]uint32, people)
	for p := range people {
		actors[p] = ix.actors.code(fmt.Sprint("u", p))
	}
	base := t0.UnixMilli()
	// Events in time order across people, as a store would hold them.
	for i := range n {
		p := rng.IntN(people)
		k := min(len(names)-1, int(rng.ExpFloat64()*3))
		r.seq = append(r.seq, uint64(i+1))
		r.ts = append(r.ts, base+int64(i)*int64(days)*86400000/int64(n))
		r.name = append(r.name, codes[k])
		r.typ = append(r.typ, typ)
		r.source = append(r.source, src[p%len(src)])
		r.path = append(r.path, 0)
		r.actor = append(r.actor, actors[p])
	}
	// No session ids: sessions split by the gap. (There is no store to
	// read the columns from.)
	for _, f := range []string{"context.sessionId", "properties.session_id", "traits.persona", "context.traits.persona"} {
		ix.cols[f] = &column{field: f, dict: newDict()}
	}
	v, err := ix.newView(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// BenchmarkPaths: 5-step paths over 1M events of 100k people over 90
// days (CJM_BENCH_PEOPLE=1000000 for the 10M-event target).
func BenchmarkPaths(b *testing.B) {
	v := syntheticView(b, benchPeople(), 10, 90)
	ctx := context.Background()
	clean := []CleanRule{{regexp.MustCompile("^Product"), "Product *"}}
	for _, c := range []struct {
		name string
		q    PathQuery
	}{
		{"start", PathQuery{Start: "Home", Steps: 5}},
		{"start-collapse-clean", PathQuery{Start: "Home", Steps: 5, CollapseRepeats: true, Clean: clean}},
		{"end", PathQuery{End: "Order Completed", Steps: 5}},
		{"any", PathQuery{Steps: 5}},
		{"sessions", PathQuery{Steps: 5, Session: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Paths(ctx, c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchPeople is how many people the benchmarks make: 100k, or
// CJM_BENCH_PEOPLE (1000000 for the 10M-event target).
func benchPeople() int {
	if n, err := strconv.Atoi(os.Getenv("CJM_BENCH_PEOPLE")); err == nil && n > 0 {
		return n
	}
	return 100_000
}
