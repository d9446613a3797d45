package exercise

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
)

// Hub runs exercises on a hub: their state lives in an ExerciseStore, so
// that any serve process sharing the store can drive them, and what they
// release goes into the object store inside the exercise's audiences
// (cyberpact.AudienceExerciseOrg for one participant,
// cyberpact.AudienceExercise for all), never anywhere else. The ground
// truth is stripped from everything delivered and stays with the engine,
// which Restore rebuilds from the stored snapshot on each call.
type Hub struct {
	Exercises cyberpact.ExerciseStore
	Objects   cyberpact.ObjectStore
	// Audit records the artefacts the engine delivers, as writes by
	// "exercise"; nil means Objects, when it is an audit log too.
	Audit cyberpact.AuditLog
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// KnownTechniques, when set, are the ATT&CK ids scenarios may use.
	KnownTechniques map[string]bool
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// invalid turns a scenario file's errors into one EINVALID error that
// keeps every line and field.
func invalid(err error) error {
	var es Errors
	var fe *FileError
	if errors.As(err, &es) || errors.As(err, &fe) {
		return &cyberpact.Error{Code: cyberpact.EINVALID, Message: err.Error(), Err: err}
	}
	return err
}

// Start starts an exercise of the scenario file data (named file in
// messages, checked as ParseScenario checks it) on the hub: orgs maps
// every scenario participant to the member organisation playing it. It
// delivers the exercise's marking definition to every participant and
// whatever is due at once. Returns EINVALID for a bad scenario file (with
// every line and field), a participant without an organisation, an
// unknown participant or an organisation playing two.
func (h *Hub) Start(ctx context.Context, file string, data []byte, orgs map[string]int64, seed uint64, speed float64) (*cyberpact.Exercise, error) {
	sc, err := ParseScenario(file, data, LoadOptions{KnownTechniques: h.KnownTechniques})
	if err != nil {
		return nil, invalid(err)
	}
	var problems []string
	playedBy := map[int64]string{}
	for _, p := range sc.Participants {
		org, ok := orgs[p.ID]
		switch {
		case !ok || org == 0:
			problems = append(problems, fmt.Sprintf("participant %q has no organisation (--participants %s=ORG)", p.ID, p.ID))
		case playedBy[org] != "":
			problems = append(problems, fmt.Sprintf("organisation %d plays both %q and %q", org, playedBy[org], p.ID))
		default:
			playedBy[org] = p.ID
		}
	}
	for id := range orgs {
		if _, ok := sc.Participant(id); !ok {
			problems = append(problems, fmt.Sprintf("scenario %s has no participant %q", sc.Name, id))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s", strings.Join(problems, "; "))
	}
	e, err := NewEngine(sc, seed, speed)
	if err != nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%v", err)
	}
	if err := e.Start(h.now()); err != nil {
		return nil, err
	}
	snap, _ := json.Marshal(e.Snapshot())
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, invalid(err)
	}
	x := &cyberpact.Exercise{Name: sc.Name, Scenario: compact.Bytes(), Seed: seed, Speed: speed,
		Participants: orgs, State: string(e.State()), Engine: snap}
	if err := h.Exercises.CreateExercise(ctx, x); err != nil {
		return nil, err
	}
	marking := map[string]any{}
	for k, v := range e.marking {
		if k != TruthKey {
			marking[k] = v
		}
	}
	if err := h.deliver(ctx, cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: x.ID}, 0, []map[string]any{marking}); err != nil {
		return nil, err
	}
	if err := h.Advance(ctx, x.ID); err != nil {
		return nil, err
	}
	return h.Exercises.Exercise(ctx, x.ID)
}

// Load returns an exercise and its engine as of its last save.
func (h *Hub) Load(ctx context.Context, id int64) (*cyberpact.Exercise, *Engine, error) {
	x, err := h.Exercises.Exercise(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	e, err := h.engine(x)
	return x, e, err
}

func (h *Hub) engine(x *cyberpact.Exercise) (*Engine, error) {
	sc, err := ParseScenario(x.Name+".json", x.Scenario, LoadOptions{})
	if err != nil {
		return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "reading a stored scenario", Err: err}
	}
	var s Snapshot
	if err := json.Unmarshal(x.Engine, &s); err != nil {
		return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "reading a stored exercise state", Err: err}
	}
	e, err := Restore(sc, x.Seed, x.Speed, s)
	if err != nil {
		return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "restoring an exercise", Err: err}
	}
	return e, nil
}

// errUnchanged tells update that fn changed nothing worth saving.
var errUnchanged = errors.New("unchanged")

