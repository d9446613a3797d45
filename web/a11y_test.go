package web_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeScript returns axe-core, which `npm ci` in web/testdata/axe installs
// (as .ci/run does), or skips the test.
func axeScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/axe/node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Skipf("axe-core is not installed (run npm ci --prefix web/testdata/axe, as .ci/run does): %v", err)
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the browser's current page and fails the
// test for each serious or critical violation.
func checkA11y(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	run(t, ctx, "loading axe-core on "+name, chromedp.Evaluate[chromedp.Void](axe))
	raw := read(t, ctx, "running axe on "+name, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("%s: axe's answer: %v", name, err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				b, _ := json.Marshal(n.Target)
				where = append(where, string(b))
			}
			t.Errorf("%s: %s violation %s (%s) at %s", name, v.Impact, v.ID, v.Help, strings.Join(where, " "))
		}
	}
}

// TestBrowserAccessibility runs axe-core on every kind of page, as a
// signed-out visitor, an analyst and an org admin, and fails for any
// serious or critical violation.
func TestBrowserAccessibility(t *testing.T) {
	axe := axeScript(t)
	h := newHub(t)
	h.ensureIP(t) // the red indicator's page lists it under "who else has this"
	ctx := browse(t)
	visit := func(ctx context.Context, name, path, ready string) {
		t.Helper()
		run(t, ctx, "opening "+path, chromedp.Navigate(h.srv.URL+path), chromedp.WaitVisible(ready))
		checkA11y(t, ctx, axe, name)
	}
	visit(ctx, "sign-in", "/login", `input[autocomplete="username"]`)
	browserSignIn(t, ctx, h, "alice")
	run(t, ctx, "signed in", chromedp.WaitVisible(`.who`))
	visit(ctx, "dashboard", "/", `input[type="search"]`)
	visit(ctx, "explorer", "/search?q=T1059", `#results`)
	visit(ctx, "explorer with nothing found", "/search?q=nothingmatchesthis", `input[type="search"]`)
	visit(ctx, "object with versions and a diff", fmtID(malwareID), `#diff`)
	visit(ctx, "TLP:RED object", fmtID(redID), `#props-h`)
	visit(ctx, "object releasable to GB", fmtID(relID2), `#marks`)
	visit(ctx, "agreements", "/agreements", `.agreement`)
	visit(ctx, "not found", fmtID(neverID), `main h1`)
	visit(ctx, "account", "/account", `#new`)
	visit(ctx, "second factor enrolment", "/account/totp", `#code`)
	visit(ctx, "publish", "/publish", `#pattern`)
	run(t, ctx, "publishing a bad pattern", chromedp.SendKeys(`#name`, "x"), chromedp.SendKeys(`#pattern`, "[bad"),
		chromedp.Click(`form[action="/publish/indicator"] button[type="submit"]`), chromedp.WaitVisible(`#pattern-error`))
	checkA11y(t, ctx, axe, "publish with errors at their fields")
	visit(ctx, "incidents with the open form", "/incidents", `#i-name`)
	visit(ctx, "incident with tasks, requests, timeline and forms", "/incidents/"+openIncidentID, `#o-content`)
	run(t, ctx, "a refused note", chromedp.SendKeys(`#o-content`, "x"), chromedp.SetValue(`#o-tlp`, "red"), chromedp.SetValue(`#o-audience`, "all"),
		chromedp.Click(`form[action$="/notes"] button[type="submit"]`), chromedp.WaitVisible(`#incident-error`))
	checkA11y(t, ctx, axe, "incident with a refusal")
	gctx := browse(t)
	browserSignIn(t, gctx, h, "gina")
	run(t, gctx, "signed in", chromedp.WaitVisible(`.who`))
	visit(gctx, "organisation", "/org", `#users`)
	visit(gctx, "exercises, none", "/exercises", `#exercises`)
	h.startDrill(t)
	visit(gctx, "exercises", "/exercises", `#exercises`)
	visit(gctx, "exercise with scoreboard and controls", "/exercises/1", `#scoreboard`)
	crisis := h.crisis(t) // from here on, gina's pages carry the crisis banner
	visit(gctx, "crises", "/crises", `#crises`)
	visit(gctx, "crisis with its acknowledgement button", "/crises/"+strconv.FormatInt(crisis, 10), `#ack`)
	hctx := browse(t)
	browserSignIn(t, hctx, h, "hana")
	run(t, hctx, "signed in", chromedp.WaitVisible(`.who`))
	visit(hctx, "exercises with the start form", "/exercises", `#x-scenario`)
	visit(hctx, "peers, none", "/peers", `#peers`)
	visit(hctx, "audit log", "/audit", `#audit`)
	visit(hctx, "feeds, none", "/sources", `#sources`)
	h.ensureWarrant(t)
	if err := h.db.AddWarrantApprover(ctx, "hana", "cli"); err != nil {
		t.Fatal(err)
	}
	visit(hctx, "warrants of an approver, with decisions to make", "/warrants", `#reason-1`)
	visit(gctx, "warrants, none of the organisation's", "/warrants", `#w-target`)
	visit(hctx, "agreements with the admin's form", "/agreements", `#agreement-form`)
	run(t, hctx, "setting bad terms", chromedp.SendKeys(`#ag-purpose`, "x"), chromedp.SendKeys(`#ag-tlp`, "purple"),
		chromedp.Click(`#agreement-form button[type="submit"]`), chromedp.WaitVisible(`p.error`))
	checkA11y(t, hctx, axe, "agreements with an error")
	visit(gctx, "audit log of an organisation", "/audit", `#audit`)
	run(t, gctx, "signing out", chromedp.Click(`form.signout button`), chromedp.WaitVisible(`input[autocomplete="username"]`))
	visit(gctx, "crisis acknowledgement link", "/crisis/ack?token=cpa_00", `#ack`)
}
