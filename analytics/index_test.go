package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/google/go-cmp/cmp"
)

// TestIndexCatchUp checks that the index reads every field it was asked
// for, more than one read of the store brings, for the events there at the
// start and for those that come later.
func TestIndexCatchUp(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	msg := func(seq int, user string) event.Message {
		props := fmt.Sprintf(`{"f1":"a%d","f2":"b%d","f3":"c%d","f4":"d%d","f5":"e%d","f6":"g%d"}`, seq, seq, seq, seq, seq, seq)
		return event.Message{Seq: uint64(seq), WorkspaceID: "ws", SourceID: "src", MessageID: fmt.Sprint("m", seq), Type: event.Track,
			Event: "E", UserID: user, Timestamp: t0.Add(time.Duration(seq) * time.Minute), Properties: json.RawMessage(props)}
	}
	if err := s.Append(ctx, []event.Message{msg(1, "u1"), msg(2, "u2"), msg(3, "u1")}); err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(s, "ws")
	fields := []string{"properties.f1", "properties.f2", "properties.f3", "properties.f4", "properties.f5", "properties.f6"}
	if err := ix.Want(ctx, fields...); err != nil {
		t.Fatal(err)
	}
	// values gives each field's values by person and time.
	values := func(v *View) [][]string {
		var out [][]string
		for _, f := range fields {
			codes, vals, err := v.column(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var col []string
			for _, c := range codes {
				col = append(col, vals[c])
			}
			out = append(out, col)
		}
		return out
	}
	want := func(seqs ...int) [][]string {
		var out [][]string
		for _, prefix := range []string{"a", "b", "c", "d", "e", "g"} {
			var col []string
			for _, q := range seqs {
				col = append(col, fmt.Sprint(prefix, q))
			}
			out = append(out, col)
		}
		return out
	}
	v, err := ix.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// People in order of first appearance: u1 (1, 3), u2 (2).
	if d := cmp.Diff(want(1, 3, 2), values(v)); d != "" {
		t.Errorf("first view (-want +got):\n%s", d)
	}
	if err := s.Append(ctx, []event.Message{msg(4, "u2"), msg(5, "u3")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if v, err = ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want(1, 3, 2, 4, 5), values(v)); d != "" {
		t.Errorf("after catching up (-want +got):\n%s", d)
	}
	if v.Persons() != 3 || v.Len() != 5 {
		t.Errorf("%d people, %d events; want 3, 5", v.Persons(), v.Len())
	}
}
