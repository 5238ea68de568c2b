// Package eventlog is the durable, append-only log between the collector and
// the event store.
//
// The collector acknowledges a batch only after Append returns, that is after
// its records are written and fsynced. Concurrent Appends are group-committed
// by a single flusher goroutine: one write and one fsync cover every record
// queued while the previous fsync ran. Consumers (the loader that feeds the
// event store, and others) keep their own offset, tail the log with Wait and
// ReadFrom, and call Release once they have durably stored what they read.
//
// On disk the log is a directory of segment files named after the sequence
// number of their first record (00000000000000000001.log). A segment is a run
// of frames:
//
//	[uint32 length][uint32 masked CRC-32C of payload][payload]   (little endian)
//
// The CRC is masked as in LevelDB, so that a zero-filled tail (which some file
// systems leave after a crash) does not read as a run of valid empty records.
// Sequence numbers are implicit: the first seq of the segment plus the index
// of the record in it. Open scans the last segment and truncates a torn or
// corrupt tail. A LOCK file (flock) keeps a second process from opening the
// same log.
package eventlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Append after Close, and by Wait once the log is
// closed.
var ErrClosed = errors.New("eventlog: closed")

const (
	defaultSegmentSize = 64 << 20
	headerSize         = 8
	// maxRecordSize bounds one record; a larger length in a frame header is
	// treated as corruption.
	maxRecordSize = 1 << 30
	// maxKeptBuffer is the largest pending buffer kept for reuse after a flush.
	maxKeptBuffer = 16 << 20
)

// Options tunes a Log. The zero value is the production setting.
type Options struct {
	SegmentSize int64         // roll to a new segment file after this many bytes (default 64 MiB)
	NoSync      bool          // skip fsync (benchmarks/tests only)
	MaxDelay    time.Duration // extra time the flusher may wait to gather a group (default 0: flush as soon as the previous fsync ends)
}

// Stats are counters since Open.
type Stats struct {
	Appends  uint64 // Append calls whose records were made durable
	Records  uint64 // records made durable
	Syncs    uint64 // group commits (one write + fsync each, more when a segment rolls)
	Bytes    int64  // bytes written to segment files, framing included
	Segments int    // segment files currently in the directory
}

// Log is a durable append-only log. All methods are safe for concurrent use.
type Log struct {
	dir  string
	opts Options

	mu      sync.Mutex
	wake    *sync.Cond // signals the flusher: records queued or closing
	cur     *batch     // records queued for the next group commit
	nextSeq uint64     // seq the next appended record gets
	closing bool
	err     error // sticky write or fsync failure; the log accepts nothing after it

	lastSeq atomic.Uint64 // highest durable seq

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced each time lastSeq advances

	flusherDone chan struct{}
	closed      chan struct{} // closed at the end of Close
	lock        *os.File      // holds the directory lock until Close

	// Owned by the flusher goroutine, and by Open and Close while it is not
	// running.
	active     *os.File
	activeSize int64

	segMu sync.RWMutex
	segs  []uint64 // first seq of each segment file, ascending; the last one is active

	releaseMu sync.Mutex // serialises Release so segments are unlinked oldest first

	readMu   sync.Mutex
	readPos  [readCacheSize]readPos
	readNext int

	appends, records, syncs atomic.Uint64
	bytes                   atomic.Int64
}

// batch is one group commit: framed records and the seq of the first one.
type batch struct {
	buf     []byte
	first   uint64
	n       int
	appends int
	res     *result
}

// result tells the Appends of one batch how its commit went. It is separate
// from batch because the flusher reuses batches while slow waiters may still
// be reading err.
type result struct {
	done chan struct{}
	err  error // set before done is closed
}

func newResult() *result { return &result{done: make(chan struct{})} }

