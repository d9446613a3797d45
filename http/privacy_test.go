package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sensor"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/jackc/pgx/v5"
)

// --- the route matrix's cases for the privacy routes ------------------

// warrants gives each organisation of w one warrant, asked by its first
// member, once per world, and returns their ids by organisation name.
func (w *world) warrants(t *testing.T) map[string]int64 {
	t.Helper()
	if w.warrantIDs != nil {
		return w.warrantIDs
	}
	w.warrantIDs = map[string]int64{}
	for _, vc := range w.viewers {
		if vc.m == nil || vc.m.user.Role != cyberpact.RoleAnalyst {
			continue
		}
		name := strings.TrimPrefix(vc.m.org.Name, "Org ")
		if _, done := w.warrantIDs[name]; done {
			continue
		}
		wr := &cyberpact.Warrant{Kind: cyberpact.WarrantRelease, Target: w.ids[0], Justification: "the matrix asks for it", TTL: time.Hour}
		if err := w.db.RequestWarrant(context.Background(), wr, vc.m.p, "rest"); err != nil {
			t.Fatal(err)
		}
		w.warrantIDs[name] = wr.ID
	}
	return w.warrantIDs
}

// checkWarrants is the matrix's case of the warrant routes: anonymous
// callers get 401; a member lists, reads and may try to use only its own
// organisation's warrants (none of the world's members is an approver),
// and every warrant of another organisation answers as one that does not
// exist.
func (w *world) checkWarrants(t *testing.T, vc *viewerCase) {
	ids := w.warrants(t)
	if vc.m == nil {
		for _, rq := range [][2]string{{"GET", "/api/v1/warrants"}, {"GET", "/api/v1/warrants/1"}, {"POST", "/api/v1/warrants/1/approve"},
			{"POST", "/api/v1/warrants/1/refuse"}, {"POST", "/api/v1/warrants/1/unmask"}, {"GET", "/api/v1/warrants/1/object"},
			{"POST", "/api/v1/warrants"}, {"GET", "/api/v1/privacy/policies"}, {"PUT", "/api/v1/privacy/policies/default"},
			{"GET", "/api/v1/privacy/originals/" + w.ids[0]}} {
			mustStatus(t, "anonymous "+rq[0]+" "+rq[1], w.req(t, vc, rq[0], rq[1], nil, ""), 401)
		}
		return
	}
	mine := strings.TrimPrefix(vc.m.org.Name, "Org ")
	a := w.req(t, vc, "GET", "/api/v1/warrants", nil, "")
	mustStatus(t, "list", a, 200)
	var l struct{ Warrants []cyberpact.Warrant }
	json.Unmarshal(a.body, &l)
	for _, x := range l.Warrants {
		if x.Org != vc.m.org.ID {
			t.Errorf("%s lists warrant %d of another organisation", vc.name, x.ID)
		}
	}
	for org, id := range ids {
		base := fmt.Sprintf("/api/v1/warrants/%d", id)
		get := w.req(t, vc, "GET", base, nil, "")
		use := w.req(t, vc, "GET", base+"/object", nil, "")
		unmask := w.req(t, vc, "POST", base+"/unmask", nil, "")
		approve := w.req(t, vc, "POST", base+"/approve", nil, "")
		if org != mine {
			for what, x := range map[string]answer{"get": get, "use": use, "unmask": unmask, "approve": approve} {
				mustStatus(t, what+" of another organisation's warrant", x, 404)
			}
			continue
		}
		mustStatus(t, "own warrant", get, 200)
		mustStatus(t, "use before approval", use, 409)
		mustStatus(t, "unmask with a release warrant", unmask, 400)
		mustStatus(t, "approval by its organisation, no approver", approve, 403)
	}
	if wr, err := w.db.Warrant(context.Background(), ids[mine]); err != nil || wr.State != cyberpact.WarrantRequested {
		t.Errorf("after %s's attempts: %+v %v", vc.name, wr, err)
	}
}

