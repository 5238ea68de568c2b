package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // on DefaultServeMux, served only with --pprof
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/cjmhq/cjm/app"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	f := newFlags("serve", e)
	data := dataFlag(f, "cjm-data")
	addr := f.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	secure := f.Bool("secure-cookies", false, "mark session cookies Secure (when served behind https)")
	rateLimit := f.Int("rate-limit", 0, "default messages per second per write key (0: 100000)")
	noSync := f.Bool("no-sync", false, "do not fsync the event log (benchmarks on throwaway data only: acknowledged events can be lost)")
	mem := f.String("memory-limit", "96MB", "memory limit of the embedded event store (DuckDB); raise it for heavy analytics")
	keepRejected := f.Int("keep-rejected", 90, "days to keep rejected messages")
	pprofAddr := f.String("pprof", "", "serve Go profiling endpoints (net/http/pprof) on this address, e.g. 127.0.0.1:6060")
	if err := f.parse(args); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: the Go heap is collected harder before it grows past
		// it, which keeps a busy collector's memory flat (GOMEMLIMIT overrides).
		// The analytics index can make the live heap larger than that; then
		// the limit follows it, so the collector does not run without end.
		debug.SetMemoryLimit(softMemoryLimit)
		go followLiveHeap(ctx)
	}
	if *pprofAddr != "" {
		go func() {
			e.logger.Info("profiling endpoints", "addr", *pprofAddr)
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				e.logger.Error("pprof", "err", err)
			}
		}()
	}
	a, err := app.Open(ctx, app.Config{DataDir: *data, Logger: e.logger, SecureCookies: *secure, RateLimit: *rateLimit, NoSync: *noSync, MemoryLimit: *mem,
		RejectedRetention: time.Duration(*keepRejected) * 24 * time.Hour})
	if err != nil {
		return err
	}
	defer a.Close()
	return serve(ctx, e, a, *addr, "")
}

// softMemoryLimit is the Go heap a server aims to stay under while its
// live heap is small.
const softMemoryLimit = 128 << 20

// followLiveHeap raises the soft memory limit to twice the live heap (what
// GOGC=100 allows) when that is over softMemoryLimit, until ctx ends.
func followLiveHeap(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(max(softMemoryLimit, 2*int64(sample[0].Value.Uint64())))
		}
	}
}

// serve listens on addr and serves a until ctx ends. It prints the URL (and
// the setup page when there is no user yet) once it listens.
func serve(ctx context.Context, e *env, a *app.App, addr, extra string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "cjm is running at %s\n", url)
	// The analyses' indexes are built in the background, so the first
	// analytics page does not wait for them.
	if wss, err := a.Ops.Workspaces(ctx); err == nil {
		for _, w := range wss {
			a.Analytics.Warm(w.ID)
		}
	}
	if n, err := a.Ops.UserCount(ctx); err == nil && n == 0 {
		fmt.Fprintf(e.stdout, "No user yet: open %s/setup to create the owner account (or run `cjm user add`).\n", url)
	}
	if extra != "" {
		fmt.Fprint(e.stdout, extra)
	}
	fmt.Fprintln(e.stdout, "Press Ctrl+C to stop.")
	return a.Serve(ctx, ln)
}
