package exercise

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cyberpact/cyberpact/internal/gen"
)

// State is where an exercise is in its life.
type State string

// The states. An exercise goes Planned -> Running <-> Paused -> Stopped,
// or Running -> Finished when its scenario time is over.
const (
	Planned  State = "planned"
	Running  State = "running"
	Paused   State = "paused"
	Stopped  State = "stopped"
	Finished State = "finished"
)

// ErrState is returned for an operation the exercise's state does not
// allow, such as pausing one that is not running.
var ErrState = errors.New("exercise: operation not allowed in this state")

// Event is one generated telemetry event, with its ground truth. Offset is
// the scenario time it is due at; Time, the exercise time it carries,
// is set when the engine releases it.
type Event struct {
	ID          string
	Offset      time.Duration
	Time        time.Time
	Participant string
	Step        string // "" for benign background
	Technique   string
	Benign      bool
	ecs         doc
}

// Firing is one step against one target: fired, or skipped because the
// target was warned in time.
type Firing struct {
	Step        string
	Technique   string
	Participant string
	Offset      time.Duration
	Time        time.Time
	Skipped     bool
	Reason      string   // why it was skipped
	Events      []string // ids of its events, in time order
}

// Holding is the moment a participant came to hold the indicator of a
// step: by its own detection, a discovery inject, a partner's share or a
// warning.
type Holding struct {
	Participant string
	Step        string
	Time        time.Time
	Via         string // "detection", "discovery", "share from ORG", "warning from ORG"
}

// Alert is a participant's report that an event is malicious: a detection
// when the event is, a false positive when it is not. Source is how it was
// found ("own" capability or "intel" from a held indicator).
type Alert struct {
	Participant string
	Event       string
	Time        time.Time
	Source      string
	Technique   string // the technique the alert claimed, if any
}

// Batch is what an Advance releases: the events now due, the firings of
// the steps now due, and the injects now due.
type Batch struct {
	Events  []*Event
	Firings []*Firing
	Injects []Inject
}

// Engine runs one exercise: it fires the steps of a scenario on an
// accelerated clock, generating their telemetry and the background noise,
// decides conditional steps from the holdings reported to it, and keeps
// the ground truth the scorer needs. It never reads a clock itself: every
// operation takes the current time, so a hub drives it with the wall clock
// and a simulation with its own. It is not safe for concurrent use.
type Engine struct {
	sc    *Scenario
	seed  uint64
	speed float64

	state     State
	started   time.Time     // wall time of Start
	paused    time.Duration // wall time spent paused
	pausedAt  time.Time
	pauses    []pause
	nextStep  int // index into order
	order     []int
	nextInj   int
	injOrder  []int
	infra     map[string]*infra
	pending   []*Event // generated, not yet released, sorted by Offset
	events    map[string]*Event
	released  []*Event
	firings   []*Firing
	holdings  map[string]map[string]Holding
	alerts    []Alert
	marking   map[string]any
	evCounter int
	reached   time.Duration // the scenario offset advanced to
	advanced  bool          // whether advanceTo ever ran
}

// pause is one pause of the exercise clock: at which scenario offset and
// for how long.
type pause struct{ at, length time.Duration }

// NewEngine returns a planned exercise of sc. seed makes it reproducible;
// speed (> 0) is how many seconds of scenario time pass per second of
// exercise time.
func NewEngine(sc *Scenario, seed uint64, speed float64) (*Engine, error) {
	if speed <= 0 {
		return nil, fmt.Errorf("exercise: speed must be above 0, not %v", speed)
	}
	e := &Engine{sc: sc, seed: seed, speed: speed, state: Planned, infra: map[string]*infra{},
		events: map[string]*Event{}, holdings: map[string]map[string]Holding{}}
	for i := range sc.Steps {
		e.order = append(e.order, i)
	}
	sort.SliceStable(e.order, func(a, b int) bool { return sc.Steps[e.order[a]].At < sc.Steps[e.order[b]].At })
	for i := range sc.Injects {
		e.injOrder = append(e.injOrder, i)
	}
	sort.SliceStable(e.injOrder, func(a, b int) bool { return sc.Injects[e.injOrder[a]].At < sc.Injects[e.injOrder[b]].At })
	for _, st := range sc.Steps {
		e.infra[st.ID] = generators[st.Generator].infra(rng(seed, "infra", sc.Name, st.ID))
	}
	e.marking = markingDefinition(sc, seed)
	return e, nil
}

