package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store keeps sign-in credentials and sessions.
var _ cyberpact.SessionStore = (*Store)(nil)

// Credentials returns the user of that name with its credentials.
// Returns ENOTFOUND.
func (s *Store) Credentials(ctx context.Context, name string) (*cyberpact.Credentials, error) {
	a := s.d.Args()
	var c cyberpact.Credentials
	var role string
	var created, disabled, require int64
	err := s.read.QueryRowContext(ctx, `SELECT u.id, u.name, u.org, u.role, u.created, u.disabled, u.password, u.totp, o.require_totp
		FROM users u JOIN orgs o ON o.id = u.org WHERE `+s.d.NameIs("u.name", a, name), a.Vals...).Scan(
		&c.User.ID, &c.User.Name, &c.User.Org, &role, &created, &disabled, &c.Password, &c.TOTP, &require)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no user named %q", name)
	}
	if err != nil {
		return nil, internal("reading credentials", err)
	}
	c.User.Role, c.User.Created = cyberpact.Role(role), micros(created)
	c.Disabled, c.OrgRequiresTOTP = disabled != 0, require != 0
	return &c, nil
}

// userChange runs fn on a user in an audited change: it reads the user's
// name (ENOTFOUND when there is no such user) and records what fn says.
func (s *Store) userChange(ctx context.Context, user int64, actor string, fn func(tx *sql.Tx, name string) (string, error)) error {
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		var name string
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE id = `+a.Add(user)+s.d.ForUpdate(""), a.Vals...).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no user with id %d", user)
		}
		if err != nil {
			return "", internal("reading user", err)
		}
		return fn(tx, name)
	})
}

// SetPassword stores a password hash for a user ("" removes it). The
// user's sessions end: a changed password signs out every browser.
func (s *Store) SetPassword(ctx context.Context, user int64, hash, actor string) error {
	return s.userChange(ctx, user, actor, func(tx *sql.Tx, name string) (string, error) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password = `+a.Add(hash)+` WHERE id = `+a.Add(user), a.Vals...); err != nil {
			return "", internal("setting password", err)
		}
		if err := deleteSessions(ctx, tx, s.d, user); err != nil {
			return "", err
		}
		if hash == "" {
			return fmt.Sprintf("removed the password of user %q", name), nil
		}
		return fmt.Sprintf("set the password of user %q", name), nil
	})
}

// SetDisabled disables or enables a user; disabling ends its sessions.
func (s *Store) SetDisabled(ctx context.Context, user int64, disabled bool, actor string) error {
	return s.userChange(ctx, user, actor, func(tx *sql.Tx, name string) (string, error) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = `+a.Add(flag(disabled))+` WHERE id = `+a.Add(user), a.Vals...); err != nil {
			return "", internal("disabling user", err)
		}
		if !disabled {
			return fmt.Sprintf("enabled user %q", name), nil
		}
		if err := deleteSessions(ctx, tx, s.d, user); err != nil {
			return "", err
		}
		return fmt.Sprintf("disabled user %q", name), nil
	})
}

// SetTOTP enrols a TOTP secret with its recovery codes' hashes, replacing
// any earlier ones; "" removes the second factor and its codes.
func (s *Store) SetTOTP(ctx context.Context, user int64, secret string, recovery [][32]byte, actor string) error {
	return s.userChange(ctx, user, actor, func(tx *sql.Tx, name string) (string, error) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp = `+a.Add(secret)+`, totp_step = 0 WHERE id = `+a.Add(user), a.Vals...); err != nil {
			return "", internal("setting second factor", err)
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = `+a.Add(user), a.Vals...); err != nil {
			return "", internal("setting second factor", err)
		}
		if secret == "" {
			return fmt.Sprintf("removed the second factor of user %q", name), nil
		}
		for _, h := range recovery {
			a = s.d.Args()
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (`+a.Add(user)+`, `+a.Add(h[:])+`)`, a.Vals...); err != nil {
				return "", internal("storing recovery codes", err)
			}
		}
		return fmt.Sprintf("enrolled a TOTP second factor for user %q with %d recovery codes", name, len(recovery)), nil
	})
}

