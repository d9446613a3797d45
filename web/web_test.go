package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	h := newHub(t)
	c := h.client(t)
	c.mustSignIn("alice")
	for _, path := range []string{"/", "/login", "/search?q=T1059", fmtID(attackID), fmtID(neverID), "/account", "/account/totp", "/static/style.css"} {
		p := c.get(path)
		csp := p.header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "script-src 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, d)
			}
		}
		if got := p.header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q, want DENY", path, got)
		}
		if got := p.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
		}
	}
}

func TestSignInWithPassword(t *testing.T) {
	h := newHub(t)
	t.Run("Works", func(t *testing.T) {
		c := h.client(t)
		p := c.signIn("ALICE", password, "/search?q=T1059")
		wantStatus(t, "sign-in", p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != "/search?q=T1059" {
			t.Errorf("sign-in sent the browser to %q", loc)
		}
		ck := p.header.Get("Set-Cookie")
		for _, attr := range []string{"cyberpact_session=", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(ck, attr) {
				t.Errorf("session cookie %q lacks %s", ck, attr)
			}
		}
		mustContain(t, "dashboard", c.get("/").body, "Acme", "alice")
	})
	t.Run("WrongPasswordAndUnknownUserAlike", func(t *testing.T) {
		c := h.client(t)
		a := c.signIn("alice", "not the password at all", "/")
		b := c.signIn("nobody", "not the password at all", "/")
		wantStatus(t, "wrong password", a, http.StatusUnauthorized)
		wantStatus(t, "unknown user", b, http.StatusUnauthorized)
		mustContain(t, "wrong password", a.body, "The user name or password is not right.")
		strip := func(s string) string {
			return csrfField.ReplaceAllString(strings.ReplaceAll(s, "nobody", "alice"), "")
		}
		if strip(a.body) != strip(b.body) {
			t.Errorf("a wrong password and an unknown user get different pages")
		}
		if c.cookie("cyberpact_session") != "" {
			t.Errorf("a failed sign-in set a session cookie")
		}
	})
	t.Run("FormFieldsCarryAutocompleteTokens", func(t *testing.T) {
		body := h.client(t).get("/login").body
		mustContain(t, "sign-in form", body, `autocomplete="username"`, `autocomplete="current-password"`)
		c := h.client(t)
		c.mustSignIn("alice")
		mustContain(t, "account page", c.get("/account").body, `autocomplete="new-password"`, `autocomplete="current-password"`)
		mustContain(t, "explorer", c.get("/search").body, `type="search"`)
	})
	t.Run("SignedOutGoesToSignIn", func(t *testing.T) {
		p := h.client(t).get("/search?q=x")
		wantStatus(t, "explorer signed out", p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != "/login?next=%2Fsearch%3Fq%3Dx" {
			t.Errorf("redirected to %q", loc)
		}
	})
	t.Run("SignOutEndsTheSession", func(t *testing.T) {
		c := h.client(t)
		c.mustSignIn("alice")
		token := c.cookie("cyberpact_session")
		wantStatus(t, "sign out", c.post("/logout", url.Values{"csrf": {c.csrf("/account")}}), http.StatusSeeOther)
		// The old token, replayed, is no session.
		replay := h.client(t)
		u, _ := url.Parse(h.srv.URL)
		replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "cyberpact_session", Value: token}})
		wantStatus(t, "replayed token", replay.get("/account"), http.StatusSeeOther)
	})
}

