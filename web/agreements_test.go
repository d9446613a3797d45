package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAgreementsPage: members see the agreements they are party to and
// no other; a hub admin sets a new version through the form (CSRF
// checked), refused terms are shown at 400 and change nothing; every
// version is kept.
func TestAgreementsPage(t *testing.T) {
	h := newHub(t)
	gina := h.client(t)
	gina.mustSignIn("gina")
	p := gina.get("/agreements")
	wantStatus(t, "gina's agreements", p, http.StatusOK)
	mustContain(t, "gina's agreements", p.body, "Joint response of Acme and Gamma", "DE, GB")
	if strings.Contains(p.body, `id="agreement-form"`) {
		t.Errorf("an org-admin is offered the admin's form")
	}
	bob := h.client(t)
	bob.mustSignIn("bob")
	p = bob.get("/agreements")
	wantStatus(t, "bob's agreements", p, http.StatusOK)
	if strings.Contains(p.body, "Joint response") || !strings.Contains(p.body, `id="no-agreements"`) {
		t.Errorf("bob, in no group, is shown another group's agreement")
	}
	wantStatus(t, "an analyst setting an agreement", bob.post("/agreements", url.Values{"csrf": {bob.token()}, "group": {"Acme and Gamma"}, "purpose": {"x"}}), http.StatusNotFound)
	hana := h.client(t)
	hana.mustSignIn("hana")
	tok := hana.csrf("/agreements")
	wantStatus(t, "without the CSRF token", hana.post("/agreements", url.Values{"group": {"hub"}, "purpose": {"x"}}), http.StatusForbidden)
	p = hana.post("/agreements", url.Values{"csrf": {tok}, "group": {"hub"}, "purpose": {"x"}, "tlp": {"purple"}})
	wantStatus(t, "a bad level", p, http.StatusBadRequest)
	mustContain(t, "a bad level", p.body, "Permitted TLP", "purple")
	p = hana.post("/agreements", url.Values{"csrf": {tok}, "group": {"Acme and Gamma"}, "purpose": {"Joint response, second version"},
		"tlp": {"green, amber"}, "nations": {"gb"}, "retention": {"90d"}, "federate": {"on"}})
	wantStatus(t, "setting version 2", p, http.StatusOK)
	mustContain(t, "after setting", p.body, "Set the agreement of group &#34;Acme and Gamma&#34; (version 2).", "Earlier versions (1)", "Joint response of Acme and Gamma")
	hist, err := h.db.AgreementHistory(context.Background(), h.groups["Acme and Gamma"].ID)
	if err != nil || len(hist) != 2 || hist[1].Actor != "hana" || len(hist[1].RelNations) != 1 || !hist[1].Federate {
		t.Errorf("history after the form: %+v, %v", hist, err)
	}
}

// TestObjectPageShowsMarkings: the object page shows releasability and
// PAP beside TLP.
func TestObjectPageShowsMarkings(t *testing.T) {
	h := newHub(t)
	alice := h.client(t)
	alice.mustSignIn("alice")
	mustContain(t, "the object releasable to GB", alice.get(fmtID(relID2)).body, `<span class="marks" id="marks">REL TO GB</span>`)
	mustContain(t, "the PAP:RED object", alice.get(fmtID(papRedID)).body, `<span class="marks" id="marks">PAP:RED</span>`)
}
