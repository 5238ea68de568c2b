// Package journeymap is the customer journey map: a versioned document of a
// goal, personas, stages, touchpoints and lanes, whose matchers classify real
// events into (stage, touchpoint) so that the same map is drawn and measured.
//
// The document is plain data with YAML and JSON tags (maps as code, see
// docs/map-schema.md); Parse reads it with line-numbered errors, Marshal
// writes it back losslessly. Compile turns its matchers into a Classifier.
package journeymap

import "slices"

// SchemaVersion names the document format written by Marshal.
const SchemaVersion = "cjm.map/v1"

// Map is one customer journey map document.
type Map struct {
	Schema string `yaml:"schema" json:"schema"`
	Name   string `yaml:"name" json:"name"`
	// Lang is the language the map is written in: "vi" or "en".
	Lang string `yaml:"lang" json:"lang"`
	// State is "current" (as-is) or "future" (to-be).
	State State `yaml:"state" json:"state"`
	// CompareTo names the current map a future map is compared with.
	CompareTo string `yaml:"compare_to,omitempty" json:"compare_to,omitempty"`
	// Template is the template the map was started from, for information.
	Template    string   `yaml:"template,omitempty" json:"template,omitempty"`
	Goal        Goal     `yaml:"goal,omitempty" json:"goal"`
	Departments []string `yaml:"departments,omitempty" json:"departments,omitempty"`
	// Persona is the target persona; ComparePersona an optional second one
	// whose emotion curve is drawn beside it.
	Persona        *Persona `yaml:"persona,omitempty" json:"persona,omitempty"`
	ComparePersona *Persona `yaml:"compare_persona,omitempty" json:"compare_persona,omitempty"`
	Stages         []Stage  `yaml:"stages" json:"stages"`
}

// State says whether a map draws today's journey or a planned one.
type State string

// Map states.
const (
	Current State = "current"
	Future  State = "future"
)

// Goal is why a map exists.
type Goal struct {
	Why      string `yaml:"why,omitempty" json:"why,omitempty"`
	Achieve  string `yaml:"achieve,omitempty" json:"achieve,omitempty"`
	Audience string `yaml:"audience,omitempty" json:"audience,omitempty"`
}

