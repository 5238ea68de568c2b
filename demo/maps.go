package demo

import (
	"time"

	"github.com/cjmhq/cjm/journeymap"
)

// Maps returns the two finished journey maps of Mây Boutique, written in
// lang ("en" for English, anything else for Vietnamese, the primary
// language), for the stories of the default data set:
//
//  1. "Chị Lan mua online" (Lan shops online): the office worker of
//     Personas[0] on the retail stages, with matchers that classify the
//     demo's web, app, marketplace, social, Zalo, hotline, email and SMS
//     events.
//  2. "Khách trung thành ở cửa hàng" (store-first loyal customer): the store
//     regular of Personas[2] on the 5A stages, compared with the gift buyer
//     of Personas[3].
//
// The two languages have the same keys, matchers, scores and dates; only the
// text differs. Matchers name sources as in Sources or by their channel.
func Maps(lang string) []*journeymap.Map {
	if lang != "en" {
		lang = "vi"
	}
	w := &mapWriter{lang: lang, cal: newCalendar(Options{}.withDefaults())}
	maps := []*journeymap.Map{w.lanShopsOnline(), w.storeRegular()}
	for _, m := range maps {
		m.AssignIDs()
	}
	return maps
}

// mapWriter writes the maps in one language.
type mapWriter struct {
	lang string
	cal  *calendar
}

// s picks the text of the map's language.
func (w *mapWriter) s(vi, en string) string {
	if w.lang == "en" {
		return en
	}
	return vi
}

// card is a lane card with optional evidence.
func (w *mapWriter) card(vi, en string, ev ...journeymap.Evidence) journeymap.Card {
	return journeymap.Card{Text: w.s(vi, en), Evidence: ev}
}

// cards makes cards of vi, en pairs.
func (w *mapWriter) cards(pairs ...string) []journeymap.Card {
	if len(pairs)%2 != 0 {
		panic("demo: cards needs vi, en pairs")
	}
	cs := make([]journeymap.Card, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		cs = append(cs, w.card(pairs[i], pairs[i+1]))
	}
	return cs
}

func (w *mapWriter) emotion(score int, vi, en string, ev ...journeymap.Evidence) *journeymap.Emotion {
	return &journeymap.Emotion{Score: score, Label: w.s(vi, en), Evidence: ev}
}

func (w *mapWriter) evidence(kind journeymap.EvidenceKind, date, sourceVI, sourceEN, noteVI, noteEN string) journeymap.Evidence {
	return journeymap.Evidence{Kind: kind, Source: w.s(sourceVI, sourceEN), Date: date, Note: w.s(noteVI, noteEN)}
}

// Dates of the stories, in the shop's time zone.
func (w *mapWriter) dayVI(ms int64) string { return time.UnixMilli(ms).In(ict).Format("02/01/2006") }
func (w *mapWriter) dayEN(ms int64) string { return time.UnixMilli(ms).In(ict).Format("2 Jan 2006") }
func (w *mapWriter) iso(ms int64) string   { return time.UnixMilli(ms).In(ict).Format(time.DateOnly) }

// Matcher building blocks.

func jmMatch(precedence int, r journeymap.Rule) *journeymap.Matcher {
	return &journeymap.Matcher{Precedence: precedence, Rule: r}
}

// jmEvents is a rule list matching any of the event (or page, screen) names.
func jmEvents(names ...string) []journeymap.Rule {
	rs := make([]journeymap.Rule, len(names))
	for i, n := range names {
		rs[i] = journeymap.Rule{Event: n}
	}
	return rs
}

func jmWhere(field string, op journeymap.Op, value string) journeymap.Condition {
	return journeymap.Condition{Field: field, Op: op, Value: value}
}

func jmIn(field string, values ...string) journeymap.Condition {
	return journeymap.Condition{Field: field, Op: journeymap.OpIn, Values: values}
}

// Source names of the matchers, as in Sources.
var (
	srcNameFacebook = Sources[srcFacebook].Name
	srcNameZalo     = Sources[srcZalo].Name
	srcNameEmail    = Sources[srcEmail].Name
	srcNamePOS      = Sources[srcPOS].Name
)

