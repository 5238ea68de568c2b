package journeymap

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cjmhq/cjm/event"
)

// SourceInfo is what a matcher needs to know about a workspace's source.
type SourceInfo struct {
	ID, Name, Channel string
}

// Place is where an event falls on a map: indexes into Map.Stages and that
// stage's Touchpoints, -1 for none.
type Place struct {
	Stage, Touchpoint int
}

// Nowhere is the Place of an event no matcher claims.
var Nowhere = Place{-1, -1}

// Event is the part of a message a Classifier reads. Fields holds the values
// of Classifier.Fields(), in that order.
type Event struct {
	Type     string
	Name     string // track event name, or page/screen name
	SourceID string
	Path     string // page path
	Fields   []Value
}

// Value is a field of an event: its text (JSON strings unquoted, other JSON
// as written) and whether it is present and not null.
type Value struct {
	S  string
	OK bool
}

// Classifier puts events on a map. It is safe for concurrent use.
type Classifier struct {
	cands  []candidate
	byName map[string][]int32 // exact event name -> candidates to try, in order
	other  []int32            // candidates for names not in byName
	fields []string
	// Warnings lists matcher parts that can never match in this workspace,
	// such as a source name no source has.
	Warnings []string
}

type candidate struct {
	place Place
	prec  int
	rule  crule
}

type crule struct {
	typ      string
	event    glob
	path     *pathGlob
	sources  []string // allowed source ids; nil = any
	hasSrc   bool
	where    []ccond
	all, any []crule
}

type ccond struct {
	field int
	op    Op
	value string
	num   float64
	isNum bool
	set   map[string]bool
	re    *regexp.Regexp
}

// Compile checks the matchers of m and prepares them for classification.
// Sources resolves the source names and channels the matchers mention.
func Compile(m *Map, sources []SourceInfo) (*Classifier, error) {
	if errs := validateMatchers(m); len(errs) > 0 {
		return nil, errs
	}
	c := &Classifier{byName: map[string][]int32{}}
	fieldIndex := map[string]int{}
	for si, s := range m.Stages {
		for ti, t := range s.Touchpoints {
			if t.Match != nil {
				r := c.compileRule(&t.Match.Rule, sources, fieldIndex, t.Key)
				c.cands = append(c.cands, candidate{Place{si, ti}, t.Match.Precedence, r})
			}
		}
		if s.Match != nil {
			r := c.compileRule(&s.Match.Rule, sources, fieldIndex, s.Key)
			c.cands = append(c.cands, candidate{Place{si, -1}, s.Match.Precedence, r})
		}
	}
	// Highest precedence first; then touchpoints before stages; then the
	// order drawn.
	slices.SortStableFunc(c.cands, func(a, b candidate) int {
		if a.prec != b.prec {
			return cmp.Compare(b.prec, a.prec)
		}
		at, bt := a.place.Touchpoint >= 0, b.place.Touchpoint >= 0
		if at != bt {
			if at {
				return -1
			}
			return 1
		}
		if a.place.Stage != b.place.Stage {
			return cmp.Compare(a.place.Stage, b.place.Stage)
		}
		return cmp.Compare(a.place.Touchpoint, b.place.Touchpoint)
	})
	names := map[string]bool{}
	req := make([][]string, len(c.cands))
	for i := range c.cands {
		req[i] = c.cands[i].rule.names()
		for _, n := range req[i] {
			names[n] = true
		}
	}
	for i := range c.cands {
		if req[i] == nil {
			c.other = append(c.other, int32(i))
		}
	}
	for n := range names {
		var list []int32
		for i := range c.cands {
			if req[i] == nil || slices.Contains(req[i], n) {
				list = append(list, int32(i))
			}
		}
		c.byName[n] = list
	}
	return c, nil
}

// Fields lists the message fields the matchers' conditions read, as dotted
// paths (properties.total); Event.Fields carries their values in this order.
func (c *Classifier) Fields() []string { return c.fields }

// Classify returns where e falls on the map.
func (c *Classifier) Classify(e *Event) Place {
	list, ok := c.byName[e.Name]
	if !ok {
		list = c.other
	}
	for _, i := range list {
		if c.cands[i].rule.match(e) {
			return c.cands[i].place
		}
	}
	return Nowhere
}

