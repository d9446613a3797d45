package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// seedVersion is one object version of the leak matrix and how it was
// released.
type seedVersion struct {
	id, typ  string
	modified string // as in the JSON
	release  cyberpact.Release
	target   string // a relationship's target_ref
}

// world is the seeded partnership of the route-matrix leak test: three
// organisations (C in no group), two groups (G1 = {A, B}, G2 = {B}),
// versions for every producer, audience and TLP level, relationships from
// an anchor visible to all members to each of them, and the model of what
// each viewer may see, from cyberpact.MaySee alone.
type world struct {
	db         *sqlite.DB
	base       string
	orgs       map[string]*cyberpact.Org
	groups     map[string]*cyberpact.Group
	viewers    []*viewerCase
	versions   []seedVersion
	ids        []string
	anchor     string
	colls      map[string]*cyberpact.Audience // collection name -> audience (nil: public)
	collIDs    map[string]string              // collection name -> id
	statusIDs  map[int64]string               // org -> a status it posted
	split      map[string]bool                // the objects named "... split", whose versions went to different audiences
	ex         *worldExercise                 // the exercise A and B played (exercise_leak_test.go)
	feedIPs    map[string]string              // indicator id -> the address it tests, for the feeds
	incidents  []*worldIncident               // the joint incidents (incidents_leak_test.go)
	warrantIDs map[string]int64               // org name -> a warrant it asked for (privacy_test.go)
}

// viewerCase is one caller of the matrix: a member (m) or anonymous.
type viewerCase struct {
	name string
	m    *member
}

func (vc *viewerCase) viewer() cyberpact.Viewer {
	if vc.m == nil {
		return cyberpact.Viewer{Public: true}
	}
	return vc.m.p.Viewer()
}

var tlps = []cyberpact.TLP{cyberpact.TLPClear, cyberpact.TLPGreen, cyberpact.TLPAmber, cyberpact.TLPAmberStrict, cyberpact.TLPRed}

func uuidN(prefix string, n int) string {
	return fmt.Sprintf("%s--%08x-0000-4000-8000-%012x", prefix, n, n)
}

func day(d int) string {
	return time.Date(2026, 1, 1+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
}

// importAs imports objs with one release.
func importAs(t testing.TB, db *sqlite.DB, rel cyberpact.Release, objs ...map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuidN("x", 1)[3:], "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(raw))
	defer dec.Close()
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: rel.Producer, Audience: rel.Audience, DefaultTLP: rel.TLP})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("seeding: %v %+v", err, res)
	}
}

