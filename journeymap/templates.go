package journeymap

import (
	"fmt"
	"slices"
	"strings"
)

// TemplateInfo describes a template for the "new map" picker.
type TemplateInfo struct {
	Key string `json:"key"`
	// Name and Description by language ("vi", "en").
	Name        map[string]string `json:"name"`
	Description map[string]string `json:"description"`
	// Stages are the stage names per language, for previews.
	Stages map[string][]string `json:"stages"`
}

// Templates lists the templates a new map can start from, in the order the
// picker shows them.
var Templates = templateInfos()

// templateLangs are the languages templates are written in.
var templateLangs = []string{"vi", "en"}

// FromTemplate returns a new map from the template key written in lang ("vi"
// or "en"): its stages with their customer goals and, for the retail stages,
// sensible default touchpoints. Lanes and the goal are left for the team to
// fill. Every call returns a new map.
func FromTemplate(key, lang string) (*Map, error) {
	if !slices.Contains(templateLangs, lang) {
		return nil, fmt.Errorf("journeymap: unknown template language %q (one of %s)", lang, strings.Join(templateLangs, ", "))
	}
	i := slices.IndexFunc(mapTemplates, func(t mapTemplate) bool { return t.key == key })
	if i < 0 {
		keys := make([]string, len(mapTemplates))
		for j, t := range mapTemplates {
			keys[j] = t.key
		}
		return nil, fmt.Errorf("journeymap: unknown template %q (one of %s)", key, strings.Join(keys, ", "))
	}
	t := &mapTemplates[i]
	m := &Map{
		Schema:   SchemaVersion,
		Name:     t.name.in(lang),
		Lang:     lang,
		State:    Current,
		Template: t.key,
		Stages:   make([]Stage, len(t.stages)),
	}
	for si, s := range t.stages {
		st := Stage{Key: s.key, Name: s.name.in(lang), CustomerGoal: s.goal.in(lang)}
		for _, tp := range s.touchpoints {
			st.Touchpoints = append(st.Touchpoints, Touchpoint{
				Key:      tp.key,
				Name:     tp.name.in(lang),
				Channel:  tp.channel,
				Services: slices.Clone(tp.services),
				Expected: true,
			})
		}
		m.Stages[si] = st
	}
	m.AssignIDs()
	return m, nil
}

func templateInfos() []TemplateInfo {
	infos := make([]TemplateInfo, len(mapTemplates))
	for i, t := range mapTemplates {
		info := TemplateInfo{
			Key:         t.key,
			Name:        map[string]string{},
			Description: map[string]string{},
			Stages:      map[string][]string{},
		}
		for _, l := range templateLangs {
			info.Name[l] = t.name.in(l)
			info.Description[l] = t.desc.in(l)
			names := make([]string, len(t.stages))
			for j, s := range t.stages {
				names[j] = s.name.in(l)
			}
			info.Stages[l] = names
		}
		infos[i] = info
	}
	return infos
}

// tplText is a phrase in Vietnamese and English.
type tplText struct{ vi, en string }

func (t tplText) in(lang string) string {
	if lang == "en" {
		return t.en
	}
	return t.vi
}

type mapTemplate struct {
	key        string
	name, desc tplText
	stages     []tplStage
}

type tplStage struct {
	key         string
	name, goal  tplText
	touchpoints []tplTouchpoint
}

type tplTouchpoint struct {
	key      string
	name     tplText
	channel  Channel
	services []string
}