func TestCSRFRefusedWithoutToken(t *testing.T) {
	h := newHub(t)
	c := h.client(t)
	c.mustSignIn("alice")
	other := h.client(t)
	other.mustSignIn("bob")
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"NoToken", url.Values{"current": {password}, "password": {"a whole new password"}, "again": {"a whole new password"}}},
		{"WrongToken", url.Values{"csrf": {"x"}, "current": {password}, "password": {"a whole new password"}, "again": {"a whole new password"}}},
		{"AnotherSessionsToken", url.Values{"csrf": {other.csrf("/account")}, "current": {password}, "password": {"a whole new password"}, "again": {"a whole new password"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.post("/account/password", tc.form)
			wantStatus(t, "password change", p, http.StatusForbidden)
			mustContain(t, "refusal", p.body, "this form has expired or did not come from this site")
		})
	}
	// Nothing changed: the old password still signs in.
	h.client(t).mustSignIn("alice")
	t.Run("SignInFormToo", func(t *testing.T) {
		p := h.client(t).post("/login", url.Values{"username": {"alice"}, "password": {password}})
		wantStatus(t, "sign-in without token", p, http.StatusForbidden)
	})
	t.Run("SignOutToo", func(t *testing.T) {
		wantStatus(t, "sign-out without token", c.post("/logout", nil), http.StatusForbidden)
		wantStatus(t, "still signed in", c.get("/account"), http.StatusOK)
	})
}

func TestSessionFixationRefused(t *testing.T) {
	h := newHub(t)
	c := h.client(t)
	u, _ := url.Parse(h.srv.URL)
	planted := "planted-by-an-attacker-0000000000000000000000"
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "cyberpact_session", Value: planted}})
	c.mustSignIn("alice")
	first := c.cookie("cyberpact_session")
	if first == "" || first == planted {
		t.Fatalf("session cookie after sign-in = %q; want a new token", first)
	}
	// Signing in again in the same browser makes yet another token and
	// ends the one before.
	wantStatus(t, "second sign-in", c.post("/login", url.Values{"csrf": {c.csrf("/account")}, "username": {"alice"}, "password": {password}}), http.StatusSeeOther)
	second := c.cookie("cyberpact_session")
	if second == first {
		t.Fatalf("a second sign-in kept the token")
	}
	old := h.client(t)
	old.http.Jar.SetCookies(u, []*http.Cookie{{Name: "cyberpact_session", Value: first}})
	wantStatus(t, "the first token", old.get("/account"), http.StatusSeeOther)
}

func TestOpenRedirectRefused(t *testing.T) {
	h := newHub(t)
	for next, want := range map[string]string{
		"//evil.example/":           "/",
		"https://evil.example/":     "/",
		"/\\evil.example":           "/",
		"javascript:alert(1)":       "/",
		"evil.example":              "/",
		"/%0d%0aLocation:%20x":      "/%0d%0aLocation:%20x",
		"/search?q=T1059":           "/search?q=T1059",
		"/objects/" + attackID:      "/objects/" + attackID,
		"///evil.example":           "/",
		"/\t/evil.example":          "/",
		"http:evil.example":         "/",
		"/login?next=//evil.exampl": "/login?next=//evil.exampl",
	} {
		p := h.client(t).signIn("alice", password, next)
		wantStatus(t, "sign-in with next "+next, p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != want {
			t.Errorf("next=%q: sent to %q, want %q", next, loc, want)
		}
	}
}

func TestFailedSignInsLimitedWithoutLockingOut(t *testing.T) {
	h := newHub(t)
	h.api.LoginFailures = 2
	// Requests from two client addresses, straight to the handler, since
	// every test connection comes from 127.0.0.1.
	jar := map[string][]*http.Cookie{}
	send := func(addr string, form url.Values) *httptest.ResponseRecorder {
		get := httptest.NewRequest("GET", "/login", nil)
		get.RemoteAddr = addr + ":1234"
		rec := httptest.NewRecorder()
		h.api.ServeHTTP(rec, get)
		tok := csrfField.FindStringSubmatch(rec.Body.String())[1]
		jar[addr] = rec.Result().Cookies()
		form.Set("csrf", tok)
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr + ":1234"
		for _, ck := range jar[addr] {
			req.AddCookie(ck)
		}
		rec = httptest.NewRecorder()
		h.api.ServeHTTP(rec, req)
		return rec
	}
	wrong := url.Values{"username": {"alice"}, "password": {"guess guess guess"}}
	right := url.Values{"username": {"alice"}, "password": {password}}
	for i := 0; i < 2; i++ {
		if rec := send("192.0.2.66", wrong); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, rec.Code)
		}
	}
	rec := send("192.0.2.66", right)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("the right password from the guessing address: status %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := send("198.51.100.5", right); rec.Code != http.StatusSeeOther {
		t.Errorf("the real user from another address: status %d, want 303 (signed in)", rec.Code)
	}
	// The API's logins share the limit: the guessing address is held back
	// there too.
	req := httptest.NewRequest("GET", "/api/v1/stats", nil)
	req.RemoteAddr = "192.0.2.66:1234"
	req.SetBasicAuth("alice", "cpk_whatever")
	rr := httptest.NewRecorder()
	h.api.ServeHTTP(rr, req)
	if rr.Code != http.StatusTooManyRequests {
		t.Errorf("API login from the guessing address: status %d, want 429", rr.Code)
	}
}

