package duckdb

import (
	"context"
	"slices"
	"testing"

	"github.com/cjmhq/cjm/event"
)

func TestReadSeqs(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Append(ctx, msgs(1, 500)); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	err := s.ReadSeqs(ctx, "ws", []uint64{400, 3, 5, 3, 250, 900, 1}, func(m *event.Message) error {
		if m.WorkspaceID != "ws" || m.MessageID == "" {
			t.Errorf("message %+v", m)
		}
		got = append(got, m.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint64{1, 3, 5, 250, 400}) {
		t.Errorf("read %v", got)
	}
	got = nil
	if err := s.ReadSeqs(ctx, "other", []uint64{1, 2, 3}, func(m *event.Message) error { got = append(got, m.Seq); return nil }); err != nil || got != nil {
		t.Errorf("another workspace: %v, %v", got, err)
	}
	// More ranges than one query reads: the stored Seqs are close (one
	// range), the others far apart.
	spread := []uint64{1, 100, 200, 300, 400, 500}
	for i := range 200 {
		spread = append(spread, uint64(1+i*2))
	}
	for i := range 150 {
		spread = append(spread, uint64(10_000+i*5000)) // not stored, each its own range
	}
	n := 0
	if err := s.ReadSeqs(ctx, "ws", spread, func(*event.Message) error { n++; return nil }); err != nil || n != 205 {
		t.Errorf("spread: %d, %v", n, err)
	}
}
