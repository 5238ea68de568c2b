package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cjmhq/cjm/journeymap"
)

// cjmOK runs the CLI and fails the test unless it exits 0; it returns the
// standard output.
func cjmOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("cjm %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// brokenMap has an unknown channel on line 9.
const brokenMap = `schema: cjm.map/v1
name: Broken
lang: en
state: current
stages:
  - name: Visit
    touchpoints:
      - name: Shop
        channel: fax
`

// TestMapAsCode is the maps-as-code loop: a map from a template, exported as
// YAML, edited as text, imported, exported again.
func TestMapAsCode(t *testing.T) {
	t.Setenv("USER", "lan")
	dir, work := t.TempDir(), t.TempDir()
	if out := cjmOK(t, "map", "new", "--data", dir, "--template", "aarrr", "--lang", "en", "--name", "Growth"); !strings.Contains(out, `created map "Growth" (version 1) from template aarrr`) {
		t.Errorf("new: %s", out)
	}
	exported := cjmOK(t, "map", "export", "Growth", "--data", dir) // flags after the name work too
	if m, err := journeymap.Parse([]byte(exported)); err != nil || m.Name != "Growth" || len(m.Stages) != 5 || m.Template != "aarrr" {
		t.Fatalf("export is not the map: %v\n%s", err, exported)
	}
	file := filepath.Join(work, "map.yaml")
	writeFile(t, file, exported)

	// An unchanged file keeps the version, and the export is byte-stable.
	if out := cjmOK(t, "map", "import", "--data", dir, file); !strings.Contains(out, `map "Growth" unchanged (version 1)`) {
		t.Errorf("import of the export: %s", out)
	}
	if again := cjmOK(t, "map", "export", "--data", dir, "Growth"); again != exported {
		t.Errorf("export changed after an unchanged import:\n%s\nwant:\n%s", again, exported)
	}

	// Edit the text: rename a stage, add a touchpoint with a matcher.
	edited := strings.Replace(exported, "    name: Activation\n", "    name: Onboarding\n", 1)
	at := strings.Index(edited, "  - key: activation\n")
	tps := strings.Index(edited[at:], "    touchpoints:\n") + at + len("    touchpoints:\n")
	if at < 0 || tps < at || edited == exported {
		t.Fatalf("the template changed shape:\n%s", exported)
	}
	edited = edited[:tps] + `      - name: Zalo mini app
        channel: zalo
        expected: true
        pain_points:
          - Đăng nhập bằng Zalo bị lỗi
        match:
          precedence: 5
          event: Mini App *
          source: Zalo*
          where:
            - {field: context.app.name, op: eq, value: Zalo}
` + edited[tps:]
	writeFile(t, file, edited)
	if out := cjmOK(t, "map", "import", "--data", dir, file); !strings.Contains(out, `updated map "Growth" to version 2`) {
		t.Errorf("import of the edit: %s", out)
	}
	exported2 := cjmOK(t, "map", "export", "--data", dir, "Growth")
	want, err := journeymap.Parse([]byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	got, err := journeymap.Parse([]byte(exported2))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("export differs from the imported file (-file +export):\n%s", d)
	}
	if tp, si := got.Touchpoint("zalo-mini-app"); tp == nil || si != 1 || tp.Match.Where[0].Value != "Zalo" || tp.PainPoints[0].ID == "" {
		t.Errorf("added touchpoint %+v in stage %d", tp, si)
	}
	// The canonical form of the edit round-trips byte for byte.
	writeFile(t, file, exported2)
	if out := cjmOK(t, "map", "import", "--data", dir, file); !strings.Contains(out, `map "Growth" unchanged (version 2)`) {
		t.Errorf("import of the second export: %s", out)
	}
	if again := cjmOK(t, "map", "export", "--data", dir, "Growth"); again != exported2 {
		t.Errorf("second export not byte-stable")
	}

	// History.
	if out := cjmOK(t, "map", "versions", "--data", dir, "Growth"); !strings.Contains(out, "imported from map.yaml") || !strings.Contains(out, "lan") {
		t.Errorf("versions:\n%s", out)
	}
	diff := cjmOK(t, "map", "diff", "--data", dir, "Growth")
	for _, want := range []string{`map "Growth": version 1 → 2`, `~ stages "Activation" name: "Activation" → "Onboarding"`, `+ stages "Activation" › touchpoints "Zalo mini app"`} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	if out := cjmOK(t, "map", "diff", "--data", dir, "Growth", "--from", "1", "--to", "1"); !strings.Contains(out, "no changes") {
		t.Errorf("diff of a version with itself:\n%s", out)
	}
	if out := cjmOK(t, "map", "restore", "--data", dir, "Growth", "1"); !strings.Contains(out, `restored version 1 of map "Growth" as version 3`) {
		t.Errorf("restore: %s", out)
	}
	if again := cjmOK(t, "map", "export", "--data", dir, "Growth"); again != exported {
		t.Errorf("restored version 1 exports differently:\n%s", again)
	}

	// Other formats, by --format or by the extension of --out.
	var doc map[string]any
	if err := json.Unmarshal([]byte(cjmOK(t, "map", "export", "--data", dir, "--format", "json", "Growth")), &doc); err != nil || doc["name"] != "Growth" || doc["schema"] != journeymap.SchemaVersion {
		t.Errorf("JSON export: %v %v", err, doc)
	}
	svg := filepath.Join(work, "growth.svg")
	cjmOK(t, "map", "export", "--data", dir, "--out", svg, "Growth")
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b[:min(len(b), 200)]), "<svg") {
		t.Errorf("SVG export: %v %.80q", err, b)
	}

	// List, templates, delete.
	var list []struct {
		Name    string
		Version int
		Stages  int
	}
	if err := json.Unmarshal([]byte(cjmOK(t, "map", "list", "--data", dir, "--json")), &list); err != nil || len(list) != 1 ||
		list[0].Name != "Growth" || list[0].Version != 3 || list[0].Stages != 5 {
		t.Errorf("list: %v %+v", err, list)
	}
	if out := cjmOK(t, "map", "templates", "--lang", "en"); !strings.Contains(out, "aarrr") || !strings.Contains(out, "Acquisition → Activation") {
		t.Errorf("templates:\n%s", out)
	}
	if _, errs, code := cli(t, "map", "new", "--data", dir, "--template", "aarrr", "--name", "growth"); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("new with a taken name: exit %d %s", code, errs)
	}
	cjmOK(t, "map", "delete", "--data", dir, "Growth")
	if _, errs, code := cli(t, "map", "export", "--data", dir, "Growth"); code != 1 || !strings.Contains(errs, `no map "Growth"`) {
		t.Errorf("export after delete: exit %d %s", code, errs)
	}
}

