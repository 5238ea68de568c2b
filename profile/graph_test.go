package profile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cjmhq/cjm/identity"
)

// mapGraph is an identity graph over a map, for tests: identifiers are
// linked to profiles by hand, and merges tell the listener.
type mapGraph struct {
	mu  sync.Mutex
	ids map[string]map[identity.Identifier]identity.ProfileID // workspace -> identifier -> profile
	// byProfile indexes ids by profile (any workspace), built on first use
	// and dropped on every change.
	byProfile map[identity.ProfileID][]identity.Identifier
	listener  interface {
		ProfilesChanged(context.Context, string, []identity.ProfileID, map[identity.ProfileID]identity.ProfileID)
	}
}

var _ identity.Graph = (*mapGraph)(nil)

func newMapGraph() *mapGraph {
	return &mapGraph{ids: map[string]map[identity.Identifier]identity.ProfileID{}}
}

// link gives the identifiers ("kind:value") to p, and tells the listener.
func (g *mapGraph) link(ws string, p identity.ProfileID, ids ...string) {
	g.mu.Lock()
	if g.ids[ws] == nil {
		g.ids[ws] = map[identity.Identifier]identity.ProfileID{}
	}
	for _, s := range ids {
		id, err := identity.ParseIdentifier(s)
		if err != nil {
			panic(err)
		}
		g.ids[ws][id] = p
	}
	g.byProfile = nil
	g.mu.Unlock()
	if g.listener != nil {
		g.listener.ProfilesChanged(context.Background(), ws, []identity.ProfileID{p}, nil)
	}
}

// merge moves every identifier of from to into, and tells the listener.
func (g *mapGraph) merge(ws string, from, into identity.ProfileID) {
	g.mu.Lock()
	for id, p := range g.ids[ws] {
		if p == from {
			g.ids[ws][id] = into
		}
	}
	g.byProfile = nil
	g.mu.Unlock()
	if g.listener != nil {
		g.listener.ProfilesChanged(context.Background(), ws, []identity.ProfileID{into}, map[identity.ProfileID]identity.ProfileID{from: into})
	}
}

func (g *mapGraph) Resolve(ctx context.Context, ws string, id identity.Identifier) (identity.ProfileID, error) {
	v, err := identity.Normalize(id.Kind, id.Value)
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.ids[ws][identity.Identifier{Kind: id.Kind, Value: v}]; ok {
		return p, nil
	}
	return "", fmt.Errorf("%s: %w", id, identity.ErrNotFound)
}

func (g *mapGraph) Identifiers(ctx context.Context, ws string, p identity.ProfileID) ([]identity.Linked, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byProfile == nil {
		g.byProfile = map[identity.ProfileID][]identity.Identifier{}
		for _, ids := range g.ids {
			for id, q := range ids {
				g.byProfile[q] = append(g.byProfile[q], id)
			}
		}
	}
	var out []identity.Linked
	for _, id := range g.byProfile[p] {
		if g.ids[ws][id] == p {
			out = append(out, identity.Linked{Identifier: id})
		}
	}
	if out == nil {
		return nil, fmt.Errorf("profile %s: %w", p, identity.ErrNotFound)
	}
	slices.SortFunc(out, func(a, b identity.Linked) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

func (g *mapGraph) SearchIdentifiers(ctx context.Context, ws, prefix string, limit int) ([]identity.Match, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []identity.Match
	for id, p := range g.ids[ws] {
		if strings.HasPrefix(id.Value, prefix) {
			out = append(out, identity.Match{Linked: identity.Linked{Identifier: id}, Profile: p})
		}
	}
	return out, nil
}

func (g *mapGraph) Merges(context.Context, string, identity.ProfileID) ([]identity.Merge, error) {
	return nil, nil
}

func (g *mapGraph) Reviews(context.Context, string, bool, int) ([]identity.Review, error) {
	return nil, nil
}
func (g *mapGraph) Approve(context.Context, string, int64, string) error { return nil }
func (g *mapGraph) Reject(context.Context, string, int64, string) error  { return nil }
func (g *mapGraph) Split(context.Context, string, int64, string) error   { return nil }
func (g *mapGraph) Erase(context.Context, string, identity.ProfileID) ([]identity.Identifier, error) {
	return nil, nil
}
func (g *mapGraph) EachIdentifier(context.Context, string, func(identity.Identifier, identity.ProfileID) error) error {
	return nil
}
