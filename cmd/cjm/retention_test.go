package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestRetentionCommand imports sign-ups and visits from a website and an
// app and checks `cjm retention --json` against cohorts worked out by hand
// in the workspace's time zone (Asia/Ho_Chi_Minh; weeks from Monday the
// 2nd, 9th, 16th of March 2026).
func TestRetentionCommand(t *testing.T) {
	dir := t.TempDir()
	ev := func(user, event, at, props string) string {
		return fmt.Sprintf(`{"type":"track","userId":%q,"event":%q,"timestamp":"2026-03-%s+07:00","properties":{%s}}`, user, event, at, props)
	}
	importLines(t, dir, "web.jsonl", []string{
		// a: W0; back in W0, W1 (Monday 06:00 here, Sunday in UTC), W2.
		ev("a", "Signup", "02T10:00:00", `"platform":"ios"`), ev("a", "Visit", "03T12:00:00", ""),
		ev("a", "Visit", "09T06:00:00", ""), ev("a", "Visit", "16T12:00:00", ""),
		// b: W0; back in W2.
		ev("b", "Signup", "04T12:00:00", ""), ev("b", "Visit", "17T12:00:00", ""),
	}, "Web", "website")
	importLines(t, dir, "app.jsonl", []string{
		// c: W1, back in W1; signs up again in W2 and comes back after.
		ev("c", "Signup", "10T12:00:00", `"platform":"android"`), ev("c", "Visit", "11T12:00:00", ""),
		ev("c", "Signup", "17T09:00:00", ""), ev("c", "Visit", "18T12:00:00", ""),
	}, "App", "app")

	type cohort struct {
		Start    string    `json:"start"`
		Label    string    `json:"label"`
		Size     int64     `json:"size"`
		Eligible []int64   `json:"eligible"`
		Retained []int64   `json:"retained"`
		Rate     []float64 `json:"rate"`
	}
	type result struct {
		Interval string     `json:"interval"`
		Periods  int        `json:"periods"`
		Cohorts  []cohort   `json:"cohorts"`
		Average  []float64  `json:"average"`
		Churn    []*float64 `json:"churn"`
	}
	retention := func(args ...string) result {
		t.Helper()
		out, errs, code := cli(t, append([]string{"retention", "--data", dir, "--json", "--start-event", "Signup", "--return-event", "Visit"}, args...)...)
		if code != 0 {
			t.Fatalf("retention %v: exit %d: %s", args, code, errs)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		return r
	}
	// rows renders cohorts as "label size: retained...".
	rows := func(r result) []string {
		var out []string
		for _, c := range r.Cohorts {
			out = append(out, fmt.Sprintf("%s %d: %v", c.Label, c.Size, c.Retained))
		}
		return out
	}
	cases := []struct {
		args []string
		rows []string
	}{
		{[]string{"--periods", "3"}, []string{"2026-03-02 2: [1 1 2]", "2026-03-09 1: [1 1 -1]"}},
		{[]string{"--periods", "3", "--rolling"}, []string{"2026-03-02 2: [2 2 2]", "2026-03-09 1: [1 1 -1]"}},
		{[]string{"--periods", "3", "--mode", "recurring"}, []string{"2026-03-02 2: [1 1 2]", "2026-03-09 1: [1 1 -1]", "2026-03-16 1: [1 -1 -1]"}},
		{[]string{"--periods", "3", "--cohort-by", "channel"}, []string{"website 2: [1 1 2]", "app 1: [1 1 -1]"}},
		{[]string{"--periods", "3", "--cohort-by", "property:platform"}, []string{" 1: [0 0 1]", "android 1: [1 1 -1]", "ios 1: [1 1 1]"}},
		{[]string{"--periods", "2", "--interval", "day", "--from", "2026-03-04"}, []string{"2026-03-04 1: [0 0]", "2026-03-10 1: [0 1]"}},
		{[]string{"--periods", "2", "--interval", "month"}, []string{"2026-03 3: [3 -1]"}},
		{[]string{"--periods", "3", "--to", "2026-03-09"}, []string{"2026-03-02 2: [1 -1 -1]"}},
	}
	for _, c := range cases {
		if d := cmp.Diff(c.rows, rows(retention(c.args...))); d != "" {
			t.Errorf("%v (-want +got):\n%s", c.args, d)
		}
	}

	r := retention("--periods", "3")
	half, two := 0.5, 2.0/3
	want := result{Interval: "week", Periods: 3, Cohorts: []cohort{
		{Start: "2026-03-02T00:00:00+07:00", Label: "2026-03-02", Size: 2, Eligible: []int64{2, 2, 2}, Retained: []int64{1, 1, 2}, Rate: []float64{half, half, 1}},
		{Start: "2026-03-09T00:00:00+07:00", Label: "2026-03-09", Size: 1, Eligible: []int64{1, 1, 0}, Retained: []int64{1, 1, -1}, Rate: []float64{1, 1, -1}},
	}, Average: []float64{two, two, 1}}
	approx := cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })
	if d := cmp.Diff(want, r, approx, cmpopts.IgnoreFields(result{}, "Churn")); d != "" {
		t.Errorf("weeks (-want +got):\n%s", d)
	}
	// Churn: none before period 0; 1 - (2/3)/(2/3) = 0; 1 - 1/(2/3) = -0.5
	// (more came back in week 2 than in week 1).
	zero, more := 0.0, -0.5
	if d := cmp.Diff([]*float64{nil, &zero, &more}, r.Churn, approx); d != "" {
		t.Errorf("churn (-want +got):\n%s", d)
	}

	out, errs, code := cli(t, "retention", "--data", dir, "--start-event", "Signup", "--return-event", "Visit", "--periods", "3")
	if code != 0 {
		t.Fatalf("text: exit %d: %s", code, errs)
	}
	for _, want := range []string{"week 0", "week 2", "2026-03-02", "50.0%", "100.0%", "average", "66.7%"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}

	for _, bad := range []struct {
		args []string
		flag string
	}{
		{[]string{"--interval", "fortnight"}, "--interval"},
		{[]string{"--periods", "0"}, "--periods"},
		{[]string{"--periods", "401"}, "--periods"},
		{[]string{"--mode", "sometimes"}, "--mode"},
		{[]string{"--cohort-by", "city"}, "--cohort-by"},
		{[]string{"--cohort-by", "property:"}, "--cohort-by"},
		{[]string{"--to", "someday"}, "--to"},
	} {
		_, errs, code := cli(t, append([]string{"retention", "--data", dir}, bad.args...)...)
		if code != 2 || !strings.Contains(errs, bad.flag) || !strings.Contains(errs, "usage: cjm retention") {
			t.Errorf("%v: exit %d, stderr %q", bad.args, code, errs)
		}
	}
}