// ClassifyMessage classifies a stored message.
func (c *Classifier) ClassifyMessage(m *event.Message) Place {
	e := Event{Type: string(m.Type), Name: m.Label(), SourceID: m.SourceID, Path: MessagePath(m)}
	if m.Type != event.Track && m.Name == "" {
		e.Name = ""
	}
	if len(c.fields) > 0 {
		e.Fields = make([]Value, len(c.fields))
		docs := map[string]map[string]any{}
		for i, f := range c.fields {
			root, rest, _ := strings.Cut(f, ".")
			doc, seen := docs[root]
			if !seen {
				var raw json.RawMessage
				switch root {
				case "properties":
					raw = m.Properties
				case "traits":
					raw = m.Traits
				case "context":
					raw = m.Context
				}
				if len(raw) > 0 {
					d := json.NewDecoder(strings.NewReader(string(raw)))
					d.UseNumber()
					_ = d.Decode(&doc)
				}
				docs[root] = doc
			}
			e.Fields[i] = lookup(doc, rest)
		}
	}
	return c.Classify(&e)
}

// MessagePath is the page path of a message: context.page.path, else
// properties.path, else the path of context.page.url or properties.url.
func MessagePath(m *event.Message) string {
	var ctx struct {
		Page struct{ Path, URL string } `json:"page"`
	}
	var props struct{ Path, URL string }
	if len(m.Context) > 0 {
		_ = json.Unmarshal(m.Context, &ctx)
	}
	if ctx.Page.Path != "" {
		return ctx.Page.Path
	}
	if len(m.Properties) > 0 {
		_ = json.Unmarshal(m.Properties, &props)
	}
	if props.Path != "" {
		return props.Path
	}
	for _, u := range []string{ctx.Page.URL, props.URL} {
		if p, err := url.Parse(u); err == nil && p.Path != "" {
			return p.Path
		}
	}
	return ""
}

func lookup(doc map[string]any, dotted string) Value {
	var v any = doc
	for _, k := range strings.Split(dotted, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return Value{}
		}
		if v, ok = o[k]; !ok {
			return Value{}
		}
	}
	switch x := v.(type) {
	case nil:
		return Value{}
	case string:
		return Value{x, true}
	case json.Number:
		return Value{x.String(), true}
	case bool:
		return Value{strconv.FormatBool(x), true}
	default:
		b, _ := json.Marshal(x)
		return Value{string(b), true}
	}
}

