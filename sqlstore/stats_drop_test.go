package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/cyberpact/cyberpact/storetest"
	"github.com/google/go-cmp/cmp"
)

// TestStatsLargeDeleteDropsClasses: a delete touching more ids than a
// delete counts (statsDeleteMax, here none) drops the kept classes, and
// the next call builds them again, exactly.
func TestStatsLargeDeleteDropsClasses(t *testing.T) {
	defer sqlstore.SetStatsDeleteMax(0)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org := &cyberpact.Org{Name: "A", Nation: "GB", Sector: "energy"}
	if err := db.CreateOrg(ctx, org, "test"); err != nil {
		t.Fatal(err)
	}
	if err := storetest.ImportGenerated(db, org.ID, 500, 1); err != nil {
		t.Fatal(err)
	}
	own := &cyberpact.Viewer{Org: org.ID}
	if _, err := db.Stats(ctx, own); err != nil {
		t.Fatal(err)
	}
	page, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: own, Types: []string{"malware"}, Limit: 1})
	if err != nil || len(page.Objects) == 0 {
		t.Fatalf("a malware to delete: %v", err)
	}
	if _, err := db.DeleteObject(ctx, page.Objects[0].ID, cyberpact.ObjectFilter{Viewer: own, AllVersions: true}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Stats(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	if n := db.StatsBuilds(); n != 2 {
		t.Errorf("the store was counted %d times, want 2 (the classes dropped by the delete)", n)
	}
	// Another opening (from the classes this one saved, or its own) counts
	// the same.
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	want, err := other.Stats(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stats after the delete (-another opening +this one):\n%s", diff)
	}
}