func newWorld(t *testing.T) *world {
	ctx := context.Background()
	db := openDB(t)
	w := &world{db: db, orgs: map[string]*cyberpact.Org{}, groups: map[string]*cyberpact.Group{}, statusIDs: map[int64]string{}, split: map[string]bool{}}
	for _, n := range []string{"A", "B", "C"} {
		w.orgs[n] = mkOrg(t, db, "Org "+n)
	}
	w.groups["G1"] = mkGroup(t, db, "G1", w.orgs["A"], w.orgs["B"])
	w.groups["G2"] = mkGroup(t, db, "G2", w.orgs["B"])
	// Markings beside TLP: A is of GB and cleared to WORLD-CLASS 2, B of
	// the US cleared to 1, C of JP and not cleared. G2's agreement
	// releases what is shared with it to JP by default, so that B sees
	// only its own objects there.
	for n, nation := range map[string]string{"A": "GB", "B": "US", "C": "JP"} {
		o := &cyberpact.Org{ID: w.orgs[n].ID, Nation: nation}
		if err := db.SetOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
		w.orgs[n] = o
	}
	if err := db.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "WORLD-CLASS", Levels: []string{"LOW", "HIGH"}}, "test"); err != nil {
		t.Fatal(err)
	}
	for n, l := range map[string]int{"A": 2, "B": 1} {
		if err := db.SetClearance(ctx, w.orgs[n].ID, "WORLD-CLASS", l, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetAgreement(ctx, &cyberpact.Agreement{Group: w.groups["G2"].ID, Purpose: "G2", RelNations: []string{"JP"}}, "test"); err != nil {
		t.Fatal(err)
	}
	// The marking definitions, stored by the hub and shown to no one.
	markingIDs := map[string]string{}
	var defs []map[string]any
	for i, m := range []struct {
		name string
		ext  map[string]any
	}{
		{"REL TO US", map[string]any{"rel_nations": []any{"US"}}},
		{"REL TO GB, JP", map[string]any{"rel_nations": []any{"GB", "JP"}}},
		{"PAP:RED", map[string]any{"pap": "red"}},
		{"WORLD-CLASS LOW", map[string]any{"marking_set": "WORLD-CLASS", "level": 1}},
		{"WORLD-CLASS HIGH", map[string]any{"marking_set": "WORLD-CLASS", "level": 2}},
	} {
		m.ext["extension_type"] = "property-extension"
		markingIDs[m.name] = uuidN("marking-definition", 900+i)
		defs = append(defs, map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": markingIDs[m.name], "created": day(0),
			"name": m.name, "extensions": map[string]any{cyberpact.MarkingExtension: m.ext}})
	}
	importAs(t, db, cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber}, defs...)
	terms, err := db.Terms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.viewers = []*viewerCase{
		{"A", mkMember(t, db, w.orgs["A"], "alice", cyberpact.RoleAnalyst)},
		{"B", mkMember(t, db, w.orgs["B"], "bob", cyberpact.RoleAnalyst)},
		{"C", mkMember(t, db, w.orgs["C"], "carol", cyberpact.RoleAnalyst)},
		{"ReaderA", mkMember(t, db, w.orgs["A"], "reader", cyberpact.RoleReader)},
		{"Anonymous", nil},
	}
	audiences := map[string]cyberpact.Audience{
		"org": {Kind: cyberpact.AudienceOrg},
		"G1":  {Kind: cyberpact.AudienceGroup, Group: w.groups["G1"].ID},
		"G2":  {Kind: cyberpact.AudienceGroup, Group: w.groups["G2"].ID},
		"all": {Kind: cyberpact.AudienceAll},
	}
	add := func(typ string, n int, mod int, rel cyberpact.Release, extra map[string]any) {
		o := map[string]any{"type": typ, "spec_version": "2.1", "id": uuidN(typ, n), "created": day(0), "modified": day(mod)}
		for k, v := range extra {
			o[k] = v
		}
		importAs(t, db, rel, o)
		// The release the store gave it: its markings and its agreement's.
		var refs []string
		if ms, ok := extra["object_marking_refs"].([]any); ok {
			for _, m := range ms {
				refs = append(refs, m.(string))
			}
		}
		rel, rej := terms.Mark(&cyberpact.Object{ID: o["id"].(string), Type: typ, MarkingRefs: refs}, rel)
		if rej != nil {
			t.Fatalf("seeding: %v", rej)
		}
		sv := seedVersion{id: o["id"].(string), typ: typ, modified: day(mod), release: rel}
		if tr, ok := extra["target_ref"].(string); ok {
			sv.target = tr
		}
		w.versions = append(w.versions, sv)
	}
	// The anchor every member sees.
	anchorRel := cyberpact.Release{Producer: w.orgs["A"].ID, Audience: audiences["all"], TLP: cyberpact.TLPClear}
	add("identity", 1, 0, anchorRel, map[string]any{"name": "anchor", "identity_class": "organization"})
	w.anchor = uuidN("identity", 1)
	n := 0
	for _, prod := range []string{"A", "B", "C"} {
		for _, audName := range []string{"org", "G1", "G2", "all"} {
			for _, tlp := range tlps {
				rel := cyberpact.Release{Producer: w.orgs[prod].ID, Audience: audiences[audName], TLP: tlp}
				if cyberpact.RefuseRelease(rel) != "" {
					continue
				}
				n++
				name := fmt.Sprintf("%s %s %s", prod, audName, tlp)
				add("campaign", n, 1, rel, map[string]any{"name": name})
				add("campaign", n, 2, rel, map[string]any{"name": name + " v2"})
				add("relationship", n, 1, cyberpact.Release{Producer: w.orgs["A"].ID, Audience: audiences["all"], TLP: cyberpact.TLPGreen},
					map[string]any{"relationship_type": "related-to", "source_ref": w.anchor, "target_ref": uuidN("campaign", n)})
			}
		}
		// An object whose versions went to different audiences: the first
		// to all members, the second kept private.
		n++
		add("campaign", n, 1, cyberpact.Release{Producer: w.orgs[prod].ID, Audience: audiences["all"], TLP: cyberpact.TLPGreen}, map[string]any{"name": prod + " split"})
		add("campaign", n, 2, cyberpact.Release{Producer: w.orgs[prod].ID, Audience: audiences["org"], TLP: cyberpact.TLPAmber}, map[string]any{"name": prod + " split v2"})
		w.split[uuidN("campaign", n)] = true
	}
	// An indicator of one address for every release by A and B, for the
	// feeds.
	w.feedIPs = map[string]string{}
	for _, prod := range []string{"A", "B"} {
		for _, audName := range []string{"org", "G1", "G2", "all"} {
			for _, tlp := range tlps {
				rel := cyberpact.Release{Producer: w.orgs[prod].ID, Audience: audiences[audName], TLP: tlp}
				if cyberpact.RefuseRelease(rel) != "" {
					continue
				}
				n++
				ip := fmt.Sprintf("198.18.%d.%d", n/256, n%256)
				add("indicator", n, 1, rel, map[string]any{"name": fmt.Sprintf("%s %s %s", prod, audName, tlp),
					"pattern": "[ipv4-addr:value = '" + ip + "']", "pattern_type": "stix", "valid_from": day(0)})
				w.feedIPs[uuidN("indicator", n)] = ip
			}
		}
	}
	w.addIncidents(t, audiences, add)
	// Objects marked beside TLP, by A and B to all members: releasable to
	// nations, PAP:RED (never in feeds), levels of the marking set; and
	// one to G1 releasable to the US only. Indicators, for the feeds too.
	for _, prod := range []string{"A", "B"} {
		for _, mk := range []string{"REL TO US", "REL TO GB, JP", "PAP:RED", "WORLD-CLASS LOW", "WORLD-CLASS HIGH"} {
			for _, au := range []string{"all", "G1"} {
				n++
				ip := fmt.Sprintf("198.18.%d.%d", n/256, n%256)
				rel := cyberpact.Release{Producer: w.orgs[prod].ID, Audience: audiences[au], TLP: cyberpact.TLPGreen}
				add("indicator", n, 1, rel, map[string]any{"name": fmt.Sprintf("%s %s %s", prod, au, mk), "object_marking_refs": []any{markingIDs[mk]},
					"pattern": "[ipv4-addr:value = '" + ip + "']", "pattern_type": "stix", "valid_from": day(0)})
				w.feedIPs[uuidN("indicator", n)] = ip
				n++
				add("campaign", n, 1, rel, map[string]any{"name": fmt.Sprintf("%s %s %s", prod, au, mk), "object_marking_refs": []any{markingIDs[mk]}})
			}
		}
	}
	w.addCrises(t) // crisis_test.go
	seen := map[string]bool{}
	for _, v := range w.versions {
		if !seen[v.id] {
			seen[v.id] = true
			w.ids = append(w.ids, v.id)
		}
	}
	w.colls = map[string]*cyberpact.Audience{"public": nil}
	w.collIDs = map[string]string{"public": cphttp.CollectionID("public")}
	for name, au := range audiences {
		switch name {
		case "org":
			for on, o := range w.orgs {
				cn := "org:" + on
				w.colls[cn] = &cyberpact.Audience{Kind: cyberpact.AudienceOrg}
				w.collIDs[cn] = cphttp.CollectionID(fmt.Sprintf("org:%d", o.ID))
			}
		case "all":
			w.colls["all"] = &au
			w.collIDs["all"] = cphttp.CollectionID("all")
		default:
			au := au
			w.colls[name] = &au
			w.collIDs[name] = cphttp.CollectionID(fmt.Sprintf("group:%d", au.Group))
		}
	}
	for _, o := range w.orgs {
		st := &cyberpact.Status{ID: fmt.Sprintf("status-of-%d", o.ID), Org: o.ID, Status: "complete"}
		if err := db.CreateStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
		w.statusIDs[o.ID] = st.ID
	}
	w.addExercise(t)
	_, w.base = serve(t, db, func(s *cphttp.Server) { s.Public = true })
	return w
}

