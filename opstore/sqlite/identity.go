package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cjmhq/cjm/opstore"
)

var _ opstore.IdentityStore = (*Store)(nil)

// Limits of IdentityReviews and SearchIdentifierRecords.
const (
	DefaultIdentityListLimit = 50
	MaxIdentityListLimit     = 1000
)

func identityLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultIdentityListLimit
	case n > MaxIdentityListLimit:
		return MaxIdentityListLimit
	}
	return n
}

// IdentityOffset implements opstore.IdentityStore.
func (s *Store) IdentityOffset(ctx context.Context) (uint64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `select seq from identity_offset where id = 1`).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: identity offset: %w", err)
	}
	return uint64(seq), nil
}

// The statements of SaveIdentity, in the order it runs them.
const (
	saveIdentifier = `insert into identity_identifiers
		(workspace_id, kind, value, profile_id, root, first_seen, last_seen, first_seq, shared_seq, users)
		values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		on conflict (workspace_id, value, kind) do update set profile_id = excluded.profile_id, root = excluded.root,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, first_seq = excluded.first_seq,
			shared_seq = excluded.shared_seq, users = excluded.users`
	saveEdge = `insert into identity_edges
		(workspace_id, a_kind, a_value, b_kind, b_value, kind, pair, ord, seq, message_id, at)
		values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`
	saveMerge = `insert into identity_merges
		(workspace_id, into_profile, from_profile, by_kind, by_value, message_id, seq, at, actor)
		values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`
	saveUndo   = `update identity_merges set undone_at = ?, undone_by = ? where id = ? and workspace_id = ? and undone_at is null`
	saveReview = `insert into identity_reviews
		(workspace_id, profile_a, profile_b, by_kind, by_value, message_id, seq, reason, at)
		values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`
	saveDecision = `update identity_reviews set decision = ?, decided_at = ?, decided_by = ?
		where id = ? and workspace_id = ? and decision = ''`
	saveBlock = `insert into identity_blocks
		(workspace_id, a_kind, a_value, b_kind, b_value, reason, ref, at, actor) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
		on conflict do nothing`
	saveOffset = `insert into identity_offset (id, seq) values (1, ?) on conflict (id) do update set seq = excluded.seq`
)

// identityCache is the page cache (KiB) of the writer connection while it
// stores identity batches: a batch touches tens of thousands of rows
// spread over the identifier keys, more pages than SQLite's default cache
// (2 MB) holds, and spilling them in mid-transaction cost the resolver a
// quarter of its throughput (BenchmarkResolver). The setting stays on the
// connection.
const identityCache = 64 << 10

