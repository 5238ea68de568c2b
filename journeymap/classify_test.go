package journeymap

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cjmhq/cjm/event"
)

var testSources = []SourceInfo{
	{ID: "src_web", Name: "Website maybouti.vn", Channel: "website"},
	{ID: "src_app", Name: "Ứng dụng Mây", Channel: "app"},
	{ID: "src_shopee", Name: "Shopee Mall", Channel: "marketplace"},
	{ID: "src_pos", Name: "Cửa hàng (POS)", Channel: "pos"},
}

// one builds a map with a single touchpoint matching r.
func one(r Rule) *Map {
	return &Map{Name: "t", Lang: "en", State: Current, Stages: []Stage{{Key: "s", Name: "S",
		Touchpoints: []Touchpoint{{Key: "t", Name: "T", Channel: "website", Match: &Matcher{Rule: r}}}}}}
}

func msg(typ event.Type, name, src, props, ctx string) *event.Message {
	m := &event.Message{Type: typ, SourceID: src}
	if typ == event.Track {
		m.Event = name
	} else {
		m.Name = name
	}
	if props != "" {
		m.Properties = json.RawMessage(props)
	}
	if ctx != "" {
		m.Context = json.RawMessage(ctx)
	}
	return m
}

func TestMatchRules(t *testing.T) {
	track := func(name string) *event.Message { return msg(event.Track, name, "src_web", "", "") }
	cases := []struct {
		name string
		rule Rule
		msg  *event.Message
		want bool
	}{
		{"exact event", Rule{Event: "Order Completed"}, track("Order Completed"), true},
		{"event case matters", Rule{Event: "Order Completed"}, track("order completed"), false},
		{"event prefix", Rule{Event: "Order *"}, track("Order Refunded"), true},
		{"event suffix", Rule{Event: "* Viewed"}, track("Cart Viewed"), true},
		{"event ? and *", Rule{Event: "Call ?n*"}, track("Call Answered"), true},
		{"event glob miss", Rule{Event: "Call ?n*"}, track("Call Started"), false},
		{"? is one whole character", Rule{Event: "Ph?m *"}, track("Phạm Gia"), true},
		{"* then ? never splits a character", Rule{Event: "x*??"}, track("xạ"), false},
		{"no path never matches a path", Rule{Path: "/**"}, track("Order Completed"), false},
		{"type", Rule{Type: "page"}, msg(event.Page, "Home", "src_web", "", ""), true},
		{"type mismatch", Rule{Type: "page"}, track("Home"), false},
		{"page name", Rule{Type: "page", Event: "Product"}, msg(event.Page, "Product", "src_web", "", ""), true},
		{"source by name", Rule{Source: "Shopee Mall"}, msg(event.Track, "Order Completed", "src_shopee", "", ""), true},
		{"source by name miss", Rule{Source: "Shopee Mall"}, track("Order Completed"), false},
		{"source glob", Rule{Source: "*Mây"}, msg(event.Track, "X", "src_app", "", ""), true},
		{"channel", Rule{Channel: "pos"}, msg(event.Track, "X", "src_pos", "", ""), true},
		{"channel miss", Rule{Channel: "pos"}, track("X"), false},
		{"path exact", Rule{Path: "/gio-hang"}, msg(event.Page, "Cart", "src_web", `{"path":"/gio-hang/"}`, ""), true},
		{"path star one segment", Rule{Path: "/san-pham/*"}, msg(event.Page, "P", "src_web", `{"path":"/san-pham/tui-xach"}`, ""), true},
		{"path star not across", Rule{Path: "/san-pham/*"}, msg(event.Page, "P", "src_web", `{"path":"/san-pham/a/b"}`, ""), false},
		{"path double star", Rule{Path: "/san-pham/**"}, msg(event.Page, "P", "src_web", `{"path":"/san-pham/a/b"}`, ""), true},
		{"path double star matches parent", Rule{Path: "/san-pham/**"}, msg(event.Page, "P", "src_web", `{"path":"/san-pham"}`, ""), true},
		{"path double star not sibling", Rule{Path: "/san-pham/**"}, msg(event.Page, "P", "src_web", `{"path":"/san-pham-moi"}`, ""), false},
		{"path middle double star", Rule{Path: "/**/thanh-toan"}, msg(event.Page, "P", "src_web", `{"path":"/vi/gio/thanh-toan"}`, ""), true},
		{"path middle double star zero", Rule{Path: "/a/**/b"}, msg(event.Page, "P", "src_web", `{"path":"/a/b"}`, ""), true},
		{"path segment wildcard", Rule{Path: "/sp-*/chi-tiet"}, msg(event.Page, "P", "src_web", `{"path":"/sp-123/chi-tiet"}`, ""), true},
		{"path from context", Rule{Path: "/checkout"}, msg(event.Track, "Checkout Started", "src_web", "", `{"page":{"path":"/checkout"}}`), true},
		{"path from url", Rule{Path: "/checkout"}, msg(event.Track, "X", "src_web", `{"url":"https://x.vn/checkout?a=1"}`, ""), true},
		{"eq string", Rule{Where: []Condition{{Field: "properties.method", Op: OpEq, Value: "cod"}}}, msg(event.Track, "X", "src_web", `{"method":"cod"}`, ""), true},
		{"eq number forms", Rule{Where: []Condition{{Field: "properties.total", Op: OpEq, Value: "500000"}}}, msg(event.Track, "X", "src_web", `{"total":500000.0}`, ""), true},
		{"ne missing", Rule{Where: []Condition{{Field: "properties.method", Op: OpNe, Value: "cod"}}}, track("X"), true},
		{"in", Rule{Where: []Condition{{Field: "properties.city", Op: OpIn, Values: []string{"Hà Nội", "Đà Nẵng"}}}}, msg(event.Track, "X", "src_web", `{"city":"Đà Nẵng"}`, ""), true},
		{"not_in", Rule{Where: []Condition{{Field: "properties.city", Op: OpNotIn, Values: []string{"Hà Nội"}}}}, msg(event.Track, "X", "src_web", `{"city":"Hà Nội"}`, ""), false},
		{"contains", Rule{Where: []Condition{{Field: "context.campaign.name", Op: OpContains, Value: "tet"}}}, msg(event.Track, "X", "src_web", "", `{"campaign":{"name":"sale-tet-2026"}}`), true},
		{"regex", Rule{Where: []Condition{{Field: "properties.sku", Op: OpRegex, Value: `^TX-\d+$`}}}, msg(event.Track, "X", "src_web", `{"sku":"TX-42"}`, ""), true},
		{"regex miss", Rule{Where: []Condition{{Field: "properties.sku", Op: OpRegex, Value: `^TX-\d+$`}}}, msg(event.Track, "X", "src_web", `{"sku":"TX-4a"}`, ""), false},
		{"exists", Rule{Where: []Condition{{Field: "context.campaign.source", Op: OpExists}}}, msg(event.Track, "X", "src_web", "", `{"campaign":{"source":"fb"}}`), true},
		{"exists null is absent", Rule{Where: []Condition{{Field: "properties.coupon", Op: OpExists}}}, msg(event.Track, "X", "src_web", `{"coupon":null}`, ""), false},
		{"not_exists", Rule{Where: []Condition{{Field: "properties.coupon", Op: OpNotExists}}}, track("X"), true},
		{"gt", Rule{Where: []Condition{{Field: "properties.total", Op: OpGt, Value: "1000000"}}}, msg(event.Track, "X", "src_web", `{"total":1500000}`, ""), true},
		{"gte equal", Rule{Where: []Condition{{Field: "properties.rating", Op: OpGte, Value: "4"}}}, msg(event.Track, "X", "src_web", `{"rating":4}`, ""), true},
		{"lt string number", Rule{Where: []Condition{{Field: "properties.rating", Op: OpLt, Value: "3"}}}, msg(event.Track, "X", "src_web", `{"rating":"2"}`, ""), true},
		{"lte not a number", Rule{Where: []Condition{{Field: "properties.rating", Op: OpLte, Value: "3"}}}, msg(event.Track, "X", "src_web", `{"rating":"bad"}`, ""), false},
		{"nested traits", Rule{Where: []Condition{{Field: "traits.address.city", Op: OpEq, Value: "Huế"}}}, &event.Message{Type: event.Identify, Traits: json.RawMessage(`{"address":{"city":"Huế"}}`)}, true},
		{"bool value", Rule{Where: []Condition{{Field: "properties.first_order", Op: OpEq, Value: "true"}}}, msg(event.Track, "X", "src_web", `{"first_order":true}`, ""), true},
		{"all", Rule{All: []Rule{{Event: "Order Completed"}, {Channel: "marketplace"}}}, msg(event.Track, "Order Completed", "src_shopee", "", ""), true},
		{"all miss", Rule{All: []Rule{{Event: "Order Completed"}, {Channel: "marketplace"}}}, track("Order Completed"), false},
		{"any", Rule{Any: []Rule{{Event: "Call Started"}, {Event: "Message Received"}}}, track("Message Received"), true},
		{"any miss", Rule{Any: []Rule{{Event: "Call Started"}, {Event: "Message Received"}}}, track("Call Ended"), false},
		{"own and any", Rule{Channel: "website", Any: []Rule{{Event: "A"}, {Event: "B"}}}, msg(event.Track, "B", "src_app", "", ""), false},
		{"nested any in all", Rule{All: []Rule{{Type: "track"}, {Any: []Rule{{Event: "A"}, {Path: "/x"}}}}}, msg(event.Track, "Z", "src_web", `{"path":"/x"}`, ""), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(one(tc.rule), testSources)
			if err != nil {
				t.Fatal(err)
			}
			got := c.ClassifyMessage(tc.msg) == Place{0, 0}
			if got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	m := &Map{Name: "p", Lang: "en", State: Current, Stages: []Stage{
		{Key: "consider", Name: "Consider", Match: &Matcher{Rule: Rule{Channel: "website"}},
			Touchpoints: []Touchpoint{
				{Key: "any-order", Name: "Any order", Channel: "website", Match: &Matcher{Rule: Rule{Event: "Order*"}}},
			}},
		{Key: "buy", Name: "Buy", Touchpoints: []Touchpoint{
			{Key: "web-order", Name: "Web order", Channel: "website", Match: &Matcher{Precedence: 10, Rule: Rule{Event: "Order Completed", Source: "Website*"}}},
			{Key: "app-order", Name: "App order", Channel: "app", Match: &Matcher{Rule: Rule{Event: "Order Completed"}}},
		}},
	}}
	c, err := Compile(m, testSources)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		msg  *event.Message
		want Place
	}{
		{msg(event.Track, "Order Completed", "src_web", "", ""), Place{1, 0}}, // precedence 10 beats document order
		{msg(event.Track, "Order Completed", "src_app", "", ""), Place{0, 0}}, // equal precedence: drawn first wins
		{msg(event.Track, "Order Refunded", "src_web", "", ""), Place{0, 0}},  // touchpoint beats its stage on a tie
		{msg(event.Track, "Product Viewed", "src_web", "", ""), Place{0, -1}}, // stage matcher alone
		{msg(event.Track, "Product Viewed", "src_shopee", "", ""), Nowhere},   // nothing matches
		{msg(event.Page, "Order Completed", "src_pos", "", ""), Place{0, 0}},  // page names match event patterns
	}
	for i, tc := range cases {
		if got := c.ClassifyMessage(tc.msg); got != tc.want {
			t.Errorf("case %d (%s from %s): got %v, want %v", i, tc.msg.Label(), tc.msg.SourceID, got, tc.want)
		}
	}
}

func TestCompileWarnsAboutUnknownSource(t *testing.T) {
	c, err := Compile(one(Rule{Source: "Tiki"}), testSources)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 {
		t.Fatalf("warnings = %q", c.Warnings)
	}
	if got := c.ClassifyMessage(msg(event.Track, "X", "src_web", "", "")); got != Nowhere {
		t.Errorf("got %v", got)
	}
}

func TestCompileRejectsBadMatchers(t *testing.T) {
	cases := []struct {
		rule  Rule
		field string
	}{
		{Rule{}, "stages[0].touchpoints[0].match"},
		{Rule{Type: "click"}, "stages[0].touchpoints[0].match.type"},
		{Rule{Path: "checkout"}, "stages[0].touchpoints[0].match.path"},
		{Rule{Channel: "tv"}, "stages[0].touchpoints[0].match.channel"},
		{Rule{Where: []Condition{{Field: "total", Op: OpEq, Value: "1"}}}, "stages[0].touchpoints[0].match.where[0].field"},
		{Rule{Where: []Condition{{Field: "properties.total", Op: "between", Value: "1"}}}, "stages[0].touchpoints[0].match.where[0].op"},
		{Rule{Where: []Condition{{Field: "properties.total", Op: OpGt, Value: "many"}}}, "stages[0].touchpoints[0].match.where[0].value"},
		{Rule{Where: []Condition{{Field: "properties.sku", Op: OpRegex, Value: "(("}}}, "stages[0].touchpoints[0].match.where[0].value"},
		{Rule{Where: []Condition{{Field: "properties.city", Op: OpIn}}}, "stages[0].touchpoints[0].match.where[0].values"},
		{Rule{Any: []Rule{{Event: "A"}, {}}}, "stages[0].touchpoints[0].match.any[1]"},
	}
	for _, tc := range cases {
		_, err := Compile(one(tc.rule), testSources)
		es, ok := err.(Errors)
		if !ok || len(es) != 1 || es[0].Field != tc.field {
			t.Errorf("rule %+v: err = %v, want one error at %s", tc.rule, err, tc.field)
		}
	}
}

// typicalMap is a retail map of 5 stages and 20 touchpoints with the kinds of
// matchers teams write: event names, wildcards, sources, paths, a property.
func typicalMap() *Map {
	m := &Map{Name: "bench", Lang: "en", State: Current}
	events := []string{"Ad Clicked", "Comment Posted", "Email Opened", "Page Viewed", "Products Searched", "Product Viewed", "Product Added", "Cart Viewed",
		"Checkout Started", "Order Completed", "Payment Failed", "Call Started", "Call Abandoned", "Message Received", "Review Submitted",
		"Survey Answered", "ZNS Clicked", "Email Link Clicked", "Coupon Applied", "Referral Sent"}
	for s := range 5 {
		st := Stage{Key: fmt.Sprintf("s%d", s), Name: fmt.Sprintf("S%d", s)}
		for j := range 4 {
			i := s*4 + j
			r := Rule{Event: events[i]}
			switch i % 5 {
			case 1:
				r.Source = "Website*"
			case 2:
				r = Rule{Any: []Rule{{Event: events[i]}, {Event: events[i] + " Again"}}}
			case 3:
				r.Where = []Condition{{Field: "properties.total", Op: OpGte, Value: "100000"}}
			case 4:
				r = Rule{Type: "page", Path: fmt.Sprintf("/p%d/**", i)}
			}
			st.Touchpoints = append(st.Touchpoints, Touchpoint{Key: fmt.Sprintf("t%d", i), Name: events[i], Channel: "website", Match: &Matcher{Rule: r}})
		}
		m.Stages = append(m.Stages, st)
	}
	return m
}

// BenchmarkClassify measures Classify on a typical map over a mix of events
// like an analytics scan sees: most have a name some touchpoint wants, some
// are pages, some match nothing. The target is 5 million events/s per core.
func BenchmarkClassify(b *testing.B) {
	c, err := Compile(typicalMap(), testSources)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"Product Viewed", "Page Viewed", "Cart Viewed", "Order Completed", "Checkout Started", "Identify", "Product Added", "Email Opened", "Unknown Thing", "Call Started"}
	evs := make([]Event, 1024)
	for i := range evs {
		e := Event{Type: "track", Name: names[i%len(names)], SourceID: testSources[i%len(testSources)].ID, Fields: make([]Value, len(c.Fields()))}
		if i%7 == 0 {
			e.Type, e.Name, e.Path = "page", "Product", fmt.Sprintf("/p%d/item-%d", (i%4)*5+4, i)
		}
		for f := range e.Fields {
			e.Fields[f] = Value{fmt.Sprint(i * 1000), i%3 != 0}
		}
		evs[i] = e
	}
	matched := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.Classify(&evs[i&1023]) != Nowhere {
			matched++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	if matched == 0 {
		b.Fatal("nothing matched")
	}
}
