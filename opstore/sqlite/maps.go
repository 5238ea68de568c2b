package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/cjmhq/cjm/opstore"
)

// Limits of MapActivities and MentionsOf.
const (
	DefaultMapListLimit = 50
	MaxMapListLimit     = 1000
)

// mapColumns reads a map with its latest version (aliases m and v, see mapFrom).
const mapColumns = `m.id, m.workspace_id, m.name, m.state, m.version, v.doc,
	m.created_at, v.created_at, v.author_id, v.author_name`

const mapFrom = ` from maps m join map_versions v on v.map_id = m.id and v.version = m.version `

func scanMap(row scanner) (opstore.MapRecord, error) {
	var r opstore.MapRecord
	var created, updated int64
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.Name, &r.State, &r.Version, &r.Doc,
		&created, &updated, &r.UpdatedBy, &r.UpdatedByName)
	r.CreatedAt, r.UpdatedAt = fromMilli(created), fromMilli(updated)
	return r, err
}

// nameKey is what map names are compared by: lower-cased and NFC-normalised,
// so that case and the way accents are encoded do not make names different.
func nameKey(name string) string { return norm.NFC.String(strings.ToLower(name)) }

// checkMap trims and validates a map's name, state and document, returning
// the name to store and its key.
func checkMap(name, state string, doc []byte) (string, string, error) {
	name = norm.NFC.String(strings.TrimSpace(name))
	switch {
	case name == "":
		return "", "", errors.New("map name is empty")
	case state != "current" && state != "future":
		return "", "", fmt.Errorf("map state %q is neither current nor future", state)
	case len(doc) == 0:
		return "", "", errors.New("map document is empty")
	}
	return name, nameKey(name), nil
}

// mapErr turns an error of a map write into one of the store's: a taken name
// is ErrConflict, a missing workspace ErrNotFound; errors already carrying
// opstore's sentinels or a validation message pass through.
func mapErr(err error, what, workspaceID, name string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err, "maps.workspace_id", "maps.name_key"):
		return fmt.Errorf("map %q already exists in this workspace: %w", name, opstore.ErrConflict)
	case isUnique(err):
		return fmt.Errorf("%s: %w", what, opstore.ErrConflict)
	case isForeignKey(err):
		return fmt.Errorf("workspace %q: %w", workspaceID, opstore.ErrNotFound)
	case errors.Is(err, opstore.ErrNotFound), errors.Is(err, opstore.ErrStale), errors.Is(err, opstore.ErrConflict):
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// changeAction is ch.Action, or def when it is empty.
func changeAction(ch opstore.MapChange, def string) string {
	if a := strings.TrimSpace(ch.Action); a != "" {
		return a
	}
	return def
}

// versionDetail is the activity detail of a saved version: "version 3", or
// "version 3: restored version 1" with a note.
func versionDetail(version int, note string) string {
	if note == "" {
		return fmt.Sprintf("version %d", version)
	}
	return fmt.Sprintf("version %d: %s", version, note)
}

func addActivity(ctx context.Context, tx *sql.Tx, mapID, userID, userName, action, detail string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `insert into map_activity (map_id, user_id, user_name, action, detail, at)
		values (?, ?, ?, ?, ?, ?)`, mapID, userID, userName, action, detail, at.UnixMilli())
	return err
}

