package draw

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// pt is a point in layout units (SVG user units; 1 unit = 1 CSS px).
type pt struct{ X, Y float64 }

// seg is one command of a parsed path, in absolute coordinates: M and L use
// p[0], Q p[0..1], C p[0..2], Z none.
type seg struct {
	op byte
	p  [3]pt
}

// points returns the points a segment uses.
func (s *seg) points() []pt {
	switch s.op {
	case 'M', 'L':
		return s.p[:1]
	case 'Q':
		return s.p[:2]
	case 'C':
		return s.p[:3]
	}
	return nil
}

// parsePath parses SVG path data written with the absolute commands M, L,
// H, V, C, Q and Z (the subset the icons and shapes of this package use).
// Like SVG, a command's arguments may repeat, and coordinates after M are
// line-tos.
func parsePath(d string) ([]seg, error) {
	var (
		segs     []seg
		cur      pt
		start    pt
		op       byte
		i        int
		nums     []float64
		haveOp   bool
		argCount = map[byte]int{'M': 2, 'L': 2, 'H': 1, 'V': 1, 'C': 6, 'Q': 4, 'Z': 0}
	)
	flush := func() error {
		n := argCount[op]
		if n == 0 {
			if len(nums) > 0 {
				return fmt.Errorf("draw: path %q: Z takes no arguments", d)
			}
			segs = append(segs, seg{op: 'Z'})
			cur = start
			return nil
		}
		if len(nums) == 0 || len(nums)%n != 0 {
			return fmt.Errorf("draw: path %q: %c needs %d numbers, has %d", d, op, n, len(nums))
		}
		for j := 0; j < len(nums); j += n {
			a := nums[j : j+n]
			switch op {
			case 'M':
				p := pt{a[0], a[1]}
				if j == 0 {
					segs = append(segs, seg{op: 'M', p: [3]pt{p}})
					start = p
				} else {
					segs = append(segs, seg{op: 'L', p: [3]pt{p}})
				}
				cur = p
			case 'L':
				cur = pt{a[0], a[1]}
				segs = append(segs, seg{op: 'L', p: [3]pt{cur}})
			case 'H':
				cur = pt{a[0], cur.Y}
				segs = append(segs, seg{op: 'L', p: [3]pt{cur}})
			case 'V':
				cur = pt{cur.X, a[0]}
				segs = append(segs, seg{op: 'L', p: [3]pt{cur}})
			case 'C':
				cur = pt{a[4], a[5]}
				segs = append(segs, seg{op: 'C', p: [3]pt{{a[0], a[1]}, {a[2], a[3]}, cur}})
			case 'Q':
				cur = pt{a[2], a[3]}
				segs = append(segs, seg{op: 'Q', p: [3]pt{{a[0], a[1]}, cur}})
			}
		}
		return nil
	}
	for i < len(d) {
		c := d[i]
		switch {
		case c == ' ' || c == ',' || c == '\t' || c == '\n':
			i++
		case strings.IndexByte("MLHVCQZ", c) >= 0:
			if haveOp {
				if err := flush(); err != nil {
					return nil, err
				}
			} else if c != 'M' {
				return nil, fmt.Errorf("draw: path %q does not start with M", d)
			}
			op, haveOp, nums = c, true, nums[:0]
			i++
		case c == '-' || c == '.' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(d) && (d[j] == '.' || d[j] >= '0' && d[j] <= '9' || d[j] == 'e') {
				j++
			}
			v, err := strconv.ParseFloat(d[i:j], 64)
			if err != nil || !haveOp {
				return nil, fmt.Errorf("draw: path %q: bad number at %d", d, i)
			}
			nums = append(nums, v)
			i = j
		default:
			return nil, fmt.Errorf("draw: path %q: unsupported command %q", d, c)
		}
	}
	if haveOp {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

func mustPath(d string) []seg {
	s, err := parsePath(d)
	if err != nil {
		panic(err)
	}
	return s
}

// place maps segments drawn in a box of size box to the square at (x, y)
// of side size.
func place(segs []seg, box, x, y, size float64) []seg {
	k := size / box
	out := make([]seg, len(segs))
	for i, s := range segs {
		for j := range s.p {
			s.p[j] = pt{x + s.p[j].X*k, y + s.p[j].Y*k}
		}
		out[i] = s
	}
	return out
}

// pathData writes segments as SVG path data.
func pathData(segs []seg) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte(s.op)
		for j, p := range s.points() {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(num(p.X))
			b.WriteByte(' ')
			b.WriteString(num(p.Y))
		}
	}
	return b.String()
}

