package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cyberpact/cyberpact"
)

// Victim data the warrant tests publish with redaction on.
const (
	victimNote  = "note--55555555-5555-4555-8555-555555555555"
	victimPhone = "+44 20 7946 0958"
	victimName  = "Laurent Dubois"
)

var pseudonymRE = regexp.MustCompile(`pd:phone:[0-9a-f]{32}`)

// ensureWarrant gives the hub a warrant asked by alice (Acme) to release
// the hidden TLP:RED indicator, once, and returns its id.
func (h *hub) ensureWarrant(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	list, err := h.db.Warrants(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) > 0 {
		return list[len(list)-1].ID
	}
	p := &cyberpact.Principal{User: *h.users["alice"], Org: *h.orgs["Acme"]}
	w := &cyberpact.Warrant{Kind: cyberpact.WarrantRelease, Target: redID, Justification: "Acme asks to pass it on", TTL: time.Hour}
	if err := h.db.RequestWarrant(ctx, w, p, "test"); err != nil {
		t.Fatal(err)
	}
	return w.ID
}

// publishVictim turns redaction on and publishes, as Acme to all members,
// a note naming a victim and her phone number.
func (h *hub) publishVictim(t *testing.T) {
	t.Helper()
	if err := h.db.SetPrivacyPolicy(context.Background(), &cyberpact.PrivacyPolicy{Detectors: "all"}, "cli"); err != nil {
		t.Fatal(err)
	}
	stamp := "2026-01-01T00:00:00.000Z"
	h.importAs(t, cyberpact.Release{Producer: h.orgs["Acme"].ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen},
		map[string]any{"type": "note", "spec_version": "2.1", "id": victimNote, "created": stamp, "modified": stamp,
			"content": "Victim " + victimName + " called the SOC on " + victimPhone + ".", "object_refs": []any{malwareID}})
}

func init() {
	routeCases["GET /warrants"] = func(t *testing.T, c *client) []page {
		c.h.ensureWarrant(t)
		return []page{c.get("/warrants")}
	}
	routeCases["POST /warrants"] = func(t *testing.T, c *client) []page {
		return []page{c.post("/warrants", url.Values{"csrf": {c.token()}, "kind": {"unmask"}, "target": {"pd:email:0123456789abcdef0123456789abcdef"},
			"justification": {"the matrix asks for it"}, "ttl": {"1h"}}),
			c.post("/warrants", url.Values{"csrf": {c.token()}, "kind": {"unmask"}, "target": {"jane"}, "justification": {"x"}, "ttl": {"forever"}})}
	}
	for _, op := range []string{"approve", "refuse", "unmask"} {
		routeCases["POST /warrants/{id}/"+op] = func(t *testing.T, c *client) []page {
			id := c.h.ensureWarrant(t)
			return []page{c.post("/warrants/"+strconv.FormatInt(id, 10)+"/"+op, url.Values{"csrf": {c.token()}}), c.post("/warrants/999999/"+op, url.Values{"csrf": {c.token()}})}
		}
	}
}

