package journeymap

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestTemplatesOrder(t *testing.T) {
	want := []string{"retail", "detailed", "simple", "5a", "aida", "aarrr", "accsr", "funnel", "blank"}
	var got []string
	for _, ti := range Templates {
		got = append(got, ti.Key)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("template keys %v, want %v", got, want)
	}
}

func TestTemplateStages(t *testing.T) {
	want := map[string][]string{
		"retail":   {"awareness", "consideration", "purchase", "service", "loyalty"},
		"detailed": {"interest", "consideration", "evaluation", "trial", "purchase", "use", "share", "repurchase"},
		"simple":   {"research", "buy", "receive", "after-purchase"},
		"5a":       {"aware", "appeal", "ask", "act", "advocate"},
		"aida":     {"attention", "interest", "desire", "action"},
		"aarrr":    {"acquisition", "activation", "retention", "referral", "revenue"},
		"accsr":    {"awareness", "consideration", "conversion", "service", "retention"},
		"funnel":   {"tofu", "mofu", "bofu"},
		"blank":    {"stage-1"},
	}
	for key, keys := range want {
		m, err := FromTemplate(key, "en")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range m.Stages {
			got = append(got, s.Key)
		}
		if !slices.Equal(got, keys) {
			t.Errorf("%s: stage keys %v, want %v", key, got, keys)
		}
	}
	retail := map[string][]string{
		"vi": {"Nhận biết", "Cân nhắc", "Mua hàng", "Dịch vụ", "Trung thành"},
		"en": {"Awareness", "Consideration", "Purchase", "Service", "Loyalty"},
	}
	if !reflect.DeepEqual(Templates[0].Stages, retail) {
		t.Errorf("retail stages %v, want %v", Templates[0].Stages, retail)
	}
}

