package draw

import (
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/cjmhq/cjm/journeymap"
)

// Sizes, in layout units.
const (
	margin   = 32.0
	titleW   = 168.0 // the lane title column
	minColW  = 264.0 // a stage column, at least
	cellPad  = 10.0  // around the cards of a cell
	cardGap  = 8.0   // between cards
	minWidth = 1040.0
)

// The palette: calm, on white; every text colour has a contrast of at
// least 4.5:1 with the background it is drawn on.
var (
	none     color.RGBA
	white    = rgb(0xffffff)
	ink      = rgb(0x0f172a) // titles
	body     = rgb(0x1e293b) // text
	muted    = rgb(0x475569) // secondary text
	subtle   = rgb(0x64748b) // placeholders, tick labels
	rule     = rgb(0xe2e8f0) // grid lines
	border   = rgb(0xcbd5e1)
	panel    = rgb(0xf8fafc) // title column, persona card
	colTint  = rgb(0xf4f7fb) // every other stage column
	navy     = rgb(0x1e3a5f) // stage headers
	navyText = rgb(0xcbd5e1) // secondary text on navy
	navyNum  = rgb(0x93c5fd)
	iconBg   = rgb(0xe6edf5)
	chipBg   = rgb(0xeef2f7)
	chipText = rgb(0x334155)
	okBg     = rgb(0xdcfce7) // evidence badge
	okInk    = rgb(0x166534)
	okMark   = rgb(0x15803d)
	warnInk  = rgb(0x9a3412) // unplanned
	curveCol = [2]color.RGBA{rgb(0x1d4ed8), rgb(0x7e22ce)}
	posBand  = rgb(0xf2faf5)
	negBand  = rgb(0xfdf4f4)
	avatarBg = [2]color.RGBA{rgb(0x0f766e), rgb(0x7e22ce)}
)

