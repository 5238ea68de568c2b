package fileimport_test

import (
	"bytes"
	"context"
	"fmt"
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
{"type":"track","userId":"u2","messageId":"o2"}

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
		{"userId=id", "id,ev\n", "map an event column"},
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
