package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
)

// worldCrises is, per world, the crises seeded in it (see crises).
var (
	worldCrisesMu sync.Mutex
	worldCrises   = map[*world]*seededCrises{}
)

// seededCrises are three crises of a world: "AB" on an incident A shares
// with group G1 (A and B), "B" on one B keeps to itself, "A" on one A keeps
// to itself (C is alerted by none); and one escalation contact per
// organisation.
type seededCrises struct {
	ids       map[string]int64  // by name
	incidents map[string]string // by name
	names     map[string]string // the incidents' names, by crisis name
	partners  map[string][]string
	contacts  map[string]int64 // by organisation name
}

func (w *world) crises(t *testing.T) *seededCrises {
	t.Helper()
	worldCrisesMu.Lock()
	defer worldCrisesMu.Unlock()
	return worldCrises[w]
}

// addCrises declares the crises of a world as newWorld makes it, on
// incidents addIncidents seeded (so the world's models count them).
func (w *world) addCrises(t *testing.T) {
	t.Helper()
	worldCrisesMu.Lock()
	defer worldCrisesMu.Unlock()
	ctx := context.Background()
	s := &seededCrises{ids: map[string]int64{}, incidents: map[string]string{}, names: map[string]string{}, contacts: map[string]int64{},
		partners: map[string][]string{"AB": {"A", "B"}, "B": {"B"}, "A": {"A"}}}
	desk := alert.NewDesk(w.db)
	for _, c := range []struct {
		name, producer, aud string
		audience            cyberpact.Audience
	}{
		{"AB", "A", "G1", cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.groups["G1"].ID}},
		{"B", "B", "org", cyberpact.Audience{Kind: cyberpact.AudienceOrg}},
		{"A", "A", "org", cyberpact.Audience{Kind: cyberpact.AudienceOrg}},
	} {
		rel := cyberpact.Release{Producer: w.orgs[c.producer].ID, Audience: c.audience, TLP: cyberpact.TLPAmber}
		id := ""
		for _, v := range w.versions {
			if v.typ == "incident" && v.release == rel {
				id = v.id
			}
		}
		if id == "" {
			t.Fatalf("the world has no incident released as %+v", rel)
		}
		cr, err := desk.Declare(ctx, nil, id, 0, "cli")
		if err != nil {
			t.Fatal(err)
		}
		s.ids[c.name], s.incidents[c.name], s.names[c.name] = cr.ID, id, fmt.Sprintf("incident %s %s amber", c.producer, c.aud)
	}
	for name, org := range w.orgs {
		ct := &cyberpact.CrisisContact{Org: org.ID, Level: 1, Channel: cyberpact.ChannelEmail, Target: "duty@" + strings.ToLower(name) + ".test"}
		if err := w.db.AddCrisisContact(ctx, ct, "cli"); err != nil {
			t.Fatal(err)
		}
		s.contacts[name] = ct.ID
	}
	worldCrises[w] = s
}

// seen is the names of the crises vc's organisation is alerted by.
func (s *seededCrises) seen(w *world, vc *viewerCase) map[string]bool {
	out := map[string]bool{}
	for name, orgs := range s.partners {
		for _, o := range orgs {
			if w.orgs[o].ID == vc.m.org.ID {
				out[name] = true
			}
		}
	}
	return out
}

