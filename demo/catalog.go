package demo

import (
	"net/url"
	"strings"
)

// The brand of the demo and its website.
const (
	brandName = "Mây Boutique"
	siteURL   = "https://maybouti.vn"
	hotline   = "1900 6868"
)

// category is a product category of the catalogue.
type category struct {
	name, slug string
	weight     float64 // share of browsing interest
}

var categories = []category{
	{"Túi xách", "", 0.40},
	{"Ví", "", 0.10},
	{"Balo", "", 0.06},
	{"Váy đầm", "", 0.14},
	{"Áo", "", 0.12},
	{"Quần", "", 0.06},
	{"Giày dép", "", 0.07},
	{"Phụ kiện", "", 0.05},
}

// product is one product of the catalogue; each colour is a variant with its
// own SKU.
type product struct {
	id     string
	name   string
	cat    int
	price  int64
	colors []string
	// queries are searches that find the product, as people type them (often
	// without diacritics); searchURL are their result pages.
	queries, searchURL []string
}

var products = []product{
	{"P101", "Túi tote da Mây Classic", 0, 1290000, []string{"Đen", "Nâu", "Kem"}, nil, nil},
	{"P102", "Túi đeo chéo mini Sương", 0, 690000, []string{"Đen", "Hồng", "Kem"}, nil, nil},
	{"P103", "Túi xách công sở Hạ Long", 0, 1590000, []string{"Đen", "Nâu"}, nil, nil},
	{"P104", "Túi bucket cói Hội An", 0, 450000, []string{"Tự nhiên"}, nil, nil},
	{"P105", "Túi kẹp nách Sài Gòn", 0, 790000, []string{"Đen", "Đỏ", "Kem"}, nil, nil},
	{"P106", "Túi da thật Mây Signature", 0, 2890000, []string{"Đen", "Nâu"}, nil, nil},
	{"P107", "Túi canvas Mây Everyday", 0, 390000, []string{"Kem", "Xanh"}, nil, nil},
	{"P108", "Túi hộp dạ tiệc Ánh Trăng", 0, 1190000, []string{"Bạc", "Vàng"}, nil, nil},
	{"P201", "Ví dài da bò Mộc", 1, 590000, []string{"Đen", "Nâu"}, nil, nil},
	{"P202", "Ví mini gập ba Hồng Sen", 1, 350000, []string{"Hồng", "Kem"}, nil, nil},
	{"P203", "Ví cầm tay dự tiệc Ngọc Trai", 1, 890000, []string{"Trắng"}, nil, nil},
	{"P301", "Balo da nữ Đà Lạt", 2, 1090000, []string{"Đen", "Nâu"}, nil, nil},
	{"P302", "Balo laptop Mây Work", 2, 990000, []string{"Đen", "Xám"}, nil, nil},
	{"P401", "Đầm suông linen Thu Hà Nội", 3, 690000, []string{"Kem", "Xanh"}, nil, nil},
	{"P402", "Đầm midi hoa nhí Đà Lạt", 3, 750000, []string{"Hồng", "Xanh"}, nil, nil},
	{"P403", "Áo dài cách tân lụa tơ tằm", 3, 1450000, []string{"Đỏ", "Trắng"}, nil, nil},
	{"P404", "Chân váy xếp ly Mây", 3, 420000, []string{"Đen", "Kem"}, nil, nil},
	{"P501", "Áo sơ mi lụa công sở", 4, 490000, []string{"Trắng", "Xanh"}, nil, nil},
	{"P502", "Áo blazer linen kem", 4, 890000, []string{"Kem"}, nil, nil},
	{"P503", "Áo len cổ lọ", 4, 550000, []string{"Đen", "Kem", "Nâu"}, nil, nil},
	{"P504", "Áo thun cotton basic", 4, 190000, []string{"Trắng", "Đen"}, nil, nil},
	{"P601", "Quần tây ống suông", 5, 520000, []string{"Đen", "Kem"}, nil, nil},
	{"P602", "Quần jeans ống rộng", 5, 480000, []string{"Xanh"}, nil, nil},
	{"P701", "Giày cao gót mũi nhọn 7cm", 6, 790000, []string{"Đen", "Kem"}, nil, nil},
	{"P702", "Sandal quai mảnh", 6, 450000, []string{"Đen", "Bạc"}, nil, nil},
	{"P703", "Giày búp bê da mềm", 6, 590000, []string{"Đen", "Nâu"}, nil, nil},
	{"P801", "Khăn lụa vuông họa tiết sen", 7, 320000, []string{"Hồng", "Xanh"}, nil, nil},
	{"P802", "Thắt lưng da khóa vàng", 7, 390000, []string{"Đen", "Nâu"}, nil, nil},
	{"P803", "Kính mát gọng mắt mèo", 7, 350000, []string{"Đen"}, nil, nil},
	{"P804", "Móc khóa túi hình mây", 7, 90000, []string{"Trắng"}, nil, nil},
}