// TestWarrantPagesKeepToTheirOrganisation: a member sees its own
// organisation's warrants and no other's; one of another organisation
// answers as one that does not exist to anyone who is not an approver;
// the requester's own approval is refused on the page, and an approver
// of another organisation sees and decides it.
func TestWarrantPagesKeepToTheirOrganisation(t *testing.T) {
	h := newHub(t)
	id := h.ensureWarrant(t)
	if err := h.db.AddWarrantApprover(context.Background(), "hana", "cli"); err != nil {
		t.Fatal(err)
	}
	bob := h.client(t)
	bob.mustSignIn("bob")
	if p := bob.get("/warrants"); strings.Contains(p.body, redID) || !strings.Contains(p.body, "No warrants yet") {
		t.Errorf("bob's page shows Acme's warrant or is not empty: %.600s", p.body)
	}
	never := bob.post("/warrants/999999/approve", url.Values{"csrf": {bob.token()}})
	acme := bob.post("/warrants/"+strconv.FormatInt(id, 10)+"/approve", url.Values{"csrf": {bob.token()}})
	if acme.status != http.StatusNotFound || never.status != acme.status ||
		strings.ReplaceAll(never.body, "999999", strconv.FormatInt(id, 10)) != acme.body {
		t.Errorf("Acme's warrant answers bob %d, a missing one %d, or their pages differ", acme.status, never.status)
	}
	alice := h.client(t)
	alice.mustSignIn("alice")
	p := alice.get("/warrants")
	mustContain(t, "alice's warrants", p.body, redID, "Acme asks to pass it on", "requested")
	self := alice.post("/warrants/"+strconv.FormatInt(id, 10)+"/approve", url.Values{"csrf": {alice.token()}})
	wantStatus(t, "alice approving her own", self, http.StatusForbidden)
	mustContain(t, "alice approving her own", self.body, "you asked for it")
	hana := h.client(t)
	hana.mustSignIn("hana")
	mustContain(t, "the approver's page", hana.get("/warrants").body, redID, `action="/warrants/`+strconv.FormatInt(id, 10)+`/approve"`)
	ok := hana.post("/warrants/"+strconv.FormatInt(id, 10)+"/refuse", url.Values{"csrf": {hana.token()}, "reason": {"not proportionate"}})
	wantStatus(t, "hana refusing", ok, http.StatusOK)
	mustContain(t, "after the refusal", ok.body, "refused", "not proportionate")
	bad := alice.post("/warrants", url.Values{"csrf": {alice.token()}, "kind": {"unmask"}, "target": {"jane"}, "justification": {"we need it now"}, "ttl": {"1h"}})
	wantStatus(t, "a target that is no pseudonym", bad, http.StatusBadRequest)
	mustContain(t, "a target that is no pseudonym", bad.body, "not a pseudonym", `value="jane"`)
}

