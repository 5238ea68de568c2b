package profile

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/identity"
)

// BenchmarkIndex measures how fast the indexer takes events in: customers
// who identify and then buy or browse, on a map with two matchers, each
// customer's profile news from the identity graph too (relink) or not. It
// reports events per second.
func BenchmarkIndex(b *testing.B) {
	for _, relink := range []bool{false, true} {
		b.Run(fmt.Sprintf("relink=%v", relink), func(b *testing.B) { benchmarkIndex(b, relink) })
	}
}

func benchmarkIndex(b *testing.B, relink bool) {
	const customers = 20_000
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		e.addMap()
		var msgs []event.Message
		for i := range customers {
			uid := fmt.Sprintf("kh%06d", i)
			msgs = append(msgs,
				identify("a"+uid, uid, fmt.Sprintf(`{"name":"Nguyễn Văn %d","email":"kh%d@example.vn","phone":"09%08d"}`, i, i, i), at(i)),
				page("a"+uid, "", "san-pham", at(i+1)),
				track(uid, "Order Completed", `{"revenue":450000}`, at(i+2)),
				page("", uid, "trang-chu", at(i+3)),
			)
		}
		g := e.graph
		g.ids[e.ws.ID] = map[identity.Identifier]identity.ProfileID{}
		for i := range customers {
			p := identity.ProfileID(fmt.Sprintf("p_%06d", i))
			g.ids[e.ws.ID][identity.Identifier{Kind: identity.UserID, Value: fmt.Sprintf("kh%06d", i)}] = p
			g.ids[e.ws.ID][identity.Identifier{Kind: identity.AnonymousID, Value: fmt.Sprintf("akh%06d", i)}] = p
		}
		for i := 0; i < len(msgs); i += 50_000 {
			e.send(msgs[i:min(i+50_000, len(msgs))]...)
		}
		if relink {
			// As the identity resolver does: every new profile is news.
			var changed []identity.ProfileID
			for i := range customers {
				changed = append(changed, identity.ProfileID(fmt.Sprintf("p_%06d", i)))
			}
			e.ix.ProfilesChanged(context.Background(), e.ws.ID, changed, nil)
		}
		b.StartTimer()
		start := time.Now()
		if err := e.ix.CatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(msgs))/time.Since(start).Seconds(), "events/s")
	}
}
