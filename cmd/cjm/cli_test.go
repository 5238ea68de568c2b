package main

// In-process tests of the CLI contract: each command runs through run()
// exactly as main does, on a data directory in t.TempDir().

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	// Locked: background workers (the identity resolver, the profile
	// index) may log while the command writes, as they may to a terminal.
	var out, errb lockedBuffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestSourceCreateJSON(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := cli(t, "source", "create", "--data", dir, "--name", "Cửa hàng Hà Nội", "--channel", "pos", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s struct {
		ID       string `json:"id"`
		WriteKey string `json:"write_key"`
		Channel  string `json:"channel"`
		Name     string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	if s.ID == "" || !strings.HasPrefix(s.WriteKey, "wk_") || s.Channel != "pos" || s.Name != "Cửa hàng Hà Nội" {
		t.Errorf("source %+v", s)
	}
	if _, errs, code := cli(t, "source", "create", "--data", dir, "--name", "Cửa hàng Hà Nội", "--json"); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("duplicate: exit %d %q", code, errs)
	}
	if _, errs, code := cli(t, "source", "create", "--data", dir, "--name", "X", "--channel", "fax"); code != 2 || !strings.Contains(errs, "--channel") {
		t.Errorf("bad channel: exit %d %q", code, errs)
	}
	out, _, _ = cli(t, "source", "list", "--data", dir)
	if !strings.Contains(out, s.WriteKey) {
		t.Errorf("list: %s", out)
	}
}

func TestUnknownCommandAndHelp(t *testing.T) {
	if _, errs, code := cli(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("exit %d %q", code, errs)
	}
	if out, _, code := cli(t, "help"); code != 0 || !strings.Contains(out, "import") {
		t.Errorf("help: %d %q", code, out)
	}
	if _, errs, code := cli(t, "import", "--data", t.TempDir()); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("import without files: exit %d %q", code, errs)
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(t.TempDir(), "pos.jsonl")
	data := `{"type":"track","userId":"C1","event":"Order Completed","messageId":"o1","timestamp":"2026-10-01T03:00:00Z","properties":{"revenue":1290000,"store":"Hà Nội 1"},"context":{"channel":"pos"}}
{"type":"identify","userId":"C1","messageId":"i1","timestamp":"2026-10-01T03:00:00Z","traits":{"email":"lan@example.vn","phone":"0912345678"}}
{"type":"track","userId":"C2","messageId":"o2","timestamp":"2026-10-01T03:00:00Z"}
{"type":"page","anonymousId":"a-9","name":"Trang chủ","timestamp":"2026-10-02T03:00:00Z"}
`
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := cli(t, "import", "--data", dir, "--source", "Store POS", "--channel", "pos", "--quiet", in)
	if code != 0 {
		t.Errorf("import with a bad line: exit %d, want 0 (the good lines are stored)", code)
	}
	if !strings.Contains(out, "line 3: event: a track call needs an event name") || !strings.Contains(out, "3 stored") {
		t.Errorf("import report:\n%s", out)
	}
	rej, err := os.ReadFile(in + ".rejected")
	if err != nil || !strings.Contains(string(rej), `"messageId":"o2"`) || strings.Count(string(rej), "\n") != 1 {
		t.Errorf("rejects file %q %v", rej, err)
	}
	if _, errs, code := cli(t, "import", "--data", dir, "--source", "Store POS", "--quiet", "--strict", in); code != 1 || !strings.Contains(errs, "rejected") {
		t.Errorf("--strict with a bad line: exit %d %q, want 1", code, errs)
	}
	out, _, _ = cli(t, "import", "--data", dir, "--source", "Store POS", "--quiet", "--json", in)
	var sums []map[string]any
	if err := json.Unmarshal([]byte(out), &sums); err != nil || sums[0]["accepted"] != 0.0 || sums[0]["duplicates"] != 3.0 {
		t.Errorf("re-import: %v %s", err, out)
	}

	exported := filepath.Join(t.TempDir(), "out.jsonl")
	if _, errs, code := cli(t, "export", "--data", dir, "--format", "jsonl", "--out", exported); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	first := readLines(t, exported)
	if len(first) != 3 {
		t.Fatalf("exported %d lines", len(first))
	}
	for _, l := range first {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"messageId", "type", "timestamp", "receivedAt"} {
			if m[k] == nil {
				t.Errorf("exported message lacks %s: %s", k, l)
			}
		}
		if m["userId"] == nil && m["anonymousId"] == nil {
			t.Errorf("no identity: %s", l)
		}
		if m["type"] == "track" && (m["event"] != "Order Completed" || m["properties"].(map[string]any)["store"] != "Hà Nội 1") {
			t.Errorf("track lost content: %s", l)
		}
	}
	// The export imports into another data directory and exports the same messages.
	dir2 := t.TempDir()
	if _, errs, code := cli(t, "import", "--data", dir2, "--quiet", exported); code != 0 {
		t.Fatalf("re-import of export: %s", errs)
	}
	exported2 := filepath.Join(t.TempDir(), "out2.jsonl")
	cli(t, "export", "--data", dir2, "--out", exported2)
	second := readLines(t, exported2)
	// Everything but receivedAt (the time cjm received it, now the import) survives.
	if withoutReceivedAt(first) != withoutReceivedAt(second) {
		t.Errorf("round trip changed the messages:\n%s\n---\n%s", strings.Join(first, "\n"), strings.Join(second, "\n"))
	}
	csvOut, errs, code := cli(t, "export", "--data", dir, "--format", "csv")
	if code != 0 || !strings.HasPrefix(csvOut, "messageId,type,timestamp,userId") || strings.Count(csvOut, "\n") != 4 {
		t.Errorf("csv export (%d %s):\n%s", code, errs, csvOut)
	}
}

