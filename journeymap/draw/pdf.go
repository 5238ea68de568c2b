package draw

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/go-pdf/fpdf"
)

// PDF page layout, in points.
const (
	pdfMargin = 24.0
	pdfFooter = 16.0 // room for the page number
	pdfFont   = "noto"
)

// pdfDate is the fixed creation date written in every PDF, so that the same
// map gives the same bytes.
var pdfDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// paper lists the ISO A sizes a drawing may use, portrait, in points.
var paper = []struct {
	name string
	size fpdf.SizeType
}{
	{"A3", fpdf.SizeType{Wd: 841.89, Ht: 1190.55}},
	{"A2", fpdf.SizeType{Wd: 1190.55, Ht: 1683.78}},
	{"A1", fpdf.SizeType{Wd: 1683.78, Ht: 2383.94}},
	{"A0", fpdf.SizeType{Wd: 2383.94, Ht: 3370.39}},
}

// minScale is the smallest scale (points per layout unit) a page size is
// used at before a larger one is taken: body text stays at about 8 pt.
const minScale = 0.65

// writePDF draws the scene on landscape pages: A3, or the smallest larger A
// size on which the scene's width scales to at least minScale. The scene is
// scaled to the page width (never enlarged); a scene taller than a page
// continues on more pages, cut at row boundaries, each continued page
// repeating the stage headers.
func writePDF(w io.Writer, sc *scene) error {
	size := paper[len(paper)-1].size
	for _, p := range paper {
		if (p.size.Ht-2*pdfMargin)/sc.w >= minScale {
			size = p.size
			break
		}
	}
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "L", UnitStr: "pt", Size: size})
	f.SetCreationDate(pdfDate)
	f.SetModificationDate(pdfDate)
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetTitle(sc.title, true)
	f.SetCreator("cjm", true)
	if sc.lang != "" {
		f.SetLang(sc.lang)
	}
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(0, 0, 0)
	f.AddUTF8FontFromBytes(pdfFont, "", regularTTF)
	f.AddUTF8FontFromBytes(pdfFont, "B", boldTTF)

	pw, ph := f.GetPageSize()
	s, pages := pageLayout(sc, pw, ph)
	ox := pdfMargin + (pw-2*pdfMargin-sc.w*s)/2
	headH := sc.head[1] - sc.head[0]
	d := &pdfDrawer{f: f, s: s, ox: ox}
	for n, pg := range pages {
		f.AddPage()
		top := pdfMargin
		if n > 0 && pg[0] >= sc.head[1] && (headH+6)*s <= (ph-2*pdfMargin-pdfFooter)/2 {
			d.band(sc, sc.head[0], sc.head[1], top)
			top += (headH + 6) * s
		}
		d.band(sc, pg[0], pg[1], top)
		if len(pages) > 1 {
			f.SetFont(pdfFont, "", 8)
			f.SetTextColor(int(subtle.R), int(subtle.G), int(subtle.B))
			label := fmt.Sprintf("%d / %d", n+1, len(pages))
			f.Text(pw-pdfMargin-f.GetStringWidth(label), ph-pdfMargin+4, label)
		}
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return fmt.Errorf("draw: pdf: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// pageLayout picks the scale of a scene on pages of pw × ph points and
// cuts it into pages: the scene fills the page width (never enlarged),
// unless shrinking it by up to 15% saves a page.
func pageLayout(sc *scene, pw, ph float64) (float64, [][2]float64) {
	fit := min(1, (pw-2*pdfMargin)/sc.w)
	headH := sc.head[1] - sc.head[0]
	var best [][2]float64
	bestS := fit
	for _, f := range []float64{1, 0.95, 0.9, 0.85} {
		s := fit * f
		avail := (ph - 2*pdfMargin - pdfFooter) / s
		rest := avail - headH - 6
		if rest < avail/2 {
			// A header taller than half a page is not repeated.
			rest = avail
		}
		pages := paginate(sc, avail, rest)
		if best == nil || len(pages) < len(best) {
			best, bestS = pages, s
		}
	}
	return bestS, best
}

// paginate cuts the scene's height into pages: the first holds first units,
// the others rest; pages end at the last row boundary that fits.
func paginate(sc *scene, first, rest float64) [][2]float64 {
	var pages [][2]float64
	y, avail := 0.0, first
	for y < sc.h-0.5 {
		end := y + avail
		if end >= sc.h {
			pages = append(pages, [2]float64{y, sc.h})
			break
		}
		cut := end
		for _, b := range sc.breaks {
			if b > y+1 && b <= end {
				cut = b
			}
		}
		if cut <= y+1 {
			cut = min(y+max(avail, 1), sc.h) // always move on, even through a tall row
		}
		pages = append(pages, [2]float64{y, cut})
		y, avail = cut, rest
	}
	return pages
}

type pdfDrawer struct {
	f      *fpdf.Fpdf
	s      float64 // points per layout unit
	ox, oy float64 // page position of the layout origin
	images int
}

func (d *pdfDrawer) x(v float64) float64 { return d.ox + v*d.s }
func (d *pdfDrawer) y(v float64) float64 { return d.oy + v*d.s }

// band draws the items within layout rows y0..y1 with y0 at page position
// top, clipped to the band.
func (d *pdfDrawer) band(sc *scene, y0, y1, top float64) {
	d.oy = top - y0*d.s
	d.f.ClipRect(d.ox-2, top, sc.w*d.s+4, (y1-y0)*d.s, false)
	for i := range sc.items {
		it := &sc.items[i]
		_, iy0, _, iy1 := it.bounds()
		if iy1 <= y0 || iy0 >= y1 {
			continue
		}
		d.item(it)
	}
	d.f.ClipEnd()
}

func (d *pdfDrawer) item(it *item) {
	f := d.f
	switch it.kind {
	case kText:
		d.text(it)
		return
	case kImage:
		d.images++
		name := fmt.Sprintf("avatar-%d", d.images)
		opt := fpdf.ImageOptions{ImageType: "PNG"}
		f.RegisterImageOptionsReader(name, opt, bytes.NewReader(it.img.png))
		f.ClipCircle(d.x(it.x+it.w/2), d.y(it.y+it.h/2), it.w/2*d.s, false)
		f.ImageOptions(name, d.x(it.x), d.y(it.y), it.w*d.s, it.h*d.s, false, opt, 0, "")
		f.ClipEnd()
		return
	}
	var segs []seg
	switch it.kind {
	case kRect:
		segs = rectPath(it.x, it.y, it.w, it.h, it.r)
	case kCircle:
		segs = circlePath(it.x, it.y, it.r)
	default:
		segs = it.segs
	}
	style := ""
	if it.fill.A != 0 {
		f.SetFillColor(int(it.fill.R), int(it.fill.G), int(it.fill.B))
		style = "F"
	}
	if it.stroke.A != 0 && it.width > 0 {
		f.SetDrawColor(int(it.stroke.R), int(it.stroke.G), int(it.stroke.B))
		f.SetLineWidth(it.width * d.s)
		if it.round {
			f.SetLineCapStyle("round")
			f.SetLineJoinStyle("round")
		} else {
			f.SetLineCapStyle("butt")
			f.SetLineJoinStyle("miter")
		}
		dash := make([]float64, len(it.dash))
		for i, v := range it.dash {
			dash[i] = v * d.s
		}
		f.SetDashPattern(dash, 0)
		style += "D"
	}
	if style == "" {
		return
	}
	for _, sg := range segs {
		switch sg.op {
		case 'M':
			f.MoveTo(d.x(sg.p[0].X), d.y(sg.p[0].Y))
		case 'L':
			f.LineTo(d.x(sg.p[0].X), d.y(sg.p[0].Y))
		case 'Q':
			f.CurveTo(d.x(sg.p[0].X), d.y(sg.p[0].Y), d.x(sg.p[1].X), d.y(sg.p[1].Y))
		case 'C':
			f.CurveBezierCubicTo(d.x(sg.p[0].X), d.y(sg.p[0].Y), d.x(sg.p[1].X), d.y(sg.p[1].Y), d.x(sg.p[2].X), d.y(sg.p[2].Y))
		case 'Z':
			f.ClosePath()
		}
	}
	f.DrawPath(style)
}

func (d *pdfDrawer) text(it *item) {
	f := d.f
	style := ""
	if it.bold {
		style = "B"
	}
	f.SetFont(pdfFont, style, it.size*d.s)
	f.SetTextColor(int(it.fill.R), int(it.fill.G), int(it.fill.B))
	for i, l := range it.lines {
		if l == "" {
			continue
		}
		x, y := d.x(it.x), d.y(it.y+float64(i)*it.lh)
		if it.italic {
			f.TransformBegin()
			f.TransformSkewX(italicSkew, x, y)
			f.Text(x, y, l)
			f.TransformEnd()
			continue
		}
		f.Text(x, y, l)
	}
}