// variant is one SKU with its JSON fragments rendered once.
type variant struct {
	p     *product
	color string
	sku   string
	url   string
	path  string
	title string
	// item is `{"product_id":..,"sku":..,"name":..,"category":..,"price":..,"quantity":`
	item string
	// fields is `"product_id":..,"sku":..,"name":..,"category":..,"brand":..,"variant":..,"price":..,"currency":"VND"`
	fields string
	// listItem is `{"product_id":..,"name":..,"price":..,"position":`
	listItem string
}

var (
	variants []variant
	// byCat lists the variants of each category (first colour only), for lists.
	listByCat [][]int
	// catPages holds the rendered path, URL and title of each category page.
	catPath, catURL, catTitle []string
)

// colorCode is the SKU suffix of a colour.
var colorCode = map[string]string{
	"Đen": "DEN", "Nâu": "NAU", "Kem": "KEM", "Hồng": "HONG", "Đỏ": "DO",
	"Tự nhiên": "TN", "Xanh": "XANH", "Bạc": "BAC", "Vàng": "VANG",
	"Trắng": "TRANG", "Xám": "XAM",
}

var catCode = []string{"TX", "VI", "BL", "VD", "AO", "QU", "GD", "PK"}

func init() {
	for i := range categories {
		c := &categories[i]
		c.slug = slug(c.name)
		catPath = append(catPath, "/danh-muc/"+c.slug)
		catURL = append(catURL, siteURL+"/danh-muc/"+c.slug)
		catTitle = append(catTitle, c.name+" – "+brandName)
	}
	listByCat = make([][]int, len(categories))
	for pi := range products {
		p := &products[pi]
		words := strings.Fields(strings.ToLower(p.name))
		short := strings.Join(words[:min(2, len(words))], " ")
		p.queries = []string{short, fold(short), strings.ToLower(categories[p.cat].name)}
		for _, q := range p.queries {
			p.searchURL = append(p.searchURL, siteURL+"/tim-kiem?q="+url.QueryEscape(q))
		}
		path := "/san-pham/" + slug(p.name) + "-" + strings.ToLower(p.id)
		for ci, col := range p.colors {
			v := variant{p: p, color: col, path: path, url: siteURL + path, title: p.name + " – " + brandName}
			v.sku = "MAY-" + catCode[p.cat] + p.id[1:] + "-" + colorCode[col]
			var w jsonw
			w.begin()
			w.str("product_id", p.id)
			w.str("sku", v.sku)
			w.str("name", p.name)
			w.str("category", categories[p.cat].name)
			w.num("price", p.price)
			w.key("quantity")
			v.item = string(w.b)
			w.begin()
			w.str("product_id", p.id)
			w.str("sku", v.sku)
			w.str("name", p.name)
			w.str("category", categories[p.cat].name)
			w.str("brand", brandName)
			w.str("variant", col)
			w.num("price", p.price)
			w.str("currency", "VND")
			v.fields = string(w.b[1:])
			w.begin()
			w.str("product_id", p.id)
			w.str("name", p.name)
			w.num("price", p.price)
			w.key("position")
			v.listItem = string(w.b)
			if ci == 0 {
				listByCat[p.cat] = append(listByCat[p.cat], len(variants))
			}
			variants = append(variants, v)
		}
	}
	for i := range Personas {
		productCDF[i] = personaProductCDF(i)
	}
	for i := range familyNames {
		familyNames[i].ascii = fold(familyNames[i].name)
	}
	for _, names := range [][]nameW{givenFemale, givenMale, middleFemale, middleMale} {
		for i := range names {
			names[i].ascii = fold(names[i].name)
		}
	}
	for i := range webDevices {
		webDevices[i].frag = webDevices[i].render()
	}
	for i := range appDevices {
		appDevices[i].frag = appDevices[i].render()
	}
}

