package fileimport_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cjmhq/cjm/cjmtest"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/fileimport"
	"github.com/cjmhq/cjm/opstore"
)

func run(t testing.TB, e *cjmtest.Env, format fileimport.Format, data string, o fileimport.Options) (fileimport.Summary, string) {
	t.Helper()
	var rej bytes.Buffer
	o.Pipeline, o.WorkspaceID, o.SourceID, o.Format, o.Rejects = e.Pipeline, e.Workspace.ID, e.Source.ID, format, &rej
	if o.Name == "" {
		o.Name = "test." + string(format)
	}
	sum, err := fileimport.Import(context.Background(), strings.NewReader(data), o)
	if err != nil {
		t.Fatal(err)
	}
	return sum, rej.String()
}

func stored(t *testing.T, e *cjmtest.Env) []event.Message {
	t.Helper()
	if err := e.Pipeline.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []event.Message
	if err := e.Events.Scan(context.Background(), eventstore.Filter{}, func(m *event.Message) error { out = append(out, *m); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

const jsonl = `{"type":"track","userId":"u1","event":"Order Completed","messageId":"o1","timestamp":"2026-10-01T10:00:00Z","properties":{"revenue":500000}}
{"type":"track","userId":"u2","messageId":"o2","timestamp":"2026-10-01T10:00:00Z"}

not json at all
{"type":"identify","userId":"u1","traits":{"phone":"0912345678"},"timestamp":"2026-10-01T10:00:00Z"}
{"type":"track","anonymousId":"a1","event":"Product Viewed","timestamp":"01/10/2026"}
`

func TestJSONL(t *testing.T) {
	e := cjmtest.New(t)
	sum, rej := run(t, e, fileimport.JSONL, jsonl, fileimport.Options{})
	if sum.Lines != 6 || sum.Accepted != 2 || sum.Rejected != 3 {
		t.Fatalf("summary %+v", sum.Progress)
	}
	want := []struct {
		line int
		code string
	}{{2, "missing_event"}, {4, "invalid_json"}, {6, "invalid_timestamp"}}
	for i, w := range want {
		if sum.Errors[i].Line != w.line || sum.Errors[i].Code != w.code {
			t.Errorf("error %d: %+v, want line %d %s", i, sum.Errors[i], w.line, w.code)
		}
	}
	if got := strings.Count(rej, "\n"); got != 3 || !strings.Contains(rej, "not json at all") {
		t.Errorf("rejects file:\n%s", rej)
	}
	kept, _ := e.Ops.Rejected(context.Background(), opstore.RejectedFilter{WorkspaceID: e.Workspace.ID})
	if len(kept) != 3 || !strings.HasPrefix(kept[0].Origin, "import:test.jsonl:") {
		t.Errorf("rejected store %+v", kept)
	}
	// Re-importing the same file stores nothing twice, including the line without a messageId.
	sum2, _ := run(t, e, fileimport.JSONL, jsonl, fileimport.Options{})
	if sum2.Accepted != 0 || sum2.Duplicates != 2 {
		t.Errorf("re-import %+v", sum2.Progress)
	}
	if n := len(stored(t, e)); n != 2 {
		t.Errorf("stored %d", n)
	}
}

const csvData = "customer_id;action;time;store;amount;phone;note\n" +
	"C001;Order Completed;21/10/2026 14:30;Hà Nội 1;1290000;0912345678;\n" +
	"C002;Order Completed;2026-10-21T07:00:00Z;HCM 2;450000.5;;\"multi\nline note\"\n" +
	";Order Completed;21/10/2026 15:00;Hà Nội 1;100;;\n" +
	"C003;Order Completed;sometime;Hà Nội 1;100;;\n" +
	"C004;;21/10/2026 16:00;HCM 2;100;;\n" +
	"C005;Call Started;1761030000;Hotline;;;\n"

func TestCSV(t *testing.T) {
	e := cjmtest.New(t)
	mp, err := fileimport.ParseMapping("userId=customer_id,event=action,timestamp=time,properties.store=store,properties.revenue=amount,traits.phone=phone,properties.note.text=note")
	if err != nil {
		t.Fatal(err)
	}
	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	sum, rej := run(t, e, fileimport.CSV, csvData, fileimport.Options{Mapping: mp, Location: hcm})
	if sum.Accepted != 3 || sum.Rejected != 3 {
		t.Fatalf("summary %+v errors %+v", sum.Progress, sum.Errors)
	}
	// The quoted field spans lines 3-4, so later rows keep their real line numbers.
	want := map[int]string{5: "missing_identity", 6: "invalid_timestamp", 7: "missing_event"}
	for _, le := range sum.Errors {
		if want[le.Line] != le.Code {
			t.Errorf("line %d: %s (%s)", le.Line, le.Code, le.Reason)
		}
	}
	if !strings.HasPrefix(rej, "customer_id;action;time") || strings.Count(rej, "\n") != 4 {
		t.Errorf("rejects file:\n%s", rej)
	}
	byUser := map[string]event.Message{}
	for _, m := range stored(t, e) {
		byUser[m.UserID] = m
	}
	c1 := byUser["C001"]
	if want := time.Date(2026, 10, 21, 7, 30, 0, 0, time.UTC); !c1.Timestamp.Equal(want) {
		t.Errorf("C001 time %v, want %v (14:30 in Hồ Chí Minh)", c1.Timestamp, want)
	}
	if got := string(c1.Properties); got != `{"revenue":1290000,"store":"Hà Nội 1"}` {
		t.Errorf("C001 properties %s", got)
	}
	if got := string(c1.Traits); got != `{"phone":"0912345678"}` {
		t.Errorf("C001 traits %s (phone must stay a string)", got)
	}
	if got := string(byUser["C002"].Properties); got != `{"note":{"text":"multi\nline note"},"revenue":450000.5,"store":"HCM 2"}` {
		t.Errorf("C002 properties %s", got)
	}
	if c5 := byUser["C005"]; !c5.Timestamp.Equal(time.Unix(1761030000, 0)) {
		t.Errorf("C005 unix time %v", c5.Timestamp)
	}
	sum2, _ := run(t, e, fileimport.CSV, csvData, fileimport.Options{Mapping: mp, Location: hcm})
	if sum2.Accepted != 0 || sum2.Duplicates != 3 {
		t.Errorf("re-import %+v", sum2.Progress)
	}
}

func TestCSVTimeFormatAndErrors(t *testing.T) {
	e := cjmtest.New(t)
	mp, _ := fileimport.ParseMapping("userId=id,event=ev,timestamp=at")
	sum, _ := run(t, e, fileimport.CSV, "id,ev,at\nu,E,10-21-2026 01:02\n", fileimport.Options{Mapping: mp, TimeFormat: "%m-%d-%Y %H:%M"})
	if sum.Accepted != 1 {
		t.Fatalf("strftime format: %+v", sum)
	}
	if m := stored(t, e)[0]; !m.Timestamp.Equal(time.Date(2026, 10, 21, 1, 2, 0, 0, time.UTC)) {
		t.Errorf("time %v", m.Timestamp)
	}
	for _, bad := range []struct{ mapping, data, want string }{
		{"userId=missing,event=ev", "id,ev\n", `no column "missing"`},
		{"userId=id,timestamp=at", "id,ev,at\n", "map an event column"},
		{"userId=id,event=ev", "id,ev\n", "event time"},
	} {
		mp, err := fileimport.ParseMapping(bad.mapping)
		if err != nil {
			t.Fatal(err)
		}
		_, err = fileimport.Import(context.Background(), strings.NewReader(bad.data), fileimport.Options{Pipeline: e.Pipeline, Format: fileimport.CSV, Mapping: mp})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.mapping, err, bad.want)
		}
	}
	for _, bad := range []string{"userId", "foo=bar", "userId=a,userId=b", "properties.=x"} {
		if _, err := fileimport.ParseMapping(bad); err == nil {
			t.Errorf("mapping %q accepted", bad)
		}
	}
}

// BenchmarkImportJSONL imports 100,000 realistic lines per iteration.
func BenchmarkImportJSONL(b *testing.B) {
	var buf bytes.Buffer
	const lines = 100000
	for i := range lines {
		fmt.Fprintf(&buf, `{"type":"track","messageId":"m-%d","userId":"user-%d","event":"Order Completed","properties":{"order_id":"O%d","revenue":1290000,"currency":"VND","products":[{"product_id":"SKU-%d","category":"Túi xách","price":1290000,"quantity":1}]},"context":{"ip":"14.161.0.%d","locale":"vi-VN"},"timestamp":"2026-10-%02dT10:00:00Z"}`+"\n", i, i%50000, i, i%300, i%250, 1+i%28)
	}
	data := buf.String()
	b.SetBytes(int64(len(data)))
	total := 0
	for b.Loop() {
		e := cjmtest.New(b)
		sum, err := fileimport.Import(context.Background(), strings.NewReader(data), fileimport.Options{Pipeline: e.Pipeline,
			WorkspaceID: e.Workspace.ID, SourceID: e.Source.ID, Format: fileimport.JSONL})
		if err != nil || sum.Accepted != lines {
			b.Fatal(err, sum.Progress)
		}
		if err := e.Pipeline.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += lines
		e.Close()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "lines/s")
}

// TestCSVStrayQuote imports a file with a quote inside an unquoted field
// (and other misplaced quotes) among good rows: each bad row is rejected on
// its own line, and every row after it is read normally.
func TestCSVStrayQuote(t *testing.T) {
	e := cjmtest.New(t)
	mp, _ := fileimport.ParseMapping("timestamp=at,userId=id,event=ev,properties.note=note")
	var b strings.Builder
	b.WriteString("at,id,ev,note\n")
	b.WriteString(`2026-10-01,u0,Viewed,TV 55" screen` + "\n") // line 2: ErrBareQuote
	wantBad := map[int]string{2: "invalid_csv"}
	line := 3
	for i := 1; i <= 1000; i++ {
		switch i {
		case 300:
			b.WriteString("2026-10-01,u300,Viewed,\"a 55\"\" TV, \"\"quoted\"\"\nover two lines\"\n") // lines 302-303, good
			line += 2
			continue
		case 500:
			b.WriteString(`2026-10-01,u500,Viewed,"closed" then more` + "\n") // ErrQuote
			wantBad[line] = "invalid_csv"
		case 700:
			b.WriteString("2026-10-01,u700,,\n")
			wantBad[line] = "missing_event"
		default:
			fmt.Fprintf(&b, "2026-10-01,u%d,Viewed,note %d\n", i, i)
		}
		line++
	}
	sum, rej := run(t, e, fileimport.CSV, b.String(), fileimport.Options{Mapping: mp})
	if sum.Lines != 1001 || sum.Accepted != 998 || sum.Rejected != 3 {
		t.Fatalf("summary %+v errors %+v", sum.Progress, sum.Errors)
	}
	for _, le := range sum.Errors {
		if wantBad[le.Line] != le.Code {
			t.Errorf("line %d: %s (%s)", le.Line, le.Code, le.Reason)
		}
	}
	if want := 4; strings.Count(rej, "\n") != want || !strings.Contains(rej, `TV 55" screen`) {
		t.Errorf("rejects file:\n%s", rej)
	}
	byUser := map[string]event.Message{}
	for _, m := range stored(t, e) {
		byUser[m.UserID] = m
	}
	if len(byUser) != 998 {
		t.Errorf("stored %d users", len(byUser))
	}
	if got := string(byUser["u300"].Properties); got != `{"note":"a 55\" TV, \"quoted\"\nover two lines"}` {
		t.Errorf("u300 properties %s", got)
	}
	if got := string(byUser["u1000"].Properties); got != `{"note":"note 1000"}` {
		t.Errorf("u1000 properties %s", got)
	}
}

// TestTooLongLines imports a 20 MB line among good ones, in JSONL and CSV:
// it is rejected on its line without being kept (the rejected store gets its
// first 64 KiB, the rejects file a note), the good lines are stored, and the
// import does not take memory in proportion to the line.
func TestTooLongLines(t *testing.T) {
	defer fileimport.SetLimits(64<<10, 1<<20)()
	huge := strings.Repeat("x", 20<<20)
	mp, _ := fileimport.ParseMapping("timestamp=at,userId=id,event=ev,properties.note=note")
	for _, tc := range []struct {
		format   fileimport.Format
		data     string
		longLine int
		badLine  int // a line rejected for another reason, after the long one
		accepted int
	}{
		{fileimport.JSONL, `{"type":"track","userId":"u1","event":"E","timestamp":"2026-10-01T00:00:00Z"}` + "\n" +
			`{"type":"track","userId":"u2","event":"E","timestamp":"2026-10-01T00:00:00Z","properties":{"note":"` + huge + `"}}` + "\n" +
			`{"type":"track","userId":"u3","event":"E","timestamp":"2026-10-01T00:00:00Z"}` + "\n" +
			"not json\n" +
			`{"type":"track","userId":"u4","event":"E","timestamp":"2026-10-01T00:00:00Z"}` + "\n", 2, 4, 3},
		{fileimport.CSV, "at,id,ev,note\n" +
			"2026-10-01,u1,E,short\n" +
			"2026-10-01,u2,E,\"quoted\nline break\" then " + huge + "\n" + // lines 3-4
			"2026-10-01,u3,E,\"a\nb\"\n" +
			"2026-10-01,u4,,\n" +
			"2026-10-01,u5,E,last\n", 3, 7, 3},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			e := cjmtest.New(t)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			sum, rej := run(t, e, tc.format, tc.data, fileimport.Options{Mapping: mp})
			runtime.ReadMemStats(&after)
			bytes := int64(len(tc.data))
			if tc.format == fileimport.CSV {
				bytes -= int64(len("at,id,ev,note\n")) // the header is not counted
			}
			if sum.Accepted != tc.accepted || sum.Rejected != 2 || sum.Bytes != bytes {
				t.Fatalf("summary %+v errors %+v", sum.Progress, sum.Errors)
			}
			if le := sum.Errors[0]; le.Line != tc.longLine || le.Code != "line_too_long" ||
				!strings.Contains(le.Reason, fmt.Sprintf("line %d", tc.longLine)) || !strings.Contains(le.Reason, "1 MiB") {
				t.Errorf("error %+v", le)
			}
			if le := sum.Errors[1]; le.Line != tc.badLine {
				t.Errorf("error %+v, want line %d", le, tc.badLine)
			}
			if len(rej) > 1000 || !strings.Contains(rej, fmt.Sprintf("# line %d is not copied here", tc.longLine)) {
				t.Errorf("rejects file (%d bytes):\n%.1000s", len(rej), rej)
			}
			kept, _ := e.Ops.Rejected(context.Background(), opstore.RejectedFilter{WorkspaceID: e.Workspace.ID})
			for _, k := range kept {
				if k.Code == "line_too_long" && len(k.Payload) != 64<<10 {
					t.Errorf("kept %d bytes of the long line", len(k.Payload))
				}
			}
			if n := len(stored(t, e)); n != tc.accepted {
				t.Errorf("stored %d", n)
			}
			// Without the limit: blocks doubling up to 32 MB, the line copied
			// into the rejected store and the rejects buffer (over 100 MB).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 12<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
		})
	}
	// A CSV file without line breaks has no header line to read.
	e := cjmtest.New(t)
	_, err := fileimport.Import(context.Background(), strings.NewReader("id,ev,"+huge), fileimport.Options{Pipeline: e.Pipeline, Format: fileimport.CSV, Mapping: mp})
	if err == nil || !strings.Contains(err.Error(), "header line is longer than the limit of 1 MiB") {
		t.Errorf("header without a line break: %v", err)
	}
}
