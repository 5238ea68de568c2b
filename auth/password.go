// Package auth holds the small secrets helpers the web UI and the API share:
// password hashing with argon2id, and random tokens for sessions and API keys.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password hashing parameters for new hashes: OWASP's Password Storage Cheat
// Sheet configuration of 19 MiB and one lane, with four passes instead of the
// minimum two: about 50 ms per hash on our 2-core measuring machine, while
// keeping the memory per concurrent login small. Stored hashes carry their
// own parameters, so these may be raised later without breaking existing
// passwords (see NeedsRehash).
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 4
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Limits on parameters read back from a stored hash, so a corrupted or
// hostile hash string cannot make CheckPassword allocate gigabytes or spin.
const (
	maxMemory = 1024 * 1024 // KiB, 1 GiB
	maxTime   = 64
	minSalt   = 8
	maxSalt   = 64
	minKey    = 16
	maxKey    = 128
)

// Password length limits, counted in characters (runes).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// Errors from ValidatePassword; the UI maps them to translated messages.
var (
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters long", MinPasswordLen)
	ErrPasswordTooLong  = fmt.Errorf("password must be at most %d characters long", MaxPasswordLen)
)

// ErrInvalidHash is returned (wrapped) by CheckPassword and NeedsRehash when a
// stored hash is not an argon2id PHC string this package can verify.
var ErrInvalidHash = errors.New("invalid password hash")

// ValidatePassword reports whether pw is acceptable as a new password.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return ErrPasswordTooShort
	case n > MaxPasswordLen:
		return ErrPasswordTooLong
	}
	return nil
}

// HashPassword hashes pw with argon2id and a random salt, and returns it in
// the PHC string format: $argon2id$v=19$m=19456,t=4,p=1$SALT$HASH (salt and
// hash in unpadded standard base64).
func HashPassword(pw string) (string, error) {
	p := phc{memory: argonMemory, time: argonTime, threads: argonThreads, salt: make([]byte, argonSaltLen)}
	rand.Read(p.salt) // never fails: since Go 1.24 a broken system RNG crashes the program
	p.key = argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, argonKeyLen)
	return p.String(), nil
}

// CheckPassword reports whether pw matches hash, a PHC string made by
// HashPassword or by any argon2id implementation (with its own parameters).
// A wrong password is (false, nil); an unreadable hash is an error wrapping
// ErrInvalidHash. The comparison takes constant time.
func CheckPassword(hash, pw string) (bool, error) {
	p, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// NeedsRehash reports whether hash was made with parameters other than the
// current ones, so the caller can store a fresh HashPassword after a
// successful login.
func NeedsRehash(hash string) (bool, error) {
	p, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	return p.memory != argonMemory || p.time != argonTime || p.threads != argonThreads ||
		len(p.salt) != argonSaltLen || len(p.key) != argonKeyLen, nil
}

// phc is a decoded argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func (p phc) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parsePHC decodes $argon2id$v=19$m=M,t=T,p=P$SALT$HASH. The parameters must
// come in that order, as the PHC string format specifies.
func parsePHC(s string) (phc, error) {
	var p phc
	bad := func(why string) (phc, error) { return phc{}, fmt.Errorf("%w: %s", ErrInvalidHash, why) }

	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("not a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")
	}
	if f[1] != "argon2id" {
		return bad(fmt.Sprintf("algorithm %q, want argon2id", f[1]))
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad(fmt.Sprintf("version %q, want v=%d", f[2], argon2.Version))
	}

	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return bad(fmt.Sprintf("parameters %q, want m=...,t=...,p=...", f[3]))
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || (len(v) > 1 && v[0] == '0') {
			return bad(fmt.Sprintf("parameter %q, want %s=NUMBER", params[i], name))
		}
		vals[i] = n
	}
	m, t, threads := vals[0], vals[1], vals[2]
	switch {
	case threads < 1 || threads > 255:
		return bad(fmt.Sprintf("p=%d out of range 1..255", threads))
	case t < 1 || t > maxTime:
		return bad(fmt.Sprintf("t=%d out of range 1..%d", t, maxTime))
	case m < 8*threads || m > maxMemory:
		return bad(fmt.Sprintf("m=%d out of range %d..%d", m, 8*threads, maxMemory))
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(threads)

	var err error
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(f[4]); err != nil {
		return bad("salt is not unpadded base64")
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(f[5]); err != nil {
		return bad("hash is not unpadded base64")
	}
	if len(p.salt) < minSalt || len(p.salt) > maxSalt {
		return bad(fmt.Sprintf("salt of %d bytes, want %d..%d", len(p.salt), minSalt, maxSalt))
	}
	if len(p.key) < minKey || len(p.key) > maxKey {
		return bad(fmt.Sprintf("hash of %d bytes, want %d..%d", len(p.key), minKey, maxKey))
	}
	return p, nil
}
