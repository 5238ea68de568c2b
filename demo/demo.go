// Package demo generates a realistic, deterministic demo data set for cjm:
// the customer events of "Mây Boutique", an invented Vietnamese omnichannel
// fashion and handbag retailer. It sells on its website maybouti.vn and its
// app "Mây", in Shopee Mall, LazMall and Tiki shops, in five stores (two in
// Hà Nội, two in TP. Hồ Chí Minh, one in Đà Nẵng), answers a 1900 hotline,
// talks on its Facebook fanpage and Zalo OA, and sends email, SMS Brandname
// and Zalo ZNS messages.
//
// Generate streams the events of the data set, customer by customer, in
// batches per source, as messages of the Segment tracking spec (event.Message)
// ready for the ingestion pipeline. The same Options give byte-identical
// output: every customer draws from its own random stream, seeded by the seed
// and the customer's number, and message IDs are "demo-<seed>-<n>". Memory is
// bounded whatever the number of customers: only one customer's events and
// one open batch per source are held at a time. About 20 events are made per
// customer (ca. 100 thousand for the default 5,000 customers, 20 million for a
// million).
//
// # Customers
//
// Each customer has one of four personas (traits.persona, see Personas) that
// sets age, gender, price range and channel preferences. Web and app visitors
// browse anonymously (anonymousId) until they sign in or sign up, which sends
// an identify call with userId and traits: a Vietnamese name, email, a phone
// number in mixed formats ("0912 345 678", "+84912345678", ...), city (in
// several spellings), gender, birthday, loyalty_card for store members and
// zalo_id for Zalo OA followers. Marketplace buyers are known only by their
// marketplace buyer ID and phone (anonymousId "shopee:<buyer id>"), and many
// deal hunters shop only there. Store purchases carry the loyalty card and the
// member's userId, or are anonymous receipts. Hotline calls carry the member's
// userId or the caller's number (anonymousId "tel:<number>"). So one person
// appears under several identifiers that only identity resolution joins.
//
// Web and app events carry context.sessionId (the session's start in Unix
// ms) and, for visits that came from a campaign (ads, email, SMS, ZNS),
// context.campaign {source, medium, name} on every event of the visit, so
// that orders can be attributed to campaigns.
//
// Seasonality follows Vietnamese habits: browsing peaks in the evening
// (19:00-23:00 in Asia/Ho_Chi_Minh) and at lunch, stores are busiest at
// weekends, the hotline works 8:00-21:00 and is busiest on Mondays, activity
// rises around paydays and grows slowly over the window.
//
// # Stories
//
// Five stories are built into the data, for the analyses of cjm to find (see
// Stories and StoriesFor for their dates):
//
//  1. Forced login wall (login-wall). From the local midnight two months
//     before End, the website shows "Login Wall Shown" to anonymous visitors
//     on mobile web before they can see a product's details; four out of five
//     leave. On the web, Product List Viewed → Product Viewed conversion falls
//     sharply; in the app it does not change.
//  2. Hotline overloaded week (hotline-overload). A Monday-to-Sunday week about
//     15 weeks before End, a fire at the delivery partner's hub delays the
//     orders of the days before. Customers call about their deliveries: call
//     volume doubles, callers wait many times longer (wait_seconds), the share
//     of "Call Abandoned" jumps from under one in ten to more than half, and
//     1-2 star "Review Submitted" and NPS detractors become common.
//  3. Double-day sale (campaign). The latest M.M sale (10.10, 11.11, ...) that
//     fits in the window, three days long, with a teaser email the evening
//     before, then email, SMS Brandname and Zalo ZNS at launch and on the last
//     day. Visits carry context.campaign {source, medium, name: "sale-M-M"};
//     visits and orders (web, app and marketplaces) spike several times over
//     the baseline.
//  4. Loyal vs new (loyal-vs-new). Customers who have bought before buy more
//     often and their orders are about 30% larger than first orders, as in
//     Bain & Company's finding quoted in the seed articles.
//  5. Cart abandonment (cart-abandonment). Most "Checkout Started" are not
//     followed by "Order Completed"; signed-in customers who leave get a
//     reminder email (campaign "cart-reminder") 1-4 hours later, and some come
//     back through it to complete the order.
//
// # Live
//
// Live plays the shop as it is right now, for a served demo to look alive:
// short sessions of the data set's customers (continuing from their
// history) and of new visitors, mostly web and app visits with the odd
// call, store purchase, email and ZNS, emitted as they happen, about one
// event every two seconds.
package demo

