package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/google/go-cmp/cmp"
)

// The write-path matrix: for every route that writes (and every POST that
// only reads), posting an id or an observable value that another
// organisation holds out of the poster's sight answers exactly as posting
// a fresh one, and changes nothing any other organisation sees of objects
// the poster did not produce. A route without a case fails
// TestWritePathMatrix.

// probe is what a write case posts: an object whose id is held out of the
// poster's sight, and one whose id nobody holds, alike in all else.
type probe struct {
	poster          *viewerCase
	hidden, fresh   string // SDO ids
	hiddenIP        string // an ipv4-addr id (and value below) held out of sight
	freshIP         string
	hiddenV, freshV string
}

// writeCases has one case per route that is not a plain read.
var writeCases = map[string]func(t *testing.T, w *world, p probe){
	"POST /api/v1/bundles": func(t *testing.T, w *world, p probe) {
		post := func(objs ...map[string]any) answer {
			return w.req(t, p.poster, "POST", "/api/v1/bundles", bundleOf(objs...), "application/json")
		}
		sameAnswer(t, "an SDO", post(probeSDO(p.hidden)), post(probeSDO(p.fresh)), p.hidden, p.fresh)
		sameAnswer(t, "an observable", post(probeIP(p.hiddenIP, p.hiddenV)), post(probeIP(p.freshIP, p.freshV)), p.hiddenIP, p.freshIP, p.hiddenV, p.freshV)
		// A sighting of the hidden object is refused as one of an unknown.
		sameAnswer(t, "a sighting", post(probeSighting(1, p.hidden)), post(probeSighting(2, p.fresh)), p.hidden, p.fresh, uuidN("sighting", 90101), uuidN("sighting", 90102))
		// A conflict policy works in the poster's own holding (issue 16):
		// other content for a version the poster now holds of the hidden
		// id answers as for the fresh one, and replaces nothing of A's.
		for _, policy := range []string{"reject", "keep-stored", "replace"} {
			changed := func(id string) answer {
				o := probeSDO(id)
				o["name"] = "probe, other content (" + policy + ")"
				return w.req(t, p.poster, "POST", "/api/v1/bundles?on_conflict="+policy, bundleOf(o), "application/json")
			}
			sameAnswer(t, "an SDO with other content, on_conflict="+policy, changed(p.hidden), changed(p.fresh), p.hidden, p.fresh)
		}
		// Published anonymously, or as counted sightings (issue 20): the
		// same answer for the hidden id as for a fresh one, refused (to
		// the poster's organisation alone: seen by no one) or stored (to
		// G2, whose only member is the poster: nobody else's view moves).
		for _, q := range []string{"", "&audience=group:G2"} {
			anon := func(objs ...map[string]any) answer {
				return w.req(t, p.poster, "POST", "/api/v1/bundles?anonymous=true"+q, bundleOf(objs...), "application/json")
			}
			sameAnswer(t, "an anonymous SDO"+q, anon(probeSDO(p.hidden)), anon(probeSDO(p.fresh)), p.hidden, p.fresh)
		}
		counted := func(objs ...map[string]any) answer {
			return w.req(t, p.poster, "POST", "/api/v1/bundles?share=counts", bundleOf(objs...), "application/json")
		}
		sameAnswer(t, "a counted sighting", counted(probeSighting(3, p.hidden)), counted(probeSighting(4, p.fresh)), p.hidden, p.fresh, uuidN("sighting", 90103), uuidN("sighting", 90104))
	},
	"POST /taxii2/api1/collections/{collection}/objects/{$}": func(t *testing.T, w *world, p probe) {
		coll := w.collIDs["org:B"]
		post := func(objs ...map[string]any) answer {
			body, _ := json.Marshal(map[string]any{"objects": objs})
			return w.req(t, p.poster, "POST", "/taxii2/api1/collections/"+coll+"/objects/", body, "application/taxii+json;version=2.1")
		}
		sameAnswer(t, "an SDO", post(probeSDO(p.hidden)), post(probeSDO(p.fresh)), p.hidden, p.fresh)
		sameAnswer(t, "an observable", post(probeIP(p.hiddenIP, p.hiddenV)), post(probeIP(p.freshIP, p.freshV)), p.hiddenIP, p.freshIP, p.hiddenV, p.freshV)
	},
	"DELETE /taxii2/api1/collections/{collection}/objects/{object}/{$}": func(t *testing.T, w *world, p probe) {
		for _, name := range []string{"all", "org:B"} {
			del := func(id string) answer {
				return w.req(t, p.poster, "DELETE", "/taxii2/api1/collections/"+w.collIDs[name]+"/objects/"+id+"/", nil, "")
			}
			sameAnswer(t, "delete in "+name, del(p.hidden), del(p.fresh), p.hidden, p.fresh)
		}
	},
	"POST /api/v1/exercises/{id}/sightings": func(t *testing.T, w *world, p probe) {
		post := func(objs ...map[string]any) answer {
			return w.req(t, p.poster, "POST", w.exercisePath("/sightings"), bundleOf(objs...), "application/json")
		}
		sameAnswer(t, "an SDO", post(probeSDO(p.hidden)), post(probeSDO(p.fresh)), p.hidden, p.fresh)
		sameAnswer(t, "an observable", post(probeIP(p.hiddenIP, p.hiddenV)), post(probeIP(p.freshIP, p.freshV)), p.hiddenIP, p.freshIP, p.hiddenV, p.freshV)
	},
	"POST /api/v1/exercises": func(t *testing.T, w *world, p probe) {
		// Only hub admins start exercises: naming organisations or a
		// scenario file with ids held out of the poster's sight answers
		// as naming fresh ones.
		start := func(org, id string) answer {
			body, _ := json.Marshal(map[string]any{"scenario": map[string]any{"schema": "cyberpact-exercise/1", "name": "probe", "steps": []any{map[string]any{"id": id}}},
				"participants": map[string]string{"alpha": org}})
			return w.req(t, p.poster, "POST", "/api/v1/exercises", body, "application/json")
		}
		sameAnswer(t, "a start", start("Org A", p.hidden), start("Org Fresh", p.fresh), "Org A", "Org Fresh", p.hidden, p.fresh)
	},
	"POST /api/v1/exercises/{id}/pause":  exerciseControlCase("pause"),
	"POST /api/v1/exercises/{id}/resume": exerciseControlCase("resume"),
	"POST /api/v1/exercises/{id}/stop":   exerciseControlCase("stop"),
	"POST /api/v1/match": func(t *testing.T, w *world, p probe) {
		post := func(v string) answer {
			ev := fmt.Sprintf(`{"@timestamp":"2026-01-05T00:00:00Z","destination":{"ip":%q}}`, v)
			return w.req(t, p.poster, "POST", "/api/v1/match", []byte(ev+"\n"), "application/x-ndjson")
		}
		sameAnswer(t, "an event", post(p.hiddenV), post(p.freshV), p.hiddenV, p.freshV)
	},
	"POST /api/v1/subscriptions":        subscriptionPostCase,
	"DELETE /api/v1/subscriptions/{id}": subscriptionDeleteCase,
	"POST /api/v1/correlate": func(t *testing.T, w *world, p probe) {
		post := func(v string) answer {
			body, _ := json.Marshal(map[string]any{"values": []string{v}})
			return w.req(t, p.poster, "POST", "/api/v1/correlate", body, "application/json")
		}
		sameAnswer(t, "a value", post(p.hiddenV), post(p.freshV), p.hiddenV, p.freshV)
	},
}

