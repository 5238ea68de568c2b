package analytics

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

// A marketing spend file is a CSV file, as a spreadsheet saves it, with a
// header row naming the columns in English or Vietnamese (case and
// diacritics do not matter, a unit in brackets is allowed: "Chi phí (VNĐ)"):
//
//	channel   kênh                                   required
//	campaign  chiến dịch                             optional ("" = the whole channel)
//	from      start, từ ngày, bắt đầu                required, the first day
//	to        end, đến ngày, kết thúc                required, the last day (inclusive)
//	amount    spend, cost, chi phí, số tiền          required
//	currency  tiền tệ                                optional
//
// Other columns are ignored. The delimiter is a comma, a semicolon (what a
// spreadsheet writes where the comma is the decimal mark) or a tab, told
// from the header line; a UTF-8 byte order mark is skipped.
//
// Dates are 2026-10-31 or 31/10/2026 (day first, as written in Vietnam;
// also with - or . between). A month is from 2026-10-01 to 2026-10-31.
//
// Amounts are in the major unit (dong, dollars) and may carry thousands
// separators and a currency sign: 1500000, 1.500.000, 1,500,000,
// 1 500 000, 1.500.000 ₫, 1500000đ, $12.50, 12,50 USD. A single "." or ","
// followed by exactly three digits separates thousands; otherwise it is the
// decimal mark, and when both appear the last one is. Decimals beyond what
// the currency has (none for VND, two for USD) are refused unless zero.
//
// The currency of a row is its currency column, else the sign or code of
// its amount, else the unit in the amount column's header, else the
// default; a sign that contradicts the column or the header is an error.

// SpendError is a problem with one line of a spend file. Field is the
// column in English ("amount"), "" for the line as a whole.
type SpendError struct {
	Line  int // 1-based; 0 when the file could not be read at all
	Field string
	Msg   string
}

func (e SpendError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// The columns of a spend file.
const (
	spendChannel = iota
	spendCampaign
	spendFrom
	spendTo
	spendAmount
	spendCurrency
	spendColumns
)

// spendFields names the columns in errors.
var spendFields = [spendColumns]string{"channel", "campaign", "from", "to", "amount", "currency"}

// spendRequired says which columns a file must have.
var spendRequired = [spendColumns]bool{spendChannel: true, spendFrom: true, spendTo: true, spendAmount: true}

// spendHeaders are the header names of each column, folded (profile.Fold).
var spendHeaders = map[string]int{
	"channel": spendChannel, "kenh": spendChannel, "marketing channel": spendChannel, "kenh quang cao": spendChannel,
	"campaign": spendCampaign, "campaign name": spendCampaign, "chien dich": spendCampaign, "ten chien dich": spendCampaign,
	"from": spendFrom, "start": spendFrom, "start date": spendFrom, "from date": spendFrom, "date from": spendFrom,
	"tu": spendFrom, "tu ngay": spendFrom, "bat dau": spendFrom, "ngay bat dau": spendFrom,
	"to": spendTo, "end": spendTo, "end date": spendTo, "to date": spendTo, "date to": spendTo,
	"den": spendTo, "den ngay": spendTo, "ket thuc": spendTo, "ngay ket thuc": spendTo,
	"amount": spendAmount, "spend": spendAmount, "cost": spendAmount, "amount spent": spendAmount,
	"chi phi": spendAmount, "so tien": spendAmount,
	"currency": spendCurrency, "tien te": spendCurrency, "loai tien": spendCurrency, "don vi tien te": spendCurrency,
}

// spendHeaderHelp lists the names a missing column may have, for the error.
var spendHeaderHelp = [spendColumns]string{
	spendChannel: "channel or kênh",
	spendFrom:    "from, start, từ ngày or bắt đầu",
	spendTo:      "to, end, đến ngày or kết thúc",
	spendAmount:  "amount, spend, cost, chi phí or số tiền",
}

// ParseSpend reads a marketing spend file (see above) into rows of
// workspaceID, the period of each as opstore.Spend holds it ([From, To)
// with To the day after the last day). Rows with a problem are left out
// and reported, the others are returned: a file with one bad line still
// imports the rest. A row repeating the channel, campaign and first day of
// an earlier one is reported too, as the store would let it replace the
// earlier one. defaultCurrency ("" is VND) is the currency of rows that
// name none.
func ParseSpend(r io.Reader, workspaceID, defaultCurrency string) ([]opstore.Spend, []SpendError) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, []SpendError{{Msg: "cannot read the file: " + err.Error()}}
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return nil, []SpendError{{Line: 1, Msg: "the file is UTF-16 text: save it as CSV UTF-8"}}
	case !utf8.Valid(data):
		return nil, []SpendError{{Line: 1, Msg: "the file is not UTF-8 text: save it as CSV UTF-8"}}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = spendDelimiter(data)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []SpendError{{Line: 1, Msg: "the file is empty: it needs a header row and a row per period"}}
		}
		return nil, []SpendError{{Line: 1, Msg: csvMessage(err)}}
	}

	p := spendParser{workspaceID: workspaceID, defaultCurrency: strings.ToUpper(strings.TrimSpace(defaultCurrency)), seen: map[string]int{}}
	if p.defaultCurrency == "" {
		p.defaultCurrency = opstore.DefaultKPICurrency
	}
	headerLine, _ := cr.FieldPos(0)
	if errs := p.header(header, headerLine); len(errs) > 0 {
		return nil, errs
	}
	var rows []opstore.Spend
	var errs []SpendError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				errs = append(errs, SpendError{Msg: csvMessage(err)})
				break
			}
			errs = append(errs, SpendError{Line: pe.StartLine, Msg: csvMessage(err)})
			continue
		}
		line, _ := cr.FieldPos(0)
		x, rowErrs := p.row(rec, line)
		if len(rowErrs) > 0 {
			errs = append(errs, rowErrs...)
			continue
		}
		if x != nil {
			rows = append(rows, *x)
		}
	}
	return rows, errs
}

