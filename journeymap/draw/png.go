package draw

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// writePNG rasterises the scene at scale pixels per layout unit: shapes with
// the vector rasteriser (strokes are outlined here: the rasteriser only
// fills), text with the fonts' glyphs.
func writePNG(w io.Writer, sc *scene, scale float64) error {
	me, err := newMetrics()
	if err != nil {
		return err
	}
	W, H := int(math.Ceil(sc.w*scale)), int(math.Ceil(sc.h*scale))
	dst := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	r := &raster{dst: dst, k: scale, m: me, z: vector.NewRasterizer(1, 1), faces: map[faceKey]font.Face{}}
	for i := range sc.items {
		if err := r.item(&sc.items[i]); err != nil {
			return err
		}
	}
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	return enc.Encode(w, dst)
}

type faceKey struct {
	size float64
	bold bool
}

type raster struct {
	dst   *image.RGBA
	k     float64
	m     *metrics
	z     *vector.Rasterizer
	faces map[faceKey]font.Face
	buf   sfnt.Buffer
}

func (r *raster) item(it *item) error {
	var segs []seg
	switch it.kind {
	case kRect:
		segs = rectPath(it.x, it.y, it.w, it.h, it.r)
	case kCircle:
		segs = circlePath(it.x, it.y, it.r)
	case kPath:
		segs = it.segs
	case kText:
		return r.text(it)
	case kImage:
		r.image(it)
		return nil
	}
	segs = place(segs, 1, 0, 0, r.k)
	if it.fill.A != 0 {
		polys, _ := flatten(segs, 0.15)
		r.fill(polys, it.fill)
	}
	if it.stroke.A != 0 && it.width > 0 {
		polys, closed := flatten(segs, 0.15)
		if len(it.dash) > 0 {
			d := make([]float64, len(it.dash))
			for i, v := range it.dash {
				d[i] = v * r.k
			}
			polys, closed = dashes(polys, closed, d)
		}
		r.fill(outline(polys, closed, it.width*r.k, it.round), it.stroke)
	}
	return nil
}

// fill fills polygons with c by the non-zero rule.
func (r *raster) fill(polys [][]pt, c color.RGBA) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, pl := range polys {
		for _, p := range pl {
			x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
			x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
		}
	}
	rect := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1)
	clip := rect.Intersect(r.dst.Bounds())
	if clip.Empty() {
		return
	}
	r.z.Reset(clip.Dx(), clip.Dy())
	ox, oy := float64(clip.Min.X), float64(clip.Min.Y)
	for _, pl := range polys {
		if len(pl) < 3 {
			continue
		}
		r.z.MoveTo(float32(pl[0].X-ox), float32(pl[0].Y-oy))
		for _, p := range pl[1:] {
			r.z.LineTo(float32(p.X-ox), float32(p.Y-oy))
		}
		r.z.ClosePath()
	}
	r.z.Draw(r.dst, clip, image.NewUniform(c), image.Point{})
}

func (r *raster) face(size float64, bold bool) (font.Face, error) {
	key := faceKey{size, bold}
	if f, ok := r.faces[key]; ok {
		return f, nil
	}
	f, err := opentype.NewFace(r.m.fonts[weight(bold)], &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	r.faces[key] = f
	return f, nil
}

// text draws each rune at the position the layout measured (no kerning, as
// in the other backends). Slanted text is drawn from the glyph outlines.
func (r *raster) text(it *item) error {
	size := it.size * r.k
	f, err := r.face(size, it.bold)
	if err != nil {
		return err
	}
	d := font.Drawer{Dst: r.dst, Src: image.NewUniform(it.fill), Face: f}
	for i, l := range it.lines {
		x, y := it.x*r.k, (it.y+float64(i)*it.lh)*r.k
		for _, c := range l {
			if it.italic {
				r.slanted(c, x, y, size, it.bold, it.fill)
			} else if c != ' ' {
				d.Dot = fixed.Point26_6{X: fixed.Int26_6(math.Round(x * 64)), Y: fixed.Int26_6(math.Round(y * 64))}
				d.DrawString(string(c))
			}
			x += r.m.advance(c, it.bold) * size
		}
	}
	return nil
}

// slanted draws rune c with its baseline origin at (x, y), slanted.
func (r *raster) slanted(c rune, x, y, size float64, bold bool, col color.RGBA) {
	f := r.m.fonts[weight(bold)]
	g, err := f.GlyphIndex(&r.buf, c)
	if err != nil || g == 0 && c == ' ' {
		return
	}
	gs, err := f.LoadGlyph(&r.buf, g, fixed.Int26_6(math.Round(size*64)), nil)
	if err != nil {
		return
	}
	t := math.Tan(italicSkew * math.Pi / 180)
	tp := func(p fixed.Point26_6) pt {
		px, py := float64(p.X)/64, float64(p.Y)/64
		return pt{x + px - t*py, y + py}
	}
	var segs []seg
	for _, s := range gs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if len(segs) > 0 {
				segs = append(segs, seg{op: 'Z'})
			}
			segs = append(segs, seg{op: 'M', p: [3]pt{tp(s.Args[0])}})
		case sfnt.SegmentOpLineTo:
			segs = append(segs, seg{op: 'L', p: [3]pt{tp(s.Args[0])}})
		case sfnt.SegmentOpQuadTo:
			segs = append(segs, seg{op: 'Q', p: [3]pt{tp(s.Args[0]), tp(s.Args[1])}})
		case sfnt.SegmentOpCubeTo:
			segs = append(segs, seg{op: 'C', p: [3]pt{tp(s.Args[0]), tp(s.Args[1]), tp(s.Args[2])}})
		}
	}
	if len(segs) == 0 {
		return
	}
	segs = append(segs, seg{op: 'Z'})
	// Glyph contours use the non-zero rule with holes turning the other way,
	// which the rasteriser's accumulation fills correctly as they are.
	polys, _ := flatten(segs, 0.1)
	r.fill(polys, col)
}

