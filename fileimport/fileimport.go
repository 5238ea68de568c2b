// Package fileimport reads files of events from offline channels (store POS,
// hotline, marketplace exports) into cjm through the ingestion pipeline:
// JSONL of Segment-spec messages, or CSV with a column mapping.
//
// Every bad line is reported with its line number and reason, written to the
// rejects file and kept in the rejected store; the good lines around it are
// stored. Re-importing a file stores nothing twice: lines with a messageId
// dedup on it, lines without one on an id derived from their content.
package fileimport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
)

// Format is a file format.
type Format string

// Formats.
const (
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// Options configure one import.
type Options struct {
	Pipeline    *ingest.Pipeline
	WorkspaceID string
	SourceID    string
	Format      Format
	// Name is the file name, used in reports and rejected records.
	Name string
	// CSV only: the column mapping, time format and zone.
	Mapping    Mapping
	TimeFormat string         // "" to auto-detect; a Go layout or strftime (%Y-%m-%d %H:%M:%S)
	Location   *time.Location // for CSV times without a zone (default UTC)
	// Rejects receives each rejected line as it was (CSV: with the header first).
	Rejects io.Writer
	// Progress is called about once a second and at the end.
	Progress func(Progress)
	// Now is the receive time stamped on the messages (default time.Now).
	Now func() time.Time
	// Workers parse in parallel (default GOMAXPROCS).
	Workers int
}

// Progress is how far an import is.
type Progress struct {
	Bytes      int64 // read so far
	Lines      int
	Accepted   int
	Duplicates int
	Rejected   int
	Elapsed    time.Duration
	// Ingested is how long it took until every line was durably stored
	// (acknowledged). Import returns then; loading into the event store goes
	// on in the pipeline (Pipeline.Flush waits for it).
	Ingested time.Duration
	Done     bool
}

// LineError is one rejected line.
type LineError struct {
	Line int `json:"line"`
	event.Error
	idx int // index of the record in its chunk
}

func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Error.Error()) }

// Summary is the result of an import.
type Summary struct {
	Progress
	// Errors lists the first rejected lines (at most MaxErrors).
	Errors []LineError `json:"errors"`
}

// MaxErrors is how many line errors a Summary keeps.
const MaxErrors = 1000

type chunk struct {
	lines [][]byte // raw records (without the final newline)
	nums  []int    // line number where each record starts
	bytes int64
}

