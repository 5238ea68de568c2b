package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

const apiKeyColumns = `id, workspace_id, name, prefix, hash, role, created_at, last_used_at`

func scanAPIKey(row scanner) (opstore.APIKey, error) {
	var k opstore.APIKey
	var created int64
	var used sql.NullInt64
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Prefix, &k.Hash, &k.Role, &created, &used)
	k.CreatedAt, k.LastUsedAt = fromMilli(created), nullMilli(used)
	return k, err
}

// APIKeys lists a workspace's API keys, oldest first.
func (s *Store) APIKeys(ctx context.Context, workspaceID string) ([]opstore.APIKey, error) {
	return all(ctx, s, scanAPIKey, "API keys",
		`select `+apiKeyColumns+` from api_keys where workspace_id = ? order by created_at, id`, workspaceID)
}

// APIKeyByHash returns the API key with the given hash (auth.HashToken of the key).
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (opstore.APIKey, error) {
	return one(ctx, s, scanAPIKey, "API key",
		`select `+apiKeyColumns+` from api_keys where hash = ?`, hash)
}

// CreateAPIKey stores a new API key. It fills an empty ID and a zero CreatedAt.
func (s *Store) CreateAPIKey(ctx context.Context, k *opstore.APIKey) error {
	k.Name = strings.TrimSpace(k.Name)
	switch {
	case k.Name == "":
		return errors.New("API key name is empty")
	case k.Hash == "":
		return errors.New("API key has no hash")
	case !k.Role.Valid():
		return fmt.Errorf("role %q is unknown (want one of %v)", k.Role, opstore.Roles)
	}
	if k.ID == "" {
		k.ID = newID("key_")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.clock()
	}
	k.CreatedAt = utcMilli(k.CreatedAt)
	var used any
	if !k.LastUsedAt.IsZero() {
		k.LastUsedAt = utcMilli(k.LastUsedAt)
		used = k.LastUsedAt.UnixMilli()
	}
	return s.insert(ctx, "create API key", func(err error) error {
		switch {
		case isUnique(err, "api_keys.hash"):
			return fmt.Errorf("API key with this hash already exists: %w", opstore.ErrConflict)
		case isUnique(err):
			return fmt.Errorf("API key %q already exists: %w", k.ID, opstore.ErrConflict)
		case isForeignKey(err):
			return fmt.Errorf("workspace %q: %w", k.WorkspaceID, opstore.ErrNotFound)
		}
		return nil
	}, `insert into api_keys (`+apiKeyColumns+`) values (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.WorkspaceID, k.Name, k.Prefix, k.Hash, k.Role, k.CreatedAt.UnixMilli(), used)
}

// DeleteAPIKey revokes a workspace's API key.
func (s *Store) DeleteAPIKey(ctx context.Context, workspaceID, id string) error {
	return s.change(ctx, fmt.Sprintf("API key %q", id), nil,
		`delete from api_keys where workspace_id = ? and id = ?`, workspaceID, id)
}

// TouchAPIKey records that a key was used at the given time. The recorded
// time never moves back, so concurrent requests may touch in any order.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return s.change(ctx, fmt.Sprintf("API key %q", id), nil,
		`update api_keys set last_used_at = max(coalesce(last_used_at, 0), ?) where id = ?`,
		utcMilli(at).UnixMilli(), id)
}
