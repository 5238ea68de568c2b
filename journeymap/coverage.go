package journeymap

// Coverage is how well a part of a map is backed by evidence: of its Cards
// (lane cards, emotions, and the part itself), how many have evidence.
type Coverage struct {
	Cards, Backed int
}

// Percent is the backed share in whole percent (0 when there are no cards).
func (c Coverage) Percent() int {
	if c.Cards == 0 {
		return 0
	}
	return c.Backed * 100 / c.Cards
}

func (c *Coverage) count(backed bool) {
	c.Cards++
	if backed {
		c.Backed++
	}
}

func (c *Coverage) lanes(l *Lanes) {
	for _, k := range LaneKeys {
		for _, card := range *l.Cards(k) {
			c.count(len(card.Evidence) > 0)
		}
	}
	for _, e := range []*Emotion{l.Emotion, l.CompareEmotion} {
		if e != nil {
			c.count(len(e.Evidence) > 0)
		}
	}
}

// EvidenceCoverage returns the coverage of each stage (its own lanes and its
// touchpoints' lanes, by stage key) and of the whole map.
func EvidenceCoverage(m *Map) (map[string]Coverage, Coverage) {
	per := map[string]Coverage{}
	var total Coverage
	for i := range m.Stages {
		s := &m.Stages[i]
		c := StageCoverage(s)
		per[s.Key] = c
		total.Cards += c.Cards
		total.Backed += c.Backed
	}
	return per, total
}

// StageCoverage is the coverage of a stage: its own lanes and its
// touchpoints' lanes.
func StageCoverage(s *Stage) Coverage {
	var c Coverage
	c.lanes(&s.Lanes)
	for j := range s.Touchpoints {
		c.lanes(&s.Touchpoints[j].Lanes)
	}
	return c
}
