package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cjmhq/cjm/analytics"
)

const retentionUsage = "retention [--data DIR] [--start-event EVENT] [--return-event EVENT] [--interval day|week|month] [--periods 12] [--mode first_time|recurring] [--rolling] [--cohort-by channel|persona|property:FIELD] [--from RFC3339] [--to RFC3339] [--json]"

func cmdRetention(ctx context.Context, e *env, args []string) error {
	f := newFlags("retention", e)
	fl := addAnalyticsFlags(f)
	start := f.String("start-event", "", "the event that enters a cohort (default: any track, page or screen event)")
	ret := f.String("return-event", "", "the event that counts as coming back (default: any track, page or screen event)")
	interval := f.String("interval", "week", "period: day, week (from Monday) or month, in the workspace time zone")
	periods := f.Int("periods", analytics.DefaultRetentionPeriods, fmt.Sprintf("periods shown per cohort (1 to %d)", analytics.MaxRetentionPeriods))
	mode := f.String("mode", string(analytics.FirstTime), "first_time: a person's cohort is the period of their first start event ever; recurring: every period they do it")
	rolling := f.Bool("rolling", false, "count a person in period N when they came back in N or any later period")
	cohortBy := f.String("cohort-by", "", "group cohorts by channel (of the person's first event), persona, or property:FIELD (of the start event) instead of by period")
	if err := f.parse(args); err != nil {
		return err
	}
	iv, err := analytics.ParseInterval(*interval)
	if err != nil {
		return usageError{"--interval: " + err.Error()}
	}
	if *periods < 1 || *periods > analytics.MaxRetentionPeriods {
		return usageError{fmt.Sprintf("--periods %d: want 1 to %d", *periods, analytics.MaxRetentionPeriods)}
	}
	m := analytics.RetentionMode(*mode)
	if m != analytics.FirstTime && m != analytics.Recurring {
		return usageError{fmt.Sprintf("--mode %q is not first_time or recurring", *mode)}
	}
	switch by := *cohortBy; {
	case by == "", by == "channel", by == "persona":
	case strings.HasPrefix(by, "property:") && len(by) > len("property:"):
	default:
		return usageError{fmt.Sprintf("--cohort-by %q is not channel, persona or property:FIELD (e.g. property:platform)", by)}
	}

	run, err := openAnalytics(ctx, e, fl)
	if err != nil {
		return err
	}
	defer run.app.Close()
	q := analytics.RetentionQuery{Start: *start, Return: *ret, Interval: iv, Periods: *periods, Mode: m, Rolling: *rolling,
		CohortBy: *cohortBy, From: run.from, To: run.to, Location: run.loc}
	if q.CohortBy == "channel" {
		srcs, err := run.app.Ops.Sources(ctx, run.ws.ID)
		if err != nil {
			return err
		}
		channels := map[string]string{}
		for _, s := range srcs {
			channels[s.ID] = string(s.Channel)
		}
		q.SourceChannel = func(id string) string { return channels[id] }
	}
	res, err := run.view.Retention(ctx, q)
	if err != nil {
		return err
	}
	if *fl.json {
		return printJSON(e.stdout, res)
	}
	printRetention(e, res)
	return nil
}

// printRetention prints the cohort grid: per cohort its size and the share
// retained in each period ("" where the cohort has not reached it), then
// the average.
func printRetention(e *env, res *analytics.RetentionResult) {
	if len(res.Cohorts) == 0 {
		fmt.Fprintln(e.stdout, "no one entered a cohort in this period")
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "cohort\tsize\t")
	for n := range res.Periods {
		fmt.Fprintf(tw, "%s %d\t", res.Interval, n)
	}
	fmt.Fprintln(tw)
	pct := func(r float64) string {
		if r < 0 {
			return ""
		}
		return fmt.Sprintf("%.1f%%", 100*r)
	}
	var total int64
	for _, c := range res.Cohorts {
		label := c.Label
		if label == "" {
			label = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%d\t", label, c.Size)
		for _, r := range c.Rate {
			fmt.Fprintf(tw, "%s\t", pct(r))
		}
		fmt.Fprintln(tw)
		total += c.Size
	}
	fmt.Fprintf(tw, "average\t%d\t", total)
	for _, r := range res.Average {
		fmt.Fprintf(tw, "%s\t", pct(r))
	}
	fmt.Fprintln(tw)
	tw.Flush()
}
