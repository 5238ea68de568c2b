package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// APIKeyPrefix starts every API key, so a leaked key is easy to recognise
// (and to find with secret scanners).
const APIKeyPrefix = "cjm_sk_"

// apiKeyShown is how many leading characters of an API key are kept in clear
// to let people tell their keys apart.
const apiKeyShown = 12

// NewToken returns 32 random bytes in unpadded base64url (43 characters), for
// session cookies, CSRF tokens and the like. Store only HashToken of it.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: since Go 1.24 a broken system RNG crashes the program
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token or API key: what the store
// keeps and looks up. A plain hash is enough because the tokens are random
// and long; passwords need HashPassword instead.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewAPIKey returns a new secret API key, "cjm_sk_" followed by 40 random
// lower-case base32 characters (200 bits), and its prefix, the first 12
// characters, which may be stored and shown to identify the key. The alphabet
// has no punctuation, so a double click selects the whole key.
func NewAPIKey() (key, prefix string) {
	b := make([]byte, 25) // 25 bytes = 40 base32 characters
	rand.Read(b)
	key = APIKeyPrefix + strings.ToLower(base32.StdEncoding.EncodeToString(b))
	return key, key[:apiKeyShown]
}
