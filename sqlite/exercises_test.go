package sqlite_test

import (
	"testing"

	"github.com/cyberpact/cyberpact/storetest"
)

// TestExercises runs the exercise store suite on the SQLite store.
func TestExercises(t *testing.T) {
	storetest.RunExercises(t, func(t *testing.T) storetest.ExerciseTestStore {
		return openDB(t, t.TempDir())
	})
}
