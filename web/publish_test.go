package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

func TestPublish(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	alice := h.client(t)
	alice.mustSignIn("alice")
	tok := alice.csrf("/publish")
	group := "group:" + strconv.FormatInt(h.groups["Acme and Gamma"].ID, 10)
	form := func(name, pat, aud, tlp string) url.Values {
		return url.Values{"csrf": {tok}, "name": {name}, "pattern": {pat}, "audience": {aud}, "tlp": {tlp}}
	}
	count := func() int64 {
		stats, err := h.db.Stats(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, s := range stats {
			n += s.Versions
		}
		return n
	}
	before := count()

	t.Run("RefusalsShownAtTheirFieldAndNothingStored", func(t *testing.T) {
		p := alice.post("/publish/indicator", form("Bad", "[ipv4-addr:value = ", group, "red"))
		wantStatus(t, "bad pattern", p, http.StatusBadRequest)
		mustContain(t, "bad pattern", p.body, `id="pattern-error"`, `aria-invalid="true"`)
		p = alice.post("/publish/indicator", form("Red to all", "[ipv4-addr:value = '203.0.113.9']", "all", "red"))
		wantStatus(t, "RED to all members", p, http.StatusBadRequest)
		mustContain(t, "RED to all members", p.body, "TLP:RED may only be shared with one organisation or one sharing group")
		p = alice.post("/publish/indicator", form("Not my group", "[ipv4-addr:value = '203.0.113.9']", "group:999", "amber"))
		wantStatus(t, "a group not of the org", p, http.StatusBadRequest)
		mustContain(t, "a group not of the org", p.body, "no such sharing group")
		p = alice.post("/publish/bundle", url.Values{"csrf": {tok}, "audience": {"all"}, "tlp": {"amber"},
			"bundle": {"{\"type\":\"bundle\",\"id\":\"bundle--55555555-5555-4555-8555-555555555555\",\"objects\":[\n{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--66666666-6666-4666-8666-666666666666\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\",\"name\":\"Fine\",\"is_family\":true},\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--77777777-7777-4777-8777-777777777777\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\",\"pattern\":\"[nope\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\"}]}"}})
		wantStatus(t, "a bundle with a bad object", p, http.StatusBadRequest)
		mustContain(t, "a bundle with a bad object", p.body, `id="problems"`, "line 3", "indicator--77777777-7777-4777-8777-777777777777")
		if n := count(); n != before {
			t.Errorf("refused publications stored %d versions", n-before)
		}
	})

	t.Run("RedIndicatorToAGroup", func(t *testing.T) {
		p := alice.post("/publish/indicator", form("Nightjar relay", "[domain-name:value = 'relay.example']", group, "red"))
		wantStatus(t, "publishing", p, http.StatusSeeOther)
		loc := p.header.Get("Location")
		id := strings.TrimPrefix(loc, "/objects/")
		if !strings.HasPrefix(id, "indicator--") {
			t.Fatalf("sent to %q", loc)
		}
		page := alice.get(loc)
		wantStatus(t, "its page", page, http.StatusOK)
		mustContain(t, "its page", page.body, "TLP:RED", "the members of the sharing group Acme and Gamma", "Produced by <strong>Acme</strong>")
		gina := h.client(t)
		gina.mustSignIn("gina")
		wantStatus(t, "a member of the group", gina.get(loc), http.StatusOK)
		bob := h.client(t)
		bob.mustSignIn("bob")
		hidden, never := bob.get(loc), bob.get(fmtID(neverID))
		wantStatus(t, "another organisation", hidden, http.StatusNotFound)
		if hidden.body != never.body {
			t.Errorf("the published object's page for bob differs from a missing id's")
		}
		o, err := h.db.Object(ctx, id, nil)
		if err != nil || o.Release.TLP != cyberpact.TLPRed || o.Release.Audience.Kind != cyberpact.AudienceGroup || o.Release.Producer != h.orgs["Acme"].ID {
			t.Errorf("stored as %+v, %v", o, err)
		}
	})

	t.Run("BundlePasted", func(t *testing.T) {
		p := alice.post("/publish/bundle", url.Values{"csrf": {tok}, "audience": {"org"}, "tlp": {"amber"},
			"bundle": {`{"type":"bundle","id":"bundle--88888888-8888-4888-8888-888888888888","objects":[{"type":"malware","spec_version":"2.1","id":"malware--99999999-9999-4999-8999-999999999998","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Owncrab","is_family":true}]}`}})
		wantStatus(t, "publishing a bundle", p, http.StatusOK)
		mustContain(t, "publishing a bundle", p.body, "Published: 1 object versions added")
		bob := h.client(t)
		bob.mustSignIn("bob")
		wantStatus(t, "bob and alice's own-org malware", bob.get(fmtID("malware--99999999-9999-4999-8999-999999999998")), http.StatusNotFound)
	})

	t.Run("AnonymousIndicatorNamesTheHub", func(t *testing.T) {
		f := form("Anonymous relay", "[domain-name:value = 'anon-relay.example']", "all", "green")
		f.Set("anonymous", "on")
		p := alice.post("/publish/indicator", f)
		wantStatus(t, "publishing anonymously", p, http.StatusSeeOther)
		loc := p.header.Get("Location")
		id := strings.TrimPrefix(loc, "/objects/")
		o, err := h.db.Object(ctx, id, nil)
		if err != nil || o.Release.Producer != 0 {
			t.Fatalf("stored as %+v, %v; want the hub as producer", o, err)
		}
		if sub, err := h.db.AnonymousSubmitter(ctx, o.Holding); err != nil || sub != h.orgs["Acme"].ID {
			t.Errorf("the submitter kept apart = %d, %v; want Acme", sub, err)
		}
		bob := h.client(t)
		bob.mustSignIn("bob")
		page := bob.get(loc)
		wantStatus(t, "the anonymous indicator's page for bob", page, http.StatusOK)
		mustContain(t, "the anonymous indicator's page for bob", page.body, "Produced by <strong>the hub</strong>")
		if strings.Contains(page.body, "Acme") || strings.Contains(page.body, `id="submitter"`) {
			t.Errorf("bob's page of the anonymous indicator names Acme")
		}
		// The hub's admin is told who; alice, the submitter, reads it
		// as everyone does.
		hana := h.client(t)
		hana.mustSignIn("hana")
		mustContain(t, "the hub admin's page", hana.get(loc).body, `id="submitter"`, "Published anonymously by <strong>Acme</strong>")
		if strings.Contains(alice.get(loc).body, `id="submitter"`) {
			t.Errorf("the submitter's page names the submitter as to a hub admin")
		}
		f = form("Anonymous to myself", "[domain-name:value = 'anon-self.example']", "org", "green")
		f.Set("anonymous", "on")
		p = alice.post("/publish/indicator", f)
		wantStatus(t, "anonymous to the producer alone", p, http.StatusBadRequest)
		mustContain(t, "anonymous to the producer alone", p.body, "anonymous publication must be shared")
	})
}
