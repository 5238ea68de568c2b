package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cjmhq/cjm/opstore"
)

// The Graph's reads. Profiles come from memory, which is never behind the
// store; the merge log and the review queue from the store.

// Resolve implements Graph. The value is normalised first, so
// "phone:0912 345 678" finds "+84912345678".
func (r *Resolver) Resolve(ctx context.Context, workspace string, id Identifier) (ProfileID, error) {
	v, err := Normalize(id.Kind, id.Value)
	if err != nil {
		return "", err
	}
	id.Value = v
	r.mu.RLock()
	defer r.mu.RUnlock()
	if sp := r.spaces[workspace]; sp != nil {
		if n := sp.nodes[id]; n != nil && n.prof != nil {
			return n.prof.id, nil
		}
	}
	return "", fmt.Errorf("%s: %w", id, ErrNotFound)
}

// Current returns the profile that now holds what profile p started: p
// itself, or the profile p was merged into.
func (r *Resolver) Current(ctx context.Context, workspace string, p ProfileID) (ProfileID, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if sp := r.spaces[workspace]; sp != nil {
		if pr := sp.current(p); pr != nil {
			return pr.id, nil
		}
	}
	return "", fmt.Errorf("profile %s: %w", p, ErrNotFound)
}

// Identifiers implements Graph: strongest kind first, then by first seen.
func (r *Resolver) Identifiers(ctx context.Context, workspace string, p ProfileID) ([]Linked, error) {
	r.mu.RLock()
	var out []Linked
	if sp := r.spaces[workspace]; sp != nil {
		if pr := sp.profiles[p]; pr != nil {
			out = make([]Linked, len(pr.members))
			for i, n := range pr.members {
				out[i] = n.linked()
			}
		}
	}
	r.mu.RUnlock()
	if out == nil {
		return nil, fmt.Errorf("profile %s: %w", p, ErrNotFound)
	}
	sortLinked(out)
	return out, nil
}

// Merges implements Graph: the merges into or from the profile and into or
// from every profile merged into it, newest first.
func (r *Resolver) Merges(ctx context.Context, workspace string, p ProfileID) ([]Merge, error) {
	ids := []string{string(p)}
	r.mu.RLock()
	if sp := r.spaces[workspace]; sp != nil {
		if pr := sp.current(p); pr != nil {
			ids = append(ids, sp.lineage(pr)...)
		}
	}
	r.mu.RUnlock()
	slices.Sort(ids)
	ms, err := r.ops.IdentityMerges(ctx, workspace, slices.Compact(ids))
	if err != nil {
		return nil, err
	}
	out := make([]Merge, len(ms))
	for i, m := range ms {
		out[i] = mergeOf(m)
	}
	return out, nil
}

// Merge returns one entry of the merge log.
func (r *Resolver) Merge(ctx context.Context, workspace string, id int64) (Merge, error) {
	m, err := r.ops.IdentityMerge(ctx, workspace, id)
	if errors.Is(err, opstore.ErrNotFound) {
		return Merge{}, fmt.Errorf("merge %d: %w", id, ErrNoMerge)
	}
	if err != nil {
		return Merge{}, err
	}
	return mergeOf(m), nil
}

// Reviews implements Graph.
func (r *Resolver) Reviews(ctx context.Context, workspace string, open bool, limit int) ([]Review, error) {
	rs, err := r.ops.IdentityReviews(ctx, workspace, open, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Review, len(rs))
	for i, rv := range rs {
		out[i] = reviewOf(rv)
	}
	return out, nil
}

// Review returns one review.
func (r *Resolver) Review(ctx context.Context, workspace string, id int64) (Review, error) {
	rv, err := r.ops.IdentityReview(ctx, workspace, id)
	if errors.Is(err, opstore.ErrNotFound) {
		return Review{}, fmt.Errorf("review %d: %w", id, ErrNoReview)
	}
	if err != nil {
		return Review{}, err
	}
	return reviewOf(rv), nil
}

// eachChunk is how many identifiers EachIdentifier copies at a time.
const eachChunk = 4096

