package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

// The KPIs follow AARRR (acquisition, activation, retention, referral,
// revenue), read from the events as opstore.KPISettings names them. Every
// figure is of a period [From, To), of the period of the same length just
// before it (for the change), and of each calendar interval of the period
// (for sparklines and the trend); money is in the minor units of the
// settings' currency (dong for VND, cents for USD).
//
// The definitions, all per person as the index resolves people:
//
//   - Acquisition. A person is acquired at their first event, or at their
//     first sign-up event (SignupEvents) when they have one and ordered
//     nothing before it: a visitor seen before as anonymous becomes a
//     customer when signing up. New customers of a period are those
//     acquired in it; their acquisition channel is that of the source of
//     their first-ever event (KPIQuery.SourceChannel). Spend is the
//     marketing spend overlapping the period, each row prorated by the days
//     it shares with it; CAC is spend / new customers, overall (all spend)
//     and per channel (the spend whose channel names the channel or one of
//     its sources, case and diacritics aside). Spend matching no channel is
//     listed apart; rows in another currency than the settings' are left
//     out and counted.
//   - Activation. A new customer is activated when their first activation
//     event (ActivationEvents) came before the end of the period they were
//     acquired in (an "aha" moment before signing up counts, with a time of
//     zero). The rate is over the period's new customers; the median time
//     is from acquisition to activation.
//   - Conversion and revenue. Active customers have an event in the period;
//     purchasers an order (PurchaseEvent) in it; the conversion rate is
//     purchasers / active. Revenue sums the orders' value (the first of
//     RevenueProperties that holds a number); AOV is revenue / orders.
//   - Retention. The share of the previous period's active customers active
//     again in this one; churn is 1 − retention. Usage frequency is events
//     and sessions (a new session after 30 minutes without an event) per
//     active customer per week.
//   - Referral. Referral events (ReferralEvent), the people who sent them,
//     and referrers / active customers.
//   - NPS. Answers of NPSEvent with a score of 0 to 10 in NPSProperty, each
//     answer counted: promoters (9-10) minus detractors (0-6), in percent of
//     the answers.
//   - LTV. The revenue of every order before the end of the period, divided
//     by the people who had ordered by then: historical value, no forecast.
//     (AOV × purchase frequency × lifespan is not given: lifespan needs a
//     churn of buyers, which the active-customer churn here is not.)
//   - Repeat vs new. An order is a first order when it is the person's
//     first-ever order, else a repeat order. New buyers made their first
//     order in the period, repeat buyers a repeat order (someone may be
//     both); the uplift is how much larger a repeat order is on average
//     than a first order (repeat AOV / first AOV − 1).

// KPIQuery asks for the KPIs of a period.
type KPIQuery struct {
	Settings opstore.KPISettings
	// Spend is the workspace's marketing spend; rows not overlapping the
	// period are ignored.
	Spend    []opstore.Spend
	From, To time.Time
	// Interval cuts the period for the series (default Week), in Location
	// (default UTC), which also tells which calendar days spend rows cover.
	Interval Interval
	Location *time.Location
	// SourceChannel names the acquisition channel of a source id (e.g. its
	// channel kind, "website"), which groups the per-channel figures; nil
	// groups by source id.
	SourceChannel func(sourceID string) string
	// SourceName names a source (optional): spend naming a source counts
	// for that source's channel.
	SourceName func(sourceID string) string
}

// ErrKPI marks a KPI query that cannot be computed as asked.
var ErrKPI = errors.New("bad KPI query")

// maxKPIPoints bounds the series (a day interval over almost three years).
const maxKPIPoints = 1000

// KPIReport is the KPIs of a period.
type KPIReport struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Interval Interval  `json:"interval"`
	Currency string    `json:"currency"`
	// Period is the figures of [From, To); Previous those of the period of
	// the same length just before it.
	Period   KPIFigures `json:"period"`
	Previous KPIFigures `json:"previous"`
	// Series is the figures of each interval of the period, the first and
	// the last cut to the period.
	Series []KPIPoint `json:"series"`
	// Channels is the period per acquisition channel, most new customers
	// first.
	Channels []KPIChannel `json:"channels"`
	// UnmatchedSpend is the period's spend whose channel matched no
	// acquisition channel, by its channel as written.
	UnmatchedSpend []KPISpend `json:"unmatched_spend"`
	// SpendOtherCurrency counts the spend rows left out for being in
	// another currency than Currency.
	SpendOtherCurrency int `json:"spend_other_currency"`
}

