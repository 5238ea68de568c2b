package demo

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cjmhq/cjm/event"
)

// generator makes the data set one customer at a time. Each customer draws
// from its own random stream, so a customer's data depends only on the seed
// and its number.
type generator struct {
	opts Options
	cal  *calendar
	emit func(string, []event.Message) error

	pcg rand.PCG
	r   *rand.Rand

	idPrefix []byte // "demo-<seed>-"
	n        int64  // messages so far

	p, x, t jsonw // properties, context and traits of the message being built
	arena   []byte

	pend []event.Message // the current customer's messages
	keys []sortKey       // their times and sources, to sort them
	bufs [nSources][]event.Message
	by   [nSources]int

	c     customer
	v     visit
	camps [campCart + 1]campaign
	heap  []episode
	epSeq int32

	stats Stats
}

// sortKey orders a message of the current customer: pend[ord] of source src.
type sortKey struct {
	ts  int64
	ord int32
	src uint8
}

func newGenerator(o Options, emit func(string, []event.Message) error) *generator {
	g := &generator{opts: o, cal: newCalendar(o), emit: emit}
	g.r = rand.New(&g.pcg)
	g.idPrefix = strconv.AppendInt([]byte("demo-"), o.Seed, 10)
	g.idPrefix = append(g.idPrefix, '-')
	g.camps = [...]campaign{
		campNewsletter: {"newsletter", "email", "ban-tin-dinh-ky", landCategory},
		campSaleEmail:  {"email", "email", g.cal.saleName, landSale},
		campSaleSMS:    {"sms", "sms", g.cal.saleName, landSale},
		campSaleZNS:    {"zalo", "zns", g.cal.saleName, landSale},
		campSaleAd:     {"facebook", "cpc", g.cal.saleName, landSale},
		campCart:       {"email", "email", "cart-reminder", landCart},
	}
	for s := range g.bufs {
		g.bufs[s] = make([]event.Message, 0, batchSize)
	}
	return g
}

func (g *generator) statsOut() Stats {
	s := g.stats
	s.BySource = make(map[string]int, nSources)
	for i, n := range g.by {
		s.BySource[Sources[i].Key] = n
		s.Messages += n
	}
	return s
}

// splitmix64 scrambles x; it seeds the per-customer streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// keep copies a finished JSON object into the arena. Arena chunks are never
// reused, so emitted messages stay valid for as long as the caller keeps them.
func (g *generator) keep(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if cap(g.arena)-len(g.arena) < len(b) {
		g.arena = make([]byte, 0, max(256<<10, len(b)))
	}
	s := len(g.arena)
	g.arena = append(g.arena, b...)
	return g.arena[s:len(g.arena):len(g.arena)]
}

// add records a message of the current customer; messages outside the data
// window are dropped. props, traits and ctx may be nil.
func (g *generator) add(src uint8, typ event.Type, label string, ts int64, uid, aid string, props, traits, ctx []byte) {
	if ts < g.cal.start || ts >= g.cal.end {
		return
	}
	m := event.Message{
		Type:        typ,
		UserID:      uid,
		AnonymousID: aid,
		Properties:  g.keep(props),
		Traits:      g.keep(traits),
		Context:     g.keep(ctx),
		Timestamp:   time.UnixMilli(ts).UTC(),
	}
	switch typ {
	case event.Track:
		m.Event = label
	case event.Page, event.Screen:
		m.Name = label
	}
	g.keys = append(g.keys, sortKey{ts: ts, ord: int32(len(g.pend)), src: src})
	g.pend = append(g.pend, m)
}

// flushCustomer puts the current customer's messages in time order, names
// them and hands them to the batches of their sources.
func (g *generator) flushCustomer() error {
	g.sortPending()
	var idb [32]byte
	for _, k := range g.keys {
		m := &g.pend[k.ord]
		g.n++
		m.MessageID = string(strconv.AppendInt(append(idb[:0], g.idPrefix...), g.n, 10))
		g.bufs[k.src] = append(g.bufs[k.src], *m)
		if len(g.bufs[k.src]) == batchSize {
			if err := g.flushSource(k.src); err != nil {
				return err
			}
		}
	}
	g.dropPending()
	return nil
}

// sortPending puts g.keys, the current customer's messages, in time order.
func (g *generator) sortPending() {
	slices.SortFunc(g.keys, func(a, b sortKey) int {
		if c := cmp.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.ord, b.ord)
	})
}

// dropPending forgets the current customer's messages.
func (g *generator) dropPending() {
	clear(g.pend) // drop references to the emitted JSON
	g.pend, g.keys = g.pend[:0], g.keys[:0]
}

