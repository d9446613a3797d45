package sqlite

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// TestStatsKeptAcrossOpens imports generated objects, counts them, closes
// the store, imports more in another opening and counts again: the second
// opening starts from the class counts the first saved (stats_kept),
// without counting the store again, and must answer what counting every
// object answers, for the hub, the public collection and a member
// organisation.
func TestStatsKeptAcrossOpens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	importGen := func(db *DB, org int64, n int, seed int64) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(gen.Write(pw, n, seed)) }()
		dec := stix.NewDecoder(pr)
		defer dec.Close()
		if _, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: org, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true}); err != nil {
			t.Fatal(err)
		}
	}
	viewers := func(a, b int64) map[string]*cyberpact.Viewer {
		return map[string]*cyberpact.Viewer{"hub": nil, "public": {Public: true}, "A": {Org: a}, "B": {Org: b}}
	}
	check := func(db *DB, vs map[string]*cyberpact.Viewer, when string) {
		for name, v := range vs {
			got, err := db.Stats(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			q := objectQueries.Stats(v)
			rows, err := db.read.QueryContext(ctx, q.SQL, q.Args...)
			if err != nil {
				t.Fatal(err)
			}
			want := []cyberpact.TypeStats{}
			for rows.Next() {
				var s cyberpact.TypeStats
				if err := rows.Scan(&s.Type, &s.Objects, &s.Versions, &s.Revoked); err != nil {
					t.Fatal(err)
				}
				want = append(want, s)
			}
			rows.Close()
			if diff := cmp.Diff(want, append([]cyberpact.TypeStats{}, got...)); diff != "" {
				t.Errorf("%s, %s: stats (-counted from the objects +kept):\n%s", when, name, diff)
			}
		}
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := &cyberpact.Org{Name: "A", Nation: "GB", Sector: "energy"}, &cyberpact.Org{Name: "B", Nation: "FR", Sector: "energy"}
	for _, o := range []*cyberpact.Org{a, b} {
		if err := db.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
	}
	importGen(db, a.ID, 2000, 1)
	check(db, viewers(a.ID, b.ID), "first opening")
	if err := db.Close(); err != nil { // waits for the counts' save
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var kept int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM stats_kept`).Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("%d counts kept, %v; want 1 (the classes)", kept, err)
	}
	importGen(db, b.ID, 2000, 2) // other ids
	importGen(db, a.ID, 500, 1)  // versions already present: nothing added
	check(db, viewers(a.ID, b.ID), "second opening")
	if n := db.StatsBuilds(); n != 0 {
		t.Errorf("the second opening counted the whole store %d times; want 0", n)
	}
}
