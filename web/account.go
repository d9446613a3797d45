package web

import (
	"net/http"

	"github.com/cyberpact/cyberpact"
)

// The account page: the user's organisation and role, its password and
// second factor; for org admins and hub admins, whether the organisation
// requires a second factor.

func (h *Handler) registerAccount() {
	h.get("GET /account", signedIn, h.account)
	h.post("POST /account/password", signedIn, h.changePassword)
}

type accountPage struct {
	Name, Org, Role string
	OrgID           int64
	TOTP            bool
	Required        bool // by the hub or the organisation
	OrgRequires     bool
	MayRequire      bool // the user may set the organisation's requirement
	Error           string
	Done            string
}

func (h *Handler) accountPage(c *call) accountPage {
	p := c.st.Principal
	return accountPage{Name: p.User.Name, Org: p.Org.Name, OrgID: p.Org.ID, Role: string(p.User.Role), TOTP: c.st.TOTP,
		Required: h.RequireTOTP || c.st.OrgRequiresTOTP, OrgRequires: c.st.OrgRequiresTOTP,
		MayRequire: p.User.Role == cyberpact.RoleAdmin || p.User.Role == cyberpact.RoleOrgAdmin}
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request, c *call) error {
	h.render(w, r, http.StatusOK, "account", c, h.accountPage(c))
	return nil
}

// changePassword sets a new password once the current one is given (a
// user without one, signed in through the OIDC provider, sets a first).
// The store ends every session of the user, and this browser gets a new
// one.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	p := c.st.Principal
	pg := h.accountPage(c)
	cred, err := h.Store.Credentials(ctx, p.User.Name)
	if err != nil {
		return err
	}
	if wait := h.API.LoginBlocked(r, p.User.Name); wait > 0 {
		return &tooMany{wait}
	}
	cur, pw, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("again")
	switch {
	case cred.Password != "" && !VerifyPassword(cred.Password, cur):
		h.API.LoginFailed(r, p.User.Name)
		pg.Error = "The current password is not right."
	case pw != again:
		pg.Error = "The new password and its repetition differ."
	default:
		if err := CheckPassword(pw); err != nil {
			pg.Error = cyberpact.ErrorMessage(err) + "."
		}
	}
	if pg.Error != "" {
		h.render(w, r, http.StatusBadRequest, "account", c, pg)
		return nil
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	if err := h.Store.SetPassword(ctx, p.User.ID, hash, p.User.Name); err != nil {
		return err
	}
	if err := h.startSession(w, r, c, &p, true); err != nil {
		return err
	}
	c.st.TOTP, c.st.OrgRequiresTOTP = pg.TOTP, pg.OrgRequires
	pg.Done = "Your password is changed; your other sessions have ended."
	h.render(w, r, http.StatusOK, "account", c, pg)
	return nil
}
