package eventlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

const (
	segmentExt    = ".log"
	segmentDigits = 20
	// readChunk is how much of a segment one read syscall fetches.
	readChunk = 256 << 10
	// readCacheSize is how many tailing positions ReadFrom remembers: one per
	// consumer that tails the log.
	readCacheSize = 8
)

// errTorn reports a frame that is cut short or fails its CRC.
var errTorn = errors.New("torn or corrupt frame")

func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", segmentDigits, first, segmentExt)
}

func (l *Log) segmentPath(first uint64) string {
	return filepath.Join(l.dir, segmentName(first))
}

// parseSegmentName returns the first seq of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != segmentDigits {
		return 0, false
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}

// listSegments returns the first seqs of the segment files in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	var segs []uint64
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			segs = append(segs, first)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// createSegment creates the empty segment file for first and, with sync,
// fsyncs the directory so the file survives a crash.
func createSegment(dir string, first uint64, sync bool) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, segmentName(first)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("eventlog: create segment: %w", err)
	}
	if sync {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("eventlog: fsync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("eventlog: fsync dir: %w", err)
	}
	return nil
}

// recover loads the segment index and opens the active segment, truncating a
// torn tail. Earlier segments were fsynced before the next one was created, so
// only the last one is scanned.
func (l *Log) recover() error {
	segs, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		f, err := createSegment(l.dir, 1, !l.opts.NoSync)
		if err != nil {
			return err
		}
		l.segs, l.active = []uint64{1}, f
		return nil
	}
	first := segs[len(segs)-1]
	f, err := os.OpenFile(l.segmentPath(first), os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("eventlog: open segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	fr := newFrameReader(f, 0)
	n := uint64(0)
	for {
		_, err := fr.next(false)
		if err != nil {
			if err == io.EOF || errors.Is(err, errTorn) {
				break
			}
			fr.release()
			f.Close()
			return fmt.Errorf("eventlog: recover %s: %w", segmentName(first), err)
		}
		n++
	}
	size := fr.off
	fr.release()
	if size < fi.Size() {
		if err := f.Truncate(size); err != nil {
			f.Close()
			return fmt.Errorf("eventlog: truncate torn tail: %w", err)
		}
		if err := l.syncFile(f); err != nil {
			f.Close()
			return err
		}
	}
	l.segs, l.active, l.activeSize = segs, f, size
	l.lastSeq.Store(first + n - 1)
	return nil
}

// frameReader reads frames from a segment file through a pooled buffer.
type frameReader struct {
	r     io.ReaderAt
	buf   *[]byte
	data  []byte // file bytes [start, start+len(data))
	start int64
	off   int64 // file offset of the next frame
}

var readBuffers = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

func newFrameReader(r io.ReaderAt, off int64) *frameReader {
	return &frameReader{r: r, buf: readBuffers.Get().(*[]byte), start: off, off: off}
}

func (fr *frameReader) release() {
	if cap(*fr.buf) <= 4*readChunk {
		readBuffers.Put(fr.buf)
	}
	fr.buf, fr.data = nil, nil
}

// fill makes need bytes from fr.off available in fr.data. It returns io.EOF
// if the file ends first.
func (fr *frameReader) fill(need int) error {
	if fr.off >= fr.start && fr.off+int64(need) <= fr.start+int64(len(fr.data)) {
		return nil
	}
	size := max(need, readChunk)
	if cap(*fr.buf) < size {
		*fr.buf = make([]byte, size)
	}
	n, err := fr.r.ReadAt((*fr.buf)[:size], fr.off)
	fr.start, fr.data = fr.off, (*fr.buf)[:n]
	if n >= need {
		return nil
	}
	if err == nil || err == io.EOF {
		return io.EOF
	}
	return err
}

// next returns the payload of the next frame, valid until the following call,
// and moves past it. With skip it reads only the header and returns nil. At a
// clean end of file it returns io.EOF; a cut or corrupt frame gives errTorn.
func (fr *frameReader) next(skip bool) ([]byte, error) {
	if err := fr.fill(headerSize); err != nil {
		if err == io.EOF && fr.off < fr.start+int64(len(fr.data)) {
			return nil, errTorn // a partial header
		}
		return nil, err
	}
	h := fr.data[fr.off-fr.start:]
	n := binary.LittleEndian.Uint32(h)
	crc := binary.LittleEndian.Uint32(h[4:])
	if n > maxRecordSize {
		return nil, errTorn
	}
	end := headerSize + int(n)
	if skip {
		fr.off += int64(end)
		return nil, nil
	}
	if err := fr.fill(end); err != nil {
		if err == io.EOF {
			return nil, errTorn
		}
		return nil, err
	}
	p := fr.data[fr.off-fr.start+headerSize : fr.off-fr.start+int64(end)]
	if recordCRC(p) != crc {
		return nil, errTorn
	}
	fr.off += int64(end)
	return p, nil
}

// readPos remembers where a tailing reader stopped: the record with seq next
// starts at offset off of segment seg.
type readPos struct {
	next, seg uint64
	off       int64
}

// segmentFor returns the segment holding seq and the last seq it can hold.
func (l *Log) segmentFor(seq uint64) (first, last uint64, ok bool) {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	i, found := slices.BinarySearch(l.segs, seq)
	if !found {
		i--
	}
	if i < 0 {
		return 0, 0, false
	}
	last = math.MaxUint64
	if i+1 < len(l.segs) {
		last = l.segs[i+1] - 1
	}
	return l.segs[i], last, true
}

func (l *Log) cachedOffset(seq, seg uint64) (int64, bool) {
	l.readMu.Lock()
	defer l.readMu.Unlock()
	for _, p := range l.readPos {
		if p.next == seq && p.seg == seg {
			return p.off, true
		}
	}
	return 0, false
}

// rememberOffset records where the reader that asked for seq stopped: it
// replaces that reader's entry, or the oldest one.
func (l *Log) rememberOffset(from uint64, p readPos) {
	l.readMu.Lock()
	defer l.readMu.Unlock()
	for i := range l.readPos {
		if l.readPos[i].next == from {
			l.readPos[i] = p
			return
		}
	}
	l.readPos[l.readNext] = p
	l.readNext = (l.readNext + 1) % readCacheSize
}

// ReadFrom calls fn for the durable records with seq > after, in order, at
// most max of them (max <= 0: no limit). rec is valid only during the call.
// It returns the last seq for which fn returned nil, or after if none. An
// error from fn stops the read and is returned. Reading records that Release
// deleted is an error.
func (l *Log) ReadFrom(after uint64, max int, fn func(seq uint64, rec []byte) error) (last uint64, err error) {
	end := l.LastSeq()
	if after >= end {
		return after, nil
	}
	if max > 0 && end-after > uint64(max) {
		end = after + uint64(max)
	}
	seq := after + 1
	for seq <= end {
		first, segLast, ok := l.segmentFor(seq)
		if !ok {
			return seq - 1, fmt.Errorf("eventlog: seq %d was released", seq)
		}
		next, err := l.readSegment(first, seq, min(end, segLast), fn)
		if err != nil {
			return next - 1, err
		}
		seq = next
	}
	return end, nil
}

// readSegment reads seqs from..to of the segment starting at seq first and
// returns the seq after the last record fn accepted.
func (l *Log) readSegment(first, from, to uint64, fn func(uint64, []byte) error) (uint64, error) {
	f, err := os.Open(l.segmentPath(first))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return from, fmt.Errorf("eventlog: seq %d was released", from)
		}
		return from, fmt.Errorf("eventlog: %w", err)
	}
	defer f.Close()

	off, cached := l.cachedOffset(from, first)
	fr := newFrameReader(f, off)
	defer fr.release()
	if !cached {
		for s := first; s < from; s++ {
			if _, err := fr.next(true); err != nil {
				return from, l.corrupt(first, s, err)
			}
		}
	}
	seq := from
	defer func() { l.rememberOffset(from, readPos{next: seq, seg: first, off: fr.off}) }()
	for ; seq <= to; seq++ {
		at := fr.off
		rec, err := fr.next(false)
		if err != nil {
			return seq, l.corrupt(first, seq, err)
		}
		if err := fn(seq, rec); err != nil {
			fr.off = at // resume at this record
			return seq, err
		}
	}
	return seq, nil
}

func (l *Log) corrupt(first, seq uint64, err error) error {
	if err == io.EOF || errors.Is(err, errTorn) {
		err = errTorn
	}
	return fmt.Errorf("eventlog: segment %s, seq %d: %w", segmentName(first), seq, err)
}

// Release deletes the segment files all of whose records have seq <= upTo,
// oldest first, never the active segment. Consumers call it once they have
// durably stored those records.
func (l *Log) Release(upTo uint64) error {
	upTo = min(upTo, l.LastSeq())
	l.releaseMu.Lock()
	defer l.releaseMu.Unlock()

	l.segMu.Lock()
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1]-1 <= upTo {
		n++
	}
	gone := slices.Clone(l.segs[:n])
	l.segs = slices.Delete(l.segs, 0, n)
	l.segMu.Unlock()

	// One at a time, each unlink made durable before the next, so a crash
	// never leaves a hole in the middle of the log.
	for _, first := range gone {
		if err := os.Remove(l.segmentPath(first)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("eventlog: release: %w", err)
		}
		if !l.opts.NoSync {
			if err := syncDir(l.dir); err != nil {
				return err
			}
		}
	}
	return nil
}
