package postgres_test

import (
	"testing"

	"github.com/cyberpact/cyberpact/storetest"
)

// TestExercises runs the exercise store suite on PostgreSQL.
func TestExercises(t *testing.T) {
	requirePostgres(t)
	storetest.RunExercises(t, func(t *testing.T) storetest.ExerciseTestStore { return openDB(t) })
}