// The default touchpoints of a retailer, shared by the templates. A template
// uses each at most once, so that touchpoint keys are unique in its maps.
var (
	tpSocialAds = tplTouchpoint{"social-ads", tplText{"Quảng cáo mạng xã hội", "Social media ads"},
		"ads", []string{"information", "offers"}}
	tpSearchAds = tplTouchpoint{"search-ads", tplText{"Tìm kiếm Google", "Google search"},
		"ads", []string{"information", "prices"}}
	tpMarketplaceSearch = tplTouchpoint{"marketplace-search", tplText{"Tìm kiếm trên sàn TMĐT", "Marketplace search"},
		"marketplace", []string{"information", "prices", "comparing"}}
	tpWordOfMouth = tplTouchpoint{"word-of-mouth", tplText{"Bạn bè, người thân giới thiệu", "Word of mouth"},
		"word_of_mouth", []string{"information"}}
	tpFanpage = tplTouchpoint{"fanpage", tplText{"Fanpage Facebook", "Facebook fanpage"},
		"social", []string{"information", "offers", "support"}}
	tpWebsiteProduct = tplTouchpoint{"website-product", tplText{"Trang sản phẩm trên website", "Website product page"},
		"website", []string{"information", "prices", "comparing"}}
	tpReviews = tplTouchpoint{"reviews", tplText{"Đánh giá của khách đã mua", "Customer reviews"},
		"marketplace", []string{"information", "comparing"}}
	tpZaloChat = tplTouchpoint{"zalo-chat", tplText{"Chat tư vấn qua Zalo OA", "Zalo OA chat"},
		"zalo", []string{"information", "support", "booking"}}
	tpStoreVisit = tplTouchpoint{"store-visit", tplText{"Xem và thử hàng tại cửa hàng", "Store visit and fitting"},
		"store", []string{"trying", "information", "prices"}}
	tpEvents = tplTouchpoint{"events", tplText{"Sự kiện ra mắt bộ sưu tập", "Collection launch events"},
		"events", []string{"trying", "information", "offers"}}
	tpWebsiteCheckout = tplTouchpoint{"website-checkout", tplText{"Thanh toán trên website", "Website checkout"},
		"website", []string{"ordering", "offers", "delivery"}}
	tpStoreCounter = tplTouchpoint{"store-counter", tplText{"Thanh toán tại quầy cửa hàng", "Store counter"},
		"store", []string{"ordering", "offers"}}
	tpMarketplaceOrder = tplTouchpoint{"marketplace-order", tplText{"Đặt hàng trên sàn TMĐT", "Marketplace order"},
		"marketplace", []string{"ordering", "offers", "delivery"}}
	tpHotline = tplTouchpoint{"hotline", tplText{"Tổng đài chăm sóc khách hàng", "Customer hotline"},
		"hotline", []string{"support", "information"}}
	tpDelivery = tplTouchpoint{"delivery", tplText{"Giao hàng và thông báo đơn hàng", "Delivery and order updates"},
		"sms", []string{"delivery", "support"}}
	tpReturns = tplTouchpoint{"returns", tplText{"Đổi trả và bảo hành", "Returns and warranty"},
		"store", []string{"support"}}
	tpCareGuide = tplTouchpoint{"care-guide", tplText{"Email hướng dẫn sử dụng và bảo quản", "Care and how-to emails"},
		"email", []string{"information", "support"}}
	tpWriteReview = tplTouchpoint{"write-review", tplText{"Viết đánh giá sau khi mua", "Writing a review"},
		"marketplace", []string{"support"}}
	tpSocialShare = tplTouchpoint{"social-share", tplText{"Chia sẻ lên mạng xã hội", "Sharing on social media"},
		"social", []string{"information"}}
	tpReferral = tplTouchpoint{"refer-a-friend", tplText{"Chương trình giới thiệu bạn bè", "Refer-a-friend programme"},
		"word_of_mouth", []string{"offers"}}
	tpEmailSMSOffers = tplTouchpoint{"email-sms-offers", tplText{"Ưu đãi qua email và SMS", "Email and SMS offers"},
		"email", []string{"offers"}}
	tpZNS = tplTouchpoint{"zalo-zns", tplText{"Tin nhắn Zalo ZNS", "Zalo ZNS messages"},
		"zalo", []string{"offers", "delivery"}}
	tpLoyaltyProgram = tplTouchpoint{"loyalty-program", tplText{"Chương trình khách hàng thân thiết", "Loyalty programme"},
		"store", []string{"offers"}}
	tpSignUp = tplTouchpoint{"sign-up", tplText{"Đăng ký tài khoản, thẻ thành viên", "Account and membership sign-up"},
		"website", []string{"offers"}}
	tpWelcomeEmail = tplTouchpoint{"welcome-email", tplText{"Email chào mừng và mã giảm giá đơn đầu", "Welcome email and first-order coupon"},
		"email", []string{"offers", "information"}}
	tpAppInstall = tplTouchpoint{"app-install", tplText{"Cài và mở ứng dụng mua sắm", "Shopping app install"},
		"app", []string{"ordering", "offers"}}
)

