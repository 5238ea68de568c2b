package event

import (
	"fmt"
	"unicode/utf8"
)

// A one-pass JSON reader for the top level of a message: it validates the
// whole document (syntax, string escapes, UTF-8, nesting depth) and hands back
// each top-level member as a raw slice, noting whether the slice is already
// compact. It exists because decoding messages with encoding/json takes three
// passes and is the collector's and the importer's main cost.

const maxDepth = 64

type member struct {
	key     []byte // raw key bytes without quotes (escapes not decoded)
	escaped bool   // key contains escapes
	val     []byte // raw value
	compact bool   // val has no insignificant whitespace
}

type scanner struct {
	b     []byte
	i     int
	space bool // whitespace was skipped inside the current top-level value
}

type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.off) }

func (s *scanner) fail(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), off: s.i}
}

// skip skips whitespace; inside reports whether it counts as non-compact.
func (s *scanner) skip(inside bool) {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
			if inside {
				s.space = true
			}
		default:
			return
		}
	}
}

// topObject reads a JSON object and calls fn for each member.
func topObject(b []byte, fn func(m member) error) error {
	s := &scanner{b: b}
	s.skip(false)
	if s.i >= len(b) || b[s.i] != '{' {
		return s.fail("expected a JSON object")
	}
	s.i++
	s.skip(false)
	if s.i < len(b) && b[s.i] == '}' {
		s.i++
		return s.end()
	}
	for {
		s.skip(false)
		if s.i >= len(b) || b[s.i] != '"' {
			return s.fail("expected a member name")
		}
		ks := s.i
		esc, err := s.str()
		if err != nil {
			return err
		}
		key := b[ks+1 : s.i-1]
		s.skip(false)
		if s.i >= len(b) || b[s.i] != ':' {
			return s.fail("expected ':' after member name")
		}
		s.i++
		s.skip(false)
		s.space = false
		vs := s.i
		if err := s.value(1); err != nil {
			return err
		}
		if err := fn(member{key: key, escaped: esc, val: b[vs:s.i], compact: !s.space}); err != nil {
			return err
		}
		s.skip(false)
		if s.i >= len(b) {
			return s.fail("unexpected end of JSON")
		}
		switch b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return s.end()
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *scanner) end() error {
	s.skip(false)
	if s.i != len(s.b) {
		return s.fail("unexpected data after the JSON object")
	}
	return nil
}

func (s *scanner) value(depth int) error {
	if depth > maxDepth {
		return s.fail("JSON nested deeper than %d levels", maxDepth)
	}
	if s.i >= len(s.b) {
		return s.fail("unexpected end of JSON")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{':
		s.i++
		s.skip(true)
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		for {
			s.skip(true)
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return s.fail("expected a member name")
			}
			if _, err := s.str(); err != nil {
				return err
			}
			s.skip(true)
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return s.fail("expected ':' after member name")
			}
			s.i++
			s.skip(true)
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.skip(true)
			if s.i >= len(s.b) {
				return s.fail("unexpected end of JSON")
			}
			if s.b[s.i] == '}' {
				s.i++
				return nil
			}
			if s.b[s.i] != ',' {
				return s.fail("expected ',' or '}'")
			}
			s.i++
		}
	case c == '[':
		s.i++
		s.skip(true)
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			s.skip(true)
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.skip(true)
			if s.i >= len(s.b) {
				return s.fail("unexpected end of JSON")
			}
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if s.b[s.i] != ',' {
				return s.fail("expected ',' or ']'")
			}
			s.i++
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("unexpected character %q", s.b[s.i])
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		st := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - st
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		s.i = i
		return s.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			s.i = i
			return s.fail("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.i = i
			return s.fail("invalid number")
		}
	}
	s.i = i
	return nil
}

// str reads a string starting at the opening quote and reports whether it had escapes.
func (s *scanner) str() (escaped bool, err error) {
	b := s.b
	i := s.i + 1
	for {
		// Fast path over plain ASCII.
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = i
			return escaped, s.fail("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				s.i = i
				return escaped, s.fail("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					s.i = i
					return escaped, s.fail("invalid \\u escape")
				}
				i += 6
				switch {
				case r >= 0xDC00 && r <= 0xDFFF:
					s.i = i - 6
					return escaped, s.fail("lone low surrogate \\u%04x", r)
				case r >= 0xD800 && r <= 0xDBFF:
					// A high surrogate must be followed by a low one.
					lo, ok := rune(0), i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u'
					if ok {
						lo, ok = hex4(b, i+2)
					}
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						s.i = i - 6
						return escaped, s.fail("lone high surrogate \\u%04x", r)
					}
					i += 6
				}
			default:
				s.i = i
				return escaped, s.fail("invalid escape \\%c", b[i+1])
			}
		case c < 0x20:
			s.i = i
			return escaped, s.fail("control character in string")
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				s.i = i
				return escaped, s.fail("invalid UTF-8 in string")
			}
			i += n
		}
	}
}

// plain marks the bytes a string may hold without a closer look: printable
// ASCII other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hex4 reads the 4 hex digits of a \\u escape starting at b[i].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// arrayElems splits a validated-or-not JSON array into its raw elements,
// validating them.
func arrayElems(b []byte) ([][]byte, error) {
	s := &scanner{b: b}
	s.skip(false)
	if s.i >= len(b) || b[s.i] != '[' {
		return nil, s.fail("expected an array")
	}
	s.i++
	s.skip(false)
	var out [][]byte
	if s.i < len(b) && b[s.i] == ']' {
		s.i++
		return out, s.end()
	}
	for {
		s.skip(false)
		st := s.i
		if err := s.value(1); err != nil {
			return nil, err
		}
		out = append(out, b[st:s.i])
		s.skip(false)
		if s.i >= len(b) {
			return nil, s.fail("unexpected end of JSON")
		}
		switch b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return out, s.end()
		default:
			return nil, s.fail("expected ',' or ']'")
		}
	}
}
