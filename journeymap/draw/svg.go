package draw

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"
)

// writeSVG writes the scene as a standalone SVG document. Text stays text:
// each text block is one <text> element with a <tspan> per line, pinned to
// its measured width with textLength so that a substitute font cannot make
// it overflow its box.
func writeSVG(w io.Writer, sc *scene) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	title := xmlText(sc.title)
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="%s"`,
		num(sc.w), num(sc.h), num(sc.w), num(sc.h), title)
	if sc.lang != "" {
		p(` xml:lang="%s"`, xmlText(sc.lang))
	}
	p(` font-family="%s" style="font-kerning:none">`+"\n", xmlText(fontFamily))
	p("<title>%s</title>\n", xmlText(sc.title))
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	clip := 0
	for i := range sc.items {
		it := &sc.items[i]
		switch it.kind {
		case kRect:
			p(`<rect x="%s" y="%s" width="%s" height="%s"`, num(it.x), num(it.y), num(it.w), num(it.h))
			if it.r > 0 {
				p(` rx="%s"`, num(it.r))
			}
		case kCircle:
			p(`<circle cx="%s" cy="%s" r="%s"`, num(it.x), num(it.y), num(it.r))
		case kPath:
			p(`<path d="%s"`, pathData(it.segs))
		case kImage:
			clip++
			id := fmt.Sprintf("cjm-avatar-%d", clip)
			p(`<clipPath id="%s"><circle cx="%s" cy="%s" r="%s"/></clipPath>`,
				id, num(it.x+it.w/2), num(it.y+it.h/2), num(it.w/2))
			p(`<image x="%s" y="%s" width="%s" height="%s" clip-path="url(#%s)" href="data:image/png;base64,%s"/>`+"\n",
				num(it.x), num(it.y), num(it.w), num(it.h), id, base64.StdEncoding.EncodeToString(it.img.png))
			continue
		case kText:
			writeSVGText(bw, it)
			continue
		}
		writePaint(bw, &it.paint)
		for _, a := range it.attrs {
			p(` %s="%s"`, a[0], xmlText(a[1]))
		}
		if it.title != "" {
			p("><title>%s</title></%s>\n", xmlText(it.title), map[kind]string{kRect: "rect", kCircle: "circle", kPath: "path"}[it.kind])
			continue
		}
		p("/>\n")
	}
	p("</svg>\n")
	return bw.Flush()
}

func writeSVGText(w io.Writer, it *item) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p(`<text font-size="%s" fill="%s"`, num(it.size), hex(it.fill))
	if it.bold {
		p(` font-weight="bold"`)
	}
	if it.italic {
		// Slant about the first baseline: x' = x + tan(12°)·(baseline - y).
		p(` transform="translate(%s %s) skewX(-%d) translate(%s %s)"`, num(it.x), num(it.y), italicSkew, num(-it.x), num(-it.y))
	}
	p(">")
	for i, l := range it.lines {
		if i > 0 {
			p("\n")
		}
		x := it.x
		if it.italic {
			// Undo the slant of the lines below the first, so that each
			// line starts at x on its own baseline.
			x += math.Tan(italicSkew*math.Pi/180) * float64(i) * it.lh
		}
		p(`<tspan x="%s" y="%s"`, num(x), num(it.y+float64(i)*it.lh))
		if it.widths[i] > 0 && strings.TrimSpace(l) != "" {
			p(` textLength="%s" lengthAdjust="spacingAndGlyphs"`, num(it.widths[i]))
		}
		p(">%s</tspan>", xmlText(l))
	}
	p("</text>\n")
}

func writePaint(w io.Writer, pt *paint) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if pt.fill.A == 0 {
		p(` fill="none"`)
	} else {
		p(` fill="%s"`, hex(pt.fill))
	}
	if pt.stroke.A == 0 || pt.width <= 0 {
		return
	}
	p(` stroke="%s" stroke-width="%s"`, hex(pt.stroke), num(pt.width))
	if pt.round {
		p(` stroke-linecap="round" stroke-linejoin="round"`)
	}
	if len(pt.dash) > 0 {
		ds := make([]string, len(pt.dash))
		for i, d := range pt.dash {
			ds[i] = num(d)
		}
		p(` stroke-dasharray="%s"`, strings.Join(ds, " "))
	}
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// xmlText escapes s for XML character data and double-quoted attributes,
// dropping characters XML cannot hold.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\n':
			b.WriteString("&#10;")
		default:
			if xmlChar(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
