package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

const kpisUsage = "kpis [--from DATE] [--to DATE] [--interval day|week|month] [--json] | kpis spend import FILE | " +
	"kpis spend list [--json]  (all: [--data DIR] [--workspace W])"

// cmdKPIs prints the AARRR KPIs of a period, or imports and lists the
// marketing spend they compute the CAC from.
func cmdKPIs(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "spend" {
		return cmdSpend(ctx, e, args[1:])
	}
	f := newFlags("kpis", e)
	data := dataFlag(f, "cjm-data")
	wsName := f.String("workspace", "", "workspace name or id (default: the first)")
	from := f.String("from", "", "start of the period (YYYY-MM-DD in the workspace time zone, or RFC 3339; default: 30 days before --to)")
	to := f.String("to", "", "end of the period, exclusive (YYYY-MM-DD or RFC 3339; default: tomorrow, so that today is in)")
	interval := f.String("interval", "week", "interval of the series: day, week or month")
	asJSON := f.Bool("json", false, "print the report as JSON (money in minor units, rates as fractions)")
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", f.Arg(0))}
	}
	iv, err := analytics.ParseInterval(*interval)
	if err != nil {
		return usageError{"--interval: " + err.Error()}
	}
	a, w, err := openWorkspace(ctx, e, *data, *wsName)
	if err != nil {
		return err
	}
	defer a.Close()
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	q := analytics.KPIQuery{Interval: iv, Location: loc}
	if q.To, err = parseInstant(*to, loc); err != nil {
		return usageError{"--to: " + err.Error()}
	}
	if q.To.IsZero() {
		now := time.Now().In(loc)
		q.To = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	}
	if q.From, err = parseInstant(*from, loc); err != nil {
		return usageError{"--from: " + err.Error()}
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	if !q.From.Before(q.To) {
		return usageError{"--from must be before --to"}
	}
	if q.Settings, err = a.Ops.KPISettings(ctx, w.ID); err != nil {
		return err
	}
	if q.Spend, err = a.Ops.ListSpend(ctx, w.ID, time.Time{}, time.Time{}); err != nil {
		return err
	}
	srcs, err := a.Ops.Sources(ctx, w.ID)
	if err != nil {
		return err
	}
	q.SetSources(srcs)
	v, err := analyticsView(ctx, e, a, w.ID)
	if err != nil {
		return err
	}
	res, err := v.KPIs(ctx, q)
	if errors.Is(err, analytics.ErrKPI) {
		return usageError{err.Error()}
	} else if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	printKPIs(e.stdout, res, loc)
	return nil
}

