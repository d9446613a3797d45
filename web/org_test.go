package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

func TestOrgAdminManagesUsersAndKeys(t *testing.T) {
	h := newHub(t)
	gina := h.client(t)
	gina.mustSignIn("gina")
	tok := gina.csrf("/org")
	mustContain(t, "org page", gina.get("/org").body, "Nation <strong>DE</strong>, sector <strong>finance</strong>")
	p := gina.post("/org/users", url.Values{"csrf": {tok}, "name": {"gus"}, "role": {"analyst"}})
	wantStatus(t, "adding gus", p, http.StatusOK)
	mustContain(t, "org page", p.body, "Added user gus.", ">gus")
	wantStatus(t, "adding gus again", gina.post("/org/users", url.Values{"csrf": {tok}, "name": {"GUS"}, "role": {"analyst"}}), http.StatusConflict)
	wantStatus(t, "an org admin making a hub admin", gina.post("/org/users", url.Values{"csrf": {tok}, "name": {"hal"}, "role": {"admin"}}), http.StatusBadRequest)

	p = gina.post("/org/users/gus/keys", url.Values{"csrf": {tok}})
	wantStatus(t, "making gus a key", p, http.StatusOK)
	m := regexp.MustCompile(`id="new-key">(cpk_[a-z2-7]+)<`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the new key is not shown")
	}
	api := func() int {
		req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/stats", nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		return gina.do(req).status
	}
	if s := api(); s != http.StatusOK {
		t.Fatalf("the key made in the interface: API status %d", s)
	}
	if gina.get("/org").body == p.body {
		t.Errorf("the key is shown again on the next visit")
	}
	keyID := regexp.MustCompile(`action="/org/keys/(\d+)/revoke"`).FindStringSubmatch(gina.get("/org").body)
	wantStatus(t, "revoking it", gina.post("/org/keys/"+keyID[1]+"/revoke", url.Values{"csrf": {tok}}), http.StatusOK)
	if s := api(); s != http.StatusUnauthorized {
		t.Errorf("a revoked key: API status %d", s)
	}

	// Another organisation's users and keys do not exist here.
	wantStatus(t, "a key for alice of Acme", gina.post("/org/users/alice/keys", url.Values{"csrf": {tok}}), http.StatusNotFound)
	wantStatus(t, "disabling bob of Beta", gina.post("/org/users/bob/disable", url.Values{"csrf": {tok}}), http.StatusNotFound)
	// An analyst may not manage.
	bob := h.client(t)
	bob.mustSignIn("bob")
	wantStatus(t, "bob's org page", bob.get("/org"), http.StatusForbidden)

	// An admin may not disable itself; it disables and enables others
	// (TestSessionEnds shows a disabled user's session ending).
	wantStatus(t, "disabling herself", gina.post("/org/users/gina/disable", url.Values{"csrf": {tok}}), http.StatusBadRequest)
	h2 := h.client(t)
	wantStatus(t, "gus signs in without a password", h2.signIn("gus", password, "/"), http.StatusUnauthorized)
	wantStatus(t, "disabling gus", gina.post("/org/users/gus/disable", url.Values{"csrf": {tok}}), http.StatusOK)
	mustContain(t, "org page", gina.get("/org").body, "disabled")
	wantStatus(t, "enabling gus", gina.post("/org/users/gus/enable", url.Values{"csrf": {tok}}), http.StatusOK)
}
