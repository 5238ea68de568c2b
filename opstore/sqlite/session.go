package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cjmhq/cjm/opstore"
)

// CreateSession stores a logged-in session; a zero CreatedAt is now. It also
// deletes every expired session, so the table does not grow without bound.
func (s *Store) CreateSession(ctx context.Context, sess opstore.Session) error {
	switch {
	case sess.TokenHash == "":
		return errors.New("session has no token hash")
	case sess.UserID == "":
		return errors.New("session has no user")
	case sess.ExpiresAt.IsZero():
		return errors.New("session has no expiry time")
	}
	now := s.clock()
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `delete from sessions where expires_at <= ?`, now.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `insert into sessions
			(token_hash, user_id, workspace_id, csrf_token, created_at, expires_at) values (?, ?, ?, ?, ?, ?)`,
			sess.TokenHash, sess.UserID, orNull(sess.WorkspaceID), sess.CSRFToken,
			sess.CreatedAt.UnixMilli(), sess.ExpiresAt.UnixMilli())
		return err
	})
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return fmt.Errorf("session already exists: %w", opstore.ErrConflict)
	case isForeignKey(err):
		return fmt.Errorf("user %q or workspace %q: %w", sess.UserID, sess.WorkspaceID, opstore.ErrNotFound)
	}
	return fmt.Errorf("sqlite: create session: %w", err)
}

// Session returns the session with the given token hash, unless it has
// expired.
func (s *Store) Session(ctx context.Context, tokenHash string) (opstore.Session, error) {
	return one(ctx, s, func(row scanner) (opstore.Session, error) {
		var sess opstore.Session
		var ws sql.NullString
		var created, expires int64
		err := row.Scan(&sess.TokenHash, &sess.UserID, &ws, &sess.CSRFToken, &created, &expires)
		sess.WorkspaceID = ws.String
		sess.CreatedAt, sess.ExpiresAt = fromMilli(created), fromMilli(expires)
		return sess, err
	}, "session", `select token_hash, user_id, workspace_id, csrf_token, created_at, expires_at
		from sessions where token_hash = ? and expires_at > ?`, tokenHash, s.clock().UnixMilli())
}

// UpdateSessionWorkspace switches the workspace a session looks at; "" for
// none. It does not check that the user is a member of it.
func (s *Store) UpdateSessionWorkspace(ctx context.Context, tokenHash, workspaceID string) error {
	return s.change(ctx, "session", func(err error) error {
		if isForeignKey(err) {
			return fmt.Errorf("workspace %q: %w", workspaceID, opstore.ErrNotFound)
		}
		return nil
	}, `update sessions set workspace_id = ? where token_hash = ? and expires_at > ?`,
		orNull(workspaceID), tokenHash, s.clock().UnixMilli())
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	return s.change(ctx, "session", nil, `delete from sessions where token_hash = ?`, tokenHash)
}

// DeleteUserSessions implements opstore.Store.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keepTokenHash string) error {
	if _, err := s.w.ExecContext(ctx, `delete from sessions where user_id = ? and token_hash <> ?`, userID, keepTokenHash); err != nil {
		return fmt.Errorf("sqlite: delete sessions of user %q: %w", userID, err)
	}
	return nil
}