func addVersion(ctx context.Context, tx *sql.Tx, r opstore.MapRecord, note string) error {
	_, err := tx.ExecContext(ctx, `insert into map_versions
		(map_id, version, name, state, doc, author_id, author_name, note, created_at)
		values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Version, r.Name, r.State, r.Doc, r.UpdatedBy, r.UpdatedByName, note, r.UpdatedAt.UnixMilli())
	return err
}

// CreateMap implements opstore.Store. The activity action defaults to "created".
func (s *Store) CreateMap(ctx context.Context, workspaceID, name, state string, doc []byte, ch opstore.MapChange) (opstore.MapRecord, error) {
	name, key, err := checkMap(name, state, doc)
	if err != nil {
		return opstore.MapRecord{}, err
	}
	now := s.clock()
	r := opstore.MapRecord{
		ID: newID("map_"), WorkspaceID: workspaceID, Name: name, State: state, Version: 1,
		Doc: bytes.Clone(doc), CreatedAt: now, UpdatedAt: now,
		UpdatedBy: ch.AuthorID, UpdatedByName: ch.AuthorName,
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `insert into maps (id, workspace_id, name, name_key, state, version, created_at)
			values (?, ?, ?, ?, ?, ?, ?)`, r.ID, r.WorkspaceID, r.Name, key, r.State, r.Version, now.UnixMilli()); err != nil {
			return err
		}
		if err := addVersion(ctx, tx, r, ch.Note); err != nil {
			return err
		}
		return addActivity(ctx, tx, r.ID, ch.AuthorID, ch.AuthorName, changeAction(ch, "created"), versionDetail(1, ch.Note), now)
	})
	if err != nil {
		return opstore.MapRecord{}, mapErr(err, "create map", workspaceID, name)
	}
	return r, nil
}

// SaveMap implements opstore.Store. The activity action defaults to "saved";
// a changed name adds a "renamed" entry saying from what to what.
func (s *Store) SaveMap(ctx context.Context, workspaceID, mapID string, baseVersion int, name, state string, doc []byte, ch opstore.MapChange) (opstore.MapRecord, error) {
	name, key, err := checkMap(name, state, doc)
	if err != nil {
		return opstore.MapRecord{}, err
	}
	if baseVersion < 0 {
		return opstore.MapRecord{}, fmt.Errorf("map base version %d is negative", baseVersion)
	}
	var r opstore.MapRecord
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanMap(tx.QueryRowContext(ctx, `select `+mapColumns+mapFrom+`where m.id = ? and m.workspace_id = ?`,
			mapID, workspaceID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("map %q: %w", mapID, opstore.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if baseVersion != 0 && baseVersion != cur.Version {
			return fmt.Errorf("map %q is at version %d, not %d: %w", mapID, cur.Version, baseVersion, opstore.ErrStale)
		}
		if cur.Name == name && cur.State == state && bytes.Equal(cur.Doc, doc) {
			r = cur
			return nil
		}
		now := s.clock()
		r = cur
		r.Name, r.State, r.Version, r.Doc = name, state, cur.Version+1, bytes.Clone(doc)
		r.UpdatedAt, r.UpdatedBy, r.UpdatedByName = now, ch.AuthorID, ch.AuthorName
		if _, err := tx.ExecContext(ctx, `update maps set name = ?, name_key = ?, state = ?, version = ? where id = ?`,
			r.Name, key, r.State, r.Version, r.ID); err != nil {
			return err
		}
		if err := addVersion(ctx, tx, r, ch.Note); err != nil {
			return err
		}
		if err := addActivity(ctx, tx, r.ID, ch.AuthorID, ch.AuthorName, changeAction(ch, "saved"), versionDetail(r.Version, ch.Note), now); err != nil {
			return err
		}
		if cur.Name != r.Name {
			return addActivity(ctx, tx, r.ID, ch.AuthorID, ch.AuthorName, "renamed", fmt.Sprintf("%s → %s", cur.Name, r.Name), now)
		}
		return nil
	})
	if err != nil {
		return opstore.MapRecord{}, mapErr(err, "save map", workspaceID, name)
	}
	return r, nil
}

// Map implements opstore.Store.
func (s *Store) Map(ctx context.Context, workspaceID, mapID string) (opstore.MapRecord, error) {
	return one(ctx, s, scanMap, fmt.Sprintf("map %q", mapID),
		`select `+mapColumns+mapFrom+`where m.id = ? and m.workspace_id = ?`, mapID, workspaceID)
}

// MapByName returns the workspace's map with the given name, compared
// without case.
func (s *Store) MapByName(ctx context.Context, workspaceID, name string) (opstore.MapRecord, error) {
	name = strings.TrimSpace(name)
	return one(ctx, s, scanMap, fmt.Sprintf("map %q", name),
		`select `+mapColumns+mapFrom+`where m.workspace_id = ? and m.name_key = ?`, workspaceID, nameKey(name))
}

// Maps lists a workspace's maps with their latest documents, by name without
// case.
func (s *Store) Maps(ctx context.Context, workspaceID string) ([]opstore.MapRecord, error) {
	return all(ctx, s, scanMap, "maps",
		`select `+mapColumns+mapFrom+`where m.workspace_id = ? order by m.name_key, m.id`, workspaceID)
}

// DeleteMap implements opstore.Store.
func (s *Store) DeleteMap(ctx context.Context, workspaceID, mapID string) error {
	return s.change(ctx, fmt.Sprintf("map %q", mapID), nil,
		`delete from maps where id = ? and workspace_id = ?`, mapID, workspaceID)
}

// mapExists returns ErrNotFound unless the workspace has the map. Lists of a
// map's things check it first, so that a map of another workspace is not
// mistaken for one with nothing in it.
func (s *Store) mapExists(ctx context.Context, workspaceID, mapID string) error {
	_, err := one(ctx, s, func(row scanner) (id string, err error) { return id, row.Scan(&id) },
		fmt.Sprintf("map %q", mapID), `select id from maps where id = ? and workspace_id = ?`, mapID, workspaceID)
	return err
}

// mapExistsTx is mapExists inside a write transaction.
func mapExistsTx(ctx context.Context, tx *sql.Tx, workspaceID, mapID string) error {
	var ok bool
	if err := tx.QueryRowContext(ctx, `select exists(select 1 from maps where id = ? and workspace_id = ?)`,
		mapID, workspaceID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("map %q: %w", mapID, opstore.ErrNotFound)
	}
	return nil
}

// mapList runs a list query of a map's things after checking that the
// workspace has the map.
func mapList[T any](ctx context.Context, s *Store, workspaceID, mapID string, scan func(scanner) (T, error), what, query string, args ...any) ([]T, error) {
	if err := s.mapExists(ctx, workspaceID, mapID); err != nil {
		return nil, err
	}
	return all(ctx, s, scan, what, query, args...)
}

// Versions.

func scanMapVersion(withDoc bool) func(scanner) (opstore.MapVersion, error) {
	return func(row scanner) (opstore.MapVersion, error) {
		var v opstore.MapVersion
		var created int64
		dest := []any{&v.MapID, &v.Version, &v.Name, &v.State, &v.AuthorID, &v.AuthorName, &v.Note, &created}
		if withDoc {
			dest = append(dest, &v.Doc)
		}
		err := row.Scan(dest...)
		v.CreatedAt = fromMilli(created)
		return v, err
	}
}

const mapVersionColumns = `v.map_id, v.version, v.name, v.state, v.author_id, v.author_name, v.note, v.created_at`

// MapVersions implements opstore.Store.
func (s *Store) MapVersions(ctx context.Context, workspaceID, mapID string) ([]opstore.MapVersion, error) {
	return mapList(ctx, s, workspaceID, mapID, scanMapVersion(false), "map versions",
		`select `+mapVersionColumns+` from map_versions v where v.map_id = ? order by v.version desc`, mapID)
}

// MapVersion implements opstore.Store.
func (s *Store) MapVersion(ctx context.Context, workspaceID, mapID string, version int) (opstore.MapVersion, error) {
	return one(ctx, s, scanMapVersion(true), fmt.Sprintf("version %d of map %q", version, mapID),
		`select `+mapVersionColumns+`, v.doc from map_versions v join maps m on m.id = v.map_id
		where v.map_id = ? and v.version = ? and m.workspace_id = ?`, mapID, version, workspaceID)
}

// Comments.

// The mentions come as a JSON array from a subquery, sorted by user id.
const mapCommentColumns = `c.id, c.map_id, c.target, c.author_id, c.author_name, c.body, c.created_at, c.resolved_at,
	(select json_group_array(user_id) from map_comment_mentions x where x.comment_id = c.id)`

func scanMapComment(row scanner) (opstore.MapComment, error) {
	var c opstore.MapComment
	var created int64
	var resolved sql.NullInt64
	var mentions string
	if err := row.Scan(&c.ID, &c.MapID, &c.Target, &c.AuthorID, &c.AuthorName, &c.Body, &created, &resolved, &mentions); err != nil {
		return c, err
	}
	c.CreatedAt, c.ResolvedAt = fromMilli(created), nullMilli(resolved)
	if err := json.Unmarshal([]byte(mentions), &c.Mentions); err != nil {
		return c, fmt.Errorf("mentions of comment %q: %w", c.ID, err)
	}
	c.Mentions = normMentions(c.Mentions)
	return c, nil
}

// normMentions trims user ids, drops empty ones and duplicates, and sorts
// them; no mentions is nil.
func normMentions(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AddMapComment implements opstore.Store. It fills an empty ID and a zero
// CreatedAt; the comment is open (ResolvedAt is ignored) and its mentions are
// stored sorted, without duplicates. The activity entry's detail is the
// target.
func (s *Store) AddMapComment(ctx context.Context, workspaceID string, c opstore.MapComment) (opstore.MapComment, error) {
	c.Body = strings.TrimSpace(c.Body)
	c.Target = strings.TrimSpace(c.Target)
	if c.Body == "" {
		return opstore.MapComment{}, errors.New("comment is empty")
	}
	if c.ID == "" {
		c.ID = newID("cmt_")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.clock()
	}
	c.CreatedAt = utcMilli(c.CreatedAt)
	c.ResolvedAt = time.Time{}
	c.Mentions = normMentions(c.Mentions)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := mapExistsTx(ctx, tx, workspaceID, c.MapID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `insert into map_comments
			(id, map_id, target, author_id, author_name, body, created_at) values (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.MapID, c.Target, c.AuthorID, c.AuthorName, c.Body, c.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		for _, u := range c.Mentions {
			if _, err := tx.ExecContext(ctx, `insert into map_comment_mentions (comment_id, user_id) values (?, ?)`, c.ID, u); err != nil {
				return err
			}
		}
		return addActivity(ctx, tx, c.MapID, c.AuthorID, c.AuthorName, "commented", c.Target, c.CreatedAt)
	})
	if err != nil {
		if isUnique(err, "map_comments.id") {
			return opstore.MapComment{}, fmt.Errorf("comment %q already exists: %w", c.ID, opstore.ErrConflict)
		}
		return opstore.MapComment{}, mapErr(err, "add comment", workspaceID, "")
	}
	return c, nil
}

