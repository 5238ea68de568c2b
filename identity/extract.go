package identity

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

// Extracted is what a message says about who sent it.
type Extracted struct {
	// IDs are its identifiers, normalised, each once, strongest kind first
	// (in the order of Kinds), else in the order the message holds them.
	IDs []Identifier
	// Previous is the previousId of an alias call, trimmed: whether it is
	// a user id or an anonymous id is for the graph to say.
	Previous string
	// Alias is true for an alias call.
	Alias bool
	// Junk counts the values dropped as junk.
	Junk int
}

// traitKinds are the keys of traits (lower-cased) that hold identifiers.
var traitKinds = map[string]Kind{
	"email": Email, "e-mail": Email,
	"phone": Phone, "phone_number": Phone, "phonenumber": Phone, "mobile": Phone, "sdt": Phone, "so_dien_thoai": Phone,
	"zalo_id": Zalo, "zaloid": Zalo,
	"facebook_id": Facebook, "facebookid": Facebook,
	"loyalty_card": LoyaltyCard, "loyaltycard": LoyaltyCard, "membership_id": LoyaltyCard, "membershipid": LoyaltyCard,
	"card_number": LoyaltyCard, "cardnumber": LoyaltyCard,
	"buyer_id": MarketplaceBuyer, "buyerid": MarketplaceBuyer,
}

// marketplaces are the marketplaces known by name; an anonymousId
// "shopee:123" is also the buyer id shopee:123.
var marketplaces = []string{"shopee", "lazada", "tiki", "tiktok", "sendo"}

// anonPrefixes type the anonymous ids that connectors write with a scheme.
var anonPrefixes = []struct {
	prefix string
	kind   Kind
}{
	{"tel:", Phone}, {"zalo:", Zalo}, {"fb:", Facebook}, {"facebook:", Facebook},
}

// Extract reads the identifiers of a message: its userId and anonymousId
// (an anonymousId written "tel:+8491...", "zalo:...", "fb:..." or
// "shopee:..." also names that phone, Zalo or Facebook user or buyer), the
// previousId of an alias, the identifying traits of an identify call and
// of context.traits (email; phone, phone_number, mobile, sdt; zalo_id;
// facebook_id; loyalty_card, membership_id, card_number; buyer_id,
// qualified by the marketplace trait, else by the source's name), and
// context.externalIds ([{"id", "type"}]: a type naming a kind is that kind,
// any other is custom "type:id"). source is the name of the message's
// source. x is reset first; its slice is reused.
func Extract(r *eventstore.IdentityRow, source string, x *Extracted) {
	x.IDs, x.Previous, x.Alias, x.Junk = x.IDs[:0], "", r.Type == string(event.Alias), 0
	x.add(UserID, r.UserID)
	if r.AnonymousID != "" {
		x.add(AnonymousID, r.AnonymousID)
		a := strings.TrimSpace(r.AnonymousID)
		for _, p := range anonPrefixes {
			if len(a) > len(p.prefix) && strings.EqualFold(a[:len(p.prefix)], p.prefix) {
				x.add(p.kind, a[len(p.prefix):])
			}
		}
		if m, id, ok := strings.Cut(a, ":"); ok && id != "" && knownMarketplace(m) != "" {
			x.add(MarketplaceBuyer, a)
		}
	}
	if x.Alias {
		if p := strings.TrimSpace(r.PreviousID); !isJunk(p) {
			x.Previous = p
		} else if r.PreviousID != "" {
			x.Junk++
		}
	}
	if r.Type == string(event.Identify) {
		x.traits(r.Traits, source)
	}
	x.traits(r.ContextTraits, source)
	x.externalIDs(r.ExternalIDs)
	x.sort()
}

// ExtractMessage is Extract for a whole message.
func ExtractMessage(m *event.Message, source string) Extracted {
	r := eventstore.IdentityRow{Seq: m.Seq, WorkspaceID: m.WorkspaceID, SourceID: m.SourceID, Type: string(m.Type),
		MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID, PreviousID: m.PreviousID, Timestamp: m.Timestamp}
	if m.Type == event.Identify {
		r.Traits = string(m.Traits)
	}
	if len(m.Context) > 0 {
		eachField(string(m.Context), func(key string, v jsonValue) {
			switch key {
			case "traits":
				r.ContextTraits = v.raw
			case "externalIds":
				r.ExternalIDs = v.raw
			}
		})
	}
	var x Extracted
	Extract(&r, source, &x)
	return x
}

// add normalises a value and adds it, or counts it as junk.
func (x *Extracted) add(k Kind, raw string) {
	if raw == "" {
		return
	}
	v, err := Normalize(k, raw)
	if err != nil {
		x.Junk++
		return
	}
	for _, id := range x.IDs {
		if id.Kind == k && id.Value == v {
			return
		}
	}
	x.IDs = append(x.IDs, Identifier{Kind: k, Value: v})
}

