package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/opstore"
)

// command is one subcommand.
type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, env *env, args []string) error
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
}

// usageError is a mistake in the command line: printed with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func commands() []command {
	return []command{
		{"serve", "serve [--data DIR] [--addr HOST:PORT]", "run the server (collector, API, web UI)", cmdServe},
		{"demo", "demo [--data DIR] [--customers N] [--seed S] [--end YYYY-MM-DD] [--no-serve] [--live=false] [--addr HOST:PORT]", "create a demo workspace with realistic data and serve it", cmdDemo},
		{"import", "import [--data DIR] [--source NAME] [--csv --map 'userId=col,event=col,timestamp=col,properties.k=col'] FILE...", "import JSONL or CSV files of events", cmdImport},
		{"export", "export [--data DIR] --format jsonl|csv [--out FILE]", "write every stored message as Segment-spec JSONL or CSV", cmdExport},
		{"source", "source create --name NAME [--channel C] [--json] | source list [--json]", "manage sources and their write keys", cmdSource},
		{"map", mapUsage, "journey maps as code: list, export, import, new, versions, diff, restore, check", cmdMap},
		{"funnel", funnelUsage, "conversion funnel over events or a map's stages (--json for scripts)", cmdFunnel},
		{"kpis", kpisUsage, "AARRR KPIs of a period (CAC, activation, conversion, retention, NPS, LTV...); import marketing spend", cmdKPIs},
		{"paths", pathsUsage, "the paths people take from or to an event, per session or person (--json for scripts)", cmdPaths},
		{"retention", retentionUsage, "cohort retention by day, week or month, first-time or recurring (--json for scripts)", cmdRetention},
		{"insights", insightsUsage, "findings: weak steps, changes in conversion, loops, spikes (--json for scripts)", cmdInsights},
		{"customers", customersUsage, "find customers and show a customer's profile (--json for scripts)", cmdCustomers},
		{"privacy", privacyUsage, "privacy requests: export or erase everything about a person, list requests, event retention", cmdPrivacy},
		{"user", "user add --email E --name N --password P [--role owner|editor|viewer] | user list", "manage users", cmdUser},
		{"bench", "bench ingest [--duration 60s] [--rate 50000] [--concurrency N] [--batch 100] | bench import [--lines 1000000]", "measure ingest and import on generated data", cmdBench},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))}
	slog.SetDefault(e.logger)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "cjm", version)
		return 0
	}
	if path := os.Getenv("CJM_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "cjm %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "usage: cjm %s\n", c.usage)
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "cjm: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

var version = "dev"

func usage(w io.Writer) {
	fmt.Fprintln(w, "cjm: customer journeys, collected, measured and acted on.\n\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  cjm %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag also reads a CJM_* environment variable (--data: CJM_DATA, --addr: CJM_ADDR, ...).\nRun `cjm COMMAND -h` for a command's flags.")
}

func logLevel() slog.Level {
	if os.Getenv("CJM_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// flags makes a flag set whose flags fall back to CJM_* environment variables.
type flags struct {
	*flag.FlagSet
}

func newFlags(name string, e *env) flags {
	fs := flag.NewFlagSet("cjm "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return flags{fs}
}

func envName(name string) string {
	return "CJM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (f flags) String(name, def, usage string) *string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	return f.FlagSet.String(name, def, usage+" (env "+envName(name)+")")
}

func (f flags) Int(name string, def int, usage string) *int {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	return f.FlagSet.Int(name, def, usage+" (env "+envName(name)+")")
}

func (f flags) Bool(name string, def bool, usage string) *bool {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	return f.FlagSet.Bool(name, def, usage+" (env "+envName(name)+")")
}

// parse parses args, turning flag errors into usage errors.
func (f flags) parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// dataFlag adds --data.
func dataFlag(f flags, def string) *string {
	return f.String("data", def, "data directory")
}

// openApp opens the data directory for a CLI command, tuned for bulk loading
// (the commands that write, import and demo, load many events at once).
func openApp(ctx context.Context, e *env, dir string) (*app.App, error) {
	return app.Open(ctx, app.Config{DataDir: dir, Logger: e.logger, Bulk: true})
}

// openWorkspace opens the data directory and picks the workspace (see workspace).
// The caller closes the app.
func openWorkspace(ctx context.Context, e *env, dir, want string) (*app.App, opstore.Workspace, error) {
	a, err := openApp(ctx, e, dir)
	if err != nil {
		return nil, opstore.Workspace{}, err
	}
	w, err := workspace(ctx, a, want)
	if err != nil {
		a.Close()
		return nil, w, err
	}
	return a, w, nil
}

// workspace picks the workspace named or with the id given, else the first (created if none).
func workspace(ctx context.Context, a *app.App, want string) (opstore.Workspace, error) {
	if want == "" {
		return a.DefaultWorkspace(ctx)
	}
	ws, err := a.Ops.Workspaces(ctx)
	if err != nil {
		return opstore.Workspace{}, err
	}
	var names []string
	for _, w := range ws {
		if w.ID == want || strings.EqualFold(w.Name, want) {
			return w, nil
		}
		names = append(names, strconv.Quote(w.Name))
	}
	return opstore.Workspace{}, fmt.Errorf("no workspace %q (there are: %s)", want, strings.Join(names, ", "))
}

// waitLoaded waits until the event store has caught up with the event log,
// showing progress when that takes more than a moment.
func waitLoaded(ctx context.Context, e *env, a *app.App) error {
	done := make(chan error, 1)
	go func() { done <- a.Pipeline.Flush(ctx) }()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	shown := false
	for {
		select {
		case err := <-done:
			if shown {
				fmt.Fprintf(e.stderr, "\r  event store caught up in %s%s\n", time.Since(start).Round(time.Millisecond), strings.Repeat(" ", 20))
			}
			return err
		case <-tick.C:
			s := a.Pipeline.Stats()
			shown = true
			fmt.Fprintf(e.stderr, "\r  loading into the event store: %d of %d   ", s.LoadedSeq, s.LogSeq)
		}
	}
}