func TestImportCSV(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(t.TempDir(), "calls.csv")
	data := "phone,action,time,topic\n0912345678,Call Started,21/10/2026 09:15,giao hàng\n0987654321,Call Started,21/10/2026 09:20,đổi trả\n"
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := cli(t, "import", "--data", dir, "--source", "Hotline", "--channel", "hotline", "--quiet",
		"--map", "userId=phone,event=action,timestamp=time,properties.topic=topic", in)
	if code != 0 || !strings.Contains(out, "2 stored") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	exp, _, _ := cli(t, "export", "--data", dir)
	lines := strings.Split(strings.TrimSpace(exp), "\n")
	sort.Strings(lines)
	if len(lines) != 2 || !strings.Contains(lines[0], `"timestamp":"2026-10-21T02:15:00Z"`) || !strings.Contains(lines[0], `"topic":"giao hàng"`) {
		t.Errorf("exported (09:15 in Vietnam is 02:15 UTC):\n%s", exp)
	}
	if _, errs, code := cli(t, "import", "--data", dir, "--csv", in); code != 2 || !strings.Contains(errs, "--map") {
		t.Errorf("csv without mapping: %d %q", code, errs)
	}
	if _, errs, code := cli(t, "import", "--data", dir, "--map", "userId=nope,event=action", in); code != 1 || !strings.Contains(errs, `no column "nope"`) {
		t.Errorf("unknown column: %d %q", code, errs)
	}
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	if out, errs, code := cli(t, "user", "add", "--data", dir, "--email", "Lan@Example.vn", "--name", "Lan", "--password", "mật-khẩu-dài"); code != 0 || !strings.Contains(out, "owner") {
		t.Fatalf("first user: %d %s %s", code, out, errs)
	}
	if out, _, code := cli(t, "user", "add", "--data", dir, "--email", "minh@example.vn", "--password", "12345678"); code != 0 || !strings.Contains(out, "viewer") {
		t.Fatalf("second user: %d %s", code, out)
	}
	if _, errs, code := cli(t, "user", "add", "--data", dir, "--email", "x@example.vn", "--password", "short"); code != 2 || !strings.Contains(errs, "password") {
		t.Errorf("short password: %d %q", code, errs)
	}
	out, _, _ := cli(t, "user", "list", "--data", dir)
	if !strings.Contains(out, "lan@example.vn") || !strings.Contains(out, "minh@example.vn") {
		t.Errorf("list:\n%s", out)
	}
}

func TestDemoNoServe(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := cli(t, "demo", "--data", dir, "--customers", "200", "--seed", "7", "--end", "2026-11-01", "--no-serve")
	if code != 0 || !strings.Contains(out, "demo@cjm.local") {
		t.Fatalf("demo: %d %s %s", code, out, errs)
	}
	exp1, _, _ := cli(t, "export", "--data", dir)
	if n := strings.Count(exp1, "\n"); n < 1000 {
		t.Errorf("only %d demo events for 200 customers", n)
	}
	out, _, _ = cli(t, "demo", "--data", dir, "--customers", "200", "--no-serve")
	if !strings.Contains(out, "Reusing") {
		t.Errorf("second run did not reuse: %s", out)
	}
	// Deterministic: another directory with the same seed and end holds the same messages.
	dir2 := t.TempDir()
	cli(t, "demo", "--data", dir2, "--customers", "200", "--seed", "7", "--end", "2026-11-01", "--no-serve")
	exp2, _, _ := cli(t, "export", "--data", dir2)
	if ids(exp1) != ids(exp2) {
		t.Error("same seed gave different data")
	}
}

// ids is the sorted messageId+timestamp list of a JSONL export.
func ids(jsonl string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m struct{ MessageID, Timestamp, Event string }
		_ = json.Unmarshal([]byte(l), &m)
		out = append(out, m.MessageID+" "+m.Timestamp+" "+m.Event)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func withoutReceivedAt(lines []string) string {
	var out []string
	for _, l := range lines {
		var m map[string]any
		_ = json.Unmarshal([]byte(l), &m)
		delete(m, "receivedAt")
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return strings.Join(out, "\n")
}
