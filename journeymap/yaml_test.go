package journeymap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const sampleYAML = `schema: cjm.map/v1
name: Khách mua online
lang: vi
state: current
goal:
  why: Hiểu vì sao khách bỏ giỏ hàng
departments: [Marketing, CSKH]
persona:
  name: Chị Lan
  channels: [website, zalo]
stages:
  - key: nhan-biet
    name: Nhận biết
    emotion: {score: 1, label: Tò mò}
    pain_points:
      - Quảng cáo nhiều quá
      - id: c-fixed
        text: Không tìm thấy size
        evidence:
          - {kind: survey, source: Khảo sát tháng 3, date: 2026-03-31}
    touchpoints:
      - key: fb-ads
        name: Quảng cáo Facebook
        channel: social
        expected: true
        match:
          precedence: 5
          any:
            - {event: Ad Clicked}
            - where: [{field: context.campaign.source, op: in, values: [facebook, fb]}]
  - name: Mua hàng
    touchpoints:
      - name: Thanh toán web
        channel: website
        expected: true
        match: {event: Order Completed, channel: website}
`

func TestParseFillsIDsAndRoundTrips(t *testing.T) {
	m, err := Parse([]byte(sampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	if m.Stages[1].Key != "mua-hang" || m.Stages[1].Touchpoints[0].Key != "thanh-toan-web" {
		t.Errorf("keys not filled from names: %q %q", m.Stages[1].Key, m.Stages[1].Touchpoints[0].Key)
	}
	pp := m.Stages[0].PainPoints
	if pp[0].ID == "" || pp[0].Text != "Quảng cáo nhiều quá" || pp[1].ID != "c-fixed" {
		t.Errorf("cards: %+v", pp)
	}
	if got := m.Stages[0].Touchpoints[0].Match.Any[1].Where[0].Values; !cmp.Equal(got, []string{"facebook", "fb"}) {
		t.Errorf("values = %q", got)
	}
	again, err := Parse([]byte(sampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	if again.Stages[0].PainPoints[0].ID != pp[0].ID {
		t.Error("filled card ids differ between two reads of the same file")
	}
	out, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("re-reading our own output: %v\n%s", err, out)
	}
	if d := cmp.Diff(m, back, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("round trip changed the map (-want +got):\n%s", d)
	}
	out2, _ := Marshal(back)
	if string(out) != string(out2) {
		t.Errorf("second write differs:\n%s\n---\n%s", out, out2)
	}
	if len(Diff(m, back)) != 0 {
		t.Errorf("Diff of equal maps: %+v", Diff(m, back))
	}
}

func TestParseErrorsPointAtTheLine(t *testing.T) {
	cases := []struct {
		name, edit, with string
		line             int
		field, msg       string
	}{
		{"bad channel", "channel: social", "channel: facebook", 24, "stages[0].touchpoints[0].channel", `unknown channel "facebook"`},
		{"unknown field", "expected: true\n        match:\n          precedence", "expected: true\n        matcher: {}\n        match:\n          precedence", 26, "stages[0].touchpoints[0].matcher", `did you mean "match"`},
		{"score out of range", "score: 1,", "score: 5,", 14, "stages[0].emotion.score", "from -2 to 2"},
		{"score not a number", "score: 1,", "score: high,", 14, "", "cannot unmarshal"},
		{"bad date", "date: 2026-03-31", "date: 31/03/2026", 20, "stages[0].pain_points[1].evidence[0].date", "not a date"},
		{"bad op", "op: in", "op: among", 30, "stages[0].touchpoints[0].match.any[1].where[0].op", `unknown operator "among"`},
		{"duplicate key", "  - name: Mua hàng", "  - key: nhan-biet\n    name: Mua hàng", 31, "stages[1].key", "already used"},
		{"missing name", "name: Khách mua online\n", "", 1, "name", "is required"},
		{"bad lang", "lang: vi", "lang: fr", 3, "lang", "vi or en"},
		{"syntax", "departments: [Marketing, CSKH]", "departments: [Marketing, CSKH", 7, "", ""},
		{"tab indentation", "    name: Nhận biết", "\tname: Nhận biết", 13, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(sampleYAML, tc.edit, tc.with, 1)
			if doc == sampleYAML {
				t.Fatal("edit not applied")
			}
			_, err := Parse([]byte(doc))
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("err = %v, want Errors", err)
			}
			e := es[0]
			line := e.Line
			if tc.field == "" && (line == tc.line-1 || line == tc.line+1) {
				line = tc.line // the YAML parser reports some syntax errors at the line before or after
			}
			if line != tc.line || e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %q (line %d, field %q), want line %d field %q containing %q", e.Error(), e.Line, e.Field, tc.line, tc.field, tc.msg)
			}
		})
	}
}

func TestParseCollectsEveryError(t *testing.T) {
	doc := strings.NewReplacer("channel: social", "channel: tv", "score: 1,", "score: 9,", "lang: vi", "lang: de").Replace(sampleYAML)
	_, err := Parse([]byte(doc))
	es, _ := err.(Errors)
	if len(es) != 3 {
		t.Fatalf("got %d errors, want 3: %v", len(es), err)
	}
}

func TestDiff(t *testing.T) {
	a, err := Parse([]byte(sampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	b := a.Clone()
	b.Stages[0].Name = "Biết đến"
	b.Stages[0].PainPoints = b.Stages[0].PainPoints[1:]
	b.Stages[1].PainPoints = append(b.Stages[1].PainPoints, Card{ID: "cnew", Text: "Phí ship cao"})
	b.Stages[0].Emotion.Score = -1
	b.Stages[0], b.Stages[1] = b.Stages[1], b.Stages[0]
	got := Diff(a, b)
	type short struct{ Op, Where, Field, Old, New string }
	var s []short
	for _, c := range got {
		var where []string
		for _, p := range c.Path {
			where = append(where, p.List+":"+p.Label)
		}
		s = append(s, short{c.Op, strings.Join(where, "/"), c.Field, c.Old, c.New})
	}
	want := []short{
		{"added", "stages:Mua hàng/pain_points:Phí ship cao", "", "", ""},
		{"changed", "stages:Nhận biết", "name", "Nhận biết", "Biết đến"},
		{"changed", "stages:Nhận biết", "emotion.score", "1", "-1"},
		{"removed", "stages:Nhận biết/pain_points:Quảng cáo nhiều quá", "", "", ""},
		{"reordered", "", "stages", "", ""},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("diff (-want +got):\n%s", d)
	}
	if !cmp.Equal(a.Stages[0].Name, "Nhận biết") {
		t.Error("Clone shares memory with the original")
	}
}