// update runs fn on the exercise's engine and saves the result, again
// from the newest save when another process saved first (fn's deliveries
// are idempotent: the same ids with the same content).
func (h *Hub) update(ctx context.Context, id int64, fn func(x *cyberpact.Exercise, e *Engine) error) error {
	for attempt := 0; ; attempt++ {
		x, e, err := h.Load(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(x, e); err != nil {
			if errors.Is(err, errUnchanged) {
				return nil
			}
			return err
		}
		x.State = string(e.State())
		x.Engine, _ = json.Marshal(e.Snapshot())
		err = h.Exercises.UpdateExercise(ctx, x)
		if cyberpact.ErrorCode(err) == cyberpact.ECONFLICT && attempt < 20 {
			continue
		}
		return err
	}
}

// stateError explains why an operation is refused in a state.
func stateError(x *cyberpact.Exercise, op string) error {
	return cyberpact.Errorf(cyberpact.ECONFLICT, "exercise %d is %s: it cannot %s", x.ID, x.State, op)
}

// Pause stops an exercise's clock. Returns ECONFLICT unless it is running.
func (h *Hub) Pause(ctx context.Context, id int64) error {
	return h.update(ctx, id, func(x *cyberpact.Exercise, e *Engine) error {
		if _, err := h.advance(ctx, x, e); err != nil {
			return err
		}
		if e.Pause(h.now()) != nil {
			return stateError(x, "be paused")
		}
		return nil
	})
}

// Resume restarts a paused exercise's clock. Returns ECONFLICT unless it
// is paused.
func (h *Hub) Resume(ctx context.Context, id int64) error {
	return h.update(ctx, id, func(x *cyberpact.Exercise, e *Engine) error {
		if e.Resume(h.now()) != nil {
			return stateError(x, "be resumed")
		}
		return nil
	})
}

// Stop ends an exercise: nothing more is released; its scores and
// objects stay until it is purged. Returns ECONFLICT when it is over.
func (h *Hub) Stop(ctx context.Context, id int64) error {
	return h.update(ctx, id, func(x *cyberpact.Exercise, e *Engine) error {
		if e.State() == Running {
			if _, err := h.advance(ctx, x, e); err != nil {
				return err
			}
		}
		if e.Stop(h.now()) != nil {
			return stateError(x, "be stopped")
		}
		return nil
	})
}

// Purge deletes an exercise and everything it delivered or received, and
// returns how many object versions went.
func (h *Hub) Purge(ctx context.Context, id int64) (int, error) {
	return h.Exercises.PurgeExercise(ctx, id)
}

// Tick advances every running exercise to now: what serve calls on its
// ticker. An exercise that fails does not hold up the others; the errors
// are joined.
func (h *Hub) Tick(ctx context.Context) error {
	xs, err := h.Exercises.Exercises(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, x := range xs {
		if x.State != string(Running) {
			continue
		}
		if err := h.Advance(ctx, x.ID); err != nil {
			errs = append(errs, fmt.Errorf("exercise %d: %w", x.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Advance releases what an exercise has due by now and delivers it. An
// exercise that is not running is left alone.
func (h *Hub) Advance(ctx context.Context, id int64) error {
	return h.update(ctx, id, func(x *cyberpact.Exercise, e *Engine) error {
		if e.State() != Running {
			return errUnchanged
		}
		released, err := h.advance(ctx, x, e)
		if err != nil {
			return err
		}
		if !released && e.State() == Running {
			return errUnchanged
		}
		return nil
	})
}

// advance moves e to now and delivers the batch: each participant's
// telemetry (observed-data and its observables) to that participant;
// discoveries' indicators to the discovering participant, warnings' to
// every participant; and records the holdings the injects give. It
// reports whether anything was released.
func (h *Hub) advance(ctx context.Context, x *cyberpact.Exercise, e *Engine) (bool, error) {
	b, err := e.Advance(h.now())
	if err != nil {
		return false, nil // not running: nothing to release
	}
	released := len(b.Events) > 0 || len(b.Firings) > 0 || len(b.Injects) > 0
	own := func(p string) cyberpact.Audience {
		return cyberpact.Audience{Kind: cyberpact.AudienceExerciseOrg, Group: x.ID}
	}
	all := cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: x.ID}
	for _, in := range b.Injects {
		at := e.TimeAt(in.At)
		switch in.Kind {
		case Discovery:
			if err := h.deliver(ctx, own(in.Participant), x.Participants[in.Participant], e.scoped(e.Indicators(in.Step), in.Participant)); err != nil {
				return false, err
			}
			e.RecordHolding(Holding{Participant: in.Participant, Step: in.Step, Time: at, Via: "discovery"})
		case Warning:
			if err := h.deliver(ctx, all, x.Participants[in.From], e.scoped(e.Indicators(in.Step), "*")); err != nil {
				return false, err
			}
			to := in.To
			if len(to) == 0 {
				for _, p := range e.sc.Participants {
					if p.ID != in.From {
						to = append(to, p.ID)
					}
				}
			}
			for _, p := range to {
				e.RecordHolding(Holding{Participant: p, Step: in.Step, Time: at, Via: "warning from " + in.From})
			}
		}
	}
	byParticipant := map[string][]map[string]any{}
	for _, ev := range b.Events {
		// Each event's observables are its own: content-derived ids
		// (an e-mail's from and subject) recur across events with other
		// content, which the store would refuse as a conflict.
		byParticipant[ev.Participant] = append(byParticipant[ev.Participant], e.scoped(e.Observed(ev), ev.Participant+"/"+ev.ID)...)
	}
	for _, p := range e.sc.Participants {
		if objs := byParticipant[p.ID]; len(objs) > 0 {
			if err := h.deliver(ctx, own(p.ID), x.Participants[p.ID], objs); err != nil {
				return false, err
			}
		}
	}
	return released, nil
}

// scoped prepares artefacts for delivery in a scope (a participant, "*"
// for all, or one participant's event): the ground truth goes, and the
// ids of cyber observables and indicators are made the scope's own (with
// every reference to them rewritten), because a stored version belongs to
// one audience and two participants see the same adversary
// infrastructure. Observed-data keeps its id, which sightings name.
func (e *Engine) scoped(objs []map[string]any, to string) []map[string]any {
	ids := map[string]string{}
	for _, o := range objs {
		delete(o, TruthKey)
		id, _ := o["id"].(string)
		typ, _ := o["type"].(string)
		if typ == "observed-data" || typ == "marking-definition" {
			continue
		}
		ids[id] = typ + "--" + gen.UUID4(rng(e.seed, "deliver", to, id))
	}
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch v := v.(type) {
		case string:
			if n, ok := ids[v]; ok {
				return n
			}
		case []any:
			for i := range v {
				v[i] = rewrite(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = rewrite(v[k])
			}
		}
		return v
	}
	for _, o := range objs {
		rewrite(o)
	}
	return objs
}

// deliver imports objects as produced by producer for audience.
func (h *Hub) deliver(ctx context.Context, aud cyberpact.Audience, producer int64, objs []map[string]any) error {
	if len(objs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"bundle","id":"bundle--` + gen.UUID4(rng(uint64(aud.Group), "delivery")) + `","objects":[`)
	seen := map[any]bool{}
	for _, o := range objs {
		if seen[o["id"]] {
			continue
		}
		if len(seen) > 0 {
			buf.WriteByte(',')
		}
		seen[o["id"]] = true
		buf.Write(mustJSON(o))
	}
	buf.WriteString("]}")
	dec := stix.NewDecoder(&buf)
	defer dec.Close()
	log := h.Audit
	if log == nil {
		log, _ = h.Objects.(cyberpact.AuditLog)
	}
	res, err := cyberpact.AuditedImport(ctx, h.Objects, log, cyberpact.Actor{Name: "exercise", Via: "exercise"}, dec.Next,
		cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: cyberpact.TLPAmber}, fmt.Sprintf("exercise %d delivery", aud.Group))
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "delivering exercise artefacts", Err: cyberpact.Rejections(res.Rejected)}
	}
	return nil
}

// ReportResult says what a participant's report did to the exercise.
type ReportResult struct {
	Alerts   int      `json:"alerts"`   // sightings of delivered events recorded
	Holdings int      `json:"holdings"` // participants who came to hold an indicator by a share
	Ignored  []string `json:"ignored,omitempty"`
}

// Report takes what organisation org reported in exercise id: each
// sighting whose observed_data_refs name events delivered to it becomes
// an alert on them (source "intel" when it is a sighting of an
// indicator, "own" otherwise), and a detection of a malicious event
// means the participant holds that step's indicator. With shared (the
// objects were addressed to the whole exercise), each indicator whose
// pattern is one of a step's IOCs is a warning: every other participant
// holds that step's indicator from now. Returns ENOTFOUND when org plays
// no participant and ECONFLICT when the exercise is over.
func (h *Hub) Report(ctx context.Context, id, org int64, objs []json.RawMessage, shared bool) (*ReportResult, error) {
	res := &ReportResult{}
	err := h.update(ctx, id, func(x *cyberpact.Exercise, e *Engine) error {
		*res = ReportResult{}
		p, ok := x.Participant(org)
		if !ok {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
		}
		if e.State() != Running && e.State() != Paused {
			return stateError(x, "take reports")
		}
		now := h.now()
		byObserved := map[string]*Event{}
		for _, ev := range e.Released() {
			if ev.Participant == p {
				byObserved[e.ObservedDataID(ev)] = ev
			}
		}
		alerted := map[string]bool{}
		for _, a := range e.alerts {
			if a.Participant == p {
				alerted[a.Event] = true
			}
		}
		patterns := map[string]string{}
		for _, st := range e.sc.Steps {
			for _, ioc := range e.IOCs(st.ID) {
				patterns[ioc.Pattern()] = st.ID
			}
		}
		for _, raw := range objs {
			var o struct {
				Type       string   `json:"type"`
				ID         string   `json:"id"`
				Of         string   `json:"sighting_of_ref"`
				Observed   []string `json:"observed_data_refs"`
				Pattern    string   `json:"pattern"`
				References []struct {
					Source string `json:"source_name"`
					ID     string `json:"external_id"`
				} `json:"external_references"`
			}
			if json.Unmarshal(raw, &o) != nil {
				continue
			}
			switch {
			case o.Type == "sighting":
				source := "own"
				if strings.HasPrefix(o.Of, "indicator--") {
					source = "intel"
				}
				n := 0
				for _, ref := range o.Observed {
					ev := byObserved[ref]
					if ev == nil || alerted[ev.ID] {
						continue
					}
					alerted[ev.ID] = true
					if err := e.RecordAlert(Alert{Participant: p, Event: ev.ID, Time: now, Source: source}); err != nil {
						return err
					}
					n++
					if !ev.Benign {
						e.RecordHolding(Holding{Participant: p, Step: ev.Step, Time: now, Via: "detection"})
					}
				}
				res.Alerts += n
				if n == 0 {
					res.Ignored = append(res.Ignored, o.ID+": names no event delivered to "+p+" that it has not reported yet")
				}
			case o.Type == "indicator" && shared:
				step, ok := patterns[o.Pattern]
				if !ok {
					res.Ignored = append(res.Ignored, o.ID+": its pattern is none of the exercise's indicators")
					continue
				}
				for _, q := range e.sc.Participants {
					if q.ID == p {
						continue
					}
					if _, held := e.Holding(q.ID, step); !held {
						res.Holdings++
					}
					e.RecordHolding(Holding{Participant: q.ID, Step: step, Time: now, Via: "share from " + p})
				}
			}
		}
		if res.Alerts == 0 && res.Holdings == 0 {
			return errUnchanged
		}
		return nil
	})
	return res, err
}

// Telemetry writes the ECS lines delivered so far to the participant org
// plays, without the ground truth. Returns ENOTFOUND when it plays none.
func (h *Hub) Telemetry(ctx context.Context, id, org int64, w io.Writer) error {
	x, e, err := h.Load(ctx, id)
	if err != nil {
		return err
	}
	p, ok := x.Participant(org)
	if !ok {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	return e.WriteECS(w, p, false)
}

// SightingsFromMatches turns the alerts of `cyberpact match` over an
// exercise's ECS telemetry (one JSON object a line, "event" the ECS line
// and "indicators" the ids it matched) into a STIX bundle of sightings:
// one per event and indicator, naming the event's observed-data (its
// labels.observed_data), first seen at the event's time. Lines without
// an observed-data label are skipped; a line that is not JSON is an error
// naming it.
func SightingsFromMatches(r io.Reader, now time.Time) ([]byte, int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	seen := map[string]bool{}
	var objs []map[string]any
	ts := stix.FormatTime(now)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var a struct {
			Event struct {
				Timestamp string            `json:"@timestamp"`
				Labels    map[string]string `json:"labels"`
			} `json:"event"`
			Indicators []string `json:"indicators"`
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, 0, fmt.Errorf("line %d: not a match alert: %v", line, err)
		}
		od := a.Event.Labels["observed_data"]
		if od == "" {
			continue
		}
		for _, ind := range a.Indicators {
			if seen[od+ind] {
				continue
			}
			seen[od+ind] = true
			s := map[string]any{"type": "sighting", "spec_version": "2.1",
				"id":      "sighting--" + gen.UUID4(rng(0, "sighting", od, ind)),
				"created": ts, "modified": ts, "count": 1,
				"sighting_of_ref": ind, "observed_data_refs": []any{od}}
			if a.Event.Timestamp != "" {
				s["first_seen"], s["last_seen"] = a.Event.Timestamp, a.Event.Timestamp
			}
			objs = append(objs, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"bundle","id":"bundle--` + gen.UUID4(rng(uint64(len(objs)), "sightings", ts)) + `","objects":[`)
	for i, o := range objs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(mustJSON(o))
	}
	buf.WriteString("]}\n")
	return buf.Bytes(), len(objs), nil
}