// num writes v with at most two decimals.
func num(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// kappa places the control points of a cubic Bézier quarter circle.
const kappa = 0.5522847498

// circlePath returns a circle as four cubic segments.
func circlePath(cx, cy, r float64) []seg {
	k := r * kappa
	return []seg{
		{op: 'M', p: [3]pt{{cx + r, cy}}},
		{op: 'C', p: [3]pt{{cx + r, cy + k}, {cx + k, cy + r}, {cx, cy + r}}},
		{op: 'C', p: [3]pt{{cx - k, cy + r}, {cx - r, cy + k}, {cx - r, cy}}},
		{op: 'C', p: [3]pt{{cx - r, cy - k}, {cx - k, cy - r}, {cx, cy - r}}},
		{op: 'C', p: [3]pt{{cx + k, cy - r}, {cx + r, cy - k}, {cx + r, cy}}},
		{op: 'Z'},
	}
}

// rectPath returns a rectangle with corners rounded by r.
func rectPath(x, y, w, h, r float64) []seg {
	r = min(r, w/2, h/2)
	if r <= 0 {
		return []seg{
			{op: 'M', p: [3]pt{{x, y}}}, {op: 'L', p: [3]pt{{x + w, y}}},
			{op: 'L', p: [3]pt{{x + w, y + h}}}, {op: 'L', p: [3]pt{{x, y + h}}}, {op: 'Z'},
		}
	}
	k := r * (1 - kappa)
	return []seg{
		{op: 'M', p: [3]pt{{x + r, y}}},
		{op: 'L', p: [3]pt{{x + w - r, y}}},
		{op: 'C', p: [3]pt{{x + w - k, y}, {x + w, y + k}, {x + w, y + r}}},
		{op: 'L', p: [3]pt{{x + w, y + h - r}}},
		{op: 'C', p: [3]pt{{x + w, y + h - k}, {x + w - k, y + h}, {x + w - r, y + h}}},
		{op: 'L', p: [3]pt{{x + r, y + h}}},
		{op: 'C', p: [3]pt{{x + k, y + h}, {x, y + h - k}, {x, y + h - r}}},
		{op: 'L', p: [3]pt{{x, y + r}}},
		{op: 'C', p: [3]pt{{x, y + k}, {x + k, y}, {x + r, y}}},
		{op: 'Z'},
	}
}

// polyPath returns the polyline through ps, closed if close.
func polyPath(ps []pt, close bool) []seg {
	segs := make([]seg, 0, len(ps)+1)
	for i, p := range ps {
		op := byte('L')
		if i == 0 {
			op = 'M'
		}
		segs = append(segs, seg{op: op, p: [3]pt{p}})
	}
	if close {
		segs = append(segs, seg{op: 'Z'})
	}
	return segs
}

// flatten turns segments into polylines (one per subpath) with curves
// approximated within tol; closed reports which subpaths end with Z.
func flatten(segs []seg, tol float64) (polys [][]pt, closed []bool) {
	var cur []pt
	var last pt
	end := func(c bool) {
		if len(cur) > 1 {
			polys = append(polys, cur)
			closed = append(closed, c)
		}
		cur = nil
	}
	for _, s := range segs {
		switch s.op {
		case 'M':
			end(false)
			cur = []pt{s.p[0]}
			last = s.p[0]
		case 'L':
			cur = append(cur, s.p[0])
			last = s.p[0]
		case 'Q':
			n := steps(tol, last, s.p[0], s.p[1], s.p[1])
			for i := 1; i <= n; i++ {
				t := float64(i) / float64(n)
				u := 1 - t
				cur = append(cur, pt{
					u*u*last.X + 2*u*t*s.p[0].X + t*t*s.p[1].X,
					u*u*last.Y + 2*u*t*s.p[0].Y + t*t*s.p[1].Y,
				})
			}
			last = s.p[1]
		case 'C':
			n := steps(tol, last, s.p[0], s.p[1], s.p[2])
			for i := 1; i <= n; i++ {
				t := float64(i) / float64(n)
				u := 1 - t
				cur = append(cur, pt{
					u*u*u*last.X + 3*u*u*t*s.p[0].X + 3*u*t*t*s.p[1].X + t*t*t*s.p[2].X,
					u*u*u*last.Y + 3*u*u*t*s.p[0].Y + 3*u*t*t*s.p[1].Y + t*t*t*s.p[2].Y,
				})
			}
			last = s.p[2]
		case 'Z':
			if len(cur) > 0 {
				start := cur[0]
				end(true)
				// Drawing after Z continues from the start point; a
				// lone point left over is dropped by end.
				cur = []pt{start}
				last = start
			}
		}
	}
	end(false)
	return polys, closed
}

// steps picks how many line segments approximate a curve.
func steps(tol float64, p0, p1, p2, p3 pt) int {
	l := dist(p0, p1) + dist(p1, p2) + dist(p2, p3)
	n := int(math.Ceil(math.Sqrt(l / tol)))
	return max(2, min(n, 64))
}

func dist(a, b pt) float64 { return math.Hypot(b.X-a.X, b.Y-a.Y) }
