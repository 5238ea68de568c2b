package fileimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/event"
)

// Mapping says which CSV column fills which message field, parsed from
// "userId=customer_id,event=action,timestamp=time,properties.store=store".
// Targets: messageId, type, userId, anonymousId, event, name, groupId,
// previousId, timestamp, and properties.KEY, traits.KEY, context.KEY (KEY may
// be dotted, e.g. context.campaign.name).
type Mapping []MapField

// MapField is one target=column pair.
type MapField struct {
	Target string
	Column string
}

var scalarTargets = map[string]bool{"messageId": true, "type": true, "userId": true, "anonymousId": true, "event": true,
	"name": true, "groupId": true, "previousId": true, "timestamp": true}

// ParseMapping parses the --map flag.
func ParseMapping(s string) (Mapping, error) {
	var m Mapping
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		target, col, ok := strings.Cut(part, "=")
		target, col = strings.TrimSpace(target), strings.TrimSpace(col)
		if !ok || target == "" || col == "" {
			return nil, fmt.Errorf("mapping %q: want target=column", part)
		}
		if !scalarTargets[target] {
			obj, key, _ := strings.Cut(target, ".")
			if (obj != "properties" && obj != "traits" && obj != "context") || key == "" {
				return nil, fmt.Errorf("mapping %q: unknown target %q (want messageId, type, userId, anonymousId, event, name, groupId, previousId, timestamp, properties.KEY, traits.KEY or context.KEY)", part, target)
			}
		}
		if seen[target] {
			return nil, fmt.Errorf("mapping: target %q is mapped twice", target)
		}
		seen[target] = true
		m = append(m, MapField{Target: target, Column: col})
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("mapping is empty: give --map 'userId=COLUMN,event=COLUMN,timestamp=COLUMN,...'")
	}
	return m, nil
}

type csvParser struct {
	cols     []colTarget
	hasType  bool
	hasEvent bool
	hasTime  bool
	traits   bool
	times    timeParser
	comma    rune
}

type colTarget struct {
	index  int
	target string
	obj    string   // properties | traits | context | ""
	path   []string // key path inside obj
}

// newCSVParser reads the header line and resolves the mapping against it.
func newCSVParser(br *bufio.Reader, o Options) (*csvParser, []byte, error) {
	line, err := readHeader(br)
	if err == bufio.ErrBufferFull || len(bytes.TrimRight(line, "\r\n")) > maxRecord {
		return nil, nil, fmt.Errorf("line 1: the header line is longer than the limit of %s", sizeString(maxRecord))
	}
	if err != nil && len(line) == 0 {
		return nil, nil, fmt.Errorf("line 1: the CSV file has no header line")
	}
	line = bytes.TrimRight(line, "\r\n")
	line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // Excel's UTF-8 BOM
	p := &csvParser{comma: DetectComma(line)}
	header, err := p.record(line)
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: header: %v", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.TrimSpace(h)] = i
	}
	if len(o.Mapping) == 0 {
		return nil, nil, fmt.Errorf("CSV import needs a column mapping (--map 'userId=COLUMN,event=COLUMN,timestamp=COLUMN')")
	}
	for _, f := range o.Mapping {
		i, ok := idx[f.Column]
		if !ok {
			return nil, nil, fmt.Errorf("mapping %s=%s: the CSV header has no column %q (columns: %s)", f.Target, f.Column, f.Column, strings.Join(header, ", "))
		}
		ct := colTarget{index: i, target: f.Target}
		if !scalarTargets[f.Target] {
			obj, key, _ := strings.Cut(f.Target, ".")
			ct.obj, ct.path = obj, strings.Split(key, ".")
			p.traits = p.traits || obj == "traits"
		}
		p.hasType = p.hasType || f.Target == "type"
		p.hasEvent = p.hasEvent || f.Target == "event"
		p.hasTime = p.hasTime || f.Target == "timestamp"
		p.cols = append(p.cols, ct)
	}
	if !p.hasTime {
		return nil, nil, fmt.Errorf("mapping: map the column with the event time (timestamp=COLUMN): imported events keep the time they happened")
	}
	if !p.hasType && !p.hasEvent && !p.traits {
		return nil, nil, fmt.Errorf("mapping: map an event column (event=COLUMN), a type column, or traits for identify rows")
	}
	tp, err := newTimeParser(o.TimeFormat, o.Location)
	if err != nil {
		return nil, nil, err
	}
	p.times = tp
	return p, line, nil
}

// readHeader reads the first line; past maxRecord bytes without a line
// break, it stops with bufio.ErrBufferFull.
func readHeader(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if err != bufio.ErrBufferFull || len(line) > maxRecord+2 {
			return line, err
		}
	}
}

