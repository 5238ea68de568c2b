package analytics

import (
	"context"
	"slices"
	"sync"

	"github.com/cjmhq/cjm/journeymap"
)

// PlaceCode packs a place on a map into 16 bits: the stage and the
// touchpoint, each plus one (0: none). NoPlace is an event no matcher
// claims.
func PlaceCode(p journeymap.Place) uint16 {
	if p.Stage < 0 {
		return NoPlace
	}
	return uint16(p.Stage+1)<<8 | uint16(p.Touchpoint+1)
}

// NoPlace is the code of journeymap.Nowhere.
const NoPlace uint16 = 0

// PlaceOf unpacks a PlaceCode.
func PlaceOf(c uint16) journeymap.Place {
	if c == NoPlace {
		return journeymap.Nowhere
	}
	return journeymap.Place{Stage: int(c>>8) - 1, Touchpoint: int(c&0xff) - 1}
}

// placeCache is where each event of the index falls on one map version.
type placeCache struct {
	mu    sync.Mutex
	codes []uint16
}

// Places returns the place of every event of the view on the map that c
// was compiled from; key names that map version (its id and version), so
// the index classifies each event once per version (and as new events
// come, only those).
func (v *View) Places(ctx context.Context, key string, c *journeymap.Classifier) ([]uint16, error) {
	v.mu.Lock()
	pl, ok := v.places[key]
	v.mu.Unlock()
	if ok && key != "" {
		return pl, nil
	}
	raw, err := v.rawPlaces(ctx, key, c)
	if err != nil {
		return nil, err
	}
	pl = gather(raw, v.order)
	v.mu.Lock()
	v.places[key] = pl
	v.mu.Unlock()
	return pl, nil
}

// rawPlaces returns the places of the index's events in Seq order.
func (v *View) rawPlaces(ctx context.Context, key string, c *journeymap.Classifier) ([]uint16, error) {
	ix := v.ix
	ix.mu.Lock()
	pc := ix.places[key]
	if pc == nil || key == "" {
		pc = &placeCache{}
		if key != "" {
			ix.places[key] = pc
		}
	}
	ix.mu.Unlock()

	n := v.raw.len()
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.codes) >= n {
		return pc.codes[:n:n], nil
	}
	fields := c.Fields()
	if err := ix.Want(ctx, fields...); err != nil {
		return nil, err
	}
	// The fields stay sparse: each worker walks their rows alongside.
	type field struct {
		rows, codes []uint32
		values      []string
	}
	fs := make([]field, len(fields))
	for i, f := range fields {
		var err error
		if fs[i].rows, fs[i].codes, fs[i].values, err = ix.sparse(ctx, f, n); err != nil {
			return nil, err
		}
	}
	names, types, sources, paths := v.names(), ix.types.list(), ix.sources.list(), ix.paths.list()
	raw := v.raw
	from := len(pc.codes)
	codes := append(pc.codes, make([]uint16, n-from)...)
	v.parallel(n-from, func(lo, hi int) {
		e := journeymap.Event{Fields: make([]journeymap.Value, len(fields))}
		next := make([]int, len(fs)) // per field, the first of its rows not behind r
		for i := range fs {
			next[i], _ = slices.BinarySearch(fs[i].rows, uint32(from+lo))
		}
		for r := from + lo; r < from+hi; r++ {
			e.Type, e.Name, e.SourceID, e.Path = types[raw.typ[r]], names[raw.name[r]], sources[raw.source[r]], paths[raw.path[r]]
			for i := range fs {
				f := &fs[i]
				e.Fields[i] = journeymap.Value{}
				if j := next[i]; j < len(f.rows) && f.rows[j] == uint32(r) {
					e.Fields[i] = journeymap.Value{S: f.values[f.codes[j]], OK: true}
					next[i]++
				}
			}
			codes[r] = PlaceCode(c.Classify(&e))
		}
	})
	pc.codes = codes
	return codes[:n:n], nil
}
