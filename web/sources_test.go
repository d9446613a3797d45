package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

func init() {
	routeCases["GET /sources"] = func(t *testing.T, c *client) []page { return []page{c.get("/sources")} }
}

// TestSourcesPage: the feeds page shows each external source's status
// under the API's rule: hub admins every source, anyone else only those
// its own organisation produces (another's is not named at all); keys are
// never shown.
func TestSourcesPage(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	acme := &cyberpact.Source{Name: "acme-blocklist", Kind: cyberpact.SourceList, URL: "https://lists.example/acme.txt", Type: "ipv4-addr", Key: "secret-acme",
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: h.orgs["Acme"].ID, Interval: time.Hour}
	beta := &cyberpact.Source{Name: "beta-taxii", Kind: cyberpact.SourceTAXII, URL: "https://taxii.example/api1/", Collection: "c1", Key: "secret-beta",
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: h.orgs["Beta"].ID, Interval: time.Hour}
	for _, s := range []*cyberpact.Source{acme, beta} {
		if err := h.db.CreateSource(ctx, s, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.db.SaveSourceState(ctx, &cyberpact.SourceState{Source: beta.ID, LastRun: time.Now(), LastError: "feed answered 500 Internal Server Error",
		Failures: 3, Runs: 5, Added: 12}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user       string
		see, never []string
	}{
		{"hana", []string{"acme-blocklist", "not run yet", "beta-taxii", "failing: 3 runs in a row", "feed answered 500", "12, 0, 0"}, nil},
		{"alice", []string{"acme-blocklist"}, []string{"beta-taxii", "feed answered 500"}},
		{"bob", []string{"beta-taxii", "failing: 3 runs in a row"}, []string{"acme-blocklist"}},
		{"gina", []string{"No feed of yours"}, []string{"acme-blocklist", "beta-taxii"}},
	} {
		cl := h.client(t)
		cl.mustSignIn(c.user)
		p := cl.get("/sources")
		wantStatus(t, c.user+" opens feeds", p, http.StatusOK)
		mustContain(t, c.user+"'s feeds", p.body, c.see...)
		for _, s := range append(c.never, "secret-acme", "secret-beta") {
			if strings.Contains(p.body, s) {
				t.Errorf("%s's feeds page shows %q", c.user, s)
			}
		}
	}
}
