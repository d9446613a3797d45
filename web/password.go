package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact"
	"golang.org/x/crypto/argon2"
)

// Passwords are kept as argon2id hashes (RFC 9106) in the PHC string
// form, $argon2id$v=19$m=65536,t=3,p=2$SALT$HASH, so that the parameters
// can be raised later while old hashes still verify with their own.

// Argon2 holds the parameters new hashes are made with: 64 MiB, 3 passes
// (RFC 9106's second recommended option), 2 lanes.
var Argon2 = struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}{64 * 1024, 3, 2}

// Limits of a password's length, in characters.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// CheckPassword says what is wrong with a new password, nil when nothing.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw) || strings.ContainsRune(pw, 0):
		return cyberpact.Errorf(cyberpact.EINVALID, "the password is not valid UTF-8 text")
	case n < MinPasswordLen:
		return cyberpact.Errorf(cyberpact.EINVALID, "the password has %d characters; it needs at least %d", n, MinPasswordLen)
	case n > MaxPasswordLen:
		return cyberpact.Errorf(cyberpact.EINVALID, "the password has more than %d characters", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns the argon2id hash of pw in PHC form, with a fresh
// 16-byte salt.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := Argon2
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches hash, comparing in constant
// time. A hash that is not of the form HashPassword makes matches
// nothing.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 4<<20 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when a sign-in names no user with a
// password, so that the answer takes as long as for a real one.
// It is made at the first use.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("no user has this password")
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return h
})