// checkCrises is the route matrix's case of the crisis API: a crisis
// exists for exactly the organisations it alerts; to any other, its
// status, acknowledgement and end answer as a crisis that never existed,
// and no list names it or its incident. Contacts are each
// organisation's own.
func (w *world) checkCrises(t *testing.T, vc *viewerCase) {
	s := w.crises(t)
	if vc.m == nil {
		for _, rt := range []struct{ method, path string }{{"GET", "/api/v1/crises"}, {"GET", fmt.Sprintf("/api/v1/crises/%d", s.ids["AB"])},
			{"POST", fmt.Sprintf("/api/v1/crises/%d/ack", s.ids["AB"])}, {"POST", fmt.Sprintf("/api/v1/crises/%d/end", s.ids["AB"])},
			{"POST", "/api/v1/crises"}, {"GET", "/api/v1/crisis-contacts"}, {"POST", "/api/v1/crisis-contacts"}, {"DELETE", "/api/v1/crisis-contacts/1"}} {
			mustStatus(t, "anonymous "+rt.method+" "+rt.path, w.req(t, vc, rt.method, rt.path, nil, ""), 401)
		}
		return
	}
	seen := s.seen(w, vc)
	a := w.req(t, vc, "GET", "/api/v1/crises", nil, "")
	mustStatus(t, "list", a, 200)
	var l struct{ Crises []struct{ ID int64 } }
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	got, want := map[string]bool{}, map[string]bool{}
	for _, c := range l.Crises {
		got[fmt.Sprint(c.ID)] = true
	}
	for name := range seen {
		want[fmt.Sprint(s.ids[name])] = true
	}
	sameSet(t, "crises of "+vc.name, got, want)
	for name, id := range s.ids {
		if !seen[name] && (strings.Contains(string(a.body), s.incidents[name]) || strings.Contains(string(a.body), s.names[name])) {
			t.Errorf("%s's list of crises names the incident of crisis %s", vc.name, name)
		}
		for _, op := range []struct{ method, tail string }{{"GET", ""}, {"POST", "/ack"}, {"POST", "/end"}} {
			path := fmt.Sprintf("/api/v1/crises/%d%s", id, op.tail)
			got := w.req(t, vc, op.method, path, nil, "")
			if seen[name] {
				if op.method == "GET" {
					mustStatus(t, vc.name+" GET "+path, got, 200)
					if !strings.Contains(string(got.body), s.names[name]) {
						t.Errorf("%s's status of crisis %s does not name its incident: %s", vc.name, name, got.body)
					}
				}
				continue
			}
			never := w.req(t, vc, op.method, fmt.Sprintf("/api/v1/crises/%d%s", 999999, op.tail), nil, "")
			sameAnswer(t, vc.name+" "+op.method+" crisis "+name+op.tail, got, never, fmt.Sprint(id), "999999")
			mustStatus(t, vc.name+" "+op.method+" "+path, got, 404)
		}
	}
	a = w.req(t, vc, "GET", "/api/v1/crisis-contacts", nil, "")
	mustStatus(t, "contacts", a, 200)
	for name := range w.orgs {
		has := strings.Contains(string(a.body), "duty@"+strings.ToLower(name)+".test")
		if own := w.orgs[name].ID == vc.m.org.ID; has != own {
			t.Errorf("%s's contacts name %s's: %v, want %v", vc.name, name, has, own)
		}
	}
}

