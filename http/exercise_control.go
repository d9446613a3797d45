package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
)

// Controlling exercises over HTTP, for the web interface and scripts, under
// the same rule as everything else of an exercise:
//
//   - Seeing an exercise (its status, scoreboard, scores and reports): the
//     users of the organisations that play it, and hub admins. To anyone
//     else it does not exist: 404, as for an object one may not see.
//   - Starting one (POST /api/v1/exercises): hub admins only, since it
//     enlists member organisations; anyone else gets 403, whatever the
//     body says.
//   - Pausing, resuming and stopping one: hub admins, and the org-admins of
//     an organisation that plays it (an exercise lead calling a pause for
//     everyone, as any player may in a live exercise). Other users who see
//     the exercise get 403; a state that does not allow the step, 409.
//
// Every start, pause, resume and stop is recorded in the audit log with
// who asked. Purging stays on the command line, where the hub's operator
// is.

func (s *Server) registerExerciseControl() {
	s.handle("POST /api/v1/exercises", s.authed(s.startExercise))
	s.handle("GET /api/v1/exercises/{id}/status", s.authed(s.exerciseStatusRoute))
	s.handle("GET /api/v1/exercises/{id}/scoreboard", s.authed(s.exerciseScoreboard))
	for _, op := range []string{"pause", "resume", "stop"} {
		s.handle("POST /api/v1/exercises/{id}/"+op, s.authed(s.controlExercise(op)))
	}
}

// mayControl reports whether p may pause, resume and stop an exercise in
// which its organisation plays part ("" for none).
func mayControl(p *cyberpact.Principal, part string) bool {
	return p.User.Role == cyberpact.RoleAdmin || part != "" && p.User.Role == cyberpact.RoleOrgAdmin
}

// reached is the scenario time an exercise has reached: by the clock
// while it runs or is paused (at most its length), where it ended once
// stopped or finished.
func (s *Server) reached(e *exercise.Engine) time.Duration {
	if st := e.State(); st == exercise.Stopped || st == exercise.Finished {
		return e.Reached()
	}
	return min(e.Offset(s.exerciseNow()), e.Scenario().Duration)
}

// playedBy names the organisation playing each participant of x.
func (s *Server) playedBy(ctx context.Context, x *cyberpact.Exercise) (map[string]string, error) {
	out := map[string]string{}
	for part, org := range x.Participants {
		name := fmt.Sprintf("organisation %d", org)
		if s.Accounts != nil {
			o, err := s.Accounts.OrgByID(ctx, org)
			if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				return nil, err
			}
			if o != nil {
				name = o.Name
			}
		}
		out[part] = name
	}
	return out, nil
}

// statusOfExercise builds the status of x for the caller p, who plays part.
func (s *Server) statusOfExercise(ctx context.Context, p *cyberpact.Principal, x *cyberpact.Exercise, part string) (*cyberpact.ExerciseStatus, error) {
	_, e, err := s.Exercise.Load(ctx, x.ID)
	if err != nil {
		return nil, err
	}
	names, err := s.playedBy(ctx, x)
	if err != nil {
		return nil, err
	}
	sc := e.Scenario()
	st := &cyberpact.ExerciseStatus{ID: x.ID, Name: x.Name, Title: sc.Title, State: x.State, Seed: x.Seed, Speed: x.Speed,
		Started: e.Started().UTC(), Offset: s.reached(e).Seconds(), Duration: sc.Duration.Seconds(),
		You: part, CanControl: mayControl(p, part), Participants: []cyberpact.ExerciseParticipant{}}
	for _, sp := range sc.Participants {
		st.Participants = append(st.Participants, cyberpact.ExerciseParticipant{Participant: sp.ID, Label: sp.Name, OrgID: x.Participants[sp.ID], Organisation: names[sp.ID]})
	}
	return st, nil
}

