package http_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/incident"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// A hostile member against joint incidents: objects of the incident
// types posted through TAXII, the generic write path, instead of the
// incident routes.

type redteamHub struct {
	db               *sqlite.DB
	base             string
	alice, bob, carl *member // A (producer), B (in G1, addressed), C (outside G1)
	dave             *member // D, in G1, not addressed
	g1               *cyberpact.Group
	incident         string
	task, rfa        string
	version          string
}

func newRedteamHub(t *testing.T) *redteamHub {
	t.Helper()
	db := openDB(t)
	a, b, c, d := mkOrg(t, db, "A"), mkOrg(t, db, "B"), mkOrg(t, db, "C"), mkOrg(t, db, "D")
	g1 := mkGroup(t, db, "G1", a, b, d)
	h := &redteamHub{g1: g1, db: db,
		alice: mkMember(t, db, a, "alice", cyberpact.RoleAnalyst), bob: mkMember(t, db, b, "bob", cyberpact.RoleAnalyst),
		carl: mkMember(t, db, c, "carl", cyberpact.RoleAnalyst), dave: mkMember(t, db, d, "dave", cyberpact.RoleAnalyst)}
	_, h.base = serve(t, db, nil)
	var cs struct{ ID, Version string }
	if st := callBody(t, h.base, h.alice, "POST", "/api/v1/incidents", `{"name":"G1 only","audience":"group:`+strconv.FormatInt(g1.ID, 10)+`","tlp":"amber"}`, &cs); st != 201 {
		t.Fatalf("create incident: %d", st)
	}
	h.incident = cs.ID
	var task struct{ ID, Version string }
	if st := callBody(t, h.base, h.alice, "POST", "/api/v1/incidents/"+h.incident+"/tasks", `{"title":"triage","assignee":"bob","assignee_org":"B"}`, &task); st != 201 {
		t.Fatalf("add task: %d", st)
	}
	h.task, h.version = task.ID, task.Version
	var q struct{ ID string }
	if st := callBody(t, h.base, h.alice, "POST", "/api/v1/incidents/"+h.incident+"/requests", `{"kind":"analysis","addressed_to":["B"],"description":"look"}`, &q); st != 201 {
		t.Fatalf("add request: %d", st)
	}
	h.rfa = q.ID
	return h
}

// callBody sends body to path as m and decodes any JSON answer into out.
func callBody(t *testing.T, base string, m *member, method, path, body string, out any) int {
	t.Helper()
	st, data := rtCall(t, base, m, method, path, body, "application/json")
	if out != nil {
		json.Unmarshal(data, out)
	}
	return st
}

func rtCall(t *testing.T, base string, m *member, method, path, body, ct string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+m.key)
	if body != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json, application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// postTAXII posts objs as m to the all-members collection at TLP:GREEN and
// returns how many were stored.
func postTAXII(t *testing.T, base string, m *member, objs ...map[string]any) int {
	t.Helper()
	for _, o := range objs {
		o["spec_version"] = "2.1"
		if o["created"] == nil {
			o["created"], o["modified"] = day(3), day(3)
		}
		o["object_marking_refs"] = []string{stix.TLPMarking(cyberpact.TLPGreen)}
	}
	body, _ := json.Marshal(map[string]any{"objects": objs})
	_, a := rtCall(t, base, m, "POST", "/taxii2/api1/collections/"+cphttp.CollectionID("all")+"/objects/", string(body), "application/taxii+json;version=2.1")
	var st struct {
		SuccessCount int `json:"success_count"`
	}
	json.Unmarshal(a, &st)
	if st.SuccessCount != len(objs) {
		t.Logf("TAXII post: %s", a)
	}
	return st.SuccessCount
}

// caseOf reads incident id as m over the API.
func (h *redteamHub) caseOf(t *testing.T, m *member) *incident.Case {
	t.Helper()
	var cs incident.Case
	if st := callBody(t, h.base, m, "GET", "/api/v1/incidents/"+h.incident, "", &cs); st != 200 {
		t.Fatalf("%s reads the incident: %d", m.user.Name, st)
	}
	return &cs
}

const later = "2027-01-01T00:00:00.000Z"