func init() {
	for _, r := range []string{"GET /api/v1/warrants", "GET /api/v1/warrants/{id}", "POST /api/v1/warrants/{id}/approve",
		"POST /api/v1/warrants/{id}/refuse", "POST /api/v1/warrants/{id}/unmask", "GET /api/v1/warrants/{id}/object"} {
		leakCases[r] = func(t *testing.T, w *world, vc *viewerCase) { w.checkWarrants(t, vc) }
	}
	leakCases["POST /api/v1/warrants"] = func(t *testing.T, w *world, vc *viewerCase) {
		body := []byte(`{"kind":"release","target":"` + w.ids[1] + `","justification":"we must see it","ttl":"1h"}`)
		a := w.req(t, vc, "POST", "/api/v1/warrants", body, "application/json")
		if vc.m == nil {
			mustStatus(t, "anonymous request", a, 401)
			return
		}
		mustStatus(t, "request", a, 201)
		if bytes.Contains(a.body, []byte(`"state":"approved"`)) {
			t.Errorf("a request came back approved: %s", a.body)
		}
	}
	leakCases["GET /api/v1/privacy/policies"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/api/v1/privacy/policies", nil, "")
		if vc.m == nil {
			mustStatus(t, "anonymous policies", a, 401)
			return
		}
		mustStatus(t, "policies", a, 200)
	}
	leakCases["PUT /api/v1/privacy/policies/{group}"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "PUT", "/api/v1/privacy/policies/default", []byte(`{"detectors":"none"}`), "application/json")
		if vc.m == nil {
			mustStatus(t, "anonymous policy", a, 401)
			return
		}
		mustStatus(t, "policy by a member who is no hub admin", a, 403)
	}
	// The world redacts nothing: no organisation has an original of any
	// of its objects, and none reads another's.
	leakCases["GET /api/v1/privacy/originals/{id}"] = func(t *testing.T, w *world, vc *viewerCase) {
		for _, id := range w.ids {
			a := w.req(t, vc, "GET", "/api/v1/privacy/originals/"+id, nil, "")
			if vc.m == nil {
				mustStatus(t, "anonymous original", a, 401)
				return
			}
			mustStatus(t, "original of "+id, a, 404)
		}
	}

	// The write-path matrix: a target or warrant held out of the
	// poster's sight answers as a fresh one.
	withoutID := func(a answer) answer {
		var v map[string]any
		if json.Unmarshal(a.body, &v) == nil {
			delete(v, "id")
			delete(v, "created")
			a.body, _ = json.Marshal(v)
		}
		return a
	}
	writeCases["POST /api/v1/warrants"] = func(t *testing.T, w *world, p probe) {
		post := func(target string) answer {
			body, _ := json.Marshal(map[string]string{"kind": "release", "target": target, "justification": "B asks to see it", "ttl": "2h"})
			return withoutID(w.req(t, p.poster, "POST", "/api/v1/warrants", body, "application/json"))
		}
		sameAnswer(t, "a release warrant", post(p.hidden), post(p.fresh), p.hidden, p.fresh)
		sameAnswer(t, "a release warrant for an observable", post(p.hiddenIP), post(p.freshIP), p.hiddenIP, p.freshIP)
	}
	for _, op := range []string{"approve", "refuse", "unmask"} {
		writeCases["POST /api/v1/warrants/{id}/"+op] = func(t *testing.T, w *world, p probe) {
			var alice *member
			for _, vc := range w.viewers {
				if vc.name == "A" {
					alice = vc.m
				}
			}
			wr := &cyberpact.Warrant{Kind: cyberpact.WarrantUnmask, Target: "pd:email:0123456789abcdef0123456789abcdef", Justification: "A's own case", TTL: time.Hour}
			if err := w.db.RequestWarrant(context.Background(), wr, alice.p, "rest"); err != nil {
				t.Fatal(err)
			}
			post := func(id int64) answer {
				return w.req(t, p.poster, "POST", fmt.Sprintf("/api/v1/warrants/%d/%s", id, op), []byte(`{"reason":"probe"}`), "application/json")
			}
			hidden, fresh := fmt.Sprint(wr.ID), "999999"
			sameAnswer(t, op+" of A's warrant", post(wr.ID), post(999999), hidden, fresh)
			if got, err := w.db.Warrant(context.Background(), wr.ID); err != nil || got.State != cyberpact.WarrantRequested || got.Uses != 0 {
				t.Errorf("A's warrant after B's %s: %+v %v", op, got, err)
			}
		}
	}
	writeCases["PUT /api/v1/privacy/policies/{group}"] = func(t *testing.T, w *world, p probe) {
		put := func(group string) answer {
			return w.req(t, p.poster, "PUT", "/api/v1/privacy/policies/"+group, []byte(`{"detectors":"none"}`), "application/json")
		}
		sameAnswer(t, "a group's policy", put("G1"), put("NoSuchGroup"), "G1", "NoSuchGroup")
	}
}

// --- personal data on every route, both stores -----------------------

// pdStore is a store the personal-data walk runs on.
type pdStore interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
	cyberpact.AuditLog
	cyberpact.PrivacyStore
}

