package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/cjmhq/cjm/eventstore"
)

// rowsSelect reads what eventstore.Row holds. The innermost query adds the
// page path (NULL when neither context.page.path nor properties.path is a
// non-empty string); the middle one reads the two URLs only when there is
// no path (Go takes the path out of them as journeymap.MessagePath does),
// and the fields ({fields}, named f0, f1, ...); the outer one packs every
// text into one ({packed}, see pack).
//
// The label follows Classifier.ClassifyMessage: a track's event name (else
// its name, else "track"); a page or screen name; "" for other calls
// without a name.
//
// There is no ORDER BY: rows come in the order they were appended (Seq),
// as in Scan. Sorting the window by time would cost more than the rest of
// the query, and DuckDB 1.4 runs out of memory on it at the store's default
// memory_limit (96MB) from about half a million rows.
const rowsSelect = `SELECT seq, ts, {packed} FROM (
	SELECT seq, ts, type,
		CASE WHEN type <> 'track' AND name IS NULL THEN '' ELSE coalesce(event, name, type) END AS label,
		source_id, user_id, anonymous_id, message_id, path,
		CASE WHEN path IS NULL AND json_type(context, '$.page.url') = 'VARCHAR' THEN json_extract_string(context, '$.page.url') END AS page_url,
		CASE WHEN path IS NULL AND json_type(properties, '$.url') = 'VARCHAR' THEN json_extract_string(properties, '$.url') END AS url{fields}
	FROM (
		SELECT *, coalesce(
			CASE WHEN json_type(context, '$.page.path') = 'VARCHAR' THEN nullif(json_extract_string(context, '$.page.path'), '') END,
			CASE WHEN json_type(properties, '$.path') = 'VARCHAR' THEN nullif(json_extract_string(properties, '$.path'), '') END) AS path
		FROM events WHERE {where} AND seq >= ? AND seq < ?
	)
)`

// rowTexts are the text columns of rowsSelect before the fields, in the
// order they are packed.
var rowTexts = []string{"type", "label", "source_id", "user_id", "anonymous_id", "message_id", "path", "page_url", "url"}

// rowsChunk is about how many rows one run of rowsSelect reads. The Go
// driver holds a query's whole result in memory before it gives the first
// row (about 100 bytes a row here), so ScanRows reads a long window in
// ranges of Seq, each about rowsChunk rows if the workspace's events are
// spread evenly over the log, and runs the query of the next range while
// fn takes the rows of this one.
var rowsChunk = 200_000

