package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migrations are SQL files named NNNN_what.sql, numbered from 1 without gaps.
// Each runs once, in its own transaction, and is recorded in schema_version.
// Never edit a released migration: add the next one.
//
// PRAGMA foreign_keys cannot change inside a transaction, so a migration that
// rebuilds a table must keep every reference valid on its own; foreign keys
// are checked after each migration, before it commits.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting with %04d_", base, i+1)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// migrate applies the migrations the database has not seen yet. Two
// processes may migrate at once: each migration's transaction starts with
// BEGIN IMMEDIATE, so the second waits and then finds the version applied.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `create table if not exists schema_version (
		version    integer primary key,
		name       text    not null,
		applied_at integer not null
	) strict`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var have int
	if err := s.w.QueryRowContext(ctx, `select coalesce(max(version), 0) from schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("read schema_version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade cjm", have, len(ms))
	}
	for _, m := range ms[have:] {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var done bool
			if err := tx.QueryRowContext(ctx, `select exists(select 1 from schema_version where version = ?)`, m.version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if err := foreignKeyCheck(ctx, tx); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `insert into schema_version (version, name, applied_at) values (?, ?, ?)`,
				m.version, m.name, s.clock().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// foreignKeyCheck fails when any row references a missing one.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `pragma foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s (rowid %d) references a missing %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}