func (g *generator) flushSource(s uint8) error {
	b := g.bufs[s]
	if len(b) == 0 {
		return nil
	}
	g.by[s] += len(b)
	g.bufs[s] = make([]event.Message, 0, batchSize)
	return g.emit(Sources[s].Key, b)
}

// Episode kinds: something the customer does (or is sent) at a time.
const (
	epWeb uint8 = iota
	epApp
	epMarket
	epStore
	epCall
	epFacebook
	epZaloFollow
	epZaloMsg
	epNewsletter
	epBlast
	epSaleVisit
	epSaleMarket
	epCartReminder
	epClickVisit
	epReview
	epSurvey
)

// Campaigns that bring a customer to the web or the app (episode.camp).
const (
	campNone uint8 = iota
	campNewsletter
	campSaleEmail
	campSaleSMS
	campSaleZNS
	campSaleAd
	campCart
)

type episode struct {
	t    int64
	seq  int32
	kind uint8
	camp uint8
	arg  int32
}

func (a *episode) before(b *episode) bool {
	return a.t < b.t || (a.t == b.t && a.seq < b.seq)
}

// schedule adds an episode to the customer's timeline, unless it falls
// after the end of the data.
func (g *generator) schedule(t int64, kind, camp uint8, arg int32) {
	if t >= g.cal.end || t < g.cal.start {
		return
	}
	g.heap = heapPush(g.heap, episode{t: t, seq: g.epSeq, kind: kind, camp: camp, arg: arg})
	g.epSeq++
}

func (g *generator) next() episode {
	e, h := heapPop(g.heap)
	g.heap = h
	return e
}

// Random helpers.

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

// between is a uniform duration in [lo, hi).
func (g *generator) between(lo, hi int64) int64 { return lo + g.r.Int64N(hi-lo) }

func (g *generator) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l || k > 200 {
			return k
		}
		k++
	}
}

func (g *generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

func pickW[T any](r *rand.Rand, list []T, weight func(*T) float64) *T {
	total := 0.0
	for i := range list {
		total += weight(&list[i])
	}
	u := r.Float64() * total
	for i := range list {
		u -= weight(&list[i])
		if u < 0 {
			return &list[i]
		}
	}
	return &list[len(list)-1]
}

// uuid is a random version 4 UUID.
func (g *generator) uuid() string {
	const hex = "0123456789abcdef"
	var b [36]byte
	hi, lo := g.r.Uint64(), g.r.Uint64()
	hi = hi&^(0xf<<12) | 4<<12   // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10
	x := [2]uint64{hi, lo}
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		w := x[i/16]
		b[j] = hex[(w>>(60-4*uint(i%16)))&0xf]
		j++
	}
	return string(b[:])
}

// digits is a random decimal string of n digits, not starting with 0.
func (g *generator) digits(n int) string {
	var b [24]byte
	b[0] = byte('1' + g.r.IntN(9))
	for i := 1; i < n; i++ {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b[:n])
}

// customer is the profile and state of the customer being generated.
type customer struct {
	idx     int
	persona int
	female  bool
	given   *nameW
	middle  *nameW
	family  *nameW
	name    string
	email   string
	phone   string // 0912345678
	city    *city
	birth   string
	uid     string
	ip      string

	// Channels the customer uses on their own.
	web, app   bool
	market     uint8 // srcShopee, srcLazada, srcTiki, or 0 for none
	marketOnly bool
	store      bool
	homeStore  int
	fb, zalo   bool
	emailOpt   bool
	smsOpt     bool

	webDev, webDev2, appDev *device
	webAnon, webAnon2       string
	appAnon                 string
	buyerID, buyerName      string
	marketAnon              string
	marketKnown             bool
	fbAnon, zaloID          string

	// Lifecycle.
	existing     bool  // registered before the window
	t0, t1       int64 // active from t0 to t1
	registered   bool
	createdAt    int64
	webLogged    bool
	appLogged    bool
	appInstalled bool
	zaloFollowed bool
	loyalty      string
	orders       int // completed orders so far
	seq          int // order, call and message counter
	ordersLog    []orderRec
	carts        []basket
}

// line is an item of a basket.
type line struct {
	v   int // index into variants
	qty int
}

// basket is what a customer intends to buy in one visit or order.
type basket struct {
	n     int
	lines [4]line
}

func (b *basket) subtotal() int64 {
	var s int64
	for _, l := range b.lines[:b.n] {
		s += variants[l.v].p.price * int64(l.qty)
	}
	return s
}

