package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// The leak matrix's world holds a finished exercise played by A (alpha)
// and B (beta): everything it delivered is in the world's versions, so
// every route's case shows that none of it appears outside the
// exercise, and the exercise collections that A and B see are read as
// the model says.

// worldExercise is the exercise of the leak world.
type worldExercise struct {
	id    int64
	plays map[int64]string // org -> participant
}

// addExercise runs the hub drill to its end in the world's store and adds
// what it delivered to the world's versions and ids, and its collections
// to the world's.
func (w *world) addExercise(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("testdata/exercise-hub-drill.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	hub := &exercise.Hub{Exercises: w.db, Objects: w.db, Now: func() time.Time { return now }}
	x, err := hub.Start(ctx, "hub-drill.json", data, map[string]int64{"alpha": w.orgs["A"].ID, "beta": w.orgs["B"].ID}, 3, 60)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(3 * time.Minute) // three hours of scenario time: over
	if err := hub.Advance(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	if x, _ = w.db.Exercise(ctx, x.ID); x.State != "finished" {
		t.Fatalf("the world's exercise is %s, not finished", x.State)
	}
	w.ex = &worldExercise{id: x.ID, plays: map[int64]string{w.orgs["A"].ID: "alpha", w.orgs["B"].ID: "beta"}}
	n := 0
	seen := map[string]bool{}
	for _, on := range []string{"A", "B"} {
		v := &cyberpact.Viewer{Org: w.orgs[on].ID, Exercise: x.ID}
		err = w.db.EachObject(ctx, cyberpact.ObjectFilter{Viewer: v, AllVersions: true}, func(o *cyberpact.Object) error {
			var m struct {
				Modified string `json:"modified"`
			}
			json.Unmarshal(o.Raw, &m)
			if seen[o.ID+"@"+m.Modified] {
				return nil
			}
			seen[o.ID+"@"+m.Modified] = true
			w.versions = append(w.versions, seedVersion{id: o.ID, typ: o.Type, modified: m.Modified, release: o.Release})
			w.ids = append(w.ids, o.ID)
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 20 {
		t.Fatalf("the world's exercise delivered only %d objects", n)
	}
	for _, on := range []string{"A", "B"} {
		name := "exercise:org:" + on
		w.colls[name] = &cyberpact.Audience{Kind: cyberpact.AudienceExerciseOrg, Group: x.ID}
		w.collIDs[name] = cphttp.CollectionID(fmt.Sprintf("exercise:%d:org:%d", x.ID, w.orgs[on].ID))
	}
	w.colls["exercise:all"] = &cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: x.ID}
	w.collIDs["exercise:all"] = cphttp.CollectionID(fmt.Sprintf("exercise:%d", x.ID))
}

// exerciseCollectionVisible reports whether vc sees an exercise
// collection: its own organisation's, and the exercise-wide one when it
// takes part.
func (w *world) exerciseCollectionVisible(vc *viewerCase, name string) bool {
	if vc.m == nil || w.ex.plays[vc.m.org.ID] == "" {
		return false
	}
	if on, ok := strings.CutPrefix(name, "exercise:org:"); ok {
		return w.orgs[on].ID == vc.m.org.ID
	}
	return name == "exercise:all"
}

// exerciseCollViewer is how an exercise collection reads: inside the
// exercise.
func (w *world) exerciseCollViewer(vc *viewerCase, name string) (cyberpact.Viewer, bool) {
	if !strings.HasPrefix(name, "exercise:") || vc.m == nil {
		return cyberpact.Viewer{}, false
	}
	v := vc.viewer()
	v.Exercise = w.ex.id
	return v, true
}

// exercisePath is an exercise route's path for the world's exercise.
func (w *world) exercisePath(suffix string) string {
	return "/api/v1/exercises/" + strconv.FormatInt(w.ex.id, 10) + suffix
}

// exerciseAccess checks the answer of an exercise resource: 401
// anonymous, 404 for an organisation not taking part, else 200; it
// reports whether the caller got it.
func (w *world) exerciseAccess(t *testing.T, vc *viewerCase, what string, a answer) bool {
	t.Helper()
	switch {
	case vc.m == nil:
		mustStatus(t, what+" anonymous", a, 401)
	case w.ex.plays[vc.m.org.ID] == "":
		mustStatus(t, what+" by a non-participant", a, 404)
		w.noSeededIDs(t, what, a.body)
	default:
		mustStatus(t, what, a, 200)
		return true
	}
	return false
}

func init() {
	leakCases["GET /api/v1/exercises"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", "/api/v1/exercises", nil, "")
		if vc.m == nil {
			mustStatus(t, "anonymous exercises", a, 401)
			return
		}
		mustStatus(t, "exercises", a, 200)
		var got struct {
			Exercises []struct {
				ID  int64  `json:"id"`
				You string `json:"you"`
			} `json:"exercises"`
		}
		json.Unmarshal(a.body, &got)
		want := w.ex.plays[vc.m.org.ID]
		switch {
		case want == "" && len(got.Exercises) != 0:
			t.Errorf("a non-participant lists %d exercises", len(got.Exercises))
		case want != "" && (len(got.Exercises) != 1 || got.Exercises[0].You != want):
			t.Errorf("exercises listed %+v, want one played as %s", got.Exercises, want)
		}
	}
	leakCases["GET /api/v1/exercises/{id}"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", w.exercisePath(""), nil, "")
		if w.exerciseAccess(t, vc, "exercise", a) && !strings.Contains(string(a.body), `"scores"`) {
			t.Errorf("exercise status without scores: %.200s", a.body)
		}
		mustStatus(t, "unknown exercise", w.req(t, vc, "GET", "/api/v1/exercises/999", nil, ""), map[bool]int{true: 401, false: 404}[vc.m == nil])
	}
	leakCases["GET /api/v1/exercises/{id}/telemetry.jsonl"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", w.exercisePath("/telemetry.jsonl"), nil, "")
		if !w.exerciseAccess(t, vc, "telemetry", a) {
			return
		}
		// Every line is the caller's own: it names observed-data
		// delivered to its organisation, and carries no ground truth.
		lines := strings.Split(strings.TrimSpace(string(a.body)), "\n")
		if len(lines) < 5 {
			t.Fatalf("telemetry has %d lines", len(lines))
		}
		for i, l := range lines {
			if strings.Contains(l, exercise.TruthKey) {
				t.Fatalf("line %d carries the ground truth", i+1)
			}
			var ev struct {
				Labels map[string]string `json:"labels"`
			}
			json.Unmarshal([]byte(l), &ev)
			od := ev.Labels["observed_data"]
			if !w.producedBy(od, vc.m.org.ID) {
				t.Errorf("line %d names %q, not observed-data delivered to %s", i+1, od, vc.name)
			}
		}
	}
	leakCases["POST /api/v1/exercises/{id}/sightings"] = func(t *testing.T, w *world, vc *viewerCase) {
		// An empty bundle: the world must not change under the other cases.
		body := []byte(`{"type":"bundle","id":"bundle--6f3a3f2e-0000-4000-8000-000000000001","objects":[]}`)
		a := w.req(t, vc, "POST", w.exercisePath("/sightings"), body, "application/json")
		switch {
		case vc.m == nil:
			mustStatus(t, "anonymous sightings", a, 401)
		case w.ex.plays[vc.m.org.ID] == "":
			mustStatus(t, "sightings by a non-participant", a, 404)
		case !vc.m.user.Role.CanWrite():
			mustStatus(t, "sightings by a reader", a, 403)
		default:
			mustStatus(t, "sightings", a, 200)
		}
		w.noSeededIDs(t, "sightings", a.body)
	}
	leakCases["GET /api/v1/exercises/{id}/status"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", w.exercisePath("/status"), nil, "")
		w.sameAsUnknownExercise(t, vc, "status", "GET", "/status", a)
		if !w.exerciseAccess(t, vc, "status", a) {
			return
		}
		var st struct {
			State        string `json:"state"`
			You          string `json:"you"`
			CanControl   bool   `json:"can_control"`
			Participants []struct {
				Participant, Organisation string
			} `json:"participants"`
		}
		json.Unmarshal(a.body, &st)
		if st.State != "finished" || st.You != w.ex.plays[vc.m.org.ID] || st.CanControl || len(st.Participants) != 2 {
			t.Errorf("status as %s: %s", vc.name, a.body)
		}
		for _, p := range st.Participants {
			if p.Organisation != map[string]string{"alpha": "Org A", "beta": "Org B"}[p.Participant] {
				t.Errorf("status names %s as played by %q", p.Participant, p.Organisation)
			}
		}
	}
	leakCases["GET /api/v1/exercises/{id}/scoreboard"] = func(t *testing.T, w *world, vc *viewerCase) {
		a := w.req(t, vc, "GET", w.exercisePath("/scoreboard"), nil, "")
		w.sameAsUnknownExercise(t, vc, "scoreboard", "GET", "/scoreboard", a)
		if !w.exerciseAccess(t, vc, "scoreboard", a) {
			return
		}
		var sb struct {
			Scoreboard []struct {
				Rank         int    `json:"rank"`
				Organisation string `json:"organisation"`
				StepsFired   int    `json:"steps_fired"`
			} `json:"scoreboard"`
		}
		json.Unmarshal(a.body, &sb)
		if len(sb.Scoreboard) != 2 || sb.Scoreboard[0].Rank != 1 || sb.Scoreboard[1].Rank != 2 || sb.Scoreboard[0].StepsFired == 0 {
			t.Errorf("scoreboard as %s: %s", vc.name, a.body)
		}
	}
	leakCases["POST /api/v1/exercises"] = func(t *testing.T, w *world, vc *viewerCase) {
		// Only hub admins start exercises, and no viewer here is one: the
		// answer is 403 (401 anonymous) whatever the body names, so it
		// tells nothing of the organisations or scenarios it names.
		for _, body := range []string{
			`{"scenario":"financial-drill","participants":{"central-bank":"Org A","commercial-bank":"Org B","stock-exchange":"Org C"}}`,
			`{"scenario":"financial-drill","participants":{"central-bank":"No Such Org"}}`,
			`not json`,
		} {
			a := w.req(t, vc, "POST", "/api/v1/exercises", []byte(body), "application/json")
			if vc.m == nil {
				mustStatus(t, "anonymous start", a, 401)
			} else {
				mustStatus(t, "start by "+string(vc.m.user.Role), a, 403)
			}
			w.noSeededIDs(t, "start", a.body)
		}
	}
	for _, op := range []string{"pause", "resume", "stop"} {
		leakCases["POST /api/v1/exercises/{id}/"+op] = func(t *testing.T, w *world, vc *viewerCase) {
			// The world's exercise is finished, so that no case changes it
			// for the others: participants may not control it (no viewer
			// here is an org-admin or a hub admin), 403; anyone else
			// finds no exercise, exactly as for a number never used.
			a := w.req(t, vc, "POST", w.exercisePath("/"+op), nil, "")
			w.sameAsUnknownExercise(t, vc, op, "POST", "/"+op, a)
			switch {
			case vc.m == nil:
				mustStatus(t, "anonymous "+op, a, 401)
			case w.ex.plays[vc.m.org.ID] == "":
				mustStatus(t, op+" by a non-participant", a, 404)
			default:
				mustStatus(t, op+" by a participant's "+string(vc.m.user.Role), a, 403)
			}
			w.noSeededIDs(t, op, a.body)
		}
	}
	for _, suffix := range []string{"/report.md", "/report.html", "/navigator.json"} {
		leakCases["GET /api/v1/exercises/{id}"+suffix] = func(t *testing.T, w *world, vc *viewerCase) {
			a := w.req(t, vc, "GET", w.exercisePath(suffix), nil, "")
			if w.exerciseAccess(t, vc, suffix, a) && !strings.Contains(string(a.body), "hub-drill") {
				t.Errorf("%s does not name the exercise: %.200s", suffix, a.body)
			}
		}
	}
}

// sameAsUnknownExercise checks that, to a caller who does not take part
// in the world's exercise, a route answers a, the exercise's answer, as it
// answers for an exercise number never used, but for the number.
func (w *world) sameAsUnknownExercise(t *testing.T, vc *viewerCase, what, method, suffix string, a answer) {
	t.Helper()
	if vc.m != nil && w.ex.plays[vc.m.org.ID] != "" {
		return
	}
	unknown := w.req(t, vc, method, "/api/v1/exercises/999"+suffix, nil, "")
	got := strings.ReplaceAll(string(a.body), strconv.FormatInt(w.ex.id, 10), "N")
	want := strings.ReplaceAll(string(unknown.body), "999", "N")
	if a.status != unknown.status || got != want {
		t.Errorf("%s as %s: the exercise answers %d %s, a number never used %d %s", what, vc.name, a.status, a.body, unknown.status, unknown.body)
	}
}

// idsOnly strips the versions of "id@version" keys. Exercise collections
// are compared by id: they hold one version of each object, and their
// cyber observables and marking have no modified, so their TAXII version
// is when they were added, which the model does not know.
func idsOnly(set map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range set {
		id, _, _ := strings.Cut(k, "@")
		out[id] = true
	}
	return out
}
