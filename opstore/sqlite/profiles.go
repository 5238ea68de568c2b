package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/opstore"
)

var _ opstore.ProfileStore = (*Store)(nil)

// The profile index (see opstore.ProfileStore and migration 0004). One
// indexer writes it; the customers pages read it.

// ProfileOffset implements opstore.ProfileStore.
func (s *Store) ProfileOffset(ctx context.Context) (uint64, error) {
	var seq int64
	if err := s.w.QueryRowContext(ctx, `select seq from profile_offset where id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: profile offset: %w", err)
	}
	return uint64(seq), nil
}

// milli is t in milliseconds, NULL for the zero time.
func milli(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// ApplyProfileBatch implements opstore.ProfileStore.
func (s *Store) ApplyProfileBatch(ctx context.Context, b opstore.ProfileBatch) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var off int64
		if err := tx.QueryRowContext(ctx, `select seq from profile_offset where id = 1`).Scan(&off); err != nil {
			return err
		}
		if b.To <= uint64(off) {
			return nil
		}
		if b.From != uint64(off) {
			return fmt.Errorf("profile batch from seq %d, the index is at %d: %w", b.From, off, opstore.ErrStale)
		}
		st, err := prepareAll(ctx, tx, map[string]string{
			"actorOf": `select id, profile_id from profile_actors where workspace_id = ? and kind = ? and value = ?`,
			"newActor": `insert into profile_actors (workspace_id, kind, value, profile_id, first_seen, last_seen,
					events, orders, revenue, channels, last_order_at)
				values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			// An actor the graph named before its events has no times yet.
			"addActor": `update profile_actors set
					profile_id = coalesce(profile_id, ?1),
					first_seen = min(coalesce(first_seen, ?2), ?2),
					last_seen = max(coalesce(last_seen, ?3), ?3),
					last_order_at = max(coalesce(last_order_at, ?4), coalesce(?4, last_order_at)),
					events = events + ?5, orders = orders + ?6, revenue = revenue + ?7, channels = channels | ?8
				where id = ?9`,
			"event": `insert or ignore into profile_events (actor_id, at, seq) values (?, ?, ?)`,
			"traitAt": `select value from profile_traits where actor_id = ? and trait = ? and (at < ? or (at = ? and seq < ?))
				order by at desc, seq desc limit 1`,
			"trait": `insert or ignore into profile_traits (actor_id, trait, at, seq, value, source_id) values (?, ?, ?, ?, ?, ?)`,
			"stage": `insert into profile_actor_stages (actor_id, map_id, stage, touchpoint, at, seq) values (?, ?, ?, ?, ?, ?)
				on conflict (actor_id, map_id) do update set stage = excluded.stage, touchpoint = excluded.touchpoint,
					at = excluded.at, seq = excluded.seq
				where excluded.at > at or (excluded.at = at and excluded.seq > seq)`,
			"mark": markProfile,
		})
		if err != nil {
			return err
		}
		defer st.close()
		marked := map[[2]string]bool{}
		for _, a := range b.Actors {
			var id int64
			var profile sql.NullString
			err := st.q["actorOf"].QueryRowContext(ctx, a.WorkspaceID, a.Kind, a.ID).Scan(&id, &profile)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				res, err := st.q["newActor"].ExecContext(ctx, a.WorkspaceID, a.Kind, a.ID, orNull(a.ProfileID), milli(a.FirstSeen), milli(a.LastSeen),
					a.Events, a.Orders, a.Revenue, int64(a.Channels), milli(a.LastOrderAt))
				if err != nil {
					return fmt.Errorf("actor %s:%s: %w", a.Kind, a.ID, err)
				}
				if id, err = res.LastInsertId(); err != nil {
					return err
				}
				profile = sql.NullString{String: a.ProfileID, Valid: a.ProfileID != ""}
			case err != nil:
				return err
			default:
				if _, err := st.q["addActor"].ExecContext(ctx, orNull(a.ProfileID), milli(a.FirstSeen), milli(a.LastSeen), milli(a.LastOrderAt),
					a.Events, a.Orders, a.Revenue, int64(a.Channels), id); err != nil {
					return fmt.Errorf("actor %s:%s: %w", a.Kind, a.ID, err)
				}
				if !profile.Valid && a.ProfileID != "" {
					profile = sql.NullString{String: a.ProfileID, Valid: true}
				}
			}
			for _, r := range a.Refs {
				if _, err := st.q["event"].ExecContext(ctx, id, r.At.UnixMilli(), int64(r.Seq)); err != nil {
					return err
				}
			}
			for _, t := range a.Traits {
				at := t.At.UnixMilli()
				var prev string
				err := st.q["traitAt"].QueryRowContext(ctx, id, t.Trait, at, at, int64(t.Seq)).Scan(&prev)
				if err == nil && prev == t.Value {
					continue
				}
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if _, err := st.q["trait"].ExecContext(ctx, id, t.Trait, at, int64(t.Seq), t.Value, t.SourceID); err != nil {
					return err
				}
			}
			for _, g := range a.Stages {
				if _, err := st.q["stage"].ExecContext(ctx, id, g.MapID, g.Stage, g.Touchpoint, g.At.UnixMilli(), int64(g.Seq)); err != nil {
					return err
				}
			}
			if k := [2]string{a.WorkspaceID, profile.String}; profile.Valid && !marked[k] {
				marked[k] = true
				if _, err := st.q["mark"].ExecContext(ctx, a.WorkspaceID, profile.String, 0, 1); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, `update profile_offset set seq = ? where id = 1`, int64(b.To))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: apply profile batch (%d, %d]: %w", b.From, b.To, err)
	}
	return nil
}

