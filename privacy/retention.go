package privacy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// Retention is the background job that applies the workspaces' event
// retention policies, and removes export files past Config.ExportTTL.
type Retention struct {
	s *Service
	// Every is how often it runs (default daily).
	Every time.Duration
}

// Retention returns the retention job of the Service.
func (s *Service) Retention() *Retention { return &Retention{s: s, Every: 24 * time.Hour} }

// Run runs the job at once and then every r.Every, until ctx ends; it
// returns nil then. Failures are logged and tried again on the next run.
func (r *Retention) Run(ctx context.Context) error {
	for {
		n, err := r.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.s.cfg.Logger.Warn("applying event retention", "err", err)
		case n > 0:
			r.s.cfg.Logger.Info("event retention deleted old events", "count", n)
		}
		t := time.NewTimer(r.Every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// RunOnce deletes, in every workspace with a policy, the events older than
// it keeps (timestamp before now minus the days), records the run, removes
// expired export files, and says how many events it deleted.
func (r *Retention) RunOnce(ctx context.Context) (int64, error) {
	s := r.s
	now := s.cfg.Now()
	ps, err := s.cfg.Store.RetentionPolicies(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	var errs []error
	for _, p := range ps {
		if p.EventDays <= 0 {
			continue
		}
		n, err := s.cfg.Events.DeleteBefore(ctx, p.WorkspaceID, now.AddDate(0, 0, -p.EventDays))
		total += n
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.cfg.Store.RecordRetentionRun(ctx, p.WorkspaceID, now, n); err != nil {
			errs = append(errs, err)
		}
	}
	files, err := s.cfg.Store.ExpireExports(ctx, now.Add(-s.cfg.ExportTTL))
	errs = append(errs, err)
	for _, f := range files {
		if err := os.Remove(filepath.Join(s.cfg.ExportDir, filepath.Base(f))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}
