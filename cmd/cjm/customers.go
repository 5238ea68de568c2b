package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

const customersUsage = "customers search [TEXT] [--channel C] [--orders N] [--revenue N] [--days N] [--sort last_seen|revenue|orders|name] [--limit N] [--json] | " +
	"customers show PROFILE_ID|KIND:VALUE [--events N] [--json]  (all: [--data DIR] [--workspace W])"

// cmdCustomers finds customers and shows a customer's profile.
func cmdCustomers(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"customers: want a subcommand: search or show"}
	}
	sub, args := args[0], args[1:]
	f := newFlags("customers "+sub, e)
	data := dataFlag(f, "cjm-data")
	ws := f.String("workspace", "", "workspace name or id (default: the first)")
	asJSON := f.Bool("json", false, "print JSON")
	var (
		channel, sort            *string
		orders, revenue          *int64
		days, limit, eventsShown *int
	)
	switch sub {
	case "search":
		channel = f.String("channel", "", "only customers who used this channel (website, app, pos, ...)")
		orders = f.Int64("orders", 0, "only customers with at least this many orders")
		revenue = f.Int64("revenue", 0, "only customers with at least this revenue, in the workspace currency's minor units")
		days = f.Int("days", 0, "only customers seen in the last N days")
		sort = f.String("sort", "last_seen", "last_seen, revenue, orders or name")
		limit = f.Int("limit", 50, "how many customers to list")
	case "show":
		eventsShown = f.Int("events", 20, "how many of the newest events to show")
	default:
		return usageError{fmt.Sprintf("customers: unknown subcommand %q", sub)}
	}
	// The text or profile may come before the flags.
	var text []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		text, args = append(text, args[0]), args[1:]
	}
	if err := f.parse(args); err != nil {
		return err
	}
	text = append(text, f.Args()...)
	if sub == "show" && len(text) != 1 {
		return usageError{"customers show: want one profile id or identifier"}
	}
	a, w, err := openWorkspace(ctx, e, *data, *ws)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, err := customerProfiles(ctx, e, a)
	if err != nil {
		return err
	}
	if sub == "search" {
		q := profile.Query{Text: strings.Join(text, " "), Channel: opstore.Channel(*channel), MinOrders: *orders, MinRevenue: *revenue,
			SeenWithinDays: *days, Sort: opstore.ProfileSort(*sort), Limit: *limit}
		if q.Channel != "" && !q.Channel.Valid() {
			return usageError{fmt.Sprintf("--channel %q: not a channel", *channel)}
		}
		page, err := svc.Search(ctx, w.ID, q)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, page)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROFILE\tNAME\tE-MAIL\tPHONE\tORDERS\tREVENUE\tLAST SEEN")
		for _, c := range page.Customers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", c.ID, c.Display, c.Email, c.Phone, c.Orders, c.Revenue,
				c.LastSeen.Format(time.RFC3339))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		more := ""
		if page.Capped {
			more = "+"
		}
		fmt.Fprintf(e.stderr, "%d%s customers\n", page.Total, more)
		return nil
	}

	id := identity.ProfileID(text[0])
	if !strings.HasPrefix(text[0], "p_") {
		ident, err := identity.ParseIdentifier(text[0])
		if err != nil {
			return usageError{err.Error()}
		}
		if id, err = a.Identity.Resolve(ctx, w.ID, ident); err != nil {
			return err
		}
	}
	p, err := svc.Get(ctx, w.ID, id)
	var merged *profile.MergedError
	if errors.As(err, &merged) {
		fmt.Fprintf(e.stderr, "%s was merged into %s\n", id, merged.Into)
		id = merged.Into
		p, err = svc.Get(ctx, w.ID, id)
	}
	if err != nil {
		return err
	}
	tl, err := svc.Timeline(ctx, w.ID, id, "", *eventsShown)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, struct {
			Profile  *profile.Profile
			Timeline profile.Timeline
		}{p, tl})
	}
	s := p.Stats
	fmt.Fprintf(e.stdout, "%s  %s\n", p.ID, profile.DisplayName(p.Name, p.Email, p.Phone, string(p.ID)))
	for _, l := range p.Identifiers {
		fmt.Fprintf(e.stdout, "  %s\n", l.String())
	}
	fmt.Fprintf(e.stdout, "first seen %s, last seen %s, %d events, %d orders, revenue %d, average order %d, lifetime value %d (%s minor units)\n",
		s.FirstSeen.Format(time.RFC3339), s.LastSeen.Format(time.RFC3339), s.Events, s.Orders, s.Revenue, s.AverageOrder(), s.LifetimeValue(), s.Currency)
	for _, st := range p.Stages {
		fmt.Fprintf(e.stdout, "stage on %q: %s %s\n", st.MapName, st.StageName, st.Touchpoint)
	}
	for _, t := range p.Traits {
		fmt.Fprintf(e.stdout, "  %s = %s\n", t.Name, t.Value)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, ev := range tl.Events {
		var places []string
		for _, pl := range ev.Places {
			places = append(places, pl.MapName+": "+strings.TrimSuffix(pl.Stage+" › "+pl.Touchpt, " › "))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ev.Timestamp.Format(time.RFC3339), ev.Type, ev.Label(), strings.Join(places, "; "))
	}
	return tw.Flush()
}

// customerProfiles waits until the app's identity resolver and profile
// index (both running in the background from app.Open) have taken in every
// stored event and every change of the graph, and returns the profiles.
func customerProfiles(ctx context.Context, e *env, a *app.App) (*profile.Service, error) {
	last, err := a.Events.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.Identity.Caught(ctx, last); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// Caught up twice in a row: the resolver tells the index of its last
	// batch just after storing it.
	for calm := 0; calm < 2; {
		off, err := a.Ops.ProfileOffset(ctx)
		if err != nil {
			return nil, err
		}
		marks, err := a.Ops.ProfileMarks(ctx, 1)
		if err != nil {
			return nil, err
		}
		if off >= last && len(marks) == 0 {
			calm++
		} else {
			calm = 0
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the profile index is still catching up: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	e.logger.Debug("profile index caught up", "seq", last)
	return a.Profiles, nil
}
