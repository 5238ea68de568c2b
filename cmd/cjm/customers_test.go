package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/cjmhq/cjm/profile"
)

// customers runs `cjm customers ARGS` (not yet in commands(): called directly).
func customers(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, logger: slog.New(slog.DiscardHandler)}
	err := cmdCustomers(context.Background(), e, args)
	return out.String(), errb.String(), err
}

func TestCustomersCommand(t *testing.T) {
	dir := t.TempDir()
	if _, errs, code := cli(t, "demo", "--data", dir, "--customers", "60", "--seed", "3", "--end", "2026-11-01", "--no-serve"); code != 0 {
		t.Fatalf("demo: %s", errs)
	}
	out, errs, err := customers(t, "search", "--data", dir, "--orders", "1", "--sort", "revenue", "--json")
	if err != nil {
		t.Fatalf("search: %v %s", err, errs)
	}
	var page struct {
		Customers []struct {
			ID      string
			Display string
			Orders  int64
			Revenue int64
		}
		Total int64
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(page.Customers) == 0 || page.Total < int64(len(page.Customers)) {
		t.Fatalf("no customers with orders in the demo: %s", out)
	}
	for i, c := range page.Customers {
		if c.Orders < 1 || i > 0 && c.Revenue > page.Customers[i-1].Revenue {
			t.Errorf("customer %d out of order or without orders: %+v", i, c)
		}
	}
	top := page.Customers[0]
	out, errs, err = customers(t, "show", top.ID, "--data", dir, "--events", "5")
	if err != nil {
		t.Fatalf("show: %v %s", err, errs)
	}
	for _, want := range []string{top.ID, top.Display, "Order Completed", "orders"} {
		if !strings.Contains(out, want) {
			t.Errorf("show does not print %q:\n%s", want, out)
		}
	}
	// By name, without diacritics.
	out, _, err = customers(t, append([]string{"search"}, append(strings.Fields(profile.Fold(top.Display)), "--data", dir)...)...)
	if err != nil || !strings.Contains(out, top.ID) {
		t.Errorf("search by name: %v\n%s", err, out)
	}
	if _, _, err := customers(t, "show", "--data", dir); err == nil {
		t.Error("show without a profile")
	}
}
