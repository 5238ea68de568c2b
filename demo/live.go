package demo

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cjmhq/cjm/event"
)

// LiveOptions configures Live.
type LiveOptions struct {
	// Data is the data set whose customers come back: the Options it was
	// generated with. Live sessions belong to its customers (the same user
	// IDs, anonymous IDs, devices, emails and phones, continuing from the
	// state their history left them in) and to new visitors.
	Data Options
	// Seed chooses the sessions; 0 seeds from the clock. The same Seed, Data
	// and clock give the same messages.
	Seed int64
	// Rate is the average number of events per second; 0 means 0.5, about
	// one event every two seconds.
	Rate float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then; nil
	// means a timer. A fake clock's Sleep moves the clock on by d.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultLiveRate is the Rate used when LiveOptions.Rate is zero.
const DefaultLiveRate = 0.5

// LiveIDPrefix starts the message IDs of Live: "demo-live-<start unix
// nanoseconds>-<n>". Generated messages are "demo-<seed>-<n>", so the two
// never collide.
const LiveIDPrefix = "demo-live-"

// Live plays the shop as it is right now, until ctx is done: short sessions
// of existing customers and new visitors, with the time of the clock. Most
// are visits to the website or the app (page and screen views, product lists
// and products, some carts, checkouts and orders in VND); some are hotline
// calls, store purchases, newsletter emails opened and clicked, Zalo ZNS
// delivery notices, marketplace orders and Facebook or Zalo messages, in the
// shapes Generate makes. Calls happen in the hotline's hours and purchases in
// the stores' hours (Asia/Ho_Chi_Minh).
//
// Sessions start at random (a Poisson process) so that about Rate events are
// emitted per second on average, and a session's events are spread over the
// seconds and minutes of a real visit: each is emitted when the clock reaches
// its time, which is its Timestamp. Live starts as if the shop had been open
// for a while, with sessions already under way. emit is called with a source
// key and the events of that source that are due, each time a new slice that
// emit may keep. Message IDs are LiveIDPrefix, the start time in Unix
// nanoseconds and a counter.
//
// Live returns the first error of emit, or ctx.Err() when ctx is done.
func Live(ctx context.Context, opts LiveOptions, emit func(sourceKey string, msgs []event.Message) error) error {
	if emit == nil {
		return errors.New("demo: nil emit")
	}
	l := newLive(opts)
	return l.run(ctx, emit)
}

// Tuning of Live.
const (
	liveWarmup    = 10 * minute // how long the shop seems open at start
	liveHorizon   = hour        // events and follow-ups later than this after a session's start are dropped
	liveMaxLag    = 2 * minute  // after a longer stall (a suspended machine), skip what was missed
	liveNewcomers = 0.3         // share of web and app visits by new visitors
	liveNewRange  = 1_000_000   // new visitors are customers number [Customers, Customers+liveNewRange)
	liveMaxKnown  = 20000       // customers whose live state is kept; then sessions go to them only
	liveTries     = 12          // customers drawn to find one that fits a session
	// The prior of the number of events per session, for the pacing.
	livePriorEvents, livePriorWeight = 6.0, 20.0
)

// Kinds of live sessions.
const (
	lkWeb = iota
	lkApp
	lkEmail
	lkCall
	lkStore
	lkZNS
	lkMarket
	lkFacebook
	lkZalo
	nLiveKinds
)

// liveKindWeight is the share of sessions of each kind.
var liveKindWeight = [nLiveKinds]float64{
	lkWeb: 48, lkApp: 22, lkEmail: 8, lkCall: 6, lkStore: 6, lkZNS: 4, lkMarket: 3, lkFacebook: 2, lkZalo: 1,
}

// live is the state of Live.
type live struct {
	opts    LiveOptions
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	seed    uint64
	r       *rand.Rand // draws the sessions and who has them
	g       *generator // plays them
	dataCal *calendar  // the calendar of the data set, for the customers' history
	cal     calendar   // the calendar of the current session

	known map[int]*customer // customers as the live sessions left them
	order []int             // the keys of known, in the order they came

	pend     []liveMsg // messages not yet due: a heap by due time (see push)
	seq      int64
	sessions float64
	events   float64
	next     int64 // the start of the next session, Unix ms

	prefix string
	n      int64
}

// liveMsg is a message of a session waiting for its time.
type liveMsg struct {
	due int64 // Unix ms
	seq int64
	src uint8
	m   event.Message
}

func newLive(o LiveOptions) *live {
	o.Data = o.Data.withDefaults()
	if o.Rate <= 0 {
		o.Rate = DefaultLiveRate
	}
	l := &live{opts: o, now: o.Now, sleep: o.Sleep, known: map[int]*customer{}}
	if l.now == nil {
		l.now = time.Now
	}
	if l.sleep == nil {
		l.sleep = sleepCtx
	}
	seed := o.Seed
	if seed == 0 {
		seed = l.now().UnixNano()
	}
	l.seed = splitmix64(uint64(seed))
	l.r = rand.New(rand.NewPCG(l.seed, splitmix64(l.seed^0x6c697665)))
	l.g = newGenerator(o.Data, nil)
	l.dataCal = l.g.cal
	l.cal = *l.dataCal
	return l
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *live) run(ctx context.Context, emit func(string, []event.Message) error) error {
	start := l.now()
	l.prefix = LiveIDPrefix + strconv.FormatInt(start.UnixNano(), 10) + "-"
	now := start.UnixMilli()
	// Sessions under way: those that began in the last minutes.
	for t := now - liveWarmup + l.gap(); t < now; t += l.gap() {
		l.session(t)
	}
	for len(l.pend) > 0 && l.pend[0].due < now {
		l.pop()
	}
	l.next = now
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now = l.now().UnixMilli()
		if l.next < now-liveMaxLag {
			l.next = now
		}
		for l.next <= now {
			l.session(l.next)
			l.next += l.gap()
		}
		if err := l.flush(ctx, now, emit); err != nil {
			return err
		}
		wake := l.next
		if len(l.pend) > 0 && l.pend[0].due < wake {
			wake = l.pend[0].due
		}
		if err := l.sleep(ctx, time.Duration(wake-now)*time.Millisecond); err != nil {
			return err
		}
	}
}

