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
