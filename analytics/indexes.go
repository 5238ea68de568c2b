package analytics

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cjmhq/cjm/eventstore"
)

// Indexes keeps one Index per workspace, made on first use.
type Indexes struct {
	store  eventstore.Store
	people func(ctx context.Context, workspaceID string) (func(userID, anonymousID string) string, error)

	mu       sync.Mutex
	m        map[string]*Index
	building map[string]bool
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// InlineBuild is the most events a workspace may have for its first view
// to be built while a caller waits; a bigger one is built in the
// background, and View says how far it got (ErrIndexing).
var InlineBuild int64 = 300_000

// ErrIndexing is returned (wrapped in an *IndexingError) by View while a
// workspace's index is first built in the background.
var ErrIndexing = errors.New("the analytics index is being built")

// IndexingError says how far the first build of an index is.
type IndexingError struct {
	Read, Total int64
}

func (e *IndexingError) Error() string {
	return fmt.Sprintf("%v: %d of %d rows read", ErrIndexing, e.Read, e.Total)
}

func (e *IndexingError) Unwrap() error { return ErrIndexing }

// Percent is the share of the rows read, 0 to 100.
func (e *IndexingError) Percent() int {
	if e.Total <= 0 {
		return 0
	}
	return int(min(100, 100*e.Read/e.Total))
}

// NewIndexes returns the indexes of a store's workspaces. people resolves
// who is behind an id in a workspace (identity.People); nil counts ids.
func NewIndexes(store eventstore.Store, people func(ctx context.Context, workspaceID string) (func(userID, anonymousID string) string, error)) *Indexes {
	ctx, cancel := context.WithCancel(context.Background())
	return &Indexes{store: store, people: people, m: map[string]*Index{}, building: map[string]bool{}, ctx: ctx, cancel: cancel}
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

// View returns a workspace's events as they are now. The first view of a
// workspace with more than InlineBuild events is built in the background:
// until it is ready, View returns an *IndexingError.
func (s *Indexes) View(ctx context.Context, workspaceID string) (*View, error) {
	ix := s.Index(workspaceID)
	if ix.Current() != nil {
		return ix.View(ctx)
	}
	s.mu.Lock()
	building := s.building[workspaceID]
	s.mu.Unlock()
	if !building {
		n, err := s.store.Count(ctx, eventstore.Filter{WorkspaceID: workspaceID})
		if err != nil {
			return nil, err
		}
		if n <= InlineBuild {
			return ix.View(ctx)
		}
		s.Warm(workspaceID)
	}
	read, total := ix.Progress()
	return nil, &IndexingError{Read: read, Total: total}
}

// Warm starts building a workspace's index in the background, if it is
// not built or being built.
func (s *Indexes) Warm(workspaceID string) {
	ix := s.Index(workspaceID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.building[workspaceID] || ix.Current() != nil || s.ctx.Err() != nil {
		return
	}
	s.building[workspaceID] = true
	s.wg.Go(func() {
		_, _ = ix.Refresh(s.ctx) // an error leaves no view: the next View tries again
		s.mu.Lock()
		delete(s.building, workspaceID)
		s.mu.Unlock()
	})
}

// Close stops the builds under way and waits for them.
func (s *Indexes) Close() {
	s.cancel()
	s.wg.Wait()
}