// TestAnonymousPostOfAnothersAnonymousIDAnswersAsFresh: A publishes a
// campaign anonymously to a group B is not in; B posting that id
// anonymously (or under its own name) answers exactly as posting a fresh
// id does, where it was once refused as "another organisation's" and so
// told B the id was held, and changes nothing A or C sees. Anonymous
// objects are held per submitter (cyberpact.Admit): B's version starts a
// holding of its own.
func TestAnonymousPostOfAnothersAnonymousIDAnswersAsFresh(t *testing.T) {
	w := newWorld(t)
	g3 := mkGroup(t, w.db, "G3", w.orgs["A"], w.orgs["C"])
	var a, b *viewerCase
	for _, vc := range w.viewers {
		switch vc.name {
		case "A":
			a = vc
		case "B":
			b = vc
		}
	}
	hidden, fresh := uuidN("campaign", 90501), uuidN("campaign", 90502)
	mine := probeSDO(hidden)
	mine["name"] = "A's campaign, published anonymously"
	mine["modified"] = day(1)
	mustStatus(t, "A's anonymous post", w.req(t, a, "POST", "/api/v1/bundles?anonymous=true&audience=group:"+g3.Name, bundleOf(mine), "application/json"), 200)
	before := w.othersSee(t, b)
	for _, q := range []string{"anonymous=true&audience=group:G2", "anonymous=true&audience=group:G2&on_conflict=replace", "audience=group:G2", ""} {
		post := func(id string) answer {
			return w.req(t, b, "POST", "/api/v1/bundles?"+q, bundleOf(probeSDO(id)), "application/json")
		}
		sameAnswer(t, "B's post ?"+q, post(hidden), post(fresh), hidden, fresh)
	}
	if d := cmp.Diff(before, w.othersSee(t, b)); d != "" {
		t.Errorf("what A and C see changed (-before +after):\n%s", d)
	}
	for _, name := range []string{"A", "C"} {
		v := w.orgs[name]
		groups, err := w.db.GroupsOf(context.Background(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		o, err := w.db.Object(context.Background(), hidden, &cyberpact.Viewer{Org: v.ID, Groups: groups, Nation: v.Nation})
		if err != nil || o.Release.Producer != 0 || !strings.Contains(string(o.Raw), "published anonymously") {
			t.Errorf("%s reads %s as %v, %v; want A's anonymous version", name, hidden, o, err)
		}
	}
}

// exerciseControlCase posts op to an exercise the poster's organisation
// does not play (A and C play it), as an analyst and as an org-admin of
// the poster's organisation: it answers as an exercise number never used,
// and the exercise is left as it was.
func exerciseControlCase(op string) func(t *testing.T, w *world, p probe) {
	return func(t *testing.T, w *world, p probe) {
		ctx := context.Background()
		data, err := os.ReadFile("testdata/exercise-hub-drill.json")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
		hub := &exercise.Hub{Exercises: w.db, Objects: w.db, Now: func() time.Time { return now }}
		x, err := hub.Start(ctx, "hub-drill.json", data, map[string]int64{"alpha": w.orgs["A"].ID, "beta": w.orgs["C"].ID}, 5, 60)
		if err != nil {
			t.Fatal(err)
		}
		hidden, fresh := strconv.FormatInt(x.ID, 10), "999"
		lead := &viewerCase{name: "B's org-admin", m: mkMember(t, w.db, p.poster.m.org, "b-lead", cyberpact.RoleOrgAdmin)}
		for _, vc := range []*viewerCase{p.poster, lead} {
			post := func(id string) answer {
				return w.req(t, vc, "POST", "/api/v1/exercises/"+id+"/"+op, nil, "")
			}
			sameAnswer(t, op+" by "+vc.name, post(hidden), post(fresh), hidden, fresh)
		}
		after, err := w.db.Exercise(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.State != x.State || after.Version != x.Version {
			t.Errorf("%s by a non-participant changed the exercise: %s v%d, was %s v%d", op, after.State, after.Version, x.State, x.Version)
		}
	}
}

func TestWritePathMatrix(t *testing.T) {
	srv := cphttp.NewServer(openDB(t), nil)
	for _, route := range srv.Routes() {
		method, _, _ := strings.Cut(route, " ")
		if method == "GET" || method == "HEAD" || !strings.Contains(route, " ") {
			continue
		}
		if writeCases[route] == nil {
			t.Errorf("route %q writes but has no case in writeCases: every write route must show that an id held out of sight answers as a fresh one", route)
		}
	}
	for route, c := range writeCases {
		t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(route), func(t *testing.T) {
			w := newWorld(t)
			p := w.probe(t)
			before := w.othersSee(t, p.poster)
			c(t, w, p)
			after := w.othersSee(t, p.poster)
			if d := cmp.Diff(before, after); d != "" {
				t.Errorf("what other organisations see of objects the poster did not produce changed (-before +after):\n%s", d)
			}
		})
	}
}

// probe seeds an observable that A holds privately and names the ids B,
// the poster, will try.
func (w *world) probe(t *testing.T) probe {
	var poster *viewerCase
	for _, vc := range w.viewers {
		if vc.name == "B" {
			poster = vc
		}
	}
	p := probe{poster: poster, fresh: uuidN("campaign", 90001),
		hiddenIP: uuidN("ipv4-addr", 90002), hiddenV: "198.51.100.201",
		freshIP: uuidN("ipv4-addr", 90003), freshV: "198.51.100.202"}
	a := w.orgs["A"].ID
	for _, x := range w.versions {
		if x.typ == "campaign" && x.release.Producer == a && x.release.Audience.Kind == cyberpact.AudienceOrg {
			p.hidden = x.id
			break
		}
	}
	if p.hidden == "" {
		t.Fatal("the world has no campaign A keeps to itself")
	}
	importAs(t, w.db, cyberpact.Release{Producer: a, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPRed},
		probeIP(p.hiddenIP, p.hiddenV),
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": uuidN("indicator", 90004), "created": day(0), "modified": day(0),
			"pattern": "[ipv4-addr:value = '" + p.hiddenV + "']", "pattern_type": "stix", "valid_from": day(0)})
	return p
}

// othersSee is every version each viewer other than poster is shown of
// objects the poster did not produce.
func (w *world) othersSee(t *testing.T, poster *viewerCase) map[string][]string {
	out := map[string][]string{}
	for _, vc := range w.viewers {
		if vc == poster {
			continue
		}
		v := vc.viewer()
		var got []string
		err := w.db.EachObject(context.Background(), cyberpact.ObjectFilter{Viewer: &v, AllVersions: true}, func(o *cyberpact.Object) error {
			if o.Release.Producer != poster.m.org.ID {
				got = append(got, fmt.Sprintf("%s@%s by %d: %s", o.ID, o.Modified, o.Release.Producer, o.Raw))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		out[vc.name] = got
	}
	return out
}

// sameAnswer fails unless the two answers are the same but for the probe
// ids and values (pairs: the hidden one, then the fresh one) and what
// differs in every answer (status ids and times).
func sameAnswer(t *testing.T, what string, hidden, fresh answer, pairs ...string) {
	t.Helper()
	norm := func(a answer, which int) any {
		body := string(a.body)
		for i := which; i < len(pairs); i += 2 {
			body = strings.ReplaceAll(body, pairs[i], fmt.Sprintf("<probe %d>", i/2))
		}
		var v any
		if json.Unmarshal([]byte(body), &v) != nil {
			return fmt.Sprint(a.status, " ", body)
		}
		return map[string]any{"status": a.status, "body": stripVolatile(v)}
	}
	if d := cmp.Diff(norm(fresh, 1), norm(hidden, 0)); d != "" {
		t.Errorf("%s held out of sight answers differently from a fresh one (-fresh +hidden):\n%s", what, d)
	}
}

// stripVolatile drops what differs between any two answers: status
// resource ids, request times and added dates.
func stripVolatile(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch k {
			case "id", "request_timestamp", "date_added", "status_id":
				if s, ok := e.(string); ok && !strings.HasPrefix(s, "<probe") {
					continue
				}
			}
			out[k] = stripVolatile(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripVolatile(e)
		}
		return out
	}
	return v
}

func probeSDO(id string) map[string]any {
	return map[string]any{"type": "campaign", "spec_version": "2.1", "id": id, "created": day(0), "modified": day(3), "name": "probe"}
}

func probeIP(id, value string) map[string]any {
	return map[string]any{"type": "ipv4-addr", "spec_version": "2.1", "id": id, "value": value}
}

func probeSighting(n int, of string) map[string]any {
	return map[string]any{"type": "sighting", "spec_version": "2.1", "id": uuidN("sighting", 90100+n), "created": day(0), "modified": day(0), "sighting_of_ref": of}
}