// Stage goals shared by several mapTemplates.
var (
	goalAwareness = tplText{
		"Biết đến thương hiệu và thấy sản phẩm có thể đáp ứng nhu cầu của mình.",
		"Discover the brand and see that its products could meet my need."}
	goalConsideration = tplText{
		"Tìm hiểu đủ thông tin về sản phẩm, giá và ưu đãi để chọn được món ưng ý.",
		"Learn enough about products, prices and offers to pick the right one."}
	goalPurchase = tplText{
		"Đặt mua nhanh, thanh toán tiện và yên tâm về giá cũng như thời gian giao hàng.",
		"Buy quickly and conveniently, confident about the price and the delivery time."}
	goalService = tplText{
		"Nhận hàng đúng hẹn và được hỗ trợ nhanh khi cần hỏi đơn, đổi trả hay bảo hành.",
		"Get the order on time and quick help with order questions, returns or warranty."}
	goalLoyalty = tplText{
		"Được ghi nhận là khách quen, nhận ưu đãi đúng sở thích khi quay lại mua.",
		"Be recognised as a regular and get offers that fit my taste when I come back."}
	goalPurchaseDecision = tplText{
		"Chốt mua món đã chọn ở kênh thuận tiện nhất với mức giá tốt.",
		"Buy the chosen item on the most convenient channel at a good price."}
)