func TestMapImportErrors(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	good, bad := filepath.Join(work, "good.yaml"), filepath.Join(work, "map.yaml")
	writeFile(t, good, strings.Replace(brokenMap, "fax", "store", 1))
	writeFile(t, bad, brokenMap)
	out, errs, code := cli(t, "map", "import", "--data", dir, good, bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errs, `map.yaml:9: stages[0].touchpoints[0].channel: unknown channel "fax"`) {
		t.Errorf("no FILE:LINE: report:\n%s", errs)
	}
	if !strings.Contains(out, `created map "Broken" (version 1) from `+good) || !strings.Contains(errs, "1 of 2 files not imported") {
		t.Errorf("the good file is imported and the summary says so:\n%s%s", out, errs)
	}
	// A YAML syntax error and a typo, each at its line.
	writeFile(t, bad, "schema: cjm.map/v1\nname: X\nlang: en\nstate: current\nstages:\n  - name: A\n    touchpionts: []\n")
	if _, errs, _ := cli(t, "map", "import", "--data", dir, bad); !strings.Contains(errs, `map.yaml:7: stages[0].touchpionts: unknown field "touchpionts" (did you mean "touchpoints"?)`) ||
		!strings.Contains(errs, "nothing imported") {
		t.Errorf("typo:\n%s", errs)
	}
	writeFile(t, bad, "schema: cjm.map/v1\nname: [X\n")
	if _, errs, code := cli(t, "map", "import", "--data", dir, "--json", bad); code != 1 || !strings.Contains(errs, "map.yaml:") {
		t.Errorf("syntax error: exit %d\n%s", code, errs)
	}
	if _, errs, code := cli(t, "map", "import", "--data", dir); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("import without files: exit %d %s", code, errs)
	}
}

// TestMapCheck validates files, from standard input too, with no data
// directory.
func TestMapCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFile(t, "good.yaml", strings.Replace(brokenMap, "fax", "store", 1))
	writeFile(t, "map.yaml", brokenMap)
	if out := cjmOK(t, "map", "check", "good.yaml"); !strings.Contains(out, `good.yaml: ok (map "Broken", 1 stages, 1 touchpoints)`) {
		t.Errorf("check: %s", out)
	}
	out, errs, code := cli(t, "map", "check", "good.yaml", "map.yaml")
	if code != 1 || !strings.Contains(out, "good.yaml: ok") || !strings.Contains(errs, "map.yaml:9: stages[0].touchpoints[0].channel: unknown channel") ||
		!strings.Contains(errs, "1 of 2 files have errors") {
		t.Errorf("check with a broken file: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat("cjm-data"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("check made a data directory: %v", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = stdin; r.Close() })
	go func() {
		_, _ = w.WriteString(brokenMap)
		w.Close()
	}()
	if _, errs, code := cli(t, "map", "check", "-"); code != 1 || !strings.Contains(errs, "stdin:9: stages[0].touchpoints[0].channel") {
		t.Errorf("check of standard input: exit %d %s", code, errs)
	}
}