// openPG opens a PostgreSQL store in a fresh schema of
// CYBERPACT_TEST_POSTGRES, dropped when the test ends, or skips.
func openPG(t *testing.T) *postgres.DB {
	t.Helper()
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	if base == "" {
		t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	var r [6]byte
	rand.Read(r[:])
	schema := "t_" + hex.EncodeToString(r[:])
	exec := func(sql string) {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// pdHub is a hub with personal data published by A: a server over a
// store, members of A, B (A's partner in group G) and C, and the values
// that must never come out.
type pdHub struct {
	db      pdStore
	base    string
	members map[string]*member
	values  []string // the personal data and the guessable ids derived from it
	addrID  string   // the victim address's original id
	// incidentID is a joint incident whose description and note name
	// the victim.
	incidentID string
	// submitter is what would name Org D, which publishes anonymously
	// and nothing under its name: its identity and its id as producer.
	submitter []string
}

const (
	pdVictim  = "jane.doe@northbank-finance.example"
	pdPhone   = "+44 20 7946 0958"
	pdName    = "Laurent Dubois"
	pdLogin   = "jdoe.northbank"
	pdAttack  = "billing@secure-docs-portal.example"
	pdWarrant = "warrant-approver"
)

func newPDHub(t *testing.T, db pdStore) *pdHub {
	t.Helper()
	ctx := context.Background()
	h := &pdHub{db: db, members: map[string]*member{}}
	orgs := map[string]*cyberpact.Org{}
	for _, n := range []string{"A", "B", "C", "D"} {
		o := &cyberpact.Org{Name: "Org " + n, Nation: "GB", Sector: "finance"}
		if err := db.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
		orgs[n] = o
	}
	if err := db.CreateGroup(ctx, &cyberpact.Group{Name: "G", Orgs: []int64{orgs["A"].ID, orgs["B"].ID}}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, org string
		role      cyberpact.Role
	}{{"alice", "A", cyberpact.RoleAnalyst}, {"bob", "B", cyberpact.RoleAnalyst}, {"carol", "C", cyberpact.RoleAnalyst},
		{"reader", "A", cyberpact.RoleReader}, {"judge", "B", cyberpact.RoleAnalyst}, {"root", "C", cyberpact.RoleAdmin},
		{"dave", "D", cyberpact.RoleAnalyst}} {
		user := &cyberpact.User{Name: u.name, Org: orgs[u.org].ID, Role: u.role}
		if err := db.CreateUser(ctx, user, "test"); err != nil {
			t.Fatal(err)
		}
		key, _, err := db.CreateKey(ctx, user.ID, time.Time{}, "test")
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.Authenticate(ctx, "", key)
		if err != nil {
			t.Fatal(err)
		}
		h.members[u.name] = &member{org: orgs[u.org], user: user, key: key, p: p}
	}
	if err := db.AddWarrantApprover(ctx, "judge", "test"); err != nil {
		t.Fatal(err)
	}
	srv := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.Public = true
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		db.Close()
	})
	h.base = "http://" + srv.Addr()

	// A hub admin turns redaction on over REST.
	a := h.do(t, "root", "PUT", "/api/v1/privacy/policies/default", `{"detectors":"all"}`)
	if a.status != 200 {
		t.Fatalf("setting the policy: %d %s", a.status, a.body)
	}
	addr := map[string]any{"type": "email-addr", "spec_version": "2.1", "value": pdVictim, "display_name": "Jane Doe"}
	h.addrID, _ = stix.SCOID(addr)
	addr["id"] = h.addrID
	acct := map[string]any{"type": "user-account", "spec_version": "2.1", "account_login": pdLogin, "user_id": pdLogin}
	acctID, _ := stix.SCOID(acct)
	acct["id"] = acctID
	h.values = []string{pdVictim, pdPhone, pdName, "Dubois", pdLogin, "Jane Doe", h.addrID, acctID}
	obj := func(typ string, n int, extra map[string]any) map[string]any {
		o := map[string]any{"type": typ, "spec_version": "2.1", "id": uuidN(typ, n), "created": day(0), "modified": day(1)}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	ind := obj("indicator", 70001, map[string]any{"name": "lure sender", "pattern": "[email-addr:value = '" + pdAttack + "']", "pattern_type": "stix",
		"valid_from": day(0), "description": "Sender of the lure that reached " + pdVictim + "."})
	objs := []any{addr, acct, ind,
		obj("identity", 70002, map[string]any{"name": pdName, "identity_class": "individual", "contact_information": pdPhone}),
		obj("note", 70003, map[string]any{"content": "Victim " + pdName + " called the SOC on " + pdPhone + ".", "object_refs": []any{h.addrID}}),
		obj("relationship", 70004, map[string]any{"relationship_type": "related-to", "source_ref": uuidN("indicator", 70001), "target_ref": h.addrID}),
		obj("observed-data", 70005, map[string]any{"first_observed": day(0), "last_observed": day(0), "number_observed": 1, "object_refs": []any{h.addrID, acctID}}),
		obj("sighting", 70006, map[string]any{"sighting_of_ref": uuidN("indicator", 70001), "observed_data_refs": []any{uuidN("observed-data", 70005)},
			"description": "Seen in the mailbox of " + pdVictim}),
		obj("report", 70007, map[string]any{"name": "Lure against Northbank", "published": day(1), "report_types": []any{"campaign"},
			"description": "Our contact " + pdName + " (" + pdPhone + ") reported it.", "object_refs": []any{uuidN("indicator", 70001)}}),
	}
	for _, aud := range []string{"all", "group:G"} {
		body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuidN("x", 7)[3:], "objects": objs})
		if aud == "group:G" {
			// The same, shared with the group, under other ids.
			s := strings.NewReplacer("70001", "71001", "70002", "71002", "70003", "71003", "70004", "71004", "70005", "71005", "70006", "71006", "70007", "71007").Replace(string(body))
			body = []byte(strings.ReplaceAll(s, `"tlp"`, `"tlp"`))
		}
		a := h.do(t, "alice", "POST", "/api/v1/bundles?audience="+aud+"&tlp=green", string(body))
		if a.status != 200 {
			t.Fatalf("publishing to %s: %d %s", aud, a.status, a.body)
		}
	}
	// Org D publishes anonymously, to all members, an indicator its
	// identity created, a note naming the victim's phone number and its
	// sighting where it saw it: no route shows D (TestPersonalDataOnEveryRoute).
	dIdent := "identity--dddddddd-0000-4000-8000-00000000000d"
	h.submitter = []string{dIdent, fmt.Sprintf(`"producer":%d`, orgs["D"].ID), fmt.Sprintf(`"producer":"%d"`, orgs["D"].ID)}
	anon, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuidN("x", 8)[3:], "objects": []any{
		obj("indicator", 72001, map[string]any{"name": "anonymous lure sender", "pattern": "[ipv4-addr:value = '203.0.113.250']", "pattern_type": "stix",
			"valid_from": day(0), "created_by_ref": dIdent}),
		obj("note", 72002, map[string]any{"content": "The lure's victim called from " + pdPhone + ".", "object_refs": []any{uuidN("indicator", 72001)}, "created_by_ref": dIdent}),
		obj("sighting", 72003, map[string]any{"sighting_of_ref": uuidN("indicator", 72001), "where_sighted_refs": []any{dIdent}, "created_by_ref": dIdent}),
	}})
	if a := h.do(t, "dave", "POST", "/api/v1/bundles?anonymous=true&audience=all&tlp=green", string(anon)); a.status != 200 || !bytes.Contains(a.body, []byte(`"added":3`)) {
		t.Fatalf("D publishing anonymously: %d %s", a.status, a.body)
	}
	// A joint incident whose description and note name the victim.
	a = h.do(t, "alice", "POST", "/api/v1/incidents", `{"name":"Lure against Northbank","audience":"all","tlp":"green","description":"Reported by `+pdName+`, `+pdPhone+`."}`)
	var cs struct{ ID string }
	if json.Unmarshal(a.body, &cs); a.status != 201 || cs.ID == "" {
		t.Fatalf("opening the incident: %d %s", a.status, a.body)
	}
	h.incidentID = cs.ID
	if a := h.do(t, "alice", "POST", "/api/v1/incidents/"+cs.ID+"/notes", `{"content":"Mailbox of `+pdVictim+` wiped.","audience":"all","tlp":"green"}`); a.status != 201 {
		t.Fatalf("noting the incident: %d %s", a.status, a.body)
	}
	return h
}

