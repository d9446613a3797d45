package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/storetest"
)

// BenchmarkReadsAtScale times Stats, searches and the list query at scale
// (storetest.BenchReadsAtScale) on CYBERPACT_BENCH_STORE (a cyberpact.db
// made by `cyberpact import --org Bench` of `cyberpact generate`, which
// this benchmark changes: it adds its counts and 5,000 objects), or else
// on CYBERPACT_BENCH_OBJECTS generated objects (default 100,000) in a new
// store.
func BenchmarkReadsAtScale(b *testing.B) {
	ctx := context.Background()
	path := os.Getenv("CYBERPACT_BENCH_STORE")
	var producer int64 = 1
	if path == "" {
		n := 100_000
		if v, err := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_OBJECTS")); err == nil && v > 0 {
			n = v
		}
		path = filepath.Join(b.TempDir(), "cyberpact.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		org := &cyberpact.Org{Name: "Bench", Nation: "GB", Sector: "other"}
		if err := db.CreateOrg(ctx, org, "bench"); err != nil {
			b.Fatal(err)
		}
		producer = org.ID
		if err := storetest.ImportGenerated(db, producer, n, 1); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if o, err := db.OrgByName(ctx, "Bench"); err == nil {
		producer = o.ID
	}
	storetest.BenchReadsAtScale(b, db, producer)
}
