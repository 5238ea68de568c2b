package privacy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
)

// Hash is the keyed hash of an identifier in a workspace: SHA-256 of
// "cjm-privacy", the workspace id and "kind:value", in hex. The audit
// records and the suppression list keep it instead of the identifier.
func Hash(workspaceID string, id identity.Identifier) string {
	h := sum(nil, workspaceID, id.Kind, id.Value)
	return hex.EncodeToString(h[:])
}

func sum(buf []byte, workspaceID string, kind identity.Kind, value string) [sha256.Size]byte {
	buf = append(buf[:0], "cjm-privacy\x00"...)
	buf = append(buf, workspaceID...)
	buf = append(buf, 0)
	buf = append(buf, kind...)
	buf = append(buf, ':')
	buf = append(buf, value...)
	return sha256.Sum256(buf)
}

// Suppression is the suppression list in memory: the identifiers of erased
// people, which are not collected again. Its Drop is the ingestion
// pipeline's ingest.Options.Drop. It is safe for concurrent use.
type Suppression struct {
	mu  sync.RWMutex
	set map[[sha256.Size]byte]struct{}
	n   atomic.Int64 // len(set), read without the lock
}

// NewSuppression returns an empty list.
func NewSuppression() *Suppression {
	return &Suppression{set: map[[sha256.Size]byte]struct{}{}}
}

// LoadSuppression reads the suppression list of every workspace.
func LoadSuppression(ctx context.Context, store opstore.PrivacyStore) (*Suppression, error) {
	s := NewSuppression()
	err := store.EachSuppressed(ctx, func(x opstore.Suppressed) error {
		var k [sha256.Size]byte
		if b, err := hex.DecodeString(x.Hash); err == nil && len(b) == len(k) {
			copy(k[:], b)
			s.set[k] = struct{}{}
		}
		return nil
	})
	s.n.Store(int64(len(s.set)))
	return s, err
}

// add puts hashes (hex) in the list.
func (s *Suppression) add(hashes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hashes {
		var k [sha256.Size]byte
		if b, err := hex.DecodeString(h); err == nil && len(b) == len(k) {
			copy(k[:], b)
			s.set[k] = struct{}{}
		}
	}
	s.n.Store(int64(len(s.set)))
}

// Len is the number of suppressed identifiers.
func (s *Suppression) Len() int { return int(s.n.Load()) }

// Has reports whether an identifier is suppressed in a workspace.
func (s *Suppression) Has(workspaceID string, id identity.Identifier) bool {
	if s.n.Load() == 0 {
		return false
	}
	k := sum(nil, workspaceID, id.Kind, id.Value)
	s.mu.RLock()
	_, ok := s.set[k]
	s.mu.RUnlock()
	return ok
}

// Drop reports whether a message carries a suppressed identifier: one the
// identity graph reads from it (identity.ExtractMessage), its previousId, or
// an e-mail address or phone number in properties or traits (see
// MessageIdentifiers). A message that names a userId that is not
// suppressed belongs to that person: its anonymousId (a device the erased
// person used too) does not drop it, though a suppressed userId, e-mail or
// phone does. With an empty list Drop costs one atomic load.
func (s *Suppression) Drop(m *event.Message) bool {
	if s.n.Load() == 0 {
		return false
	}
	var buf [256]byte
	found := false
	eachIdentifier(m, func(id identity.Identifier) bool {
		if id.Kind == identity.AnonymousID && m.UserID != "" {
			return true
		}
		k := sum(buf[:0], m.WorkspaceID, id.Kind, id.Value)
		s.mu.RLock()
		_, found = s.set[k]
		s.mu.RUnlock()
		return !found
	})
	return found
}

// MessageIdentifiers lists the identifiers a message carries that the
// suppression list checks: those identity.ExtractMessage reads (userId,
// anonymousId, identifying traits of an identify call and of
// context.traits, context.externalIds), the previousId of an alias as a
// user_id and as an anonymous_id, and the e-mail and phone of properties
// and of the traits of any call.
func MessageIdentifiers(m *event.Message) []identity.Identifier {
	var out []identity.Identifier
	eachIdentifier(m, func(id identity.Identifier) bool {
		out = append(out, id)
		return true
	})
	return out
}

// eachIdentifier calls fn with the identifiers of m until it returns false.
func eachIdentifier(m *event.Message, fn func(identity.Identifier) bool) {
	x := identity.ExtractMessage(m, "")
	for _, id := range x.IDs {
		if !fn(id) {
			return
		}
	}
	raw := func(k identity.Kind, v string) bool {
		if v == "" {
			return true
		}
		n, err := identity.Normalize(k, v)
		if err != nil {
			return true
		}
		return fn(identity.Identifier{Kind: k, Value: n})
	}
	if m.PreviousID != "" && (!raw(identity.UserID, m.PreviousID) || !raw(identity.AnonymousID, m.PreviousID)) {
		return
	}
	for _, obj := range []json.RawMessage{m.Traits, m.Properties} {
		if len(obj) == 0 || !bytes.Contains(obj, []byte(`"email"`)) && !bytes.Contains(obj, []byte(`"phone"`)) {
			continue
		}
		var c contactFields
		if err := json.Unmarshal(obj, &c); err != nil {
			continue
		}
		if s, ok := c.Email.(string); ok && !raw(identity.Email, s) {
			return
		}
		if s, ok := c.Phone.(string); ok && !raw(identity.Phone, s) {
			return
		}
	}
}

// contactFields are the members of traits or properties that carry
// contact details.
type contactFields struct {
	Email any `json:"email"`
	Phone any `json:"phone"`
}