var mapTemplates = []mapTemplate{
	{
		key:  "retail",
		name: tplText{"Hành trình bán lẻ", "Retail journey"},
		desc: tplText{
			"Năm giai đoạn phổ biến của khách hàng bán lẻ đa kênh: Nhận biết – Cân nhắc – Mua hàng – Dịch vụ – Trung thành, kèm các điểm chạm gợi ý.",
			"The five common stages of an omnichannel retail customer: Awareness – Consideration – Purchase – Service – Loyalty, with suggested touchpoints."},
		stages: []tplStage{
			{"awareness", tplText{"Nhận biết", "Awareness"}, goalAwareness,
				[]tplTouchpoint{tpSocialAds, tpMarketplaceSearch, tpWordOfMouth}},
			{"consideration", tplText{"Cân nhắc", "Consideration"}, goalConsideration,
				[]tplTouchpoint{tpWebsiteProduct, tpReviews, tpZaloChat}},
			{"purchase", tplText{"Mua hàng", "Purchase"}, goalPurchase,
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
			{"service", tplText{"Dịch vụ", "Service"}, goalService,
				[]tplTouchpoint{tpHotline, tpDelivery, tpReturns}},
			{"loyalty", tplText{"Trung thành", "Loyalty"}, goalLoyalty,
				[]tplTouchpoint{tpEmailSMSOffers, tpLoyaltyProgram}},
		},
	},
	{
		key:  "detailed",
		name: tplText{"Hành trình chi tiết", "Detailed journey"},
		desc: tplText{
			"Tám giai đoạn từ lúc quan tâm đến khi mua lại, cho sản phẩm cần so sánh và dùng thử trước khi mua.",
			"Eight stages from first interest to repurchase, for products customers compare and try before buying."},
		stages: []tplStage{
			{"interest", tplText{"Quan tâm", "Interest"},
				tplText{"Nhận ra nhu cầu và chú ý đến thương hiệu có thể đáp ứng nó.",
					"Notice a need and pay attention to a brand that could meet it."},
				[]tplTouchpoint{tpSocialAds, tpSearchAds, tpWordOfMouth}},
			{"consideration", tplText{"Cân nhắc", "Consideration"}, goalConsideration,
				[]tplTouchpoint{tpWebsiteProduct, tpFanpage, tpZaloChat}},
			{"evaluation", tplText{"Đánh giá/So sánh", "Evaluation/Comparison"},
				tplText{"So sánh giá, chất lượng và đánh giá với các lựa chọn khác để chắc mình chọn đúng.",
					"Compare price, quality and reviews with the alternatives to be sure of the choice."},
				[]tplTouchpoint{tpMarketplaceSearch, tpReviews}},
			{"trial", tplText{"Dùng thử", "Trial"},
				tplText{"Xem tận tay, thử sản phẩm để chắc nó hợp với nhu cầu và sở thích trước khi mua.",
					"See and try the product to be sure it fits my needs and taste before buying."},
				[]tplTouchpoint{tpStoreVisit, tpEvents}},
			{"purchase", tplText{"Mua hàng", "Purchase"}, goalPurchase,
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
			{"use", tplText{"Sử dụng", "Use"},
				tplText{"Nhận hàng, dùng sản phẩm như mong đợi và được hỗ trợ khi có vấn đề.",
					"Receive the order, use the product as expected and get help when something is wrong."},
				[]tplTouchpoint{tpDelivery, tpCareGuide, tpHotline}},
			{"share", tplText{"Chia sẻ", "Share"},
				tplText{"Kể lại trải nghiệm của mình và giới thiệu cho bạn bè khi hài lòng.",
					"Tell others about my experience and recommend the brand when I am happy."},
				[]tplTouchpoint{tpWriteReview, tpSocialShare}},
			{"repurchase", tplText{"Mua lại", "Repurchase"}, goalLoyalty,
				[]tplTouchpoint{tpEmailSMSOffers, tpLoyaltyProgram}},
		},
	},
	{
		key:  "simple",
		name: tplText{"Hành trình đơn giản", "Simple journey"},
		desc: tplText{
			"Bốn bước gọn: Tìm hiểu – Mua – Nhận hàng – Sau mua, để bắt đầu nhanh.",
			"Four short steps: Research – Buy – Receive – After purchase, for a quick start."},
		stages: []tplStage{
			{"research", tplText{"Tìm hiểu", "Research"}, goalConsideration,
				[]tplTouchpoint{tpWebsiteProduct, tpMarketplaceSearch, tpFanpage}},
			{"buy", tplText{"Mua", "Buy"}, goalPurchase,
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
			{"receive", tplText{"Nhận hàng", "Receive"},
				tplText{"Nhận đúng hàng, đúng hẹn và biết đơn đang ở đâu.",
					"Get the right item on time and know where my order is."},
				[]tplTouchpoint{tpDelivery, tpHotline}},
			{"after-purchase", tplText{"Sau mua", "After purchase"},
				tplText{"Được hỗ trợ khi cần và có lý do để quay lại mua tiếp.",
					"Get help when needed and have a reason to come back."},
				[]tplTouchpoint{tpWriteReview, tpEmailSMSOffers, tpLoyaltyProgram}},
		},
	},
	{
		key:  "5a",
		name: tplText{"Mô hình 5A (Kotler)", "5A model (Kotler)"},
		desc: tplText{
			"Mô hình 5A của Philip Kotler: Biết đến – Thu hút – Tìm hiểu – Hành động – Ủng hộ, từ lần đầu biết đến thương hiệu đến khi giới thiệu cho người khác.",
			"Philip Kotler's 5A: Aware – Appeal – Ask – Act – Advocate, from first hearing of the brand to recommending it."},
		stages: []tplStage{
			{"aware", tplText{"Biết đến (Aware)", "Aware"},
				tplText{"Biết đến thương hiệu qua quảng cáo, mạng xã hội hoặc lời giới thiệu.",
					"Hear of the brand through ads, social media or a recommendation."},
				[]tplTouchpoint{tpSocialAds, tpWordOfMouth}},
			{"appeal", tplText{"Thu hút (Appeal)", "Appeal"},
				tplText{"Thấy thương hiệu và sản phẩm hấp dẫn, đáng để tìm hiểu thêm.",
					"Find the brand and its products attractive enough to look closer."},
				[]tplTouchpoint{tpFanpage, tpWebsiteProduct}},
			{"ask", tplText{"Tìm hiểu (Ask)", "Ask"},
				tplText{"Hỏi thêm thông tin, giá, tình trạng hàng và xem người khác đánh giá thế nào.",
					"Ask about details, price and stock, and check what others say."},
				[]tplTouchpoint{tpZaloChat, tpHotline, tpReviews}},
			{"act", tplText{"Hành động (Act)", "Act"},
				tplText{"Mua sản phẩm, dùng nó và được phục vụ tốt sau khi mua.",
					"Buy the product, use it and be well served after buying."},
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
			{"advocate", tplText{"Ủng hộ (Advocate)", "Advocate"},
				tplText{"Tiếp tục mua và sẵn lòng giới thiệu thương hiệu cho người quen.",
					"Keep buying and be glad to recommend the brand to people I know."},
				[]tplTouchpoint{tpWriteReview, tpReferral, tpLoyaltyProgram}},
		},
	},
	{
		key:  "aida",
		name: tplText{"Mô hình AIDA", "AIDA model"},
		desc: tplText{
			"Bốn giai đoạn trước quyết định mua: Chú ý – Hứng thú – Mong muốn – Hành động.",
			"The four stages before a purchase decision: Attention – Interest – Desire – Action."},
		stages: []tplStage{
			{"attention", tplText{"Chú ý (Attention)", "Attention"},
				tplText{"Để ý đến thương hiệu giữa rất nhiều lựa chọn.",
					"Notice the brand among many choices."},
				[]tplTouchpoint{tpSocialAds, tpSearchAds, tpWordOfMouth}},
			{"interest", tplText{"Hứng thú (Interest)", "Interest"},
				tplText{"Tò mò tìm hiểu sản phẩm có đúng thứ mình đang tìm không.",
					"Find out whether the products are what I am looking for."},
				[]tplTouchpoint{tpWebsiteProduct, tpFanpage}},
			{"desire", tplText{"Mong muốn (Desire)", "Desire"},
				tplText{"Tin rằng sản phẩm đáng mua và muốn sở hữu nó.",
					"Be convinced the product is worth it and want to own it."},
				[]tplTouchpoint{tpReviews, tpZaloChat, tpStoreVisit}},
			{"action", tplText{"Hành động (Action)", "Action"}, goalPurchaseDecision,
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
		},
	},
	{
		key:  "aarrr",
		name: tplText{"Mô hình AARRR", "AARRR model"},
		desc: tplText{
			"Mô hình AARRR: Thu hút khách – Kích hoạt – Giữ chân – Giới thiệu – Doanh thu, đo được bằng CAC, tỉ lệ kích hoạt, tỉ lệ giữ chân, NPS và LTV.",
			"The AARRR model: Acquisition – Activation – Retention – Referral – Revenue, measured by CAC, activation rate, retention rate, NPS and LTV."},
		stages: []tplStage{
			{"acquisition", tplText{"Thu hút khách (Acquisition)", "Acquisition"}, goalAwareness,
				[]tplTouchpoint{tpSocialAds, tpSearchAds, tpMarketplaceSearch}},
			{"activation", tplText{"Kích hoạt (Activation)", "Activation"},
				tplText{"Thấy ngay giá trị khi đăng ký và có lý do để đặt đơn đầu tiên.",
					"See the value right after signing up and have a reason to place a first order."},
				[]tplTouchpoint{tpSignUp, tpWelcomeEmail, tpAppInstall}},
			{"retention", tplText{"Giữ chân (Retention)", "Retention"}, goalLoyalty,
				[]tplTouchpoint{tpEmailSMSOffers, tpZNS, tpLoyaltyProgram}},
			{"referral", tplText{"Giới thiệu (Referral)", "Referral"},
				tplText{"Giới thiệu thương hiệu cho bạn bè và được cảm ơn vì điều đó.",
					"Recommend the brand to friends and be thanked for it."},
				[]tplTouchpoint{tpReferral, tpWriteReview}},
			{"revenue", tplText{"Doanh thu (Revenue)", "Revenue"},
				tplText{"Mua thường xuyên hơn, giá trị cao hơn vì tin tưởng thương hiệu.",
					"Buy more often and spend more because I trust the brand."},
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
		},
	},
	{
		key:  "accsr",
		name: tplText{"Mô hình ACCSR", "ACCSR model"},
		desc: tplText{
			"Năm giai đoạn Nhận biết – Cân nhắc – Chuyển đổi – Dịch vụ – Giữ chân, nhấn mạnh phục vụ sau bán và mua lại.",
			"Five stages Awareness – Consideration – Conversion – Service – Retention, stressing after-sales service and repurchase."},
		stages: []tplStage{
			{"awareness", tplText{"Nhận biết (Awareness)", "Awareness"}, goalAwareness,
				[]tplTouchpoint{tpSocialAds, tpMarketplaceSearch, tpWordOfMouth}},
			{"consideration", tplText{"Cân nhắc (Consideration)", "Consideration"}, goalConsideration,
				[]tplTouchpoint{tpWebsiteProduct, tpReviews, tpZaloChat}},
			{"conversion", tplText{"Chuyển đổi (Conversion)", "Conversion"}, goalPurchaseDecision,
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder}},
			{"service", tplText{"Dịch vụ (Service)", "Service"}, goalService,
				[]tplTouchpoint{tpHotline, tpDelivery, tpReturns}},
			{"retention", tplText{"Giữ chân (Retention)", "Retention"}, goalLoyalty,
				[]tplTouchpoint{tpEmailSMSOffers, tpLoyaltyProgram}},
		},
	},
	{
		key:  "funnel",
		name: tplText{"Phễu ToFu – MoFu – BoFu", "ToFu – MoFu – BoFu funnel"},
		desc: tplText{
			"Ba tầng phễu: đầu phễu (nhận biết), giữa phễu (cân nhắc), cuối phễu (quyết định), để đo tỉ lệ chuyển đổi giữa các tầng.",
			"Three funnel levels: top (awareness), middle (consideration) and bottom (decision), to measure conversion between them."},
		stages: []tplStage{
			{"tofu", tplText{"ToFu – Đầu phễu (nhận biết)", "ToFu (awareness)"}, goalAwareness,
				[]tplTouchpoint{tpSocialAds, tpSearchAds, tpWordOfMouth}},
			{"mofu", tplText{"MoFu – Giữa phễu (cân nhắc)", "MoFu (consideration)"}, goalConsideration,
				[]tplTouchpoint{tpWebsiteProduct, tpReviews, tpZaloChat}},
			{"bofu", tplText{"BoFu – Cuối phễu (quyết định)", "BoFu (decision)"}, goalPurchaseDecision,
				[]tplTouchpoint{tpWebsiteCheckout, tpStoreCounter, tpMarketplaceOrder, tpHotline}},
		},
	},
	{
		key:  "blank",
		name: tplText{"Bản đồ trống", "Blank map"},
		desc: tplText{
			"Bắt đầu từ đầu với một giai đoạn trống, tự đặt các giai đoạn và điểm chạm của riêng bạn.",
			"Start from scratch with one empty stage and lay out your own stages and touchpoints."},
		stages: []tplStage{
			{key: "stage-1", name: tplText{"Giai đoạn 1", "Stage 1"}},
		},
	},
}
