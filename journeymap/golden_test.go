package journeymap

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenTemplatesRoundTripThroughYAML writes every template in both
// languages as YAML, compares it with its golden file, reads it back and
// checks nothing was lost or changed, and that writing it again gives the
// same bytes. Run with -update after changing a template on purpose.
func TestGoldenTemplatesRoundTripThroughYAML(t *testing.T) {
	for _, info := range Templates {
		for _, lang := range []string{"vi", "en"} {
			t.Run(info.Key+"-"+lang, func(t *testing.T) {
				m, err := FromTemplate(info.Key, lang)
				if err != nil {
					t.Fatal(err)
				}
				out, err := Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "templates", info.Key+"."+lang+".yaml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, out, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./journeymap -run Golden -update to write it)", err)
				}
				if d := cmp.Diff(string(want), string(out)); d != "" {
					t.Errorf("%s differs from the template (-golden +now):\n%s", golden, d)
				}
				back, err := Parse(want)
				if err != nil {
					t.Fatalf("the golden file does not read back: %v", err)
				}
				m.Schema = SchemaVersion
				if d := cmp.Diff(m, back, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("reading %s changed the map (-template +read):\n%s", golden, d)
				}
				again, err := Marshal(back)
				if err != nil {
					t.Fatal(err)
				}
				if string(again) != string(want) {
					t.Errorf("writing the map read from %s again gives other bytes", golden)
				}
			})
		}
	}
}
