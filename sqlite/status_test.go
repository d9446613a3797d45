package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/google/go-cmp/cmp"
)

func TestStatus(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := &cyberpact.Status{
		ID: "2d086da7-4bdc-4f91-900e-d77486753710", Org: 7, Status: "complete",
		RequestTimestamp: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC),
		Total:            3, Success: 2, Failure: 1,
		Successes: []cyberpact.StatusDetail{{ID: "indicator--a", Version: "2026-01-01T00:00:00.000Z"}, {ID: "indicator--b", Version: "2026-01-01T00:00:00.000Z"}},
		Failures:  []cyberpact.StatusDetail{{ID: "indicator--c", Version: "2026-01-01T00:00:00.000Z", Message: "pattern: syntax error"}},
	}
	if err := db.CreateStatus(ctx, want); err != nil {
		t.Fatal(err)
	}
	t.Run("PosterReadsItBack", func(t *testing.T) {
		got, err := db.Status(ctx, want.ID, 7)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("status (-want +got):\n%s", d)
		}
	})
	t.Run("OtherOrgGetsNotFound", func(t *testing.T) {
		if _, err := db.Status(ctx, want.ID, 8); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("another organisation's read: %v, want ENOTFOUND", err)
		}
	})
	t.Run("UnknownIsNotFound", func(t *testing.T) {
		if _, err := db.Status(ctx, "nope", 7); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("unknown id: %v, want ENOTFOUND", err)
		}
	})
	t.Run("SameIDTwiceConflicts", func(t *testing.T) {
		if err := db.CreateStatus(ctx, &cyberpact.Status{ID: want.ID, Org: 8}); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
			t.Errorf("second create: %v, want ECONFLICT", err)
		}
	})
}
