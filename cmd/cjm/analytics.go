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
	if err := waitLoaded(ctx, e, a); err != nil {
		return nil, err
	}
	// People are counted by resolved profile: wait for identity resolution
	// to reach the last stored event.
	last, err := a.Events.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.Identity.Caught(ctx, last); err != nil {
		return nil, err
	}
	if run.view, err = a.Analytics.View(ctx, w.ID); err != nil {
		return nil, err
	}
	ok = true
	return run, nil
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
