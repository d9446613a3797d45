package exercise

import (
	"fmt"
	"sort"
	"time"
)

// Result is the scoring of an exercise from its ground truth and what the
// participants reported.
type Result struct {
	Exercise string  `json:"exercise"`
	Title    string  `json:"title"`
	Domain   string  `json:"domain"`
	Seed     uint64  `json:"seed"`
	Speed    float64 `json:"speed"`
	// Start is when the exercise started, on the clock its timeline
	// keeps: the scenario's start in a simulation, the moment it was
	// started on a hub.
	Start     time.Time `json:"start"`
	MarkingID string    `json:"marking_ref"`
	// Organisations names the member organisation that played each
	// participant, when the exercise ran on a hub (see PlayedBy); the
	// reports then name participants by them.
	Organisations map[string]string `json:"organisations,omitempty"`

	Rows         []Row              `json:"rows"`
	Techniques   []TechniqueScore   `json:"techniques"`
	Participants []ParticipantScore `json:"participants"`
	Timeline     []TimelineEntry    `json:"timeline"`
}

// Row scores one step for one participant. Durations are in seconds of
// exercise time; they are absent when they do not apply.
type Row struct {
	Participant string     `json:"participant"`
	Step        string     `json:"step"`
	Technique   string     `json:"technique"`
	Targeted    bool       `json:"targeted"`
	Fired       bool       `json:"fired"`
	Skipped     string     `json:"skipped,omitempty"` // why a conditional step did not fire
	FirstEvent  *time.Time `json:"first_event,omitempty"`
	Detected    bool       `json:"detected"`
	Source      string     `json:"source,omitempty"` // own or intel
	DetectedAt  *time.Time `json:"detected_at,omitempty"`
	// TimeToDetect is from the instance's first event to the detection.
	TimeToDetect *float64   `json:"time_to_detect_s,omitempty"`
	HeldAt       *time.Time `json:"held_at,omitempty"`
	HeldVia      string     `json:"held_via,omitempty"`
	// TimeToWarn is from the step's first detection by anyone to this
	// participant holding its indicator (0 when it held it first).
	TimeToWarn *float64 `json:"time_to_warn_s,omitempty"`
}

// TechniqueScore aggregates a participant's rows of one technique.
type TechniqueScore struct {
	Participant    string   `json:"participant"`
	Technique      string   `json:"technique"`
	Instances      int      `json:"instances"` // fired against the participant
	Detected       int      `json:"detected"`
	MeanTTD        *float64 `json:"mean_time_to_detect_s,omitempty"`
	MeanTTW        *float64 `json:"mean_time_to_warn_s,omitempty"`
	FalsePositives int      `json:"false_positives"`
}

// ParticipantScore sums up one participant.
type ParticipantScore struct {
	Participant string `json:"participant"`
	Name        string `json:"name"` // the scenario's label for it
	// Organisation is the member organisation that played it, on a hub.
	Organisation   string   `json:"organisation,omitempty"`
	Instances      int      `json:"instances"`
	Detected       int      `json:"detected"`
	Skipped        int      `json:"skipped"`
	MeanTTD        *float64 `json:"mean_time_to_detect_s,omitempty"`
	MeanTTW        *float64 `json:"mean_time_to_warn_s,omitempty"`
	BenignEvents   int      `json:"benign_events"`
	FalsePositives int      `json:"false_positives"`
}

// TimelineEntry is one line of the after-action timeline.
type TimelineEntry struct {
	Time        time.Time `json:"time"`
	Participant string    `json:"participant,omitempty"`
	Kind        string    `json:"kind"` // fired, skipped, detected, held, false-positive
	Step        string    `json:"step,omitempty"`
	Technique   string    `json:"technique,omitempty"`
	Text        string    `json:"text"`
}

