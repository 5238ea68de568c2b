// Package sqlite implements opstore.Store on an embedded SQLite file, through
// the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a committed write
// (a rejected message the collector has acknowledged, say) survives a power
// cut. Writes go through one connection; reads use a separate pool of
// read-only connections, which WAL lets proceed while a write is running.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cjmhq/cjm/opstore"
)

var _ opstore.Store = (*Store)(nil)

// Store is the SQLite operational store. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // the one writer connection; transactions BEGIN IMMEDIATE
	r   *sql.DB // read-only connections
	now func() time.Time
}

// Open opens the database file at path, creating it when missing, and brings
// its schema up to date.
func Open(path string) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: open: need a file path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A file: URI with the path escaped, so names holding '?', '#' or '%'
	// cannot be mistaken for parameters.
	uri := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?"

	// Pragmas run on every new connection. busy_timeout comes first (the
	// driver orders it so): another process may hold the lock.
	common := "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(full)"
	w, err := sql.Open("sqlite", uri+common+"&_pragma=journal_mode(wal)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{w: w, now: time.Now}
	// Migrate before the read pool exists: the writer's first connection
	// creates the file and switches it to WAL, which is persistent.
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", uri+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := r.Ping(); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database. Running queries finish first.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	// Let SQLite refresh its planner statistics when there is reason to,
	// as it recommends doing before closing a long-lived connection.
	s.w.Exec("pragma optimize")
	return errors.Join(err, s.w.Close())
}

// clock returns the current time as stored: UTC, whole milliseconds.
func (s *Store) clock() time.Time { return utcMilli(s.now()) }

// Times are stored as INTEGER milliseconds since the Unix epoch.

func utcMilli(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func fromMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMilli reads a nullable time column: NULL is the zero time.
func nullMilli(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMilli(v.Int64)
}

// orNull stores "" as NULL, for optional references.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// newID returns prefix followed by 16 random lower-case base32 characters
// (80 bits), e.g. "ws_k5v3q2jz7hx4mnbc".
func newID(prefix string) string {
	b := make([]byte, 10)
	rand.Read(b) // never fails: since Go 1.24 a broken system RNG crashes the program
	return prefix + strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// newWriteKey returns "wk_" followed by 32 random base64url characters (192 bits).
func newWriteKey() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "wk_" + base64.RawURLEncoding.EncodeToString(b)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// one runs a query expected to return one row on the read pool; no row is
// opstore.ErrNotFound, reported as what (e.g. `source "src_x"`).
func one[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), what, query string, args ...any) (T, error) {
	v, err := scan(s.r.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, opstore.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return v, nil
}

// all runs a query on the read pool and scans every row. An empty result is
// an empty, non-nil slice.
func all[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), what, query string, args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

// count runs a query returning one integer on the read pool.
func count(ctx context.Context, s *Store, what, query string, args ...any) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return n, nil
}

// change runs a statement on the writer that must touch a row; touching none
// is opstore.ErrNotFound, reported as what. Constraint violations go through
// mapErr.
func (s *Store) change(ctx context.Context, what string, mapErr func(error) error, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		if mapErr != nil {
			if e := mapErr(err); e != nil {
				return e
			}
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, opstore.ErrNotFound)
	}
	return nil
}

// insert runs an INSERT on the writer, mapping constraint violations with mapErr.
func (s *Store) insert(ctx context.Context, what string, mapErr func(error) error, query string, args ...any) error {
	if _, err := s.w.ExecContext(ctx, query, args...); err != nil {
		if e := mapErr(err); e != nil {
			return e
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE), committing when it
// returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// constraint returns the extended result code of a SQLite constraint
// violation and the message naming the columns, or 0 for other errors.
func constraint(err error) (code int, msg string) {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return e.Code(), e.Error()
	}
	return 0, ""
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation; with
// columns, only one naming them the way SQLite does ("sources.write_key").
func isUnique(err error, columns ...string) bool {
	code, msg := constraint(err)
	if code != sqlite3.SQLITE_CONSTRAINT_UNIQUE && code != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return false
	}
	for _, c := range columns {
		if !strings.Contains(msg, c) {
			return false
		}
	}
	return true
}

// isForeignKey reports whether err is a FOREIGN KEY violation: a referenced
// workspace or user does not exist.
func isForeignKey(err error) bool {
	code, _ := constraint(err)
	return code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// SetClock makes the store read the time from now, for tests of expiry.
// Call it before the store is used concurrently.
func (s *Store) SetClock(now func() time.Time) { s.now = now }
