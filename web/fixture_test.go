package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/web"
)

func TestMain(m *testing.M) {
	// Cheaper hashes than production's, so that the tests' many sign-ins
	// do not take seconds each on a shared machine; VerifyPassword reads
	// the parameters from each hash, so the code paths are the same.
	web.Argon2.Memory, web.Argon2.Time = 8*1024, 1
	os.Exit(m.Run())
}

// Ids of the seeded objects.
const (
	attackID  = "attack-pattern--7385dfaf-6886-4229-9ecd-6fd678040830" // T1059, all members, TLP:CLEAR
	redID     = "indicator--11111111-1111-4111-8111-111111111111"      // TLP:RED, shared with group "Acme and Gamma"
	malwareID = "malware--22222222-2222-4222-8222-222222222222"        // two versions, all members
	relID     = "relationship--33333333-3333-4333-8333-333333333333"   // malware uses attack-pattern
	neverID   = "indicator--99999999-9999-4999-8999-999999999999"      // never stored

	redIncidentID   = "incident--55555555-5555-4555-8555-555555555555"         // "Operation Nightjar", TLP:RED, group "Acme and Gamma"
	redTaskID       = "x-cyberpact-task--55555555-5555-4555-8555-555555555556" // its task, assigned to gina
	openIncidentID  = "incident--66666666-6666-4666-8666-666666666666"         // "Phishing wave", all members, TLP:AMBER
	openTaskID      = "x-cyberpact-task--66666666-6666-4666-8666-666666666667" // its task, assigned to bob
	openRFAID       = "x-cyberpact-rfa--66666666-6666-4666-8666-666666666668"  // a request of Acme to Beta on it
	neverIncidentID = "incident--99999999-9999-4999-8999-999999999998"         // never stored
	password        = "correct horse battery staple"
)

// hub is a real hub for the interface's tests: a SQLite store in a
// temporary directory, the API server with the interface mounted, served
// on 127.0.0.1.
type hub struct {
	db     *sqlite.DB
	api    *cphttp.Server
	ui     *web.Handler
	srv    *httptest.Server
	orgs   map[string]*cyberpact.Org
	users  map[string]*cyberpact.User
	groups map[string]*cyberpact.Group
	now    time.Time // the interface's clock, when clock is set
	clock  bool
	// exerciseAhead moves the exercises' clock ahead of the real one.
	exerciseAhead atomic.Int64
}

func newHub(t testing.TB) *hub {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &hub{db: db, orgs: map[string]*cyberpact.Org{}, users: map[string]*cyberpact.User{}, groups: map[string]*cyberpact.Group{}}
	for _, o := range []struct{ name, nation string }{{"Acme", "GB"}, {"Beta", "FR"}, {"Gamma", "DE"}, {"Hub", "BE"}} {
		org := &cyberpact.Org{Name: o.name, Nation: o.nation, Sector: "finance"}
		if err := db.CreateOrg(ctx, org, "cli"); err != nil {
			t.Fatal(err)
		}
		h.orgs[o.name] = org
	}
	g := &cyberpact.Group{Name: "Acme and Gamma", Orgs: []int64{h.orgs["Acme"].ID, h.orgs["Gamma"].ID}}
	if err := db.CreateGroup(ctx, g, "cli"); err != nil {
		t.Fatal(err)
	}
	h.groups[g.Name] = g
	for _, u := range []struct {
		name, org string
		role      cyberpact.Role
	}{{"alice", "Acme", cyberpact.RoleAnalyst}, {"bob", "Beta", cyberpact.RoleAnalyst}, {"gina", "Gamma", cyberpact.RoleOrgAdmin}, {"hana", "Hub", cyberpact.RoleAdmin}} {
		user := &cyberpact.User{Name: u.name, Org: h.orgs[u.org].ID, Role: u.role}
		if err := db.CreateUser(ctx, user, "cli"); err != nil {
			t.Fatal(err)
		}
		hash, err := web.HashPassword(password)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetPassword(ctx, user.ID, hash, "cli"); err != nil {
			t.Fatal(err)
		}
		h.users[u.name] = user
	}
	h.seed(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.api = cphttp.NewServer(db, quiet)
	h.api.Exercise.Now = func() time.Time { return time.Now().Add(time.Duration(h.exerciseAhead.Load())) }
	h.ui = web.New(db, h.api, quiet)
	h.ui.Now = func() time.Time {
		if h.clock {
			return h.now
		}
		return time.Now()
	}
	h.api.Mount(h.ui, h.ui.Routes()...)
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hub) importAs(t testing.TB, rel cyberpact.Release, objs ...map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--44444444-4444-4444-8444-444444444444", "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(raw))
	defer dec.Close()
	res, err := h.db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: rel.Producer, Audience: rel.Audience, DefaultTLP: rel.TLP})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("seeding: %v %+v", err, res)
	}
}