// gap is the time to the next session: exponential, its mean set so that
// sessions of the average size so far make Rate events per second.
func (l *live) gap() int64 {
	perSession := (l.events + livePriorEvents*livePriorWeight) / (l.sessions + livePriorWeight)
	return 1 + int64(l.r.ExpFloat64()*perSession/l.opts.Rate*float64(second))
}

// flush emits the messages due at now, by source.
func (l *live) flush(ctx context.Context, now int64, emit func(string, []event.Message) error) error {
	var batches [nSources][]event.Message
	for len(l.pend) > 0 && l.pend[0].due <= now {
		x := l.pop()
		if x.due < now-liveMaxLag {
			continue // stale after a stall
		}
		m := x.m
		l.n++
		m.MessageID = l.prefix + strconv.FormatInt(l.n, 10)
		m.Timestamp = time.UnixMilli(x.due).UTC()
		batches[x.src] = append(batches[x.src], m)
	}
	for s, b := range batches {
		if len(b) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(Sources[s].Key, b); err != nil {
			return err
		}
	}
	return nil
}

// session plays one session starting at t and queues its messages.
func (l *live) session(t int64) {
	r, g := l.r, l.g
	l.sessions++
	h := localHour(t)
	kind := pickIdx(r, l.kindShares(h))
	c := l.customerFor(kind)
	if c == nil {
		kind, c = lkWeb, l.newcomer()
	}
	l.keep(c)

	// The session has its own random stream and a calendar that keeps what
	// happens within the horizon.
	g.seedSession(l.seed, uint64(l.sessions))
	l.cal.start, l.cal.end = t-liveHorizon, t+liveHorizon
	g.cal = &l.cal
	g.heap, g.epSeq = g.heap[:0], 0
	g.dropPending()
	switch kind {
	case lkWeb:
		g.run(c, episode{t: t, kind: epWeb})
	case lkApp:
		g.run(c, episode{t: t, kind: epApp})
	case lkEmail:
		m := newsletterMail(c, len(l.cal.newsletters)-1)
		g.emailOpened(c, t, &m, 0.25, campNewsletter, -1)
	case lkCall:
		g.run(c, episode{t: t, kind: epCall})
	case lkStore:
		g.run(c, episode{t: t + 2*minute, kind: epStore}) // a new member signs up two minutes before paying
	case lkZNS:
		o := lastOnlineOrder(c)
		g.zns(c, t, "order_shipping", "Thông báo giao hàng", "", "", o.id, 0, campNone)
	case lkMarket:
		g.run(c, episode{t: t, kind: epMarket})
	case lkFacebook:
		g.run(c, episode{t: t, kind: epFacebook})
	case lkZalo:
		g.run(c, episode{t: t, kind: epZaloMsg})
	}
	for len(g.heap) > 0 { // follow-ups within the horizon: clicks, visits, calls back
		g.run(c, g.next())
	}
	l.take(t)
}

