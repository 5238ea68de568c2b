package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// The demo login, printed by `cjm demo`.
const (
	demoWorkspace = "Mây Boutique (demo)"
	demoEmail     = "demo@cjm.local"
	demoPassword  = "demo1234"
)

func cmdDemo(ctx context.Context, e *env, args []string) error {
	f := newFlags("demo", e)
	data := dataFlag(f, "cjm-demo")
	customers := f.Int("customers", 5000, "number of customers")
	seed := f.Int("seed", 1, "random seed: the same seed and end date give the same data")
	end := f.String("end", "", "last day of the data, YYYY-MM-DD (default: today)")
	noServe := f.Bool("no-serve", false, "only generate the data, do not start the server")
	addr := f.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	live := f.Bool("live", true, "while serving, simulate customers using the shop right now (new events every few seconds)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *customers < 1 {
		return usageError{"--customers must be at least 1"}
	}
	endDay := time.Now().UTC().Truncate(24 * time.Hour)
	if *end != "" {
		t, err := time.Parse("2006-01-02", *end)
		if err != nil {
			return usageError{fmt.Sprintf("--end %q: want YYYY-MM-DD", *end)}
		}
		endDay = t
	}
	a, err := openApp(ctx, e, *data)
	if err != nil {
		return err
	}
	defer a.Close()
	w, fresh, err := demoWorkspaceFor(ctx, a.Ops)
	if err != nil {
		return err
	}
	if err := waitLoaded(ctx, e, a); err != nil {
		return err
	}
	n, err := a.Events.Count(ctx, eventstore.Filter{WorkspaceID: w.ID})
	if err != nil {
		return err
	}
	opts := demo.Options{Customers: *customers, Seed: int64(*seed), End: endDay}
	if !fresh && n > 0 {
		fmt.Fprintf(e.stdout, "Reusing the demo workspace in %s (%d events).\n", *data, n)
	} else {
		if err := generateDemo(ctx, e, a.Ops, w, opts, func(ctx context.Context, msgs []event.Message, rej []opstore.Rejected) error {
			_, err := a.Pipeline.Submit(ctx, msgs, rej)
			return err
		}); err != nil {
			return err
		}
		if err := waitLoaded(ctx, e, a); err != nil {
			return err
		}
	}
	login := fmt.Sprintf("Demo login: %s / %s\n", demoEmail, demoPassword)
	if *noServe {
		fmt.Fprintf(e.stdout, "Demo data is in %s. Start it with: cjm serve --data %s\n%s", *data, *data, login)
		return nil
	}
	if *live {
		stop, err := startLive(ctx, e, a, w, demo.LiveOptions{Data: opts})
		if err != nil {
			return err
		}
		// Runs before the deferred a.Close: the simulation stops before the
		// pipeline closes.
		defer stop()
		login += fmt.Sprintf("Live simulation is on: customers are using the shop now, about one event every %.0f seconds (--live=false turns it off).\n", 1/demo.DefaultLiveRate)
	}
	return serve(ctx, e, a, *addr, login)
}

