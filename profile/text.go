package profile

import (
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/cjmhq/cjm/identity"
)

// Fold is s as names are compared and searched: lower case, without
// diacritics (đ is d), each run of other characters than letters and
// digits one space. "Nguyễn  Văn Đức" is "nguyen van duc".
func Fold(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte(' ')
			}
			gap = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		gap = true
	}
	return b.String()
}

// NormalizePhone writes a phone number in E.164 as the identity graph
// does ("0912 345 678" is "+84912345678"); ok is false when s is none.
func NormalizePhone(s string) (string, bool) {
	p, err := identity.Normalize(identity.Phone, s)
	return p, err == nil
}

// NormalizeEmail trims and lower-cases an e-mail address as the identity
// graph does; ok is false when s is none.
func NormalizeEmail(s string) (string, bool) {
	e, err := identity.Normalize(identity.Email, s)
	return e, err == nil
}

// phoneTerms are the words a phone number is found by: its national form
// with the leading 0 and its E.164 digits ("0912345678", "84912345678").
func phoneTerms(e164 string) []string {
	digits := strings.TrimPrefix(e164, "+")
	if strings.HasPrefix(digits, "84") {
		return []string{"0" + digits[2:], digits}
	}
	return []string{digits}
}

// maxTermValue is the longest trait value the search index takes.
const maxTermValue = 80

// terms is the search text of a profile: its name, e-mail, phone and
// trait values, folded, each value once; and its hash.
func terms(name, email, phone string, traits map[string]string) (string, int64) {
	seen := map[string]bool{}
	var words []string
	add := func(s string) {
		if f := Fold(s); f != "" && !seen[f] {
			seen[f] = true
			words = append(words, f)
		}
	}
	add(name)
	if email != "" && !seen[email] {
		// One word, as the full-text index keeps it ("@" and "." are
		// part of words there).
		seen[email] = true
		words = append(words, email)
	}
	if phone != "" {
		for _, t := range phoneTerms(phone) {
			add(t)
		}
	}
	for _, k := range sortedKeys(traits) {
		v := traits[k]
		switch {
		case utf8.RuneCountInString(v) > maxTermValue:
		case k == "email":
			// The address is a word of its own (above).
		case k == "phone":
			if p, ok := NormalizePhone(v); ok {
				for _, t := range phoneTerms(p) {
					add(t)
				}
			}
		default:
			add(v)
		}
	}
	s := strings.Join(words, " ")
	h := fnv.New64a()
	h.Write([]byte(s))
	return s, int64(h.Sum64() >> 1)
}

// digitsOnly reports whether s holds only what a phone number is written
// with, and at least four digits; it returns the digits.
func phoneDigits(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '+':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() >= 4
}

// searchWords turns what a person typed into the words a profile's terms
// must start: a phone number in any Vietnamese form becomes its national
// form, an e-mail address (anything with "@") stays one word, lower-cased,
// and the rest is folded. It is nil when nothing is left to search.
func searchWords(text string) []string {
	text = strings.TrimSpace(text)
	if d, ok := phoneDigits(text); ok {
		if p, ok := NormalizePhone(text); ok {
			return []string{phoneTerms(p)[0]}
		}
		return []string{d}
	}
	if strings.Contains(text, "@") && !strings.ContainsAny(text, " \t") {
		return []string{strings.ToLower(text)}
	}
	return strings.Fields(Fold(text))
}
