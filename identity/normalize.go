package identity

import (
	"fmt"
	"strings"
)

// Normalize returns the canonical form of a raw identifier value of a kind:
// e-mails trimmed and lower-cased, Vietnamese phone numbers in E.164
// (+84...), loyalty cards upper-cased without spaces or dashes, marketplace
// buyer ids as "marketplace:id" with the marketplace lower-cased. A value
// that identifies nobody ("", "null", "undefined", "anonymous", "0",
// "test@test.com", "0000000000", ...) is ErrJunk, as is an e-mail or phone
// number that is not one.
func Normalize(kind Kind, raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if isJunk(v) {
		return "", junk(kind, raw)
	}
	switch kind {
	case UserID, AnonymousID, Zalo, Facebook, Custom:
		return v, nil
	case Email:
		return normalizeEmail(v, raw)
	case Phone:
		p, ok := normalizePhone(v)
		if !ok {
			return "", junk(kind, raw)
		}
		return p, nil
	case LoyaltyCard:
		v = strings.ToUpper(strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '.' {
				return -1
			}
			return r
		}, v))
		if isJunk(v) || allSame(v) {
			return "", junk(kind, raw)
		}
		return v, nil
	case MarketplaceBuyer:
		m, id, ok := strings.Cut(v, ":")
		m, id = strings.ToLower(strings.TrimSpace(m)), strings.TrimSpace(id)
		if !ok || m == "" || isJunk(id) {
			return "", junk(kind, raw)
		}
		return m + ":" + id, nil
	}
	return "", fmt.Errorf("identifier kind %q: unknown kind", kind)
}

func junk(kind Kind, raw string) error {
	return fmt.Errorf("%s %q: %w", kind, raw, ErrJunk)
}

// kindNames maps the names accepted before the colon of "kind:value" to kinds.
var kindNames = map[string]Kind{
	"user_id": UserID, "userid": UserID, "user": UserID, "uid": UserID,
	"anonymous_id": AnonymousID, "anonymousid": AnonymousID, "anonymous": AnonymousID, "anon": AnonymousID,
	"email": Email, "e-mail": Email, "mail": Email,
	"phone": Phone, "tel": Phone, "sdt": Phone, "mobile": Phone, "phone_number": Phone,
	"zalo_id": Zalo, "zaloid": Zalo, "zalo": Zalo,
	"facebook_id": Facebook, "facebookid": Facebook, "facebook": Facebook, "fb": Facebook,
	"loyalty_card": LoyaltyCard, "loyalty": LoyaltyCard, "card": LoyaltyCard, "membership_id": LoyaltyCard,
	"marketplace_buyer_id": MarketplaceBuyer, "buyer_id": MarketplaceBuyer, "buyer": MarketplaceBuyer,
	"custom": Custom,
}

// ParseKind reads a kind by its name or one of its aliases ("email",
// "userId", "phone", "zalo", ...), case-insensitively.
func ParseKind(s string) (Kind, bool) {
	k, ok := kindNames[strings.ToLower(strings.TrimSpace(s))]
	return k, ok
}

// ParseIdentifier reads "kind:value" ("email:Lan@Example.vn",
// "phone:0912 345 678", "userId:kh001") and normalises the value.
func ParseIdentifier(s string) (Identifier, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return Identifier{}, fmt.Errorf("identifier %q: want kind:value (email:..., phone:..., user_id:...)", s)
	}
	k, ok := ParseKind(name)
	if !ok {
		return Identifier{}, fmt.Errorf("identifier %q: unknown kind %q", s, name)
	}
	v, err := Normalize(k, value)
	if err != nil {
		return Identifier{}, err
	}
	return Identifier{Kind: k, Value: v}, nil
}

// junkValues are values (lower-cased) that identify nobody, whatever the kind.
var junkValues = map[string]bool{
	"null": true, "nil": true, "none": true, "undefined": true, "anonymous": true, "anon": true,
	"unknown": true, "guest": true, "0": true, "-1": true, "-": true, "[object object]": true,
	"nan": true, "n/a": true, "na": true, "test": true, "false": true, "true": true, "{}": true, "[]": true,
	"test@test.com": true, "a@a.com": true, "test@example.com": true, "email@example.com": true,
	"user@example.com": true, "no@email.com": true, "none@none.com": true,
}

