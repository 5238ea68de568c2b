package auth

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "mật khẩu tiếng Việt", "12345678", ""} {
		start := time.Now()
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("hashed %q in %v", pw, time.Since(start))
		if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=4,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
			t.Errorf("HashPassword(%q) = %q, not the expected PHC form", pw, h)
		}
		ok, err := CheckPassword(h, pw)
		if err != nil || !ok {
			t.Errorf("CheckPassword(own hash, %q) = %v, %v; want true, nil", pw, ok, err)
		}
		ok, err = CheckPassword(h, pw+"x")
		if err != nil || ok {
			t.Errorf("CheckPassword(own hash, wrong) = %v, %v; want false, nil", ok, err)
		}
		if rehash, err := NeedsRehash(h); err != nil || rehash {
			t.Errorf("NeedsRehash(fresh hash) = %v, %v; want false, nil", rehash, err)
		}
	}
}

func TestHashPasswordSalted(t *testing.T) {
	a, _ := HashPassword("same password")
	b, _ := HashPassword("same password")
	if a == b {
		t.Errorf("two hashes of one password are equal: %s", a)
	}
}

// A PHC string made elsewhere, with other parameters, verifies. The key is
// the argon2id test vector of the reference implementation (password
// "password", salt "somesalt", t=2, m=64 KiB, p=2, 24-byte key), encoded here
// by hand rather than by this package.
func TestCheckPasswordOtherParameters(t *testing.T) {
	key, _ := hex.DecodeString("350ac37222f436ccb5c0972f1ebd3bf6b958bf2071841362")
	b64 := base64.RawStdEncoding
	h := "$argon2id$v=19$m=64,t=2,p=2$" + b64.EncodeToString([]byte("somesalt")) + "$" + b64.EncodeToString(key)
	if h != "$argon2id$v=19$m=64,t=2,p=2$c29tZXNhbHQ$NQrDciL0Nsy1wJcvHr079rlYvyBxhBNi" {
		t.Fatalf("test vector encoded as %s", h)
	}
	ok, err := CheckPassword(h, "password")
	if err != nil || !ok {
		t.Errorf("CheckPassword(reference vector) = %v, %v; want true, nil", ok, err)
	}
	ok, err = CheckPassword(h, "Password")
	if err != nil || ok {
		t.Errorf("CheckPassword(reference vector, wrong) = %v, %v; want false, nil", ok, err)
	}
	if rehash, err := NeedsRehash(h); err != nil || !rehash {
		t.Errorf("NeedsRehash(old parameters) = %v, %v; want true, nil", rehash, err)
	}
}

