// Package duckdb is the embedded event store: one DuckDB file holding every
// normalised message, appended in log order through DuckDB's appender.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// Options tune the DuckDB engine.
type Options struct {
	Threads     int    // default: the number of CPUs
	MemoryLimit string // default "96MB"
	// CheckpointThreshold is how much WAL DuckDB gathers before it
	// checkpoints (default "64MB"). Larger loads bulk data faster (about
	// twice as fast at "256MB") but a checkpoint then needs more memory.
	CheckpointThreshold string
}

// Store is an event store in a DuckDB file.
type Store struct {
	db *sql.DB
	mu sync.Mutex // serialises Append
	// last is the highest stored seq once known (0: ask the database); this
	// process is the only writer, so Append keeps it current.
	last uint64
}

const schema = `
CREATE TABLE IF NOT EXISTS events (
	seq          UBIGINT   NOT NULL,
	workspace_id VARCHAR   NOT NULL,
	source_id    VARCHAR   NOT NULL,
	message_id   VARCHAR   NOT NULL,
	dedup_key    UBIGINT   NOT NULL,
	type         VARCHAR   NOT NULL,
	user_id      VARCHAR,
	anonymous_id VARCHAR,
	event        VARCHAR,
	name         VARCHAR,
	group_id     VARCHAR,
	previous_id  VARCHAR,
	properties   VARCHAR,
	traits       VARCHAR,
	context      VARCHAR,
	integrations VARCHAR,
	ts           TIMESTAMP NOT NULL,
	original_ts  TIMESTAMP,
	sent_at      TIMESTAMP,
	received_at  TIMESTAMP
);`

// columns is the read list, in the order scanRow expects.
const columns = `seq, workspace_id, source_id, message_id, type, user_id, anonymous_id, event, name, group_id,
	previous_id, properties, traits, context, integrations, ts, original_ts, sent_at, received_at`