// markProfile queues a profile (workspace, profile, relink, dirty) with a
// new mark, keeping what a pending mark of it asked.
const markProfile = `insert or replace into profile_marks (workspace_id, profile_id, relink, dirty)
	values (?1, ?2,
		max(?3, coalesce((select relink from profile_marks where workspace_id = ?1 and profile_id = ?2), 0)),
		max(?4, coalesce((select dirty from profile_marks where workspace_id = ?1 and profile_id = ?2), 0)))`

// stmts are prepared statements of a transaction, by name.
type stmts struct{ q map[string]*sql.Stmt }

func prepareAll(ctx context.Context, tx *sql.Tx, queries map[string]string) (*stmts, error) {
	st := &stmts{q: map[string]*sql.Stmt{}}
	for name, q := range queries {
		p, err := tx.PrepareContext(ctx, q)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		st.q[name] = p
	}
	return st, nil
}

func (st *stmts) close() {
	for _, p := range st.q {
		p.Close()
	}
}

// actorList is actors as a JSON array of [kind, value] pairs, for json_each.
func actorList(actors []opstore.Actor) string {
	pairs := make([][2]string, len(actors))
	for i, a := range actors {
		pairs[i] = [2]string{a.Kind, a.ID}
	}
	b, _ := json.Marshal(pairs)
	return string(b)
}

// MarkProfiles implements opstore.ProfileStore.
func (s *Store) MarkProfiles(ctx context.Context, workspaceID string, changed []string, merged map[string]string) error {
	if len(changed) == 0 && len(merged) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		mark := func(p string) error {
			_, err := tx.ExecContext(ctx, markProfile, workspaceID, p, 1, 0)
			return err
		}
		for _, p := range changed {
			if err := mark(p); err != nil {
				return err
			}
		}
		for from, into := range merged {
			if _, err := tx.ExecContext(ctx, `update profile_notes set profile_id = ? where workspace_id = ? and profile_id = ?`,
				into, workspaceID, from); err != nil {
				return err
			}
			if err := mark(from); err != nil {
				return err
			}
			if err := mark(into); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark profiles: %w", err)
	}
	return nil
}

// ProfileMarks implements opstore.ProfileStore.
func (s *Store) ProfileMarks(ctx context.Context, limit int) ([]opstore.ProfileMark, error) {
	return all(ctx, s, func(r scanner) (opstore.ProfileMark, error) {
		var m opstore.ProfileMark
		err := r.Scan(&m.Mark, &m.WorkspaceID, &m.ProfileID, &m.Relink, &m.Dirty)
		return m, err
	}, "profile marks", `select mark, workspace_id, profile_id, relink, dirty from profile_marks order by mark limit ?`, limit)
}

