package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

var _ opstore.PrivacyStore = (*Store)(nil)

const privacyRequestColumns = `id, workspace_id, kind, identifier_kind, identifier_hash, hint, actor, status, error, counts, file,
	requested_at, completed_at`

func scanPrivacyRequest(row scanner) (opstore.PrivacyRequest, error) {
	var r opstore.PrivacyRequest
	var counts string
	var requested int64
	var completed sql.NullInt64
	if err := row.Scan(&r.ID, &r.WorkspaceID, &r.Kind, &r.IdentifierKind, &r.IdentifierHash, &r.Hint, &r.Actor, &r.Status,
		&r.Error, &counts, &r.File, &requested, &completed); err != nil {
		return r, err
	}
	r.RequestedAt, r.CompletedAt = fromMilli(requested), nullMilli(completed)
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return r, fmt.Errorf("counts of privacy request %s: %w", r.ID, err)
	}
	return r, nil
}

// CreatePrivacyRequest implements opstore.PrivacyStore.
func (s *Store) CreatePrivacyRequest(ctx context.Context, r *opstore.PrivacyRequest) error {
	switch {
	case r.Kind != opstore.RequestExport && r.Kind != opstore.RequestDelete:
		return fmt.Errorf("privacy request kind %q is unknown", r.Kind)
	case r.IdentifierHash == "":
		return errors.New("privacy request has no identifier hash")
	}
	if r.ID == "" {
		r.ID = newID("prq_")
	}
	if r.Status == "" {
		r.Status = opstore.RequestRunning
	}
	if r.RequestedAt.IsZero() {
		r.RequestedAt = s.clock()
	}
	r.RequestedAt = utcMilli(r.RequestedAt)
	counts, err := countsJSON(r.Counts)
	if err != nil {
		return err
	}
	return s.insert(ctx, "create privacy request", func(err error) error {
		if isForeignKey(err) {
			return fmt.Errorf("workspace %q: %w", r.WorkspaceID, opstore.ErrNotFound)
		}
		return nil
	}, `insert into privacy_requests (`+privacyRequestColumns+`) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)`,
		r.ID, r.WorkspaceID, r.Kind, r.IdentifierKind, r.IdentifierHash, r.Hint, r.Actor, r.Status, r.Error, counts, r.File,
		r.RequestedAt.UnixMilli())
}

func countsJSON(c map[string]int64) (string, error) {
	if c == nil {
		return "{}", nil
	}
	b, err := json.Marshal(c)
	return string(b), err
}

// FinishPrivacyRequest implements opstore.PrivacyStore.
func (s *Store) FinishPrivacyRequest(ctx context.Context, r opstore.PrivacyRequest) error {
	if r.Status != opstore.RequestDone && r.Status != opstore.RequestFailed {
		return fmt.Errorf("privacy request %s: cannot finish as %q", r.ID, r.Status)
	}
	if r.CompletedAt.IsZero() {
		r.CompletedAt = s.clock()
	}
	counts, err := countsJSON(r.Counts)
	if err != nil {
		return err
	}
	return s.change(ctx, "privacy request "+r.ID, nil,
		`update privacy_requests set status = ?, error = ?, counts = ?, file = ?, completed_at = ? where workspace_id = ? and id = ?`,
		r.Status, r.Error, counts, r.File, utcMilli(r.CompletedAt).UnixMilli(), r.WorkspaceID, r.ID)
}

// PrivacyRequest implements opstore.PrivacyStore.
func (s *Store) PrivacyRequest(ctx context.Context, workspaceID, id string) (opstore.PrivacyRequest, error) {
	return one(ctx, s, scanPrivacyRequest, "privacy request "+id,
		`select `+privacyRequestColumns+` from privacy_requests where workspace_id = ? and id = ?`, workspaceID, id)
}