// MapComments implements opstore.Store.
func (s *Store) MapComments(ctx context.Context, workspaceID, mapID string) ([]opstore.MapComment, error) {
	return mapList(ctx, s, workspaceID, mapID, scanMapComment, "comments",
		`select `+mapCommentColumns+` from map_comments c where c.map_id = ? order by c.created_at, c.rowid`, mapID)
}

// ResolveMapComment implements opstore.Store. Resolving a resolved comment
// changes nothing.
func (s *Store) ResolveMapComment(ctx context.Context, workspaceID, mapID, commentID, userID, userName string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var target string
		var resolved sql.NullInt64
		err := tx.QueryRowContext(ctx, `select c.target, c.resolved_at from map_comments c join maps m on m.id = c.map_id
			where c.id = ? and c.map_id = ? and m.workspace_id = ?`, commentID, mapID, workspaceID).Scan(&target, &resolved)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("comment %q: %w", commentID, opstore.ErrNotFound)
		}
		if err != nil || resolved.Valid {
			return err
		}
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `update map_comments set resolved_at = ? where id = ?`, now.UnixMilli(), commentID); err != nil {
			return err
		}
		return addActivity(ctx, tx, mapID, userID, userName, "comment_resolved", target, now)
	})
	return mapErr(err, "resolve comment", workspaceID, "")
}

