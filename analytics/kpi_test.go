package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/opstore"
)

// kpiEvent is one hand-made event: when (UTC), who, from which source.
type kpiEvent struct {
	at, user, src, name, props string
}

// kpiSources are the sources of the hand-made events: id, channel, name.
var kpiSources = map[string][2]string{
	"src_web":  {"website", "Website"},
	"src_shop": {"marketplace", "Shopee Mall"},
	"src_pos":  {"pos", "Cửa hàng"},
}

// kpiEvents: the period is the two weeks from Monday 2026-03-02 to
// 2026-03-16, the previous period the two weeks before.
var kpiEvents = []kpiEvent{
	// u1: arrived in the previous period (web), ordered then, orders
	// again and answers the survey (10) in the period.
	{"2026-02-20 10:00", "u1", "src_web", "Page Viewed", ``},
	{"2026-02-25 10:00", "u1", "src_web", "Order Completed", `{"revenue":100000}`},
	{"2026-03-03 09:00", "u1", "src_web", "Page Viewed", ``},
	{"2026-03-03 09:10", "u1", "src_web", "Order Completed", `{"revenue":200000}`},
	{"2026-03-10 09:00", "u1", "src_web", "Survey Answered", `{"nps":10}`},
	// u2: new (signs up 5 minutes after the first visit), activated a day
	// after signing up, a first order (revenue in "total"), a repeat
	// order, a referral.
	{"2026-03-03 10:00", "u2", "src_web", "Page Viewed", ``},
	{"2026-03-03 10:05", "u2", "src_web", "Signed Up", ``},
	{"2026-03-04 10:05", "u2", "src_web", "Product Added", ``},
	{"2026-03-05 12:00", "u2", "src_web", "Order Completed", `{"total":150000}`},
	{"2026-03-10 12:00", "u2", "src_web", "Order Completed", `{"revenue":300000}`},
	{"2026-03-11 12:00", "u2", "src_web", "Referral Sent", ``},
	// u3: new on the marketplace with an order (revenue as text), never
	// activated, a detractor.
	{"2026-03-09 08:00", "u3", "src_shop", "Order Completed", `{"revenue":"80000"}`},
	{"2026-03-12 08:00", "u3", "src_shop", "Survey Answered", `{"nps":3}`},
	// u4: bought in a store in the previous period, then nothing: churned.
	{"2026-02-17 15:00", "u4", "src_pos", "Order Completed", `{"revenue":50000}`},
	// u5: a visitor since February (added to cart then) who signs up in
	// the period: new then, activated before (time 0).
	{"2026-02-10 20:00", "u5", "src_web", "Page Viewed", ``},
	{"2026-02-12 20:00", "u5", "src_web", "Product Added", ``},
	{"2026-03-04 09:00", "u5", "src_web", "Signed Up", ``},
	// u6: new on the last evening; adds to cart after the period; an
	// answer out of the 0-10 scale.
	{"2026-03-15 23:00", "u6", "src_web", "Page Viewed", ``},
	{"2026-03-15 23:10", "u6", "src_web", "Survey Answered", `{"nps":11}`},
	{"2026-03-16 01:00", "u6", "src_web", "Product Added", ``},
	// u7: an old customer (January) with three sessions in the period and
	// a promoter's answer.
	{"2026-01-01 10:00", "u7", "src_web", "Page Viewed", ``},
	{"2026-03-05 10:00", "u7", "src_web", "Page Viewed", ``},
	{"2026-03-05 10:20", "u7", "src_web", "Page Viewed", ``},
	{"2026-03-05 11:00", "u7", "src_web", "Page Viewed", ``},
	{"2026-03-05 12:00", "u7", "src_web", "Survey Answered", `{"nps":"9"}`},
}

func kpiTestSpend(t *testing.T) []opstore.Spend {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return []opstore.Spend{
		// March on the website: 100.000 a day, 14 days in the period, 1 in the previous one.
		{Channel: "WEBSITE", From: day("2026-03-01"), To: day("2026-04-01"), Amount: 3_100_000, Currency: "VND"},
		// Named by its source: the marketplace channel; all in the period.
		{Channel: "Shopee mall", Campaign: "sale", From: day("2026-03-02"), To: day("2026-03-16"), Amount: 700_000, Currency: "VND"},
		// No source: half of it in the period.
		{Channel: "Facebook Ads", From: day("2026-03-09"), To: day("2026-03-23"), Amount: 1_400_000, Currency: "VND"},
		{Channel: "Website", From: day("2026-03-01"), To: day("2026-04-01"), Amount: 500, Currency: "USD"},
		// Outside the periods.
		{Channel: "Website", From: day("2025-01-01"), To: day("2025-02-01"), Amount: 9_999_999, Currency: "VND"},
	}
}

