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
	"sort"
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
	// Rejects receives each rejected line as it was (CSV: with the header
	// first); a line over the size limit is replaced by a note starting "# line N".
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
	lines [][]byte // raw records (without the final newline); nil for a too-long one
	nums  []int    // line number where each record starts
	bytes int64
	long  []longRecord // records rejected for their length
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
	var comma rune // CSV only
	switch o.Format {
	case JSONL:
		parse = func(c *chunk, recv time.Time) ([]event.Message, []LineError) { return parseJSONL(c, recv) }
	case CSV:
		p, hdr, err := newCSVParser(br, o)
		if err != nil {
			return Summary{}, err
		}
		header, comma = hdr, p.comma
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
		rejectErr error
		rejectN   int
		lastShow  = time.Now()
	)
	// writeReject writes a rejected line to the rejects file as it is found
	// (the CSV header first), so bad lines never pile up in memory. Called
	// with mu held.
	writeReject := func(line []byte) {
		if o.Rejects == nil || rejectErr != nil {
			return
		}
		if rejectN == 0 && header != nil {
			_, rejectErr = o.Rejects.Write(append(append([]byte(nil), header...), '\n'))
		}
		rejectN++
		if rejectErr == nil {
			_, rejectErr = o.Rejects.Write(append(append(make([]byte, 0, len(line)+1), line...), '\n'))
		}
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
				if len(c.long) > 0 {
					for _, l := range c.long {
						bad = append(bad, l.LineError)
					}
					sort.Slice(bad, func(i, j int) bool { return bad[i].idx < bad[j].idx })
				}
				var rejected []opstore.Rejected
				for _, le := range bad {
					payload, _ := c.rejected(le)
					rejected = append(rejected, opstore.Rejected{WorkspaceID: o.WorkspaceID, SourceID: o.SourceID, ReceivedAt: recv,
						Origin: fmt.Sprintf("import:%s:%d", o.Name, le.Line), Index: -1, Code: le.Code, Field: le.Field, Reason: le.Reason,
						Payload: string(payload)})
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
						_, line := c.rejected(le)
						writeReject(line)
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
	readErr := readChunks(ctx, br, chunks, comma)
	close(chunks)
	wg.Wait()
	if failure == nil && readErr != nil && !errors.Is(readErr, context.Canceled) {
		failure = readErr
	}
	if rejectErr != nil && failure == nil {
		failure = fmt.Errorf("write rejects: %w", rejectErr)
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

// maxRecord is the longest record an import takes, in bytes without its line
// break (a variable for tests). A longer one is rejected as line_too_long
// without being kept, and reading goes on after its end, so a file without
// line breaks, or with a quote that never closes, costs a few blocks of memory
// and not its size.
var maxRecord = 1 << 20

// longHead is how much of a too-long record the rejected store keeps.
const longHead = 64 << 10

// The states of the CSV record splitter, which follows RFC 4180 as
// encoding/csv reads it with LazyQuotes false: a quote opens a quoted field
// only at the start of a field; in a quoted field "" is an escaped quote and
// a lone quote closes it; a line break ends the record unless it is in a
// quoted field. A quote anywhere else is an error (ErrBareQuote, ErrQuote)
// that makes the record end with its line, as csv.Reader does, so one stray
// quote costs one line and not the rest of the file.
const (
	fieldStart  = iota // at the start of a field
	unquoted           // in an unquoted field
	quoted             // in a quoted field
	quotedQuote        // just after a quote in a quoted field
	badLine            // after a misplaced quote: the record ends with the line
)

// splitter finds where records end. For CSV it carries the quoting state
// across blocks.
type splitter struct {
	csv   bool
	comma byte
	st    int
	line  int // line number at the scan position
}

// end returns the index in b of the line break that ends the current record,
// or -1 if the record goes on past b. It counts the line breaks before it.
func (s *splitter) end(b []byte) int {
	if !s.csv {
		return bytes.IndexByte(b, '\n')
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch s.st {
		case fieldStart:
			switch c {
			case '"':
				s.st = quoted
			case s.comma:
			case '\n':
				return i
			default:
				s.st = unquoted
			}
		case unquoted:
			switch c {
			case s.comma:
				s.st = fieldStart
			case '\n':
				return i
			case '"':
				s.st = badLine // bare quote in an unquoted field
			}
		case quoted:
			j := bytes.IndexByte(b[i:], '"')
			if j < 0 {
				s.line += bytes.Count(b[i:], []byte{'\n'})
				return -1
			}
			s.line += bytes.Count(b[i:i+j], []byte{'\n'})
			i += j
			s.st = quotedQuote
		case quotedQuote:
			switch c {
			case '"':
				s.st = quoted // "" is an escaped quote
			case s.comma:
				s.st = fieldStart
			case '\n':
				return i
			default:
				s.st = badLine // extraneous quote in a quoted field ("\r\n" ends up here too)
			}
		default: // badLine
			if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
				return i + j
			}
			return -1
		}
	}
	return -1
}

// readChunks splits the input into chunks of records without copying them:
// it reads blocks of the file, and each record is a slice of its block. For
// CSV (comma is the separator; 0 for JSONL), a line break inside a quoted
// field does not end the record. A record cut by the end of a block is
// carried into the next block; one longer than maxRecord is not: it is
// reported as a rejected line and skipped to the next line break after the
// limit (in a quoted field too: past the limit a quote is taken as runaway).
func readChunks(ctx context.Context, r io.Reader, out chan<- *chunk, comma rune) error {
	sp := splitter{csv: comma != 0, comma: byte(comma), line: 1}
	if sp.csv {
		sp.line = 2 // the header was line 1
	}
	var (
		carry   []byte // the start of a record cut by the end of the previous block
		spare   []byte // a block no chunk refers to, to read into again
		recLine = sp.line
		over    bool   // the current record is longer than maxRecord
		head    []byte // its first longHead bytes
		dropped int64  // how much of it was read in earlier blocks and dropped
	)
	for {
		size := max(blockSize, 2*len(carry))
		var buf []byte
		if len(carry) == 0 && cap(spare) >= size {
			buf = spare[:size]
		} else {
			buf = make([]byte, size)
		}
		spare = nil
		n := copy(buf, carry)
		m, err := io.ReadFull(r, buf[n:])
		buf = buf[:n+m]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return fmt.Errorf("read line %d: %w", sp.line, err)
		}
		c := &chunk{}
		emit := func(rec []byte, length int64) {
			if !over {
				c.lines = append(c.lines, rec)
				c.nums = append(c.nums, recLine)
				return
			}
			if head == nil {
				head = bytes.Clone(rec[:min(len(rec), longHead)])
			}
			c.bytes += dropped
			c.long = append(c.long, longRecord{LineError: LineError{Line: recLine, idx: len(c.lines), Error: event.Error{Code: "line_too_long",
				Reason: fmt.Sprintf("the record on line %d is %d bytes, over the limit of %s (only its first %s are kept)", recLine, length, sizeString(maxRecord), sizeString(len(head)))}},
				head: head})
			c.lines = append(c.lines, nil)
			c.nums = append(c.nums, recLine)
		}
		start, i := 0, n // the splitter has seen buf[:n] already
		for {
			e := -1
			if !over {
				limit := min(len(buf), start+maxRecord+1)
				if e = sp.end(buf[i:limit]); e >= 0 {
					e += i
				} else if i = limit; limit == len(buf) {
					break
				} else {
					over = true // maxRecord+1 bytes and no end yet
				}
			}
			if over {
				j := bytes.IndexByte(buf[i:], '\n')
				if j < 0 {
					break
				}
				e = i + j
			}
			emit(bytes.TrimSuffix(buf[start:e], []byte{'\r'}), dropped+int64(e-start))
			sp.line++
			start, i = e+1, e+1
			sp.st, recLine, over, head, dropped = fieldStart, sp.line, false, nil, 0
		}
		c.bytes += int64(start)
		rest := buf[start:]
		carry = nil
		switch {
		case eof:
			if len(rest) > 0 || over {
				rec := bytes.TrimSuffix(rest, []byte{'\r'})
				over = over || len(rec) > maxRecord
				emit(rec, dropped+int64(len(rest)))
				c.bytes += int64(len(rest))
			}
		case over:
			if head == nil {
				head = bytes.Clone(rest[:min(len(rest), longHead)])
			}
			dropped += int64(len(rest))
		default:
			carry = rest
		}
		if len(c.lines) > 0 {
			select {
			case out <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else if len(carry) == 0 {
			spare = buf
		}
		if eof {
			return nil
		}
	}
}

// longRecord is a record rejected for its length.
type longRecord struct {
	LineError
	head []byte // its first longHead bytes
}

// rejected returns what the rejected store and the rejects file get for a
// rejected line: the line, or for a too-long one its start and a note.
func (c *chunk) rejected(le LineError) (payload, line []byte) {
	for _, l := range c.long {
		if l.idx == le.idx {
			return l.head, fmt.Appendf(nil, "# line %d is not copied here: %s", le.Line, le.Reason)
		}
	}
	return c.lines[le.idx], c.lines[le.idx]
}

func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func parseJSONL(c *chunk, recv time.Time) ([]event.Message, []LineError) {
	msgs := make([]event.Message, 0, len(c.lines))
	var bad []LineError
	for i, l := range c.lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		m, err := event.Normalize(l, event.Defaults{ReceivedAt: recv, File: true})
		if err != nil {
			bad = append(bad, LineError{Line: c.nums[i], Error: *err, idx: i})
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, bad
}