func init() {
	for _, route := range []string{"GET /api/v1/crises", "POST /api/v1/crises", "GET /api/v1/crises/{id}", "POST /api/v1/crises/{id}/ack",
		"POST /api/v1/crises/{id}/end", "GET /api/v1/crisis-contacts", "POST /api/v1/crisis-contacts", "DELETE /api/v1/crisis-contacts/{id}"} {
		leakCases[route] = func(t *testing.T, w *world, vc *viewerCase) { w.checkCrises(t, vc) }
	}
	// Declaring a crisis on an incident held out of the poster's sight
	// answers as on one nobody holds, for an analyst and an org-admin.
	writeCases["POST /api/v1/crises"] = func(t *testing.T, w *world, p probe) {
		s := w.crises(t)
		lead := &viewerCase{name: "B's org-admin", m: mkMember(t, w.db, p.poster.m.org, "b-admin", cyberpact.RoleOrgAdmin)}
		hidden, fresh := s.incidents["A"], uuidN("incident", 95999)
		for _, vc := range []*viewerCase{p.poster, lead} {
			post := func(id string) answer {
				return w.req(t, vc, "POST", "/api/v1/crises", []byte(`{"incident":"`+id+`","escalate_after":"10m"}`), "application/json")
			}
			sameAnswer(t, "a crisis declared by "+vc.name, post(hidden), post(fresh), hidden, fresh)
		}
		w.crisesUnchanged(t, s)
	}
	for _, op := range []string{"ack", "end"} {
		writeCases["POST /api/v1/crises/{id}/"+op] = func(t *testing.T, w *world, p probe) {
			s := w.crises(t)
			lead := &viewerCase{name: "B's org-admin", m: mkMember(t, w.db, p.poster.m.org, "b-admin", cyberpact.RoleOrgAdmin)}
			hidden, fresh := fmt.Sprint(s.ids["A"]), "999999"
			for _, vc := range []*viewerCase{p.poster, lead} {
				post := func(id string) answer {
					return w.req(t, vc, "POST", "/api/v1/crises/"+id+"/"+op, nil, "")
				}
				sameAnswer(t, op+" by "+vc.name, post(hidden), post(fresh), hidden, fresh)
			}
			w.crisesUnchanged(t, s)
		}
	}
	writeCases["POST /api/v1/crisis-contacts"] = func(t *testing.T, w *world, p probe) {
		s := w.crises(t)
		lead := &viewerCase{name: "B's org-admin", m: mkMember(t, w.db, p.poster.m.org, "b-admin", cyberpact.RoleOrgAdmin)}
		a := w.req(t, lead, "POST", "/api/v1/crisis-contacts", []byte(`{"level":2,"channel":"email","target":"boss@b.test"}`), "application/json")
		mustStatus(t, "a contact added by B's org-admin", a, 201)
		mustStatus(t, "a contact added by an analyst", w.req(t, p.poster, "POST", "/api/v1/crisis-contacts", []byte(`{"level":2,"channel":"email","target":"x@b.test"}`), "application/json"), 403)
		w.contactsUnchanged(t, s, "A")
	}
	writeCases["DELETE /api/v1/crisis-contacts/{id}"] = func(t *testing.T, w *world, p probe) {
		s := w.crises(t)
		lead := &viewerCase{name: "B's org-admin", m: mkMember(t, w.db, p.poster.m.org, "b-admin", cyberpact.RoleOrgAdmin)}
		hidden, fresh := fmt.Sprint(s.contacts["A"]), "999999"
		del := func(id string) answer { return w.req(t, lead, "DELETE", "/api/v1/crisis-contacts/"+id, nil, "") }
		sameAnswer(t, "removing A's contact", del(hidden), del(fresh), hidden, fresh)
		w.contactsUnchanged(t, s, "A")
	}
}

