package demo

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/journeymap"
)

// mapSources are the demo's sources as a workspace would have them; the
// test gives each message the id of its source.
func mapSources() []journeymap.SourceInfo {
	var ss []journeymap.SourceInfo
	for _, s := range Sources {
		ss = append(ss, journeymap.SourceInfo{ID: "src-" + s.Key, Name: s.Name, Channel: s.Channel})
	}
	return ss
}

// mapMessages generates a small data set with source ids set.
func mapMessages(t *testing.T) []event.Message {
	t.Helper()
	var msgs []event.Message
	_, err := Generate(context.Background(), Options{Customers: 600}, func(src string, batch []event.Message) error {
		for _, m := range batch {
			m.SourceID = "src-" + src
			msgs = append(msgs, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestMapsValid(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		maps := Maps(lang)
		if len(maps) != 2 {
			t.Fatalf("%s: %d maps, want 2", lang, len(maps))
		}
		for _, m := range maps {
			if errs := journeymap.Validate(m); errs != nil {
				t.Errorf("%s %q:\n%v", lang, m.Name, errs)
			}
			if m.Lang != lang || m.State != journeymap.Current || m.Persona == nil || m.Goal.Why == "" || m.Goal.Achieve == "" || m.Goal.Audience == "" {
				t.Errorf("%s %q: lang %q, state %q, persona and goal must be filled", lang, m.Name, m.Lang, m.State)
			}
			p := m.Persona
			if p.Age == "" || p.Gender == "" || p.Location == "" || p.Occupation == "" || p.Income == "" || p.Psychographics == "" ||
				len(p.Goals) == 0 || len(p.Frustrations) == 0 || len(p.Channels) == 0 || p.Quote == "" || p.Research == "" {
				t.Errorf("%s %q: persona not filled: %+v", lang, m.Name, p)
			}
			evidence := 0
			for _, s := range m.Stages {
				if s.Emotion == nil || len(s.Actions) == 0 || len(s.Thoughts) == 0 || len(s.PainPoints) == 0 ||
					len(s.Opportunities) == 0 || len(s.KPIs) == 0 || s.Owner == "" || s.CustomerGoal == "" {
					t.Errorf("%s %q: stage %s lanes not filled", lang, m.Name, s.Key)
				}
				for _, k := range journeymap.LaneKeys {
					for _, c := range *s.Cards(k) {
						if len(c.Evidence) > 0 {
							evidence++
						}
					}
				}
				if len(s.Touchpoints) == 0 {
					t.Errorf("%s %q: stage %s has no touchpoints", lang, m.Name, s.Key)
				}
				for _, tp := range s.Touchpoints {
					if tp.Match == nil {
						t.Errorf("%s %q: touchpoint %s has no matcher", lang, m.Name, tp.Key)
					}
				}
			}
			if evidence < 3 {
				t.Errorf("%s %q: %d cards with evidence, want several", lang, m.Name, evidence)
			}
		}
		for _, m := range maps {
			for _, d := range evidenceDates(reflect.ValueOf(m)) {
				if !strings.HasPrefix(d, "2026-") {
					t.Errorf("%s %q: evidence dated %s, want 2026", lang, m.Name, d)
				}
			}
		}
		lan, loyal := maps[0], maps[1]
		if lan.Template != "retail" || loyal.Template != "5a" {
			t.Errorf("%s: templates %q, %q", lang, lan.Template, loyal.Template)
		}
		if got := stageKeys(lan); !reflect.DeepEqual(got, []string{"awareness", "consideration", "purchase", "service", "loyalty"}) {
			t.Errorf("%s: map 1 stages %v", lang, got)
		}
		if got := stageKeys(loyal); !reflect.DeepEqual(got, []string{"aware", "appeal", "ask", "act", "advocate"}) {
			t.Errorf("%s: map 2 stages %v", lang, got)
		}
		if loyal.ComparePersona == nil {
			t.Errorf("%s: map 2 has no compare persona", lang)
		}
		for _, s := range loyal.Stages {
			if s.CompareEmotion == nil {
				t.Errorf("%s: map 2 stage %s has no compare emotion", lang, s.Key)
			}
		}
		want := map[string]string{"vi": Personas[personaOffice].Name, "en": Personas[personaOffice].NameEN}[lang]
		if lan.Persona.Name != want {
			t.Errorf("%s: map 1 persona %q, want %q", lang, lan.Persona.Name, want)
		}
	}
}

// evidenceDates lists the dates of all evidence under v.
func evidenceDates(v reflect.Value) []string {
	var ds []string
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			ds = evidenceDates(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			ds = append(ds, evidenceDates(v.Index(i))...)
		}
	case reflect.Struct:
		if e, ok := v.Interface().(journeymap.Evidence); ok {
			return []string{e.Date}
		}
		for i := 0; i < v.NumField(); i++ {
			ds = append(ds, evidenceDates(v.Field(i))...)
		}
	}
	return ds
}

func stageKeys(m *journeymap.Map) []string {
	var ks []string
	for _, s := range m.Stages {
		ks = append(ks, s.Key)
	}
	return ks
}

// TestMapsLanguages checks that the Vietnamese and English maps differ only
// in their text: same keys, channels, services, matchers, scores and dates.
func TestMapsLanguages(t *testing.T) {
	vi, en := Maps("vi"), Maps("en")
	for i := range vi {
		a, b := skeleton(vi[i]), skeleton(en[i])
		if !reflect.DeepEqual(a, b) {
			t.Errorf("map %d: the vi and en versions differ in more than text", i+1)
		}
		if vi[i].Name == en[i].Name || vi[i].Stages[0].Name == en[i].Stages[0].Name {
			t.Errorf("map %d: the en version is not translated", i+1)
		}
		for si := range vi[i].Stages {
			for ti := range vi[i].Stages[si].Touchpoints {
				if !reflect.DeepEqual(vi[i].Stages[si].Touchpoints[ti].Match, en[i].Stages[si].Touchpoints[ti].Match) {
					t.Errorf("map %d: touchpoint %s: matchers differ", i+1, vi[i].Stages[si].Touchpoints[ti].Key)
				}
			}
		}
	}
	x := vi[0].Clone()
	x.Stages[0].Emotion.Score++
	x.Stages[0].Touchpoints[0].Match.Precedence++
	if reflect.DeepEqual(skeleton(x), skeleton(vi[0])) {
		t.Error("skeleton hides scores and matchers")
	}
	if !reflect.DeepEqual(Maps("fr"), vi) {
		t.Error("an unknown language does not give the Vietnamese maps")
	}
}

// skeleton is m with its text blanked, keeping what must not depend on the
// language.
func skeleton(m *journeymap.Map) *journeymap.Map {
	c := m.Clone()
	blank(reflect.ValueOf(c).Elem())
	return c
}

// textFields are the string fields of map documents that hold prose.
var textFields = map[string]bool{
	"Name": true, "Lang": true, "Why": true, "Achieve": true, "Audience": true, "Departments": true,
	"Gender": true, "Location": true, "Occupation": true, "Income": true, "Psychographics": true,
	"Goals": true, "Frustrations": true, "Quote": true, "Research": true, "CustomerGoal": true,
	"Owner": true, "ID": true, "Text": true, "Label": true, "Note": true,
}

func blank(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			blank(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			blank(v.Index(i))
		}
	case reflect.Struct:
		isEvidence := v.Type() == reflect.TypeOf(journeymap.Evidence{})
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), v.Type().Field(i).Name
			prose := textFields[name] || (isEvidence && name == "Source")
			switch {
			case prose && f.Kind() == reflect.String:
				f.SetString("")
			case prose && f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
				for j := 0; j < f.Len(); j++ {
					f.Index(j).SetString("")
				}
			default:
				blank(f)
			}
		}
	}
}