// KPIFigures is every KPI of one period. A ratio is null when its
// denominator is zero; rates are fractions (0.25 is 25%); money is in
// minor units.
type KPIFigures struct {
	// Acquisition.
	NewCustomers int64  `json:"new_customers"`
	Spend        int64  `json:"spend"`
	CAC          *int64 `json:"cac"` // null without new customers or without spend rows
	// Activation.
	Activated               int64    `json:"activated"`
	ActivationRate          *float64 `json:"activation_rate"`
	MedianActivationSeconds *float64 `json:"median_activation_seconds"`
	// Conversion and revenue.
	Active         int64    `json:"active"`
	Purchasers     int64    `json:"purchasers"`
	ConversionRate *float64 `json:"conversion_rate"`
	Orders         int64    `json:"orders"`
	Revenue        int64    `json:"revenue"`
	AOV            *int64   `json:"aov"`
	// Retention and usage.
	PreviousActive          int64    `json:"previous_active"`
	Retained                int64    `json:"retained"`
	RetentionRate           *float64 `json:"retention_rate"`
	ChurnRate               *float64 `json:"churn_rate"`
	Events                  int64    `json:"events"`
	Sessions                int64    `json:"sessions"`
	EventsPerCustomerWeek   *float64 `json:"events_per_customer_week"`
	SessionsPerCustomerWeek *float64 `json:"sessions_per_customer_week"`
	// Referral.
	Referrals    int64    `json:"referrals"`
	Referrers    int64    `json:"referrers"`
	ReferralRate *float64 `json:"referral_rate"`
	// NPS.
	NPSResponses int64    `json:"nps_responses"`
	Promoters    int64    `json:"promoters"`
	Passives     int64    `json:"passives"`
	Detractors   int64    `json:"detractors"`
	NPS          *float64 `json:"nps"` // -100 to 100
	// LTV: revenue of all orders before the end / people who ordered by then.
	LTVCustomers int64  `json:"ltv_customers"`
	LTVRevenue   int64  `json:"ltv_revenue"`
	LTV          *int64 `json:"ltv"`
	// Repeat vs new.
	FirstOrders   int64    `json:"first_orders"`
	FirstRevenue  int64    `json:"first_revenue"`
	FirstAOV      *int64   `json:"first_aov"`
	RepeatOrders  int64    `json:"repeat_orders"`
	RepeatRevenue int64    `json:"repeat_revenue"`
	RepeatAOV     *int64   `json:"repeat_aov"`
	NewBuyers     int64    `json:"new_buyers"`
	RepeatBuyers  int64    `json:"repeat_buyers"`
	RepeatUplift  *float64 `json:"repeat_uplift"` // repeat AOV / first AOV - 1
}

// KPIPoint is the figures of one interval of the series.
type KPIPoint struct {
	Start time.Time `json:"start"` // the interval's calendar start, in Location
	KPIFigures
}

// KPIChannel is the period's figures of one acquisition channel.
type KPIChannel struct {
	Channel      string `json:"channel"` // "" when the source is unknown
	NewCustomers int64  `json:"new_customers"`
	Activated    int64  `json:"activated"`
	Spend        int64  `json:"spend"`
	CAC          *int64 `json:"cac"` // null without new customers or without spend rows
	Active       int64  `json:"active"`
	Purchasers   int64  `json:"purchasers"`
	Orders       int64  `json:"orders"`
	Revenue      int64  `json:"revenue"`
}

// KPISpend is spend of the period under one channel name.
type KPISpend struct {
	Channel string `json:"channel"`
	Amount  int64  `json:"amount"`
}

// Roles of event names in the KPIs.
const (
	kpiSignup uint8 = 1 << iota
	kpiActivation
	kpiPurchase
	kpiReferral
	kpiNPS
)

// kpiWindow is a span of time the KPIs are counted over.
type kpiWindow struct {
	start, end int64 // milliseconds
	prev       int   // the window before it, for retention; -1 for none
}

// kpiFamily is contiguous windows: from bounds[i] to bounds[i+1] is
// window base+i.
type kpiFamily struct {
	bounds []int64
	base   int
}

// find returns the window holding t, or -1.
func (f *kpiFamily) find(t int64) int {
	b := f.bounds
	if t < b[0] || t >= b[len(b)-1] {
		return -1
	}
	return f.base + sort.Search(len(b), func(i int) bool { return b[i] > t }) - 1
}

// kpiCounts are the additive counts of one window.
type kpiCounts struct {
	active, events, sessions, newCustomers, activated      int64
	purchasers, orders, revenue                            int64
	firstOrders, firstRevenue, repeatOrders, repeatRevenue int64
	newBuyers, repeatBuyers, retained                      int64
	referrals, referrers, npsN, promoters, detractors      int64
}

