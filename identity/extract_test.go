package identity_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/identity"
)

func ids(s ...string) []identity.Identifier {
	out := []identity.Identifier{}
	for _, x := range s {
		id, err := identity.ParseIdentifier(x)
		if err != nil {
			panic(err)
		}
		out = append(out, id)
	}
	return out
}

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      event.Message
		source string
		want   []identity.Identifier
		prev   string
		junk   int
	}{
		{name: "anonymous page", m: event.Message{Type: event.Page, AnonymousID: "a1"}, want: ids("anonymous_id:a1")},
		{name: "track of a user on a device", m: event.Message{Type: event.Track, UserID: "kh001", AnonymousID: "a1"},
			want: ids("user_id:kh001", "anonymous_id:a1")},
		{name: "identify traits, strongest kind first",
			m: event.Message{Type: event.Identify, UserID: "kh001", AnonymousID: "a1", Traits: json.RawMessage(
				`{"name":"Lan","email":" Lan@Example.vn","phone":"0912 345 678","address":{"email":"nested@x.vn"},` +
					`"loyalty_card":"MAY10000001","zalo_id":"8412345678901234567","facebook_id":100012345678}`)},
			want: ids("user_id:kh001", "email:lan@example.vn", "phone:+84912345678", "zalo_id:8412345678901234567",
				"facebook_id:100012345678", "loyalty_card:MAY10000001", "anonymous_id:a1")},
		{name: "phone aliases and the first of two equal values",
			m: event.Message{Type: event.Identify, UserID: "u", Traits: json.RawMessage(
				`{"phone_number":"84912345678","mobile":"+84 912 345 678","sdt":"0987 111 222","Phone":"0912.345.678"}`)},
			want: ids("user_id:u", "phone:+84912345678", "phone:+84987111222")},
		{name: "card aliases",
			m: event.Message{Type: event.Identify, UserID: "u", Traits: json.RawMessage(
				`{"membership_id":"M-1","card_number":"C 2","zaloId":"z9"}`)},
			want: ids("user_id:u", "zalo_id:z9", "loyalty_card:M1", "loyalty_card:C2")},
		{name: "junk everywhere",
			m: event.Message{Type: event.Identify, UserID: "undefined", AnonymousID: "null", Traits: json.RawMessage(
				`{"email":"test@test.com","phone":"0000000000","zalo_id":"0","loyalty_card":"N/A"}`)},
			want: ids(), junk: 6},
		{name: "a track's traits are its context's",
			m: event.Message{Type: event.Track, AnonymousID: "a1", Traits: json.RawMessage(`{"email":"ignored@x.vn"}`),
				Context: json.RawMessage(`{"library":{"name":"x"},"traits":{"email":"lan@x.vn","name":"Lan"}}`)},
			want: ids("email:lan@x.vn", "anonymous_id:a1")},
		{name: "group traits describe the group",
			m:    event.Message{Type: event.Group, UserID: "u", GroupID: "g", Traits: json.RawMessage(`{"email":"info@company.vn"}`)},
			want: ids("user_id:u")},
		{name: "alias", m: event.Message{Type: event.Alias, UserID: "u2", PreviousID: " u1 "}, want: ids("user_id:u2"), prev: "u1"},
		{name: "alias with a junk previousId", m: event.Message{Type: event.Alias, UserID: "u2", PreviousID: "anonymous"},
			want: ids("user_id:u2"), junk: 1},
		{name: "marketplace buyer: the marketplace trait qualifies it",
			m: event.Message{Type: event.Identify, AnonymousID: "shopee:123456789", Traits: json.RawMessage(
				`{"name":"Lan","username":"lannguyen12","phone":"84912345678","marketplace":"shopee","buyer_id":"123456789"}`)},
			want: ids("phone:+84912345678", "marketplace_buyer_id:shopee:123456789", "anonymous_id:shopee:123456789")},
		{name: "marketplace buyer: else the source's name",
			m:      event.Message{Type: event.Identify, UserID: "u", Traits: json.RawMessage(`{"buyer_id":42}`)},
			source: "LazMall", want: ids("user_id:u", "marketplace_buyer_id:lazada:42")},
		{name: "marketplace buyer: a source of another name",
			m:      event.Message{Type: event.Identify, UserID: "u", Traits: json.RawMessage(`{"buyer_id":"42"}`)},
			source: "Chợ Tốt", want: ids("user_id:u", "marketplace_buyer_id:ch-t-t:42")},
		{name: "anonymous ids with a scheme", m: event.Message{Type: event.Track, AnonymousID: "tel:+84912345678"},
			want: ids("phone:+84912345678", "anonymous_id:tel:+84912345678")},
		{name: "zalo follower", m: event.Message{Type: event.Identify, AnonymousID: "zalo:8412345678901234567",
			Traits: json.RawMessage(`{"name":"Lan","zalo_id":"8412345678901234567"}`)},
			want: ids("zalo_id:8412345678901234567", "anonymous_id:zalo:8412345678901234567")},
		{name: "facebook page-scoped id", m: event.Message{Type: event.Track, AnonymousID: "fb:1234567890123456"},
			want: ids("facebook_id:1234567890123456", "anonymous_id:fb:1234567890123456")},
		{name: "externalIds",
			m: event.Message{Type: event.Track, UserID: "u", Context: json.RawMessage(
				`{"externalIds":[{"id":"crm-42","type":"hubspot_id","collection":"users","encoding":"none"},` +
					`{"id":"LAN@X.VN","type":"email"},{"id":"8412","type":"zalo_id"},{"id":"","type":"x"},{"type":"y"}]}`)},
			want: ids("user_id:u", "email:lan@x.vn", "zalo_id:8412", "custom:hubspot_id:crm-42")},
		{name: "escapes in values", m: event.Message{Type: event.Identify, UserID: "u",
			Traits: json.RawMessage(`{"note":"a \"quoted\" } ] text","email":"lan\u0040x.vn"}`)},
			want: ids("user_id:u", "email:lan@x.vn")},
		{name: "traits not an object", m: event.Message{Type: event.Identify, UserID: "u", Traits: json.RawMessage(`[1,2]`),
			Context: json.RawMessage(`{"traits":"email"}`)}, want: ids("user_id:u")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := identity.ExtractMessage(&tc.m, tc.source)
			if diff := cmp.Diff(tc.want, append([]identity.Identifier{}, x.IDs...)); diff != "" {
				t.Errorf("identifiers (-want +got):\n%s", diff)
			}
			if x.Previous != tc.prev || x.Junk != tc.junk || x.Alias != (tc.m.Type == event.Alias) {
				t.Errorf("previous %q, junk %d, alias %v; want %q, %d", x.Previous, x.Junk, x.Alias, tc.prev, tc.junk)
			}
		})
	}
}
