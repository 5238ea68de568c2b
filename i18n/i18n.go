// Package i18n is cjm's catalog of user-facing text, in Vietnamese (the
// default) and English. Every string the web UI shows comes from here; both
// languages are complete (the package test checks it).
package i18n

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Default is the language used when nothing else says which.
const Default = "vi"

// Langs lists the supported languages, the default first.
var Langs = []string{"vi", "en"}

var catalogs = map[string]map[string]string{"vi": vi, "en": en}

// Valid reports whether lang is a supported language.
func Valid(lang string) bool { return slices.Contains(Langs, lang) }

// Has reports whether key is in the catalog as a plain text, for T.
func Has(key string) bool {
	_, ok := vi[key]
	return ok
}

// Plural categories, as CLDR names them. A count text is stored once per
// category its language distinguishes, under KEY_CATEGORY: English writes
// "rejected.total_one" and "rejected.total_other"; Vietnamese, whose nouns
// do not change with the count, writes "rejected.total_other" only.
const (
	One   = "one"
	Other = "other"
)

// pluralForms lists the categories each language's catalog writes, in order.
var pluralForms = map[string][]string{"vi": {Other}, "en": {One, Other}}

// Plural returns the plural category of the count n in lang.
func Plural(lang string, n int64) string {
	switch lang {
	case "en":
		if n == 1 || n == -1 {
			return One
		}
	}
	return Other
}

// HasPlural reports whether key is in the catalog as a count text, for N.
func HasPlural(key string) bool {
	_, ok := vi[key+"_"+Other]
	return ok
}

// N returns the count text key in lang in the form for the count n ("1
// rejected event", "2 rejected events"), formatted with args as by
// fmt.Sprintf, or, without args, with n written as by Number (the text then
// has a single %s). An unknown language falls back to the default; an unknown
// key is returned as it is.
func N(lang, key string, n int64, args ...any) string {
	c, ok := catalogs[lang]
	if !ok {
		lang, c = Default, catalogs[Default]
	}
	s, ok := c[key+"_"+Plural(lang, n)]
	if !ok {
		if s, ok = c[key+"_"+Other]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		args = []any{Number(lang, n)}
	}
	return fmt.Sprintf(s, args...)
}

// Keys returns every key of the catalog of lang (nil for an unknown language).
func Keys(lang string) []string {
	c, ok := catalogs[lang]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// T returns the text of key in lang, formatted with args as by fmt.Sprintf
// when args are given. An unknown language falls back to the default; an
// unknown key is returned as it is, so a mistake shows up on the page.
func T(lang, key string, args ...any) string {
	c, ok := catalogs[lang]
	if !ok {
		c = catalogs[Default]
	}
	s, ok := c[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Match picks the supported language a browser prefers from its
// Accept-Language header ("en-US,en;q=0.9,vi;q=0.8"), or the default.
func Match(acceptLanguage string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if q > bestQ && Valid(primary) {
			best, bestQ = primary, q
		}
	}
	if best == "" {
		return Default
	}
	return best
}

// Number formats n with the thousands separator of lang: 1.234.567 in
// Vietnamese, 1,234,567 in English.
func Number(lang string, n int64) string {
	sep := T(lang, "fmt.thousands")
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// extend adds the entries of more to the catalog c, so a part of the UI can
// keep its texts in a file of its own (vi_maps.go beside en_maps.go). A key
// defined twice is a programming error.
func extend(c, more map[string]string) bool {
	for k, v := range more {
		if _, dup := c[k]; dup {
			panic("i18n: key defined twice: " + k)
		}
		c[k] = v
	}
	return true
}