// SaveIdentity implements opstore.IdentityStore. Identifiers and edges are
// written in key order, which is faster.
func (s *Store) SaveIdentity(ctx context.Context, b *opstore.IdentityBatch) error {
	ids, edges := slices.Clone(b.Identifiers), slices.Clone(b.Edges)
	slices.SortFunc(ids, func(x, y opstore.IdentifierRecord) int {
		return cmp.Or(strings.Compare(x.WorkspaceID, y.WorkspaceID), strings.Compare(x.Value, y.Value), strings.Compare(x.Kind, y.Kind))
	})
	slices.SortFunc(edges, func(x, y opstore.IdentityEdge) int {
		return cmp.Or(strings.Compare(x.WorkspaceID, y.WorkspaceID), strings.Compare(x.A.Kind, y.A.Kind), strings.Compare(x.A.Value, y.A.Value),
			strings.Compare(x.B.Kind, y.B.Kind), strings.Compare(x.B.Value, y.B.Value), strings.Compare(x.Kind, y.Kind))
	})
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("pragma cache_size = -%d", identityCache)); err != nil {
			return err
		}
		if err := insertEach(ctx, tx, saveIdentifier, len(ids), func(st *sql.Stmt, i int) error {
			r := &ids[i]
			_, err := st.ExecContext(ctx, r.WorkspaceID, r.Kind, r.Value, r.ProfileID, r.Root, r.FirstSeen.UnixMilli(),
				r.LastSeen.UnixMilli(), int64(r.FirstSeq), int64(r.SharedSeq), packUsers(r.Users))
			return err
		}); err != nil {
			return fmt.Errorf("identifiers: %w", err)
		}
		if err := insertEach(ctx, tx, saveEdge, len(edges), func(st *sql.Stmt, i int) error {
			e := &edges[i]
			_, err := st.ExecContext(ctx, e.WorkspaceID, e.A.Kind, e.A.Value, e.B.Kind, e.B.Value, e.Kind, int64(e.Pair), e.Ord,
				int64(e.Seq), e.MessageID, e.At.UnixMilli())
			return err
		}); err != nil {
			return fmt.Errorf("edges: %w", err)
		}
		for _, m := range b.Merges {
			if _, err := tx.ExecContext(ctx, saveMerge, m.WorkspaceID, m.Into, m.From, m.By.Kind, m.By.Value,
				m.MessageID, int64(m.Seq), m.At.UnixMilli(), m.Actor); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
		}
		for _, m := range b.Undone {
			if _, err := tx.ExecContext(ctx, saveUndo, m.UndoneAt.UnixMilli(), m.UndoneBy, m.ID, m.WorkspaceID); err != nil {
				return fmt.Errorf("undo merge %d: %w", m.ID, err)
			}
		}
		for _, r := range b.Reviews {
			if _, err := tx.ExecContext(ctx, saveReview, r.WorkspaceID, r.A, r.B, r.By.Kind, r.By.Value,
				r.MessageID, int64(r.Seq), r.Reason, r.At.UnixMilli()); err != nil {
				return fmt.Errorf("review: %w", err)
			}
		}
		for _, r := range b.Decisions {
			if _, err := tx.ExecContext(ctx, saveDecision, r.Decision, r.DecidedAt.UnixMilli(), r.DecidedBy, r.ID, r.WorkspaceID); err != nil {
				return fmt.Errorf("decide review %d: %w", r.ID, err)
			}
		}
		for _, k := range b.Blocks {
			if _, err := tx.ExecContext(ctx, saveBlock, k.WorkspaceID, k.A.Kind, k.A.Value, k.B.Kind, k.B.Value,
				k.Reason, k.Ref, k.At.UnixMilli(), k.Actor); err != nil {
				return fmt.Errorf("block: %w", err)
			}
		}
		for _, e := range b.Erase {
			if err := eraseIdentity(ctx, tx, e); err != nil {
				return err
			}
		}
		if b.SetOffset {
			if _, err := tx.ExecContext(ctx, saveOffset, int64(b.Offset)); err != nil {
				return fmt.Errorf("offset: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: save identity: %w", err)
	}
	return nil
}

// insertEach prepares a statement and runs it n times with exec.
func insertEach(ctx context.Context, tx *sql.Tx, query string, n int, exec func(st *sql.Stmt, i int) error) error {
	if n == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range n {
		if err := exec(st, i); err != nil {
			return err
		}
	}
	return nil
}

// eraseIdentity deletes identifiers with their edges and blocks, and the
// merges and reviews of profiles.
func eraseIdentity(ctx context.Context, tx *sql.Tx, e opstore.IdentityErase) error {
	for _, q := range []string{
		`delete from identity_identifiers where workspace_id = ? and kind = ? and value = ?`, // by the key
		`delete from identity_edges where workspace_id = ? and a_kind = ? and a_value = ?`,
		`delete from identity_edges where workspace_id = ? and b_kind = ? and b_value = ?`,
		`delete from identity_blocks where workspace_id = ? and a_kind = ? and a_value = ?`,
		`delete from identity_blocks where workspace_id = ? and b_kind = ? and b_value = ?`,
	} {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		for _, id := range e.Identifiers {
			if _, err := st.ExecContext(ctx, e.WorkspaceID, id.Kind, id.Value); err != nil {
				st.Close()
				return fmt.Errorf("erase %s:%s: %w", id.Kind, id.Value, err)
			}
		}
		st.Close()
	}
	for _, q := range []string{
		`delete from identity_merges where workspace_id = ? and (into_profile = ? or from_profile = ?)`,
		`delete from identity_reviews where workspace_id = ? and (profile_a = ? or profile_b = ?)`,
	} {
		for _, p := range e.Profiles {
			if _, err := tx.ExecContext(ctx, q, e.WorkspaceID, p, p); err != nil {
				return fmt.Errorf("erase profile %s: %w", p, err)
			}
		}
	}
	return nil
}