func TestSessionEnds(t *testing.T) {
	ctx := context.Background()
	t.Run("WhenUserDisabled", func(t *testing.T) {
		h := newHub(t)
		c := h.client(t)
		c.mustSignIn("alice")
		wantStatus(t, "before", c.get("/account"), http.StatusOK)
		if err := h.db.SetDisabled(ctx, h.users["alice"].ID, true, "cli"); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "after disabling", c.get("/account"), http.StatusSeeOther)
		wantStatus(t, "signing in disabled", c.signIn("alice", password, "/"), http.StatusUnauthorized)
	})
	t.Run("WhenOrgLeavesAGroupItHad", func(t *testing.T) {
		h := newHub(t)
		c := h.client(t)
		c.mustSignIn("alice")
		wantStatus(t, "red object before", c.get(fmtID(redID)), http.StatusOK)
		g := h.groups["Acme and Gamma"]
		if err := h.db.SetGroupOrgs(ctx, g.ID, []int64{h.orgs["Gamma"].ID}, "cli"); err != nil {
			t.Fatal(err)
		}
		p := c.get(fmtID(attackID))
		wantStatus(t, "after the org left the group", p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); !strings.HasSuffix(loc, "&ended=groups") {
			t.Errorf("sent to %q", loc)
		}
		p = c.get(p.header.Get("Location"))
		mustContain(t, "sign-in page", p.body, "sharing groups changed")
	})
	t.Run("AfterIdleAndMaxAge", func(t *testing.T) {
		h := newHub(t)
		h.ui.IdleTimeout, h.ui.MaxAge = 10*time.Minute, time.Hour
		h.clock, h.now = true, time.Now()
		c := h.client(t)
		c.mustSignIn("alice")
		for i := 0; i < 8; i++ { // active: 8 requests 9 minutes apart, 72 minutes in all
			h.now = h.now.Add(9 * time.Minute)
			p := c.get("/account")
			if i < 6 {
				wantStatus(t, "active session", p, http.StatusOK)
			} else {
				wantStatus(t, "past MaxAge", p, http.StatusSeeOther)
				break
			}
		}
		c.mustSignIn("alice")
		h.now = h.now.Add(11 * time.Minute)
		wantStatus(t, "past IdleTimeout", c.get("/account"), http.StatusSeeOther)
	})
}

func TestHiddenObjectIsNotFoundLikeNoObject(t *testing.T) {
	h := newHub(t)
	bob := h.client(t)
	bob.mustSignIn("bob")
	hidden, never := bob.get(fmtID(redID)), bob.get(fmtID(neverID))
	wantStatus(t, "hidden TLP:RED object", hidden, http.StatusNotFound)
	wantStatus(t, "id never stored", never, http.StatusNotFound)
	if hidden.body != never.body {
		t.Errorf("the hidden object's page differs from a missing id's:\n%s\n---\n%s", hidden.body, never.body)
	}
	for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control"} {
		if hidden.header.Get(k) != never.header.Get(k) {
			t.Errorf("header %s: %q for the hidden object, %q for a missing id", k, hidden.header.Get(k), never.header.Get(k))
		}
	}
	for _, q := range []string{"Redwing", "198.51.100.7", "beacon"} {
		if p := bob.get("/search?q=" + url.QueryEscape(q)); strings.Contains(p.body, redID) || strings.Contains(p.body, "Redwing beacon") {
			t.Errorf("search %q shows the hidden object", q)
		}
	}
	alice := h.client(t)
	alice.mustSignIn("alice")
	p := alice.get(fmtID(redID))
	wantStatus(t, "the producer's own object", p, http.StatusOK)
	mustContain(t, "red object page", p.body, "TLP:RED", "the members of the sharing group Acme and Gamma", "Redwing beacon", `class="str"`)
}

