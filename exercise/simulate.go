package exercise

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// ProfilesSchema is the value of a profiles file's "schema" field.
const ProfilesSchema = "cyberpact-profiles/1"

// Profile says how a simulated participant behaves: which techniques it
// catches and how fast, how fast it shares what it finds, how often it
// raises false alarms, and whether it matches the indicators it holds.
type Profile struct {
	Default    Capability
	Techniques map[string]Capability
	// SharingDelay is drawn, after each own detection, for when the
	// participant's indicator reaches the others.
	SharingDelay Delay
	// Shares is false for a participant that never shares.
	Shares bool
	// FalsePositiveRate is the chance that a benign event raises an alert.
	FalsePositiveRate float64
	// UsesIntel makes a held indicator detect the step's events from the
	// moment it is held.
	UsesIntel bool
}

// Capability is the chance to detect a technique and the delay after its
// first event.
type Capability struct {
	Probability float64
	Delay       Delay
}

// Delay is a uniform distribution of durations between Min and Max (equal
// for a fixed delay).
type Delay struct{ Min, Max time.Duration }

func (d Delay) draw(r *rand.Rand) time.Duration {
	if d.Max <= d.Min {
		return d.Min
	}
	return (d.Min + time.Duration(r.Int64N(int64(d.Max-d.Min)+1))).Truncate(time.Second)
}

// Profiles are the simulated participants' profiles by participant id;
// "*" is the profile of participants not named.
type Profiles map[string]*Profile

// For returns the profile of a participant.
func (ps Profiles) For(id string) *Profile {
	if p, ok := ps[id]; ok {
		return p
	}
	if p, ok := ps["*"]; ok {
		return p
	}
	return &Profile{}
}

type profilesFile struct {
	Schema   string                  `json:"schema"`
	Profiles map[string]*profileFile `json:"profiles"`
}

type profileFile struct {
	Default           *capabilityFile           `json:"default"`
	Techniques        map[string]capabilityFile `json:"techniques"`
	SharingDelay      json.RawMessage           `json:"sharing_delay"`
	FalsePositiveRate *float64                  `json:"false_positive_rate"`
	UsesIntel         *bool                     `json:"uses_shared_indicators"`
}

type capabilityFile struct {
	Detect json.RawMessage `json:"detect"`
	Delay  json.RawMessage `json:"delay"`
}

// ParseProfiles reads and checks a profiles file (see the package
// documentation), reporting every problem with its line and field.
func ParseProfiles(file string, data []byte) (Profiles, error) {
	pos, err := scanPositions(data)
	if err != nil {
		return nil, withFile(err, file)
	}
	var f profilesFile
	if err := decodeStrict(data, pos, &f); err != nil {
		return nil, withFile(err, file)
	}
	v := &validator{file: file, pos: pos}
	if f.Schema != ProfilesSchema {
		v.errf("schema", "want %q, not %q", ProfilesSchema, f.Schema)
	}
	if len(f.Profiles) == 0 {
		v.errf("profiles", "missing: give one profile per participant id (or \"*\" for all)")
	}
	out := Profiles{}
	ids := make([]string, 0, len(f.Profiles))
	for id := range f.Profiles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		pf, path := f.Profiles[id], "profiles."+id
		if pf == nil {
			v.errf(path, "want an object")
			continue
		}
		p := &Profile{UsesIntel: true, Shares: true}
		if pf.Default != nil {
			p.Default = v.capability(path+".default", *pf.Default)
		}
		tids := make([]string, 0, len(pf.Techniques))
		for t := range pf.Techniques {
			tids = append(tids, t)
		}
		sort.Strings(tids)
		for _, t := range tids {
			if !techniqueRE.MatchString(t) {
				v.errf(path+".techniques."+t, "%q is not an ATT&CK technique id", t)
			}
			if p.Techniques == nil {
				p.Techniques = map[string]Capability{}
			}
			p.Techniques[t] = v.capability(path+".techniques."+t, pf.Techniques[t])
		}
		if string(pf.SharingDelay) == "null" || len(pf.SharingDelay) == 0 {
			p.Shares = false
		} else {
			p.SharingDelay = v.delay(path+".sharing_delay", pf.SharingDelay)
		}
		if r := pf.FalsePositiveRate; r != nil {
			if *r < 0 || *r > 1 {
				v.errf(path+".false_positive_rate", "want a number from 0 to 1, not %v", *r)
			}
			p.FalsePositiveRate = *r
		}
		if pf.UsesIntel != nil {
			p.UsesIntel = *pf.UsesIntel
		}
		out[id] = p
	}
	if len(v.errs) > 0 {
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		return nil, v.errs
	}
	return out, nil
}

func (v *validator) capability(path string, c capabilityFile) Capability {
	var out Capability
	var det any
	if len(c.Detect) > 0 {
		json.Unmarshal(c.Detect, &det)
	}
	switch d := det.(type) {
	case nil:
		v.errf(path+".detect", "missing: give true, false or a probability from 0 to 1")
	case bool:
		if d {
			out.Probability = 1
		}
	case float64:
		if d < 0 || d > 1 {
			v.errf(path+".detect", "want a probability from 0 to 1, not %v", d)
		}
		out.Probability = d
	default:
		v.errf(path+".detect", "want true, false or a probability from 0 to 1")
	}
	if len(c.Delay) > 0 {
		out.Delay = v.delay(path+".delay", c.Delay)
	}
	return out
}

