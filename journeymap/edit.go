package journeymap

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Edit is one change to a map, as the map editor sends it: set a field, add
// or remove a stage, touchpoint, card or piece of evidence, or move one.
//
// Target names what is changed: "map", "persona", "compare_persona",
// "stage:KEY", "touchpoint:KEY" or "card:ID".
type Edit struct {
	Op     string `json:"op"` // set, add, remove, move
	Target string `json:"target"`
	// Field is the field to set (name, customer_goal, owner, channel,
	// expected, services, emotion, compare_emotion, match, goal.why,
	// goal.achieve, goal.audience, departments, state, compare_to, text, lang),
	// or what to add: stage, touchpoint, card, evidence.
	Field string `json:"field"`
	// Lane is the card lane of an added card (actions, pain_points, ...).
	Lane  string          `json:"lane,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	// Index is where to add or move to (-1 or past the end: at the end), or
	// which piece of evidence to remove.
	Index int `json:"index"`
	// Stage is the stage a touchpoint is added to or moved to.
	Stage string `json:"stage,omitempty"`
}

// EditError is an edit that cannot be applied.
type EditError struct{ Msg string }

func (e *EditError) Error() string { return e.Msg }

func editErr(format string, args ...any) error { return &EditError{fmt.Sprintf(format, args...)} }

// Apply makes the edits on m, in order. It fills the keys and ids of new
// parts after each edit, so a later edit can name them; the caller
// validates the result before saving it.
func (m *Map) Apply(edits ...Edit) error {
	for _, e := range edits {
		var err error
		switch e.Op {
		case "set":
			err = m.set(e)
		case "add":
			err = m.add(e)
		case "remove":
			err = m.remove(e)
		case "move":
			err = m.move(e)
		default:
			err = editErr("unknown op %q (set, add, remove, move)", e.Op)
		}
		if err != nil {
			return err
		}
		m.AssignIDs() // a part added here can be named by the next edit
	}
	return nil
}

func decode(e Edit, into any) error {
	if len(e.Value) == 0 {
		return editErr("%s %s: value is missing", e.Target, e.Field)
	}
	if err := json.Unmarshal(e.Value, into); err != nil {
		return editErr("%s %s: bad value: %v", e.Target, e.Field, err)
	}
	return nil
}

func str(e Edit) (string, error) {
	var s string
	err := decode(e, &s)
	return strings.TrimSpace(s), err
}

// lanesOf returns the lanes of a "stage:KEY" or "touchpoint:KEY" target.
func (m *Map) lanesOf(target string) (*Lanes, error) {
	kind, key, _ := strings.Cut(target, ":")
	switch kind {
	case "stage":
		if s := m.Stage(key); s != nil {
			return &s.Lanes, nil
		}
	case "touchpoint":
		if t, _ := m.Touchpoint(key); t != nil {
			return &t.Lanes, nil
		}
	}
	return nil, editErr("no %s", target)
}

// card finds a card by id: its lane and index.
func (m *Map) card(id string) (*[]Card, int) {
	var lane *[]Card
	idx := -1
	m.eachLanes(func(_ string, l *Lanes) {
		for _, k := range LaneKeys {
			cs := l.Cards(k)
			for i := range *cs {
				if (*cs)[i].ID == id {
					lane, idx = cs, i
				}
			}
		}
	})
	return lane, idx
}

func (m *Map) set(e Edit) error {
	kind, key, _ := strings.Cut(e.Target, ":")
	switch kind {
	case "map":
		return m.setMapField(e)
	case "persona", "compare_persona":
		var p *Persona
		if string(e.Value) != "null" {
			p = &Persona{}
			if err := decode(e, p); err != nil {
				return err
			}
		}
		if kind == "persona" {
			m.Persona = p
		} else {
			m.ComparePersona = p
		}
		return nil
	case "card":
		lane, i := m.card(key)
		if i < 0 {
			return editErr("no card %s", key)
		}
		if e.Field != "text" {
			return editErr("a card has no field %q to set", e.Field)
		}
		s, err := str(e)
		(*lane)[i].Text = s
		return err
	}
	l, err := m.lanesOf(e.Target)
	if err != nil {
		return err
	}
	switch e.Field {
	case "emotion", "compare_emotion":
		var em *Emotion
		if string(e.Value) != "null" {
			em = &Emotion{}
			if err := decode(e, em); err != nil {
				return err
			}
			old := l.Emotion
			if e.Field == "compare_emotion" {
				old = l.CompareEmotion
			}
			if old != nil && em.Evidence == nil {
				em.Evidence = old.Evidence
			}
		}
		if e.Field == "emotion" {
			l.Emotion = em
		} else {
			l.CompareEmotion = em
		}
		return nil
	case "owner":
		l.Owner, err = str(e)
		return err
	case "match":
		var mt *Matcher
		if string(e.Value) != "null" {
			mt = &Matcher{}
			if err := decode(e, mt); err != nil {
				return err
			}
		}
		if kind == "stage" {
			m.Stage(key).Match = mt
		} else {
			t, _ := m.Touchpoint(key)
			t.Match = mt
		}
		return nil
	}
	if kind == "stage" {
		s := m.Stage(key)
		switch e.Field {
		case "name":
			s.Name, err = str(e)
		case "customer_goal":
			s.CustomerGoal, err = str(e)
		default:
			return editErr("a stage has no field %q to set", e.Field)
		}
		return err
	}
	t, _ := m.Touchpoint(key)
	switch e.Field {
	case "name":
		t.Name, err = str(e)
	case "channel":
		var c string
		c, err = str(e)
		t.Channel = Channel(c)
	case "expected":
		err = decode(e, &t.Expected)
	case "services":
		err = decode(e, &t.Services)
	default:
		return editErr("a touchpoint has no field %q to set", e.Field)
	}
	return err
}

func (m *Map) setMapField(e Edit) error {
	var err error
	switch e.Field {
	case "name":
		m.Name, err = str(e)
	case "lang":
		m.Lang, err = str(e)
	case "state":
		var s string
		s, err = str(e)
		m.State = State(s)
	case "compare_to":
		m.CompareTo, err = str(e)
	case "goal.why":
		m.Goal.Why, err = str(e)
	case "goal.achieve":
		m.Goal.Achieve, err = str(e)
	case "goal.audience":
		m.Goal.Audience, err = str(e)
	case "departments":
		err = decode(e, &m.Departments)
	default:
		return editErr("a map has no field %q to set", e.Field)
	}
	return err
}

func insertAt[T any](s []T, i int, v T) []T {
	if i < 0 || i > len(s) {
		i = len(s)
	}
	return slices.Insert(s, i, v)
}

func (m *Map) add(e Edit) error {
	switch e.Field {
	case "stage":
		var s Stage
		if err := decode(e, &s); err != nil {
			return err
		}
		if len(m.Stages) >= MaxStages {
			return editErr("a map has at most %d stages", MaxStages)
		}
		m.Stages = insertAt(m.Stages, e.Index, s)
		return nil
	case "touchpoint":
		s := m.Stage(e.Stage)
		if s == nil {
			return editErr("no stage %q", e.Stage)
		}
		t := Touchpoint{Expected: true, Channel: "other"}
		if err := decode(e, &t); err != nil {
			return err
		}
		s.Touchpoints = insertAt(s.Touchpoints, e.Index, t)
		return nil
	case "card":
		l, err := m.lanesOf(e.Target)
		if err != nil {
			return err
		}
		lane := l.Cards(e.Lane)
		if lane == nil {
			return editErr("unknown lane %q (one of %s)", e.Lane, strings.Join(LaneKeys, ", "))
		}
		var c Card
		if err := decode(e, &c); err != nil {
			return err
		}
		c.ID = NewCardID()
		*lane = insertAt(*lane, e.Index, c)
		return nil
	case "evidence":
		var ev Evidence
		if err := decode(e, &ev); err != nil {
			return err
		}
		list, err := m.evidenceOf(e.Target)
		if err != nil {
			return err
		}
		*list = append(*list, ev)
		return nil
	}
	return editErr("cannot add %q (stage, touchpoint, card, evidence)", e.Field)
}

// evidenceOf returns the evidence list of a card, stage, touchpoint, their
// emotion ("stage:KEY/emotion"), or a persona.
func (m *Map) evidenceOf(target string) (*[]Evidence, error) {
	target, sub, _ := strings.Cut(target, "/")
	kind, key, _ := strings.Cut(target, ":")
	switch kind {
	case "card":
		lane, i := m.card(key)
		if i < 0 {
			return nil, editErr("no card %s", key)
		}
		return &(*lane)[i].Evidence, nil
	case "persona", "compare_persona":
		p := m.Persona
		if kind == "compare_persona" {
			p = m.ComparePersona
		}
		if p == nil {
			return nil, editErr("the map has no %s", kind)
		}
		return &p.Evidence, nil
	}
	l, err := m.lanesOf(target)
	if err != nil {
		return nil, err
	}
	switch sub {
	case "":
		return &l.Evidence, nil
	case "emotion":
		if l.Emotion != nil {
			return &l.Emotion.Evidence, nil
		}
	case "compare_emotion":
		if l.CompareEmotion != nil {
			return &l.CompareEmotion.Evidence, nil
		}
	}
	return nil, editErr("no %s of %s", sub, target)
}

func (m *Map) remove(e Edit) error {
	kind, key, _ := strings.Cut(e.Target, ":")
	if e.Field == "evidence" {
		list, err := m.evidenceOf(e.Target)
		if err != nil {
			return err
		}
		if e.Index < 0 || e.Index >= len(*list) {
			return editErr("%s has no evidence %d", e.Target, e.Index)
		}
		*list = slices.Delete(*list, e.Index, e.Index+1)
		return nil
	}
	switch kind {
	case "stage":
		i := slices.IndexFunc(m.Stages, func(s Stage) bool { return s.Key == key })
		if i < 0 {
			return editErr("no stage %q", key)
		}
		m.Stages = slices.Delete(m.Stages, i, i+1)
		return nil
	case "touchpoint":
		_, si := m.Touchpoint(key)
		if si < 0 {
			return editErr("no touchpoint %q", key)
		}
		s := &m.Stages[si]
		s.Touchpoints = slices.DeleteFunc(s.Touchpoints, func(t Touchpoint) bool { return t.Key == key })
		return nil
	case "card":
		lane, i := m.card(key)
		if i < 0 {
			return editErr("no card %s", key)
		}
		*lane = slices.Delete(*lane, i, i+1)
		return nil
	}
	return editErr("cannot remove %q", e.Target)
}

func moveTo[T any](s []T, from, to int) []T {
	v := s[from]
	s = slices.Delete(s, from, from+1)
	return insertAt(s, to, v)
}

func (m *Map) move(e Edit) error {
	kind, key, _ := strings.Cut(e.Target, ":")
	switch kind {
	case "stage":
		i := slices.IndexFunc(m.Stages, func(s Stage) bool { return s.Key == key })
		if i < 0 {
			return editErr("no stage %q", key)
		}
		m.Stages = moveTo(m.Stages, i, e.Index)
		return nil
	case "touchpoint":
		t, si := m.Touchpoint(key)
		if t == nil {
			return editErr("no touchpoint %q", key)
		}
		to := si
		if e.Stage != "" {
			if to = slices.IndexFunc(m.Stages, func(s Stage) bool { return s.Key == e.Stage }); to < 0 {
				return editErr("no stage %q", e.Stage)
			}
		}
		v := *t
		from := &m.Stages[si]
		from.Touchpoints = slices.DeleteFunc(from.Touchpoints, func(t Touchpoint) bool { return t.Key == key })
		dst := &m.Stages[to]
		dst.Touchpoints = insertAt(dst.Touchpoints, e.Index, v)
		return nil
	case "card":
		lane, i := m.card(key)
		if i < 0 {
			return editErr("no card %s", key)
		}
		*lane = moveTo(*lane, i, e.Index)
		return nil
	}
	return editErr("cannot move %q", e.Target)
}