func TestExplorerAndObjectPage(t *testing.T) {
	h := newHub(t)
	c := h.client(t)
	c.mustSignIn("bob")
	p := c.get("/search?q=T1059")
	wantStatus(t, "search", p, http.StatusOK)
	mustContain(t, "search T1059", p.body, "/objects/"+attackID, "Command and Scripting Interpreter", "TLP:CLEAR")
	p = c.get("/search?type=malware")
	mustContain(t, "type filter", p.body, "Quietcrab")
	if strings.Contains(p.body, "Command and Scripting") {
		t.Errorf("the type filter let an attack-pattern through")
	}
	p = c.get("/search?tlp=clear")
	mustContain(t, "a TLP filter alone", p.body, "Command and Scripting Interpreter")
	if strings.Contains(p.body, "Quietcrab") {
		t.Errorf("TLP at most clear lists a TLP:AMBER object")
	}
	wantStatus(t, "bad query", c.get("/search?q=%22unclosed"), http.StatusBadRequest)
	wantStatus(t, "bad cursor", c.get("/search?q=x&cursor=AAAA"), http.StatusBadRequest)
	p = c.get(fmtID(malwareID))
	wantStatus(t, "object page", p, http.StatusOK)
	mustContain(t, "malware page", p.body, "TLP:AMBER", "every member organisation", "Produced by <strong>Acme</strong>",
		"2026-01-01 00:00:00.000 UTC", "2026-02-01 00:00:00.000 UTC", `id="diff"`, "now also a stealer", "uses", attackID)
	p = c.get(fmtID(attackID))
	mustContain(t, "attack-pattern page", p.body, "https://attack.mitre.org/techniques/T1059/", "execution",
		`<svg xmlns="http://www.w3.org/2000/svg" class="graph"`, `<a href="/objects/`+malwareID+`"><g class="node">`, ">Quietcrab</text>", ">uses</text>",
		`>Quietcrab</a> <strong>uses</strong> this`)
	p = c.get(fmtID(malwareID) + "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00.000Z")
	wantStatus(t, "diff backwards, the versions written as RFC 3339", p, http.StatusOK)
	mustContain(t, "diff backwards", p.body, "Changes from 2026-02-01 00:00:00.000 UTC to 2026-01-01 00:00:00.000 UTC")
	wantStatus(t, "diff of an unknown version", c.get(fmtID(malwareID)+"?from=2020-01-01T00:00:00.000Z"), http.StatusBadRequest)
}

func TestExplorerPagesWithSealedCursors(t *testing.T) {
	h := newHub(t)
	c := h.client(t)
	c.mustSignIn("bob")
	seen := map[string]bool{}
	next := "/search?type="
	link := regexp.MustCompile(`rel="next" href="([^"]+)"`)
	id := regexp.MustCompile(`href="/objects/([^"]+)"`)
	h.ui.Now = nil
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		p := c.get(strings.ReplaceAll(next, "&amp;", "&"))
		wantStatus(t, "page", p, http.StatusOK)
		for _, m := range id.FindAllStringSubmatch(p.body, -1) {
			seen[m[1]] = true
		}
		next = ""
		if m := link.FindStringSubmatch(p.body); m != nil {
			next = m[1]
		}
	}
	for _, want := range []string{attackID, malwareID, relID} {
		if !seen[want] {
			t.Errorf("the explorer's pages never list %s", want)
		}
	}
	if seen[redID] {
		t.Errorf("bob's explorer lists the hidden object")
	}
}