// Scenario returns the exercise's scenario.
func (e *Engine) Scenario() *Scenario { return e.sc }

// Seed returns the exercise's seed.
func (e *Engine) Seed() uint64 { return e.seed }

// Speed returns the acceleration factor.
func (e *Engine) Speed() float64 { return e.speed }

// State returns the exercise's state.
func (e *Engine) State() State { return e.state }

// Started returns the exercise (wall) time Start ran at, zero while the
// exercise is planned. A simulation starts at its scenario's start; a hub
// at the moment the exercise was started.
func (e *Engine) Started() time.Time { return e.started }

// Start starts a planned exercise at now and generates its background
// noise. Returns ErrState unless the exercise is planned.
func (e *Engine) Start(now time.Time) error {
	if e.state != Planned {
		return ErrState
	}
	e.state, e.started = Running, now
	for _, p := range e.sc.Participants {
		e.background(p.ID)
	}
	return nil
}

// Pause stops the exercise clock at now. Returns ErrState unless running.
func (e *Engine) Pause(now time.Time) error {
	if e.state != Running {
		return ErrState
	}
	e.state, e.pausedAt = Paused, now
	return nil
}

// Resume restarts the exercise clock at now. Returns ErrState unless
// paused.
func (e *Engine) Resume(now time.Time) error {
	if e.state != Paused {
		return ErrState
	}
	at := e.Offset(e.pausedAt)
	e.paused += now.Sub(e.pausedAt)
	e.pauses = append(e.pauses, pause{at, now.Sub(e.pausedAt)})
	e.state = Running
	return nil
}

// Stop ends the exercise early; nothing more is released. Returns ErrState
// when it is already over.
func (e *Engine) Stop(now time.Time) error {
	if e.state == Stopped || e.state == Finished {
		return ErrState
	}
	e.state = Stopped
	return nil
}

// Offset returns the scenario time reached at wall time now.
func (e *Engine) Offset(now time.Time) time.Duration {
	switch e.state {
	case Planned:
		return 0
	case Paused:
		now = e.pausedAt
	}
	return time.Duration(float64(now.Sub(e.started)-e.paused) * e.speed)
}

// TimeAt returns the exercise (wall) time at which scenario offset d is
// (or was) reached, given the pauses so far: those before d delay it.
func (e *Engine) TimeAt(d time.Duration) time.Time {
	t := e.started.Add(time.Duration(float64(d) / e.speed))
	for _, p := range e.pauses {
		if p.at < d {
			t = t.Add(p.length)
		}
	}
	return t.UTC()
}

// NextDue returns the scenario offset of the next step or inject, and
// false when none is left.
func (e *Engine) NextDue() (time.Duration, bool) {
	var next time.Duration
	ok := false
	if e.nextStep < len(e.order) {
		next, ok = e.sc.Steps[e.order[e.nextStep]].At, true
	}
	if e.nextInj < len(e.injOrder) {
		if at := e.sc.Injects[e.injOrder[e.nextInj]].At; !ok || at < next {
			next, ok = at, true
		}
	}
	return next, ok
}

// Advance releases what is due by wall time now: the injects and the steps
// (fired or skipped), and the events up to now. When the scenario time is
// over the exercise is Finished. Returns ErrState unless running.
func (e *Engine) Advance(now time.Time) (Batch, error) {
	if e.state != Running {
		return Batch{}, ErrState
	}
	return e.advanceTo(e.Offset(now)), nil
}

// AdvanceTo is Advance to a scenario offset instead of a wall time: what a
// simulation with no wall clock uses.
func (e *Engine) AdvanceTo(off time.Duration) (Batch, error) {
	if e.state != Running {
		return Batch{}, ErrState
	}
	return e.advanceTo(off), nil
}

func (e *Engine) advanceTo(off time.Duration) Batch {
	var b Batch
	if off < e.reached {
		off = e.reached
	}
	e.reached, e.advanced = off, true
	for e.nextInj < len(e.injOrder) && e.sc.Injects[e.injOrder[e.nextInj]].At <= off {
		b.Injects = append(b.Injects, e.sc.Injects[e.injOrder[e.nextInj]])
		e.nextInj++
	}
	for e.nextStep < len(e.order) && e.sc.Steps[e.order[e.nextStep]].At <= off {
		b.Firings = append(b.Firings, e.fire(&e.sc.Steps[e.order[e.nextStep]])...)
		e.nextStep++
	}
	n := 0
	for n < len(e.pending) && e.pending[n].Offset <= off {
		ev := e.pending[n]
		ev.Time = e.TimeAt(ev.Offset)
		e.released = append(e.released, ev)
		b.Events = append(b.Events, ev)
		n++
	}
	e.pending = e.pending[n:]
	if off >= e.sc.Duration && e.nextStep == len(e.order) && len(e.pending) == 0 {
		e.state = Finished
	}
	return b
}