// delay reads "10m" or {"min": "5m", "max": "30m"}.
func (v *validator) delay(path string, raw json.RawMessage) Delay {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		d := v.duration(path, s, true)
		return Delay{d, d}
	}
	var r struct{ Min, Max string }
	if err := json.Unmarshal(raw, &r); err != nil {
		v.errf(path, "want a duration such as \"10m\" or {\"min\": \"5m\", \"max\": \"30m\"}")
		return Delay{}
	}
	d := Delay{v.duration(path+".min", r.Min, true), v.duration(path+".max", r.Max, true)}
	if d.Max < d.Min {
		v.errf(path+".max", "%s is less than min %s", r.Max, r.Min)
	}
	return d
}

// Run is a finished simulation: the engine with its ground truth and
// released telemetry, and the scores.
type Run struct {
	Engine *Engine
	Result *Result
}

// Simulate runs an exercise end to end with simulated participants: the
// engine fires every step on an exercise clock that starts at the
// scenario's start, and each participant, per its profile, alerts on what
// it catches, holds and shares indicators, and raises false alarms. The
// same scenario, profiles, seed and speed give the same run.
func Simulate(sc *Scenario, profiles Profiles, seed uint64, speed float64) (*Run, error) {
	e, err := NewEngine(sc, seed, speed)
	if err != nil {
		return nil, err
	}
	if err := e.Start(sc.Start); err != nil {
		return nil, err
	}
	s := &simulator{e: e, profiles: profiles}
	for {
		off, ok := e.NextDue()
		if !ok {
			break
		}
		b, err := e.AdvanceTo(off)
		if err != nil {
			return nil, err
		}
		s.batch(b)
	}
	b, err := e.AdvanceTo(sc.Duration)
	if err != nil {
		return nil, err
	}
	s.batch(b)
	s.finish()
	return &Run{Engine: e, Result: Score(e)}, nil
}

// simulator plays the participants.
type simulator struct {
	e        *Engine
	profiles Profiles
	firings  []*Firing
}

func (s *simulator) r(labels ...string) *rand.Rand {
	return rng(s.e.seed, append([]string{"sim", s.e.sc.Name}, labels...)...)
}

// detected holds a participant's own detection of a step and shares it.
func (s *simulator) hold(p, step string, at time.Time, via string, share bool) {
	s.e.RecordHolding(Holding{Participant: p, Step: step, Time: at, Via: via})
	prof := s.profiles.For(p)
	if !share || !prof.Shares {
		return
	}
	d := prof.SharingDelay.draw(s.r("share", step, p))
	for _, q := range s.e.sc.Participants {
		if q.ID != p {
			s.e.RecordHolding(Holding{Participant: q.ID, Step: step, Time: at.Add(d), Via: "share from " + p})
		}
	}
}

func (s *simulator) batch(b Batch) {
	for _, in := range b.Injects {
		at := s.e.TimeAt(in.At)
		switch in.Kind {
		case Discovery:
			s.hold(in.Participant, in.Step, at, "discovery", true)
		case Warning:
			to := in.To
			if len(to) == 0 {
				for _, p := range s.e.sc.Participants {
					if p.ID != in.From {
						to = append(to, p.ID)
					}
				}
			}
			for _, p := range to {
				s.e.RecordHolding(Holding{Participant: p, Step: in.Step, Time: at, Via: "warning from " + in.From})
			}
		}
	}
	// Own detections first, so that the shares they cause are known
	// before intelligence-driven detections of the same step.
	for _, f := range b.Firings {
		if f.Skipped || len(f.Events) == 0 {
			continue
		}
		s.firings = append(s.firings, f)
		prof := s.profiles.For(f.Participant)
		c, ok := prof.Techniques[f.Technique]
		if !ok {
			c = prof.Default
		}
		r := s.r("detect", f.Step, f.Participant)
		if r.Float64() < c.Probability {
			first := s.e.Event(f.Events[0])
			at := s.e.TimeAt(first.Offset).Add(c.Delay.draw(r))
			s.e.RecordAlert(Alert{Participant: f.Participant, Event: first.ID, Time: at, Source: "own"})
			s.hold(f.Participant, f.Step, at, "detection", true)
		}
	}
}

// finish adds the detections that held indicators give and the false
// positives, once every holding is known.
func (s *simulator) finish() {
	for _, f := range s.firings {
		prof := s.profiles.For(f.Participant)
		h, ok := s.e.Holding(f.Participant, f.Step)
		if !prof.UsesIntel || !ok {
			continue
		}
		for _, id := range f.Events {
			ev := s.e.Event(id)
			if !ev.Time.Before(h.Time) {
				s.e.RecordAlert(Alert{Participant: f.Participant, Event: id, Time: ev.Time, Source: "intel"})
				break
			}
		}
	}
	for _, p := range s.e.sc.Participants {
		prof := s.profiles.For(p.ID)
		if prof.FalsePositiveRate == 0 {
			continue
		}
		var techs []string
		for _, st := range s.e.sc.Steps {
			if slices.Contains(st.Targets, p.ID) && !slices.Contains(techs, st.Technique) {
				techs = append(techs, st.Technique)
			}
		}
		r := s.r("fp", p.ID)
		for _, ev := range s.e.Released() {
			if ev.Participant == p.ID && ev.Benign && r.Float64() < prof.FalsePositiveRate {
				a := Alert{Participant: p.ID, Event: ev.ID, Time: ev.Time, Source: "own"}
				if len(techs) > 0 {
					a.Technique = pick(r, techs)
				}
				s.e.RecordAlert(a)
			}
		}
	}
}

// String describes a delay.
func (d Delay) String() string {
	if d.Min == d.Max {
		return fmtDur(d.Min)
	}
	return fmt.Sprintf("%s-%s", fmtDur(d.Min), fmtDur(d.Max))
}