// LinkProfiles implements opstore.ProfileStore.
func (s *Store) LinkProfiles(ctx context.Context, links []opstore.ProfileLink) (map[int64]bool, error) {
	changed := map[int64]bool{}
	if len(links) == 0 {
		return changed, nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := prepareAll(ctx, tx, map[string]string{
			// Unlink the profile's actors that are not in the list.
			"unlink": `update profile_actors set profile_id = null
				where workspace_id = ? and profile_id = ?
				and (kind, value) not in (select j.value ->> 0, j.value ->> 1 from json_each(?) j)
				returning events`,
			"actorOf": `select id, profile_id, events from profile_actors where workspace_id = ? and kind = ? and value = ?`,
			"move":    `update profile_actors set profile_id = ? where id = ?`,
			"add":     `insert into profile_actors (workspace_id, kind, value, profile_id) values (?, ?, ?, ?)`,
			"mark":    markProfile,
			"linked":  `update profile_marks set relink = 0 where mark = ?`,
		})
		if err != nil {
			return err
		}
		defer st.close()
		for _, l := range links {
			m := l.Mark
			rows, err := st.q["unlink"].QueryContext(ctx, m.WorkspaceID, m.ProfileID, actorList(l.Actors))
			if err != nil {
				return err
			}
			for rows.Next() {
				var events int64
				if err := rows.Scan(&events); err != nil {
					rows.Close()
					return err
				}
				if events > 0 {
					changed[m.Mark] = true
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
			for _, a := range l.Actors {
				var id, events int64
				var old sql.NullString
				err := st.q["actorOf"].QueryRowContext(ctx, m.WorkspaceID, a.Kind, a.ID).Scan(&id, &old, &events)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					// Added without events: the row does not change.
					if _, err := st.q["add"].ExecContext(ctx, m.WorkspaceID, a.Kind, a.ID, m.ProfileID); err != nil {
						return err
					}
					continue
				case err != nil:
					return err
				case old.String == m.ProfileID:
					continue
				}
				if _, err := st.q["move"].ExecContext(ctx, m.ProfileID, id); err != nil {
					return err
				}
				if events == 0 {
					continue
				}
				changed[m.Mark] = true
				if old.Valid {
					// The profile the actor leaves is recomputed.
					if _, err := st.q["mark"].ExecContext(ctx, m.WorkspaceID, old.String, 0, 1); err != nil {
						return err
					}
				}
			}
			if _, err := st.q["linked"].ExecContext(ctx, m.Mark); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: link profiles: %w", err)
	}
	return changed, nil
}

const actorColumns = `kind, value, first_seen, last_seen, events, orders, revenue, channels, last_order_at`

func scanActor(r scanner) (opstore.ActorFacts, error) {
	var a opstore.ActorFacts
	var first, last, lastOrder sql.NullInt64
	var channels int64
	err := r.Scan(&a.Kind, &a.ID, &first, &last, &a.Events, &a.Orders, &a.Revenue, &channels, &lastOrder)
	a.FirstSeen, a.LastSeen, a.LastOrderAt, a.Channels = nullMilli(first), nullMilli(last), nullMilli(lastOrder), uint32(channels)
	return a, err
}

// ProfileFacts implements opstore.ProfileStore. It reads the profiles of
// each workspace with one query for their actors, one for their traits and
// one for their stages.
func (s *Store) ProfileFacts(ctx context.Context, marks []opstore.ProfileMark) ([]opstore.ProfileFacts, error) {
	out := make([]opstore.ProfileFacts, len(marks))
	idx := map[[2]string]int{}
	byWS := map[string][]string{}
	for i, m := range marks {
		out[i] = opstore.ProfileFacts{WorkspaceID: m.WorkspaceID, ProfileID: m.ProfileID}
		idx[[2]string{m.WorkspaceID, m.ProfileID}] = i
		byWS[m.WorkspaceID] = append(byWS[m.WorkspaceID], m.ProfileID)
	}
	for ws, ids := range byWS {
		b, _ := json.Marshal(ids)
		list := string(b)
		at := func(p string) *opstore.ProfileFacts { return &out[idx[[2]string{ws, p}]] }
		err := each(ctx, s, `select profile_id, `+actorColumns+` from profile_actors
			where workspace_id = ? and profile_id in (select value from json_each(?))`, func(r *sql.Rows) error {
			var p string
			a, err := scanActor(prefixed{r, &p})
			if err == nil {
				f := at(p)
				f.Actors = append(f.Actors, a)
			}
			return err
		}, ws, list)
		if err != nil {
			return nil, err
		}
		err = each(ctx, s, `select a.profile_id, t.trait, t.value, max(t.at), t.seq, t.source_id
			from profile_actors a join profile_traits t on t.actor_id = a.id
			where a.workspace_id = ? and a.profile_id in (select value from json_each(?))
			group by a.profile_id, t.trait order by a.profile_id, t.trait`, func(r *sql.Rows) error {
			var p string
			t, err := scanTrait(prefixed{r, &p})
			if err == nil {
				f := at(p)
				f.Traits = append(f.Traits, t)
			}
			return err
		}, ws, list)
		if err != nil {
			return nil, err
		}
		err = each(ctx, s, `select a.profile_id, g.map_id, g.stage, g.touchpoint, max(g.at), g.seq
			from profile_actors a join profile_actor_stages g on g.actor_id = a.id
			where a.workspace_id = ? and a.profile_id in (select value from json_each(?))
			group by a.profile_id, g.map_id order by a.profile_id, g.map_id`, func(r *sql.Rows) error {
			var p string
			g, err := scanStage(prefixed{r, &p})
			if err == nil {
				f := at(p)
				f.Stages = append(f.Stages, g)
			}
			return err
		}, ws, list)
		if err != nil {
			return nil, err
		}
		err = each(ctx, s, `select id, terms_hash from profiles where workspace_id = ? and id in (select value from json_each(?))`,
			func(r *sql.Rows) error {
				var p string
				var h int64
				err := r.Scan(&p, &h)
				at(p).TermsHash = h
				return err
			}, ws, list)
		if err != nil {
			return nil, err
		}
	}
	for i := range out {
		sortActors(out[i].Actors)
	}
	return out, nil
}

// prefixed scans a first column into p, then the rest with the scanner it
// is given to.
type prefixed struct {
	r *sql.Rows
	p *string
}

func (x prefixed) Scan(dest ...any) error { return x.r.Scan(append([]any{x.p}, dest...)...) }

// each runs a query on the read pool and calls fn for each row.
func each(ctx context.Context, s *Store, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: profile facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("sqlite: profile facts: %w", err)
		}
	}
	return rows.Err()
}

func scanTrait(r scanner) (opstore.TraitChange, error) {
	var t opstore.TraitChange
	var at, seq int64
	err := r.Scan(&t.Trait, &t.Value, &at, &seq, &t.SourceID)
	t.At, t.Seq = fromMilli(at), uint64(seq)
	return t, err
}

func scanStage(r scanner) (opstore.ActorStage, error) {
	var g opstore.ActorStage
	var at, seq int64
	err := r.Scan(&g.MapID, &g.Stage, &g.Touchpoint, &at, &seq)
	g.At, g.Seq = fromMilli(at), uint64(seq)
	return g, err
}

