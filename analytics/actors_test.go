package analytics

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSplitSessions cuts a person's events into sessions by id, and by a
// 30-minute gap where they have none; the quick path for runs of ids gives
// what the general one gives.
func TestSplitSessions(t *testing.T) {
	min := int64(60_000)
	v := &View{ts: []int64{0, 1 * min, 2 * min, 40 * min, 41 * min, 100 * min, 101 * min}}
	rows := []uint32{0, 1, 2, 3, 4, 5, 6}
	for _, tc := range []struct {
		name string
		sess []uint32
		want [][]uint32
	}{
		{"no ids: by the gap", nil, [][]uint32{{0, 1, 2}, {3, 4}, {5, 6}}},
		{"runs of ids", []uint32{1, 1, 2, 2, 2, 3, 3}, [][]uint32{{0, 1}, {2, 3, 4}, {5, 6}}},
		// The same code of the two fields is two sessions.
		{"the second field", []uint32{7, 7, 7, 7 | 1<<31, 7 | 1<<31, 7 | 1<<31, 7 | 1<<31}, [][]uint32{{0, 1, 2}, {3, 4, 5, 6}}},
		// Session 1 comes back after session 2: one session of its events.
		{"interleaved ids", []uint32{1, 2, 1, 2, 2, 3, 3}, [][]uint32{{0, 2}, {1, 3, 4}, {5, 6}}},
		// Events without an id are cut by the gap, after the sessions with ids.
		{"some without an id", []uint32{1, 1, 0, 0, 0, 0, 0}, [][]uint32{{0, 1}, {2}, {3, 4}, {5, 6}}},
	} {
		if got := v.splitSessions(rows, tc.sess); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
