package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
)

// TestFilter narrows a funnel by source, by an event's field, by persona
// and by a segment (people with some event), and checks the counts.
func TestFilter(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	type in struct {
		min              float64
		user, name, src  string
		props, cx, trait string
	}
	ins := []in{
		// u1 on web: A B, from facebook, persona lan.
		{0, "u1", "A", "web", `{"campaign":"fb"}`, "", `{"persona":"lan"}`}, {1, "u1", "B", "web", "", "", ""},
		// u2: A on web, B in the app; persona tuan.
		{0, "u2", "A", "web", "", "", `{"persona":"tuan"}`}, {1, "u2", "B", "app", "", "", ""},
		// u3 in the app: A B; persona lan, later tuan (the latest counts).
		{0, "u3", "A", "app", "", "", `{"persona":"lan"}`}, {1, "u3", "B", "app", "", "", `{"persona":"tuan"}`},
	}
	var ms []event.Message
	for i, x := range ins {
		m := event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: x.src, MessageID: fmt.Sprint("m", i+1), Type: event.Track,
			Event: x.name, UserID: x.user, Timestamp: t0.Add(time.Duration(x.min * float64(time.Minute)))}
		if x.props != "" {
			m.Properties = json.RawMessage(x.props)
		}
		if x.trait != "" {
			m.Context = json.RawMessage(`{"traits":` + x.trait + `}`)
		}
		ms = append(ms, m)
	}
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	v, err := NewIndex(s, "ws").View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := FunnelQuery{Steps: []string{"A", "B"}, Window: time.Hour}
	for _, tc := range []struct {
		name   string
		f      Filter
		counts [2]int64
	}{
		{"everything", Filter{}, [2]int64{3, 3}},
		// Only web events: u1 A B, u2 A.
		{"web only", Filter{Sources: []string{"web"}}, [2]int64{2, 1}},
		// Only app events: u2 B (no A), u3 A B.
		{"app only", Filter{Sources: []string{"app"}}, [2]int64{1, 1}},
		{"an unknown source", Filter{Sources: []string{"pos"}}, [2]int64{0, 0}},
		// Only the events with campaign fb: u1's A.
		{"events of a campaign", Filter{Where: []FieldEquals{{Field: "campaign", Value: "fb"}}}, [2]int64{1, 0}},
		// People of persona lan: u1 (u3 is tuan now).
		{"persona", Filter{Persona: "lan"}, [2]int64{1, 1}},
		{"persona tuan", Filter{Persona: "tuan"}, [2]int64{2, 2}},
		// People with an event of the campaign: u1, all their events.
		{"segment", Filter{HasEvent: &FieldEquals{Field: "properties.campaign", Value: "fb"}}, [2]int64{1, 1}},
		{"web and tuan", Filter{Sources: []string{"web"}, Persona: "tuan"}, [2]int64{1, 0}},
	} {
		sub, err := v.Filter(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res, err := sub.Funnel(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := [2]int64{res.Steps[0].Count, res.Steps[1].Count}; got != tc.counts {
			t.Errorf("%s: counts %v, want %v", tc.name, got, tc.counts)
		}
	}
	// Steps with conditions on the event's fields.
	for _, tc := range []struct {
		steps  []string
		counts []int64
	}{
		{[]string{"A [campaign=fb]", "B"}, []int64{1, 1}},
		{[]string{"A [campaign!=fb]", "B"}, []int64{2, 2}},
		{[]string{"A [properties.campaign=fb, campaign!=x]", "B"}, []int64{1, 1}},
		{[]string{"A [campaign=nobody]", "B"}, []int64{0, 0}},
		{[]string{"A", "B [campaign=]"}, []int64{3, 3}}, // = nothing: the field is missing
	} {
		res, err := v.Funnel(ctx, FunnelQuery{Steps: tc.steps, Window: time.Hour})
		if err != nil {
			t.Fatalf("%v: %v", tc.steps, err)
		}
		for k, want := range tc.counts {
			if res.Steps[k].Count != want {
				t.Errorf("%v: step %d counts %d, want %d", tc.steps, k, res.Steps[k].Count, want)
			}
		}
	}
	if _, err := v.Funnel(ctx, FunnelQuery{Steps: []string{"A [campaign]", "B"}, Window: time.Hour}); err == nil {
		t.Error("a condition without = gave no error")
	}

	if _, err := ParseFieldEquals("nothing"); err == nil {
		t.Error("ParseFieldEquals(nothing): no error")
	}
	if f, err := ParseFieldEquals(" campaign = fb "); err != nil || f != (FieldEquals{Field: "properties.campaign", Value: "fb"}) {
		t.Errorf("ParseFieldEquals: %+v, %v", f, err)
	}
}