func (c *kpiCounts) add(o *kpiCounts) {
	c.active += o.active
	c.events += o.events
	c.sessions += o.sessions
	c.newCustomers += o.newCustomers
	c.activated += o.activated
	c.purchasers += o.purchasers
	c.orders += o.orders
	c.revenue += o.revenue
	c.firstOrders += o.firstOrders
	c.firstRevenue += o.firstRevenue
	c.repeatOrders += o.repeatOrders
	c.repeatRevenue += o.repeatRevenue
	c.newBuyers += o.newBuyers
	c.repeatBuyers += o.repeatBuyers
	c.retained += o.retained
	c.referrals += o.referrals
	c.referrers += o.referrers
	c.npsN += o.npsN
	c.promoters += o.promoters
	c.detractors += o.detractors
}

// kpiChannelCounts are the period's counts of one acquisition channel.
type kpiChannelCounts struct {
	newCustomers, activated, active, purchasers, orders, revenue int64
}

// kpiShare is what one worker counted over its share of the people.
type kpiShare struct {
	w          []kpiCounts
	activation [][]int64 // by window: times to activation, ms
	ch         []kpiChannelCounts
	// before is, per family, the orders before its first window: their
	// revenue and the people who had ordered (for the LTV).
	before [2]struct{ revenue, buyers int64 }
}

// kpiStamps mark, per window, the last person counted as active, buyer,
// repeat buyer and referrer there (the person's index + 1).
type kpiStamps struct {
	active, buyer, repeat, referrer []uint32
}

// kpiRun is what every worker reads.
type kpiRun struct {
	v       *View
	roles   []uint8 // by name code
	fams    [2]kpiFamily
	wins    []kpiWindow
	period  int // the window of [From, To)
	to      int64
	digits  int
	rev     []kpiColumn
	nps     kpiColumn
	score   []float64 // NPS score by value code; -1 when not a score
	groupOf []int     // channel group by source code
}

type kpiColumn struct {
	codes  []uint32
	values []string
}