func (h *hub) seed(t testing.TB) {
	t.Helper()
	stamp := "2026-01-01T00:00:00.000Z"
	all := cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPClear}
	h.importAs(t, all, map[string]any{"type": "attack-pattern", "spec_version": "2.1", "id": attackID, "created": stamp, "modified": stamp,
		"name": "Command and Scripting Interpreter", "description": "Adversaries may abuse command and script interpreters to execute commands.",
		"external_references": []any{map[string]any{"source_name": "mitre-attack", "external_id": "T1059"}},
		"kill_chain_phases":   []any{map[string]any{"kill_chain_name": "mitre-attack", "phase_name": "execution"}}})
	mal := func(modified, desc string) map[string]any {
		return map[string]any{"type": "malware", "spec_version": "2.1", "id": malwareID, "created": stamp, "modified": modified,
			"name": "Quietcrab", "is_family": true, "description": desc}
	}
	acme := h.orgs["Acme"].ID
	amber := cyberpact.Release{Producer: acme, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPAmber}
	h.importAs(t, amber, mal(stamp, "A loader first seen in January."))
	h.importAs(t, amber, mal("2026-02-01T00:00:00.000Z", "A loader first seen in January; now also a stealer."),
		map[string]any{"type": "relationship", "spec_version": "2.1", "id": relID, "created": stamp, "modified": stamp,
			"relationship_type": "uses", "source_ref": malwareID, "target_ref": attackID})
	red := cyberpact.Release{Producer: acme, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.groups["Acme and Gamma"].ID}, TLP: cyberpact.TLPRed}
	h.importAs(t, red, map[string]any{"type": "indicator", "spec_version": "2.1", "id": redID, "created": stamp, "modified": stamp,
		"name": "Redwing beacon", "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": stamp,
		"object_marking_refs": []any{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}})
	// A RED incident of the group, and an incident of all members with a
	// RED note for the group on it: "Operation Nightjar" and "Kestrel
	// informant" are for the group's eyes only (redMarks).
	h.importAs(t, red, map[string]any{"type": "incident", "spec_version": "2.1", "id": redIncidentID, "created": stamp, "modified": stamp,
		"name": "Operation Nightjar", "x_cyberpact_status": "open", "x_cyberpact_severity": "critical"},
		map[string]any{"type": "x-cyberpact-task", "spec_version": "2.1", "id": redTaskID, "created": stamp, "modified": stamp,
			"incident_ref": redIncidentID, "name": "Trace the Nightjar relay", "status": "open", "assignee": "gina", "assignee_org": "Gamma"})
	h.importAs(t, amber, map[string]any{"type": "incident", "spec_version": "2.1", "id": openIncidentID, "created": stamp, "modified": stamp,
		"name": "Phishing wave", "x_cyberpact_status": "open", "x_cyberpact_severity": "medium"},
		map[string]any{"type": "x-cyberpact-task", "spec_version": "2.1", "id": openTaskID, "created": stamp, "modified": stamp,
			"incident_ref": openIncidentID, "name": "Block the sender domains", "status": "open", "assignee": "bob", "assignee_org": "Beta"},
		map[string]any{"type": "x-cyberpact-rfa", "spec_version": "2.1", "id": openRFAID, "created": stamp, "modified": stamp,
			"incident_ref": openIncidentID, "kind": "takedown", "description": "take down the kit", "addressed_to": []string{"Beta"}})
	h.importAs(t, red, map[string]any{"type": "note", "spec_version": "2.1", "id": "note--55555555-5555-4555-8555-555555555557", "created": stamp, "modified": stamp,
		"content": "Kestrel informant says the kit is sold in one forum", "object_refs": []string{openIncidentID},
		"object_marking_refs": []any{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}})
	// Releasability: a marking definition REL TO GB (stored by the hub,
	// shown to no one) and an indicator Acme (GB) shares with all members
	// under it, which Gamma (DE) and Beta (FR) never see; the group's
	// agreement; and a PAP:RED indicator every member sees.
	hidden := cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber}
	h.importAs(t, hidden, map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": relGBMarking, "created": stamp, "name": "REL TO GB",
		"extensions": map[string]any{cyberpact.MarkingExtension: map[string]any{"extension_type": "property-extension", "rel_nations": []any{"GB"}}}},
		map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": papRedMarking, "created": stamp, "name": "PAP:RED",
			"definition_type": "statement", "definition": map[string]any{"statement": "PAP:RED"}})
	h.importAs(t, amber, map[string]any{"type": "indicator", "spec_version": "2.1", "id": relID2, "created": stamp, "modified": stamp,
		"name": "Kestrel relay", "pattern": "[domain-name:value = 'kestrel.example']", "pattern_type": "stix", "valid_from": stamp,
		"object_marking_refs": []any{relGBMarking}},
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": papRedID, "created": stamp, "modified": stamp,
			"name": "Heron sinkhole", "pattern": "[domain-name:value = 'heron.example']", "pattern_type": "stix", "valid_from": stamp,
			"object_marking_refs": []any{papRedMarking}})
	if err := h.db.SetAgreement(context.Background(), &cyberpact.Agreement{Group: h.groups["Acme and Gamma"].ID, Purpose: "Joint response of Acme and Gamma",
		PAPs: []cyberpact.PAP{cyberpact.PAPClear, cyberpact.PAPGreen, cyberpact.PAPAmber}, RelNations: []string{"GB", "DE"}}, "cli"); err != nil {
		t.Fatal(err)
	}
}

