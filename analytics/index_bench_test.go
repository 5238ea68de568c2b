package analytics

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/journeymap"
)

// benchView is a view over generated events, filled in memory (the store
// is not what these benchmarks measure; `cjm bench analytics` reads a real
// one): people × about 10 events over 90 days, a shopping journey with
// drop-off at every step and other events between.
func benchView(b *testing.B, people, events int, fields ...string) *View {
	b.Helper()
	ix := NewIndex(nil, "bench")
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"Product List Viewed", "Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Page", "Search", "Email Opened"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	rows := &ix.rows
	for i := range events {
		p := r.IntN(people)
		step := 0
		for step < 4 && r.Float64() < 0.6 {
			step++
		}
		name := names[step]
		if r.Float64() < 0.3 {
			name = names[5+r.IntN(3)]
		}
		rows.seq = append(rows.seq, uint64(i+1))
		rows.ts = append(rows.ts, t0+int64(r.IntN(90*24*3600))*1000)
		rows.name = append(rows.name, ix.names.code(name))
		rows.typ = append(rows.typ, uint8(ix.types.code("track")))
		rows.source = append(rows.source, ix.sources.code("web"))
		rows.path = append(rows.path, 0)
		rows.actor = append(rows.actor, ix.actors.code(fmt.Sprintf("u%d", p)))
	}
	// Fields the benchmark reads are there, empty (no store to read).
	for _, f := range fields {
		ix.cols[f] = &column{field: f, dict: newDict()}
	}
	v, err := ix.newView(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ix.view.Store(v)
	return v
}

// BenchmarkFunnel is a 4-step ordered funnel with a 7-day window over 1M
// events of 100k people.
func BenchmarkFunnel(b *testing.B) {
	v := benchView(b, 100_000, 1_000_000)
	q := FunnelQuery{Steps: []string{"Product List Viewed", "Product Viewed", "Product Added", "Order Completed"}, Window: 7 * 24 * time.Hour}
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Funnel(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(v.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// BenchmarkLiveMap measures a 5-stage, 20-touchpoint map (the demo's) over
// the generated events, with the classification kept (as the index does).
func BenchmarkLiveMap(b *testing.B) {
	m := demo.Maps("en")[0]
	var sources []journeymap.SourceInfo
	for _, s := range demo.Sources {
		sources = append(sources, journeymap.SourceInfo{ID: s.Key, Name: s.Name, Channel: s.Channel})
	}
	c, err := journeymap.Compile(m, sources)
	if err != nil {
		b.Fatal(err)
	}
	fields := c.Fields()
	for _, e := range DefaultEmotion {
		fields = append(fields, e.Field)
	}
	v := benchView(b, 100_000, 1_000_000, fields...)
	q := LiveMapQuery{Map: m, Classifier: c, PlacesKey: "bench@1"}
	if _, err := v.LiveMap(context.Background(), q); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.LiveMap(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}
