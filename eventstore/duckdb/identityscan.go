package duckdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/cjmhq/cjm/eventstore"
)

var _ eventstore.IdentityScanner = (*Store)(nil)

// identitySelect reads what eventstore.IdentityRow holds, the texts packed
// into one (see pack). Only identify calls bring their traits; the context
// is parsed by DuckDB only when it mentions traits or externalIds, and
// only that part of it comes back.
const identitySelect = `SELECT seq, ts, {packed} FROM (
	SELECT seq, ts, workspace_id, source_id, type, message_id, user_id, anonymous_id, previous_id,
		CASE WHEN type = 'identify' THEN traits END AS traits,
		CASE WHEN contains(context, '"traits"') THEN CAST(json_extract(context, '$.traits') AS VARCHAR) END AS ctraits,
		CASE WHEN contains(context, '"externalIds"') THEN CAST(json_extract(context, '$.externalIds') AS VARCHAR) END AS ext
	FROM events WHERE seq > ? AND seq <= ?
) ORDER BY seq`

// identityTexts are the packed columns of identitySelect, in order.
var identityTexts = []string{"workspace_id", "source_id", "type", "message_id", "user_id", "anonymous_id", "previous_id",
	"traits", "ctraits", "ext"}

var identityQuery = strings.Replace(identitySelect, "{packed}", pack(identityTexts), 1)

// ScanIdentity implements eventstore.IdentityScanner. The range should be
// of a size the resolver works in (tens of thousands): the Go driver holds
// the whole result in memory before the first row.
func (s *Store) ScanIdentity(ctx context.Context, from, to uint64, fn func(*eventstore.IdentityRow) error) error {
	rows, err := s.db.QueryContext(ctx, identityQuery, from, to)
	if err != nil {
		return fmt.Errorf("event store scan identity: %w", err)
	}
	defer rows.Close()
	var (
		r      eventstore.IdentityRow
		packed string
		vals   = make([]eventstore.FieldValue, len(identityTexts))
	)
	for rows.Next() {
		if err := rows.Scan(&r.Seq, &r.Timestamp, &packed); err != nil {
			return fmt.Errorf("event store scan identity: %w", err)
		}
		if !unpack(packed, vals) {
			return fmt.Errorf("event store scan identity: seq %d: bad packed row", r.Seq)
		}
		r.Timestamp = r.Timestamp.UTC()
		r.WorkspaceID, r.SourceID, r.Type, r.MessageID = vals[0].S, vals[1].S, vals[2].S, vals[3].S
		r.UserID, r.AnonymousID, r.PreviousID = vals[4].S, vals[5].S, vals[6].S
		r.Traits, r.ContextTraits, r.ExternalIDs = vals[7].S, vals[8].S, vals[9].S
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("event store scan identity: %w", err)
	}
	return nil
}
