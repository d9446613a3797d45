package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// The browser tests drive a real headless Chromium (Debian's chromium
// package, which .ci/run installs) through the interface served by a real
// hub on 127.0.0.1. Without /usr/bin/chromium (or $CYBERPACT_CHROMIUM)
// they skip, saying so. With $CYBERPACT_SCREENSHOTS naming a directory,
// each test keeps a screenshot of the pages it checks there.

// chromium returns the browser to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CYBERPACT_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no Chromium at %s (install Debian's chromium package, as .ci/run does, or set CYBERPACT_CHROMIUM): %v", path, err)
	}
	return path
}

// browse starts a fresh headless Chromium with its own profile and
// returns a context to drive it with; the test's end stops it.
func browse(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// run runs steps in the browser, failing the test with what was being
// done.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs one action that reads something in the browser and returns
// what it read.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return read(t, ctx, "reading "+sel, chromedp.Text(sel))
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return read(t, ctx, "reading "+sel+" "+name, chromedp.AttributeValue(sel, name)).Value
}

// screenshot keeps a picture of the page in $CYBERPACT_SCREENSHOTS.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CYBERPACT_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

// browserSignIn fills in and sends the sign-in form as a user would,
// finding the fields by their autocomplete tokens.
func browserSignIn(t *testing.T, ctx context.Context, h *hub, user string) {
	t.Helper()
	run(t, ctx, "signing in as "+user,
		chromedp.Navigate(h.srv.URL+"/login"),
		chromedp.WaitVisible(`input[autocomplete="username"]`),
		chromedp.SendKeys(`input[autocomplete="username"]`, user),
		chromedp.SendKeys(`input[autocomplete="current-password"]`, password),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
	)
}

func TestBrowserSignInWithPasswordAndTOTP(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "cyberpact", AccountName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.SetTOTP(context.Background(), h.users["alice"].ID, key.Secret(), nil, "cli"); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, h, "alice")
	run(t, ctx, "the second factor's form", chromedp.WaitVisible(`input[autocomplete="one-time-code"]`))
	screenshot(t, ctx, "signin-totp")
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "giving the code",
		chromedp.SendKeys(`input[autocomplete="one-time-code"]`, code),
		chromedp.Click(`form[action="/login/totp"] button[type="submit"]`),
		chromedp.WaitVisible(`.who`),
	)
	who, path := text(t, ctx, `.who`), read(t, ctx, "location", chromedp.Evaluate[string](`location.pathname`))
	if !strings.Contains(who, "alice") || !strings.Contains(who, "Acme") || path != "/" {
		t.Errorf("after the second factor: at %q, header says %q", path, who)
	}
	screenshot(t, ctx, "dashboard")
}

func TestBrowserSearchFindsObject(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "bob")
	run(t, ctx, "searching T1059",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+"/search"),
		chromedp.WaitVisible(`input[type="search"]`),
		chromedp.SendKeys(`input[type="search"]`, "T1059"),
		chromedp.Click(`form[role="search"] button[type="submit"]`),
		chromedp.WaitVisible(`#results`),
	)
	first := text(t, ctx, `#results tbody tr:first-child td:first-child a`)
	href := attr(t, ctx, `#results tbody tr:first-child td:first-child a`, "href")
	if first != "Command and Scripting Interpreter" || href != "/objects/"+attackID {
		t.Errorf("first result %q (%s), want the T1059 attack pattern", first, href)
	}
	screenshot(t, ctx, "explorer")
	run(t, ctx, "opening it",
		chromedp.Click(`#results tbody tr:first-child td:first-child a`),
		chromedp.WaitVisible(`#props-h`),
	)
	tlp, ref := text(t, ctx, `.meta .tlp`), attr(t, ctx, `.extrefs a`, "href")
	if tlp != "TLP:CLEAR" || ref != "https://attack.mitre.org/techniques/T1059/" {
		t.Errorf("object page: TLP %q, ATT&CK link %q", tlp, ref)
	}
	screenshot(t, ctx, "object")
}

