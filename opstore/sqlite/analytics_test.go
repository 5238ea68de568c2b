package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

func TestKPISettingsDefaults(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	got, err := s.KPISettings(ctx, w.ID)
	wantErr(t, err, nil, "")
	diff(t, "defaults", got, opstore.DefaultKPISettings(w.ID))

	usd := opstore.Workspace{Name: "Export shop", Currency: "USD"}
	if err := s.CreateWorkspace(ctx, &usd); err != nil {
		t.Fatal(err)
	}
	got, err = s.KPISettings(ctx, usd.ID)
	wantErr(t, err, nil, "")
	if got.Currency != "USD" || got.PurchaseEvent != opstore.DefaultPurchaseEvent {
		t.Errorf("defaults of a USD workspace: %+v", got)
	}

	_, err = s.KPISettings(ctx, "ws_none")
	wantErr(t, err, opstore.ErrNotFound, "ws_none")
}

func TestKPISettingsSave(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other")

	k := opstore.KPISettings{
		WorkspaceID:      w.ID,
		SignupEvents:     []string{"Signed Up", " Account Created ", ""},
		ActivationEvents: []string{"Product Added", "Order Completed"},
		PurchaseEvent:    "Đặt hàng thành công",
		RevenueProperty:  "properties.total",
		NPSEvent:         "Survey Answered",
		NPSProperty:      "nps",
		Currency:         "vnd",
		UpdatedBy:        "usr_mai",
	}
	wantErr(t, s.SaveKPISettings(ctx, k), nil, "")
	got, err := s.KPISettings(ctx, w.ID)
	wantErr(t, err, nil, "")
	want := k
	want.SignupEvents = []string{"Signed Up", "Account Created"}
	want.RevenueProperty, want.Currency, want.UpdatedAt = "total", "VND", t0.Truncate(time.Millisecond)
	diff(t, "saved settings", got, want)

	// Saving again replaces everything, empty lists included.
	clock.add(time.Hour)
	k2 := got
	k2.SignupEvents, k2.ActivationEvents, k2.NPSEvent, k2.NPSProperty, k2.UpdatedAt = nil, nil, "", "", time.Time{}
	wantErr(t, s.SaveKPISettings(ctx, k2), nil, "")
	got, err = s.KPISettings(ctx, w.ID)
	wantErr(t, err, nil, "")
	if len(got.SignupEvents) != 0 || len(got.ActivationEvents) != 0 || got.NPSEvent != "" ||
		!got.UpdatedAt.Equal(t0.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("saved again: %+v", got)
	}

	// Another workspace still reads the defaults.
	o, err := s.KPISettings(ctx, other.ID)
	wantErr(t, err, nil, "")
	diff(t, "other workspace", o, opstore.DefaultKPISettings(other.ID))

	wantErr(t, s.SaveKPISettings(ctx, opstore.DefaultKPISettings("ws_none")), opstore.ErrNotFound, "ws_none")
}

func TestKPISettingsRefused(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	long := string(make([]byte, opstore.MaxKPIName+1))
	for _, tc := range []struct {
		name  string
		edit  func(*opstore.KPISettings)
		field string
		code  string
	}{
		{"no purchase event", func(k *opstore.KPISettings) { k.PurchaseEvent = "  " }, "PurchaseEvent", "required"},
		{"no revenue property", func(k *opstore.KPISettings) { k.RevenueProperty = "" }, "RevenueProperty", "required"},
		{"NPS event without property", func(k *opstore.KPISettings) { k.NPSProperty = "" }, "NPSProperty", "required"},
		{"lower-case junk currency", func(k *opstore.KPISettings) { k.Currency = "dong" }, "Currency", "invalid"},
		{"no currency", func(k *opstore.KPISettings) { k.Currency = "" }, "Currency", "invalid"},
		{"long event", func(k *opstore.KPISettings) { k.ReferralEvent = "x" + long }, "ReferralEvent", "too_long"},
		{"long listed event", func(k *opstore.KPISettings) { k.ActivationEvents = []string{"a" + long} }, "ActivationEvents", "too_long"},
		{"duplicate event", func(k *opstore.KPISettings) { k.SignupEvents = []string{"Signed Up", " Signed Up"} }, "SignupEvents", "duplicate"},
		{"too many events", func(k *opstore.KPISettings) {
			k.ActivationEvents = nil
			for i := range opstore.MaxKPIEvents + 1 {
				k.ActivationEvents = append(k.ActivationEvents, string(rune('A'+i%26))+string(rune('a'+i/26)))
			}
		}, "ActivationEvents", "too_many"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := opstore.DefaultKPISettings(w.ID)
			tc.edit(&k)
			err := s.SaveKPISettings(ctx, k)
			var fes opstore.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("error = %v, want FieldErrors", err)
			}
			if len(fes) != 1 || fes[0].Field != tc.field || fes[0].Code != tc.code {
				t.Fatalf("errors = %+v, want one %s on %s", fes, tc.code, tc.field)
			}
			wantInvalid(t, err, tc.field+": ")
			got, _ := s.KPISettings(ctx, w.ID)
			if !got.UpdatedAt.IsZero() {
				t.Errorf("refused settings were saved: %+v", got)
			}
		})
	}
}