// packUsers writes user hashes as 8 bytes each, little-endian; none is NULL.
func packUsers(us []uint64) any {
	if len(us) == 0 {
		return nil
	}
	b := make([]byte, 0, 8*len(us))
	for _, u := range us {
		b = binary.LittleEndian.AppendUint64(b, u)
	}
	return b
}

func unpackUsers(b []byte, dst []uint64) []uint64 {
	dst = dst[:0]
	for ; len(b) >= 8; b = b[8:] {
		dst = append(dst, binary.LittleEndian.Uint64(b))
	}
	return dst
}

const identifierColumns = `workspace_id, kind, value, profile_id, root, first_seen, last_seen, first_seq, shared_seq, users`

func scanIdentifier(row scanner, r *opstore.IdentifierRecord) error {
	var first, last, fseq, sseq int64
	var users []byte
	if err := row.Scan(&r.WorkspaceID, &r.Kind, &r.Value, &r.ProfileID, &r.Root, &first, &last, &fseq, &sseq, &users); err != nil {
		return err
	}
	r.FirstSeen, r.LastSeen = fromMilli(first), fromMilli(last)
	r.FirstSeq, r.SharedSeq = uint64(fseq), uint64(sseq)
	r.Users = unpackUsers(users, r.Users)
	return nil
}