// SaveProfiles implements opstore.ProfileStore.
func (s *Store) SaveProfiles(ctx context.Context, rows []opstore.ProfileRow, gone []opstore.ProfileMark, done []opstore.ProfileMark) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := prepareAll(ctx, tx, map[string]string{
			"old": `select rowid, terms_hash from profiles where workspace_id = ? and id = ?`,
			"insert": `insert into profiles (workspace_id, id, name, name_key, email, phone, actor_kind, actor_id, first_seen, last_seen,
					events, orders, revenue, channels, last_order_at, terms, terms_hash)
				values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			"update": `update profiles set name = ?, name_key = ?, email = ?, phone = ?, actor_kind = ?, actor_id = ?,
					first_seen = ?, last_seen = ?, events = ?, orders = ?, revenue = ?, channels = ?, last_order_at = ?, terms = ?, terms_hash = ?
				where rowid = ?`,
			"unsearch":   `delete from profile_search where rowid = ?`,
			"search":     `insert into profile_search (rowid, terms) values (?, ?)`,
			"dropStages": `delete from profile_stages where workspace_id = ? and profile_id = ?`,
			"dropOtherStages": `delete from profile_stages where workspace_id = ? and profile_id = ?
				and map_id not in (select value from json_each(?))`,
			"stage": `insert into profile_stages (workspace_id, profile_id, map_id, stage, touchpoint, at, seq)
				values (?, ?, ?, ?, ?, ?, ?)
				on conflict (workspace_id, profile_id, map_id) do update set stage = excluded.stage,
					touchpoint = excluded.touchpoint, at = excluded.at, seq = excluded.seq
				where excluded.stage <> stage or excluded.touchpoint <> touchpoint or excluded.at <> at or excluded.seq <> seq`,
			"drop":   `delete from profiles where workspace_id = ? and id = ?`,
			"unmark": `delete from profile_marks where mark = ?`,
		})
		if err != nil {
			return err
		}
		defer st.close()
		for _, p := range rows {
			var rowid, oldHash int64
			err := st.q["old"].QueryRowContext(ctx, p.WorkspaceID, p.ID).Scan(&rowid, &oldHash)
			exists := err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if exists {
				if _, err := st.q["update"].ExecContext(ctx, p.Name, p.NameKey, p.Email, p.Phone, p.Actor.Kind, p.Actor.ID,
					p.FirstSeen.UnixMilli(), p.LastSeen.UnixMilli(), p.Events, p.Orders, p.Revenue, int64(p.Channels),
					milli(p.LastOrderAt), p.Terms, p.TermsHash, rowid); err != nil {
					return err
				}
			} else {
				res, err := st.q["insert"].ExecContext(ctx, p.WorkspaceID, p.ID, p.Name, p.NameKey, p.Email, p.Phone,
					p.Actor.Kind, p.Actor.ID, p.FirstSeen.UnixMilli(), p.LastSeen.UnixMilli(), p.Events, p.Orders, p.Revenue,
					int64(p.Channels), milli(p.LastOrderAt), p.Terms, p.TermsHash)
				if err != nil {
					return err
				}
				if rowid, err = res.LastInsertId(); err != nil {
					return err
				}
			}
			if !exists || oldHash != p.TermsHash {
				if exists {
					if _, err := st.q["unsearch"].ExecContext(ctx, rowid); err != nil {
						return err
					}
				}
				if _, err := st.q["search"].ExecContext(ctx, rowid, p.Terms); err != nil {
					return err
				}
			}
			maps := make([]string, len(p.Stages))
			for i, g := range p.Stages {
				maps[i] = g.MapID
			}
			b, _ := json.Marshal(maps)
			if _, err := st.q["dropOtherStages"].ExecContext(ctx, p.WorkspaceID, p.ID, string(b)); err != nil {
				return err
			}
			for _, g := range p.Stages {
				if _, err := st.q["stage"].ExecContext(ctx, p.WorkspaceID, p.ID, g.MapID, g.Stage, g.Touchpoint,
					g.At.UnixMilli(), int64(g.Seq)); err != nil {
					return err
				}
			}
		}
		for _, m := range gone {
			var rowid, hash int64
			err := st.q["old"].QueryRowContext(ctx, m.WorkspaceID, m.ProfileID).Scan(&rowid, &hash)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := st.q["unsearch"].ExecContext(ctx, rowid); err != nil {
				return err
			}
			if _, err := st.q["drop"].ExecContext(ctx, m.WorkspaceID, m.ProfileID); err != nil {
				return err
			}
			if _, err := st.q["dropStages"].ExecContext(ctx, m.WorkspaceID, m.ProfileID); err != nil {
				return err
			}
		}
		for _, m := range done {
			if _, err := st.q["unmark"].ExecContext(ctx, m.Mark); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: save profiles: %w", err)
	}
	return nil
}

// MapMatchers implements opstore.ProfileStore.
func (s *Store) MapMatchers(ctx context.Context, workspaceID string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `select map_id, fingerprint from profile_maps where workspace_id = ?`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: profile map matchers: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// ReplaceMapStages implements opstore.ProfileStore.
func (s *Store) ReplaceMapStages(ctx context.Context, workspaceID, mapID string, fingerprint int64, stages map[opstore.Actor]opstore.ActorStage) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `delete from profile_actor_stages where map_id = ?
			and actor_id in (select id from profile_actors where workspace_id = ?)`, mapID, workspaceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `delete from profile_stages where workspace_id = ? and map_id = ?`, workspaceID, mapID); err != nil {
			return err
		}
		if stages == nil {
			_, err := tx.ExecContext(ctx, `delete from profile_maps where workspace_id = ? and map_id = ?`, workspaceID, mapID)
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `insert into profile_actor_stages (actor_id, map_id, stage, touchpoint, at, seq)
			select id, ?, ?, ?, ?, ? from profile_actors where workspace_id = ? and kind = ? and value = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for a, g := range stages {
			if _, err := stmt.ExecContext(ctx, mapID, g.Stage, g.Touchpoint, g.At.UnixMilli(), int64(g.Seq), workspaceID, a.Kind, a.ID); err != nil {
				return err
			}
		}
		// A profile's stage is that of its actor with the latest event
		// (SQLite takes the bare columns from the row of max()).
		if _, err := tx.ExecContext(ctx, `insert into profile_stages (workspace_id, profile_id, map_id, stage, touchpoint, at, seq)
			select a.workspace_id, a.profile_id, g.map_id, g.stage, g.touchpoint, max(g.at), g.seq
			from profile_actor_stages g join profile_actors a on a.id = g.actor_id
			where g.map_id = ? and a.workspace_id = ? and a.profile_id is not null
			and exists (select 1 from profiles p where p.workspace_id = a.workspace_id and p.id = a.profile_id)
			group by a.profile_id`, mapID, workspaceID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `insert into profile_maps (workspace_id, map_id, fingerprint) values (?, ?, ?)
			on conflict (workspace_id, map_id) do update set fingerprint = excluded.fingerprint`, workspaceID, mapID, fingerprint)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace stages of map %s: %w", mapID, err)
	}
	return nil
}

