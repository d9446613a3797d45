package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// redMarks are what of the hidden TLP:RED indicator a page must not show
// to anyone outside its audience (its id too, unless the request named
// it: then the parity check below holds instead).
var redMarks = []string{"Redwing beacon", "ipv4-addr:value", redID, "Operation Nightjar", "Nightjar relay", "Kestrel informant", redIncidentID, redTaskID}

// viewers of the route matrix: signed out; alice of Acme, its producer;
// gina of Gamma, in the group it is shared with; bob of Beta, outside.
var matrixViewers = []struct {
	name    string
	user    string // "" signed out
	seesRed bool
	seesRel bool // the indicator Acme shared with all members, releasable to GB only
}{{"SignedOut", "", false, false}, {"Producer", "alice", true, true}, {"GroupMember", "gina", true, false}, {"Outsider", "bob", false, false}}

// relMarks are what of the indicator releasable to GB only a page must
// not show to anyone of another nation (its id too, unless the request
// named it).
var relMarks = []string{"Kestrel relay", relID2}

// routeCases say, for each route of the interface, how to use it as a
// viewer; the matrix checks that what comes back shows the hidden object
// to nobody outside its audience, and that for those outside it a hidden
// id answers exactly as an id that never existed.
var routeCases = map[string]func(t *testing.T, c *client) []page{
	"GET /{$}":     func(t *testing.T, c *client) []page { return []page{c.get("/")} },
	"GET /static/": func(t *testing.T, c *client) []page { return []page{c.get("/static/style.css")} },
	"GET /login":   func(t *testing.T, c *client) []page { return []page{c.get("/login?next=%2Fsearch")} },
	"POST /login": func(t *testing.T, c *client) []page {
		return []page{c.post("/login", url.Values{"csrf": {c.token()}, "username": {"nobody"}, "password": {"wrong wrong wrong"}, "next": {"/search"}})}
	},
	"GET /login/totp": func(t *testing.T, c *client) []page { return []page{c.get("/login/totp")} },
	"POST /login/totp": func(t *testing.T, c *client) []page {
		return []page{c.post("/login/totp", url.Values{"csrf": {c.token()}, "code": {"123456"}})}
	},
	"POST /logout": func(t *testing.T, c *client) []page {
		return []page{c.post("/logout", url.Values{"csrf": {c.token()}})}
	},
	"GET /login/oidc":          func(t *testing.T, c *client) []page { return []page{c.get("/login/oidc")} },
	"GET /login/oidc/callback": func(t *testing.T, c *client) []page { return []page{c.get("/login/oidc/callback?state=x&code=y")} },
	"GET /account":             func(t *testing.T, c *client) []page { return []page{c.get("/account")} },
	"GET /account/totp":        func(t *testing.T, c *client) []page { return []page{c.get("/account/totp")} },
	"POST /account/totp/remove": func(t *testing.T, c *client) []page {
		return []page{c.post("/account/totp/remove", url.Values{"csrf": {c.token()}})}
	},
	"POST /orgs/{id}/require-totp": func(t *testing.T, c *client) []page {
		return []page{c.post("/orgs/1/require-totp", url.Values{"csrf": {c.token()}})}
	},
	"POST /account/totp": func(t *testing.T, c *client) []page {
		return []page{c.post("/account/totp", url.Values{"csrf": {c.token()}, "secret": {"JBSWY3DPEHPK3PXPJBSWY3DP"}, "code": {"000000"}})}
	},
	"POST /account/password": func(t *testing.T, c *client) []page {
		return []page{c.post("/account/password", url.Values{"csrf": {c.token()}, "current": {"wrong"}, "password": {"x"}, "again": {"y"}})}
	},
	"GET /org": func(t *testing.T, c *client) []page { return []page{c.get("/org")} },
	"POST /org/users": func(t *testing.T, c *client) []page {
		return []page{c.post("/org/users", url.Values{"csrf": {c.token()}, "name": {"mx"}, "role": {"analyst"}})}
	},
	"POST /org/users/{name}/keys": func(t *testing.T, c *client) []page {
		return []page{c.post("/org/users/gina/keys", url.Values{"csrf": {c.token()}}), c.post("/org/users/alice/keys", url.Values{"csrf": {c.token()}})}
	},
	"POST /org/users/{name}/disable": func(t *testing.T, c *client) []page {
		return []page{c.post("/org/users/bob/disable", url.Values{"csrf": {c.token()}})}
	},
	"POST /org/users/{name}/enable": func(t *testing.T, c *client) []page {
		return []page{c.post("/org/users/bob/enable", url.Values{"csrf": {c.token()}})}
	},
	"POST /org/keys/{id}/revoke": func(t *testing.T, c *client) []page {
		return []page{c.post("/org/keys/999999/revoke", url.Values{"csrf": {c.token()}})}
	},
	"GET /publish": func(t *testing.T, c *client) []page { return []page{c.get("/publish")} },
	"POST /publish/indicator": func(t *testing.T, c *client) []page {
		return []page{c.post("/publish/indicator", url.Values{"csrf": {c.token()}, "name": {"x"}, "pattern": {"[bad"}, "audience": {"all"}, "tlp": {"red"}})}
	},
	"POST /publish/bundle": func(t *testing.T, c *client) []page {
		// A sighting of the hidden object is refused exactly as one of an
		// id that never existed (the pasted bundle is echoed back, so the
		// ids are swapped before comparing).
		sighting := func(of, n string) page {
			return c.post("/publish/bundle", url.Values{"csrf": {c.token()}, "audience": {"all"}, "tlp": {"amber"},
				"bundle": {`{"type":"bundle","id":"bundle--12121212-1212-4121-8121-121212121212","objects":[{"type":"sighting","spec_version":"2.1","id":"sighting--13131313-1313-4131-8131-13131313131` + n + `","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","sighting_of_ref":"` + of + `"}]}`}})
		}
		red, never := sighting(redID, "1"), sighting(neverID, "2")
		red.body = strings.ReplaceAll(strings.ReplaceAll(red.body, redID, neverID), "131313131311", "131313131312")
		if red.status != http.StatusOK && (red.status != never.status || red.body != never.body) {
			t.Errorf("a sighting of the hidden object is refused otherwise than one of a missing id (%d, %d)", red.status, never.status)
		}
		return []page{red, never}
	},
	"GET /search": func(t *testing.T, c *client) []page {
		var out []page
		for _, q := range []string{"?q=Redwing", "?q=198.51.100.7", "?type=indicator", "?q=beacon&tlp=red", "?type=", "?q=Kestrel", "?q=kestrel.example"} {
			out = append(out, c.get("/search"+q))
		}
		return out
	},
	"GET /objects/{id}": func(t *testing.T, c *client) []page {
		return []page{c.get(fmtID(redID)), c.get(fmtID(redID) + "?from=2026-01-01T00:00:00.000Z"), c.get(fmtID(attackID)), c.get(fmtID(relID2)), c.get(fmtID(papRedID))}
	},
	"GET /agreements": func(t *testing.T, c *client) []page { return []page{c.get("/agreements")} },
	"POST /agreements": func(t *testing.T, c *client) []page {
		return []page{c.post("/agreements", url.Values{"csrf": {c.token()}, "group": {"Acme and Gamma"}, "purpose": {"taken over"}})}
	},
}

