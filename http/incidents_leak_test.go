package http_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
)

// The leak matrix's world holds joint incidents of A and B for every
// audience and TLP level, each with a task and a request for assistance of
// its producer, a TLP:RED note of A for G1, a GREEN note and task update
// of C for all members, and a link to a campaign of varied release: the
// incident routes must show each viewer exactly what the rule lets it see
// of each, and of the contributions only those whose producer may see the
// incident (attached).

// worldIncident is one incident of the world and what hangs on it.
type worldIncident struct {
	id, task, rfa, update string
	notes                 []string
	linked                string
	producer              int64
}

// addIncidents seeds the incidents with add, the world's seeding step.
func (w *world) addIncidents(t *testing.T, audiences map[string]cyberpact.Audience, add func(typ string, n, mod int, rel cyberpact.Release, extra map[string]any)) {
	k := 0
	for _, prod := range []string{"A", "B"} {
		for _, audName := range []string{"org", "G1", "G2", "all"} {
			for _, tlp := range tlps {
				rel := cyberpact.Release{Producer: w.orgs[prod].ID, Audience: audiences[audName], TLP: tlp}
				if cyberpact.RefuseRelease(rel) != "" {
					continue
				}
				k++
				wi := &worldIncident{id: uuidN(incident.TypeIncident, k), task: uuidN(incident.TypeTask, k), rfa: uuidN(incident.TypeRFA, k),
					update: uuidN(incident.TypeTaskUpdate, k), linked: uuidN("campaign", k), producer: rel.Producer}
				add(incident.TypeIncident, k, 1, rel, map[string]any{"name": fmt.Sprintf("incident %s %s %s", prod, audName, tlp),
					"x_cyberpact_status": "open", "x_cyberpact_severity": "high", "x_cyberpact_linked_refs": []string{wi.linked}})
				add(incident.TypeTask, k, 1, rel, map[string]any{"incident_ref": wi.id, "name": "task", "status": "open", "assignee": "bob"})
				add(incident.TypeRFA, k, 1, rel, map[string]any{"incident_ref": wi.id, "kind": "analysis", "description": "help"})
				green := cyberpact.Release{Producer: w.orgs["C"].ID, Audience: audiences["all"], TLP: cyberpact.TLPGreen}
				add(incident.TypeTaskUpdate, k, 2, green, map[string]any{"incident_ref": wi.id, "task_ref": wi.task, "based_on": day(1), "status": "done"})
				add("note", k, 1, cyberpact.Release{Producer: w.orgs["A"].ID, Audience: audiences["G1"], TLP: cyberpact.TLPRed},
					map[string]any{"content": "red for G1", "object_refs": []string{wi.id}})
				add("note", 1000+k, 1, green, map[string]any{"content": "green from C", "object_refs": []string{wi.id}})
				wi.notes = []string{uuidN("note", k), uuidN("note", 1000+k)}
				w.incidents = append(w.incidents, wi)
			}
		}
	}
}

// seesID reports whether the viewer of vc may see id, by the model.
func (w *world) seesID(vc *viewerCase, id string) bool {
	return vc.m != nil && len(w.expect(vc.viewer(), nil, false, id)) > 0
}

// attached reports whether contribution id belongs to incident by the
// model: its producer may see the incident (cyberpact.ProducerSees, the
// rule for the ends of edges). In the world a task and its request share
// their incident's release, so a task update's producer sees the task
// when it sees the incident.
func (w *world) attached(id, incident string) bool {
	for _, x := range w.versions {
		if x.id != id {
			continue
		}
		for _, y := range w.versions {
			if y.id == incident && cyberpact.ProducerSees(w.orgViewer(x.release.Producer), y.release) {
				return true
			}
		}
	}
	return false
}

