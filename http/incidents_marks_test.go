package http_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/incident"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// TestIncidentContributionsKeepTheIncidentsMarkings: an incident of A's
// shared with G1 but releasable to GB only is not seen by G1's US member;
// the tasks, notes and requests A's analysts add to it through the
// incident routes, and A's edits of it, are released like the incident,
// its releasability included, so that the US member never reads them (nor the incident's id
// in them) on any path.
func TestIncidentContributionsKeepTheIncidentsMarkings(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := mkOrg(t, db, "A")
	us := &cyberpact.Org{Name: "U", Nation: "US", Sector: "government"}
	if err := db.CreateOrg(ctx, us, "test"); err != nil {
		t.Fatal(err)
	}
	g1 := mkGroup(t, db, "G1", a, us)
	alice, uma := mkMember(t, db, a, "alice", cyberpact.RoleAnalyst), mkMember(t, db, us, "uma", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)

	mark, inc := "marking-definition--"+uuid.NewString(), "incident--"+uuid.NewString()
	objs := []map[string]any{
		{"type": "marking-definition", "spec_version": "2.1", "id": mark, "created": day(0), "name": "REL TO GB",
			"extensions": map[string]any{cyberpact.MarkingExtension: map[string]any{"extension_type": "property-extension", "rel_nations": []string{"GB"}}}},
		{"type": "incident", "spec_version": "2.1", "id": inc, "created": day(1), "modified": day(1), "name": "GB eyes only",
			"object_marking_refs": []string{stix.TLPMarking(cyberpact.TLPAmber), mark}},
	}
	body, _ := json.Marshal(map[string]any{"objects": objs})
	coll := "/taxii2/api1/collections/" + cphttp.CollectionID("group:"+strconv.FormatInt(g1.ID, 10)) + "/objects/"
	if st, out := rtCall(t, base, alice, "POST", coll, string(body), "application/taxii+json;version=2.1"); st != 202 || !strings.Contains(string(out), `"success_count":2`) {
		t.Fatalf("A posts the incident: %d %s", st, out)
	}
	if st := callBody(t, base, uma, "GET", "/api/v1/incidents/"+inc, "", nil); st != 404 {
		t.Fatalf("the US member reads the GB-only incident: %d", st)
	}
	for _, w := range []struct{ path, body string }{
		{"/tasks", `{"title":"secret task","assignee":"bob"}`},
		{"/notes", `{"content":"secret note"}`},
		{"/requests", `{"kind":"analysis","description":"secret request"}`},
	} {
		if st, out := rtCall(t, base, alice, "POST", "/api/v1/incidents/"+inc+w.path, w.body, "application/json"); st != 201 {
			t.Fatalf("A adds %s: %d %s", w.path, st, out)
		}
	}
	var cs incident.Case
	if callBody(t, base, alice, "GET", "/api/v1/incidents/"+inc, "", &cs); len(cs.Tasks) != 1 || len(cs.Notes) != 1 || len(cs.RFAs) != 1 {
		t.Fatalf("A's incident: %d tasks, %d notes, %d requests", len(cs.Tasks), len(cs.Notes), len(cs.RFAs))
	}
	// An edit of the incident keeps its releasability too, and so does the
	// task's owner's edit.
	if st, out := rtCall(t, base, alice, "PATCH", "/api/v1/incidents/"+inc, `{"based_on":"`+cs.Version+`","status":"contained","description":"secret edit"}`, "application/json"); st != 200 {
		t.Fatalf("A edits the incident: %d %s", st, out)
	}
	if st, out := rtCall(t, base, alice, "PATCH", "/api/v1/incidents/"+inc+"/tasks/"+cs.Tasks[0].ID, `{"based_on":"`+cs.Tasks[0].Version+`","status":"done","comment":"secret comment"}`, "application/json"); st != 200 {
		t.Fatalf("A edits its task: %d %s", st, out)
	}
	if st := callBody(t, base, uma, "GET", "/api/v1/incidents/"+inc, "", nil); st != 404 {
		t.Errorf("the US member reads the edited GB-only incident: %d", st)
	}
	for _, path := range []string{"/api/v1/objects?limit=1000", coll} {
		st, out := rtCall(t, base, uma, "GET", path, "", "")
		if st != 200 {
			t.Fatalf("the US member reads %s: %d", path, st)
		}
		for _, s := range []string{inc, "secret"} {
			if strings.Contains(string(out), s) {
				t.Errorf("the US member reads %q in %s: %s", s, path, out)
			}
		}
	}
}