// day is a spend date: 00:00 UTC of the given day.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestSpendUpsertIsIdempotent(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	file := []opstore.Spend{
		{Channel: "Facebook", Campaign: "11.11", From: day(2026, 10, 1), To: day(2026, 11, 1), Amount: 15_000_000, Currency: "VND"},
		{Channel: "Facebook", From: day(2026, 10, 1), To: day(2026, 11, 1), Amount: 2_000_000, Currency: "VND"},
		{Channel: "Google Ads", From: day(2026, 10, 1), To: day(2026, 10, 16), Amount: 1250, Currency: "USD"},
	}
	wantErr(t, s.ReplaceSpend(ctx, w.ID, file), nil, "")
	first, err := s.ListSpend(ctx, w.ID, time.Time{}, time.Time{})
	wantErr(t, err, nil, "")
	if len(first) != 3 {
		t.Fatalf("listed %+v", first)
	}
	for _, x := range first {
		if x.WorkspaceID != w.ID || !x.ImportedAt.Equal(t0.Truncate(time.Millisecond)) {
			t.Errorf("stored %+v", x)
		}
	}

	// The same file again, later: nothing changes, not even ImportedAt.
	clock.add(time.Hour)
	wantErr(t, s.ReplaceSpend(ctx, w.ID, file), nil, "")
	again, err := s.ListSpend(ctx, w.ID, time.Time{}, time.Time{})
	wantErr(t, err, nil, "")
	diff(t, "after re-import", again, first)

	// A corrected amount replaces the row with the same key.
	fixed := file[2]
	fixed.Amount, fixed.To = 1500, day(2026, 11, 1)
	wantErr(t, s.ReplaceSpend(ctx, w.ID, []opstore.Spend{fixed}), nil, "")
	got, _ := s.ListSpend(ctx, w.ID, time.Time{}, time.Time{})
	if len(got) != 3 {
		t.Fatalf("after correction %+v", got)
	}
	g := got[2]
	if g.Channel != "Google Ads" || g.Amount != 1500 || !g.To.Equal(day(2026, 11, 1)) || !g.ImportedAt.Equal(t0.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("corrected row %+v", g)
	}
}

func TestSpendRefused(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	good := opstore.Spend{Channel: "Zalo", From: day(2026, 10, 1), To: day(2026, 10, 2), Amount: 1, Currency: "VND"}
	for _, tc := range []struct {
		name string
		edit func(*opstore.Spend)
		msg  string
	}{
		{"no channel", func(x *opstore.Spend) { x.Channel = " " }, "channel is required"},
		{"from after to", func(x *opstore.Spend) { x.From = day(2026, 10, 3) }, "not before"},
		{"empty period", func(x *opstore.Spend) { x.To = x.From }, "not before"},
		{"not a date", func(x *opstore.Spend) { x.From = x.From.Add(time.Hour) }, "dates at 00:00 UTC"},
		{"zero date", func(x *opstore.Spend) { x.To = time.Time{} }, "dates at 00:00 UTC"},
		{"negative", func(x *opstore.Spend) { x.Amount = -5 }, "negative"},
		{"currency", func(x *opstore.Spend) { x.Currency = "vnd" }, "currency"},
		{"other workspace", func(x *opstore.Spend) { x.WorkspaceID = "ws_other" }, "belongs to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := good
			tc.edit(&bad)
			wantInvalid(t, s.ReplaceSpend(ctx, w.ID, []opstore.Spend{good, bad}), tc.msg)
			if got, _ := s.ListSpend(ctx, w.ID, time.Time{}, time.Time{}); len(got) != 0 {
				t.Errorf("a refused import stored %+v", got)
			}
		})
	}
	wantErr(t, s.ReplaceSpend(ctx, "ws_none", []opstore.Spend{good}), opstore.ErrNotFound, "ws_none")
}