// --- the model -------------------------------------------------------

// sees is the model of the rule: MaySee, and a relationship only when its
// target is held in a version both the viewer and the relationship's
// producer may see (cyberpact.EndVisible).
func (w *world) sees(v cyberpact.Viewer, x seedVersion) bool {
	if !cyberpact.MaySee(v, x.release) {
		return false
	}
	if x.target == "" {
		return true
	}
	// The world holds each id once: every version of it is in one holding.
	var end []cyberpact.Holding
	for _, y := range w.versions {
		if y.id == x.target {
			end = append(end, cyberpact.Holding{Holding: 1, Release: y.release})
		}
	}
	return cyberpact.EndVisible(v, w.orgViewer(x.release.Producer), end)
}

// orgViewer is organisation org with its groups, as the model knows them.
func (w *world) orgViewer(org int64) cyberpact.Viewer {
	v := cyberpact.Viewer{Org: org}
	for _, g := range w.groups {
		if slices.Contains(g.Orgs, org) {
			v.Groups = append(v.Groups, g.ID)
		}
	}
	slices.Sort(v.Groups)
	return v
}

// inColl reports whether x is in the collection of audience au as read by
// v (au nil: no audience restriction).
func inColl(x seedVersion, au *cyberpact.Audience) bool {
	return au == nil || x.release.Audience == *au
}

// expect returns what v may see as "id@modified": every visible version
// (all) or each id's latest visible one, optionally within a collection
// audience and for one id.
func (w *world) expect(v cyberpact.Viewer, au *cyberpact.Audience, all bool, id string) map[string]bool {
	latest := map[string]string{}
	out := map[string]bool{}
	for _, x := range w.versions {
		if (id != "" && x.id != id) || !w.sees(v, x) || !inColl(x, au) {
			continue
		}
		if all {
			out[x.id+"@"+x.modified] = true
		} else if m, ok := latest[x.id]; !ok || x.modified > m {
			latest[x.id] = x.modified
		}
	}
	for id, m := range latest {
		out[id+"@"+m] = true
	}
	return out
}

// collectionVisible reports whether viewer vc may see collection name.
func (w *world) collectionVisible(vc *viewerCase, name string) bool {
	switch {
	case name == "public":
		return true
	case vc.m == nil:
		return false
	case strings.HasPrefix(name, "exercise:"):
		return w.exerciseCollectionVisible(vc, name)
	case name == "all":
		return true
	case strings.HasPrefix(name, "org:"):
		return w.orgs[strings.TrimPrefix(name, "org:")].ID == vc.m.org.ID
	}
	return vc.m.p.Viewer().InGroup(w.groups[name].ID)
}

