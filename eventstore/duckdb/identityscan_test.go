package duckdb

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

func TestScanIdentity(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	raw := func(s string) json.RawMessage {
		if s == "" {
			return nil
		}
		return json.RawMessage(s)
	}
	type in struct {
		typ                       event.Type
		user, anon, prev          string
		traits, cctx              string
		wantTraits, wantCT, wantX string
	}
	ins := []in{
		{typ: event.Page, anon: "a1", cctx: `{"page":{"path":"/"},"library":{"name":"analytics.js"}}`},
		{typ: event.Identify, user: "kh001", anon: "a1", traits: `{"email":"lan@x.vn","phone":"0912 345 678"}`,
			cctx: `{"traits":{"name":"Lan"}}`, wantTraits: `{"email":"lan@x.vn","phone":"0912 345 678"}`, wantCT: `{"name":"Lan"}`},
		// A group's traits describe the group: not read.
		{typ: event.Group, user: "kh001", traits: `{"email":"info@company.vn"}`},
		{typ: event.Track, user: "kh001", cctx: `{"traits":{"email":"lan@x.vn"},"externalIds":[{"id":"42","type":"crm_id"}]}`,
			wantCT: `{"email":"lan@x.vn"}`, wantX: `[{"id":"42","type":"crm_id"}]`},
		{typ: event.Alias, user: "kh002", prev: "kh001"},
		// "traits" only in a value: parsed, nothing found.
		{typ: event.Track, anon: "a2", cctx: `{"campaign":{"name":"\"traits\""}}`},
	}
	var ms []event.Message
	for i, x := range ins {
		ms = append(ms, event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: "src", MessageID: "m" + string(rune('1'+i)),
			Type: x.typ, UserID: x.user, AnonymousID: x.anon, PreviousID: x.prev, Event: "E", GroupID: "g",
			Traits: raw(x.traits), Context: raw(x.cctx), Timestamp: t0.Add(-time.Duration(i) * time.Hour), ReceivedAt: t0})
	}
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}
	var got []eventstore.IdentityRow
	if err := s.ScanIdentity(ctx, 1, 6, func(r *eventstore.IdentityRow) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	var want []eventstore.IdentityRow
	for i, x := range ins[1:] {
		m := ms[i+1]
		want = append(want, eventstore.IdentityRow{Seq: m.Seq, WorkspaceID: "ws", SourceID: "src", Type: string(x.typ), MessageID: m.MessageID,
			UserID: x.user, AnonymousID: x.anon, PreviousID: x.prev, Timestamp: m.Timestamp,
			Traits: x.wantTraits, ContextTraits: x.wantCT, ExternalIDs: x.wantX})
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ScanIdentity(1, 6] (-want +got):\n%s", d)
	}
	n := 0
	if err := s.ScanIdentity(ctx, 6, 100, func(*eventstore.IdentityRow) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("ScanIdentity past the end: %d rows, %v", n, err)
	}
	stop := errors.New("stop")
	if err := s.ScanIdentity(ctx, 0, 6, func(*eventstore.IdentityRow) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ScanIdentity returned %v, want fn's error", err)
	}
}