func (c *Classifier) compileRule(r *Rule, sources []SourceInfo, fieldIndex map[string]int, owner string) crule {
	cr := crule{typ: r.Type, event: newGlob(r.Event)}
	if r.Path != "" {
		cr.path = newPathGlob(r.Path)
	}
	if r.Source != "" || r.Channel != "" {
		cr.hasSrc = true
		cr.sources = []string{}
		sg := newGlob(r.Source)
		for _, s := range sources {
			if (r.Source == "" || sg.match(s.Name) || s.ID == r.Source) && (r.Channel == "" || s.Channel == r.Channel) {
				cr.sources = append(cr.sources, s.ID)
			}
		}
		if len(cr.sources) == 0 {
			what := r.Source
			if what == "" {
				what = "channel " + r.Channel
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: no source matches %q", owner, what))
		}
	}
	for _, w := range r.Where {
		i, ok := fieldIndex[w.Field]
		if !ok {
			i = len(c.fields)
			fieldIndex[w.Field] = i
			c.fields = append(c.fields, w.Field)
		}
		cc := ccond{field: i, op: w.Op, value: w.Value}
		if f, err := strconv.ParseFloat(w.Value, 64); err == nil {
			cc.num, cc.isNum = f, true
		}
		switch w.Op {
		case OpIn, OpNotIn:
			cc.set = map[string]bool{}
			for _, v := range w.Values {
				cc.set[v] = true
			}
		case OpRegex:
			cc.re = regexp.MustCompile(w.Value) // checked by validateMatchers
		}
		cr.where = append(cr.where, cc)
	}
	for i := range r.All {
		cr.all = append(cr.all, c.compileRule(&r.All[i], sources, fieldIndex, owner))
	}
	for i := range r.Any {
		cr.any = append(cr.any, c.compileRule(&r.Any[i], sources, fieldIndex, owner))
	}
	return cr
}

// names returns the exact event names an event must have to match r, or nil
// when r does not restrict the name to a known set.
func (r *crule) names() []string {
	if r.event.kind == globExact {
		return []string{r.event.pat}
	}
	if r.event.kind != globAny {
		return nil
	}
	for i := range r.all {
		if n := r.all[i].names(); n != nil {
			return n
		}
	}
	if len(r.any) == 0 {
		return nil
	}
	var out []string
	for i := range r.any {
		n := r.any[i].names()
		if n == nil {
			return nil
		}
		out = append(out, n...)
	}
	return out
}

func (r *crule) match(e *Event) bool {
	if r.typ != "" && r.typ != e.Type {
		return false
	}
	if !r.event.match(e.Name) {
		return false
	}
	if r.hasSrc && !slices.Contains(r.sources, e.SourceID) {
		return false
	}
	if r.path != nil && !r.path.match(e.Path) {
		return false
	}
	for i := range r.where {
		if !r.where[i].match(e) {
			return false
		}
	}
	for i := range r.all {
		if !r.all[i].match(e) {
			return false
		}
	}
	if len(r.any) > 0 {
		for i := range r.any {
			if r.any[i].match(e) {
				return true
			}
		}
		return false
	}
	return true
}

func (c *ccond) match(e *Event) bool {
	var v Value
	if c.field < len(e.Fields) {
		v = e.Fields[c.field]
	}
	switch c.op {
	case OpExists:
		return v.OK
	case OpNotExists:
		return !v.OK
	case OpNe:
		return !v.OK || !c.equal(v.S)
	case OpNotIn:
		return !v.OK || !c.set[v.S]
	}
	if !v.OK {
		return false
	}
	switch c.op {
	case OpEq:
		return c.equal(v.S)
	case OpIn:
		return c.set[v.S]
	case OpContains:
		return strings.Contains(v.S, c.value)
	case OpRegex:
		return c.re.MatchString(v.S)
	}
	f, err := strconv.ParseFloat(v.S, 64)
	if err != nil || !c.isNum {
		return false
	}
	switch c.op {
	case OpGt:
		return f > c.num
	case OpGte:
		return f >= c.num
	case OpLt:
		return f < c.num
	case OpLte:
		return f <= c.num
	}
	return false
}

func (c *ccond) equal(s string) bool {
	if s == c.value {
		return true
	}
	if !c.isNum {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f == c.num
}

type globKind uint8

const (
	globAny    globKind = iota // empty pattern or "*": everything
	globExact                  // no wildcard
	globPrefix                 // "abc*"
	globSuffix                 // "*abc"
	globOther
)

// glob is a pattern with * (any run of characters) and ? (one character).
type glob struct {
	kind globKind
	pat  string // the pattern, or its fixed part for prefix and suffix
}

func newGlob(p string) glob {
	switch {
	case p == "" || p == "*":
		return glob{globAny, ""}
	case !strings.ContainsAny(p, "*?"):
		return glob{globExact, p}
	case strings.Count(p, "*") == 1 && !strings.Contains(p, "?") && strings.HasSuffix(p, "*"):
		return glob{globPrefix, p[:len(p)-1]}
	case strings.Count(p, "*") == 1 && !strings.Contains(p, "?") && strings.HasPrefix(p, "*"):
		return glob{globSuffix, p[1:]}
	}
	return glob{globOther, p}
}

func (g glob) match(s string) bool {
	switch g.kind {
	case globAny:
		return true
	case globExact:
		return s == g.pat
	case globPrefix:
		return strings.HasPrefix(s, g.pat)
	case globSuffix:
		return strings.HasSuffix(s, g.pat)
	}
	return wildMatch(g.pat, s)
}

// wildMatch matches s against p with * (any run) and ? (one character).
func wildMatch(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			_, n := utf8.DecodeRuneInString(s[starS:])
			starS += n
			px, sx = starP+1, starS
			continue
		}
		return false
	}
	return true
}

// pathGlob matches URL paths segment by segment: * and ? within a segment,
// ** for any number of segments (also none). A trailing slash on either
// side is ignored.
type pathGlob struct {
	exact  string // set when the pattern has no wildcard
	prefix string // set for "/a/b/**"
	pat    string
	kind   globKind
}

func newPathGlob(p string) *pathGlob {
	p = trimSlash(p)
	switch {
	case !strings.ContainsAny(p, "*?"):
		return &pathGlob{kind: globExact, exact: p}
	case strings.HasSuffix(p, "/**") && !strings.ContainsAny(p[:len(p)-3], "*?"):
		return &pathGlob{kind: globPrefix, prefix: p[:len(p)-2]}
	}
	return &pathGlob{kind: globOther, pat: p}
}

func (g *pathGlob) match(s string) bool {
	if s == "" {
		return false // an event without a page path matches no path pattern
	}
	s = trimSlash(s)
	switch g.kind {
	case globExact:
		return s == g.exact
	case globPrefix:
		return strings.HasPrefix(s+"/", g.prefix)
	}
	return matchSegments(g.pat, s)
}

func matchSegments(p, s string) bool {
	for {
		pseg, prest, pmore := strings.Cut(p, "/")
		if pseg == "**" {
			if !pmore {
				return true
			}
			for {
				if matchSegments(prest, s) {
					return true
				}
				_, srest, smore := strings.Cut(s, "/")
				if !smore {
					return false
				}
				s = srest
			}
		}
		sseg, srest, smore := strings.Cut(s, "/")
		if !wildMatch(pseg, sseg) {
			return false
		}
		switch {
		case !pmore && !smore:
			return true
		case !pmore:
			return false
		case !smore:
			return prest == "**"
		}
		p, s = prest, srest
	}
}

func trimSlash(s string) string {
	if len(s) > 1 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}