// DeleteMapComment implements opstore.Store.
func (s *Store) DeleteMapComment(ctx context.Context, workspaceID, mapID, commentID string) error {
	return s.change(ctx, fmt.Sprintf("comment %q", commentID), nil, `delete from map_comments
		where id = ? and map_id = ? and map_id in (select id from maps where workspace_id = ?)`,
		commentID, mapID, workspaceID)
}

// listLimit is limit within 1..MaxMapListLimit, DefaultMapListLimit for 0.
func listLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultMapListLimit
	case limit > MaxMapListLimit:
		return MaxMapListLimit
	}
	return limit
}

// MentionsOf implements opstore.Store. A limit of 0 is 50; more than 1000 is 1000.
func (s *Store) MentionsOf(ctx context.Context, workspaceID, userID string, limit int) ([]opstore.MapComment, error) {
	return all(ctx, s, scanMapComment, "mentions", `select `+mapCommentColumns+`
		from map_comment_mentions x0
		join map_comments c on c.id = x0.comment_id
		join maps m on m.id = c.map_id
		where x0.user_id = ? and m.workspace_id = ?
		order by c.created_at desc, c.rowid desc
		limit ?`, userID, workspaceID, listLimit(limit))
}

// Shares.

const mapShareColumns = `sh.id, sh.map_id, sh.prefix, sh.created_by, sh.created_at, sh.expires_at, sh.revoked_at`

