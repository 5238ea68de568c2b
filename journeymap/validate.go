package journeymap

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cjmhq/cjm/opstore"
)

// FieldError is one problem in a map document: where (the field path, such
// as stages[1].touchpoints[0].channel, and the line when read from a file)
// and what.
type FieldError struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a map document.
type Errors []FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Limits on a map document.
const (
	MaxStages      = 30
	MaxTouchpoints = 40 // per stage
	MaxText        = 4000
	MaxCards       = 3000 // in the whole map
	MaxEvidence    = 50   // per card
)

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

type checker struct {
	errs  Errors
	cards int
}

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) text(field, s string, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		c.add(field, "is required")
	case utf8.RuneCountInString(s) > MaxText:
		c.add(field, "is longer than %d characters", MaxText)
	case !utf8.ValidString(s):
		c.add(field, "is not valid UTF-8")
	}
}

// Validate checks a map document and returns its problems, nil when none.
func Validate(m *Map) Errors {
	c := &checker{}
	if m.Schema != "" && m.Schema != SchemaVersion {
		c.add("schema", "unknown schema %q (this version of cjm reads %q)", m.Schema, SchemaVersion)
	}
	c.text("name", m.Name, true)
	if utf8.RuneCountInString(m.Name) > 200 {
		c.add("name", "is longer than 200 characters")
	}
	if m.Lang != "vi" && m.Lang != "en" {
		c.add("lang", "must be vi or en, not %q", m.Lang)
	}
	if m.State != Current && m.State != Future {
		c.add("state", "must be current or future, not %q", m.State)
	}
	if m.CompareTo != "" && m.State != Future {
		c.add("compare_to", "only a future map is compared with a current one")
	}
	c.text("goal.why", m.Goal.Why, false)
	c.text("goal.achieve", m.Goal.Achieve, false)
	c.text("goal.audience", m.Goal.Audience, false)
	for i, d := range m.Departments {
		c.text(fmt.Sprintf("departments[%d]", i), d, true)
	}
	c.persona("persona", m.Persona)
	c.persona("compare_persona", m.ComparePersona)
	if len(m.Stages) == 0 {
		c.add("stages", "a map needs at least one stage")
	}
	if len(m.Stages) > MaxStages {
		c.add("stages", "has %d stages, at most %d are allowed", len(m.Stages), MaxStages)
	}
	keys := map[string]string{}
	ids := map[string]string{}
	key := func(field, k string) {
		switch {
		case k == "":
			c.add(field, "is required")
		case !keyPattern.MatchString(k):
			c.add(field, "%q must be lower-case letters, digits, - or _ (e.g. %q)", k, Slug(k, "stage"))
		case keys[k] != "":
			c.add(field, "%q is already used by %s", k, keys[k])
		default:
			keys[k] = field
		}
	}
	for si := range m.Stages {
		s := &m.Stages[si]
		sp := fmt.Sprintf("stages[%d]", si)
		key(sp+".key", s.Key)
		c.text(sp+".name", s.Name, true)
		c.text(sp+".customer_goal", s.CustomerGoal, false)
		c.lanes(sp, &s.Lanes, ids)
		if len(s.Touchpoints) > MaxTouchpoints {
			c.add(sp+".touchpoints", "has %d touchpoints, at most %d are allowed", len(s.Touchpoints), MaxTouchpoints)
		}
		for ti := range s.Touchpoints {
			t := &s.Touchpoints[ti]
			tp := fmt.Sprintf("%s.touchpoints[%d]", sp, ti)
			key(tp+".key", t.Key)
			c.text(tp+".name", t.Name, true)
			if !slices.Contains(Channels, t.Channel) {
				c.add(tp+".channel", "unknown channel %q (one of %s)", t.Channel, join(Channels))
			}
			for i, sv := range t.Services {
				c.text(fmt.Sprintf("%s.services[%d]", tp, i), sv, true)
			}
			c.lanes(tp, &t.Lanes, ids)
		}
	}
	if c.cards > MaxCards {
		c.add("stages", "has %d cards, at most %d are allowed", c.cards, MaxCards)
	}
	c.errs = append(c.errs, validateMatchers(m)...)
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

func join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

func (c *checker) persona(field string, p *Persona) {
	if p == nil {
		return
	}
	c.text(field+".name", p.Name, true)
	if a := p.Avatar; a != "" {
		u, err := url.Parse(a)
		switch {
		case utf8.RuneCountInString(a) <= 4:
		case strings.HasPrefix(a, "data:image/"):
			if len(a) > 512<<10 {
				c.add(field+".avatar", "image is larger than 512 KB")
			}
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			c.add(field+".avatar", "must be an http(s) image URL, a data:image URI, or up to 4 characters")
		}
	}
	for _, f := range []struct{ name, v string }{
		{"age", p.Age}, {"gender", p.Gender}, {"location", p.Location}, {"occupation", p.Occupation},
		{"income", p.Income}, {"psychographics", p.Psychographics}, {"quote", p.Quote}, {"research", p.Research}, {"segment", p.Segment},
	} {
		c.text(field+"."+f.name, f.v, false)
	}
	for i, g := range p.Goals {
		c.text(fmt.Sprintf("%s.goals[%d]", field, i), g, true)
	}
	for i, g := range p.Frustrations {
		c.text(fmt.Sprintf("%s.frustrations[%d]", field, i), g, true)
	}
	for i, ch := range p.Channels {
		if !slices.Contains(Channels, ch) {
			c.add(fmt.Sprintf("%s.channels[%d]", field, i), "unknown channel %q (one of %s)", ch, join(Channels))
		}
	}
	c.evidence(field+".evidence", p.Evidence)
}

func (c *checker) lanes(field string, l *Lanes, ids map[string]string) {
	for _, k := range LaneKeys {
		for i, card := range *l.Cards(k) {
			cp := fmt.Sprintf("%s.%s[%d]", field, k, i)
			c.text(cp+".text", card.Text, true)
			c.cards++
			switch {
			case card.ID == "":
				c.add(cp+".id", "is required")
			case !keyPattern.MatchString(card.ID):
				c.add(cp+".id", "%q must be lower-case letters, digits, - or _", card.ID)
			case ids[card.ID] != "":
				c.add(cp+".id", "%q is already used by %s", card.ID, ids[card.ID])
			default:
				ids[card.ID] = cp
			}
			c.evidence(cp+".evidence", card.Evidence)
		}
	}
	for _, ne := range []struct {
		name string
		e    *Emotion
	}{{"emotion", l.Emotion}, {"compare_emotion", l.CompareEmotion}} {
		name, e := ne.name, ne.e
		if e == nil {
			continue
		}
		if e.Score < -2 || e.Score > 2 {
			c.add(field+"."+name+".score", "must be from -2 to 2, not %d", e.Score)
		}
		c.text(field+"."+name+".label", e.Label, false)
		c.evidence(field+"."+name+".evidence", e.Evidence)
	}
	c.text(field+".owner", l.Owner, false)
	c.evidence(field+".evidence", l.Evidence)
}

func (c *checker) evidence(field string, es []Evidence) {
	if len(es) > MaxEvidence {
		c.add(field, "has %d pieces of evidence, at most %d are allowed", len(es), MaxEvidence)
	}
	for i, e := range es {
		ep := fmt.Sprintf("%s[%d]", field, i)
		if !slices.Contains(EvidenceKinds, e.Kind) {
			c.add(ep+".kind", "unknown kind %q (one of %s)", e.Kind, join(EvidenceKinds))
		}
		c.text(ep+".source", e.Source, true)
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			c.add(ep+".date", "%q is not a date like 2026-03-31", e.Date)
		}
		c.text(ep+".note", e.Note, false)
		if e.URL != "" {
			if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				c.add(ep+".url", "must be an http(s) URL")
			}
		}
	}
}