func TestBrowserHiddenObjectNotFound(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "bob")
	run(t, ctx, "opening the hidden TLP:RED object",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+fmtID(redID)),
		chromedp.WaitVisible(`main h1`),
	)
	title := text(t, ctx, `main h1`)
	hidden := read(t, ctx, "the page", chromedp.OuterHTML(`html`))
	run(t, ctx, "opening an id never stored",
		chromedp.Navigate(h.srv.URL+fmtID(neverID)),
		chromedp.WaitVisible(`main h1`),
	)
	never := read(t, ctx, "the page", chromedp.OuterHTML(`html`))
	if title != "Not Found" {
		t.Errorf("the hidden object's page is titled %q", title)
	}
	if hidden != never {
		t.Errorf("the hidden object's page differs from a missing id's")
	}
	for _, m := range redMarks {
		if strings.Contains(hidden, m) {
			t.Errorf("the page shows %q", m)
		}
	}
	screenshot(t, ctx, "not-found")
	// Its producer, in another browser, sees it.
	actx := browse(t)
	browserSignIn(t, actx, h, "alice")
	run(t, actx, "the producer opens it",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+fmtID(redID)),
		chromedp.WaitVisible(`#props-h`),
	)
	tlp, audience := text(t, actx, `.meta .tlp`), text(t, actx, `#audience`)
	if tlp != "TLP:RED" || audience != "the members of the sharing group Acme and Gamma" {
		t.Errorf("the producer's page: TLP %q, audience %q", tlp, audience)
	}
	screenshot(t, actx, "object-red")
}

func TestBrowserCSRFRefused(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "alice")
	run(t, ctx, "sending the password form without its token",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+"/account"),
		chromedp.WaitVisible(`input[autocomplete="new-password"]`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/account/password"] input[name="csrf"]').remove()`),
		chromedp.SendKeys(`#current`, password),
		chromedp.SendKeys(`#new`, "another long password"),
		chromedp.SendKeys(`#again`, "another long password"),
		chromedp.Click(`form[action="/account/password"] button[type="submit"]`),
		chromedp.WaitVisible(`p.error`),
	)
	msg := text(t, ctx, `p.error`)
	if !strings.Contains(msg, "this form has expired or did not come from this site") {
		t.Errorf("the refusal says %q", msg)
	}
	// Nothing changed: the password still signs in.
	h.client(t).mustSignIn("alice")
}

func TestBrowserOIDCSignIn(t *testing.T) {
	h := newHub(t)
	m := withOIDC(t, h)
	m.QueueUser(&partner{name: "olga", org: "Beta", role: "analyst"})
	ctx := browse(t)
	run(t, ctx, "signing in through the provider",
		chromedp.Navigate(h.srv.URL+"/search"),
		chromedp.WaitVisible(`a[href^="/login/oidc"]`),
		chromedp.Click(`a[href^="/login/oidc"]`),
		chromedp.WaitVisible(`input[type="search"]`),
	)
	who := text(t, ctx, `.who`)
	if !strings.Contains(who, "olga") || !strings.Contains(who, "Beta") {
		t.Errorf("after single sign-on the header says %q", who)
	}
}