// Persona is a representative customer the map is drawn for.
type Persona struct {
	Name string `yaml:"name" json:"name"`
	// Avatar is an image URL (https: or data:image/...) or one or two
	// characters (initials or an emoji) drawn in a circle.
	Avatar     string `yaml:"avatar,omitempty" json:"avatar,omitempty"`
	Age        string `yaml:"age,omitempty" json:"age,omitempty"`
	Gender     string `yaml:"gender,omitempty" json:"gender,omitempty"`
	Location   string `yaml:"location,omitempty" json:"location,omitempty"`
	Occupation string `yaml:"occupation,omitempty" json:"occupation,omitempty"`
	Income     string `yaml:"income,omitempty" json:"income,omitempty"`
	// Psychographics: values, interests, lifestyle, attitudes.
	Psychographics string    `yaml:"psychographics,omitempty" json:"psychographics,omitempty"`
	Goals          []string  `yaml:"goals,omitempty" json:"goals,omitempty"`
	Frustrations   []string  `yaml:"frustrations,omitempty" json:"frustrations,omitempty"`
	Channels       []Channel `yaml:"channels,omitempty" json:"channels,omitempty"`
	Quote          string    `yaml:"quote,omitempty" json:"quote,omitempty"`
	// Research is what the persona rests on (surveys, interviews, data).
	Research string     `yaml:"research,omitempty" json:"research,omitempty"`
	Evidence []Evidence `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	// Segment ties the persona to a segment of real customers (by name).
	Segment string `yaml:"segment,omitempty" json:"segment,omitempty"`
}

// Stage is one column of the map.
type Stage struct {
	// Key is the stage's stable identifier in the map (a slug), used by
	// comments, analytics and links; unique among stages and touchpoints.
	Key          string `yaml:"key" json:"key"`
	Name         string `yaml:"name" json:"name"`
	CustomerGoal string `yaml:"customer_goal,omitempty" json:"customer_goal,omitempty"`
	Lanes        `yaml:",inline"`
	Match        *Matcher     `yaml:"match,omitempty" json:"match,omitempty"`
	Touchpoints  []Touchpoint `yaml:"touchpoints,omitempty" json:"touchpoints,omitempty"`
}

// Touchpoint is where the customer meets the business within a stage.
type Touchpoint struct {
	Key     string  `yaml:"key" json:"key"`
	Name    string  `yaml:"name" json:"name"`
	Channel Channel `yaml:"channel" json:"channel"`
	// Services offered at the touchpoint: the Services list or custom words.
	Services []string `yaml:"services,omitempty" json:"services,omitempty"`
	// Expected marks a touchpoint of the planned journey.
	Expected bool `yaml:"expected" json:"expected"`
	Lanes    `yaml:",inline"`
	Match    *Matcher `yaml:"match,omitempty" json:"match,omitempty"`
}

// Lanes are the rows of the map, filled per stage and per touchpoint.
type Lanes struct {
	Actions        []Card     `yaml:"actions,omitempty" json:"actions,omitempty"`
	Thoughts       []Card     `yaml:"thoughts,omitempty" json:"thoughts,omitempty"`
	Emotion        *Emotion   `yaml:"emotion,omitempty" json:"emotion,omitempty"`
	CompareEmotion *Emotion   `yaml:"compare_emotion,omitempty" json:"compare_emotion,omitempty"`
	PainPoints     []Card     `yaml:"pain_points,omitempty" json:"pain_points,omitempty"`
	Opportunities  []Card     `yaml:"opportunities,omitempty" json:"opportunities,omitempty"`
	Solutions      []Card     `yaml:"solutions,omitempty" json:"solutions,omitempty"`
	ResourcesHave  []Card     `yaml:"resources_have,omitempty" json:"resources_have,omitempty"`
	ResourcesNeed  []Card     `yaml:"resources_need,omitempty" json:"resources_need,omitempty"`
	Owner          string     `yaml:"owner,omitempty" json:"owner,omitempty"`
	KPIs           []Card     `yaml:"kpis,omitempty" json:"kpis,omitempty"`
	MomentsOfTruth []Card     `yaml:"moments_of_truth,omitempty" json:"moments_of_truth,omitempty"`
	Evidence       []Evidence `yaml:"evidence,omitempty" json:"evidence,omitempty"`
}

// Card is one note in a lane.
type Card struct {
	// ID identifies the card for comments; Parse fills a missing one.
	ID       string     `yaml:"id" json:"id"`
	Text     string     `yaml:"text" json:"text"`
	Evidence []Evidence `yaml:"evidence,omitempty" json:"evidence,omitempty"`
}

// Emotion is how the customer feels: a score from -2 to +2 and a word.
type Emotion struct {
	Score    int        `yaml:"score" json:"score"`
	Label    string     `yaml:"label,omitempty" json:"label,omitempty"`
	Evidence []Evidence `yaml:"evidence,omitempty" json:"evidence,omitempty"`
}

// Evidence backs a card with research.
type Evidence struct {
	Kind   EvidenceKind `yaml:"kind" json:"kind"`
	Source string       `yaml:"source" json:"source"`
	// Date is a calendar date, YYYY-MM-DD.
	Date string `yaml:"date" json:"date"`
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	URL  string `yaml:"url,omitempty" json:"url,omitempty"`
}

// EvidenceKind is where evidence comes from.
type EvidenceKind string

// EvidenceKinds lists the kinds of evidence.
var EvidenceKinds = []EvidenceKind{"staff_feedback", "survey", "interview", "review", "forum", "department_review", "analytics", "other"}

// Channel is the kind of a touchpoint.
type Channel string

// Channels lists the touchpoint channels.
var Channels = []Channel{"website", "app", "marketplace", "social", "zalo", "store", "hotline", "email", "sms", "ads", "events", "word_of_mouth", "other"}

// Services lists the services a touchpoint commonly offers; a touchpoint may
// also name its own.
var Services = []string{"information", "booking", "comparing", "prices", "offers", "support", "trying", "ordering", "delivery"}

// LaneKeys lists the card lanes in the order the map draws them.
var LaneKeys = []string{"actions", "thoughts", "pain_points", "opportunities", "solutions", "resources_have", "resources_need", "kpis", "moments_of_truth"}

// Cards returns a pointer to the card lane named key, or nil.
func (l *Lanes) Cards(key string) *[]Card {
	switch key {
	case "actions":
		return &l.Actions
	case "thoughts":
		return &l.Thoughts
	case "pain_points":
		return &l.PainPoints
	case "opportunities":
		return &l.Opportunities
	case "solutions":
		return &l.Solutions
	case "resources_have":
		return &l.ResourcesHave
	case "resources_need":
		return &l.ResourcesNeed
	case "kpis":
		return &l.KPIs
	case "moments_of_truth":
		return &l.MomentsOfTruth
	}
	return nil
}

// Clone returns a deep copy of m.
func (m *Map) Clone() *Map {
	c := *m
	c.Departments = slices.Clone(m.Departments)
	c.Persona = m.Persona.clone()
	c.ComparePersona = m.ComparePersona.clone()
	c.Stages = make([]Stage, len(m.Stages))
	for i, s := range m.Stages {
		s.Lanes = s.Lanes.clone()
		s.Match = s.Match.clone()
		tps := make([]Touchpoint, len(s.Touchpoints))
		for j, t := range s.Touchpoints {
			t.Services = slices.Clone(t.Services)
			t.Lanes = t.Lanes.clone()
			t.Match = t.Match.clone()
			tps[j] = t
		}
		if s.Touchpoints == nil {
			tps = nil
		}
		s.Touchpoints = tps
		c.Stages[i] = s
	}
	if m.Stages == nil {
		c.Stages = nil
	}
	return &c
}

func (p *Persona) clone() *Persona {
	if p == nil {
		return nil
	}
	c := *p
	c.Goals = slices.Clone(p.Goals)
	c.Frustrations = slices.Clone(p.Frustrations)
	c.Channels = slices.Clone(p.Channels)
	c.Evidence = slices.Clone(p.Evidence)
	return &c
}

func (l Lanes) clone() Lanes {
	for _, k := range LaneKeys {
		p := l.Cards(k)
		if *p == nil {
			continue
		}
		cs := make([]Card, len(*p))
		for i, c := range *p {
			c.Evidence = slices.Clone(c.Evidence)
			cs[i] = c
		}
		*p = cs
	}
	l.Emotion = l.Emotion.clone()
	l.CompareEmotion = l.CompareEmotion.clone()
	l.Evidence = slices.Clone(l.Evidence)
	return l
}

func (e *Emotion) clone() *Emotion {
	if e == nil {
		return nil
	}
	c := *e
	c.Evidence = slices.Clone(e.Evidence)
	return &c
}

// Touchpoint returns the touchpoint with key, and its stage index, or -1.
func (m *Map) Touchpoint(key string) (*Touchpoint, int) {
	for i := range m.Stages {
		for j := range m.Stages[i].Touchpoints {
			if m.Stages[i].Touchpoints[j].Key == key {
				return &m.Stages[i].Touchpoints[j], i
			}
		}
	}
	return nil, -1
}

// Stage returns the stage with key, or nil.
func (m *Map) Stage(key string) *Stage {
	for i := range m.Stages {
		if m.Stages[i].Key == key {
			return &m.Stages[i]
		}
	}
	return nil
}
