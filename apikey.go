package cyberpact

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The rules for account data that every store applies the same way: the
// form of API keys, sectors, actors, key expiries and stored text.

// APIKeyPrefix starts every API key, so that a leaked key is recognisable
// (secret scanners, logs) for what it is.
const APIKeyPrefix = "cpk_"

// apiKeyEncoding writes a key's 32 random bytes as 52 lower-case characters.
var apiKeyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// apiKeyLen is the length of a key: the prefix and 32 random bytes.
var apiKeyLen = len(APIKeyPrefix) + apiKeyEncoding.EncodedLen(32)

// apiKeyShown is how many characters of a key are kept as its Prefix.
const apiKeyShown = 12

// NewAPIKey makes a key from 32 bytes of crypto/rand: the key itself (to
// show once), its first characters (to tell keys apart) and the SHA-256
// that is all a store keeps.
func NewAPIKey() (key, prefix string, hash [32]byte, err error) {
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", "", hash, fmt.Errorf("making a key: %w", err)
	}
	key = APIKeyPrefix + apiKeyEncoding.EncodeToString(secret[:])
	return key, key[:apiKeyShown], sha256.Sum256([]byte(key)), nil
}

// APIKeyHash returns the SHA-256 a store looks a key up by, and false when
// the text is not of a key's form (then there is nothing to look up).
func APIKeyHash(key string) ([32]byte, bool) {
	if len(key) != apiKeyLen || !strings.HasPrefix(key, APIKeyPrefix) {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(key)), true
}

// ErrInvalidCredentials is the one answer to every failed authentication:
// unknown, expired or revoked key, or a user name that does not own it.
func ErrInvalidCredentials() error {
	return Errorf(EUNAUTHORIZED, "invalid credentials")
}

// CheckSector returns the sector in its stored form (trimmed, lower
// case), or EINVALID when it is not one of Sectors.
func CheckSector(sector string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(sector))
	if !slices.Contains(Sectors, s) {
		return "", Errorf(EINVALID, "sector %q is not one of %s", sector, strings.Join(Sectors, ", "))
	}
	return s, nil
}

// CheckActor refuses a change made by no one.
func CheckActor(actor string) error {
	if actor == "" || !ValidText(actor) {
		return Errorf(EINVALID, "no actor named for the change")
	}
	return nil
}

// CheckKeyExpiry returns a key's expiry as stored (to the microsecond;
// zero: never), or EINVALID when it is not after now.
func CheckKeyExpiry(expires, now time.Time) (time.Time, error) {
	if expires.IsZero() {
		return expires, nil
	}
	expires = time.UnixMicro(expires.UnixMicro()).UTC()
	if !expires.After(now) {
		return time.Time{}, Errorf(EINVALID, "expiry %s is not in the future", expires.Format(time.RFC3339))
	}
	return expires, nil
}

// ValidText reports whether s survives storage and JSON unchanged: valid
// UTF-8 without NUL.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Check reports what makes an audit entry unfit to append: no action or
// actor, text that would not survive storage, or a scope whose range,
// count and runs disagree.
func (e *AuditEntry) Check() error {
	if e == nil {
		return errors.New("nil entry")
	}
	if e.Action == "" {
		return errors.New("no action")
	}
	if e.Actor == "" {
		return errors.New("no actor")
	}
	for _, s := range [...]string{e.Action, e.Actor, e.Via, e.Detail} {
		if !ValidText(s) {
			return fmt.Errorf("text %q is not UTF-8 without NUL", s)
		}
	}
	for _, s := range e.Objects {
		if !ValidText(s) {
			return fmt.Errorf("object %q is not UTF-8 without NUL", s)
		}
	}
	if e.Scope != nil {
		return e.Scope.check()
	}
	return nil
}