// do sends a request as the member named (anonymous for "").
func (h *pdHub) do(t *testing.T, who, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if m := h.members[who]; m != nil {
		req.SetBasicAuth(m.user.Name, m.key)
	}
	if strings.HasPrefix(path, "/taxii2/") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		if method == "POST" {
			req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
		}
	} else if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b, header: resp.Header}
}

// redactedIDs returns the ids of everything who may list.
func (h *pdHub) redactedIDs(t *testing.T, who string) []string {
	t.Helper()
	a := h.do(t, who, "GET", "/api/v1/objects?limit=1000", "")
	var l struct{ Objects []struct{ ID string } }
	json.Unmarshal(a.body, &l)
	var out []string
	for _, o := range l.Objects {
		out = append(out, o.ID)
	}
	sort.Strings(out)
	return out
}

// pdRequests are the requests the walk sends for each route: every route
// of the server needs an entry (TestPersonalDataOnEveryRoute fails
// without one). ids are the ids the caller lists and the original ids;
// colls the TAXII collection ids.
func (h *pdHub) pdRequests(t *testing.T, who string) map[string][][3]string {
	ids := append(h.redactedIDs(t, who), h.addrID, uuidN("note", 70003))
	get := func(paths ...string) [][3]string {
		var out [][3]string
		for _, p := range paths {
			out = append(out, [3]string{"GET", p, ""})
		}
		return out
	}
	each := func(format string, extra ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, fmt.Sprintf(format, id))
		}
		return append(out, extra...)
	}
	colls := []string{cphttp.CollectionID("public"), cphttp.CollectionID("all")}
	for _, o := range []string{"A", "B", "C"} {
		colls = append(colls, cphttp.CollectionID(fmt.Sprintf("org:%d", h.members[strings.ToLower(map[string]string{"A": "alice", "B": "bob", "C": "carol"}[o])].org.ID)))
	}
	if groups, err := h.db.Groups(context.Background()); err == nil {
		for _, g := range groups {
			colls = append(colls, cphttp.CollectionID(fmt.Sprintf("group:%d", g.ID)))
		}
	}
	perColl := func(suffix string, perObject bool) []string {
		var out []string
		for _, c := range colls {
			if !perObject {
				out = append(out, "/taxii2/api1/collections/"+c+suffix)
				continue
			}
			for _, id := range ids {
				out = append(out, "/taxii2/api1/collections/"+c+"/objects/"+id+suffix)
			}
		}
		return out
	}
	var feeds []string
	for f := range sensor.Formats {
		feeds = append(feeds, "/api/v1/feeds/"+f+"?red=true")
	}
	feeds = append(feeds, "/api/v1/feeds/navigator")
	var misp []string
	var manifest map[string]any
	json.Unmarshal(h.do(t, who, "GET", "/api/v1/misp/manifest.json", "").body, &manifest)
	for k := range manifest {
		misp = append(misp, "/api/v1/misp/"+k+".json")
	}
	searches := []string{"/api/v1/objects?limit=1000", "/api/v1/objects?all_versions=true&limit=1000"}
	for _, q := range []string{"Dubois", "jane", "northbank", "7946", "jdoe", pdVictim} {
		searches = append(searches, "/api/v1/objects?text="+url.QueryEscape(q))
	}
	corr := []string{}
	for _, v := range []string{pdVictim, pdPhone, pdLogin} {
		corr = append(corr, "/api/v1/correlate?value="+url.QueryEscape(v))
	}
	valuesBody, _ := json.Marshal(map[string]any{"values": []string{pdVictim, pdPhone, pdLogin, pdName}})
	events := fmt.Sprintf("{\"email\":{\"to\":{\"address\":%q}},\"user\":{\"name\":%q}}\n", pdVictim, pdLogin)
	return map[string][][3]string{
		"GET /healthz":                                                      get("/healthz"),
		"GET /metrics":                                                      get("/metrics"),
		"/api/v1/":                                                          get("/api/v1/nothing"),
		"/taxii2/":                                                          get("/taxii2/nothing/"),
		"GET /api/v1/objects":                                               get(searches...),
		"GET /api/v1/objects/{id}":                                          get(each("/api/v1/objects/%s")...),
		"GET /api/v1/objects/{id}/versions":                                 get(each("/api/v1/objects/%s/versions")...),
		"GET /api/v1/objects/{id}/relationships":                            get(each("/api/v1/objects/%s/relationships")...),
		"POST /api/v1/bundles":                                              {{"POST", "/api/v1/bundles", `{"type":"bundle","id":"bundle--` + uuidN("x", 8)[3:] + `","objects":[]}`}},
		"GET /api/v1/stats":                                                 get("/api/v1/stats"),
		"GET /api/v1/stream":                                                get("/api/v1/stream?after=0&follow=false"),
		"GET /api/v1/correlate":                                             get(corr...),
		"POST /api/v1/correlate":                                            {{"POST", "/api/v1/correlate", string(valuesBody)}},
		"POST /api/v1/match":                                                {{"POST", "/api/v1/match", events}},
		"GET /api/v1/feeds/{format}":                                        get(feeds...),
		"GET /api/v1/misp/manifest.json":                                    get("/api/v1/misp/manifest.json"),
		"GET /api/v1/misp/hashes.csv":                                       get("/api/v1/misp/hashes.csv"),
		"GET /api/v1/misp/{event}":                                          get(misp...),
		"GET /api/v1/sources":                                               get("/api/v1/sources"),
		"GET /api/v1/sources/{name}":                                        get("/api/v1/sources/none"),
		"GET /api/v1/subscriptions":                                         get("/api/v1/subscriptions"),
		"GET /api/v1/subscriptions/{id}":                                    get("/api/v1/subscriptions/1"),
		"POST /api/v1/subscriptions":                                        {{"POST", "/api/v1/subscriptions", `{"event":"object","channel":"email","target":"soc@example.org"}`}},
		"DELETE /api/v1/subscriptions/{id}":                                 {{"DELETE", "/api/v1/subscriptions/999", ""}},
		"GET /api/v1/exercises":                                             get("/api/v1/exercises"),
		"GET /api/v1/exercises/{id}":                                        get("/api/v1/exercises/1"),
		"GET /api/v1/exercises/{id}/telemetry.jsonl":                        get("/api/v1/exercises/1/telemetry.jsonl"),
		"POST /api/v1/exercises/{id}/sightings":                             {{"POST", "/api/v1/exercises/1/sightings", `{}`}},
		"GET /api/v1/exercises/{id}/report.md":                              get("/api/v1/exercises/1/report.md"),
		"GET /api/v1/exercises/{id}/report.html":                            get("/api/v1/exercises/1/report.html"),
		"GET /api/v1/exercises/{id}/navigator.json":                         get("/api/v1/exercises/1/navigator.json"),
		"POST /api/v1/exercises":                                            {{"POST", "/api/v1/exercises", `{}`}},
		"GET /api/v1/exercises/{id}/status":                                 get("/api/v1/exercises/1/status"),
		"GET /api/v1/exercises/{id}/scoreboard":                             get("/api/v1/exercises/1/scoreboard"),
		"POST /api/v1/exercises/{id}/pause":                                 {{"POST", "/api/v1/exercises/1/pause", ""}},
		"POST /api/v1/exercises/{id}/resume":                                {{"POST", "/api/v1/exercises/1/resume", ""}},
		"POST /api/v1/exercises/{id}/stop":                                  {{"POST", "/api/v1/exercises/1/stop", ""}},
		"GET /taxii2/{$}":                                                   get("/taxii2/"),
		"GET /taxii2/api1/{$}":                                              get("/taxii2/api1/"),
		"GET /taxii2/api1/collections/{$}":                                  get("/taxii2/api1/collections/"),
		"GET /taxii2/api1/collections/{collection}/{$}":                     get(perColl("/", false)...),
		"GET /taxii2/api1/collections/{collection}/objects/{$}":             get(perColl("/objects/?limit=1000", false)...),
		"POST /taxii2/api1/collections/{collection}/objects/{$}":            {{"POST", "/taxii2/api1/collections/" + colls[1] + "/objects/", `{"objects":[]}`}},
		"GET /taxii2/api1/collections/{collection}/objects/{object}/{$}":    get(perColl("/", true)...),
		"DELETE /taxii2/api1/collections/{collection}/objects/{object}/{$}": {{"DELETE", "/taxii2/api1/collections/" + colls[1] + "/objects/" + uuidN("campaign", 9) + "/", ""}},
		"GET /taxii2/api1/collections/{collection}/objects/{object}/versions/{$}": get(perColl("/versions/", true)...),
		"GET /taxii2/api1/collections/{collection}/manifest/{$}":                  get(perColl("/manifest/", false)...),
		"GET /taxii2/api1/status/{status}/{$}":                                    get("/taxii2/api1/status/none/"),
		"GET /api/v1/privacy/policies":                                            get("/api/v1/privacy/policies"),
		"PUT /api/v1/privacy/policies/{group}":                                    {{"PUT", "/api/v1/privacy/policies/G", `{"detectors":"all"}`}},
		"GET /api/v1/privacy/originals/{id}":                                      get(each("/api/v1/privacy/originals/%s")...),
		"POST /api/v1/warrants":                                                   {{"POST", "/api/v1/warrants", `{"kind":"release","target":"` + ids[0] + `","justification":"walking every route"}`}},
		"GET /api/v1/warrants":                                                    get("/api/v1/warrants"),
		"GET /api/v1/warrants/{id}":                                               get("/api/v1/warrants/1", "/api/v1/warrants/2"),
		"POST /api/v1/warrants/{id}/approve":                                      {{"POST", "/api/v1/warrants/1/approve", ""}},
		"POST /api/v1/warrants/{id}/refuse":                                       {{"POST", "/api/v1/warrants/2/refuse", ""}},
		"POST /api/v1/warrants/{id}/unmask":                                       {{"POST", "/api/v1/warrants/1/unmask", ""}},
		"GET /api/v1/warrants/{id}/object":                                        get("/api/v1/warrants/1/object", "/api/v1/warrants/2/object"),
		"GET /api/v1/incidents":                                                   get("/api/v1/incidents"),
		"GET /api/v1/incidents/{id}":                                              get("/api/v1/incidents/" + h.incidentID),
		"POST /api/v1/incidents":                                                  {{"POST", "/api/v1/incidents", `{"name":"walk","audience":"all","tlp":"green"}`}},
		"PATCH /api/v1/incidents/{id}":                                            {{"PATCH", "/api/v1/incidents/" + h.incidentID, `{"based_on":"2000-01-01T00:00:00.000Z","status":"closed"}`}},
		"POST /api/v1/incidents/{id}/tasks":                                       {{"POST", "/api/v1/incidents/" + h.incidentID + "/tasks", `{"title":"walk"}`}},
		"PATCH /api/v1/incidents/{id}/tasks/{task}":                               {{"PATCH", "/api/v1/incidents/" + h.incidentID + "/tasks/x-cyberpact-task--00000000-0000-4000-8000-000000000001", `{"based_on":"2000-01-01T00:00:00.000Z","status":"done"}`}},
		"POST /api/v1/incidents/{id}/notes":                                       {{"POST", "/api/v1/incidents/" + h.incidentID + "/notes", `{"content":"walk"}`}},
		"POST /api/v1/incidents/{id}/requests":                                    {{"POST", "/api/v1/incidents/" + h.incidentID + "/requests", `{"kind":"analysis","addressed_to":"B"}`}},
		"POST /api/v1/incidents/{id}/requests/{rfa}/{decision}":                   {{"POST", "/api/v1/incidents/" + h.incidentID + "/requests/x-cyberpact-request--00000000-0000-4000-8000-000000000001/accept", ""}},
		"GET /api/v1/agreements":                                                  get("/api/v1/agreements", "/api/v1/agreements?history=true"),
		"GET /api/v1/agreements/{group}":                                          get("/api/v1/agreements/hub", "/api/v1/agreements/G"),
		"PUT /api/v1/agreements/{group}":                                          {{"PUT", "/api/v1/agreements/G", `{"purpose":"walking every route","tlp":["green","amber"]}`}},
		"GET /api/v1/objects/{id}/sighting-counts":                                get(each("/api/v1/objects/%s/sighting-counts")...),
		"POST /api/v1/crises":                                                     {{"POST", "/api/v1/crises", `{"incident":"` + uuidN("incident", 70009) + `"}`}},
		"GET /api/v1/crises":                                                      get("/api/v1/crises"),
		"GET /api/v1/crises/{id}":                                                 get("/api/v1/crises/1"),
		"POST /api/v1/crises/{id}/ack":                                            {{"POST", "/api/v1/crises/1/ack", ""}},
		"POST /api/v1/crises/{id}/end":                                            {{"POST", "/api/v1/crises/1/end", ""}},
		"GET /api/v1/crisis-contacts":                                             get("/api/v1/crisis-contacts"),
		"POST /api/v1/crisis-contacts":                                            {{"POST", "/api/v1/crisis-contacts", `{"level":1,"channel":"email","target":"duty@example.org"}`}},
		"DELETE /api/v1/crisis-contacts/{id}":                                     {{"DELETE", "/api/v1/crisis-contacts/999", ""}},
	}
}