const profileColumns = `p.workspace_id, p.id, p.name, p.name_key, p.email, p.phone, p.actor_kind, p.actor_id, p.first_seen, p.last_seen,
	p.events, p.orders, p.revenue, p.channels, p.last_order_at, p.terms, p.terms_hash`

func scanProfile(r scanner) (opstore.ProfileRow, error) {
	var p opstore.ProfileRow
	var first, last, channels int64
	var lastOrder sql.NullInt64
	err := r.Scan(&p.WorkspaceID, &p.ID, &p.Name, &p.NameKey, &p.Email, &p.Phone, &p.Actor.Kind, &p.Actor.ID, &first, &last,
		&p.Events, &p.Orders, &p.Revenue, &channels, &lastOrder, &p.Terms, &p.TermsHash)
	p.FirstSeen, p.LastSeen, p.Channels, p.LastOrderAt = fromMilli(first), fromMilli(last), uint32(channels), nullMilli(lastOrder)
	return p, err
}

// Profile implements opstore.ProfileStore.
func (s *Store) Profile(ctx context.Context, workspaceID, id string) (opstore.ProfileRow, error) {
	p, err := one(ctx, s, scanProfile, fmt.Sprintf("profile %q", id),
		`select `+profileColumns+` from profiles p where p.workspace_id = ? and p.id = ?`, workspaceID, id)
	if err != nil {
		return p, err
	}
	p.Stages, err = all(ctx, s, scanStage, "profile stages",
		`select map_id, stage, touchpoint, at, seq from profile_stages where workspace_id = ? and profile_id = ? order by map_id`, workspaceID, id)
	return p, err
}

// ProfileActors implements opstore.ProfileStore: userIds first, then
// anonymousIds, each the latest seen first.
func (s *Store) ProfileActors(ctx context.Context, workspaceID, id string) ([]opstore.ActorFacts, error) {
	// Sorted here: an ORDER BY on kind leads SQLite to the (workspace,
	// kind, value) index, which reads every actor of the workspace.
	as, err := all(ctx, s, scanActor, "profile actors", `select `+actorColumns+` from profile_actors
		where workspace_id = ? and profile_id = ?`, workspaceID, id)
	sortActors(as)
	return as, err
}