// orderRec is a completed order, for follow-ups (calls, reviews, surveys).
type orderRec struct {
	id      string
	src     uint8
	t       int64
	first   int // variant of the first line
	delayed bool
}

// Per persona: probability of using each channel on their own, and the
// rate of episodes per 30 active days.
type habits struct {
	web, mobileWeb, app, market, marketOnly, store, fb, zalo, emailOpt, smsOpt float64
	existing                                                                   float64
	lifeDays                                                                   float64
	webRate, appRate, marketRate, storeRate, callRate, fbRate, zaloRate        float64
}

var personaHabits = [4]habits{
	personaOffice: {web: .75, mobileWeb: .72, app: .4, market: .25, marketOnly: .05, store: .25, fb: .25, zalo: .3, emailOpt: .45, smsOpt: .5,
		existing: .35, lifeDays: 160,
		webRate: .45, appRate: .7, marketRate: .12, storeRate: .18, callRate: .05, fbRate: .25, zaloRate: .15},
	personaStudent: {web: .55, mobileWeb: .9, app: .2, market: .8, marketOnly: .55, store: .05, fb: .6, zalo: .25, emailOpt: .3, smsOpt: .4,
		existing: .15, lifeDays: 110,
		webRate: .34, appRate: .45, marketRate: .18, storeRate: .1, callRate: .02, fbRate: .5, zaloRate: .1},
	personaLoyal: {web: .3, mobileWeb: .5, app: .2, market: .1, store: 1, fb: .15, zalo: .6, emailOpt: .3, smsOpt: .85,
		existing: .6, lifeDays: 400,
		webRate: .25, appRate: .4, marketRate: .08, storeRate: .33, callRate: .12, fbRate: .15, zaloRate: .3},
	personaGift: {web: .85, mobileWeb: .45, app: .1, market: .2, marketOnly: .05, store: .3, fb: .15, zalo: .15, emailOpt: .4, smsOpt: .4,
		existing: .2, lifeDays: 120,
		webRate: .4, appRate: .35, marketRate: .1, storeRate: .18, callRate: .1, fbRate: .15, zaloRate: .08},
}

// customer generates the whole history of customer idx.
func (g *generator) customer(idx int) {
	g.seedCustomer(idx)
	c := &g.c
	ol, cl := c.ordersLog[:0], c.carts[:0]
	*c = customer{idx: idx, ordersLog: ol, carts: cl}
	g.heap = g.heap[:0]
	g.epSeq = 0
	g.profile(c)
	g.plan(c)
	for len(g.heap) > 0 {
		e := g.next()
		g.run(c, e)
	}
}

// seedCustomer starts the random stream of customer idx.
func (g *generator) seedCustomer(idx int) {
	g.pcg.Seed(splitmix64(uint64(g.opts.Seed)), splitmix64(uint64(idx)^0x5bd1e995_00000000))
}

