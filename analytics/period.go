package analytics

import (
	"fmt"
	"time"
)

// Interval is a calendar period: day, week (from Monday) or month.
type Interval string

// Intervals.
const (
	Day   Interval = "day"
	Week  Interval = "week"
	Month Interval = "month"
)

// ParseInterval reads day, week or month.
func ParseInterval(s string) (Interval, error) {
	switch i := Interval(s); i {
	case Day, Week, Month:
		return i, nil
	}
	return "", fmt.Errorf("interval %q is not day, week or month", s)
}

// Start returns the start of the period holding t, in t's location.
func (i Interval) Start(t time.Time) time.Time {
	y, m, d := t.Date()
	switch i {
	case Week:
		wd := (int(t.Weekday()) + 6) % 7 // Monday 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, t.Location())
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// Next returns the start of the period after the one starting at t.
func (i Interval) Next(t time.Time) time.Time {
	y, m, d := t.Date()
	switch i {
	case Week:
		return time.Date(y, m, d+7, 0, 0, 0, 0, t.Location())
	case Month:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

// daysBetween counts calendar days from a to b (midnights in one location).
func daysBetween(a, b time.Time) int64 {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	ua := time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)
	ub := time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC)
	return int64(ub.Sub(ua) / (24 * time.Hour))
}
