package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/cyberpact/cyberpact/incident"
)

// analyst is a user of one hub with an API key.
type analyst struct {
	t    *testing.T
	h    *hub
	name string
	key  string
}

func (h *hub) analyst(t *testing.T, name string, org *cyberpact.Org) *analyst {
	t.Helper()
	ctx := context.Background()
	u := &cyberpact.User{Name: name, Org: org.ID, Role: cyberpact.RoleAnalyst}
	if err := h.db.CreateUser(ctx, u, "cli"); err != nil {
		t.Fatal(err)
	}
	key, _, err := h.db.CreateKey(ctx, u.ID, time.Time{}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	return &analyst{t: t, h: h, name: name, key: key}
}

// do sends a request to the analyst's hub and returns the status and body.
func (a *analyst) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.h.base+path, r)
	req.Header.Set("Authorization", "Bearer "+a.key)
	if strings.HasPrefix(path, "/taxii2/") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// must sends a request that must answer want, decoding the answer into v.
func (a *analyst) must(want int, method, path string, body, v any) {
	a.t.Helper()
	st, out := a.do(method, path, body)
	if st != want {
		a.t.Fatalf("%s on %s: %s %s: %d %s; want %d", a.name, a.h.name, method, path, st, out, want)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			a.t.Fatal(err)
		}
	}
}

func (a *analyst) incident(id string) *incident.Case {
	var cs incident.Case
	a.must(200, "GET", "/api/v1/incidents/"+id, nil, &cs)
	return &cs
}

func (a *analyst) task(id, task string) *incident.Task {
	for _, t := range a.incident(id).Tasks {
		if t.ID == task {
			return t
		}
	}
	a.t.Fatalf("%s on %s does not see task %s", a.name, a.h.name, task)
	return nil
}

