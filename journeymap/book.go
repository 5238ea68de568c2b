package journeymap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cjmhq/cjm/opstore"
)

// Book keeps a workspace's maps in the operational store: every save is a
// checked, versioned document. The web UI, the JSON API and the CLI all go
// through it.
type Book struct {
	ops opstore.Store
}

// NewBook returns the maps kept in ops.
func NewBook(ops opstore.Store) *Book { return &Book{ops} }

// Entry is a stored map: its record (id, version, who saved it) and document.
type Entry struct {
	opstore.MapRecord
	Map *Map
}

func decodeDoc(rec opstore.MapRecord) (Entry, error) {
	var m Map
	if err := json.Unmarshal(rec.Doc, &m); err != nil {
		return Entry{}, fmt.Errorf("journeymap: map %s version %d: %w", rec.ID, rec.Version, err)
	}
	return Entry{rec, &m}, nil
}

// List returns the workspace's maps, by name.
func (b *Book) List(ctx context.Context, ws string) ([]Entry, error) {
	recs, err := b.ops.Maps(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(recs))
	for _, r := range recs {
		e, err := decodeDoc(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Get returns a map by id.
func (b *Book) Get(ctx context.Context, ws, id string) (Entry, error) {
	rec, err := b.ops.Map(ctx, ws, id)
	if err != nil {
		return Entry{}, err
	}
	return decodeDoc(rec)
}

// Find returns a map by id or, failing that, by name.
func (b *Book) Find(ctx context.Context, ws, idOrName string) (Entry, error) {
	rec, err := b.ops.Map(ctx, ws, idOrName)
	if errors.Is(err, opstore.ErrNotFound) {
		rec, err = b.ops.MapByName(ctx, ws, idOrName)
	}
	if err != nil {
		return Entry{}, err
	}
	return decodeDoc(rec)
}

// Version returns one saved version of a map.
func (b *Book) Version(ctx context.Context, ws, id string, version int) (*Map, opstore.MapVersion, error) {
	v, err := b.ops.MapVersion(ctx, ws, id, version)
	if err != nil {
		return nil, v, err
	}
	var m Map
	if err := json.Unmarshal(v.Doc, &m); err != nil {
		return nil, v, err
	}
	return &m, v, nil
}

func prepare(m *Map) ([]byte, error) {
	m.Schema = SchemaVersion
	m.AssignIDs()
	if errs := Validate(m); errs != nil {
		return nil, errs
	}
	return json.Marshal(m)
}

// Create checks and stores a new map. A name already used in the
// workspace is an opstore.ErrConflict.
func (b *Book) Create(ctx context.Context, ws string, m *Map, ch opstore.MapChange) (Entry, error) {
	doc, err := prepare(m)
	if err != nil {
		return Entry{}, err
	}
	rec, err := b.ops.CreateMap(ctx, ws, m.Name, string(m.State), doc, ch)
	if err != nil {
		return Entry{}, err
	}
	return Entry{rec, m}, nil
}

// Save checks m and stores it as the next version of map id. base is the
// version the change was made on (0: whatever is current); when the map
// has moved on since, the save fails with opstore.ErrStale.
func (b *Book) Save(ctx context.Context, ws, id string, base int, m *Map, ch opstore.MapChange) (Entry, error) {
	doc, err := prepare(m)
	if err != nil {
		return Entry{}, err
	}
	rec, err := b.ops.SaveMap(ctx, ws, id, base, m.Name, string(m.State), doc, ch)
	if err != nil {
		return Entry{}, err
	}
	return Entry{rec, m}, nil
}

// Edit applies edits to version base of map id and saves the result.
func (b *Book) Edit(ctx context.Context, ws, id string, base int, edits []Edit, ch opstore.MapChange) (Entry, error) {
	e, err := b.Get(ctx, ws, id)
	if err != nil {
		return Entry{}, err
	}
	if base != 0 && base != e.Version {
		return Entry{}, fmt.Errorf("map %s is at version %d, not %d: %w", id, e.Version, base, opstore.ErrStale)
	}
	if err := e.Map.Apply(edits...); err != nil {
		return Entry{}, err
	}
	return b.Save(ctx, ws, id, e.Version, e.Map, ch)
}

// Import reads a YAML (or JSON) map document and stores it: as a new
// version of the map of the same name, or as a new map. created says which.
func (b *Book) Import(ctx context.Context, ws string, data []byte, ch opstore.MapChange) (e Entry, created bool, err error) {
	m, err := Parse(data)
	if err != nil {
		return Entry{}, false, err
	}
	if ch.Action == "" {
		ch.Action = "imported"
	}
	old, err := b.ops.MapByName(ctx, ws, m.Name)
	switch {
	case errors.Is(err, opstore.ErrNotFound):
		e, err = b.Create(ctx, ws, m, ch)
		return e, true, err
	case err != nil:
		return Entry{}, false, err
	}
	e, err = b.Save(ctx, ws, old.ID, 0, m, ch)
	return e, false, err
}

// Restore saves an old version of a map as its newest version.
func (b *Book) Restore(ctx context.Context, ws, id string, version int, ch opstore.MapChange) (Entry, error) {
	m, _, err := b.Version(ctx, ws, id, version)
	if err != nil {
		return Entry{}, err
	}
	ch.Action = "restored"
	if ch.Note == "" {
		ch.Note = fmt.Sprintf("restored version %d", version)
	}
	return b.Save(ctx, ws, id, 0, m, ch)
}

// Duplicate stores a copy of map id under a new name.
func (b *Book) Duplicate(ctx context.Context, ws, id, name string, ch opstore.MapChange) (Entry, error) {
	e, err := b.Get(ctx, ws, id)
	if err != nil {
		return Entry{}, err
	}
	m := e.Map.Clone()
	m.Name = name
	ch.Action = "duplicated"
	if ch.Note == "" {
		ch.Note = "copy of " + e.Name
	}
	return b.Create(ctx, ws, m, ch)
}

// Classifier compiles m's matchers against the workspace's sources.
func (b *Book) Classifier(ctx context.Context, ws string, m *Map) (*Classifier, error) {
	srcs, err := b.ops.Sources(ctx, ws)
	if err != nil {
		return nil, err
	}
	infos := make([]SourceInfo, len(srcs))
	for i, s := range srcs {
		infos[i] = SourceInfo{ID: s.ID, Name: s.Name, Channel: string(s.Channel)}
	}
	return Compile(m, infos)
}
