package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cjmhq/cjm/analytics"
)

const pathsUsage = "paths [--data DIR] [--start EVENT] [--end EVENT] [--steps 5] [--no-session] [--collapse] [--exclude EVENT]... [--clean 'REGEX=ALIAS']... [--map NAME [--by-touchpoint]] [--from RFC3339] [--to RFC3339] [--json]"

func cmdPaths(ctx context.Context, e *env, args []string) error {
	f := newFlags("paths", e)
	fl := addAnalyticsFlags(f)
	start := f.String("start", "", "paths begin at each actor's first such event: an event name or label, or stage:KEY / touchpoint:KEY with --map")
	end := f.String("end", "", "paths end at the first such event (alone: the steps leading up to it)")
	steps := f.Int("steps", analytics.DefaultPathSteps, fmt.Sprintf("longest path, in events (1 to %d)", analytics.MaxPathSteps))
	noSession := f.Bool("no-session", false, "one path per person over the whole period, not one per session (30 minutes without events end a session)")
	collapse := f.Bool("collapse", false, "merge repeats of the same event in a row (A A B becomes A B)")
	var excludes, cleans multi
	f.Var(&excludes, "exclude", "leave out this event (name or label); repeatable")
	f.Var(&cleans, "clean", "REGEX=ALIAS: labels the pattern matches become ALIAS, e.g. '^/product/.*=/product/*'; repeatable, the first match wins")
	mapName := f.String("map", "", "journey map for stage:KEY / touchpoint:KEY and --by-touchpoint")
	byTouchpoint := f.Bool("by-touchpoint", false, "label events by the map's touchpoint (events on none are left out); needs --map")
	if err := f.parse(args); err != nil {
		return err
	}
	if *steps < 1 || *steps > analytics.MaxPathSteps {
		return usageError{fmt.Sprintf("--steps %d: a path has 1 to %d steps", *steps, analytics.MaxPathSteps)}
	}
	if *byTouchpoint && *mapName == "" {
		return usageError{"--by-touchpoint needs --map NAME"}
	}
	for _, fv := range [][2]string{{"--start", *start}, {"--end", *end}} {
		flag, v := fv[0], fv[1]
		if (strings.HasPrefix(v, "stage:") || strings.HasPrefix(v, "touchpoint:")) && *mapName == "" {
			return usageError{fmt.Sprintf("%s %s: stages and touchpoints need --map NAME", flag, v)}
		}
		if v != "" && slices.Contains(excludes, v) {
			return usageError{fmt.Sprintf("%s %q is also given to --exclude", flag, v)}
		}
	}
	q := analytics.PathQuery{Start: *start, End: *end, Steps: *steps, Session: !*noSession, CollapseRepeats: *collapse,
		Exclude: excludes, ByTouchpoint: *byTouchpoint}
	for _, c := range cleans {
		rule, err := analytics.ParseCleanRule(c)
		if err != nil {
			return usageError{"--clean: " + err.Error()}
		}
		q.Clean = append(q.Clean, rule)
	}

	run, err := openAnalytics(ctx, e, fl)
	if err != nil {
		return err
	}
	defer run.app.Close()
	q.From, q.To = run.from, run.to
	if *mapName != "" {
		if q.Map, q.Classifier, q.PlacesKey, err = run.openMapFor(ctx, *mapName); err != nil {
			return err
		}
	}
	res, err := run.view.Paths(ctx, q)
	if err != nil {
		return err
	}
	if *fl.json {
		return printJSON(e.stdout, res)
	}
	printPaths(e, res, q)
	return nil
}

// printPaths prints the top paths, most common first, with their share of
// all paths.
func printPaths(e *env, res *analytics.PathResult, q analytics.PathQuery) {
	actors := "people"
	if q.Session {
		actors = "sessions"
	}
	fmt.Fprintf(e.stdout, "%d %s with a path", res.Actors, actors)
	if res.Truncated > 0 {
		fmt.Fprintf(e.stdout, ", %d cut at %d steps", res.Truncated, q.Steps)
	}
	fmt.Fprintln(e.stdout)
	if len(res.TopPaths) == 0 {
		return
	}
	fmt.Fprintln(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "count\tshare\tpath")
	for _, p := range res.TopPaths {
		fmt.Fprintf(tw, "%d\t%.1f%%\t%s\n", p.Count, 100*float64(p.Count)/float64(max(res.Actors, 1)), strings.Join(p.Labels, " → "))
	}
	tw.Flush()
}
