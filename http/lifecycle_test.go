package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/google/go-cmp/cmp"
)

// lcall sends one request as m (nil: without a key) and returns the status
// and body.
func lcall(t *testing.T, base string, m *member, method, path string, body []byte, ctype string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if m != nil {
		req.SetBasicAuth(m.user.Name, m.key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if strings.HasPrefix(path, "/taxii2/") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func lifecycleBundle(objs ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": objs})
	return b
}

// TestAnonymousPublicationHidesTheSubmitter publishes an indicator and a
// sighting anonymously as Org A, and reads them as Org B through every
// read path that names or filters by a producer: none names Org A, its
// identity or its organisation id; the hub's identity stands as producer.
// Org A keeps managing them (a TAXII DELETE), Org B may not.
func TestAnonymousPublicationHidesTheSubmitter(t *testing.T) {
	db := openDB(t)
	a, b := mkOrg(t, db, "Org Anonymous Submitter"), mkOrg(t, db, "Org B")
	ma, mb := mkMember(t, db, a, "alice", cyberpact.RoleAnalyst), mkMember(t, db, b, "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	ident := "identity--aaaaaaaa-0000-4000-8000-000000000001"
	mal := map[string]any{"type": "malware", "spec_version": "2.1", "id": "malware--00000000-0000-4000-8000-000000000002",
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "Shared malware", "is_family": true}
	if st, body := lcall(t, base, mb, "POST", "/api/v1/bundles", lifecycleBundle(mal), "application/json"); st != 200 {
		t.Fatalf("B publishing: %d %s", st, body)
	}
	ind := map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000001",
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "Anonymous indicator",
		"pattern": "[ipv4-addr:value = '203.0.113.50']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "created_by_ref": ident}
	sight := map[string]any{"type": "sighting", "spec_version": "2.1", "id": "sighting--00000000-0000-4000-8000-000000000003",
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "sighting_of_ref": mal["id"],
		"where_sighted_refs": []string{ident}, "created_by_ref": ident}
	st, body := lcall(t, base, ma, "POST", "/api/v1/bundles?anonymous=true", lifecycleBundle(ind, sight), "application/json")
	if st != 200 || !strings.Contains(string(body), `"added":2`) {
		t.Fatalf("anonymous publication: %d %s", st, body)
	}
	hub, err := db.HubIdentity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all := cphttp.CollectionID("all")
	secrets := []string{a.Name, ident, `"producer":"` + strconv.FormatInt(a.ID, 10), "alice"}
	for _, path := range []string{
		"/api/v1/objects/" + ind["id"].(string),
		"/api/v1/objects/" + sight["id"].(string),
		"/api/v1/objects/" + ind["id"].(string) + "/versions",
		"/api/v1/objects?limit=1000",
		"/api/v1/objects/" + mal["id"].(string) + "/relationships",
		"/api/v1/correlate?value=203.0.113.50",
		"/api/v1/stats",
		"/api/v1/stream?follow=false&after=0",
		"/api/v1/misp/manifest.json",
		"/taxii2/api1/collections/" + all + "/objects/",
		"/taxii2/api1/collections/" + all + "/manifest/",
	} {
		st, body := lcall(t, base, mb, "GET", path, nil, "")
		if st != 200 {
			t.Errorf("GET %s as B: %d %s", path, st, body)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("GET %s as B names the submitter (%q): %.400s", path, s, body)
			}
		}
	}
	if _, body := lcall(t, base, mb, "GET", "/api/v1/objects/"+ind["id"].(string), nil, ""); !strings.Contains(string(body), hub) {
		t.Errorf("the anonymous indicator does not name the hub's identity %s: %s", hub, body)
	}
	if _, body := lcall(t, base, mb, "GET", "/api/v1/objects/"+sight["id"].(string), nil, ""); strings.Contains(string(body), "where_sighted_refs") {
		t.Errorf("the anonymous sighting keeps where it was seen: %s", body)
	}
	// B may not delete it; A, its submitter, may.
	del := "/taxii2/api1/collections/" + all + "/objects/" + ind["id"].(string) + "/"
	if st, body := lcall(t, base, mb, "DELETE", del, nil, ""); st != 403 {
		t.Errorf("B deleting A's anonymous indicator: %d %s; want 403", st, body)
	}
	if st, body := lcall(t, base, ma, "DELETE", del, nil, ""); st != 200 {
		t.Errorf("A deleting its anonymous indicator: %d %s; want 200", st, body)
	}
	if st, _ := lcall(t, base, mb, "GET", "/api/v1/objects/"+ind["id"].(string), nil, ""); st != 404 {
		t.Errorf("after its delete B reads the indicator: %d; want 404", st)
	}
	// The delete left a retraction for peers, released as the indicator
	// was (the hub as producer), naming nobody.
	st, body = lcall(t, base, mb, "GET", "/api/v1/objects?type="+cyberpact.RetractionType, nil, "")
	if st != 200 || !strings.Contains(string(body), ind["id"].(string)) {
		t.Errorf("retractions after the delete: %d %s", st, body)
	}
	for _, s := range secrets {
		if strings.Contains(string(body), s) {
			t.Errorf("the retraction names the submitter (%q): %s", s, body)
		}
	}
}

// TestSightingCountsKAnonymous reports a sighting as a count from two,
// then three organisations: a reader sees nothing, then the count per
// sector, and never a name, on the counts route and on every other read
// path that could show the sightings.
func TestSightingCountsKAnonymous(t *testing.T) {
	db := openDB(t)
	orgs := []*cyberpact.Org{mkOrg(t, db, "Org Reporter One"), mkOrg(t, db, "Org Reporter Two"), mkOrg(t, db, "Org Reporter Three"), mkOrg(t, db, "Org Reader")}
	var ms []*member
	for i, o := range orgs {
		ms = append(ms, mkMember(t, db, o, fmt.Sprintf("user%d", i), cyberpact.RoleAnalyst))
	}
	reader := ms[3]
	_, base := serve(t, db, nil)
	ind := map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000011",
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "Counted indicator",
		"pattern": "[ipv4-addr:value = '203.0.113.60']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
	if st, body := lcall(t, base, reader, "POST", "/api/v1/bundles?tlp=green", lifecycleBundle(ind), "application/json"); st != 200 {
		t.Fatalf("publishing: %d %s", st, body)
	}
	report := func(i int) {
		t.Helper()
		s := map[string]any{"type": "sighting", "spec_version": "2.1", "id": fmt.Sprintf("sighting--00000000-0000-4000-8000-0000000001%02d", i),
			"created": "2026-01-02T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z", "sighting_of_ref": ind["id"],
			"created_by_ref": fmt.Sprintf("identity--00000000-0000-4000-8000-0000000002%02d", i)}
		if st, body := lcall(t, base, ms[i], "POST", "/api/v1/bundles?share=counts", lifecycleBundle(s), "application/json"); st != 200 {
			t.Fatalf("reporter %d: %d %s", i, st, body)
		}
	}
	names := []string{"Reporter One", "Reporter Two", "Reporter Three", "identity--00000000-0000-4000-8000-0000000002", "sighting--"}
	look := func(step string, want cyberpact.SightingCounts) {
		t.Helper()
		st, body := lcall(t, base, reader, "GET", "/api/v1/objects/"+ind["id"].(string)+"/sighting-counts", nil, "")
		var got cyberpact.SightingCounts
		if st != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("%s: counts %d %s", step, st, body)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", step, diff)
		}
		for _, path := range []string{
			"/api/v1/objects/" + ind["id"].(string) + "/sighting-counts",
			"/api/v1/objects?limit=1000&all_versions=true",
			"/api/v1/objects/" + ind["id"].(string) + "/relationships",
			"/api/v1/correlate?value=203.0.113.60",
			"/api/v1/stats",
			"/api/v1/stream?follow=false&after=0",
			"/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/",
		} {
			st, body := lcall(t, base, reader, "GET", path, nil, "")
			if st != 200 {
				t.Errorf("%s: GET %s: %d %s", step, path, st, body)
			}
			for _, n := range names {
				if strings.Contains(string(body), n) {
					t.Errorf("%s: GET %s shows %q: %.300s", step, path, n, body)
				}
			}
			if path == "/api/v1/stats" && strings.Contains(string(body), `"sighting"`) {
				t.Errorf("%s: stats count the reporters' sightings: %s", step, body)
			}
		}
	}
	id := ind["id"].(string)
	report(0)
	report(1)
	look("two organisations", cyberpact.SightingCounts{Of: id, K: 3, Sectors: []cyberpact.SectorCount{}})
	report(2)
	look("three organisations", cyberpact.SightingCounts{Of: id, K: 3, Orgs: 3, Sectors: []cyberpact.SectorCount{{Sector: "government", Orgs: 3}}})
	// k is configurable: a hub with k = 4 shows nothing yet.
	_, base4 := serve(t, db, func(s *cphttp.Server) { s.KAnonymity = 4 })
	st, body := lcall(t, base4, reader, "GET", "/api/v1/objects/"+id+"/sighting-counts", nil, "")
	if st != 200 || !strings.Contains(string(body), `"organisations":0`) || !strings.Contains(string(body), `"k":4`) {
		t.Errorf("with k = 4: %d %s; want nothing shown", st, body)
	}
	// A report that is not only sightings is refused, and stores nothing.
	st, body = lcall(t, base, ms[0], "POST", "/api/v1/bundles?share=counts", lifecycleBundle(ind), "application/json")
	if st != 422 || !strings.Contains(string(body), "sightings only") {
		t.Errorf("a counted report of an indicator: %d %s; want 422", st, body)
	}
}