// startLive plays demo.Live into the demo workspace until ctx ends or stop
// is called, through the same path as the generated data. stop ends the
// simulation and waits for it; a batch being submitted is finished first.
func startLive(ctx context.Context, e *env, a *app.App, w opstore.Workspace, o demo.LiveOptions) (stop func(), err error) {
	srcs, err := demoSources(ctx, a.Ops, w)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := demo.Live(ctx, o, func(key string, msgs []event.Message) error {
			src, ok := srcs[key]
			if !ok {
				return fmt.Errorf("demo emitted unknown source %q", key)
			}
			good, rej := checkDemo(w, src, msgs, time.Now().UTC())
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, err := a.Pipeline.Submit(sctx, good, rej)
			return err
		})
		if ctx.Err() == nil { // Live returns only on an error or when ctx ends
			e.logger.Error("demo live simulation stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// demoSources maps the keys of demo.Sources to the workspace's sources.
func demoSources(ctx context.Context, ops opstore.Store, w opstore.Workspace) (map[string]opstore.Source, error) {
	srcs := map[string]opstore.Source{}
	for _, s := range demo.Sources {
		src, err := ops.SourceByName(ctx, w.ID, s.Name)
		if err != nil {
			return nil, fmt.Errorf("demo source %q: %w", s.Name, err)
		}
		srcs[s.Key] = src
	}
	return srcs, nil
}

// checkDemo stamps the demo messages msgs of src with the workspace, the
// source and receivedAt (the zero time: their own timestamp), and checks
// them. It returns the valid ones (in msgs' array) and the rejected ones.
func checkDemo(w opstore.Workspace, src opstore.Source, msgs []event.Message, receivedAt time.Time) ([]event.Message, []opstore.Rejected) {
	var rej []opstore.Rejected
	ok := msgs[:0]
	for i := range msgs {
		m := msgs[i]
		m.WorkspaceID, m.SourceID, m.ReceivedAt = w.ID, src.ID, receivedAt
		if receivedAt.IsZero() {
			m.ReceivedAt = m.Timestamp
		}
		if err := event.Check(&m); err != nil {
			rej = append(rej, opstore.Rejected{WorkspaceID: w.ID, SourceID: src.ID, ReceivedAt: time.Now().UTC(),
				Origin: "demo", Index: i, Code: err.Code, Field: err.Field, Reason: err.Reason})
			continue
		}
		ok = append(ok, m)
	}
	return ok, rej
}

// demoWorkspaceFor finds or creates the demo workspace, its sources and login.
func demoWorkspaceFor(ctx context.Context, ops opstore.Store) (opstore.Workspace, bool, error) {
	ws, err := ops.Workspaces(ctx)
	if err != nil {
		return opstore.Workspace{}, false, err
	}
	for _, w := range ws {
		if w.Name == demoWorkspace {
			return w, false, nil
		}
	}
	w := opstore.Workspace{Name: demoWorkspace}
	if err := ops.CreateWorkspace(ctx, &w); err != nil {
		return w, false, err
	}
	for _, s := range demo.Sources {
		src := opstore.Source{WorkspaceID: w.ID, Name: s.Name, Channel: opstore.Channel(s.Channel)}
		if err := ops.CreateSource(ctx, &src); err != nil {
			return w, false, err
		}
	}
	// The demo's two finished journey maps, in Vietnamese (the demo
	// retailer's language); their matchers classify the demo events.
	book := journeymap.NewBook(ops)
	for _, m := range demo.Maps("vi") {
		if _, err := book.Create(ctx, w.ID, m, opstore.MapChange{AuthorName: "cjm demo", Action: "created"}); err != nil {
			return w, false, fmt.Errorf("demo map %q: %w", m.Name, err)
		}
	}
	u, err := ensureUser(ctx, ops, demoEmail, "Demo", demoPassword)
	if err != nil {
		return w, false, err
	}
	if err := ops.SetMember(ctx, w.ID, u.ID, opstore.Owner); err != nil {
		return w, false, err
	}
	return w, true, nil
}

// generateDemo streams the demo data set through submit, several batches at
// a time so the event log's group commit can merge them.
func generateDemo(ctx context.Context, e *env, ops opstore.Store, w opstore.Workspace, o demo.Options,
	submit func(context.Context, []event.Message, []opstore.Rejected) error) error {
	srcs, err := demoSources(ctx, ops, w)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		src  opstore.Source
		msgs []event.Message
	}
	jobs := make(chan job, 8)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		stored   atomic.Int64
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ok, rej := checkDemo(w, j.src, j.msgs, time.Time{})
				if err := submit(ctx, ok, rej); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
				stored.Add(int64(len(ok)))
			}
		}()
	}
	start := time.Now()
	last := start
	fmt.Fprintf(e.stderr, "Generating the demo: %d customers, seed %d, ending %s\n", o.Customers, o.Seed, o.End.Format("2006-01-02"))
	stats, genErr := demo.Generate(ctx, o, func(key string, msgs []event.Message) error {
		src, ok := srcs[key]
		if !ok {
			return fmt.Errorf("demo emitted unknown source %q", key)
		}
		cp := make([]event.Message, len(msgs))
		copy(cp, msgs)
		select {
		case jobs <- job{src, cp}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if time.Since(last) > time.Second {
			last = time.Now()
			n := stored.Load()
			fmt.Fprintf(e.stderr, "\r  %d events stored (%.0f/s)   ", n, float64(n)/time.Since(start).Seconds())
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if genErr != nil && !errors.Is(genErr, context.Canceled) {
		return genErr
	}
	if genErr != nil {
		return genErr
	}
	fmt.Fprintf(e.stderr, "\r  %d customers, %d events stored in %s\n", stats.Customers, stored.Load(), time.Since(start).Round(time.Millisecond))
	return nil
}