// crisesUnchanged fails unless the seeded crises are all open with
// nobody acknowledged (they were declared from the command line).
func (w *world) crisesUnchanged(t *testing.T, s *seededCrises) {
	t.Helper()
	for name, id := range s.ids {
		c, err := w.db.Crisis(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Open() {
			t.Errorf("crisis %s was ended", name)
		}
		for _, p := range c.Partners {
			if !p.Acked.IsZero() {
				t.Errorf("crisis %s was acknowledged for organisation %d", name, p.Org)
			}
		}
	}
	all, err := w.db.Crises(context.Background(), false)
	if err != nil || len(all) != len(s.ids) {
		t.Errorf("crises after the attempts: %d, %v; want %d", len(all), err, len(s.ids))
	}
}

func (w *world) contactsUnchanged(t *testing.T, s *seededCrises, org string) {
	t.Helper()
	cs, err := w.db.CrisisContacts(context.Background(), w.orgs[org].ID)
	if err != nil || len(cs) != 1 || cs[0].ID != s.contacts[org] {
		t.Errorf("%s's contacts after B's attempts: %v, %v", org, cs, err)
	}
}

// TestCrisisOverAPI declares, acknowledges and ends a crisis over the API
// with the roles that may, and refuses bad input and the roles that may
// not, changing nothing.
func TestCrisisOverAPI(t *testing.T) {
	db := openDB(t)
	a, b := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	g := mkGroup(t, db, "cell", a, b)
	analyst, lead := mkMember(t, db, a, "alice", cyberpact.RoleAnalyst), mkMember(t, db, a, "ann", cyberpact.RoleOrgAdmin)
	bob, blead := mkMember(t, db, b, "bob", cyberpact.RoleReader), mkMember(t, db, b, "bea", cyberpact.RoleOrgAdmin)
	id := uuidN("incident", 1)
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, TLP: cyberpact.TLPAmber},
		map[string]any{"type": "incident", "spec_version": "2.1", "id": id, "created": day(0), "modified": day(0), "name": "Pipeline ransomware"})
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber},
		map[string]any{"type": "campaign", "spec_version": "2.1", "id": uuidN("campaign", 1), "created": day(0), "modified": day(0), "name": "not an incident"})
	_, base := serve(t, db, nil)
	w := &world{db: db, base: base}
	as := func(m *member) *viewerCase { return &viewerCase{name: m.user.Name, m: m} }
	declare := func(m *member, body string) answer {
		return w.req(t, as(m), "POST", "/api/v1/crises", []byte(body), "application/json")
	}
	for _, tc := range []struct {
		name, body string
		m          *member
		status     int
		says       string
	}{
		{"AnalystRefused", `{"incident":"` + id + `"}`, analyst, 403, "org-admin of the incident's producer"},
		{"PartnerAdminRefused", `{"incident":"` + id + `"}`, blead, 403, "org-admin"},
		{"NotAnIncidentID", `{"incident":"` + uuidN("campaign", 1) + `"}`, lead, 400, "not a STIX incident id"},
		{"UnknownField", `{"incident":"` + id + `","after":"5m"}`, lead, 400, "unknown field"},
		{"BadDelay", `{"incident":"` + id + `","escalate_after":"soon"}`, lead, 400, "escalate_after"},
		{"DelayTooShort", `{"incident":"` + id + `","escalate_after":"5s"}`, lead, 400, "between 1 minute and 7 days"},
		{"UnknownIncident", `{"incident":"` + uuidN("incident", 2) + `"}`, lead, 404, "no incident"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := declare(tc.m, tc.body)
			mustStatus(t, tc.name, got, tc.status)
			if !strings.Contains(string(got.body), tc.says) {
				t.Errorf("%s: %s; want it to say %q", tc.name, got.body, tc.says)
			}
		})
	}
	if cs, _ := db.Crises(context.Background(), false); len(cs) != 0 {
		t.Fatalf("refused declarations stored %d crises", len(cs))
	}
	got := declare(lead, `{"incident":"`+id+`","escalate_after":"10m"}`)
	mustStatus(t, "declared", got, 201)
	var st alert.Status
	if err := json.Unmarshal(got.body, &st); err != nil {
		t.Fatal(err)
	}
	if st.IncidentName != "Pipeline ransomware" || st.EscalateAfter != "10m0s" || len(st.Partners) != 2 || st.Acknowledged != 1 {
		t.Errorf("status after declaring: %s", got.body)
	}
	mustStatus(t, "declared twice", declare(lead, `{"incident":"`+id+`"}`), 409)
	path := fmt.Sprintf("/api/v1/crises/%d", st.ID)
	got = w.req(t, as(bob), "POST", path+"/ack", nil, "")
	mustStatus(t, "acknowledged by B", got, 200)
	if err := json.Unmarshal(got.body, &st); err != nil || st.Acknowledged != 2 {
		t.Errorf("status after B acknowledges: %s", got.body)
	}
	for _, p := range st.Partners {
		if p.Org == "Org B" && (p.AckedBy != "bob" || p.AckedVia != "api") {
			t.Errorf("B's acknowledgement: %+v", p)
		}
	}
	mustStatus(t, "ended by B's org-admin", w.req(t, as(blead), "POST", path+"/end", nil, ""), 403)
	mustStatus(t, "ended by A's org-admin", w.req(t, as(lead), "POST", path+"/end", nil, ""), 200)
	mustStatus(t, "ended twice", w.req(t, as(lead), "POST", path+"/end", nil, ""), 409)
	mustStatus(t, "acknowledged after the end", w.req(t, as(analyst), "POST", path+"/ack", nil, ""), 409)
	got = w.req(t, as(bob), "GET", "/api/v1/crises?open=true", nil, "")
	if mustStatus(t, "open crises", got, 200); strings.Contains(string(got.body), id) {
		t.Errorf("the ended crisis is listed as open: %s", got.body)
	}
	mustStatus(t, "bad open", w.req(t, as(bob), "GET", "/api/v1/crises?open=maybe", nil, ""), 400)
	// Contacts: org-admins only; a bad one is refused saying why.
	mustStatus(t, "contact by a reader", w.req(t, as(bob), "POST", "/api/v1/crisis-contacts", []byte(`{"level":1,"channel":"email","target":"d@b.test"}`), "application/json"), 403)
	got = w.req(t, as(blead), "POST", "/api/v1/crisis-contacts", []byte(`{"level":0,"channel":"email","target":"d@b.test"}`), "application/json")
	if mustStatus(t, "contact of level 0", got, 400); !strings.Contains(string(got.body), "level 0") {
		t.Errorf("contact of level 0: %s", got.body)
	}
	got = w.req(t, as(blead), "POST", "/api/v1/crisis-contacts", []byte(`{"level":1,"channel":"webhook","target":"https://b.test/hook"}`), "application/json")
	mustStatus(t, "webhook contact", got, 201)
	if !strings.Contains(string(got.body), `"secret":"whsec_`) {
		t.Errorf("a webhook contact's secret is not shown at its creation: %s", got.body)
	}
	got = w.req(t, as(bob), "GET", "/api/v1/crisis-contacts", nil, "")
	if mustStatus(t, "contacts", got, 200); strings.Contains(string(got.body), "whsec_") || !strings.Contains(string(got.body), "https://b.test/hook") {
		t.Errorf("contacts list: %s", got.body)
	}
}

