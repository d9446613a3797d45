package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// parity returns the pages a form gets at path on the RED incident and on
// one never stored (path holds "{id}"), after checking that for someone
// outside the group the two answer the same.
func parity(t *testing.T, c *client, path string, form url.Values) []page {
	at := func(id string) page {
		p := strings.ReplaceAll(path, "{id}", id)
		if form == nil {
			return c.get(p)
		}
		f := url.Values{"csrf": {c.token()}}
		for k, v := range form {
			f[k] = v
		}
		return c.post(p, f)
	}
	seesRed := c.get("/incidents/"+redIncidentID).status == http.StatusOK
	red, never := at(redIncidentID), at(neverIncidentID)
	if !seesRed {
		body := strings.ReplaceAll(never.body, neverIncidentID, redIncidentID)
		if red.status != never.status || red.body != body {
			t.Errorf("%s: the RED incident answers %d, one never stored %d, or their pages differ", path, red.status, never.status)
		}
	}
	return []page{red, never}
}

func init() {
	routeCases["GET /incidents"] = func(t *testing.T, c *client) []page { return []page{c.get("/incidents")} }
	routeCases["POST /incidents"] = func(t *testing.T, c *client) []page {
		// Refused (TLP:RED for all members): nothing is stored.
		return []page{c.post("/incidents", url.Values{"csrf": {c.token()}, "name": {"x"}, "audience": {"all"}, "tlp": {"red"}})}
	}
	routeCases["GET /incidents/{id}"] = func(t *testing.T, c *client) []page {
		return append(parity(t, c, "/incidents/{id}", nil), c.get("/incidents/"+openIncidentID))
	}
	routeCases["POST /incidents/{id}"] = func(t *testing.T, c *client) []page {
		// A stale edit: 409 for its producer, 403 for another member.
		return parity(t, c, "/incidents/{id}", url.Values{"based_on": {"2000-01-01T00:00:00.000Z"}, "status": {"closed"}})
	}
	routeCases["POST /incidents/{id}/tasks"] = func(t *testing.T, c *client) []page {
		return parity(t, c, "/incidents/{id}/tasks", url.Values{"title": {""}})
	}
	routeCases["POST /incidents/{id}/tasks/{task}"] = func(t *testing.T, c *client) []page {
		return parity(t, c, "/incidents/{id}/tasks/"+redTaskID, url.Values{"based_on": {"2000-01-01T00:00:00.000Z"}, "status": {"done"}})
	}
	routeCases["POST /incidents/{id}/notes"] = func(t *testing.T, c *client) []page {
		return parity(t, c, "/incidents/{id}/notes", url.Values{"content": {""}})
	}
	routeCases["POST /incidents/{id}/requests"] = func(t *testing.T, c *client) []page {
		return parity(t, c, "/incidents/{id}/requests", url.Values{"kind": {"pizza"}, "description": {"x"}})
	}
	routeCases["POST /incidents/{id}/requests/{rfa}/{decision}"] = func(t *testing.T, c *client) []page {
		return append(parity(t, c, "/incidents/{id}/requests/x-cyberpact-rfa--00000000-0000-4000-8000-000000000000/accept", url.Values{}),
			c.post("/incidents/"+openIncidentID+"/requests/"+openRFAID+"/maybe", url.Values{"csrf": {c.token()}}))
	}
}