func secs(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

func mean(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	return &m
}

// Score scores the exercise: per participant and step, whether it fired,
// whether and when it was detected, when the participant held the step's
// indicator and how long after the first detection anywhere; per
// participant and technique the aggregates and the false positives
// (alerts on benign events, counted against the technique the alert
// claimed, or "-" when none).
func Score(e *Engine) *Result {
	sc := e.sc
	start := e.started
	if start.IsZero() {
		start = sc.Start
	}
	res := &Result{Exercise: sc.Name, Title: sc.Title, Domain: sc.Domain, Seed: e.seed, Speed: e.speed, Start: start.UTC(), MarkingID: e.MarkingID()}

	type key struct{ p, step string }
	detections := map[key]Alert{}
	firstAnywhere := map[string]time.Time{}
	fps := map[string][]Alert{}
	for _, a := range e.alerts {
		ev := e.events[a.Event]
		if ev.Benign {
			fps[a.Participant] = append(fps[a.Participant], a)
			continue
		}
		k := key{a.Participant, ev.Step}
		if old, ok := detections[k]; !ok || a.Time.Before(old.Time) {
			detections[k] = a
		}
		if t, ok := firstAnywhere[ev.Step]; !ok || a.Time.Before(t) {
			firstAnywhere[ev.Step] = a.Time
		}
	}
	for p, m := range e.holdings {
		for step, h := range m {
			if h.Via != "discovery" {
				continue
			}
			_ = p
			if t, ok := firstAnywhere[step]; !ok || h.Time.Before(t) {
				firstAnywhere[step] = h.Time
			}
		}
	}
	firings := map[key]*Firing{}
	for _, f := range e.firings {
		firings[key{f.Participant, f.Step}] = f
	}

	for _, p := range sc.Participants {
		ps := ParticipantScore{Participant: p.ID, Name: p.Name}
		var ttds, ttws []float64
		byTech := map[string]*TechniqueScore{}
		var techOrder []string
		tech := func(t string) *TechniqueScore {
			if ts, ok := byTech[t]; ok {
				return ts
			}
			ts := &TechniqueScore{Participant: p.ID, Technique: t}
			byTech[t] = ts
			techOrder = append(techOrder, t)
			return ts
		}
		techTTD, techTTW := map[string][]float64{}, map[string][]float64{}
		for _, st := range sc.Steps {
			row := Row{Participant: p.ID, Step: st.ID, Technique: st.Technique}
			k := key{p.ID, st.ID}
			f := firings[k]
			if f != nil {
				row.Targeted = true
				ts := tech(st.Technique)
				if f.Skipped {
					row.Skipped = f.Reason
					ps.Skipped++
				} else if len(f.Events) > 0 {
					row.Fired = true
					first := e.events[f.Events[0]].Time
					row.FirstEvent = &first
					ps.Instances++
					ts.Instances++
					if a, ok := detections[k]; ok {
						row.Detected, row.Source = true, a.Source
						at := a.Time
						row.DetectedAt = &at
						row.TimeToDetect = secs(max(0, a.Time.Sub(first)))
						ps.Detected++
						ts.Detected++
						ttds = append(ttds, *row.TimeToDetect)
						techTTD[st.Technique] = append(techTTD[st.Technique], *row.TimeToDetect)
					}
				}
			}
			if h, ok := e.Holding(p.ID, st.ID); ok {
				at := h.Time
				row.HeldAt, row.HeldVia = &at, h.Via
				if first, ok := firstAnywhere[st.ID]; ok {
					row.TimeToWarn = secs(max(0, h.Time.Sub(first)))
					ttws = append(ttws, *row.TimeToWarn)
					techTTW[st.Technique] = append(techTTW[st.Technique], *row.TimeToWarn)
				}
			}
			res.Rows = append(res.Rows, row)
		}
		for _, a := range fps[p.ID] {
			t := a.Technique
			if t == "" {
				t = "-"
			}
			tech(t).FalsePositives++
			ps.FalsePositives++
			res.Timeline = append(res.Timeline, TimelineEntry{Time: a.Time, Participant: p.ID, Kind: "false-positive", Technique: a.Technique, Text: "alert on benign event " + a.Event})
		}
		for _, ev := range e.released {
			if ev.Participant == p.ID && ev.Benign {
				ps.BenignEvents++
			}
		}
		ps.MeanTTD, ps.MeanTTW = mean(ttds), mean(ttws)
		sort.Strings(techOrder)
		for _, t := range techOrder {
			ts := byTech[t]
			ts.MeanTTD, ts.MeanTTW = mean(techTTD[t]), mean(techTTW[t])
			res.Techniques = append(res.Techniques, *ts)
		}
		res.Participants = append(res.Participants, ps)
	}

	for _, f := range e.firings {
		te := TimelineEntry{Time: f.Time, Participant: f.Participant, Step: f.Step, Technique: f.Technique, Kind: "fired",
			Text: fmt.Sprintf("%s (%s) fired: %d events", f.Step, f.Technique, len(f.Events))}
		if f.Skipped {
			te.Kind, te.Text = "skipped", fmt.Sprintf("%s (%s) did not fire: %s", f.Step, f.Technique, f.Reason)
		}
		res.Timeline = append(res.Timeline, te)
	}
	for _, r := range res.Rows {
		if r.Detected {
			res.Timeline = append(res.Timeline, TimelineEntry{Time: *r.DetectedAt, Participant: r.Participant, Kind: "detected", Step: r.Step, Technique: r.Technique,
				Text: fmt.Sprintf("detected %s (%s) by %s after %s", r.Step, r.Technique, r.Source, fmtDur(time.Duration(*r.TimeToDetect*float64(time.Second))))})
		}
		if r.HeldAt != nil {
			res.Timeline = append(res.Timeline, TimelineEntry{Time: *r.HeldAt, Participant: r.Participant, Kind: "held", Step: r.Step, Technique: r.Technique,
				Text: fmt.Sprintf("holds the indicator of %s (%s)", r.Step, r.HeldVia)})
		}
	}
	kindOrder := map[string]int{"fired": 0, "skipped": 0, "detected": 1, "held": 2, "false-positive": 3}
	sort.SliceStable(res.Timeline, func(i, j int) bool {
		a, b := res.Timeline[i], res.Timeline[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		if a.Participant != b.Participant {
			return a.Participant < b.Participant
		}
		return a.Step < b.Step
	})
	return res
}

// PlayedBy records which member organisation played each participant
// (participant id -> organisation name), so that the reports and layers
// name them: "Hanseatic Payments Network (central-bank)".
func (r *Result) PlayedBy(orgs map[string]string) {
	r.Organisations = orgs
	for i := range r.Participants {
		r.Participants[i].Organisation = orgs[r.Participants[i].Participant]
	}
}

// Who names a participant in the reports: the member organisation that
// played it with the participant's id, or the id alone in a simulation.
func (r *Result) Who(participant string) string {
	if org := r.Organisations[participant]; org != "" {
		return org + " (" + participant + ")"
	}
	return participant
}
