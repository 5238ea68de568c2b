package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/cjmhq/cjm/opstore"
)

const sourceColumns = `id, workspace_id, name, channel, write_key, rate_limit, disabled, created_at`

func scanSource(row scanner) (opstore.Source, error) {
	var src opstore.Source
	var created int64
	err := row.Scan(&src.ID, &src.WorkspaceID, &src.Name, &src.Channel, &src.WriteKey,
		&src.RateLimit, &src.Disabled, &created)
	src.CreatedAt = fromMilli(created)
	return src, err
}

// Sources lists a workspace's sources by name.
func (s *Store) Sources(ctx context.Context, workspaceID string) ([]opstore.Source, error) {
	return all(ctx, s, scanSource, "sources",
		`select `+sourceColumns+` from sources where workspace_id = ? order by name, id`, workspaceID)
}

// Source returns the source with the given id.
func (s *Store) Source(ctx context.Context, id string) (opstore.Source, error) {
	return one(ctx, s, scanSource, fmt.Sprintf("source %q", id),
		`select `+sourceColumns+` from sources where id = ?`, id)
}

// SourceByName returns the workspace's source with the given name.
func (s *Store) SourceByName(ctx context.Context, workspaceID, name string) (opstore.Source, error) {
	return one(ctx, s, scanSource, fmt.Sprintf("source %q", name),
		`select `+sourceColumns+` from sources where workspace_id = ? and name = ?`, workspaceID, strings.TrimSpace(name))
}

// SourceByWriteKey returns the source a write key belongs to, disabled or not.
func (s *Store) SourceByWriteKey(ctx context.Context, writeKey string) (opstore.Source, error) {
	return one(ctx, s, scanSource, "write key",
		`select `+sourceColumns+` from sources where write_key = ?`, writeKey)
}

// CreateSource stores a new source. It fills an empty ID, an empty WriteKey
// and a zero CreatedAt; an empty Channel is opstore.Other.
func (s *Store) CreateSource(ctx context.Context, src *opstore.Source) error {
	if err := checkSource(src); err != nil {
		return err
	}
	if src.ID == "" {
		src.ID = newID("src_")
	}
	if src.WriteKey == "" {
		src.WriteKey = newWriteKey()
	}
	if src.CreatedAt.IsZero() {
		src.CreatedAt = s.clock()
	}
	src.CreatedAt = utcMilli(src.CreatedAt)
	return s.insert(ctx, "create source", sourceErr(src), `insert into sources (`+sourceColumns+`) values (?, ?, ?, ?, ?, ?, ?, ?)`,
		src.ID, src.WorkspaceID, src.Name, src.Channel, src.WriteKey, src.RateLimit, src.Disabled, src.CreatedAt.UnixMilli())
}

// UpdateSource changes a source's name, channel, rate limit and disabled
// flag. Its workspace and write key stay (see RotateWriteKey).
func (s *Store) UpdateSource(ctx context.Context, src opstore.Source) error {
	if err := checkSource(&src); err != nil {
		return err
	}
	return s.change(ctx, fmt.Sprintf("source %q", src.ID), sourceErr(&src),
		`update sources set name = ?, channel = ?, rate_limit = ?, disabled = ? where id = ?`,
		src.Name, src.Channel, src.RateLimit, src.Disabled, src.ID)
}

// RotateWriteKey gives a source a new write key and returns it. The old key
// stops working at once.
func (s *Store) RotateWriteKey(ctx context.Context, id string) (string, error) {
	key := newWriteKey()
	err := s.change(ctx, fmt.Sprintf("source %q", id), nil, `update sources set write_key = ? where id = ?`, key, id)
	if err != nil {
		return "", err
	}
	return key, nil
}

func checkSource(src *opstore.Source) error {
	src.Name = strings.TrimSpace(src.Name)
	if src.Name == "" {
		return fmt.Errorf("source name is empty")
	}
	if src.Channel == "" {
		src.Channel = opstore.Other
	}
	if !src.Channel.Valid() {
		return fmt.Errorf("source channel %q is unknown (want one of %v)", src.Channel, opstore.Channels)
	}
	if src.RateLimit < 0 {
		return fmt.Errorf("source rate limit %d is negative", src.RateLimit)
	}
	return nil
}

// sourceErr maps a constraint violation on writing src to an opstore error.
func sourceErr(src *opstore.Source) func(error) error {
	return func(err error) error {
		switch {
		case isUnique(err, "sources.write_key"):
			return fmt.Errorf("write key is already used by another source: %w", opstore.ErrConflict)
		case isUnique(err, "sources.workspace_id", "sources.name"):
			return fmt.Errorf("source %q already exists in this workspace: %w", src.Name, opstore.ErrConflict)
		case isUnique(err):
			return fmt.Errorf("source %q already exists: %w", src.ID, opstore.ErrConflict)
		case isForeignKey(err):
			return fmt.Errorf("workspace %q: %w", src.WorkspaceID, opstore.ErrNotFound)
		}
		return nil
	}
}