func mapShareDest(sh *opstore.MapShare, created *int64, expires, revoked *sql.NullInt64) []any {
	return []any{&sh.ID, &sh.MapID, &sh.Prefix, &sh.CreatedBy, created, expires, revoked}
}

func fillShareTimes(sh *opstore.MapShare, created int64, expires, revoked sql.NullInt64) {
	sh.CreatedAt, sh.ExpiresAt, sh.RevokedAt = fromMilli(created), nullMilli(expires), nullMilli(revoked)
}

func scanMapShare(row scanner) (opstore.MapShare, error) {
	var sh opstore.MapShare
	var created int64
	var expires, revoked sql.NullInt64
	err := row.Scan(mapShareDest(&sh, &created, &expires, &revoked)...)
	fillShareTimes(&sh, created, expires, revoked)
	return sh, err
}

// CreateMapShare implements opstore.Store. The activity entry names the
// creator as the users table has them (name, else e-mail) and has the prefix
// as its detail.
func (s *Store) CreateMapShare(ctx context.Context, workspaceID, mapID, tokenHash, prefix, createdBy string, expiresAt time.Time) (opstore.MapShare, error) {
	if tokenHash == "" {
		return opstore.MapShare{}, errors.New("map share has no token hash")
	}
	now := s.clock()
	sh := opstore.MapShare{ID: newID("shr_"), MapID: mapID, Prefix: prefix, CreatedBy: createdBy, CreatedAt: now}
	var expires any
	if !expiresAt.IsZero() {
		sh.ExpiresAt = utcMilli(expiresAt)
		if !sh.ExpiresAt.After(now) {
			return opstore.MapShare{}, fmt.Errorf("map share expiry %s is not in the future", sh.ExpiresAt.Format(time.RFC3339))
		}
		expires = sh.ExpiresAt.UnixMilli()
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := mapExistsTx(ctx, tx, workspaceID, mapID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `insert into map_shares
			(id, map_id, token_hash, prefix, created_by, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?)`,
			sh.ID, mapID, tokenHash, prefix, createdBy, now.UnixMilli(), expires); err != nil {
			return err
		}
		var name string
		err := tx.QueryRowContext(ctx, `select case when name <> '' then name else email end from users where id = ?`,
			createdBy).Scan(&name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return addActivity(ctx, tx, mapID, createdBy, name, "shared", prefix, now)
	})
	if err != nil {
		if isUnique(err, "map_shares.token_hash") {
			return opstore.MapShare{}, fmt.Errorf("map share with this token hash already exists: %w", opstore.ErrConflict)
		}
		return opstore.MapShare{}, mapErr(err, "create map share", workspaceID, "")
	}
	return sh, nil
}