// TestCrisisOnLiveStream: a following stream tells its caller of each
// crisis that alerts its organisation (declared, then acknowledged), and
// never of one that does not: C, outside the first incident's audience,
// hears first of the second crisis, declared after it.
func TestCrisisOnLiveStream(t *testing.T) {
	db := openDB(t)
	a, b, c := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	g := mkGroup(t, db, "cell", a, b)
	bm, cm := mkMember(t, db, b, "bob", cyberpact.RoleAnalyst), mkMember(t, db, c, "carol", cyberpact.RoleAnalyst)
	x, y := uuidN("incident", 1), uuidN("incident", 2)
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, TLP: cyberpact.TLPAmber},
		map[string]any{"type": "incident", "spec_version": "2.1", "id": x, "created": day(0), "modified": day(0), "name": "Cell only"})
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen},
		map[string]any{"type": "incident", "spec_version": "2.1", "id": y, "created": day(0), "modified": day(0), "name": "Everyone"})
	srv, base := serve(t, db, nil)
	open := func(m *member) <-chan alert.Status {
		req, _ := http.NewRequest("GET", base+"/api/v1/stream", nil)
		req.SetBasicAuth(m.user.Name, m.key)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan alert.Status, 10)
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			event := ""
			for sc.Scan() {
				l := sc.Text()
				switch {
				case strings.HasPrefix(l, "event: "):
					event = l[len("event: "):]
				case strings.HasPrefix(l, "data: ") && event == "crisis":
					var st alert.Status
					json.Unmarshal([]byte(l[len("data: "):]), &st)
					out <- st
				}
			}
		}()
		return out
	}
	next := func(who string, ch <-chan alert.Status) alert.Status {
		t.Helper()
		select {
		case st := <-ch:
			return st
		case <-time.After(30 * time.Second):
			t.Fatalf("%s's stream told of no crisis", who)
		}
		return alert.Status{}
	}
	bs, cs := open(bm), open(cm)
	ctx := context.Background()
	cx, err := srv.Crises.Declare(ctx, nil, x, 0, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if st := next("B", bs); st.ID != cx.ID || st.Incident != x || st.Acknowledged != 0 {
		t.Errorf("B's first crisis event: %+v", st)
	}
	cy, err := srv.Crises.Declare(ctx, nil, y, 0, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if st := next("C", cs); st.ID != cy.ID || st.Incident != y {
		t.Errorf("C's first crisis event is not the crisis of its audience: %+v", st)
	}
	if st := next("B", bs); st.ID != cy.ID {
		t.Errorf("B's second crisis event: %+v", st)
	}
	if _, err := srv.Crises.Ack(ctx, nil, cx.ID, b.ID, "cli", "cli"); err != nil {
		t.Fatal(err)
	}
	if st := next("B", bs); st.ID != cx.ID || st.Acknowledged != 1 {
		t.Errorf("B's event after its acknowledgement: %+v", st)
	}
}