// sortActors puts userIds before anonymousIds, each the latest seen first.
func sortActors(as []opstore.ActorFacts) {
	slices.SortFunc(as, func(a, b opstore.ActorFacts) int {
		if a.Kind != b.Kind {
			return -strings.Compare(a.Kind, b.Kind) // user_id before anonymous_id
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// ProfileTraits implements opstore.ProfileStore.
func (s *Store) ProfileTraits(ctx context.Context, workspaceID, id string) ([]opstore.TraitChange, error) {
	return all(ctx, s, scanTrait, "profile traits", `select trait, value, at, seq, source_id from profile_traits
		where actor_id in (select id from profile_actors where workspace_id = ? and profile_id = ?)
		order by at desc, seq desc`, workspaceID, id)
}

// ProfileEvents implements opstore.ProfileStore.
func (s *Store) ProfileEvents(ctx context.Context, workspaceID, id string, before opstore.EventRef, limit int) ([]opstore.ActorEvent, error) {
	at, seq := int64(1<<62), int64(1<<62)
	if !before.At.IsZero() {
		at, seq = before.At.UnixMilli(), int64(before.Seq)
	}
	return all(ctx, s, func(r scanner) (opstore.ActorEvent, error) {
		var e opstore.ActorEvent
		var at, seq int64
		err := r.Scan(&e.Kind, &e.ID, &at, &seq)
		e.At, e.Seq = fromMilli(at), uint64(seq)
		return e, err
	}, "profile events", `select a.kind, a.value, e.at, e.seq from profile_actors a
		join profile_events e on e.actor_id = a.id
		where a.workspace_id = ? and a.profile_id = ? and (e.at < ? or (e.at = ? and e.seq < ?))
		order by e.at desc, e.seq desc limit ?`, workspaceID, id, at, at, seq, limit)
}

// sortColumns are the column and direction of each sort order.
var sortColumns = map[opstore.ProfileSort]struct {
	col  string
	desc bool
	num  bool
}{
	opstore.SortLastSeen: {"last_seen", true, true},
	opstore.SortRevenue:  {"revenue", true, true},
	opstore.SortOrders:   {"orders", true, true},
	opstore.SortName:     {"name_key", false, false},
}

// The profiles a query selects are read one of two ways. When its search
// (words, identifiers) or its stage finds few profiles (at most
// fewCandidates), those are read and sorted. Otherwise the sort column's
// index is walked in order and each profile checked against the query,
// which soon fills a page when the query selects many: the words against
// the profile's terms, the stage by its key. Counting such a query walks
// until the count limit.

// fewCandidates is how many profiles a search or a stage may find for the
// list to be read from them.
var fewCandidates = 2000

// ftsQuery is words as a full-text query: each word a quoted prefix.
func ftsQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
	}
	return strings.Join(parts, " ")
}

// searchRowids is the query of the rowids of the profiles q's search
// (Words, IDs) finds, with its arguments; "" when q searches nothing.
func searchRowids(q opstore.ProfileQuery) (string, []any) {
	var parts []string
	var args []any
	if len(q.Words) > 0 {
		parts = append(parts, "select rowid from profile_search where profile_search match ?")
		args = append(args, ftsQuery(q.Words))
	}
	if len(q.IDs) > 0 {
		b, _ := json.Marshal(q.IDs)
		parts = append(parts, "select rowid from profiles where workspace_id = ? and id in (select value from json_each(?))")
		args = append(args, q.WorkspaceID, string(b))
	}
	return strings.Join(parts, " union "), args
}

// searchCheck is q's search as a condition on a profile p, with its
// arguments: each word starts a word of the terms, as in the full-text
// index.
func searchCheck(q opstore.ProfileQuery) (string, []any) {
	var or []string
	var args []any
	if len(q.Words) > 0 {
		and := make([]string, len(q.Words))
		for i, w := range q.Words {
			and[i] = "instr(' ' || p.terms, ?) > 0"
			args = append(args, " "+w)
		}
		or = append(or, "("+strings.Join(and, " and ")+")")
	}
	if len(q.IDs) > 0 {
		b, _ := json.Marshal(q.IDs)
		or = append(or, "p.id in (select value from json_each(?))")
		args = append(args, string(b))
	}
	return "(" + strings.Join(or, " or ") + ")", args
}

// profileWhere is the condition of q but its search and stage, with its
// arguments. With walk, the columns are written +p.orders and so on: SQLite
// then reads the list from the sort column's index (stopping when the page
// is full) rather than from a filter's index (reading every profile the
// filter admits, to sort them).
func profileWhere(q opstore.ProfileQuery, walk bool) (string, []any) {
	col := "p."
	if walk {
		col = "+p."
	}
	conds := []string{"p.workspace_id = ?"}
	args := []any{q.WorkspaceID}
	if q.Channels != 0 {
		conds = append(conds, "p.channels & ? <> 0")
		args = append(args, int64(q.Channels))
	}
	if q.MinOrders > 0 {
		conds = append(conds, col+"orders >= ?")
		args = append(args, q.MinOrders)
	}
	if q.MinRevenue > 0 {
		conds = append(conds, col+"revenue >= ?")
		args = append(args, q.MinRevenue)
	}
	if !q.SeenSince.IsZero() {
		conds = append(conds, col+"last_seen >= ?")
		args = append(args, q.SeenSince.UnixMilli())
	}
	return strings.Join(conds, " and "), args
}

// profileOrder is the ORDER BY of q, and its keyset condition after c.
func profileOrder(q opstore.ProfileQuery, c *opstore.ProfileCursor) (order, after string, args []any, err error) {
	sc, ok := sortColumns[q.Sort]
	if !ok {
		sc = sortColumns[opstore.SortLastSeen]
	}
	dir, cmp := "asc", ">"
	if sc.desc {
		dir, cmp = "desc", "<"
	}
	order = fmt.Sprintf(" order by p.%s %s, p.id %s", sc.col, dir, dir)
	if c == nil {
		return order, "", nil, nil
	}
	var v any = c.Value
	if sc.num {
		n, err := strconv.ParseInt(c.Value, 10, 64)
		if err != nil {
			return "", "", nil, fmt.Errorf("profile cursor %q: %w", c.Value, err)
		}
		v = n
	}
	after = fmt.Sprintf(" and (p.%s %s ? or (p.%s = ? and p.id %s ?))", sc.col, cmp, sc.col, cmp)
	return order, after, []any{v, v, c.ID}, nil
}

// countTime is how long counting a query's profiles may take; past it,
// the count says "at least" what the page shows.
var countTime = 60 * time.Millisecond

// source is a part of a query that finds profiles by itself (its search,
// its stage), with the rowids of the first fewCandidates+1 it finds.
type source struct {
	rowids string // a query of the rowids of the profiles found
	args   []any
	found  []int64
}

func (src *source) few() bool { return len(src.found) <= fewCandidates }

// plan is how to read the profiles a query selects: from the few a source
// finds (driver), or by walking the sort order.
type plan struct {
	q             opstore.ProfileQuery
	search, stage *source
	driver        *source
	// filters: the query has conditions besides its sources.
	filters bool
}

// plan looks at q's sources and chooses how to read its profiles.
func (s *Store) plan(ctx context.Context, q opstore.ProfileQuery) (*plan, error) {
	pl := &plan{q: q}
	_, args := profileWhere(q, false)
	pl.filters = len(args) > 1
	if r, a := searchRowids(q); r != "" {
		pl.search = &source{rowids: r, args: a}
	}
	if q.StageMap != "" && q.Stage != "" {
		pl.stage = &source{rowids: `select p.rowid from profile_stages g join profiles p on p.workspace_id = g.workspace_id and p.id = g.profile_id
			where g.workspace_id = ? and g.map_id = ? and g.stage = ?`, args: []any{q.WorkspaceID, q.StageMap, q.Stage}}
	}
	for _, src := range []*source{pl.search, pl.stage} {
		if src == nil {
			continue
		}
		rowids, err := all(ctx, s, func(r scanner) (int64, error) {
			var id int64
			err := r.Scan(&id)
			return id, err
		}, "profiles", src.rowids+` limit ?`, append(slices.Clone(src.args), fewCandidates+1)...)
		if err != nil {
			return nil, err
		}
		src.found = rowids
		if src.few() && (pl.driver == nil || len(src.found) < len(pl.driver.found)) {
			pl.driver = src
		}
	}
	return pl, nil
}

// query is the query of the plan's profiles, after q.After when page is
// set, with its arguments: its FROM and WHERE, and the ORDER BY of q's
// sort. With walk and no driver, SQLite walks the sort order's index;
// without, it chooses.
func (pl *plan) query(page, walk bool) (from string, args []any, order string, err error) {
	q := pl.q
	where, wargs := profileWhere(q, walk && pl.driver == nil)
	order, after, afterArgs, err := profileOrder(q, q.After)
	if err != nil {
		return "", nil, "", err
	}
	if !page {
		after, afterArgs = "", nil
	}
	if pl.search != nil && pl.search != pl.driver {
		c, a := searchCheck(q)
		where += " and " + c
		wargs = append(wargs, a...)
	}
	if pl.stage != nil && pl.stage != pl.driver {
		where += ` and exists (select 1 from profile_stages g where g.workspace_id = p.workspace_id and g.profile_id = p.id
			and g.map_id = ? and g.stage = ?)`
		wargs = append(wargs, q.StageMap, q.Stage)
	}
	var dargs []any
	switch {
	case pl.driver == nil:
		return ` from profiles p where ` + where + after, append(wargs, afterArgs...), order, nil
	case pl.driver.few():
		// The few profiles found, by rowid.
		b, _ := json.Marshal(pl.driver.found)
		from, dargs = ` from json_each(?) m cross join profiles p on p.rowid = m.value`, []any{string(b)}
	default:
		from, dargs = ` from (`+pl.driver.rowids+`) m cross join profiles p on p.rowid = m.rowid`, slices.Clone(pl.driver.args)
	}
	// CROSS JOIN keeps the profiles found the outer loop.
	return from + ` where ` + where + after, append(append(dargs, wargs...), afterArgs...), order, nil
}

// walkTime is how long walking a sort order for a page may take: a
// search or a filter that holds mostly for profiles far down the order
// (a search for "nguyen" sorted by name) makes the walk long, and the
// page is then read from what the search or stage finds, sorted.
var walkTime = 40 * time.Millisecond

// Profiles implements opstore.ProfileStore. A count that would take longer
// than countTime (a walk through many profiles checked one by one) says
// at least the profiles of the page.
func (s *Store) Profiles(ctx context.Context, q opstore.ProfileQuery) ([]opstore.ProfileRow, opstore.ProfileCount, error) {
	var n opstore.ProfileCount
	if q.Limit <= 0 {
		q.Limit = 50
	}
	pl, err := s.plan(ctx, q)
	if err != nil {
		return nil, n, err
	}
	rows, err := s.page(ctx, pl, pl.driver == nil)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// Read the page from the largest source (or let SQLite choose).
		for _, src := range []*source{pl.search, pl.stage} {
			if src != nil && (pl.driver == nil || len(src.found) > len(pl.driver.found)) {
				pl.driver = src
			}
		}
		rows, err = s.page(ctx, pl, false)
	}
	if err != nil || !q.Count {
		return rows, n, err
	}
	n, err = s.count(ctx, pl)
	if err != nil {
		return nil, n, err
	}
	if n.AtLeast && n.N < int64(len(rows)) {
		n.N = int64(len(rows))
	}
	return rows, n, nil
}

// page reads the plan's page, within walkTime when it walks.
func (s *Store) page(ctx context.Context, pl *plan, walk bool) ([]opstore.ProfileRow, error) {
	from, args, order, err := pl.query(true, walk)
	if err != nil {
		return nil, err
	}
	if walk {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, walkTime)
		defer cancel()
	}
	rows, err := all(ctx, s, scanProfile, "profiles", `select `+profileColumns+from+order+` limit ?`, append(args, pl.q.Limit)...)
	if err != nil && walk && ctx.Err() != nil {
		return nil, context.DeadlineExceeded
	}
	return rows, err
}

