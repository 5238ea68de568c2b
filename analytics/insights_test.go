package analytics

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/event"
)

// TestInsightsFindDemoStories runs the insights over the demo shop's data
// and checks that the stories built into it are found: the login wall (a
// fall in Product List Viewed → Product Viewed on the website from its
// date), the overloaded hotline (a spike of abandoned calls in its week),
// the sale (a spike of orders in its days) and cart abandonment (Checkout
// Started → Order Completed among the weakest steps).
func TestInsightsFindDemoStories(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo data set takes a few seconds")
	}
	ctx := context.Background()
	s := openStore(t)
	opts := demo.Options{Customers: 3000}
	var seq uint64
	_, err := demo.Generate(ctx, opts, func(src string, msgs []event.Message) error {
		for i := range msgs {
			seq++
			msgs[i].Seq, msgs[i].WorkspaceID, msgs[i].SourceID = seq, "ws", src
		}
		return s.Append(ctx, msgs)
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewIndex(s, "ws").View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ict, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	found, err := v.Insights(ctx, InsightQuery{Location: ict, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Logf("%6.0f %s", f.Score, f)
	}
	story := map[string]demo.Story{}
	for _, st := range demo.StoriesFor(opts) {
		story[st.Key] = st
	}
	near := func(a, b time.Time, d time.Duration) bool { return a.Sub(b).Abs() <= d }
	has := func(what string, ok func(Insight) bool) {
		t.Helper()
		for _, f := range found {
			if ok(f) {
				return
			}
		}
		t.Errorf("no finding of %s", what)
	}
	wall := story[demo.StoryLoginWall]
	has("the login wall", func(f Insight) bool {
		return f.Kind == ChangePoint && f.Steps[0] == "Product List Viewed" && f.Steps[1] == "Product Viewed" &&
			f.SegmentField == "source" && f.SegmentValue == "web" && f.After < f.Before && near(f.Start, wall.Start, 2*24*time.Hour)
	})
	hot := story[demo.StoryHotlineOverload]
	has("the hotline week", func(f Insight) bool {
		return f.Kind == EventSpike && slices.Contains(f.Events, "Call Abandoned") && f.Start.Before(hot.End) && f.End.After(hot.Start)
	})
	sale := story[demo.StoryCampaign]
	has("the sale", func(f Insight) bool {
		// Led by what customers did, not by the messages sent to them.
		return f.Kind == EventSpike && slices.Contains(f.Events, "Order Completed") && !outbound(f.Event) && f.Start.Before(sale.End) && f.End.After(sale.Start)
	})
	has("cart abandonment", func(f Insight) bool {
		return f.Kind == WeakTransition && f.Steps[0] == "Checkout Started" && f.Steps[1] == "Order Completed"
	})
}