func (s *Server) exerciseStatusRoute(w http.ResponseWriter, r *http.Request) error {
	st, err := s.ExerciseStatus(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// VisibleExercises returns the exercises p may see: those its
// organisation plays, and every one to a hub admin; oldest first, each
// with the participant p's organisation plays ("" for none).
func (s *Server) VisibleExercises(ctx context.Context, p *cyberpact.Principal) ([]*cyberpact.Exercise, []string, error) {
	if s.Exercise == nil {
		return nil, nil, nil
	}
	xs, err := s.Exercise.Exercises.Exercises(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []*cyberpact.Exercise
	var parts []string
	for _, x := range xs {
		you, ok := x.Participant(p.Org.ID)
		if ok || p.User.Role == cyberpact.RoleAdmin {
			out, parts = append(out, x), append(parts, you)
		}
	}
	return out, parts, nil
}

// exerciseFor returns exercise id (as given in a path) if p takes part in
// it or is a hub admin, with the participant p's organisation plays.
// Anything else is ENOTFOUND, as an object one may not see.
func (s *Server) exerciseFor(ctx context.Context, p *cyberpact.Principal, id string) (*cyberpact.Exercise, string, error) {
	if s.Exercise == nil {
		return nil, "", cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub runs no exercises")
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %q", id)
	}
	x, err := s.Exercise.Exercises.Exercise(ctx, n)
	if err != nil {
		return nil, "", err
	}
	part, ok := x.Participant(p.Org.ID)
	if !ok && p.User.Role != cyberpact.RoleAdmin {
		return nil, "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", n)
	}
	return x, part, nil
}

// ExerciseStatus returns exercise id's status as p sees it. Returns
// ENOTFOUND for an exercise p may not see, as for one that does not exist.
func (s *Server) ExerciseStatus(ctx context.Context, p *cyberpact.Principal, id string) (*cyberpact.ExerciseStatus, error) {
	x, part, err := s.exerciseFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.statusOfExercise(ctx, p, x, part)
}

// exerciseScoreboard answers GET /api/v1/exercises/{id}/scoreboard.
func (s *Server) exerciseScoreboard(w http.ResponseWriter, r *http.Request) error {
	sb, err := s.ExerciseScoreboard(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sb)
}

// ExerciseScoreboard returns exercise id's scoreboard as p sees it: one
// row per participant, ranked by coverage (the share of the steps fired
// against it that it detected), then steps avoided (more first), mean
// time to detect (sooner first, none last), false positives (fewer first)
// and participant id. Returns ENOTFOUND as ExerciseStatus does.
func (s *Server) ExerciseScoreboard(ctx context.Context, p *cyberpact.Principal, id string) (*cyberpact.Scoreboard, error) {
	x, part, err := s.exerciseFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st, err := s.statusOfExercise(ctx, p, x, part)
	if err != nil {
		return nil, err
	}
	_, e, err := s.Exercise.Load(ctx, x.ID)
	if err != nil {
		return nil, err
	}
	who := map[string]cyberpact.ExerciseParticipant{}
	for _, p := range st.Participants {
		who[p.Participant] = p
	}
	rows := []cyberpact.ScoreboardRow{}
	for _, p := range exercise.Score(e).Participants {
		row := cyberpact.ScoreboardRow{ExerciseParticipant: who[p.Participant], StepsFired: p.Instances, Detected: p.Detected,
			StepsAvoided: p.Skipped, MeanTTD: p.MeanTTD, MeanTTW: p.MeanTTW, FalsePositives: p.FalsePositives, BenignEvents: p.BenignEvents}
		if p.Instances > 0 {
			row.Coverage = float64(p.Detected) / float64(p.Instances)
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch {
		case a.Coverage != b.Coverage:
			return a.Coverage > b.Coverage
		case a.StepsAvoided != b.StepsAvoided:
			return a.StepsAvoided > b.StepsAvoided
		case (a.MeanTTD == nil) != (b.MeanTTD == nil):
			return a.MeanTTD != nil
		case a.MeanTTD != nil && *a.MeanTTD != *b.MeanTTD:
			return *a.MeanTTD < *b.MeanTTD
		case a.FalsePositives != b.FalsePositives:
			return a.FalsePositives < b.FalsePositives
		}
		return a.Participant < b.Participant
	})
	for i := range rows {
		rows[i].Rank = i + 1
	}
	return &cyberpact.Scoreboard{ID: x.ID, Name: x.Name, State: x.State, Offset: st.Offset, Duration: st.Duration, You: part, Rows: rows}, nil
}

// controlExercise answers POST /api/v1/exercises/{id}/pause, resume and
// stop with the exercise's status after the step.
func (s *Server) controlExercise(op string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := principalOf(r)
		x, part, err := s.exerciseFor(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		if !mayControl(p, part) {
			return cyberpact.Errorf(cyberpact.EFORBIDDEN, "role %s may not %s exercise %d: hub admins and the org-admins of its participants may", p.User.Role, op, x.ID)
		}
		if err := noBody(r); err != nil {
			return err
		}
		st, err := s.ControlExercise(r.Context(), p, r.PathValue("id"), op, "rest")
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	}
}

// ControlExercise pauses, resumes or stops (op) exercise id for p, who
// asked through via ("rest", "web"), records it in the audit log, and
// returns the status after the step. Returns ENOTFOUND for an exercise p
// may not see, EFORBIDDEN unless p is a hub admin or an org-admin of a
// participant, ECONFLICT when the exercise's state does not allow op.
func (s *Server) ControlExercise(ctx context.Context, p *cyberpact.Principal, id, op, via string) (*cyberpact.ExerciseStatus, error) {
	x, part, err := s.exerciseFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !mayControl(p, part) {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "role %s may not %s exercise %d: hub admins and the org-admins of its participants may", p.User.Role, op, x.ID)
	}
	switch op {
	case "pause":
		err = s.Exercise.Pause(ctx, x.ID)
	case "resume":
		err = s.Exercise.Resume(ctx, x.ID)
	case "stop":
		err = s.Exercise.Stop(ctx, x.ID)
	default:
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "no step %q of an exercise (pause, resume, stop)", op)
	}
	if err != nil {
		return nil, err
	}
	past := map[string]string{"pause": "paused", "resume": "resumed", "stop": "stopped"}[op]
	if err := s.auditExercise(ctx, p, via, fmt.Sprintf("exercise %d (%s) %s", x.ID, x.Name, past)); err != nil {
		return nil, err
	}
	if x, err = s.Exercise.Exercises.Exercise(ctx, x.ID); err != nil {
		return nil, err
	}
	return s.statusOfExercise(ctx, p, x, part)
}