// kindShares are the shares of session kinds at local hour h: the hotline
// answers 8:00-21:00 and the stores are open 9:00-22:00.
func (l *live) kindShares(h int) []float64 {
	w := liveKindWeight
	if h < 8 || h >= 20 {
		w[lkCall] = 0
	}
	if h < 9 || h >= 21 {
		w[lkStore] = 0
	}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	out := make([]float64, nLiveKinds)
	for i, x := range w {
		out[i] = x / sum
	}
	return out
}

// take moves the generator's messages to the queue. A session whose first
// message came before t (a sign-up before the order) is moved to start at t.
func (l *live) take(t int64) {
	g := l.g
	if len(g.keys) == 0 {
		return
	}
	g.sortPending()
	shift := max(0, t-g.keys[0].ts)
	for _, k := range g.keys {
		l.seq++
		l.push(liveMsg{due: k.ts + shift, seq: l.seq, src: k.src, m: g.pend[k.ord]})
	}
	l.events += float64(len(g.keys))
	g.dropPending()
}

func (a *liveMsg) before(b *liveMsg) bool {
	return a.due < b.due || (a.due == b.due && a.seq < b.seq)
}

// push adds x to the queue l.pend, a binary heap by due time.
func (l *live) push(x liveMsg) {
	l.pend = heapPush(l.pend, x)
}

// pop takes the first message off the queue.
func (l *live) pop() liveMsg {
	x, h := heapPop(l.pend)
	l.pend = h
	return x
}

// customerFor draws the customer of a session of kind, or nil when none fits.
func (l *live) customerFor(kind int) *customer {
	r := l.r
	if (kind == lkWeb || kind == lkApp) && r.Float64() < liveNewcomers {
		return l.newcomer()
	}
	for range liveTries {
		var c *customer
		if len(l.known) >= liveMaxKnown {
			c = l.known[l.order[r.IntN(len(l.order))]]
		} else {
			c = l.existing(r.IntN(l.opts.Data.Customers))
		}
		if l.fits(c, kind) {
			return c
		}
	}
	if kind == lkWeb || kind == lkApp {
		return l.newcomer()
	}
	return nil
}

// fits says whether c would have a session of kind.
func (l *live) fits(c *customer, kind int) bool {
	switch kind {
	case lkWeb:
		return c.web
	case lkApp:
		return c.app
	case lkEmail:
		nl := l.dataCal.newsletters // they open the latest newsletter
		return c.registered && c.emailOpt && len(nl) > 0 && c.createdAt <= nl[len(nl)-1]
	case lkCall:
		return !c.marketOnly
	case lkStore:
		return c.store
	case lkZNS:
		return c.registered && lastOnlineOrder(c) != nil
	case lkMarket:
		return c.market != 0
	case lkFacebook:
		return c.fb
	case lkZalo:
		return c.zalo
	}
	return false
}

// lastOnlineOrder is c's latest web or app order, or nil.
func lastOnlineOrder(c *customer) *orderRec {
	for i := len(c.ordersLog) - 1; i >= 0; i-- {
		if o := &c.ordersLog[i]; o.src == srcWeb || o.src == srcApp {
			return o
		}
	}
	return nil
}

// existing is customer idx of the data set as live sessions left them, or
// else as their history did.
func (l *live) existing(idx int) *customer {
	if c, ok := l.known[idx]; ok {
		return c
	}
	g := l.g
	g.cal = l.dataCal
	g.customer(idx)
	g.dropPending()
	c := g.c
	c.ordersLog, c.carts = slices.Clone(c.ordersLog), slices.Clone(c.carts)
	return &c
}

// newcomer is a new visitor: a customer beyond the data set's, without
// history or account. Drawn again, it is the same person coming back.
func (l *live) newcomer() *customer {
	if len(l.known) >= liveMaxKnown {
		return l.known[l.order[l.r.IntN(len(l.order))]]
	}
	idx := l.opts.Data.Customers + l.r.IntN(liveNewRange)
	if c, ok := l.known[idx]; ok {
		return c
	}
	g := l.g
	g.cal = l.dataCal
	g.seedCustomer(idx)
	c := &customer{idx: idx}
	g.profile(c)
	c.existing, c.registered, c.createdAt, c.loyalty = false, false, 0, ""
	return c
}

// seedSession starts the random stream of live session n.
func (g *generator) seedSession(seed, n uint64) {
	g.pcg.Seed(seed, splitmix64(n^0x73657373696f6e00))
}

// keep remembers c's state for its next sessions.
func (l *live) keep(c *customer) {
	if _, ok := l.known[c.idx]; !ok {
		l.known[c.idx] = c
		l.order = append(l.order, c.idx)
	}
}
