package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// importLines writes JSONL lines to a file and imports them (into a source
// named source of channel, when given).
func importLines(t *testing.T, dir, name string, lines []string, source ...string) {
	t.Helper()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "--data", dir, "--quiet"}
	if len(source) == 2 {
		args = append(args, "--source", source[0], "--channel", source[1])
	}
	if _, errs, code := cli(t, append(args, file)...); code != 0 {
		t.Fatalf("import %s: exit %d: %s", name, code, errs)
	}
}

// TestPathsCommand imports a few visits and checks `cjm paths --json`
// against paths worked out by hand, and the text and usage errors.
func TestPathsCommand(t *testing.T) {
	dir := t.TempDir()
	track := func(user, ts, event string) string {
		return fmt.Sprintf(`{"type":"track","userId":%q,"event":%q,"timestamp":"2026-03-02T%s:00Z"}`, user, event, ts)
	}
	page := func(user, ts, path string) string {
		return fmt.Sprintf(`{"type":"page","userId":%q,"timestamp":"2026-03-02T%s:00Z","context":{"page":{"path":%q}}}`, user, ts, path)
	}
	importLines(t, dir, "events.jsonl", []string{
		track("u1", "10:00", "Home"), track("u1", "10:01", "Search"), page("u1", "10:02", "/product/a"), track("u1", "10:03", "Cart"),
		// u2 comes back two hours later: a second session.
		track("u2", "10:00", "Home"), page("u2", "10:01", "/product/b"), page("u2", "10:02", "/product/c"),
		track("u2", "12:05", "Home"), track("u2", "12:06", "Order"),
		track("u3", "09:00", "Search"), track("u3", "09:01", "Home"), track("u3", "09:02", "Cart"),
	})
	type result struct {
		Nodes []struct {
			Step    int    `json:"step"`
			Label   string `json:"label"`
			Count   int64  `json:"count"`
			DropOff int64  `json:"drop_off"`
		} `json:"nodes"`
		Links []struct {
			Source int   `json:"source"`
			Target int   `json:"target"`
			Count  int64 `json:"count"`
		} `json:"links"`
		TopPaths []struct {
			Labels []string `json:"labels"`
			Count  int64    `json:"count"`
		} `json:"top_paths"`
		Actors    int64 `json:"actors"`
		Truncated int64 `json:"truncated"`
	}
	paths := func(args ...string) result {
		t.Helper()
		out, errs, code := cli(t, append([]string{"paths", "--data", dir, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("paths %v: exit %d: %s", args, code, errs)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		return r
	}
	top := func(r result) []string {
		var out []string
		for _, p := range r.TopPaths {
			out = append(out, fmt.Sprintf("%s=%d", strings.Join(p.Labels, ">"), p.Count))
		}
		return out
	}
	clean := "^/product/.*=/product/*"
	cases := []struct {
		args              []string
		top               []string
		actors, truncated int64
	}{
		// Sessions by default: u2's two visits are two paths.
		{[]string{"--start", "Home", "--steps", "3", "--clean", clean},
			[]string{"Home>/product/*>/product/*=1", "Home>Cart=1", "Home>Order=1", "Home>Search>/product/*=1"}, 4, 1},
		{[]string{"--start", "Home", "--no-session", "--collapse", "--clean", clean},
			[]string{"Home>/product/*>Home>Order=1", "Home>Cart=1", "Home>Search>/product/*>Cart=1"}, 3, 0},
		{[]string{"--end", "Order", "--steps", "2", "--no-session"},
			[]string{"Home>Order=1"}, 1, 1},
		{[]string{"--start", "Home", "--steps", "2", "--exclude", "Search"},
			[]string{"Home>/product/a=1", "Home>/product/b=1", "Home>Cart=1", "Home>Order=1"}, 4, 2},
		{[]string{"--start", "Home", "--from", "2026-03-02T12:00:00Z"},
			[]string{"Home>Order=1"}, 1, 0},
		{[]string{"--start", "Search", "--end", "Cart", "--no-session"},
			[]string{"Search>/product/a>Cart=1", "Search>Home>Cart=1"}, 2, 0},
	}
	for _, c := range cases {
		r := paths(c.args...)
		if d := cmp.Diff(c.top, top(r)); d != "" {
			t.Errorf("%v: top paths (-want +got):\n%s", c.args, d)
		}
		if r.Actors != c.actors || r.Truncated != c.truncated {
			t.Errorf("%v: actors %d, truncated %d; want %d, %d", c.args, r.Actors, r.Truncated, c.actors, c.truncated)
		}
	}
	// The Sankey of --end: aligned on Order at the last step, which every
	// path ends at.
	r := paths("--end", "Order", "--steps", "2", "--no-session")
	if len(r.Nodes) != 2 || r.Nodes[0].Label != "Home" || r.Nodes[0].Step != 0 || r.Nodes[1].Label != "Order" || r.Nodes[1].Step != 1 ||
		r.Nodes[1].DropOff != 1 || len(r.Links) != 1 || r.Links[0].Source != 0 || r.Links[0].Target != 1 || r.Links[0].Count != 1 {
		t.Errorf("end Sankey: %+v", r)
	}

	out, errs, code := cli(t, "paths", "--data", dir, "--start", "Home", "--no-session", "--collapse", "--clean", clean)
	if code != 0 {
		t.Fatalf("text: exit %d: %s", code, errs)
	}
	for _, want := range []string{"3 people with a path", "Home → Search → /product/* → Cart", "33.3%"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}

	for _, bad := range []struct {
		args []string
		flag string
	}{
		{[]string{"--steps", "0"}, "--steps"},
		{[]string{"--steps", "21"}, "--steps"},
		{[]string{"--clean", "abc"}, "--clean"},
		{[]string{"--clean", "(=x"}, "--clean"},
		{[]string{"--by-touchpoint"}, "--by-touchpoint"},
		{[]string{"--start", "stage:buy"}, "--start"},
		{[]string{"--end", "Home", "--exclude", "Home"}, "--end"},
		{[]string{"--from", "yesterday"}, "--from"},
	} {
		_, errs, code := cli(t, append([]string{"paths", "--data", dir}, bad.args...)...)
		if code != 2 || !strings.Contains(errs, bad.flag) || !strings.Contains(errs, "usage: cjm paths") {
			t.Errorf("%v: exit %d, stderr %q", bad.args, code, errs)
		}
	}
}