// ScanRows implements eventstore.Store. Field values come from DuckDB's
// json_extract_string, with each path segment quoted and the path passed
// as a parameter. They agree with journeymap's reading of the raw JSON
// except in corners: numbers are written the way DuckDB writes them (1e3 as
// 1000.0), objects keep their stored key order, and a key repeated in one
// object reads its first value. Keys match exactly, where encoding/json
// would also take "Path" for "path".
//
// The texts of a row come packed into one value: the Go driver crosses
// into C about three times for every text value it reads, which made
// reading them one column each three times slower than the query itself.
func (s *Store) ScanRows(ctx context.Context, q eventstore.RowQuery, fn func(*eventstore.Row) error) error {
	query, args, where, whereArgs := rowsQuery(q)
	var n, lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), min(seq), max(seq) FROM events WHERE `+where, whereArgs...).Scan(&n, &lo, &hi); err != nil {
		return fmt.Errorf("event store scan rows: %w", err)
	}
	if n.Int64 == 0 {
		return nil
	}
	span := hi.Int64 - lo.Int64 + 1
	// Each field read makes a row larger, in DuckDB and in the driver's
	// buffer: read fewer rows at a time (the store works within its
	// memory limit, 96MB by default).
	chunk := max(10_000, rowsChunk*4/(4+len(q.Fields)))
	step := max(1, span/max(1, n.Int64/int64(chunk)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		rows *sql.Rows
		err  error
	}
	run := func(from int64) chan result {
		ch := make(chan result, 1)
		go func() {
			rows, err := s.db.QueryContext(ctx, query, append(slices.Clip(args), from, from+step)...)
			ch <- result{rows, err}
		}()
		return ch
	}
	var (
		r      eventstore.Row
		packed string
		vals   = make([]eventstore.FieldValue, len(rowTexts)+len(q.Fields))
	)
	r.Fields = vals[len(rowTexts):]
	read := func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&r.Seq, &r.Timestamp, &packed); err != nil {
				return fmt.Errorf("event store scan rows: %w", err)
			}
			if !unpack(packed, vals) {
				return fmt.Errorf("event store scan rows: seq %d: bad packed row", r.Seq)
			}
			r.Timestamp = r.Timestamp.UTC()
			r.Type, r.Name, r.SourceID, r.UserID, r.AnonymousID, r.MessageID = vals[0].S, vals[1].S, vals[2].S, vals[3].S, vals[4].S, vals[5].S
			r.Path = vals[6].S
			if !vals[6].OK {
				r.Path = urlPath(vals[7], vals[8])
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("event store scan rows: %w", err)
		}
		return nil
	}
	next := run(lo.Int64)
	for from := lo.Int64; next != nil; from += step {
		res := <-next
		next = nil
		if from+step <= hi.Int64 {
			next = run(from + step)
		}
		err := res.err
		if err == nil {
			err = read(res.rows)
		} else {
			err = fmt.Errorf("event store scan rows: %w", err)
		}
		if err != nil {
			if next != nil {
				cancel()
				if res := <-next; res.rows != nil {
					res.rows.Close()
				}
			}
			return err
		}
	}
	return nil
}

// rowsQuery builds the query of q with its arguments but the range of Seq
// (two more), and its condition with its arguments (for the bounds).
func rowsQuery(q eventstore.RowQuery) (query string, args []any, where string, whereArgs []any) {
	var fields strings.Builder
	cols := slices.Clone(rowTexts)
	for i, f := range q.Fields {
		name := fmt.Sprintf("f%d", i)
		cols = append(cols, name)
		col, path, ok := jsonPath(f)
		if !ok {
			fields.WriteString(",\n\t\tNULL::VARCHAR AS " + name)
			continue
		}
		fields.WriteString(",\n\t\tjson_extract_string(" + col + ", ?) AS " + name)
		args = append(args, path)
	}
	nfield := len(args)
	cond := []string{"workspace_id = ?"}
	args = append(args, q.WorkspaceID)
	if !q.From.IsZero() {
		cond = append(cond, "ts >= ?")
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		cond = append(cond, "ts < ?")
		args = append(args, q.To.UTC())
	}
	if q.AfterSeq > 0 {
		cond = append(cond, "seq > ?")
		args = append(args, q.AfterSeq)
	}
	where = strings.Join(cond, " AND ")
	query = strings.NewReplacer("{packed}", pack(cols), "{fields}", fields.String(), "{where}", where).Replace(rowsSelect)
	return query, args, where, args[nfield:]
}

// pack is the SQL expression that packs the text columns cols into one
// text: each value as its length in bytes, ":" and the value, or "-" for
// NULL. unpack reads it back.
func pack(cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "CASE WHEN " + c + " IS NULL THEN '-' ELSE concat(strlen(" + c + "), ':', " + c + ") END"
	}
	return "concat(" + strings.Join(parts, ",\n\t") + ")"
}

// unpack splits a text packed by pack into vals, one per column; it
// reports whether s held exactly that many values.
func unpack(s string, vals []eventstore.FieldValue) bool {
	for i := range vals {
		if s == "" {
			return false
		}
		if s[0] == '-' {
			vals[i], s = eventstore.FieldValue{}, s[1:]
			continue
		}
		n, j := 0, 0
		for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			if n = n*10 + int(s[j]-'0'); n > len(s) {
				return false
			}
		}
		if j == 0 || j >= len(s) || s[j] != ':' || n > len(s)-j-1 {
			return false
		}
		vals[i], s = eventstore.FieldValue{S: s[j+1 : j+1+n], OK: true}, s[j+1+n:]
	}
	return s == ""
}

// jsonPath turns a dotted field (properties.a.b) into its column and a
// DuckDB JSON path with every key quoted ($."a"."b"). ok is false for a
// field no column holds, or with an empty key.
func jsonPath(field string) (col, path string, ok bool) {
	col, rest, _ := strings.Cut(field, ".")
	switch col {
	case "properties", "traits", "context":
	default:
		return "", "", false
	}
	if rest == "" {
		return "", "", false
	}
	var b strings.Builder
	b.WriteByte('$')
	for key := range strings.SplitSeq(rest, ".") {
		if key == "" {
			return "", "", false
		}
		b.WriteString(`."`)
		for i := 0; i < len(key); i++ {
			if key[i] == '"' || key[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(key[i])
		}
		b.WriteByte('"')
	}
	return col, b.String(), true
}

// urlPath is the path of the first URL that has one, as
// journeymap.MessagePath takes it.
func urlPath(urls ...eventstore.FieldValue) string {
	for _, u := range urls {
		if !u.OK {
			continue
		}
		if p, err := url.Parse(u.S); err == nil && p.Path != "" {
			return p.Path
		}
	}
	return ""
}
