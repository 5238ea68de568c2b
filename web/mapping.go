package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/fileimport"
)

// The column mapping of a CSV import: a preview of the file, defaults
// guessed from its column names (Vietnamese or English), and the form that
// turns into a fileimport.Mapping.

const (
	previewRows  = 5
	previewBytes = 1 << 20 // the most of a file read for its preview
)

// csvPreview is the start of a CSV file.
type csvPreview struct {
	Header  string     // the header line as in the file (without a byte order mark)
	Columns []string   // the column names, trimmed as the import matches them
	Rows    [][]string // the first rows, each with as many cells as Columns
}

// readPreview reads the header and the first rows of the CSV file at path.
// The separator is found as the import finds it.
func readPreview(path string) (*csvPreview, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, previewBytes))
	line, err := br.ReadString('\n')
	if err != nil && line == "" {
		return nil, fmt.Errorf("no header line: %w", err)
	}
	line = strings.TrimPrefix(strings.TrimRight(line, "\r\n"), "\ufeff")
	comma := fileimport.DetectComma([]byte(line))
	hr := csv.NewReader(strings.NewReader(line))
	hr.Comma = comma
	header, err := hr.Read()
	if err != nil {
		return nil, err
	}
	p := &csvPreview{Header: line}
	named := 0
	for _, h := range header {
		h = strings.TrimSpace(h)
		p.Columns = append(p.Columns, h)
		if h != "" {
			named++
		}
	}
	if named == 0 {
		return nil, fmt.Errorf("the header names no column")
	}
	rr := csv.NewReader(br)
	rr.Comma, rr.FieldsPerRecord, rr.LazyQuotes = comma, -1, true
	for len(p.Rows) < previewRows {
		rec, err := rr.Read()
		if err != nil {
			break // the end, or a row the import will report
		}
		row := make([]string, len(p.Columns))
		copy(row, rec)
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

// coreTarget is a message field a column can fill, with a dropdown of columns.
type coreTarget struct {
	Target      string // the mapping target (userId…)
	Label, Hint string // catalog keys
}

// Field is the form field of the target's column.
func (c coreTarget) Field() string { return "t_" + c.Target }

var coreTargets = []coreTarget{
	{"userId", "mapping.userid", "mapping.userid_hint"},
	{"anonymousId", "mapping.anonymousid", "mapping.anonymousid_hint"},
	{"event", "mapping.event", "mapping.event_hint"},
	{"timestamp", "mapping.timestamp", "mapping.timestamp_hint"},
	{"messageId", "mapping.messageid", "mapping.messageid_hint"},
	{"type", "mapping.type", "mapping.type_hint"},
	{"name", "mapping.name", "mapping.name_hint"},
}

// objectKinds are where other columns can go: properties.KEY, traits.KEY, context.KEY.
var objectKinds = []string{"properties", "traits", "context"}

// timeFormat is a preset time format, in strftime.
type timeFormat struct{ Value, Label, Example string }

var timeFormats = []timeFormat{
	{"%d/%m/%Y %H:%M", "dd/mm/yyyy HH:mm", "31/12/2025 14:30"},
	{"%d/%m/%Y %H:%M:%S", "dd/mm/yyyy HH:mm:ss", "31/12/2025 14:30:05"},
	{"%d/%m/%Y", "dd/mm/yyyy", "31/12/2025"},
	{"%Y-%m-%d %H:%M:%S", "yyyy-mm-dd HH:mm:ss", "2025-12-31 14:30:05"},
	{"%m/%d/%Y %H:%M", "mm/dd/yyyy HH:mm", "12/31/2025 14:30"},
}

// extraRow is a column of the file and where else it goes (x<i>_to: a kind
// or "" for nowhere; x<i>_key: the key inside it).
type extraRow struct {
	Index           int
	Column, Example string
	UsedAs          []string // catalog keys of the core fields the column fills
}

func (e extraRow) ToField() string  { return fmt.Sprintf("x%d_to", e.Index) }
func (e extraRow) KeyField() string { return fmt.Sprintf("x%d_key", e.Index) }

// mappingData is the mapping form of a CSV file.
type mappingData struct {
	Form        *form
	Preview     *csvPreview
	Core        []coreTarget
	Extras      []extraRow
	Kinds       []string
	TimeFormats []timeFormat
	Zones       []string
	Failure     string // catalog key of an error of the whole mapping
	Detail      string // the import's own words about it, in English
}

func newMappingData(p *csvPreview, f *form) *mappingData {
	m := &mappingData{Form: f, Preview: p, Core: coreTargets, Kinds: objectKinds, TimeFormats: timeFormats, Zones: zones}
	for i, c := range p.Columns {
		if c == "" {
			continue
		}
		row := extraRow{Index: i, Column: c}
		if len(p.Rows) > 0 {
			row.Example = p.Rows[0][i]
		}
		for _, t := range coreTargets {
			if f.Get(t.Field()) == c {
				row.UsedAs = append(row.UsedAs, t.Label)
			}
		}
		m.Extras = append(m.Extras, row)
	}
	return m
}

// Guessing the mapping from column names. Names are compared folded: lower
// case, without diacritics, words joined by "_" ("Mã khách hàng" is
// ma_khach_hang), and also without the "_" (CustomerID is customerid).
var (
	guesses = []struct {
		target string
		names  []string
	}{
		{"messageId", []string{"message_id", "msg_id", "event_id", "ma_su_kien"}},
		{"userId", []string{"user_id", "customer_id", "customer_code", "ma_khach_hang", "ma_kh", "khach_hang_id", "id_khach_hang",
			"member_id", "ma_thanh_vien", "client_id", "account_id", "uid", "user", "customer", "khach_hang"}},
		{"anonymousId", []string{"anonymous_id", "anon_id", "device_id", "visitor_id", "cookie_id", "ma_thiet_bi"}},
		{"event", []string{"event", "event_name", "su_kien", "ten_su_kien", "action", "hanh_dong", "activity", "hoat_dong"}},
		{"timestamp", []string{"timestamp", "time", "datetime", "date_time", "date", "created_at", "event_time", "occurred_at",
			"thoi_gian", "ngay_gio", "thoi_diem", "ngay", "ngay_tao", "ts"}},
		{"type", []string{"type", "message_type"}},
		{"name", []string{"page", "page_name", "screen", "screen_name", "ten_trang"}},
	}
	phoneNames = []string{"phone", "phone_number", "mobile", "sdt", "so_dien_thoai", "dien_thoai", "so_dt", "dtdd"}
	emailNames = []string{"email", "e_mail", "email_address", "thu_dien_tu"}
	nameNames  = []string{"full_name", "customer_name", "ho_ten", "ho_va_ten", "ten_khach_hang", "ten_kh"}
)

// fold is a column name folded for comparison, and the default key of a column.
func fold(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if r == 'đ' {
			r = 'd'
		}
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			gap = false
			b.WriteRune(r)
			continue
		}
		gap = true
	}
	return b.String()
}