// KPIs computes the AARRR KPIs of a period (see KPIQuery and the
// definitions above) in one parallel pass over the people.
func (v *View) KPIs(ctx context.Context, q KPIQuery) (*KPIReport, error) {
	set := q.Settings
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return nil, fmt.Errorf("%w: the period needs a start and an end", ErrKPI)
	case !q.From.Before(q.To):
		return nil, fmt.Errorf("%w: the period starts %s, not before its end %s", ErrKPI, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	case set.PurchaseEvent == "" || set.RevenueProperty == "":
		return nil, fmt.Errorf("%w: the settings name no purchase event or revenue property", ErrKPI)
	}
	interval, err := ParseInterval(string(cmp.Or(q.Interval, Week)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKPI, err)
	}
	loc := cmp.Or(q.Location, time.UTC)
	currency := cmp.Or(set.Currency, opstore.DefaultKPICurrency)
	from, to := q.From.UnixMilli(), q.To.UnixMilli()
	length := to - from

	// Windows 0-2: the period before the previous one (for the previous
	// one's retention), the previous period, the period. Then the
	// intervals: the one before the first (up to From), and those of the
	// period, cut to it.
	k := &kpiRun{v: v, to: to, period: 2, digits: profile.MinorDigits(currency)}
	k.fams[0] = kpiFamily{bounds: []int64{from - 2*length, from - length, from, to}}
	first := interval.Start(q.From.In(loc))
	starts := []time.Time{interval.Start(first.Add(-time.Nanosecond)), first}
	bounds := []int64{starts[0].UnixMilli(), from}
	for t := interval.Next(first); t.Before(q.To); t = interval.Next(t) {
		if len(starts) > maxKPIPoints {
			return nil, fmt.Errorf("%w: more than %d %ss in the period: choose a longer interval", ErrKPI, maxKPIPoints, interval)
		}
		starts = append(starts, t)
		bounds = append(bounds, t.UnixMilli())
	}
	bounds = append(bounds, to)
	k.fams[1] = kpiFamily{bounds: bounds, base: 3}
	for _, f := range k.fams {
		for i := 0; i+1 < len(f.bounds); i++ {
			prev := f.base + i - 1
			if i == 0 {
				prev = -1
			}
			k.wins = append(k.wins, kpiWindow{start: f.bounds[i], end: f.bounds[i+1], prev: prev})
		}
	}

	if err := k.read(ctx, set); err != nil {
		return nil, err
	}
	groups := k.channelGroups(q)

	// Each worker counts its share of the people; the shares add up.
	nw := len(k.wins)
	workers := v.workers(len(v.persons))
	shares := make([]*kpiShare, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sh := &kpiShare{w: make([]kpiCounts, nw), activation: make([][]int64, nw), ch: make([]kpiChannelCounts, len(groups))}
			st := &kpiStamps{active: make([]uint32, nw), buyer: make([]uint32, nw), repeat: make([]uint32, nw), referrer: make([]uint32, nw)}
			n := len(v.persons)
			for p := n * w / workers; p < n*(w+1)/workers; p++ {
				if p%4096 == 0 && ctx.Err() != nil {
					return
				}
				k.person(p, sh, st)
			}
			shares[w] = sh
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := &kpiShare{w: make([]kpiCounts, nw), activation: make([][]int64, nw), ch: make([]kpiChannelCounts, len(groups))}
	for _, sh := range shares {
		for i := range total.w {
			total.w[i].add(&sh.w[i])
			total.activation[i] = append(total.activation[i], sh.activation[i]...)
		}
		for g := range total.ch {
			c, o := &total.ch[g], &sh.ch[g]
			c.newCustomers += o.newCustomers
			c.activated += o.activated
			c.active += o.active
			c.purchasers += o.purchasers
			c.orders += o.orders
			c.revenue += o.revenue
		}
		for f := range total.before {
			total.before[f].revenue += sh.before[f].revenue
			total.before[f].buyers += sh.before[f].buyers
		}
	}

	sp := k.spend(q, loc, currency, groups)
	res := &KPIReport{From: q.From, To: q.To, Interval: interval, Currency: currency, SpendOtherCurrency: sp.otherCurrency,
		Series: []KPIPoint{}, Channels: []KPIChannel{}, UnmatchedSpend: []KPISpend{}}
	figs := make([]KPIFigures, nw)
	for fi, f := range k.fams {
		ltvRevenue, ltvBuyers := total.before[fi].revenue, total.before[fi].buyers
		for i := 0; i+1 < len(f.bounds); i++ {
			wi := f.base + i
			c := &total.w[wi]
			ltvRevenue += c.revenue
			ltvBuyers += c.newBuyers
			var prevActive int64
			if p := k.wins[wi].prev; p >= 0 {
				prevActive = total.w[p].active
			}
			figs[wi] = figures(k.wins[wi], c, prevActive, sp.byWindow[wi], sp.rows[wi], total.activation[wi], ltvRevenue, ltvBuyers)
		}
	}
	res.Previous, res.Period = figs[1], figs[2]
	for i := 1; i < len(starts); i++ {
		res.Series = append(res.Series, KPIPoint{Start: starts[i], KPIFigures: figs[k.fams[1].base+i]})
	}
	for g, label := range groups {
		c := total.ch[g]
		if c == (kpiChannelCounts{}) && sp.chRows[g] == 0 {
			continue
		}
		ch := KPIChannel{Channel: label, NewCustomers: c.newCustomers, Activated: c.activated, Spend: int64(math.Round(sp.ch[g])),
			Active: c.active, Purchasers: c.purchasers, Orders: c.orders, Revenue: c.revenue}
		if sp.chRows[g] > 0 {
			ch.CAC = ratioMoney(sp.ch[g], c.newCustomers)
		}
		res.Channels = append(res.Channels, ch)
	}
	slices.SortFunc(res.Channels, func(a, b KPIChannel) int {
		return cmp.Or(cmp.Compare(b.NewCustomers, a.NewCustomers), cmp.Compare(b.Active, a.Active), cmp.Compare(a.Channel, b.Channel))
	})
	for name, amount := range sp.unmatched {
		res.UnmatchedSpend = append(res.UnmatchedSpend, KPISpend{Channel: name, Amount: int64(math.Round(amount))})
	}
	slices.SortFunc(res.UnmatchedSpend, func(a, b KPISpend) int {
		return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Channel, b.Channel))
	})
	return res, nil
}

