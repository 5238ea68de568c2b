package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInsightsCommand imports 60 days of visits with a three-day sale in
// the middle and checks that `cjm insights --json` reports the spike on
// its days, and that the text output says it in words.
func TestInsightsCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	day0 := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC) // 10:00 in Asia/Ho_Chi_Minh, a Monday
	var lines []string
	n := 0
	for d := range 60 {
		visits := 20
		if d >= 40 && d < 43 {
			visits = 150 // the sale
		}
		for i := range visits {
			n++
			ts := day0.AddDate(0, 0, d).Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
			lines = append(lines, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Visit","messageId":"m%d","timestamp":"%s"}`, n%500, n, ts))
		}
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, "import", "--data", dir, "--quiet", file); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	out, errs, code := cli(t, "insights", "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("insights: exit %d: %s", code, errs)
	}
	var found []struct {
		Kind   string    `json:"kind"`
		Events []string  `json:"events"`
		Start  time.Time `json:"start"`
		End    time.Time `json:"end"`
		After  float64   `json:"after"`
	}
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	ict, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	saleFrom := time.Date(2026, 4, 11, 0, 0, 0, 0, ict) // day 40
	ok := false
	for _, f := range found {
		if f.Kind == "spike" && slices.Contains(f.Events, "Visit") {
			if !f.Start.Equal(saleFrom) || !f.End.Equal(saleFrom.AddDate(0, 0, 3)) || f.After != 150 {
				t.Errorf("spike %s – %s peaking at %.0f; want %s – %s at 150", f.Start, f.End, f.After, saleFrom, saleFrom.AddDate(0, 0, 3))
			}
			ok = true
		}
	}
	if !ok {
		t.Fatalf("no spike of Visit found:\n%s", out)
	}
	if len(found) != 1 {
		t.Errorf("%d findings, want only the sale:\n%s", len(found), out)
	}

	// With --to at the midnight after the last day, that day (with no
	// events) is not read: no drop is found on it.
	out, errs, code = cli(t, "insights", "--data", dir, "--from", "2026-03-02", "--to", "2026-05-01", "--json")
	if code != 0 {
		t.Fatalf("insights --to: exit %d: %s", code, errs)
	}
	if strings.Count(out, `"kind"`) != 1 || !strings.Contains(out, `"spike"`) {
		t.Errorf("with --from/--to: want only the spike:\n%s", out)
	}

	text, _, code := cli(t, "insights", "--data", dir)
	if code != 0 || !strings.Contains(text, "spike in Visit") || !strings.Contains(text, "2026-04-11 – 2026-04-13") {
		t.Errorf("text output (exit %d):\n%s", code, text)
	}
	if _, errs, code := cli(t, "insights", "--data", dir, "--steps", "Visit"); code == 0 || !strings.Contains(errs, "--steps") {
		t.Errorf("one step: exit %d, %q; want a usage error naming --steps", code, errs)
	}
}
