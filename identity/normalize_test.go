package identity_test

import (
	"errors"
	"testing"

	"github.com/cjmhq/cjm/identity"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0912 345 678", "+84912345678"},
		{"0912.345.678", "+84912345678"},
		{"0912-345-678", "+84912345678"},
		{"0912345678", "+84912345678"},
		{"+84912345678", "+84912345678"},
		{"+84 912 345 678", "+84912345678"},
		{"84912345678", "+84912345678"},
		{"(+84) 912-345-678", "+84912345678"},
		{"(+84)912345678", "+84912345678"},
		{"0084912345678", "+84912345678"},
		{"  0912 345 678\t", "+84912345678"},
		{"912345678", "+84912345678"}, // a spreadsheet dropped the 0
		// The 11-digit mobile numbers retired in 2018.
		{"01623456789", "+84323456789"},
		{"0169 345 6789", "+84393456789"},
		{"+841203456789", "+84703456789"},
		{"01213456789", "+84793456789"},
		{"01223456789", "+84773456789"},
		{"01263456789", "+84763456789"},
		{"01283456789", "+84783456789"},
		{"01233456789", "+84833456789"},
		{"01243456789", "+84843456789"},
		{"01253456789", "+84853456789"},
		{"01273456789", "+84813456789"},
		{"01293456789", "+84823456789"},
		{"01863456789", "+84563456789"},
		{"01883456789", "+84583456789"},
		{"01993456789", "+84593456789"},
		{"841683456789", "+84383456789"},
		// Landlines: 02x and 8 digits.
		{"024 3823 4567", "+842438234567"},
		{"028.3823.4567", "+842838234567"},
		{"+84 236 3823 456", "+842363823456"},
		// Foreign numbers keep their +.
		{"+1 (415) 555-0100", "+14155550100"},
		{"+65 6123 4567", "+6561234567"},
		{"0065 6123 4567", "+6561234567"},
	} {
		got, err := identity.Normalize(identity.Phone, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(phone, %q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "0", "-1", "null", "0000000000", "0999999999", "+84999999999", "1111111111", "0123456789", "0987654321",
		"01103456789", // no such old prefix
		"091234567",   // too short
		"09123456789", // too long for a mobile
		"1900 1234", "1800 5888", "12345", "0912 345 67a", "+84", "++84912345678", "+0912345678",
		"phone", "091-CALL-NOW", "+1234", "4155550100", "[object Object]",
	} {
		if got, err := identity.Normalize(identity.Phone, in); !errors.Is(err, identity.ErrJunk) {
			t.Errorf("Normalize(phone, %q) = %q, %v; want ErrJunk", in, got, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		kind identity.Kind
		in   string
		want string
		junk bool
	}{
		{identity.Email, "  Lan.Nguyen@Example.VN ", "lan.nguyen@example.vn", false},
		{identity.Email, "mailto:lan@example.vn", "lan@example.vn", false},
		{identity.Email, "tuấn@ví-dụ.vn", "tuấn@ví-dụ.vn", false},
		{identity.Email, "a.b+tag@sub.example.com", "a.b+tag@sub.example.com", false},
		{identity.Email, "lan", "", true},
		{identity.Email, "lan@", "", true},
		{identity.Email, "@example.vn", "", true},
		{identity.Email, "lan@localhost", "", true},
		{identity.Email, "lan@@example.vn", "", true},
		{identity.Email, "lan@example..vn", "", true},
		{identity.Email, "lan nguyen@example.vn", "", true},
		{identity.Email, ".lan@example.vn", "", true},
		{identity.Email, "TEST@TEST.COM", "", true},
		{identity.Email, "a@a.com", "", true},
		{identity.Email, "noemail@shop.vn", "", true},
		{identity.Email, "NoEmail@gmail.com", "", true},
		{identity.Email, "no-email@x.vn", "", true},
		{identity.UserID, " kh0001 ", "kh0001", false},
		{identity.UserID, "KH0001", "KH0001", false}, // user ids keep their case
		{identity.AnonymousID, "5f1c9a2e-8b7d-4c1e-9f3a-2d6b8e0c4a71", "5f1c9a2e-8b7d-4c1e-9f3a-2d6b8e0c4a71", false},
		{identity.LoyaltyCard, " may-1000 0042 ", "MAY10000042", false},
		{identity.LoyaltyCard, "0000", "", true},
		{identity.MarketplaceBuyer, "Shopee: 12345", "shopee:12345", false},
		{identity.MarketplaceBuyer, "12345", "", true},
		{identity.MarketplaceBuyer, "shopee:null", "", true},
		{identity.Zalo, "8412345678901234567", "8412345678901234567", false},
		{identity.Facebook, "100012345678", "100012345678", false},
		{identity.Custom, "crm:42", "crm:42", false},
	} {
		got, err := identity.Normalize(tc.kind, tc.in)
		switch {
		case tc.junk && !errors.Is(err, identity.ErrJunk):
			t.Errorf("Normalize(%s, %q) = %q, %v; want ErrJunk", tc.kind, tc.in, got, err)
		case !tc.junk && (err != nil || got != tc.want):
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
		}
	}
	if _, err := identity.Normalize("nickname", "x"); err == nil || errors.Is(err, identity.ErrJunk) {
		t.Errorf("an unknown kind: %v, want an error other than ErrJunk", err)
	}
}

// Junk is junk whatever the kind, trimmed and in any case.
func TestNormalizeJunk(t *testing.T) {
	junk := []string{"", "  ", "null", "NULL", " Nil ", "none", "undefined", "Undefined", "anonymous", "ANONYMOUS",
		"unknown", "guest", "Guest", "0", "-1", "[object Object]", "NaN", "n/a", "N/A", "test", "test@test.com",
		"a@a.com", "noemail@shop.vn", "true", "false"}
	for _, k := range identity.Kinds {
		for _, v := range junk {
			if got, err := identity.Normalize(k, v); !errors.Is(err, identity.ErrJunk) {
				t.Errorf("Normalize(%s, %q) = %q, %v; want ErrJunk", k, v, got, err)
			}
		}
	}
}

func TestParseIdentifier(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want identity.Identifier
	}{
		{"email:Lan@Example.vn", identity.Identifier{Kind: identity.Email, Value: "lan@example.vn"}},
		{"EMAIL: lan@example.vn", identity.Identifier{Kind: identity.Email, Value: "lan@example.vn"}},
		{"phone:0912 345 678", identity.Identifier{Kind: identity.Phone, Value: "+84912345678"}},
		{"user:kh001", identity.Identifier{Kind: identity.UserID, Value: "kh001"}},
		{"userId:kh001", identity.Identifier{Kind: identity.UserID, Value: "kh001"}},
		{"user_id:kh001", identity.Identifier{Kind: identity.UserID, Value: "kh001"}},
		{"anonymousId:a:b:c", identity.Identifier{Kind: identity.AnonymousID, Value: "a:b:c"}},
		{"zalo:123", identity.Identifier{Kind: identity.Zalo, Value: "123"}},
		{"loyalty_card:may 1", identity.Identifier{Kind: identity.LoyaltyCard, Value: "MAY1"}},
		{"marketplace_buyer_id:shopee:12", identity.Identifier{Kind: identity.MarketplaceBuyer, Value: "shopee:12"}},
	} {
		got, err := identity.ParseIdentifier(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseIdentifier(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if err == nil && got.String() != string(got.Kind)+":"+got.Value {
			t.Errorf("String() = %q", got.String())
		}
	}
	for _, in := range []string{"lan@example.vn", "nick:lan", "email:null", "phone:12", ":x"} {
		if got, err := identity.ParseIdentifier(in); err == nil {
			t.Errorf("ParseIdentifier(%q) = %v, want an error", in, got)
		}
	}
}

func TestNewProfileID(t *testing.T) {
	a := identity.Identifier{Kind: identity.AnonymousID, Value: "a1"}
	p := identity.NewProfileID("ws_1", a)
	if len(p) != 18 || p[:2] != "p_" {
		t.Errorf("NewProfileID = %q, want p_ and 16 characters", p)
	}
	for _, c := range p[2:] {
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			t.Errorf("NewProfileID = %q: %q is not lower-case base32", p, c)
		}
	}
	if identity.NewProfileID("ws_1", a) != p {
		t.Error("NewProfileID is not deterministic")
	}
	if identity.NewProfileID("ws_2", a) == p || identity.NewProfileID("ws_1", identity.Identifier{Kind: identity.UserID, Value: "a1"}) == p {
		t.Error("NewProfileID does not depend on the workspace and the kind")
	}
}