// PrivacyRequests implements opstore.PrivacyStore. A limit of 0 is 100.
func (s *Store) PrivacyRequests(ctx context.Context, workspaceID string, limit int) ([]opstore.PrivacyRequest, error) {
	if limit <= 0 {
		limit = 100
	}
	return all(ctx, s, scanPrivacyRequest, "privacy requests",
		`select `+privacyRequestColumns+` from privacy_requests where workspace_id = ?
		order by requested_at desc, rowid desc limit ?`, workspaceID, limit)
}

// ForgetExports implements opstore.PrivacyStore.
func (s *Store) ForgetExports(ctx context.Context, workspaceID string, hashes []string) ([]string, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	args := []any{workspaceID}
	for _, h := range hashes {
		args = append(args, h)
	}
	return s.clearFiles(ctx, "forget exports", `workspace_id = ? and identifier_hash in (`+placeholders(len(hashes))+`)`, `hint = '', `, args)
}

// ExpireExports implements opstore.PrivacyStore.
func (s *Store) ExpireExports(ctx context.Context, before time.Time) ([]string, error) {
	return s.clearFiles(ctx, "expire exports", `kind = 'export' and requested_at < ?`, "", []any{before.UnixMilli()})
}

// clearFiles clears the file (and what set adds) of the requests matching
// where, in one transaction, and returns the files.
func (s *Store) clearFiles(ctx context.Context, what, where, set string, args []any) ([]string, error) {
	var files []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `select file from privacy_requests where file <> '' and `+where, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				rows.Close()
				return err
			}
			files = append(files, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `update privacy_requests set `+set+`file = '' where `+where, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return files, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// AddSuppressed implements opstore.PrivacyStore.
func (s *Store) AddSuppressed(ctx context.Context, list []opstore.Suppressed) error {
	if len(list) == 0 {
		return nil
	}
	now := s.clock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `insert into suppressed_identifiers (workspace_id, hash, kind, request_id, created_at)
			values (?, ?, ?, ?, ?) on conflict do nothing`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, x := range list {
			if x.Hash == "" {
				return errors.New("suppressed identifier without a hash")
			}
			at := now
			if !x.CreatedAt.IsZero() {
				at = utcMilli(x.CreatedAt)
			}
			if _, err := stmt.ExecContext(ctx, x.WorkspaceID, x.Hash, x.Kind, orNull(x.RequestID), at.UnixMilli()); err != nil {
				if isForeignKey(err) {
					return fmt.Errorf("workspace %q: %w", x.WorkspaceID, opstore.ErrNotFound)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add suppressed identifiers: %w", err)
	}
	return nil
}

// EachSuppressed implements opstore.PrivacyStore.
func (s *Store) EachSuppressed(ctx context.Context, fn func(opstore.Suppressed) error) error {
	rows, err := s.r.QueryContext(ctx, `select workspace_id, hash, kind, coalesce(request_id, ''), created_at from suppressed_identifiers`)
	if err != nil {
		return fmt.Errorf("sqlite: suppressed identifiers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x opstore.Suppressed
		var at int64
		if err := rows.Scan(&x.WorkspaceID, &x.Hash, &x.Kind, &x.RequestID, &at); err != nil {
			return fmt.Errorf("sqlite: suppressed identifiers: %w", err)
		}
		x.CreatedAt = fromMilli(at)
		if err := fn(x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SuppressedCount implements opstore.PrivacyStore.
func (s *Store) SuppressedCount(ctx context.Context, workspaceID string) (int, error) {
	return count(ctx, s, "count suppressed identifiers", `select count(*) from suppressed_identifiers where workspace_id = ?`, workspaceID)
}

const retentionColumns = `workspace_id, event_days, updated_by, updated_at, last_run_at, last_deleted`

func scanRetention(row scanner) (opstore.RetentionPolicy, error) {
	var p opstore.RetentionPolicy
	var updated int64
	var ran sql.NullInt64
	err := row.Scan(&p.WorkspaceID, &p.EventDays, &p.UpdatedBy, &updated, &ran, &p.LastDeleted)
	p.UpdatedAt, p.LastRunAt = fromMilli(updated), nullMilli(ran)
	return p, err
}

// RetentionPolicy implements opstore.PrivacyStore.
func (s *Store) RetentionPolicy(ctx context.Context, workspaceID string) (opstore.RetentionPolicy, error) {
	p, err := one(ctx, s, scanRetention, "retention policy",
		`select `+retentionColumns+` from retention_policies where workspace_id = ?`, workspaceID)
	if errors.Is(err, opstore.ErrNotFound) {
		return opstore.RetentionPolicy{WorkspaceID: workspaceID}, nil
	}
	return p, err
}

// SetRetentionPolicy implements opstore.PrivacyStore. A zero UpdatedAt is now.
func (s *Store) SetRetentionPolicy(ctx context.Context, p opstore.RetentionPolicy) error {
	if p.EventDays < 0 {
		return fmt.Errorf("retention of %d days: want 0 (forever) or more", p.EventDays)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = s.clock()
	}
	return s.insert(ctx, "set retention policy", func(err error) error {
		if isForeignKey(err) {
			return fmt.Errorf("workspace %q: %w", p.WorkspaceID, opstore.ErrNotFound)
		}
		return nil
	}, `insert into retention_policies (workspace_id, event_days, updated_by, updated_at) values (?, ?, ?, ?)
		on conflict (workspace_id) do update set event_days = excluded.event_days, updated_by = excluded.updated_by,
		updated_at = excluded.updated_at`,
		p.WorkspaceID, p.EventDays, p.UpdatedBy, utcMilli(p.UpdatedAt).UnixMilli())
}

// RetentionPolicies implements opstore.PrivacyStore.
func (s *Store) RetentionPolicies(ctx context.Context) ([]opstore.RetentionPolicy, error) {
	return all(ctx, s, scanRetention, "retention policies",
		`select `+retentionColumns+` from retention_policies where event_days > 0 order by workspace_id`)
}

// RecordRetentionRun implements opstore.PrivacyStore.
func (s *Store) RecordRetentionRun(ctx context.Context, workspaceID string, at time.Time, deleted int64) error {
	return s.change(ctx, "retention policy of "+workspaceID, nil,
		`update retention_policies set last_run_at = ?, last_deleted = ? where workspace_id = ?`,
		utcMilli(at).UnixMilli(), deleted, workspaceID)
}

// rejectedOfWhere matches a workspace's rejected messages whose payload
// holds one of values as a JSON string.
func rejectedOfWhere(workspaceID string, values []string) (string, []any) {
	var or []string
	args := []any{workspaceID}
	for _, v := range values {
		b, _ := json.Marshal(strings.ToLower(v))
		or = append(or, `instr(lower(payload), ?) > 0`)
		args = append(args, string(b))
	}
	return `workspace_id = ? and (` + strings.Join(or, " or ") + `)`, args
}

// RejectedOf implements opstore.PrivacyStore.
func (s *Store) RejectedOf(ctx context.Context, workspaceID string, values []string) ([]opstore.Rejected, error) {
	if len(values) == 0 {
		return []opstore.Rejected{}, nil
	}
	where, args := rejectedOfWhere(workspaceID, values)
	return all(ctx, s, func(row scanner) (opstore.Rejected, error) {
		var r opstore.Rejected
		var received int64
		err := row.Scan(&r.ID, &r.WorkspaceID, &r.SourceID, &received, &r.Origin, &r.Index, &r.Code, &r.Field, &r.Reason, &r.Payload)
		r.ReceivedAt = fromMilli(received)
		return r, err
	}, "rejected messages of a person", `select id, workspace_id, source_id, received_at, origin, idx, code, field, reason, payload
		from rejected where `+where+` order by id desc`, args...)
}

// DeleteRejectedOf implements opstore.PrivacyStore.
func (s *Store) DeleteRejectedOf(ctx context.Context, workspaceID string, values []string) (int64, error) {
	if len(values) == 0 {
		return 0, nil
	}
	where, args := rejectedOfWhere(workspaceID, values)
	res, err := s.w.ExecContext(ctx, `delete from rejected where `+where, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete rejected messages of a person: %w", err)
	}
	return res.RowsAffected()
}
