package journeymap

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
	"unicode"

	"github.com/zeebo/xxh3"
	"golang.org/x/text/unicode/norm"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewCardID returns a fresh random card id.
func NewCardID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "c" + idEncoding.EncodeToString(b[:])
}

// AssignIDs fills missing stage and touchpoint keys (from their names) and
// missing card ids. Filled ids are derived from the card's place and text,
// so the same document always gets the same ids; ids already set are kept.
func (m *Map) AssignIDs() {
	used := map[string]bool{}
	for _, s := range m.Stages {
		used[s.Key] = s.Key != ""
		for _, t := range s.Touchpoints {
			used[t.Key] = t.Key != ""
		}
	}
	m.eachLanes(func(_ string, l *Lanes) {
		for _, k := range LaneKeys {
			for _, c := range *l.Cards(k) {
				used[c.ID] = c.ID != ""
			}
		}
	})
	unique := func(base string) string {
		id := base
		for n := 2; used[id]; n++ {
			id = base + "-" + strconv.Itoa(n)
		}
		used[id] = true
		return id
	}
	for i := range m.Stages {
		s := &m.Stages[i]
		if s.Key == "" {
			s.Key = unique(Slug(s.Name, "stage"))
		}
		for j := range s.Touchpoints {
			t := &s.Touchpoints[j]
			if t.Key == "" {
				t.Key = unique(Slug(t.Name, "touchpoint"))
			}
		}
	}
	m.eachLanes(func(owner string, l *Lanes) {
		for _, k := range LaneKeys {
			cs := *l.Cards(k)
			for i := range cs {
				if cs[i].ID != "" {
					continue
				}
				h := xxh3.HashString(owner + "\x00" + k + "\x00" + strconv.Itoa(i) + "\x00" + cs[i].Text)
				var b [5]byte
				for j := range b {
					b[j] = byte(h >> (8 * j))
				}
				cs[i].ID = unique("c" + idEncoding.EncodeToString(b[:]))
			}
		}
	})
}

// eachLanes calls fn with every stage's and touchpoint's lanes and its key.
func (m *Map) eachLanes(fn func(key string, l *Lanes)) {
	for i := range m.Stages {
		s := &m.Stages[i]
		fn(s.Key, &s.Lanes)
		for j := range s.Touchpoints {
			fn(s.Touchpoints[j].Key, &s.Touchpoints[j].Lanes)
		}
	}
}

// Slug turns a name into a key: lower-case ASCII letters, digits and dashes,
// with Vietnamese diacritics removed ("Cân nhắc" -> "can-nhac"). An empty
// result becomes fallback.
func Slug(name, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(name) {
		switch {
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.Is(unicode.Mn, r):
			continue
		}
		r = unicode.ToLower(r)
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		return fallback
	}
	return s
}
