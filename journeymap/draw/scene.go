package draw

import (
	"image"
	"image/color"
	"math"
)

// scene is the display list of a drawing, computed once by layout and drawn
// by each backend. Coordinates are layout units (1 unit = 1 CSS px), y down.
type scene struct {
	w, h  float64
	title string // the map's name, for the SVG title and the PDF metadata
	lang  string
	items []item
	// breaks are the y positions, ascending, where a page may end (between
	// rows of the grid).
	breaks []float64
	// head is the y range of the stage header row, repeated at the top of
	// every PDF page after the first.
	head [2]float64
}

type kind uint8

const (
	kRect   kind = iota // x, y, w, h with corner radius r
	kCircle             // centre x, y and radius r
	kPath               // segs
	kText               // lines from x, baseline y, one every lh
	kImage              // img drawn in the circle inscribed in x, y, w, h
)

// paint is how a shape is filled and stroked. A zero colour (alpha 0) means
// none; all colours used are opaque.
type paint struct {
	fill   color.RGBA
	stroke color.RGBA
	width  float64
	dash   []float64
	round  bool // round caps and joins
}

type item struct {
	kind kind
	paint
	x, y, w, h, r float64
	segs          []seg
	// Text: one line per element, each with its measured width, set in
	// fill colour.
	lines  []string
	widths []float64
	size   float64
	lh     float64
	bold   bool
	italic bool
	img    *avatar
	// attrs are extra attributes of the SVG element (data-*); title is an
	// SVG <title> child, read by screen readers and shown on hover.
	attrs [][2]string
	title string
}

// avatar is a decoded persona picture, square.
type avatar struct {
	img image.Image
	png []byte // img encoded, for the SVG and the PDF
}

// italicSkew is the slant of italic text, in degrees; the fonts have no
// italic, so text is slanted.
const italicSkew = 12

// bounds returns the box an item covers.
func (it *item) bounds() (x0, y0, x1, y1 float64) {
	pad := it.width / 2
	switch it.kind {
	case kRect, kImage:
		return it.x - pad, it.y - pad, it.x + it.w + pad, it.y + it.h + pad
	case kCircle:
		return it.x - it.r - pad, it.y - it.r - pad, it.x + it.r + pad, it.y + it.r + pad
	case kText:
		w := 0.0
		for _, v := range it.widths {
			w = math.Max(w, v)
		}
		return it.x, it.y - it.size, it.x + w + it.size*0.3, it.y + float64(len(it.lines)-1)*it.lh + it.size*0.3
	}
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range it.segs {
		for _, p := range s.points() {
			x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
			x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
		}
	}
	return x0 - pad, y0 - pad, x1 + pad, y1 + pad
}