func TestCheckPasswordInvalidHash(t *testing.T) {
	good, err := HashPassword("password1")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$") // "", alg, v, params, salt, hash
	join := func(alg, v, params, salt, hash string) string {
		return strings.Join([]string{"", alg, v, params, salt, hash}, "$")
	}
	tests := map[string]string{
		"empty":           "",
		"bcrypt":          "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":         join("argon2i", f[2], f[3], f[4], f[5]),
		"version 16":      join(f[1], "v=16", f[3], f[4], f[5]),
		"missing field":   strings.Join(f[:5], "$"),
		"extra field":     good + "$x",
		"params order":    join(f[1], f[2], "t=2,m=19456,p=1", f[4], f[5]),
		"params missing":  join(f[1], f[2], "m=19456,t=2", f[4], f[5]),
		"param not num":   join(f[1], f[2], "m=19456,t=two,p=1", f[4], f[5]),
		"param negative":  join(f[1], f[2], "m=19456,t=-2,p=1", f[4], f[5]),
		"leading zero":    join(f[1], f[2], "m=019456,t=2,p=1", f[4], f[5]),
		"zero time":       join(f[1], f[2], "m=19456,t=0,p=1", f[4], f[5]),
		"zero threads":    join(f[1], f[2], "m=19456,t=2,p=0", f[4], f[5]),
		"threads 256":     join(f[1], f[2], "m=19456,t=2,p=256", f[4], f[5]),
		"huge memory":     join(f[1], f[2], "m=4194304,t=2,p=1", f[4], f[5]),
		"tiny memory":     join(f[1], f[2], "m=7,t=2,p=1", f[4], f[5]),
		"salt not base64": join(f[1], f[2], f[3], "!!!!!!!!!!!!", f[5]),
		"salt padded":     join(f[1], f[2], f[3], f[4]+"==", f[5]),
		"salt too short":  join(f[1], f[2], f[3], "c2FsdA", f[5]),
		"hash not base64": join(f[1], f[2], f[3], f[4], "*"+f[5][1:]),
		"hash too short":  join(f[1], f[2], f[3], f[4], "aGFzaA"),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := CheckPassword(h, "password1")
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("CheckPassword(%q) = %v, %v; want false, ErrInvalidHash", h, ok, err)
			}
			if _, err := NeedsRehash(h); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("NeedsRehash(%q) error = %v; want ErrInvalidHash", h, err)
			}
		})
	}

	// A hash with one character of the key changed parses but does not match.
	tampered := join(f[1], f[2], f[3], f[4], flip(f[5]))
	if ok, err := CheckPassword(tampered, "password1"); ok || err != nil {
		t.Errorf("CheckPassword(tampered key) = %v, %v; want false, nil", ok, err)
	}
	// So does one with the salt changed, or with other parameters.
	tampered = join(f[1], f[2], f[3], flip(f[4]), f[5])
	if ok, err := CheckPassword(tampered, "password1"); ok || err != nil {
		t.Errorf("CheckPassword(tampered salt) = %v, %v; want false, nil", ok, err)
	}
	tampered = join(f[1], f[2], "m=19456,t=3,p=1", f[4], f[5])
	if ok, err := CheckPassword(tampered, "password1"); ok || err != nil {
		t.Errorf("CheckPassword(tampered t) = %v, %v; want false, nil", ok, err)
	}
}

// flip changes the first character of a base64 string to another valid one.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		pw   string
		want error
	}{
		{"", ErrPasswordTooShort},
		{"1234567", ErrPasswordTooShort},
		{"12345678", nil},
		{"mậtkhẩu", ErrPasswordTooShort}, // 7 characters, more bytes
		{"mậtkhẩu1", nil},
		{strings.Repeat("a", MaxPasswordLen), nil},
		{strings.Repeat("a", MaxPasswordLen+1), ErrPasswordTooLong},
	}
	for _, tt := range tests {
		if err := ValidatePassword(tt.pw); err != tt.want {
			t.Errorf("ValidatePassword(%q) = %v, want %v", tt.pw, err, tt.want)
		}
	}
	if msg := ErrPasswordTooShort.Error(); msg != "password must be at least 8 characters long" {
		t.Errorf("ErrPasswordTooShort says %q", msg)
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewToken()
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Fatalf("NewToken() = %q, want 43 base64url characters", tok)
		}
		if b, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(b) != 32 {
			t.Fatalf("NewToken() = %q decodes to %d bytes, %v", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2.
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s, want %s", got, want)
	}
	tok := NewToken()
	if HashToken(tok) == HashToken(NewToken()) {
		t.Error("two tokens hash alike")
	}
}

func TestNewAPIKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		key, prefix := NewAPIKey()
		if !regexp.MustCompile(`^cjm_sk_[a-z2-7]{40}$`).MatchString(key) {
			t.Fatalf("NewAPIKey() key = %q", key)
		}
		if len(prefix) != 12 || !strings.HasPrefix(key, prefix) {
			t.Fatalf("NewAPIKey() prefix = %q for key %q", prefix, key)
		}
		if seen[key] {
			t.Fatalf("NewAPIKey() repeated %q", key)
		}
		seen[key] = true
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