// checkIncidents is the route matrix's case of the incident reads.
func (w *world) checkIncidents(t *testing.T, vc *viewerCase) {
	if len(w.incidents) == 0 {
		t.Fatal("the world holds no incidents: the case shows nothing")
	}
	a := w.req(t, vc, "GET", "/api/v1/incidents", nil, "")
	if vc.m == nil {
		mustStatus(t, "anonymous list", a, 401)
		for _, wi := range w.incidents {
			mustStatus(t, "anonymous get", w.req(t, vc, "GET", "/api/v1/incidents/"+wi.id, nil, ""), 401)
		}
		return
	}
	mustStatus(t, "list", a, 200)
	var l struct{ Incidents []struct{ ID string } }
	json.Unmarshal(a.body, &l)
	got, want := map[string]bool{}, map[string]bool{}
	for _, x := range l.Incidents {
		got[x.ID] = true
	}
	for _, wi := range w.incidents {
		if w.seesID(vc, wi.id) {
			want[wi.id] = true
		}
	}
	sameSet(t, "incidents", got, want)
	for _, wi := range w.incidents {
		a := w.req(t, vc, "GET", "/api/v1/incidents/"+wi.id, nil, "")
		if !w.seesID(vc, wi.id) {
			mustStatus(t, "unseen incident "+wi.id, a, 404)
			w.noSeededIDs(t, "unseen incident", []byte(strings.ReplaceAll(string(a.body), wi.id, "ID")))
			continue
		}
		mustStatus(t, "incident "+wi.id, a, 200)
		var cs struct {
			Tasks []struct {
				ID      string
				History []struct{ ID string }
			}
			Notes    []struct{ ID string }
			Requests []struct{ ID string }
			Linked   []struct{ ID string }
		}
		if err := json.Unmarshal(a.body, &cs); err != nil {
			t.Fatal(err)
		}
		set := func(ids ...string) map[string]bool {
			out := map[string]bool{}
			for _, id := range ids {
				if w.seesID(vc, id) && (id == wi.linked || w.attached(id, wi.id)) {
					out[id] = true
				}
			}
			return out
		}
		got := func(n int, id func(i int) string) map[string]bool {
			out := map[string]bool{}
			for i := 0; i < n; i++ {
				out[id(i)] = true
			}
			return out
		}
		sameSet(t, wi.id+" tasks", got(len(cs.Tasks), func(i int) string { return cs.Tasks[i].ID }), set(wi.task))
		sameSet(t, wi.id+" notes", got(len(cs.Notes), func(i int) string { return cs.Notes[i].ID }), set(wi.notes...))
		sameSet(t, wi.id+" requests", got(len(cs.Requests), func(i int) string { return cs.Requests[i].ID }), set(wi.rfa))
		sameSet(t, wi.id+" linked", got(len(cs.Linked), func(i int) string { return cs.Linked[i].ID }), set(wi.linked))
		if len(cs.Tasks) == 1 {
			h := cs.Tasks[0].History
			sameSet(t, wi.id+" task history", got(len(h), func(i int) string { return h[i].ID }), set(wi.task, wi.update))
		}
	}
}

// incidentWrites is the route matrix's case of an incident write:
// without a key 401; on an incident the caller may not see 404, as on one
// nobody holds; on one it sees, the status visible gives (a reader's 403,
// the refusal of a deliberately bad edit), so that nothing is stored and
// the world stays as the model says.
func incidentWrites(method, suffix, body string, visible func(w *world, vc *viewerCase, wi *worldIncident) int) func(t *testing.T, w *world, vc *viewerCase) {
	return func(t *testing.T, w *world, vc *viewerCase) {
		if len(w.incidents) == 0 {
			t.Fatal("the world holds no incidents: the case shows nothing")
		}
		for _, wi := range w.incidents {
			path := "/api/v1/incidents/" + wi.id + strings.NewReplacer("{task}", wi.task, "{rfa}", wi.rfa).Replace(suffix)
			a := w.req(t, vc, method, path, []byte(body), "application/json")
			switch {
			case vc.m == nil:
				mustStatus(t, "anonymous "+path, a, 401)
			case !w.seesID(vc, wi.id):
				mustStatus(t, "unseen "+path, a, 404)
			default:
				mustStatus(t, path, a, visible(w, vc, wi))
			}
			w.noSeededIDs(t, path, []byte(strings.NewReplacer(wi.id, "I", wi.task, "T", wi.rfa, "R").Replace(string(a.body))))
		}
	}
}

func reader(vc *viewerCase) bool { return !vc.m.user.Role.CanWrite() }

// refusedEdit is the status of a bad edit by vc: 403 for a reader, else
// want.
func refusedEdit(want int) func(w *world, vc *viewerCase, wi *worldIncident) int {
	return func(w *world, vc *viewerCase, wi *worldIncident) int {
		if reader(vc) {
			return 403
		}
		return want
	}
}

