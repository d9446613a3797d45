package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/stix"
)

// oddMarking is one way of writing a TLP marking on an object: its
// object_marking_refs and granular_markings, and the level it stands for.
type oddMarking struct {
	name     string
	refs     []string
	granular []map[string]any
	level    cyberpact.TLP
}

const (
	tlp2ClearID  = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlp2RedID    = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
	tlp2StrictID = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlp1RedID    = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// upperUUID returns a marking id with its UUID in upper case, which the
// validator accepts (RFC 4122 reads hexadecimal in either case).
func upperUUID(id string) string {
	i := strings.Index(id, "--") + 2
	return id[:i] + strings.ToUpper(id[i:])
}

func granular(ref string, selectors ...string) []map[string]any {
	return []map[string]any{{"marking_ref": ref, "selectors": selectors}}
}

// oddMarkings are the spellings of TLP:RED and TLP:AMBER+STRICT that were
// once read as lower levels, beside the plain lower-case id; each object
// is otherwise TLP:CLEAR, so that a misread would release it publicly.
var oddMarkings = []oddMarking{
	{"LowerRed", []string{tlp2RedID}, nil, cyberpact.TLPRed},
	{"UpperCaseRed", []string{tlp2ClearID, upperUUID(tlp2RedID)}, nil, cyberpact.TLPRed},
	{"UpperCaseTLP1Red", []string{upperUUID(tlp1RedID)}, nil, cyberpact.TLPRed},
	{"GranularRed", []string{tlp2ClearID}, granular(tlp2RedID, "description"), cyberpact.TLPRed},
	{"GranularUpperCaseRed", []string{tlp2ClearID}, granular(upperUUID(tlp1RedID), "name", "description"), cyberpact.TLPRed},
	{"UpperCaseAmberStrict", []string{tlp2ClearID, upperUUID(tlp2StrictID)}, nil, cyberpact.TLPAmberStrict},
	{"GranularAmberStrict", []string{tlp2ClearID}, granular(upperUUID(tlp2StrictID), "pattern"), cyberpact.TLPAmberStrict},
}

// object returns indicator n marked this way.
func (m oddMarking) object(n int) map[string]any {
	o := indicator(n, 1)
	o["description"] = "seen at the ministry (" + m.name + ")"
	o["object_marking_refs"] = m.refs
	if m.granular != nil {
		o["granular_markings"] = m.granular
	}
	return o
}

// TestOddlyWrittenRedStaysWithProducer imports TLP:RED and
// TLP:AMBER+STRICT written in each odd way (upper-case ids, granular
// markings) into a real SQLite store with default options and reads it back
// over real HTTP: RED stays with its producer (another organisation gets
// 404 and no list, TAXII or public entry), AMBER+STRICT is kept at its
// level, and neither is in the public collection; RED POSTed by REST with
// the default audience (all members), or by TAXII to the all-members
// collection, is refused.
func TestOddlyWrittenRedStaysWithProducer(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	orgA, orgB := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, func(s *cphttp.Server) { s.Public = true })

	rest := func(m *member, method, path string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	taxiiIDs := func(m *member, coll string) map[string]bool {
		t.Helper()
		tc := &taxiiClient{base: base}
		if m != nil {
			tc.user, tc.key = m.user.Name, m.key
		}
		var e envelopeAnswer
		if st, _ := tc.do(t, "GET", "/taxii2/api1/collections/"+cphttp.CollectionID(coll)+"/objects/?limit=1000", nil, &e); st != 200 {
			t.Fatalf("TAXII %s: %d", coll, st)
		}
		out := map[string]bool{}
		for _, o := range e.Objects {
			out[o["id"].(string)] = true
		}
		return out
	}

	// A plainly CLEAR indicator, to show the public collection serves
	// what it should.
	clear := indicator(1, 1)
	clear["object_marking_refs"] = []string{tlp2ClearID}
	objs := []map[string]any{clear}
	for i, m := range oddMarkings {
		objs = append(objs, m.object(100+i))
	}
	raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d50", "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(raw))
	res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: orgA.ID})
	dec.Close()
	if err != nil || !res.Committed || len(res.Rejected) > 0 || res.Added != len(objs) {
		t.Fatalf("import with default options: %v %+v", err, res)
	}

	public := taxiiIDs(nil, "public")
	allB := taxiiIDs(b, "all")
	_, listB := rest(b, "GET", "/api/v1/objects?limit=1000", nil)
	if !public[clear["id"].(string)] {
		t.Fatalf("the public collection does not serve the TLP:CLEAR indicator: %v", public)
	}
	for i, m := range oddMarkings {
		id := uuidN("indicator", 100+i)
		t.Run(m.name, func(t *testing.T) {
			st, body := rest(a, "GET", "/api/v1/objects/"+id, nil)
			if st != 200 {
				t.Fatalf("the producer's own get: %d %s", st, body)
			}
			page, err := db.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{id}})
			if err != nil || len(page.Objects) != 1 {
				t.Fatalf("stored: %v %+v", err, page)
			}
			rel := page.Objects[0].Release
			if rel.TLP != m.level || rel.Producer != orgA.ID {
				t.Errorf("stored as %+v, want TLP %s produced by A", rel, m.level)
			}
			if public[id] {
				t.Errorf("served from the public collection")
			}
			if m.level != cyberpact.TLPRed {
				return
			}
			if rel.Audience.Kind != cyberpact.AudienceOrg {
				t.Errorf("stored for %s, want the producer alone", rel.Audience)
			}
			if st, _ := rest(b, "GET", "/api/v1/objects/"+id, nil); st != 404 {
				t.Errorf("another organisation's get: %d, want 404", st)
			}
			if bytes.Contains(listB, []byte(id)) || allB[id] {
				t.Errorf("in another organisation's REST list or TAXII all-members collection")
			}
			// The same object POSTed by REST with the default audience,
			// all members, is refused for what it is.
			one, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d51", "objects": []any{m.object(200 + i)}})
			st, body = rest(a, "POST", "/api/v1/bundles", one)
			if st != 422 || !strings.Contains(string(body), "TLP:RED may only be shared") {
				t.Errorf("REST POST for all members: %d %s, want 422 refusing TLP:RED", st, body)
			}
			// And by TAXII to the all-members collection.
			tc := &taxiiClient{base: base, user: a.user.Name, key: a.key}
			var sa statusAnswer
			if code, _ := tc.do(t, "POST", "/taxii2/api1/collections/"+cphttp.CollectionID("all")+"/objects/", envelope(m.object(300+i)), &sa); code != 202 ||
				sa.Failure != 1 || len(sa.Failures) != 1 || !strings.Contains(sa.Failures[0].Message, "TLP:RED may only be shared") {
				t.Errorf("TAXII POST to all members: %d %+v, want the object refused for TLP:RED", code, sa)
			}
			if st, _ := rest(b, "GET", "/api/v1/objects/"+uuidN("indicator", 300+i), nil); st != 404 {
				t.Errorf("another organisation's get of the TAXII POST: %d, want 404", st)
			}
		})
	}
}

