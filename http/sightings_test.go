package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

const (
	tlpGreenID = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlpRedID   = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// sighting returns a sighting n of the object of.
func sighting(n int, of string, markings ...string) map[string]any {
	s := map[string]any{"type": "sighting", "spec_version": "2.1", "id": uuidN("sighting", n),
		"created": day(1), "modified": day(1), "sighting_of_ref": of, "count": 3}
	if len(markings) > 0 {
		s["object_marking_refs"] = markings
	}
	return s
}

// postREST POSTs body to path as the member with key and returns the
// status and the decoded answer.
func postREST(t *testing.T, base, key, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, data)
	}
	return resp.StatusCode, out
}

// getREST reads an object as the member with key and returns the status.
func getREST(t *testing.T, base, key, id string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/objects/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func bundleOf(objs ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objs})
	return b
}

// TestSightingsTakeTheRuleOfWhatTheySight reports sightings over real HTTP,
// through REST and TAXII, as organisation B, of indicators organisation A
// shared in different ways, with C outside A and B's sharing group.
func TestSightingsTakeTheRuleOfWhatTheySight(t *testing.T) {
	db := openDB(t)
	orgA, orgB, orgC := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	g := mkGroup(t, db, "pact", orgA, orgB)
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	c := mkMember(t, db, orgC, "carol", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)

	groupInd, privateInd, allInd, redInd := indicator(1, 0), indicator(2, 0), indicator(3, 0), indicator(4, 0)
	redInd["object_marking_refs"] = []string{tlpRedID}
	groupAud := "group:" + strconv.FormatInt(g.ID, 10)
	for _, p := range []struct {
		aud string
		obj map[string]any
	}{{groupAud, groupInd}, {"org", privateInd}, {"all", allInd}, {groupAud, redInd}} {
		if st, out := postREST(t, base, a.key, "/api/v1/bundles?audience="+p.aud, bundleOf(p.obj)); st != 200 {
			t.Fatalf("posting indicator: %d %v", st, out)
		}
	}
	groupRel := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	taxii := &taxiiClient{base: base, user: b.user.Name, key: b.key}
	privateB := "/taxii2/api1/collections/" + cphttp.CollectionID("org:"+strconv.FormatInt(orgB.ID, 10)) + "/objects/"

	for i, tc := range []struct {
		name     string
		sighting map[string]any
		want     *cyberpact.Release // nil: refused
		seenBy   []*member          // besides the reporter
		hiddenTo []*member
	}{
		{"GroupIndicatorSightingSharedWithTheGroup", sighting(10, str(groupInd["id"])),
			&cyberpact.Release{Producer: orgB.ID, Audience: groupRel, TLP: cyberpact.TLPAmber}, []*member{a}, []*member{c}},
		{"AllMembersIndicatorSightingSharedWithAll", sighting(11, str(allInd["id"])),
			&cyberpact.Release{Producer: orgB.ID, Audience: all, TLP: cyberpact.TLPAmber}, []*member{a, c}, nil},
		{"SightingKeepsAtLeastTheIndicatorsTLP", sighting(12, str(redInd["id"]), tlpGreenID),
			&cyberpact.Release{Producer: orgB.ID, Audience: groupRel, TLP: cyberpact.TLPRed}, []*member{a}, []*member{c}},
		{"SightingOfIndicatorReporterCannotSeeRefused", sighting(13, str(privateInd["id"])), nil, nil, nil},
		{"SightingOfUnknownIndicatorRefused", sighting(14, uuidN("indicator", 99)), nil, nil, nil},
	} {
		for _, via := range []string{"REST", "TAXII"} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				s := map[string]any{}
				for k, v := range tc.sighting {
					s[k] = v
				}
				if via == "TAXII" {
					s["id"] = uuidN("sighting", 100+i)
				}
				id := str(s["id"])
				var reason string
				switch via {
				case "REST":
					// Posted for all members: the indicator's audience wins.
					st, out := postREST(t, base, b.key, "/api/v1/bundles?audience=all", bundleOf(s))
					if tc.want != nil && st != 200 || tc.want == nil && st != 422 {
						t.Fatalf("POST: %d %v", st, out)
					}
					if tc.want == nil {
						rj := out["rejected"].([]any)[0].(map[string]any)
						reason = str(rj["path"]) + ": " + str(rj["reason"])
					}
				case "TAXII":
					// Posted to B's private collection: the indicator's audience wins.
					var st statusAnswer
					if code, _ := taxii.do(t, "POST", privateB, envelope(s), &st); code != 202 {
						t.Fatalf("POST: %d", code)
					}
					if tc.want != nil && st.Success != 1 || tc.want == nil && st.Failure != 1 {
						t.Fatalf("status: %+v", st)
					}
					if tc.want == nil {
						reason = st.Failures[0].Message
					}
				}
				if tc.want == nil {
					ref := str(s["sighting_of_ref"])
					if !strings.Contains(reason, "sighting_of_ref") || !strings.Contains(reason, ref+" is not an object your organisation can see") {
						t.Errorf("reason %q does not say the sighted object is not visible", reason)
					}
					if _, err := db.Object(context.Background(), id, nil); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
						t.Errorf("refused sighting stored: %v", err)
					}
					return
				}
				o, err := db.Object(context.Background(), id, nil)
				if err != nil {
					t.Fatal(err)
				}
				if o.Release != *tc.want {
					t.Errorf("release %+v, want %+v", o.Release, *tc.want)
				}
				for _, m := range append([]*member{b}, tc.seenBy...) {
					if st := getREST(t, base, m.key, id); st != 200 {
						t.Errorf("%s reads the sighting: %d, want 200", m.org.Name, st)
					}
				}
				for _, m := range tc.hiddenTo {
					if st := getREST(t, base, m.key, id); st != 404 {
						t.Errorf("%s reads the sighting: %d, want 404", m.org.Name, st)
					}
				}
			})
		}
	}

	t.Run("SightingOfIndicatorInTheSameBundleTakesItsRelease", func(t *testing.T) {
		ind := indicator(20, 0)
		s := sighting(20, str(ind["id"]))
		if st, out := postREST(t, base, c.key, "/api/v1/bundles?audience=org", bundleOf(ind, s)); st != 200 {
			t.Fatalf("POST: %d %v", st, out)
		}
		o, err := db.Object(context.Background(), str(s["id"]), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := cyberpact.Release{Producer: orgC.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber}
		if o.Release != want {
			t.Errorf("release %+v, want %+v", o.Release, want)
		}
	})
}