// read finds the roles of the event names and reads the revenue and NPS
// columns.
func (k *kpiRun) read(ctx context.Context, set opstore.KPISettings) error {
	v := k.v
	k.roles = make([]uint8, len(v.names()))
	mark := func(name string, role uint8) {
		if c, ok := v.nameCode(name); ok && name != "" && int(c) < len(k.roles) {
			k.roles[c] |= role
		}
	}
	for _, n := range set.SignupEvents {
		mark(n, kpiSignup)
	}
	for _, n := range set.ActivationEvents {
		mark(n, kpiActivation)
	}
	mark(set.PurchaseEvent, kpiPurchase)
	mark(set.ReferralEvent, kpiReferral)
	if set.NPSEvent != "" && set.NPSProperty != "" {
		mark(set.NPSEvent, kpiNPS)
	}
	// The columns not in the index yet come in one read of the store.
	var fields []string
	for _, p := range set.RevenueProperties() {
		if p != "" {
			fields = append(fields, fieldPath(p))
		}
	}
	if set.NPSEvent != "" && set.NPSProperty != "" {
		fields = append(fields, fieldPath(set.NPSProperty))
	}
	if err := v.ix.Want(ctx, fields...); err != nil {
		return err
	}
	for _, p := range set.RevenueProperties() {
		if p == "" {
			continue
		}
		codes, values, err := v.column(ctx, fieldPath(p))
		if err != nil {
			return err
		}
		k.rev = append(k.rev, kpiColumn{codes, values})
	}
	if set.NPSEvent != "" && set.NPSProperty != "" {
		codes, values, err := v.column(ctx, fieldPath(set.NPSProperty))
		if err != nil {
			return err
		}
		k.nps = kpiColumn{codes, values}
		k.score = make([]float64, len(values))
		for c, s := range values {
			k.score[c] = -1
			if f, err := strconv.ParseFloat(s, 64); err == nil && c > 0 && f >= 0 && f <= 10 {
				k.score[c] = f
			}
		}
	}
	return nil
}

// revenue is the value of order r in minor units: the first revenue
// property holding a number (as profile reads orders).
func (k *kpiRun) revenue(r uint32) int64 {
	for _, c := range k.rev {
		if code := c.codes[r]; code != 0 {
			if f, err := strconv.ParseFloat(c.values[code], 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return int64(math.Round(f * math.Pow10(k.digits)))
			}
		}
	}
	return 0
}

// npsScore is the NPS score of answer r, or -1.
func (k *kpiRun) npsScore(r uint32) float64 {
	if k.nps.codes == nil {
		return -1
	}
	return k.score[k.nps.codes[r]]
}

// channelGroups sets the channel group of each source and returns the
// groups' names.
func (k *kpiRun) channelGroups(q KPIQuery) []string {
	ids := k.v.ix.sources.list()
	k.groupOf = make([]int, len(ids))
	var groups []string
	index := map[string]int{}
	for s, id := range ids {
		label := id
		if id != "" && q.SourceChannel != nil {
			label = q.SourceChannel(id)
		}
		g, ok := index[label]
		if !ok {
			g = len(groups)
			index[label] = g
			groups = append(groups, label)
		}
		k.groupOf[s] = g
	}
	return groups
}