// productCDF is, per persona, the cumulative weight of each variant.
var productCDF [4][]float64

// personaProductCDF weighs variants by category interest and by how well the
// price suits the persona.
func personaProductCDF(persona int) []float64 {
	cdf := make([]float64, len(variants))
	sum := 0.0
	for i, v := range variants {
		p := v.p
		w := categories[p.cat].weight / float64(len(p.colors))
		switch persona {
		case personaOffice:
			if p.cat == 4 || p.cat == 5 {
				w *= 1.4
			}
		case personaStudent:
			switch {
			case p.price <= 600000:
				w *= 2.5
			case p.price > 1200000:
				w *= 0.25
			}
		case personaLoyal:
			if p.price >= 1000000 {
				w *= 2
			}
		case personaGift:
			switch p.cat {
			case 0, 1, 7:
				w *= 2
			default:
				w *= 0.3
			}
		}
		sum += w
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	return cdf
}

// store is a physical shop with a POS.
type store struct {
	id, name, city string
}

var stores = []store{
	{"HN01", "Mây Boutique Tràng Tiền", "Hà Nội"},
	{"HN02", "Mây Boutique Vincom Trần Duy Hưng", "Hà Nội"},
	{"HCM01", "Mây Boutique Lê Thánh Tôn, Quận 1", "TP. Hồ Chí Minh"},
	{"HCM02", "Mây Boutique Crescent Mall, Quận 7", "TP. Hồ Chí Minh"},
	{"DN01", "Mây Boutique Hải Châu", "Đà Nẵng"},
}

// city is where a customer lives; spellings are the variants customers and
// systems really type, so the data needs cleaning like real data does.
type city struct {
	spellings []string
	weight    float64
	stores    []int
}

var cities = []city{
	{[]string{"Hà Nội", "Ha Noi", "HN"}, 0.30, []int{0, 1}},
	{[]string{"TP. Hồ Chí Minh", "Hồ Chí Minh", "TP.HCM", "Sài Gòn"}, 0.36, []int{2, 3}},
	{[]string{"Đà Nẵng", "Da Nang"}, 0.08, []int{4}},
	{[]string{"Hải Phòng"}, 0.05, nil},
	{[]string{"Cần Thơ"}, 0.04, nil},
	{[]string{"Bình Dương"}, 0.05, nil},
	{[]string{"Đồng Nai"}, 0.04, nil},
	{[]string{"Khánh Hòa", "Nha Trang"}, 0.03, nil},
	{[]string{"Thừa Thiên Huế", "Huế"}, 0.03, nil},
	{[]string{"Nghệ An"}, 0.02, nil},
}

// nameW is a weighted Vietnamese name part with its ASCII spelling.
type nameW struct {
	name   string
	weight float64
	ascii  string
}

var familyNames = []nameW{
	{"Nguyễn", 38, ""}, {"Trần", 11, ""}, {"Lê", 9.5, ""}, {"Phạm", 7, ""},
	{"Hoàng", 5, ""}, {"Huỳnh", 4, ""}, {"Phan", 4.5, ""}, {"Vũ", 3.9, ""},
	{"Võ", 3.5, ""}, {"Đặng", 2.1, ""}, {"Bùi", 2, ""}, {"Đỗ", 1.4, ""},
	{"Hồ", 1.3, ""}, {"Ngô", 1.3, ""}, {"Dương", 1, ""}, {"Lý", 0.5, ""},
}

func names(s string) []nameW {
	var out []nameW
	for f := range strings.FieldsSeq(s) {
		out = append(out, nameW{name: f, weight: 1})
	}
	return out
}

var (
	middleFemale = names("Thị Thị Thị Ngọc Thu Thanh Minh Khánh Bảo Phương Hoài Mỹ Diệu")
	middleMale   = names("Văn Văn Minh Đức Quang Hữu Thành Hoàng Anh Tuấn Gia")
	givenFemale  = names("Lan Hương Trang Linh Mai Ngọc Thảo Hà Anh Vy Nhung Hạnh Yến Phương Quỳnh Chi Hằng Dung Uyên Trâm Hoa Thu My Nhi Giang Ly Tâm Vân Hân Duyên")
	givenMale    = names("Tuấn Minh Hùng Dũng Nam Huy Khoa Long Phúc Quân Sơn Thắng Bình Đạt Hiếu Trung Việt Khánh")
)

// Mobile prefixes of the Vietnamese networks (Viettel, Vinaphone, Mobifone).
var phonePrefixes = []string{
	"032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",
	"081", "082", "083", "084", "085", "088", "091", "094",
	"070", "076", "077", "078", "079", "089", "090", "093",
}

var emailDomains = []string{"gmail.com", "gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "yahoo.com.vn", "outlook.com", "icloud.com", "hotmail.com"}

var ipPrefixes = []string{"113.161.", "14.232.", "42.114.", "171.224.", "27.72.", "116.96.", "118.70.", "115.79.", "1.53.", "183.80."}

// device is a browser or phone with its context JSON fragment.
type device struct {
	mobile       bool
	ua           string
	kind         string // device.type
	manufacturer string
	model        string
	osName       string
	osVersion    string
	app          bool
	frag         string
}

func (d *device) render() string {
	var w jsonw
	w.begin()
	if d.app {
		w.obj("app")
		w.str("name", "Mây")
		w.str("version", "3.4.1")
		w.str("build", "341")
		w.str("namespace", "vn.maybouti.app")
		w.close()
	} else {
		w.str("userAgent", d.ua)
	}
	w.obj("device")
	w.str("type", d.kind)
	if d.manufacturer != "" {
		w.str("manufacturer", d.manufacturer)
		w.str("model", d.model)
	}
	w.close()
	w.obj("os")
	w.str("name", d.osName)
	w.str("version", d.osVersion)
	w.close()
	w.str("locale", "vi-VN")
	w.str("timezone", "Asia/Ho_Chi_Minh")
	w.obj("library")
	if d.app {
		if d.osName == "iOS" {
			w.str("name", "analytics-ios")
		} else {
			w.str("name", "analytics-android")
		}
		w.str("version", "4.1.8")
	} else {
		w.str("name", "analytics.js")
		w.str("version", "next-1.70.0")
	}
	w.close()
	return string(w.b[1:])
}

var webDevices = []device{
	{mobile: true, kind: "mobile", manufacturer: "Apple", model: "iPhone", osName: "iOS", osVersion: "17.5",
		ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"},
	{mobile: true, kind: "mobile", manufacturer: "Samsung", model: "SM-A546E", osName: "Android", osVersion: "14",
		ua: "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Mobile Safari/537.36"},
	{mobile: true, kind: "mobile", manufacturer: "OPPO", model: "CPH2437", osName: "Android", osVersion: "13",
		ua: "Mozilla/5.0 (Linux; Android 13; CPH2437) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Mobile Safari/537.36"},
	{mobile: true, kind: "mobile", manufacturer: "Xiaomi", model: "Redmi Note 11", osName: "Android", osVersion: "12",
		ua: "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.0.0 Mobile Safari/537.36 Zalo android/12100730 ZaloTheme/light ZaloLanguage/vi"},
	{mobile: true, kind: "mobile", manufacturer: "Apple", model: "iPhone", osName: "iOS", osVersion: "17.4.1",
		ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/476.0.0.49.109;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.4.1;FBSS/3;FBLC/vi_VN;FBOP/5]"},
	{kind: "desktop", osName: "Windows", osVersion: "10",
		ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36"},
	{kind: "desktop", osName: "Windows", osVersion: "10",
		ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/128.0.184 Chrome/122.0.6261.184 Safari/537.36"},
	{kind: "desktop", osName: "Mac OS X", osVersion: "10.15.7",
		ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"},
}

// Indexes into webDevices: the first five are phones.
const nMobileWeb = 5

var appDevices = []device{
	{app: true, mobile: true, kind: "ios", manufacturer: "Apple", model: "iPhone15,3", osName: "iOS", osVersion: "17.5"},
	{app: true, mobile: true, kind: "ios", manufacturer: "Apple", model: "iPhone14,7", osName: "iOS", osVersion: "17.4"},
	{app: true, mobile: true, kind: "android", manufacturer: "Samsung", model: "SM-S918B", osName: "Android", osVersion: "14"},
	{app: true, mobile: true, kind: "android", manufacturer: "Xiaomi", model: "23021RAA2Y", osName: "Android", osVersion: "13"},
	{app: true, mobile: true, kind: "android", manufacturer: "OPPO", model: "CPH2477", osName: "Android", osVersion: "13"},
}

// Marketing campaigns of ordinary (non-sale) paid traffic.
type campaign struct {
	source, medium, name string
	landing              uint8 // landHome, landCategory, landProduct
}

var adCampaigns = []campaign{
	{"facebook", "cpc", "always-on-retargeting", landProduct},
	{"google", "cpc", "brand-search", landHome},
	{"tiktok", "cpc", "tui-xach-thu-dong", landCategory},
	{"google", "cpc", "shopping-tui-xach", landProduct},
}

// Where a visit lands.
const (
	landHome uint8 = iota
	landCategory
	landProduct
	landCart
	landSale
)

var organicReferrers = []string{
	"https://www.google.com/", "https://www.google.com/", "https://www.google.com/",
	"https://coccoc.com/search", "https://l.facebook.com/", "https://zalo.me/", "",
	"", "",
}

var fbComments = []string{
	"Giá bao nhiêu vậy shop?", "Còn màu đen không ạ?", "Ib mình nha shop", "Đẹp quá 😍",
	"Shop có ship COD ra Hà Nội không?", "Túi này đựng vừa laptop 13 inch không ạ?",
	"Đã inbox, check giúp em", "Hôm nay còn freeship không shop?",
}

var chatMessages = []string{
	"Shop ơi mẫu túi tote còn màu kem không ạ?", "Cho mình hỏi đơn hàng của mình đang ở đâu?",
	"Mình muốn đổi size váy thì làm thế nào?", "Cửa hàng Quận 1 mở cửa đến mấy giờ vậy?",
	"Có mã giảm giá cho thành viên không shop?", "Tư vấn giúp mình túi đi làm màu trung tính",
}

var reviewBodies = [6][]string{
	1: {"Đơn hàng trễ cả tuần, gọi tổng đài không ai nghe máy. Rất thất vọng.", "Hàng lỗi đường may, đổi trả phức tạp."},
	2: {"Giao hàng quá chậm, gọi hotline mãi không được.", "Chất liệu không như mô tả."},
	3: {"Tạm được, màu hơi khác ảnh.", "Sản phẩm ổn nhưng đóng gói sơ sài."},
	4: {"Sản phẩm đẹp nhưng giao hơi lâu.", "Form đẹp, chỉ hơi nhỏ hơn mong đợi."},
	5: {"Túi đẹp, da mềm, đúng như hình. Sẽ ủng hộ shop tiếp!", "Giao nhanh, đóng gói cẩn thận, rất hài lòng.", "Chất lượng tốt so với giá, màu y hình."},
}

var surveyComments = [3][]string{
	{"Giao hàng chậm quá, tổng đài không hỗ trợ được.", "Chất lượng không tương xứng với giá."},
	{"Ổn, nhưng website bắt đăng nhập hơi phiền.", "Sản phẩm được, giao hàng bình thường."},
	{"Rất hài lòng, nhân viên tư vấn nhiệt tình!", "Sẽ giới thiệu cho bạn bè.", ""},
}

// Hotline call topics.
var (
	topicDelivery = "giao hàng"
	topicReturn   = "đổi trả"
	topicAdvice   = "tư vấn sản phẩm"
	topicPromo    = "khuyến mãi"
	topicComplain = "khiếu nại"
)

// foldTable maps Vietnamese letters to their ASCII base letter.
var foldTable = func() map[rune]rune {
	m := map[rune]rune{'đ': 'd', 'Đ': 'D'}
	for _, g := range []string{
		"aàáảãạăằắẳẵặâầấẩẫậ", "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ",
		"eèéẻẽẹêềếểễệ", "EÈÉẺẼẸÊỀẾỂỄỆ",
		"iìíỉĩị", "IÌÍỈĨỊ",
		"oòóỏõọôồốổỗộơờớởỡợ", "OÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ",
		"uùúủũụưừứửữự", "UÙÚỦŨỤƯỪỨỬỮỰ",
		"yỳýỷỹỵ", "YỲÝỶỸỴ",
	} {
		rs := []rune(g)
		for _, r := range rs[1:] {
			m[r] = rs[0]
		}
	}
	return m
}()

// fold lowercases s and removes Vietnamese diacritics.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if f, ok := foldTable[r]; ok {
			r = f
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}, s)
}

// slug is the URL path segment of a name: "Túi xách" -> "tui-xach".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range fold(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	return b.String()
}
