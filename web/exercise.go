package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// Exercises is how the interface runs joint exercises: through the same
// decisions as the API's exercise routes (http/exercise_control.go), which
// the API server implements, so that who may see, start and steer an
// exercise is decided once.
type Exercises interface {
	// VisibleExercises returns the exercises p may see, with the
	// participant p's organisation plays in each ("" for none).
	VisibleExercises(ctx context.Context, p *cyberpact.Principal) ([]*cyberpact.Exercise, []string, error)
	// ExerciseStatus returns ENOTFOUND for an exercise p may not see.
	ExerciseStatus(ctx context.Context, p *cyberpact.Principal, id string) (*cyberpact.ExerciseStatus, error)
	ExerciseScoreboard(ctx context.Context, p *cyberpact.Principal, id string) (*cyberpact.Scoreboard, error)
	ControlExercise(ctx context.Context, p *cyberpact.Principal, id, op, via string) (*cyberpact.ExerciseStatus, error)
	StartExercise(ctx context.Context, p *cyberpact.Principal, scenario json.RawMessage, participants map[string]string, seed uint64, speed float64, via string) (*cyberpact.ExerciseStatus, error)
}

func (h *Handler) registerExercises() {
	h.get("GET /exercises", signedIn, h.exercises)
	h.post("POST /exercises", signedIn, h.startExercise)
	h.get("GET /exercises/{id}", signedIn, h.exercisePage)
	h.get("GET /exercises/{id}/board", signedIn, h.exerciseBoard)
	for _, op := range []string{"pause", "resume", "stop"} {
		h.post("POST /exercises/{id}/"+op, signedIn, h.controlExercise(op))
	}
}

// exercisesOf returns the exercise service, or an error page's error when
// the hub runs none.
func (h *Handler) exercisesOf() (Exercises, error) {
	if h.Exercises == nil {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub runs no exercises")
	}
	return h.Exercises, nil
}

type exerciseRow struct {
	ID          int64
	Name, State string
	You         string
}

type exercisesPage struct {
	Exercises []exerciseRow
	CanStart  bool
	Error     string
	// The start form's values, kept when it is sent back with an error.
	Scenario, Participants, Seed, Speed string
}

func (h *Handler) exercisesView(r *http.Request, c *call) (exercisesPage, error) {
	pg := exercisesPage{CanStart: c.principal().User.Role == cyberpact.RoleAdmin, Seed: "1", Speed: "1"}
	if h.Exercises == nil {
		return pg, nil
	}
	xs, parts, err := h.Exercises.VisibleExercises(r.Context(), c.principal())
	if err != nil {
		return pg, err
	}
	for i := len(xs) - 1; i >= 0; i-- { // newest first
		pg.Exercises = append(pg.Exercises, exerciseRow{ID: xs[i].ID, Name: xs[i].Name, State: xs[i].State, You: parts[i]})
	}
	return pg, nil
}

func (h *Handler) exercises(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := h.exercisesView(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "exercises", c, pg)
	return nil
}

