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

// pluralBase splits a count text's key into its base and plural category
// ("rejected.total_one" is "rejected.total", "one"); ok is false for a
// plain key.
func pluralBase(key string) (base, category string, ok bool) {
	i := strings.LastIndexByte(key, '_')
	if i < 0 {
		return "", "", false
	}
	for _, forms := range pluralForms {
		if slices.Contains(forms, key[i+1:]) {
			return key[:i], key[i+1:], true
		}
	}
	return "", "", false
}

// Both languages have every key, with text, and the same fmt verbs. A count
// text has exactly the plural forms its language distinguishes (English one
// and other, Vietnamese other only), every form with the same verbs, and no
// plain text under its base key.
func TestCatalogsComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	plain := map[string]bool{}
	plural := map[string]bool{}
	for _, lang := range Langs {
		if _, ok := pluralForms[lang]; !ok {
			t.Errorf("%s: no plural forms declared", lang)
		}
		for _, k := range Keys(lang) {
			if strings.TrimSpace(catalogs[lang][k]) == "" {
				t.Errorf("%s: key %q is empty", lang, k)
			}
			if base, _, ok := pluralBase(k); ok {
				plural[base] = true
			} else {
				plain[k] = true
			}
		}
	}
	for k := range plain {
		var want []string
		for i, lang := range Langs {
			s, ok := catalogs[lang][k]
			if !ok {
				t.Errorf("%s: key %q is missing", lang, k)
				continue
			}
			got := verbs.FindAllString(s, -1)
			if i == 0 {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("key %q: %s has verbs %v, %s has %v", k, Langs[0], want, lang, got)
			}
		}
	}
	if len(plural) < 4 {
		t.Errorf("only %d count texts: are plural keys still written KEY_one, KEY_other?", len(plural))
	}
	for base := range plural {
		if plain[base] {
			t.Errorf("key %q is both a plain text and a count text", base)
		}
		var want []string
		first := true
		for _, lang := range Langs {
			for _, k := range Keys(lang) {
				if b, cat, ok := pluralBase(k); ok && b == base && !slices.Contains(pluralForms[lang], cat) {
					t.Errorf("%s: %q is a plural form %s does not have", lang, k, lang)
				}
			}
			for _, cat := range pluralForms[lang] {
				s, ok := catalogs[lang][base+"_"+cat]
				if !ok {
					t.Errorf("%s: count text %q lacks its %q form %s_%s", lang, base, cat, base, cat)
					continue
				}
				got := verbs.FindAllString(s, -1)
				if first {
					want, first = got, false
				} else if !slices.Equal(got, want) {
					t.Errorf("count text %q: %s_%s has verbs %v, another form has %v", base, lang, cat, got, want)
				}
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
	tmplCount := regexp.MustCompile(`[{(]-?\s*tn\s+"([^"]+)"`)
	goKey := regexp.MustCompile(`"([a-z]+(?:\.[a-z0-9_]+)+)"`)
	goCount := regexp.MustCompile(`i18n\.N\([^,()]+,\s*"([^"]+)"`)
	used, counts := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		var keys, countKeys []string
		switch {
		case strings.HasSuffix(path, ".html"):
			for _, re := range []*regexp.Regexp{tmplKey, tmplKeyNested} {
				for _, m := range re.FindAllStringSubmatch(src, -1) {
					keys = append(keys, m[1])
				}
			}
			for _, m := range tmplCount.FindAllStringSubmatch(src, -1) {
				countKeys = append(countKeys, m[1])
			}
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			for _, m := range goKey.FindAllStringSubmatch(src, -1) {
				if ns, _, _ := strings.Cut(m[1], "."); namespaces[ns] && !HasPlural(m[1]) {
					keys = append(keys, m[1])
				}
			}
			for _, m := range goCount.FindAllStringSubmatch(src, -1) {
				countKeys = append(countKeys, m[1])
			}
		}
		for _, k := range keys {
			used++
			if !Has(k) {
				t.Errorf("%s uses key %q, which is not in the catalog", path, k)
			}
		}
		for _, k := range countKeys {
			used++
			counts++
			if !HasPlural(k) {
				t.Errorf("%s uses %q as a count text, but the catalog has no %s_other", path, k, k)
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
	if counts < 4 {
		t.Errorf("found only %d count text uses in web/: is the call pattern still {{tn \"key\" n}}?", counts)
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

func TestN(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 0, "0 rejected events in all"},
		{"en", 1, "1 rejected event in all"},
		{"en", 2, "2 rejected events in all"},
		{"en", 1234, "1,234 rejected events in all"},
		{"vi", 1, "Tổng cộng 1 sự kiện bị từ chối"},
		{"vi", 1234, "Tổng cộng 1.234 sự kiện bị từ chối"},
		{"fr", 1, "Tổng cộng 1 sự kiện bị từ chối"},
	} {
		if got := N(tc.lang, "rejected.total", tc.n); got != tc.want {
			t.Errorf("N(%s, rejected.total, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := N("en", "source.events_count", 1); got != "1 event" {
		t.Errorf("1 event: %q", got)
	}
	if got := N("en", "overview.checklist_progress", 3, 1, 3); got != "1 of 3 steps done" {
		t.Errorf("with args: %q", got)
	}
	if got := N("en", "overview.checklist_progress", 1, 0, 1); got != "0 of 1 step done" {
		t.Errorf("with args, one: %q", got)
	}
	if got := N("en", "no.such.key", 1); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
	if !HasPlural("rejected.total") || Has("rejected.total") || HasPlural("nav.sources") || !Has("nav.sources") {
		t.Error("Has and HasPlural do not tell plain and count texts apart")
	}
	// "channel.other" is a plain text, not the other form of "channel".
	if _, _, ok := pluralBase("channel.other"); ok || !Has("channel.other") {
		t.Error("channel.other is taken for a plural form")
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 0, Other}, {"en", 1, One}, {"en", -1, One}, {"en", 2, Other}, {"en", 11, Other}, {"en", 21, Other},
		{"vi", 0, Other}, {"vi", 1, Other}, {"vi", 2, Other},
	} {
		if got := Plural(tc.lang, tc.n); got != tc.want {
			t.Errorf("Plural(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
		if !slices.Contains(pluralForms[tc.lang], Plural(tc.lang, tc.n)) {
			t.Errorf("%s: Plural gives %q, which its catalog does not write", tc.lang, Plural(tc.lang, tc.n))
		}
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