// TestBrowserWarrantFlow drives the whole flow in Chromium: with
// redaction on, bob of Beta reads only a pseudonym of the victim's phone
// number on the note's page; he asks for a warrant to unmask it; his own
// approval is refused on the page; hana, a warrant approver, approves it;
// bob unmasks the number; the audit log shows each step and verifies.
func TestBrowserWarrantFlow(t *testing.T) {
	h := newHub(t)
	h.publishVictim(t)
	if err := h.db.AddWarrantApprover(context.Background(), "hana", "cli"); err != nil {
		t.Fatal(err)
	}
	ctx := browse(t)
	browserSignIn(t, ctx, h, "bob")
	run(t, ctx, "signed in", chromedp.WaitVisible(`.who`))
	run(t, ctx, "opening the note", chromedp.Navigate(h.srv.URL+fmtID(victimNote)), chromedp.WaitVisible(`main h1`))
	body := text(t, ctx, "main")
	if strings.Contains(body, victimPhone) || strings.Contains(body, victimName) {
		t.Fatalf("bob reads the victim on the note's page: %s", body)
	}
	ps := pseudonymRE.FindString(body)
	if ps == "" {
		t.Fatalf("no pseudonym of the phone number on the note's page: %s", body)
	}
	run(t, ctx, "asking for a warrant",
		chromedp.Navigate(h.srv.URL+"/warrants"), chromedp.WaitVisible(`#w-target`),
		chromedp.SetValue(`#w-kind`, "unmask"),
		chromedp.SendKeys(`#w-target`, ps),
		chromedp.SendKeys(`#w-why`, "Incident 7: the victim must be warned"),
		chromedp.Click(`form[action="/warrants"] button[type="submit"]`),
		chromedp.WaitVisible(`#warrant-done`))
	screenshot(t, ctx, "warrants-requested")
	if s := text(t, ctx, "#warrant-1 .warrant-state"); !strings.Contains(s, "requested") {
		t.Errorf("the new warrant is %q", s)
	}
	// Beta has no approver: bob cannot approve his own even by posting.
	self := h.client(t)
	self.mustSignIn("bob")
	if p := self.post("/warrants/1/approve", url.Values{"csrf": {self.token()}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "you asked for it") {
		t.Errorf("bob approving his own: %d %.300s", p.status, p.body)
	}
	hctx := browse(t)
	browserSignIn(t, hctx, h, "hana")
	run(t, hctx, "signed in", chromedp.WaitVisible(`.who`))
	run(t, hctx, "approving",
		chromedp.Navigate(h.srv.URL+"/warrants"), chromedp.WaitVisible(`#reason-1`),
		chromedp.SendKeys(`#reason-1`, "necessary and proportionate"),
		chromedp.Click(`form[action="/warrants/1/approve"] button`),
		chromedp.WaitVisible(`#warrant-done`))
	if s := text(t, hctx, "#warrant-1 .warrant-state"); !strings.Contains(s, "approved") {
		t.Errorf("after approval the warrant is %q", s)
	}
	run(t, ctx, "unmasking",
		chromedp.Navigate(h.srv.URL+"/warrants"), chromedp.WaitVisible(`form[action="/warrants/1/unmask"] button`),
		chromedp.Click(`form[action="/warrants/1/unmask"] button`),
		chromedp.WaitVisible(`#unmasked`))
	screenshot(t, ctx, "warrants-unmasked")
	if got := text(t, ctx, "#unmasked"); !strings.Contains(got, "+442079460958") {
		t.Errorf("unmasked %q, want the number's digits", got)
	}
	es, err := h.db.AuditEntries(context.Background(), cyberpact.AuditFilter{Action: cyberpact.AuditWarrant})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range es {
		log = append(log, e.Actor+" "+e.Via+": "+e.Detail)
	}
	all := strings.Join(log, "\n")
	for _, want := range []string{"bob web: warrant 1 (unmask " + ps + ") requested", "bob web: warrant 1 (unmask " + ps + "): approval denied",
		"hana web: warrant 1 (unmask " + ps + ") approved until", "bob web: warrant 1 (unmask " + ps + ") used by bob"} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "7946") {
		t.Errorf("the audit log holds the number:\n%s", all)
	}
	if n, err := h.db.VerifyAudit(context.Background()); err != nil || n != 0 {
		t.Errorf("audit verify: %d %v", n, err)
	}
}

// TestPersonalDataOnEveryPage (issue 20): with redaction on and a note
// naming a victim and her phone number published by Acme to all members,
// every page of the interface, used as the route matrix uses it, by every
// viewer (the producer's own analyst included), and the note's page and a
// search for the victim besides, shows only pseudonyms.
func TestPersonalDataOnEveryPage(t *testing.T) {
	h := newHub(t)
	h.publishVictim(t)
	marks := []string{victimPhone, victimName, "Dubois", "7946"}
	for _, v := range matrixViewers {
		c := h.client(t)
		if v.user != "" {
			c.mustSignIn(v.user)
		}
		pages := []page{c.get(fmtID(victimNote)), c.get("/search?q=Dubois"), c.get("/search?q=" + url.QueryEscape(victimPhone)), c.get("/search?type=note")}
		for route, use := range routeCases {
			for _, p := range use(t, c) {
				p.url = route + " " + p.url
				pages = append(pages, p)
			}
		}
		sawPseudonym := false
		for _, p := range pages {
			for _, m := range marks {
				if strings.Contains(p.body, m) && !strings.Contains(p.url, url.QueryEscape(m)) {
					t.Errorf("%s: %s shows %q", v.name, p.url, m)
				}
			}
			sawPseudonym = sawPseudonym || pseudonymRE.MatchString(p.body)
		}
		if v.user != "" && !sawPseudonym {
			t.Errorf("%s sees no pseudonym anywhere: the walk reads nothing", v.name)
		}
	}
}