import (
	"context"
	"errors"
	"time"

	"github.com/cjmhq/cjm/event"
)

// Options chooses the data set.
type Options struct {
	// Customers is how many customers to generate; 0 means 5000.
	Customers int
	// Seed chooses the random data; 0 means 1. The same Seed, Customers, End
	// and Months give byte-identical output.
	Seed int64
	// End is the end of the data: every event is before it. The zero time
	// means 2026-11-01 00:00 UTC.
	End time.Time
	// Months is how many months before End the data spans; 0 means 6.
	Months int
}

// DefaultEnd is the End used when Options.End is zero.
var DefaultEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.Customers <= 0 {
		o.Customers = 5000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.End.IsZero() {
		o.End = DefaultEnd
	}
	o.End = o.End.UTC()
	if o.Months <= 0 {
		o.Months = 6
	}
	return o
}

// Window is the time span [start, end) of the data set of o.
func (o Options) Window() (start, end time.Time) {
	o = o.withDefaults()
	return o.End.AddDate(0, -o.Months, 0), o.End
}

// SourceSpec is a source of the demo: where its events come from.
type SourceSpec struct {
	Key, Name string
	// Channel is one of website, app, pos, hotline, marketplace, email, sms,
	// zalo, social, other.
	Channel string
}

// The indexes of Sources, used inside the generator.
const (
	srcWeb uint8 = iota
	srcApp
	srcShopee
	srcLazada
	srcTiki
	srcFacebook
	srcZalo
	srcHotline
	srcPOS
	srcEmail
	srcSMS
	nSources
)

// Sources lists the sources of the demo in a fixed order.
var Sources = []SourceSpec{
	{"web", "Website maybouti.vn", "website"},
	{"app", "Ứng dụng Mây", "app"},
	{"shopee", "Shopee Mall", "marketplace"},
	{"lazada", "LazMall", "marketplace"},
	{"tiki", "Tiki", "marketplace"},
	{"facebook", "Facebook Fanpage", "social"},
	{"zalo", "Zalo OA", "zalo"},
	{"hotline", "Tổng đài 1900", "hotline"},
	{"pos", "Cửa hàng (POS)", "pos"},
	{"email", "Email marketing", "email"},
	{"sms", "SMS Brandname", "sms"},
}

// Persona is a representative customer of the demo, as a journey map draws
// it. Every generated customer has one, in traits.persona.
type Persona struct {
	Key           string
	Name          string
	NameEN        string
	Description   string
	DescriptionEN string
	// Share is the fraction of customers with this persona.
	Share float64
}

// The indexes of Personas.
const (
	personaOffice = iota
	personaStudent
	personaLoyal
	personaGift
)

