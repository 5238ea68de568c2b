package demo

import "time"

// Story keys.
const (
	StoryLoginWall       = "login-wall"
	StoryHotlineOverload = "hotline-overload"
	StoryCampaign        = "campaign"
	StoryLoyalVsNew      = "loyal-vs-new"
	StoryCartAbandonment = "cart-abandonment"
)

// stories describes the stories of the calendar's data set.
func (c *calendar) stories() []Story {
	t := func(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
	vi := func(ms int64) string { return time.UnixMilli(ms).In(ict).Format("02/01/2006") }
	en := func(ms int64) string { return time.UnixMilli(ms).In(ict).Format("2 Jan 2006") }
	hotLast := c.hotTo - day
	return []Story{
		{
			Key:     StoryLoginWall,
			Title:   "Bắt buộc đăng nhập để xem sản phẩm trên web di động",
			TitleEN: "Forced login wall on mobile web",
			Description: "Từ " + vi(c.wall) + ", website bắt khách chưa đăng nhập trên điện thoại phải đăng nhập trước khi xem chi tiết sản phẩm (sự kiện Login Wall Shown). " +
				"Khoảng 4/5 số khách rời đi: tỉ lệ Product List Viewed → Product Viewed trên web giảm mạnh, trên ứng dụng không đổi.",
			DescriptionEN: "From " + en(c.wall) + ", the website makes anonymous mobile visitors log in before they can see a product's details (event Login Wall Shown). " +
				"About four in five leave: Product List Viewed → Product Viewed conversion on the web drops sharply, in the app it does not change.",
			Start: t(c.wall), End: t(c.end),
		},
		{
			Key:     StoryHotlineOverload,
			Title:   "Tổng đài quá tải sau sự cố giao hàng",
			TitleEN: "Hotline overloaded after a delivery incident",
			Description: "Tuần " + vi(c.hotFrom) + "–" + vi(hotLast) + ", kho trung chuyển của đối tác giao hàng gặp sự cố cháy, các đơn đặt trong những ngày trước đó bị giao trễ. " +
				"Khách gọi tổng đài 1900 hỏi đơn hàng: số cuộc gọi tăng, thời gian chờ (wait_seconds) tăng gấp nhiều lần, hơn một nửa cuộc gọi bị bỏ dở (Call Abandoned), nhiều đánh giá 1–2 sao (Review Submitted) và NPS thấp.",
			DescriptionEN: "In the week " + en(c.hotFrom) + " – " + en(hotLast) + ", a fire at the delivery partner's hub delays the orders of the days before. " +
				"Customers call the 1900 hotline about their orders: calls rise, wait_seconds grows manyfold, more than half of the calls are abandoned (Call Abandoned), and 1-2 star reviews (Review Submitted) and NPS detractors pile up.",
			Start: t(c.hotFrom), End: t(c.hotTo),
		},
		{
			Key:     StoryCampaign,
			Title:   "Siêu sale " + c.saleLabel,
			TitleEN: c.saleLabel + " mega sale",
			Description: "Chiến dịch " + c.saleName + " từ " + vi(c.saleFrom) + " đến " + vi(c.saleTo-day) + ": email giới thiệu tối hôm trước, rồi email, SMS Brandname và Zalo ZNS khi mở bán và ngày cuối, mã " + c.saleCoupon + " giảm 20%. " +
				"Lượt truy cập (context.campaign.name \"" + c.saleName + "\") và đơn hàng trên web, ứng dụng và sàn TMĐT tăng gấp nhiều lần so với ngày thường.",
			DescriptionEN: "Campaign " + c.saleName + " from " + en(c.saleFrom) + " to " + en(c.saleTo-day) + ": a teaser email the evening before, then email, SMS Brandname and Zalo ZNS at launch and on the last day, coupon " + c.saleCoupon + " for 20% off. " +
				"Visits (context.campaign.name \"" + c.saleName + "\") and orders on the web, the app and the marketplaces are several times a normal day's.",
			Start: t(c.saleFrom), End: t(c.saleTo),
		},
		{
			Key:     StoryLoyalVsNew,
			Title:   "Khách quen chi tiêu nhiều hơn khách mới",
			TitleEN: "Repeat customers spend more than new ones",
			Description: "Khách đã từng mua quay lại mua thường xuyên hơn và giá trị mỗi đơn cao hơn khoảng 30% so với đơn đầu tiên " +
				"(Bain & Company: khách trung thành chi tiêu nhiều hơn 31%).",
			DescriptionEN: "Customers who have bought before come back more often and their orders are about 30% larger than first orders " +
				"(Bain & Company: loyal customers spend 31% more).",
			Start: t(c.start), End: t(c.end),
		},
		{
			Key:     StoryCartAbandonment,
			Title:   "Bỏ giỏ hàng và email nhắc",
			TitleEN: "Cart abandonment and reminder emails",
			Description: "Phần lớn lượt Checkout Started không dẫn tới Order Completed. Khách đã đăng nhập bỏ giỏ hàng nhận email nhắc (campaign cart-reminder) sau 1–4 giờ; " +
				"một phần mở email, bấm vào và hoàn tất đơn hàng.",
			DescriptionEN: "Most Checkout Started are not followed by Order Completed. Signed-in customers who leave get a reminder email (campaign cart-reminder) 1-4 hours later; " +
				"some open it, click through and complete the order.",
			Start: t(c.start), End: t(c.end),
		},
	}
}
