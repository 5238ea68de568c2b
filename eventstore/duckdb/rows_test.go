package duckdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/journeymap"
)

func TestScanRows(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	raw := func(s string) json.RawMessage {
		if s == "" {
			return nil
		}
		return json.RawMessage(s)
	}
	type in struct {
		typ                 event.Type
		ev, name            string
		user, anon          string
		props, traits, cctx string
		min                 int
	}
	// Timestamps out of Seq order: rows come in Seq order.
	ins := []in{
		{typ: event.Track, ev: "Order Completed", user: "u1", min: 30,
			props: `{"total":1290000,"city":"Hà Nội","ship":{"fee":30000.5,"by":"GHN"},"coupon":null,"ok":true,"tags":["tết","sale"]}`,
			cctx:  `{"page":{"path":"/thanh-toan","url":"https://x.vn/ignored"},"campaign":{"source":"zalo"}}`},
		{typ: event.Page, name: "Sản phẩm", anon: "a1", min: 10,
			props: `{"url":"https://maybouti.vn/s%E1%BA%A3n-ph%E1%BA%A9m/t%C3%BAi?x=1#top"}`},
		{typ: event.Page, anon: "a2", min: 20, cctx: `{"page":{"url":"https://maybouti.vn"}}`, props: `{"url":"/gio-hang"}`},
		{typ: event.Track, ev: "Product Viewed", user: "u2", anon: "a3", min: 0,
			props: `{"path":"","url":"/san-pham/1"}`, cctx: `{"page":{"path":42}}`, traits: `{"city":"Đà Nẵng","a\"b":"quoted","a\\b":"slashed","it's":"fine","tricky":"3:-a:b\n-"}`},
		{typ: event.Identify, user: "u1", min: 40, traits: `{"city":"Huế"}`},
		{typ: event.Screen, name: "Giỏ hàng", anon: "a4", min: 50, cctx: `{"page":"not an object"}`},
		{typ: event.Track, ev: "Too Late", user: "u9", min: 60},
	}
	var ms []event.Message
	for i, x := range ins {
		ms = append(ms, event.Message{Seq: uint64(i + 1), WorkspaceID: "ws", SourceID: fmt.Sprint("src", i%2), MessageID: fmt.Sprint("m", i+1),
			Type: x.typ, Event: x.ev, Name: x.name, UserID: x.user, AnonymousID: x.anon,
			Properties: raw(x.props), Traits: raw(x.traits), Context: raw(x.cctx), Timestamp: at(x.min), ReceivedAt: at(x.min)})
	}
	// The same times in another workspace, never read.
	other := ms[0]
	other.Seq, other.WorkspaceID, other.MessageID = 100, "other", "x"
	ms = append(ms, other)
	if err := s.Append(ctx, ms); err != nil {
		t.Fatal(err)
	}

	fields := []string{"properties.total", "properties.city", "traits.city", "properties.ship.fee", "properties.ship.by",
		"properties.coupon", "properties.ok", "properties.tags", "context.campaign.source", "properties.ship",
		`traits.a"b`, `traits.a\b`, `traits.it's`, "traits.tricky", "properties.city.x", "event.name", "properties..x"}
	q := eventstore.RowQuery{WorkspaceID: "ws", From: at(0), To: at(60), Fields: fields}
	scan := func() []eventstore.Row {
		var got []eventstore.Row
		err := s.ScanRows(ctx, q, func(r *eventstore.Row) error {
			c := *r
			c.Fields = append([]eventstore.FieldValue(nil), r.Fields...)
			got = append(got, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := scan()

	v := func(s string) eventstore.FieldValue { return eventstore.FieldValue{S: s, OK: true} }
	none := eventstore.FieldValue{}
	row := func(seq int, typ, name, path string, f ...eventstore.FieldValue) eventstore.Row {
		m := ms[seq-1]
		if f == nil {
			f = make([]eventstore.FieldValue, len(fields))
		}
		return eventstore.Row{Seq: uint64(seq), Type: typ, Name: name, SourceID: m.SourceID, Path: path,
			UserID: m.UserID, AnonymousID: m.AnonymousID, MessageID: m.MessageID, Timestamp: m.Timestamp, Fields: f}
	}
	want := []eventstore.Row{
		row(1, "track", "Order Completed", "/thanh-toan", v("1290000"), v("Hà Nội"), none, v("30000.5"), v("GHN"), none, v("true"),
			v(`["tết","sale"]`), v("zalo"), v(`{"fee":30000.5,"by":"GHN"}`), none, none, none, none, none, none, none),
		row(2, "page", "Sản phẩm", "/sản-phẩm/túi"),
		row(3, "page", "", "/gio-hang"),
		row(4, "track", "Product Viewed", "/san-pham/1", none, none, v("Đà Nẵng"), none, none, none, none, none, none, none, v("quoted"), v("slashed"), v("fine"), v("3:-a:b\n-"), none, none, none),
		row(5, "identify", "", "", none, none, v("Huế"), none, none, none, none, none, none, none, none, none, none, none, none, none, none),
		row(6, "screen", "Giỏ hàng", ""),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// Read in ranges of Seq, the rows are the same.
	defer func(n int) { rowsChunk = n }(rowsChunk)
	for _, n := range []int{1, 2, 4} {
		rowsChunk = n
		if diff := cmp.Diff(want, scan()); diff != "" {
			t.Errorf("chunks of %d rows (-want +got):\n%s", n, diff)
		}
	}
	// The path is the one journeymap reads from the whole message.
	for _, r := range got {
		if p := journeymap.MessagePath(&ms[r.Seq-1]); p != r.Path {
			t.Errorf("seq %d: path %q, journeymap reads %q", r.Seq, r.Path, p)
		}
	}

	// Window bounds: From is in, To is out; zero times do not bound.
	seqs := func(q eventstore.RowQuery) []uint64 {
		var out []uint64
		if err := s.ScanRows(ctx, q, func(r *eventstore.Row) error { out = append(out, r.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    eventstore.RowQuery
		want []uint64
	}{
		{"from inclusive, to exclusive", eventstore.RowQuery{WorkspaceID: "ws", From: at(10), To: at(30)}, []uint64{2, 3}},
		{"a nanosecond more", eventstore.RowQuery{WorkspaceID: "ws", From: at(10).Add(time.Microsecond), To: at(30).Add(time.Microsecond)}, []uint64{1, 3}},
		{"no bounds", eventstore.RowQuery{WorkspaceID: "ws"}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{"other zone, same instant", eventstore.RowQuery{WorkspaceID: "ws", From: at(50).In(time.FixedZone("ICT", 7*3600))}, []uint64{6, 7}},
		{"other workspace", eventstore.RowQuery{WorkspaceID: "other"}, []uint64{100}},
		{"empty window", eventstore.RowQuery{WorkspaceID: "ws", From: at(61), To: at(90)}, nil},
		{"after a seq", eventstore.RowQuery{WorkspaceID: "ws", AfterSeq: 4}, []uint64{5, 6, 7}},
		{"after a seq, in a window", eventstore.RowQuery{WorkspaceID: "ws", AfterSeq: 2, From: at(10), To: at(30)}, []uint64{3}},
	} {
		if got := seqs(tc.q); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: seqs %v, want %v", tc.name, got, tc.want)
		}
	}

	// An error from fn stops the scan and comes back as it is, also with a
	// range read ahead.
	stop := errors.New("stop")
	for _, chunk := range []int{100, 1} {
		rowsChunk = chunk
		n := 0
		if err := s.ScanRows(ctx, eventstore.RowQuery{WorkspaceID: "ws"}, func(*eventstore.Row) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("stop: %v after %d rows", err, n)
		}
	}
	// A cancelled context stops it too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.ScanRows(cctx, eventstore.RowQuery{WorkspaceID: "ws"}, func(*eventstore.Row) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestUnpack(t *testing.T) {
	vals := make([]eventstore.FieldValue, 3)
	if !unpack("3:a:b-0:", vals) || !cmp.Equal(vals, []eventstore.FieldValue{{S: "a:b", OK: true}, {}, {S: "", OK: true}}) {
		t.Errorf("unpack: %v", vals)
	}
	for _, bad := range []string{"", "-", "--", "3:ab-", "3:abc-0:x", "x:abc--", ":--", "9999999999999999999999:a--", "18446744073709551617:a--"} {
		if unpack(bad, vals) {
			t.Errorf("unpack(%q) took it", bad)
		}
	}
}

func TestJSONPath(t *testing.T) {
	for _, tc := range []struct{ field, col, path string }{
		{"properties.total", "properties", `$."total"`},
		{"context.campaign.source", "context", `$."campaign"."source"`},
		{`traits.a"b`, "traits", `$."a\"b"`},
		{`traits.a\b`, "traits", `$."a\\b"`},
		{`traits.x'); DROP TABLE events; --`, "traits", `$."x'); DROP TABLE events; --"`},
		{"event.name", "", ""},
		{"properties", "", ""},
		{"properties..x", "", ""},
	} {
		col, path, ok := jsonPath(tc.field)
		if col != tc.col || path != tc.path || ok != (tc.col != "") {
			t.Errorf("jsonPath(%q) = %q, %q, %v", tc.field, col, path, ok)
		}
	}
}