// Personas lists the personas of the demo.
var Personas = []Persona{
	{
		Key:           "office",
		Name:          "Chị Lan – dân văn phòng bận rộn",
		NameEN:        "Lan – busy office worker",
		Description:   "Nữ, 25–38 tuổi, nhân viên văn phòng ở Hà Nội hoặc TP.HCM. Mua túi xách và đồ công sở 0,5–1,6 triệu trên website và ứng dụng, chủ yếu buổi tối và giờ nghỉ trưa; đọc email, ít thời gian nên bỏ đi khi phải đăng nhập hay chờ tổng đài.",
		DescriptionEN: "Woman, 25-38, office worker in Hà Nội or Ho Chi Minh City. Buys handbags and workwear for 0.5-1.6 million VND on the website and app, mostly in the evening and at lunch; reads email; short on time, so she leaves when made to log in or to wait on the hotline.",
		Share:         0.40,
	},
	{
		Key:           "student",
		Name:          "Minh Anh – sinh viên săn sale",
		NameEN:        "Minh Anh – deal-hunting student",
		Description:   "Nữ, 18–24 tuổi, sinh viên. Lướt Facebook và web trên điện thoại, mua nhiều trên Shopee, Lazada, Tiki, chờ các ngày sale đôi (10.10, 11.11), chọn món dưới 600 nghìn và trả tiền khi nhận hàng (COD).",
		DescriptionEN: "Woman, 18-24, student. Browses Facebook and the web on her phone, buys mostly on Shopee, Lazada and Tiki, waits for double-day sales (10.10, 11.11), picks items under 600 thousand VND and pays cash on delivery.",
		Share:         0.30,
	},
	{
		Key:           "loyal",
		Name:          "Cô Hạnh – khách quen cửa hàng",
		NameEN:        "Hạnh – store regular",
		Description:   "Nữ, 38–56 tuổi, có thẻ thành viên, mua tại cửa hàng gần nhà vào cuối tuần, thích túi da trên 1 triệu. Theo dõi Zalo OA, nhận SMS, hay gọi tổng đài hỏi hàng mới và đổi trả.",
		DescriptionEN: "Woman, 38-56, loyalty card holder; buys in her local store at weekends and likes leather bags over 1 million VND. Follows the Zalo OA, reads SMS, often calls the hotline about new arrivals and returns.",
		Share:         0.15,
	},
	{
		Key:           "gift",
		Name:          "Anh Tuấn – người mua quà",
		NameEN:        "Tuấn – gift buyer",
		Description:   "Nam, 26–42 tuổi, mua túi, ví, phụ kiện làm quà cho vợ hoặc người yêu, xem trên máy tính, gọi tổng đài nhờ tư vấn, mua không thường xuyên nhưng giá trị cao.",
		DescriptionEN: "Man, 26-42, buys bags, wallets and accessories as gifts for his wife or girlfriend; browses on a computer, calls the hotline for advice; buys rarely but spends well.",
		Share:         0.15,
	},
}

// Story is a pattern built into the data set, for an analysis to find.
type Story struct {
	Key           string
	Title         string
	TitleEN       string
	Description   string
	DescriptionEN string
	// Start and End bound the period of the story; for stories that hold all
	// along they are the data window.
	Start, End time.Time
}

// Stories lists the stories of the default data set (End = DefaultEnd, 6
// months); StoriesFor gives the dates for other options.
var Stories = StoriesFor(Options{})

// StoriesFor lists the stories of the data set of o with their dates.
func StoriesFor(o Options) []Story {
	o = o.withDefaults()
	c := newCalendar(o)
	return c.stories()
}

// Stats counts what Generate emitted.
type Stats struct {
	Customers int
	Messages  int
	// BySource counts messages by source key.
	BySource map[string]int
}

// batchSize is the largest batch passed to emit.
const batchSize = 1000

// Generate streams the data set of opts: emit is called with a source key
// and a batch of at most 1000 messages of that source, each time a new slice
// that emit may keep. A customer's messages are emitted in time order; the
// data set as a whole is not. Generation stops at the first error of emit or
// when ctx is done.
func Generate(ctx context.Context, opts Options, emit func(sourceKey string, msgs []event.Message) error) (Stats, error) {
	if emit == nil {
		return Stats{}, errors.New("demo: nil emit")
	}
	opts = opts.withDefaults()
	g := newGenerator(opts, emit)
	for i := 0; i < opts.Customers; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return g.statsOut(), err
			}
		}
		g.customer(i)
		if err := g.flushCustomer(); err != nil {
			return g.statsOut(), err
		}
		g.stats.Customers++
	}
	for s := range nSources {
		if err := g.flushSource(s); err != nil {
			return g.statsOut(), err
		}
	}
	return g.statsOut(), nil
}
