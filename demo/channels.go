package demo

import (
	"strconv"
	"time"

	"github.com/cjmhq/cjm/event"
)

// visit is one web or app session.
type visit struct {
	c    *customer
	app  bool
	src  uint8
	dev  *device
	anon string
	uid  string
	sid  int64
	t    int64
	camp *campaign
	sale bool

	ref, path, url, title string // the current page and its referrer
}

// campaignOf is the campaign of an episode that brings a customer to visit.
func (g *generator) campaignOf(camp uint8) *campaign {
	if camp == campNone || int(camp) >= len(g.camps) {
		return nil
	}
	return &g.camps[camp]
}

var campaignReferrer = map[string]string{
	"facebook": "https://l.facebook.com/", "google": "https://www.google.com/",
	"tiktok": "https://www.tiktok.com/", "zalo": "https://zalo.me/",
}

// vctx is the context of a visit's events.
func (g *generator) vctx(v *visit) []byte {
	x := &g.x
	x.begin()
	if !v.app {
		x.str("ip", v.c.ip)
	}
	x.fields(v.dev.frag)
	if !v.app {
		x.obj("page")
		x.str("path", v.path)
		x.str("referrer", v.ref)
		x.str("title", v.title)
		x.str("url", v.url)
		x.close()
	}
	x.num("sessionId", v.sid)
	if v.camp != nil {
		x.obj("campaign")
		x.str("source", v.camp.source)
		x.str("medium", v.camp.medium)
		x.str("name", v.camp.name)
		x.close()
	}
	return x.end()
}

// props starts the properties of a new message.
func (g *generator) props() *jsonw {
	g.p.begin()
	return &g.p
}

// vtrack adds a track call of the visit with the properties built in g.p.
func (g *generator) vtrack(v *visit, name string) {
	g.add(v.src, event.Track, name, v.t, v.uid, v.anon, g.p.end(), nil, g.vctx(v))
}

// step moves the visit's clock on.
func (g *generator) step(v *visit, lo, hi int64) { v.t += g.between(lo, hi) }

// page shows a page (web) or screen (app).
func (g *generator) page(v *visit, name, path, url, title, cat, productID string) {
	g.step(v, 3*second, 40*second)
	if v.url != "" {
		v.ref = v.url
	}
	v.path, v.url, v.title = path, url, title
	p := g.props()
	typ := event.Screen
	if !v.app {
		typ = event.Page
		p.str("path", path)
		p.str("referrer", v.ref)
		p.str("title", title)
		p.str("url", url)
	}
	if cat != "" {
		p.str("category", cat)
	}
	if productID != "" {
		p.str("product_id", productID)
	}
	g.add(v.src, typ, name, v.t, v.uid, v.anon, p.end(), nil, g.vctx(v))
}

