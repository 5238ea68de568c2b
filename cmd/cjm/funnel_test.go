package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFunnelCommand imports a small file and checks `cjm funnel --json`
// against counts worked out by hand, in the documented output shape.
func TestFunnelCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	lines := []string{
		// u1 converts in 2 minutes on Chrome; u2 stops after A; u3 does A, X, B.
		`{"type":"track","userId":"u1","event":"A","timestamp":"2026-03-01T10:00:00Z","properties":{"browser":"Chrome"}}`,
		`{"type":"track","userId":"u1","event":"B","timestamp":"2026-03-01T10:02:00Z","properties":{"browser":"Chrome"}}`,
		`{"type":"track","userId":"u2","event":"A","timestamp":"2026-03-02T10:00:00Z","properties":{"browser":"Firefox"}}`,
		`{"type":"track","userId":"u3","event":"A","timestamp":"2026-03-03T10:00:00Z","properties":{"browser":"Chrome"}}`,
		`{"type":"track","userId":"u3","event":"X","timestamp":"2026-03-03T10:01:00Z"}`,
		`{"type":"track","userId":"u3","event":"B","timestamp":"2026-03-03T10:04:00Z","properties":{"browser":"Chrome"}}`,
		// a9 browses anonymously, logs in as u9 and converts: one person.
		`{"type":"track","anonymousId":"a9","event":"A","timestamp":"2026-03-05T10:00:00Z"}`,
		`{"type":"identify","userId":"u9","anonymousId":"a9","timestamp":"2026-03-05T10:01:00Z"}`,
		`{"type":"track","userId":"u9","event":"B","timestamp":"2026-03-05T10:02:00Z"}`,
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, "import", "--data", dir, "--quiet", file); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	type step struct {
		Name          string   `json:"name"`
		Count         int64    `json:"count"`
		AvgSeconds    *float64 `json:"avg_seconds"`
		MedianSeconds *float64 `json:"median_seconds"`
	}
	type result struct {
		Steps      []step `json:"steps"`
		Breakdowns []struct {
			Value string `json:"value"`
			Steps []step `json:"steps"`
		} `json:"breakdowns"`
	}
	funnel := func(args ...string) result {
		t.Helper()
		out, errs, code := cli(t, append([]string{"funnel", "--data", dir, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("funnel %v: exit %d: %s", args, code, errs)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		return r
	}
	f := func(v float64) *float64 { return &v }

	r := funnel("--steps", "A,B", "--window", "10m", "--breakdown", "browser")
	want := []step{{"A", 4, nil, nil}, {"B", 3, f(160), f(120)}}
	if d := cmp.Diff(want, r.Steps); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	if len(r.Breakdowns) != 3 || r.Breakdowns[0].Value != "Chrome" || r.Breakdowns[0].Steps[1].Count != 2 ||
		r.Breakdowns[1].Value != "" || r.Breakdowns[1].Steps[1].Count != 1 || r.Breakdowns[2].Value != "Firefox" {
		t.Errorf("breakdowns: %+v", r.Breakdowns)
	}
	r = funnel("--steps", "A,B", "--window", "10m", "--exclude", "X:0-1")
	if r.Steps[0].Count != 3 || r.Steps[1].Count != 2 {
		t.Errorf("with the exclusion: %+v", r.Steps)
	}
	r = funnel("--steps", "A,B", "--window", "150s")
	if r.Steps[1].Count != 2 {
		t.Errorf("150 s window: %+v", r.Steps)
	}
	r = funnel("--steps", "A,B", "--window", "10m", "--from", "2026-03-02T00:00:00Z", "--to", "2026-03-04T00:00:00Z")
	if r.Steps[0].Count != 2 || r.Steps[1].Count != 1 {
		t.Errorf("from/to: %+v", r.Steps)
	}
	if len(r.Breakdowns) != 0 || !strings.Contains(mustJSON(t, r), `"breakdowns":[]`) {
		t.Errorf("breakdowns without --breakdown: %+v", r.Breakdowns)
	}
	for _, bad := range [][]string{
		{"--steps", "A,B", "--exclude", "X:1-0"},
		{"--steps", "A,B", "--window", "ten minutes"},
		{"--steps", "A,B", "--order", "sideways"},
		{"--window", "1d"},
	} {
		if _, errs, code := cli(t, append([]string{"funnel", "--data", dir, "--json"}, bad...)...); code == 0 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errs)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
