package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/cyberpact/cyberpact"
)

var (
	hubCrisesMu sync.Mutex
	hubCrises   = map[*hub]int64{}
)

// crisis declares, once per hub, a crisis on the fixture's TLP:RED
// incident ("Operation Nightjar"), which Acme shares with the group of
// Acme and Gamma: the route matrix then holds every page to showing it to
// nobody else.
func (h *hub) crisis(t *testing.T) int64 {
	t.Helper()
	hubCrisesMu.Lock()
	defer hubCrisesMu.Unlock()
	if id, ok := hubCrises[h]; ok {
		return id
	}
	c, err := h.api.Crises.Declare(context.Background(), nil, redIncidentID, 0, "cli")
	if err != nil {
		t.Fatal(err)
	}
	hubCrises[h] = c.ID
	return c.ID
}

// sameAsMissing fails unless the crisis's page answers as one that never
// existed, when it answers 404 at all (those who may see it get 200).
func sameAsMissing(t *testing.T, c *client, method, tail string, id int64) []page {
	t.Helper()
	do := func(n int64) page {
		path := fmt.Sprintf("/crises/%d%s", n, tail)
		if method == "GET" {
			return c.get(path)
		}
		return c.post(path, url.Values{"csrf": {c.token()}})
	}
	got, never := do(id), do(999999)
	if got.status == http.StatusNotFound {
		nb := strings.ReplaceAll(never.body, "999999", fmt.Sprint(id))
		if never.status != got.status || nb != got.body {
			t.Errorf("%s /crises/%d%s answers otherwise than a crisis that never existed (%d, %d)", method, id, tail, got.status, never.status)
		}
	}
	return []page{got, never}
}

func init() {
	routeCases["GET /crises"] = func(t *testing.T, c *client) []page {
		c.h.crisis(t)
		return []page{c.get("/crises")}
	}
	routeCases["GET /crises/{id}"] = func(t *testing.T, c *client) []page {
		return sameAsMissing(t, c, "GET", "", c.h.crisis(t))
	}
	routeCases["POST /crises/{id}/ack"] = func(t *testing.T, c *client) []page {
		return sameAsMissing(t, c, "POST", "/ack", c.h.crisis(t))
	}
	routeCases["POST /crises/{id}/end"] = func(t *testing.T, c *client) []page {
		return sameAsMissing(t, c, "POST", "/end", c.h.crisis(t))
	}
	routeCases["GET /crisis/ack"] = func(t *testing.T, c *client) []page {
		c.h.crisis(t)
		return []page{c.get("/crisis/ack?token=cpa_00"), c.get("/crisis/ack")}
	}
	routeCases["POST /crisis/ack"] = func(t *testing.T, c *client) []page {
		c.h.crisis(t)
		p := c.post("/crisis/ack", url.Values{"csrf": {c.token()}, "token": {"cpa_00"}})
		if p.status != http.StatusNotFound {
			t.Errorf("an unknown token: status %d", p.status)
		}
		return []page{p}
	}
}

