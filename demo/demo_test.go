package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
)

// msg is an emitted message with its source key.
type msg struct {
	src string
	m   event.Message
}

// dataset is the generated data of some options, with its hash.
type dataset struct {
	opts  Options
	msgs  []msg
	stats Stats
	sum   [32]byte
}

func generate(t testing.TB, o Options) *dataset {
	t.Helper()
	d := &dataset{opts: o.withDefaults()}
	h := sha256.New()
	var err error
	d.stats, err = Generate(context.Background(), o, func(src string, batch []event.Message) error {
		if len(batch) == 0 || len(batch) > batchSize {
			t.Errorf("batch of %d messages", len(batch))
		}
		for i := range batch {
			hashMessage(h, src, &batch[i])
			d.msgs = append(d.msgs, msg{src, batch[i]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	copy(d.sum[:], h.Sum(nil))
	return d
}

func hashMessage(h hash.Hash, src string, m *event.Message) {
	var n [8]byte
	for _, s := range []string{src, m.MessageID, string(m.Type), m.UserID, m.AnonymousID, m.Event, m.Name} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, b := range [][]byte{m.Properties, m.Traits, m.Context} {
		h.Write(b)
		h.Write([]byte{0})
	}
	binary.LittleEndian.PutUint64(n[:], uint64(m.Timestamp.UnixNano()))
	h.Write(n[:])
}

var (
	defaultOnce sync.Once
	defaultData *dataset
)

// defaultSet is the default data set (5000 customers), generated once.
func defaultSet(t *testing.T) *dataset {
	t.Helper()
	defaultOnce.Do(func() { defaultData = generate(t, Options{}) })
	if defaultData == nil {
		t.Fatal("default data set failed")
	}
	return defaultData
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	o := Options{Customers: 1000, Seed: 1, End: DefaultEnd, Months: 6}
	a, b := generate(t, o), generate(t, o)
	if a.sum != b.sum || len(a.msgs) != len(b.msgs) {
		t.Fatalf("two runs differ: %d vs %d messages", len(a.msgs), len(b.msgs))
	}
	// A customer's data depends only on the seed and the customer's number, so
	// the first 1000 customers of the default data set are the same, source by
	// source.
	bySource := func(d *dataset) map[string][]msg {
		m := map[string][]msg{}
		for _, x := range d.msgs {
			m[x.src] = append(m[x.src], x)
		}
		return m
	}
	small, full := bySource(a), bySource(defaultSet(t))
	for src, xs := range small {
		for i, x := range xs {
			y := full[src][i]
			if x.m.MessageID != y.m.MessageID || !bytes.Equal(x.m.Properties, y.m.Properties) || !x.m.Timestamp.Equal(y.m.Timestamp) {
				t.Fatalf("%s message %d differs between 1000 and 5000 customers: %+v, %+v", src, i, x.m, y.m)
			}
		}
	}
	c := generate(t, Options{Customers: 300, Seed: 2})
	d := generate(t, Options{Customers: 300, Seed: 3})
	if c.sum == d.sum {
		t.Fatal("seeds 2 and 3 gave the same data")
	}
	if !strings.HasPrefix(c.msgs[0].m.MessageID, "demo-2-") {
		t.Errorf("message ID %q does not name seed 2", c.msgs[0].m.MessageID)
	}
}

func TestMessageIDsUnique(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	seen := make(map[string]bool, len(d.msgs))
	for _, x := range d.msgs {
		if seen[x.m.MessageID] {
			t.Fatalf("duplicate message ID %q", x.m.MessageID)
		}
		seen[x.m.MessageID] = true
	}
}

func TestMessagesValid(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	start, end := d.opts.Window()
	type key struct{ src, actor string }
	last := map[key]time.Time{}
	isObject := func(b json.RawMessage) bool {
		return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}' && json.Valid(b)
	}
	bad := 0
	fail := func(x msg, why string) {
		if bad++; bad <= 10 {
			j, _ := json.Marshal(x.m)
			t.Errorf("%s: %s: %s", x.src, why, j)
		}
	}
	for i, x := range d.msgs {
		m := &x.m
		switch {
		case !m.Type.Valid():
			fail(x, "bad type")
		case m.Type == event.Track && m.Event == "":
			fail(x, "track without event")
		case (m.Type == event.Page || m.Type == event.Screen) && m.Name == "":
			fail(x, "page without name")
		case m.Type == event.Identify && m.Traits == nil:
			fail(x, "identify without traits")
		case m.UserID == "" && m.AnonymousID == "":
			fail(x, "no userId or anonymousId")
		case m.MessageID == "":
			fail(x, "no messageId")
		case m.Timestamp.Before(start) || !m.Timestamp.Before(end):
			fail(x, "timestamp out of the window")
		case m.Timestamp.Location() != time.UTC:
			fail(x, "timestamp not UTC")
		case m.WorkspaceID != "" || m.SourceID != "" || m.Seq != 0 || !m.ReceivedAt.IsZero() || !m.SentAt.IsZero():
			fail(x, "pipeline fields set")
		case m.Properties != nil && !isObject(m.Properties):
			fail(x, "properties not a JSON object")
		case m.Traits != nil && !isObject(m.Traits):
			fail(x, "traits not a JSON object")
		case m.Context != nil && !isObject(m.Context):
			fail(x, "context not a JSON object")
		}
		if i%8 == 0 { // the pipeline's own check, on a sample: it repeats the checks above
			checked := *m
			if err := event.Check(&checked); err != nil {
				fail(x, "event.Check: "+err.Error())
			} else if checked.MessageID != m.MessageID || checked.Type != m.Type || checked.Event != m.Event || !checked.Timestamp.Equal(m.Timestamp) {
				fail(x, "event.Check changed the message")
			}
		}
		k := key{x.src, m.Actor()}
		if m.Timestamp.Before(last[k]) {
			fail(x, "out of time order for its actor")
		}
		last[k] = m.Timestamp
	}
}

func TestSourcesAndContent(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	if d.stats.Customers != 5000 || d.stats.Messages != len(d.msgs) {
		t.Errorf("stats %+v, %d messages", d.stats, len(d.msgs))
	}
	perCustomer := float64(len(d.msgs)) / 5000
	t.Logf("%d messages, %.1f per customer, by source %v", len(d.msgs), perCustomer, d.stats.BySource)
	if perCustomer < 10 || perCustomer > 25 {
		t.Errorf("%.1f messages per customer, want 10-25", perCustomer)
	}
	for _, s := range Sources {
		if d.stats.BySource[s.Key] == 0 {
			t.Errorf("no messages from source %s", s.Key)
		}
	}
	labels := map[string]int{}
	personas := map[string]int{}
	for _, x := range d.msgs {
		labels[x.src+" "+x.m.Label()]++
		if x.m.Type == event.Identify {
			var tr struct{ Persona string }
			if err := json.Unmarshal(x.m.Traits, &tr); err != nil {
				t.Fatal(err)
			}
			personas[tr.Persona]++
		}
	}
	for _, want := range []string{
		"web Home", "web Category", "web Product", "web Cart", "web Checkout", "web Login",
		"app Home", "app Product", "app Application Opened",
		"web Products Searched", "web Product List Viewed", "web Product Viewed", "web Product Added",
		"web Cart Viewed", "web Checkout Started", "web Signed Up", "web Signed In", "web Login Wall Shown",
		"web Order Completed", "web identify", "app Order Completed",
		"shopee Order Completed", "lazada Order Completed", "tiki Order Completed", "shopee identify",
		"hotline Call Started", "hotline Call Answered", "hotline Call Abandoned", "hotline Call Ended",
		"pos Order Completed", "pos identify", "pos Survey Answered",
		"email Email Delivered", "email Email Opened", "email Email Link Clicked", "email Survey Answered",
		"sms SMS Delivered", "zalo ZNS Delivered", "zalo ZNS Clicked", "zalo OA Followed", "zalo identify",
		"facebook Message Received", "facebook Comment Posted",
		"web Review Submitted", "shopee Review Submitted",
	} {
		if labels[want] == 0 {
			t.Errorf("no %q", want)
		}
	}
	for _, p := range Personas {
		if personas[p.Key] == 0 {
			t.Errorf("no identify with persona %s", p.Key)
		}
	}
}

// props decodes the properties of m.
func props(t *testing.T, m *event.Message) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(m.Properties, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOrderProperties(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	n := 0
	for _, x := range d.msgs {
		if x.m.Event != "Order Completed" {
			continue
		}
		n++
		p := props(t, &x.m)
		for _, k := range []string{"order_id", "revenue", "total", "currency", "products", "payment_method"} {
			if p[k] == nil {
				t.Fatalf("%s order without %s: %s", x.src, k, x.m.Properties)
			}
		}
		switch x.src {
		case "shopee", "lazada", "tiki":
			if p["marketplace"] != x.src || p["buyer_id"] == nil || p["phone"] == nil {
				t.Fatalf("marketplace order: %s", x.m.Properties)
			}
		case "pos":
			if p["store_id"] == nil || p["store_name"] == nil || p["staff_id"] == nil {
				t.Fatalf("store order: %s", x.m.Properties)
			}
		}
		var sum float64
		for _, it := range p["products"].([]any) {
			it := it.(map[string]any)
			sum += it["price"].(float64) * it["quantity"].(float64)
		}
		if sum != p["subtotal"].(float64) || p["revenue"].(float64) > sum || p["total"].(float64) < p["revenue"].(float64) {
			t.Fatalf("order amounts do not add up: %s", x.m.Properties)
		}
	}
	if n < 1000 {
		t.Errorf("only %d orders", n)
	}
}

// sessionFunnel counts sessions (by sessionId) of a source with a Product
// List Viewed, and how many of those also have a Product Viewed, before and
// after at.
func sessionFunnel(t *testing.T, d *dataset, src string, at time.Time) (before, after float64) {
	type sess struct {
		list, view bool
		t          time.Time
	}
	all := map[string]*sess{}
	for _, x := range d.msgs {
		if x.src != src || (x.m.Event != "Product List Viewed" && x.m.Event != "Product Viewed") {
			continue
		}
		var c struct{ SessionID int64 }
		if err := json.Unmarshal(x.m.Context, &c); err != nil {
			t.Fatal(err)
		}
		k := x.m.AnonymousID + strconv.FormatInt(c.SessionID, 10)
		s := all[k]
		if s == nil {
			s = &sess{t: x.m.Timestamp}
			all[k] = s
		}
		s.list = s.list || x.m.Event == "Product List Viewed"
		s.view = s.view || x.m.Event == "Product Viewed"
	}
	var n, v [2]float64
	for _, s := range all {
		if !s.list {
			continue
		}
		i := 0
		if !s.t.Before(at) {
			i = 1
		}
		n[i]++
		if s.view {
			v[i]++
		}
	}
	return v[0] / n[0], v[1] / n[1]
}

func story(t *testing.T, key string) Story {
	for _, s := range Stories {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no story %s", key)
	return Story{}
}

func TestStoryLoginWall(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	s := story(t, StoryLoginWall)
	wb, wa := sessionFunnel(t, d, "web", s.Start)
	ab, aa := sessionFunnel(t, d, "app", s.Start)
	t.Logf("list→product conversion: web %.2f → %.2f, app %.2f → %.2f", wb, wa, ab, aa)
	if wa > 0.7*wb {
		t.Errorf("web conversion %.2f → %.2f: no sharp drop after the login wall", wb, wa)
	}
	if aa < 0.9*ab || aa > 1.1*ab {
		t.Errorf("app conversion %.2f → %.2f changed", ab, aa)
	}
	walls := 0
	for _, x := range d.msgs {
		if x.m.Event == "Login Wall Shown" {
			walls++
			if x.m.Timestamp.Before(s.Start) || x.m.UserID != "" {
				t.Fatalf("login wall before %v or for a signed-in user: %+v", s.Start, x.m)
			}
		}
	}
	if walls < 100 {
		t.Errorf("%d login walls", walls)
	}
}

func TestStoryHotlineOverload(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	s := story(t, StoryHotlineOverload)
	var started, abandoned, waits, waitSum [2]float64
	var reviews, low [2]float64
	for _, x := range d.msgs {
		i := 0
		if !x.m.Timestamp.Before(s.Start) && x.m.Timestamp.Before(s.End) {
			i = 1
		}
		switch x.m.Event {
		case "Call Started":
			started[i]++
		case "Call Abandoned":
			abandoned[i]++
		case "Call Answered":
			waits[i]++
			waitSum[i] += props(t, &x.m)["wait_seconds"].(float64)
		case "Review Submitted":
			j := 0
			if !x.m.Timestamp.Before(s.Start) && x.m.Timestamp.Before(s.End.AddDate(0, 0, 10)) {
				j = 1
			}
			reviews[j]++
			if props(t, &x.m)["rating"].(float64) <= 2 {
				low[j]++
			}
		}
	}
	weeks := float64(d.opts.Months)*30.4/7 - 1
	t.Logf("calls/week %.0f → %.0f, abandoned %.2f → %.2f, answered wait %.0fs → %.0fs, 1-2★ reviews %.2f → %.2f",
		started[0]/weeks, started[1], abandoned[0]/started[0], abandoned[1]/started[1],
		waitSum[0]/waits[0], waitSum[1]/waits[1], low[0]/reviews[0], low[1]/reviews[1])
	if started[1] < 1.5*started[0]/weeks {
		t.Errorf("calls in the week %.0f, a normal week %.0f", started[1], started[0]/weeks)
	}
	if a, b := abandoned[0]/started[0], abandoned[1]/started[1]; b < 0.4 || a > 0.15 {
		t.Errorf("abandon share %.2f in the week, %.2f otherwise", b, a)
	}
	if a, b := waitSum[0]/waits[0], waitSum[1]/waits[1]; b < 4*a {
		t.Errorf("answered wait %.0fs in the week, %.0fs otherwise", b, a)
	}
	if a, b := low[0]/reviews[0], low[1]/reviews[1]; b < 2*a {
		t.Errorf("low-rating share %.2f around the week, %.2f otherwise", b, a)
	}
}

// localDay is the shop's calendar day of ts.
func localDay(ts time.Time) string { return ts.In(ict).Format(time.DateOnly) }

func TestStoryCampaign(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	s := story(t, StoryCampaign)
	if s.Title != "Siêu sale 10.10" {
		t.Errorf("sale of the default data set: %q", s.Title)
	}
	orders := map[string]float64{}
	visits := map[string]float64{}
	tagged := 0
	for _, x := range d.msgs {
		day := localDay(x.m.Timestamp)
		switch {
		case x.m.Event == "Order Completed":
			orders[day]++
		case x.m.Name == "Home" || x.m.Name == "Sale" || x.m.Event == "Application Opened":
			visits[day]++
		}
		if x.m.Name == "Sale" && bytes.Contains(x.m.Context, []byte(`"name":"sale-10-10"`)) {
			tagged++
		}
	}
	var base, baseVisits []float64
	var in, inVisits float64
	for day, n := range orders {
		ts, _ := time.ParseInLocation(time.DateOnly, day, ict)
		if !ts.Before(s.Start) && ts.Before(s.End) {
			in += n
			inVisits += visits[day]
		} else {
			base = append(base, n)
			baseVisits = append(baseVisits, visits[day])
		}
	}
	slices.Sort(base)
	slices.Sort(baseVisits)
	median, medianVisits := base[len(base)/2], baseVisits[len(baseVisits)/2]
	t.Logf("orders/day: median %.0f, sale %.0f; visits/day: median %.0f, sale %.0f; %d tagged sale pages",
		median, in/3, medianVisits, inVisits/3, tagged)
	if in/3 < 3*median {
		t.Errorf("sale orders/day %.0f, median %.0f", in/3, median)
	}
	if inVisits/3 < 2*medianVisits {
		t.Errorf("sale visits/day %.0f, median %.0f", inVisits/3, medianVisits)
	}
	if tagged < 100 {
		t.Errorf("%d sale pages with context.campaign.name sale-10-10", tagged)
	}
}

func TestStoryLoyalVsNew(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	type order struct {
		t   time.Time
		rev float64
	}
	byActor := map[string][]order{}
	for _, x := range d.msgs {
		if x.m.Event == "Order Completed" {
			byActor[x.m.Actor()] = append(byActor[x.m.Actor()], order{x.m.Timestamp, props(t, &x.m)["revenue"].(float64)})
		}
	}
	var n, sum [2]float64
	var gaps [2]float64
	var gapN [2]float64
	for _, os := range byActor {
		slices.SortFunc(os, func(a, b order) int { return a.t.Compare(b.t) })
		for i, o := range os {
			k := min(i, 1)
			n[k]++
			sum[k] += o.rev
			if i >= 1 {
				// Days from the previous order: from first to second, and later.
				j := min(i-1, 1)
				gaps[j] += o.t.Sub(os[i-1].t).Hours() / 24
				gapN[j]++
			}
		}
	}
	first, repeat := sum[0]/n[0], sum[1]/n[1]
	t.Logf("AOV first %.0f VND (%.0f orders), repeat %.0f VND (%.0f orders): %+.0f%%; days between orders: 1st→2nd %.0f, later %.0f",
		first, n[0], repeat, n[1], 100*(repeat/first-1), gaps[0]/gapN[0], gaps[1]/gapN[1])
	if r := repeat / first; r < 1.2 || r > 1.45 {
		t.Errorf("repeat orders are %.2f× first orders, want about 1.3×", r)
	}
	if n[1] < 0.2*n[0] {
		t.Errorf("%.0f repeat orders for %.0f first orders", n[1], n[0])
	}
}

func TestStoryCartAbandonment(t *testing.T) {
	t.Parallel()
	d := defaultSet(t)
	var checkouts, online, reminders, recovered float64
	for _, x := range d.msgs {
		switch {
		case x.m.Event == "Checkout Started":
			checkouts++
		case x.m.Event == "Order Completed" && (x.src == "web" || x.src == "app"):
			online++
			if bytes.Contains(x.m.Context, []byte(`"name":"cart-reminder"`)) {
				recovered++
			}
		case x.m.Event == "Email Delivered" && bytes.Contains(x.m.Properties, []byte(`"campaign_name":"cart-reminder"`)):
			reminders++
		}
	}
	t.Logf("%.0f checkouts, %.0f online orders (%.0f%%), %.0f reminders, %.0f recovered orders",
		checkouts, online, 100*online/checkouts, reminders, recovered)
	if online > 0.5*checkouts {
		t.Errorf("%.0f of %.0f checkouts completed", online, checkouts)
	}
	if reminders < 0.2*(checkouts-online) || recovered < 0.03*reminders {
		t.Errorf("%.0f reminders, %.0f recovered orders", reminders, recovered)
	}
}

func TestStories(t *testing.T) {
	t.Parallel()
	if len(Stories) != 5 {
		t.Fatalf("%d stories", len(Stories))
	}
	start, end := Options{}.Window()
	for _, s := range Stories {
		if s.Title == "" || s.TitleEN == "" || s.Description == "" || s.DescriptionEN == "" {
			t.Errorf("story %s lacks text", s.Key)
		}
		if s.Start.Before(start) || s.End.After(end) || !s.Start.Before(s.End) {
			t.Errorf("story %s: %v – %v outside %v – %v", s.Key, s.Start, s.End, start, end)
		}
	}
	want := map[string]string{
		StoryLoginWall:       "2026-09-01",
		StoryHotlineOverload: "2026-07-20",
		StoryCampaign:        "2026-10-10",
	}
	for _, s := range Stories {
		if w, ok := want[s.Key]; ok && localDay(s.Start) != w {
			t.Errorf("story %s starts %s, want %s", s.Key, localDay(s.Start), w)
		}
	}
	for _, tc := range []struct {
		end   time.Time
		title string
	}{
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "Siêu sale 11.11"},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "Siêu sale 12.12"},
		{time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC), "Siêu sale 10.10"},
	} {
		ss := StoriesFor(Options{End: tc.end})
		if ss[2].Title != tc.title {
			t.Errorf("End %v: sale %q, want %q", tc.end, ss[2].Title, tc.title)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	d := generate(t, Options{Customers: 200, Months: 2, End: time.Date(2025, 3, 15, 12, 0, 0, 0, time.FixedZone("x", 3600))})
	start, end := d.opts.Window()
	if d.stats.Customers != 200 || len(d.msgs) < 1000 {
		t.Fatalf("%+v", d.stats)
	}
	for _, x := range d.msgs {
		if x.m.Timestamp.Before(start) || !x.m.Timestamp.Before(end) {
			t.Fatalf("timestamp %v outside %v – %v", x.m.Timestamp, start, end)
		}
	}
}

func TestStopping(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Options{Customers: 1000}, func(string, []event.Message) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	boom := errors.New("boom")
	calls := 0
	_, err := Generate(context.Background(), Options{Customers: 1000}, func(string, []event.Message) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("emit error: %v after %d calls", err, calls)
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "Túi xách", `a"b\c`, "line\nbreak\t\x01", "😍", "bad \xff utf8"} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %s: %v", s, b, err)
		}
		if want := string(bytes.ToValidUTF8([]byte(s), []byte("\uFFFD"))); got != want {
			t.Errorf("%q: got %q", s, got)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	const customers = 5000
	msgs := 0
	b.ReportAllocs()
	for b.Loop() {
		st, err := Generate(context.Background(), Options{Customers: customers}, func(string, []event.Message) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		msgs += st.Messages
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(msgs)/float64(b.N)/customers, "msgs/customer")
}

// TestScale generates CJM_DEMO_SCALE customers (e.g. 1000000) and reports
// the time and peak heap it takes. It is skipped unless the variable is set.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CJM_DEMO_SCALE"))
	if n <= 0 {
		t.Skip("set CJM_DEMO_SCALE to a number of customers")
	}
	var peak uint64
	var ms runtime.MemStats
	batches := 0
	begin := time.Now()
	st, err := Generate(context.Background(), Options{Customers: n}, func(string, []event.Message) error {
		if batches++; batches%500 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(begin)
	runtime.ReadMemStats(&ms)
	t.Logf("%d customers: %d messages (%.1f per customer) in %v, %.0f msgs/s; peak heap in use %d MiB, total allocated %d MiB, Sys %d MiB",
		n, st.Messages, float64(st.Messages)/float64(n), el.Round(time.Millisecond), float64(st.Messages)/el.Seconds(),
		peak>>20, ms.TotalAlloc>>20, ms.Sys>>20)
}
