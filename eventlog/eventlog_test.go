package eventlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// payload is the deterministic content of record i of an append identified by
// (writer, n); its size varies with i, zero included.
func payload(writer, n, i int) []byte {
	head := fmt.Sprintf("w%d/a%d/r%d:", writer, n, i)
	size := (n*7 + i*13) % 300
	b := make([]byte, 0, len(head)+size)
	b = append(b, head...)
	for j := range size {
		b = append(b, byte('a'+(n+i+j)%26))
	}
	return b
}

func openLog(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, recs [][]byte) uint64 {
	t.Helper()
	first, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

// readAll returns every durable record after seq after, checking that seqs
// are consecutive.
func readAll(t testing.TB, l *Log, after uint64) [][]byte {
	t.Helper()
	var out [][]byte
	want := after + 1
	last, err := l.ReadFrom(after, 0, func(seq uint64, rec []byte) error {
		if seq != want {
			return fmt.Errorf("got seq %d, want %d", seq, want)
		}
		want++
		out = append(out, slices.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatalf("ReadFrom(%d): %v", after, err)
	}
	if last != after+uint64(len(out)) {
		t.Fatalf("ReadFrom(%d) returned last %d after %d records", after, last, len(out))
	}
	return out
}

func segmentFiles(t testing.TB, dir string) []uint64 {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		segmentSize int64
		appends     int
		perAppend   int
		minSegments int
	}{
		{"one segment", 0, 50, 10, 1},
		{"rolls", 4 << 10, 200, 7, 10},
		{"record per segment", 1, 30, 3, 90},
		{"single records", 2 << 10, 300, 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, Options{SegmentSize: tt.segmentSize})
			defer l.Close()
			var want [][]byte
			for n := range tt.appends {
				recs := make([][]byte, tt.perAppend)
				for i := range recs {
					recs[i] = payload(0, n, i)
				}
				first := mustAppend(t, l, recs)
				if first != uint64(len(want))+1 {
					t.Fatalf("append %d: first = %d, want %d", n, first, len(want)+1)
				}
				want = append(want, recs...)
			}
			if got := l.LastSeq(); got != uint64(len(want)) {
				t.Fatalf("LastSeq = %d, want %d", got, len(want))
			}
			if s := l.Stats(); s.Segments < tt.minSegments || s.Records != uint64(len(want)) || s.Appends != uint64(tt.appends) {
				t.Fatalf("Stats = %+v, want >= %d segments, %d records, %d appends", s, tt.minSegments, len(want), tt.appends)
			}
			if got := readAll(t, l, 0); !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("read back %d records, differing from the %d appended", len(got), len(want))
			}
			// From an arbitrary seq (scans its segment from the start).
			for _, after := range []uint64{1, uint64(len(want)) / 3, uint64(len(want)) - 1} {
				if got := readAll(t, l, after); !slices.EqualFunc(got, want[after:], bytes.Equal) {
					t.Fatalf("read after %d differs", after)
				}
			}
			// Tailing in pages of 7 (the cached-offset path), across segments.
			var got [][]byte
			for after := uint64(0); ; {
				last, err := l.ReadFrom(after, 7, func(seq uint64, rec []byte) error {
					got = append(got, slices.Clone(rec))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if last == after {
					break
				}
				if last-after > 7 {
					t.Fatalf("ReadFrom(%d, 7) returned %d records", after, last-after)
				}
				after = last
			}
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("paged read differs")
			}
			// Past the end.
			if last, err := l.ReadFrom(uint64(len(want)), 0, func(uint64, []byte) error { return errors.New("called") }); err != nil || last != uint64(len(want)) {
				t.Fatalf("ReadFrom(end) = %d, %v", last, err)
			}
		})
	}
}