// EachIdentifierRecord implements opstore.IdentityStore. Users of the
// record passed to fn is reused too: fn must copy it to keep it.
func (s *Store) EachIdentifierRecord(ctx context.Context, fn func(*opstore.IdentifierRecord) error) error {
	rows, err := s.r.QueryContext(ctx, `select `+identifierColumns+` from identity_identifiers`)
	if err != nil {
		return fmt.Errorf("sqlite: identifiers: %w", err)
	}
	defer rows.Close()
	var r opstore.IdentifierRecord
	for rows.Next() {
		if err := scanIdentifier(rows, &r); err != nil {
			return fmt.Errorf("sqlite: identifiers: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: identifiers: %w", err)
	}
	return nil
}

// EachIdentityPair implements opstore.IdentityStore.
func (s *Store) EachIdentityPair(ctx context.Context, fn func(workspaceID string, pair uint64) error) error {
	rows, err := s.r.QueryContext(ctx, `select workspace_id, pair from identity_edges order by workspace_id`)
	if err != nil {
		return fmt.Errorf("sqlite: identity edges: %w", err)
	}
	defer rows.Close()
	var ws string
	var pair int64
	for rows.Next() {
		if err := rows.Scan(&ws, &pair); err != nil {
			return fmt.Errorf("sqlite: identity edges: %w", err)
		}
		if err := fn(ws, uint64(pair)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: identity edges: %w", err)
	}
	return nil
}

// IdentityBlocks implements opstore.IdentityStore.
func (s *Store) IdentityBlocks(ctx context.Context) ([]opstore.IdentityBlock, error) {
	return all(ctx, s, func(row scanner) (opstore.IdentityBlock, error) {
		var k opstore.IdentityBlock
		var at int64
		err := row.Scan(&k.WorkspaceID, &k.A.Kind, &k.A.Value, &k.B.Kind, &k.B.Value, &k.Reason, &k.Ref, &at, &k.Actor)
		k.At = fromMilli(at)
		return k, err
	}, "identity blocks", `select workspace_id, a_kind, a_value, b_kind, b_value, reason, ref, at, actor from identity_blocks`)
}

// EachIdentityReviewPair implements opstore.IdentityStore.
func (s *Store) EachIdentityReviewPair(ctx context.Context, fn func(workspaceID, a, b string) error) error {
	rows, err := s.r.QueryContext(ctx, `select workspace_id, profile_a, profile_b from identity_reviews where decision <> 'approved'`)
	if err != nil {
		return fmt.Errorf("sqlite: identity reviews: %w", err)
	}
	defer rows.Close()
	var ws, a, b string
	for rows.Next() {
		if err := rows.Scan(&ws, &a, &b); err != nil {
			return fmt.Errorf("sqlite: identity reviews: %w", err)
		}
		if err := fn(ws, a, b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: identity reviews: %w", err)
	}
	return nil
}

const edgeColumns = `workspace_id, pair, a_kind, a_value, b_kind, b_value, ord, seq, message_id, at, kind`

func scanEdge(row scanner) (opstore.IdentityEdge, error) {
	var e opstore.IdentityEdge
	var pair, seq, at int64
	err := row.Scan(&e.WorkspaceID, &pair, &e.A.Kind, &e.A.Value, &e.B.Kind, &e.B.Value, &e.Ord, &seq, &e.MessageID, &at, &e.Kind)
	e.Pair, e.Seq, e.At = uint64(pair), uint64(seq), fromMilli(at)
	return e, err
}

// IdentityEdges implements opstore.IdentityStore.
func (s *Store) IdentityEdges(ctx context.Context, workspaceID string, ids []opstore.IdentityKey) ([]opstore.IdentityEdge, error) {
	out := []opstore.IdentityEdge{}
	seen := make(map[uint64]bool)
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: identity edges: %w", err)
	}
	defer conn.Close()
	for _, side := range []string{"a", "b"} {
		st, err := conn.PrepareContext(ctx, `select `+edgeColumns+` from identity_edges
			where workspace_id = ? and `+side+`_kind = ? and `+side+`_value = ?`)
		if err != nil {
			return nil, fmt.Errorf("sqlite: identity edges: %w", err)
		}
		for _, id := range ids {
			rows, err := st.QueryContext(ctx, workspaceID, id.Kind, id.Value)
			if err != nil {
				st.Close()
				return nil, fmt.Errorf("sqlite: identity edges: %w", err)
			}
			for rows.Next() {
				e, err := scanEdge(rows)
				if err != nil {
					rows.Close()
					st.Close()
					return nil, fmt.Errorf("sqlite: identity edges: %w", err)
				}
				if !seen[e.Pair] {
					seen[e.Pair] = true
					out = append(out, e)
				}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				st.Close()
				return nil, fmt.Errorf("sqlite: identity edges: %w", err)
			}
		}
		st.Close()
	}
	sortEdges(out)
	return out, nil
}

// sortEdges puts edges in the order the resolver met them: by seq, message
// edges before manual ones, then by ord.
func sortEdges(es []opstore.IdentityEdge) {
	rank := func(e *opstore.IdentityEdge) int {
		if e.Kind == opstore.EdgeManual {
			return 1
		}
		return 0
	}
	slices.SortFunc(es, func(a, b opstore.IdentityEdge) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(rank(&a), rank(&b)), cmp.Compare(a.Ord, b.Ord), cmp.Compare(a.Pair, b.Pair))
	})
}

const mergeColumns = `id, workspace_id, into_profile, from_profile, by_kind, by_value, message_id, seq, at, actor, undone_at, undone_by`

func scanMerge(row scanner) (opstore.IdentityMerge, error) {
	var m opstore.IdentityMerge
	var seq, at int64
	var undone sql.NullInt64
	err := row.Scan(&m.ID, &m.WorkspaceID, &m.Into, &m.From, &m.By.Kind, &m.By.Value, &m.MessageID, &seq, &at, &m.Actor, &undone, &m.UndoneBy)
	m.Seq, m.At, m.UndoneAt = uint64(seq), fromMilli(at), nullMilli(undone)
	return m, err
}