// traits adds the identifiers of a traits object.
func (x *Extracted) traits(obj, source string) {
	if len(obj) < 2 || obj[0] != '{' {
		return
	}
	var buyers [2]string
	nb, market := 0, ""
	eachField(obj, func(key string, v jsonValue) {
		k, ok := traitKinds[key]
		if !ok {
			lk := strings.ToLower(key)
			if lk == "marketplace" {
				market = v.text()
				return
			}
			if k, ok = traitKinds[lk]; !ok {
				return
			}
		}
		s := v.text()
		if s == "" {
			return
		}
		if k == MarketplaceBuyer {
			if nb < len(buyers) {
				buyers[nb] = s
				nb++
			}
			return
		}
		x.add(k, s)
	})
	for _, b := range buyers[:nb] {
		if m, _, ok := strings.Cut(b, ":"); ok && knownMarketplace(m) != "" {
			x.add(MarketplaceBuyer, b)
			continue
		}
		q := knownMarketplace(market)
		if q == "" {
			q = slug(market)
		}
		if q == "" {
			q = marketplaceOf(source)
		}
		if q == "" {
			x.Junk++
			continue
		}
		x.add(MarketplaceBuyer, q+":"+b)
	}
}

// externalIDs adds Segment's context.externalIds.
func (x *Extracted) externalIDs(arr string) {
	if len(arr) < 2 || arr[0] != '[' {
		return
	}
	eachElem(arr, func(v jsonValue) {
		var id, typ string
		eachField(v.raw, func(key string, f jsonValue) {
			switch key {
			case "id":
				id = f.text()
			case "type":
				typ = f.text()
			}
		})
		if id == "" || typ == "" {
			return
		}
		switch k, _ := ParseKind(typ); k {
		case Email, Phone, Zalo, Facebook, LoyaltyCard:
			x.add(k, id)
		default:
			x.add(Custom, strings.TrimSpace(typ)+":"+strings.TrimSpace(id))
		}
	})
}

// sort puts the identifiers strongest kind first, keeping the order within a kind.
func (x *Extracted) sort() {
	slices.SortStableFunc(x.IDs, func(a, b Identifier) int { return cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)) })
}

// kindRank is the position of a kind in Kinds.
func kindRank(k Kind) int {
	switch k {
	case UserID:
		return 0
	case Email:
		return 1
	case Phone:
		return 2
	case Zalo:
		return 3
	case Facebook:
		return 4
	case LoyaltyCard:
		return 5
	case MarketplaceBuyer:
		return 6
	case AnonymousID:
		return 7
	}
	return 8
}

// knownMarketplace returns the marketplace a name stands for ("Shopee
// Mall" is shopee, "LazMall" lazada), or "".
func knownMarketplace(name string) string {
	n := strings.ToLower(name)
	if strings.Contains(n, "lazmall") {
		return "lazada"
	}
	for _, m := range marketplaces {
		if strings.Contains(n, m) {
			return m
		}
	}
	return ""
}

// marketplaceOf is the qualifier of buyer ids from a source of this name.
func marketplaceOf(source string) string {
	if m := knownMarketplace(source); m != "" {
		return m
	}
	return slug(source)
}

// slug lower-cases a name and writes every run of other characters than
// ASCII letters and digits as one dash.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// A small reader of JSON that walks an object's or an array's top level
// without decoding the rest: messages are read by the million, and only a
// few keys of their traits matter.

// jsonValue is one value as it is written.
type jsonValue struct{ raw string }

// text is a string value unquoted, a number or boolean as written, else "".
func (v jsonValue) text() string {
	s := v.raw
	if s == "" {
		return ""
	}
	switch c := s[0]; {
	case c == '"':
		if strings.IndexByte(s, '\\') < 0 {
			return s[1 : len(s)-1]
		}
		var out string
		if json.Unmarshal([]byte(s), &out) != nil {
			return ""
		}
		return out
	case c == '-' || '0' <= c && c <= '9':
		return s
	}
	return ""
}

// eachField calls fn for every key of a JSON object (keys with escapes are
// skipped); it stops quietly at anything malformed.
func eachField(s string, fn func(key string, v jsonValue)) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(s, i)
		if i >= len(s) || s[i] != '"' {
			return
		}
		end := skipString(s, i)
		if end < 0 {
			return
		}
		key := s[i+1 : end-1]
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return
		}
		i = skipSpace(s, i+1)
		vend := skipValue(s, i)
		if vend < 0 {
			return
		}
		if strings.IndexByte(key, '\\') < 0 {
			fn(key, jsonValue{s[i:vend]})
		}
		i = skipSpace(s, vend)
		if i >= len(s) || s[i] != ',' {
			return
		}
		i++
	}
}

// eachElem calls fn for every element of a JSON array.
func eachElem(s string, fn func(v jsonValue)) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '[' {
		return
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return
	}
	for {
		i = skipSpace(s, i)
		end := skipValue(s, i)
		if end < 0 {
			return
		}
		fn(jsonValue{s[i:end]})
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at s[i] ('"'), or -1.
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at s[i], or -1.
func skipValue(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end := skipString(s, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\n' && s[j] != '\t' && s[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
