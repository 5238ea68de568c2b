package privacy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// Preview says what an erasure would delete, for the confirmation.
type Preview struct {
	Profile     identity.ProfileID // "" when no profile holds the identifier
	Identifiers int
	Events      int64
}

// PreviewDelete counts what Delete would erase.
func (s *Service) PreviewDelete(ctx context.Context, workspaceID string, id identity.Identifier) (Preview, error) {
	if err := s.catchUp(ctx); err != nil {
		return Preview{}, err
	}
	p, err := s.find(ctx, workspaceID, id)
	if err != nil {
		return Preview{}, err
	}
	pv := Preview{Profile: p.profile, Identifiers: len(p.ids)}
	err = s.cfg.Events.ScanPerson(ctx, p.query(workspaceID), func(*event.Message) error {
		pv.Events++
		return nil
	})
	return pv, err
}

// Delete erases the person with the identifier from every store and
// records the request. In order:
//
//  1. the person's own identifiers (all those of their profile but the
//     shared ones) go on the suppression list, so from now on their
//     messages are dropped at collection and before loading; the pipeline
//     is then flushed, so that what was already acknowledged is loaded
//     (or dropped), and the identity graph, when it is a Resolver, brought
//     up to the event store; identifiers it linked meanwhile are
//     suppressed too;
//  2. their events (see eventstore.PersonQuery);
//  3. the profile in the identity graph (identifiers, links, merges,
//     reviews): the identifiers it returns are suppressed too;
//  4. what the other stores (Config.People: the profile index with its
//     staff notes) hold about the profile;
//  5. rejected messages holding one of the identifiers;
//  6. earlier exports of the person (files, and the masked hints of their
//     requests).
//
// Consent is read from the events, so it goes with them. A failed request
// can be run again: each step is idempotent, and the events are deleted
// while the identity graph still finds all the identifiers.
func (s *Service) Delete(ctx context.Context, workspaceID string, id identity.Identifier, actor string) (opstore.PrivacyRequest, error) {
	r := opstore.PrivacyRequest{WorkspaceID: workspaceID, Kind: opstore.RequestDelete, IdentifierKind: string(id.Kind),
		IdentifierHash: Hash(workspaceID, id), Actor: actor, RequestedAt: s.cfg.Now(), Counts: map[string]int64{}}
	if err := s.cfg.Store.CreatePrivacyRequest(ctx, &r); err != nil {
		return r, err
	}
	p, err := s.find(ctx, workspaceID, id)
	if err == nil {
		err = s.erase(ctx, &r, p)
	}
	return s.finish(ctx, r, p, err)
}

func (s *Service) erase(ctx context.Context, r *opstore.PrivacyRequest, p person) error {
	if err := s.suppress(ctx, r, p.own()); err != nil {
		return fmt.Errorf("suppress: %w", err)
	}
	// What was acknowledged before is loaded (or dropped) and resolved, so
	// the graph knows every identifier of the person and reads none of
	// their events after they are deleted.
	if err := s.settle(ctx); err != nil {
		return err
	}
	again, err := s.find(ctx, r.WorkspaceID, p.named)
	if err != nil {
		return err
	}
	var more []identity.Identifier
	for _, id := range again.own() {
		if !p.has(id) {
			more = append(more, id)
		}
	}
	if len(more) > 0 {
		if err := s.suppress(ctx, r, more); err != nil {
			return fmt.Errorf("suppress: %w", err)
		}
		if err := s.settle(ctx); err != nil {
			return err
		}
	}
	p = again
	own := p.own()
	n, err := s.cfg.Events.DeletePerson(ctx, p.query(r.WorkspaceID))
	r.Counts["events"] = n
	if err != nil {
		return fmt.Errorf("delete events: %w", err)
	}
	if p.profile != "" {
		erased, err := s.cfg.Graph.Erase(ctx, r.WorkspaceID, p.profile)
		if err != nil && !errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("erase identities: %w", err)
		}
		r.Counts["identifiers"] = int64(len(erased))
		// Identifiers linked since the lookup are suppressed too; their
		// events are deleted by running the request again.
		more = more[:0]
		for _, e := range erased {
			if !p.has(e) {
				more = append(more, e)
			}
		}
		if err := s.suppress(ctx, r, more); err != nil {
			return fmt.Errorf("suppress: %w", err)
		}
		// The derived stores forget the profile once the graph has (a
		// profile index relinks from the graph).
		for _, ps := range s.cfg.People {
			n, err := ps.ErasePerson(ctx, r.WorkspaceID, p.profile, append(own, more...))
			r.Counts[ps.Name()] = n
			if err != nil {
				return fmt.Errorf("erase from %s: %w", ps.Name(), err)
			}
		}
	}
	n, err = s.cfg.Store.DeleteRejectedOf(ctx, r.WorkspaceID, p.values())
	r.Counts["rejected"] = n
	if err != nil {
		return fmt.Errorf("delete rejected messages: %w", err)
	}
	hashes := make([]string, len(p.ids))
	for i, l := range p.ids {
		hashes[i] = Hash(r.WorkspaceID, l.Identifier)
	}
	files, err := s.cfg.Store.ForgetExports(ctx, r.WorkspaceID, hashes)
	if err != nil {
		return fmt.Errorf("forget exports: %w", err)
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join(s.cfg.ExportDir, filepath.Base(f))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove an export: %w", err)
		}
	}
	r.Counts["exports"] = int64(len(files))
	return nil
}

// Resolver is what an identity graph that resolves the event store in the
// background offers (*identity.Resolver): privacy requests drive it up to
// the store's position first, so it knows every identifier of the person.
type Resolver interface {
	Step(ctx context.Context) (int, error)
	Offset() uint64
}

// settle flushes the pipeline and brings the identity graph up to the
// event store.
func (s *Service) settle(ctx context.Context) error {
	if s.cfg.Pipeline != nil {
		if err := s.cfg.Pipeline.Flush(ctx); err != nil {
			return fmt.Errorf("wait for the events being loaded: %w", err)
		}
	}
	return s.catchUp(ctx)
}

// catchUp steps the identity graph, when it is a Resolver, until it has
// read the event store up to its position now.
func (s *Service) catchUp(ctx context.Context) error {
	res, ok := s.cfg.Graph.(Resolver)
	if !ok {
		return nil
	}
	last, err := s.cfg.Events.LastSeq(ctx)
	if err != nil {
		return err
	}
	for res.Offset() < last {
		before := res.Offset()
		if _, err := res.Step(ctx); err != nil {
			return fmt.Errorf("identity resolution: %w", err)
		}
		if res.Offset() == before {
			break // it cannot get further now: go on with what it knows
		}
	}
	return nil
}

// suppress puts identifiers on the suppression list, in the store and in
// memory.
func (s *Service) suppress(ctx context.Context, r *opstore.PrivacyRequest, ids []identity.Identifier) error {
	if len(ids) == 0 {
		return nil
	}
	list := make([]opstore.Suppressed, len(ids))
	hashes := make([]string, len(ids))
	for i, id := range ids {
		hashes[i] = Hash(r.WorkspaceID, id)
		list[i] = opstore.Suppressed{WorkspaceID: r.WorkspaceID, Hash: hashes[i], Kind: string(id.Kind), RequestID: r.ID}
	}
	if err := s.cfg.Store.AddSuppressed(ctx, list); err != nil {
		return err
	}
	s.sup.add(hashes)
	r.Counts["suppressed"] += int64(len(ids))
	return nil
}

func (p person) has(id identity.Identifier) bool {
	for _, l := range p.ids {
		if l.Identifier == id {
			return true
		}
	}
	return false
}