// noBody refuses a request body on a route that takes none, so that a
// client sending options it thinks are read learns that they are not.
func noBody(r *http.Request) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s %s takes no request body", r.Method, r.URL.Path)
	}
	return nil
}

// auditExercise records a step of an exercise's life taken through via.
func (s *Server) auditExercise(ctx context.Context, p *cyberpact.Principal, via, detail string) error {
	if s.Audit == nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "no audit log", Err: errors.New("the server has no audit log configured")}
	}
	e := &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: p.User.Name, ActorOrg: p.Org.ID, Via: via, Detail: detail}
	if err := s.Audit.Audit(ctx, e); err != nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "audit failed", Err: err}
	}
	return nil
}

// startRequest is the body of POST /api/v1/exercises.
type startRequest struct {
	// Scenario is a built-in scenario's name ("financial-drill") or a
	// scenario file (an object, schema "cyberpact-exercise/1").
	Scenario json.RawMessage `json:"scenario"`
	// Participants maps each scenario participant to the name of the
	// member organisation that plays it.
	Participants map[string]string `json:"participants"`
	Seed         *uint64           `json:"seed"`  // default 1
	Speed        *float64          `json:"speed"` // default 1
}

// startExercise answers POST /api/v1/exercises: a hub admin starts an
// exercise; 201 with its status.
func (s *Server) startExercise(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if p.User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only hub admins start exercises (role %s)", p.User.Role)
	}
	var in startRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return cyberpact.Errorf(cyberpact.EINVALID, "request body: %v (want {\"scenario\": NAME or a scenario file, \"participants\": {\"ID\": \"ORG\", ...}, \"seed\": N, \"speed\": X})", err)
	}
	if dec.More() {
		return cyberpact.Errorf(cyberpact.EINVALID, "request body: one JSON object, not several")
	}
	seed, speed := uint64(1), 1.0
	if in.Seed != nil {
		seed = *in.Seed
	}
	if in.Speed != nil {
		speed = *in.Speed
	}
	st, err := s.StartExercise(r.Context(), p, in.Scenario, in.Participants, seed, speed, "rest")
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/exercises/"+strconv.FormatInt(st.ID, 10))
	return writeJSON(w, http.StatusCreated, st)
}

