package draw

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// The fonts are Noto Sans (SIL Open Font License 1.1, see fonts/OFL.txt):
// they cover Vietnamese, and every backend draws with them, so text is
// measured once, with their metrics, and wraps the same everywhere.
var (
	//go:embed fonts/NotoSans-Regular.ttf
	regularTTF []byte
	//go:embed fonts/NotoSans-Bold.ttf
	boldTTF []byte
)

// fontFamily is the family named in the SVG; the fallbacks have similar
// widths, and every line carries its measured textLength anyway.
const fontFamily = "'Noto Sans', 'Helvetica Neue', Arial, sans-serif"

var parsed = sync.OnceValues(func() ([2]*sfnt.Font, error) {
	var fs [2]*sfnt.Font
	for i, b := range [][]byte{regularTTF, boldTTF} {
		f, err := sfnt.Parse(b)
		if err != nil {
			return fs, fmt.Errorf("draw: font: %w", err)
		}
		fs[i] = f
	}
	return fs, nil
})

// metrics measures text with the embedded fonts. It caches advances and is
// not safe for concurrent use: each drawing makes its own.
type metrics struct {
	fonts [2]*sfnt.Font
	buf   sfnt.Buffer
	// adv holds the advance of a rune in em units, per weight.
	adv  [2]map[rune]float64
	have map[rune]bool
}

func newMetrics() (*metrics, error) {
	fs, err := parsed()
	if err != nil {
		return nil, err
	}
	return &metrics{fonts: fs, adv: [2]map[rune]float64{{}, {}}, have: map[rune]bool{}}, nil
}

func weight(bold bool) int {
	if bold {
		return 1
	}
	return 0
}

// advance returns the advance of r in em units. Kerning is left out on
// purpose: the PDF library does not kern, so no backend does.
func (m *metrics) advance(r rune, bold bool) float64 {
	w := weight(bold)
	if a, ok := m.adv[w][r]; ok {
		return a
	}
	f := m.fonts[w]
	upem := fixed.Int26_6(f.UnitsPerEm()) << 6
	var a float64
	if g, err := f.GlyphIndex(&m.buf, r); err == nil {
		if v, err := f.GlyphAdvance(&m.buf, g, upem, font.HintingNone); err == nil {
			a = float64(v) / float64(upem)
		}
	}
	m.adv[w][r] = a
	return a
}

// has reports whether the font draws r.
func (m *metrics) has(r rune) bool {
	if h, ok := m.have[r]; ok {
		return h
	}
	g, err := m.fonts[0].GlyphIndex(&m.buf, r)
	h := err == nil && g != 0
	m.have[r] = h
	return h
}

// width returns the width of s set at size.
func (m *metrics) width(s string, size float64, bold bool) float64 {
	var w float64
	for _, r := range s {
		w += m.advance(r, bold)
	}
	return w * size
}

// wrap breaks s into lines no wider than max, at spaces where it can and
// inside a word where a word alone is too wide. Newlines in s are kept.
func (m *metrics) wrap(s string, size float64, bold bool, max float64) []string {
	var lines []string
	for para := range strings.SplitSeq(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			lines = append(lines, "")
			continue
		}
		line := ""
		for _, w := range words {
			try := w
			if line != "" {
				try = line + " " + w
			}
			if m.width(try, size, bold) <= max {
				line = try
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line = w
			for m.width(line, size, bold) > max {
				head, tail := m.split(line, size, bold, max)
				lines = append(lines, head)
				line = tail
			}
		}
		lines = append(lines, line)
	}
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// split cuts a word too wide for max after the last rune that fits (at
// least one rune).
func (m *metrics) split(s string, size float64, bold bool, max float64) (string, string) {
	var w float64
	for i, r := range s {
		w += m.advance(r, bold) * size
		if w > max && i > 0 {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// fit shortens s with an ellipsis until it is no wider than max.
func (m *metrics) fit(s string, size float64, bold bool, max float64) string {
	if m.width(s, size, bold) <= max {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 {
		rs = rs[:len(rs)-1]
		t := strings.TrimRightFunc(string(rs), unicode.IsSpace) + "…"
		if m.width(t, size, bold) <= max {
			return t
		}
	}
	return "…"
}

// substitutes replaces common symbols the fonts do not have.
var substitutes = map[rune]string{
	'→': "->", '←': "<-", '↔': "<->", '⇒': "=>", '⇐': "<=", '⇔': "<=>",
	'≥': ">=", '≤': "<=", '≠': "!=", '≈': "~", '−': "-", '∼': "~",
	'✓': "v", '✔': "v", '✗': "x", '✘': "x", '★': "*", '☆': "*",
}

// drawable replaces or drops the characters of s the fonts cannot draw, so
// that no backend shows a missing-glyph box: common symbols get a
// replacement, other symbols (emoji and their joiners and variation
// selectors) are dropped, and letters of other scripts are kept.
func (m *metrics) drawable(s string) string {
	ok := true
	for _, r := range s {
		if !m.has(r) && r != ' ' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || m.has(r):
			b.WriteRune(r)
		case substitutes[r] != "":
			b.WriteString(substitutes[r])
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Mn, r) ||
			unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clean normalises text to NFC, so that decomposed Vietnamese (a base letter
// and combining marks) draws with the font's precomposed glyphs, and drops
// control characters other than newlines.
func clean(s string) string {
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}