// IdentityMerge implements opstore.IdentityStore.
func (s *Store) IdentityMerge(ctx context.Context, workspaceID string, id int64) (opstore.IdentityMerge, error) {
	return one(ctx, s, scanMerge, fmt.Sprintf("merge %d", id),
		`select `+mergeColumns+` from identity_merges where workspace_id = ? and id = ?`, workspaceID, id)
}

// IdentityMerges implements opstore.IdentityStore.
func (s *Store) IdentityMerges(ctx context.Context, workspaceID string, profiles []string) ([]opstore.IdentityMerge, error) {
	out := []opstore.IdentityMerge{}
	seen := map[int64]bool{}
	for len(profiles) > 0 {
		chunk := profiles[:min(len(profiles), 400)]
		profiles = profiles[len(chunk):]
		in := "(?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		args := []any{workspaceID}
		for range 2 {
			for _, p := range chunk {
				args = append(args, p)
			}
		}
		ms, err := all(ctx, s, scanMerge, "identity merges", `select `+mergeColumns+` from identity_merges
			where workspace_id = ? and (into_profile in `+in+` or from_profile in `+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b opstore.IdentityMerge) int { return cmp.Compare(b.ID, a.ID) })
	return out, nil
}

const reviewColumns = `id, workspace_id, profile_a, profile_b, by_kind, by_value, message_id, seq, reason, at, decided_at, decision, decided_by`

func scanReview(row scanner) (opstore.IdentityReview, error) {
	var r opstore.IdentityReview
	var seq, at int64
	var decided sql.NullInt64
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.A, &r.B, &r.By.Kind, &r.By.Value, &r.MessageID, &seq, &r.Reason, &at,
		&decided, &r.Decision, &r.DecidedBy)
	r.Seq, r.At, r.DecidedAt = uint64(seq), fromMilli(at), nullMilli(decided)
	return r, err
}

// IdentityReview implements opstore.IdentityStore.
func (s *Store) IdentityReview(ctx context.Context, workspaceID string, id int64) (opstore.IdentityReview, error) {
	return one(ctx, s, scanReview, fmt.Sprintf("review %d", id),
		`select `+reviewColumns+` from identity_reviews where workspace_id = ? and id = ?`, workspaceID, id)
}

// IdentityReviews implements opstore.IdentityStore.
func (s *Store) IdentityReviews(ctx context.Context, workspaceID string, open bool, limit int) ([]opstore.IdentityReview, error) {
	q := `select ` + reviewColumns + ` from identity_reviews where workspace_id = ?`
	if open {
		q += ` and decision = ''`
	}
	q += ` order by decision <> '', id desc limit ?`
	return all(ctx, s, scanReview, "identity reviews", q, workspaceID, identityLimit(limit))
}

// SearchIdentifierRecords implements opstore.IdentityStore. The prefix is
// compared byte for byte, as values are stored normalised.
func (s *Store) SearchIdentifierRecords(ctx context.Context, workspaceID, kind, prefix string, limit int) ([]opstore.IdentifierRecord, error) {
	q := `select ` + identifierColumns + ` from identity_identifiers where workspace_id = ?`
	args := []any{workspaceID}
	if prefix != "" {
		q += ` and value >= ?`
		args = append(args, prefix)
		if hi, ok := prefixEnd(prefix); ok {
			q += ` and value < ?`
			args = append(args, hi)
		}
	}
	if kind != "" {
		q += ` and kind = ?`
		args = append(args, kind)
	}
	q += ` order by value, kind limit ?`
	args = append(args, identityLimit(limit))
	return all(ctx, s, func(row scanner) (opstore.IdentifierRecord, error) {
		var r opstore.IdentifierRecord
		err := scanIdentifier(row, &r)
		return r, err
	}, "search identifiers", q, args...)
}

// prefixEnd is the least string greater than every string starting with
// prefix (byte-wise), if there is one.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