// kpiView stores events in a real DuckDB store and indexes them.
func kpiView(t *testing.T, evs []kpiEvent) *View {
	t.Helper()
	ctx := context.Background()
	s := openStore(t)
	var ms []event.Message
	for i, e := range evs {
		at, err := time.Parse("2006-01-02 15:04", e.at)
		if err != nil {
			t.Fatal(err)
		}
		m := event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: e.src, MessageID: fmt.Sprint("m", i+1), Type: event.Track,
			Event: e.name, UserID: e.user, Timestamp: at}
		if e.props != "" {
			m.Properties = json.RawMessage(e.props)
		}
		ms = append(ms, m)
	}
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	v, err := NewIndex(s, "ws").View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func kpiQuery(t *testing.T) KPIQuery {
	return KPIQuery{
		Settings: opstore.DefaultKPISettings("ws"),
		Spend:    kpiTestSpend(t),
		From:     time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		To:       time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC),
		Interval: Week,
		SourceChannel: func(id string) string {
			return kpiSources[id][0]
		},
		SourceName: func(id string) string { return kpiSources[id][1] },
	}
}

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

// TestKPIs computes the KPIs of a small hand-made data set and compares
// them with figures worked out by hand (see kpiEvents).
func TestKPIs(t *testing.T) {
	ctx := context.Background()
	v := kpiView(t, kpiEvents)
	got, err := v.KPIs(ctx, kpiQuery(t))
	if err != nil {
		t.Fatal(err)
	}
	approx := cmpopts.EquateApprox(0, 1e-9)

	// Active: u1 u2 u3 u5 u6 u7. New: u2 u3 u5 u6. Activated: u2 (a day
	// after signing up) and u5 (before: 0 s); median 12 h. Orders: u1
	// 200.000 (repeat), u2 150.000 (first) and 300.000 (repeat), u3 80.000
	// (first). Spend: website 1.400.000 + Shopee 700.000 + Facebook
	// 700.000. Retention: of u1 and u4 (previous period) u1 came back.
	// Events 18 and sessions 14 over 6 customers and 2 weeks. NPS: u1 10,
	// u7 9, u3 3 (u6's 11 is no score). LTV: the 880.000 of all orders by
	// the end over u1 to u4.
	period := KPIFigures{
		NewCustomers: 4, Spend: 2_800_000, CAC: i64(700_000),
		Activated: 2, ActivationRate: f64(0.5), MedianActivationSeconds: f64(43200),
		Active: 6, Purchasers: 3, ConversionRate: f64(0.5), Orders: 4, Revenue: 730_000, AOV: i64(182_500),
		PreviousActive: 2, Retained: 1, RetentionRate: f64(0.5), ChurnRate: f64(0.5),
		Events: 18, Sessions: 14, EventsPerCustomerWeek: f64(1.5), SessionsPerCustomerWeek: f64(14.0 / 12),
		Referrals: 1, Referrers: 1, ReferralRate: f64(1.0 / 6),
		NPSResponses: 3, Promoters: 2, Passives: 0, Detractors: 1, NPS: f64(100.0 / 3),
		LTVCustomers: 4, LTVRevenue: 880_000, LTV: i64(220_000),
		FirstOrders: 2, FirstRevenue: 230_000, FirstAOV: i64(115_000),
		RepeatOrders: 2, RepeatRevenue: 500_000, RepeatAOV: i64(250_000),
		NewBuyers: 2, RepeatBuyers: 2, RepeatUplift: f64(250_000.0/115_000 - 1),
	}
	if d := cmp.Diff(period, got.Period, approx); d != "" {
		t.Errorf("period (-want +got):\n%s", d)
	}
	// The previous period: u1 and u4 arrive and order once each; u5 (the
	// period before) does not come back; one day of the website's spend.
	previous := KPIFigures{
		NewCustomers: 2, Spend: 100_000, CAC: i64(50_000),
		Activated: 0, ActivationRate: f64(0),
		Active: 2, Purchasers: 2, ConversionRate: f64(1), Orders: 2, Revenue: 150_000, AOV: i64(75_000),
		PreviousActive: 1, Retained: 0, RetentionRate: f64(0), ChurnRate: f64(1),
		Events: 3, Sessions: 3, EventsPerCustomerWeek: f64(0.75), SessionsPerCustomerWeek: f64(0.75),
		ReferralRate: f64(0),
		LTVCustomers: 2, LTVRevenue: 150_000, LTV: i64(75_000),
		FirstOrders: 2, FirstRevenue: 150_000, FirstAOV: i64(75_000), NewBuyers: 2,
	}
	if d := cmp.Diff(previous, got.Previous, approx); d != "" {
		t.Errorf("previous period (-want +got):\n%s", d)
	}

	// Two weeks. The first: u1 u2 u5 u7 active, u2 and u5 new and
	// activated, 11 events; of the week before, u1 came back. The second:
	// u1 u2 u3 u6, u3 and u6 new, u1 and u2 back from the first week.
	type point struct {
		Start                                    string
		Active, New, Activated, Events, Retained int64
		Orders, Revenue, Spend                   int64
		Retention                                *float64
		LTV                                      *int64
	}
	var points []point
	for _, p := range got.Series {
		points = append(points, point{p.Start.Format(time.DateOnly), p.Active, p.NewCustomers, p.Activated, p.Events, p.Retained,
			p.Orders, p.Revenue, p.Spend, p.RetentionRate, p.LTV})
	}
	wantPoints := []point{
		{"2026-03-02", 4, 2, 2, 11, 1, 2, 350_000, 1_050_000, f64(1), i64(166_667)},
		{"2026-03-09", 4, 2, 0, 7, 2, 2, 380_000, 1_750_000, f64(0.5), i64(220_000)},
	}
	if d := cmp.Diff(wantPoints, points, approx); d != "" {
		t.Errorf("series (-want +got):\n%s", d)
	}

	// Per channel: u1 u2 u5 u6 u7 came by the website, u3 by the
	// marketplace; u4 (pos) did nothing in the period.
	wantCh := []KPIChannel{
		{Channel: "website", NewCustomers: 3, Activated: 2, Spend: 1_400_000, CAC: i64(466_667), Active: 5, Purchasers: 2, Orders: 3, Revenue: 650_000},
		{Channel: "marketplace", NewCustomers: 1, Spend: 700_000, CAC: i64(700_000), Active: 1, Purchasers: 1, Orders: 1, Revenue: 80_000},
	}
	if d := cmp.Diff(wantCh, got.Channels); d != "" {
		t.Errorf("channels (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]KPISpend{{Channel: "Facebook Ads", Amount: 700_000}}, got.UnmatchedSpend); d != "" {
		t.Errorf("unmatched spend (-want +got):\n%s", d)
	}
	if got.SpendOtherCurrency != 1 || got.Currency != "VND" || got.Interval != Week {
		t.Errorf("other currency %d, currency %q, interval %q", got.SpendOtherCurrency, got.Currency, got.Interval)
	}
}

// The settings decide what counts: other events, another revenue
// property, no NPS, a day interval in another time zone.
func TestKPIsSettings(t *testing.T) {
	ctx := context.Background()
	v := kpiView(t, kpiEvents)
	q := kpiQuery(t)
	q.Settings = opstore.KPISettings{WorkspaceID: "ws", ActivationEvents: []string{"Referral Sent", "No Such Event"},
		PurchaseEvent: "Order Completed", RevenueProperty: "total", Currency: "USD"}
	q.Interval = Day
	q.Location = time.FixedZone("ICT", 7*3600)
	q.From, q.To = time.Date(2026, 3, 2, 0, 0, 0, 0, q.Location), time.Date(2026, 3, 16, 0, 0, 0, 0, q.Location)
	got, err := v.KPIs(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Period
	// Without sign-up events u5 is acquired at its first event (February);
	// u6's first event is 2026-03-16 06:00 in ICT, after the period.
	// Revenue in USD cents: "total" first, then "value"... then nothing
	// for the orders with "revenue" only (revenue is no fallback of total).
	if p.NewCustomers != 2 || p.Activated != 1 || p.Orders != 4 || p.Revenue != 15_000_000 || p.NPSResponses != 0 || p.NPS != nil {
		t.Errorf("new %d, activated %d, orders %d, revenue %d, NPS answers %d %v", p.NewCustomers, p.Activated, p.Orders, p.Revenue, p.NPSResponses, p.NPS)
	}
	if p.Referrals != 0 || p.Spend != 226 || got.SpendOtherCurrency != 4 {
		t.Errorf("referrals %d (no referral event), spend %d (14 days of the USD row: 226), %d rows in another currency", p.Referrals, p.Spend, got.SpendOtherCurrency)
	}
	if len(got.Series) != 14 || !got.Series[0].Start.Equal(q.From) || got.Series[13].Start.Day() != 15 {
		t.Errorf("%d days from %v", len(got.Series), got.Series[0].Start)
	}
	var sum int64
	for _, d := range got.Series {
		sum += d.Events
	}
	if sum != p.Events {
		t.Errorf("the days' events add up to %d, the period has %d", sum, p.Events)
	}
}

func TestKPIsRefused(t *testing.T) {
	ctx := context.Background()
	v := kpiView(t, kpiEvents[:3])
	for name, edit := range map[string]func(*KPIQuery){
		"no start":      func(q *KPIQuery) { q.From = time.Time{} },
		"end first":     func(q *KPIQuery) { q.To = q.From },
		"no purchase":   func(q *KPIQuery) { q.Settings.PurchaseEvent = "" },
		"bad interval":  func(q *KPIQuery) { q.Interval = "fortnight" },
		"too many days": func(q *KPIQuery) { q.Interval, q.From = Day, q.To.AddDate(-5, 0, 0) },
	} {
		q := kpiQuery(t)
		edit(&q)
		if _, err := v.KPIs(ctx, q); !errors.Is(err, ErrKPI) {
			t.Errorf("%s: %v, want ErrKPI", name, err)
		}
	}
	// No events at all: zeros and nulls, no error.
	empty, err := NewIndex(openStore(t), "ws").View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := empty.KPIs(ctx, kpiQuery(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.Period.Active != 0 || got.Period.ConversionRate != nil || got.Period.Spend != 2_800_000 || got.Period.CAC != nil || len(got.Series) != 2 {
		t.Errorf("empty: %+v", got.Period)
	}
}

// TestKPIsDemoRepeatUplift runs the KPIs on the demo data set, whose
// story "loyal-vs-new" makes repeat orders about 30% larger than first
// orders (Bain & Company: loyal customers spend 31% more).
func TestKPIsDemoRepeatUplift(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the demo data set")
	}
	ctx := context.Background()
	s := openStore(t)
	opts := demo.Options{Customers: 2000}
	var seq uint64
	_, err := demo.Generate(ctx, opts, func(key string, ms []event.Message) error {
		for i := range ms {
			seq++
			ms[i].Seq, ms[i].WorkspaceID, ms[i].SourceID = seq, "ws", "src_"+key
		}
		return s.Append(ctx, ms)
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewIndex(s, "ws").View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	channels := map[string]string{}
	for _, src := range demo.Sources {
		channels["src_"+src.Key] = src.Channel
	}
	from, to := opts.Window()
	start := time.Now()
	got, err := v.KPIs(ctx, KPIQuery{Settings: opstore.DefaultKPISettings("ws"), From: from, To: to, Interval: Month,
		SourceChannel: func(id string) string { return channels[id] }})
	if err != nil {
		t.Fatal(err)
	}
	p := got.Period
	t.Logf("demo: %d events, %d people in %s: %d active, %d new, %d orders (%d first, %d repeat), first AOV %d, repeat AOV %d",
		v.Len(), v.Persons(), time.Since(start).Round(time.Millisecond), p.Active, p.NewCustomers, p.Orders, p.FirstOrders, p.RepeatOrders, *p.FirstAOV, *p.RepeatAOV)
	if p.RepeatUplift == nil {
		t.Fatal("no repeat uplift")
	}
	t.Logf("repeat orders are %.1f%% larger than first orders", 100**p.RepeatUplift)
	if u := *p.RepeatUplift; u < 0.15 || u > 0.45 {
		t.Errorf("repeat uplift %.3f, want 0.15 to 0.45 (the demo makes repeat orders about 30%% larger)", u)
	}
	if p.NPS == nil || p.NPSResponses == 0 || p.ActivationRate == nil || len(got.Series) != 6 {
		t.Errorf("NPS %v over %d answers, activation %v, %d months", p.NPS, p.NPSResponses, p.ActivationRate, len(got.Series))
	}
	var names []string
	for _, c := range got.Channels {
		names = append(names, c.Channel)
	}
	if !strings.Contains(strings.Join(names, ","), "website") {
		t.Errorf("channels %v", names)
	}
}

// kpiBenchView builds a view in memory of people with about ten events
// each over 90 days: browsing, a tenth of them orders with a revenue, some
// sign-ups, cart additions and survey answers.
func kpiBenchView(tb testing.TB, people, events int) *View {
	tb.Helper()
	ix := NewIndex(nil, "bench")
	names := []string{"Page Viewed", "Product Viewed", "Product Added", "Signed Up", "Order Completed", "Survey Answered", "Referral Sent"}
	weights := []float64{0.45, 0.25, 0.1, 0.04, 0.1, 0.03, 0.03}
	codes := make([]uint32, len(names))
	for i, n := range names {
		codes[i] = ix.names.code(n)
	}
	src := []uint32{ix.sources.code("src_web"), ix.sources.code("src_app"), ix.sources.code("src_pos")}
	actors := make([]uint32, people)
	for p := range people {
		actors[p] = ix.actors.code(fmt.Sprint("u", p))
	}
	revenue := &column{field: "properties.revenue", dict: newDict()}
	nps := &column{field: "properties.nps", dict: newDict()}
	for _, f := range []string{"properties.total", "properties.value"} {
		ix.cols[f] = &column{field: f, dict: newDict()}
	}
	ix.cols[revenue.field], ix.cols[nps.field] = revenue, nps
	rng := rand.New(rand.NewPCG(3, 4))
	r := &ix.rows
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range events {
		p := rng.IntN(people)
		k, u := 0, rng.Float64()
		for u > weights[k] && k+1 < len(weights) {
			u -= weights[k]
			k++
		}
		r.seq = append(r.seq, uint64(i+1))
		r.ts = append(r.ts, base+int64(i)*90*86400000/int64(events))
		r.name = append(r.name, codes[k])
		r.typ = append(r.typ, 0)
		r.source = append(r.source, src[p%len(src)])
		r.path = append(r.path, 0)
		r.actor = append(r.actor, actors[p])
		var rc, nc uint32
		switch names[k] {
		case "Order Completed":
			rc = revenue.dict.code(fmt.Sprint(100_000 * (1 + rng.IntN(30))))
		case "Survey Answered":
			nc = nps.dict.code(fmt.Sprint(rng.IntN(11)))
		}
		if rc != 0 {
			revenue.rows, revenue.vals = append(revenue.rows, uint32(i)), append(revenue.vals, rc)
		}
		if nc != 0 {
			nps.rows, nps.vals = append(nps.rows, uint32(i)), append(nps.vals, nc)
		}
	}
	v, err := ix.newView(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// BenchmarkKPIs: a month's KPIs by day over 1M events of 100k people
// (CJM_BENCH_KPI_EVENTS=10000000 for the 10M-event target, with a tenth
// as many people).
func BenchmarkKPIs(b *testing.B) {
	events := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("CJM_BENCH_KPI_EVENTS")); err == nil && n > 0 {
		events = n
	}
	v := kpiBenchView(b, events/10, events)
	q := KPIQuery{Settings: opstore.DefaultKPISettings("bench"), Interval: Day,
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.KPIs(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(v.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// Every metric the reports list is a figure of the JSON report, under its
// key, in a known stage; Change is relative, or in points for a rate.
func TestKPIMetrics(t *testing.T) {
	f := KPIFigures{NewCustomers: 3, Revenue: 1, ConversionRate: f64(0.25), NPS: f64(10), CAC: i64(0), AOV: i64(200)}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, m := range KPIMetrics {
		v, ok := fields[m.Key]
		if !ok {
			t.Errorf("metric %q is no field of KPIFigures", m.Key)
			continue
		}
		got, has := m.Value(&f)
		if want, isNum := v.(float64); has != isNum || has && got != want {
			t.Errorf("metric %q: %v %v, JSON %v", m.Key, got, has, v)
		}
		if !strings.Contains(strings.Join(KPIStages, " "), m.Stage) {
			t.Errorf("metric %q: unknown stage %q", m.Key, m.Stage)
		}
	}
	prev := KPIFigures{NewCustomers: 2, ConversionRate: f64(0.2), AOV: i64(0)}
	for _, tc := range []struct {
		key        string
		change     float64
		points, ok bool
	}{
		{"new_customers", 0.5, false, true},
		{"conversion_rate", 0.05, true, true},
		{"nps", 0, false, false}, // no NPS before
		{"aov", 0, false, false}, // from 0
		{"revenue", 0, false, false},
	} {
		i := slices.IndexFunc(KPIMetrics, func(m KPIMetric) bool { return m.Key == tc.key })
		c, points, ok := KPIMetrics[i].Change(&f, &prev)
		if ok != tc.ok || points != tc.points || ok && math.Abs(c-tc.change) > 1e-9 {
			t.Errorf("%s: change %v, points %v, ok %v", tc.key, c, points, ok)
		}
	}
}