// Open opens the log in dir, creating dir and the first segment if needed.
// It recovers from a crash by scanning the last segment and truncating a torn
// or corrupt tail (a bad length or CRC); it logs nothing itself.
func Open(dir string, opts Options) (*Log, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = defaultSegmentSize
	}
	if opts.MaxDelay < 0 {
		opts.MaxDelay = 0
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	l := &Log{
		dir:         dir,
		opts:        opts,
		cur:         &batch{res: newResult()},
		notify:      make(chan struct{}),
		flusherDone: make(chan struct{}),
		closed:      make(chan struct{}),
	}
	l.wake = sync.NewCond(&l.mu)
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	if err := l.recover(); err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	l.lock = lock
	l.nextSeq = l.lastSeq.Load() + 1
	go l.flushLoop()
	return l, nil
}

// Append writes records as consecutive sequence numbers and returns once they
// are durable (written and fsynced). It returns the seq of the first record.
// Records may be empty. If ctx is done while Append waits it returns
// ctx.Err(); the records may still become durable. With no records it returns
// the seq the next record will get.
func (l *Log) Append(ctx context.Context, records [][]byte) (first uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	size := 0
	for _, r := range records {
		if len(r) > maxRecordSize {
			return 0, fmt.Errorf("eventlog: record of %d bytes exceeds the limit of %d", len(r), maxRecordSize)
		}
		size += headerSize + len(r)
	}

	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return 0, err
	}
	first = l.nextSeq
	if len(records) == 0 {
		l.mu.Unlock()
		return first, nil
	}
	b := l.cur
	if b.n == 0 {
		b.first = first
	}
	buf := b.buf
	if cap(buf)-len(buf) < size {
		buf = growBuffer(buf, size)
	}
	for _, r := range records {
		buf = appendFrame(buf, r)
	}
	b.buf = buf
	b.n += len(records)
	b.appends++
	l.nextSeq += uint64(len(records))
	res := b.res
	l.wake.Signal()
	l.mu.Unlock()

	select {
	case <-res.done:
		if res.err != nil {
			return 0, res.err
		}
		return first, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// growBuffer returns buf with room for at least extra more bytes, doubling so
// that a reused buffer settles at its working size.
func growBuffer(buf []byte, extra int) []byte {
	n := max(2*cap(buf), len(buf)+extra, 64<<10)
	nb := make([]byte, len(buf), n)
	copy(nb, buf)
	return nb
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const crcMaskDelta = 0xa282ead8

// maskCRC hides the CRC of a payload so that a frame of zero bytes is not a
// valid empty record.
func maskCRC(c uint32) uint32 { return (c>>15 | c<<17) + crcMaskDelta }

func recordCRC(rec []byte) uint32 { return maskCRC(crc32.Checksum(rec, castagnoli)) }

func appendFrame(buf, rec []byte) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(rec)))
	buf = binary.LittleEndian.AppendUint32(buf, recordCRC(rec))
	return append(buf, rec...)
}

// flushLoop is the single writer: it takes the pending batch, writes and
// fsyncs it, publishes the new last seq and wakes the batch's Appends.
func (l *Log) flushLoop() {
	defer close(l.flusherDone)
	spare := &batch{}
	for {
		l.mu.Lock()
		for l.cur.n == 0 && !l.closing {
			l.wake.Wait()
		}
		if l.cur.n == 0 { // closing and drained
			l.mu.Unlock()
			return
		}
		if d := l.opts.MaxDelay; d > 0 && !l.closing {
			l.mu.Unlock()
			time.Sleep(d)
			l.mu.Lock()
		}
		b := l.cur
		spare.res = newResult()
		l.cur = spare
		err := l.err
		l.mu.Unlock()

		if err == nil {
			err = l.writeBatch(b)
		}
		if err == nil {
			l.appends.Add(uint64(b.appends))
			l.records.Add(uint64(b.n))
			l.syncs.Add(1)
			l.publish(b.first + uint64(b.n) - 1)
		} else {
			l.mu.Lock()
			if l.err == nil {
				l.err = err
			}
			l.mu.Unlock()
		}
		b.res.err = err
		close(b.res.done)

		b.res = nil
		b.n, b.appends = 0, 0
		b.buf = b.buf[:0]
		if cap(b.buf) > maxKeptBuffer {
			b.buf = nil
		}
		spare = b
	}
}

