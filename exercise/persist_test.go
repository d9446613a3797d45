package exercise

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestRestoredEngineMatchesTheOriginal drives an exercise with pauses,
// holdings and alerts, snapshots it through JSON after each call, and
// checks that the restored engine scores and releases exactly as the
// original.
func TestRestoredEngineMatchesTheOriginal(t *testing.T) {
	sc := builtin(t, "financial-drill", LoadOptions{})
	e, err := NewEngine(sc, 7, 60)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	roundTrip := func() *Engine {
		t.Helper()
		b, err := json.Marshal(e.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		var s Snapshot
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		r, err := Restore(sc, 7, 60, s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := e.Start(now); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		now = now.Add(40 * time.Second)
		switch i {
		case 3:
			e.Pause(now)
			now = now.Add(5 * time.Minute)
			e.Resume(now)
		case 5:
			e.RecordHolding(Holding{Participant: sc.Participants[0].ID, Step: sc.Steps[0].ID, Time: now, Via: "detection"})
		}
		b, err := e.Advance(now)
		if err != nil {
			break
		}
		for _, ev := range b.Events {
			if !ev.Benign {
				e.RecordAlert(Alert{Participant: ev.Participant, Event: ev.ID, Time: now, Source: "own"})
			}
		}
		r := roundTrip()
		if r.State() != e.State() || len(r.Released()) != len(e.Released()) {
			t.Fatalf("after call %d: restored %s with %d events, original %s with %d", i, r.State(), len(r.Released()), e.State(), len(e.Released()))
		}
		var a, b2 bytes.Buffer
		Score(e).Markdown(&a)
		Score(r).Markdown(&b2)
		if a.String() != b2.String() {
			t.Fatalf("after call %d the restored engine scores differently:\n%s\n---\n%s", i, a.String(), b2.String())
		}
		e = r // go on with the restored one, as a hub does
	}
}
