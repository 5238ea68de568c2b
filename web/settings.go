package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/opstore"
)

// Users and roles.

type usersData struct {
	Members []memberRow
	Form    *form
	Error   string // catalog key of an error about a member change
}

type memberRow struct {
	opstore.Member
	Self bool
	// LastOwner is set on the only owner of the workspace: their role cannot
	// change and they cannot be removed (changeRole and removeMember refuse),
	// so the page disables those controls and says why.
	LastOwner bool
}

func (s *server) usersPage(q *req) error {
	f := newForm(nil)
	f.Values.Set("role", string(opstore.Editor))
	return s.usersRender(q, f, "", http.StatusOK)
}

func (s *server) usersRender(q *req, f *form, errKey string, status int) error {
	ms, err := s.ops.Members(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	sortMembers(ms)
	d := usersData{Form: f, Error: errKey}
	owners := 0
	for _, m := range ms {
		if m.Role == opstore.Owner {
			owners++
		}
	}
	for _, m := range ms {
		d.Members = append(d.Members, memberRow{Member: m, Self: m.User.ID == q.user.ID, LastOwner: m.Role == opstore.Owner && owners == 1})
	}
	s.render(q, status, "users", q.page("users.title", "nav.users", d))
	return nil
}

func (s *server) addMember(q *req) error {
	f := newForm(q.r.PostForm)
	email := checkEmail(f, "email")
	role := opstore.Role(f.Get("role"))
	if !role.Valid() {
		f.Fail("role", "err.role")
	}
	var user opstore.User
	if f.OK() {
		u, err := s.ops.UserByEmail(q.ctx, email)
		switch {
		case err == nil:
			user = u
			ms, err := s.ops.Members(q.ctx, q.ws.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if m.User.ID == u.ID {
					f.Fail("email", "err.already_member")
				}
			}
		case errors.Is(err, opstore.ErrNotFound):
			// A new user: name and an initial password are needed.
			checkName(f, "name")
			checkPassword(f, "password")
		default:
			return err
		}
	}
	if !f.OK() {
		f.Values.Del("password")
		return s.usersRender(q, f, "", http.StatusUnprocessableEntity)
	}
	if user.ID == "" {
		hash, err := auth.HashPassword(f.Values.Get("password"))
		if err != nil {
			return err
		}
		user = opstore.User{Email: email, Name: f.Get("name"), PasswordHash: hash}
		if err := s.ops.CreateUser(q.ctx, &user); errors.Is(err, opstore.ErrConflict) {
			f.Fail("email", "err.email_taken")
			f.Values.Del("password")
			return s.usersRender(q, f, "", http.StatusUnprocessableEntity)
		} else if err != nil {
			return err
		}
	}
	if err := s.ops.SetMember(q.ctx, q.ws.ID, user.ID, role); err != nil {
		return err
	}
	s.log.Info("member added", "workspace", q.ws.ID, "user", user.ID, "role", role, "by", q.user.ID)
	return q.redirect("/settings/users", "flash.member_added")
}

// member finds the member of the path, and whether they are the only owner.
func (s *server) member(q *req) (opstore.Member, bool, error) {
	ms, err := s.ops.Members(q.ctx, q.ws.ID)
	if err != nil {
		return opstore.Member{}, false, err
	}
	owners := 0
	var found *opstore.Member
	for i, m := range ms {
		if m.Role == opstore.Owner {
			owners++
		}
		if m.User.ID == q.r.PathValue("id") {
			found = &ms[i]
		}
	}
	if found == nil {
		return opstore.Member{}, false, errNotFound
	}
	return *found, found.Role == opstore.Owner && owners == 1, nil
}

func (s *server) changeRole(q *req) error {
	// One member change at a time, so that two owners demoting each other at
	// once cannot both pass the last-owner check.
	s.membersMu.Lock()
	defer s.membersMu.Unlock()
	m, lastOwner, err := s.member(q)
	if err != nil {
		return err
	}
	role := opstore.Role(q.r.PostFormValue("role"))
	if !role.Valid() {
		return s.usersRender(q, newForm(nil), "err.role", http.StatusUnprocessableEntity)
	}
	if lastOwner && role != opstore.Owner {
		return s.usersRender(q, newForm(nil), "err.last_owner", http.StatusConflict)
	}
	if err := s.ops.SetMember(q.ctx, q.ws.ID, m.User.ID, role); err != nil {
		return err
	}
	s.log.Info("member role changed", "workspace", q.ws.ID, "user", m.User.ID, "role", role, "by", q.user.ID)
	return q.redirect("/settings/users", "flash.role_changed")
}

func (s *server) removeMember(q *req) error {
	s.membersMu.Lock()
	defer s.membersMu.Unlock()
	m, lastOwner, err := s.member(q)
	if err != nil {
		return err
	}
	if lastOwner {
		return s.usersRender(q, newForm(nil), "err.last_owner", http.StatusConflict)
	}
	if err := s.ops.RemoveMember(q.ctx, q.ws.ID, m.User.ID); err != nil {
		return err
	}
	s.log.Info("member removed", "workspace", q.ws.ID, "user", m.User.ID, "by", q.user.ID)
	if m.User.ID == q.user.ID {
		return q.redirect("/", "")
	}
	return q.redirect("/settings/users", "flash.member_removed")
}

// API keys.

type apiKeysData struct {
	Keys   []opstore.APIKey
	Form   *form
	NewKey string // the secret of a key just created, shown once
}

func (s *server) apiKeysPage(q *req) error {
	f := newForm(nil)
	f.Values.Set("role", string(opstore.Viewer))
	return s.apiKeysRender(q, apiKeysData{Form: f}, http.StatusOK)
}

func (s *server) apiKeysRender(q *req, d apiKeysData, status int) error {
	var err error
	if d.Keys, err = s.ops.APIKeys(q.ctx, q.ws.ID); err != nil {
		return err
	}
	s.render(q, status, "apikeys", q.page("apikeys.title", "nav.apikeys", d))
	return nil
}

func (s *server) createAPIKey(q *req) error {
	f := newForm(q.r.PostForm)
	checkName(f, "name")
	role := opstore.Role(f.Get("role"))
	if !role.Valid() {
		f.Fail("role", "err.role")
	}
	if !f.OK() {
		return s.apiKeysRender(q, apiKeysData{Form: f}, http.StatusUnprocessableEntity)
	}
	key, prefix := auth.NewAPIKey()
	k := opstore.APIKey{WorkspaceID: q.ws.ID, Name: f.Get("name"), Prefix: prefix, Hash: auth.HashToken(key), Role: role}
	if err := s.ops.CreateAPIKey(q.ctx, &k); err != nil {
		return err
	}
	s.log.Info("API key created", "workspace", q.ws.ID, "key", k.ID, "role", role, "by", q.user.ID)
	f = newForm(nil)
	f.Values.Set("role", string(opstore.Viewer))
	return s.apiKeysRender(q, apiKeysData{Form: f, NewKey: key}, http.StatusOK)
}

func (s *server) deleteAPIKey(q *req) error {
	if err := s.ops.DeleteAPIKey(q.ctx, q.ws.ID, q.r.PathValue("id")); err != nil {
		return err
	}
	s.log.Info("API key deleted", "workspace", q.ws.ID, "key", q.r.PathValue("id"), "by", q.user.ID)
	return q.redirect("/settings/api-keys", "flash.key_deleted")
}

// Workspace settings, switching and creating workspaces.

type workspaceData struct {
	Form  *form
	Zones []string
}

// zones are offered in the time zone list; any IANA name is accepted.
var zones = []string{
	"Asia/Ho_Chi_Minh", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila",
	"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo", "Asia/Kolkata", "Asia/Dubai",
	"Australia/Sydney", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
	"America/Los_Angeles", "UTC",
}

// currencies are offered in the currency list; any ISO 4217 code is accepted.
var currencies = []string{"VND", "USD", "EUR", "THB", "SGD", "MYR", "IDR", "PHP", "CNY", "JPY", "KRW", "AUD", "GBP"}

func workspaceForm(ws opstore.Workspace) *form {
	f := newForm(nil)
	f.Values.Set("ws_name", ws.Name)
	f.Values.Set("timezone", ws.TimeZone)
	f.Values.Set("currency", ws.Currency)
	return f
}

func (s *server) workspacePage(q *req) error {
	s.render(q, http.StatusOK, "workspace", q.page("workspace.title", "nav.workspace", workspaceData{Form: workspaceForm(q.ws), Zones: zones}))
	return nil
}

func (s *server) updateWorkspace(q *req) error {
	f := newForm(q.r.PostForm)
	name, tz, cur := checkWorkspace(f)
	if !f.OK() {
		s.render(q, http.StatusUnprocessableEntity, "workspace", q.page("workspace.title", "nav.workspace", workspaceData{Form: f, Zones: zones}))
		return nil
	}
	ws := q.ws
	ws.Name, ws.TimeZone, ws.Currency = name, tz, cur
	if err := s.ops.UpdateWorkspace(q.ctx, ws); err != nil {
		return err
	}
	return q.redirect("/settings/workspace", "flash.workspace_saved")
}

func (s *server) switchWorkspace(q *req) error {
	id := q.r.PostFormValue("workspace")
	for _, m := range q.memberships {
		if m.WorkspaceID == id {
			if err := s.ops.UpdateSessionWorkspace(q.ctx, q.sess.TokenHash, id); err != nil {
				return err
			}
			return q.redirect(sectionRoot(q.r.PostFormValue("next")), "")
		}
	}
	return errForbidden
}

// sectionRoot maps a page to the list it belongs to, which exists in every
// workspace (a source page does not).
func sectionRoot(p string) string {
	p = localPath(p)
	p, _, _ = strings.Cut(p, "?")
	if strings.HasPrefix(p, "/sources/") {
		return "/sources"
	}
	return p
}

func (s *server) newWorkspacePage(q *req) error {
	p := q.page("newworkspace.title", "", nil)
	if !p.CanCreateWorkspace() {
		return errForbidden
	}
	f := newForm(nil)
	f.Values.Set("timezone", q.ws.TimeZone)
	f.Values.Set("currency", q.ws.Currency)
	if q.ws.ID == "" {
		f.Values.Set("timezone", "Asia/Ho_Chi_Minh")
		f.Values.Set("currency", "VND")
	}
	p.Data = workspaceData{Form: f, Zones: zones}
	s.render(q, http.StatusOK, "newworkspace", p)
	return nil
}

func (s *server) createWorkspace(q *req) error {
	p := q.page("newworkspace.title", "", nil)
	if !p.CanCreateWorkspace() {
		return errForbidden
	}
	f := newForm(q.r.PostForm)
	name, tz, cur := checkWorkspace(f)
	if !f.OK() {
		p.Data = workspaceData{Form: f, Zones: zones}
		s.render(q, http.StatusUnprocessableEntity, "newworkspace", p)
		return nil
	}
	ws := opstore.Workspace{Name: name, TimeZone: tz, Currency: cur}
	if err := s.ops.CreateWorkspace(q.ctx, &ws); err != nil {
		return err
	}
	if err := s.ops.SetMember(q.ctx, ws.ID, q.user.ID, opstore.Owner); err != nil {
		return err
	}
	if err := s.ops.UpdateSessionWorkspace(q.ctx, q.sess.TokenHash, ws.ID); err != nil {
		return err
	}
	s.log.Info("workspace created", "workspace", ws.ID, "by", q.user.ID)
	return q.redirect("/", "flash.workspace_created")
}

// The user's own account: name and password.

type accountData struct {
	Form *form
}

func (s *server) accountPage(q *req) error {
	f := newForm(nil)
	f.Values.Set("name", q.user.Name)
	s.render(q, http.StatusOK, "account", q.page("account.title", "", accountData{Form: f}))
	return nil
}

func (s *server) updateAccount(q *req) error {
	f := newForm(q.r.PostForm)
	checkName(f, "name")
	u := q.user
	changed := false
	if f.Values.Get("new_password") != "" || f.Values.Get("current_password") != "" {
		ok, err := auth.CheckPassword(u.PasswordHash, f.Values.Get("current_password"))
		if err != nil || !ok {
			f.Fail("current_password", "err.current_password")
		}
		pw := checkPassword(f, "new_password")
		if f.Values.Get("new_password2") != pw {
			f.Fail("new_password2", "err.password_mismatch")
		}
		if f.OK() {
			if u.PasswordHash, err = auth.HashPassword(pw); err != nil {
				return err
			}
			changed = true
		}
	}
	if !f.OK() {
		for _, k := range []string{"current_password", "new_password", "new_password2"} {
			f.Values.Del(k)
		}
		s.render(q, http.StatusUnprocessableEntity, "account", q.page("account.title", "", accountData{Form: f}))
		return nil
	}
	u.Name = f.Get("name")
	if err := s.ops.UpdateUser(q.ctx, u); err != nil {
		return err
	}
	if changed {
		// A new password ends every other session of this user.
		if err := s.ops.DeleteUserSessions(q.ctx, u.ID, q.sess.TokenHash); err != nil {
			return err
		}
	}
	return q.redirect("/account", "flash.account_saved")
}