// MapShares lists a map's share links, revoked and expired ones included,
// oldest first.
func (s *Store) MapShares(ctx context.Context, workspaceID, mapID string) ([]opstore.MapShare, error) {
	return mapList(ctx, s, workspaceID, mapID, scanMapShare, "map shares",
		`select `+mapShareColumns+` from map_shares sh where sh.map_id = ? order by sh.created_at, sh.rowid`, mapID)
}

// MapShareByTokenHash implements opstore.Store.
func (s *Store) MapShareByTokenHash(ctx context.Context, tokenHash string) (opstore.MapShare, opstore.MapRecord, error) {
	type both struct {
		sh opstore.MapShare
		r  opstore.MapRecord
	}
	b, err := one(ctx, s, func(row scanner) (both, error) {
		var b both
		var created, mapCreated, mapUpdated int64
		var expires, revoked sql.NullInt64
		r := &b.r
		err := row.Scan(append(mapShareDest(&b.sh, &created, &expires, &revoked),
			&r.ID, &r.WorkspaceID, &r.Name, &r.State, &r.Version, &r.Doc,
			&mapCreated, &mapUpdated, &r.UpdatedBy, &r.UpdatedByName)...)
		fillShareTimes(&b.sh, created, expires, revoked)
		r.CreatedAt, r.UpdatedAt = fromMilli(mapCreated), fromMilli(mapUpdated)
		return b, err
	}, "map share", `select `+mapShareColumns+`, `+mapColumns+`
		from map_shares sh
		join maps m on m.id = sh.map_id
		join map_versions v on v.map_id = m.id and v.version = m.version
		where sh.token_hash = ? and sh.revoked_at is null and (sh.expires_at is null or sh.expires_at > ?)`,
		tokenHash, s.clock().UnixMilli())
	if err != nil {
		return opstore.MapShare{}, opstore.MapRecord{}, err
	}
	return b.sh, b.r, nil
}

// RevokeMapShare implements opstore.Store. Revoking a revoked share changes
// nothing. The activity entry's detail is the share's prefix.
func (s *Store) RevokeMapShare(ctx context.Context, workspaceID, mapID, shareID, userID, userName string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var prefix string
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `select sh.prefix, sh.revoked_at from map_shares sh join maps m on m.id = sh.map_id
			where sh.id = ? and sh.map_id = ? and m.workspace_id = ?`, shareID, mapID, workspaceID).Scan(&prefix, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("map share %q: %w", shareID, opstore.ErrNotFound)
		}
		if err != nil || revoked.Valid {
			return err
		}
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `update map_shares set revoked_at = ? where id = ?`, now.UnixMilli(), shareID); err != nil {
			return err
		}
		return addActivity(ctx, tx, mapID, userID, userName, "share_revoked", prefix, now)
	})
	return mapErr(err, "revoke map share", workspaceID, "")
}

// Activity.

// MapActivities implements opstore.Store. A limit of 0 is 50; more than 1000
// is 1000.
func (s *Store) MapActivities(ctx context.Context, workspaceID, mapID string, limit int) ([]opstore.MapActivity, error) {
	return mapList(ctx, s, workspaceID, mapID, func(row scanner) (opstore.MapActivity, error) {
		var a opstore.MapActivity
		var at int64
		err := row.Scan(&a.ID, &a.MapID, &a.UserID, &a.UserName, &a.Action, &a.Detail, &at)
		a.At = fromMilli(at)
		return a, err
	}, "map activity", `select id, map_id, user_id, user_name, action, detail, at
		from map_activity where map_id = ? order by id desc limit ?`, mapID, listLimit(limit))
}
