package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestKPIsCommand imports events of two sources and a spend file with a
// bad line, and checks `cjm kpis --json` against figures worked out by
// hand, and the text report.
func TestKPIsCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, lines ...string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	web := write("web.jsonl",
		// u1 came in February and orders for the first time in the period.
		`{"type":"track","userId":"u1","event":"Page Viewed","timestamp":"2026-02-20T05:00:00Z"}`,
		`{"type":"track","userId":"u1","event":"Order Completed","timestamp":"2026-03-03T05:00:00Z","properties":{"revenue":200000}}`,
		// u2 signs up, adds to cart, orders twice: new, activated, a first and a repeat order.
		`{"type":"track","userId":"u2","event":"Signed Up","timestamp":"2026-03-04T05:00:00Z"}`,
		`{"type":"track","userId":"u2","event":"Product Added","timestamp":"2026-03-05T05:00:00Z"}`,
		`{"type":"track","userId":"u2","event":"Order Completed","timestamp":"2026-03-06T05:00:00Z","properties":{"revenue":100000}}`,
		`{"type":"track","userId":"u2","event":"Order Completed","timestamp":"2026-03-10T05:00:00Z","properties":{"revenue":150000}}`,
	)
	shop := write("shop.jsonl",
		`{"type":"track","userId":"u3","event":"Order Completed","timestamp":"2026-03-09T05:00:00Z","properties":{"total":"80000"}}`,
	)
	for _, in := range [][]string{{"--source", "Website", "--channel", "website", web}, {"--source", "Shopee Mall", "--channel", "marketplace", shop}} {
		if _, errs, code := cli(t, append([]string{"import", "--data", dir, "--quiet"}, in...)...); code != 0 {
			t.Fatalf("import: exit %d: %s", code, errs)
		}
	}

	spend := write("spend.csv",
		"Kênh,Chiến dịch,Từ ngày,Đến ngày,Chi phí (VNĐ)",
		"Website,,02/03/2026,15/03/2026,1.400.000",
		"Shopee Mall,sale,02/03/2026,08/03/2026,700000",
		"Facebook,,31/02/2026,15/03/2026,100000",
	)
	out, errs, code := cli(t, "kpis", "spend", "import", spend, "--data", dir)
	if code != 1 || !strings.Contains(out, "2 spend rows stored") || !strings.Contains(errs, "line 4: from:") || !strings.Contains(errs, "1 problems") {
		t.Errorf("spend import: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	out, errs, code = cli(t, "kpis", "spend", "list", "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("spend list: exit %d: %s", code, errs)
	}
	var rows []struct {
		Channel, Campaign, From, To, Currency string
		Amount                                int64
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rows) != 2 || rows[0].Channel != "Shopee Mall" || rows[0].To != "2026-03-08" || rows[1].Amount != 1_400_000 || rows[1].Currency != "VND" {
		t.Errorf("spend list: %+v", rows)
	}

	out, errs, code = cli(t, "kpis", "--data", dir, "--from", "2026-03-02", "--to", "2026-03-16", "--json")
	if code != 0 {
		t.Fatalf("kpis: exit %d: %s", code, errs)
	}
	type figures struct {
		NewCustomers   int64    `json:"new_customers"`
		Spend          int64    `json:"spend"`
		CAC            *int64   `json:"cac"`
		Activated      int64    `json:"activated"`
		Active         int64    `json:"active"`
		Purchasers     int64    `json:"purchasers"`
		Orders         int64    `json:"orders"`
		Revenue        int64    `json:"revenue"`
		FirstOrders    int64    `json:"first_orders"`
		RepeatOrders   int64    `json:"repeat_orders"`
		RepeatUplift   *float64 `json:"repeat_uplift"`
		ConversionRate *float64 `json:"conversion_rate"`
	}
	var r struct {
		Currency string  `json:"currency"`
		Period   figures `json:"period"`
		Series   []struct {
			Start string `json:"start"`
		} `json:"series"`
		Channels []struct {
			Channel      string `json:"channel"`
			NewCustomers int64  `json:"new_customers"`
			Spend        int64  `json:"spend"`
			CAC          *int64 `json:"cac"`
			Revenue      int64  `json:"revenue"`
		} `json:"channels"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	i := func(v int64) *int64 { return &v }
	f := func(v float64) *float64 { return &v }
	// New: u2 (website) and u3 (marketplace). Orders: u1 200.000 (first),
	// u2 100.000 (first) and 150.000 (repeat), u3 80.000 (first).
	// Spend: 1.400.000 + 700.000 over 2 new customers.
	want := figures{NewCustomers: 2, Spend: 2_100_000, CAC: i(1_050_000), Activated: 1, Active: 3, Purchasers: 3, Orders: 4, Revenue: 530_000,
		FirstOrders: 3, RepeatOrders: 1, RepeatUplift: f(150_000/(380_000/3.0) - 1), ConversionRate: f(1)}
	if d := cmp.Diff(want, r.Period, cmpopts.EquateApprox(0, 1e-9)); d != "" {
		t.Errorf("period (-want +got):\n%s", d)
	}
	if r.Currency != "VND" || len(r.Series) != 2 || len(r.Channels) != 2 {
		t.Errorf("currency %q, %d weeks, channels %+v", r.Currency, len(r.Series), r.Channels)
	}
	// One new customer each; the website has more active ones (u1 and u2).
	if c := r.Channels; len(c) == 2 && (c[0].Channel != "website" || c[0].Spend != 1_400_000 || c[0].Revenue != 450_000 ||
		c[1].Channel != "marketplace" || c[1].CAC == nil || *c[1].CAC != 700_000) {
		t.Errorf("channels %+v", c)
	}

	out, errs, code = cli(t, "kpis", "--data", dir, "--from", "2026-03-02", "--to", "2026-03-16", "--interval", "month")
	if code != 0 {
		t.Fatalf("kpis: exit %d: %s", code, errs)
	}
	for _, s := range []string{"KPIs of 2026-03-02 to 2026-03-15", "new customers", "1050000", "repeat orders", "marketplace", "By month"} {
		if !strings.Contains(out, s) {
			t.Errorf("the report lacks %q:\n%s", s, out)
		}
	}

	for _, bad := range [][]string{
		{"kpis", "--from", "2026-03-16", "--to", "2026-03-02"},
		{"kpis", "--interval", "fortnight"},
		{"kpis", "spend"},
		{"kpis", "spend", "import"},
		{"kpis", "spend", "delete"},
	} {
		if _, errs, code := cli(t, append(bad, "--data", dir)...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errs)
		}
	}
}
