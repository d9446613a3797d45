package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/storetest"
)

// BenchmarkReadsAtScale times Stats, searches and the list query at scale
// (storetest.BenchReadsAtScale), beside the SQLite store's benchmark of
// the same name, on CYBERPACT_BENCH_STORE (the URL of a store made by
// `cyberpact import --store URL --org Bench` of `cyberpact generate`,
// which this benchmark changes: it adds its counts and 5,000 objects), or
// else on CYBERPACT_BENCH_OBJECTS generated objects (default 100,000) in a
// new schema of CYBERPACT_TEST_POSTGRES.
func BenchmarkReadsAtScale(b *testing.B) {
	ctx := context.Background()
	var db *postgres.DB
	var producer int64 = 1
	if u := os.Getenv("CYBERPACT_BENCH_STORE"); u != "" {
		var err error
		if db, err = postgres.Open(ctx, u); err != nil {
			b.Fatal(err)
		}
	} else {
		n := 100_000
		if v, err := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_OBJECTS")); err == nil && v > 0 {
			n = v
		}
		db = openDB(b)
		org := &cyberpact.Org{Name: "Bench", Nation: "GB", Sector: "other"}
		if err := db.CreateOrg(ctx, org, "bench"); err != nil {
			b.Fatal(err)
		}
		if err := storetest.ImportGenerated(db, org.ID, n, 1); err != nil {
			b.Fatal(err)
		}
	}
	defer db.Close()
	if o, err := db.OrgByName(ctx, "Bench"); err == nil {
		producer = o.ID
	}
	storetest.BenchReadsAtScale(b, db, producer)
}
