package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/google/go-cmp/cmp"
)

// TestRunFunnel computes funnels over a real DuckDB store filled with hand
// made messages and compares them with counts worked out by hand.
func TestRunFunnel(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	type in struct {
		min        float64
		name       string
		user, anon string
		props, cx  string
	}
	ins := []in{
		// u1: A B C in 3 minutes, on Chrome.
		{0, "A", "u1", "", `{"browser":"Chrome"}`, ""}, {1, "B", "u1", "", `{"browser":"Chrome"}`, ""}, {3, "C", "u1", "", `{"browser":"Safari"}`, ""},
		// u2: A then B after 20 minutes (outside a 10-minute window), Safari.
		{0, "A", "u2", "", `{"browser":"Safari"}`, ""}, {20, "B", "u2", "", `{"browser":"Safari"}`, ""},
		// a3 (anonymous): A, X, B: an exclusion X:0-1 drops it.
		{0, "A", "", "a3", `{"browser":"Chrome"}`, ""}, {1, "X", "", "a3", "", ""}, {2, "B", "", "a3", `{"browser":"Chrome"}`, ""},
		// u4: two sessions by id; only the second converts A B.
		{0, "A", "u4", "", "", `{"sessionId":"s1"}`}, {40, "A", "u4", "", "", `{"sessionId":"s2"}`}, {41, "B", "u4", "", "", `{"sessionId":"s2"}`},
		// u5: B before A: not converted in order.
		{0, "B", "u5", "", "", ""}, {1, "A", "u5", "", "", ""},
	}
	var ms []event.Message
	for i, x := range ins {
		m := event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: "src", MessageID: fmt.Sprint("m", i+1), Type: event.Track,
			Event: x.name, UserID: x.user, AnonymousID: x.anon, Timestamp: t0.Add(time.Duration(x.min * float64(time.Minute)))}
		if x.props != "" {
			m.Properties = json.RawMessage(x.props)
		}
		if x.cx != "" {
			m.Context = json.RawMessage(x.cx)
		}
		ms = append(ms, m)
	}
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	step := func(name string, n int64, avg, med *float64) StepResult {
		return StepResult{Name: name, Count: n, AvgSeconds: avg, MedianSeconds: med}
	}

	q := FunnelQuery{Steps: []string{"A", "B", "C"}, Window: 10 * time.Minute}
	got, err := funnelOn(ctx, s, q)
	if err != nil {
		t.Fatal(err)
	}
	// A: u1 u2 a3 u4 u5 = 5; B in 10 min: u1 (60 s), a3 (120 s), u4 (60 s, 40→41 min) = 3; C: u1 (120 s).
	want := []StepResult{step("A", 5, nil, nil), step("B", 3, f(80), f(60)), step("C", 1, f(120), f(120))}
	if d := cmp.Diff(want, got.Steps); d != "" {
		t.Errorf("person funnel (-want +got):\n%s", d)
	}

	q.Exclusions = []Exclusion{{Name: "X", From: 0, To: 1}}
	q.Breakdown = "browser"
	got, err = funnelOn(ctx, s, q)
	if err != nil {
		t.Fatal(err)
	}
	want = []StepResult{step("A", 4, nil, nil), step("B", 2, f(60), f(60)), step("C", 1, f(120), f(120))}
	if d := cmp.Diff(want, got.Steps); d != "" {
		t.Errorf("with the exclusion (-want +got):\n%s", d)
	}
	// First touch: u1 Chrome, u2 Safari, u4 and u5 without a browser ("").
	wantBD := []BreakdownResult{
		{Value: "", Steps: []StepResult{step("A", 2, nil, nil), step("B", 1, f(60), f(60)), step("C", 0, nil, nil)}},
		{Value: "Chrome", Steps: []StepResult{step("A", 1, nil, nil), step("B", 1, f(60), f(60)), step("C", 1, f(120), f(120))}},
		{Value: "Safari", Steps: []StepResult{step("A", 1, nil, nil), step("B", 0, nil, nil), step("C", 0, nil, nil)}},
	}
	if d := cmp.Diff(wantBD, got.Breakdowns); d != "" {
		t.Errorf("breakdown (-want +got):\n%s", d)
	}

	// By session: u4's two sessions count twice; u2's A and B are 20 minutes
	// apart, inside one 30-minute session.
	got, err = funnelOn(ctx, s, FunnelQuery{Steps: []string{"A", "B"}, Window: time.Hour, Aggregate: "session"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps[0].Count != 6 || got.Steps[1].Count != 4 {
		t.Errorf("sessions: %+v", got.Steps)
	}

	// From/To: only events from minute 30 on are read.
	got, err = funnelOn(ctx, s, FunnelQuery{Steps: []string{"A", "B"}, Window: time.Hour, From: t0.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps[0].Count != 1 || got.Steps[1].Count != 1 {
		t.Errorf("from minute 30: %+v", got.Steps)
	}

	// Strict: a3's X between A and B breaks its chain.
	got, err = funnelOn(ctx, s, FunnelQuery{Steps: []string{"A", "B"}, Window: 10 * time.Minute, Order: Strict})
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps[1].Count != 2 { // u1 and u4
		t.Errorf("strict: %+v", got.Steps)
	}

	for _, bad := range []FunnelQuery{
		{Steps: []string{"A"}, Window: time.Minute, Order: "sideways"},
		{Steps: []string{"A", "B"}, Window: time.Minute, Exclusions: []Exclusion{{Name: "X", From: 1, To: 1}}},
		{Steps: []string{"A", "B"}, Window: time.Minute, Aggregate: "household"},
		{Steps: []string{"A", "B"}, Window: time.Minute, Attribution: "step:5"},
		{Steps: []string{"A"}},
	} {
		if _, err := funnelOn(ctx, s, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// funnelOn computes a funnel over workspace "ws" of a store, through a new index.
func funnelOn(ctx context.Context, s eventstore.Store, q FunnelQuery) (*FunnelResult, error) {
	v, err := NewIndex(s, "ws").View(ctx)
	if err != nil {
		return nil, err
	}
	return v.Funnel(ctx, q)
}
