package journeymap

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// Change is one difference between two versions of a map (or between a
// future map and the current one).
type Change struct {
	// Op is added, removed, changed or reordered.
	Op string `json:"op"`
	// Path leads from the map to the changed part: each crumb is the list
	// it is in (stages, touchpoints, pain_points, ...) and its name or text.
	Path []Crumb `json:"path"`
	// Field is the changed field of that part ("" for a whole part added,
	// removed or reordered).
	Field string `json:"field,omitempty"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Crumb is one step of a Change's path.
type Crumb struct {
	List  string `json:"list"`
	Label string `json:"label"`
}

// Diff lists what changed from a to b. Stages, touchpoints and cards are
// matched by their key or id, so renaming a stage is one change and moving
// one is a reorder, not a removal and an addition.
func Diff(a, b *Map) []Change {
	var out []Change
	diffValue(&out, nil, "", toTree(a), toTree(b))
	return out
}

func toTree(m *Map) any {
	c := *m
	c.Schema = ""
	data, _ := json.Marshal(&c)
	var t any
	_ = json.Unmarshal(data, &t)
	return t
}

var fieldRank = func() map[string]int {
	rank := map[string]int{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if _, seen := rank[name]; !seen {
				rank[name] = len(rank)
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[Map]())
	return rank
}()

func sortedKeys(a, b map[string]any) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y string) int { return fieldRank[x] - fieldRank[y] })
	return keys
}

func diffValue(out *[]Change, path []Crumb, field string, a, b any) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for _, k := range sortedKeys(am, bm) {
			diffValue(out, path, joinPath(field, k), am[k], bm[k])
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if (aok || a == nil) && (bok || b == nil) && (identified(al) || identified(bl)) && (al != nil || bl != nil) {
		diffList(out, path, field, al, bl)
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	*out = append(*out, Change{Op: "changed", Path: path, Field: field, Old: show(a), New: show(b)})
}

// identified reports whether the list holds parts with a key or an id.
func identified(l []any) bool {
	if len(l) == 0 {
		return false
	}
	o, ok := l[0].(map[string]any)
	return ok && (o["key"] != nil || o["id"] != nil)
}

func ident(v any) (id, label string) {
	o, _ := v.(map[string]any)
	for _, k := range []string{"key", "id"} {
		if s, ok := o[k].(string); ok {
			id = s
			break
		}
	}
	for _, k := range []string{"name", "text"} {
		if s, ok := o[k].(string); ok && s != "" {
			return id, s
		}
	}
	return id, id
}

func diffList(out *[]Change, path []Crumb, list string, a, b []any) {
	inA := map[string]any{}
	var orderA []string
	for _, v := range a {
		id, _ := ident(v)
		inA[id] = v
		orderA = append(orderA, id)
	}
	inB := map[string]bool{}
	var common []string
	for _, v := range b {
		id, label := ident(v)
		inB[id] = true
		crumbs := append(slices.Clip(path), Crumb{List: list, Label: label})
		old, ok := inA[id]
		if !ok {
			*out = append(*out, Change{Op: "added", Path: crumbs})
			continue
		}
		common = append(common, id)
		_, oldLabel := ident(old)
		crumbs[len(crumbs)-1].Label = oldLabel
		diffValue(out, crumbs, "", old, v)
	}
	var kept []string
	for _, id := range orderA {
		if inB[id] {
			kept = append(kept, id)
			continue
		}
		_, label := ident(inA[id])
		*out = append(*out, Change{Op: "removed", Path: append(slices.Clip(path), Crumb{List: list, Label: label})})
	}
	if !slices.Equal(kept, common) {
		*out = append(*out, Change{Op: "reordered", Path: path, Field: list})
	}
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = show(e)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
