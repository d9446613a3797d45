package cyberpact

import (
	"context"
	"time"
)

// People sign in to the web interface with a password (kept as an
// argon2id hash) and, where they enrolled one or their organisation
// requires it, a second factor (TOTP, RFC 6238, with single-use recovery
// codes); or through the hub's OpenID Connect provider. A signed-in
// browser holds a session: a random token in a cookie, of which the store
// keeps only the SHA-256, so that several serve processes on one
// PostgreSQL share sessions and a copy of the store yields none.

// Credentials is what signing a user in needs to know of it.
type Credentials struct {
	User     User
	Disabled bool   // a disabled user signs in nowhere: no session, no API key
	Password string // the argon2id hash in PHC form, "" when the user has no password
	TOTP     string // the base32 TOTP secret, "" when no second factor is enrolled
	// OrgRequiresTOTP says the user's organisation requires a second
	// factor of its users.
	OrgRequiresTOTP bool
}

// Session is one signed-in browser.
type Session struct {
	Hash    [32]byte // SHA-256 of the token the browser holds
	User    int64
	Created time.Time
	Seen    time.Time // last request, to the store's LastSeenEvery
	// Groups are the sharing groups of the user's organisation at sign-in:
	// the session ends when the organisation leaves any of them.
	Groups []int64
	CSRF   string // the token every form of the session carries
	// Verified says the second factor was given, or that none is needed;
	// until then the session may only give it (or enrol one).
	Verified bool
}

// SessionState is a session as read for a request, with its user as
// the store has it now.
type SessionState struct {
	Session   Session
	Principal Principal // the user, organisation and groups now
	Disabled  bool
	TOTP      bool // a second factor is enrolled
	// OrgRequiresTOTP says the user's organisation requires a second factor.
	OrgRequiresTOTP bool
}

// SessionStore keeps users' sign-in credentials and web sessions.
// Changes to credentials are recorded in the audit log; sessions are not.
type SessionStore interface {
	// Credentials returns the user of that name (whatever its case) with
	// its credentials. Returns ENOTFOUND.
	Credentials(ctx context.Context, name string) (*Credentials, error)
	// SetPassword stores a password hash for a user ("" removes the
	// password). Returns ENOTFOUND.
	SetPassword(ctx context.Context, user int64, hash, actor string) error
	// SetDisabled disables or enables a user: a disabled user's sessions
	// end and its API keys stop authenticating. Returns ENOTFOUND.
	SetDisabled(ctx context.Context, user int64, disabled bool, actor string) error
	// SetTOTP enrols a TOTP secret with the hashes of its recovery codes,
	// replacing any earlier ones; an empty secret removes the second
	// factor. Returns ENOTFOUND.
	SetTOTP(ctx context.Context, user int64, secret string, recovery [][32]byte, actor string) error
	// UseTOTPStep records that the user gave the TOTP code of time step
	// step, reporting false when it already gave one of that step or a
	// later one: a code is accepted once (RFC 6238, section 5.2), by
	// whichever serve process sees it first.
	UseTOTPStep(ctx context.Context, user int64, step int64) (bool, error)
	// UseRecoveryCode consumes the recovery code of that hash, reporting
	// whether it was one of the user's unused codes.
	UseRecoveryCode(ctx context.Context, user int64, hash [32]byte) (bool, error)
	// SetOrgRequiresTOTP sets whether an organisation requires its users
	// to sign in with a second factor. Returns ENOTFOUND.
	SetOrgRequiresTOTP(ctx context.Context, org int64, require bool, actor string) error

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose token hashes to hash, with its
	// user's current state. Returns ENOTFOUND.
	Session(ctx context.Context, hash [32]byte) (*SessionState, error)
	// TouchSession records the session's last request, and that its
	// second factor was given when verified is true.
	TouchSession(ctx context.Context, hash [32]byte, seen time.Time, verified bool) error
	// DeleteSession ends one session; ending one that does not exist is
	// no error.
	DeleteSession(ctx context.Context, hash [32]byte) error
	// DeleteSessions ends every session of a user.
	DeleteSessions(ctx context.Context, user int64) error
}
