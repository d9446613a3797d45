package exercise

import (
	"fmt"
	"time"
)

// Snapshot is what a hub keeps of a running exercise between calls: with
// the scenario, the seed and the speed it is enough to rebuild the engine
// exactly (Restore), because everything else the engine holds is drawn
// from the seed. It marshals to JSON.
type Snapshot struct {
	State    State         `json:"state"`
	Started  time.Time     `json:"started,omitzero"`
	PausedAt time.Time     `json:"paused_at,omitzero"`
	Pauses   []PauseRecord `json:"pauses,omitempty"`
	// Reached is the scenario offset the exercise has been advanced to:
	// every step, inject and event due by then has been released.
	Reached time.Duration `json:"reached"`
	// Advanced says whether the exercise was ever advanced: a snapshot
	// taken at its start has released nothing, not even what is due at 0.
	Advanced bool      `json:"advanced,omitempty"`
	Holdings []Holding `json:"holdings,omitempty"`
	Alerts   []Alert   `json:"alerts,omitempty"`
}

// PauseRecord is one pause of the exercise clock: at which scenario
// offset, and for how long in wall time.
type PauseRecord struct {
	At     time.Duration `json:"at"`
	Length time.Duration `json:"length"`
}

// Snapshot returns the engine's state for Restore.
func (e *Engine) Snapshot() Snapshot {
	s := Snapshot{State: e.state, Started: e.started, PausedAt: e.pausedAt, Reached: e.reached, Advanced: e.advanced, Alerts: append([]Alert(nil), e.alerts...)}
	for _, p := range e.pauses {
		s.Pauses = append(s.Pauses, PauseRecord{At: p.at, Length: p.length})
	}
	for _, p := range e.sc.Participants {
		for _, st := range e.sc.Steps {
			if h, ok := e.holdings[p.ID][st.ID]; ok {
				s.Holdings = append(s.Holdings, h)
			}
		}
	}
	return s
}

// Restore rebuilds the engine of an exercise of sc, seed and speed from a
// snapshot: the same events, firings, holdings and alerts, released up to
// the same offset. Conditional steps decide the same way, because a
// holding recorded after a step fired is later than the step's deadline
// (a deadline is never after its step).
func Restore(sc *Scenario, seed uint64, speed float64, s Snapshot) (*Engine, error) {
	e, err := NewEngine(sc, seed, speed)
	if err != nil {
		return nil, err
	}
	if s.State == Planned {
		return e, nil
	}
	if s.Started.IsZero() {
		return nil, fmt.Errorf("exercise: snapshot in state %s has no start time", s.State)
	}
	if err := e.Start(s.Started); err != nil {
		return nil, err
	}
	for _, p := range s.Pauses {
		e.pauses = append(e.pauses, pause{p.At, p.Length})
		e.paused += p.Length
	}
	for _, h := range s.Holdings {
		e.RecordHolding(h)
	}
	if s.Advanced {
		e.advanceTo(s.Reached)
	}
	for _, a := range s.Alerts {
		if err := e.RecordAlert(a); err != nil {
			return nil, err
		}
	}
	e.state, e.pausedAt = s.State, s.PausedAt
	return e, nil
}

// Reached returns the scenario offset the exercise has been advanced to:
// everything due by then has been released.
func (e *Engine) Reached() time.Duration { return e.reached }
