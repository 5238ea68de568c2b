package journeymap

import (
	"encoding/json"
	"errors"
	"testing"
)

func js(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func editMap(t *testing.T) *Map {
	t.Helper()
	m, err := FromTemplate("simple", "en")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func stageKeys(m *Map) []string {
	var ks []string
	for _, s := range m.Stages {
		ks = append(ks, s.Key)
	}
	return ks
}

func TestApplyEdits(t *testing.T) {
	m := editMap(t)
	first := m.Stages[0].Key
	tp := m.Stages[0].Touchpoints[0].Key
	err := m.Apply(
		Edit{Op: "add", Field: "stage", Index: 1, Value: js(map[string]string{"name": "Compare prices"})},
		Edit{Op: "add", Field: "card", Target: "stage:" + first, Lane: "pain_points", Index: -1, Value: js("Too many tabs")},
		Edit{Op: "add", Field: "card", Target: "touchpoint:" + tp, Lane: "thoughts", Index: 0, Value: js(map[string]string{"text": "Is it genuine?"})},
		Edit{Op: "move", Target: "stage:" + first, Index: 99},
		Edit{Op: "move", Target: "touchpoint:" + tp, Stage: "compare-prices", Index: -1},
		Edit{Op: "set", Target: "touchpoint:" + tp, Field: "emotion", Value: js(map[string]any{"score": -1, "label": "Unsure"})},
		Edit{Op: "add", Field: "evidence", Target: "touchpoint:" + tp + "/emotion", Value: js(Evidence{Kind: "survey", Source: "Q3 survey", Date: "2026-09-30"})},
	)
	if err != nil {
		t.Fatal(err)
	}
	if errs := Validate(m); errs != nil {
		t.Fatalf("the edited map is invalid: %v", errs)
	}
	keys := stageKeys(m)
	if keys[0] != "compare-prices" || keys[len(keys)-1] != first {
		t.Errorf("stages = %v", keys)
	}
	got, si := m.Touchpoint(tp)
	if m.Stages[si].Key != "compare-prices" || got.Emotion.Score != -1 || len(got.Emotion.Evidence) != 1 {
		t.Errorf("touchpoint %s in %s: %+v", tp, m.Stages[si].Key, got.Emotion)
	}
	if got.Thoughts[0].Text != "Is it genuine?" || got.Thoughts[0].ID == "" {
		t.Errorf("thoughts = %+v", got.Thoughts)
	}
	pain := m.Stage(first).PainPoints
	if len(pain) != 1 || pain[0].Text != "Too many tabs" {
		t.Errorf("pain points = %+v", pain)
	}
	// Setting the emotion again keeps its evidence.
	if err := m.Apply(Edit{Op: "set", Target: "touchpoint:" + tp, Field: "emotion", Value: js(map[string]any{"score": 1})}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Touchpoint(tp); len(got.Emotion.Evidence) != 1 {
		t.Error("the emotion lost its evidence")
	}
	// Remove the card, then its touchpoint, then a stage.
	if err := m.Apply(Edit{Op: "remove", Target: "card:" + pain[0].ID}, Edit{Op: "remove", Target: "touchpoint:" + tp}, Edit{Op: "remove", Target: "stage:" + first}); err != nil {
		t.Fatal(err)
	}
	if m.Stage(first) != nil {
		t.Error("the stage is still there")
	}
	if got, _ := m.Touchpoint(tp); got != nil {
		t.Error("the touchpoint is still there")
	}
	if lane, _ := m.card(pain[0].ID); lane != nil {
		t.Error("the card is still there")
	}
}

func TestApplyRefusesBadEdits(t *testing.T) {
	for _, e := range []Edit{
		{Op: "rename"},
		{Op: "set", Target: "stage:nope", Field: "name", Value: js("x")},
		{Op: "set", Target: "map", Field: "colour", Value: js("x")},
		{Op: "set", Target: "map", Field: "name"},
		{Op: "add", Field: "card", Target: "stage:research", Lane: "feelings", Value: js("x")},
		{Op: "add", Field: "touchpoint", Stage: "nope", Value: js(map[string]string{"name": "x"})},
		{Op: "remove", Target: "card:nope"},
		{Op: "remove", Field: "evidence", Target: "stage:research", Index: 3},
		{Op: "move", Target: "touchpoint:nope", Index: 0},
		{Op: "add", Field: "evidence", Target: "stage:research/emotion", Value: js(Evidence{})},
	} {
		m := editMap(t)
		err := m.Apply(e)
		var ee *EditError
		if !errors.As(err, &ee) {
			t.Errorf("%+v: err = %v, want an EditError", e, err)
		}
	}
}