// image draws an avatar in its circle.
func (r *raster) image(it *item) {
	rect := image.Rect(int(math.Round(it.x*r.k)), int(math.Round(it.y*r.k)), int(math.Round((it.x+it.w)*r.k)), int(math.Round((it.y+it.h)*r.k)))
	if rect.Empty() {
		return
	}
	scaled := image.NewRGBA(image.Rect(0, 0, rect.Dx(), rect.Dy()))
	xdraw.CatmullRom.Scale(scaled, scaled.Bounds(), it.img.img, it.img.img.Bounds(), xdraw.Src, nil)
	mask := image.NewAlpha(scaled.Bounds())
	z := vector.NewRasterizer(rect.Dx(), rect.Dy())
	polys, _ := flatten(circlePath(float64(rect.Dx())/2, float64(rect.Dy())/2, float64(rect.Dx())/2), 0.1)
	for _, pl := range polys {
		z.MoveTo(float32(pl[0].X), float32(pl[0].Y))
		for _, p := range pl[1:] {
			z.LineTo(float32(p.X), float32(p.Y))
		}
		z.ClosePath()
	}
	z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	draw.DrawMask(r.dst, rect, scaled, image.Point{}, mask, image.Point{}, draw.Over)
}

// outline turns polylines into polygons covering their stroke of width w:
// a quadrilateral per segment, and discs (round) or bevels at the joins,
// discs at the ends when round. All polygons turn the same way, so that
// the rasteriser's accumulation saturates where they overlap instead of
// cancelling.
func outline(polys [][]pt, closed []bool, w float64, round bool) [][]pt {
	hw := w / 2
	var out [][]pt
	add := func(p []pt) {
		if area(p) < 0 {
			for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
				p[i], p[j] = p[j], p[i]
			}
		}
		out = append(out, p)
	}
	disc := func(c pt) {
		n := max(8, int(math.Ceil(hw*4)))
		p := make([]pt, n)
		for i := range p {
			a := 2 * math.Pi * float64(i) / float64(n)
			p[i] = pt{c.X + hw*math.Cos(a), c.Y + hw*math.Sin(a)}
		}
		add(p)
	}
	for i, pl := range polys {
		pts := pl[:1:1]
		for _, p := range pl[1:] {
			if dist(p, pts[len(pts)-1]) > 1e-9 {
				pts = append(pts, p)
			}
		}
		c := closed[i]
		if c && len(pts) > 2 && dist(pts[0], pts[len(pts)-1]) < 1e-9 {
			pts = pts[:len(pts)-1]
		}
		n := len(pts)
		if n == 1 {
			if round {
				disc(pts[0])
			}
			continue
		}
		normal := func(a, b pt) pt {
			l := dist(a, b)
			return pt{-(b.Y - a.Y) / l * hw, (b.X - a.X) / l * hw}
		}
		segCount := n - 1
		if c {
			segCount = n
		}
		for j := 0; j < segCount; j++ {
			a, b := pts[j], pts[(j+1)%n]
			nv := normal(a, b)
			add([]pt{{a.X + nv.X, a.Y + nv.Y}, {b.X + nv.X, b.Y + nv.Y}, {b.X - nv.X, b.Y - nv.Y}, {a.X - nv.X, a.Y - nv.Y}})
		}
		for j := 0; j < n; j++ {
			end := !c && (j == 0 || j == n-1)
			if end {
				if round {
					disc(pts[j])
				}
				continue
			}
			if round {
				disc(pts[j])
				continue
			}
			prev, next := pts[(j-1+n)%n], pts[(j+1)%n]
			n1, n2 := normal(prev, pts[j]), normal(pts[j], next)
			v := pts[j]
			add([]pt{v, {v.X + n1.X, v.Y + n1.Y}, {v.X + n2.X, v.Y + n2.Y}})
			add([]pt{v, {v.X - n1.X, v.Y - n1.Y}, {v.X - n2.X, v.Y - n2.Y}})
		}
	}
	return out
}

// area returns the signed area of a polygon.
func area(p []pt) float64 {
	s := 0.0
	for i := range p {
		j := (i + 1) % len(p)
		s += p[i].X*p[j].Y - p[j].X*p[i].Y
	}
	return s / 2
}

// dashes cuts polylines into the "on" pieces of a dash pattern, restarting
// the pattern on each polyline.
func dashes(polys [][]pt, closed []bool, pattern []float64) ([][]pt, []bool) {
	var out [][]pt
	for i, pl := range polys {
		if closed[i] {
			pl = append(pl[:len(pl):len(pl)], pl[0])
		}
		k, left, on := 0, pattern[0], true
		var cur []pt
		if on {
			cur = []pt{pl[0]}
		}
		for j := 1; j < len(pl); j++ {
			a, b := pl[j-1], pl[j]
			l := dist(a, b)
			pos := 0.0
			for l-pos > left {
				pos += left
				p := pt{a.X + (b.X-a.X)*pos/l, a.Y + (b.Y-a.Y)*pos/l}
				if on {
					out = append(out, append(cur, p))
					cur = nil
				} else {
					cur = []pt{p}
				}
				on = !on
				k = (k + 1) % len(pattern)
				left = pattern[k]
			}
			left -= l - pos
			if on {
				cur = append(cur, b)
			}
		}
		if on && len(cur) > 1 {
			out = append(out, cur)
		}
	}
	return out, make([]bool, len(out))
}
