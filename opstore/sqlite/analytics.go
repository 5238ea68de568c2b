package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

var _ opstore.AnalyticsStore = (*Store)(nil)

// KPI settings and marketing spend (migration 0006). Spend dates are kept
// as YYYY-MM-DD text, so they compare as they sort.

const kpiColumns = `workspace_id, signup_events, activation_events, purchase_event, revenue_property, referral_event,
	nps_event, nps_property, currency, updated_by, updated_at`

func scanKPISettings(row scanner) (opstore.KPISettings, error) {
	var k opstore.KPISettings
	var signup, activation string
	var updated int64
	if err := row.Scan(&k.WorkspaceID, &signup, &activation, &k.PurchaseEvent, &k.RevenueProperty, &k.ReferralEvent,
		&k.NPSEvent, &k.NPSProperty, &k.Currency, &k.UpdatedBy, &updated); err != nil {
		return k, err
	}
	k.UpdatedAt = fromMilli(updated)
	if err := json.Unmarshal([]byte(signup), &k.SignupEvents); err != nil {
		return k, fmt.Errorf("signup events of %s: %w", k.WorkspaceID, err)
	}
	if err := json.Unmarshal([]byte(activation), &k.ActivationEvents); err != nil {
		return k, fmt.Errorf("activation events of %s: %w", k.WorkspaceID, err)
	}
	return k, nil
}

// KPISettings implements opstore.AnalyticsStore.
func (s *Store) KPISettings(ctx context.Context, workspaceID string) (opstore.KPISettings, error) {
	k, err := one(ctx, s, scanKPISettings, "KPI settings of "+workspaceID,
		`select `+kpiColumns+` from kpi_settings where workspace_id = ?`, workspaceID)
	if !errors.Is(err, opstore.ErrNotFound) {
		return k, err
	}
	w, err := s.Workspace(ctx, workspaceID)
	if err != nil {
		return opstore.KPISettings{}, err
	}
	k = opstore.DefaultKPISettings(workspaceID)
	k.Currency = w.Currency
	return k, nil
}

// SaveKPISettings implements opstore.AnalyticsStore.
func (s *Store) SaveKPISettings(ctx context.Context, k opstore.KPISettings) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if k.UpdatedAt.IsZero() {
		k.UpdatedAt = s.clock()
	}
	signup, err := eventsJSON(k.SignupEvents)
	if err != nil {
		return err
	}
	activation, err := eventsJSON(k.ActivationEvents)
	if err != nil {
		return err
	}
	return s.insert(ctx, "save KPI settings", func(err error) error {
		if isForeignKey(err) {
			return fmt.Errorf("workspace %q: %w", k.WorkspaceID, opstore.ErrNotFound)
		}
		return nil
	}, `insert into kpi_settings (`+kpiColumns+`) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		on conflict (workspace_id) do update set signup_events = excluded.signup_events,
		activation_events = excluded.activation_events, purchase_event = excluded.purchase_event,
		revenue_property = excluded.revenue_property, referral_event = excluded.referral_event,
		nps_event = excluded.nps_event, nps_property = excluded.nps_property, currency = excluded.currency,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		k.WorkspaceID, signup, activation, k.PurchaseEvent, k.RevenueProperty, k.ReferralEvent,
		k.NPSEvent, k.NPSProperty, k.Currency, k.UpdatedBy, utcMilli(k.UpdatedAt).UnixMilli())
}

// eventsJSON stores a list of event names as a JSON array ("[]" for none).
func eventsJSON(events []string) (string, error) {
	if len(events) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(events)
	return string(b), err
}

const spendColumns = `workspace_id, channel, campaign, from_date, to_date, amount, currency, imported_at`

func scanSpend(row scanner) (opstore.Spend, error) {
	var x opstore.Spend
	var from, to string
	var imported int64
	if err := row.Scan(&x.WorkspaceID, &x.Channel, &x.Campaign, &from, &to, &x.Amount, &x.Currency, &imported); err != nil {
		return x, err
	}
	x.ImportedAt = fromMilli(imported)
	var err1, err2 error
	x.From, err1 = time.Parse(time.DateOnly, from)
	x.To, err2 = time.Parse(time.DateOnly, to)
	return x, errors.Join(err1, err2)
}

// dateText writes a spend date as stored.
func dateText(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// ReplaceSpend implements opstore.AnalyticsStore.
func (s *Store) ReplaceSpend(ctx context.Context, workspaceID string, rows []opstore.Spend) error {
	for i := range rows {
		x := &rows[i]
		if x.WorkspaceID != "" && x.WorkspaceID != workspaceID {
			return fmt.Errorf("spend of %q belongs to workspace %q, not %q", x.Channel, x.WorkspaceID, workspaceID)
		}
		if err := x.Validate(); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return nil
	}
	now := s.clock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `insert into marketing_spend (`+spendColumns+`) values (?, ?, ?, ?, ?, ?, ?, ?)
			on conflict (workspace_id, channel, campaign, from_date) do update set to_date = excluded.to_date,
			amount = excluded.amount, currency = excluded.currency, imported_at = excluded.imported_at
			where to_date <> excluded.to_date or amount <> excluded.amount or currency <> excluded.currency`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, x := range rows {
			at := now
			if !x.ImportedAt.IsZero() {
				at = utcMilli(x.ImportedAt)
			}
			if _, err := stmt.ExecContext(ctx, workspaceID, x.Channel, x.Campaign, dateText(x.From), dateText(x.To),
				x.Amount, x.Currency, at.UnixMilli()); err != nil {
				if isForeignKey(err) {
					return fmt.Errorf("workspace %q: %w", workspaceID, opstore.ErrNotFound)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace spend: %w", err)
	}
	return nil
}

// ListSpend implements opstore.AnalyticsStore. A row [f, t) overlaps
// [from, to) when t > from and f < to; with whole days, t > from is t >
// from's date, and f < to is f < to rounded up to a day.
func (s *Store) ListSpend(ctx context.Context, workspaceID string, from, to time.Time) ([]opstore.Spend, error) {
	q := `select ` + spendColumns + ` from marketing_spend where workspace_id = ?`
	args := []any{workspaceID}
	if !from.IsZero() {
		q += ` and to_date > ?`
		args = append(args, dateText(from))
	}
	if !to.IsZero() {
		to = to.UTC()
		if day := to.Truncate(24 * time.Hour); !day.Equal(to) {
			to = day.AddDate(0, 0, 1)
		}
		q += ` and from_date < ?`
		args = append(args, dateText(to))
	}
	return all(ctx, s, scanSpend, "list spend", q+` order by from_date, channel, campaign`, args...)
}

// DeleteSpend implements opstore.AnalyticsStore.
func (s *Store) DeleteSpend(ctx context.Context, workspaceID, channel, campaign string, from time.Time) error {
	return s.change(ctx, fmt.Sprintf("spend of %q %q from %s", channel, campaign, dateText(from)), nil,
		`delete from marketing_spend where workspace_id = ? and channel = ? and campaign = ? and from_date = ?`,
		workspaceID, channel, campaign, dateText(from))
}