// StartExercise starts an exercise for p, a hub admin, through via:
// scenario is a built-in scenario's name (a JSON string) or a scenario
// file (a JSON object), participants maps each scenario participant to
// the name of the member organisation playing it. It is recorded in the
// audit log. Returns EFORBIDDEN for anyone but a hub admin, EINVALID
// naming each problem of the request.
func (s *Server) StartExercise(ctx context.Context, p *cyberpact.Principal, scenario json.RawMessage, participants map[string]string, seed uint64, speed float64, via string) (*cyberpact.ExerciseStatus, error) {
	if p.User.Role != cyberpact.RoleAdmin {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "only hub admins start exercises (role %s)", p.User.Role)
	}
	if s.Exercise == nil {
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this hub's store keeps no exercises")
	}
	if speed <= 0 {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "speed: must be above 0, not %g", speed)
	}
	file, data, err := startScenario(scenario)
	if err != nil {
		return nil, err
	}
	if len(participants) == 0 {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "participants: give the member organisation that plays each of the scenario's participants ({\"ID\": \"ORG\", ...})")
	}
	orgs := map[string]int64{}
	var problems []string
	for _, part := range sortedKeys(participants) {
		name := participants[part]
		var o *cyberpact.Org
		if s.Accounts != nil {
			o, err = s.Accounts.OrgByName(ctx, name)
		}
		switch {
		case s.Accounts == nil || cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND:
			problems = append(problems, fmt.Sprintf("participants.%s: no organisation %q", part, name))
		case err != nil:
			return nil, err
		default:
			orgs[part] = o.ID
		}
	}
	if len(problems) > 0 {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s", strings.Join(problems, "; "))
	}
	x, err := s.Exercise.Start(ctx, file, data, orgs, seed, speed)
	if err != nil {
		return nil, err
	}
	var played []string
	for _, part := range sortedKeys(participants) {
		played = append(played, part+"="+participants[part])
	}
	if err := s.auditExercise(ctx, p, via, fmt.Sprintf("exercise %d (%s) started, seed %d, speed %g, participants %s", x.ID, x.Name, x.Seed, x.Speed, strings.Join(played, ","))); err != nil {
		return nil, err
	}
	part, _ := x.Participant(p.Org.ID)
	return s.statusOfExercise(ctx, p, x, part)
}

// startScenario reads the scenario member of a start request: a built-in
// scenario's name or a scenario file.
func startScenario(raw json.RawMessage) (string, []byte, error) {
	raw = bytes.TrimSpace(raw)
	var name string
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil, cyberpact.Errorf(cyberpact.EINVALID, "scenario: give a built-in scenario's name (%s) or a scenario file", strings.Join(exercise.Library(), ", "))
	case raw[0] == '{':
		return "scenario", raw, nil
	case json.Unmarshal(raw, &name) == nil:
		data, ok := exercise.LibraryScenario(name)
		if !ok {
			return "", nil, cyberpact.Errorf(cyberpact.EINVALID, "scenario: no built-in scenario %q (built-in: %s)", name, strings.Join(exercise.Library(), ", "))
		}
		return name + ".json", data, nil
	}
	return "", nil, cyberpact.Errorf(cyberpact.EINVALID, "scenario: want a built-in scenario's name or a scenario file (an object)")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
