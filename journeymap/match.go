package journeymap

// Matcher says which events belong to a stage or touchpoint.
//
// A rule's own conditions (type, event, path, source, channel, where) must
// all hold; All adds rules that must all hold and Any rules of which one
// must. When several matchers match an event, the one with the highest
// Precedence wins; on a tie a touchpoint wins over a stage, then the one
// drawn first (leftmost stage, topmost touchpoint).
type Matcher struct {
	Precedence int `yaml:"precedence,omitempty" json:"precedence,omitempty"`
	Rule       `yaml:",inline"`
}

// Rule is a node of a matcher.
type Rule struct {
	// Type is the Segment call: track, page, screen, identify, group, alias.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// Event matches the track event name, or the page or screen name, with
	// * for any run of characters and ? for one character. Case matters.
	Event string `yaml:"event,omitempty" json:"event,omitempty"`
	// Path matches the page path (context.page.path, else properties.path):
	// * matches within one segment, ** across segments.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Source is the name of the source the event came from (wildcards allowed).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// Channel is the channel of that source (website, app, pos, ...).
	Channel string      `yaml:"channel,omitempty" json:"channel,omitempty"`
	Where   []Condition `yaml:"where,omitempty" json:"where,omitempty"`
	All     []Rule      `yaml:"all,omitempty" json:"all,omitempty"`
	Any     []Rule      `yaml:"any,omitempty" json:"any,omitempty"`
}

// Condition tests one field of an event.
type Condition struct {
	// Field is a dotted path into the message: properties.total,
	// context.campaign.source, traits.city.
	Field string `yaml:"field" json:"field"`
	Op    Op     `yaml:"op" json:"op"`
	// Value is the operand of eq, ne, contains, regex and the comparisons;
	// Values the list of in and not_in.
	Value  string   `yaml:"value,omitempty" json:"value,omitempty"`
	Values []string `yaml:"values,omitempty" json:"values,omitempty"`
}

// Op is a condition operator.
type Op string

// Operators.
const (
	OpEq        Op = "eq"
	OpNe        Op = "ne"
	OpIn        Op = "in"
	OpNotIn     Op = "not_in"
	OpContains  Op = "contains"
	OpRegex     Op = "regex"
	OpExists    Op = "exists"
	OpNotExists Op = "not_exists"
	OpGt        Op = "gt"
	OpGte       Op = "gte"
	OpLt        Op = "lt"
	OpLte       Op = "lte"
)

// Ops lists the operators.
var Ops = []Op{OpEq, OpNe, OpIn, OpNotIn, OpContains, OpRegex, OpExists, OpNotExists, OpGt, OpGte, OpLt, OpLte}

// MessageTypes lists the values of Rule.Type.
var MessageTypes = []string{"track", "page", "screen", "identify", "group", "alias"}

func (m *Matcher) clone() *Matcher {
	if m == nil {
		return nil
	}
	c := *m
	c.Rule = m.Rule.clone()
	return &c
}

func (r Rule) clone() Rule {
	if r.Where != nil {
		w := make([]Condition, len(r.Where))
		for i, c := range r.Where {
			c.Values = append([]string(nil), c.Values...)
			if r.Where[i].Values == nil {
				c.Values = nil
			}
			w[i] = c
		}
		r.Where = w
	}
	r.All = cloneRules(r.All)
	r.Any = cloneRules(r.Any)
	return r
}

func cloneRules(rs []Rule) []Rule {
	if rs == nil {
		return nil
	}
	c := make([]Rule, len(rs))
	for i, r := range rs {
		c[i] = r.clone()
	}
	return c
}

// empty reports whether r has no condition at all.
func (r *Rule) empty() bool {
	return r.Type == "" && r.Event == "" && r.Path == "" && r.Source == "" && r.Channel == "" &&
		len(r.Where) == 0 && len(r.All) == 0 && len(r.Any) == 0
}