// TestCrisisPages: the partners see the crisis, its banner and each
// partner's state; acknowledging from the page clears the banner; an
// org-admin of a partner that did not produce the incident may not end
// it; the outsider sees no banner and no crisis; a mailed link
// acknowledges once, signed out.
func TestCrisisPages(t *testing.T) {
	h := newHub(t)
	id := h.crisis(t)
	path := fmt.Sprintf("/crises/%d", id)
	gina := h.client(t)
	gina.mustSignIn("gina")
	home := gina.get("/")
	mustContain(t, "gina's banner", home.body, `class="crisis-banner"`, path)
	pg := gina.get(path)
	wantStatus(t, "gina's crisis page", pg, 200)
	mustContain(t, "gina's crisis page", pg.body, "Operation Nightjar", "0 of 2 acknowledged", "Acme", "Gamma (you)", `id="ack"`)
	if strings.Contains(pg.body, `id="end"`) {
		t.Errorf("gina, org-admin of a partner, is offered to end the crisis")
	}
	wantStatus(t, "gina acknowledges", gina.post(path+"/ack", url.Values{"csrf": {gina.token()}}), http.StatusSeeOther)
	pg = gina.get(path)
	mustContain(t, "after acknowledging", pg.body, "1 of 2 acknowledged", "by gina (web)")
	if strings.Contains(gina.get("/").body, "crisis-banner") {
		t.Errorf("the banner stays after gina's organisation acknowledged")
	}
	wantStatus(t, "gina ends", gina.post(path+"/end", url.Values{"csrf": {gina.token()}}), http.StatusForbidden)
	bob := h.client(t)
	bob.mustSignIn("bob")
	if b := bob.get("/").body; strings.Contains(b, "crisis-banner") {
		t.Errorf("bob, outside the incident's audience, sees a crisis banner")
	}
	if b := bob.get("/crises").body; strings.Contains(b, path) || strings.Contains(b, "Nightjar") {
		t.Errorf("bob's list of crises names the crisis")
	}
	wantStatus(t, "bob's crisis page", bob.get(path), 404)
	// A mailed link: the token the dispatcher would mail.
	token, hash := cyberpact.NewCrisisToken()
	if err := h.db.AddCrisisToken(context.Background(), id, h.orgs["Acme"].ID, hash); err != nil {
		t.Fatal(err)
	}
	anon := h.client(t)
	form := anon.get("/crisis/ack?token=" + token)
	wantStatus(t, "the link's page", form, 200)
	if strings.Contains(form.body, "Nightjar") || strings.Contains(form.body, redIncidentID) {
		t.Errorf("the link's page tells of the crisis before it is used")
	}
	done := anon.post("/crisis/ack", url.Values{"csrf": {anon.token()}, "token": {token}})
	wantStatus(t, "the link used", done, 200)
	mustContain(t, "the link used", done.body, fmt.Sprintf("Crisis %d is acknowledged for Acme", id))
	wantStatus(t, "the link used twice", anon.post("/crisis/ack", url.Values{"csrf": {anon.token()}, "token": {token}}), 404)
	st, err := h.api.Crises.Status(context.Background(), nil, id)
	if err != nil || st.Acknowledged != 2 {
		t.Errorf("after the link: %+v %v", st, err)
	}
}

// TestBrowserCrisisPage: in a real browser, gina sees the banner, opens
// the crisis from it, acknowledges with the button and sees her
// organisation's row change. TestBrowserAccessibility runs axe on it.
func TestBrowserCrisisPage(t *testing.T) {
	h := newHub(t)
	id := h.crisis(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "gina")
	run(t, ctx, "signed in", chromedp.WaitVisible(`.crisis-banner`))
	run(t, ctx, "following the banner", chromedp.Click(`.crisis-banner a`), chromedp.WaitVisible(`#partners`))
	if got := text(t, ctx, `#acked-count`); got != "0 of 2 acknowledged" {
		t.Errorf("before: %q", got)
	}
	screenshot(t, ctx, "crisis")
	run(t, ctx, "acknowledging", chromedp.Click(`#ack`), chromedp.WaitNotPresent(`#ack`))
	if got := text(t, ctx, `#acked-count`); got != "1 of 2 acknowledged" {
		t.Errorf("after: %q", got)
	}
	row := text(t, ctx, `#partners tbody tr.acked`)
	if !strings.Contains(row, "Gamma (you)") || !strings.Contains(row, "by gina (web)") {
		t.Errorf("gina's organisation's row: %q", row)
	}
	if n := read(t, ctx, "banners", chromedp.Evaluate[int](`document.querySelectorAll('.crisis-banner').length`)); n != 0 {
		t.Errorf("%d banners after acknowledging", n)
	}
	if got := attr(t, ctx, `#partners`, "id"); got != "partners" || id == 0 {
		t.Errorf("crisis %d page lost its table", id)
	}
}