func TestFromTemplate(t *testing.T) {
	for _, info := range Templates {
		maps := map[string]*Map{}
		for _, lang := range []string{"vi", "en"} {
			m, err := FromTemplate(info.Key, lang)
			if err != nil {
				t.Fatalf("%s/%s: %v", info.Key, lang, err)
			}
			maps[lang] = m
			where := info.Key + "/" + lang
			if errs := Validate(m); errs != nil {
				t.Errorf("%s: invalid map:\n%v", where, errs)
			}
			if m.Schema != SchemaVersion || m.Lang != lang || m.State != Current || m.Template != info.Key {
				t.Errorf("%s: schema %q lang %q state %q template %q", where, m.Schema, m.Lang, m.State, m.Template)
			}
			if m.Name == "" || m.Name != info.Name[lang] {
				t.Errorf("%s: name %q, want the template's name %q", where, m.Name, info.Name[lang])
			}
			if info.Description[lang] == "" {
				t.Errorf("%s: no description", where)
			}
			if m.Goal != (Goal{}) || m.Persona != nil || m.ComparePersona != nil || m.Departments != nil {
				t.Errorf("%s: goal, persona and departments are the user's to fill", where)
			}
			if len(info.Stages[lang]) != len(m.Stages) {
				t.Errorf("%s: %d stage names in Templates, %d stages in the map", where, len(info.Stages[lang]), len(m.Stages))
			}
			keys := map[string]bool{}
			for si, s := range m.Stages {
				if s.Name == "" || (si < len(info.Stages[lang]) && s.Name != info.Stages[lang][si]) {
					t.Errorf("%s: stage %d name %q, Templates says %q", where, si, s.Name, info.Stages[lang][si])
				}
				if info.Key != "blank" && s.CustomerGoal == "" {
					t.Errorf("%s: stage %s has no customer goal", where, s.Key)
				}
				if keys[s.Key] {
					t.Errorf("%s: key %q used twice", where, s.Key)
				}
				keys[s.Key] = true
				if !reflect.DeepEqual(s.Lanes, Lanes{}) || s.Match != nil {
					t.Errorf("%s: stage %s has lanes or a matcher", where, s.Key)
				}
				if n := len(s.Touchpoints); info.Key != "blank" && (n < 2 || n > 4) {
					t.Errorf("%s: stage %s has %d touchpoints, want 2-4", where, s.Key, n)
				}
				for _, tp := range s.Touchpoints {
					if keys[tp.Key] {
						t.Errorf("%s: key %q used twice", where, tp.Key)
					}
					keys[tp.Key] = true
					if tp.Key != Slug(tp.Key, "") {
						t.Errorf("%s: touchpoint key %q is not a slug", where, tp.Key)
					}
					if tp.Name == "" {
						t.Errorf("%s: touchpoint %s has no name", where, tp.Key)
					}
					if !slices.Contains(Channels, tp.Channel) {
						t.Errorf("%s: touchpoint %s has channel %q", where, tp.Key, tp.Channel)
					}
					if len(tp.Services) == 0 {
						t.Errorf("%s: touchpoint %s has no services", where, tp.Key)
					}
					for _, sv := range tp.Services {
						if !slices.Contains(Services, sv) {
							t.Errorf("%s: touchpoint %s has service %q", where, tp.Key, sv)
						}
					}
					if !tp.Expected || tp.Match != nil || !reflect.DeepEqual(tp.Lanes, Lanes{}) {
						t.Errorf("%s: touchpoint %s: want expected, no matcher and empty lanes", where, tp.Key)
					}
				}
			}
		}
		vi, en := maps["vi"], maps["en"]
		if vi.Name == en.Name {
			t.Errorf("%s: same name %q in both languages", info.Key, vi.Name)
		}
		if len(vi.Stages) != len(en.Stages) {
			t.Fatalf("%s: %d stages in vi, %d in en", info.Key, len(vi.Stages), len(en.Stages))
		}
		for si := range vi.Stages {
			sv, se := vi.Stages[si], en.Stages[si]
			if sv.Key != se.Key || len(sv.Touchpoints) != len(se.Touchpoints) {
				t.Errorf("%s: stage %d: %s with %d touchpoints in vi, %s with %d in en", info.Key, si, sv.Key, len(sv.Touchpoints), se.Key, len(se.Touchpoints))
				continue
			}
			for ti := range sv.Touchpoints {
				tv, te := sv.Touchpoints[ti], se.Touchpoints[ti]
				if tv.Key != te.Key || tv.Channel != te.Channel || !slices.Equal(tv.Services, te.Services) {
					t.Errorf("%s: touchpoint %s/%s differs between languages", info.Key, tv.Key, te.Key)
				}
			}
		}
	}
}

func TestFromTemplateErrors(t *testing.T) {
	_, err := FromTemplate("nope", "vi")
	if err == nil || !strings.Contains(err.Error(), "retail") || !strings.Contains(err.Error(), "blank") {
		t.Errorf("unknown template: %v, want an error naming the templates", err)
	}
	_, err = FromTemplate("retail", "fr")
	if err == nil || !strings.Contains(err.Error(), "vi") || !strings.Contains(err.Error(), "en") {
		t.Errorf("unknown language: %v, want an error naming vi and en", err)
	}
	if _, err := FromTemplate("retail", ""); err == nil {
		t.Error("empty language accepted")
	}
}

func TestFromTemplateIndependent(t *testing.T) {
	a, err := FromTemplate("retail", "vi")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := FromTemplate("retail", "vi")
	a.Name = "changed"
	a.Stages[0].Name = "changed"
	a.Stages[0].Touchpoints[0].Name = "changed"
	a.Stages[0].Touchpoints[0].Services[0] = "changed"
	a.Stages[1].Touchpoints = append(a.Stages[1].Touchpoints[:0], Touchpoint{Key: "x"})
	a.Stages = append(a.Stages, Stage{Key: "extra"})
	b, err := FromTemplate("retail", "vi")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, want) {
		t.Error("changing a map from a template changed the next map from it")
	}
	if Templates[0].Stages["vi"][0] != "Nhận biết" {
		t.Error("Templates changed")
	}
}
