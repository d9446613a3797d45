package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/web"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// partner is a user of the test's OpenID Connect provider whose ID token
// carries the claims the hub maps: its name, organisation and role.
type partner struct {
	name string
	org  any // a string or a list of strings
	role string
}

func (u *partner) ID() string { return "sub-" + u.name }

func (u *partner) Userinfo([]string) ([]byte, error) {
	return []byte(`{"sub":"sub-` + u.name + `"}`), nil
}

type partnerClaims struct {
	*mockoidc.IDTokenClaims
	PreferredUsername string `json:"preferred_username"`
	Org               any    `json:"org,omitempty"`
	Role              string `json:"role,omitempty"`
}

func (u *partner) Claims(_ []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &partnerClaims{IDTokenClaims: c, PreferredUsername: u.name, Org: u.org, Role: u.role}, nil
}

// withOIDC starts a real OpenID Connect provider on 127.0.0.1 and has
// the hub's interface sign in through it.
func withOIDC(t *testing.T, h *hub) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	cfg := m.Config()
	h.ui.OIDC = &web.OIDC{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: h.srv.URL + "/login/oidc/callback", DefaultRole: cyberpact.RoleAnalyst}
	return m
}

// oidcSignIn goes through the flow as a browser does, following each
// redirect, and returns the hub's last answer.
func (c *client) oidcSignIn(next string) page {
	c.t.Helper()
	p := c.get("/login/oidc?next=" + next)
	for i := 0; i < 5 && p.status/100 == 3; i++ {
		loc := p.header.Get("Location")
		if strings.HasPrefix(loc, "/") {
			loc = c.h.srv.URL + loc
		}
		if strings.HasPrefix(loc, c.h.srv.URL) && !strings.Contains(loc, "/login/oidc") {
			return p // signed in and sent on
		}
		req, _ := http.NewRequest("GET", loc, nil)
		p = c.do(req)
	}
	return p
}

func TestOIDCSignIn(t *testing.T) {
	ctx := context.Background()
	h := newHub(t)
	m := withOIDC(t, h)

	t.Run("NewUserCreatedInItsOrgWithItsRole", func(t *testing.T) {
		m.QueueUser(&partner{name: "olga", org: []any{"No Such Org", "Beta"}, role: "reader"})
		c := h.client(t)
		p := c.oidcSignIn("/search")
		wantStatus(t, "OIDC sign-in", p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != "/search" {
			t.Errorf("sent to %q", loc)
		}
		mustContain(t, "dashboard", c.get("/").body, "olga", "Beta", "reader")
		u, err := h.db.UserByName(ctx, "olga")
		if err != nil || u.Org != h.orgs["Beta"].ID || u.Role != cyberpact.RoleReader {
			t.Errorf("user made: %+v, %v", u, err)
		}
		// What olga may see is Beta's: not the hidden red indicator.
		wantStatus(t, "red object", c.get(fmtID(redID)), http.StatusNotFound)
	})
	t.Run("ExistingUserOfItsOrg", func(t *testing.T) {
		m.QueueUser(&partner{name: "alice", org: "Acme"})
		c := h.client(t)
		wantStatus(t, "OIDC sign-in", c.oidcSignIn("/"), http.StatusSeeOther)
		wantStatus(t, "red object", c.get(fmtID(redID)), http.StatusOK)
	})
	for _, tc := range []struct {
		name string
		user *partner
	}{
		{"ExistingUserOfAnotherOrgRefused", &partner{name: "alice", org: "Beta"}},
		{"UnknownOrgRefused", &partner{name: "oscar", org: "Nowhere"}},
		{"AdminRoleRefused", &partner{name: "oscar", org: "Beta", role: "admin"}},
		{"BadUserNameRefused", &partner{name: "o scar", org: "Beta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.QueueUser(tc.user)
			c := h.client(t)
			wantStatus(t, "OIDC sign-in", c.oidcSignIn("/"), http.StatusForbidden)
			if c.cookie("cyberpact_session") != "" {
				t.Errorf("a refused sign-in set a session")
			}
		})
	}
	if _, err := h.db.UserByName(ctx, "oscar"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("a refused sign-in made a user: %v", err)
	}
	t.Run("ForgedStateRefused", func(t *testing.T) {
		c := h.client(t)
		c.get("/login/oidc")
		wantStatus(t, "callback with another state", c.get("/login/oidc/callback?state=forged&code=x"), http.StatusUnauthorized)
	})
	t.Run("OpenRedirectRefused", func(t *testing.T) {
		m.QueueUser(&partner{name: "alice", org: "Acme"})
		p := h.client(t).oidcSignIn("//evil.example/")
		if loc := p.header.Get("Location"); loc != "/" {
			t.Errorf("sent to %q", loc)
		}
	})
}
