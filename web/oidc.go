package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/cyberpact/cyberpact"
	"golang.org/x/oauth2"
)

// OIDC is single sign-on through an OpenID Connect provider: the
// authorization code flow with PKCE (S256), a state and a nonce kept in a
// short-lived HttpOnly cookie, and the ID token verified (signature,
// issuer, audience, expiry, nonce) by coreos/go-oidc. The token's claims
// name the user and map it to an organisation and a role:
//
//   - UserClaim (preferred_username by default) is the user's name on the
//     hub; a user signing in the first time is created with actor "oidc".
//   - OrgClaim (org by default) names its organisation: a string, or a
//     list of which the first that names an organisation counts. A user
//     whose claim names none is refused, and so is an existing user whose
//     claim names another organisation than its own.
//   - RoleClaim (role by default) is the role a new user gets: analyst,
//     reader or org-admin; DefaultRole when absent. Hub admins and sync
//     accounts are never made through sign-in.
//
// The provider is in charge of its users' second factor: a session from
// it is verified, although an organisation that requires a second factor
// still has its users enrol one with the hub.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends the browser back:
	// the hub's external URL and /login/oidc/callback.
	RedirectURL string
	UserClaim   string
	OrgClaim    string
	RoleClaim   string
	DefaultRole cyberpact.Role

	mu       sync.Mutex
	provider *oidc.Provider
}

// oidcCookie holds the flow's state, nonce, PKCE verifier and the page to
// go on to, for the ten minutes a sign-in may take.
const oidcCookie = "cyberpact_oidc"

// oidcRoles are the roles sign-in may give a new user.
var oidcRoles = []cyberpact.Role{cyberpact.RoleAnalyst, cyberpact.RoleReader, cyberpact.RoleOrgAdmin}

func (h *Handler) registerOIDC() {
	h.get("GET /login/oidc", anyone, h.oidcStart)
	h.get("GET /login/oidc/callback", anyone, h.oidcCallback)
}

// setup discovers the provider at the first sign-in, and again after a
// failed discovery.
func (o *OIDC) setup(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		// Discovery outlives this request: the provider keeps using the
		// context for its key set.
		p, err := oidc.NewProvider(context.WithoutCancel(ctx), o.Issuer)
		if err != nil {
			return nil, nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "the single sign-on provider does not answer", Err: err}
		}
		o.provider = p
	}
	cfg := &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: o.provider.Endpoint(),
		RedirectURL: o.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	return o.provider, cfg, nil
}

func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request, c *call) error {
	if h.OIDC == nil {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub has no single sign-on")
	}
	_, cfg, err := h.OIDC.setup(r.Context())
	if err != nil {
		return err
	}
	state, nonce, verifier := newToken(), newToken(), oauth2.GenerateVerifier()
	next := base64.RawURLEncoding.EncodeToString([]byte(localPath(r.URL.Query().Get("next"))))
	http.SetCookie(w, h.cookie(r, oidcCookie, state+"."+nonce+"."+verifier+"."+next, 600))
	http.Redirect(w, r, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
	return nil
}

// errOIDC refuses a callback that is not the end of a sign-in this
// browser began.
var errOIDC = cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "the single sign-on did not complete: start it again from the sign-in page")

func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request, c *call) error {
	if h.OIDC == nil {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub has no single sign-on")
	}
	ctx := r.Context()
	ck, err := r.Cookie(oidcCookie)
	if err != nil {
		return errOIDC
	}
	http.SetCookie(w, h.cookie(r, oidcCookie, "", -1))
	parts := strings.Split(ck.Value, ".")
	q := r.URL.Query()
	if len(parts) != 4 || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(parts[0])) != 1 {
		return errOIDC
	}
	if e := q.Get("error"); e != "" {
		return cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "the single sign-on provider refused: %s", e)
	}
	nonce, verifier := parts[1], parts[2]
	nextB, _ := base64.RawURLEncoding.DecodeString(parts[3])
	provider, cfg, err := h.OIDC.setup(ctx)
	if err != nil {
		return err
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return &cyberpact.Error{Code: cyberpact.EUNAUTHORIZED, Message: "the single sign-on provider did not accept the sign-in", Err: err}
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "the single sign-on provider sent no ID token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: h.OIDC.ClientID}).Verify(ctx, raw)
	if err != nil {
		return &cyberpact.Error{Code: cyberpact.EUNAUTHORIZED, Message: "the ID token is not valid", Err: err}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return errOIDC
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return &cyberpact.Error{Code: cyberpact.EUNAUTHORIZED, Message: "the ID token's claims are not readable", Err: err}
	}
	u, err := h.oidcUser(ctx, claims)
	if err != nil {
		return err
	}
	p, err := h.principalOf(ctx, *u)
	if err != nil {
		return err
	}
	if err := h.startSession(w, r, c, p, true); err != nil {
		return err
	}
	http.Redirect(w, r, localPath(string(nextB)), http.StatusSeeOther)
	return nil
}

func claimOr(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

// oidcUser maps the claims of an ID token to a user of the hub, creating
// it the first time.
func (h *Handler) oidcUser(ctx context.Context, claims map[string]any) (*cyberpact.User, error) {
	o := h.OIDC
	userClaim, orgClaim, roleClaim := claimOr(o.UserClaim, "preferred_username"), claimOr(o.OrgClaim, "org"), claimOr(o.RoleClaim, "role")
	name, _ := claims[userClaim].(string)
	if err := cyberpact.CheckUserName(name); err != nil {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "the single sign-on claim %q does not give a user name this hub accepts: %s", userClaim, cyberpact.ErrorMessage(err))
	}
	var orgNames []string
	switch v := claims[orgClaim].(type) {
	case string:
		orgNames = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				orgNames = append(orgNames, s)
			}
		}
	}
	var org *cyberpact.Org
	for _, n := range orgNames {
		found, err := h.Store.OrgByName(ctx, n)
		if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		org = found
		break
	}
	if org == nil {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "the single sign-on claim %q names no organisation of this hub", orgClaim)
	}
	cred, err := h.Store.Credentials(ctx, name)
	switch {
	case err == nil:
		if cred.Disabled {
			return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "the user %q is disabled", name)
		}
		if cred.User.Org != org.ID {
			return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "the user %q belongs to another organisation than the one its single sign-on names", name)
		}
		return &cred.User, nil
	case cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND:
		return nil, err
	}
	role := o.DefaultRole
	if role == "" {
		role = cyberpact.RoleAnalyst
	}
	if s, ok := claims[roleClaim].(string); ok && s != "" {
		if !slices.Contains(oidcRoles, cyberpact.Role(s)) {
			return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "the single sign-on claim %q gives role %q; sign-in makes only %s users", roleClaim, s, roleList(oidcRoles))
		}
		role = cyberpact.Role(s)
	}
	u := &cyberpact.User{Name: name, Org: org.ID, Role: role}
	if err := h.Store.CreateUser(ctx, u, "oidc"); err != nil {
		return nil, err
	}
	return u, nil
}

func roleList(rs []cyberpact.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return fmt.Sprint(strings.Join(s, ", "))
}