// person counts person p into the worker's share.
func (k *kpiRun) person(p int, sh *kpiShare, st *kpiStamps) {
	v := k.v
	evs := v.events(p)
	if len(evs) == 0 {
		return
	}
	id := uint32(p + 1)
	t0 := v.ts[evs[0]]
	g := k.groupOf[v.source[evs[0]]]
	gap := SessionGap.Milliseconds()
	var (
		tSignup, tAct, prevT         int64
		signed, orderedFirst, active bool
		orders                       int64
		pos                          [2]int // the window of each family reached
	)
	for i, r := range evs {
		t := v.ts[r]
		role := k.roles[v.name[r]]
		if t >= k.to {
			// After the end, only a first sign-up still matters: it may
			// move the acquisition past the end.
			if signed || orders > 0 {
				break
			}
			if role&kpiSignup != 0 {
				signed, tSignup = true, t
			}
			continue
		}
		session := i == 0 || t-prevT > gap
		prevT = t
		if role&kpiSignup != 0 && !signed {
			signed, tSignup, orderedFirst = true, t, orders > 0
		}
		if role&kpiActivation != 0 && !active {
			active, tAct = true, t
		}
		order := role&kpiPurchase != 0
		var value int64
		if order {
			value = k.revenue(r)
		}
		for f := range k.fams {
			b := k.fams[f].bounds
			if t < b[0] {
				if order {
					sh.before[f].revenue += value
					if orders == 0 {
						sh.before[f].buyers++
					}
				}
				continue
			}
			for pos[f]+2 < len(b) && t >= b[pos[f]+1] {
				pos[f]++
			}
			wi := k.fams[f].base + pos[f]
			c := &sh.w[wi]
			inPeriod := wi == k.period
			c.events++
			if session {
				c.sessions++
			}
			if st.active[wi] != id {
				st.active[wi] = id
				c.active++
				if pw := k.wins[wi].prev; pw >= 0 && st.active[pw] == id {
					c.retained++
				}
				if inPeriod {
					sh.ch[g].active++
				}
			}
			if order {
				c.orders++
				c.revenue += value
				if st.buyer[wi] != id {
					st.buyer[wi] = id
					c.purchasers++
					if inPeriod {
						sh.ch[g].purchasers++
					}
				}
				if inPeriod {
					sh.ch[g].orders++
					sh.ch[g].revenue += value
				}
				if orders == 0 {
					c.firstOrders++
					c.firstRevenue += value
					c.newBuyers++
				} else {
					c.repeatOrders++
					c.repeatRevenue += value
					if st.repeat[wi] != id {
						st.repeat[wi] = id
						c.repeatBuyers++
					}
				}
			}
			if role&kpiReferral != 0 {
				c.referrals++
				if st.referrer[wi] != id {
					st.referrer[wi] = id
					c.referrers++
				}
			}
			if role&kpiNPS != 0 {
				if s := k.npsScore(r); s >= 0 {
					c.npsN++
					switch {
					case s >= 9:
						c.promoters++
					case s <= 6:
						c.detractors++
					}
				}
			}
		}
		if order {
			orders++
		}
	}

	// Acquisition: the first event, or the first sign-up before any order.
	acq := t0
	if signed && !orderedFirst {
		acq = tSignup
	}
	for f := range k.fams {
		wi := k.fams[f].find(acq)
		if wi < 0 {
			continue
		}
		c := &sh.w[wi]
		c.newCustomers++
		activated := active && tAct < k.wins[wi].end
		if activated {
			c.activated++
			sh.activation[wi] = append(sh.activation[wi], max(0, tAct-acq))
		}
		if wi == k.period {
			sh.ch[g].newCustomers++
			if activated {
				sh.ch[g].activated++
			}
		}
	}
}

// kpiSpend is the spend of each window, and of the period per channel.
type kpiSpend struct {
	byWindow      []float64
	rows          []int // rows overlapping each window
	ch            []float64
	chRows        []int
	unmatched     map[string]float64
	otherCurrency int
}

// spend prorates the spend rows in currency over the windows, by the
// share of each row's days (and hours, for a window that does not start at
// midnight) inside the window, in loc.
func (k *kpiRun) spend(q KPIQuery, loc *time.Location, currency string, groups []string) kpiSpend {
	sp := kpiSpend{byWindow: make([]float64, len(k.wins)), rows: make([]int, len(k.wins)),
		ch: make([]float64, len(groups)), chRows: make([]int, len(groups)), unmatched: map[string]float64{}}
	// A spend channel names a channel group, or a source of one.
	match := map[string]int{}
	for g, label := range groups {
		if f := profile.Fold(label); f != "" {
			match[f] = g
		}
	}
	if q.SourceName != nil {
		for s, id := range k.v.ix.sources.list() {
			if id == "" || s >= len(k.groupOf) {
				continue
			}
			if f := profile.Fold(q.SourceName(id)); f != "" {
				if _, ok := match[f]; !ok {
					match[f] = k.groupOf[s]
				}
			}
		}
	}
	// Spend days are local dates held as 00:00 UTC: compare them with the
	// windows' local wall clock read as UTC.
	local := func(ms int64) int64 {
		t := time.UnixMilli(ms).In(loc)
		y, m, d := t.Date()
		return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).UnixMilli()
	}
	starts, ends := make([]int64, len(k.wins)), make([]int64, len(k.wins))
	for i, w := range k.wins {
		starts[i], ends[i] = local(w.start), local(w.end)
	}
	for _, row := range q.Spend {
		if !equalFold(row.Currency, currency) {
			sp.otherCurrency++
			continue
		}
		rs, re := row.From.UnixMilli(), row.To.UnixMilli()
		if re <= rs {
			continue
		}
		g, matched := match[profile.Fold(row.Channel)]
		for i := range k.wins {
			overlap := min(ends[i], re) - max(starts[i], rs)
			if overlap <= 0 {
				continue
			}
			amount := float64(row.Amount) * float64(overlap) / float64(re-rs)
			sp.byWindow[i] += amount
			sp.rows[i]++
			if i != k.period {
				continue
			}
			if matched {
				sp.ch[g] += amount
				sp.chRows[g]++
			} else {
				sp.unmatched[row.Channel] += amount
			}
		}
	}
	return sp
}

func equalFold(a, b string) bool { return len(a) == len(b) && profile.Fold(a) == profile.Fold(b) }