// The releasability-marked objects of the seed.
const (
	relGBMarking  = "marking-definition--61616161-6161-4616-8616-616161616161"
	papRedMarking = "marking-definition--62626262-6262-4626-8626-626262626262"
	relID2        = "indicator--63636363-6363-4636-8636-636363636363"
	papRedID      = "indicator--64646464-6464-4646-8646-646464646464"
)

// client is a browser without JavaScript: a cookie jar, redirects not
// followed.
type client struct {
	t    testing.TB
	h    *hub
	http *http.Client
}

func (h *hub) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	body   string
	header http.Header
	url    string // what was asked for
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, string(b), res.Header, req.URL.String()}
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.h.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the forms of the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	p := c.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		c.t.Fatalf("GET %s: no CSRF token in the page (status %d)", path, p.status)
	}
	return m[1]
}

// signIn signs in with a password and returns the answer.
func (c *client) signIn(user, pw, next string) page {
	c.t.Helper()
	return c.post("/login", url.Values{"csrf": {c.csrf("/login")}, "username": {user}, "password": {pw}, "next": {next}})
}

// mustSignIn signs in and fails the test unless it worked.
func (c *client) mustSignIn(user string) {
	c.t.Helper()
	if p := c.signIn(user, password, "/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/" {
		c.t.Fatalf("signing in as %s: %d %s", user, p.status, p.header.Get("Location"))
	}
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.h.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, what string, p page, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("%s: status %d, want %d; body:\n%.600s", what, p.status, want, p.body)
	}
}

func mustContain(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: the page does not contain %q", what, s)
		}
	}
}

func fmtID(id string) string { return fmt.Sprintf("/objects/%s", id) }