// fire fires one step against each of its targets.
func (e *Engine) fire(st *Step) []*Firing {
	var out []*Firing
	for _, p := range st.Targets {
		f := &Firing{Step: st.ID, Technique: st.Technique, Participant: p, Offset: st.At, Time: e.TimeAt(st.At)}
		out = append(out, f)
		e.firings = append(e.firings, f)
		if c := st.UnlessWarned; c != nil {
			if h, ok := e.Holding(p, c.Step); ok && !h.Time.After(e.TimeAt(c.By)) {
				f.Skipped = true
				f.Reason = fmt.Sprintf("held the indicator of %s at %s (%s), by the deadline %s", c.Step, h.Time.Format(time.RFC3339), h.Via, fmtDur(c.By))
				continue
			}
		}
		r := rng(e.seed, "instance", e.sc.Name, st.ID, p)
		c := &instance{r: r, participant: p, technique: st.Technique}
		g := generators[st.Generator]
		for i, off := range jittered(r, st.At, st.Params) {
			d := g.event(c, e.infra[st.ID], i)
			ev := &Event{ID: e.newID(), Offset: off, Participant: p, Step: st.ID, Technique: st.Technique, ecs: d}
			e.add(ev)
			f.Events = append(f.Events, ev.ID)
		}
	}
	return out
}

// background generates a participant's benign events for the whole
// scenario, evenly spread with jitter.
func (e *Engine) background(p string) {
	n := int(e.sc.BackgroundPerHour * e.sc.Duration.Hours())
	if n == 0 {
		return
	}
	r := rng(e.seed, "background", e.sc.Name, p)
	step := e.sc.Duration / time.Duration(n)
	for i := 0; i < n; i++ {
		off := (time.Duration(i)*step + time.Duration(r.Int64N(int64(step)+1))).Truncate(time.Millisecond)
		ev := &Event{ID: e.newID(), Offset: off, Participant: p, Benign: true, ecs: benignEvent(r, p)}
		e.add(ev)
	}
}

func (e *Engine) newID() string {
	e.evCounter++
	return gen.UUID4(rng(e.seed, "event", fmt.Sprint(e.evCounter)))
}

func (e *Engine) add(ev *Event) {
	e.events[ev.ID] = ev
	i := sort.Search(len(e.pending), func(i int) bool { return e.pending[i].Offset > ev.Offset })
	e.pending = slices.Insert(e.pending, i, ev)
}

// RecordHolding notes that a participant holds a step's indicator from
// h.Time; an earlier holding of the same indicator is kept.
func (e *Engine) RecordHolding(h Holding) {
	m := e.holdings[h.Participant]
	if m == nil {
		m = map[string]Holding{}
		e.holdings[h.Participant] = m
	}
	if old, ok := m[h.Step]; ok && !h.Time.Before(old.Time) {
		return
	}
	m[h.Step] = h
}

// Holding returns when a participant came to hold a step's indicator.
func (e *Engine) Holding(participant, step string) (Holding, bool) {
	h, ok := e.holdings[participant][step]
	return h, ok
}

// RecordAlert notes a participant's alert on an event. Returns an error
// for an event the exercise did not release to that participant.
func (e *Engine) RecordAlert(a Alert) error {
	ev, ok := e.events[a.Event]
	if !ok || ev.Participant != a.Participant {
		return fmt.Errorf("exercise: %s received no event %s", a.Participant, a.Event)
	}
	e.alerts = append(e.alerts, a)
	return nil
}

// Event returns a generated event by id, or nil.
func (e *Engine) Event(id string) *Event { return e.events[id] }

// Released returns the events released so far, in release order.
func (e *Engine) Released() []*Event { return e.released }

// Firings returns the firings so far, in order.
func (e *Engine) Firings() []*Firing { return e.firings }

// IOCs returns the indicator values of a step.
func (e *Engine) IOCs(step string) []IOC {
	if in := e.infra[step]; in != nil {
		return in.iocs
	}
	return nil
}