// printKPIs writes a report as text tables.
func printKPIs(w io.Writer, r *analytics.KPIReport, loc *time.Location) {
	day := func(t time.Time) string { return t.In(loc).Format(time.DateOnly) }
	last := func(t time.Time) string { return day(t.Add(-time.Nanosecond)) }
	length := r.To.Sub(r.From)
	fmt.Fprintf(w, "KPIs of %s to %s (%s), against %s to %s; money in %s\n\n", day(r.From), last(r.To), loc,
		day(r.From.Add(-length)), last(r.From), r.Currency)
	digits := profile.MinorDigits(r.Currency)
	value := func(m analytics.KPIMetric, f *analytics.KPIFigures) string {
		x, ok := m.Value(f)
		if !ok {
			return "-"
		}
		switch m.Kind {
		case "money":
			return money(int64(x), digits)
		case "rate":
			return fmt.Sprintf("%.1f%%", 100*x)
		case "seconds":
			return time.Duration(x * float64(time.Second)).Round(time.Second).String()
		case "number", "score":
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatInt(int64(x), 10)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "stage\tKPI\tperiod\tprevious\tchange\t")
	stage := ""
	for _, m := range analytics.KPIMetrics {
		label := ""
		if m.Stage != stage {
			stage, label = m.Stage, m.Stage
		}
		change := ""
		if c, points, ok := m.Change(&r.Period, &r.Previous); ok {
			switch {
			case points && m.Kind == "rate":
				change = fmt.Sprintf("%+.1f pts", 100*c)
			case points:
				change = fmt.Sprintf("%+.1f", c)
			default:
				change = fmt.Sprintf("%+.1f%%", 100*c)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", label, strings.ReplaceAll(m.Key, "_", " "), value(m, &r.Period), value(m, &r.Previous), change)
	}
	tw.Flush()

	p := r.Period
	fmt.Fprintln(w, "\nRepeat vs new orders")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\torders\trevenue\tAOV\tbuyers\t")
	opt := func(x *int64) string {
		if x == nil {
			return "-"
		}
		return money(*x, digits)
	}
	fmt.Fprintf(tw, "first orders\t%d\t%s\t%s\t%d\t\n", p.FirstOrders, money(p.FirstRevenue, digits), opt(p.FirstAOV), p.NewBuyers)
	fmt.Fprintf(tw, "repeat orders\t%d\t%s\t%s\t%d\t\n", p.RepeatOrders, money(p.RepeatRevenue, digits), opt(p.RepeatAOV), p.RepeatBuyers)
	tw.Flush()
	if p.RepeatUplift != nil {
		fmt.Fprintf(w, "A repeat order is %+.1f%% the size of a first order.\n", 100**p.RepeatUplift)
	}

	if len(r.Channels) > 0 {
		fmt.Fprintln(w, "\nBy acquisition channel (the source of each person's first event)")
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "channel\tnew\tactivated\tspend\tCAC\tactive\tpurchasers\torders\trevenue\t")
		for _, c := range r.Channels {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t\n", cmp.Or(c.Channel, "(unknown)"), c.NewCustomers, c.Activated,
				money(c.Spend, digits), opt(c.CAC), c.Active, c.Purchasers, c.Orders, money(c.Revenue, digits))
		}
		tw.Flush()
	}
	for _, u := range r.UnmatchedSpend {
		fmt.Fprintf(w, "Spend of %q (%s) matches no channel or source.\n", u.Channel, money(u.Amount, digits))
	}
	if r.SpendOtherCurrency > 0 {
		fmt.Fprintf(w, "%d spend rows in another currency than %s are left out.\n", r.SpendOtherCurrency, r.Currency)
	}

	fmt.Fprintf(w, "\nBy %s\n", r.Interval)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "start\tnew\tactive\tpurchasers\torders\trevenue\tretention\t")
	for _, s := range r.Series {
		ret := "-"
		if s.RetentionRate != nil {
			ret = fmt.Sprintf("%.1f%%", 100**s.RetentionRate)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t\n", day(s.Start), s.NewCustomers, s.Active, s.Purchasers, s.Orders, money(s.Revenue, digits), ret)
	}
	tw.Flush()
}

// money writes an amount in minor units in the major unit: 1250000 (VND),
// 12.50 (USD).
func money(minor int64, digits int) string {
	if digits == 0 {
		return strconv.FormatInt(minor, 10)
	}
	return strconv.FormatFloat(float64(minor)/math.Pow10(digits), 'f', digits, 64)
}

// cmdSpend imports a marketing spend file or lists the stored spend.
func cmdSpend(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"kpis spend: want a subcommand: import or list"}
	}
	sub, args := args[0], args[1:]
	f := newFlags("kpis spend "+sub, e)
	data := dataFlag(f, "cjm-data")
	wsName := f.String("workspace", "", "workspace name or id (default: the first)")
	var asJSON *bool
	switch sub {
	case "import":
	case "list":
		asJSON = f.Bool("json", false, "print JSON (amounts in minor units)")
	default:
		return usageError{fmt.Sprintf("kpis spend: unknown subcommand %q", sub)}
	}
	// The file may come before the flags.
	var files []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		files, args = append(files, args[0]), args[1:]
	}
	if err := f.parse(args); err != nil {
		return err
	}
	files = append(files, f.Args()...)
	switch {
	case sub == "import" && len(files) != 1:
		return usageError{"kpis spend import: want one CSV file"}
	case sub == "list" && len(files) > 0:
		return usageError{fmt.Sprintf("unexpected argument %q", files[0])}
	}
	a, w, err := openWorkspace(ctx, e, *data, *wsName)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "list" {
		rows, err := a.Ops.ListSpend(ctx, w.ID, time.Time{}, time.Time{})
		if err != nil {
			return err
		}
		return printSpend(e.stdout, rows, *asJSON)
	}

	settings, err := a.Ops.KPISettings(ctx, w.ID)
	if err != nil {
		return err
	}
	file, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer file.Close()
	rows, errs := analytics.ParseSpend(file, w.ID, settings.Currency)
	for _, pe := range errs {
		fmt.Fprintf(e.stderr, "%s: %v\n", files[0], pe)
	}
	if len(rows) > 0 {
		if err := a.Ops.ReplaceSpend(ctx, w.ID, rows); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%d spend rows stored\n", len(rows))
	if len(errs) > 0 {
		return fmt.Errorf("%d problems in %s: those lines were not imported", len(errs), files[0])
	}
	return nil
}

// spendJSON is a stored spend row as `cjm kpis spend list --json` prints it.
type spendJSON struct {
	Channel    string    `json:"channel"`
	Campaign   string    `json:"campaign"`
	From       string    `json:"from"` // the first day
	To         string    `json:"to"`   // the last day
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	ImportedAt time.Time `json:"imported_at"`
}

func printSpend(w io.Writer, rows []opstore.Spend, asJSON bool) error {
	out := make([]spendJSON, len(rows))
	for i, s := range rows {
		out[i] = spendJSON{Channel: s.Channel, Campaign: s.Campaign, From: s.From.Format(time.DateOnly),
			To: s.To.AddDate(0, 0, -1).Format(time.DateOnly), Amount: s.Amount, Currency: s.Currency, ImportedAt: s.ImportedAt}
	}
	if asJSON {
		return printJSON(w, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(w, "No spend stored: import a file with `cjm kpis spend import FILE`.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "channel\tcampaign\tfirst day\tlast day\tamount\tcurrency\t")
	for i, s := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Channel, s.Campaign, s.From, s.To, money(s.Amount, profile.MinorDigits(rows[i].Currency)), s.Currency)
	}
	return tw.Flush()
}