// writeBatch appends the frames of b to the active segment, rolling to new
// segments as they fill, and fsyncs.
func (l *Log) writeBatch(b *batch) error {
	buf, seq := b.buf, b.first
	for len(buf) > 0 {
		if l.activeSize >= l.opts.SegmentSize {
			if err := l.roll(seq); err != nil {
				return err
			}
		}
		// Take whole frames until the segment is full; at least one, since
		// the segment is not full here.
		n, count := 0, 0
		for n < len(buf) && l.activeSize+int64(n) < l.opts.SegmentSize {
			n += headerSize + int(binary.LittleEndian.Uint32(buf[n:]))
			count++
		}
		if _, err := l.active.Write(buf[:n]); err != nil {
			return fmt.Errorf("eventlog: write: %w", err)
		}
		l.activeSize += int64(n)
		l.bytes.Add(int64(n))
		buf = buf[n:]
		seq += uint64(count)
	}
	return l.syncFile(l.active)
}

// roll seals the active segment and starts a new one whose first record will
// have seq first.
func (l *Log) roll(first uint64) error {
	if err := l.syncFile(l.active); err != nil {
		return err
	}
	if err := l.active.Close(); err != nil {
		return fmt.Errorf("eventlog: close segment: %w", err)
	}
	l.active = nil
	f, err := createSegment(l.dir, first, !l.opts.NoSync)
	if err != nil {
		return err
	}
	l.active, l.activeSize = f, 0
	l.segMu.Lock()
	l.segs = append(l.segs, first)
	l.segMu.Unlock()
	return nil
}

func (l *Log) syncFile(f *os.File) error {
	if l.opts.NoSync {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("eventlog: fsync: %w", err)
	}
	return nil
}

// publish makes seqs up to last visible to LastSeq, ReadFrom and Wait.
func (l *Log) publish(last uint64) {
	l.lastSeq.Store(last)
	l.notifyMu.Lock()
	close(l.notify)
	l.notify = make(chan struct{})
	l.notifyMu.Unlock()
}

// LastSeq returns the highest durable seq, 0 if the log is empty.
func (l *Log) LastSeq() uint64 { return l.lastSeq.Load() }

// Wait blocks until LastSeq() > after, or ctx is done (it returns ctx.Err()),
// or the log is closed (it returns ErrClosed).
func (l *Log) Wait(ctx context.Context, after uint64) error {
	for {
		l.notifyMu.Lock()
		ch := l.notify
		l.notifyMu.Unlock()
		if l.lastSeq.Load() > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.closed:
			return ErrClosed
		}
	}
}

// Close makes everything already appended durable, closes the files and wakes
// every Wait. Further Appends return ErrClosed; ReadFrom and Release keep
// working on what is on disk. A second Close returns ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.closed
		return ErrClosed
	}
	l.closing = true
	l.wake.Signal()
	l.mu.Unlock()

	<-l.flusherDone
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if l.active != nil {
		if cerr := l.active.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("eventlog: close segment: %w", cerr)
		}
		l.active = nil
	}
	if l.lock != nil {
		l.lock.Close()
	}
	close(l.closed)
	return err
}

// Err returns the write or fsync failure that stopped the log, if any: once
// set, every Append fails with it.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Stats returns counters since Open.
func (l *Log) Stats() Stats {
	l.segMu.RLock()
	segs := len(l.segs)
	l.segMu.RUnlock()
	return Stats{
		Appends:  l.appends.Load(),
		Records:  l.records.Load(),
		Syncs:    l.syncs.Load(),
		Bytes:    l.bytes.Load(),
		Segments: segs,
	}
}
