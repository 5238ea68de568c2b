package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cjmhq/cjm/analytics"
)

const funnelUsage = "funnel [--data DIR] --steps 'A,B,C' [--window 14d] [--order ordered|strict|unordered] [--from RFC3339] [--to RFC3339] [--exclude 'EVENT:FROM-TO']... [--aggregate person|session|group:PROPERTY] [--breakdown PROPERTY] [--attribution first_touch|last_touch|all_events|step:N] [--map NAME] [--json]"

// multi is a flag that may be given many times.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ", ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func cmdFunnel(ctx context.Context, e *env, args []string) error {
	f := newFlags("funnel", e)
	fl := addAnalyticsFlags(f)
	steps := f.String("steps", "", "comma-separated steps: event names, or stage:KEY / touchpoint:KEY with --map")
	window := f.String("window", "14d", "conversion window from the step-1 event: 30s, 10m, 2h, 14d, 2w, 3mo")
	order := f.String("order", "ordered", "ordered, strict or unordered")
	var excludes multi
	f.Var(&excludes, "exclude", "EVENT:FROM-TO: drop attempts where EVENT happens between step FROM and step TO (0-based); repeatable")
	aggregate := f.String("aggregate", "person", "count person, session or group:PROPERTY")
	breakdown := f.String("breakdown", "", "split by this property (properties.NAME, context.x.y, or a bare NAME)")
	attribution := f.String("attribution", "first_touch", "breakdown value of an actor: first_touch, last_touch, all_events or step:N")
	mapName := f.String("map", "", "journey map whose stage:KEY and touchpoint:KEY steps may be used")
	if err := f.parse(args); err != nil {
		return err
	}
	var names []string
	for _, s := range strings.Split(*steps, ",") {
		if s = strings.TrimSpace(s); s != "" {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return usageError{"--steps is required, e.g. --steps 'Product Viewed,Checkout Started,Order Completed'"}
	}
	win, err := analytics.ParseWindow(*window)
	if err != nil {
		return usageError{err.Error()}
	}
	q := analytics.FunnelQuery{Steps: names, Window: win, Order: analytics.Order(*order), Aggregate: *aggregate, Breakdown: *breakdown, Attribution: *attribution}
	for _, x := range excludes {
		ex, err := analytics.ParseExclusion(x, len(names))
		if err != nil {
			return usageError{err.Error()}
		}
		q.Exclusions = append(q.Exclusions, ex)
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
	res, err := run.view.Funnel(ctx, q)
	if err != nil {
		return err
	}
	if *fl.json {
		return printJSON(e.stdout, struct {
			Steps      []analytics.StepResult      `json:"steps"`
			Breakdowns []analytics.BreakdownResult `json:"breakdowns"`
		}{res.Steps, res.Breakdowns})
	}
	printFunnel(e, "", res.Steps)
	for _, b := range res.Breakdowns {
		printFunnel(e, b.Value, b.Steps)
	}
	return nil
}

// parseInstant reads RFC 3339, or a date at midnight in loc; "" is zero.
func parseInstant(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339 (2026-03-01T00:00:00+07:00) or a date (2026-03-01)", s)
}

func printFunnel(e *env, title string, steps []analytics.StepResult) {
	if title != "" {
		fmt.Fprintf(e.stdout, "\n%s\n", title)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tcount\tfrom first\tfrom previous\tmedian time\t")
	for i, s := range steps {
		first, prev, med := "", "", ""
		if i > 0 && steps[0].Count > 0 {
			first = fmt.Sprintf("%.1f%%", 100*float64(s.Count)/float64(steps[0].Count))
		}
		if i > 0 && steps[i-1].Count > 0 {
			prev = fmt.Sprintf("%.1f%%", 100*float64(s.Count)/float64(steps[i-1].Count))
		}
		if s.MedianSeconds != nil {
			med = (time.Duration(*s.MedianSeconds * float64(time.Second))).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", s.Name, s.Count, first, prev, med)
	}
	tw.Flush()
}
