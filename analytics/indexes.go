package analytics

import (
	"context"
	"sync"

	"github.com/cjmhq/cjm/eventstore"
)

// Indexes keeps one Index per workspace, made on first use.
type Indexes struct {
	store  eventstore.Store
	people func(ctx context.Context, workspaceID string) (func(userID, anonymousID string) string, error)

	mu sync.Mutex
	m  map[string]*Index
}

// NewIndexes returns the indexes of a store's workspaces. people resolves
// who is behind an id in a workspace (identity.People); nil counts ids.
func NewIndexes(store eventstore.Store, people func(ctx context.Context, workspaceID string) (func(userID, anonymousID string) string, error)) *Indexes {
	return &Indexes{store: store, people: people, m: map[string]*Index{}}
}

// Index returns the index of a workspace.
func (s *Indexes) Index(workspaceID string) *Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.m[workspaceID]
	if ix == nil {
		ix = NewIndex(s.store, workspaceID)
		if s.people != nil {
			ix.Resolve = func(ctx context.Context) (func(string, string) string, error) { return s.people(ctx, workspaceID) }
		}
		s.m[workspaceID] = ix
	}
	return ix
}

// View returns a workspace's events as they are now.
func (s *Indexes) View(ctx context.Context, workspaceID string) (*View, error) {
	return s.Index(workspaceID).View(ctx)
}