func nameIs(folded string, names []string) bool {
	bare := strings.ReplaceAll(folded, "_", "")
	for _, n := range names {
		if folded == n || bare == strings.ReplaceAll(n, "_", "") {
			return true
		}
	}
	return false
}

// defaultMapping guesses the mapping of the columns of p: the core fields
// from their names; a phone number identifies the customer when nothing
// else does, or becomes traits.phone; e-mail and name columns become
// traits; every other column a property named after it. Times are
// detected, in the workspace's zone tz.
func defaultMapping(p *csvPreview, tz string) *form {
	f := newForm(nil)
	folded := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		folded[i] = fold(c)
	}
	used := map[int]bool{}
	for _, g := range guesses {
	names:
		for _, n := range g.names {
			for i, c := range p.Columns {
				if c == "" || used[i] || !nameIs(folded[i], []string{n}) {
					continue
				}
				if g.target == "type" && !typeColumn(p, i) {
					continue
				}
				f.Values.Set("t_"+g.target, c)
				used[i] = true
				break names
			}
		}
	}
	targets := map[string]bool{}
	for i, c := range p.Columns {
		if c == "" || used[i] {
			continue
		}
		kind, key := "properties", folded[i]
		switch {
		case nameIs(folded[i], phoneNames):
			if f.Get("t_userId") == "" {
				f.Values.Set("t_userId", c)
				continue
			}
			kind, key = "traits", "phone"
		case nameIs(folded[i], emailNames):
			kind, key = "traits", "email"
		case nameIs(folded[i], nameNames):
			kind, key = "traits", "name"
		}
		if key == "" {
			key = fmt.Sprintf("column_%d", i+1)
		}
		for n, base := 2, key; targets[kind+"."+key]; n++ {
			key = fmt.Sprintf("%s_%d", base, n)
		}
		targets[kind+"."+key] = true
		f.Values.Set(fmt.Sprintf("x%d_to", i), kind)
		f.Values.Set(fmt.Sprintf("x%d_key", i), key)
	}
	f.Values.Set("time_format", "")
	f.Values.Set("timezone", tz)
	return f
}

