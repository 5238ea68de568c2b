package fileimport

import (
	"context"
	"strings"
	"testing"
)

// TestReadChunksAcrossBlocks reads the same input with blocks from a few
// bytes up: records, their line numbers and CSV fields with line breaks
// inside quotes come out the same whatever the block boundaries.
func TestReadChunksAcrossBlocks(t *testing.T) {
	input := "a,b\r\nline two\n\n\"quoted\nfield\",x\nlast without newline"
	if !strings.Contains(input, "\"quoted\nfield\"") {
		t.Fatal("bad fixture")
	}
	want := []struct {
		rec  string
		line int
	}{{"a,b", 2}, {"line two", 3}, {"", 4}, {"\"quoted\nfield\",x", 5}, {"last without newline", 7}}
	saved := blockSize
	defer func() { blockSize = saved }()
	for _, bs := range []int{1, 3, 7, 16, 64, 1 << 20} {
		blockSize = bs
		out := make(chan *chunk, 100)
		if err := readChunks(context.Background(), strings.NewReader(input), out, ','); err != nil {
			t.Fatal(err)
		}
		close(out)
		var got []struct {
			rec  string
			line int
		}
		var total int64
		for c := range out {
			total += c.bytes
			for i, l := range c.lines {
				got = append(got, struct {
					rec  string
					line int
				}{string(l), c.nums[i]})
			}
		}
		if len(got) != len(want) {
			t.Fatalf("block %d: %d records %v", bs, len(got), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("block %d record %d: %q line %d, want %q line %d", bs, i, got[i].rec, got[i].line, want[i].rec, want[i].line)
			}
		}
		if total != int64(len(input)) {
			t.Errorf("block %d: counted %d bytes of %d", bs, total, len(input))
		}
	}
}
