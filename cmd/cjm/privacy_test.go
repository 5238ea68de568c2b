package main

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// privacyData is two customers' events: Lan (user C1, device a-1, e-mail,
// phone) and Minh (C2).
const privacyData = `{"type":"page","anonymousId":"a-1","name":"Trang chủ","messageId":"p1","timestamp":"2026-10-01T02:00:00Z"}
{"type":"identify","userId":"C1","anonymousId":"a-1","messageId":"i1","timestamp":"2026-10-01T03:00:00Z","traits":{"email":"lan@example.vn","phone":"0912 345 678","name":"Lan"}}
{"type":"track","userId":"C1","event":"Order Completed","messageId":"o1","timestamp":"2026-10-01T03:05:00Z","properties":{"revenue":1290000}}
{"type":"track","userId":"C1","event":"Consent Updated","messageId":"c1","timestamp":"2026-10-01T03:06:00Z","properties":{"purpose":"email","granted":true,"text_version":"v1","source":"checkout"}}
{"type":"track","userId":"C2","event":"Order Completed","messageId":"o2","timestamp":"2026-10-01T04:00:00Z"}
`

func importPrivacyData(t *testing.T, dir, name, data string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, "import", "--data", dir, "--source", "Web", "--quiet", in); code != 0 {
		t.Fatalf("import: %s", errs)
	}
}

func exportedIDs(t *testing.T, dir string) []string {
	t.Helper()
	out, errs, code := cli(t, "export", "--data", dir)
	if code != 0 {
		t.Fatalf("export: %s", errs)
	}
	var ids []string
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m struct{ MessageID string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.MessageID)
	}
	return ids
}

func TestPrivacyExportAndDelete(t *testing.T) {
	dir := t.TempDir()
	importPrivacyData(t, dir, "events.jsonl", privacyData)

	// Export to a directory, as JSON.
	outDir := t.TempDir()
	_, errs, code := cli(t, "privacy", "export", "--data", dir, "--identifier", "email:Lan@Example.vn", "--out", outDir)
	if code != 0 || !strings.Contains(errs, "events 4") {
		t.Fatalf("export: exit %d %s", code, errs)
	}
	files, _ := filepath.Glob(filepath.Join(outDir, "cjm-privacy-export-*.json"))
	if len(files) != 1 {
		t.Fatalf("export files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	var doc struct {
		Events      []map[string]any `json:"events"`
		Identifiers []map[string]any `json:"identifiers"`
		Consent     []struct {
			Purpose string
			Known   bool
			Granted bool
		} `json:"consent"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Events) != 4 || len(doc.Identifiers) != 4 || !doc.Consent[1].Known || !doc.Consent[1].Granted || doc.Consent[1].Purpose != "email" {
		t.Errorf("export: %d events, %d identifiers, consent %+v", len(doc.Events), len(doc.Identifiers), doc.Consent)
	}
	// CSV: a zip file.
	zipPath := filepath.Join(t.TempDir(), "lan.zip")
	if _, errs, code := cli(t, "privacy", "export", "--data", dir, "--identifier", "user_id:C1", "--format", "csv", "--out", zipPath); code != 0 {
		t.Fatalf("csv export: %s", errs)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if strings.Join(names, " ") != "events.csv person.json identifiers.csv consent.csv" {
		t.Errorf("zip holds %v", names)
	}
	if _, errs, code := cli(t, "privacy", "export", "--data", dir, "--identifier", "fax:123"); code != 2 || !strings.Contains(errs, "--identifier") {
		t.Errorf("bad identifier: exit %d %s", code, errs)
	}

	// Delete without --yes only tells what it would erase.
	out, _, code := cli(t, "privacy", "delete", "--data", dir, "--identifier", "phone:0912345678")
	if code != 1 || !strings.Contains(out, "4 identifiers, 4 events") || !strings.Contains(out, "--yes") {
		t.Errorf("delete without --yes: exit %d\n%s", code, out)
	}
	if got := exportedIDs(t, dir); len(got) != 5 {
		t.Fatalf("erased without --yes: %v left", got)
	}
	out, errs, code = cli(t, "privacy", "delete", "--data", dir, "--identifier", "phone:0912345678", "--yes")
	if code != 0 || !strings.Contains(out, "events 4") {
		t.Fatalf("delete: exit %d %s %s", code, out, errs)
	}
	if got := exportedIDs(t, dir); strings.Join(got, " ") != "o2" {
		t.Errorf("left after the erasure: %v", got)
	}

	out, _, _ = cli(t, "privacy", "requests", "--data", dir, "--json")
	var reqs []map[string]any
	if err := json.Unmarshal([]byte(out), &reqs); err != nil || len(reqs) != 3 || reqs[0]["kind"] != "delete" || reqs[0]["status"] != "done" {
		t.Errorf("requests: %v\n%s", err, out)
	}
	for _, v := range []string{"lan@example.vn", "0912345678", "+84912345678", "C1"} {
		if strings.Contains(out, v) {
			t.Errorf("the audit records hold %q:\n%s", v, out)
		}
	}
	out, _, _ = cli(t, "privacy", "requests", "--data", dir)
	if !strings.Contains(out, "phone (hashed)") {
		t.Errorf("requests table:\n%s", out)
	}

	out, _, code = cli(t, "privacy", "retention", "--data", dir, "--days", "365")
	if code != 0 || !strings.Contains(out, "365 days") {
		t.Errorf("retention: %d %s", code, out)
	}
	if _, errs, code := cli(t, "privacy", "frobnicate", "--data", dir); code != 2 || !strings.Contains(errs, "unknown subcommand") {
		t.Errorf("unknown subcommand: %d %s", code, errs)
	}
}

// Events of an erased person imported again are dropped by the app's
// pipeline (the suppression list), also when their ids are new.
func TestPrivacySuppressionThroughApp(t *testing.T) {
	dir := t.TempDir()
	importPrivacyData(t, dir, "events.jsonl", privacyData)
	if _, errs, code := cli(t, "privacy", "delete", "--data", dir, "--identifier", "email:lan@example.vn", "--yes"); code != 0 {
		t.Fatalf("delete: %s", errs)
	}
	again := strings.NewReplacer(`"messageId":"`, `"messageId":"again-`).Replace(privacyData) +
		`{"type":"identify","anonymousId":"a-new","messageId":"n1","timestamp":"2026-10-02T03:00:00Z","traits":{"email":"LAN@example.vn"}}` + "\n"
	importPrivacyData(t, dir, "again.jsonl", again)
	if got := exportedIDs(t, dir); strings.Join(got, " ") != "o2 again-o2" {
		t.Errorf("stored after the erasure: %v (is privacy.Suppression.Drop wired as ingest.Options.Drop in app.Open?)", got)
	}
}