// lanShopsOnline is map 1: Lan, the office worker, shopping online.
func (w *mapWriter) lanShopsOnline() *journeymap.Map {
	cal := w.cal
	p := &Personas[personaOffice]
	wallVI, wallEN := w.dayVI(cal.wall), w.dayEN(cal.wall)
	hotVI := w.dayVI(cal.hotFrom) + "–" + w.dayVI(cal.hotTo-day)
	hotEN := w.dayEN(cal.hotFrom) + " – " + w.dayEN(cal.hotTo-day)
	hotISO := w.iso(cal.hotTo + 3*day)
	saleVI := w.dayVI(cal.saleFrom) + "–" + w.dayVI(cal.saleTo-day)
	saleEN := w.dayEN(cal.saleFrom) + " – " + w.dayEN(cal.saleTo-day)
	saleISO := w.iso(cal.saleTo + day)
	label := cal.saleLabel
	// The evidence of the analyses, dated a few days after what they saw.
	funnelISO := w.iso(cal.wall + 30*day)
	lastISO := w.iso(cal.end - 5*day)

	wallEvidence := w.evidence("analytics", funnelISO, "cjm – Phễu Danh sách → Xem sản phẩm", "cjm – Product List → Product Viewed funnel",
		"Từ "+wallVI+", tỉ lệ Product List Viewed → Product Viewed trên web giảm mạnh, trên ứng dụng không đổi; sự kiện Login Wall Shown xuất hiện trên web di động.",
		"Since "+wallEN+", Product List Viewed → Product Viewed on the web has dropped sharply while the app is unchanged; Login Wall Shown events appear on mobile web.")
	cartEvidence := w.evidence("analytics", lastISO, "cjm – Phễu thanh toán", "cjm – checkout funnel",
		"Phần lớn lượt Checkout Started không dẫn tới Order Completed; một phần khách quay lại qua email nhắc giỏ hàng (cart-reminder).",
		"Most Checkout Started are not followed by Order Completed; some customers come back through the cart reminder email (cart-reminder).")
	hotEvidence := w.evidence("analytics", hotISO, "cjm – Tổng đài 1900", "cjm – 1900 hotline",
		"Tuần "+hotVI+": số cuộc gọi tăng gấp đôi, thời gian chờ (wait_seconds) tăng nhiều lần, hơn một nửa cuộc gọi bị bỏ dở (Call Abandoned).",
		"Week of "+hotEN+": calls doubled, wait_seconds grew manyfold and more than half of the calls were abandoned (Call Abandoned).")
	reviewEvidence := w.evidence("review", hotISO, "Đánh giá trên website và Shopee Mall", "Reviews on the website and Shopee Mall",
		"\"Giao hàng quá chậm, gọi hotline mãi không được.\" – nhiều đánh giá 1–2 sao sau sự cố giao hàng.",
		"\"Delivery far too slow, could never get through to the hotline.\" – many 1-2 star reviews after the delivery incident.")
	saleEvidence := w.evidence("analytics", saleISO, "cjm – Chiến dịch "+cal.saleName, "cjm – campaign "+cal.saleName,
		"Lượt truy cập có context.campaign.name \""+cal.saleName+"\" và đơn hàng trên web, ứng dụng và sàn tăng gấp nhiều lần ngày thường.",
		"Visits with context.campaign.name \""+cal.saleName+"\" and orders on the web, the app and the marketplaces were several times a normal day's.")
	loyalEvidence := w.evidence("analytics", lastISO, "cjm – Khách quen và khách mới", "cjm – repeat vs new customers",
		"Đơn của khách đã từng mua lớn hơn khoảng 30% so với đơn đầu tiên và họ mua thường xuyên hơn (Bain & Company: khách trung thành chi tiêu nhiều hơn 31%).",
		"Orders of returning customers are about 30% larger than first orders and come more often (Bain & Company: loyal customers spend 31% more).")
	npsEvidence := w.evidence("survey", lastISO, "Khảo sát sau mua hàng (NPS)", "Post-purchase survey (NPS)",
		"Khách hài lòng nhắc đến giao nhanh và túi đúng như hình; khách không hài lòng nhắc đến đơn trễ.",
		"Promoters mention fast delivery and bags true to the photos; detractors mention late orders.")
	staffEvidence := w.evidence("staff_feedback", "2026-06-12", "Nhóm trực fanpage", "Fanpage team",
		"Phần lớn bình luận dưới bài quảng cáo là hỏi giá, hỏi màu; nhân viên trả lời \"ib shop\" và khách ít khi nhắn tiếp.",
		"Most comments under the ads ask for the price or colours; staff answer \"DM us\" and customers rarely follow up.")

	return &journeymap.Map{
		Schema:   journeymap.SchemaVersion,
		Name:     w.s("Chị Lan mua online", "Lan shops online"),
		Lang:     w.lang,
		State:    journeymap.Current,
		Template: "retail",
		Goal: journeymap.Goal{
			Why: w.s("Khách văn phòng là nhóm đông nhất của Mây Boutique (khoảng 40% khách) và mua chủ yếu trên website và ứng dụng, nhưng từ "+wallVI+" lượt xem sản phẩm trên web di động giảm mạnh và phần lớn giỏ hàng bị bỏ dở. Cần nhìn toàn bộ hành trình mua online để biết khách rơi ở đâu.",
				"Office workers are Mây Boutique's largest group (about 40% of customers) and buy mostly on the website and the app, but since "+wallEN+" product views on mobile web have dropped sharply and most carts are abandoned. We need the whole online journey to see where customers fall away."),
			Achieve: w.s("Khôi phục tỉ lệ Danh sách → Xem sản phẩm trên web di động, tăng tỉ lệ hoàn tất thanh toán thêm 10 điểm phần trăm và giữ tỉ lệ cuộc gọi bị bỏ dở ở tổng đài dưới 10%.",
				"Restore Product List → Product Viewed on mobile web, raise checkout completion by 10 percentage points and keep abandoned hotline calls under 10%."),
			Audience: w.s("Nhóm Marketing, Thương mại điện tử và CSKH của Mây Boutique; ban giám đốc xem lại mỗi quý.",
				"Mây Boutique's Marketing, E-commerce and Customer service teams; reviewed by management every quarter."),
		},
		Departments: []string{
			"Marketing",
			w.s("Thương mại điện tử", "E-commerce"),
			w.s("CSKH", "Customer service"),
			w.s("Vận hành và giao nhận", "Operations and delivery"),
			"IT",
		},
		Persona: &journeymap.Persona{
			Name:       w.s(p.Name, p.NameEN),
			Avatar:     "L",
			Age:        "25–38",
			Gender:     w.s("Nữ", "Female"),
			Location:   w.s("Hà Nội, TP. Hồ Chí Minh", "Hà Nội, Ho Chi Minh City"),
			Occupation: w.s("Nhân viên văn phòng (kế toán, hành chính, kinh doanh)", "Office worker (accounting, administration, sales)"),
			Income:     w.s("15–30 triệu đồng/tháng", "15-30 million VND a month"),
			Psychographics: w.s("Thích phong cách công sở thanh lịch, tối giản; quý thời gian, mua sắm trên điện thoại vào giờ nghỉ trưa và buổi tối; tin đánh giá của người đã mua hơn quảng cáo; sẵn lòng trả thêm cho chất lượng và giao nhanh.",
				"Likes an elegant, minimal office style; values her time and shops on her phone at lunch and in the evening; trusts buyers' reviews more than ads; will pay more for quality and fast delivery."),
			Goals: []string{
				w.s("Tìm túi xách, đồ công sở hợp gu trong tầm 0,5–1,6 triệu đồng", "Find handbags and workwear to her taste for 0.5-1.6 million VND"),
				w.s("Mua xong trong giờ nghỉ trưa, không mất thời gian", "Buy within her lunch break without wasting time"),
				w.s("Nhận hàng đúng hẹn, đổi trả dễ dàng", "Get orders on time and return items easily"),
			},
			Frustrations: []string{
				w.s("Bị bắt đăng nhập mới được xem chi tiết sản phẩm", "Being made to log in before seeing a product's details"),
				w.s("Gọi tổng đài phải chờ lâu", "Waiting on the hotline"),
				w.s("Màu sản phẩm thực tế khác ảnh", "Colours that differ from the photos"),
				w.s("Phí giao hàng cho đơn dưới 500 nghìn đồng", "Paying for delivery on orders under 500 thousand VND"),
			},
			Channels: []journeymap.Channel{"website", "app", "email", "social", "zalo"},
			Quote: w.s("Chị chỉ có mười lăm phút nghỉ trưa, trang nào bắt đăng nhập là chị tắt luôn.",
				"I have fifteen minutes at lunch; if a site makes me log in, I close it."),
			Research: w.s("12 cuộc phỏng vấn khách nữ văn phòng ở Hà Nội và TP. Hồ Chí Minh, khảo sát NPS sau mua hàng, dữ liệu hành vi trên website và ứng dụng của khách có traits.persona = office.",
				"12 interviews with women office workers in Hà Nội and Ho Chi Minh City, the post-purchase NPS survey, and web and app behaviour of customers with traits.persona = office."),
			Evidence: []journeymap.Evidence{
				w.evidence("interview", "2026-04-20", "Phỏng vấn khách hàng (12 người)", "Customer interviews (12 people)",
					"Khách mua chủ yếu giờ nghỉ trưa và sau 21 giờ, trên điện thoại; ít khi gọi điện.",
					"Customers buy mostly at lunch and after 9 pm, on their phones; they rarely call."),
				npsEvidence,
			},
		},
		Stages: []journeymap.Stage{
			{
				Key:  "awareness",
				Name: w.s("Nhận biết", "Awareness"),
				CustomerGoal: w.s("Biết đến Mây Boutique và thấy mẫu túi hợp với phong cách công sở của mình.",
					"Discover Mây Boutique and see bags that suit her office style."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Lướt Facebook giờ nghỉ trưa, thấy quảng cáo túi công sở", "Scrolls Facebook at lunch and sees an ad for office bags",
						"Mở email khuyến mãi, SMS và ZNS báo sale "+label, "Opens the promotional email, SMS and ZNS about the "+label+" sale",
						"Bình luận hỏi giá, nhắn tin cho fanpage", "Comments to ask the price and messages the fanpage",
					),
					Thoughts: w.cards(
						"Mẫu này đi làm hợp đấy, không biết giá bao nhiêu?", "That would work for the office – how much is it?",
						"Sale "+label+" có giảm thật không hay tăng giá rồi mới giảm?", "Is the "+label+" sale a real discount or inflated prices?",
					),
					Emotion: w.emotion(1, "Tò mò", "Curious"),
					PainPoints: []journeymap.Card{
						w.card("Hỏi giá dưới bài quảng cáo chỉ được trả lời \"ib shop\", phải nhắn riêng mới biết giá",
							"Asking the price under an ad only gets \"DM us\"; she has to message privately to learn it", staffEvidence),
					},
					Opportunities: w.cards(
						"Trả lời tự động giá và đường dẫn sản phẩm ngay dưới bình luận", "Answer comments automatically with the price and a product link",
						"Gửi email, SMS theo danh mục khách đã xem (túi công sở) thay vì gửi đại trà", "Send email and SMS about the categories she viewed (office bags) instead of mass mailings",
					),
					Solutions: w.cards(
						"Kịch bản trả lời tự động trên fanpage kèm link sản phẩm có UTM", "Fanpage auto-reply script with UTM-tagged product links",
					),
					ResourcesHave: w.cards(
						"Fanpage, danh sách email, SMS Brandname và Zalo ZNS", "Fanpage, email list, SMS Brandname and Zalo ZNS",
						"Ngân sách quảng cáo Facebook, Google và TikTok", "Ad budget on Facebook, Google and TikTok",
					),
					ResourcesNeed: w.cards(
						"Phân nhóm khách theo hành vi để gửi thông điệp cá nhân hoá", "Behavioural segments for personalised messages",
					),
					Owner: "Marketing",
					KPIs: w.cards(
						"Lượt truy cập từ chiến dịch (context.campaign)", "Visits from campaigns (context.campaign)",
						"Tỉ lệ mở email", "Email open rate",
						"Chi phí thu hút một khách hàng (CAC)", "Customer acquisition cost (CAC)",
					),
					MomentsOfTruth: []journeymap.Card{
						w.card("Siêu sale "+label+" ("+saleVI+"): email, SMS Brandname và ZNS đưa lượt truy cập và đơn hàng lên gấp nhiều lần ngày thường",
							"The "+label+" mega sale ("+saleEN+"): email, SMS Brandname and ZNS lift visits and orders to several times a normal day's", saleEvidence),
					},
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "fanpage", Name: w.s("Fanpage Facebook: bình luận, nhắn tin", "Facebook fanpage comments and messages"),
						Channel: "social", Services: []string{"information", "prices", "offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameFacebook, Any: jmEvents("Comment Posted", "Message Received")}),
					},
					{
						Key: "campaign-landing", Name: w.s("Trang đích từ quảng cáo và chiến dịch (UTM)", "Campaign landing pages (UTM)"),
						Channel: "ads", Services: []string{"information", "offers"}, Expected: true,
						// Home, sale and category pages of visits that came from a
						// campaign; they would otherwise be browsing.
						Match: jmMatch(10, journeymap.Rule{
							Any:   jmEvents("Home", "Sale", "Category"),
							Where: []journeymap.Condition{jmWhere("context.campaign.source", journeymap.OpExists, "")},
						}),
					},
					{
						Key: "promo-email", Name: w.s("Email khuyến mãi", "Promotional email"),
						Channel: "email", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{
							Source: srcNameEmail, Any: jmEvents("Email Delivered", "Email Opened"),
							Where: []journeymap.Condition{jmWhere("properties.email_type", journeymap.OpEq, "promotion")},
						}),
					},
					{
						Key: "sms-brandname", Name: w.s("SMS Brandname báo sale", "SMS Brandname sale alerts"),
						Channel: "sms", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "sms", Event: "SMS Delivered"}),
					},
					{
						Key: "zns-promo", Name: w.s("Zalo ZNS khuyến mãi", "Zalo ZNS promotions"),
						Channel: "zalo", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{
							Source: srcNameZalo, Event: "ZNS Delivered",
							Where: []journeymap.Condition{jmWhere("properties.template_id", journeymap.OpRegex, "^promotion_")},
						}),
					},
				},
			},
			{
				Key:  "consideration",
				Name: w.s("Cân nhắc", "Consideration"),
				CustomerGoal: w.s("Xem kỹ chi tiết, chất liệu, giá và đánh giá để chọn được chiếc túi ưng ý mà không mất nhiều thời gian.",
					"Check details, material, price and reviews to pick the right bag without spending much time."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Xem danh mục túi xách, tìm \"túi tote công sở\"", "Browses the handbag category and searches for \"office tote\"",
						"Mở trang chi tiết sản phẩm, xem ảnh, chất liệu, giá", "Opens product pages to check photos, material and price",
						"So sánh với mẫu tương tự trên Shopee Mall", "Compares with similar bags on Shopee Mall",
					),
					Thoughts: w.cards(
						"Da thật không? Đựng vừa laptop 13 inch không?", "Is it real leather? Will a 13-inch laptop fit?",
						"Sao phải đăng nhập mới xem được chi tiết?", "Why do I have to log in just to see the details?",
					),
					Emotion: w.emotion(-1, "Bực mình", "Annoyed", wallEvidence),
					PainPoints: []journeymap.Card{
						w.card("Từ "+wallVI+", web di động bắt khách chưa đăng nhập phải đăng nhập trước khi xem chi tiết sản phẩm; khoảng 4/5 khách rời đi",
							"Since "+wallEN+", mobile web makes anonymous visitors log in before they see a product's details; about four in five leave", wallEvidence),
						w.card("Màu thực tế hơi khác ảnh chụp trong studio", "Real colours differ a little from the studio photos",
							w.evidence("review", "2026-08-18", "Đánh giá 3 sao trên website", "3-star review on the website", "\"Tạm được, màu hơi khác ảnh.\"", "\"OK, the colour is a bit different from the photo.\"")),
					},
					Opportunities: w.cards(
						"Cho xem sản phẩm tự do, chỉ mời đăng nhập khi thanh toán", "Let everyone see products; ask to log in only at checkout",
						"Đăng nhập một chạm bằng Zalo, Google hoặc số điện thoại", "One-tap login with Zalo, Google or a phone number",
						"Ảnh thật và video ngắn cho từng màu", "Real photos and short videos for every colour",
					),
					Solutions: w.cards(
						"Gỡ bức tường đăng nhập trên web di động, thử A/B trong hai tuần", "Remove the mobile web login wall, A/B test for two weeks",
					),
					ResourcesHave: w.cards(
						"Ứng dụng Mây không bắt đăng nhập, tỉ lệ xem sản phẩm ổn định", "The Mây app has no login wall and steady product views",
						"Đăng nhập bằng Google, Facebook, Zalo đã có sẵn", "Login with Google, Facebook and Zalo already exists",
					),
					ResourcesNeed: w.cards(
						"Thời gian chụp ảnh, quay video sản phẩm", "Time for product photos and videos",
					),
					Owner: w.s("Thương mại điện tử", "E-commerce"),
					KPIs: w.cards(
						"Tỉ lệ Danh sách → Xem sản phẩm (web và ứng dụng)", "Product List → Product Viewed rate (web and app)",
						"Tỉ lệ thêm vào giỏ", "Add-to-cart rate",
					),
					MomentsOfTruth: w.cards(
						"Lần đầu mở trang sản phẩm trên điện thoại: thấy ngay sản phẩm hay gặp màn hình đăng nhập", "First product page on her phone: the product, or a login screen",
					),
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "web-browse", Name: w.s("Website: trang chủ, danh mục, tìm kiếm", "Website home, categories and search"),
						Channel: "website", Services: []string{"information", "prices", "comparing"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "website",
							Any: jmEvents("Home", "Category", "Search", "Sale", "Products Searched", "Product List Viewed")}),
					},
					{
						Key: "web-product", Name: w.s("Trang chi tiết sản phẩm trên website", "Website product page"),
						Channel: "website", Services: []string{"information", "prices", "comparing"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "website",
							Any: []journeymap.Rule{{Path: "/san-pham/**"}, {Event: "Product Viewed"}}}),
					},
					{
						Key: "login-wall", Name: w.s("Đăng nhập và bức tường đăng nhập trên website", "Website login and login wall"),
						Channel: "website", Services: []string{"information"}, Expected: false,
						Lanes: journeymap.Lanes{
							Emotion: w.emotion(-2, "Bực mình", "Annoyed", wallEvidence),
							PainPoints: []journeymap.Card{
								w.card("Màn hình đăng nhập chặn trước trang sản phẩm: khách đang xem vội bỏ đi", "A login screen before the product page: customers in a hurry leave", wallEvidence),
							},
							Opportunities: w.cards(
								"Bỏ bắt đăng nhập, chuyển lời mời đăng nhập xuống bước thanh toán", "Drop the wall; invite customers to log in at checkout instead",
							),
							Owner: w.s("Thương mại điện tử", "E-commerce"),
						},
						// Precedence over the product page: the wall is shown on it.
						Match: jmMatch(10, journeymap.Rule{Channel: "website",
							Any: jmEvents("Login Wall Shown", "Login", "Signed In", "Signed Up")}),
					},
					{
						Key: "app-browse", Name: w.s("Ứng dụng Mây: xem sản phẩm", "Mây app browsing"),
						Channel: "app", Services: []string{"information", "prices", "offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "app",
							Any: jmEvents("Application Installed", "Application Opened", "Home", "Category", "Search", "Sale", "Product",
								"Products Searched", "Product List Viewed", "Product Viewed")}),
					},
				},
			},
			{
				Key:  "purchase",
				Name: w.s("Mua hàng", "Purchase"),
				CustomerGoal: w.s("Đặt hàng nhanh, thanh toán tiện và biết rõ phí giao hàng, thời gian nhận.",
					"Order quickly, pay conveniently and know the delivery fee and date up front."),
				// Orders and store visits no touchpoint claims.
				Match: jmMatch(0, journeymap.Rule{Any: []journeymap.Rule{
					{Event: "Order Completed"},
					{Channel: "pos", Type: "track"},
				}}),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Thêm túi vào giỏ, nhập mã giảm giá", "Adds a bag to the cart and enters a coupon",
						"Thanh toán COD, MoMo hoặc VNPay", "Pays cash on delivery, with MoMo or VNPay",
						"Bỏ giỏ khi thấy phí giao hàng hoặc bị gọi đi họp", "Abandons the cart when she sees the delivery fee or is called into a meeting",
					),
					Thoughts: w.cards(
						"Có mã giảm giá nào không?", "Is there a coupon?",
						"Đơn dưới 500 nghìn mất 30 nghìn phí ship, hay mua thêm món nữa?", "Under 500 thousand costs 30 thousand delivery – should I add something?",
					),
					Emotion: w.emotion(0, "Phân vân", "Hesitant", cartEvidence),
					PainPoints: []journeymap.Card{
						w.card("Phần lớn lượt bắt đầu thanh toán không thành đơn: khách bỏ giỏ giữa chừng", "Most checkouts do not become orders: customers abandon their carts", cartEvidence),
						w.card("Khách chưa đăng nhập phải đăng nhập ở bước thanh toán", "Anonymous customers must log in at checkout"),
					},
					Opportunities: w.cards(
						"Email và ZNS nhắc giỏ hàng sau 1–4 giờ, kèm mã GIOHANG5", "Cart reminder email and ZNS after 1-4 hours, with the GIOHANG5 coupon",
						"Cho đặt hàng không cần tài khoản", "Guest checkout",
						"Hiện rõ ngưỡng miễn phí giao hàng 500 nghìn trong giỏ", "Show the 500 thousand free-delivery threshold in the cart",
					),
					Solutions: w.cards(
						"Thêm ZNS nhắc giỏ hàng cho khách không nhận email", "Add a ZNS cart reminder for customers without email",
					),
					ResourcesHave: w.cards(
						"Email nhắc giỏ hàng (cart-reminder) đang chạy", "The cart reminder email (cart-reminder) is running",
						"Cổng thanh toán MoMo, VNPay và thẻ", "MoMo, VNPay and card payments",
					),
					ResourcesNeed: w.cards(
						"Mẫu ZNS nhắc giỏ hàng được Zalo duyệt", "A Zalo-approved ZNS cart reminder template",
					),
					Owner: w.s("Thương mại điện tử", "E-commerce"),
					KPIs: w.cards(
						"Tỉ lệ Checkout Started → Order Completed", "Checkout Started → Order Completed rate",
						"Tỉ lệ đơn khôi phục từ email nhắc giỏ", "Orders recovered by the cart reminder",
						"Giá trị đơn hàng trung bình (AOV)", "Average order value (AOV)",
					),
					MomentsOfTruth: w.cards(
						"Bấm \"Đặt hàng\": phí giao hàng và ngày nhận hiện ra rõ ràng", "Pressing \"Place order\": delivery fee and date are clear",
					),
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "web-checkout", Name: w.s("Giỏ hàng và thanh toán trên website", "Website cart and checkout"),
						Channel: "website", Services: []string{"ordering", "offers", "delivery"}, Expected: true,
						// Precedence over the product page, where products are added.
						Match: jmMatch(10, journeymap.Rule{Channel: "website",
							Any: jmEvents("Product Added", "Cart", "Cart Viewed", "Checkout", "Checkout Started", "Order Completed")}),
					},
					{
						Key: "app-checkout", Name: w.s("Giỏ hàng và thanh toán trên ứng dụng", "App cart and checkout"),
						Channel: "app", Services: []string{"ordering", "offers", "delivery"}, Expected: true,
						Match: jmMatch(10, journeymap.Rule{Channel: "app",
							Any: jmEvents("Product Added", "Cart", "Cart Viewed", "Checkout", "Checkout Started", "Order Completed", "Login", "Signed In", "Signed Up")}),
					},
					{
						Key: "marketplace-order", Name: w.s("Đơn trên Shopee Mall, LazMall, Tiki", "Shopee Mall, LazMall and Tiki orders"),
						Channel: "marketplace", Services: []string{"ordering", "offers", "delivery"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "marketplace", Event: "Order Completed"}),
					},
					{
						Key: "cart-reminder", Name: w.s("Email nhắc giỏ hàng", "Cart reminder email"),
						Channel: "email", Services: []string{"offers", "ordering"}, Expected: true,
						Lanes: journeymap.Lanes{
							Opportunities: w.cards(
								"Gửi thêm ZNS nhắc giỏ cho khách không mở email trong 4 giờ", "Follow up with a ZNS when the email is not opened within 4 hours",
							),
							KPIs: w.cards(
								"Tỉ lệ mở và bấm email nhắc giỏ", "Cart reminder open and click rates",
							),
						},
						// Precedence over the newsletter's link clicks.
						Match: jmMatch(20, journeymap.Rule{Source: srcNameEmail,
							Where: []journeymap.Condition{jmWhere("properties.campaign_name", journeymap.OpEq, "cart-reminder")}}),
					},
				},
			},
			{
				Key:  "service",
				Name: w.s("Dịch vụ", "Service"),
				CustomerGoal: w.s("Nhận hàng đúng hẹn, hỏi được tình trạng đơn ngay và đổi trả không rắc rối.",
					"Get the order on time, check its status at once and return items without hassle."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Hỏi tình trạng đơn qua Zalo OA", "Asks about her order on the Zalo OA",
						"Gọi tổng đài 1900 khi đơn trễ", "Calls the 1900 hotline when the order is late",
						"Viết đánh giá sau khi nhận hàng", "Writes a review after delivery",
					),
					Thoughts: w.cards(
						"Đơn của mình đang ở đâu rồi?", "Where is my order?",
						"Gọi mãi không ai nghe máy", "Nobody ever picks up",
					),
					Emotion: w.emotion(-2, "Thất vọng", "Frustrated", hotEvidence, reviewEvidence),
					PainPoints: []journeymap.Card{
						w.card("Tuần "+hotVI+": kho của đối tác giao hàng gặp sự cố, đơn trễ, tổng đài quá tải và hơn một nửa cuộc gọi bị bỏ dở",
							"Week of "+hotEN+": the delivery partner's hub incident delayed orders; the hotline was overloaded and more than half of the calls were abandoned", hotEvidence),
						w.card("Nhiều đánh giá 1–2 sao: \"gọi hotline mãi không được\"", "Many 1-2 star reviews: \"could never get through to the hotline\"", reviewEvidence),
					},
					Opportunities: w.cards(
						"Chủ động gửi ZNS báo trễ đơn và ngày giao mới trước khi khách phải gọi", "Send a ZNS about the delay and the new date before customers have to call",
						"Tra cứu đơn tự động trên Zalo OA", "Self-service order tracking on the Zalo OA",
					),
					Solutions: w.cards(
						"Chatbot Zalo OA tra cứu đơn theo số điện thoại", "Zalo OA chatbot that finds orders by phone number",
						"Tự động gọi lại các cuộc gọi nhỡ", "Automatic call-back of abandoned calls",
					),
					ResourcesHave: w.cards(
						"18 điện thoại viên tổng đài", "18 hotline agents",
						"ZNS xác nhận đơn hàng", "ZNS order confirmations",
					),
					ResourcesNeed: w.cards(
						"Kết nối trạng thái vận đơn của đối tác giao hàng", "The delivery partner's tracking status",
						"Phương án tăng ca tổng đài khi có sự cố", "An overtime plan for the hotline during incidents",
					),
					Owner: w.s("CSKH", "Customer service"),
					KPIs: w.cards(
						"Tỉ lệ cuộc gọi bị bỏ dở (Call Abandoned)", "Abandoned call rate (Call Abandoned)",
						"Thời gian chờ trung bình (wait_seconds)", "Average wait (wait_seconds)",
						"Điểm đánh giá trung bình", "Average review rating",
					),
					MomentsOfTruth: w.cards(
						"Đơn trễ: khách gọi tổng đài và có người nghe máy hay không", "A late order: does anyone answer when she calls?",
					),
					Evidence: []journeymap.Evidence{hotEvidence},
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "hotline", Name: w.s("Tổng đài 1900 6868", "1900 6868 hotline"),
						Channel: "hotline", Services: []string{"support", "delivery"}, Expected: true,
						Lanes: journeymap.Lanes{
							Emotion: w.emotion(-2, "Bực mình", "Annoyed", hotEvidence),
							PainPoints: []journeymap.Card{
								w.card("Chờ máy nhiều phút rồi bỏ cuộc, gọi lại nhiều lần", "Waits for minutes, gives up and calls again and again", hotEvidence),
							},
						},
						Match: jmMatch(0, journeymap.Rule{Channel: "hotline"}),
					},
					{
						Key: "zalo-chat", Name: w.s("Chat Zalo OA: hỏi đơn, đổi trả", "Zalo OA chat: orders and returns"),
						Channel: "zalo", Services: []string{"support", "information"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameZalo, Event: "Message Received"}),
					},
					{
						Key: "zns-order", Name: w.s("ZNS xác nhận đơn hàng", "ZNS order confirmation"),
						Channel: "zalo", Services: []string{"delivery"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameZalo, Event: "ZNS Delivered",
							Where: []journeymap.Condition{jmWhere("properties.template_id", journeymap.OpEq, "order_confirmation")}}),
					},
					{
						Key: "reviews", Name: w.s("Đánh giá sản phẩm sau khi nhận hàng", "Product reviews after delivery"),
						Channel: "marketplace", Services: []string{"support"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Event: "Review Submitted"}),
					},
				},
			},
			{
				Key:  "loyalty",
				Name: w.s("Trung thành", "Loyalty"),
				CustomerGoal: w.s("Được nhớ là khách quen, nhận gợi ý và ưu đãi đúng gu khi quay lại mua.",
					"Be remembered as a regular and get suggestions and offers that fit her taste when she comes back."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Đọc bản tin, bấm vào ưu đãi thành viên", "Reads the newsletter and clicks a member offer",
						"Quan tâm Zalo OA, bấm ZNS khuyến mãi", "Follows the Zalo OA and clicks promotional ZNS",
						"Trả lời khảo sát NPS sau mua", "Answers the post-purchase NPS survey",
						"Quay lại mua chiếc túi thứ hai", "Comes back for a second bag",
					),
					Thoughts: w.cards(
						"Shop nhớ mình thích túi màu trung tính, gợi ý đúng gu", "They remember I like neutral colours – good suggestions",
						"Mua lần hai có được ưu đãi gì không?", "Do I get anything for buying again?",
					),
					Emotion: w.emotion(2, "Hài lòng", "Delighted", npsEvidence),
					PainPoints: w.cards(
						"Bản tin gửi giống nhau cho mọi khách, ít liên quan đến món đã mua", "Everyone gets the same newsletter, unrelated to what she bought",
					),
					Opportunities: []journeymap.Card{
						w.card("Khách mua lần hai có đơn lớn hơn khoảng 30%: ưu đãi cho đơn thứ hai trong 30 ngày", "Second orders are about 30% larger: an offer on the second order within 30 days", loyalEvidence),
						w.card("Gợi ý món đi kèm (ví, khăn) theo món đã mua", "Suggest matching items (wallets, scarves) for what she bought"),
					},
					Solutions: w.cards(
						"Chương trình tích điểm chung cho online và cửa hàng", "One points programme for online and the stores",
					),
					ResourcesHave: w.cards(
						"Khảo sát NPS sau mua qua email và Zalo", "Post-purchase NPS survey by email and Zalo",
						"Thẻ thành viên tại cửa hàng", "Store loyalty cards",
					),
					ResourcesNeed: w.cards(
						"Hồ sơ khách hàng 360 độ gộp web, ứng dụng, sàn và cửa hàng", "A 360-degree customer profile joining web, app, marketplaces and stores",
					),
					Owner: w.s("Marketing – CRM", "Marketing – CRM"),
					KPIs: w.cards(
						"Tỉ lệ mua lại", "Repeat purchase rate",
						"NPS", "NPS",
						"Giá trị vòng đời khách hàng (LTV)", "Customer lifetime value (LTV)",
					),
					MomentsOfTruth: w.cards(
						"Đơn thứ hai: được nhận ra là khách quen và nhận ưu đãi đúng lúc", "The second order: recognised as a regular, with a timely offer",
					),
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "newsletter", Name: w.s("Email bản tin và ưu đãi thành viên", "Member newsletter and offers"),
						Channel: "email", Services: []string{"offers", "information"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameEmail, Any: []journeymap.Rule{
							{Where: []journeymap.Condition{jmWhere("properties.email_type", journeymap.OpEq, "newsletter")}},
							{Event: "Email Link Clicked"},
						}}),
					},
					{
						Key: "zalo-oa", Name: w.s("Zalo OA: quan tâm và bấm ZNS", "Zalo OA follows and ZNS clicks"),
						Channel: "zalo", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameZalo, Any: jmEvents("OA Followed", "ZNS Clicked")}),
					},
					{
						Key: "nps-survey", Name: w.s("Khảo sát sau mua (NPS, CSAT)", "Post-purchase survey (NPS, CSAT)"),
						Channel: "email", Services: []string{"support"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Event: "Survey Answered"}),
					},
				},
			},
		},
	}
}

