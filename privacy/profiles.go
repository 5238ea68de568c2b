package privacy

import (
	"context"
	"errors"

	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// ProfileIndex is the part of the profile index (opstore.ProfileStore)
// that privacy requests read and erase.
type ProfileIndex interface {
	Profile(ctx context.Context, workspaceID, id string) (opstore.ProfileRow, error)
	ProfileTraits(ctx context.Context, workspaceID, id string) ([]opstore.TraitChange, error)
	ProfileNotes(ctx context.Context, workspaceID, profileID string) ([]opstore.ProfileNote, error)
	ForgetProfile(ctx context.Context, workspaceID, id string, actors []opstore.Actor) error
}

// Profiles is the profile index as a PersonStore named "profile": it
// exports the profile row, every recorded trait value and the staff notes,
// and erases them with the profile's actors (ForgetProfile).
func Profiles(idx ProfileIndex) PersonStore { return profileStore{idx} }

type profileStore struct{ idx ProfileIndex }

func (profileStore) Name() string { return "profile" }

type exportedProfile struct {
	Profile *opstore.ProfileRow   `json:"profile,omitempty"`
	Traits  []opstore.TraitChange `json:"traits"`
	Notes   []opstore.ProfileNote `json:"staff_notes"`
}

func (s profileStore) ExportPerson(ctx context.Context, workspaceID string, p identity.ProfileID, _ []identity.Identifier) (any, error) {
	var out exportedProfile
	row, err := s.idx.Profile(ctx, workspaceID, string(p))
	switch {
	case err == nil:
		out.Profile = &row
	case !errors.Is(err, opstore.ErrNotFound):
		return nil, err
	}
	if out.Traits, err = s.idx.ProfileTraits(ctx, workspaceID, string(p)); err != nil {
		return nil, err
	}
	if out.Notes, err = s.idx.ProfileNotes(ctx, workspaceID, string(p)); err != nil {
		return nil, err
	}
	if out.Profile == nil && len(out.Traits) == 0 && len(out.Notes) == 0 {
		return nil, nil
	}
	return out, nil
}

// ErasePerson counts the profile row, its trait values and its notes.
func (s profileStore) ErasePerson(ctx context.Context, workspaceID string, p identity.ProfileID, ids []identity.Identifier) (int64, error) {
	var n int64
	if _, err := s.idx.Profile(ctx, workspaceID, string(p)); err == nil {
		n++
	}
	if ts, err := s.idx.ProfileTraits(ctx, workspaceID, string(p)); err == nil {
		n += int64(len(ts))
	}
	if ns, err := s.idx.ProfileNotes(ctx, workspaceID, string(p)); err == nil {
		n += int64(len(ns))
	}
	var actors []opstore.Actor
	for _, id := range ids {
		if id.Kind == identity.UserID || id.Kind == identity.AnonymousID {
			actors = append(actors, opstore.Actor{Kind: string(id.Kind), ID: id.Value})
		}
	}
	return n, s.idx.ForgetProfile(ctx, workspaceID, string(p), actors)
}