func TestBrowserPublishRedToAGroup(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "alice")
	group := "group:" + strconv.FormatInt(h.groups["Acme and Gamma"].ID, 10)
	run(t, ctx, "publishing a TLP:RED indicator to a sharing group",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+"/publish"),
		chromedp.WaitVisible(`#pattern`),
		chromedp.SendKeys(`#name`, "Nightjar relay"),
		chromedp.SendKeys(`#pattern`, "[domain-name:value = 'relay.example']"),
		chromedp.Click(`form[action="/publish/indicator"] input[name="audience"][value="`+group+`"]`),
		chromedp.SetValue(`#ind-tlp`, "red"),
	)
	screenshot(t, ctx, "publish")
	run(t, ctx, "sending it",
		chromedp.Click(`form[action="/publish/indicator"] button[type="submit"]`),
		chromedp.WaitVisible(`#props-h`),
	)
	path := read(t, ctx, "location", chromedp.Evaluate[string](`location.pathname`))
	tlp, audience := text(t, ctx, `.meta .tlp`), text(t, ctx, `#audience`)
	if !strings.HasPrefix(path, "/objects/indicator--") || tlp != "TLP:RED" || audience != "the members of the sharing group Acme and Gamma" {
		t.Fatalf("after publishing: at %s, TLP %q, audience %q", path, tlp, audience)
	}
	bctx := browse(t)
	browserSignIn(t, bctx, h, "bob")
	run(t, bctx, "bob opens it", chromedp.WaitVisible(`.who`), chromedp.Navigate(h.srv.URL+path), chromedp.WaitVisible(`main h1`))
	hidden := read(t, bctx, "the page", chromedp.OuterHTML(`html`))
	run(t, bctx, "bob opens an id never stored", chromedp.Navigate(h.srv.URL+fmtID(neverID)), chromedp.WaitVisible(`main h1`))
	never := read(t, bctx, "the page", chromedp.OuterHTML(`html`))
	if hidden != never || !strings.Contains(hidden, "Not Found") {
		t.Errorf("bob's page of the published object differs from a missing id's, or is not a not-found page")
	}
}

// TestBrowserAgreementSetAndReleasability: a hub admin sets a group's
// agreement in the browser, and it shows as the version in force with the
// earlier one kept; the object releasable to GB shows its marking beside
// TLP to its producer, and is not found for Gamma (DE), a member of the
// same group.
func TestBrowserAgreementSetAndReleasability(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "hana")
	run(t, ctx, "setting the group's agreement",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+"/agreements"),
		chromedp.WaitVisible(`#agreement-form`),
		chromedp.SetValue(`#ag-group`, "Acme and Gamma"),
		chromedp.SendKeys(`#ag-purpose`, "Joint response, renewed"),
		chromedp.SendKeys(`#ag-tlp`, "green, amber"),
		chromedp.SendKeys(`#ag-nations`, "GB"),
		chromedp.Click(`#ag-federate`),
	)
	screenshot(t, ctx, "agreements")
	run(t, ctx, "sending it", chromedp.Click(`#agreement-form button[type="submit"]`), chromedp.WaitVisible(`p.notice`))
	if got := text(t, ctx, `p.notice`); got != `Set the agreement of group "Acme and Gamma" (version 2).` {
		t.Errorf("notice %q", got)
	}
	if got := text(t, ctx, `.agreement .rel-nations`); got != "GB" {
		t.Errorf("releasable nations shown %q, want GB", got)
	}
	actx := browse(t)
	browserSignIn(t, actx, h, "alice")
	run(t, actx, "alice opens the object releasable to GB", chromedp.WaitVisible(`.who`), chromedp.Navigate(h.srv.URL+fmtID(relID2)), chromedp.WaitVisible(`#marks`))
	if tlp, marks := text(t, actx, `.meta .tlp`), text(t, actx, `#marks`); tlp != "TLP:AMBER" || marks != "REL TO GB" {
		t.Errorf("beside TLP %q: %q; want REL TO GB", tlp, marks)
	}
	gctx := browse(t)
	browserSignIn(t, gctx, h, "gina")
	run(t, gctx, "gina opens it", chromedp.WaitVisible(`.who`), chromedp.Navigate(h.srv.URL+fmtID(relID2)), chromedp.WaitVisible(`main h1`))
	hidden := read(t, gctx, "the page", chromedp.OuterHTML(`html`))
	run(t, gctx, "gina opens an id never stored", chromedp.Navigate(h.srv.URL+fmtID(neverID)), chromedp.WaitVisible(`main h1`))
	never := read(t, gctx, "the page", chromedp.OuterHTML(`html`))
	if strings.ReplaceAll(never, neverID, relID2) != hidden || !strings.Contains(hidden, "Not Found") {
		t.Errorf("gina's page of the object releasable to GB differs from a missing id's, or is not a not-found page")
	}
}
