package http_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestFeedReleaseIsAudited checks that a feed audits the indicators it
// serves to another organisation, that a 304 releases nothing, and that
// bad filters are 400 naming the parameter.
func TestFeedReleaseIsAudited(t *testing.T) {
	db := openDB(t)
	a := mkMember(t, db, mkOrg(t, db, "Org A"), "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, mkOrg(t, db, "Org B"), "bob", cyberpact.RoleAnalyst)
	all := cyberpact.Release{Producer: a.org.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}
	id := uuidN("indicator", 1)
	importAs(t, db, all, map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": day(0), "modified": day(1),
		"pattern": "[domain-name:value = 'evil.example']", "pattern_type": "stix", "valid_from": day(0)},
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": uuidN("indicator", 2), "created": day(0), "modified": day(1),
			"pattern": "[file:name = 'x.exe']", "pattern_type": "stix", "valid_from": day(0)})
	_, base := serve(t, db, nil)
	get := func(m *member, path, etag string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.SetBasicAuth(m.user.Name, m.key)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	releases := func() []*cyberpact.AuditEntry {
		es, err := db.AuditEntries(context.Background(), cyberpact.AuditFilter{Action: cyberpact.AuditRelease, Org: b.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	resp, body := get(b, "/api/v1/feeds/rpz", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "evil.example CNAME .") || resp.Header.Get("Content-Type") != "text/dns; charset=utf-8" {
		t.Fatalf("rpz feed: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	es := releases()
	stored, err := db.Object(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Via != "feed" || es[0].Scope == nil || es[0].Scope.Count != 1 || !es[0].Scope.Contains(stored.Seq) {
		t.Fatalf("release audit: %+v; want one entry naming the served indicator's version", es)
	}
	if resp, _ := get(b, "/api/v1/feeds/rpz", resp.Header.Get("ETag")); resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	if len(releases()) != 1 {
		t.Errorf("a 304 was audited as a release")
	}
	if _, _ = get(a, "/api/v1/feeds/rpz", ""); len(releases()) != 1 {
		t.Errorf("the producer's own read was audited as a release to B")
	}
	for path, want := range map[string]string{
		"/api/v1/feeds/csv?min_score=x":            "min_score",
		"/api/v1/feeds/csv?kind=ipx":               "ipx",
		"/api/v1/feeds/csv?max_tlp=purple":         "max_tlp",
		"/api/v1/feeds/navigator?of=indicator--x":  "indicator",
		"/api/v1/feeds/csv?audience=group:nowhere": "nowhere",
	} {
		resp, body := get(b, path, "")
		if resp.StatusCode != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s, want 400 naming %s", path, resp.StatusCode, body, want)
		}
	}
}