// count counts the plan's profiles.
func (s *Store) count(ctx context.Context, pl *plan) (opstore.ProfileCount, error) {
	q := pl.q
	var n opstore.ProfileCount
	limit := int64(q.CountLimit)
	capped := func(c int64) opstore.ProfileCount {
		if limit > 0 && c > limit {
			return opstore.ProfileCount{N: limit, AtLeast: true}
		}
		return opstore.ProfileCount{N: c}
	}
	var inner string // a query of one row per profile counted
	var args []any
	switch {
	case pl.search == nil && pl.stage == nil && !pl.filters:
		// Every profile: the workspace's count.
		err := s.r.QueryRowContext(ctx, `select coalesce((select n from profile_counts where workspace_id = ?), 0)`, q.WorkspaceID).Scan(&n.N)
		return capped(n.N), err
	case pl.driver != nil && pl.driver.few() && !pl.filters && (pl.search == nil) != (pl.stage == nil):
		return capped(int64(len(pl.driver.found))), nil
	case pl.driver == nil && !pl.filters && (pl.search == nil) != (pl.stage == nil):
		// One source alone finds many: count them (the full-text index
		// counts fast).
		src := pl.search
		if src == nil {
			src = pl.stage
		}
		inner, args = src.rowids, slices.Clone(src.args)
	default:
		var from string
		from, args, _, _ = pl.query(false, false)
		inner = `select 1` + from
	}
	query := `select count(*) from (` + inner + `)`
	if limit > 0 {
		query = `select count(*) from (` + inner + ` limit ?)`
		args = append(args, limit+1)
	}
	cctx, cancel := context.WithTimeout(ctx, countTime)
	defer cancel()
	err := s.r.QueryRowContext(cctx, query, args...).Scan(&n.N)
	switch {
	case err != nil && cctx.Err() != nil && ctx.Err() == nil:
		// Too long: at least none, which Profiles makes the page's.
		return opstore.ProfileCount{AtLeast: true}, nil
	case err != nil:
		return n, fmt.Errorf("sqlite: count profiles: %w", err)
	}
	return capped(n.N), nil
}