// collViewer is how a collection reads: the public one as a public viewer.
func (w *world) collViewer(vc *viewerCase, name string) cyberpact.Viewer {
	if v, ok := w.exerciseCollViewer(vc, name); ok {
		return v
	}
	if name == "public" {
		return cyberpact.Viewer{Public: true}
	}
	return vc.viewer()
}

// --- requests ----------------------------------------------------------

type answer struct {
	status int
	body   []byte
	header http.Header
}

func (w *world) req(t *testing.T, vc *viewerCase, method, path string, body []byte, ctype string) answer {
	t.Helper()
	req, err := http.NewRequest(method, w.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if vc.m != nil {
		req.SetBasicAuth(vc.m.user.Name, vc.m.key)
	}
	if strings.HasPrefix(path, "/taxii2/") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == 403 && method == "GET" && path != "/metrics" {
		t.Errorf("%s %s as %s: 403 on a read; an object one may not see is 404", method, path, vc.name)
	}
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s as %s: %d %s", method, path, vc.name, resp.StatusCode, data)
	}
	return answer{resp.StatusCode, data, resp.Header}
}

// versionsIn reads the "id@modified" of the objects of a JSON answer
// holding an "objects" array.
func versionsIn(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	var l struct {
		Objects []struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
			Version  string `json:"version"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("answer is not a list of objects: %v: %.300s", err, body)
	}
	out := map[string]bool{}
	for _, o := range l.Objects {
		m := o.Modified
		if m == "" {
			m = o.Version
		}
		out[o.ID+"@"+m] = true
	}
	return out
}

func sameSet(t *testing.T, what string, got, want map[string]bool) {
	t.Helper()
	if strings.Contains(what, "exercise:") {
		got, want = idsOnly(got), idsOnly(want)
	}
	var extra, missing []string
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(extra)
	sort.Strings(missing)
	if len(extra) > 0 {
		t.Errorf("%s: LEAK, shown but may not be seen: %v", what, extra)
	}
	if len(missing) > 0 {
		t.Errorf("%s: missing: %v", what, missing)
	}
}

// noSeededIDs checks that an answer names none of the seeded objects.
func (w *world) noSeededIDs(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, id := range w.ids {
		if bytes.Contains(body, []byte(id)) {
			t.Errorf("%s: names %s", what, id)
		}
	}
}

// mustStatus checks an answer's status.
func mustStatus(t *testing.T, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Errorf("%s: status %d, want %d: %.300s", what, a.status, want, a.body)
	}
}

// leakCases has one check per registered route: every (viewer, object)
// pair of the world must appear or exist on it exactly when the model
// says so. A route without a case fails TestRouteMatrixNeverLeaks.
var leakCases = map[string]func(t *testing.T, w *world, vc *viewerCase){
	"GET /healthz": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/healthz", nil, "")
		mustStatus(t, "healthz", a, 200)
		w.noSeededIDs(t, "healthz", a.body)
	},
	"GET /metrics": func(t *testing.T, w *world, vc *viewerCase) {
		// Hub admins only (TestMetricsNeedAdmin); no viewer here is one.
		a := w.req(t, vc, "GET", "/metrics", nil, "")
		if vc.m == nil {
			mustStatus(t, "anonymous metrics", a, 401)
		} else {
			mustStatus(t, "metrics", a, 403)
		}
		w.noSeededIDs(t, "metrics", a.body)
	},
	"GET /api/v1/objects": func(t *testing.T, w *world, vc *viewerCase) {
		if vc.m == nil {
			mustStatus(t, "anonymous list", w.req(t, vc, "GET", "/api/v1/objects", nil, ""), 401)
			return
		}
		v := vc.viewer()
		a := w.req(t, vc, "GET", "/api/v1/objects?limit=10000", nil, "")
		sameSet(t, "list", versionsIn(t, a.body), w.expect(v, nil, false, ""))
		a = w.req(t, vc, "GET", "/api/v1/objects?limit=10000&all_versions=true", nil, "")
		sameSet(t, "list all versions", versionsIn(t, a.body), w.expect(v, nil, true, ""))
		a = w.req(t, vc, "GET", "/api/v1/objects?limit=10000&q=split", nil, "")
		want := map[string]bool{}
		for k := range w.expect(v, nil, false, "") {
			if id, _, _ := strings.Cut(k, "@"); w.split[id] {
				want[k] = true
			}
		}
		sameSet(t, "search", versionsIn(t, a.body), want)
	},
	"GET /api/v1/objects/{id}": func(t *testing.T, w *world, vc *viewerCase) {
		for _, id := range w.ids {
			a := w.req(t, vc, "GET", "/api/v1/objects/"+id, nil, "")
			w.checkOne(t, vc, "object "+id, a, w.expect(vc.viewer(), nil, false, id), func(b []byte) []byte { return []byte(`{"objects":[` + string(b) + `]}`) })
		}
	},
	"GET /api/v1/objects/{id}/versions": func(t *testing.T, w *world, vc *viewerCase) {
		for _, id := range w.ids {
			a := w.req(t, vc, "GET", "/api/v1/objects/"+id+"/versions", nil, "")
			w.checkOne(t, vc, "versions "+id, a, w.expect(vc.viewer(), nil, true, id), nil)
		}
	},
	"GET /api/v1/objects/{id}/relationships": func(t *testing.T, w *world, vc *viewerCase) {
		for _, id := range w.ids {
			a := w.req(t, vc, "GET", "/api/v1/objects/"+id+"/relationships?limit=10000", nil, "")
			if vc.m == nil {
				mustStatus(t, "anonymous relationships", a, 401)
				continue
			}
			if len(w.expect(vc.viewer(), nil, true, id)) == 0 {
				mustStatus(t, "relationships of unseen "+id, a, 404)
				continue
			}
			mustStatus(t, "relationships of "+id, a, 200)
			if id != w.anchor {
				continue
			}
			want := map[string]bool{}
			for k := range w.expect(vc.viewer(), nil, false, "") {
				if strings.HasPrefix(k, "relationship--") {
					want[k] = true
				}
			}
			sameSet(t, "anchor's relationships", versionsIn(t, a.body), want)
		}
	},
	"GET /api/v1/objects/{id}/sighting-counts": func(t *testing.T, w *world, vc *viewerCase) {
		// The counts of an object exist exactly where the object does, and
		// name no organisation.
		for _, id := range w.ids {
			a := w.req(t, vc, "GET", "/api/v1/objects/"+id+"/sighting-counts", nil, "")
			if vc.m == nil {
				mustStatus(t, "anonymous counts", a, 401)
				continue
			}
			if len(w.expect(vc.viewer(), nil, true, id)) == 0 {
				mustStatus(t, "counts of unseen "+id, a, 404)
				continue
			}
			mustStatus(t, "counts of "+id, a, 200)
			for n := range w.orgs {
				if strings.Contains(string(a.body), `"Org `+n+`"`) {
					t.Errorf("counts of %s name Org %s: %s", id, n, a.body)
				}
			}
		}
	},
	"POST /api/v1/bundles": func(t *testing.T, w *world, vc *viewerCase) {
		empty := []byte(`{"type":"bundle","id":"bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b","objects":[]}`)
		a := w.req(t, vc, "POST", "/api/v1/bundles", empty, "application/json")
		switch {
		case vc.m == nil:
			mustStatus(t, "anonymous post", a, 401)
		case !vc.m.user.Role.CanWrite():
			mustStatus(t, "reader post", a, 403)
		default:
			mustStatus(t, "post", a, 200)
		}
		w.noSeededIDs(t, "post", a.body)
	},
	"GET /api/v1/stream": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/api/v1/stream?after=0&follow=false", nil, "")
		if vc.m == nil {
			mustStatus(t, "anonymous stream", a, 401)
			return
		}
		// Turn the events into a list to compare: every version since the
		// cursor, as all_versions lists them.
		var objs []string
		for _, line := range strings.Split(string(a.body), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				objs = append(objs, data)
			}
		}
		body := []byte(`{"objects":[` + strings.Join(objs, ",") + `]}`)
		sameSet(t, "stream", versionsIn(t, body), w.expect(vc.viewer(), nil, true, ""))
	},
	"GET /api/v1/stats": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/api/v1/stats", nil, "")
		if vc.m == nil {
			mustStatus(t, "anonymous stats", a, 401)
			return
		}
		var got struct{ Types []cyberpact.TypeStats }
		json.Unmarshal(a.body, &got)
		counts := map[string]int64{}
		for _, ts := range got.Types {
			counts[ts.Type+" objects"] = ts.Objects
			counts[ts.Type+" versions"] = ts.Versions
		}
		want := map[string]int64{}
		ids := map[string]bool{}
		for k := range w.expect(vc.viewer(), nil, true, "") {
			id, _, _ := strings.Cut(k, "@")
			typ, _, _ := strings.Cut(id, "--")
			want[typ+" versions"]++
			if !ids[id] {
				ids[id] = true
				want[typ+" objects"]++
			}
		}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("stats: %v, want %v", counts, want)
		}
	},
	"GET /taxii2/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/taxii2/", nil, "")
		mustStatus(t, "discovery", a, 200)
		w.noSeededIDs(t, "discovery", a.body)
	},
	"GET /taxii2/api1/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/taxii2/api1/", nil, "")
		mustStatus(t, "api root", a, 200)
		w.noSeededIDs(t, "api root", a.body)
	},
	"GET /taxii2/api1/collections/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/taxii2/api1/collections/", nil, "")
		var got struct {
			Collections []struct {
				ID       string `json:"id"`
				CanWrite bool   `json:"can_write"`
			}
		}
		json.Unmarshal(a.body, &got)
		gotIDs, want := map[string]bool{}, map[string]bool{}
		for _, c := range got.Collections {
			gotIDs[c.ID] = true
			if c.CanWrite && (vc.m == nil || !vc.m.user.Role.CanWrite() || c.ID == w.collIDs["public"]) {
				t.Errorf("collection %s: can_write for %s", c.ID, vc.name)
			}
		}
		for name, id := range w.collIDs {
			if w.collectionVisible(vc, name) {
				want[id] = true
			}
		}
		sameSet(t, "collections", gotIDs, want)
	},
	"GET /taxii2/api1/collections/{collection}/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		for name, id := range w.collIDs {
			a := w.req(t, vc, "GET", "/taxii2/api1/collections/"+id+"/", nil, "")
			mustStatus(t, "collection "+name, a, map[bool]int{true: 200, false: 404}[w.collectionVisible(vc, name)])
		}
	},
	"GET /taxii2/api1/collections/{collection}/objects/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		w.eachCollection(t, vc, "/objects/?limit=10000", func(name string, a answer) {
			sameSet(t, "objects of "+name, versionsIn(t, a.body), w.expect(w.collViewer(vc, name), w.colls[name], false, ""))
		})
		w.eachCollection(t, vc, "/objects/?limit=10000&match[version]=all", func(name string, a answer) {
			sameSet(t, "all versions of "+name, versionsIn(t, a.body), w.expect(w.collViewer(vc, name), w.colls[name], true, ""))
		})
	},
	"POST /taxii2/api1/collections/{collection}/objects/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		for name, id := range w.collIDs {
			a := w.req(t, vc, "POST", "/taxii2/api1/collections/"+id+"/objects/", []byte(`{"objects":[]}`), "application/taxii+json;version=2.1")
			switch {
			case vc.m == nil:
				mustStatus(t, "anonymous post to "+name, a, 401)
			case !w.collectionVisible(vc, name):
				mustStatus(t, "post to unseen "+name, a, 404)
			case name == "public" || !vc.m.user.Role.CanWrite():
				mustStatus(t, "post to read-only "+name, a, 403)
			default:
				mustStatus(t, "post to "+name, a, 202)
			}
			w.noSeededIDs(t, "post", a.body)
		}
	},
	"GET /taxii2/api1/collections/{collection}/objects/{object}/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		w.eachObjectIn(t, vc, "/", func(name, id string, a answer) {
			w.checkOne(t, vc, name+" object "+id, a, w.expect(w.collViewer(vc, name), w.colls[name], false, id), nil)
		})
	},
	"DELETE /taxii2/api1/collections/{collection}/objects/{object}/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		if vc.m == nil {
			mustStatus(t, "anonymous delete", w.req(t, vc, "DELETE", "/taxii2/api1/collections/"+w.collIDs["public"]+"/objects/"+w.anchor+"/", nil, ""), 401)
			return
		}
		// Only others' objects: the producer's own delete is tested in
		// TestTAXIIClient, and would change the world.
		for name, cid := range w.collIDs {
			for _, id := range w.ids {
				if w.producedBy(id, vc.m.org.ID) {
					continue
				}
				a := w.req(t, vc, "DELETE", "/taxii2/api1/collections/"+cid+"/objects/"+id+"/", nil, "")
				switch {
				case !w.collectionVisible(vc, name) || len(w.expect(w.collViewer(vc, name), w.colls[name], true, id)) == 0:
					mustStatus(t, "delete of unseen "+id+" in "+name, a, 404)
				default:
					mustStatus(t, "delete of another's "+id+" in "+name, a, 403)
				}
			}
		}
	},
	"GET /taxii2/api1/collections/{collection}/objects/{object}/versions/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		w.eachObjectIn(t, vc, "/versions/", func(name, id string, a answer) {
			want := w.expect(w.collViewer(vc, name), w.colls[name], true, id)
			if len(want) == 0 {
				mustStatus(t, name+" versions of unseen "+id, a, 404)
				return
			}
			var got struct{ Versions []string }
			json.Unmarshal(a.body, &got)
			set := map[string]bool{}
			for _, v := range got.Versions {
				set[id+"@"+v] = true
			}
			sameSet(t, name+" versions of "+id, set, want)
		})
	},
	"GET /taxii2/api1/collections/{collection}/manifest/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		w.eachCollection(t, vc, "/manifest/?limit=10000&match[version]=all", func(name string, a answer) {
			sameSet(t, "manifest of "+name, versionsIn(t, a.body), w.expect(w.collViewer(vc, name), w.colls[name], true, ""))
		})
	},
	"GET /taxii2/api1/status/{status}/{$}": func(t *testing.T, w *world, vc *viewerCase) {
		for org, sid := range w.statusIDs {
			a := w.req(t, vc, "GET", "/taxii2/api1/status/"+sid+"/", nil, "")
			switch {
			case vc.m == nil:
				mustStatus(t, "anonymous status", a, 401)
			case vc.m.org.ID == org:
				mustStatus(t, "own status", a, 200)
			default:
				mustStatus(t, "another's status", a, 404)
			}
		}
	},
	"GET /api/v1/feeds/{format}": func(t *testing.T, w *world, vc *viewerCase) {
		if vc.m == nil {
			mustStatus(t, "anonymous feed", w.req(t, vc, "GET", "/api/v1/feeds/blocklist-ip", nil, ""), 401)
			return
		}
		v := vc.viewer()
		// What the feed may hold: the indicators the viewer sees, without
		// TLP:RED unless asked for, never PAP:RED.
		want := func(red bool, au *cyberpact.Audience) (ips, ids map[string]bool) {
			ips, ids = map[string]bool{}, map[string]bool{}
			for k := range w.expect(v, au, false, "") {
				id, _, _ := strings.Cut(k, "@")
				if ip, ok := w.feedIPs[id]; ok && (red || w.release(k).TLP != cyberpact.TLPRed) && w.release(k).Marks.PAP() != cyberpact.PAPRed {
					ips[ip], ids[id] = true, true
				}
			}
			return ips, ids
		}
		lines := func(b []byte) map[string]bool {
			out := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if l != "" {
					out[l] = true
				}
			}
			return out
		}
		for _, red := range []bool{false, true} {
			path := "/api/v1/feeds/blocklist-ip"
			if red {
				path += "?max_tlp=red"
			}
			a := w.req(t, vc, "GET", path, nil, "")
			mustStatus(t, path, a, 200)
			ips, ids := want(red, nil)
			if len(ips) == 0 {
				t.Fatalf("%s: the world holds no indicator %s may see: the case shows nothing", path, vc.name)
			}
			sameSet(t, path, lines(a.body), ips)
			// The ETag answers If-None-Match with 304 and no body.
			req, _ := http.NewRequest("GET", w.base+path, nil)
			req.SetBasicAuth(vc.m.user.Name, vc.m.key)
			req.Header.Set("If-None-Match", a.header.Get("ETag"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 304 || len(body) != 0 || a.header.Get("ETag") == "" {
				t.Errorf("%s with If-None-Match %q: %d, %d bytes", path, a.header.Get("ETag"), resp.StatusCode, len(body))
			}
			// The CSV names the indicators themselves.
			a = w.req(t, vc, "GET", strings.Replace(path, "blocklist-ip", "csv", 1), nil, "")
			got := map[string]bool{}
			for _, row := range strings.Split(string(a.body), "\n")[1:] {
				if id, _, ok := strings.Cut(row, ","); ok {
					got[id] = true
				}
			}
			sameSet(t, path+" as csv", got, ids)
		}
		own := cyberpact.Audience{Kind: cyberpact.AudienceOrg}
		ips, _ := want(true, &own)
		a := w.req(t, vc, "GET", "/api/v1/feeds/zeek?audience=org&max_tlp=red", nil, "")
		got := map[string]bool{}
		for _, l := range strings.Split(string(a.body), "\n")[1:] {
			if ip, _, ok := strings.Cut(l, "\t"); ok {
				got[ip] = true
			}
		}
		sameSet(t, "zeek feed of the org audience", got, ips)
		// A layer of a campaign exists exactly when the campaign is seen.
		for _, id := range w.ids {
			if !strings.HasPrefix(id, "campaign--") {
				continue
			}
			a := w.req(t, vc, "GET", "/api/v1/feeds/navigator?max_tlp=red&of="+id, nil, "")
			mustStatus(t, "layer of "+id, a, map[bool]int{true: 200, false: 404}[len(w.expect(v, nil, false, id)) > 0])
		}
		mustStatus(t, "unknown feed", w.req(t, vc, "GET", "/api/v1/feeds/pdf", nil, ""), 404)
	},
	"GET /api/v1/misp/manifest.json":    func(t *testing.T, w *world, vc *viewerCase) { w.checkMISPFeed(t, vc) },
	"GET /api/v1/misp/hashes.csv":       func(t *testing.T, w *world, vc *viewerCase) { w.checkMISPFeed(t, vc) },
	"GET /api/v1/misp/{event}":          func(t *testing.T, w *world, vc *viewerCase) { w.checkMISPFeed(t, vc) },
	"GET /api/v1/sources":               func(t *testing.T, w *world, vc *viewerCase) { w.checkSources(t, vc) },
	"GET /api/v1/sources/{name}":        func(t *testing.T, w *world, vc *viewerCase) { w.checkSources(t, vc) },
	"GET /api/v1/subscriptions":         func(t *testing.T, w *world, vc *viewerCase) { w.checkSubscriptions(t, vc) },
	"GET /api/v1/subscriptions/{id}":    func(t *testing.T, w *world, vc *viewerCase) { w.checkSubscriptions(t, vc) },
	"POST /api/v1/subscriptions":        func(t *testing.T, w *world, vc *viewerCase) { w.checkSubscriptions(t, vc) },
	"DELETE /api/v1/subscriptions/{id}": func(t *testing.T, w *world, vc *viewerCase) { w.checkSubscriptions(t, vc) },
	"/taxii2/": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/taxii2/api1/collections/"+w.collIDs["all"]+"/nothing/", nil, "")
		mustStatus(t, "unknown path", a, 404)
		a = w.req(t, vc, "PUT", "/taxii2/api1/collections/"+w.collIDs["all"]+"/objects/", nil, "")
		mustStatus(t, "unknown method", a, 405)
		w.noSeededIDs(t, "catch-all", a.body)
	},
	// The API's catch-all answers from the routes alone: the same for an
	// id the viewer sees, one it does not, and one nobody holds.
	"/api/v1/": func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/api/v1/nothing", nil, "")
		mustStatus(t, "unknown path", a, 404)
		// Every fifth seeded id (seen by some viewers, not by others) and
		// one nobody holds.
		var ids []string
		for i := 0; i < len(w.ids); i += 5 {
			ids = append(ids, w.ids[i])
		}
		answers := map[string]string{}
		for _, id := range append(ids, "campaign--00000000-0000-4000-8000-00000000dead") {
			for _, tail := range []string{"", "/nothing"} {
				a := w.req(t, vc, "DELETE", "/api/v1/objects/"+id+tail, nil, "")
				// The path is echoed, the caller's own words; nothing else.
				body := []byte(strings.ReplaceAll(string(a.body), id, "ID"))
				got := fmt.Sprint(a.status, " ", a.header.Get("Allow"), " ", string(body))
				if prev, ok := answers[tail]; ok && got != prev {
					t.Errorf("DELETE /api/v1/objects/%s%s answers %q where another id got %q", id, tail, got, prev)
				}
				answers[tail] = got
				w.noSeededIDs(t, "catch-all", body)
			}
		}
		mustStatus(t, "unknown method", w.req(t, vc, "PUT", "/api/v1/objects", nil, ""), 405)
	},
}

// checkOne checks an answer about one object: 404 when want is empty,
// else exactly want. wrap turns a bare object body into a list.
func (w *world) checkOne(t *testing.T, vc *viewerCase, what string, a answer, want map[string]bool, wrap func([]byte) []byte) {
	t.Helper()
	if vc.m == nil && !strings.Contains(what, "public") && !strings.HasPrefix(what, "public") {
		if a.status != 401 && a.status != 404 {
			t.Errorf("%s as anonymous: status %d", what, a.status)
		}
		return
	}
	if len(want) == 0 {
		mustStatus(t, what+" (may not see)", a, 404)
		return
	}
	mustStatus(t, what, a, 200)
	body := a.body
	if wrap != nil {
		body = wrap(body)
	}
	sameSet(t, what, versionsIn(t, body), want)
}

// eachCollection GETs suffix of every collection: 404 for those vc may not
// see, fn for the others.
func (w *world) eachCollection(t *testing.T, vc *viewerCase, suffix string, fn func(name string, a answer)) {
	for name, id := range w.collIDs {
		a := w.req(t, vc, "GET", "/taxii2/api1/collections/"+id+suffix, nil, "")
		if !w.collectionVisible(vc, name) {
			if a.status != 404 && a.status != 401 {
				t.Errorf("%s%s as %s: status %d for an unseen collection", name, suffix, vc.name, a.status)
			}
			continue
		}
		mustStatus(t, name+suffix, a, 200)
		fn(name, a)
	}
}

// eachObjectIn GETs every object under every collection vc may see, and
// one under each it may not (which must be 404 whatever the object).
func (w *world) eachObjectIn(t *testing.T, vc *viewerCase, suffix string, fn func(name, id string, a answer)) {
	for name, cid := range w.collIDs {
		ids := w.ids
		if !w.collectionVisible(vc, name) {
			ids = ids[:1]
		}
		for _, id := range ids {
			a := w.req(t, vc, "GET", "/taxii2/api1/collections/"+cid+"/objects/"+id+suffix, nil, "")
			if !w.collectionVisible(vc, name) {
				if a.status != 404 && a.status != 401 {
					t.Errorf("%s in unseen %s as %s: status %d", id, name, vc.name, a.status)
				}
				continue
			}
			fn(name, id, a)
		}
	}
}

// release returns how the version "id@modified" was released.
func (w *world) release(k string) cyberpact.Release {
	for _, x := range w.versions {
		if x.id+"@"+x.modified == k {
			return x.release
		}
	}
	return cyberpact.Release{}
}

func (w *world) producedBy(id string, org int64) bool {
	for _, x := range w.versions {
		if x.id == id && x.release.Producer == org {
			return true
		}
	}
	return false
}

func TestRouteMatrixNeverLeaks(t *testing.T) {
	w := newWorld(t)
	srv := cphttp.NewServer(w.db, nil)
	for _, route := range srv.Routes() {
		if leakCases[route] == nil {
			t.Errorf("route %q has no case in leakCases: every route must show that it keeps to the sharing rule", route)
		}
	}
	for route, check := range leakCases {
		for _, vc := range w.viewers {
			t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(route)+"/"+vc.name, func(t *testing.T) {
				check(t, w, vc)
			})
		}
	}
}
