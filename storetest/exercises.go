package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/google/go-cmp/cmp"
)

// ExerciseTestStore is what RunExercises tests: the exercise store of a
// store, with its objects (a purge deletes the exercise's objects).
type ExerciseTestStore interface {
	cyberpact.ExerciseStore
	cyberpact.ObjectStore
}

// RunExercises runs the suite of cyberpact.ExerciseStore. open returns a
// new, empty store for each subtest; RunExercises closes it.
func RunExercises(t *testing.T, open func(t *testing.T) ExerciseTestStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s ExerciseTestStore)
	}{
		{"ExerciseCreatedReadAndListed", testExerciseCreated},
		{"SaveOverAStaleVersionConflicts", testExerciseConflict},
		{"PurgeDeletesTheExerciseAndOnlyItsObjects", testExercisePurge},
		{"UnknownExerciseNotFound", testExerciseNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

func newExercise() *cyberpact.Exercise {
	return &cyberpact.Exercise{
		Name: "drill", Scenario: json.RawMessage(`{"schema":"cyberpact-exercise/1","name":"drill"}`),
		Seed: 1<<63 + 5, Speed: 12.5, Participants: map[string]int64{"bank": 3, "grid": 4},
		State: "running", Engine: json.RawMessage(`{"state":"running"}`),
	}
}

func testExerciseCreated(t *testing.T, s ExerciseTestStore) {
	ctx := context.Background()
	x := newExercise()
	if err := s.CreateExercise(ctx, x); err != nil {
		t.Fatal(err)
	}
	if x.ID == 0 || x.Version != 1 || x.Created.IsZero() {
		t.Fatalf("created exercise has id %d, version %d, created %v", x.ID, x.Version, x.Created)
	}
	got, err := s.Exercise(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	opt := cmp.Transformer("json", func(r json.RawMessage) string {
		var v any
		json.Unmarshal(r, &v)
		b, _ := json.Marshal(v)
		return string(b)
	})
	if diff := cmp.Diff(x, got, opt); diff != "" {
		t.Errorf("read back (-created +read):\n%s", diff)
	}
	y := newExercise()
	if err := s.CreateExercise(ctx, y); err != nil {
		t.Fatal(err)
	}
	list, err := s.Exercises(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != x.ID || list[1].ID != y.ID {
		t.Fatalf("listed %d exercises, want %d then %d", len(list), x.ID, y.ID)
	}
	if p, ok := got.Participant(4); !ok || p != "grid" {
		t.Errorf("org 4 plays %q %v, want grid", p, ok)
	}
	if _, ok := got.Participant(5); ok {
		t.Error("org 5 plays a participant")
	}
}

func testExerciseConflict(t *testing.T, s ExerciseTestStore) {
	ctx := context.Background()
	x := newExercise()
	if err := s.CreateExercise(ctx, x); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Exercise(ctx, x.ID)
	b, _ := s.Exercise(ctx, x.ID)
	a.State, a.Engine = "paused", json.RawMessage(`{"state":"paused"}`)
	if err := s.UpdateExercise(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.Version != 2 {
		t.Errorf("version after a save is %d, want 2", a.Version)
	}
	b.State = "stopped"
	if err := s.UpdateExercise(ctx, b); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Fatalf("saving over a stale version: %v, want %s", err, cyberpact.ECONFLICT)
	}
	got, _ := s.Exercise(ctx, x.ID)
	if got.State != "paused" || got.Version != 2 || string(got.Engine) != `{"state":"paused"}` {
		t.Errorf("after the conflict the store holds %s v%d %s", got.State, got.Version, got.Engine)
	}
}

func testExercisePurge(t *testing.T, s ExerciseTestStore) {
	ctx := context.Background()
	x, other := newExercise(), newExercise()
	for _, e := range []*cyberpact.Exercise{x, other} {
		if err := s.CreateExercise(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	imp := func(aud cyberpact.Audience, producer int64, objs ...obj) {
		t.Helper()
		res, err := importRaw(t, s, bundle(t, objs...), cyberpact.ImportOptions{Producer: producer, Audience: aud})
		if err != nil || !res.Committed || len(res.Rejected) > 0 {
			t.Fatalf("import: %v %+v", err, res)
		}
	}
	normal := sdo("malware", 1, 0, obj{"description": "purgeword"})
	imp(cyberpact.Audience{Kind: cyberpact.AudienceAll}, 3, normal)
	ind := sdo("indicator", 2, 0, obj{"description": "purgeword"})
	imp(cyberpact.Audience{Kind: cyberpact.AudienceExerciseOrg, Group: x.ID}, 3, ind,
		sdo("sighting", 3, 0, obj{"sighting_of_ref": id(ind), "description": "purgeword"}))
	imp(cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: x.ID}, 4, sdo("indicator", 4, 0, obj{"description": "purgeword"}))
	kept := sdo("indicator", 5, 0, obj{"description": "purgeword"})
	imp(cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: other.ID}, 4, kept)

	// Exercise values are never correlated, for anyone, even inside.
	if cs, ok := s.(cyberpact.CorrelationStore); ok {
		var keys []string
		for _, c := range match.ObservableKeys("x.example") {
			keys = append(keys, c.Key)
		}
		for _, v := range []*cyberpact.Viewer{{Org: 3}, {Org: 4}, {Org: 3, Exercise: x.ID}} {
			c, err := cs.Correlate(ctx, keys, v, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Objects) > 0 || c.Count > 0 || c.Common {
				t.Errorf("correlation for %+v finds exercise objects: %d, count %d", v, len(c.Objects), c.Count)
			}
		}
	}
	n, err := s.PurgeExercise(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("purge deleted %d versions, want 3", n)
	}
	if _, err := s.Exercise(ctx, x.ID); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("purged exercise read back: %v", err)
	}
	// Nothing of the exercise is left, even for the hub's own reads, by
	// id, by search or by link; the rest is untouched.
	for _, v := range []*cyberpact.Viewer{nil, {Org: 3, Exercise: x.ID}, {Org: 4, Exercise: x.ID}} {
		f := cyberpact.ObjectFilter{Viewer: v, AllVersions: true}
		if v == nil {
			f.Viewer = nil
		}
		var got []string
		for _, o := range all(t, s, f) {
			got = append(got, o.ID)
		}
		want := []string{id(normal)}
		if v != nil {
			want = nil
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("objects left for viewer %+v (-want +got):\n%s", v, diff)
		}
		f.Text = "purgeword"
		got = nil
		for _, o := range all(t, s, f) {
			got = append(got, o.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("search finds for viewer %+v (-want +got):\n%s", v, diff)
		}
	}
	if p, err := s.Relationships(ctx, id(ind), cyberpact.Both, cyberpact.ObjectFilter{Limit: 100}); err == nil && len(p.Objects) > 0 {
		t.Errorf("the purged indicator still has %d links", len(p.Objects))
	}
	if got := all(t, s, cyberpact.ObjectFilter{Viewer: &cyberpact.Viewer{Org: 4, Exercise: other.ID}}); len(got) != 1 || got[0].ID != id(kept) {
		t.Errorf("the other exercise's objects were touched: %d left", len(got))
	}
	if _, err := s.PurgeExercise(ctx, x.ID); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("purging twice: %v, want %s", err, cyberpact.ENOTFOUND)
	}
}

func testExerciseNotFound(t *testing.T, s ExerciseTestStore) {
	ctx := context.Background()
	if _, err := s.Exercise(ctx, 42); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("Exercise: %v", err)
	}
	x := newExercise()
	x.ID, x.Version = 42, 1
	if err := s.UpdateExercise(ctx, x); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("UpdateExercise: %v", err)
	}
}