// TestJointIncidentAcrossTwoHubs is the US-UK joint incident: opened in
// Washington, a task assigned to a London analyst, updated in London and
// seen in Washington; concurrent edits on both sides merged the same way
// on both hubs; a stale edit refused naming the current version; and a
// TLP:RED note for the cell that never reaches a partner outside it, on
// any channel.
func TestJointIncidentAcrossTwoHubs(t *testing.T) {
	wa, lo := newHub(t, "Washington"), newHub(t, "London")
	waCISA, waLondon, waBank := wa.org("US CISA", "US"), wa.org("London Hub", "GB"), wa.org("US Bank", "US")
	waCell := wa.group("US-UK Cell", waCISA, waLondon)
	loNCSC, loWashington, loBank := lo.org("UK NCSC", "GB"), lo.org("Washington Hub", "US"), lo.org("UK Bank", "GB")
	loCell := lo.group("US-UK Cell", loNCSC, loWashington)
	user, key := wa.syncUser("london-sync", waLondon)
	lo.peer(&cyberpact.Peer{Name: "washington-cell", URL: wa.root, Collection: groupCollection(waCell), User: user, Key: key,
		Direction: cyberpact.SyncBoth, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: loCell.ID}, Org: loWashington.ID})
	ann := wa.analyst(t, "ann@cisa.example", waCISA)
	bo := lo.analyst(t, "bo@ncsc.example", loNCSC)
	usBank := wa.analyst(t, "cy@usbank.example", waBank)
	ukBank := lo.analyst(t, "di@ukbank.example", loBank)

	// Alerts: every organisation of both hubs subscribes to every new
	// object it may see, by webhook.
	hooks := map[string]*hookRecorder{}
	for _, s := range []struct {
		h   *hub
		org *cyberpact.Org
	}{{wa, waCISA}, {wa, waBank}, {lo, loNCSC}, {lo, loBank}} {
		r := newHookRecorder(t)
		hooks[s.h.name+"/"+s.org.Name] = r
		if err := s.h.db.CreateSubscription(context.Background(), &cyberpact.Subscription{Org: s.org.ID, Event: cyberpact.EventObject,
			Channel: cyberpact.ChannelWebhook, Target: r.URL, Secret: "0123456789abcdef-secret"}, "cli"); err != nil {
			t.Fatal(err)
		}
	}

	var cs incident.Case
	ann.must(201, "POST", "/api/v1/incidents", map[string]any{"name": "Grid operator intrusion", "severity": "high",
		"sectors": []string{"energy"}, "functions": []string{"electricity transmission"}, "partners": []string{"US CISA", "UK NCSC"},
		"audience": "group:US-UK Cell", "tlp": "amber"}, &cs)
	var task incident.Task
	ann.must(201, "POST", "/api/v1/incidents/"+cs.ID+"/tasks", map[string]any{"title": "Reverse the loader", "assignee": "bo@ncsc.example",
		"assignee_org": "UK NCSC", "due": "2026-12-08T12:00:00Z"}, &task)
	var red incident.Note
	ann.must(201, "POST", "/api/v1/incidents/"+cs.ID+"/notes", map[string]any{"kind": "decision", "content": "the source is a liaison officer; do not act on it",
		"audience": "group:US-UK Cell", "tlp": "red"}, &red)
	var amber incident.Note
	ann.must(201, "POST", "/api/v1/incidents/"+cs.ID+"/notes", map[string]any{"kind": "event", "content": "loader seen on two substations"}, &amber)

	lo.mustSync("washington-cell")

	t.Run("TaskAssignedInWashingtonReachesTheLondonAnalyst", func(t *testing.T) {
		var l struct{ Incidents []incident.Summary }
		bo.must(200, "GET", "/api/v1/incidents", nil, &l)
		if len(l.Incidents) != 1 || l.Incidents[0].ID != cs.ID || l.Incidents[0].AssignedToCaller != 1 {
			t.Fatalf("London's list for bo: %+v", l.Incidents)
		}
		got := bo.task(cs.ID, task.ID)
		if got.Assignee != "bo@ncsc.example" || got.Version != task.Version || got.Yours {
			t.Errorf("the task in London: %+v", got)
		}
	})

	var updated incident.Task
	bo.must(200, "PATCH", "/api/v1/incidents/"+cs.ID+"/tasks/"+task.ID, map[string]any{"based_on": task.Version, "status": "in-progress", "comment": "unpacked stage 2"}, &updated)
	lo.mustSync("washington-cell")

	t.Run("UpdatedInLondonSeenInWashington", func(t *testing.T) {
		got := ann.task(cs.ID, task.ID)
		if got.Status != "in-progress" || got.Version != updated.Version || len(got.History) != 2 || got.History[1].Comment != "unpacked stage 2" ||
			!strings.Contains(got.History[1].By, "bo@ncsc.example") {
			t.Fatalf("the task in Washington: %+v", got)
		}
		// The update is London's own object, attributed in Washington to
		// the organisation standing for London; the task stays US CISA's.
		vs := wa.versions()
		if u := vs[got.History[1].ID]; len(u) != 1 || u[0].Release.Producer != waLondon.ID {
			t.Errorf("the update in Washington: %+v", u)
		}
		if tv := vs[task.ID]; len(tv) != 1 || tv[0].Release.Producer != waCISA.ID {
			t.Errorf("the task in Washington: %+v", tv)
		}
	})

	t.Run("StaleEditRefusedNamingTheCurrentVersion", func(t *testing.T) {
		st, body := ann.do("PATCH", "/api/v1/incidents/"+cs.ID+"/tasks/"+task.ID, map[string]any{"based_on": task.Version, "status": "done"})
		if st != 409 || !strings.Contains(string(body), updated.Version) {
			t.Errorf("stale edit in Washington: %d %s; want 409 naming %s", st, body, updated.Version)
		}
		if got := ann.task(cs.ID, task.ID); got.Status != "in-progress" {
			t.Errorf("a refused edit changed the task: %+v", got)
		}
	})

	t.Run("ConcurrentEditsOnBothHubsMergeTheSameWay", func(t *testing.T) {
		// Both edit the version both hold, before either hears of the other.
		var a, b incident.Task
		ann.must(200, "PATCH", "/api/v1/incidents/"+cs.ID+"/tasks/"+task.ID, map[string]any{"based_on": updated.Version, "status": "blocked", "comment": "waiting for samples"}, &a)
		bo.must(200, "PATCH", "/api/v1/incidents/"+cs.ID+"/tasks/"+task.ID, map[string]any{"based_on": updated.Version, "status": "done", "comment": "report attached"}, &b)
		lo.mustSync("washington-cell")
		w, l := ann.task(cs.ID, task.ID), bo.task(cs.ID, task.ID)
		if w.Status != l.Status || w.Version != l.Version || len(w.History) != 4 || len(l.History) != 4 {
			t.Fatalf("after both edits: Washington %s@%s (%d edits), London %s@%s (%d edits)", w.Status, w.Version, len(w.History), l.Status, l.Version, len(l.History))
		}
		last, prev := w.History[3], w.History[2]
		if !last.Concurrent || prev.Concurrent || last.BasedOn != updated.Version || prev.BasedOn != updated.Version {
			t.Errorf("both edits kept, the second marked concurrent: %+v, %+v", prev, last)
		}
		if w.Status != last.Changes["status"] {
			t.Errorf("merged status %s, want the later edit's %s", w.Status, last.Changes["status"])
		}
		// The owner's edit is a new version of the task; London's an
		// update of its own.
		if vs := wa.versions()[task.ID]; len(vs) != 2 {
			t.Errorf("Washington holds %d versions of the task, want 2", len(vs))
		}
	})

	t.Run("RequestForAssistanceAcceptedAcrossHubs", func(t *testing.T) {
		var q incident.RFA
		ann.must(201, "POST", "/api/v1/incidents/"+cs.ID+"/requests", map[string]any{"kind": "takedown", "addressed_to": []string{"UK NCSC"},
			"description": "take down the staging domain hosted in the UK"}, &q)
		lo.mustSync("washington-cell")
		var l struct{ Incidents []incident.Summary }
		bo.must(200, "GET", "/api/v1/incidents", nil, &l)
		if len(l.Incidents) != 1 || l.Incidents[0].RFAsToCaller != 1 {
			t.Fatalf("London's list: %+v", l.Incidents)
		}
		bo.must(200, "POST", "/api/v1/incidents/"+cs.ID+"/requests/"+q.ID+"/accept", map[string]any{"comment": "registrar notified"}, nil)
		lo.mustSync("washington-cell")
		got := ann.incident(cs.ID)
		found := false
		for _, w := range got.Working {
			if strings.Contains(w.Who, "bo@ncsc.example") && w.Ref == q.ID {
				found = true
			}
		}
		if len(got.RFAs) != 1 || got.RFAs[0].Status != "accepted" || !found {
			t.Errorf("in Washington: requests %+v, working %+v", got.RFAs, got.Working)
		}
	})

	t.Run("RedNoteNeverReachesAPartnerOutsideTheGroup", func(t *testing.T) {
		// Washington's cell sees it.
		if got := ann.incident(cs.ID); !hasNote(got, red.ID) || !hasNote(got, amber.ID) {
			t.Errorf("ann does not see the cell's notes: %+v", got.Notes)
		}
		// Federation: never pulled to London, never posted anywhere.
		if vs := lo.versions()[red.ID]; len(vs) != 0 {
			t.Errorf("the RED note reached London: %+v", vs)
		}
		for _, h := range []*hub{wa, lo} {
			if n := h.postedIDs()[red.ID]; n != 0 {
				t.Errorf("the RED note was pushed to %s %d times", h.name, n)
			}
		}
		if vs := lo.versions()[amber.ID]; len(vs) != 1 {
			t.Errorf("the AMBER note did not reach London: %d versions", len(vs))
		}
		if got := bo.incident(cs.ID); hasNote(got, red.ID) || !hasNote(got, amber.ID) {
			t.Errorf("bo's view in London: %+v", got.Notes)
		}
		// REST and TAXII: partners outside the cell on either hub see
		// neither the incident nor the note.
		for _, out := range []*analyst{usBank, ukBank} {
			for _, path := range []string{"/api/v1/incidents/" + cs.ID, "/api/v1/objects/" + red.ID, "/api/v1/objects/" + cs.ID} {
				if st, body := out.do("GET", path, nil); st != 404 {
					t.Errorf("%s: GET %s: %d %s", out.name, path, st, body)
				}
			}
			for _, path := range []string{"/api/v1/incidents", "/api/v1/objects?limit=1000", "/api/v1/stream?after=0&follow=false",
				"/taxii2/api1/collections/" + collection("all") + "/objects/?limit=1000"} {
				st, body := out.do("GET", path, nil)
				if st != 200 || bytes.Contains(body, []byte(red.ID)) || bytes.Contains(body, []byte(cs.ID)) {
					t.Errorf("%s: GET %s: %d, names the incident or its note: %.300s", out.name, path, st, body)
				}
			}
			if st, _ := out.do("GET", "/taxii2/api1/collections/"+groupCollection(waCell)+"/objects/", nil); st != 404 {
				t.Errorf("%s reads the cell's collection: %d", out.name, st)
			}
		}
		// Alerts: the cell on each hub is told of the incident, the RED
		// note only in Washington; the banks of neither.
		for _, h := range []*hub{wa, lo} {
			d := &alert.Dispatcher{Store: h.db, Webhook: &alert.Webhook{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}
			if _, err := d.Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Deliver(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for name, want := range map[string]map[string]bool{
			"Washington/US CISA": {cs.ID: true, red.ID: true, amber.ID: true},
			"Washington/US Bank": {cs.ID: false, red.ID: false, amber.ID: false},
			"London/UK NCSC":     {cs.ID: true, red.ID: false, amber.ID: true},
			"London/UK Bank":     {cs.ID: false, red.ID: false, amber.ID: false},
		} {
			got := hooks[name].ids()
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s's webhook told of %s: %v, want %v", name, id, got[id], w)
				}
			}
		}
		// And no write by an outsider tells it the incident exists.
		for _, out := range []*analyst{usBank, ukBank} {
			st, body := out.do("POST", "/api/v1/incidents/"+cs.ID+"/notes", map[string]any{"content": "probe"})
			if st != 404 || bytes.Contains(body, []byte("Grid")) {
				t.Errorf("%s adding a note: %d %s", out.name, st, body)
			}
		}
	})
}

// hookRecorder is a webhook receiver on 127.0.0.1 keeping the object ids
// it was told of.
type hookRecorder struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]bool
}

func newHookRecorder(t *testing.T) *hookRecorder {
	r := &hookRecorder{got: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m alert.Message
		json.NewDecoder(req.Body).Decode(&m)
		r.mu.Lock()
		r.got[m.ObjectID] = true
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookRecorder) ids() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.got)
}

func hasNote(cs *incident.Case, id string) bool {
	for _, n := range cs.Notes {
		if n.ID == id {
			return true
		}
	}
	return false
}