// typeColumn reports whether the preview's values of column i are message
// types: a column named "type" may well hold product types.
func typeColumn(p *csvPreview, i int) bool {
	seen := false
	for _, r := range p.Rows {
		if v := strings.TrimSpace(r[i]); v != "" {
			if !event.Type(strings.ToLower(v)).Valid() {
				return false
			}
			seen = true
		}
	}
	return seen
}

// checkMapping checks the mapping form of m and returns the import options
// it gives; errors are in m.Form (by field) and m.Failure.
func (s *server) checkMapping(m *mappingData) fileimport.Options {
	f, p := m.Form, m.Preview
	var mp fileimport.Mapping
	targets := map[string]bool{}
	for _, c := range coreTargets {
		col := f.Get(c.Field())
		if col == "" {
			continue
		}
		if !slices.Contains(p.Columns, col) {
			f.Fail(c.Field(), "err.map_column")
			continue
		}
		mp = append(mp, fileimport.MapField{Target: c.Target, Column: col})
		targets[c.Target] = true
	}
	traits := false
	for _, e := range m.Extras {
		kind := f.Get(e.ToField())
		if kind == "" {
			continue
		}
		if !slices.Contains(objectKinds, kind) {
			f.Fail(e.ToField(), "err.map_kind")
			continue
		}
		key := f.Get(e.KeyField())
		target := kind + "." + key
		switch {
		case key == "":
			f.Fail(e.KeyField(), "err.required")
			continue
		case !validTarget(target):
			f.Fail(e.KeyField(), "err.map_key")
			continue
		case targets[target]:
			f.Fail(e.KeyField(), "err.map_twice")
			continue
		}
		targets[target] = true
		traits = traits || kind == "traits"
		mp = append(mp, fileimport.MapField{Target: target, Column: e.Column})
	}
	if !targets["event"] && !targets["type"] && !traits {
		f.Fail("t_event", "err.map_event")
	}
	if !targets["userId"] && !targets["anonymousId"] {
		f.Fail("t_userId", "err.map_identity")
	}
	if !targets["timestamp"] {
		f.Fail("t_timestamp", "err.map_time")
	}
	tf := f.Get("time_format")
	switch {
	case tf == "custom":
		if tf = f.Get("time_custom"); tf == "" {
			f.Fail("time_custom", "err.required")
		}
	case tf != "" && !slices.ContainsFunc(timeFormats, func(t timeFormat) bool { return t.Value == tf }):
		f.Fail("time_format", "err.time_format")
	}
	loc := time.UTC
	if tz := f.Get("timezone"); tz == "" {
		f.Fail("timezone", "err.required")
	} else if l, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		f.Fail("timezone", "err.timezone")
	} else {
		loc = l
	}
	o := fileimport.Options{Mapping: mp, TimeFormat: tf, Location: loc}
	if !f.OK() {
		return o
	}
	// The import's own checks on the file's header: the time format first,
	// to tell which field is wrong, then the whole mapping.
	if tf != "" && s.dryRun(p.Header, fileimport.Mapping{{Target: "event", Column: mp[0].Column}, {Target: "timestamp", Column: mp[0].Column}}, tf, loc) != nil {
		f.Fail("time_custom", "err.time_format")
		return o
	}
	if err := s.dryRun(p.Header, mp, tf, loc); err != nil {
		m.Failure, m.Detail = "err.map_failed", err.Error()
	}
	return o
}

// validTarget reports whether target (properties.KEY…) is one the import
// takes, and names one field: no separator of the mapping syntax in it.
func validTarget(target string) bool {
	if strings.ContainsAny(target, ",=") {
		return false
	}
	_, err := fileimport.ParseMapping(target + "=column")
	return err == nil
}

// dryRun runs the import's checks of a mapping against a header without
// importing anything: a file of only the header has no line to submit.
func (s *server) dryRun(header string, mp fileimport.Mapping, timeFormat string, loc *time.Location) error {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteByte('\n')
	_, err := fileimport.Import(context.Background(), &b, fileimport.Options{Pipeline: s.pipeline, Format: fileimport.CSV,
		Mapping: mp, TimeFormat: timeFormat, Location: loc, Workers: 1})
	return err
}
