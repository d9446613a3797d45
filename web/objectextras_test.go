package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// ipID is a public address object of Beta's holding the address the
// hidden TLP:RED indicator's pattern names.
const ipID = "ipv4-addr--5c5c5c5c-5c5c-4c5c-8c5c-5c5c5c5c5c5c"

// ensureIP imports ipID unless it is there.
func (h *hub) ensureIP(t *testing.T) {
	t.Helper()
	if p, err := h.db.FindObjects(t.Context(), cyberpact.ObjectFilter{IDs: []string{ipID}}); err != nil || len(p.Objects) > 0 {
		return
	}
	h.importAs(t, cyberpact.Release{Producer: h.orgs["Beta"].ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPClear},
		map[string]any{"type": "ipv4-addr", "spec_version": "2.1", "id": ipID, "value": "198.51.100.7"})
}

func init() {
	routeCases["GET /search/export"] = func(t *testing.T, c *client) []page {
		var out []page
		for _, q := range []string{"", "?q=Redwing", "?type=indicator", "?q=198.51.100.7", "?tlp=nope"} {
			out = append(out, c.get("/search/export"+q))
		}
		return out
	}
	old := routeCases["GET /objects/{id}"]
	routeCases["GET /objects/{id}"] = func(t *testing.T, c *client) []page {
		c.h.ensureIP(t)
		return append(old(t, c), c.get(fmtID(ipID)), c.get(fmtID(malwareID)))
	}
}

// TestObjectWhoElseAndReleases: the object page lists the other objects
// the user may see that hold its values, and none it may not; its
// producer sees the trail of its releases, nobody else does.
func TestObjectWhoElseAndReleases(t *testing.T) {
	h := newHub(t)
	h.ensureIP(t)
	alice, bob, gina := h.client(t), h.client(t), h.client(t)
	alice.mustSignIn("alice")
	bob.mustSignIn("bob")
	gina.mustSignIn("gina")

	p := alice.get(fmtID(ipID))
	wantStatus(t, "alice opens the address", p, http.StatusOK)
	mustContain(t, "alice's who-else", p.body, `id="whoelse"`, "198.51.100.7", `href="/objects/`+redID+`"`, "Redwing beacon", "from Acme")
	p = alice.get(fmtID(redID))
	mustContain(t, "alice's who-else of the red indicator", p.body, `href="/objects/`+ipID+`"`, "from Beta")

	p = bob.get(fmtID(ipID))
	wantStatus(t, "bob opens the address", p, http.StatusOK)
	mustContain(t, "bob's who-else", p.body, "No other object you may see holds its values.")
	for _, m := range redMarks {
		if strings.Contains(p.body, m) {
			t.Errorf("bob's page of the address shows %q of the hidden indicator", m)
		}
	}

	// gina (Gamma) read the red indicator above? Not yet: now she does,
	// and bob reads the malware.
	wantStatus(t, "gina reads it", gina.get(fmtID(redID)), http.StatusOK)
	wantStatus(t, "bob reads the malware", bob.get(fmtID(malwareID)), http.StatusOK)
	red := alice.get(fmtID(redID))
	mustContain(t, "alice's trail of the red indicator", red.body, `id="releases"`, "<td>Gamma</td><td>gina</td><td>web</td>")
	if strings.Contains(red.body, "<td>Beta</td>") {
		t.Error("the red indicator's trail names Beta, which never received it")
	}
	mustContain(t, "alice's trail of the malware", alice.get(fmtID(malwareID)).body, "<td>Beta</td><td>bob</td><td>web</td>")
	for name, c := range map[string]*client{"gina": gina, "bob": bob} {
		for _, id := range []string{redID, malwareID, ipID} {
			if name == "bob" && id != malwareID { // the red one is hidden from him; the address is his
				continue
			}
			if p := c.get(fmtID(id)); strings.Contains(p.body, `id="releases"`) {
				t.Errorf("%s, not its producer, sees the releases of %s", name, id)
			}
		}
	}
	// Beta produced the address: bob sees its trail, with alice's read.
	mustContain(t, "bob's trail of the address", bob.get(fmtID(ipID)).body, `id="releases"`, "<td>Acme</td><td>alice</td>")
}

// TestExportSearch: the explorer's result as a STIX bundle holds exactly
// what the user may see of it, and is audited.
func TestExportSearch(t *testing.T) {
	h := newHub(t)
	for _, v := range []struct {
		user string
		want []string
	}{{"alice", []string{attackID, malwareID, relID, redID, redIncidentID, redTaskID, openIncidentID, openTaskID, openRFAID, "note--55555555-5555-4555-8555-555555555557", relID2, papRedID}},
		{"bob", []string{attackID, malwareID, relID, openIncidentID, openTaskID, openRFAID, papRedID}}} {
		c := h.client(t)
		c.mustSignIn(v.user)
		mustContain(t, "explorer's export link", c.get("/search?q=&type=").body, `id="export" href="/search/export?`)
		p := c.get("/search/export")
		wantStatus(t, v.user+"'s export", p, http.StatusOK)
		if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/stix+json") {
			t.Errorf("content type %q", ct)
		}
		var b struct {
			Type, ID string
			Objects  []map[string]any
		}
		if err := json.Unmarshal([]byte(p.body), &b); err != nil || b.Type != "bundle" || !strings.HasPrefix(b.ID, "bundle--") {
			t.Fatalf("%s's export is not a bundle: %v %.300s", v.user, err, p.body)
		}
		var got []string
		for _, o := range b.Objects {
			got = append(got, o["id"].(string))
		}
		if strings.Join(sortedCopy(got), " ") != strings.Join(sortedCopy(v.want), " ") {
			t.Errorf("%s exports %v, want %v", v.user, got, v.want)
		}
		one := c.get("/search/export?type=malware")
		if strings.Count(one.body, `"type":"malware"`) != 1 || strings.Contains(one.body, attackID) {
			t.Errorf("the type filter does not hold in the export: %.300s", one.body)
		}
		wantStatus(t, "bad filter", c.get("/search/export?tlp=nope"), http.StatusBadRequest)
	}
	// gina never exported; bob's export is audited as released to Beta.
	es, err := h.db.AuditEntries(t.Context(), cyberpact.AuditFilter{Org: h.orgs["Beta"].ID, Action: cyberpact.AuditRelease})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		found = found || e.Scope != nil && e.Scope.Path == "/search/export"
	}
	if !found {
		t.Error("bob's export is not in the audit log")
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
