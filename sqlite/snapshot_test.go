package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// TestSnapshotUnchangedUntilAnyCommit holds a snapshot against every kind
// of commit a read depends on: an import, a delete, a group's members and
// a write by another store opened on the same files (another process, as
// a CLI import is). Each is seen; reads alone change nothing.
func TestSnapshotUnchangedUntilAnyCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importSample(t, db)
	org := &cyberpact.Org{Name: "Org A", Nation: "GB", Sector: "government"}
	if err := db.CreateOrg(ctx, org, "test"); err != nil {
		t.Fatal(err)
	}
	g := &cyberpact.Group{Name: "G"}
	if err := db.CreateGroup(ctx, g, "test"); err != nil {
		t.Fatal(err)
	}
	snapshot := func() cyberpact.Snapshot {
		t.Helper()
		_, snap, err := db.FindEnvelopeSnapshot(ctx, cyberpact.ObjectFilter{Limit: 1})
		if err != nil || snap == "" {
			t.Fatalf("FindEnvelopeSnapshot: %q, %v", snap, err)
		}
		return snap
	}
	t.Run("UnchangedAfterReads", func(t *testing.T) {
		snap := snapshot()
		if _, err := db.FindObjects(ctx, cyberpact.ObjectFilter{}); err != nil {
			t.Fatal(err)
		}
		if !db.Unchanged(ctx, snap) || !db.Unchanged(ctx, snap) {
			t.Fatal("a snapshot is not confirmed with nothing committed")
		}
	})
	changes := []struct {
		name  string
		write func(t *testing.T)
	}{
		{"Import", func(t *testing.T) {
			o := `{"type":"tool","id":"tool--00000002-0000-4000-8000-000000000002","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Saw"}`
			dec := stix.NewDecoder(strings.NewReader(`{"type":"bundle","id":"bundle--00000002-0000-4000-8000-000000000002","objects":[` + o + `]}`))
			defer dec.Close()
			if res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{}); err != nil || res.Added != 1 {
				t.Fatalf("Import: %+v, %v", res, err)
			}
		}},
		{"Delete", func(t *testing.T) {
			if _, err := db.DeleteObject(ctx, "tool--00000001-0000-4000-8000-000000000001", cyberpact.ObjectFilter{Versions: []string{"all"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"GroupMembers", func(t *testing.T) {
			if err := db.SetGroupOrgs(ctx, g.ID, []int64{org.ID}, "test"); err != nil {
				t.Fatal(err)
			}
		}},
		{"AnotherProcess", func(t *testing.T) {
			other, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := other.CreateOrg(ctx, &cyberpact.Org{Name: "Org B", Nation: "GB", Sector: "government"}, "test"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range changes {
		t.Run(c.name+"Seen", func(t *testing.T) {
			snap := snapshot()
			c.write(t)
			if db.Unchanged(ctx, snap) {
				t.Fatal("a snapshot is confirmed after a commit")
			}
			if !db.Unchanged(ctx, snapshot()) {
				t.Fatal("a new snapshot is not confirmed")
			}
		})
	}
	t.Run("OtherStoresSnapshotRefused", func(t *testing.T) {
		other, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, snap, err := other.FindEnvelopeSnapshot(ctx, cyberpact.ObjectFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if db.Unchanged(ctx, snap) || db.Unchanged(ctx, "") {
			t.Fatal("another store's snapshot, or none, is confirmed")
		}
	})
}
