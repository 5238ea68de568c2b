package demo

import (
	"strconv"
	"unicode/utf8"
)

// jsonw writes one compact JSON object into a reusable buffer, far faster than
// building maps and calling json.Marshal for every event. Keys are trusted
// ASCII literals; string values are escaped.
type jsonw struct {
	b     []byte
	comma bool
}

// begin starts a new top-level object, discarding what was written before.
func (w *jsonw) begin() {
	w.b = append(w.b[:0], '{')
	w.comma = false
}

// end closes the top-level object and returns it; the bytes are only valid
// until the next begin.
func (w *jsonw) end() []byte {
	w.b = append(w.b, '}')
	return w.b
}

func (w *jsonw) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
}

func (w *jsonw) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jsonw) str(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *jsonw) num(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

// obj opens a nested object under k; close ends it.
func (w *jsonw) obj(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jsonw) close() {
	w.b = append(w.b, '}')
	w.comma = true
}

// arr opens an array under k; closeArr ends it.
func (w *jsonw) arr(k string) {
	w.key(k)
	w.b = append(w.b, '[')
	w.comma = false
}

func (w *jsonw) closeArr() {
	w.b = append(w.b, ']')
	w.comma = true
}

// fields appends pre-rendered `"k":v,...` members.
func (w *jsonw) fields(f string) {
	if f == "" {
		return
	}
	w.sep()
	w.b = append(w.b, f...)
}

// rawElem appends a pre-rendered array element that the caller completes.
func (w *jsonw) rawElem(prefix string) {
	w.sep()
	w.b = append(w.b, prefix...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendInvalid(b, s)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue // includes every byte of a multi-byte character
		}
		b = append(b, s[start:i]...)
		b = appendEscape(b, c)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\t':
		return append(b, '\\', 't')
	case '\r':
		return append(b, '\\', 'r')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendInvalid is appendString for a string that is not valid UTF-8.
func appendInvalid(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				b = append(b, c)
			} else {
				b = appendEscape(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