// TestRefusedMarkingRefusesWhatItMarks is the finding of the refused
// marking definition over real HTTP: a bundle POSTed partially (REST) or
// to a TAXII collection carries a marking definition releasable to "uk"
// (not a nation code, so refused) and an indicator referring to it; the
// indicator used to be stored with no markings and seen by a French
// member. Now it is refused, the answer naming the marking definition and
// why, in REST's rejections and TAXII's status alike, and no other
// organisation sees it.
func TestRefusedMarkingRefusesWhatItMarks(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	orgA := mkOrg(t, db, "Org A")
	orgFR := &cyberpact.Org{Name: "Org FR", Nation: "FR", Sector: "government"}
	if err := db.CreateOrg(ctx, orgFR, "test"); err != nil {
		t.Fatal(err)
	}
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	fr := mkMember(t, db, orgFR, "francoise", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	get := func(m *member, id string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1/objects/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+m.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ukOnly := func(n int) map[string]any {
		return map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": uuidN("marking-definition", n), "created": day(0), "name": "REL TO uk",
			"extensions": map[string]any{cyberpact.MarkingExtension: map[string]any{"extension_type": "property-extension", "rel_nations": []string{"uk"}}}}
	}
	marked := func(n, def int, granularly bool) map[string]any {
		o := indicator(n, 1)
		if granularly {
			o["description"] = "for the UK alone"
			o["granular_markings"] = granular(uuidN("marking-definition", def), "description")
		} else {
			o["object_marking_refs"] = []string{uuidN("marking-definition", def)}
		}
		return o
	}

	t.Run("REST", func(t *testing.T) {
		raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d60",
			"objects": []any{ukOnly(1), marked(11, 1, false), marked(12, 1, true), indicator(13, 1)}})
		req, _ := http.NewRequest("POST", base+"/api/v1/bundles?partial=true", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+a.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var res struct {
			Added    int                    `json:"added"`
			Rejected []*cyberpact.Rejection `json:"rejected"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
		}
		want := map[string]string{uuidN("indicator", 11): "object_marking_refs", uuidN("indicator", 12): "granular_markings"}
		for _, r := range res.Rejected {
			if path, ok := want[r.ID]; ok {
				if r.Path != path || !strings.Contains(r.Reason, uuidN("marking-definition", 1)) || !strings.Contains(r.Reason, "rel_nations") {
					t.Errorf("%s refused as %s; want path %s, naming the marking definition and why it was refused", r.ID, r.Error(), path)
				}
				delete(want, r.ID)
			}
		}
		if len(want) != 0 || res.Added != 1 {
			t.Errorf("%d %s: want the UK-only indicators refused, the other added", resp.StatusCode, body)
		}
		for _, n := range []int{11, 12} {
			if st := get(fr, uuidN("indicator", n)); st != 404 {
				t.Errorf("the French member's get of indicator %d: %d, want 404", n, st)
			}
		}
		if st := get(fr, uuidN("indicator", 13)); st != 200 {
			t.Errorf("the French member's get of the unmarked indicator: %d, want 200", st)
		}
	})

	t.Run("TAXII", func(t *testing.T) {
		tc := &taxiiClient{base: base, user: a.user.Name, key: a.key}
		var sa statusAnswer
		if code, _ := tc.do(t, "POST", "/taxii2/api1/collections/"+cphttp.CollectionID("all")+"/objects/", envelope(ukOnly(2), marked(21, 2, false), indicator(22, 1)), &sa); code != 202 {
			t.Fatalf("TAXII POST: %d %+v", code, sa)
		}
		found := false
		for _, f := range sa.Failures {
			if f.ID == uuidN("indicator", 21) {
				found = true
				if !strings.Contains(f.Message, uuidN("marking-definition", 2)) || !strings.Contains(f.Message, "refused") {
					t.Errorf("the status says %q; want the marking definition named and refused", f.Message)
				}
			}
		}
		if !found || sa.Success != 1 || sa.Failure != 2 {
			t.Errorf("status %+v; want the definition and the indicator it marks failed, the other a success", sa)
		}
		if st := get(fr, uuidN("indicator", 21)); st != 404 {
			t.Errorf("the French member's get of the TAXII POST: %d, want 404", st)
		}
	})
}