// storeRegular is map 2: Hạnh, the store regular, on the 5A stages beside
// Tuấn, the gift buyer.
func (w *mapWriter) storeRegular() *journeymap.Map {
	cal := w.cal
	p, q := &Personas[personaLoyal], &Personas[personaGift]
	lastISO := w.iso(cal.end - 5*day)
	hotVI := w.dayVI(cal.hotFrom) + "–" + w.dayVI(cal.hotTo-day)
	hotEN := w.dayEN(cal.hotFrom) + " – " + w.dayEN(cal.hotTo-day)

	csatEvidence := w.evidence("survey", lastISO, "Khảo sát trải nghiệm tại cửa hàng (CSAT)", "In-store experience survey (CSAT)",
		"Phần lớn khách chấm 4–5 điểm; khách khen nhân viên tư vấn tận tình.",
		"Most customers score 4-5; they praise attentive staff.")
	staffEvidence := w.evidence("staff_feedback", "2026-08-05", "Quản lý cửa hàng Tràng Tiền và Lê Thánh Tôn", "Managers of the Tràng Tiền and Lê Thánh Tôn stores",
		"Khách quen hay gọi tổng đài hỏi còn màu ở cửa hàng gần nhà, nhưng tổng đài không xem được tồn kho từng cửa hàng.",
		"Regulars often call the hotline to ask whether their local store has a colour, but agents cannot see each store's stock.")
	hotEvidence := w.evidence("analytics", w.iso(cal.hotTo+3*day), "cjm – Tổng đài 1900", "cjm – 1900 hotline",
		"Tuần "+hotVI+": hơn một nửa cuộc gọi bị bỏ dở, thời gian chờ tăng nhiều lần.",
		"Week of "+hotEN+": more than half of the calls abandoned, waits manyfold longer.")
	interviewEvidence := w.evidence("interview", "2026-05-23", "Phỏng vấn 8 khách có thẻ thành viên", "Interviews with 8 loyalty card holders",
		"Khách quen chọn Mây vì được xem tận tay, nhân viên nhớ sở thích và đổi trả dễ tại cửa hàng.",
		"Regulars choose Mây to see bags in person, for staff who remember their taste and for easy returns in store.")
	giftEvidence := w.evidence("interview", "2026-06-02", "Phỏng vấn 5 khách nam mua quà", "Interviews with 5 men buying gifts",
		"Người mua quà không biết chọn mẫu nào, cần được gợi ý nhanh và gói quà đẹp; hiếm khi quay lại trừ dịp lễ.",
		"Gift buyers do not know which bag to pick, want quick advice and nice wrapping, and rarely come back outside holidays.")
	npsEvidence := w.evidence("survey", lastISO, "Khảo sát sau mua hàng (NPS)", "Post-purchase survey (NPS)",
		"Khách quen cho điểm NPS cao nhất; góp ý chủ yếu về thời gian chờ tổng đài.",
		"Regulars give the highest NPS; their complaints are mostly about hotline waits.")

	return &journeymap.Map{
		Schema:   journeymap.SchemaVersion,
		Name:     w.s("Khách trung thành ở cửa hàng", "Store-first loyal customer"),
		Lang:     w.lang,
		State:    journeymap.Current,
		Template: "5a",
		Goal: journeymap.Goal{
			Why: w.s("Khách quen cửa hàng chỉ chiếm khoảng 15% khách nhưng mua đều, đơn giá cao và giới thiệu thêm khách mới. Cần hiểu điều gì giữ chân họ và so sánh với người mua quà – nhóm cũng hay ra cửa hàng và gọi tổng đài nhưng ít quay lại.",
				"Store regulars are only about 15% of customers but buy steadily, spend more and bring new customers. We need to know what keeps them and compare them with gift buyers, who also visit stores and call the hotline but rarely return."),
			Achieve: w.s("Tăng tỉ lệ khách có thẻ thành viên quay lại trong 90 ngày, nâng CSAT cửa hàng lên 4,5/5 và biến khách quen thành người giới thiệu.",
				"Raise the share of card holders who return within 90 days, lift store CSAT to 4.5/5 and turn regulars into advocates."),
			Audience: w.s("Quản lý cửa hàng, CSKH và Marketing – CRM.", "Store managers, Customer service and Marketing – CRM."),
		},
		Departments: []string{
			w.s("Chuỗi cửa hàng", "Stores"),
			w.s("CSKH", "Customer service"),
			w.s("Marketing – CRM", "Marketing – CRM"),
		},
		Persona: &journeymap.Persona{
			Name:       w.s(p.Name, p.NameEN),
			Avatar:     "H",
			Age:        "38–56",
			Gender:     w.s("Nữ", "Female"),
			Location:   w.s("Gần cửa hàng Mây ở Hà Nội, TP. Hồ Chí Minh, Đà Nẵng", "Near a Mây store in Hà Nội, Ho Chi Minh City or Đà Nẵng"),
			Occupation: w.s("Kinh doanh tự do, giáo viên, cán bộ", "Self-employed, teacher or civil servant"),
			Income:     w.s("20–40 triệu đồng/tháng", "20-40 million VND a month"),
			Psychographics: w.s("Thích túi da thật, kiểu dáng cổ điển, bền; muốn xem tận tay và được nhân viên quen tư vấn; gắn bó với thương hiệu khi được đối xử chu đáo; dùng Zalo hằng ngày, đọc SMS, ít mua online.",
				"Likes classic, durable real-leather bags; wants to see them in person with advice from staff she knows; stays loyal when treated well; uses Zalo daily, reads SMS, rarely buys online."),
			Goals: []string{
				w.s("Chọn được túi da trên 1 triệu đúng ý, xem tận tay trước khi mua", "Pick the right leather bag over 1 million VND after seeing it in person"),
				w.s("Được báo sớm khi có hàng mới và ưu đãi thành viên", "Hear early about new arrivals and member offers"),
				w.s("Đổi trả dễ dàng tại cửa hàng gần nhà", "Return items easily at her local store"),
			},
			Frustrations: []string{
				w.s("Gọi tổng đài hỏi hàng mới phải chờ lâu", "Long waits when calling about new arrivals"),
				w.s("Không biết cửa hàng gần nhà còn màu mình thích không", "Not knowing whether her store has the colour she wants"),
				w.s("Ưu đãi online không áp dụng tại cửa hàng", "Online offers that do not apply in store"),
			},
			Channels: []journeymap.Channel{"store", "zalo", "sms", "hotline"},
			Quote: w.s("Cô thích ra cửa hàng cầm tận tay chiếc túi, có em nhân viên quen tư vấn là yên tâm.",
				"I like to hold the bag in my hands in the store; with a shop assistant I know, I feel at ease."),
			Research: w.s("Phỏng vấn 8 khách có thẻ thành viên ở Tràng Tiền và Quận 1, khảo sát CSAT tại cửa hàng, phản hồi của nhân viên bán hàng và dữ liệu mua hàng của khách có traits.persona = loyal.",
				"Interviews with 8 card holders at Tràng Tiền and District 1, the in-store CSAT survey, sales staff feedback and the purchases of customers with traits.persona = loyal."),
			Evidence: []journeymap.Evidence{interviewEvidence, csatEvidence},
		},
		ComparePersona: &journeymap.Persona{
			Name:       w.s(q.Name, q.NameEN),
			Avatar:     "T",
			Age:        "26–42",
			Gender:     w.s("Nam", "Male"),
			Location:   w.s("Hà Nội, TP. Hồ Chí Minh", "Hà Nội, Ho Chi Minh City"),
			Occupation: w.s("Kỹ sư, nhân viên kinh doanh", "Engineer or sales executive"),
			Income:     w.s("25–50 triệu đồng/tháng", "25-50 million VND a month"),
			Psychographics: w.s("Mua không thường xuyên, chủ yếu vào dịp sinh nhật, 8/3, 20/10; không rành túi xách nên cần tư vấn nhanh; xem trên máy tính, gọi tổng đài nhờ tư vấn; sẵn sàng chi nhiều nếu quà được gói đẹp.",
				"Buys rarely, mostly for birthdays, 8 March and 20 October; knows little about bags and wants quick advice; browses on a computer and calls the hotline for help; spends well if the gift is nicely wrapped."),
			Goals: []string{
				w.s("Chọn được món quà cô ấy thích, không phải đổi", "Pick a gift she likes and will not return"),
				w.s("Được gói quà đẹp, giao đúng ngày", "Nice wrapping, delivered on the day"),
			},
			Frustrations: []string{
				w.s("Quá nhiều mẫu, không biết chọn gì", "Too many bags to choose from"),
				w.s("Tổng đài bận đúng lúc cần tư vấn", "The hotline is busy just when he needs advice"),
			},
			Channels: []journeymap.Channel{"website", "hotline", "store"},
			Quote: w.s("Anh không rành túi xách, chỉ cần ai đó gợi ý đúng món cô ấy thích.",
				"I know nothing about handbags; I just need someone to suggest what she'll like."),
			Research: w.s("Phỏng vấn 5 khách nam mua quà, ghi chú cuộc gọi tư vấn của tổng đài.", "Interviews with 5 men buying gifts, hotline advice call notes."),
			Evidence: []journeymap.Evidence{giftEvidence},
		},
		Stages: []journeymap.Stage{
			{
				Key:  "aware",
				Name: w.s("Biết đến (Aware)", "Aware"),
				CustomerGoal: w.s("Biết có mẫu túi da mới hoặc đợt ưu đãi thành viên đáng ghé cửa hàng.",
					"Hear about new leather bags or a member offer worth a store visit."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Đọc SMS Brandname báo hàng mới, sale", "Reads SMS Brandname about new arrivals and sales",
						"Nhận ZNS khuyến mãi trên Zalo", "Gets promotional ZNS on Zalo",
						"Nghe bạn bè khen túi da của Mây", "Hears friends praise Mây's leather bags",
					),
					Thoughts: w.cards(
						"Mây có túi da mới à, cuối tuần ghé xem", "Mây has new leather bags – I'll drop by this weekend",
					),
					Emotion:        w.emotion(1, "Quan tâm", "Interested"),
					CompareEmotion: w.emotion(0, "Thờ ơ", "Indifferent", giftEvidence),
					PainPoints: w.cards(
						"SMS không dấu, không có ảnh, khó hình dung mẫu túi", "SMS without diacritics or photos: hard to picture the bag",
					),
					Opportunities: w.cards(
						"Gửi ZNS có ảnh mẫu mới cho khách đã quan tâm Zalo OA", "Send ZNS with photos of new bags to Zalo OA followers",
						"Nhắc người mua quà trước các dịp 8/3, 20/10, sinh nhật", "Remind gift buyers before 8 March, 20 October and birthdays",
					),
					ResourcesHave: w.cards(
						"SMS Brandname MAYBOUTIQUE", "SMS Brandname MAYBOUTIQUE",
						"Zalo OA và ZNS", "Zalo OA and ZNS",
					),
					ResourcesNeed: w.cards(
						"Danh sách khách theo cửa hàng gần nhà", "Customer lists by home store",
					),
					Owner: w.s("Marketing – CRM", "Marketing – CRM"),
					KPIs: w.cards(
						"Tỉ lệ bấm ZNS", "ZNS click rate",
						"Số khách thẻ thành viên nhận được tin", "Card holders reached",
					),
					MomentsOfTruth: w.cards(
						"Tin hàng mới đến sáng thứ Bảy, ngay trước khi cô ra cửa hàng", "News of new arrivals on Saturday morning, just before her store visit",
					),
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "sms-brandname", Name: w.s("SMS Brandname báo sale, hàng mới", "SMS Brandname sales and new arrivals"),
						Channel: "sms", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "sms"}),
					},
					{
						Key: "zns-promo", Name: w.s("Zalo ZNS khuyến mãi", "Zalo ZNS promotions"),
						Channel: "zalo", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameZalo, Event: "ZNS Delivered",
							Where: []journeymap.Condition{jmWhere("properties.template_id", journeymap.OpRegex, "^promotion_")}}),
					},
					{
						Key: "fanpage", Name: w.s("Fanpage Facebook", "Facebook fanpage"),
						Channel: "social", Services: []string{"information"}, Expected: false,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameFacebook}),
					},
				},
			},
			{
				Key:  "appeal",
				Name: w.s("Thu hút (Appeal)", "Appeal"),
				CustomerGoal: w.s("Thấy mẫu mới hợp gu và ưu đãi đủ hấp dẫn để muốn xem tận tay.",
					"See new bags to her taste and an offer good enough to want to see them in person."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Quan tâm Zalo OA để nhận ưu đãi thành viên", "Follows the Zalo OA for member offers",
						"Bấm ZNS xem ảnh mẫu túi da mới", "Clicks a ZNS to see the new leather bags",
						"Mở email bản tin hàng mới", "Opens the new arrivals newsletter",
					),
					Thoughts: w.cards(
						"Màu nâu bò này hợp với mình", "That tan colour would suit me",
					),
					Emotion:        w.emotion(1, "Thích thú", "Attracted"),
					CompareEmotion: w.emotion(1, "Có ý tưởng quà", "Gets a gift idea"),
					PainPoints: w.cards(
						"Ảnh trên ZNS và bản tin không cho biết cửa hàng gần nhà có sẵn hàng không", "ZNS and newsletter photos do not say whether her store has the bag",
					),
					Opportunities: w.cards(
						"Gợi ý mẫu mới theo lịch sử mua (túi da trên 1 triệu)", "Suggest new bags from her purchase history (leather over 1 million)",
						"Bản tin \"Quà tặng cho người thương\" riêng cho người mua quà", "A \"Gifts for your loved one\" newsletter for gift buyers",
					),
					Owner: w.s("Marketing – CRM", "Marketing – CRM"),
					KPIs: w.cards(
						"Số người quan tâm Zalo OA", "Zalo OA followers",
						"Tỉ lệ mở email bản tin", "Newsletter open rate",
					),
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "zalo-oa-follow", Name: w.s("Quan tâm Zalo OA Mây Boutique", "Following the Mây Boutique Zalo OA"),
						Channel: "zalo", Services: []string{"offers", "information"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameZalo, Event: "OA Followed"}),
					},
					{
						Key: "zns-click", Name: w.s("Bấm xem ưu đãi từ ZNS", "ZNS offer clicks"),
						Channel: "zalo", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "zalo", Event: "ZNS Clicked"}),
					},
					{
						Key: "email-news", Name: w.s("Email bản tin hàng mới", "New arrivals newsletter"),
						Channel: "email", Services: []string{"information", "offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameEmail, Any: jmEvents("Email Opened", "Email Link Clicked")}),
					},
				},
			},
			{
				Key:  "ask",
				Name: w.s("Tìm hiểu (Ask)", "Ask"),
				CustomerGoal: w.s("Hỏi được còn màu, còn hàng ở cửa hàng gần nhà và giá ưu đãi trước khi đi.",
					"Find out whether her store has the colour in stock, and the offer price, before she goes."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Gọi tổng đài hỏi còn màu, còn hàng không", "Calls the hotline to ask about colours and stock",
						"Nhắn Zalo OA hỏi giờ mở cửa", "Asks the Zalo OA about opening hours",
						"Xem lại mẫu trên website", "Looks the bag up on the website",
					),
					Thoughts: w.cards(
						"Gọi chờ lâu quá, thôi ra thẳng cửa hàng", "This wait is too long – I'll just go to the store",
					),
					Emotion:        w.emotion(0, "Phân vân", "Unsure", staffEvidence),
					CompareEmotion: w.emotion(-1, "Lúng túng", "Lost", giftEvidence),
					PainPoints: []journeymap.Card{
						w.card("Tổng đài không xem được tồn kho từng cửa hàng, phải hẹn gọi lại", "Agents cannot see each store's stock and have to call back", staffEvidence),
						w.card("Tuần "+hotVI+" tổng đài quá tải, khách quen gọi mãi không được", "In the week of "+hotEN+" the hotline was overloaded and regulars could not get through", hotEvidence),
					},
					Opportunities: w.cards(
						"Tra tồn kho theo cửa hàng ngay trên Zalo OA", "Store stock lookup on the Zalo OA",
						"Giữ hàng 24 giờ tại cửa hàng cho khách có thẻ thành viên", "Hold an item for 24 hours in store for card holders",
						"Gợi ý quà theo ngân sách cho người mua quà", "Gift suggestions by budget for gift buyers",
					),
					Solutions: w.cards(
						"Cho điện thoại viên xem tồn kho thời gian thực của 5 cửa hàng", "Give hotline agents live stock of the 5 stores",
					),
					ResourcesHave: w.cards(
						"Tổng đài 1900 6868 và Zalo OA", "The 1900 6868 hotline and the Zalo OA",
					),
					ResourcesNeed: w.cards(
						"Tồn kho cửa hàng đồng bộ theo thời gian thực", "Real-time store stock",
					),
					Owner: w.s("CSKH", "Customer service"),
					KPIs: w.cards(
						"Thời gian chờ tổng đài", "Hotline wait time",
						"Tỉ lệ trả lời được ngay lần đầu", "First-contact resolution",
					),
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "hotline-advice", Name: w.s("Tổng đài: hỏi hàng mới, còn màu, khuyến mãi", "Hotline: new arrivals, stock and offers"),
						Channel: "hotline", Services: []string{"information", "support", "booking"}, Expected: true,
						Lanes: journeymap.Lanes{
							Emotion:        w.emotion(-1, "Sốt ruột", "Impatient", staffEvidence),
							CompareEmotion: w.emotion(-1, "Bối rối", "Confused", giftEvidence),
						},
						Match: jmMatch(0, journeymap.Rule{Channel: "hotline",
							Where: []journeymap.Condition{jmIn("properties.topic", topicAdvice, topicPromo)}}),
					},
					{
						Key: "zalo-chat", Name: w.s("Chat Zalo OA hỏi mẫu, giờ mở cửa", "Zalo OA chat about bags and opening hours"),
						Channel: "zalo", Services: []string{"information", "booking"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNameZalo, Event: "Message Received"}),
					},
					{
						Key: "web-lookup", Name: w.s("Xem mẫu trên website và ứng dụng", "Looking bags up on the website and app"),
						Channel: "website", Services: []string{"information", "prices"}, Expected: false,
						Match: jmMatch(0, journeymap.Rule{Any: []journeymap.Rule{
							{Channel: "website", Type: "page"},
							{Channel: "app", Type: "screen"},
						}}),
					},
				},
			},
			{
				Key:  "act",
				Name: w.s("Hành động (Act)", "Act"),
				CustomerGoal: w.s("Mua chiếc túi ưng ý tại cửa hàng, được tích điểm và yên tâm đổi trả nếu cần.",
					"Buy the right bag in store, collect points and know she can return it if needed."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Đến cửa hàng cuối tuần, xem tận tay và mua túi da", "Visits the store at the weekend, handles the bags and buys one",
						"Đọc số điện thoại để tích điểm thẻ thành viên", "Gives her phone number to collect loyalty points",
						"Gọi tổng đài khi cần đổi trả", "Calls the hotline to return an item",
					),
					Thoughts: w.cards(
						"Nhân viên nhớ mình thích kiểu gì, thật chu đáo", "The staff remember what I like – so thoughtful",
					),
					Emotion:        w.emotion(2, "Hài lòng", "Delighted", csatEvidence),
					CompareEmotion: w.emotion(1, "Yên tâm", "Reassured", giftEvidence),
					PainPoints: w.cards(
						"Đổi hàng mua online tại cửa hàng phải chờ xác nhận từ kho online", "Returning an online order in store waits for the online warehouse",
						"Khách không đưa thẻ thì hoá đơn ẩn danh, mất lịch sử mua", "Without the card the receipt is anonymous and the purchase history is lost",
					),
					Opportunities: w.cards(
						"Tra thẻ thành viên bằng số điện thoại tại quầy", "Look up the loyalty card by phone number at the till",
						"Gói quà miễn phí và thiệp viết tay cho người mua quà", "Free gift wrapping and a handwritten card for gift buyers",
					),
					Solutions: w.cards(
						"Đổi trả đơn online ngay tại mọi cửa hàng", "Return online orders in any store on the spot",
					),
					ResourcesHave: w.cards(
						"5 cửa hàng ở Hà Nội, TP. Hồ Chí Minh và Đà Nẵng", "5 stores in Hà Nội, Ho Chi Minh City and Đà Nẵng",
						"Hệ thống POS có thẻ thành viên", "POS with loyalty cards",
					),
					ResourcesNeed: w.cards(
						"Chính sách đổi trả chung cho online và cửa hàng", "One return policy for online and stores",
					),
					Owner: w.s("Quản lý cửa hàng", "Store managers"),
					KPIs: w.cards(
						"Doanh thu của khách có thẻ thành viên", "Revenue from card holders",
						"Tỉ lệ hoá đơn có thẻ thành viên", "Share of receipts with a loyalty card",
					),
					MomentsOfTruth: []journeymap.Card{
						w.card("Tại quầy: nhân viên gọi đúng tên và gợi ý món hợp gu", "At the till: staff greet her by name and suggest something to her taste", interviewEvidence),
					},
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "store-purchase", Name: w.s("Mua tại quầy cửa hàng", "Store purchase"),
						Channel: "store", Services: []string{"trying", "prices", "ordering"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNamePOS, Event: "Order Completed"}),
					},
					{
						Key: "store-membership", Name: w.s("Làm thẻ thành viên tại quầy", "Loyalty card sign-up in store"),
						Channel: "store", Services: []string{"offers"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "pos", Event: "Signed Up"}),
					},
					{
						Key: "hotline-aftersales", Name: w.s("Tổng đài: giao hàng, đổi trả, khiếu nại", "Hotline: delivery, returns and complaints"),
						Channel: "hotline", Services: []string{"support", "delivery"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Channel: "hotline",
							Where: []journeymap.Condition{jmIn("properties.topic", topicDelivery, topicReturn, topicComplain)}}),
					},
					{
						Key: "online-order", Name: w.s("Đặt hàng online (website, ứng dụng, sàn)", "Online orders (website, app, marketplaces)"),
						Channel: "website", Services: []string{"ordering", "delivery"}, Expected: false,
						// Precedence over browsing on the website and the app.
						Match: jmMatch(10, journeymap.Rule{Event: "Order Completed", Any: []journeymap.Rule{
							{Channel: "website"}, {Channel: "app"}, {Channel: "marketplace"},
						}}),
					},
				},
			},
			{
				Key:  "advocate",
				Name: w.s("Ủng hộ (Advocate)", "Advocate"),
				CustomerGoal: w.s("Được ghi nhận là khách thân thiết và vui lòng giới thiệu Mây cho người quen.",
					"Be valued as a loyal customer and be glad to recommend Mây to people she knows."),
				Lanes: journeymap.Lanes{
					Actions: w.cards(
						"Chấm điểm CSAT sau khi mua tại cửa hàng", "Scores CSAT after a store purchase",
						"Trả lời khảo sát NPS qua Zalo", "Answers the NPS survey on Zalo",
						"Rủ bạn bè, đồng nghiệp ghé cửa hàng", "Brings friends and colleagues to the store",
					),
					Thoughts: w.cards(
						"Lần sau rủ mấy chị trong cơ quan cùng ghé", "Next time I'll bring the ladies from work",
					),
					Emotion:        w.emotion(2, "Tự hào giới thiệu", "Proud to recommend", npsEvidence),
					CompareEmotion: w.emotion(0, "Bình thường", "Neutral", giftEvidence),
					PainPoints: w.cards(
						"Chưa có chương trình ghi nhận khi khách giới thiệu bạn", "Nothing thanks customers for bringing friends",
					),
					Opportunities: w.cards(
						"Chương trình giới thiệu bạn: cả hai được tích điểm gấp đôi", "Refer a friend: double points for both",
						"Mời khách chấm NPS 9–10 viết đánh giá", "Invite NPS 9-10 customers to write a review",
						"Nhắc người mua quà về dịp lễ năm sau kèm gợi ý mới", "Remind gift buyers of next year's occasions with new ideas",
					),
					Solutions: w.cards(
						"Ưu đãi sinh nhật cho khách có thẻ thành viên", "Birthday offers for card holders",
					),
					Owner: w.s("Marketing – CRM", "Marketing – CRM"),
					KPIs: w.cards(
						"CSAT cửa hàng", "Store CSAT",
						"NPS", "NPS",
						"Số khách được giới thiệu", "Referred customers",
					),
					MomentsOfTruth: w.cards(
						"Sau một lần đổi trả suôn sẻ: khách quyết định gắn bó", "After a smooth return she decides to stay",
					),
					Evidence: []journeymap.Evidence{csatEvidence, npsEvidence},
				},
				Touchpoints: []journeymap.Touchpoint{
					{
						Key: "store-csat", Name: w.s("Khảo sát CSAT tại cửa hàng", "In-store CSAT survey"),
						Channel: "store", Services: []string{"support"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Source: srcNamePOS, Event: "Survey Answered"}),
					},
					{
						Key: "nps-survey", Name: w.s("Khảo sát NPS qua Zalo, email", "NPS survey on Zalo and email"),
						Channel: "zalo", Services: []string{"support"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Event: "Survey Answered", Any: []journeymap.Rule{{Channel: "zalo"}, {Channel: "email"}}}),
					},
					{
						Key: "reviews", Name: w.s("Đánh giá sản phẩm", "Product reviews"),
						Channel: "marketplace", Services: []string{"support"}, Expected: true,
						Match: jmMatch(0, journeymap.Rule{Event: "Review Submitted"}),
					},
				},
			},
		},
	}
}
