package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/google/go-cmp/cmp"
)

// TestPlacesWithFields classifies events by matchers on their fields
// (kept sparse in the index), for the events there at first and for those
// that come later.
func TestPlacesWithFields(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	msg := func(seq int, props string) event.Message {
		m := event.Message{Seq: uint64(seq), WorkspaceID: "ws", SourceID: "src", MessageID: fmt.Sprint("m", seq), Type: event.Track,
			Event: "Visit", UserID: "u1", Timestamp: t0.Add(time.Duration(seq) * time.Minute)}
		if props != "" {
			m.Properties = json.RawMessage(props)
		}
		return m
	}
	if err := s.Append(ctx, []event.Message{msg(1, `{"campaign":"fb"}`), msg(2, ""), msg(3, `{"campaign":"zalo","tier":"gold"}`)}); err != nil {
		t.Fatal(err)
	}
	where := func(field, value string) *journeymap.Matcher {
		return &journeymap.Matcher{Rule: journeymap.Rule{Event: "Visit", Where: []journeymap.Condition{{Field: field, Op: journeymap.OpEq, Value: value}}}}
	}
	m := &journeymap.Map{Name: "fields", Stages: []journeymap.Stage{
		{Key: "ads", Name: "Ads", Touchpoints: []journeymap.Touchpoint{
			{Key: "fb", Name: "fb", Channel: "ads", Match: where("properties.campaign", "fb")},
			{Key: "zalo", Name: "zalo", Channel: "zalo", Match: where("properties.campaign", "zalo")},
		}},
		{Key: "vip", Name: "VIP", Match: where("properties.tier", "gold")},
	}}
	c, err := journeymap.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(s, "ws")
	v, err := ix.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	places := func(v *View) []journeymap.Place {
		codes, err := v.Places(ctx, "fields@1", c)
		if err != nil {
			t.Fatal(err)
		}
		var out []journeymap.Place
		for _, code := range codes {
			out = append(out, PlaceOf(code))
		}
		return out
	}
	// Event 3 matches both zalo and VIP: a touchpoint beats a stage.
	want := []journeymap.Place{{Stage: 0, Touchpoint: 0}, journeymap.Nowhere, {Stage: 0, Touchpoint: 1}}
	if d := cmp.Diff(want, places(v)); d != "" {
		t.Errorf("places (-want +got):\n%s", d)
	}
	if err := s.Append(ctx, []event.Message{msg(4, `{"tier":"gold"}`), msg(5, `{"campaign":"fb"}`)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if v, err = ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want = append(want, journeymap.Place{Stage: 1, Touchpoint: -1}, journeymap.Place{Stage: 0, Touchpoint: 0})
	if d := cmp.Diff(want, places(v)); d != "" {
		t.Errorf("places after catching up (-want +got):\n%s", d)
	}
}