// TestIncidentContributionsOfAnOutsiderAreNotAttached: an organisation
// that may not see a G1 incident, but holds its ids (a former member of
// G1, say), posts through TAXII, released to all members, a note, a task,
// a task update and an answer to a request naming it. None of them is
// shown on the incident to its partners, nor counted in their list: only
// who may see an incident adds to it (the rule for the ends of edges).
func TestIncidentContributionsOfAnOutsiderAreNotAttached(t *testing.T) {
	h := newRedteamHub(t)
	fresh := func(typ string) string { return typ + "--" + uuid.NewString() }
	note, task := fresh("note"), fresh(incident.TypeTask)
	if n := postTAXII(t, h.base, h.carl,
		map[string]any{"type": incident.TypeTaskUpdate, "id": fresh(incident.TypeTaskUpdate), "created": later, "modified": later, "incident_ref": h.incident, "task_ref": h.task, "based_on": h.version, "status": "cancelled"},
		map[string]any{"type": incident.TypeRFAResponse, "id": fresh(incident.TypeRFAResponse), "created": later, "modified": later, "incident_ref": h.incident, "rfa_ref": h.rfa, "decision": "declined", "author": "bob", "author_org": "B"},
		map[string]any{"type": "note", "id": note, "object_refs": []string{h.incident}, "content": "forged by C"},
		map[string]any{"type": incident.TypeTask, "id": task, "incident_ref": h.incident, "name": "forged task", "status": "open", "assignee": "bob", "assignee_org": "B"},
	); n != 4 {
		t.Fatalf("C stored %d of 4 objects", n)
	}
	for _, m := range []*member{h.alice, h.bob} {
		cs := h.caseOf(t, m)
		if len(cs.Tasks) != 1 || cs.Tasks[0].ID != h.task || cs.Tasks[0].Status != "open" || len(cs.Tasks[0].History) != 1 {
			t.Errorf("%s: tasks %+v, want only A's, open, unchanged", m.user.Name, cs.Tasks)
		}
		if len(cs.Notes) != 0 {
			t.Errorf("%s: notes %+v, want none", m.user.Name, cs.Notes)
		}
		if len(cs.RFAs) != 1 || cs.RFAs[0].Status != "pending" || len(cs.RFAs[0].Responses) != 0 {
			t.Errorf("%s: requests %+v, want A's, unanswered", m.user.Name, cs.RFAs)
		}
		for _, e := range cs.Timeline {
			if e.Ref == note || e.Ref == task {
				t.Errorf("%s: timeline shows C's %s", m.user.Name, e.Ref)
			}
		}
		var l struct{ Incidents []incident.Summary }
		if callBody(t, h.base, m, "GET", "/api/v1/incidents", "", &l); len(l.Incidents) != 1 || l.Incidents[0].OpenTasks != 1 {
			t.Errorf("%s: list %+v, want one incident with one open task", m.user.Name, l.Incidents)
		}
	}
}

// TestIncidentRequesterCannotAnswerItsOwnRequest: the organisation that
// asked for assistance cannot accept its own request by posting the
// answer through TAXII, signed with the name of the organisation it
// asked: its partners still see the request pending, and nobody working
// on it.
func TestIncidentRequesterCannotAnswerItsOwnRequest(t *testing.T) {
	h := newRedteamHub(t)
	if n := postTAXII(t, h.base, h.alice, map[string]any{"type": incident.TypeRFAResponse, "id": incident.TypeRFAResponse + "--" + uuid.NewString(),
		"created": later, "modified": later, "incident_ref": h.incident, "rfa_ref": h.rfa, "decision": "accepted", "author": "bob", "author_org": "B"}); n != 1 {
		t.Fatalf("A stored %d of 1 objects", n)
	}
	cs := h.caseOf(t, h.bob)
	if len(cs.RFAs) != 1 || cs.RFAs[0].Status != "pending" || !cs.RFAs[0].ForCaller {
		t.Errorf("requests %+v, want A's pending, for B", cs.RFAs)
	}
	for _, w := range cs.Working {
		if w.Ref == h.rfa {
			t.Errorf("working %+v: the requester made B work on its request", w)
		}
	}
	// The service refuses it too.
	if st := callBody(t, h.base, h.alice, "POST", "/api/v1/incidents/"+h.incident+"/requests/"+h.rfa+"/accept", "", nil); st != 403 {
		t.Errorf("A accepts its own request: %d, want 403", st)
	}
}