// profile draws who the customer is and which channels they use.
func (g *generator) profile(c *customer) {
	r := g.r
	c.persona = pickPersona(r.Float64())
	h := &personaHabits[c.persona]
	c.female = r.Float64() < 0.88
	if c.persona == personaGift {
		c.female = r.Float64() < 0.1
	}
	if c.persona == personaStudent || c.persona == personaLoyal {
		c.female = r.Float64() < 0.95
	}
	w := func(n *nameW) float64 { return n.weight }
	c.family = pickW(r, familyNames, w)
	if c.female {
		c.middle, c.given = pickW(r, middleFemale, w), pickW(r, givenFemale, w)
	} else {
		c.middle, c.given = pickW(r, middleMale, w), pickW(r, givenMale, w)
	}
	c.name = c.family.name + " " + c.middle.name + " " + c.given.name

	var age int
	switch c.persona {
	case personaOffice:
		age = 25 + r.IntN(14)
	case personaStudent:
		age = 18 + r.IntN(7)
	case personaLoyal:
		age = 38 + r.IntN(19)
	default:
		age = 26 + r.IntN(17)
	}
	year := time.UnixMilli(g.cal.end).In(ict).Year() - age
	m, d := 1+r.IntN(12), 1+r.IntN(28)
	bb := strconv.AppendInt(make([]byte, 0, 10), int64(year), 10)
	bb = append(bb, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	c.birth = string(bb)

	if c.persona == personaLoyal && r.Float64() < 0.9 {
		c.city = &cities[r.IntN(3)]
	} else {
		c.city = pickW(r, cities, func(c *city) float64 { return c.weight })
	}

	// Unique phone: the last 7 digits are a bijection of the customer number.
	num := (int64(c.idx)*7919 + 1234567) % 10000000
	var pb [10]byte
	copy(pb[:], g.pick(phonePrefixes))
	for i := 9; i >= 3; i-- {
		pb[i] = byte('0' + num%10)
		num /= 10
	}
	c.phone = string(pb[:])

	// Unique email: every pattern ends in the customer number.
	n := strconv.Itoa(c.idx + 1)
	switch r.IntN(4) {
	case 0:
		c.email = c.given.ascii + "." + c.family.ascii + n
	case 1:
		c.email = c.family.ascii + c.given.ascii + n
	case 2:
		c.email = c.given.ascii + c.middle.ascii + "_" + n
	default:
		c.email = c.given.ascii + strconv.Itoa(year%100) + "." + n
	}
	c.email += "@" + g.pick(emailDomains)
	c.uid = "kh" + strconv.Itoa(10000000 + c.idx)[1:]
	if c.idx >= 10000000 {
		c.uid = "kh" + strconv.Itoa(c.idx)
	}
	c.ip = g.pick(ipPrefixes) + strconv.Itoa(1+r.IntN(254)) + "." + strconv.Itoa(1+r.IntN(254))

	// Channels.
	c.web = r.Float64() < h.web
	c.app = r.Float64() < h.app
	if r.Float64() < h.market {
		c.market = srcShopee + uint8(pickIdx(r, []float64{0.6, 0.3, 0.1}))
		c.marketOnly = r.Float64() < h.marketOnly/h.market
	}
	c.store = r.Float64() < h.store && (len(c.city.stores) > 0 || r.Float64() < 0.15)
	if len(c.city.stores) > 0 {
		c.homeStore = c.city.stores[r.IntN(len(c.city.stores))]
	} else {
		c.homeStore = r.IntN(len(stores))
	}
	if c.marketOnly {
		c.web, c.app, c.store = false, false, false
	}
	if !c.web && !c.app && !c.store && c.market == 0 {
		c.web = true
	}
	c.fb = r.Float64() < h.fb
	c.zalo = r.Float64() < h.zalo
	c.emailOpt = r.Float64() < h.emailOpt
	c.smsOpt = r.Float64() < h.smsOpt

	// Devices and identifiers.
	if r.Float64() < h.mobileWeb {
		c.webDev = &webDevices[r.IntN(nMobileWeb)]
	} else {
		c.webDev = &webDevices[nMobileWeb+r.IntN(len(webDevices)-nMobileWeb)]
	}
	c.webAnon = g.uuid()
	if r.Float64() < 0.25 {
		if c.webDev.mobile {
			c.webDev2 = &webDevices[nMobileWeb+r.IntN(len(webDevices)-nMobileWeb)]
		} else {
			c.webDev2 = &webDevices[r.IntN(nMobileWeb)]
		}
		c.webAnon2 = g.uuid()
	}
	c.appDev = &appDevices[r.IntN(len(appDevices))]
	c.appAnon = g.uuid()
	if c.market != 0 {
		c.buyerID = g.digits(9)
		c.buyerName = c.given.ascii + c.family.ascii + strconv.Itoa(r.IntN(1000))
		c.marketAnon = Sources[c.market].Key + ":" + c.buyerID
	}
	c.fbAnon = "fb:" + g.digits(16)
	c.zaloID = g.digits(19)

	c.existing = !c.marketOnly && r.Float64() < h.existing
	if c.existing {
		c.registered = true
		c.createdAt = g.cal.start - g.between(30*day, 900*day)
		if c.store {
			c.loyalty = loyaltyCard(c.idx)
		}
	}
}

// pickPersona maps u in [0, 1) to a persona by the personas' shares.
func pickPersona(u float64) int {
	for i := range Personas {
		if u -= Personas[i].Share; u < 0 {
			return i
		}
	}
	return len(Personas) - 1
}

// loyaltyCard is the loyalty card number of customer idx.
func loyaltyCard(idx int) string { return "MAY" + strconv.Itoa(10000000+idx) }

func pickIdx(r *rand.Rand, w []float64) int {
	u := r.Float64()
	for i, x := range w {
		if u -= x; u < 0 {
			return i
		}
	}
	return len(w) - 1
}

// plan puts the customer's own episodes on the timeline; follow-ups are
// added as episodes run.
func (g *generator) plan(c *customer) {
	cal, r := g.cal, g.r
	h := &personaHabits[c.persona]
	switch {
	case c.existing:
		c.t0 = cal.start
	case r.Float64() < 0.04: // acquired by the sale
		c.t0 = cal.sample(r, cal.browse, &cal.hBrowse, cal.saleFrom, cal.saleTo)
	default:
		c.t0 = cal.sample(r, cal.browse, &cal.hBrowse, cal.start, cal.end)
	}
	c.t1 = min(cal.end, c.t0+int64(r.ExpFloat64()*h.lifeDays*float64(day)))
	months := float64(c.t1-c.t0) / float64(30*day)

	// The first touch, on the customer's main channel.
	first := epWeb
	switch {
	case c.marketOnly || (c.market != 0 && c.persona == personaStudent):
		first = epMarket
	case c.store && (c.persona == personaLoyal || !c.web && !c.app):
		first = epStore
	case c.app && (!c.web || r.Float64() < 0.4):
		first = epApp
	}
	if !c.existing {
		g.schedule(c.t0, first, campNone, 0)
	}
	many := func(on bool, rate float64, kind uint8, cdf []float64, hcdf *[24]float64) {
		if !on {
			return
		}
		for n := g.poisson(rate * months); n > 0; n-- {
			g.schedule(cal.sample(r, cdf, hcdf, c.t0, c.t1), kind, campNone, 0)
		}
	}
	many(c.web, h.webRate, epWeb, cal.browse, &cal.hBrowse)
	many(c.app, h.appRate, epApp, cal.browse, &cal.hBrowse)
	many(c.market != 0, h.marketRate, epMarket, cal.browse, &cal.hBrowse)
	many(c.store, h.storeRate, epStore, cal.store, &cal.hStore)
	many(!c.marketOnly, h.callRate, epCall, cal.calls, &cal.hCall)
	many(c.fb, h.fbRate, epFacebook, cal.browse, &cal.hBrowse)
	many(c.zalo, h.zaloRate, epZaloMsg, cal.browse, &cal.hBrowse)
	if c.zalo {
		t := c.t0 + g.between(0, 21*day)
		if c.existing {
			t = cal.sample(r, cal.browse, &cal.hBrowse, c.t0, c.t1)
		}
		g.schedule(t, epZaloFollow, campNone, 0)
	}
	for i, t := range cal.newsletters {
		if t >= c.t0 {
			g.schedule(t+g.between(0, 40*minute), epNewsletter, campNone, int32(i))
		}
	}
	for i, t := range cal.blasts {
		if t >= c.t0 {
			g.schedule(t+g.between(0, 30*minute), epBlast, campNone, int32(i))
		}
	}
	// The sale brings back customers active in the weeks before it.
	if c.t0 < cal.saleTo && c.t1 > cal.saleFrom-30*day {
		if (c.web || c.app) && r.Float64() < 0.2 {
			g.schedule(g.saleTime(), epSaleVisit, campSaleAd, 0)
		}
		if c.market != 0 && r.Float64() < 0.15 {
			g.schedule(g.saleTime(), epSaleMarket, campNone, 0)
		}
	}
}

// saleTime is a time in the sale, busiest on the first day.
func (g *generator) saleTime() int64 {
	cal := g.cal
	d := int64(pickIdx(g.r, []float64{0.5, 0.25, 0.25}))
	return cal.sample(g.r, cal.browse, &cal.hBrowse, cal.saleFrom+d*day, cal.saleFrom+(d+1)*day)
}

// run performs one episode.
func (g *generator) run(c *customer, e episode) {
	switch e.kind {
	case epWeb:
		g.visit(c, e.t, false, campNone, -1)
	case epApp:
		g.visit(c, e.t, true, campNone, -1)
	case epMarket:
		g.marketOrder(c, e.t, false)
	case epSaleMarket:
		g.marketOrder(c, e.t, true)
	case epStore:
		g.storeVisit(c, e.t)
	case epCall:
		g.call(c, e.t, e.camp, int(e.arg))
	case epFacebook:
		g.facebook(c, e.t)
	case epZaloFollow:
		g.zaloFollow(c, e.t)
	case epZaloMsg:
		g.zaloMessage(c, e.t)
	case epNewsletter:
		g.newsletter(c, e.t, int(e.arg))
	case epBlast:
		g.blast(c, e.t, int(e.arg))
	case epSaleVisit:
		g.visit(c, e.t, c.app && (!c.web || g.chance(0.4)), campSaleAd, -1)
	case epCartReminder:
		g.cartReminder(c, e.t, int(e.arg))
	case epClickVisit:
		app := c.app && g.chance(0.5)
		g.visit(c, e.t, app, e.camp, int(e.arg))
	case epReview:
		g.review(c, e.t, int(e.arg))
	case epSurvey:
		g.survey(c, e.t, int(e.arg))
	}
}