// startExercise starts an exercise from the form of the exercises page:
// a built-in scenario's name, one "participant = organisation" per line,
// seed and speed. A bad form is shown again with what is wrong (400).
func (h *Handler) startExercise(w http.ResponseWriter, r *http.Request, c *call) error {
	xs, err := h.exercisesOf()
	if err != nil {
		return err
	}
	p := c.principal()
	if p.User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only hub admins start exercises (your role is %s)", p.User.Role)
	}
	form := exercisesPage{Scenario: strings.TrimSpace(r.PostFormValue("scenario")), Participants: r.PostFormValue("participants"),
		Seed: strings.TrimSpace(r.PostFormValue("seed")), Speed: strings.TrimSpace(r.PostFormValue("speed"))}
	st, err := func() (*cyberpact.ExerciseStatus, error) {
		parts := map[string]string{}
		for i, line := range strings.Split(form.Participants, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			part, org, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(part) == "" || strings.TrimSpace(org) == "" {
				return nil, cyberpact.Errorf(cyberpact.EINVALID, "participants, line %d: want PARTICIPANT = ORGANISATION, not %q", i+1, line)
			}
			parts[strings.TrimSpace(part)] = strings.TrimSpace(org)
		}
		seed, err := strconv.ParseUint(form.Seed, 10, 64)
		if err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "seed: want a whole number, not %q", form.Seed)
		}
		speed, err := strconv.ParseFloat(form.Speed, 64)
		if err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "speed: want a number, not %q", form.Speed)
		}
		scenario, _ := json.Marshal(form.Scenario)
		return xs.StartExercise(r.Context(), p, scenario, parts, seed, speed, "web")
	}()
	if err != nil {
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			return err
		}
		pg, verr := h.exercisesView(r, c)
		if verr != nil {
			return verr
		}
		pg.Scenario, pg.Participants, pg.Seed, pg.Speed, pg.Error = form.Scenario, form.Participants, form.Seed, form.Speed, cyberpact.ErrorMessage(err)
		h.render(w, r, http.StatusBadRequest, "exercises", c, pg)
		return nil
	}
	http.Redirect(w, r, fmt.Sprintf("/exercises/%d", st.ID), http.StatusSeeOther)
	return nil
}

type exercisePage struct {
	Status *cyberpact.ExerciseStatus
	Board  boardView
}

// boardView is the scoreboard as the page and its live updates show it.
type boardView struct {
	ID       int64
	State    string
	Reached  string // scenario time reached, of its length
	Rows     []boardRow
	Live     bool // whether it still changes (running or paused)
	Interval int  // seconds between the script's updates
}

type boardRow struct {
	Rank                   int
	Participant, Org       string
	You                    bool
	Fired, Detected        int
	Coverage               string
	Avoided, FalsePositive int
	TTD, TTW               string
}

func secs(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', 0, 64) + " s"
}

func (h *Handler) board(r *http.Request, c *call) (*cyberpact.ExerciseStatus, boardView, error) {
	xs, err := h.exercisesOf()
	if err != nil {
		return nil, boardView{}, err
	}
	id := r.PathValue("id")
	st, err := xs.ExerciseStatus(r.Context(), c.principal(), id)
	if err != nil {
		return nil, boardView{}, err
	}
	sb, err := xs.ExerciseScoreboard(r.Context(), c.principal(), id)
	if err != nil {
		return nil, boardView{}, err
	}
	b := boardView{ID: sb.ID, State: sb.State, Live: sb.State == "running" || sb.State == "paused", Interval: 2,
		Reached: fmt.Sprintf("%.0f s of %.0f s", sb.Offset, sb.Duration)}
	for _, row := range sb.Rows {
		b.Rows = append(b.Rows, boardRow{Rank: row.Rank, Participant: row.Label, Org: row.Organisation, You: row.Participant == sb.You && sb.You != "",
			Fired: row.StepsFired, Detected: row.Detected, Coverage: fmt.Sprintf("%.0f%%", row.Coverage*100),
			Avoided: row.StepsAvoided, FalsePositive: row.FalsePositives, TTD: secs(row.MeanTTD), TTW: secs(row.MeanTTW)})
	}
	return st, b, nil
}

func (h *Handler) exercisePage(w http.ResponseWriter, r *http.Request, c *call) error {
	st, b, err := h.board(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "exercise", c, exercisePage{Status: st, Board: b})
	return nil
}

// exerciseBoard serves the scoreboard alone, as an HTML fragment, for the
// exercise page's script to replace its own with (static/live.js).
func (h *Handler) exerciseBoard(w http.ResponseWriter, r *http.Request, c *call) error {
	_, b, err := h.board(r, c)
	if err != nil {
		return err
	}
	h.fragment(w, "exercise", "board", b)
	return nil
}

// controlExercise pauses, resumes or stops an exercise, then shows its
// page again.
func (h *Handler) controlExercise(op string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		xs, err := h.exercisesOf()
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		st, err := xs.ControlExercise(r.Context(), c.principal(), id, op, "web")
		if err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/exercises/%d", st.ID), http.StatusSeeOther)
		return nil
	}
}