func TestMapsClassify(t *testing.T) {
	msgs := mapMessages(t)
	sources := mapSources()
	for _, lang := range []string{"vi", "en"} {
		for mi, m := range Maps(lang) {
			c, err := journeymap.Compile(m, sources)
			if err != nil {
				t.Fatalf("%s map %d: %v", lang, mi+1, err)
			}
			if len(c.Warnings) > 0 {
				t.Errorf("%s map %d: warnings %v", lang, mi+1, c.Warnings)
			}
			stages := make([]int, len(m.Stages))
			tps := map[journeymap.Place]int{}
			var tracks, tracked, all, placed int
			for i := range msgs {
				msg := &msgs[i]
				p := c.ClassifyMessage(msg)
				if p.Stage >= 0 {
					stages[p.Stage]++
					tps[p]++
				}
				if msg.Type == event.Identify {
					continue
				}
				all++
				if p.Stage >= 0 {
					placed++
				}
				if msg.Type == event.Track {
					tracks++
					if p.Stage >= 0 {
						tracked++
					}
				}
			}
			for si, s := range m.Stages {
				for ti, tp := range s.Touchpoints {
					if tps[journeymap.Place{Stage: si, Touchpoint: ti}] == 0 {
						t.Errorf("%s map %d: touchpoint %s/%s matches no event", lang, mi+1, s.Key, tp.Key)
					}
				}
			}
			trackShare := float64(tracked) / float64(tracks)
			allShare := float64(placed) / float64(all)
			t.Logf("%s map %d %q: %d messages; track events on a stage %d/%d = %.1f%%; all but identify %d/%d = %.1f%%; by stage %v",
				lang, mi+1, m.Name, len(msgs), tracked, tracks, 100*trackShare, placed, all, 100*allShare, stages)
			if mi != 0 {
				continue
			}
			if trackShare < 0.85 {
				t.Errorf("%s map 1: %.1f%% of track events on a stage, want at least 85%%", lang, 100*trackShare)
			}
			// awareness, consideration, purchase, service, loyalty
			if stages[0] <= stages[4] || stages[1] <= stages[4] || stages[1] <= stages[2] {
				t.Errorf("%s map 1: implausible stage distribution %v", lang, stages)
			}
		}
	}
}
