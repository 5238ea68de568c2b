package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cjmhq/cjm/analytics"
)

const insightsUsage = "insights [--data DIR] [--from RFC3339] [--to RFC3339] [--steps 'A,B,C'] [--breakdowns 'source,context.device.type'] [--limit 30] [--json]"

func cmdInsights(ctx context.Context, e *env, args []string) error {
	f := newFlags("insights", e)
	fl := addAnalyticsFlags(f)
	steps := f.String("steps", "", "the journey whose steps are ranked and watched, comma-separated (default: the shop's: "+strings.Join(analytics.DefaultInsightFunnel, ", ")+")")
	breakdowns := f.String("breakdowns", "", "fields whose values split the steps for change points, comma-separated (default: source, context.device.type, traits.persona)")
	limit := f.Int("limit", 30, "findings printed at most")
	if err := f.parse(args); err != nil {
		return err
	}
	run, err := openAnalytics(ctx, e, fl)
	if err != nil {
		return err
	}
	defer run.app.Close()
	q := analytics.InsightQuery{From: run.from, To: run.to, Location: run.loc, Limit: *limit, SourceName: run.sourceName(ctx)}
	if names := splitList(*steps); len(names) > 0 {
		if len(names) < 2 {
			return usageError{"--steps: a journey has at least two steps"}
		}
		q.Funnels = []analytics.FunnelQuery{{Steps: names, Window: 7 * 24 * time.Hour}}
	}
	if *breakdowns != "" {
		q.Breakdowns = splitList(*breakdowns)
	}
	found, err := run.view.Insights(ctx, q)
	if err != nil {
		return err
	}
	if *fl.json {
		if found == nil {
			found = []analytics.Insight{}
		}
		return printJSON(e.stdout, found)
	}
	if len(found) == 0 {
		fmt.Fprintln(e.stdout, "no findings in this period")
	}
	for i, in := range found {
		fmt.Fprintf(e.stdout, "%2d. %s\n", i+1, in)
	}
	return nil
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