// Import reads r to the end and returns once every good line is durably
// ingested. It returns an error only when the import as a whole failed
// (unreadable file, bad mapping, storage failure); bad lines are in the summary.
func Import(ctx context.Context, r io.Reader, o Options) (Summary, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	start := time.Now()
	br := bufio.NewReaderSize(r, 1<<20)
	var parse func(c *chunk, recv time.Time) ([]event.Message, []LineError)
	var header []byte
	switch o.Format {
	case JSONL:
		parse = func(c *chunk, recv time.Time) ([]event.Message, []LineError) { return parseJSONL(c, recv) }
	case CSV:
		p, hdr, err := newCSVParser(br, o)
		if err != nil {
			return Summary{}, err
		}
		header = hdr
		parse = p.parse
	default:
		return Summary{}, fmt.Errorf("unknown format %q (want jsonl or csv)", o.Format)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu        sync.Mutex
		sum       Summary
		failure   error
		rejectBuf bytes.Buffer
		lastShow  = time.Now()
	)
	if header != nil && o.Rejects != nil {
		rejectBuf.Write(header)
		rejectBuf.WriteByte('\n')
	}
	setFailure := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
		cancel()
	}
	chunks := make(chan *chunk, o.Workers*2)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				recv := o.Now().UTC()
				msgs, bad := parse(c, recv)
				var rejected []opstore.Rejected
				for _, le := range bad {
					rejected = append(rejected, opstore.Rejected{WorkspaceID: o.WorkspaceID, SourceID: o.SourceID, ReceivedAt: recv,
						Origin: fmt.Sprintf("import:%s:%d", o.Name, le.Line), Index: -1, Code: le.Code, Field: le.Field, Reason: le.Reason,
						Payload: string(c.lines[le.idx])})
				}
				for i := range msgs {
					msgs[i].WorkspaceID, msgs[i].SourceID = o.WorkspaceID, o.SourceID
				}
				res, err := o.Pipeline.Submit(ctx, msgs, rejected)
				if err != nil {
					setFailure(err)
					continue
				}
				mu.Lock()
				sum.Lines += len(c.lines)
				sum.Bytes += c.bytes
				sum.Accepted += res.Accepted
				sum.Duplicates += res.Duplicates
				sum.Rejected += len(bad)
				for _, le := range bad {
					if len(sum.Errors) < MaxErrors {
						sum.Errors = append(sum.Errors, le)
					}
					if o.Rejects != nil {
						rejectBuf.Write(c.lines[le.idx])
						rejectBuf.WriteByte('\n')
					}
				}
				if o.Progress != nil && time.Since(lastShow) >= time.Second {
					lastShow = time.Now()
					p := sum.Progress
					p.Elapsed = time.Since(start)
					o.Progress(p)
				}
				mu.Unlock()
			}
		}()
	}
	readErr := readChunks(ctx, br, chunks, o.Format == CSV)
	close(chunks)
	wg.Wait()
	if failure == nil && readErr != nil && !errors.Is(readErr, context.Canceled) {
		failure = readErr
	}
	if o.Rejects != nil && (sum.Rejected > 0) {
		if _, err := o.Rejects.Write(rejectBuf.Bytes()); err != nil && failure == nil {
			failure = fmt.Errorf("write rejects: %w", err)
		}
	}
	sortErrors(sum.Errors)
	sum.Ingested = time.Since(start)
	sum.Elapsed = sum.Ingested
	sum.Done = true
	if failure != nil {
		return sum, failure
	}
	if o.Progress != nil {
		o.Progress(sum.Progress)
	}
	return sum, nil
}

// blockSize is how much of the file a chunk covers (a variable for tests).
var blockSize = 4 << 20

// readChunks splits the input into chunks of records without copying them:
// it reads blocks of the file, and each record is a slice of its block. For
// CSV, a line break inside a quoted field does not end the record. A record
// cut by the end of a block is carried into the next block.
func readChunks(ctx context.Context, r io.Reader, out chan<- *chunk, csvQuotes bool) error {
	line := 1
	if csvQuotes {
		line = 2 // the header was line 1
	}
	var carry []byte
	for {
		buf := make([]byte, max(blockSize, 2*len(carry)))
		n := copy(buf, carry)
		m, err := io.ReadFull(r, buf[n:])
		buf = buf[:n+m]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return fmt.Errorf("read line %d: %w", line, err)
		}
		c := &chunk{}
		start, quotes, recLine := 0, 0, line
		for i := 0; ; {
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				break
			}
			end := i + j
			if csvQuotes {
				quotes += bytes.Count(buf[i:end], []byte{'"'})
			}
			line++
			i = end + 1
			if quotes%2 == 1 {
				continue // inside a quoted CSV field
			}
			c.lines = append(c.lines, bytes.TrimRight(buf[start:end], "\r"))
			c.nums = append(c.nums, recLine)
			start, quotes, recLine = i, 0, line
		}
		c.bytes = int64(start)
		carry, line = buf[start:], recLine
		if eof && len(carry) > 0 {
			c.lines = append(c.lines, bytes.TrimRight(carry, "\r\n"))
			c.nums = append(c.nums, recLine)
			c.bytes += int64(len(carry))
			carry = nil
		}
		if len(c.lines) > 0 {
			select {
			case out <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if eof {
			return nil
		}
	}
}

func parseJSONL(c *chunk, recv time.Time) ([]event.Message, []LineError) {
	msgs := make([]event.Message, 0, len(c.lines))
	var bad []LineError
	for i, l := range c.lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		m, err := event.Normalize(l, event.Defaults{ReceivedAt: recv})
		if err != nil {
			bad = append(bad, LineError{Line: c.nums[i], Error: *err, idx: i})
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, bad
}
