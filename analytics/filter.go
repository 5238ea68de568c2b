package analytics

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Filter narrows an analysis to some events and some people. Every part
// that is set must hold.
type Filter struct {
	// Sources keeps the events of these sources (ids).
	Sources []string
	// Where keeps the events whose fields have these values.
	Where []FieldEquals
	// Persona keeps the people whose persona (traits.persona, else
	// context.traits.persona, the latest value) is this.
	Persona string
	// HasEvent keeps the people with at least one event whose field has
	// this value (a segment: "came from the sale", "bought in store 3").
	HasEvent *FieldEquals
}

// Empty reports whether f keeps everything.
func (f Filter) Empty() bool {
	return len(f.Sources) == 0 && len(f.Where) == 0 && f.Persona == "" && f.HasEvent == nil
}

// ParseFieldEquals reads "FIELD=VALUE" (a bare field name means
// properties.NAME).
func ParseFieldEquals(s string) (FieldEquals, error) {
	field, value, ok := strings.Cut(s, "=")
	field = strings.TrimSpace(field)
	if !ok || field == "" {
		return FieldEquals{}, fmt.Errorf("%q is not FIELD=VALUE, e.g. context.campaign.source=facebook", s)
	}
	return FieldEquals{Field: fieldPath(field), Value: strings.TrimSpace(value)}, nil
}

// Filter returns the view of the events and people f keeps: the same
// columns, gathered, so every analysis runs on it unchanged.
func (v *View) Filter(ctx context.Context, f Filter) (*View, error) {
	if f.Empty() {
		return v, nil
	}
	keepEvent := make([]bool, v.n)
	for i := range keepEvent {
		keepEvent[i] = true
	}
	if len(f.Sources) > 0 {
		want := make([]bool, len(v.ix.sources.list()))
		for _, id := range f.Sources {
			if c, ok := v.ix.sources.lookup(id); ok && int(c) < len(want) {
				want[c] = true
			}
		}
		for i := range keepEvent {
			keepEvent[i] = want[v.source[i]]
		}
	}
	for _, w := range f.Where {
		codes, values, err := v.column(ctx, fieldPath(w.Field))
		if err != nil {
			return nil, err
		}
		c := uint32(slices.Index(values, w.Value))
		if w.Value == "" || c == ^uint32(0) {
			clear(keepEvent)
			break
		}
		for i := range keepEvent {
			keepEvent[i] = keepEvent[i] && codes[i] == c
		}
	}
	keepPerson, err := v.personFilter(ctx, f.Persona, f.HasEvent, func(uint32) bool { return true })
	if err != nil {
		return nil, err
	}

	sub := &View{ix: v.ix, at: v.at, raw: v.raw, places: map[string][]uint16{}}
	var pos []uint32
	sub.start = []uint32{0}
	for p := range v.persons {
		if keepPerson != nil && !keepPerson[p] {
			continue
		}
		before := len(pos)
		for i := v.start[p]; i < v.start[p+1]; i++ {
			if keepEvent[i] {
				pos = append(pos, i)
			}
		}
		if len(pos) > before {
			sub.persons = append(sub.persons, v.persons[p])
			sub.start = append(sub.start, uint32(len(pos)))
		}
	}
	sub.n = len(pos)
	sub.order = gather(v.order, pos)
	sub.ts, sub.name, sub.typ = gather(v.ts, pos), gather(v.name, pos), gather(v.typ, pos)
	sub.source, sub.path = gather(v.source, pos), gather(v.path, pos)
	sub.ident = v.ident[:sub.n:sub.n]
	return sub, nil
}