// EachIdentifier implements Graph, in the order identifiers were first
// seen. fn runs without the graph locked, on copies taken a few thousand
// at a time: it may call the graph, and sees changes made meanwhile only
// in the identifiers it has not been given yet.
func (r *Resolver) EachIdentifier(ctx context.Context, workspace string, fn func(Identifier, ProfileID) error) error {
	type pair struct {
		id Identifier
		p  ProfileID
	}
	buf := make([]pair, 0, eachChunk)
	for pos := 0; ; {
		buf = buf[:0]
		r.mu.RLock()
		if sp := r.spaces[workspace]; sp != nil {
			for ; pos < len(sp.order) && len(buf) < eachChunk; pos++ {
				if n := sp.order[pos]; n != nil && n.prof != nil {
					buf = append(buf, pair{n.id, n.prof.id})
				}
			}
		}
		r.mu.RUnlock()
		if len(buf) == 0 {
			return nil
		}
		for _, x := range buf {
			if err := fn(x.id, x.p); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Match is an identifier found by a search, with its profile.
type Match struct {
	Linked
	Profile ProfileID
}

// SearchIdentifiers finds identifiers of a workspace by the beginning of
// their value ("lan@", "0912", "+8491", "kh00"), or of one kind with
// "kind:prefix" ("email:lan"). A phone number's beginning is also looked
// for in E.164 ("0912 3" finds +849123...), and a prefix with capitals also
// lower-cased (e-mails are stored lower-cased). limit <= 0 is 50.
func (r *Resolver) SearchIdentifiers(ctx context.Context, workspace, prefix string, limit int) ([]Match, error) {
	if limit <= 0 {
		limit = 50
	}
	q := strings.TrimSpace(prefix)
	kind := ""
	if name, rest, ok := strings.Cut(q, ":"); ok {
		if k, ok := ParseKind(name); ok {
			kind, q = string(k), strings.TrimSpace(rest)
		}
	}
	if q == "" {
		return []Match{}, nil
	}
	prefixes := []string{q}
	if l := strings.ToLower(q); l != q {
		prefixes = append(prefixes, l)
	}
	if p, ok := phonePrefix(q); ok && p != q {
		prefixes = append(prefixes, p)
	}
	out := []Match{}
	seen := map[Identifier]bool{}
	for _, p := range prefixes {
		recs, err := r.ops.SearchIdentifierRecords(ctx, workspace, kind, p, limit)
		if err != nil {
			return nil, err
		}
		r.mu.RLock()
		sp := r.spaces[workspace]
		for _, rec := range recs {
			id := fromKey(rec.IdentityKey)
			if seen[id] || sp == nil {
				continue
			}
			seen[id] = true
			// The profile as memory has it: the store may be a batch behind.
			if n := sp.nodes[id]; n != nil && n.prof != nil {
				out = append(out, Match{Linked: n.linked(), Profile: n.prof.id})
			}
		}
		r.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b Match) int {
		if c := strings.Compare(a.Value, b.Value); c != 0 {
			return c
		}
		return kindRank(a.Kind) - kindRank(b.Kind)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// phonePrefix turns the beginning of a Vietnamese phone number as people
// type it ("0912 34", "84 912", "+84 9") into the beginning of its E.164
// form.
func phonePrefix(s string) (string, bool) {
	var d []byte
	plus := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			d = append(d, c)
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	digits := string(d)
	switch {
	case len(digits) < 2:
		return "", false
	case strings.HasPrefix(digits, "0084"):
		return "+84" + digits[4:], true
	case plus:
		return "+" + digits, true
	case digits[0] == '0':
		return "+84" + digits[1:], true
	case strings.HasPrefix(digits, "84") && len(digits) >= 4:
		return "+" + digits, true
	}
	return "", false
}

func mergeOf(m opstore.IdentityMerge) Merge {
	return Merge{ID: m.ID, Workspace: m.WorkspaceID, Into: ProfileID(m.Into), From: ProfileID(m.From), By: fromKey(m.By),
		MessageID: m.MessageID, At: m.At, Actor: m.Actor, UndoneAt: m.UndoneAt, UndoneBy: m.UndoneBy}
}

func reviewOf(r opstore.IdentityReview) Review {
	return Review{ID: r.ID, Workspace: r.WorkspaceID, A: ProfileID(r.A), B: ProfileID(r.B), By: fromKey(r.By),
		MessageID: r.MessageID, Reason: r.Reason, At: r.At, DecidedAt: r.DecidedAt, Decision: r.Decision, DecidedBy: r.DecidedBy}
}

// People returns who is behind a userId or anonymousId in a workspace, as
// the graph resolves them now: the profile id, or "" for an id the graph
// does not know (the caller then counts the id itself). Analytics count
// people with it, so a merge or a split changes the counts at once,
// without re-ingesting anything.
func People(ctx context.Context, g Graph, workspace string) (func(userID, anonymousID string) string, error) {
	users, anons := map[string]ProfileID{}, map[string]ProfileID{}
	err := g.EachIdentifier(ctx, workspace, func(id Identifier, p ProfileID) error {
		switch id.Kind {
		case UserID:
			users[id.Value] = p
		case AnonymousID:
			anons[id.Value] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func(userID, anonymousID string) string {
		if p, ok := users[userID]; ok && userID != "" {
			return string(p)
		}
		if p, ok := anons[anonymousID]; ok && anonymousID != "" {
			return string(p)
		}
		if userID != "" {
			return "u:" + userID
		}
		if anonymousID != "" {
			return "a:" + anonymousID
		}
		return ""
	}, nil
}
