package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/opstore"
)

// touchEvery is how often a key's last use is written to the store at most.
const touchEvery = time.Minute

// authorize checks the request's API key and its role against need (nothing
// when need is "", a public endpoint) and records the key on q.
func (s *server) authorize(q *request, need opstore.Role) error {
	if need == "" {
		return nil
	}
	key := bearer(q)
	if key == "" {
		return errorf(CodeUnauthorized, "missing API key: send it as Authorization: Bearer %s... (or as the user name of Basic auth)", auth.APIKeyPrefix)
	}
	if !strings.HasPrefix(key, auth.APIKeyPrefix) {
		if s.isWriteKey(q.ctx, key) {
			return errorf(CodeUnauthorized, "this is a source's write key: write keys can only ingest events (/v1/track, /v1/batch, ...); the API needs a secret API key (%s..., made in Settings → API keys)", auth.APIKeyPrefix)
		}
		return errorf(CodeUnauthorized, "unknown API key: API keys start with %q", auth.APIKeyPrefix)
	}
	k, err := s.ops.APIKeyByHash(q.ctx, auth.HashToken(key))
	if errors.Is(err, opstore.ErrNotFound) {
		return errorf(CodeUnauthorized, "unknown API key (revoked, or mistyped)")
	}
	if err != nil {
		return err
	}
	q.key = k
	s.touch(q.ctx, k)
	if !k.Role.Can(need) {
		return errorf(CodeForbidden, "this needs an API key with the %s role or higher; this key (%s...) has the %s role", need, k.Prefix, k.Role)
	}
	return nil
}

// bearer returns the key of "Authorization: Bearer KEY", or the user name of
// Basic auth (what Segment-style clients send), or "".
func bearer(q *request) string {
	h := strings.TrimSpace(q.r.Header.Get("Authorization"))
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	if user, _, ok := q.r.BasicAuth(); ok {
		return strings.TrimSpace(user)
	}
	return ""
}

// isWriteKey reports whether key looks like or is a source's write key, to
// explain why it is refused.
func (s *server) isWriteKey(ctx context.Context, key string) bool {
	if strings.HasPrefix(key, "wk_") {
		return true
	}
	_, err := s.ops.SourceByWriteKey(ctx, key)
	return err == nil
}

// touch records a key's use in the store, at most once a minute per key.
func (s *server) touch(ctx context.Context, k opstore.APIKey) {
	now := s.now()
	s.touchMu.Lock()
	last := s.touched[k.ID]
	if k.LastUsedAt.After(last) {
		last = k.LastUsedAt
	}
	if now.Sub(last) < touchEvery {
		s.touchMu.Unlock()
		return
	}
	if len(s.touched) >= 4096 { // forget keys not used lately (deleted ones among them)
		for id, t := range s.touched {
			if now.Sub(t) >= touchEvery {
				delete(s.touched, id)
			}
		}
	}
	s.touched[k.ID] = now
	s.touchMu.Unlock()
	if err := s.ops.TouchAPIKey(context.WithoutCancel(ctx), k.ID, now); err != nil && !errors.Is(err, opstore.ErrNotFound) {
		s.log.Warn("recording API key use", "api_key", k.ID, "err", err)
	}
}