func init() {
	leakCases["GET /api/v1/incidents"] = func(t *testing.T, w *world, vc *viewerCase) { w.checkIncidents(t, vc) }
	leakCases["GET /api/v1/incidents/{id}"] = func(t *testing.T, w *world, vc *viewerCase) { w.checkIncidents(t, vc) }
	leakCases["POST /api/v1/incidents"] = func(t *testing.T, w *world, vc *viewerCase) {
		// A link to an object out of sight is refused as one to an id
		// nobody holds; TLP:RED for all members is refused after the
		// links are checked, so that nothing is stored either way.
		post := func(id string) answer {
			return w.req(t, vc, "POST", "/api/v1/incidents", []byte(`{"name":"x","tlp":"red","audience":"all","linked":["`+id+`"]}`), "application/json")
		}
		fresh := uuidN("campaign", 99999)
		for _, id := range w.ids {
			a := post(id)
			switch {
			case vc.m == nil:
				mustStatus(t, "anonymous create", a, 401)
				return
			case reader(vc):
				mustStatus(t, "reader create", a, 403)
				return
			case w.seesID(vc, id):
				mustStatus(t, "link to "+id, a, 400)
			default:
				sameAnswer(t, "a link to "+id, a, post(fresh), id, fresh)
			}
		}
	}
	leakCases["PATCH /api/v1/incidents/{id}"] = incidentWrites("PATCH", "", `{"based_on":"2000-01-01T00:00:00.000Z","status":"closed"}`,
		func(w *world, vc *viewerCase, wi *worldIncident) int {
			if reader(vc) || vc.m.org.ID != wi.producer {
				return 403
			}
			return 409
		})
	leakCases["POST /api/v1/incidents/{id}/tasks"] = incidentWrites("POST", "/tasks", `{"title":""}`, refusedEdit(400))
	leakCases["PATCH /api/v1/incidents/{id}/tasks/{task}"] = incidentWrites("PATCH", "/tasks/{task}", `{"based_on":"2000-01-01T00:00:00.000Z","status":"done"}`,
		func(w *world, vc *viewerCase, wi *worldIncident) int {
			if !w.seesID(vc, wi.task) {
				return 404
			}
			return refusedEdit(409)(w, vc, wi)
		})
	leakCases["POST /api/v1/incidents/{id}/notes"] = incidentWrites("POST", "/notes", `{"content":""}`, refusedEdit(400))
	leakCases["POST /api/v1/incidents/{id}/requests"] = incidentWrites("POST", "/requests", `{"kind":"nothing","description":"x"}`, refusedEdit(400))
	leakCases["POST /api/v1/incidents/{id}/requests/{rfa}/{decision}"] = incidentWrites("POST", "/requests/{rfa}/maybe", ``,
		func(w *world, vc *viewerCase, wi *worldIncident) int {
			if !w.seesID(vc, wi.rfa) {
				return 404
			}
			return refusedEdit(400)(w, vc, wi)
		})
}

// hiddenIncident returns an incident of the world that A keeps to itself,
// out of the poster B's sight, and ids of the same kinds nobody holds.
func (w *world) hiddenIncident(t *testing.T) (hidden, fresh *worldIncident) {
	for _, wi := range w.incidents {
		if wi.producer == w.orgs["A"].ID && !w.seesID(&viewerCase{m: &member{p: &cyberpact.Principal{Org: *w.orgs["B"], Groups: w.orgViewer(w.orgs["B"].ID).Groups}}}, wi.id) {
			return wi, &worldIncident{id: uuidN(incident.TypeIncident, 90005), task: uuidN(incident.TypeTask, 90006), rfa: uuidN(incident.TypeRFA, 90007)}
		}
	}
	t.Fatal("the world has no incident A keeps from B")
	return nil, nil
}

// incidentWriteCase posts body to suffix of an incident held out of the
// poster's sight and of one nobody holds: the answers must be the same.
func incidentWriteCase(method, suffix, body string) func(t *testing.T, w *world, p probe) {
	return func(t *testing.T, w *world, p probe) {
		hidden, fresh := w.hiddenIncident(t)
		post := func(wi *worldIncident) answer {
			path := "/api/v1/incidents/" + wi.id + strings.NewReplacer("{task}", wi.task, "{rfa}", wi.rfa).Replace(suffix)
			return w.req(t, p.poster, method, path, []byte(body), "application/json")
		}
		sameAnswer(t, method+" "+suffix, post(hidden), post(fresh), hidden.id, fresh.id, hidden.task, fresh.task, hidden.rfa, fresh.rfa)
	}
}

func init() {
	writeCases["POST /api/v1/incidents"] = func(t *testing.T, w *world, p probe) {
		post := func(id string) answer {
			return w.req(t, p.poster, "POST", "/api/v1/incidents", []byte(`{"name":"probe","audience":"org","linked":["`+id+`"]}`), "application/json")
		}
		sameAnswer(t, "a link", post(p.hidden), post(p.fresh), p.hidden, p.fresh)
	}
	writeCases["PATCH /api/v1/incidents/{id}"] = incidentWriteCase("PATCH", "", `{"based_on":"2026-01-02T00:00:00.000Z","status":"closed"}`)
	writeCases["POST /api/v1/incidents/{id}/tasks"] = incidentWriteCase("POST", "/tasks", `{"title":"probe"}`)
	writeCases["PATCH /api/v1/incidents/{id}/tasks/{task}"] = incidentWriteCase("PATCH", "/tasks/{task}", `{"based_on":"2026-01-02T00:00:00.000Z","status":"done"}`)
	writeCases["POST /api/v1/incidents/{id}/notes"] = incidentWriteCase("POST", "/notes", `{"content":"probe"}`)
	writeCases["POST /api/v1/incidents/{id}/requests"] = incidentWriteCase("POST", "/requests", `{"kind":"analysis","description":"probe"}`)
	writeCases["POST /api/v1/incidents/{id}/requests/{rfa}/{decision}"] = incidentWriteCase("POST", "/requests/{rfa}/accept", ``)
}