func rgb(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// laneStyle colours the cards of a lane: an accent bar and a tint.
type laneStyle struct{ accent, tint color.RGBA }

var laneStyles = map[string]laneStyle{
	"measured":         {rgb(0x475569), rgb(0xf1f5f9)},
	"touchpoints":      {navy, rgb(0xe6edf5)},
	"actions":          {rgb(0x2563eb), rgb(0xeff6ff)},
	"thoughts":         {rgb(0x7c3aed), rgb(0xf5f3ff)},
	"emotion":          {curveCol[0], rgb(0xeff6ff)},
	"pain_points":      {rgb(0xdc2626), rgb(0xfef2f2)},
	"opportunities":    {rgb(0xd97706), rgb(0xfffbeb)},
	"solutions":        {rgb(0x059669), rgb(0xecfdf5)},
	"resources_have":   {rgb(0x0891b2), rgb(0xecfeff)},
	"resources_need":   {rgb(0xea580c), rgb(0xfff7ed)},
	"owner":            {rgb(0x475569), rgb(0xf1f5f9)},
	"kpis":             {rgb(0x4f46e5), rgb(0xeef2ff)},
	"moments_of_truth": {rgb(0xb45309), rgb(0xfef3c7)},
}

// tstyle is a text style: size and line height in layout units.
type tstyle struct {
	size, lh     float64
	bold, italic bool
	c            color.RGBA
}

var (
	stBody  = tstyle{size: 12, lh: 16, c: body}
	stSmall = tstyle{size: 10.5, lh: 14, c: muted}
	stLabel = tstyle{size: 10.5, lh: 14, bold: true, c: muted}
)

func (s tstyle) with(c color.RGBA) tstyle { s.c = c; return s }
func (s tstyle) strong() tstyle           { s.bold = true; return s }

// builder accumulates the display list.
type builder struct {
	m     *metrics
	o     Options
	colW  float64 // width of a stage column
	items []item
	// used records which symbols the drawing has, for the legend.
	used struct{ dotted, evidence, unplanned, moment bool }
}

func (b *builder) tr(key string) string { return b.m.drawable(clean(tr(b.o.T, key))) }

// clean prepares text of the map for drawing: NFC, no control characters,
// no characters the fonts lack.
func (b *builder) clean(s string) string { return b.m.drawable(clean(s)) }

// text adds lines whose first line box starts at top, and returns their
// height.
func (b *builder) text(x, top float64, lines []string, st tstyle) float64 {
	if len(lines) == 0 {
		return 0
	}
	ws := make([]float64, len(lines))
	for i, l := range lines {
		ws[i] = b.m.width(l, st.size, st.bold)
	}
	b.items = append(b.items, item{
		kind: kText, paint: paint{fill: st.c},
		x: x, y: top + st.lh/2 + 0.35*st.size,
		lines: lines, widths: ws, size: st.size, lh: st.lh, bold: st.bold, italic: st.italic,
	})
	return float64(len(lines)) * st.lh
}

// para wraps s to max and adds it, returning its height.
func (b *builder) para(x, top, max float64, s string, st tstyle) float64 {
	if st.italic {
		max -= st.size * 0.22 // the slant leans past the measured width
	}
	return b.text(x, top, b.m.wrap(s, st.size, st.bold, max), st)
}

// line1 adds s on one line, shortened to max, and returns its width.
func (b *builder) line1(x, top, max float64, s string, st tstyle) float64 {
	s = b.m.fit(s, st.size, st.bold, max)
	b.text(x, top, []string{s}, st)
	return b.m.width(s, st.size, st.bold)
}

func (b *builder) rect(x, y, w, h, r float64, p paint) {
	b.items = append(b.items, item{kind: kRect, paint: p, x: x, y: y, w: w, h: h, r: r})
}

func (b *builder) circle(cx, cy, r float64, p paint) {
	b.items = append(b.items, item{kind: kCircle, paint: p, x: cx, y: cy, r: r})
}

func (b *builder) poly(ps []pt, close bool, p paint) {
	b.items = append(b.items, item{kind: kPath, paint: p, segs: polyPath(ps, close)})
}

func (b *builder) hline(x0, x1, y float64, p paint) { b.poly([]pt{{x0, y}, {x1, y}}, false, p) }

// icon adds a 24×24 line pictogram scaled to size at (x, y).
func (b *builder) icon(d string, x, y, size float64, c color.RGBA) {
	b.items = append(b.items, item{
		kind:  kPath,
		paint: paint{stroke: c, width: 2 * size / 24, round: true},
		segs:  place(shapes[d], 24, x, y, size),
	})
}

// shape adds a filled 24×24 shape scaled to size at (x, y).
func (b *builder) shape(d string, x, y, size float64, p paint) {
	b.items = append(b.items, item{kind: kPath, paint: p, segs: place(shapes[d], 24, x, y, size)})
}

// behind inserts items at index at, under what was added since.
func (b *builder) behind(at int, f func()) {
	tail := slices.Clone(b.items[at:])
	b.items = b.items[:at]
	f()
	b.items = append(b.items, tail...)
}

// layout lays m out as a scene.
func layout(m *journeymap.Map, o Options) (*scene, error) {
	if m == nil {
		return nil, errors.New("draw: no map")
	}
	me, err := newMetrics()
	if err != nil {
		return nil, err
	}
	b := &builder{m: me, o: o, colW: minColW}
	n := len(m.Stages)
	w := max(2*margin+titleW+float64(n)*minColW, minWidth)
	if n > 0 {
		// A map of few stages widens its columns to the minimum width.
		b.colW = (w - 2*margin - titleW) / float64(n)
	}
	sc := &scene{w: w, title: clean(m.Name), lang: m.Lang}
	y := b.header(m, w)
	sc.breaks = append(sc.breaks, y)
	y = b.grid(m, y, sc)
	y = b.legend(m, y+20, w)
	sc.h = y + margin
	sc.breaks = append(sc.breaks, sc.h)
	sc.items = b.items
	return sc, nil
}

// header draws the name, state, goal, departments and persona, and returns
// where the grid starts.
func (b *builder) header(m *journeymap.Map, w float64) float64 {
	x, top := margin, margin
	inner := w - 2*margin
	leftW := inner
	const personaW = 540.0
	beside := inner >= 1000
	if m.Persona != nil && beside {
		leftW = inner - personaW - 40
	}
	y := top
	// The state, as a badge.
	label, fg, bg := b.tr(KeyStateCurrent), rgb(0x075985), rgb(0xe0f2fe)
	if m.State == journeymap.Future {
		label, fg, bg = b.tr(KeyStateFuture), rgb(0x6b21a8), rgb(0xf3e8ff)
	}
	y += b.pill(x, y, label, tstyle{size: 11, lh: 22, bold: true, c: fg}, bg) + 10
	y += b.para(x, y, leftW, b.clean(m.Name), tstyle{size: 26, lh: 34, bold: true, c: ink})
	if m.CompareTo != "" {
		y += 2 + b.para(x, y+2, leftW, b.tr(KeyCompareTo)+": "+b.clean(m.CompareTo), stSmall.with(muted))
	}
	y += 10
	// The goal, as label and text rows.
	rows := [][2]string{
		{KeyGoalWhy, m.Goal.Why}, {KeyGoalAchieve, m.Goal.Achieve}, {KeyGoalAudience, m.Goal.Audience},
	}
	if len(m.Departments) > 0 {
		rows = append(rows, [2]string{KeyDepartments, ""})
	}
	labelW := 0.0
	for _, r := range rows {
		if r[1] != "" || r[0] == KeyDepartments {
			labelW = max(labelW, b.m.width(upper(b.tr(r[0])), stLabel.size, true))
		}
	}
	labelW += 14
	st := tstyle{size: 13, lh: 18, c: body}
	for _, r := range rows {
		if r[0] == KeyDepartments {
			b.text(x, y+2, []string{upper(b.tr(r[0]))}, stLabel)
			y += b.chips(x+labelW, y, leftW-labelW, m.Departments, b.clean) + 6
			continue
		}
		if strings.TrimSpace(r[1]) == "" {
			continue
		}
		b.text(x, y+2, []string{upper(b.tr(r[0]))}, stLabel)
		y += b.para(x+labelW, y, leftW-labelW, b.clean(r[1]), st) + 6
	}
	bottom := y
	if m.Persona != nil {
		px, py, pw := x, y+14, inner
		if beside {
			px, py, pw = w-margin-personaW, top, personaW
		}
		bottom = max(bottom, b.persona(m.Persona, m.ComparePersona, px, py, pw))
	}
	return bottom + 28
}

// pill draws text in a rounded badge and returns its height.
func (b *builder) pill(x, y float64, s string, st tstyle, bg color.RGBA) float64 {
	w := b.m.width(s, st.size, st.bold) + 20
	b.rect(x, y, w, st.lh, st.lh/2, paint{fill: bg})
	b.text(x+10, y, []string{s}, st)
	return st.lh
}

// chips lays out words as chips flowing in width w; it returns the height.
func (b *builder) chips(x, y, w float64, words []string, label func(string) string) float64 {
	const h, gap, pad = 19.0, 5.0, 8.0
	st := tstyle{size: 10.5, lh: h, c: chipText}
	cx, cy := x, y
	for _, word := range words {
		s := b.m.fit(label(word), st.size, false, w-2*pad)
		cw := b.m.width(s, st.size, false) + 2*pad
		if cx > x && cx+cw > x+w {
			cx, cy = x, cy+h+gap
		}
		b.rect(cx, cy, cw, h, h/2, paint{fill: chipBg})
		b.text(cx+pad, cy, []string{s}, st)
		cx += cw + gap
	}
	return cy + h - y
}

// persona draws the persona card and returns its bottom.
func (b *builder) persona(p, cmp *journeymap.Persona, x, y, w float64) float64 {
	at := len(b.items)
	const pad, ad = 18.0, 60.0
	b.avatar(p, x+pad, y+pad, ad, avatarBg[0])
	tx := x + pad + ad + 16
	tw := x + w - pad - tx
	ty := y + pad
	ty += b.para(tx, ty, tw, b.clean(p.Name), tstyle{size: 17, lh: 23, bold: true, c: ink})
	if d := b.details(p); d != "" {
		ty += b.para(tx, ty, tw, d, tstyle{size: 12, lh: 17, c: muted})
	}
	if q := strings.TrimSpace(b.clean(p.Quote)); q != "" {
		ty += 5 + b.para(tx, ty+5, tw, "“"+q+"”", tstyle{size: 12.5, lh: 18, italic: true, c: body})
	}
	cy := max(ty, y+pad+ad) + 12
	colw := (w - 2*pad - 24) / 2
	gy := b.bullets(x+pad, cy, colw, b.tr(KeyPersonaGoals), p.Goals, okMark)
	fy := b.bullets(x+pad+colw+24, cy, colw, b.tr(KeyPersonaFrustrations), p.Frustrations, rgb(0xdc2626))
	cy = max(gy, fy)
	if cmp != nil {
		b.hline(x+pad, x+w-pad, cy+4, paint{stroke: rule, width: 1})
		cy += 14
		const sd = 30.0
		b.avatar(cmp, x+pad, cy, sd, avatarBg[1])
		cx := x + pad + sd + 10
		lw := b.line1(cx, cy, x+w-pad-cx, b.tr(KeyComparePersona)+":", stSmall)
		b.line1(cx+lw+5, cy, x+w-pad-cx-lw-5, b.clean(cmp.Name), stSmall.strong().with(ink))
		if d := b.details(cmp); d != "" {
			b.line1(cx, cy+15, x+w-pad-cx, d, stSmall)
		}
		cy += sd
	}
	bottom := cy + pad
	b.behind(at, func() {
		b.rect(x, y, w, bottom-y, 12, paint{fill: panel, stroke: rule, width: 1})
	})
	return bottom
}

// details joins a persona's facts: age, gender, occupation, location, income.
func (b *builder) details(p *journeymap.Persona) string {
	var parts []string
	for _, s := range []string{p.Age, p.Gender, p.Occupation, p.Location, p.Income} {
		if s = strings.TrimSpace(b.clean(s)); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// bullets draws a titled list and returns its bottom.
func (b *builder) bullets(x, y, w float64, title string, items []string, dot color.RGBA) float64 {
	if len(items) == 0 {
		return y
	}
	y += b.text(x, y, []string{b.m.fit(upper(title), stLabel.size, true, w)}, stLabel) + 2
	for _, s := range items {
		b.circle(x+3, y+8, 2.6, paint{fill: dot})
		y += b.para(x+12, y, w-12, b.clean(s), tstyle{size: 11.5, lh: 16, c: body}) + 2
	}
	return y
}

// avatar draws a persona's picture (a data: URI) or initials in a circle of
// diameter d.
func (b *builder) avatar(p *journeymap.Persona, x, y, d float64, bg color.RGBA) {
	if a := decodeAvatar(p.Avatar); a != nil {
		b.items = append(b.items, item{kind: kImage, x: x, y: y, w: d, h: d, img: a})
		b.circle(x+d/2, y+d/2, d/2, paint{stroke: white, width: 2})
		return
	}
	b.circle(x+d/2, y+d/2, d/2, paint{fill: bg})
	s := initials(p, b.m)
	st := tstyle{size: d * 0.36, lh: d * 0.5, bold: true, c: white}
	tw := b.m.width(s, st.size, true)
	b.text(x+d/2-tw/2, y+d/2-st.lh/2, []string{s}, st)
}

// initials returns the avatar's own characters when the font draws them,
// else the initials of the name.
func initials(p *journeymap.Persona, m *metrics) string {
	a := strings.TrimSpace(clean(p.Avatar))
	if a != "" && !strings.Contains(a, ":") && !strings.Contains(a, "/") && len([]rune(a)) <= 3 {
		ok := true
		for _, r := range a {
			ok = ok && m.has(r)
		}
		if ok {
			return a
		}
	}
	words := strings.Fields(clean(p.Name))
	if len(words) == 0 {
		return "?"
	}
	first := func(s string) string {
		for _, r := range s {
			if m.has(r) {
				return string(unicode.ToUpper(r))
			}
			break
		}
		return ""
	}
	s := first(words[0])
	if len(words) > 1 {
		s += first(words[len(words)-1])
	}
	if s == "" {
		return "?"
	}
	return s
}

func upper(s string) string { return strings.ToUpper(s) }

// score writes an emotion score as +2, +1, 0, -1, -2.
func score(s int) string {
	s = clampScore(s)
	if s > 0 {
		return "+" + strconv.Itoa(s)
	}
	return strconv.Itoa(s)
}

// colX returns the left edge of stage column i.
func (b *builder) colX(i int) float64 { return margin + titleW + float64(i)*b.colW }

// grid draws the stage headers and the lane rows from y and returns the
// bottom.
func (b *builder) grid(m *journeymap.Map, y float64, sc *scene) float64 {
	n := len(m.Stages)
	right := b.colX(n)
	hh := b.stageHeaders(m, y)
	sc.head = [2]float64{y, y + hh}
	y += hh + 6
	sc.breaks = append(sc.breaks, y)
	start := len(b.items)
	top := y
	var seps []float64

	row := func(key string, cell func(i int, x, y, w float64) float64) {
		st := laneStyles[key]
		h := 0.0
		for i := range m.Stages {
			h = max(h, cell(i, b.colX(i)+cellPad, y+cellPad, b.colW-2*cellPad))
		}
		th := b.laneTitle(key, st, y, nil)
		h = max(h+2*cellPad, th, 44)
		y += h
		seps = append(seps, y)
		sc.breaks = append(sc.breaks, y)
	}

	row("measured", func(i int, x, y, w float64) float64 {
		if s := strings.TrimSpace(b.clean(b.o.Measures[m.Stages[i].Key])); s != "" {
			b.icon(iconChart, x, y+2, 15, muted)
			return b.para(x+22, y, w-22, s, tstyle{size: 13, lh: 18, bold: true, c: ink})
		}
		return b.text(x, y, []string{"—"}, tstyle{size: 13, lh: 18, c: subtle})
	})
	row("touchpoints", func(i int, x, y, w float64) float64 {
		h := 0.0
		for _, tp := range m.Stages[i].Touchpoints {
			h += b.touchpoint(x, y+h, w, tp) + cardGap
		}
		return max(0, h-cardGap)
	})
	cards := func(key string) {
		if laneEmpty(m, key) {
			return
		}
		row(key, func(i int, x, y, w float64) float64 {
			s := m.Stages[i]
			h := 0.0
			for _, c := range *s.Lanes.Cards(key) {
				h += b.card(x, y+h, w, key, c, nil) + cardGap
			}
			for j := range s.Touchpoints {
				tp := &s.Touchpoints[j]
				for _, c := range *tp.Lanes.Cards(key) {
					h += b.card(x, y+h, w, key, c, tp) + cardGap
				}
			}
			return max(0, h-cardGap)
		})
	}
	cards("actions")
	cards("thoughts")
	y = b.emotionRow(m, y)
	seps = append(seps, y)
	sc.breaks = append(sc.breaks, y)
	for _, k := range []string{"pain_points", "opportunities", "solutions", "resources_have", "resources_need"} {
		cards(k)
	}
	if !ownerEmpty(m) {
		row("owner", func(i int, x, y, w float64) float64 {
			s := m.Stages[i]
			h := 0.0
			if o := strings.TrimSpace(s.Owner); o != "" {
				h += b.owner(x, y+h, w, o, nil) + cardGap
			}
			for j := range s.Touchpoints {
				if o := strings.TrimSpace(s.Touchpoints[j].Owner); o != "" {
					h += b.owner(x, y+h, w, o, &s.Touchpoints[j]) + cardGap
				}
			}
			return max(0, h-cardGap)
		})
	}
	cards("kpis")
	cards("moments_of_truth")

	// Backgrounds and rules, under the cells.
	b.behind(start, func() {
		for i := 1; i < n; i += 2 {
			b.rect(b.colX(i), top, b.colW, y-top, 0, paint{fill: colTint})
		}
		b.rect(margin, top, titleW, y-top, 0, paint{fill: panel})
	})
	b.hline(margin, right, top, paint{stroke: border, width: 1})
	for _, s := range seps {
		b.hline(margin, right, s, paint{stroke: rule, width: 1})
	}
	b.hline(margin, right, y, paint{stroke: border, width: 1})
	b.poly([]pt{{margin + titleW, top}, {margin + titleW, y}}, false, paint{stroke: rule, width: 1})
	return y
}

// laneTitle draws a lane's title in the title column and returns its height
// (with padding).
func (b *builder) laneTitle(key string, st laneStyle, y float64, extra func(y float64) float64) float64 {
	x := margin + 14
	b.rect(x, y+cellPad+4, 4, 14, 2, paint{fill: st.accent})
	h := b.para(x+12, y+cellPad+1, titleW-40, b.tr(KeyLane+key), tstyle{size: 12.5, lh: 17, bold: true, c: ink})
	if extra != nil {
		h += extra(y + cellPad + 1 + h + 8)
	}
	return h + 2*cellPad + 2
}

func laneEmpty(m *journeymap.Map, key string) bool {
	for i := range m.Stages {
		s := &m.Stages[i]
		if len(*s.Lanes.Cards(key)) > 0 {
			return false
		}
		for j := range s.Touchpoints {
			if len(*s.Touchpoints[j].Lanes.Cards(key)) > 0 {
				return false
			}
		}
	}
	return true
}

func ownerEmpty(m *journeymap.Map) bool {
	for _, s := range m.Stages {
		if strings.TrimSpace(s.Owner) != "" {
			return false
		}
		for _, tp := range s.Touchpoints {
			if strings.TrimSpace(tp.Owner) != "" {
				return false
			}
		}
	}
	return true
}

// coverage counts the cards of a stage and its touchpoints, the emotion
// counting as a card, and how many of them are backed by evidence.
func coverage(s *journeymap.Stage) (backed, all int) {
	c := journeymap.StageCoverage(s)
	return c.Backed, c.Cards
}

// stageHeaders draws the row of stage chevrons and returns its height.
func (b *builder) stageHeaders(m *journeymap.Map, y float64) float64 {
	const tip, pad = 14.0, 12.0
	tw := b.colW - 2*tip - 18
	stName := tstyle{size: 15, lh: 20, bold: true, c: white}
	stGoal := tstyle{size: 11.5, lh: 15.5, c: navyText}
	type head struct {
		name, goal []string
		cov        string
	}
	heads := make([]head, len(m.Stages))
	h := 0.0
	for i := range m.Stages {
		s := &m.Stages[i]
		hd := head{name: b.m.wrap(b.clean(s.Name), stName.size, true, tw)}
		if g := strings.TrimSpace(b.clean(s.CustomerGoal)); g != "" {
			hd.goal = b.m.wrap(g, stGoal.size, false, tw)
		}
		backed, all := coverage(s)
		hd.cov = fmt.Sprintf("%d/%d %s", backed, all, b.tr(KeyBacked))
		heads[i] = hd
		hi := pad + 15 + float64(len(hd.name))*stName.lh + 6 + 20 + pad
		if len(hd.goal) > 0 {
			hi += 3 + float64(len(hd.goal))*stGoal.lh
		}
		h = max(h, hi)
	}
	h = max(h, 96)
	for i, hd := range heads {
		x := b.colX(i)
		l, r := x+1, x+b.colW-2
		ps := []pt{{l, y}, {r - tip, y}, {r, y + h/2}, {r - tip, y + h}, {l, y + h}}
		if i > 0 {
			ps = append(ps, pt{l + tip, y + h/2})
		}
		b.poly(ps, true, paint{fill: navy})
		tx := x + tip + 8
		ty := y + pad
		b.text(tx, ty, []string{fmt.Sprintf("%02d", i+1)}, tstyle{size: 10.5, lh: 15, bold: true, c: navyNum})
		ty += 15
		ty += b.text(tx, ty, hd.name, stName)
		if len(hd.goal) > 0 {
			ty += 3 + b.text(tx, ty+3, hd.goal, stGoal)
		}
		// Evidence coverage, at the bottom.
		st := tstyle{size: 10.5, lh: 20, bold: true, c: navy}
		cov := b.m.fit(hd.cov, st.size, true, tw-22)
		pw := b.m.width(cov, st.size, true) + 32
		py := y + h - pad - 20
		b.rect(tx, py, pw, 20, 10, paint{fill: white})
		b.icon(iconCheck, tx+7, py+4, 12, okMark)
		b.text(tx+23, py, []string{cov}, st)
	}
	return h
}

// badge draws an evidence badge with its right edge at x and returns its
// width.
func (b *builder) badge(right, y float64, ev []journeymap.Evidence) float64 {
	b.used.evidence = true
	n := strconv.Itoa(len(ev))
	st := tstyle{size: 10, lh: 16, bold: true, c: okInk}
	w := 7 + 10 + 3 + b.m.width(n, st.size, true) + 7
	x := right - w
	var srcs []string
	for _, e := range ev {
		s := string(e.Kind)
		if e.Source != "" {
			s += ": " + b.clean(e.Source)
		}
		if s != "" {
			srcs = append(srcs, s)
		}
	}
	b.items = append(b.items, item{kind: kRect, paint: paint{fill: okBg}, x: x, y: y, w: w, h: 16, r: 8,
		attrs: [][2]string{{"data-evidence", n}}, title: strings.Join(srcs, "; ")})
	b.icon(iconCheck, x+6, y+3, 10, okMark)
	b.text(x+19, y, []string{n}, st)
	return w
}

func (b *builder) badgeWidth(ev []journeymap.Evidence) float64 {
	if len(ev) == 0 {
		return 0
	}
	return 7 + 10 + 3 + b.m.width(strconv.Itoa(len(ev)), 10, true) + 7 + 6
}

// tag draws the touchpoint a card belongs to: its icon and name. It returns
// the height.
func (b *builder) tag(x, y, w float64, tp *journeymap.Touchpoint) float64 {
	b.icon(IconPath(tp.Channel), x, y+1, 12, muted)
	b.line1(x+16, y-1, w-16, b.clean(tp.Name), tstyle{size: 10, lh: 14, bold: true, c: muted})
	return 15
}

// card draws a card of lane key and returns its height.
func (b *builder) card(x, y, w float64, key string, c journeymap.Card, tp *journeymap.Touchpoint) float64 {
	st := laneStyles[key]
	at := len(b.items)
	const pad = 9.0
	left := x + 4 + pad
	inner := x + w - pad - left
	bw := b.badgeWidth(c.Evidence)
	ty := y + 7
	if tp != nil {
		ty += b.tag(left, ty, inner-bw, tp)
		bw = 0
	}
	off := 0.0
	moment := key == "moments_of_truth"
	if moment {
		b.used.moment = true
		b.shape(shapeStar, left-1, ty+1, 14, paint{fill: rgb(0xd97706)})
		off = 18
	}
	ty += b.para(left+off, ty, inner-off-bw, b.clean(c.Text), stBody)
	h := ty + 7 - y
	b.behind(at, func() {
		if moment {
			b.rect(x, y, w, h, 6, paint{fill: st.tint, stroke: st.accent, width: 1})
			b.rect(x, y, 4.5, h, 2, paint{fill: st.accent})
			return
		}
		b.rect(x, y, w, h, 6, paint{fill: st.accent})
		b.rect(x+4, y, w-4, h, 5, paint{fill: st.tint})
	})
	if len(c.Evidence) > 0 {
		b.badge(x+w-6, y+6, c.Evidence)
	}
	return h
}

// owner draws an owner chip and returns its height.
func (b *builder) owner(x, y, w float64, owner string, tp *journeymap.Touchpoint) float64 {
	at := len(b.items)
	const pad = 9.0
	ty := y + 7
	if tp != nil {
		ty += b.tag(x+pad, ty, w-2*pad, tp)
	}
	b.icon(iconPerson, x+pad, ty+1, 14, muted)
	ty += b.para(x+pad+19, ty, w-2*pad-19, b.clean(owner), stBody.strong().with(ink))
	h := ty + 7 - y
	b.behind(at, func() {
		b.rect(x, y, w, h, 6, paint{fill: laneStyles["owner"].tint, stroke: border, width: 1})
	})
	return h
}

// touchpoint draws a touchpoint card and returns its height.
func (b *builder) touchpoint(x, y, w float64, tp journeymap.Touchpoint) float64 {
	at := len(b.items)
	const pad, ic = 10.0, 30.0
	b.circle(x+pad+ic/2, y+pad+ic/2, ic/2, paint{fill: iconBg})
	b.icon(IconPath(tp.Channel), x+pad+6, y+pad+6, 18, navy)
	tx := x + pad + ic + 10
	tw := x + w - pad - tx
	bw := b.badgeWidth(tp.Evidence)
	ty := y + pad - 1
	ty += b.para(tx, ty, tw-bw, b.clean(tp.Name), tstyle{size: 12.5, lh: 17, bold: true, c: ink})
	ch := b.tr(KeyChannel + string(tp.Channel))
	if ch == KeyChannel+string(tp.Channel) {
		ch = b.clean(string(tp.Channel))
	}
	cw := b.line1(tx, ty, tw, ch, stSmall)
	if !tp.Expected {
		sep := " · "
		sw := b.m.width(sep, stSmall.size, false)
		if cw+sw+b.m.width(b.tr(KeyUnplanned), stSmall.size, true) <= tw {
			b.text(tx+cw, ty, []string{sep}, stSmall)
			b.line1(tx+cw+sw, ty, tw-cw-sw, b.tr(KeyUnplanned), stSmall.strong().with(warnInk))
		} else {
			ty += stSmall.lh
			b.line1(tx, ty, tw, b.tr(KeyUnplanned), stSmall.strong().with(warnInk))
		}
	}
	ty += stSmall.lh
	ty = max(ty, y+pad+ic) + 7
	if len(tp.Services) > 0 {
		ty += b.chips(x+pad, ty, w-2*pad, tp.Services, func(s string) string {
			if slices.Contains(journeymap.Services, s) {
				return b.tr(KeyService + s)
			}
			return b.clean(s)
		}) + 7
	}
	// What was measured, or a placeholder.
	ms := tstyle{size: 10.5, lh: 15, bold: true, c: ink}
	mtext := strings.TrimSpace(b.clean(b.o.Measures[tp.Key]))
	if mtext == "" {
		mtext, ms = "—", tstyle{size: 10.5, lh: 15, c: subtle}
	}
	b.icon(iconChart, x+pad, ty+1.5, 12, subtle)
	ty += b.para(x+pad+17, ty, w-2*pad-17, mtext, ms)
	if e := tp.Emotion; e != nil {
		mk := markerFor(0, e.Score)
		b.marker(x+pad+6, ty+8, 11, mk, curveCol[0], nil)
		lbl := strings.TrimSpace(b.clean(e.Label))
		if lbl == "" {
			lbl = score(e.Score)
		} else {
			lbl = score(e.Score) + " " + lbl
		}
		ty += 2 + b.para(x+pad+17, ty+2, w-2*pad-17, lbl, stSmall)
	}
	h := ty + pad - 2 - y
	b.behind(at, func() {
		p := paint{fill: white, stroke: border, width: 1}
		if !tp.Expected {
			p = paint{fill: white, stroke: subtle, width: 1.3, dash: []float64{5, 3.5}}
			b.used.unplanned = true
		}
		b.items = append(b.items, item{kind: kRect, paint: p, x: x, y: y, w: w, h: h, r: 8,
			attrs: [][2]string{{"data-touchpoint", tp.Key}, {"data-expected", strconv.FormatBool(tp.Expected)}}})
	})
	if len(tp.Evidence) > 0 {
		b.badge(x+w-6, y+6, tp.Evidence)
	}
	return h
}

// marker draws an emotion marker of size centred on (cx, cy).
func (b *builder) marker(cx, cy, size float64, mk marker, c color.RGBA, attrs [][2]string) {
	p := paint{fill: white, stroke: c, width: 2}
	if mk.filled {
		p.fill = c
	}
	if mk.line {
		p = paint{stroke: c, width: 2.6, round: true}
	}
	b.items = append(b.items, item{kind: kPath, paint: p, segs: place(shapes[mk.d], 24, cx-size/2, cy-size/2, size), attrs: attrs})
}

// emotionRow draws the emotion curve (and the compared persona's) and
// returns the row's bottom.
func (b *builder) emotionRow(m *journeymap.Map, y float64) float64 {
	const padTop, padBottom, gap = 38.0, 38.0, 30.0
	n := len(m.Stages)
	h := padTop + 4*gap + padBottom
	yOf := func(s int) float64 { return y + padTop + float64(2-clampScore(s))*gap }
	x0, x1 := b.colX(0), b.colX(n)
	b.rect(x0, y, x1-x0, yOf(0)-y, 0, paint{fill: posBand})
	b.rect(x0, yOf(0), x1-x0, y+h-yOf(0), 0, paint{fill: negBand})
	for s := 2; s >= -2; s-- {
		if s == 0 {
			b.hline(x0, x1, yOf(s), paint{stroke: rgb(0x94a3b8), width: 1, dash: []float64{5, 4}})
		} else {
			b.hline(x0, x1, yOf(s), paint{stroke: rgb(0xe5e7eb), width: 1})
		}
		t := score(s)
		tw := b.m.width(t, 10, true)
		b.text(x0-10-tw, yOf(s)-7, []string{t}, tstyle{size: 10, lh: 14, bold: true, c: subtle})
	}
	type series struct {
		name string
		emo  func(s *journeymap.Stage) *journeymap.Emotion
	}
	ser := []series{{"", func(s *journeymap.Stage) *journeymap.Emotion { return s.Emotion }}}
	if m.Persona != nil {
		ser[0].name = b.clean(m.Persona.Name)
	}
	if m.ComparePersona != nil {
		ser = append(ser, series{b.clean(m.ComparePersona.Name), func(s *journeymap.Stage) *journeymap.Emotion { return s.CompareEmotion }})
	}
	if ser[0].name == "" {
		ser[0].name = b.tr(KeyCustomer)
	}
	// The title and, under it, which curve is whose.
	b.laneTitle("emotion", laneStyles["emotion"], y, func(ly float64) float64 {
		if len(ser) < 2 && m.Persona == nil {
			return 0
		}
		h := 0.0
		for k, s := range ser {
			lx := margin + 14
			cy := ly + h + 8
			p := paint{stroke: curveCol[k], width: 2}
			if k == 1 {
				p.dash = []float64{5, 3}
			}
			b.hline(lx, lx+24, cy, p)
			b.marker(lx+12, cy, 10, markerFor(k, 2), curveCol[k], nil)
			h += max(b.para(lx+30, ly+h, titleW-14-30-34, s.name, tstyle{size: 10.5, lh: 14, bold: k == 0, c: body}), 16) + 4
		}
		return h
	})
	for k, s := range ser {
		type point struct {
			i int
			p pt
			e *journeymap.Emotion
		}
		// With two curves, each sits a little off the column's centre, so
		// that equal scores do not hide one marker under the other.
		dx := 0.0
		if len(ser) > 1 {
			dx = []float64{-7, 7}[k]
		}
		var ps []point
		for i := range m.Stages {
			if e := s.emo(&m.Stages[i]); e != nil {
				ps = append(ps, point{i, pt{b.colX(i) + b.colW/2 + dx, yOf(e.Score)}, e})
			}
		}
		line := paint{stroke: curveCol[k], width: 2.5, round: true}
		if k == 1 {
			line.width, line.dash = 2, []float64{7, 5}
		}
		dotted := paint{stroke: curveCol[k], width: 2, round: true, dash: []float64{0.1, 5}}
		var run []pt
		flush := func() {
			if len(run) > 1 {
				b.poly(run, false, line)
			}
			run = nil
		}
		for j, q := range ps {
			if j > 0 && q.i != ps[j-1].i+1 {
				flush()
				b.poly([]pt{ps[j-1].p, q.p}, false, dotted)
				b.used.dotted = true
			}
			run = append(run, q.p)
		}
		flush()
		name := "persona"
		if k == 1 {
			name = "compare"
		}
		size := 16.0
		if k == 1 {
			size = 13
		}
		for j, q := range ps {
			mk := markerFor(k, q.e.Score)
			b.marker(q.p.X, q.p.Y, size, mk, curveCol[k], [][2]string{
				{"data-series", name}, {"data-stage", m.Stages[q.i].Key},
				{"data-score", score(q.e.Score)}, {"data-shape", mk.name},
			})
			if k == 1 {
				continue
			}
			// The label, above the point if it is at least as high as its
			// neighbours, else under it.
			var nb []int
			if j > 0 {
				nb = append(nb, clampScore(ps[j-1].e.Score))
			}
			if j < len(ps)-1 {
				nb = append(nb, clampScore(ps[j+1].e.Score))
			}
			above := true
			if len(nb) > 0 {
				sum := 0
				for _, v := range nb {
					sum += v
				}
				above = float64(clampScore(q.e.Score)) >= float64(sum)/float64(len(nb))
			}
			b.emotionLabel(q.i, q.p, q.e, above)
		}
	}
	return y + h
}

// emotionLabel draws the label of an emotion point in a box above or under
// it.
func (b *builder) emotionLabel(i int, p pt, e *journeymap.Emotion, above bool) {
	st := tstyle{size: 11, lh: 20, bold: true, c: ink}
	s := strings.TrimSpace(b.clean(e.Label))
	if s == "" {
		s = score(e.Score)
	}
	ev := len(e.Evidence) > 0
	extra := 0.0
	if ev {
		extra = 14
	}
	s = b.m.fit(s, st.size, true, b.colW-28-extra-16)
	w := b.m.width(s, st.size, true) + 16 + extra
	x := min(max(p.X-w/2, b.colX(i)+6), b.colX(i)+b.colW-6-w)
	y := p.Y + 12
	if above {
		y = p.Y - 12 - st.lh
	}
	b.items = append(b.items, item{kind: kRect, paint: paint{fill: white, stroke: rgb(0xbfdbfe), width: 1}, x: x, y: y, w: w, h: st.lh, r: 5,
		attrs: [][2]string{{"data-emotion-label", score(e.Score)}}})
	tx := x + 8
	if ev {
		b.icon(iconCheck, tx-1, y+4, 12, okMark)
		tx += extra
	}
	b.text(tx, y, []string{s}, st)
}

// legend explains the symbols of the drawing and returns its bottom.
func (b *builder) legend(m *journeymap.Map, y, w float64) float64 {
	x, right := margin, w-margin
	st := stSmall.with(muted)
	cx, cy := x, y
	const lh = 22.0
	// place reserves width for an entry on the current line, wrapping.
	place := func(ew float64) (float64, float64) {
		if cx > x && cx+ew > right {
			cx, cy = x+0, cy+lh
		}
		ex, ey := cx, cy
		cx += ew + 22
		return ex, ey
	}
	title := upper(b.tr(KeyLegend))
	tx, ty := place(b.m.width(title, stLabel.size, true))
	b.text(tx, ty+4, []string{title}, stLabel.with(ink))

	// The emotion shapes of each curve.
	series := []string{b.tr(KeyLegendEmotion)}
	if m.ComparePersona != nil {
		name := b.tr(KeyCustomer)
		if m.Persona != nil {
			name = b.clean(m.Persona.Name)
		}
		series = []string{name, b.clean(m.ComparePersona.Name)}
	}
	for k, name := range series {
		name = b.m.fit(name, st.size, true, 220)
		nw := b.m.width(name, st.size, true)
		ew := nw + 8 + 5*36
		ex, ey := place(ew)
		b.text(ex, ey+4, []string{name + ":"}, st.strong())
		for j, s := range []int{2, 1, 0, -1, -2} {
			mx := ex + nw + 14 + float64(j)*36
			b.marker(mx+6, ey+11, 12, markerFor(k, s), curveCol[k], nil)
			b.text(mx+15, ey+4, []string{score(s)}, st)
		}
	}
	// The other symbols, those the drawing has.
	used := b.used
	if used.dotted {
		s := b.tr(KeyLegendNoEmotion)
		ex, ey := place(34 + b.m.width(s, st.size, false))
		b.hline(ex+2, ex+26, ey+11, paint{stroke: curveCol[0], width: 2, round: true, dash: []float64{0.1, 5}})
		b.text(ex+34, ey+4, []string{s}, st)
	}
	if used.evidence {
		s := b.tr(KeyLegendEvidence)
		ex, ey := place(40 + b.m.width(s, st.size, false))
		b.badge(ex+30, ey+3, []journeymap.Evidence{{}, {}})
		b.text(ex+40, ey+4, []string{s}, st)
	}
	if used.unplanned {
		s := b.tr(KeyLegendUnplanned)
		ex, ey := place(36 + b.m.width(s, st.size, false))
		b.rect(ex+1, ey+3, 26, 16, 4, paint{fill: white, stroke: subtle, width: 1.3, dash: []float64{5, 3.5}})
		b.text(ex+36, ey+4, []string{s}, st)
	}
	if used.moment {
		s := b.tr(KeyLegendMoment)
		ex, ey := place(22 + b.m.width(s, st.size, false))
		b.shape(shapeStar, ex, ey+4, 14, paint{fill: rgb(0xd97706)})
		b.text(ex+20, ey+4, []string{s}, st)
	}

	bottom := cy + lh
	if g := strings.TrimSpace(b.clean(b.o.Generated)); g != "" {
		gs := tstyle{size: 10.5, lh: 14, c: subtle}
		g = b.m.fit(g, gs.size, false, right-x)
		gw := b.m.width(g, gs.size, false)
		gy := cy + 4
		if cx+gw > right {
			gy = bottom + 4
			bottom += lh
		}
		b.text(right-gw, gy, []string{g}, gs)
	}
	return bottom
}
