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

// liveTestMap has three stages: discover (touchpoints web, ads, the
// unplanned forum), buy (checkout, hotline: expected, never used) and
// after (review).
func liveTestMap(t *testing.T) (*journeymap.Map, *journeymap.Classifier) {
	t.Helper()
	tp := func(key, ev string, expected bool) journeymap.Touchpoint {
		return journeymap.Touchpoint{Key: key, Name: key, Channel: "website", Expected: expected,
			Match: &journeymap.Matcher{Rule: journeymap.Rule{Event: ev}}}
	}
	m := &journeymap.Map{Name: "live", Stages: []journeymap.Stage{
		{Key: "discover", Name: "Discover", Touchpoints: []journeymap.Touchpoint{tp("web", "Page", true), tp("ads", "Ad Clicked", true), tp("forum", "Forum Post", false)}},
		{Key: "buy", Name: "Buy", Touchpoints: []journeymap.Touchpoint{tp("checkout", "Checkout", true), tp("hotline", "Call", true)}},
		{Key: "after", Name: "After", Touchpoints: []journeymap.Touchpoint{tp("review", "Review", true)}},
	}}
	c, err := journeymap.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// TestLiveMap measures a small map over hand-made events and compares
// every figure with what was worked out by hand.
func TestLiveMap(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	m, c := liveTestMap(t)
	type in struct {
		min        float64
		user, name string
		props      string
	}
	ins := []in{
		// u1: web, ads, checkout after 10 min, review after 60 min (csat 5 → +2).
		{0, "u1", "Page", ""}, {1, "u1", "Ad Clicked", ""}, {10, "u1", "Checkout", ""}, {70, "u1", "Review", ""},
		{71, "u1", "Survey Answered", `{"csat":5}`},
		// u2: web only, then an unclassified event; leaves (csat 1 → -2, counted in discover).
		{0, "u2", "Page", ""}, {2, "u2", "Something", ""}, {3, "u2", "Survey Answered", `{"csat":1}`},
		// u3: checkout first, then web 5 min later (out of order), then forum.
		{0, "u3", "Checkout", ""}, {5, "u3", "Page", ""}, {6, "u3", "Forum Post", ""},
		// u4: web, checkout after 20 min (persona gift).
		{0, "u4", "Page", `{"persona":"gift"}`}, {20, "u4", "Checkout", ""},
		// u5: an event outside the period (day 10): not counted.
		{10 * 24 * 60, "u5", "Page", ""},
	}
	var ms []event.Message
	for i, x := range ins {
		m := event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: "src", MessageID: fmt.Sprint("m", i+1), Type: event.Track,
			Event: x.name, UserID: x.user, Timestamp: t0.Add(time.Duration(x.min * float64(time.Minute)))}
		if x.props != "" {
			if x.name == "Page" {
				m.Context = json.RawMessage(`{"traits":` + x.props + `}`)
			} else {
				m.Properties = json.RawMessage(x.props)
			}
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
	q := LiveMapQuery{Map: m, Classifier: c, PlacesKey: "live@1", From: t0, To: t0.Add(24 * time.Hour)}
	got, err := v.LiveMap(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// discover: u1 u2 u3 u4 = 4; went on to buy afterwards: u1 (10 min), u4
	// (20 min); u3 bought before: not "went on". Drop-off 2 (u2, u3).
	// buy: u1 u3 u4 = 3; to after: u1 (60 min). after: u1.
	want := &LiveMap{From: q.From, To: q.To, Customers: 4, Expected: 5, OutOfOrder: 1, Unclassified: 3, Events: 13,
		OutOfOrderJumps: []StageJump{{Later: "buy", Earlier: "discover", Customers: 1}},
		Unplanned:       []TouchpointRef{{Stage: "discover", Touchpoint: "forum", Customers: 1}},
		Missing:         []TouchpointRef{{Stage: "buy", Touchpoint: "hotline"}},
		Stages: []LiveStage{
			{Key: "discover", Customers: 4, Events: 6, NextRate: 0.5, DropOff: 2, MedianSeconds: 900, Emotion: -2, Answers: 1, Touchpoints: []LiveTouchpoint{
				// web: u1..u4 used it, 2 of 4 went on; others: nobody.
				{Key: "web", Expected: true, Events: 4, Customers: 4, Share: 1, RateUsers: 0.5, RateOthers: -1, Emotion: -3},
				// ads: u1 (went on); others u2 u3 u4: u4 went on → 1/3.
				{Key: "ads", Expected: true, Events: 1, Customers: 1, Share: 0.25, RateUsers: 1, RateOthers: 1.0 / 3, Emotion: -3},
				{Key: "forum", Events: 1, Customers: 1, Share: 0.25, RateUsers: 0, RateOthers: 2.0 / 3, Emotion: -3},
			}},
			{Key: "buy", Customers: 3, Events: 3, NextRate: 1.0 / 3, DropOff: 2, MedianSeconds: 3600, Emotion: -3, Touchpoints: []LiveTouchpoint{
				{Key: "checkout", Expected: true, Events: 3, Customers: 3, Share: 1, RateUsers: 1.0 / 3, RateOthers: -1, Emotion: -3},
				{Key: "hotline", Expected: true, Share: 0, RateUsers: -1, RateOthers: 1.0 / 3, Emotion: -3},
			}},
			// The survey at 71 min is not on the map: it counts for the
			// stage u1 is in (after).
			{Key: "after", Customers: 1, Events: 1, NextRate: -1, MedianSeconds: -1, Emotion: 2, Answers: 1, Touchpoints: []LiveTouchpoint{
				{Key: "review", Expected: true, Events: 1, Customers: 1, Share: 1, RateUsers: -1, RateOthers: -1, Emotion: -3},
			}},
		},
	}
	// Touchpoints used: u2 1, u4 2, u3 3 (web, forum, checkout), u1 4 (web ads checkout review; completed).
	want.TouchpointsUsed = make([]UsedBucket, maxUsedBucket+1)
	for i := range want.TouchpointsUsed {
		want.TouchpointsUsed[i].Touchpoints = i
	}
	want.TouchpointsUsed[1].Customers = 1
	want.TouchpointsUsed[2].Customers = 1
	want.TouchpointsUsed[3].Customers = 1
	want.TouchpointsUsed[4] = UsedBucket{Touchpoints: 4, Customers: 1, Completed: 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("live map (-want +got):\n%s", d)
	}

	// One persona: u4 only.
	q.Persona = "gift"
	got, err = v.LiveMap(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Customers != 1 || got.Stages[0].Customers != 1 || got.Stages[0].NextRate != 1 || got.Stages[1].Customers != 1 {
		t.Errorf("persona gift: customers %d, discover %d (next %.2f), buy %d; want 1, 1 (1.00), 1",
			got.Customers, got.Stages[0].Customers, got.Stages[0].NextRate, got.Stages[1].Customers)
	}
}
