package duckdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

var _ eventstore.PersonalData = (*Store)(nil)

// privacySchema keeps the highest seq ever deleted. LastSeq is the larger of
// it and max(seq) of events: deleting the newest messages (an erasure, the
// retention policy) must not move the store's position back, or the loader
// would read the log again from there (and fail on released segments).
const privacySchema = `
CREATE TABLE IF NOT EXISTS events_erased (seq UBIGINT NOT NULL);`

// lastSeqQuery is the store's position: see privacySchema.
const lastSeqQuery = `SELECT greatest(coalesce((SELECT max(seq) FROM events), 0), coalesce((SELECT max(seq) FROM events_erased), 0))`

// emailPaths and phonePaths are where a message carries an e-mail address
// or a phone number: column and JSON path.
var (
	emailPaths = [][2]string{{"traits", "$.email"}, {"context", "$.traits.email"}, {"properties", "$.email"}}
	phonePaths = [][2]string{{"traits", "$.phone"}, {"context", "$.traits.phone"}, {"properties", "$.phone"}}
)

// personWhere is the WHERE clause of q: a message whose userId is one of
// q.IDs; or, unless it names another userId (then it is that person's), one
// whose anonymousId or previousId is one of q.IDs or that carries one of
// the e-mail addresses or phone numbers.
func personWhere(q eventstore.PersonQuery) (string, []any) {
	var or []string
	var args []any
	in := func(expr string, vals []string) {
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
		or = append(or, expr+" IN ("+ph+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if len(q.IDs) > 0 {
		in("anonymous_id", q.IDs)
		in("previous_id", q.IDs)
	}
	if len(q.Emails) > 0 {
		emails := make([]string, len(q.Emails))
		for i, e := range q.Emails {
			emails[i] = strings.ToLower(strings.TrimSpace(e))
		}
		// The substring test is cheap and rules out most rows before the
		// JSON is parsed.
		for _, p := range emailPaths {
			in(fmt.Sprintf(`CASE WHEN contains(%[1]s, '"email"') THEN lower(trim(json_extract_string(%[1]s, '%[2]s'))) END`, p[0], p[1]), emails)
		}
	}
	if len(q.Phones) > 0 {
		var digits []string
		for _, p := range q.Phones {
			digits = append(digits, PhoneDigits(p)...)
		}
		for _, p := range phonePaths {
			in(fmt.Sprintf(`CASE WHEN contains(%[1]s, '"phone"') THEN regexp_replace(json_extract_string(%[1]s, '%[2]s'), '[^0-9]', '', 'g') END`, p[0], p[1]), digits)
		}
	}
	var args0 []any
	w := " WHERE workspace_id = ? AND ("
	args0 = append(args0, q.WorkspaceID)
	if len(q.IDs) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(q.IDs)), ", ")
		w += "user_id IN (" + ph + ") OR (user_id IS NULL OR user_id IN (" + ph + ")) AND "
		for range 2 {
			for _, v := range q.IDs {
				args0 = append(args0, v)
			}
		}
	} else {
		w += "user_id IS NULL AND "
	}
	w += "(" + strings.Join(or, " OR ") + "))"
	args = append(args0, args...)
	if q.ConsentOnly {
		w += ` AND (event = 'Consent Updated' OR contains(context, 'categoryPreferences'))`
	}
	return w, args
}

// PhoneDigits returns the digit strings a stored phone number may reduce to
// for the E.164 number e164: its digits, and for a Vietnamese number (+84)
// the national form with a leading 0.
func PhoneDigits(e164 string) []string {
	var b strings.Builder
	for _, r := range e164 {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if d == "" {
		return nil
	}
	out := []string{d}
	if rest, ok := strings.CutPrefix(d, "84"); ok && rest != "" {
		out = append(out, "0"+rest)
	}
	return out
}

// ScanPerson implements eventstore.PersonalData.
func (s *Store) ScanPerson(ctx context.Context, q eventstore.PersonQuery, fn func(*event.Message) error) error {
	if q.Empty() {
		return nil
	}
	w, args := personWhere(q)
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM events`+w+` ORDER BY seq`, args...)
	if err != nil {
		return fmt.Errorf("event store scan person: %w", err)
	}
	defer rows.Close()
	var m event.Message
	for rows.Next() {
		m = event.Message{}
		if err := scanRow(rows, &m); err != nil {
			return err
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DeletePerson implements eventstore.PersonalData. The deletion is
// checkpointed at once (when DuckDB can), so the write-ahead log stops
// holding the deleted rows.
func (s *Store) DeletePerson(ctx context.Context, q eventstore.PersonQuery) (int64, error) {
	if q.Empty() {
		return 0, nil
	}
	q.ConsentOnly = false // a deletion takes every message of the person
	w, args := personWhere(q)
	return s.deleteWhere(ctx, w, args)
}

// DeleteBefore implements eventstore.PersonalData.
func (s *Store) DeleteBefore(ctx context.Context, workspaceID string, before time.Time) (int64, error) {
	if workspaceID == "" {
		return 0, fmt.Errorf("event store delete: no workspace given")
	}
	return s.deleteWhere(ctx, ` WHERE workspace_id = ? AND ts < ?`, []any{workspaceID, before.UTC()})
}

// deleteWhere deletes the rows matching where, keeping the store's position
// (see privacySchema), then checkpoints.
func (s *Store) deleteWhere(ctx context.Context, where string, args []any) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("event store delete: %w", err)
	}
	defer tx.Rollback()
	var top uint64
	if err := tx.QueryRowContext(ctx, lastSeqQuery).Scan(&top); err != nil {
		return 0, fmt.Errorf("event store delete: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM events`+where, args...)
	if err != nil {
		return 0, fmt.Errorf("event store delete: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("event store delete: %w", err)
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM events_erased`); err != nil {
			return 0, fmt.Errorf("event store delete: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events_erased VALUES (?)`, top); err != nil {
			return 0, fmt.Errorf("event store delete: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("event store delete: %w", err)
	}
	if n > 0 {
		// Best effort: DuckDB checkpoints by itself later when it cannot now.
		_, _ = s.db.ExecContext(ctx, `CHECKPOINT`)
	}
	return n, nil
}