// EachProfile implements opstore.ProfileStore.
func (s *Store) EachProfile(ctx context.Context, q opstore.ProfileQuery, fn func(opstore.ProfileRow) error) error {
	pl, err := s.plan(ctx, q)
	if err != nil {
		return err
	}
	from, args, order, err := pl.query(false, true)
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, `select `+profileColumns+from+order, args...)
	if err != nil {
		return fmt.Errorf("sqlite: each profile: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return fmt.Errorf("sqlite: each profile: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ForgetProfile implements opstore.ProfileStore.
func (s *Store) ForgetProfile(ctx context.Context, workspaceID, id string, actors []opstore.Actor) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `create temp table if not exists forget_actors (id integer primary key)`); err != nil {
			return err
		}
		defer tx.ExecContext(ctx, `delete from temp.forget_actors`)
		if _, err := tx.ExecContext(ctx, `insert or ignore into temp.forget_actors (id)
			select id from profile_actors where workspace_id = ? and (profile_id = ?
			or (kind, value) in (select j.value ->> 0, j.value ->> 1 from json_each(?) j))`,
			workspaceID, id, actorList(actors)); err != nil {
			return err
		}
		for _, q := range []string{
			`delete from profile_events where actor_id in (select id from temp.forget_actors)`,
			`delete from profile_traits where actor_id in (select id from temp.forget_actors)`,
			`delete from profile_actor_stages where actor_id in (select id from temp.forget_actors)`,
			`delete from profile_actors where id in (select id from temp.forget_actors)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		var rowid int64
		err := tx.QueryRowContext(ctx, `select rowid from profiles where workspace_id = ? and id = ?`, workspaceID, id).Scan(&rowid)
		if err == nil {
			if _, err := tx.ExecContext(ctx, `delete from profile_search where rowid = ?`, rowid); err != nil {
				return err
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for _, q := range []string{
			`delete from profiles where workspace_id = ? and id = ?`,
			`delete from profile_stages where workspace_id = ? and profile_id = ?`,
			`delete from profile_notes where workspace_id = ? and profile_id = ?`,
			`delete from profile_marks where workspace_id = ? and profile_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, workspaceID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: forget profile %s: %w", id, err)
	}
	return nil
}

// AddProfileNote implements opstore.ProfileStore.
func (s *Store) AddProfileNote(ctx context.Context, n opstore.ProfileNote) (opstore.ProfileNote, error) {
	n.Body = strings.TrimSpace(n.Body)
	if n.Body == "" {
		return n, errors.New("sqlite: add profile note: empty note")
	}
	n.CreatedAt = s.clock()
	err := s.w.QueryRowContext(ctx, `insert into profile_notes (workspace_id, profile_id, author_id, author_name, body, created_at)
		values (?, ?, ?, ?, ?, ?) returning id`, n.WorkspaceID, n.ProfileID, n.AuthorID, n.AuthorName, n.Body, n.CreatedAt.UnixMilli()).Scan(&n.ID)
	if err != nil {
		return n, fmt.Errorf("sqlite: add profile note: %w", err)
	}
	return n, nil
}

// ProfileNotes implements opstore.ProfileStore.
func (s *Store) ProfileNotes(ctx context.Context, workspaceID, profileID string) ([]opstore.ProfileNote, error) {
	return all(ctx, s, func(r scanner) (opstore.ProfileNote, error) {
		var n opstore.ProfileNote
		var at int64
		err := r.Scan(&n.ID, &n.WorkspaceID, &n.ProfileID, &n.AuthorID, &n.AuthorName, &n.Body, &at)
		n.CreatedAt = fromMilli(at)
		return n, err
	}, "profile notes", `select id, workspace_id, profile_id, author_id, author_name, body, created_at from profile_notes
		where workspace_id = ? and profile_id = ? order by created_at desc, id desc`, workspaceID, profileID)
}

// DeleteProfileNote implements opstore.ProfileStore.
func (s *Store) DeleteProfileNote(ctx context.Context, workspaceID, profileID string, id int64) error {
	return s.change(ctx, fmt.Sprintf("profile note %d", id), nil,
		`delete from profile_notes where workspace_id = ? and profile_id = ? and id = ?`, workspaceID, profileID, id)
}
