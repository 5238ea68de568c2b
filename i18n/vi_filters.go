package i18n

// Phân tích: bộ lọc chung của mọi trang phân tích (web/filters.go).
var _ = extend(vi, map[string]string{
	"filter.title":     "Lọc theo nguồn, kênh, chân dung, nhóm khách",
	"filter.set_other": "%s bộ lọc đang bật",

	"filter.source": "Nguồn dữ liệu", "filter.all_sources": "Tất cả nguồn",
	"filter.channel": "Kênh", "filter.all_channels": "Tất cả kênh",
	"filter.channel_hint":        "Sự kiện của mọi nguồn thuộc kênh này.",
	"filter.persona":             "Chân dung khách hàng",
	"filter.persona_placeholder": "Ví dụ Nhân viên văn phòng",
	"filter.persona_hint":        "Những khách có traits.persona gần nhất là giá trị này; danh sách gợi ý lấy từ chân dung trong các bản đồ hành trình.",
	"filter.segment":             "Khách đã từng",
	"filter.segment_hint":        "TRƯỜNG=GIÁ TRỊ: chỉ những khách có ít nhất một sự kiện như vậy (mọi sự kiện của họ đều được tính), ví dụ khách đến từ Facebook.",
	"filter.where":               "Chỉ tính sự kiện có",
	"filter.where_hint":          "TRƯỜNG=GIÁ TRỊ: chỉ tính những sự kiện có giá trị này; tên không có tiền tố là thuộc tính (category=tui-xach).",

	"filter.active": "Đang lọc theo", "filter.remove": "Bỏ bộ lọc này",
	"filter.chip_src": "Nguồn", "filter.chip_channel": "Kênh", "filter.chip_persona": "Chân dung",
	"filter.chip_segment": "Khách đã từng", "filter.chip_where": "Chỉ sự kiện có",

	"filter.err_source":         "Không gian làm việc không có nguồn này: hãy chọn trong danh sách.",
	"filter.err_channel":        "Không có nguồn nào thuộc kênh này: hãy chọn trong danh sách.",
	"filter.err_source_channel": "Nguồn %s không thuộc kênh %s: hãy chọn nguồn hoặc kênh khác.",
	"filter.err_long":           "Tối đa %d ký tự.",
	"filter.err_field_equals":   "“%s” không có dạng TRƯỜNG=GIÁ TRỊ, ví dụ context.campaign.source=facebook.",

	"funnel.steps_conditions": "Một bước có thể chỉ tính một số sự kiện, với điều kiện trong ngoặc vuông (= hoặc !=), ví dụ",
})
