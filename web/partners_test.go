package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

func init() {
	routeCases["GET /peers"] = func(t *testing.T, c *client) []page { return []page{c.get("/peers")} }
	routeCases["GET /audit"] = func(t *testing.T, c *client) []page {
		var out []page
		for _, q := range []string{"", "?object=" + redID, "?action=release", fmt.Sprintf("?org=%d", c.h.orgs["Acme"].ID), "?action=nope", "?since=2020-01-01&until=2099-12-31"} {
			out = append(out, c.get("/audit"+q))
		}
		return out
	}
}

// TestPeersPage: hub admins see each peer's sync status, lag, failed runs
// and the objects kept to try again; nobody else sees the page.
func TestPeersPage(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	ok := &cyberpact.Peer{Name: "london", URL: "https://london.example/taxii2/api1/", Collection: "c1", Key: "secret-london",
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}
	bad := &cyberpact.Peer{Name: "paris", URL: "https://paris.example/taxii2/api1/", Collection: "c2", Key: "secret-paris",
		Direction: cyberpact.SyncBoth, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}
	for _, p := range []*cyberpact.Peer{ok, bad} {
		if err := h.db.CreatePeer(ctx, p, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if err := h.db.SavePeerState(ctx, &cyberpact.PeerState{Peer: ok.ID, LastRun: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), Runs: 4, Pulled: 17}); err != nil {
		t.Fatal(err)
	}
	if err := h.db.SavePeerState(ctx, &cyberpact.PeerState{Peer: bad.ID, LastRun: now, LastSuccess: now.Add(-3 * time.Hour), LastError: "peer answered 503 Service Unavailable",
		LastErrorAt: now, Failures: 2, Runs: 9, FailedRuns: 3}); err != nil {
		t.Fatal(err)
	}
	if err := h.db.RecordFailure(ctx, &cyberpact.SyncFailure{Peer: bad.ID, Direction: cyberpact.SyncPush, ObjectID: attackID, Version: "2026-01-01T00:00:00.000Z", Reason: "rejected by the peer", First: now, Last: now}); err != nil {
		t.Fatal(err)
	}
	c := h.client(t)
	c.mustSignIn("hana")
	p := c.get("/peers")
	wantStatus(t, "peers", p, http.StatusOK)
	mustContain(t, "peers", p.body, "london", "in sync", "paris", "failing: 2 runs in a row", "peer answered 503 Service Unavailable",
		"1 objects kept to try again", attackID, "rejected by the peer", "9 (3)", "17, 0, 0")
	if !regexp.MustCompile(`class="peer-lag">3h0m[0-9]+s<`).MatchString(p.body) {
		t.Errorf("paris's lag is not shown as about three hours:\n%s", p.body)
	}
	for _, secret := range []string{"secret-london", "secret-paris"} {
		if strings.Contains(p.body, secret) {
			t.Errorf("the page shows a peer's key")
		}
	}
	for _, u := range []string{"alice", "gina"} {
		c := h.client(t)
		c.mustSignIn(u)
		wantStatus(t, u+" opens peers", c.get("/peers"), http.StatusForbidden)
		if strings.Contains(c.get("/").body, `href="/peers"`) {
			t.Errorf("%s is offered the peers page", u)
		}
	}
}

// TestAuditPage: hub admins see the whole log, filtered, and whether the
// chain is whole; an org admin sees its organisation's trail only, whatever
// it asks; analysts see nothing; paging is by a sealed cursor.
func TestAuditPage(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	// Releases to Gamma and to Beta.
	gina, bob := h.client(t), h.client(t)
	gina.mustSignIn("gina")
	bob.mustSignIn("bob")
	wantStatus(t, "gina reads the red indicator", gina.get(fmtID(redID)), http.StatusOK)
	wantStatus(t, "bob reads the malware", bob.get(fmtID(malwareID)), http.StatusOK)

	hana := h.client(t)
	hana.mustSignIn("hana")
	all := hana.get("/audit")
	wantStatus(t, "hana's audit log", all, http.StatusOK)
	mustContain(t, "hana's audit log", all.body, "The hash chain is whole", fmtID(redID), fmtID(malwareID), "Gamma", "Beta")
	beta := hana.get(fmt.Sprintf("/audit?org=%d&action=release", h.orgs["Beta"].ID))
	mustContain(t, "filtered by Beta", beta.body, fmtID(malwareID))
	if strings.Contains(beta.body, fmtID(redID)) {
		t.Error("the filter by Beta shows a release to Gamma")
	}
	byObject := hana.get("/audit?object=" + redID)
	mustContain(t, "filtered by object", byObject.body, fmtID(redID))
	if strings.Contains(byObject.body, fmtID(malwareID)) {
		t.Error("the filter by object shows another object's entries")
	}
	for q, want := range map[string]string{"?action=nope": `action &#34;nope&#34;`, "?since=yesterday": `since &#34;yesterday&#34;: want a date`, "?org=999": `org &#34;999&#34;: no such organisation`} {
		p := hana.get("/audit" + q)
		wantStatus(t, q, p, http.StatusBadRequest)
		mustContain(t, q, p.body, want)
	}

	// Gina, Gamma's org admin, sees Gamma's trail only, even asking for Beta's.
	for _, q := range []string{"", fmt.Sprintf("?org=%d", h.orgs["Beta"].ID)} {
		p := gina.get("/audit" + q)
		wantStatus(t, "gina's audit log", p, http.StatusOK)
		mustContain(t, "gina's audit log", p.body, "Audit log of Gamma", fmtID(redID))
		if strings.Contains(p.body, fmtID(malwareID)) || strings.Contains(p.body, "hash chain") || strings.Contains(p.body, "<th scope=\"col\">Entry</th>") {
			t.Errorf("gina sees another organisation's entries, the chain's state or entry numbers:\n%s", p.body)
		}
	}
	wantStatus(t, "alice, an analyst", func() page { c := h.client(t); c.mustSignIn("alice"); return c.get("/audit") }(), http.StatusForbidden)

	// Paging: more than a page of Gamma's entries, by a cursor that is
	// sealed (it names no entry number).
	var es []*cyberpact.AuditEntry
	for i := range 120 {
		es = append(es, &cyberpact.AuditEntry{Action: cyberpact.AuditAccount, Actor: "cli", Recipient: h.orgs["Gamma"].ID, Detail: fmt.Sprintf("change number %03d", i)})
	}
	if err := h.db.Audit(ctx, es...); err != nil {
		t.Fatal(err)
	}
	first := gina.get("/audit?action=account")
	m := regexp.MustCompile(`href="(/audit\?[^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("no next page:\n%.400s", first.body)
	}
	next := gina.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	wantStatus(t, "next page", next, http.StatusOK)
	mustContain(t, "next page", next.body, "change number 119")
	if strings.Contains(next.body, "change number 000") || !strings.Contains(first.body, "change number 000") {
		t.Error("the pages overlap or the first is not first")
	}
	if p := bob.get(strings.ReplaceAll(m[1], "&amp;", "&")); p.status != http.StatusForbidden {
		t.Errorf("bob, an analyst, follows gina's cursor: %d", p.status)
	}
	forged := gina.get("/audit?cursor=5")
	if forged.status != http.StatusBadRequest {
		t.Errorf("a forged cursor: %d", forged.status)
	}
}

// TestAuditPageChainChecked: the audit page shows the last completed
// check of the chain with its time and does not wait for the next one; a
// change to the log shows once a check started after it has completed
// (a view older than a minute after the last check starts one).
func TestAuditPageChainChecked(t *testing.T) {
	h := newHub(t)
	h.now, h.clock = time.Now(), true
	hana := h.client(t)
	hana.mustSignIn("hana")
	first := hana.get("/audit")
	wantStatus(t, "hana's audit log", first, http.StatusOK)
	mustContain(t, "hana's audit log", first.body, "The hash chain is whole", "(checked "+fmtTime(h.now)+")")

	raw, err := sql.Open("sqlite", "file:"+filepath.Join(filepath.Dir(h.db.Path()), "hub-audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit SET actor = 'mallory' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	if p := hana.get("/audit"); !strings.Contains(p.body, "The hash chain is whole") {
		t.Errorf("a view within a minute of the last check: want that check's result, got:\n%.600s", p.body)
	}
	h.now = h.now.Add(2 * time.Minute)
	for deadline := time.Now().Add(time.Minute); ; {
		p := hana.get("/audit")
		if strings.Contains(p.body, "The hash chain is broken at entry 1") {
			mustContain(t, "the check after the change", p.body, "(checked "+fmtTime(h.now)+")")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change to entry 1 was never shown:\n%.600s", p.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fmtTime is the interface's form of a time (web.fmtTime).
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