// DetectComma picks the separator of a CSV header line: the most frequent
// of , ; tab and |, comma on a tie.
func DetectComma(header []byte) rune {
	best, n := ',', bytes.Count(header, []byte{','})
	for _, c := range []rune{';', '\t', '|'} {
		if k := bytes.Count(header, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

func (p *csvParser) record(line []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(line))
	r.Comma = p.comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = false
	return r.Read()
}

func (p *csvParser) parse(c *chunk, recv time.Time) ([]event.Message, []LineError) {
	msgs := make([]event.Message, 0, len(c.lines))
	var bad []LineError
	for i, l := range c.lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		m, e := p.message(l, recv)
		if e == nil {
			e = event.Check(&m)
		}
		if e != nil {
			bad = append(bad, LineError{Line: c.nums[i], Error: *e, idx: i})
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, bad
}

func (p *csvParser) message(line []byte, recv time.Time) (event.Message, *event.Error) {
	m := event.Message{ReceivedAt: recv}
	rec, err := p.record(line)
	if err != nil {
		msg := err.Error()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return m, &event.Error{Code: "invalid_csv", Reason: "not a valid CSV record: " + msg}
	}
	objs := map[string]map[string]any{}
	for _, ct := range p.cols {
		if ct.index >= len(rec) {
			return m, &event.Error{Code: "missing_column", Field: ct.target,
				Reason: fmt.Sprintf("the row has %d columns, the mapping needs column %d for %s", len(rec), ct.index+1, ct.target)}
		}
		v := strings.TrimSpace(rec[ct.index])
		if v == "" {
			continue
		}
		switch ct.target {
		case "messageId":
			m.MessageID = v
		case "type":
			m.Type = event.Type(strings.ToLower(v))
		case "userId":
			m.UserID = v
		case "anonymousId":
			m.AnonymousID = v
		case "event":
			m.Event = v
		case "name":
			m.Name = v
		case "groupId":
			m.GroupID = v
		case "previousId":
			m.PreviousID = v
		case "timestamp":
			t, err := p.times.parse(v)
			if err != nil {
				return m, &event.Error{Code: "invalid_timestamp", Field: "timestamp", Reason: err.Error()}
			}
			m.Timestamp = t
		default:
			o := objs[ct.obj]
			if o == nil {
				o = map[string]any{}
				objs[ct.obj] = o
			}
			setPath(o, ct.path, scalar(v))
		}
	}
	if m.Type == "" {
		// An event column makes every row a track call (a row with an empty
		// event is then an error); traits alone make identify calls.
		m.Type = event.Track
		if !p.hasEvent && p.traits {
			m.Type = event.Identify
		}
	}
	if m.Timestamp.IsZero() {
		// Never the import time: the event happened when the file says.
		return m, &event.Error{Code: "missing_timestamp", Field: "timestamp", Reason: "the time column is empty: when did it happen?"}
	}
	for obj, dst := range map[string]*json.RawMessage{"properties": &m.Properties, "traits": &m.Traits, "context": &m.Context} {
		if o := objs[obj]; len(o) > 0 {
			b, _ := json.Marshal(o) // sorted keys: the same row always gives the same bytes
			*dst = b
		}
	}
	return m, nil
}

func setPath(o map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := o[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			o[k] = next
		}
		o = next
	}
	o[path[len(path)-1]] = v
}

var numberRe = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// scalar types a CSV value: plain numbers (not phone numbers or codes with a
// leading zero) become JSON numbers, true/false booleans, the rest strings.
func scalar(v string) any {
	switch v {
	case "true", "TRUE", "True":
		return true
	case "false", "FALSE", "False":
		return false
	}
	if len(v) <= 16 && numberRe.MatchString(v) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

// timeParser parses CSV times: a given layout, or auto-detection among ISO
// 8601, Vietnamese day-first dates, and Unix seconds or milliseconds.
type timeParser struct {
	layout string
	loc    *time.Location
}

// autoLayouts are tried in order; day-first before month-first, as dates are
// written in Vietnam.
var autoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
	"02/01/2006 15:04:05",
	"02/01/2006 15:04",
	"02/01/2006",
	"2/1/2006 15:04:05",
	"2/1/2006 15:04",
	"2/1/2006",
	"02-01-2006 15:04:05",
	"02-01-2006",
	"2006/01/02 15:04:05",
	"2006/01/02",
	time.RFC1123Z,
	time.RFC1123,
}

var strftime = strings.NewReplacer("%Y", "2006", "%m", "01", "%d", "02", "%H", "15", "%M", "04", "%S", "05",
	"%y", "06", "%I", "03", "%p", "PM", "%b", "Jan", "%B", "January", "%z", "-0700", "%Z", "MST", "%f", "000000", "%%", "%")

func newTimeParser(format string, loc *time.Location) (timeParser, error) {
	tp := timeParser{loc: loc}
	if format == "" {
		return tp, nil
	}
	if strings.Contains(format, "%") {
		format = strftime.Replace(format)
	}
	if _, err := time.Parse(format, time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).Format(format)); err != nil {
		return tp, fmt.Errorf("--time-format %q is not a usable layout: %v", format, err)
	}
	tp.layout = format
	return tp, nil
}

func (tp timeParser) parse(v string) (time.Time, error) {
	if tp.layout != "" {
		t, err := time.ParseInLocation(tp.layout, v, tp.loc)
		if err != nil {
			return t, fmt.Errorf("timestamp %q does not match the time format %q", v, tp.layout)
		}
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case n > 1e17: // nanoseconds
			return time.Unix(0, n).UTC(), nil
		case n > 1e11: // milliseconds
			return time.UnixMilli(n).UTC(), nil
		case n > 1e8:
			return time.Unix(n, 0).UTC(), nil
		}
	}
	for _, l := range autoLayouts {
		if t, err := time.ParseInLocation(l, v, tp.loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not a recognised date-time; give --time-format", v)
}

func sortErrors(es []LineError) {
	sort.Slice(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}
