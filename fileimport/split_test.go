package fileimport

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

type rec struct {
	text string
	line int
	long bool
}

func (r rec) String() string { return fmt.Sprintf("{%q %d %v}", r.text, r.line, r.long) }

// records runs readChunks over input and returns its records.
func records(t testing.TB, input string, comma rune) (recs []rec, total int64) {
	t.Helper()
	out := make(chan *chunk, 1000)
	errc := make(chan error, 1)
	go func() { errc <- readChunks(context.Background(), strings.NewReader(input), out, comma); close(out) }()
	for c := range out {
		total += c.bytes
		long := map[int]bool{}
		for _, l := range c.long {
			long[l.idx] = true
			if c.lines[l.idx] != nil || l.Code != "line_too_long" || l.Line != c.nums[l.idx] {
				t.Errorf("long record %+v, line %q", l.LineError, c.lines[l.idx])
			}
		}
		for i, l := range c.lines {
			recs = append(recs, rec{string(l), c.nums[i], long[i]})
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return recs, total
}

// TestSplitLikeEncodingCSV checks on random CSV that splitting into records
// and then reading each record alone gives what encoding/csv gives reading
// the whole input: the same records or errors, on the same lines.
func TestSplitLikeEncodingCSV(t *testing.T) {
	defer SetLimits(blockSize, maxRecord)()
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "b", "x y", ",", ",", `"`, `"`, `""`, "\n", "\n", "\r\n", ";", "\r"}
	for iter := range 3000 {
		var sb strings.Builder
		for range rng.IntN(40) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		input := sb.String()
		comma := []rune{',', ';'}[iter%2]

		type res struct {
			fields string
			err    error
			line   int
		}
		var want []res
		r := csv.NewReader(strings.NewReader(input))
		r.Comma, r.FieldsPerRecord = comma, -1
		var prev int64
		for {
			f, err := r.Read()
			if err == io.EOF {
				break
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				prev = r.InputOffset()
				want = append(want, res{err: pe.Err, line: pe.StartLine + 1})
				continue
			}
			off := r.InputOffset()
			if strings.TrimSpace(input[prev:off]) == "" {
				prev = off
				continue // a blank line: the parsers skip it
			}
			prev = off
			line, _ := r.FieldPos(0)
			want = append(want, res{fields: fmt.Sprintf("%q", f), line: line + 1})
		}
		for _, bs := range []int{1, 2, 3, 5, 16, 1 << 10} {
			blockSize = bs
			recs, total := records(t, input, comma)
			if total != int64(len(input)) {
				t.Errorf("%q block %d: counted %d bytes", input, bs, total)
			}
			var got []res
			for _, rc := range recs {
				if strings.TrimSpace(rc.text) == "" {
					continue // the parsers skip blank records
				}
				r := csv.NewReader(strings.NewReader(rc.text))
				r.Comma, r.FieldsPerRecord = comma, -1
				f, err := r.Read()
				var pe *csv.ParseError
				switch {
				case strings.Contains(rc.text, "\r"):
					// Read alone, a record loses the \r\n normalisation of
					// its line end: only its line matters here.
					w := res{line: rc.line}
					if i := len(got); i < len(want) {
						w.fields, w.err = want[i].fields, want[i].err
					}
					got = append(got, w)
				case errors.As(err, &pe):
					got = append(got, res{err: pe.Err, line: rc.line})
				default:
					got = append(got, res{fields: fmt.Sprintf("%q", f), line: rc.line})
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%q comma %q block %d:\n got %v\nwant %v", input, comma, bs, got, want)
			}
		}
	}
}

// TestSplitQuotedAcrossBlocks reads quoted fields with "" escapes, line
// breaks and separators in them, and stray quotes, with block boundaries
// everywhere.
func TestSplitQuotedAcrossBlocks(t *testing.T) {
	defer SetLimits(blockSize, maxRecord)()
	input := "u1;\"he said \"\"hi\"\"\nthen \"\"bye\"\";\n\"\"\";x\r\n" + // line 2-4
		"u2;TV 55\" screen;x\n" + // 5: a bare quote ends nothing
		"u3;\"a\"b;\"c\nd\"\n" + // 6: a quote after a quoted field: the record ends with its line
		"u4\";\"\n" + // 7: not a quoted field: ends with its line
		"u5;\"\"\"\";\"\n\n\"\n" + // 8-10: "" is an escaped quote
		"u6;ok\n"
	want := []rec{
		{"u1;\"he said \"\"hi\"\"\nthen \"\"bye\"\";\n\"\"\";x", 2, false},
		{"u2;TV 55\" screen;x", 5, false},
		{"u3;\"a\"b;\"c", 6, false},
		{"d\"", 7, false},
		{"u4\";\"", 8, false},
		{"u5;\"\"\"\";\"\n\n\"", 9, false},
		{"u6;ok", 12, false},
	}
	// The lines above: u1 is on 2-4, u2 on 5, u3 on 6 and its "d\"" on 7, u4
	// on 8, u5 on 9-11, u6 on 12.
	for _, bs := range []int{1, 2, 3, 7, 16, 64, 1 << 20} {
		blockSize = bs
		got, total := records(t, input, ';')
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("block %d:\n got %v\nwant %v", bs, got, want)
		}
		if total != int64(len(input)) {
			t.Errorf("block %d: counted %d bytes of %d", bs, total, len(input))
		}
	}
	r := csv.NewReader(strings.NewReader(want[0].text))
	r.Comma = ';'
	if f, err := r.Read(); err != nil || len(f) != 3 || f[1] != "he said \"hi\"\nthen \"bye\";\n\"" || f[2] != "x" {
		t.Errorf("u1 reads as %q, %v", f, err)
	}
}

// TestSplitTooLong reads records over the limit in the middle of good ones:
// each is reported on its line without its bytes, the records after it come
// out on their lines, and memory stays at a few blocks.
func TestSplitTooLong(t *testing.T) {
	defer SetLimits(64<<10, 1<<20)()
	huge := strings.Repeat("x", 20<<20)
	for _, tc := range []struct {
		name  string
		comma rune
		input string
		want  []rec
	}{
		{"jsonl", 0, "{}\n{\"a\":\"" + huge + "\"}\r\n{}\n" + huge + "\n\n{}\n" + huge,
			[]rec{{"{}", 1, false}, {"", 2, true}, {"{}", 3, false}, {"", 4, true}, {"", 5, false}, {"{}", 6, false}, {"", 7, true}}},
		{"csv", ',', "a,b\nc,\"d\ne\"," + huge + "\nf,g\n\"" + huge + "\nh,i\n\"j\n\"\n" + huge,
			// The quoted field that opens on line 6 never closes: past the
			// limit, the next line break ends it.
			[]rec{{"a,b", 2, false}, {"", 3, true}, {"f,g", 5, false}, {"", 6, true}, {"h,i", 7, false}, {"\"j\n\"", 8, false}, {"", 10, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, total := records(t, tc.input, tc.comma)
			runtime.ReadMemStats(&after)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("records\n got %v\nwant %v", got, tc.want)
			}
			if total != int64(len(tc.input)) {
				t.Errorf("counted %d bytes of %d", total, len(tc.input))
			}
			// Without the limit a block doubles up to 32 MB for a 20 MB
			// record (64 MB allocated); with it, up to 2 MB (4 MB allocated),
			// and a spare 64 KB block is read into while skipping.
			long := uint64(0)
			for _, r := range got {
				if r.long {
					long++
				}
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > long*6<<20 {
				t.Errorf("allocated %d MB reading %d MB", alloc>>20, len(tc.input)>>20)
			}
		})
	}
}

// TestSplitLongRecordEnd checks where a too-long record ends: at the first
// line break once over the limit, even inside a quoted field (a runaway
// quote), and its reported size.
func TestSplitLongRecordEnd(t *testing.T) {
	defer SetLimits(blockSize, 100)()
	line := "u,\"" + strings.Repeat("y", 50) + "\n" // a quote that never closes
	good := "ok,fine\n"
	input := "h,h\n" + line + strings.Repeat(good, 20)
	for _, bs := range []int{1, 5, 16, 64, 1 << 20} {
		blockSize = bs
		var recs []rec
		var reasons []string
		out := make(chan *chunk, 1000)
		if err := readChunks(context.Background(), strings.NewReader(input), out, ','); err != nil {
			t.Fatal(err)
		}
		close(out)
		for c := range out {
			for _, l := range c.long {
				reasons = append(reasons, l.Reason)
			}
			for i, l := range c.lines {
				recs = append(recs, rec{string(l), c.nums[i], c.lines[i] == nil})
			}
		}
		// Line 3 is 54 bytes with its line break, and the good lines 8: the
		// limit (101 bytes) is passed on line 9, whose line break ends the
		// record; good lines follow from line 10.
		want := []rec{{"h,h", 2, false}, {"", 3, true}}
		for l := 10; l <= 23; l++ {
			want = append(want, rec{"ok,fine", l, false})
		}
		if fmt.Sprint(recs) != fmt.Sprint(want) {
			t.Errorf("block %d:\n got %v\nwant %v", bs, recs, want)
		}
		if want := "the record on line 3 is 101 bytes"; len(reasons) != 1 || !strings.Contains(reasons[0], want) {
			t.Errorf("block %d: reasons %q, want %q", bs, reasons, want)
		}
	}
}

func BenchmarkSplitCSV(b *testing.B) {
	var sb strings.Builder
	for i := range 200000 {
		fmt.Fprintf(&sb, "C%06d;Order Completed;21/10/2026 14:30;Hà Nội 1;1290000;0912345678;\"a note, with \"\"quotes\"\"\"\n", i)
	}
	input := sb.String()
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		out := make(chan *chunk, 1000)
		go func() {
			for range out {
			}
		}()
		if err := readChunks(context.Background(), strings.NewReader(input), out, ';'); err != nil {
			b.Fatal(err)
		}
		close(out)
	}
}