func TestListSpendByOverlap(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	rows := []opstore.Spend{
		{Channel: "sep", From: day(2026, 9, 1), To: day(2026, 10, 1)},
		{Channel: "oct", From: day(2026, 10, 1), To: day(2026, 11, 1)},
		{Channel: "mid-oct", From: day(2026, 10, 10), To: day(2026, 10, 21)},
		{Channel: "nov", From: day(2026, 11, 1), To: day(2026, 12, 1)},
	}
	for i := range rows {
		rows[i].Currency, rows[i].Amount = "VND", int64(i)
	}
	wantErr(t, s.ReplaceSpend(ctx, w.ID, rows), nil, "")
	names := func(from, to time.Time) []string {
		t.Helper()
		got, err := s.ListSpend(ctx, w.ID, from, to)
		wantErr(t, err, nil, "")
		out := []string{}
		for _, x := range got {
			out = append(out, x.Channel)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"all", time.Time{}, time.Time{}, []string{"sep", "oct", "mid-oct", "nov"}},
		{"october", day(2026, 10, 1), day(2026, 11, 1), []string{"oct", "mid-oct"}},
		{"one day inside", day(2026, 10, 15), day(2026, 10, 16), []string{"oct", "mid-oct"}},
		{"last day of september", day(2026, 9, 30), day(2026, 10, 1), []string{"sep"}},
		{"from only", day(2026, 10, 21), time.Time{}, []string{"oct", "nov"}},
		{"to only", time.Time{}, day(2026, 10, 1), []string{"sep"}},
		{"to within a day", time.Time{}, day(2026, 10, 1).Add(time.Minute), []string{"sep", "oct"}},
		{"nothing", day(2027, 1, 1), day(2027, 2, 1), []string{}},
	} {
		diff(t, tc.name, names(tc.from, tc.to), tc.want)
	}
}

func TestDeleteSpendAndWorkspaceIsolation(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	w := mustWorkspace(t, s, "Shop")
	other := mustWorkspace(t, s, "Other")
	x := opstore.Spend{Channel: "TikTok", Campaign: "Tết", From: day(2027, 1, 1), To: day(2027, 2, 1), Amount: 9_000_000, Currency: "VND"}
	wantErr(t, s.ReplaceSpend(ctx, w.ID, []opstore.Spend{x}), nil, "")
	y := x
	y.Amount = 1
	wantErr(t, s.ReplaceSpend(ctx, other.ID, []opstore.Spend{y}), nil, "")

	got, _ := s.ListSpend(ctx, w.ID, time.Time{}, time.Time{})
	if len(got) != 1 || got[0].Amount != 9_000_000 || got[0].WorkspaceID != w.ID {
		t.Fatalf("workspace rows %+v", got)
	}

	wantErr(t, s.DeleteSpend(ctx, w.ID, "TikTok", "", x.From), opstore.ErrNotFound, "")             // the channel row does not exist
	wantErr(t, s.DeleteSpend(ctx, w.ID, "TikTok", "Tết", day(2027, 1, 2)), opstore.ErrNotFound, "") // other start
	wantErr(t, s.DeleteSpend(ctx, w.ID, "TikTok", "Tết", x.From), nil, "")
	wantErr(t, s.DeleteSpend(ctx, w.ID, "TikTok", "Tết", x.From), opstore.ErrNotFound, "")
	if got, _ := s.ListSpend(ctx, w.ID, time.Time{}, time.Time{}); len(got) != 0 {
		t.Errorf("after delete %+v", got)
	}
	if got, _ := s.ListSpend(ctx, other.ID, time.Time{}, time.Time{}); len(got) != 1 || got[0].Amount != 1 {
		t.Errorf("the other workspace lost its row: %+v", got)
	}

	// Settings are per workspace too.
	k := opstore.DefaultKPISettings(other.ID)
	k.PurchaseEvent = "Mua hàng"
	wantErr(t, s.SaveKPISettings(ctx, k), nil, "")
	if got, _ := s.KPISettings(ctx, w.ID); got.PurchaseEvent != opstore.DefaultPurchaseEvent {
		t.Errorf("workspace reads another's settings: %+v", got)
	}
}
