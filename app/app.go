// Package app assembles cjm from its parts for one data directory: the
// operational store, the event log, the event store, the ingestion pipeline,
// the collector, the JSON API and the web UI. The CLI and the tests run the
// whole program through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/cjmhq/cjm/analytics"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cjmhq/cjm/api"
	"github.com/cjmhq/cjm/collect"
	"github.com/cjmhq/cjm/eventlog"
	"github.com/cjmhq/cjm/eventstore/duckdb"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/opstore/sqlite"
	"github.com/cjmhq/cjm/privacy"
	"github.com/cjmhq/cjm/profile"
	"github.com/cjmhq/cjm/web"
)

// Config is what a cjm process is told.
type Config struct {
	DataDir string
	Logger  *slog.Logger
	// NoSync skips fsync in the event log: for throwaway benchmark data only.
	NoSync bool
	// RateLimit is the default messages/s per write key (0: collector default).
	RateLimit int
	// MemoryLimit caps the event store's (DuckDB's) memory: default "96MB"
	// for a server (its collector stays under 400 MB at 50k messages/s), and
	// "512MB" in Bulk mode.
	MemoryLimit string
	// SecureCookies marks session cookies Secure (serve behind https).
	SecureCookies bool
	// RejectedRetention is how long rejected messages are kept (0: 90 days).
	RejectedRetention time.Duration
	// Bulk tunes the stores for loading large volumes (imports, the demo):
	// bigger event store transactions and checkpoints, more memory.
	Bulk bool
	// IdentityListener, when set, makes the listener told of the profiles
	// identity resolution changes (see identity.Listener). Open calls it
	// once the stores are open, before resolution starts, so the listener
	// misses nothing (App.Identity is set when it returns).
	IdentityListener func(*App) identity.Listener
}

// App is cjm running on one data directory.
type App struct {
	cfg      Config
	Ops      *sqlite.Store
	Events   *duckdb.Store
	Log      *eventlog.Log
	Pipeline *ingest.Pipeline
	// Identity resolves the identifiers of the messages in the event
	// store into profiles, in the background from Open to Close.
	Identity *identity.Resolver
	// Profiles reads the 360 profiles the profile index keeps.
	Profiles *profile.Service
	// Privacy exports and erases people, keeps the suppression list the
	// pipeline drops erased identifiers by, and the event retention.
	Privacy *privacy.Service
	// Analytics keeps each workspace's events in memory for the analyses,
	// counting people as the identity graph resolves them.
	Analytics *analytics.Indexes
	lock      *os.File
	ui        *web.UI // set by Handler

	stopIdentity func()
	identityDone chan struct{}
}

// ErrLocked means another cjm process holds the data directory.
var ErrLocked = errors.New("data directory is in use")

