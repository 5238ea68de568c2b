package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

// Workspace defaults.
const (
	DefaultTimeZone = "Asia/Ho_Chi_Minh"
	DefaultCurrency = "VND"
)

const workspaceColumns = `id, name, time_zone, currency, created_at`

func scanWorkspace(row scanner) (opstore.Workspace, error) {
	var w opstore.Workspace
	var created int64
	err := row.Scan(&w.ID, &w.Name, &w.TimeZone, &w.Currency, &created)
	w.CreatedAt = fromMilli(created)
	return w, err
}

// Workspaces lists every workspace by name.
func (s *Store) Workspaces(ctx context.Context) ([]opstore.Workspace, error) {
	return all(ctx, s, scanWorkspace, "workspaces",
		`select `+workspaceColumns+` from workspaces order by name, id`)
}

// Workspace returns the workspace with the given id.
func (s *Store) Workspace(ctx context.Context, id string) (opstore.Workspace, error) {
	return one(ctx, s, scanWorkspace, fmt.Sprintf("workspace %q", id),
		`select `+workspaceColumns+` from workspaces where id = ?`, id)
}

// CreateWorkspace stores a new workspace. It fills an empty ID and a zero
// CreatedAt, and defaults TimeZone to Asia/Ho_Chi_Minh and Currency to VND.
func (s *Store) CreateWorkspace(ctx context.Context, w *opstore.Workspace) error {
	if err := checkWorkspace(w); err != nil {
		return err
	}
	if w.ID == "" {
		w.ID = newID("ws_")
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.clock()
	}
	w.CreatedAt = utcMilli(w.CreatedAt)
	return s.insert(ctx, "create workspace", func(err error) error {
		if isUnique(err) {
			return fmt.Errorf("workspace %q already exists: %w", w.ID, opstore.ErrConflict)
		}
		return nil
	}, `insert into workspaces (`+workspaceColumns+`) values (?, ?, ?, ?, ?)`,
		w.ID, w.Name, w.TimeZone, w.Currency, w.CreatedAt.UnixMilli())
}

// UpdateWorkspace changes a workspace's name, time zone and currency.
func (s *Store) UpdateWorkspace(ctx context.Context, w opstore.Workspace) error {
	if err := checkWorkspace(&w); err != nil {
		return err
	}
	return s.change(ctx, fmt.Sprintf("workspace %q", w.ID), nil,
		`update workspaces set name = ?, time_zone = ?, currency = ? where id = ?`,
		w.Name, w.TimeZone, w.Currency, w.ID)
}

// checkWorkspace trims, defaults and validates w's fields.
func checkWorkspace(w *opstore.Workspace) error {
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		return fmt.Errorf("workspace name is empty")
	}
	w.TimeZone = strings.TrimSpace(w.TimeZone)
	if w.TimeZone == "" {
		w.TimeZone = DefaultTimeZone
	} else if _, err := time.LoadLocation(w.TimeZone); err != nil || w.TimeZone == "Local" {
		return fmt.Errorf("workspace time zone %q is not an IANA time zone name such as %s", w.TimeZone, DefaultTimeZone)
	}
	w.Currency = strings.ToUpper(strings.TrimSpace(w.Currency))
	if w.Currency == "" {
		w.Currency = DefaultCurrency
	} else if len(w.Currency) != 3 || strings.Trim(w.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fmt.Errorf("workspace currency %q is not an ISO 4217 code such as %s", w.Currency, DefaultCurrency)
	}
	return nil
}
