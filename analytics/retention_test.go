package analytics

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestRetention(t *testing.T) {
	ctx := context.Background()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	// vn is minutes after t0 of a time in Ho Chi Minh City, March 2026
	// (Monday the 2nd, 9th, 16th, 23rd start the weeks W0 to W3).
	vn := func(month time.Month, day, hour int) float64 {
		return time.Date(2026, month, day, hour, 0, 0, 0, hcm).Sub(t0).Minutes()
	}
	s := openStore(t)
	appendEvents(t, s, "ws", 1, []tev{
		// a: signs up in W0 (ios); back in W0, W1 (Monday 06:00 here, still
		// Sunday in UTC) and W3; persona from an identify.
		{user: "a", min: vn(3, 2, 10), name: "Signup", src: "src_web", props: `{"platform":"ios"}`},
		{user: "a", min: vn(3, 3, 12), name: "Visit", src: "src_web"},
		{user: "a", min: vn(3, 4, 12), src: "src_web", identify: true, props: `{"persona":"Săn sale"}`},
		{user: "a", min: vn(3, 9, 6), name: "Visit", src: "src_web"},
		{user: "a", min: vn(3, 23, 12), name: "Visit", src: "src_web"},
		// b: W0, back twice in W2; an identify in W1 is no activity.
		{user: "b", min: vn(3, 4, 12), name: "Signup", src: "src_web"},
		{user: "b", min: vn(3, 11, 12), src: "src_web", identify: true},
		{user: "b", min: vn(3, 17, 12), name: "Visit", src: "src_web", cx: `{"traits":{"persona":"Gia đình"}}`},
		{user: "b", min: vn(3, 18, 12), name: "Visit", src: "src_web"},
		// c: W1 (android), back the same day; signs up again in W2 (ios); back in W3.
		{user: "c", min: vn(3, 10, 9), name: "Signup", src: "src_web", props: `{"platform":"android"}`},
		{user: "c", min: vn(3, 10, 12), name: "Visit", src: "src_web"},
		{user: "c", min: vn(3, 17, 12), name: "Signup", src: "src_web", props: `{"platform":"ios"}`},
		{user: "c", min: vn(3, 24, 12), name: "Visit", src: "src_web"},
		// d: first signs up in February at a shop, again in W1, back in W1.
		{user: "d", min: vn(2, 24, 12), name: "Signup", src: "src_pos"},
		{user: "d", min: vn(3, 11, 12), name: "Signup", src: "src_web"},
		{user: "d", min: vn(3, 12, 12), name: "Visit", src: "src_web"},
		// e: W3 on the app, back the next day: the last event.
		{user: "e", min: vn(3, 25, 12), name: "Signup", src: "src_app", props: `{"platform":"ios"}`},
		{user: "e", min: vn(3, 26, 12), name: "Visit", src: "src_app"},
	})
	v := viewOf(t, s, "ws")
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, hcm)
	week := func(day int) time.Time { return time.Date(2026, 3, day, 0, 0, 0, 0, hcm) }
	base := RetentionQuery{Start: "Signup", Return: "Visit", Interval: Week, Periods: 4, From: from, Location: hcm}
	channels := map[string]string{"src_web": "website", "src_app": "app", "src_pos": "pos"}
	with := func(f func(q *RetentionQuery)) RetentionQuery {
		q := base
		f(&q)
		return q
	}
	type row struct {
		start    time.Time
		label    string
		size     int64
		eligible []int64
		retained []int64
	}
	cases := []struct {
		name    string
		q       RetentionQuery
		rows    []row
		average []float64
	}{
		{"first time, weeks", base, []row{
			{week(2), "2026-03-02", 2, []int64{2, 2, 2, 2}, []int64{1, 1, 1, 1}},
			{week(9), "2026-03-09", 1, []int64{1, 1, 1, 0}, []int64{1, 0, 1, -1}},
			{week(23), "2026-03-23", 1, []int64{1, 0, 0, 0}, []int64{1, -1, -1, -1}},
		}, []float64{0.75, 1.0 / 3, 2.0 / 3, 0.5}},
		{"rolling", with(func(q *RetentionQuery) { q.Rolling = true }), []row{
			{week(2), "2026-03-02", 2, []int64{2, 2, 2, 2}, []int64{2, 2, 2, 1}},
			{week(9), "2026-03-09", 1, []int64{1, 1, 1, 0}, []int64{1, 1, 1, -1}},
			{week(23), "2026-03-23", 1, []int64{1, 0, 0, 0}, []int64{1, -1, -1, -1}},
		}, []float64{1, 1, 1, 0.5}},
		{"recurring: c enters in W1 and W2, d in W1", with(func(q *RetentionQuery) { q.Mode = Recurring }), []row{
			{week(2), "2026-03-02", 2, []int64{2, 2, 2, 2}, []int64{1, 1, 1, 1}},
			{week(9), "2026-03-09", 2, []int64{2, 2, 2, 0}, []int64{2, 0, 1, -1}},
			{week(16), "2026-03-16", 1, []int64{1, 1, 0, 0}, []int64{0, 1, -1, -1}},
			{week(23), "2026-03-23", 1, []int64{1, 0, 0, 0}, []int64{1, -1, -1, -1}},
		}, []float64{4.0 / 6, 2.0 / 5, 2.0 / 4, 0.5}},
		{"weeks in UTC: a's Monday-morning visit is in W0", with(func(q *RetentionQuery) {
			q.Location, q.From, q.Periods = time.UTC, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 2
		}), []row{
			{time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "2026-03-02", 2, []int64{2, 2}, []int64{1, 0}},
			{time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), "2026-03-09", 1, []int64{1, 1}, []int64{1, 0}},
			{time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC), "2026-03-23", 1, []int64{1, 0}, []int64{1, -1}},
		}, []float64{0.75, 0}},
		{"days", with(func(q *RetentionQuery) { q.Interval, q.Periods = Day, 3 }), []row{
			{week(2), "2026-03-02", 1, []int64{1, 1, 1}, []int64{0, 1, 0}},
			{week(4), "2026-03-04", 1, []int64{1, 1, 1}, []int64{0, 0, 0}},
			{week(10), "2026-03-10", 1, []int64{1, 1, 1}, []int64{1, 0, 0}},
			{week(25), "2026-03-25", 1, []int64{1, 1, 0}, []int64{0, 1, -1}},
		}, []float64{0.25, 0.5, 0}},
		{"months from the start of the data: d's February", with(func(q *RetentionQuery) { q.Interval, q.Periods, q.From = Month, 2, time.Time{} }), []row{
			{time.Date(2026, 2, 1, 0, 0, 0, 0, hcm), "2026-02", 1, []int64{1, 1}, []int64{0, 1}},
			{time.Date(2026, 3, 1, 0, 0, 0, 0, hcm), "2026-03", 4, []int64{4, 0}, []int64{4, -1}},
		}, []float64{0.8, 1}},
		{"any event: the entry counts, an identify does not", with(func(q *RetentionQuery) { q.Start, q.Return, q.Periods = "", "", 2 }), []row{
			{week(2), "2026-03-02", 2, []int64{2, 2}, []int64{2, 1}},
			{week(9), "2026-03-09", 1, []int64{1, 1}, []int64{1, 1}},
			{week(23), "2026-03-23", 1, []int64{1, 0}, []int64{1, -1}},
		}, []float64{1, 2.0 / 3}},
		{"to bounds entries and returns", with(func(q *RetentionQuery) { q.To = week(16) }), []row{
			{week(2), "2026-03-02", 2, []int64{2, 2, 0, 0}, []int64{1, 1, -1, -1}},
			{week(9), "2026-03-09", 1, []int64{1, 0, 0, 0}, []int64{1, -1, -1, -1}},
		}, []float64{2.0 / 3, 0.5, -1, -1}},
		{"by channel of the first event", with(func(q *RetentionQuery) {
			q.CohortBy, q.SourceChannel = "channel", func(id string) string { return channels[id] }
		}), []row{
			{time.Time{}, "website", 3, []int64{3, 3, 3, 2}, []int64{2, 1, 2, 1}},
			{time.Time{}, "app", 1, []int64{1, 0, 0, 0}, []int64{1, -1, -1, -1}},
		}, []float64{0.75, 1.0 / 3, 2.0 / 3, 0.5}},
		{"by a property of the entry event", with(func(q *RetentionQuery) { q.CohortBy = "property:platform" }), []row{
			{time.Time{}, "ios", 2, []int64{2, 1, 1, 1}, []int64{2, 1, 0, 1}},
			{time.Time{}, "", 1, []int64{1, 1, 1, 1}, []int64{0, 0, 1, 0}},
			{time.Time{}, "android", 1, []int64{1, 1, 1, 0}, []int64{1, 0, 1, -1}},
		}, []float64{0.75, 1.0 / 3, 2.0 / 3, 0.5}},
		{"recurring by property: c's second entry is ios", with(func(q *RetentionQuery) { q.CohortBy, q.Mode, q.Periods = "property:properties.platform", Recurring, 1 }), []row{
			{time.Time{}, "ios", 3, []int64{3}, []int64{2}},
			{time.Time{}, "", 2, []int64{2}, []int64{1}},
			{time.Time{}, "android", 1, []int64{1}, []int64{1}},
		}, []float64{4.0 / 6}},
		{"by persona", with(func(q *RetentionQuery) { q.CohortBy, q.Periods = "persona", 1 }), []row{
			{time.Time{}, "", 2, []int64{2}, []int64{2}},
			{time.Time{}, "Gia đình", 1, []int64{1}, []int64{0}},
			{time.Time{}, "Săn sale", 1, []int64{1}, []int64{1}},
		}, []float64{0.75}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Retention(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var want []Cohort
			for _, r := range c.rows {
				co := Cohort{Start: r.start, Label: r.label, Size: r.size, Eligible: r.eligible, Retained: r.retained}
				for n, k := range r.retained {
					rate := -1.0
					if k >= 0 {
						rate = float64(k) / float64(r.eligible[n])
					}
					co.Rate = append(co.Rate, rate)
				}
				want = append(want, co)
			}
			approx := cmpopts.EquateApprox(0, 1e-9)
			if d := cmp.Diff(want, got.Cohorts, approx, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("cohorts (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.average, got.Average, approx); d != "" {
				t.Errorf("average (-want +got):\n%s", d)
			}
			if got.Interval != c.q.Interval || got.Periods != c.q.Periods {
				t.Errorf("interval %s, periods %d", got.Interval, got.Periods)
			}
		})
	}

	t.Run("churn and JSON", func(t *testing.T) {
		got, err := v.Retention(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		// Average 0.75, 1/3, 2/3, 1/2: churn 5/9, then -1 (more came back), 1/4.
		want := []float64{math.NaN(), 1 - (1.0/3)/0.75, -1, 0.25}
		for n, c := range got.Churn {
			if n == 0 && c != nil || n > 0 && (c == nil || math.Abs(*c-want[n]) > 1e-9) {
				t.Errorf("churn %d: %v, want %v", n, c, want[n])
			}
		}
		b, _ := json.Marshal(got)
		for _, part := range []string{`"interval":"week","periods":4,"cohorts":[{"start":"2026-03-02T00:00:00+07:00","label":"2026-03-02","size":2,"eligible":[2,2,2,2],"retained":[1,1,1,1],"rate":[0.5,0.5,0.5,0.5]}`,
			`"churn":[null,0.5555555555555556,-1,0.25]`, `"retained":[1,-1,-1,-1],"rate":[1,-1,-1,-1]`} {
			if !strings.Contains(string(b), part) {
				t.Errorf("JSON lacks %s:\n%s", part, b)
			}
		}
		got, err = v.Retention(ctx, with(func(q *RetentionQuery) { q.CohortBy = "persona" }))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got.Cohorts[0]); !strings.HasPrefix(string(b), `{"label":"","size":2,`) {
			t.Errorf("a cohort by value has no start: %s", b)
		}
	})

	t.Run("no entries", func(t *testing.T) {
		got, err := v.Retention(ctx, with(func(q *RetentionQuery) { q.Start = "Nothing" }))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Cohorts) != 0 || got.Average[0] != -1 || got.Churn[1] != nil {
			t.Errorf("%+v", got)
		}
		got, err = v.Retention(ctx, with(func(q *RetentionQuery) { q.From = week(30) }))
		if err != nil || len(got.Cohorts) != 0 {
			t.Errorf("from after the data: %+v %v", got, err)
		}
	})

	for _, bad := range []RetentionQuery{
		with(func(q *RetentionQuery) { q.Interval = "fortnight" }),
		with(func(q *RetentionQuery) { q.Periods = -1 }),
		with(func(q *RetentionQuery) { q.Periods = MaxRetentionPeriods + 1 }),
		with(func(q *RetentionQuery) { q.Mode = "sometimes" }),
		with(func(q *RetentionQuery) { q.CohortBy = "channel" }), // no SourceChannel
		with(func(q *RetentionQuery) { q.CohortBy = "property:" }),
		with(func(q *RetentionQuery) { q.CohortBy = "city" }),
		with(func(q *RetentionQuery) { q.To = q.From }),
	} {
		if _, err := v.Retention(ctx, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// BenchmarkRetention: 12 weeks over 1M events of 100k people over 90 days
// (CJM_BENCH_PEOPLE=1000000 for the 10M-event target).
func BenchmarkRetention(b *testing.B) {
	v := syntheticView(b, benchPeople(), 10, 90)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		q    RetentionQuery
	}{
		{"first-time", RetentionQuery{Start: "Home", Return: "Order Completed", Interval: Week, Periods: 12}},
		{"recurring-rolling", RetentionQuery{Interval: Week, Periods: 12, Mode: Recurring, Rolling: true}},
		{"days-by-channel", RetentionQuery{Interval: Day, Periods: 30, CohortBy: "channel", SourceChannel: func(s string) string { return s }}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Retention(ctx, c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