// Open opens (creating if needed) the data directory and takes its lock: one
// process at a time owns a data directory.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "cjm-data"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	a := &App{cfg: cfg}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.lock = lock
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if a.Ops, err = sqlite.Open(filepath.Join(cfg.DataDir, "cjm.sqlite")); err != nil {
		return nil, err
	}
	if a.Log, err = eventlog.Open(filepath.Join(cfg.DataDir, "log"), eventlog.Options{NoSync: cfg.NoSync}); err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	// A server leaves one core to the collector, so acknowledgements stay
	// fast while the event store loads and checkpoints; bulk loads use all.
	dopts := duckdb.Options{MemoryLimit: cfg.MemoryLimit, Threads: max(1, runtime.NumCPU()-1)}
	sup, err := privacy.LoadSuppression(ctx, a.Ops)
	if err != nil {
		return nil, err
	}
	iopts := ingest.Options{Log: a.Log, Rejects: a.Ops, Logger: cfg.Logger, Drop: sup.Drop}
	if cfg.Bulk {
		if dopts.MemoryLimit == "" {
			dopts.MemoryLimit = "512MB"
		}
		dopts.CheckpointThreshold = "256MB"
		dopts.Threads = runtime.NumCPU()
		iopts.LoadBatch = 100000
	}
	if a.Events, err = duckdb.Open(filepath.Join(cfg.DataDir, "events.duckdb"), dopts); err != nil {
		return nil, err
	}
	iopts.Store = a.Events
	if a.Pipeline, err = ingest.Open(ctx, iopts); err != nil {
		return nil, err
	}
	if err := a.startIdentity(); err != nil {
		return nil, err
	}
	a.Analytics = analytics.NewIndexes(a.Events, func(ctx context.Context, ws string) (func(string, string) string, error) {
		return identity.People(ctx, a.Identity, ws)
	})
	if a.Privacy, err = privacy.New(ctx, privacy.Config{Events: a.Events, Store: a.Ops, Graph: a.Identity, Pipeline: a.Pipeline,
		Suppression: sup, People: []privacy.PersonStore{privacy.Profiles(a.Ops)},
		ExportDir: filepath.Join(cfg.DataDir, "privacy-exports"), Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// startIdentity loads the identity graph and starts resolving the event
// store from where the last run stopped.
func (a *App) startIdentity() error {
	var l identity.Listener
	if a.cfg.IdentityListener != nil {
		l = a.cfg.IdentityListener(a)
	}
	r, err := identity.NewResolver(a.Ops, a.Events, identity.Options{
		Logger:   a.cfg.Logger,
		Listener: l,
		SourceName: func(ctx context.Context, id string) string {
			s, err := a.Ops.Source(ctx, id)
			if err != nil {
				return ""
			}
			return s.Name
		},
	})
	if err != nil {
		return err
	}
	a.Identity = r
	// The profile index follows the event store and the identity graph: it
	// hears of every merge and split before resolution starts.
	pcfg := profile.Config{Store: a.Ops, Ops: a.Ops, Events: a.Events, Graph: r, Logger: a.cfg.Logger}
	a.Profiles = profile.NewService(pcfg)
	ix := profile.NewIndexer(pcfg)
	if l == nil {
		r.SetListener(ix)
	}
	// Both run until Close, which lets the batch in hand finish: a DuckDB
	// query interrupted by a cancelled context can keep the database file
	// open in this process, and opening it again would then wait forever.
	stop := make(chan struct{})
	a.stopIdentity, a.identityDone = func() { close(stop) }, make(chan struct{})
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		untilStopped(stop, time.Second, func() (int, error) {
			err := ix.CatchUp(context.Background())
			if err != nil {
				a.cfg.Logger.Error("profile index", "err", err)
			}
			return 0, err
		})
	}()
	go func() {
		defer close(a.identityDone)
		untilStopped(stop, 200*time.Millisecond, func() (int, error) {
			n, err := r.Step(context.Background())
			if err != nil {
				a.cfg.Logger.Error("identity resolution", "err", err, "offset", r.Offset())
			}
			return n, err
		})
		<-indexed
	}()
	return nil
}

// lockDir takes an exclusive, non-blocking lock on DIR/cjm.lock and writes
// our pid in it, so a second process gets a clear error instead of a corrupt store.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "cjm.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		holder := strings.TrimSpace(string(b[:n]))
		if holder != "" {
			holder = " by process " + holder
		}
		return nil, fmt.Errorf("%w: %s is held%s (a running cjm server?); stop it first, or use its web UI and API", ErrLocked, dir, holder)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// Handler is the whole HTTP surface: the collector under /v1/, the JSON API
// under /api/, the UI everywhere else.
func (a *App) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	collect.New(collect.Options{Sources: a.Ops, Pipeline: a.Pipeline, Logger: a.cfg.Logger, RateLimit: a.cfg.RateLimit}).Register(mux)
	ui, err := web.New(web.Config{Ops: a.Ops, Events: a.Events, Stats: a.Pipeline.Stats, Pipeline: a.Pipeline, ImportDir: a.cfg.DataDir,
		Logger: a.cfg.Logger, SecureCookies: a.cfg.SecureCookies, Privacy: a.Privacy, Profiles: a.Profiles, Analytics: a.Analytics})
	if err != nil {
		return nil, err
	}
	mux.Handle("/api/", api.New(api.Config{Ops: a.Ops, Events: a.Events, Stats: a.Pipeline.Stats, Logger: a.cfg.Logger}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// Unhealthy when nothing can be acknowledged any more.
		if err := a.Log.Err(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "event log failed: %v\n", err)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/", ui)
	a.ui = ui
	return mux, nil
}

// Serve answers HTTP on ln until ctx ends, then drains: in-flight requests
// finish (their messages are acknowledged only once durable) and the loader
// catches up before Serve returns.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.cfg.Logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go a.pruneRejected(ctx)
	go a.Privacy.Retention().Run(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.cfg.Logger.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := a.ui.Close(sctx); err != nil {
		return err
	}
	return a.Pipeline.Flush(sctx)
}

// pruneRejected deletes rejected messages past their retention, at start
// and then daily, until ctx ends.
func (a *App) pruneRejected(ctx context.Context) {
	keep := a.cfg.RejectedRetention
	if keep <= 0 {
		keep = 90 * 24 * time.Hour
	}
	for {
		n, err := a.Ops.DeleteRejected(ctx, time.Now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			a.cfg.Logger.Warn("pruning rejected messages", "err", err)
		case n > 0:
			a.cfg.Logger.Info("pruned rejected messages", "count", n, "older_than", keep.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// DefaultWorkspace returns the first workspace, creating one when there is none.
func (a *App) DefaultWorkspace(ctx context.Context) (opstore.Workspace, error) {
	ws, err := a.Ops.Workspaces(ctx)
	if err != nil {
		return opstore.Workspace{}, err
	}
	if len(ws) > 0 {
		return ws[0], nil
	}
	w := opstore.Workspace{Name: "My workspace"}
	if err := a.Ops.CreateWorkspace(ctx, &w); err != nil {
		return w, err
	}
	return w, nil
}

// Close stops the pipeline after the loader caught up and the identity
// resolver (it goes on from its stored offset next time), then closes the
// stores and releases the data directory.
func (a *App) Close() error {
	var errs []error
	if a.Pipeline != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		errs = append(errs, a.Pipeline.Close(ctx))
		cancel()
	}
	if a.stopIdentity != nil {
		a.stopIdentity()
		<-a.identityDone
	}
	if a.Analytics != nil {
		a.Analytics.Close() // before the store its builds read
	}
	if a.Events != nil {
		errs = append(errs, a.Events.Close())
	}
	if a.Log != nil {
		errs = append(errs, a.Log.Close())
	}
	if a.Ops != nil {
		errs = append(errs, a.Ops.Close())
	}
	if a.lock != nil {
		errs = append(errs, a.lock.Close())
	}
	return errors.Join(errs...)
}

// untilStopped calls step until stop is closed, pausing for idle when it
// had nothing to do or failed.
func untilStopped(stop <-chan struct{}, idle time.Duration, step func() (int, error)) {
	for {
		n, err := step()
		select {
		case <-stop:
			return
		default:
		}
		if err == nil && n > 0 {
			continue
		}
		t := time.NewTimer(idle)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}