// csvMessage is a CSV syntax error without the line encoding/csv puts in it.
func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "not valid CSV: " + pe.Err.Error()
	}
	return "cannot read the file: " + err.Error()
}

// spendDelimiter is the character the header line is split by most often,
// outside quotes: ',' ';' or a tab (',' when none is there).
func spendDelimiter(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '\n' && !quoted {
			break
		}
		switch c {
		case '"':
			quoted = !quoted
		case ',', ';', '\t':
			if !quoted {
				counts[c]++
			}
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

type spendParser struct {
	workspaceID     string
	defaultCurrency string
	col             [spendColumns]int // index in a record, -1 when absent
	headerCurrency  string            // the unit in the amount column's header ("Chi phí (VNĐ)")
	seen            map[string]int    // channel, campaign and first day -> line
}

// header finds the columns in the header row, at line.
func (p *spendParser) header(cells []string, line int) []SpendError {
	for i := range p.col {
		p.col[i] = -1
	}
	var errs []SpendError
	for i, cell := range cells {
		name, unit := spendHeaderName(cell)
		c, ok := spendHeaders[name]
		if !ok {
			continue
		}
		if p.col[c] >= 0 {
			errs = append(errs, SpendError{Line: line, Field: spendFields[c],
				Msg: fmt.Sprintf("columns %q and %q both give the %s", strings.TrimSpace(cells[p.col[c]]), strings.TrimSpace(cell), spendFields[c])})
			continue
		}
		p.col[c] = i
		if c == spendAmount && unit != "" {
			if cur, ok := spendCurrencyCode(unit); ok {
				p.headerCurrency = cur
			}
		}
	}
	for c, required := range spendRequired {
		if required && p.col[c] < 0 {
			errs = append(errs, SpendError{Line: line, Field: spendFields[c],
				Msg: fmt.Sprintf("the header row has no %s column (name it %s)", spendFields[c], spendHeaderHelp[c])})
		}
	}
	return errs
}

// spendHeaderName folds a header cell and takes a unit in brackets off it:
// "Chi phí (VNĐ)" is "chi phi" and "VNĐ".
func spendHeaderName(cell string) (name, unit string) {
	cell = strings.TrimSpace(cell)
	if strings.HasSuffix(cell, ")") || strings.HasSuffix(cell, "]") {
		if i := strings.LastIndexAny(cell, "(["); i > 0 {
			unit = strings.TrimSpace(cell[i+1 : len(cell)-1])
			cell = cell[:i]
		}
	}
	return profile.Fold(cell), unit
}

// cell is the trimmed value of column c of a record, "" when absent.
func (p *spendParser) cell(rec []string, c int) string {
	i := p.col[c]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// row reads one record; nil without errors is a blank row.
func (p *spendParser) row(rec []string, line int) (*opstore.Spend, []SpendError) {
	var cells [spendColumns]string
	blank := true
	for c := range cells {
		cells[c] = p.cell(rec, c)
		blank = blank && cells[c] == ""
	}
	if blank {
		return nil, nil
	}
	var errs []SpendError
	fail := func(c int, format string, args ...any) {
		errs = append(errs, SpendError{Line: line, Field: spendFields[c], Msg: fmt.Sprintf(format, args...)})
	}
	name := func(c int) string {
		s := strings.Join(strings.Fields(norm.NFC.String(cells[c])), " ")
		if len(s) > opstore.MaxKPIName {
			fail(c, "is longer than %d bytes", opstore.MaxKPIName)
		}
		return s
	}
	x := opstore.Spend{WorkspaceID: p.workspaceID, Channel: name(spendChannel), Campaign: name(spendCampaign)}
	if x.Channel == "" {
		fail(spendChannel, "is empty")
	}

	from, errFrom := parseSpendDate(cells[spendFrom])
	if errFrom != nil {
		fail(spendFrom, "%v", errFrom)
	}
	last, errTo := parseSpendDate(cells[spendTo])
	if errTo != nil {
		fail(spendTo, "%v", errTo)
	}
	if errFrom == nil && errTo == nil {
		if last.Before(from) {
			fail(spendTo, "%s is before the first day %s", last.Format(time.DateOnly), from.Format(time.DateOnly))
		}
		x.From, x.To = from, last.AddDate(0, 0, 1)
	}

	// The currency: the column, else the amount's sign, else the header's unit.
	explicit, named := p.headerCurrency, "the amount column's header"
	if s := cells[spendCurrency]; s != "" {
		cur, ok := spendCurrencyCode(s)
		if !ok {
			fail(spendCurrency, "%q is not a currency code such as VND or USD", s)
		}
		explicit, named = cur, "the currency column"
	}
	number, sign := spendAmountSign(cells[spendAmount])
	x.Currency = p.defaultCurrency
	switch {
	case explicit != "":
		x.Currency = explicit
	case sign != "":
		x.Currency = sign
	}
	if sign != "" && explicit != "" && sign != explicit {
		fail(spendAmount, "is in %s but %s says %s", sign, named, explicit)
	} else if cells[spendAmount] == "" {
		fail(spendAmount, "is empty")
	} else {
		amount, err := parseSpendAmount(number, profile.MinorDigits(x.Currency))
		if err != nil {
			fail(spendAmount, "%q %v", cells[spendAmount], err)
		}
		x.Amount = amount
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := x.Validate(); err != nil {
		return nil, []SpendError{{Line: line, Msg: err.Error()}}
	}
	key := x.Channel + "\x00" + x.Campaign + "\x00" + x.From.Format(time.DateOnly)
	if first, ok := p.seen[key]; ok {
		return nil, []SpendError{{Line: line, Msg: fmt.Sprintf("repeats the channel, campaign and first day of line %d", first)}}
	}
	p.seen[key] = line
	return &x, nil
}

// spendDateLayouts are the date formats of a spend file: ISO, and day
// first as written in Vietnam. Day and month may have one digit.
var spendDateLayouts = []string{"2006-1-2", "2006/1/2", "2/1/2006", "2-1-2006", "2.1.2006"}

// parseSpendDate reads a date, allowing a time of 00:00 after it (as some
// spreadsheets write dates), as 00:00 UTC of that day.
func parseSpendDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("is empty")
	}
	date := s
	if d, rest, ok := strings.Cut(s, " "); ok {
		switch strings.TrimSpace(rest) {
		case "0:00", "00:00", "0:00:00", "00:00:00":
			date = d
		default:
			return time.Time{}, fmt.Errorf("%q has a time of day: write the date only, e.g. 2026-10-31 or 31/10/2026", s)
		}
	}
	for _, layout := range spendDateLayouts {
		if t, err := time.Parse(layout, date); err == nil {
			if t.Year() < 1970 || t.Year() > 2999 {
				return time.Time{}, fmt.Errorf("%q is out of range", s)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date: write 2026-10-31 or 31/10/2026 (day first)", s)
}

// spendSigns are the currency signs and words an amount may carry; a
// longer one comes before a shorter one it ends with.
var spendSigns = []struct{ sign, code string }{
	{"vnđ", "VND"}, {"đồng", "VND"}, {"₫", "VND"}, {"đ", "VND"}, {"d", "VND"},
	{"us$", "USD"}, {"$", "USD"}, {"€", "EUR"},
}

// spendAmountSign takes a currency sign or ISO code off an amount (before
// or after it): "1.500.000 ₫" is "1.500.000" and VND, "$12.50" is "12.50"
// and USD, "12.50 usd" is "12.50" and USD. A sign or code made of letters
// must not touch other letters. The code is "" when there is none.
func spendAmountSign(s string) (number, code string) {
	low := strings.ToLower(strings.TrimSpace(s))
	for _, x := range spendSigns {
		if n, ok := strings.CutSuffix(low, x.sign); ok && !(startsWithLetter(x.sign) && endsWithLetter(n)) {
			return strings.TrimSpace(n), x.code
		}
		if n, ok := strings.CutPrefix(low, x.sign); ok && !(endsWithLetter(x.sign) && startsWithLetter(n)) {
			return strings.TrimSpace(n), x.code
		}
	}
	if len(low) > 3 {
		if c, n := low[len(low)-3:], low[:len(low)-3]; isLetters(c) && !endsWithLetter(n) {
			return strings.TrimSpace(n), strings.ToUpper(c)
		}
		if c, n := low[:3], low[3:]; isLetters(c) && !startsWithLetter(n) {
			return strings.TrimSpace(n), strings.ToUpper(c)
		}
	}
	return low, ""
}

func startsWithLetter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r)
}

func endsWithLetter(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r)
}

// spendCurrencyCode reads a currency column or header unit: an ISO code
// in any case, or a sign ("₫", "VNĐ", "$").
func spendCurrencyCode(s string) (string, bool) {
	low := strings.ToLower(strings.TrimSpace(s))
	for _, x := range spendSigns {
		if low == x.sign {
			return x.code, true
		}
	}
	if isLetters(low) && len(low) == 3 {
		return strings.ToUpper(low), true
	}
	return "", false
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

// parseSpendAmount reads an amount in major units, without its currency
// sign, into minor units of a currency with digits decimals.
func parseSpendAmount(s string, digits int) (int64, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'':
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(s, "+")
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "\u2212") || strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return 0, errors.New("is negative: spend is zero or more")
	}
	if s == "" || strings.Trim(s, "0123456789.,") != "" || strings.Trim(s, ".,") == "" {
		return 0, errors.New("is not a number")
	}

	// Which mark is the decimal one, if any.
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	var point, sep byte
	switch {
	case dots > 0 && commas > 0:
		point, sep = s[strings.LastIndexAny(s, ".,")], ','
		if point == ',' {
			sep = '.'
		}
	case dots+commas == 1:
		mark := s[strings.IndexAny(s, ".,")]
		if i := strings.IndexByte(s, mark); len(s)-i-1 == 3 && i > 0 {
			sep = mark
		} else {
			point = mark
		}
	case dots > 0:
		sep = '.'
	case commas > 0:
		sep = ','
	}
	whole, frac := s, ""
	if point != 0 {
		i := strings.LastIndexByte(s, point)
		whole, frac = s[:i], s[i+1:]
		if strings.IndexByte(whole, point) >= 0 || strings.ContainsAny(frac, ".,") {
			return 0, errors.New("is not a number: its separators are misplaced")
		}
	}
	if sep != 0 {
		groups := strings.Split(whole, string(sep))
		for i, g := range groups {
			if i == 0 && (len(g) == 0 || len(g) > 3) || i > 0 && len(g) != 3 {
				return 0, errors.New("is not a number: its thousands separators are misplaced")
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" {
		whole = "0"
	}
	if extra := strings.TrimRight(frac, "0"); len(extra) > digits {
		if digits == 0 {
			return 0, errors.New("has decimals but the currency has none")
		}
		return 0, fmt.Errorf("has more than %d decimals", digits)
	}
	frac = strings.TrimRight(frac, "0")
	frac += strings.Repeat("0", digits-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, errors.New("is too large")
	}
	return v, nil
}