// TestIncidentAnswerSignedAsAnotherMemberIsNotThatMembers: D, a partner
// of the incident that the request is not addressed to, answers it
// through TAXII signed as B, the organisation addressed, and signs a note
// as A's analyst. The answer does not count (it is D's, and the request
// is not for D) and the note is shown as D's: a member never signs with
// another member's name.
func TestIncidentAnswerSignedAsAnotherMemberIsNotThatMembers(t *testing.T) {
	h := newRedteamHub(t)
	note := "note--" + uuid.NewString()
	if n := postTAXII(t, h.base, h.dave,
		map[string]any{"type": incident.TypeRFAResponse, "id": incident.TypeRFAResponse + "--" + uuid.NewString(), "created": later, "modified": later,
			"incident_ref": h.incident, "rfa_ref": h.rfa, "decision": "declined", "author": "bob", "author_org": "B"},
		map[string]any{"type": "note", "id": note, "object_refs": []string{h.incident}, "content": "close it", "x_cyberpact_author": "alice", "x_cyberpact_author_org": "A"},
	); n != 2 {
		t.Fatalf("D stored %d of 2 objects", n)
	}
	for _, m := range []*member{h.alice, h.bob} {
		cs := h.caseOf(t, m)
		if len(cs.RFAs) != 1 || cs.RFAs[0].Status != "pending" {
			t.Errorf("%s: requests %+v, want A's pending", m.user.Name, cs.RFAs)
		}
		if len(cs.Notes) != 1 || cs.Notes[0].ID != note || cs.Notes[0].By != "alice (D)" {
			t.Errorf("%s: notes %+v, want D's note signed as D's", m.user.Name, cs.Notes)
		}
	}
	// B's own answer counts.
	if st := callBody(t, h.base, h.bob, "POST", "/api/v1/incidents/"+h.incident+"/requests/"+h.rfa+"/decline", "", nil); st != 200 {
		t.Fatalf("B declines: %d", st)
	}
	if cs := h.caseOf(t, h.alice); cs.RFAs[0].Status != "declined" || len(cs.RFAs[0].Responses) != 1 || cs.RFAs[0].Responses[0].ByOrg != "B" {
		t.Errorf("after B's answer: %+v", cs.RFAs[0])
	}
}

// TestIncidentNoteIsReleasedNoWiderThanItsIncident: a partner of a G1
// TLP:AMBER incident may keep a note narrower (its organisation, TLP:RED
// for the group) but not release it wider, to all members or at
// TLP:GREEN, which would tell C, outside G1, the incident's id and what
// the note says of it.
func TestIncidentNoteIsReleasedNoWiderThanItsIncident(t *testing.T) {
	h := newRedteamHub(t)
	g1 := "group:" + strconv.FormatInt(h.g1.ID, 10)
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"content":"wide","audience":"all"}`, 400},
		{`{"content":"wide","audience":"all","tlp":"red"}`, 400},
		{`{"content":"wide","tlp":"green"}`, 400},
		{`{"content":"wide","audience":"` + g1 + `","tlp":"clear"}`, 400},
		{`{"content":"narrow","audience":"org"}`, 201},
		{`{"content":"narrow","audience":"` + g1 + `","tlp":"red"}`, 201},
		{`{"content":"narrow"}`, 201},
	} {
		if st, out := rtCall(t, h.base, h.bob, "POST", "/api/v1/incidents/"+h.incident+"/notes", c.body, "application/json"); st != c.want {
			t.Errorf("note %s: %d %s, want %d", c.body, st, out, c.want)
		}
	}
	st, out := rtCall(t, h.base, h.carl, "GET", "/api/v1/objects?limit=1000", "", "")
	if st != 200 || strings.Contains(string(out), h.incident) || strings.Contains(string(out), "wide") {
		t.Errorf("C reads the objects: %d %s", st, out)
	}
}

// TestIncidentAnonymousNoteCountsForItsSubmitterOnly: an anonymous note
// (the hub stands as its producer) is attached to an incident by what its
// submitter may see: an outsider's anonymous note on a G1 incident is not
// attached, a G1 member's is, shown as anonymous and never by name.
func TestIncidentAnonymousNoteCountsForItsSubmitterOnly(t *testing.T) {
	h := newRedteamHub(t)
	bundle := func(note string) string {
		body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": []any{
			map[string]any{"type": "note", "spec_version": "2.1", "id": note, "created": day(3), "modified": day(3), "object_refs": []string{h.incident},
				"content": "seen from " + note, "x_cyberpact_author": "alice", "x_cyberpact_author_org": "A"}}})
		return string(body)
	}
	outsider, member := "note--"+uuid.NewString(), "note--"+uuid.NewString()
	if st, out := rtCall(t, h.base, h.carl, "POST", "/api/v1/bundles?anonymous=true&audience=all&tlp=green", bundle(outsider), "application/json"); st != 200 {
		t.Fatalf("carl's anonymous note: %d %s", st, out)
	}
	if st, out := rtCall(t, h.base, h.dave, "POST", "/api/v1/bundles?anonymous=true&audience=all&tlp=green", bundle(member), "application/json"); st != 200 {
		t.Fatalf("dave's anonymous note: %d %s", st, out)
	}
	cs := h.caseOf(t, h.bob)
	var ids []string
	for _, n := range cs.Notes {
		ids = append(ids, n.ID)
		if n.ID == member && n.By != "anonymous" {
			t.Errorf("dave's anonymous note is shown as by %q", n.By)
		}
		if strings.Contains(n.By, "dave") || strings.Contains(n.By, "alice") {
			t.Errorf("note %s names %q", n.ID, n.By)
		}
	}
	if slices.Contains(ids, outsider) {
		t.Errorf("carl's anonymous note, from outside G1, is attached to the G1 incident")
	}
	if !slices.Contains(ids, member) {
		t.Errorf("dave's anonymous note, from inside G1, is not attached: %v", ids)
	}
}