// TestPersonalDataOnEveryRoute (issue 20): with redaction on, A publishes
// a victim's address, account, name and phone number, to all members and
// to its group, and D publishes anonymously. No route names D (its
// identity, its id as producer) to anyone, A included. On both stores, every route of the API and TAXII, asked by
// every member of B and C, A's reader, and anonymously, answers without
// the values, and without the ids derived from them (whose UUIDv5 anyone
// could compute from a guess): searches for them find nothing,
// correlation and matching know nothing of them, feeds, MISP events, the
// stream and TAXII hold only pseudonyms. A's own analyst reads the same,
// and the values only through its originals. A route without requests in
// pdRequests fails the test.
func TestPersonalDataOnEveryRoute(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			var db pdStore
			if store == "sqlite" {
				db = openDB(t)
			} else {
				db = openPG(t)
			}
			h := newPDHub(t, db)
			routes := cphttp.NewServer(db, nil).Routes()
			for _, who := range []string{"bob", "carol", "reader", "alice", ""} {
				reqs := h.pdRequests(t, who)
				if who != "" && !slices.Contains(h.redactedIDs(t, who), uuidN("note", 72002)) {
					t.Errorf("%s does not list D's anonymous note: the walk would not read it", who)
				}
				for _, route := range routes {
					if reqs[route] == nil {
						t.Errorf("route %q has no requests in pdRequests: every route must show it never serves personal data", route)
					}
				}
				sawPseudonym := false
				for route, rs := range reqs {
					for _, rq := range rs {
						a := h.do(t, who, rq[0], rq[1], rq[2])
						if (who == "alice" || who == "reader") && route == "GET /api/v1/privacy/originals/{id}" {
							continue // A's own originals
						}
						// What the request itself holds may come back (an
						// id in a 404, a value correlated): then nothing
						// else of it may, and no object may answer it.
						asked, _ := url.QueryUnescape(rq[1])
						asked += rq[2]
						body := a.body
						echoed := false
						for _, v := range h.values {
							if strings.Contains(asked, v) {
								body = bytes.ReplaceAll(body, []byte(v), nil)
								echoed = true
							}
						}
						for _, v := range h.values {
							if bytes.Contains(body, []byte(v)) {
								t.Errorf("%s: %s %s answers %d with %q: %.400s", who, rq[0], rq[1], a.status, v, a.body)
							}
						}
						for _, v := range h.submitter {
							if bytes.Contains(a.body, []byte(v)) {
								t.Errorf("%s: %s %s answers %d naming the anonymous submitter (%q): %.400s", who, rq[0], rq[1], a.status, v, a.body)
							}
						}
						if echoed && (route == "GET /api/v1/objects" || strings.Contains(route, "correlate")) && bytes.Contains(body, []byte("--")) {
							t.Errorf("%s: %s %s finds objects by personal data: %.400s", who, rq[0], rq[1], a.body)
						}
						sawPseudonym = sawPseudonym || bytes.Contains(a.body, []byte("pd:email:"))
					}
				}
				if who != "" && !sawPseudonym {
					t.Errorf("%s saw no pseudonym anywhere: the walk reads nothing", who)
				}
			}
			// Partners correlate the pseudonym: "the same victim address".
			var ps string
			for _, f := range strings.Split(string(h.do(t, "carol", "GET", "/api/v1/objects?type=email-addr", "").body), `"`) {
				if strings.HasPrefix(f, "pd:email:") {
					ps = f
				}
			}
			if a := h.do(t, "carol", "GET", "/api/v1/correlate?value="+ps, ""); ps == "" || !bytes.Contains(a.body, []byte(`"type":"email-addr"`)) {
				t.Errorf("correlating the pseudonym %q finds nothing: %s", ps, a.body)
			}
			// The producer's organisation reads its originals.
			var addr string
			for _, id := range h.redactedIDs(t, "alice") {
				if strings.HasPrefix(id, "email-addr--") {
					addr = id
				}
			}
			if a := h.do(t, "alice", "GET", "/api/v1/privacy/originals/"+addr, ""); a.status != 200 || !bytes.Contains(a.body, []byte(pdVictim)) {
				t.Errorf("alice's original of %s: %d %s", addr, a.status, a.body)
			}
		})
	}
}