// token returns the CSRF token this browser's forms carry.
func (c *client) token() string {
	c.t.Helper()
	for _, path := range []string{"/account", "/login/totp", "/login"} {
		if m := csrfField.FindStringSubmatch(c.get(path).body); m != nil {
			return m[1]
		}
	}
	c.t.Fatal("no page with a CSRF token")
	return ""
}

func TestRouteMatrixNeverLeaks(t *testing.T) {
	h := newHub(t)
	for _, route := range h.ui.Routes() {
		if routeCases[route] == nil {
			t.Errorf("route %q has no case in routeCases: every page must show that it keeps to the sharing rule", route)
		}
	}
	for route, use := range routeCases {
		for _, v := range matrixViewers {
			t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(route)+"/"+v.name, func(t *testing.T) {
				c := h.client(t)
				if v.user != "" {
					c.mustSignIn(v.user)
				}
				for _, p := range use(t, c) {
					for _, m := range redMarks {
						if (m == redID || m == redIncidentID || m == redTaskID) && strings.Contains(p.url, m) {
							continue
						}
						if strings.Contains(p.body, m) || strings.Contains(p.header.Get("Location"), m) {
							if !v.seesRed {
								t.Errorf("%s sees %q of the hidden object", v.name, m)
							}
						}
					}
					for _, m := range relMarks {
						if m == relID2 && strings.Contains(p.url, relID2) {
							continue
						}
						if (strings.Contains(p.body, m) || strings.Contains(p.header.Get("Location"), m)) && !v.seesRel {
							t.Errorf("%s sees %q of the object releasable to GB only", v.name, m)
						}
					}
					if p.status >= 500 {
						t.Errorf("status %d: %.300s", p.status, p.body)
					}
				}
			})
		}
	}
	// Those who may see it do (the matrix's checks are not vacuous), and
	// for the others its id is an id that never existed.
	for _, v := range matrixViewers {
		c := h.client(t)
		if v.user != "" {
			c.mustSignIn(v.user)
		}
		rel, relNever := c.get(fmtID(relID2)), c.get(fmtID(neverID))
		relNever.body = strings.ReplaceAll(relNever.body, neverID, relID2)
		if v.seesRel {
			wantStatus(t, v.name+" opens the object releasable to GB", rel, http.StatusOK)
			mustContain(t, v.name+" is shown its releasability", rel.body, "REL TO GB")
		} else if rel.status != relNever.status || rel.body != relNever.body {
			t.Errorf("%s: the object releasable to GB answers %d, a missing id %d, or their pages differ", v.name, rel.status, relNever.status)
		}
		red, never := c.get(fmtID(redID)), c.get(fmtID(neverID))
		never.body = strings.ReplaceAll(never.body, neverID, redID)
		search := c.get("/search?q=Redwing")
		if v.seesRed {
			wantStatus(t, v.name+" opens the red object", red, http.StatusOK)
			mustContain(t, v.name+" searches it", search.body, redID)
			continue
		}
		if red.status != never.status || red.body != never.body || red.header.Get("Location") != strings.ReplaceAll(never.header.Get("Location"), neverID, redID) {
			t.Errorf("%s: the hidden object answers %d, a missing id %d, or their pages differ", v.name, red.status, never.status)
		}
	}
}
