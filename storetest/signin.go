package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// SignInStore is what RunSignIn tests: accounts, their credentials and
// web sessions, of one store.
type SignInStore interface {
	AccountStore
	cyberpact.SessionStore
}

// RunSignIn runs the suite of cyberpact.SessionStore. open returns a new,
// empty store for each subtest; RunSignIn closes it.
func RunSignIn(t *testing.T, open func(t *testing.T) SignInStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s SignInStore)
	}{
		{"CredentialsSetReadAndAudited", testCredentials},
		{"SessionRoundTripsWithCurrentGroups", testSessionRoundTrip},
		{"DisablingEndsSessionsAndKeys", testDisableEnds},
		{"PasswordChangeEndsSessions", testPasswordEnds},
		{"RecoveryCodesWorkOnce", testRecoveryOnce},
		{"TOTPStepAcceptedOnce", testTOTPStepOnce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func testCredentials(t *testing.T, s SignInStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Acme", "GB", "finance")
	u := mkUser(t, s, "alice", o.ID, cyberpact.RoleAnalyst)
	c, err := s.Credentials(ctx, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if c.User.ID != u.ID || c.Password != "" || c.TOTP != "" || c.Disabled || c.OrgRequiresTOTP {
		t.Errorf("new user's credentials = %+v; want none set", c)
	}
	before := len(accountEntries(t, s))
	if err := s.SetPassword(ctx, u.ID, "$argon2id$x", "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTOTP(ctx, u.ID, "JBSWY3DPEHPK3PXP", [][32]byte{sha256.Sum256([]byte("a"))}, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOrgRequiresTOTP(ctx, o.ID, true, "cli"); err != nil {
		t.Fatal(err)
	}
	c, err = s.Credentials(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if c.Password != "$argon2id$x" || c.TOTP != "JBSWY3DPEHPK3PXP" || !c.OrgRequiresTOTP {
		t.Errorf("credentials = %+v; want password, TOTP and the org's requirement set", c)
	}
	if n := len(accountEntries(t, s)) - before; n != 3 {
		t.Errorf("%d audit entries for 3 credential changes", n)
	}
	_, err = s.Credentials(ctx, "nobody")
	wantCode(t, "Credentials(nobody)", err, cyberpact.ENOTFOUND)
	wantCode(t, "SetPassword(unknown)", s.SetPassword(ctx, 9999, "x", "cli"), cyberpact.ENOTFOUND)
	wantCode(t, "SetOrgRequiresTOTP(unknown)", s.SetOrgRequiresTOTP(ctx, 9999, true, "cli"), cyberpact.ENOTFOUND)
}

func mkSession(t *testing.T, s SignInStore, user int64, groups []int64, token string) [32]byte {
	t.Helper()
	h := sha256.Sum256([]byte(token))
	now := time.UnixMicro(time.Now().UnixMicro()).UTC()
	if err := s.CreateSession(context.Background(), &cyberpact.Session{Hash: h, User: user, Created: now, Seen: now, Groups: groups, CSRF: "csrf-" + token}); err != nil {
		t.Fatal(err)
	}
	return h
}

func testSessionRoundTrip(t *testing.T, s SignInStore) {
	ctx := context.Background()
	a := mkOrg(t, s, "Acme", "GB", "finance")
	b := mkOrg(t, s, "Beta", "FR", "energy")
	g := &cyberpact.Group{Name: "G", Orgs: []int64{a.ID, b.ID}}
	if err := s.CreateGroup(ctx, g, "cli"); err != nil {
		t.Fatal(err)
	}
	u := mkUser(t, s, "alice", a.ID, cyberpact.RoleAnalyst)
	h := mkSession(t, s, u.ID, []int64{g.ID}, "t1")
	st, err := s.Session(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if st.Session.User != u.ID || st.Session.CSRF != "csrf-t1" || st.Session.Verified || !cmp.Equal(st.Session.Groups, []int64{g.ID}) {
		t.Errorf("session = %+v", st.Session)
	}
	if st.Principal.User.Name != "alice" || st.Principal.Org.ID != a.ID || !cmp.Equal(st.Principal.Groups, []int64{g.ID}) {
		t.Errorf("principal = %+v", st.Principal)
	}
	later := st.Session.Seen.Add(time.Minute)
	if err := s.TouchSession(ctx, h, later, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupOrgs(ctx, g.ID, []int64{b.ID}, "cli"); err != nil {
		t.Fatal(err)
	}
	st, err = s.Session(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Session.Seen.Equal(later) || !st.Session.Verified {
		t.Errorf("after touch: seen %v verified %v; want %v true", st.Session.Seen, st.Session.Verified, later)
	}
	if len(st.Principal.Groups) != 0 || !cmp.Equal(st.Session.Groups, []int64{g.ID}) {
		t.Errorf("after the org left the group: current groups %v, at sign-in %v", st.Principal.Groups, st.Session.Groups)
	}
	if err := s.DeleteSession(ctx, h); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx, h)
	wantCode(t, "Session after DeleteSession", err, cyberpact.ENOTFOUND)
	if err := s.DeleteSession(ctx, h); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}
}

func testDisableEnds(t *testing.T, s SignInStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Acme", "GB", "finance")
	u := mkUser(t, s, "alice", o.ID, cyberpact.RoleAnalyst)
	other := mkUser(t, s, "bob", o.ID, cyberpact.RoleAnalyst)
	key, _ := mkKey(t, s, u.ID)
	h := mkSession(t, s, u.ID, nil, "t1")
	hb := mkSession(t, s, other.ID, nil, "t2")
	if err := s.SetDisabled(ctx, u.ID, true, "cli"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Session(ctx, h)
	wantCode(t, "Session of a disabled user", err, cyberpact.ENOTFOUND)
	_, err = s.Authenticate(ctx, "", key)
	wantCode(t, "Authenticate with a disabled user's key", err, cyberpact.EUNAUTHORIZED)
	if _, err := s.Session(ctx, hb); err != nil {
		t.Errorf("another user's session ended too: %v", err)
	}
	if c, err := s.Credentials(ctx, "alice"); err != nil || !c.Disabled {
		t.Errorf("Credentials = %+v, %v; want disabled", c, err)
	}
	if err := s.SetDisabled(ctx, u.ID, false, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "", key); err != nil {
		t.Errorf("key of a re-enabled user: %v", err)
	}
}

func testPasswordEnds(t *testing.T, s SignInStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Acme", "GB", "finance")
	u := mkUser(t, s, "alice", o.ID, cyberpact.RoleAnalyst)
	h := mkSession(t, s, u.ID, nil, "t1")
	if err := s.SetPassword(ctx, u.ID, "$argon2id$y", "alice"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Session(ctx, h)
	wantCode(t, "Session after a password change", err, cyberpact.ENOTFOUND)
}

func testRecoveryOnce(t *testing.T, s SignInStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Acme", "GB", "finance")
	u := mkUser(t, s, "alice", o.ID, cyberpact.RoleAnalyst)
	v := mkUser(t, s, "bob", o.ID, cyberpact.RoleAnalyst)
	c1, c2 := sha256.Sum256([]byte("one")), sha256.Sum256([]byte("two"))
	if err := s.SetTOTP(ctx, u.ID, "JBSWY3DPEHPK3PXP", [][32]byte{c1, c2}, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		user int64
		code [32]byte
		want bool
	}{
		{"another user's code", v.ID, c1, false},
		{"first use", u.ID, c1, true},
		{"second use", u.ID, c1, false},
		{"the other code", u.ID, c2, true},
	} {
		ok, err := s.UseRecoveryCode(ctx, tc.user, tc.code)
		if err != nil || ok != tc.want {
			t.Errorf("%s: UseRecoveryCode = %v, %v; want %v", tc.what, ok, err, tc.want)
		}
	}
	if err := s.SetTOTP(ctx, u.ID, "", nil, "alice"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Credentials(ctx, "alice"); c.TOTP != "" {
		t.Errorf("TOTP after removal = %q", c.TOTP)
	}
}

func testTOTPStepOnce(t *testing.T, s SignInStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Acme", "GB", "finance")
	u := mkUser(t, s, "alice", o.ID, cyberpact.RoleAnalyst)
	v := mkUser(t, s, "bob", o.ID, cyberpact.RoleAnalyst)
	for _, tc := range []struct {
		what       string
		user, step int64
		want       bool
	}{
		{"first code", u.ID, 100, true},
		{"the same step again", u.ID, 100, false},
		{"an earlier step", u.ID, 99, false},
		{"another user's same step", v.ID, 100, true},
		{"the next step", u.ID, 101, true},
	} {
		ok, err := s.UseTOTPStep(ctx, tc.user, tc.step)
		if err != nil || ok != tc.want {
			t.Errorf("%s: UseTOTPStep = %v, %v; want %v", tc.what, ok, err, tc.want)
		}
	}
	// A new secret starts over.
	if err := s.SetTOTP(ctx, u.ID, "JBSWY3DPEHPK3PXP", nil, "alice"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.UseTOTPStep(ctx, u.ID, 50); err != nil || !ok {
		t.Errorf("after a new secret: UseTOTPStep(50) = %v, %v; want true", ok, err)
	}
}
