package analytics

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
)

// TestIndexesBuildInBackground checks that the first view of a workspace
// bigger than InlineBuild is built in the background: View says so, with
// the progress, until the view is ready; a small one is built at once.
func TestIndexesBuildInBackground(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var ms []event.Message
	for i := range 2000 {
		ms = append(ms, event.Message{Seq: uint64(i + 1), WorkspaceID: "big", SourceID: "src", MessageID: fmt.Sprint("m", i), Type: event.Track,
			Event: "E", UserID: fmt.Sprint("u", i%100), Timestamp: t0.Add(time.Duration(i) * time.Second)})
	}
	ms = append(ms, event.Message{Seq: 2001, WorkspaceID: "small", SourceID: "src", MessageID: "s1", Type: event.Track, Event: "E", UserID: "u", Timestamp: t0})
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	defer func(n int64) { InlineBuild = n }(InlineBuild)
	InlineBuild = 1000
	ixs := NewIndexes(s, nil)
	defer ixs.Close()

	if v, err := ixs.View(ctx, "small"); err != nil || v.Len() != 1 {
		t.Fatalf("small workspace: %v, %v; want its view at once", v, err)
	}
	_, err := ixs.View(ctx, "big")
	var ie *IndexingError
	if !errors.As(err, &ie) || !errors.Is(err, ErrIndexing) || ie.Percent() < 0 || ie.Percent() > 100 {
		t.Fatalf("big workspace: %v; want an IndexingError", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := ixs.View(ctx, "big")
		if err == nil {
			if v.Len() != 2000 || v.Persons() != 100 {
				t.Errorf("big view: %d events, %d people; want 2000, 100", v.Len(), v.Persons())
			}
			break
		}
		if !errors.Is(err, ErrIndexing) || time.Now().After(deadline) {
			t.Fatalf("waiting for the big view: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
