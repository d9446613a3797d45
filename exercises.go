package cyberpact

import (
	"context"
	"encoding/json"
	"time"
)

// Exercise is a joint exercise as the hub keeps it: the scenario it runs,
// its seed and speed, which member organisation plays each of the
// scenario's participants, and the engine's state (opaque here: the
// exercise package's Snapshot). Its objects are stored with the audiences
// AudienceExerciseOrg and AudienceExercise whose Group is the exercise's
// ID.
type Exercise struct {
	ID       int64
	Name     string          // the scenario's name
	Scenario json.RawMessage // the scenario file as given
	Seed     uint64
	Speed    float64
	// Participants maps each scenario participant id to the member
	// organisation playing it.
	Participants map[string]int64
	State        string          // planned, running, paused, stopped, finished
	Engine       json.RawMessage // the engine's state
	// Version counts the saves: UpdateExercise saves only over the
	// version it was read at, so that serve processes sharing a store
	// never overwrite each other's progress.
	Version int64
	Created time.Time
	Updated time.Time
}

// Participant returns the scenario participant id an organisation plays,
// and whether it plays one.
func (x *Exercise) Participant(org int64) (string, bool) {
	for p, o := range x.Participants {
		if o == org && org != 0 {
			return p, true
		}
	}
	return "", false
}

// ExerciseStore keeps exercises.
type ExerciseStore interface {
	// CreateExercise stores a new exercise and sets its ID, Version (1),
	// Created and Updated.
	CreateExercise(ctx context.Context, x *Exercise) error
	// Exercise returns one exercise. Returns ENOTFOUND.
	Exercise(ctx context.Context, id int64) (*Exercise, error)
	// Exercises returns every exercise, oldest first.
	Exercises(ctx context.Context) ([]*Exercise, error)
	// UpdateExercise saves x's State and Engine if the stored version is
	// still x.Version, then increments x.Version and sets Updated.
	// Returns ECONFLICT when another save came first, ENOTFOUND when the
	// exercise is gone.
	UpdateExercise(ctx context.Context, x *Exercise) error
	// PurgeExercise deletes an exercise and every object version stored
	// in its audiences, with their links and search index entries, and
	// returns how many versions it deleted. Returns ENOTFOUND.
	PurgeExercise(ctx context.Context, id int64) (int, error)
}

// ExerciseParticipant is one participant of an exercise as its status
// and scoreboard show it: the scenario's participant and the member
// organisation playing it.
type ExerciseParticipant struct {
	Participant  string `json:"participant"`
	Label        string `json:"label"` // the scenario's name for it
	OrgID        int64  `json:"org_id"`
	Organisation string `json:"organisation"`
}

// ExerciseStatus is an exercise's state as one caller sees it (the API's
// GET /api/v1/exercises/{id}/status and the web interface's exercise page).
type ExerciseStatus struct {
	ID           int64                 `json:"id"`
	Name         string                `json:"name"`
	Title        string                `json:"title"`
	State        string                `json:"state"`
	Seed         uint64                `json:"seed"`
	Speed        float64               `json:"speed"`
	Started      time.Time             `json:"started"`
	Offset       float64               `json:"scenario_offset_s"`   // scenario time reached
	Duration     float64               `json:"scenario_duration_s"` // the scenario's length
	Participants []ExerciseParticipant `json:"participants"`
	You          string                `json:"you,omitempty"` // the participant the caller plays
	CanControl   bool                  `json:"can_control"`   // whether the caller may pause, resume and stop it
}

// ScoreboardRow is one participant's line of an exercise's scoreboard.
type ScoreboardRow struct {
	Rank int `json:"rank"`
	ExerciseParticipant
	StepsFired     int      `json:"steps_fired"`
	Detected       int      `json:"detected"`
	Coverage       float64  `json:"coverage"` // detected / steps fired, 0 when none fired
	StepsAvoided   int      `json:"steps_avoided"`
	MeanTTD        *float64 `json:"mean_time_to_detect_s,omitempty"`
	MeanTTW        *float64 `json:"mean_time_to_warn_s,omitempty"`
	FalsePositives int      `json:"false_positives"`
	BenignEvents   int      `json:"benign_events"`
}

// Scoreboard is an exercise's ranked scoreboard so far.
type Scoreboard struct {
	ID       int64           `json:"id"`
	Name     string          `json:"name"`
	State    string          `json:"state"`
	Offset   float64         `json:"scenario_offset_s"`
	Duration float64         `json:"scenario_duration_s"`
	You      string          `json:"you"`
	Rows     []ScoreboardRow `json:"scoreboard"`
}
