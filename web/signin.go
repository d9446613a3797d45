package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/pquerna/otp/totp"
)

// Signing in with a password, then the second factor when the user has
// one. A failed password or code counts against the API's failed-login
// limit, per user name from one client address and per address, so that
// guessing is slow while the real user, elsewhere, can still sign in. A
// wrong name and a wrong password get the same answer after the same
// work (a name without a password is checked against a dummy hash).

func (h *Handler) registerSignIn() {
	h.get("GET /login", anyone, h.loginForm)
	h.post("POST /login", anyone, h.login)
	h.get("GET /login/totp", pending, h.totpForm)
	h.post("POST /login/totp", pending, h.totpLogin)
	h.post("POST /logout", anyone, h.logout)
}

type loginPage struct {
	Next     string
	Username string
	Error    string
	OIDC     bool
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request, c *call) error {
	next := localPath(r.URL.Query().Get("next"))
	if c.st != nil && c.st.Session.Verified {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	c.flash = endedWhy[r.URL.Query().Get("ended")]
	h.render(w, r, http.StatusOK, "login", c, loginPage{Next: next, OIDC: h.OIDC != nil})
	return nil
}

// errSignIn is the one answer to a wrong user name or password.
const errSignIn = "The user name or password is not right."

func (h *Handler) login(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	if wait := h.API.LoginBlocked(r, name); wait > 0 {
		return &tooMany{wait}
	}
	cred, err := h.Store.Credentials(ctx, name)
	if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		return err
	}
	ok := false
	if cred == nil || cred.Password == "" {
		VerifyPassword(dummyHash(), pw)
	} else {
		ok = VerifyPassword(cred.Password, pw) && !cred.Disabled
	}
	if !ok {
		h.API.LoginFailed(r, name)
		h.render(w, r, http.StatusUnauthorized, "login", c, loginPage{Next: next, Username: name, Error: errSignIn, OIDC: h.OIDC != nil})
		return nil
	}
	p, err := h.principalOf(ctx, cred.User)
	if err != nil {
		return err
	}
	if err := h.startSession(w, r, c, p, cred.TOTP == ""); err != nil {
		return err
	}
	if cred.TOTP != "" {
		next = "/login/totp?next=" + urlQueryEscape(next)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// principalOf returns u with its organisation and groups as they are now.
func (h *Handler) principalOf(ctx context.Context, u cyberpact.User) (*cyberpact.Principal, error) {
	o, err := h.Store.OrgByID(ctx, u.Org)
	if err != nil {
		return nil, err
	}
	groups, err := h.Store.GroupsOf(ctx, u.Org)
	if err != nil {
		return nil, err
	}
	return &cyberpact.Principal{User: u, Org: *o, Groups: groups}, nil
}

type totpPage struct {
	Next  string
	Error string
}

func (h *Handler) totpForm(w http.ResponseWriter, r *http.Request, c *call) error {
	next := localPath(r.URL.Query().Get("next"))
	if c.st == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	if c.st.Session.Verified {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	h.render(w, r, http.StatusOK, "totp", c, totpPage{Next: next})
	return nil
}

// totpLogin checks the second factor: a current TOTP code, or one of the
// user's unused recovery codes. Given, the session is replaced by a new,
// verified one.
func (h *Handler) totpLogin(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.st == nil {
		return errSignedOut
	}
	ctx := r.Context()
	next := localPath(r.PostFormValue("next"))
	if c.st.Session.Verified {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	name := c.st.Principal.User.Name
	if wait := h.API.LoginBlocked(r, name); wait > 0 {
		return &tooMany{wait}
	}
	cred, err := h.Store.Credentials(ctx, name)
	if err != nil {
		return err
	}
	code := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("code")), " ", "")
	ok := false
	if step, valid := validTOTP(code, cred.TOTP, h.now()); valid {
		// A code is accepted once: a second use, from anywhere, fails.
		if ok, err = h.Store.UseTOTPStep(ctx, cred.User.ID, step); err != nil {
			return err
		}
	}
	if !ok && cred.TOTP != "" && len(code) > 6 {
		ok, err = h.Store.UseRecoveryCode(ctx, cred.User.ID, recoveryHash(code))
		if err != nil {
			return err
		}
	}
	if !ok {
		h.API.LoginFailed(r, name)
		h.render(w, r, http.StatusUnauthorized, "totp", c, totpPage{Next: next, Error: "That code is not right, or has expired."})
		return nil
	}
	p := c.st.Principal
	if err := h.startSession(w, r, c, &p, true); err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// validTOTP reports whether code is the TOTP code of secret for the time
// step of now or the one before or after (clocks drift), and which step.
func validTOTP(code, secret string, now time.Time) (int64, bool) {
	if secret == "" || len(code) != 6 {
		return 0, false
	}
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew) * 30 * time.Second)
		want, err := totp.GenerateCode(secret, t)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / 30, true
		}
	}
	return 0, false
}

// recoveryHash is what the store keeps of a recovery code: the SHA-256 of
// its upper-case form without dashes.
func recoveryHash(code string) [32]byte {
	return sha256.Sum256([]byte(strings.ToUpper(strings.ReplaceAll(code, "-", ""))))
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := h.endSession(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
