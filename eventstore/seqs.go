package eventstore

import (
	"context"

	"github.com/cjmhq/cjm/event"
)

// SeqReader reads messages by their Seq: pages that list one person's
// events from an index of their Seqs (the profile timeline) read just
// those. The DuckDB store implements it.
type SeqReader interface {
	// ReadSeqs calls fn for each stored message of the workspace whose Seq
	// is one of seqs, in Seq order; Seqs no longer stored are skipped.
	ReadSeqs(ctx context.Context, workspaceID string, seqs []uint64, fn func(*event.Message) error) error
}