func (g *generator) pickVariant(c *customer) int {
	cdf := productCDF[c.persona]
	u := g.r.Float64()
	lo, hi := 0, len(cdf)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cdf[m] < u {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// pickBasket draws what the customer would buy now. Customers who have bought
// before take more items: their orders are about 30% larger.
func (g *generator) pickBasket(c *customer, b *basket) {
	b.n = 1
	if g.chance(0.18) {
		b.n++
	}
	if c.orders > 0 && g.chance(0.42) {
		b.n++
	}
	for i := range b.n {
		b.lines[i] = line{v: g.pickVariant(c), qty: 1}
		if g.chance(0.04) {
			b.lines[i].qty = 2
		}
	}
}

// visit is a session on the website or in the app.
func (g *generator) visit(c *customer, t int64, app bool, camp uint8, cart int) {
	r := g.r
	v := &g.v
	*v = visit{c: c, app: app, t: t, sid: t, sale: t >= g.cal.saleFrom && t < g.cal.saleTo}
	if app {
		v.src, v.dev, v.anon = srcApp, c.appDev, c.appAnon
		if c.registered && c.appLogged {
			v.uid = c.uid
		}
	} else {
		v.src, v.dev, v.anon = srcWeb, c.webDev, c.webAnon
		switch {
		case c.webDev2 != nil && g.chance(0.3):
			v.dev, v.anon = c.webDev2, c.webAnon2
		case c.registered && c.webLogged:
			if g.chance(0.4) {
				v.uid = c.uid
			} else {
				c.webLogged = false // the session cookie expired
			}
		}
	}
	land := landHome
	if v.camp = g.campaignOf(camp); v.camp != nil {
		land = v.camp.landing
		v.ref = campaignReferrer[v.camp.source]
	} else if !app && g.chance(0.2) {
		v.camp = &adCampaigns[r.IntN(len(adCampaigns))]
		land = v.camp.landing
		v.ref = campaignReferrer[v.camp.source]
	} else {
		land = uint8(pickIdx(r, []float64{0.55, 0.3, 0.15}))
		v.ref = g.pick(organicReferrers)
	}
	if app {
		v.ref = ""
		p := g.props()
		if !c.appInstalled {
			c.appInstalled = true
			p.str("version", "3.4.1")
			p.str("build", "341")
			g.vtrack(v, "Application Installed")
			v.t += g.between(2*second, 10*second)
			p = g.props()
		}
		p.boolean("from_background", false)
		p.str("version", "3.4.1")
		g.vtrack(v, "Application Opened")
	}

	if land == landCart && cart >= 0 && cart < len(c.carts) {
		g.page(v, "Cart", "/gio-hang", siteURL+"/gio-hang", "Giỏ hàng – "+brandName, "", "")
		g.checkout(v, &c.carts[cart], true)
		return
	}

	var b basket
	g.pickBasket(c, &b)
	pBuy := 0.42
	if c.orders > 0 {
		pBuy = 0.56
	}
	if v.sale {
		pBuy += 0.2
	}
	buying := g.chance(pBuy)
	lists := 1
	for lists < 3 && g.chance(0.25) {
		lists++
	}
	if buying {
		lists = max(lists, b.n)
	}
	var got basket
	first := 0
	switch land {
	case landProduct:
		if !g.productView(v, b.lines[0].v) {
			return
		}
		if buying {
			g.productAdded(v, &got, b.lines[0])
		}
		first = 1
	case landSale:
		g.page(v, "Sale", "/khuyen-mai/"+g.cal.saleName, siteURL+"/khuyen-mai/"+g.cal.saleName, "Siêu sale "+g.cal.saleLabel+" – "+brandName, "", "")
	case landHome:
		g.page(v, "Home", "/", siteURL+"/", brandName+" – Túi xách & thời trang nữ", "", "")
	}
	for i := first; i < lists; i++ {
		target := b.lines[min(i, b.n-1)].v
		add := buying && i < b.n
		g.productList(v, target, land == landSale && i == 0)
		if !add && !g.chance(0.72) {
			continue
		}
		if !g.productView(v, target) {
			return
		}
		if add {
			g.productAdded(v, &got, b.lines[i])
			continue
		}
		for g.chance(0.25) {
			if !g.productView(v, g.pickVariant(c)) {
				return
			}
		}
	}
	if got.n > 0 && g.chance(0.9) {
		g.page(v, "Cart", "/gio-hang", siteURL+"/gio-hang", "Giỏ hàng – "+brandName, "", "")
		g.checkout(v, &got, false)
	}
}

// productList shows a category, search or sale list leading to variant vi.
func (g *generator) productList(v *visit, vi int, sale bool) {
	p := variants[vi].p
	listID, cat, query := categories[p.cat].slug, categories[p.cat].name, ""
	switch {
	case sale:
		listID, cat = g.cal.saleName, ""
	case g.chance(0.3):
		qi := g.r.IntN(len(p.queries))
		query = p.queries[qi]
		g.step(v, 3*second, 20*second)
		q := g.props()
		q.str("query", query)
		g.vtrack(v, "Products Searched")
		g.page(v, "Search", "/tim-kiem", p.searchURL[qi], "Tìm kiếm – "+brandName, "", "")
		listID, cat = "search_results", ""
	default:
		g.page(v, "Category", catPath[p.cat], catURL[p.cat], catTitle[p.cat], cat, "")
	}
	g.step(v, 1*second, 5*second)
	w := g.props()
	w.str("list_id", listID)
	if cat != "" {
		w.str("category", cat)
	}
	if query != "" {
		w.str("query", query)
	}
	w.arr("products")
	w.rawElem(variants[vi].listItem)
	w.b = append(w.b, '1', '}')
	same := listByCat[p.cat]
	pos := 2
	for j := 0; j < len(same) && pos <= 4; j++ {
		if variants[same[j]].p != p {
			w.rawElem(variants[same[j]].listItem)
			w.b = strconv.AppendInt(w.b, int64(pos), 10)
			w.b = append(w.b, '}')
			pos++
		}
	}
	w.closeArr()
	g.vtrack(v, "Product List Viewed")
}

// productView opens a product's page. It reports false when the visitor
// meets the login wall and leaves.
func (g *generator) productView(v *visit, vi int) bool {
	va := &variants[vi]
	if !v.app && v.dev.mobile && v.uid == "" && v.t >= g.cal.wall {
		g.step(v, 2*second, 8*second)
		p := g.props()
		p.str("product_id", va.p.id)
		p.str("reason", "product_detail")
		g.vtrack(v, "Login Wall Shown")
		if !g.chance(0.2) {
			return false
		}
		g.login(v)
	}
	g.page(v, "Product", va.path, va.url, va.title, categories[va.p.cat].name, va.p.id)
	g.step(v, 1*second, 3*second)
	p := g.props()
	p.fields(va.fields)
	p.str("url", va.url)
	g.vtrack(v, "Product Viewed")
	g.step(v, 15*second, 120*second)
	return true
}

func (g *generator) productAdded(v *visit, cart *basket, l line) {
	va := &variants[l.v]
	g.step(v, 3*second, 30*second)
	p := g.props()
	p.str("cart_id", cartID(v))
	p.fields(va.fields)
	p.num("quantity", int64(l.qty))
	g.vtrack(v, "Product Added")
	if cart.n < len(cart.lines) {
		cart.lines[cart.n] = l
		cart.n++
	}
}

// cartID names the cart of a visit.
func cartID(v *visit) string {
	return v.anon[:8] + "-" + strconv.FormatInt(v.sid/1000, 36)
}

// items writes the products array of a basket.
func items(w *jsonw, b *basket) {
	w.arr("products")
	for _, l := range b.lines[:b.n] {
		w.rawElem(variants[l.v].item)
		w.b = strconv.AppendInt(w.b, int64(l.qty), 10)
		w.b = append(w.b, '}')
	}
	w.closeArr()
}

// login signs the visitor in, or up when they have no account yet.
func (g *generator) login(v *visit) {
	c := v.c
	g.page(v, "Login", "/dang-nhap", siteURL+"/dang-nhap", "Đăng nhập – "+brandName, "", "")
	g.step(v, 15*second, 90*second)
	method := loginMethods[g.r.IntN(len(loginMethods))]
	v.uid = c.uid
	p := g.props()
	p.str("method", method)
	if c.registered {
		g.vtrack(v, "Signed In")
	} else {
		c.registered, c.createdAt = true, v.t
		g.vtrack(v, "Signed Up")
	}
	if v.app {
		c.appLogged = true
	} else {
		c.webLogged = true
	}
	v.t++
	g.add(v.src, event.Identify, "", v.t, v.uid, v.anon, nil, g.traits(c), g.vctx(v))
}

var loginMethods = []string{"phone", "phone", "email", "google", "facebook", "zalo"}

// checkout takes a cart to the checkout; recovery is a visit that came back
// from a cart reminder.
func (g *generator) checkout(v *visit, cart *basket, recovery bool) {
	c := v.c
	cid := cartID(v)
	g.step(v, 1*second, 3*second)
	p := g.props()
	p.str("cart_id", cid)
	items(p, cart)
	g.vtrack(v, "Cart Viewed")
	pCheckout := 0.62
	if recovery {
		pCheckout = 0.85
	}
	if !g.chance(pCheckout) {
		return
	}
	prefix := "MB"
	if v.app {
		prefix = "MA"
	}
	orderID := g.orderID(c, prefix)
	sub := cart.subtotal()
	g.page(v, "Checkout", "/thanh-toan", siteURL+"/thanh-toan", "Thanh toán – "+brandName, "", "")
	g.step(v, 1*second, 3*second)
	p = g.props()
	p.str("checkout_id", cid)
	p.str("order_id", orderID)
	p.num("value", sub)
	p.num("revenue", sub)
	p.str("currency", "VND")
	items(p, cart)
	g.vtrack(v, "Checkout Started")
	if v.uid == "" {
		if !g.chance(0.85) {
			return
		}
		g.login(v)
	}
	pDone := 0.42
	switch {
	case recovery:
		pDone = 0.6
	case v.sale:
		pDone = 0.55
	}
	if c.orders > 0 {
		pDone += 0.08
	}
	g.step(v, 30*second, 4*minute)
	if !g.chance(pDone) {
		if !recovery && (c.emailOpt || g.chance(0.5)) {
			c.carts = append(c.carts, *cart)
			g.schedule(v.t+g.between(1*hour, 4*hour), epCartReminder, campNone, int32(len(c.carts)-1))
		}
		return
	}
	coupon, pct := "", int64(0)
	switch {
	case v.sale:
		coupon, pct = g.cal.saleCoupon, 20
	case recovery && g.chance(0.5):
		coupon, pct = "GIOHANG5", 5
	case c.orders == 0 && g.chance(0.3):
		coupon, pct = "CHAOBAN10", 10
	}
	rev := sub - sub*pct/100
	ship := int64(0)
	if rev < 500000 {
		ship = 30000
	}
	p = g.props()
	orderProps(p, orderID, cart, sub, rev, ship, coupon)
	pay := g.pick(paymentsOnline)
	if c.persona == personaStudent && g.chance(0.5) {
		pay = "COD"
	}
	p.str("payment_method", pay)
	if v.app {
		p.str("affiliation", "Ứng dụng Mây")
	} else {
		p.str("affiliation", "Website maybouti.vn")
	}
	g.vtrack(v, "Order Completed")
	g.recordOrder(c, orderID, v.src, v.t, cart)
}

var (
	paymentsOnline = []string{"COD", "COD", "COD", "momo", "momo", "vnpay", "vnpay", "card"}
	paymentsStore  = []string{"cash", "cash", "card", "card", "momo", "vnpay"}
)

// orderProps writes the common properties of Order Completed.
func orderProps(p *jsonw, id string, b *basket, sub, rev, ship int64, coupon string) {
	p.str("order_id", id)
	p.num("subtotal", sub)
	p.num("discount", sub-rev)
	if coupon != "" {
		p.str("coupon", coupon)
	}
	p.num("shipping", ship)
	p.num("revenue", rev)
	p.num("total", rev+ship)
	p.str("currency", "VND")
	items(p, b)
}

// orderID is a new order number of the customer, unique in the data set.
func (g *generator) orderID(c *customer, prefix string) string {
	c.seq++
	return prefix + strconv.FormatInt(10_000_000_000+int64(c.idx)*1000+int64(c.seq%1000), 10)
}

// recordOrder counts a completed order and plans what follows it.
func (g *generator) recordOrder(c *customer, id string, src uint8, t int64, b *basket) {
	cal := g.cal
	c.orders++
	online := src == srcWeb || src == srcApp
	delayed := online && t >= cal.hotFrom-8*day && t < cal.hotTo-2*day
	c.ordersLog = append(c.ordersLog, orderRec{id: id, src: src, t: t, first: b.lines[0].v, delayed: delayed})
	k := int32(len(c.ordersLog) - 1)
	if online && c.registered && g.chance(0.7) {
		g.zns(c, t+g.between(1*minute, 3*minute), "order_confirmation", "Xác nhận đơn hàng", "", "", id, 0, campNone)
	}
	if src != srcPOS {
		switch {
		case delayed && g.chance(0.8):
			tc := max(t+36*hour, cal.hotFrom) + g.between(0, 2*day)
			if tc >= cal.hotTo {
				tc = cal.hotTo - g.between(2*hour, 24*hour)
			}
			g.schedule(tc, epCall, 1, 0)
		case g.chance(0.05):
			g.schedule(t+g.between(1*day, 4*day), epCall, 1, 0)
		}
		p := 0.14
		if delayed {
			p = 0.4
		}
		if g.chance(p) {
			g.schedule(t+g.between(3*day, 9*day), epReview, campNone, k)
		}
	}
	if g.chance(0.03) {
		g.schedule(t+g.between(4*day, 10*day), epCall, 2, 0)
	}
	if src != srcPOS && g.chance(0.12) {
		g.schedule(t+g.between(6*day, 8*day), epSurvey, campNone, k)
	}
	// Buyers come back: the second order comes sooner than the first did.
	back := int64(g.r.ExpFloat64() * 25 * float64(day))
	switch {
	case online && g.chance(0.3):
		kind := epWeb
		if c.app && (!c.web || g.chance(0.5)) {
			kind = epApp
		}
		g.schedule(t+back, kind, campNone, 0)
	case src >= srcShopee && src <= srcTiki && g.chance(0.2):
		g.schedule(t+back, epMarket, campNone, 0)
	}
}

// marketOrder is an order in the customer's marketplace shop.
func (g *generator) marketOrder(c *customer, t int64, sale bool) {
	if c.market == 0 {
		return
	}
	src := c.market
	key := Sources[src].Key
	x := &g.x
	x.begin()
	x.obj("library")
	x.str("name", key+"-connector")
	x.str("version", "2.3.0")
	x.close()
	x.obj("traits")
	x.str("name", c.buyerName)
	g.phoneField(x, "phone", c.phone, 3)
	x.close()
	ctx := x.end()
	if !c.marketKnown {
		c.marketKnown = true
		w := &g.t
		w.begin()
		w.str("name", c.name)
		w.str("username", c.buyerName)
		g.phoneField(w, "phone", c.phone, 3)
		w.str("marketplace", key)
		w.str("buyer_id", c.buyerID)
		w.str("city", g.pick(c.city.spellings))
		g.add(src, event.Identify, "", t-g.between(1*minute, 10*minute), "", c.marketAnon, nil, w.end(), ctx)
	}
	var b basket
	g.pickBasket(c, &b)
	prefix := [...]string{srcShopee: "SP", srcLazada: "LZ", srcTiki: "TK"}[src]
	id := g.orderID(c, prefix)
	sub := b.subtotal()
	coupon, pct := "", int64(0)
	if sale {
		coupon, pct = marketVoucher(key, g.cal.saleCoupon), 15
	}
	rev := sub - sub*pct/100
	p := g.props()
	orderProps(p, id, &b, sub, rev, g.between(15, 31)*1000, coupon)
	pay := "COD"
	if g.chance(0.4) {
		pay = [...]string{srcShopee: "ShopeePay", srcLazada: "LazadaWallet", srcTiki: "card"}[src]
	}
	p.str("payment_method", pay)
	p.str("marketplace", key)
	p.str("affiliation", Sources[src].Name)
	p.str("buyer_id", c.buyerID)
	p.str("buyer_username", c.buyerName)
	g.phoneField(p, "phone", c.phone, 3)
	p.str("shipping_city", g.pick(c.city.spellings))
	g.add(src, event.Track, "Order Completed", t, "", c.marketAnon, p.end(), nil, ctx)
	g.recordOrder(c, id, src, t, &b)
}

// marketVoucher is the marketplace voucher of the sale.
func marketVoucher(marketplace, coupon string) string {
	switch marketplace {
	case "shopee":
		return "SPMALL-" + coupon
	case "lazada":
		return "LZMALL-" + coupon
	}
	return "TIKI-" + coupon
}

// storeVisit is a purchase in a store.
func (g *generator) storeVisit(c *customer, t int64) {
	s := &stores[c.homeStore]
	if g.chance(0.1) {
		s = &stores[g.r.IntN(len(stores))]
	}
	x := &g.x
	x.begin()
	x.obj("library")
	x.str("name", "pos-connector")
	x.str("version", "1.8.2")
	x.close()
	x.obj("location")
	x.str("city", s.city)
	x.str("country", "Việt Nam")
	x.close()
	ctx := x.end()
	uid := ""
	if c.loyalty == "" && g.chance(0.55) {
		c.loyalty = loyaltyCard(c.idx)
		if !c.registered {
			c.registered, c.createdAt = true, t-2*minute
			p := g.props()
			p.str("method", "pos")
			p.str("store_id", s.id)
			g.add(srcPOS, event.Track, "Signed Up", t-2*minute, c.uid, "", p.end(), nil, ctx)
		}
		g.add(srcPOS, event.Identify, "", t-2*minute+1, c.uid, "", nil, g.traits(c), ctx)
	}
	var b basket
	g.pickBasket(c, &b)
	id := g.orderID(c, "HD"+s.id)
	aid := ""
	if c.loyalty != "" {
		uid = c.uid
	} else {
		aid = "pos:" + id
	}
	sub := b.subtotal()
	p := g.props()
	orderProps(p, id, &b, sub, sub, 0, "")
	p.str("payment_method", g.pick(paymentsStore))
	p.str("affiliation", s.name)
	p.str("store_id", s.id)
	p.str("store_name", s.name)
	p.str("staff_id", "NV-"+s.id+"-0"+strconv.Itoa(1+g.r.IntN(6)))
	if c.loyalty != "" {
		p.str("loyalty_card", c.loyalty)
		g.phoneField(p, "phone", c.phone, -1)
	}
	g.add(srcPOS, event.Track, "Order Completed", t, uid, aid, p.end(), nil, ctx)
	g.recordOrder(c, id, srcPOS, t, &b)
	if g.chance(0.15) {
		p := g.props()
		p.str("survey_id", "csat-cua-hang")
		p.str("survey_name", "Đánh giá trải nghiệm tại cửa hàng")
		p.str("order_id", id)
		p.str("store_id", s.id)
		p.num("csat", int64(pickIdx(g.r, []float64{0.02, 0.04, 0.12, 0.37, 0.45})+1))
		g.add(srcPOS, event.Track, "Survey Answered", t+g.between(1*minute, 5*minute), uid, aid, p.end(), nil, ctx)
	}
}

var topics = []string{"", topicDelivery, topicReturn, topicAdvice, topicPromo, topicComplain}

// call is a call to the hotline; topic indexes topics, 0 for a spontaneous
// call; tries counts earlier abandoned attempts.
func (g *generator) call(c *customer, t int64, topic uint8, tries int) {
	cal, r := g.cal, g.r
	t = openHours(r, t, 8, 21)
	if topic == 0 {
		topic = uint8(3 + pickIdx(r, []float64{0.45, 0.15, 0.2}))
		if g.chance(0.2) {
			topic = 2
		}
	}
	c.seq++
	callID := "CALL-" + strconv.Itoa(c.idx) + "-" + strconv.Itoa(c.seq)
	uid, aid := "", ""
	if c.registered {
		uid = c.uid
	} else {
		aid = "tel:+84" + c.phone[1:]
	}
	overload := t >= cal.hotFrom && t < cal.hotTo
	meanWait := 22.0
	if overload {
		meanWait = 480
	}
	wait := int64(r.ExpFloat64()*meanWait) + 3
	patience := int64(r.ExpFloat64()*200) + 10
	x := &g.x
	x.begin()
	x.obj("library")
	x.str("name", "callcenter-connector")
	x.str("version", "1.0.4")
	x.close()
	ctx := x.end()
	tp := topics[topic]

	p := g.props()
	p.str("call_id", callID)
	p.str("line", hotline)
	g.phoneField(p, "caller_phone", c.phone, -1)
	p.str("topic", tp)
	g.add(srcHotline, event.Track, "Call Started", t, uid, aid, p.end(), nil, ctx)
	if patience < wait {
		te := t + patience*second
		p = g.props()
		p.str("call_id", callID)
		p.num("wait_seconds", patience)
		p.str("topic", tp)
		g.add(srcHotline, event.Track, "Call Abandoned", te, uid, aid, p.end(), nil, ctx)
		p = g.props()
		p.str("call_id", callID)
		p.boolean("answered", false)
		p.num("wait_seconds", patience)
		p.num("duration", 0)
		p.str("topic", tp)
		p.str("outcome", "abandoned")
		g.add(srcHotline, event.Track, "Call Ended", te+1, uid, aid, p.end(), nil, ctx)
		if tries < 3 && g.chance(0.5) {
			g.schedule(te+g.between(5*minute, 90*minute), epCall, topic, int32(tries+1))
		}
		return
	}
	ta := t + wait*second
	agent := "AG-" + strconv.Itoa(101+r.IntN(18))
	p = g.props()
	p.str("call_id", callID)
	p.num("wait_seconds", wait)
	p.str("agent_id", agent)
	p.str("topic", tp)
	g.add(srcHotline, event.Track, "Call Answered", ta, uid, aid, p.end(), nil, ctx)
	talk := 45 + int64(r.ExpFloat64()*180)
	p = g.props()
	p.str("call_id", callID)
	p.boolean("answered", true)
	p.num("wait_seconds", wait)
	p.num("duration", talk)
	p.str("topic", tp)
	p.str("agent_id", agent)
	p.str("outcome", [...]string{"resolved", "resolved", "resolved", "callback", "escalated"}[r.IntN(5)])
	g.add(srcHotline, event.Track, "Call Ended", ta+talk*second, uid, aid, p.end(), nil, ctx)
}

// libCtx writes a context with just the library of a connector.
func (g *generator) libCtx(name string, traitKey, traitVal string) []byte {
	x := &g.x
	x.begin()
	x.obj("library")
	x.str("name", name)
	x.str("version", "1.0.0")
	x.close()
	if traitKey != "" {
		x.obj("traits")
		x.str(traitKey, traitVal)
		x.close()
	}
	return x.end()
}

// facebook is a comment on the fanpage or a message to it.
func (g *generator) facebook(c *customer, t int64) {
	ctx := g.libCtx("facebook-connector", "name", c.given.name+" "+c.family.name)
	c.seq++
	p := g.props()
	if g.chance(0.5) {
		p.str("post_id", "109283746501_"+strconv.Itoa(8800+g.r.IntN(120)))
		p.str("comment_id", strconv.Itoa(c.idx)+"_"+strconv.Itoa(c.seq))
		p.str("message", g.pick(fbComments))
		g.add(srcFacebook, event.Track, "Comment Posted", t, "", c.fbAnon, p.end(), nil, ctx)
	} else {
		p.str("conversation_id", "t_"+c.fbAnon[3:])
		p.str("message", g.pick(chatMessages))
		g.add(srcFacebook, event.Track, "Message Received", t, "", c.fbAnon, p.end(), nil, ctx)
	}
	if !c.marketOnly && g.chance(0.3) {
		g.schedule(t+g.between(2*minute, 30*minute), epWeb, campNone, 0)
	}
}

// zaloIDs are the identifiers of Zalo messages: the member when known, else
// the Zalo user.
func (g *generator) zaloIDs(c *customer) (uid, aid string) {
	if c.registered {
		return c.uid, ""
	}
	return "", "zalo:" + c.zaloID
}

func (g *generator) zaloFollow(c *customer, t int64) {
	c.zaloFollowed = true
	uid, aid := g.zaloIDs(c)
	ctx := g.libCtx("zalo-oa-connector", "", "")
	p := g.props()
	p.str("oa_id", "maybouti")
	p.str("oa_name", brandName)
	g.add(srcZalo, event.Track, "OA Followed", t, uid, aid, p.end(), nil, ctx)
	if !c.registered {
		w := &g.t
		w.begin()
		w.str("name", c.given.name)
		w.str("zalo_id", c.zaloID)
		g.add(srcZalo, event.Identify, "", t+1, uid, aid, nil, w.end(), ctx)
		return
	}
	g.add(srcZalo, event.Identify, "", t+1, uid, aid, nil, g.traits(c), ctx)
}

func (g *generator) zaloMessage(c *customer, t int64) {
	uid, aid := g.zaloIDs(c)
	c.seq++
	p := g.props()
	p.str("oa_id", "maybouti")
	p.str("msg_id", "zm-"+strconv.Itoa(c.idx)+"-"+strconv.Itoa(c.seq))
	p.str("message", g.pick(chatMessages))
	g.add(srcZalo, event.Track, "Message Received", t, uid, aid, p.end(), nil, g.libCtx("zalo-oa-connector", "", ""))
}

// zns sends a Zalo notification to the customer's phone; click, when not
// campNone, is the campaign of the visit a click brings.
func (g *generator) zns(c *customer, t int64, template, templateName, campName, link, orderID string, pClick float64, click uint8) {
	c.seq++
	znsID := "zns-" + strconv.Itoa(c.idx) + "-" + strconv.Itoa(c.seq)
	ctx := g.libCtx("zalo-zns-connector", "", "")
	p := g.props()
	p.str("zns_id", znsID)
	p.str("template_id", template)
	p.str("template_name", templateName)
	if campName != "" {
		p.str("campaign_name", campName)
	}
	if orderID != "" {
		p.str("order_id", orderID)
	}
	g.phoneField(p, "phone", c.phone, 2)
	g.add(srcZalo, event.Track, "ZNS Delivered", t, c.uid, "", p.end(), nil, ctx)
	if click == campNone || !g.chance(pClick) {
		return
	}
	tc := t + g.between(1*minute, 3*hour)
	p = g.props()
	p.str("zns_id", znsID)
	p.str("template_id", template)
	p.str("campaign_name", campName)
	p.str("link_url", link)
	g.add(srcZalo, event.Track, "ZNS Clicked", tc, c.uid, "", p.end(), nil, ctx)
	g.schedule(tc+g.between(2*second, 10*second), epClickVisit, click, -1)
}

// mail is an email of a campaign to one customer.
type mail struct {
	id, campID, campName, typ, subject, link string
}

func newMail(c *customer, campID, campName, typ, subject, link string) mail {
	return mail{id: "em-" + campID + "-" + strconv.Itoa(c.idx), campID: campID, campName: campName, typ: typ, subject: subject, link: link}
}

// mailProps starts the properties of an event of m.
func (g *generator) mailProps(m *mail) *jsonw {
	p := g.props()
	p.str("email_id", m.id)
	p.str("email_subject", m.subject)
	p.str("campaign_id", m.campID)
	p.str("campaign_name", m.campName)
	p.str("email_type", m.typ)
	return p
}

// email sends m; a click brings a visit from campaign click (with arg for
// the visit, e.g. the cart).
func (g *generator) email(c *customer, t int64, m *mail, pOpen, pClick float64, click uint8, arg int32) {
	ctx := g.libCtx("email-connector", "email", c.email)
	g.add(srcEmail, event.Track, "Email Delivered", t, c.uid, "", g.mailProps(m).end(), nil, ctx)
	if t > c.t1 { // lapsed customers rarely open
		pOpen /= 3
	}
	if !g.chance(pOpen) {
		return
	}
	to := t + minute + int64(g.r.ExpFloat64()*float64(5*hour))
	if localHour(to) < 6 {
		to += 7 * hour
	}
	g.emailOpened(c, to, m, pClick, click, arg)
}

// emailOpened is the customer opening m at t and, with chance pClick,
// clicking its link, which brings a visit from campaign click.
func (g *generator) emailOpened(c *customer, t int64, m *mail, pClick float64, click uint8, arg int32) {
	ctx := g.libCtx("email-connector", "email", c.email)
	g.add(srcEmail, event.Track, "Email Opened", t, c.uid, "", g.mailProps(m).end(), nil, ctx)
	if !g.chance(pClick) {
		return
	}
	tc := t + g.between(10*second, 5*minute)
	p := g.mailProps(m)
	p.str("link_url", m.link)
	g.add(srcEmail, event.Track, "Email Link Clicked", tc, c.uid, "", p.end(), nil, ctx)
	g.schedule(tc+g.between(2*second, 10*second), epClickVisit, click, arg)
}

var newsletterSubjects = []string{
	"Bộ sưu tập Thu Đông đã lên kệ",
	"Túi da mới: thanh lịch cho dân công sở",
	"Ưu đãi thành viên tháng này: giảm 15%",
	"5 cách phối túi tote cho mùa mưa",
	"Hàng mới về: ví cầm tay dự tiệc",
	"Tuần lễ thành viên – tích điểm x2",
	"Bí quyết bảo quản túi da bền đẹp",
	"Quà tặng cho người thương: gợi ý dưới 1 triệu",
}

func (g *generator) newsletter(c *customer, t int64, i int) {
	if !c.registered || !c.emailOpt || c.createdAt > t {
		return
	}
	m := newsletterMail(c, i)
	g.email(c, t, &m, 0.3, 0.2, campNewsletter, -1)
}

// newsletterMail is newsletter i (of calendar.newsletters) to c.
func newsletterMail(c *customer, i int) mail {
	return newMail(c, "nl-"+strconv.Itoa(i+1), "ban-tin-dinh-ky", "newsletter", newsletterSubjects[i%len(newsletterSubjects)],
		siteURL+"/danh-muc/tui-xach?utm_source=newsletter&utm_medium=email")
}

// blast sends the sale's messages: 0 teaser email, 1 launch, 2 last day.
func (g *generator) blast(c *customer, t int64, i int) {
	cal := g.cal
	if !c.registered || c.createdAt > t {
		return
	}
	link := siteURL + "/khuyen-mai/" + cal.saleName
	lapsed := 1.0
	if t > c.t1 {
		lapsed = 0.4
	}
	if i < 2 && c.emailOpt {
		subject := "Đếm ngược " + cal.saleLabel + ": sale đến 50% toàn bộ túi xách"
		if i == 1 {
			subject = cal.saleLabel + " – Siêu sale lớn nhất năm đã bắt đầu!"
		}
		m := newMail(c, cal.saleName+"-"+strconv.Itoa(i), cal.saleName, "promotion", subject, link)
		g.email(c, t, &m, 0.35, 0.3*lapsed, campSaleEmail, -1)
	}
	if i == 0 {
		return
	}
	if c.smsOpt {
		c.seq++
		content := "MAY BOUTIQUE: " + cal.saleLabel + " SALE den 50% tui xach, nhap " + cal.saleCoupon + " giam them 20%. Mua ngay: maybouti.vn/s/" + cal.saleName
		if i == 2 {
			content = "MAY BOUTIQUE: NGAY CUOI " + cal.saleLabel + " SALE! Nhap " + cal.saleCoupon + " giam 20%, het han 24h hom nay. maybouti.vn/s/" + cal.saleName
		}
		p := g.props()
		p.str("sms_id", "sms-"+strconv.Itoa(c.idx)+"-"+strconv.Itoa(c.seq))
		p.str("sender", "MAYBOUTIQUE")
		g.phoneField(p, "phone", c.phone, 2)
		p.str("campaign_name", cal.saleName)
		p.str("content", content)
		p.num("segments", 1)
		g.add(srcSMS, event.Track, "SMS Delivered", t, c.uid, "", p.end(), nil, g.libCtx("sms-brandname-connector", "", ""))
		if g.chance(0.07 * lapsed) {
			g.schedule(t+g.between(1*minute, 4*hour), epClickVisit, campSaleSMS, -1)
		}
	}
	if g.chance(0.6) { // has Zalo on that phone
		g.zns(c, t+g.between(0, 20*minute), "promotion_"+cal.saleName, "Khuyến mãi "+cal.saleLabel, cal.saleName, link, "", 0.12*lapsed, campSaleZNS)
	}
}

func (g *generator) cartReminder(c *customer, t int64, k int) {
	m := newMail(c, "cart-"+strconv.Itoa(k), "cart-reminder", "abandoned_cart", "Bạn quên gì trong giỏ hàng?",
		siteURL+"/gio-hang?utm_source=email&utm_campaign=cart-reminder")
	g.email(c, t, &m, 0.45, 0.4, campCart, int32(k))
}

// review is a product review of an order, where it was bought.
func (g *generator) review(c *customer, t int64, k int) {
	cal := g.cal
	o := &c.ordersLog[k]
	dist := []float64{0.03, 0.04, 0.1, 0.28, 0.55}
	if o.delayed || (t >= cal.hotFrom && t < cal.hotTo+7*day && g.chance(0.3)) {
		dist = []float64{0.35, 0.3, 0.15, 0.1, 0.1}
	}
	rating := pickIdx(g.r, dist) + 1
	va := &variants[o.first]
	uid, aid := c.uid, ""
	var ctx []byte
	switch o.src {
	case srcWeb, srcApp:
		if !c.registered {
			return
		}
		ctx = g.libCtx("reviews", "", "")
	default:
		uid, aid = "", c.marketAnon
		ctx = g.libCtx(Sources[o.src].Key+"-connector", "", "")
	}
	p := g.props()
	p.str("review_id", "rv-"+o.id)
	p.str("order_id", o.id)
	p.str("product_id", va.p.id)
	p.str("product_name", va.p.name)
	p.num("rating", int64(rating))
	p.str("review_body", g.pick(reviewBodies[rating]))
	g.add(o.src, event.Track, "Review Submitted", t, uid, aid, p.end(), nil, ctx)
}

// survey is the answer to the NPS survey sent after an order, by email or Zalo.
func (g *generator) survey(c *customer, t int64, k int) {
	if !c.registered {
		return
	}
	src := srcEmail
	switch {
	case c.emailOpt:
	case c.zaloFollowed:
		src = srcZalo
	default:
		return
	}
	o := &c.ordersLog[k]
	var nps int
	if o.delayed {
		nps = pickIdx(g.r, []float64{0.12, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.08, 0.05, 0.05})
	} else {
		nps = pickIdx(g.r, []float64{0.01, 0.01, 0.01, 0.02, 0.02, 0.04, 0.04, 0.12, 0.18, 0.25, 0.30})
	}
	csat := 1 + nps/2
	if csat > 5 {
		csat = 5
	}
	band := 0
	switch {
	case nps >= 9:
		band = 2
	case nps >= 7:
		band = 1
	}
	p := g.props()
	p.str("survey_id", "nps-sau-mua-hang")
	p.str("survey_name", "Khảo sát sau mua hàng")
	p.str("order_id", o.id)
	p.num("nps", int64(nps))
	p.num("csat", int64(csat))
	if cm := g.pick(surveyComments[band]); cm != "" {
		p.str("comment", cm)
	}
	g.add(src, event.Track, "Survey Answered", t, c.uid, "", p.end(), nil, g.libCtx("survey-connector", "", ""))
}

// traits are the identify traits of a known customer.
func (g *generator) traits(c *customer) []byte {
	w := &g.t
	w.begin()
	w.str("name", c.name)
	w.str("first_name", c.given.name)
	w.str("last_name", c.family.name)
	w.str("email", c.email)
	g.phoneField(w, "phone", c.phone, -1)
	if c.female {
		w.str("gender", "female")
	} else {
		w.str("gender", "male")
	}
	w.str("birthday", c.birth)
	w.str("city", g.pick(c.city.spellings))
	w.str("persona", Personas[c.persona].Key)
	w.key("created_at")
	w.b = append(w.b, '"')
	w.b = time.UnixMilli(c.createdAt).UTC().AppendFormat(w.b, time.RFC3339)
	w.b = append(w.b, '"')
	if c.loyalty != "" {
		w.str("loyalty_card", c.loyalty)
	}
	if c.zaloFollowed {
		w.str("zalo_id", c.zaloID)
	}
	w.boolean("email_opt_in", c.emailOpt)
	w.boolean("sms_opt_in", c.smsOpt)
	return w.end()
}

// phoneField writes a Vietnamese phone number (canonical 0912345678) in one
// of the formats people and systems use; format -1 picks one at random.
func (g *generator) phoneField(w *jsonw, k, phone string, format int) {
	if format < 0 {
		format = g.r.IntN(6)
	}
	var b [24]byte
	s := b[:0]
	n := phone[1:] // 912345678
	switch format {
	case 0:
		s = append(s, phone...)
	case 1:
		s = append(s, phone[:4]...)
		s = append(s, ' ')
		s = append(s, phone[4:7]...)
		s = append(s, ' ')
		s = append(s, phone[7:]...)
	case 2:
		s = append(s, "+84"...)
		s = append(s, n...)
	case 3:
		s = append(s, "84"...)
		s = append(s, n...)
	case 4:
		s = append(s, phone[:4]...)
		s = append(s, '.')
		s = append(s, phone[4:7]...)
		s = append(s, '.')
		s = append(s, phone[7:]...)
	default:
		s = append(s, "+84 "...)
		s = append(s, n[:3]...)
		s = append(s, ' ')
		s = append(s, n[3:6]...)
		s = append(s, ' ')
		s = append(s, n[6:]...)
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}
