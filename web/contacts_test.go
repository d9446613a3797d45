package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/cyberpact/cyberpact"
)

func init() {
	// The matrix posts as every viewer; a contact is only ever its own
	// organisation's, so these pages show no object and the hidden one
	// least of all. Removing a contact of another organisation answers as
	// one that never existed (TestOrgAdminManagesContacts).
	routeCases["POST /org/contacts"] = func(t *testing.T, c *client) []page {
		return []page{c.post("/org/contacts", url.Values{"csrf": {c.token()}, "level": {"1"}, "channel": {"email"}, "target": {"duty@" + redID[len("indicator--"):] + ".test"}}),
			c.post("/org/contacts", url.Values{"csrf": {c.token()}, "level": {"x"}, "channel": {"email"}, "target": {"duty@example.test"}})}
	}
	routeCases["POST /org/contacts/{id}/remove"] = func(t *testing.T, c *client) []page {
		return []page{c.post("/org/contacts/999999/remove", url.Values{"csrf": {c.token()}})}
	}
}

// contactIDs are the ids of the contacts an /org page lists, in order.
func contactIDs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`action="/org/contacts/(\d+)/remove"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestOrgAdminManagesContacts: an org admin adds an e-mail and a webhook
// escalation contact from the organisation page (the webhook's secret
// shown that once, and the contacts then used by the crisis desk),
// refuses bad input saying what is wrong without storing it, and removes
// one; another organisation's admin neither sees them nor can remove them
// (a contact of another organisation answers as one that never existed);
// an analyst may not manage them.
func TestOrgAdminManagesContacts(t *testing.T) {
	h := newHub(t)
	gina := h.client(t)
	gina.mustSignIn("gina")
	tok := gina.csrf("/org")
	mustContain(t, "org page before", gina.get("/org").body, "No escalation contacts")

	p := gina.post("/org/contacts", url.Values{"csrf": {tok}, "level": {"1"}, "name": {"duty officer"}, "channel": {"email"}, "target": {"duty@gamma.test"}})
	wantStatus(t, "adding an e-mail contact", p, http.StatusOK)
	mustContain(t, "after adding", p.body, "Added escalation contact level 1 by email: duty officer.", "duty@gamma.test")
	p = gina.post("/org/contacts", url.Values{"csrf": {tok}, "level": {"2"}, "channel": {"webhook"}, "target": {"https://pager.gamma.test/hook"}})
	wantStatus(t, "adding a webhook contact", p, http.StatusOK)
	secret := regexp.MustCompile(`id="new-secret">([^<]+)<`).FindStringSubmatch(p.body)
	if secret == nil {
		t.Fatal("the webhook's secret is not shown when it is made")
	}
	if body := gina.get("/org").body; strings.Contains(body, secret[1]) {
		t.Errorf("the webhook's secret is shown again on the next visit")
	}

	for _, bad := range []struct {
		form url.Values
		says string
	}{
		{url.Values{"level": {"0"}, "channel": {"email"}, "target": {"a@gamma.test"}}, "level 0 is not between 1 and 20"},
		{url.Values{"level": {"one"}, "channel": {"email"}, "target": {"a@gamma.test"}}, "is not a number from 1 to 20"},
		{url.Values{"level": {"1"}, "channel": {"pigeon"}, "target": {"a@gamma.test"}}, "is not webhook or email"},
		{url.Values{"level": {"1"}, "channel": {"webhook"}, "target": {"ftp://gamma.test"}}, "is not an http or https URL"},
	} {
		bad.form.Set("csrf", tok)
		p := gina.post("/org/contacts", bad.form)
		wantStatus(t, "adding "+bad.form.Encode(), p, http.StatusBadRequest)
		mustContain(t, "the refusal", p.body, bad.says)
	}
	cs, err := h.api.Crises.Store.CrisisContacts(context.Background(), h.orgs["Gamma"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Target != "duty@gamma.test" || cs[1].Channel != cyberpact.ChannelWebhook || cs[1].Secret != secret[1] {
		t.Fatalf("the contacts stored: %+v", cs)
	}
	ids := contactIDs(gina.get("/org").body)
	if len(ids) != 2 {
		t.Fatalf("the page lists contacts %v", ids)
	}

	// Hana, the hub's admin, signs in as an admin of the Hub organisation:
	// Gamma's contacts are not hers to see or remove.
	hana := h.client(t)
	hana.mustSignIn("hana")
	if body := hana.get("/org").body; strings.Contains(body, "duty@gamma.test") || len(contactIDs(body)) != 0 {
		t.Errorf("another organisation's admin sees Gamma's contacts")
	}
	theirs := hana.post("/org/contacts/"+ids[0]+"/remove", url.Values{"csrf": {hana.csrf("/org")}})
	never := hana.post("/org/contacts/999999/remove", url.Values{"csrf": {hana.csrf("/org")}})
	wantStatus(t, "removing Gamma's contact as Hub", theirs, http.StatusNotFound)
	if strings.ReplaceAll(never.body, "999999", ids[0]) != theirs.body {
		t.Errorf("removing another organisation's contact answers otherwise than one that never existed")
	}
	bob := h.client(t)
	bob.mustSignIn("bob")
	wantStatus(t, "an analyst adding a contact", bob.post("/org/contacts", url.Values{"csrf": {bob.token()}, "level": {"1"}, "channel": {"email"}, "target": {"b@beta.test"}}), http.StatusForbidden)

	p = gina.post("/org/contacts/"+ids[0]+"/remove", url.Values{"csrf": {tok}})
	wantStatus(t, "removing the e-mail contact", p, http.StatusOK)
	mustContain(t, "after removing", p.body, fmt.Sprintf("Removed escalation contact %s.", ids[0]))
	if strings.Contains(p.body, "duty@gamma.test") {
		t.Errorf("the removed contact is still listed")
	}
	if cs, _ := h.api.Crises.Store.CrisisContacts(context.Background(), h.orgs["Gamma"].ID); len(cs) != 1 {
		t.Errorf("%d contacts stored after removing one", len(cs))
	}
}

// TestBrowserAddContact: in a real browser, gina fills the organisation
// page's form and sees her contact listed.
func TestBrowserAddContact(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "gina")
	run(t, ctx, "signed in", chromedp.WaitVisible(`form[action="/logout"]`))
	run(t, ctx, "adding a contact",
		chromedp.Navigate(h.srv.URL+"/org"), chromedp.WaitVisible(`#add-contact`),
		chromedp.SetValue(`#contact-level`, "3"),
		chromedp.SendKeys(`#contact-name`, "night desk"),
		chromedp.SendKeys(`#contact-target`, "night@gamma.test"),
		chromedp.Click(`#add-contact button[type="submit"]`),
		chromedp.WaitVisible(`#contacts tbody`))
	if row := text(t, ctx, `#contacts tbody tr`); !strings.Contains(row, "night desk") || !strings.Contains(row, "night@gamma.test") || !strings.Contains(row, "3") {
		t.Errorf("the contact's row: %q", row)
	}
}
