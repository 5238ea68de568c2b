package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// analyticsFlags are the flags every analysis takes: where the data is,
// which workspace, which period, and how to print.
type analyticsFlags struct {
	data, ws, from, to *string
	json               *bool
}

func addAnalyticsFlags(f flags) analyticsFlags {
	return analyticsFlags{
		data: dataFlag(f, "cjm-data"),
		ws:   f.String("workspace", "", "workspace name or id (default: the first)"),
		from: f.String("from", "", "first instant read (RFC 3339 or YYYY-MM-DD in the workspace time zone)"),
		to:   f.String("to", "", "end of the period read, exclusive (RFC 3339 or YYYY-MM-DD)"),
		json: f.Bool("json", false, "print JSON"),
	}
}

// analyticsRun is an open workspace ready for an analysis: its events
// loaded, its people resolved, the period read from the flags.
type analyticsRun struct {
	app      *app.App
	ws       opstore.Workspace
	loc      *time.Location
	from, to time.Time
	view     *analytics.View
}

// openAnalytics opens the workspace of the flags, waits until every event
// is loaded and every identity resolved, and returns the analytics view.
// The caller closes run.app.
func openAnalytics(ctx context.Context, e *env, fl analyticsFlags) (*analyticsRun, error) {
	a, w, err := openWorkspace(ctx, e, *fl.data, *fl.ws)
	if err != nil {
		return nil, err
	}
	run := &analyticsRun{app: a, ws: w}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if run.loc, err = time.LoadLocation(w.TimeZone); err != nil {
		run.loc = time.UTC
	}
	if run.from, err = parseInstant(*fl.from, run.loc); err != nil {
		return nil, usageError{"--from: " + err.Error()}
	}
	if run.to, err = parseInstant(*fl.to, run.loc); err != nil {
		return nil, usageError{"--to: " + err.Error()}
	}
	if !run.from.IsZero() && !run.to.IsZero() && !run.from.Before(run.to) {
		return nil, usageError{"--from must be before --to"}
	}
	if run.view, err = analyticsView(ctx, e, a, w.ID); err != nil {
		return nil, err
	}
	ok = true
	return run, nil
}

// analyticsView waits for the events to be stored and identity resolution
// to reach them (people are counted by resolved profile), then returns
// the workspace's events as the analyses read them. A command waits for
// the index however big (the web UI shows the progress of a long first
// build instead).
func analyticsView(ctx context.Context, e *env, a *app.App, workspaceID string) (*analytics.View, error) {
	if err := waitLoaded(ctx, e, a); err != nil {
		return nil, err
	}
	last, err := a.Events.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.Identity.Caught(ctx, last); err != nil {
		return nil, err
	}
	return a.Analytics.Index(workspaceID).View(ctx)
}

// openMapFor returns a map of the workspace by name with its classifier
// and the key of its version (see analytics.View.Places).
func (run *analyticsRun) openMapFor(ctx context.Context, name string) (*journeymap.Map, *journeymap.Classifier, string, error) {
	book := journeymap.NewBook(run.app.Ops)
	m, err := book.Find(ctx, run.ws.ID, name)
	if err != nil {
		return nil, nil, "", fmt.Errorf("map %q: %w", name, err)
	}
	c, err := book.Classifier(ctx, run.ws.ID, m.Map)
	if err != nil {
		return nil, nil, "", err
	}
	return m.Map, c, fmt.Sprintf("%s@%d", m.ID, m.Version), nil
}

// sourceName returns the name of a source of the workspace by its id.
func (run *analyticsRun) sourceName(ctx context.Context) func(string) string {
	names := map[string]string{}
	if srcs, err := run.app.Ops.Sources(ctx, run.ws.ID); err == nil {
		for _, s := range srcs {
			names[s.ID] = s.Name
		}
	}
	return func(id string) string { return names[id] }
}