// maxJunk is the length of the longest junk value.
const maxJunk = len("email@example.com")

// isJunk reports whether a trimmed value identifies nobody.
func isJunk(v string) bool {
	if v == "" {
		return true
	}
	if len(v) <= maxJunk {
		var b [maxJunk]byte
		for i := 0; i < len(v); i++ {
			c := v[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
		}
		if junkValues[string(b[:len(v)])] {
			return true
		}
	}
	if len(v) >= 8 && hasPrefixFold(v, "noemail@") || len(v) >= 9 && hasPrefixFold(v, "no-email@") ||
		len(v) >= 9 && hasPrefixFold(v, "no_email@") {
		return true
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// allSame reports whether s is one character repeated (at least twice).
func allSame(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// normalizeEmail lower-cases a trimmed address and checks its syntax:
// one @, a local part, a domain of dot-separated labels with a dot.
func normalizeEmail(v, raw string) (string, error) {
	if hasPrefixFold(v, "mailto:") {
		v = strings.TrimSpace(v[len("mailto:"):])
	}
	v = strings.ToLower(v)
	local, domain, ok := strings.Cut(v, "@")
	bad := !ok || local == "" || len(v) > 254 || len(local) > 64 || strings.ContainsAny(v, " \t\r\n,;<>()[]\\\"") ||
		strings.Contains(domain, "@") || !strings.Contains(domain, ".") || strings.HasPrefix(local, ".") ||
		strings.HasSuffix(local, ".") || strings.Contains(local, "..")
	if !bad {
		for label := range strings.SplitSeq(domain, ".") {
			if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
				bad = true
				break
			}
		}
	}
	if bad {
		return "", fmt.Errorf("email %q: not an e-mail address: %w", raw, ErrJunk)
	}
	if isJunk(v) {
		return "", junk(Email, raw)
	}
	return v, nil
}

// oldMobile maps the 11-digit mobile prefixes retired in 2018 to the
// 10-digit ones that replaced them.
var oldMobile = map[string]string{
	"0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037", "0168": "038", "0169": "039",
	"0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
	"0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
	"0186": "056", "0188": "058", "0199": "059",
}

// normalizePhone writes a phone number in E.164. Vietnamese numbers may come
// in any common form (0912 345 678, 0912.345.678, +84912345678,
// 84912345678, (+84) 912-345-678, 0084912345678, 912345678 as a
// spreadsheet writes it, the old 11-digit mobile numbers); a foreign number
// needs its + (or 00). ok is false for anything else.
func normalizePhone(v string) (string, bool) {
	var d [24]byte
	n, plus := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case '0' <= c && c <= '9':
			if n == len(d) {
				return "", false
			}
			d[n] = c
			n++
		case c == '+':
			if n > 0 || plus {
				return "", false
			}
			plus = true
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '/' || c == '\t':
		default:
			return "", false
		}
	}
	digits := string(d[:n])
	if !plus && strings.HasPrefix(digits, "00") {
		plus, digits = true, digits[2:]
	}
	var national string // with its leading 0
	switch {
	case plus && strings.HasPrefix(digits, "84"):
		national = "0" + digits[2:]
	case plus:
		if len(digits) < 7 || len(digits) > 15 || digits[0] == '0' || allSame(digits) {
			return "", false
		}
		return "+" + digits, true
	case strings.HasPrefix(digits, "84") && (len(digits) == 11 || len(digits) == 12):
		national = "0" + digits[2:]
	case strings.HasPrefix(digits, "0"):
		national = digits
	case len(digits) == 9 && strings.IndexByte("35789", digits[0]) >= 0,
		len(digits) == 10 && (digits[0] == '1' || digits[0] == '2'):
		// The leading 0 lost in a spreadsheet.
		national = "0" + digits
	default:
		return "", false
	}
	switch {
	case len(national) == 11 && national[1] == '1':
		p, ok := oldMobile[national[:4]]
		if !ok {
			return "", false
		}
		national = p + national[4:]
	case len(national) == 11 && national[1] == '2':
		// Landline: 02x and the subscriber number.
	case len(national) == 10 && strings.IndexByte("35789", national[1]) >= 0:
		// Mobile.
	default:
		return "", false
	}
	if sub := national[1:]; allSame(sub) || sub == "987654321" || sub == "123456789" {
		return "", false
	}
	return "+84" + national[1:], true
}