// Open opens (creating if needed) the DuckDB file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}

	if opts.MemoryLimit == "" {
		opts.MemoryLimit = "96MB"
	}
	q := url.Values{}
	q.Set("threads", fmt.Sprint(opts.Threads))
	q.Set("memory_limit", opts.MemoryLimit)
	// Checkpoint less often than DuckDB's default (16 MB of WAL): loading
	// wide event rows runs faster. The event log, not this WAL, is the
	// source of truth, so a longer WAL costs only restart time and memory.
	if opts.CheckpointThreshold == "" {
		opts.CheckpointThreshold = "64MB"
	}
	q.Set("checkpoint_threshold", opts.CheckpointThreshold)
	db, err := sql.Open("duckdb", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	if _, err := db.Exec(schema + privacySchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// DB exposes the database for the analytics engine's own queries.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database (DuckDB checkpoints on close).
func (s *Store) Close() error { return s.db.Close() }

// LastSeq implements eventstore.Store.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	var n uint64
	if err := s.db.QueryRowContext(ctx, lastSeqQuery).Scan(&n); err != nil {
		return 0, fmt.Errorf("event store last seq: %w", err)
	}
	return n, nil
}

// Append implements eventstore.Store: the messages and nothing else are
// committed in one transaction, so LastSeq always tells exactly what is stored.
func (s *Store) Append(ctx context.Context, msgs []event.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.last
	if last == 0 {
		var err error
		if last, err = s.LastSeq(ctx); err != nil {
			return err
		}
	}
	for len(msgs) > 0 && msgs[0].Seq <= last {
		msgs = msgs[1:]
	}
	if len(msgs) == 0 {
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("event store append: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		a, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", "events")
		if err != nil {
			return err
		}
		for i := range msgs {
			m := &msgs[i]
			if err := a.AppendRow(m.Seq, m.WorkspaceID, m.SourceID, m.MessageID, event.DedupKey(m.WorkspaceID, m.MessageID),
				string(m.Type), nullStr(m.UserID), nullStr(m.AnonymousID), nullStr(m.Event), nullStr(m.Name),
				nullStr(m.GroupID), nullStr(m.PreviousID), nullJSON(m.Properties), nullJSON(m.Traits),
				nullJSON(m.Context), nullJSON(m.Integrations), m.Timestamp, nullTime(m.OriginalTimestamp),
				nullTime(m.SentAt), nullTime(m.ReceivedAt)); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("event store append: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.last = 0 // unknown whether it committed: ask next time
		return fmt.Errorf("event store commit: %w", err)
	}
	s.last = msgs[len(msgs)-1].Seq
	return nil
}

// DedupKeys implements eventstore.Store.
func (s *Store) DedupKeys(ctx context.Context, fn func(uint64)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT dedup_key FROM events`)
	if err != nil {
		return fmt.Errorf("event store dedup keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k uint64
		if err := rows.Scan(&k); err != nil {
			return err
		}
		fn(k)
	}
	return rows.Err()
}

// where builds the WHERE clause of a filter.
func where(f eventstore.Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) {
		conds = append(conds, c)
		args = append(args, a...)
	}
	if f.WorkspaceID != "" {
		add("workspace_id = ?", f.WorkspaceID)
	}
	if f.SourceID != "" {
		add("source_id = ?", f.SourceID)
	}
	if f.Type != "" {
		add("type = ?", string(f.Type))
	}
	if f.Event != "" {
		add("(event = ? OR name = ?)", f.Event, f.Event)
	}
	if f.User != "" {
		add("(user_id = ? OR anonymous_id = ?)", f.User, f.User)
	}
	if !f.From.IsZero() {
		add("ts >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("ts < ?", f.To.UTC())
	}
	if f.AfterSeq > 0 {
		add("seq > ?", f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Recent implements eventstore.Store.
func (s *Store) Recent(ctx context.Context, f eventstore.Filter, limit int) ([]event.Message, error) {
	if limit <= 0 {
		limit = 50
	}
	w, args := where(f)
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM events`+w+` ORDER BY seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("event store recent: %w", err)
	}
	defer rows.Close()
	var out []event.Message
	for rows.Next() {
		var m event.Message
		if err := scanRow(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Scan implements eventstore.Store. Rows are appended in seq order and DuckDB
// preserves insertion order, so no sort is needed.
func (s *Store) Scan(ctx context.Context, f eventstore.Filter, fn func(*event.Message) error) error {
	w, args := where(f)
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM events`+w, args...)
	if err != nil {
		return fmt.Errorf("event store scan: %w", err)
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

// Count implements eventstore.Store.
func (s *Store) Count(ctx context.Context, f eventstore.Filter) (int64, error) {
	w, args := where(f)
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("event store count: %w", err)
	}
	return n, nil
}

// EventNames implements eventstore.Store.
func (s *Store) EventNames(ctx context.Context, workspaceID string, limit int) ([]eventstore.NameCount, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT coalesce(event, name, type) AS label, count(*) AS n
		FROM events WHERE workspace_id = ? GROUP BY label ORDER BY n DESC, label LIMIT ?`, workspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("event store names: %w", err)
	}
	defer rows.Close()
	var out []eventstore.NameCount
	for rows.Next() {
		var nc eventstore.NameCount
		if err := rows.Scan(&nc.Name, &nc.Count); err != nil {
			return nil, err
		}
		out = append(out, nc)
	}
	return out, rows.Err()
}

func scanRow(rows *sql.Rows, m *event.Message) error {
	var (
		typ                               string
		user, anon, ev, name, group, prev sql.NullString
		props, traits, ctx, integ         sql.NullString
		ts                                time.Time
		orig, sent, recv                  sql.NullTime
	)
	if err := rows.Scan(&m.Seq, &m.WorkspaceID, &m.SourceID, &m.MessageID, &typ, &user, &anon, &ev, &name, &group,
		&prev, &props, &traits, &ctx, &integ, &ts, &orig, &sent, &recv); err != nil {
		return fmt.Errorf("event store read: %w", err)
	}
	m.Type = event.Type(typ)
	m.UserID, m.AnonymousID, m.Event, m.Name, m.GroupID, m.PreviousID = user.String, anon.String, ev.String, name.String, group.String, prev.String
	m.Properties, m.Traits, m.Context, m.Integrations = raw(props), raw(traits), raw(ctx), raw(integ)
	m.Timestamp = ts.UTC()
	m.OriginalTimestamp, m.SentAt, m.ReceivedAt = utc(orig), utc(sent), utc(recv)
	return nil
}

func raw(s sql.NullString) []byte {
	if !s.Valid || s.String == "" {
		return nil
	}
	return []byte(s.String)
}

func utc(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func nullStr(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func nullJSON(b []byte) driver.Value {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func nullTime(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
