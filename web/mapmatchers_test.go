package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

func TestMatchersPage(t *testing.T) {
	e := newEnv(t)
	c := e.setup()
	ws := e.workspace()
	website := e.createSource("Website", opstore.Website)
	shopee := e.createSource("Shopee Mall", opstore.Marketplace)
	m := &journeymap.Map{Name: "Mua hàng", Lang: "vi", State: journeymap.Current, Stages: []journeymap.Stage{
		{Key: "discover", Name: "Khám phá", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Signed Up"}}, Touchpoints: []journeymap.Touchpoint{
			{Key: "web-visit", Name: "Xem website", Channel: "website", Expected: true, Match: &journeymap.Matcher{Rule: journeymap.Rule{Type: "page", Path: "/**", Source: "Website"}}},
			{Key: "zalo-ad", Name: "Quảng cáo Zalo", Channel: "ads", Expected: true, Match: &journeymap.Matcher{Precedence: 2, Rule: journeymap.Rule{Event: "Ad Clicked", Source: "Zalo OA",
				Where: []journeymap.Condition{{Field: "context.campaign.source", Op: journeymap.OpIn, Values: []string{"zalo", "zns"}}}}}},
		}},
		{Key: "buy", Name: "Mua", Touchpoints: []journeymap.Touchpoint{
			{Key: "shopee-order", Name: "Đặt trên Shopee", Channel: "marketplace", Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: "Order Completed", Source: "Shopee Mall",
				Where: []journeymap.Condition{{Field: "properties.total", Op: journeymap.OpGte, Value: "100000"}}}}},
			{Key: "store", Name: "Cửa hàng", Channel: "store"},
		}},
	}}
	entry, err := journeymap.NewBook(e.ops).Create(context.Background(), ws.ID, m, opstore.MapChange{Action: "created"})
	if err != nil {
		t.Fatal(err)
	}
	id := entry.ID
	// No events yet.
	expect(t, c.get("/journeys/"+id+"/matchers"), http.StatusOK, i18n.T("vi", "matchers.no_events"), "Zalo OA")

	now := time.Now().UTC().Add(-time.Hour)
	e.appendEvents(
		event.Message{WorkspaceID: ws.ID, SourceID: website.ID, Type: event.Page, Name: "Trang chủ", AnonymousID: "a1", Context: json.RawMessage(`{"page":{"path":"/"}}`), Timestamp: now},
		event.Message{WorkspaceID: ws.ID, SourceID: website.ID, Type: event.Page, Name: "Sản phẩm", UserID: "kh-42", Properties: json.RawMessage(`{"url":"https://x.vn/san-pham/tui"}`), Timestamp: now.Add(time.Minute)},
		event.Message{WorkspaceID: ws.ID, SourceID: shopee.ID, Type: event.Track, Event: "Order Completed", UserID: "kh-42", Properties: json.RawMessage(`{"total":250000}`), Timestamp: now.Add(2 * time.Minute)},
		event.Message{WorkspaceID: ws.ID, SourceID: shopee.ID, Type: event.Track, Event: "Order Completed", UserID: "kh-7", Properties: json.RawMessage(`{"total":50000}`), Timestamp: now.Add(3 * time.Minute)},
		event.Message{WorkspaceID: ws.ID, SourceID: website.ID, Type: event.Track, Event: "Signed Up", UserID: "kh-42", Timestamp: now.Add(4 * time.Minute)},
		event.Message{WorkspaceID: ws.ID, SourceID: website.ID, Type: event.Track, Event: "Scroll Depth", AnonymousID: "a1", Timestamp: now.Add(5 * time.Minute)},
		event.Message{WorkspaceID: ws.ID, SourceID: website.ID, Type: event.Track, Event: "Old", AnonymousID: "a1", Timestamp: now.Add(-40 * 24 * time.Hour)},
	)
	r := c.get("/journeys/" + id + "/matchers")
	expect(t, r, http.StatusOK, "Xem website", "Đặt trên Shopee", "Chính giai đoạn", "loại = page · đường dẫn: /** · nguồn: Website",
		"sự kiện = Ad Clicked · nguồn: Zalo OA · context.campaign.source thuộc (zalo, zns) · ưu tiên 2",
		"sự kiện = Order Completed · nguồn: Shopee Mall · properties.total ≥ 100000", "chưa có bộ lọc",
		"Scroll Depth", "/san-pham/tui", "/events?user=kh-42", "66,7%", "zalo-ad: no source matches", i18n.T("vi", "matchers.never_seen"),
		`aria-current="page">30 ngày qua`)
	expectNot(t, r, "Old", "%!")
	scanned := func(n string) string {
		return i18n.T("vi", "matchers.scanned") + `</span><span class="stat-value">` + n + `<`
	}
	expect(t, r, http.StatusOK, scanned("6"))
	// Reloading within a minute does not scan again; a new version does.
	e.appendEvents(event.Message{WorkspaceID: ws.ID, SourceID: website.ID, Type: event.Track, Event: "Scroll Depth", AnonymousID: "a2", Timestamp: now.Add(6 * time.Minute)})
	expect(t, c.get("/journeys/"+id+"/matchers"), http.StatusOK, scanned("6"))
	m.Stages[1].Name = "Mua hàng"
	if _, err := journeymap.NewBook(e.ops).Save(context.Background(), ws.ID, id, 0, m, opstore.MapChange{Action: "saved"}); err != nil {
		t.Fatal(err)
	}
	expect(t, c.get("/journeys/"+id+"/matchers"), http.StatusOK, scanned("7"))
	c.get("/")
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	r = c.get("/journeys/" + id + "/matchers?days=7")
	expect(t, r, http.StatusOK, "Events no touchpoint claims", "type = page · path: /** · source: Website", "context.campaign.source in (zalo, zns) · precedence 2", "66.7%", `aria-current="page">Last 7 days`)
	expect(t, c.get("/journeys/"+id+"/matchers?days=90"), http.StatusOK)
	expect(t, c.get("/journeys/nope/matchers"), http.StatusNotFound)
}
