package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/cjmhq/cjm/opstore"
)

const userColumns = `id, email, name, password_hash, lang, created_at`

func scanUser(row scanner) (opstore.User, error) {
	var u opstore.User
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Lang, &created)
	u.CreatedAt = fromMilli(created)
	return u, err
}

// Users lists every user by e-mail.
func (s *Store) Users(ctx context.Context) ([]opstore.User, error) {
	return all(ctx, s, scanUser, "users", `select `+userColumns+` from users order by email`)
}

// UserCount returns the number of users (0 on a fresh install).
func (s *Store) UserCount(ctx context.Context) (int, error) {
	return count(ctx, s, "count users", `select count(*) from users`)
}

// User returns the user with the given id.
func (s *Store) User(ctx context.Context, id string) (opstore.User, error) {
	return one(ctx, s, scanUser, fmt.Sprintf("user %q", id),
		`select `+userColumns+` from users where id = ?`, id)
}

// UserByEmail returns the user with the given e-mail address, compared
// without case and surrounding space.
func (s *Store) UserByEmail(ctx context.Context, email string) (opstore.User, error) {
	email = normEmail(email)
	return one(ctx, s, scanUser, fmt.Sprintf("user with e-mail %q", email),
		`select `+userColumns+` from users where email = ?`, email)
}

// CreateUser stores a new user. It fills an empty ID and a zero CreatedAt,
// and stores the e-mail address lower-cased.
func (s *Store) CreateUser(ctx context.Context, u *opstore.User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = newID("usr_")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.clock()
	}
	u.CreatedAt = utcMilli(u.CreatedAt)
	return s.insert(ctx, "create user", userErr(u),
		`insert into users (`+userColumns+`) values (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.Lang, u.CreatedAt.UnixMilli())
}

// UpdateUser writes every field of u but ID and CreatedAt, the password hash
// included: read the user first, change it, then update.
func (s *Store) UpdateUser(ctx context.Context, u opstore.User) error {
	if err := checkUser(&u); err != nil {
		return err
	}
	return s.change(ctx, fmt.Sprintf("user %q", u.ID), userErr(&u),
		`update users set email = ?, name = ?, password_hash = ?, lang = ? where id = ?`,
		u.Email, u.Name, u.PasswordHash, u.Lang, u.ID)
}

// DeleteUser deletes a user with their memberships and sessions.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.change(ctx, fmt.Sprintf("user %q", id), nil, `delete from users where id = ?`, id)
}

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkUser(u *opstore.User) error {
	u.Email = normEmail(u.Email)
	at := strings.LastIndexByte(u.Email, '@')
	if at < 1 || at == len(u.Email)-1 || strings.ContainsAny(u.Email, " \t\r\n<>,;") {
		return fmt.Errorf("user e-mail %q is not an e-mail address", u.Email)
	}
	u.Name = strings.TrimSpace(u.Name)
	u.Lang = strings.TrimSpace(u.Lang)
	return nil
}

func userErr(u *opstore.User) func(error) error {
	return func(err error) error {
		switch {
		case isUnique(err, "users.email"):
			return fmt.Errorf("a user with e-mail %q already exists: %w", u.Email, opstore.ErrConflict)
		case isUnique(err):
			return fmt.Errorf("user %q already exists: %w", u.ID, opstore.ErrConflict)
		}
		return nil
	}
}

// Members.

const memberColumns = `m.workspace_id, m.role, u.id, u.email, u.name, u.password_hash, u.lang, u.created_at`

func scanMember(row scanner) (opstore.Member, error) {
	var m opstore.Member
	var created int64
	err := row.Scan(&m.WorkspaceID, &m.Role, &m.User.ID, &m.User.Email, &m.User.Name,
		&m.User.PasswordHash, &m.User.Lang, &created)
	m.User.CreatedAt = fromMilli(created)
	return m, err
}

// Members lists a workspace's members by e-mail.
func (s *Store) Members(ctx context.Context, workspaceID string) ([]opstore.Member, error) {
	return all(ctx, s, scanMember, "members", `select `+memberColumns+`
		from members m join users u on u.id = m.user_id
		where m.workspace_id = ?
		order by u.email`, workspaceID)
}

// Memberships lists the workspaces a user belongs to, by workspace name.
func (s *Store) Memberships(ctx context.Context, userID string) ([]opstore.Member, error) {
	return all(ctx, s, scanMember, "memberships", `select `+memberColumns+`
		from members m
		join users u on u.id = m.user_id
		join workspaces w on w.id = m.workspace_id
		where m.user_id = ?
		order by w.name, w.id`, userID)
}

// SetMember adds a user to a workspace with a role, or changes their role.
func (s *Store) SetMember(ctx context.Context, workspaceID, userID string, role opstore.Role) error {
	if !role.Valid() {
		return fmt.Errorf("role %q is unknown (want one of %v)", role, opstore.Roles)
	}
	return s.insert(ctx, "set member", func(err error) error {
		if isForeignKey(err) {
			return fmt.Errorf("workspace %q or user %q: %w", workspaceID, userID, opstore.ErrNotFound)
		}
		return nil
	}, `insert into members (workspace_id, user_id, role, created_at) values (?, ?, ?, ?)
		on conflict (workspace_id, user_id) do update set role = excluded.role`,
		workspaceID, userID, role, s.clock().UnixMilli())
}

// RemoveMember takes a user out of a workspace.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string) error {
	return s.change(ctx, fmt.Sprintf("user %q in workspace %q", userID, workspaceID), nil,
		`delete from members where workspace_id = ? and user_id = ?`, workspaceID, userID)
}
