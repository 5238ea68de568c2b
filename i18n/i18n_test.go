package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Both languages have every key, with text, and the same fmt verbs.
func TestCatalogsComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	all := map[string]bool{}
	for _, lang := range Langs {
		for _, k := range Keys(lang) {
			all[k] = true
		}
	}
	for k := range all {
		var want []string
		for i, lang := range Langs {
			s, ok := catalogs[lang][k]
			if !ok {
				t.Errorf("%s: key %q is missing", lang, k)
				continue
			}
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: key %q is empty", lang, k)
			}
			got := verbs.FindAllString(s, -1)
			if i == 0 {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("key %q: %s has verbs %v, %s has %v", k, Langs[0], want, lang, got)
			}
		}
	}
	if len(catalogs) != len(Langs) {
		t.Errorf("%d catalogs for %d languages", len(catalogs), len(Langs))
	}
}

// The Vietnamese catalog is Vietnamese: written with diacritics, not copied
// from English.
func TestVietnameseLooksVietnamese(t *testing.T) {
	diacritics := regexp.MustCompile(`[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđÀÁÂÊÔƠƯĐ]`)
	with := 0
	for k, s := range vi {
		if diacritics.MatchString(s) {
			with++
		}
		if strings.HasPrefix(k, "fmt.") || strings.HasPrefix(k, "channel.") || strings.HasPrefix(k, "source.snippet_") {
			continue
		}
		if en[k] == s && len(s) > 12 {
			t.Errorf("vi %q is the English text %q", k, s)
		}
	}
	if with < len(vi)*3/4 {
		t.Errorf("only %d of %d Vietnamese strings have diacritics", with, len(vi))
	}
	for _, want := range []string{"Nguồn dữ liệu", "Sự kiện trực tiếp", "Sự kiện bị từ chối", "Người dùng và vai trò", "Đăng nhập", "Đăng xuất", "Không gian làm việc"} {
		found := false
		for _, s := range vi {
			found = found || s == want
		}
		if !found {
			t.Errorf("vi has no %q", want)
		}
	}
}

// Every key the web templates and the web package use is in the catalog.
// Templates call {{t "key" ...}}; Go code names keys as string literals with
// a catalog namespace ("err.required").
func TestWebUsesOnlyKnownKeys(t *testing.T) {
	root := filepath.Join("..", "web")
	if _, err := os.Stat(root); err != nil {
		t.Skip("no web package next to i18n")
	}
	namespaces := map[string]bool{}
	for k := range vi {
		ns, _, _ := strings.Cut(k, ".")
		namespaces[ns] = true
	}
	tmplKey := regexp.MustCompile(`\{\{-?\s*t\s+"([^"]+)"`)
	tmplKeyNested := regexp.MustCompile(`\(t\s+"([^"]+)"`)
	goKey := regexp.MustCompile(`"([a-z]+(?:\.[a-z0-9_]+)+)"`)
	used := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		var keys []string
		switch {
		case strings.HasSuffix(path, ".html"):
			for _, re := range []*regexp.Regexp{tmplKey, tmplKeyNested} {
				for _, m := range re.FindAllStringSubmatch(src, -1) {
					keys = append(keys, m[1])
				}
			}
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			for _, m := range goKey.FindAllStringSubmatch(src, -1) {
				if ns, _, _ := strings.Cut(m[1], "."); namespaces[ns] {
					keys = append(keys, m[1])
				}
			}
		}
		for _, k := range keys {
			used++
			if !Has(k) {
				t.Errorf("%s uses key %q, which is not in the catalog", path, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 100 {
		t.Errorf("found only %d key uses in web/: is the call pattern still {{t \"key\"}}?", used)
	}
}

func TestT(t *testing.T) {
	if got := T("vi", "nav.sources"); got != "Nguồn dữ liệu" {
		t.Errorf("vi nav.sources = %q", got)
	}
	if got := T("en", "nav.sources"); got != "Sources" {
		t.Errorf("en nav.sources = %q", got)
	}
	if got := T("en", "users.role_of", "Mai"); got != "Role of Mai" {
		t.Errorf("with args: %q", got)
	}
	if got := T("fr", "nav.sources"); got != "Nguồn dữ liệu" {
		t.Errorf("unknown language: %q", got)
	}
	if got := T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "vi",
		"en-US,en;q=0.9":                  "en",
		"vi-VN,vi;q=0.9,en-US;q=0.8":      "vi",
		"fr-FR,fr;q=0.9,en;q=0.8,vi;q=.7": "en",
		"fr-FR,de;q=0.9":                  "vi",
		"en;q=0.5,vi;q=0.8":               "vi",
		"EN-gb":                           "en",
		"en;q=0,vi;q=0":                   "vi",
		"*":                               "vi",
		"zh-Hant-TW;q=1, en ; q = 0.3":    "en",
	} {
		if got := Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"vi", 0, "0"}, {"vi", 999, "999"}, {"vi", 1000, "1.000"}, {"vi", 1234567, "1.234.567"},
		{"en", 1234567, "1,234,567"}, {"en", -12345, "-12,345"}, {"en", 100000, "100,000"},
	} {
		if got := Number(tc.lang, tc.n); got != tc.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}
