package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cjmhq/cjm/opstore"
)

// Rejected paging limits.
const (
	DefaultRejectedLimit = 50
	MaxRejectedLimit     = 1000
)

// MaxRejectedPayload is the most bytes of a rejected message's payload kept.
const MaxRejectedPayload = 64 << 10

// AddRejected stores rejected messages in one transaction. A zero ReceivedAt
// is now; a payload over 64 KiB is cut at the last whole UTF-8 character
// that fits. The IDs are assigned by the database and not reported back.
func (s *Store) AddRejected(ctx context.Context, rs []opstore.Rejected) error {
	if len(rs) == 0 {
		return nil
	}
	for i := range rs {
		if rs[i].WorkspaceID == "" {
			return fmt.Errorf("rejected message %d has no workspace", i)
		}
	}
	now := s.clock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `insert into rejected
			(workspace_id, source_id, received_at, origin, idx, code, field, reason, payload)
			values (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rs {
			at := now
			if !r.ReceivedAt.IsZero() {
				at = r.ReceivedAt
			}
			if _, err := stmt.ExecContext(ctx, r.WorkspaceID, r.SourceID, at.UnixMilli(), r.Origin, r.Index,
				r.Code, r.Field, r.Reason, truncate(r.Payload, MaxRejectedPayload)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add rejected: %w", err)
	}
	return nil
}

// Rejected lists a workspace's rejected messages, newest first. To page,
// pass the smallest ID of a page as the next filter's BeforeID. A Limit of 0
// is 50; more than 1000 is 1000.
func (s *Store) Rejected(ctx context.Context, f opstore.RejectedFilter) ([]opstore.Rejected, error) {
	if f.WorkspaceID == "" {
		return nil, errors.New("rejected messages: no workspace given")
	}
	q := `select id, workspace_id, source_id, received_at, origin, idx, code, field, reason, payload
		from rejected where workspace_id = ?`
	args := []any{f.WorkspaceID}
	if f.SourceID != "" {
		q += ` and source_id = ?`
		args = append(args, f.SourceID)
	}
	if f.Code != "" {
		q += ` and code = ?`
		args = append(args, f.Code)
	}
	if f.BeforeID > 0 {
		q += ` and id < ?`
		args = append(args, f.BeforeID)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultRejectedLimit
	case limit > MaxRejectedLimit:
		limit = MaxRejectedLimit
	}
	q += ` order by id desc limit ?`
	args = append(args, limit)

	return all(ctx, s, func(row scanner) (opstore.Rejected, error) {
		var r opstore.Rejected
		var received int64
		err := row.Scan(&r.ID, &r.WorkspaceID, &r.SourceID, &received, &r.Origin, &r.Index,
			&r.Code, &r.Field, &r.Reason, &r.Payload)
		r.ReceivedAt = fromMilli(received)
		return r, err
	}, "rejected messages", q, args...)
}

// RejectedCount returns the number of rejected messages kept for a workspace.
func (s *Store) RejectedCount(ctx context.Context, workspaceID string) (int, error) {
	return count(ctx, s, "count rejected messages", `select count(*) from rejected where workspace_id = ?`, workspaceID)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// DeleteRejected implements opstore.Store.
func (s *Store) DeleteRejected(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `delete from rejected where received_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete rejected messages: %w", err)
	}
	return res.RowsAffected()
}
