package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/storetest"
)

// TestExercises runs the exercise store suite on PostgreSQL.
func TestExercises(t *testing.T) {
	requirePostgres(t)
	storetest.RunExercises(t, func(t *testing.T) storetest.ExerciseTestStore { return openDB(t) })
}

// TestExerciseDrivenByTwoProcesses has two stores on one database (as two
// serve processes) tick the same exercise at the same moments: every
// event is delivered once, as observed-data its participant sees, and the
// saved state is the one a single process would have reached.
func TestExerciseDrivenByTwoProcesses(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	u := testURL(t)
	var dbs []*postgres.DB
	for range 2 {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	data, ok := exercise.LibraryScenario("financial-drill")
	if !ok {
		t.Fatal("no financial-drill")
	}
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var hubs []*exercise.Hub
	for _, db := range dbs {
		hubs = append(hubs, &exercise.Hub{Exercises: db, Objects: db, Now: clock})
	}
	orgs := map[string]int64{"central-bank": 1, "commercial-bank": 2, "stock-exchange": 3}
	x, err := hubs[0].Start(ctx, "financial-drill", data, orgs, 5, 600)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		mu.Lock()
		now = t0.Add(time.Duration(i) * 5 * time.Second)
		mu.Unlock()
		var wg sync.WaitGroup
		errs := make([]error, len(hubs))
		for j, h := range hubs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[j] = h.Tick(ctx) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("tick %d: %v", i, err)
			}
		}
	}
	_, e, err := hubs[1].Load(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.State() != exercise.Finished {
		t.Fatalf("exercise is %s after its whole scenario time", e.State())
	}
	ref, _ := exercise.Restore(e.Scenario(), 5, 600, exercise.Snapshot{State: exercise.Running, Started: t0, Reached: e.Reached(), Advanced: true})
	if len(e.Released()) != len(ref.Released()) {
		t.Errorf("released %d events, a single process %d", len(e.Released()), len(ref.Released()))
	}
	for p, org := range orgs {
		want := 0
		for _, ev := range e.Released() {
			if ev.Participant == p {
				want++
			}
		}
		got := 0
		err := dbs[0].EachObject(ctx, cyberpact.ObjectFilter{Types: []string{"observed-data"}, Viewer: &cyberpact.Viewer{Org: org, Exercise: x.ID}}, func(*cyberpact.Object) error {
			got++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s sees %d observed-data, was sent %d events", p, got, want)
			have := map[string]bool{}
			dbs[0].EachObject(ctx, cyberpact.ObjectFilter{Types: []string{"observed-data"}, Viewer: &cyberpact.Viewer{Org: org, Exercise: x.ID}}, func(o *cyberpact.Object) error {
				have[o.ID] = true
				return nil
			})
			for _, ev := range e.Released() {
				if ev.Participant == p && !have[e.ObservedDataID(ev)] {
					t.Logf("missing %s: event %+v", e.ObservedDataID(ev), *ev)
				}
			}
		}
	}
}