// TestIncidentPages works an incident through the pages without
// JavaScript: the RED note on an incident of all members shows to the
// group and not to Beta; Beta updates the task assigned to it and accepts
// the request addressed to it; a stale update is refused with 409 naming
// the current version.
func TestIncidentPages(t *testing.T) {
	h := newHub(t)
	bob, alice := h.client(t), h.client(t)
	bob.mustSignIn("bob")
	alice.mustSignIn("alice")
	pg := alice.get("/incidents/" + openIncidentID)
	wantStatus(t, "alice's incident page", pg, http.StatusOK)
	mustContain(t, "alice's incident page", pg.body, "Kestrel informant", "Block the sender domains", "take down the kit")
	pg = bob.get("/incidents/" + openIncidentID)
	wantStatus(t, "bob's incident page", pg, http.StatusOK)
	if strings.Contains(pg.body, "Kestrel") {
		t.Errorf("bob sees the RED note")
	}
	list := bob.get("/incidents")
	mustContain(t, "bob's list", list.body, "Phishing wave")
	if strings.Contains(list.body, "Nightjar") {
		t.Errorf("bob lists the RED incident")
	}

	post := func(c *client, path string, form url.Values) page {
		form.Set("csrf", c.token())
		return c.post(path, form)
	}
	base := "/incidents/" + openIncidentID
	p := post(bob, base+"/tasks/"+openTaskID, url.Values{"based_on": {"2026-01-01T00:00:00.000Z"}, "status": {"in-progress"}, "comment": {"blocking now"}})
	wantStatus(t, "bob's update", p, http.StatusSeeOther)
	pg = alice.get(base)
	mustContain(t, "alice after bob's update", pg.body, "in-progress", "blocking now")
	p = post(alice, base+"/tasks/"+openTaskID, url.Values{"based_on": {"2026-01-01T00:00:00.000Z"}, "status": {"done"}})
	wantStatus(t, "alice's stale update", p, http.StatusConflict)
	mustContain(t, "the refusal", p.body, "has changed", "read it again")
	p = post(bob, base+"/requests/"+openRFAID+"/accept", url.Values{})
	wantStatus(t, "bob accepts", p, http.StatusSeeOther)
	mustContain(t, "who works on what", alice.get(base).body, "bob (Beta): request: takedown")
	p = post(bob, base+"/notes", url.Values{"content": {"secret"}, "tlp": {"red"}, "audience": {"all"}})
	wantStatus(t, "a RED note for all members", p, http.StatusBadRequest)

	// Only Acme, which opened it, changes the incident's status.
	if strings.Contains(bob.get(base).body, `id="e-status"`) {
		t.Errorf("bob is offered to edit Acme's incident")
	}
	p = post(bob, base, url.Values{"based_on": {"2026-01-01T00:00:00.000Z"}, "status": {"closed"}})
	wantStatus(t, "bob's edit", p, http.StatusForbidden)
	p = post(alice, base, url.Values{"based_on": {"2026-01-01T00:00:00.000Z"}, "status": {"contained"}})
	wantStatus(t, "alice's edit", p, http.StatusSeeOther)
	mustContain(t, "after alice's edit", bob.get(base).body, `<dd id="incident-status">contained</dd>`)
}

// TestBrowserIncident opens an incident in Chromium, adds a task assigned
// to bob and a RED note for the group, and bob updates the task from his
// own browser, without seeing the note.
func TestBrowserIncident(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "alice")
	run(t, ctx, "opening an incident",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+"/incidents"),
		chromedp.WaitVisible(`#i-name`),
		chromedp.SendKeys(`#i-name`, "Ransomware at the exchange"),
		chromedp.Click(`form[action="/incidents"] button[type="submit"]`),
		chromedp.WaitVisible(`#tasks-h`))
	if got := text(t, ctx, `main h1`); got != "Ransomware at the exchange" {
		t.Fatalf("the incident page's title is %q", got)
	}
	run(t, ctx, "adding a task and a RED note",
		chromedp.SendKeys(`#n-title`, "Collect the ransom note"),
		chromedp.SendKeys(`#n-assignee`, "bob"),
		chromedp.Click(`form[action$="/tasks"] button[type="submit"]`),
		chromedp.WaitVisible(`#tasks tbody tr`),
		chromedp.SendKeys(`#o-content`, "Falcon negotiator is ours"),
		chromedp.SetValue(`#o-tlp`, "red"),
		chromedp.SetValue(`#o-audience`, "group:"+itoa(h.groups["Acme and Gamma"].ID)),
		chromedp.Click(`form[action$="/notes"] button[type="submit"]`),
		// opened, task created, the note: the page after the note went in
		chromedp.WaitVisible(`#timeline li:nth-child(3)`))
	mustContain(t, "alice's timeline", text(t, ctx, `#timeline`), "Falcon negotiator is ours", "created the task Collect the ransom note")
	url := read(t, ctx, "the page's address", chromedp.Location())
	screenshot(t, ctx, "incident")

	bctx := browse(t)
	browserSignIn(t, bctx, h, "bob")
	run(t, bctx, "bob updates the task",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(url),
		chromedp.WaitVisible(`#tasks`),
		chromedp.SetValue(`#t0-status`, "done"),
		chromedp.SendKeys(`#t0-comment`, "note collected"),
		chromedp.Click(`#tasks form button[type="submit"]`),
		// opened, task created, the update (the note is not bob's to see)
		chromedp.WaitVisible(`#timeline li:nth-child(3)`))
	if got := text(t, bctx, `#tasks .task-status`); got != "done" {
		t.Errorf("the task's status after bob's update: %q", got)
	}
	if strings.Contains(text(t, bctx, `main`), "Falcon") {
		t.Errorf("bob sees the RED note")
	}
	run(t, ctx, "alice reloads", chromedp.Reload(), chromedp.WaitVisible(`#tasks`))
	if got := text(t, ctx, `#tasks .task-status`); got != "done" {
		t.Errorf("alice sees the task %q", got)
	}
}