// figures derives the KPIs of a window from its counts.
func figures(w kpiWindow, c *kpiCounts, prevActive int64, spend float64, spendRows int, activation []int64, ltvRevenue, ltvBuyers int64) KPIFigures {
	f := KPIFigures{
		NewCustomers: c.newCustomers, Spend: int64(math.Round(spend)),
		Activated: c.activated, ActivationRate: ratio(c.activated, c.newCustomers),
		Active: c.active, Purchasers: c.purchasers, ConversionRate: ratio(c.purchasers, c.active),
		Orders: c.orders, Revenue: c.revenue, AOV: ratioMoney(float64(c.revenue), c.orders),
		PreviousActive: prevActive, Retained: c.retained, RetentionRate: ratio(c.retained, prevActive),
		Events: c.events, Sessions: c.sessions,
		Referrals: c.referrals, Referrers: c.referrers, ReferralRate: ratio(c.referrers, c.active),
		NPSResponses: c.npsN, Promoters: c.promoters, Detractors: c.detractors, Passives: c.npsN - c.promoters - c.detractors,
		LTVCustomers: ltvBuyers, LTVRevenue: ltvRevenue, LTV: ratioMoney(float64(ltvRevenue), ltvBuyers),
		FirstOrders: c.firstOrders, FirstRevenue: c.firstRevenue, FirstAOV: ratioMoney(float64(c.firstRevenue), c.firstOrders),
		RepeatOrders: c.repeatOrders, RepeatRevenue: c.repeatRevenue, RepeatAOV: ratioMoney(float64(c.repeatRevenue), c.repeatOrders),
		NewBuyers: c.newBuyers, RepeatBuyers: c.repeatBuyers,
	}
	if spendRows > 0 {
		f.CAC = ratioMoney(spend, c.newCustomers)
	}
	if len(activation) > 0 {
		s := float64(median(activation)) / 1000
		f.MedianActivationSeconds = &s
	}
	if f.RetentionRate != nil {
		churn := 1 - *f.RetentionRate
		f.ChurnRate = &churn
	}
	if c.active > 0 {
		weeks := float64(w.end-w.start) / float64(7*24*time.Hour/time.Millisecond)
		if weeks > 0 {
			e, s := float64(c.events)/float64(c.active)/weeks, float64(c.sessions)/float64(c.active)/weeks
			f.EventsPerCustomerWeek, f.SessionsPerCustomerWeek = &e, &s
		}
	}
	if c.npsN > 0 {
		n := 100 * float64(c.promoters-c.detractors) / float64(c.npsN)
		f.NPS = &n
	}
	if c.firstOrders > 0 && c.repeatOrders > 0 && c.firstRevenue != 0 {
		u := (float64(c.repeatRevenue)/float64(c.repeatOrders))/(float64(c.firstRevenue)/float64(c.firstOrders)) - 1
		f.RepeatUplift = &u
	}
	return f
}

// ratio is n / d, nil when d is 0.
func ratio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// ratioMoney is an amount in minor units divided by d, rounded; nil when
// d is 0.
func ratioMoney(amount float64, d int64) *int64 {
	if d == 0 {
		return nil
	}
	r := int64(math.Round(amount / float64(d)))
	return &r
}

// SetSources groups the per-channel figures by the channel of a
// workspace's sources (website, app, pos...), spend naming a channel or a
// source counting for that channel; a source not in srcs is "".
func (q *KPIQuery) SetSources(srcs []opstore.Source) {
	byID := make(map[string]opstore.Source, len(srcs))
	for _, s := range srcs {
		byID[s.ID] = s
	}
	q.SourceChannel = func(id string) string { return string(byID[id].Channel) }
	q.SourceName = func(id string) string { return byID[id].Name }
}

// KPIMetric is one figure of KPIFigures as the reports list it: the CLI's
// table and the web's cards read the same list.
type KPIMetric struct {
	Key   string // the figure's JSON name, e.g. "new_customers"
	Stage string // acquisition, activation, revenue, retention, referral, nps
	// Kind says how to write it: count, money (minor units), rate (a
	// fraction), number, seconds or score (NPS, -100 to 100).
	Kind string
	// LowerIsBetter marks costs and losses (CAC, churn).
	LowerIsBetter bool
	Value         func(f *KPIFigures) (float64, bool)
}

// KPIStages are the stages of KPIMetrics, in order.
var KPIStages = []string{"acquisition", "activation", "revenue", "retention", "referral", "nps"}

func kpiCount(get func(f *KPIFigures) int64) func(f *KPIFigures) (float64, bool) {
	return func(f *KPIFigures) (float64, bool) { return float64(get(f)), true }
}

