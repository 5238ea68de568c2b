package privacy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func TestParsePurpose(t *testing.T) {
	for name, want := range map[string]Purpose{
		"analytics": Analytics, "Analytics": Analytics, "ANALYTICS": Analytics, "Performance": Analytics, "Phân tích": Analytics,
		"email": Email, "Email Marketing": Email, "email_marketing": Email, "e-mail": Email, "Newsletter": Email,
		"sms": SMS, "SMS Marketing": SMS, "Text messages": SMS,
		"zalo": Zalo, "Zalo OA": Zalo, "zalo-zns": Zalo,
		"personalisation": Personalisation, "Personalization": Personalisation, "Personalisation": Personalisation,
		"Advertising": Personalisation, "Targeting": Personalisation, "Cá nhân hoá": Personalisation, "Quảng cáo": Personalisation,
	} {
		if got, ok := ParsePurpose(name); !ok || got != want {
			t.Errorf("ParsePurpose(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "Functional", "Strictly necessary", "marketing"} {
		if got, ok := ParsePurpose(name); ok {
			t.Errorf("ParsePurpose(%q) = %q, want no purpose", name, got)
		}
	}
}

func track(seq uint64, at time.Time, name, props, ctx string) event.Message {
	m := event.Message{Seq: seq, WorkspaceID: "ws", SourceID: "src_web", MessageID: "m" + string(rune('0'+seq)), Type: event.Track,
		Event: name, UserID: "u1", Timestamp: at}
	if props != "" {
		m.Properties = json.RawMessage(props)
	}
	if ctx != "" {
		m.Context = json.RawMessage(ctx)
	}
	return m
}

func TestConsentFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    event.Message
		want []ConsentRecord
	}{
		{"consent updated", track(1, t0, ConsentEvent, `{"purpose":"email","granted":true,"text_version":"v3","source":"checkout"}`, ""),
			[]ConsentRecord{{Purpose: Email, Granted: true, At: t0, Source: "checkout", TextVersion: "v3", MessageID: "m1", Seq: 1, Explicit: true}}},
		{"withdrawn, camelCase version, no source", track(2, t0, ConsentEvent, `{"purpose":"SMS","granted":"false","textVersion":"2026-01"}`, ""),
			[]ConsentRecord{{Purpose: SMS, Granted: false, At: t0, Source: "source:src_web", TextVersion: "2026-01", MessageID: "m2", Seq: 2, Explicit: true}}},
		{"staff", track(3, t0, ConsentEvent, `{"purpose":"zalo","granted":true,"source":"staff:Mai"}`, ""),
			[]ConsentRecord{{Purpose: Zalo, Granted: true, At: t0, Source: "staff:Mai", MessageID: "m3", Seq: 3, Explicit: true}}},
		{"unknown purpose", track(4, t0, ConsentEvent, `{"purpose":"cookies","granted":true}`, ""), nil},
		{"no granted", track(4, t0, ConsentEvent, `{"purpose":"email"}`, ""), nil},
		{"another event", track(4, t0, "Order Completed", `{"purpose":"email","granted":true}`, ""), nil},
		{"category preferences", track(5, t0, "Product Viewed", "",
			`{"consent":{"categoryPreferences":{"Analytics":true,"Email Marketing":false,"Functional":true,"Advertising":true,"Personalization":true}}}`),
			[]ConsentRecord{
				{Purpose: Analytics, Granted: true, At: t0, Source: "consent_manager", MessageID: "m5", Seq: 5},
				{Purpose: Email, Granted: false, At: t0, Source: "consent_manager", MessageID: "m5", Seq: 5},
				{Purpose: Personalisation, Granted: true, At: t0, Source: "consent_manager", MessageID: "m5", Seq: 5},
			}},
		{"categories that disagree grant nothing", track(6, t0, "Page Viewed", "",
			`{"consent":{"categoryPreferences":{"personalization":true,"advertising":false}}}`),
			[]ConsentRecord{{Purpose: Personalisation, Granted: false, At: t0, Source: "consent_manager", MessageID: "m6", Seq: 6}}},
		{"both", track(7, t0, ConsentEvent, `{"purpose":"analytics","granted":false}`, `{"consent":{"categoryPreferences":{"sms":true}}}`),
			[]ConsentRecord{
				{Purpose: Analytics, Granted: false, At: t0, Source: "source:src_web", MessageID: "m7", Seq: 7, Explicit: true},
				{Purpose: SMS, Granted: true, At: t0, Source: "consent_manager", MessageID: "m7", Seq: 7},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ConsentFrom(&tc.m)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeriveConsent(t *testing.T) {
	h := time.Hour
	rec := func(p Purpose, granted bool, at time.Duration, seq uint64, explicit bool, src string) ConsentRecord {
		return ConsentRecord{Purpose: p, Granted: granted, At: t0.Add(at), Seq: seq, Explicit: explicit, Source: src}
	}
	records := []ConsentRecord{
		// Out of order: an import added an older decision late.
		rec(Email, false, 5*h, 9, true, "staff:Mai"),
		rec(Email, true, 1*h, 2, true, "checkout"),
		rec(Email, true, 3*h, 4, true, "checkout"), // repeated explicitly: kept
		// The consent manager repeats itself on every message: only changes count.
		rec(Analytics, true, 1*h, 1, false, "consent_manager"),
		rec(Analytics, true, 2*h, 3, false, "consent_manager"),
		rec(Analytics, false, 4*h, 5, false, "consent_manager"),
		rec(Analytics, false, 4*h, 6, false, "consent_manager"),
		// Same time: the log position decides.
		rec(SMS, true, 1*h, 8, true, "a"),
		rec(SMS, false, 1*h, 7, true, "b"),
	}
	got := DeriveConsent(records)
	want := []ConsentState{
		{Purpose: Analytics, Known: true, Granted: false, History: []ConsentRecord{records[5], records[3]}},
		{Purpose: Email, Known: true, Granted: false, History: []ConsentRecord{records[0], records[2], records[1]}},
		{Purpose: SMS, Known: true, Granted: true, History: []ConsentRecord{records[7], records[8]}},
		{Purpose: Zalo},
		{Purpose: Personalisation},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if l := got[1].Latest(); l.Source != "staff:Mai" {
		t.Errorf("latest e-mail decision %+v", l)
	}
	if l := got[3].Latest(); l.Purpose != "" || got[3].Granted {
		t.Errorf("unknown zalo consent: %+v", got[3])
	}
}