func TestEmptyRecordsAndAppends(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{NoSync: true})
	defer l.Close()
	if first := mustAppend(t, l, nil); first != 1 {
		t.Fatalf("empty Append on a new log = %d, want 1", first)
	}
	if first := mustAppend(t, l, [][]byte{{}, nil, []byte("x"), {}}); first != 1 {
		t.Fatalf("first = %d, want 1", first)
	}
	if first := mustAppend(t, l, nil); first != 5 {
		t.Fatalf("empty Append = %d, want 5", first)
	}
	got := readAll(t, l, 0)
	want := [][]byte{{}, {}, []byte("x"), {}}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConcurrentAppend(t *testing.T) {
	const writers, appends = 8, 1000
	l := openLog(t, t.TempDir(), Options{SegmentSize: 256 << 10})
	defer l.Close()

	type ack struct{ writer, n, first, count int }
	acks := make([][]ack, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range appends {
				recs := make([][]byte, 1+n%3)
				for i := range recs {
					recs[i] = payload(w, n, i)
				}
				first, err := l.Append(context.Background(), recs)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				acks[w] = append(acks[w], ack{w, n, int(first), len(recs)})
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every seq is covered by exactly one append, and the record there is
	// the one that append wrote.
	total := 0
	bySeq := map[int]ack{}
	for _, as := range acks {
		for _, a := range as {
			total += a.count
			for i := range a.count {
				if prev, dup := bySeq[a.first+i]; dup {
					t.Fatalf("seq %d given to %+v and %+v", a.first+i, prev, a)
				}
				bySeq[a.first+i] = a
			}
		}
	}
	if got := l.LastSeq(); got != uint64(total) {
		t.Fatalf("LastSeq = %d, want %d", got, total)
	}
	recs := readAll(t, l, 0)
	if len(recs) != total {
		t.Fatalf("read %d records, want %d", len(recs), total)
	}
	for i, rec := range recs {
		seq := i + 1
		a, ok := bySeq[seq]
		if !ok {
			t.Fatalf("seq %d was never acknowledged", seq)
		}
		if want := payload(a.writer, a.n, seq-a.first); !bytes.Equal(rec, want) {
			t.Fatalf("seq %d = %q, want %q", seq, rec, want)
		}
	}
	s := l.Stats()
	t.Logf("stats: %+v (%.1f appends per group commit)", s, float64(s.Appends)/float64(s.Syncs))
	if s.Appends != writers*appends || s.Syncs > s.Appends {
		t.Fatalf("Stats = %+v", s)
	}
}

// TestTailWhileAppending runs a Wait/ReadFrom consumer next to appenders, the
// way the loader tails the log, and Releases what it consumed.
func TestTailWhileAppending(t *testing.T) {
	const writers, appends = 4, 300
	l := openLog(t, t.TempDir(), Options{SegmentSize: 8 << 10, NoSync: true})
	defer l.Close()

	total := writers * appends * 2
	consumed := make(chan error, 1)
	go func() {
		var after uint64
		for after < uint64(total) {
			if err := l.Wait(context.Background(), after); err != nil {
				consumed <- err
				return
			}
			last, err := l.ReadFrom(after, 50, func(seq uint64, rec []byte) error {
				if !bytes.HasPrefix(rec, []byte("w")) {
					return fmt.Errorf("seq %d: bad record %q", seq, rec)
				}
				return nil
			})
			if err != nil {
				consumed <- err
				return
			}
			if err := l.Release(last); err != nil {
				consumed <- err
				return
			}
			after = last
		}
		consumed <- nil
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range appends {
				if _, err := l.Append(context.Background(), [][]byte{payload(w, n, 0), payload(w, n, 1)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-consumed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("consumer did not catch up")
	}
	if s := l.Stats(); s.Segments > 2 {
		t.Fatalf("after releasing everything %d segments remain", s.Segments)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	var want [][]byte
	for round := range 3 {
		l := openLog(t, dir, Options{SegmentSize: 2 << 10})
		if got := l.LastSeq(); got != uint64(len(want)) {
			t.Fatalf("round %d: LastSeq after reopen = %d, want %d", round, got, len(want))
		}
		for n := range 40 {
			recs := [][]byte{payload(round, n, 0), payload(round, n, 1)}
			if first := mustAppend(t, l, recs); first != uint64(len(want))+1 {
				t.Fatalf("round %d: first = %d, want %d", round, first, len(want)+1)
			}
			want = append(want, recs...)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(context.Background(), [][]byte{[]byte("late")}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Append after Close = %v, want ErrClosed", err)
		}
		if err := l.Close(); !errors.Is(err, ErrClosed) {
			t.Fatalf("second Close = %v, want ErrClosed", err)
		}
		// Reading what is on disk still works after Close.
		if got := readAll(t, l, 0); len(got) != len(want) {
			t.Fatalf("read after Close: %d records, want %d", len(got), len(want))
		}
	}
	l := openLog(t, dir, Options{})
	defer l.Close()
	if got := readAll(t, l, 0); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("after reopen read %d records, differing from the %d appended", len(got), len(want))
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{NoSync: true})
	if _, err := Open(dir, Options{NoSync: true}); err == nil {
		t.Fatal("a second Open of a log in use succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	openLog(t, dir, Options{NoSync: true}).Close()
}

func TestTornTail(t *testing.T) {
	const records = 10
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, size int64, lastFrame int64)
		keep   int // records that survive
	}{
		{"cut mid payload", func(t *testing.T, path string, size, last int64) {
			truncate(t, path, size-3)
		}, records - 1},
		{"cut mid header", func(t *testing.T, path string, size, last int64) {
			truncate(t, path, last+5)
		}, records - 1},
		{"cut at frame boundary", func(t *testing.T, path string, size, last int64) {
			truncate(t, path, last)
		}, records - 1},
		{"flipped payload byte", func(t *testing.T, path string, size, last int64) {
			flip(t, path, size-1)
		}, records - 1},
		{"flipped crc byte", func(t *testing.T, path string, size, last int64) {
			flip(t, path, last+4)
		}, records - 1},
		{"huge length", func(t *testing.T, path string, size, last int64) {
			flip(t, path, last+3)
		}, records - 1},
		{"zero-filled tail", func(t *testing.T, path string, size, last int64) {
			appendBytes(t, path, make([]byte, 64))
		}, records},
		{"garbage tail", func(t *testing.T, path string, size, last int64) {
			appendBytes(t, path, []byte("\x05\x00\x00\x00garbage"))
		}, records},
		{"flipped byte in an earlier record", func(t *testing.T, path string, size, last int64) {
			flip(t, path, 8) // first payload byte of record 1
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, Options{})
			var want [][]byte
			for n := range records {
				rec := payload(0, n+1, 1)
				mustAppend(t, l, [][]byte{rec})
				want = append(want, rec)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, segmentName(1))
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			lastFrame := fi.Size() - int64(headerSize+len(want[records-1]))
			tt.damage(t, path, fi.Size(), lastFrame)

			l = openLog(t, dir, Options{})
			defer l.Close()
			if got := l.LastSeq(); got != uint64(tt.keep) {
				t.Fatalf("LastSeq after recovery = %d, want %d", got, tt.keep)
			}
			fi, err = os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			var wantSize int64
			for _, r := range want[:tt.keep] {
				wantSize += int64(headerSize + len(r))
			}
			if fi.Size() != wantSize {
				t.Fatalf("segment is %d bytes after recovery, want %d", fi.Size(), wantSize)
			}
			next := []byte("after recovery")
			if first := mustAppend(t, l, [][]byte{next}); first != uint64(tt.keep)+1 {
				t.Fatalf("next Append got seq %d, want %d", first, tt.keep+1)
			}
			wantAll := append(slices.Clone(want[:tt.keep]), next)
			if got := readAll(t, l, 0); !slices.EqualFunc(got, wantAll, bytes.Equal) {
				t.Fatalf("read %q, want %q", got, wantAll)
			}
		})
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x80
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestRelease(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 1 << 10})
	var want [][]byte
	for n := range 100 {
		rec := payload(0, n, 0)
		mustAppend(t, l, [][]byte{rec})
		want = append(want, rec)
	}
	segs := segmentFiles(t, dir)
	if len(segs) < 5 {
		t.Fatalf("only %d segments; the test needs several", len(segs))
	}
	segLast := func(i int) uint64 { return segs[i+1] - 1 }

	tests := []struct {
		name  string
		upTo  uint64
		first uint64 // first segment left
	}{
		{"nothing consumed", 0, segs[0]},
		{"inside the first segment", segLast(0) - 1, segs[0]},
		{"exactly the first segment", segLast(0), segs[1]},
		{"into the third segment", segLast(2) + 1, segs[3]},
		{"everything", 1 << 62, segs[len(segs)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.Release(tt.upTo); err != nil {
				t.Fatal(err)
			}
			left := segmentFiles(t, dir)
			if left[0] != tt.first || left[len(left)-1] != segs[len(segs)-1] {
				t.Fatalf("segments left %v, want %d..%d", left, tt.first, segs[len(segs)-1])
			}
			if got := l.Stats().Segments; got != len(left) {
				t.Fatalf("Stats.Segments = %d, files %d", got, len(left))
			}
			after := tt.first - 1
			if got := readAll(t, l, after); !slices.EqualFunc(got, want[after:], bytes.Equal) {
				t.Fatalf("read after release differs")
			}
			if tt.first > 1 {
				if _, err := l.ReadFrom(0, 0, func(uint64, []byte) error { return nil }); err == nil {
					t.Fatal("reading released records did not fail")
				}
			}
		})
	}

	// The active segment survives a Release of everything, and seqs survive
	// a reopen with the old segments gone.
	mustAppend(t, l, [][]byte{[]byte("more")})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{SegmentSize: 1 << 10})
	defer l.Close()
	if got := l.LastSeq(); got != 101 {
		t.Fatalf("LastSeq after reopen = %d, want 101", got)
	}
	if first := mustAppend(t, l, [][]byte{[]byte("again")}); first != 102 {
		t.Fatalf("first = %d, want 102", first)
	}
}

func TestWait(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{NoSync: true})
	ctx := context.Background()

	waitErr := func(after uint64) chan error {
		ch := make(chan error, 1)
		go func() { ch <- l.Wait(ctx, after) }()
		return ch
	}
	expect := func(ch chan error, want error) {
		t.Helper()
		select {
		case err := <-ch:
			if !errors.Is(err, want) {
				t.Fatalf("Wait = %v, want %v", err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Wait did not return")
		}
	}
	expectBlocked := func(ch chan error) {
		t.Helper()
		select {
		case err := <-ch:
			t.Fatalf("Wait returned early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}

	w := waitErr(0)
	expectBlocked(w)
	mustAppend(t, l, [][]byte{[]byte("a")})
	expect(w, nil)

	expect(waitErr(0), nil) // already past

	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(tctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a timeout = %v", err)
	}

	w = waitErr(1)
	expectBlocked(w)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	expect(w, ErrClosed)
	expect(waitErr(5), ErrClosed)
	expect(waitErr(0), nil) // the data is there
}

func TestAppendContext(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{MaxDelay: 300 * time.Millisecond})
	defer l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, [][]byte{[]byte("never")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a done ctx = %v", err)
	}

	// Cancelled while waiting for the group commit (held back by MaxDelay):
	// Append returns at once, and the record still becomes durable.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, err := l.Append(ctx, [][]byte{[]byte("late")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append cancelled while waiting = %v", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("cancelled Append took %v", d)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := l.Wait(wctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, l, 0); len(got) != 1 || string(got[0]) != "late" {
		t.Fatalf("log holds %q, want just \"late\"", got)
	}
}

func TestReadFromError(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{NoSync: true, SegmentSize: 512})
	defer l.Close()
	for n := range 50 {
		mustAppend(t, l, [][]byte{payload(0, n, 0)})
	}
	stop := errors.New("stop")
	tests := []struct {
		after, failAt, wantLast uint64
	}{
		{0, 1, 0},
		{0, 10, 9},
		{9, 30, 29},
		{29, 50, 49},
	}
	for _, tt := range tests {
		var seen []uint64
		last, err := l.ReadFrom(tt.after, 0, func(seq uint64, rec []byte) error {
			seen = append(seen, seq)
			if seq == tt.failAt {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || last != tt.wantLast {
			t.Fatalf("ReadFrom(%d) failing at %d = %d, %v; want %d, stop", tt.after, tt.failAt, last, err, tt.wantLast)
		}
		if len(seen) == 0 || seen[0] != tt.after+1 || seen[len(seen)-1] != tt.failAt {
			t.Fatalf("fn saw %v", seen)
		}
	}
}

const crashEnv = "CJM_EVENTLOG_CRASH_DIR"

// TestCrashHelper is the child process of TestCrash: it appends from several
// goroutines until killed and prints each acknowledged range as
// "first count writer n".
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("helper process for TestCrash")
	}
	round, _ := strconv.Atoi(os.Getenv(crashEnv + "_ROUND"))
	// Rounds after the first hold groups back a little, which widens the
	// window in which a record is queued but not yet durable.
	l, err := Open(dir, Options{SegmentSize: 64 << 10, MaxDelay: time.Duration(round) * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out sync.Mutex
	deadline := time.Now().Add(20 * time.Second) // in case nobody kills us
	var wg sync.WaitGroup
	for w := range 4 {
		writer := round*10 + w
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				recs := make([][]byte, 1+n%20)
				for i := range recs {
					recs[i] = payload(writer, n, i)
				}
				first, err := l.Append(context.Background(), recs)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				line := fmt.Sprintf("%d %d %d %d\n", first, len(recs), writer, n)
				out.Lock()
				os.Stdout.WriteString(line)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(3)
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	dir := t.TempDir()
	type ack struct{ first, count, writer, n int }
	var acks []ack
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, fmt.Sprintf("%s_ROUND=%d", crashEnv, round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The reader never blocks, so stdout never pushes back on the helper:
		// acknowledgements keep coming right up to the kill.
		var got []string
		var raw string
		firstAck := make(chan struct{})
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			r := bufio.NewReader(stdout)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					raw = line // a partial last line: not an ack
					return
				}
				if len(got) == 0 {
					close(firstAck)
				}
				got = append(got, line)
			}
		}()
		// Kill ~300 ms after the first acknowledgement.
		select {
		case <-firstAck:
		case <-readDone:
			cmd.Wait()
			t.Fatalf("round %d: helper printed nothing; stderr: %s", round, stderr.String())
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: no acknowledgement from the helper; stderr: %s", round, stderr.String())
		}
		time.Sleep(300 * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-readDone
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper ended with %v, not killed; stderr: %s", round, err, stderr.String())
		}
		for _, line := range got {
			var a ack
			if _, err := fmt.Sscanf(line, "%d %d %d %d\n", &a.first, &a.count, &a.writer, &a.n); err != nil {
				t.Fatalf("bad line %q: %v", line, err)
			}
			acks = append(acks, a)
		}

		// Every acknowledged record of every round so far is there.
		l := openLog(t, dir, Options{SegmentSize: 64 << 10})
		recs := readAll(t, l, 0)
		maxSeq := 0
		for _, a := range acks {
			maxSeq = max(maxSeq, a.first+a.count-1)
			for i := range a.count {
				seq := a.first + i
				if seq > len(recs) {
					t.Fatalf("round %d: acknowledged seq %d lost (log ends at %d)", round, seq, len(recs))
				}
				if want := payload(a.writer, a.n, i); !bytes.Equal(recs[seq-1], want) {
					t.Fatalf("round %d: seq %d = %q, want %q", round, seq, recs[seq-1], want)
				}
			}
		}
		t.Logf("round %d: %d acks in total, highest acknowledged seq %d, log holds %d records in %d segments (partial line %q)",
			round, len(acks), maxSeq, len(recs), l.Stats().Segments, raw)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func benchRecords(n, size int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = bytes.Repeat([]byte{byte('a' + i%26)}, size)
	}
	return recs
}

// BenchmarkAppend is one collector connection: batches of 100 records of
// 400 bytes, each acknowledged after its fsync.
func BenchmarkAppend(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{})
	defer l.Close()
	recs := benchRecords(100, 400)
	ctx := context.Background()
	b.SetBytes(100 * 400)
	b.ResetTimer()
	for range b.N {
		if _, err := l.Append(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendParallel is many collector requests at once, group-committed;
// it also reports the p99 time to acknowledge one batch.
func BenchmarkAppendParallel(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{})
	defer l.Close()
	ctx := context.Background()
	var mu sync.Mutex
	var lat []time.Duration
	b.SetBytes(100 * 400)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		recs := benchRecords(100, 400)
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			if _, err := l.Append(ctx, recs); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(lat)
	s := l.Stats()
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	if s.Syncs > 0 {
		b.ReportMetric(float64(s.Appends)/float64(s.Syncs), "appends/sync")
	}
}

// BenchmarkReadFrom is the loader tailing the log 1000 records at a time.
func BenchmarkReadFrom(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{NoSync: true})
	defer l.Close()
	recs := benchRecords(100, 400)
	for range 1000 {
		if _, err := l.Append(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(1000 * 400)
	b.ResetTimer()
	var after uint64
	for range b.N {
		last, err := l.ReadFrom(after, 1000, func(uint64, []byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		after = last
		if after == l.LastSeq() {
			after = 0
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}