func kpiMoney(get func(f *KPIFigures) *int64) func(f *KPIFigures) (float64, bool) {
	return func(f *KPIFigures) (float64, bool) {
		if p := get(f); p != nil {
			return float64(*p), true
		}
		return 0, false
	}
}

func kpiFloat(get func(f *KPIFigures) *float64) func(f *KPIFigures) (float64, bool) {
	return func(f *KPIFigures) (float64, bool) {
		if p := get(f); p != nil {
			return *p, true
		}
		return 0, false
	}
}

// KPIMetrics lists the figures of a report by stage.
var KPIMetrics = []KPIMetric{
	{Key: "new_customers", Stage: "acquisition", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.NewCustomers })},
	{Key: "spend", Stage: "acquisition", Kind: "money", LowerIsBetter: true, Value: kpiCount(func(f *KPIFigures) int64 { return f.Spend })},
	{Key: "cac", Stage: "acquisition", Kind: "money", LowerIsBetter: true, Value: kpiMoney(func(f *KPIFigures) *int64 { return f.CAC })},
	{Key: "activation_rate", Stage: "activation", Kind: "rate", Value: kpiFloat(func(f *KPIFigures) *float64 { return f.ActivationRate })},
	{Key: "median_activation_seconds", Stage: "activation", Kind: "seconds", LowerIsBetter: true,
		Value: kpiFloat(func(f *KPIFigures) *float64 { return f.MedianActivationSeconds })},
	{Key: "conversion_rate", Stage: "revenue", Kind: "rate", Value: kpiFloat(func(f *KPIFigures) *float64 { return f.ConversionRate })},
	{Key: "purchasers", Stage: "revenue", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.Purchasers })},
	{Key: "orders", Stage: "revenue", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.Orders })},
	{Key: "revenue", Stage: "revenue", Kind: "money", Value: kpiCount(func(f *KPIFigures) int64 { return f.Revenue })},
	{Key: "aov", Stage: "revenue", Kind: "money", Value: kpiMoney(func(f *KPIFigures) *int64 { return f.AOV })},
	{Key: "ltv", Stage: "revenue", Kind: "money", Value: kpiMoney(func(f *KPIFigures) *int64 { return f.LTV })},
	{Key: "repeat_uplift", Stage: "revenue", Kind: "rate", Value: kpiFloat(func(f *KPIFigures) *float64 { return f.RepeatUplift })},
	{Key: "active", Stage: "retention", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.Active })},
	{Key: "retention_rate", Stage: "retention", Kind: "rate", Value: kpiFloat(func(f *KPIFigures) *float64 { return f.RetentionRate })},
	{Key: "churn_rate", Stage: "retention", Kind: "rate", LowerIsBetter: true, Value: kpiFloat(func(f *KPIFigures) *float64 { return f.ChurnRate })},
	{Key: "events_per_customer_week", Stage: "retention", Kind: "number",
		Value: kpiFloat(func(f *KPIFigures) *float64 { return f.EventsPerCustomerWeek })},
	{Key: "sessions_per_customer_week", Stage: "retention", Kind: "number",
		Value: kpiFloat(func(f *KPIFigures) *float64 { return f.SessionsPerCustomerWeek })},
	{Key: "referrals", Stage: "referral", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.Referrals })},
	{Key: "referrers", Stage: "referral", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.Referrers })},
	{Key: "referral_rate", Stage: "referral", Kind: "rate", Value: kpiFloat(func(f *KPIFigures) *float64 { return f.ReferralRate })},
	{Key: "nps", Stage: "nps", Kind: "score", Value: kpiFloat(func(f *KPIFigures) *float64 { return f.NPS })},
	{Key: "nps_responses", Stage: "nps", Kind: "count", Value: kpiCount(func(f *KPIFigures) int64 { return f.NPSResponses })},
}

// Change is how metric m moved from prev to cur: for a rate or a score the
// difference (in fractions for a rate: 0.05 is 5 points; points is true),
// else the relative change (0.1 is +10%). ok is false when a value is
// missing, or for a relative change from 0.
func (m KPIMetric) Change(cur, prev *KPIFigures) (change float64, points, ok bool) {
	c, okC := m.Value(cur)
	p, okP := m.Value(prev)
	switch {
	case !okC || !okP:
		return 0, false, false
	case m.Kind == "rate" || m.Kind == "score":
		return c - p, true, true
	case p == 0:
		return 0, false, false
	}
	return (c - p) / math.Abs(p), false, true
}