// UseTOTPStep records the time step of an accepted TOTP code, reporting
// false when the user gave a code of that step or a later one before.
func (s *Store) UseTOTPStep(ctx context.Context, user int64, step int64) (bool, error) {
	a := s.d.Args()
	res, err := s.write.ExecContext(ctx, `UPDATE users SET totp_step = `+a.Add(step)+` WHERE id = `+a.Add(user)+` AND totp_step < `+a.Add(step), a.Vals...)
	if err != nil {
		return false, internal("recording a TOTP code", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("recording a TOTP code", err)
	}
	return n == 1, nil
}

// UseRecoveryCode deletes the user's recovery code of that hash,
// reporting whether there was one: each code works once.
func (s *Store) UseRecoveryCode(ctx context.Context, user int64, hash [32]byte) (bool, error) {
	a := s.d.Args()
	res, err := s.write.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = `+a.Add(user)+` AND hash = `+a.Add(hash[:]), a.Vals...)
	if err != nil {
		return false, internal("using a recovery code", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("using a recovery code", err)
	}
	return n == 1, nil
}

// SetOrgRequiresTOTP sets whether an organisation requires a second
// factor of its users.
func (s *Store) SetOrgRequiresTOTP(ctx context.Context, org int64, require bool, actor string) error {
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		names, err := s.orgNames(ctx, tx, []int64{org})
		if err != nil {
			return "", err
		}
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE orgs SET require_totp = `+a.Add(flag(require))+` WHERE id = `+a.Add(org), a.Vals...); err != nil {
			return "", internal("setting second factor requirement", err)
		}
		if require {
			return fmt.Sprintf("organisation %q requires a second factor of its users", names[0]), nil
		}
		return fmt.Sprintf("organisation %q no longer requires a second factor", names[0]), nil
	})
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func deleteSessions(ctx context.Context, q querier, d Dialect, user int64) error {
	a := d.Args()
	if _, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = `+a.Add(user), a.Vals...); err != nil {
		return internal("ending sessions", err)
	}
	return nil
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ss *cyberpact.Session) error {
	groups := make([]string, len(ss.Groups))
	for i, g := range ss.Groups {
		groups[i] = strconv.FormatInt(g, 10)
	}
	a := s.d.Args()
	_, err := s.write.ExecContext(ctx, `INSERT INTO web_sessions (hash, user_id, created, seen, org_groups, csrf, verified)
		VALUES (`+a.Add(ss.Hash[:])+`, `+a.Add(ss.User)+`, `+a.Add(ToMicros(ss.Created))+`, `+a.Add(ToMicros(ss.Seen))+`, `+
		a.Add(strings.Join(groups, ","))+`, `+a.Add(ss.CSRF)+`, `+a.Add(flag(ss.Verified))+`)`, a.Vals...)
	if err != nil {
		return internal("storing session", err)
	}
	return nil
}

// Session returns the session whose token hashes to hash, with its
// user, organisation and groups as they are now. Returns ENOTFOUND.
func (s *Store) Session(ctx context.Context, hash [32]byte) (*cyberpact.SessionState, error) {
	var st cyberpact.SessionState
	ss, p := &st.Session, &st.Principal
	var created, seen, verified, ucreated, ocreated, disabled, require int64
	var role, sgroups, groups, totp, clearances string
	a := s.d.Args()
	err := s.read.QueryRowContext(ctx, `SELECT ws.user_id, ws.created, ws.seen, ws.org_groups, ws.csrf, ws.verified,
			u.name, u.org, u.role, u.created, u.disabled, u.totp, o.id, o.name, o.nation, o.sector, o.clearances, o.created, o.require_totp,
			COALESCE((SELECT `+s.d.ListInts("grp")+` FROM group_orgs WHERE org = o.id), '')
		FROM web_sessions ws JOIN users u ON u.id = ws.user_id JOIN orgs o ON o.id = u.org
		WHERE ws.hash = `+a.Add(hash[:]), a.Vals...).Scan(&ss.User, &created, &seen, &sgroups, &ss.CSRF, &verified,
		&p.User.Name, &p.User.Org, &role, &ucreated, &disabled, &totp, &p.Org.ID, &p.Org.Name, &p.Org.Nation, &p.Org.Sector, &clearances, &ocreated, &require,
		&groups)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no such session")
	}
	if err != nil {
		return nil, internal("reading session", err)
	}
	ss.Hash, ss.Created, ss.Seen, ss.Verified = hash, micros(created), micros(seen), verified != 0
	p.Org.Clearances = clearancesOf(clearances)
	p.User.ID, p.User.Role, p.User.Created, p.Org.Created = ss.User, cyberpact.Role(role), micros(ucreated), micros(ocreated)
	st.Disabled, st.TOTP, st.OrgRequiresTOTP = disabled != 0, totp != "", require != 0
	if ss.Groups, err = parseInts(sgroups); err != nil {
		return nil, internal("reading session", err)
	}
	if p.Groups, err = parseInts(groups); err != nil {
		return nil, internal("reading session", err)
	}
	return &st, nil
}

// TouchSession records the session's last request and, when verified,
// that its second factor was given.
func (s *Store) TouchSession(ctx context.Context, hash [32]byte, seen time.Time, verified bool) error {
	a := s.d.Args()
	q := `UPDATE web_sessions SET seen = ` + a.Add(ToMicros(seen))
	if verified {
		q += `, verified = 1`
	}
	if _, err := s.write.ExecContext(ctx, q+` WHERE hash = `+a.Add(hash[:]), a.Vals...); err != nil {
		return internal("updating session", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash [32]byte) error {
	a := s.d.Args()
	if _, err := s.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE hash = `+a.Add(hash[:]), a.Vals...); err != nil {
		return internal("ending session", err)
	}
	return nil
}

// DeleteSessions ends every session of a user.
func (s *Store) DeleteSessions(ctx context.Context, user int64) error {
	return deleteSessions(ctx, s.write, s.d, user)
}