// TestWarrantFlowOverREST (issue 20): C's analyst asks to unmask the
// victim's pseudonym she reads; her own approval is refused; a warrant
// approver of B approves; she unmasks, once; the audit log holds every
// step and verifies.
func TestWarrantFlowOverREST(t *testing.T) {
	h := newPDHub(t, openDB(t))
	var ps string
	for _, line := range strings.Split(string(h.do(t, "carol", "GET", "/api/v1/objects?type=email-addr", "").body), `"`) {
		if strings.HasPrefix(line, "pd:email:") {
			ps = line
		}
	}
	if ps == "" {
		t.Fatal("carol reads no pseudonymous address")
	}
	for _, bad := range []struct{ body, says string }{
		{`{"kind":"unmask","target":"` + ps + `","justification":"x"}`, "justification"},
		{`{"kind":"unmask","target":"` + ps + `","justification":"incident 7 victim notice","ttl":"forever"}`, `forever`},
		{`{"kind":"peek","target":"` + ps + `","justification":"incident 7 victim notice"}`, "unmask or release"},
		{`{"kind":"unmask","target":"jane","justification":"incident 7 victim notice"}`, "not a pseudonym"},
		{`{"kind":"unmask","tgt":"x"}`, "unknown field"},
	} {
		a := h.do(t, "carol", "POST", "/api/v1/warrants", bad.body)
		if a.status != 400 || !bytes.Contains(a.body, []byte(bad.says)) {
			t.Errorf("%s: %d %s, want 400 saying %q", bad.body, a.status, a.body, bad.says)
		}
	}
	a := h.do(t, "carol", "POST", "/api/v1/warrants", `{"kind":"unmask","target":"`+ps+`","justification":"Incident 7: the victim must be told","ttl":"2h"}`)
	var wr cyberpact.Warrant
	if json.Unmarshal(a.body, &wr); a.status != 201 || wr.State != cyberpact.WarrantRequested {
		t.Fatalf("request: %d %s", a.status, a.body)
	}
	path := fmt.Sprintf("/api/v1/warrants/%d", wr.ID)
	if a := h.do(t, "carol", "POST", path+"/unmask", ""); a.status != 409 {
		t.Errorf("unmask before approval: %d %s", a.status, a.body)
	}
	if a := h.do(t, "carol", "POST", path+"/approve", ""); a.status != 403 || !bytes.Contains(a.body, []byte("you asked for it")) {
		t.Errorf("self-approval: %d %s", a.status, a.body)
	}
	if a := h.do(t, "bob", "POST", path+"/approve", ""); a.status != 404 {
		t.Errorf("approval by a member of another organisation who is no approver: %d %s", a.status, a.body)
	}
	if a := h.do(t, "judge", "GET", "/api/v1/warrants", ""); !bytes.Contains(a.body, []byte(ps)) {
		t.Errorf("the approver does not list the request: %s", a.body)
	}
	if a := h.do(t, "judge", "POST", path+"/approve", `{"reason":"necessary and proportionate"}`); a.status != 200 || !bytes.Contains(a.body, []byte(`"state":"approved"`)) {
		t.Fatalf("approval: %d %s", a.status, a.body)
	}
	a = h.do(t, "carol", "POST", path+"/unmask", "")
	if a.status != 200 || !bytes.Contains(a.body, []byte(pdVictim)) {
		t.Errorf("unmask: %d %s", a.status, a.body)
	}
	if a := h.do(t, "bob", "POST", path+"/unmask", ""); a.status != 404 {
		t.Errorf("unmask by another organisation: %d %s", a.status, a.body)
	}
	es, err := h.db.AuditEntries(context.Background(), cyberpact.AuditFilter{Action: cyberpact.AuditWarrant})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range es {
		steps = append(steps, e.Actor+" "+e.Via+": "+e.Detail)
		if strings.Contains(e.Detail, pdVictim) {
			t.Errorf("the audit log holds the value: %s", e.Detail)
		}
	}
	log := strings.Join(steps, "\n")
	for _, want := range []string{"carol rest: warrant 1 (unmask " + ps + ") requested", "carol rest: warrant 1 (unmask " + ps + "): approval denied",
		"judge rest: warrant 1 (unmask " + ps + ") approved until", "carol rest: warrant 1 (unmask " + ps + ") used by carol"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, log)
		}
	}
	if n, err := h.db.VerifyAudit(context.Background()); err != nil || n != 0 {
		t.Errorf("audit verify: %d %v", n, err)
	}
}