func TestTOTPSecondFactor(t *testing.T) {
	h := newHub(t)
	h.clock, h.now = true, time.Now()
	c := h.client(t)
	c.mustSignIn("alice")
	enrol := c.get("/account/totp")
	wantStatus(t, "enrolment page", enrol, http.StatusOK)
	mustContain(t, "enrolment page", enrol.body, "<svg", `autocomplete="one-time-code"`)
	secret := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(enrol.body)[1]
	tok := csrfField.FindStringSubmatch(enrol.body)[1]
	wantStatus(t, "wrong code", c.post("/account/totp", url.Values{"csrf": {tok}, "secret": {secret}, "code": {"000000"}}), http.StatusBadRequest)
	code, _ := totp.GenerateCode(secret, h.now)
	done := c.post("/account/totp", url.Values{"csrf": {tok}, "secret": {secret}, "code": {code}})
	wantStatus(t, "enrolment", done, http.StatusOK)
	codes := regexp.MustCompile(`<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>`).FindAllStringSubmatch(done.body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}

	t.Run("PasswordAloneIsNotEnough", func(t *testing.T) {
		b := h.client(t)
		p := b.signIn("alice", password, "/search")
		wantStatus(t, "password step", p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != "/login/totp?next=%2Fsearch" {
			t.Fatalf("after the password: sent to %q", loc)
		}
		wantStatus(t, "explorer before the code", b.get("/search?q=x"), http.StatusSeeOther)
		pending := b.cookie("cyberpact_session")
		tok := b.csrf("/login/totp")
		wantStatus(t, "wrong code", b.post("/login/totp", url.Values{"csrf": {tok}, "code": {"123456"}, "next": {"/search"}}), http.StatusUnauthorized)
		// The enrolment's code, within its 30 seconds, does not sign in.
		wantStatus(t, "the enrolment's code", b.post("/login/totp", url.Values{"csrf": {tok}, "code": {code}, "next": {"/search"}}), http.StatusUnauthorized)
		h.now = h.now.Add(30 * time.Second)
		code, _ := totp.GenerateCode(secret, h.now)
		p = b.post("/login/totp", url.Values{"csrf": {tok}, "code": {code}, "next": {"/search"}})
		wantStatus(t, "right code", p, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != "/search" {
			t.Errorf("after the code: sent to %q", loc)
		}
		if b.cookie("cyberpact_session") == pending {
			t.Errorf("the session token was not renewed after the second factor")
		}
		wantStatus(t, "explorer after the code", b.get("/search?q=x"), http.StatusOK)
		// The same code, replayed by another browser within its window, is refused.
		o := h.client(t)
		o.signIn("alice", password, "/")
		wantStatus(t, "replayed code", o.post("/login/totp", url.Values{"csrf": {o.csrf("/login/totp")}, "code": {code}, "next": {"/"}}), http.StatusUnauthorized)
	})
	t.Run("RecoveryCodeWorksOnce", func(t *testing.T) {
		for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
			b := h.client(t)
			b.signIn("alice", password, "/")
			p := b.post("/login/totp", url.Values{"csrf": {b.csrf("/login/totp")}, "code": {strings.ToLower(codes[0][1])}, "next": {"/"}})
			if p.status != want {
				t.Errorf("use %d of a recovery code: status %d, want %d", i+1, p.status, want)
			}
		}
	})
}

func TestOrgCanRequireTOTP(t *testing.T) {
	h := newHub(t)
	bob := h.client(t)
	bob.mustSignIn("bob")
	// An analyst of another organisation may not set it.
	wantStatus(t, "bob requires it of Gamma", bob.post("/orgs/"+itoa(h.orgs["Gamma"].ID)+"/require-totp", url.Values{"csrf": {bob.csrf("/account")}, "require": {"on"}}), http.StatusForbidden)
	gina := h.client(t)
	gina.mustSignIn("gina")
	wantStatus(t, "gina requires it of Gamma", gina.post("/orgs/"+itoa(h.orgs["Gamma"].ID)+"/require-totp", url.Values{"csrf": {gina.csrf("/account")}, "require": {"on"}}), http.StatusSeeOther)
	p := gina.get("/search?q=T1059")
	wantStatus(t, "gina's explorer once required", p, http.StatusSeeOther)
	if loc := p.header.Get("Location"); loc != "/account/totp" {
		t.Errorf("sent to %q, want the enrolment page", loc)
	}
	wantStatus(t, "bob's explorer", bob.get("/search?q=T1059"), http.StatusOK)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
