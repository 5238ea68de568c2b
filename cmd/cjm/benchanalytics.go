package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/analytics/chpeer"
	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/journeymap"
)

// benchFunnel is the funnel of `cjm bench analytics`: four steps of the
// demo shop, ordered, in seven days.
var benchFunnel = []string{"Product List Viewed", "Product Viewed", "Product Added", "Order Completed"}

func cmdBenchAnalytics(ctx context.Context, e *env, args []string) error {
	f := newFlags("bench analytics", e)
	events := f.Int("events", 10_000_000, "events to generate (the demo shop's, cut at this many)")
	customers := f.Int("customers", 1_000_000, "customers to generate")
	months := f.Int("months", 3, "months the data spans")
	runs := f.Int("runs", 5, "runs of each query (the best and the median are reported)")
	ch := f.String("clickhouse", "auto", "run the funnel on a ClickHouse server side by side: auto (when installed), on, off")
	dir := f.String("data", "", "keep the generated event store here (default: a temporary directory, removed afterwards)")
	memprofile := f.String("memprofile", "", "write a heap profile here after the queries")
	memLimit := f.Int("memory-limit-mb", 1200, "soft memory limit of the Go runtime in MB (as GOMEMLIMIT sets it for cjm serve); 0 for none")
	if err := f.parse(args); err != nil {
		return err
	}
	if *ch != "auto" && *ch != "on" && *ch != "off" {
		return usageError{"--clickhouse: want auto, on or off"}
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cjm-bench-analytics-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if *memLimit > 0 {
		debug.SetMemoryLimit(int64(*memLimit) << 20)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	b := &analyticsBench{e: e, dir: *dir, runs: max(1, *runs), memprofile: *memprofile}
	return b.run(ctx, *events, *customers, *months, *ch)
}

type analyticsBench struct {
	e          *env
	dir        string
	runs       int
	memprofile string
}

func (b *analyticsBench) printf(format string, args ...any) { fmt.Fprintf(b.e.stdout, format, args...) }

func (b *analyticsBench) run(ctx context.Context, events, customers, months int, ch string) error {
	b.printf("cjm bench analytics: %d events from %d customers over %d months, %d CPUs (GOMAXPROCS %d)\n",
		events, customers, months, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	path := filepath.Join(b.dir, "events.duckdb")
	store, err := duckdb.Open(path, duckdb.Options{CheckpointThreshold: "256MB"})
	if err != nil {
		return err
	}
	n, err := store.Count(ctx, eventstore.Filter{WorkspaceID: benchWorkspace})
	if err == nil && n == 0 {
		err = b.generate(ctx, store, events, customers, months)
	} else if err == nil {
		b.printf("using the %d events already in %s\n", n, b.dir)
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// The analyses read the store as cjm serve opens it.
	if store, err = duckdb.Open(path, duckdb.Options{Threads: max(1, runtime.NumCPU()-1)}); err != nil {
		return err
	}
	defer store.Close()

	// The analyses' memory from here on: the generator's is given back.
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset the peak RSS (Linux)
	rssBefore := procStatus(os.Getpid(), "VmRSS:")

	m := demo.Maps("en")[0]
	var sources []journeymap.SourceInfo
	for _, s := range demo.Sources {
		sources = append(sources, journeymap.SourceInfo{ID: s.Key, Name: s.Name, Channel: s.Channel})
	}
	cl, err := journeymap.Compile(m, sources)
	if err != nil {
		return err
	}
	nTouch := 0
	for _, s := range m.Stages {
		nTouch += len(s.Touchpoints)
	}

	// The index reads the fields the map's matchers look at with the
	// events, as cjm does for the workspace's maps.
	ix := analytics.NewIndex(store, benchWorkspace)
	fields := cl.Fields()
	for _, e := range analytics.DefaultEmotion {
		fields = append(fields, e.Field)
	}
	if err := ix.Want(ctx, fields...); err != nil {
		return err
	}
	t0 := time.Now()
	v, err := ix.Refresh(ctx)
	if err != nil {
		return err
	}
	b.printf("index built from the event store in %s: %d events, %d people, with the %d fields the map's matchers and its emotion lane read\n",
		time.Since(t0).Round(time.Millisecond), v.Len(), v.Persons(), len(fields))
	b.printf("  memory after the build: RSS %s, peak %s\n", kb(procStatus(os.Getpid(), "VmRSS:")), kb(procStatus(os.Getpid(), "VmHWM:")))

	fq := analytics.FunnelQuery{Steps: benchFunnel, Window: 7 * 24 * time.Hour, Order: analytics.Ordered}
	var fres *analytics.FunnelResult
	funnelTimes, err := b.time(func() error { var err error; fres, err = v.Funnel(ctx, fq); return err })
	if err != nil {
		return err
	}
	b.report("funnel, 4 steps ordered, 7-day window", funnelTimes, 300*time.Millisecond)
	for _, s := range fres.Steps {
		b.printf("    %-22s %9d\n", s.Name, s.Count)
	}

	placesKey := "bench-map@1"
	t0 = time.Now()
	if _, err := v.Places(ctx, placesKey, cl); err != nil {
		return err
	}
	classify := time.Since(t0)
	lq := analytics.LiveMapQuery{Map: m, Classifier: cl, PlacesKey: placesKey}
	var live *analytics.LiveMap
	liveTimes, err := b.time(func() error { var err error; live, err = v.LiveMap(ctx, lq); return err })
	if err != nil {
		return err
	}
	b.printf("  classifying every event on the map (once per map version, then kept): %s\n", classify.Round(time.Millisecond))
	b.report(fmt.Sprintf("live map, %d stages, %d touchpoints (classification kept)", len(m.Stages), nTouch), liveTimes, time.Second)
	cold := classify + liveTimes[0]
	b.printf("    with the classification: %s; %d customers on the map, %d events not on it\n", cold.Round(time.Millisecond), live.Customers, live.Unclassified)

	pq := analytics.PathQuery{Start: "Product List Viewed", Steps: 5, Session: true}
	var paths *analytics.PathResult
	pathTimes, err := b.time(func() error { var err error; paths, err = v.Paths(ctx, pq); return err })
	if err != nil {
		return err
	}
	b.report("paths, 5 steps from Product List Viewed, per 30-minute session", pathTimes, time.Second)
	b.printf("    %d sessions, %d nodes, %d links\n", paths.Actors, len(paths.Nodes), len(paths.Links))

	ict, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	rq := analytics.RetentionQuery{Interval: analytics.Week, Periods: 12, Location: ict}
	var ret *analytics.RetentionResult
	retTimes, err := b.time(func() error { var err error; ret, err = v.Retention(ctx, rq); return err })
	if err != nil {
		return err
	}
	b.report("retention, 12 weeks, first-time, any event", retTimes, time.Second)
	if len(ret.Average) > 4 {
		b.printf("    %d cohorts; average retention week 1 %.1f%%, week 4 %.1f%%\n", len(ret.Cohorts), 100*ret.Average[1], 100*ret.Average[4])
	}

	runtime.GC()
	if b.memprofile != "" {
		f, err := os.Create(b.memprofile)
		if err != nil {
			return err
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		f.Close()
	}
	b.printf("memory: RSS %s now, peak %s since the index build started (%s before it)\n",
		kb(procStatus(os.Getpid(), "VmRSS:")), kb(procStatus(os.Getpid(), "VmHWM:")), kb(rssBefore))

	if ch == "off" {
		return nil
	}
	if _, ok := chpeer.Available(); !ok {
		if ch == "on" {
			return errors.New("--clickhouse on: no ClickHouse server is installed (apt-get install clickhouse-server)")
		}
		b.printf("ClickHouse: not installed (apt-get install clickhouse-server), no side-by-side run\n")
		return nil
	}
	return b.clickhouse(ctx, v, fres, funnelTimes)
}

// benchWorkspace is the workspace of the generated events.
const benchWorkspace = "bench"

// generate fills the store with the demo shop's events, their timestamps
// cut to whole seconds (ClickHouse's DateTime, for the side-by-side run).
func (b *analyticsBench) generate(ctx context.Context, store *duckdb.Store, events, customers, months int) error {
	t0 := time.Now()
	var seq uint64
	batch := make([]event.Message, 0, 50_000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := store.Append(ctx, batch)
		batch = batch[:0]
		return err
	}
	errDone := errors.New("done")
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := demo.Generate(gctx, demo.Options{Customers: customers, Months: months, Seed: 7}, func(src string, msgs []event.Message) error {
		for i := range msgs {
			if int(seq) == events {
				return errDone
			}
			seq++
			m := msgs[i]
			m.Seq, m.WorkspaceID, m.SourceID = seq, benchWorkspace, src
			m.Timestamp = m.Timestamp.Truncate(time.Second)
			m.ReceivedAt = m.Timestamp
			batch = append(batch, m)
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	d := time.Since(t0)
	b.printf("generated and stored %d events in %s (%.0f events/s)\n", seq, d.Round(time.Millisecond), float64(seq)/d.Seconds())
	return nil
}

// time runs fn b.runs times and returns the durations.
func (b *analyticsBench) time(fn func() error) ([]time.Duration, error) {
	var ds []time.Duration
	for range b.runs {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, nil
}

// report prints the best and median of ds against a target.
func (b *analyticsBench) report(what string, ds []time.Duration, target time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	verdict := "ok"
	if s[len(s)/2] > target {
		verdict = "OVER TARGET"
	}
	b.printf("%s: best %s, median %s over %d runs (target %s: %s)\n", what, s[0].Round(time.Millisecond), s[len(s)/2].Round(time.Millisecond), len(s), target, verdict)
}

// clickhouse loads the index's events into a private ClickHouse server and
// runs the same funnel with windowFunnel.
func (b *analyticsBench) clickhouse(ctx context.Context, v *analytics.View, fres *analytics.FunnelResult, cjm []time.Duration) error {
	srv, err := chpeer.Start(ctx, filepath.Join(b.dir, "clickhouse"))
	if err != nil {
		return err
	}
	defer srv.Close()
	t0 := time.Now()
	next := v.Rows()
	rows, err := srv.Load(ctx, "events", func() (chpeer.Event, bool) {
		r, ok := next()
		return chpeer.Event{Actor: r.Person, TS: r.TS, Name: r.Name}, ok
	})
	if err != nil {
		return err
	}
	b.printf("ClickHouse: %d rows loaded in %s\n", rows, time.Since(t0).Round(time.Millisecond))
	var counts []int64
	var serverTimes []time.Duration
	chTimes, err := b.time(func() error {
		c, server, _, err := srv.WindowFunnel(ctx, "events", benchFunnel, 7*24*time.Hour, time.Time{}, time.Time{})
		counts = c
		serverTimes = append(serverTimes, server)
		return err
	})
	if err != nil {
		return err
	}
	b.report("ClickHouse windowFunnel, same funnel, wall time over HTTP", chTimes, time.Hour)
	b.report("ClickHouse windowFunnel, the server's own timing", serverTimes, time.Hour)
	agree := true
	for i, s := range fres.Steps {
		c := int64(-1)
		if i < len(counts) {
			c = counts[i]
		}
		mark := "agree"
		if c != s.Count {
			mark, agree = "DIFFER", false
		}
		b.printf("    %-22s cjm %9d  ClickHouse %9d  %s\n", s.Name, s.Count, c, mark)
	}
	sc, sh := slices.Clone(cjm), slices.Clone(chTimes)
	slices.Sort(sc)
	slices.Sort(sh)
	ratio := float64(sh[len(sh)/2]) / float64(sc[len(sc)/2])
	verdict := "ok"
	if ratio < 3 {
		verdict = "UNDER TARGET"
	}
	b.printf("funnel medians: cjm %s, ClickHouse %s: cjm is %.1f× faster (target ≥ 3×: %s); counts agree: %v\n",
		sc[len(sc)/2].Round(time.Millisecond), sh[len(sh)/2].Round(time.Millisecond), ratio, verdict, agree)
	return nil
}

func kb(n int64) string {
	if n >= 1024*1024 {
		return strconv.FormatFloat(float64(n)/1024/1024, 'f', 2, 64) + " GB"
	}
	return strconv.FormatFloat(float64(n)/1024, 'f', 0, 64) + " MB"
}