func validateMatchers(m *Map) Errors {
	c := &checker{}
	for si := range m.Stages {
		s := &m.Stages[si]
		if s.Match != nil {
			c.rule(fmt.Sprintf("stages[%d].match", si), &s.Match.Rule, 0)
		}
		for ti := range s.Touchpoints {
			if t := s.Touchpoints[ti].Match; t != nil {
				c.rule(fmt.Sprintf("stages[%d].touchpoints[%d].match", si, ti), &t.Rule, 0)
			}
		}
	}
	return c.errs
}

var fieldPattern = regexp.MustCompile(`^(properties|traits|context)(\.[^.\s]+)+$`)

func (c *checker) rule(field string, r *Rule, depth int) {
	if depth > 8 {
		c.add(field, "rules are nested more than 8 deep")
		return
	}
	if r.empty() {
		c.add(field, "is empty: give at least one of type, event, path, source, channel, where, all, any")
		return
	}
	if r.Type != "" && !slices.Contains(MessageTypes, r.Type) {
		c.add(field+".type", "unknown type %q (one of %s)", r.Type, strings.Join(MessageTypes, ", "))
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		c.add(field+".path", "%q must start with / (e.g. /products/**)", r.Path)
	}
	if r.Channel != "" && !opstore.Channel(r.Channel).Valid() {
		c.add(field+".channel", "unknown source channel %q (one of %s)", r.Channel, join(opstore.Channels))
	}
	for i, w := range r.Where {
		wp := fmt.Sprintf("%s.where[%d]", field, i)
		if !fieldPattern.MatchString(w.Field) {
			c.add(wp+".field", "%q must be a dotted path under properties, traits or context (e.g. properties.total)", w.Field)
		}
		switch w.Op {
		case OpExists, OpNotExists:
			if w.Value != "" || len(w.Values) > 0 {
				c.add(wp+".value", "%s takes no value", w.Op)
			}
		case OpIn, OpNotIn:
			if len(w.Values) == 0 {
				c.add(wp+".values", "%s needs a list of values", w.Op)
			}
			if w.Value != "" {
				c.add(wp+".value", "%s takes values (a list), not value", w.Op)
			}
		case OpGt, OpGte, OpLt, OpLte:
			if _, err := strconv.ParseFloat(w.Value, 64); err != nil {
				c.add(wp+".value", "%s needs a number, not %q", w.Op, w.Value)
			}
		case OpRegex:
			if _, err := regexp.Compile(w.Value); err != nil {
				c.add(wp+".value", "bad regular expression: %v", err)
			}
		case OpEq, OpNe, OpContains:
			if len(w.Values) > 0 {
				c.add(wp+".values", "%s takes one value, not values", w.Op)
			}
		default:
			c.add(wp+".op", "unknown operator %q (one of %s)", w.Op, join(Ops))
		}
	}
	for i := range r.All {
		c.rule(fmt.Sprintf("%s.all[%d]", field, i), &r.All[i], depth+1)
	}
	for i := range r.Any {
		c.rule(fmt.Sprintf("%s.any[%d]", field, i), &r.Any[i], depth+1)
	}
}
