package sqlite_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// BenchmarkReadsAtScale times, on one store, what issue 16 asks to compare:
// Stats (the first call, which counts every object as Stats did before
// counts were kept; later calls with nothing new; a call after each of five
// imports of 1,000 objects), ranked searches, and the same run's list query (the
// first page of 100), all for a member organisation reading what another
// produced for all members, plus the hub's own Stats. The store is
// CYBERPACT_BENCH_STORE (a cyberpact.db made by `cyberpact import --org
// Bench` of `cyberpact generate`, which this benchmark changes: it adds
// its counts and 1,000 objects), or else CYBERPACT_BENCH_OBJECTS generated
// objects (default 100,000) in a new store. Each figure is the median of
// 5 calls (1 for the first Stats), in milliseconds.
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
		importGenerated(b, db, producer, n, 1)
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
	reader := &cyberpact.Viewer{Org: producer + 1000} // a member of no group
	ms := func(fn func() error, times int) float64 {
		var ds []time.Duration
		for range times {
			start := time.Now()
			if err := fn(); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	stats := func(v *cyberpact.Viewer) func() error {
		return func() error { _, err := db.Stats(ctx, v); return err }
	}
	find := func(f cyberpact.ObjectFilter) func() error {
		return func() error { _, err := db.FindObjects(ctx, f); return err }
	}
	report := func(v float64, name string) {
		b.Logf("%s: %.3f", name, v) // as it comes: the first Stats of ten million takes a while
		b.ReportMetric(v, name)
	}
	for b.Loop() {
		report(ms(find(cyberpact.ObjectFilter{Viewer: reader, Limit: 100}), 5), "list-ms")
		report(ms(find(cyberpact.ObjectFilter{Viewer: reader, Text: "T1059", Limit: 50}), 5), "search-T1059-ms")
		report(ms(find(cyberpact.ObjectFilter{Viewer: reader, Text: "powershell", Limit: 50}), 5), "search-powershell-ms")
		report(ms(stats(reader), 1), "stats-first-ms")
		report(ms(stats(reader), 5), "stats-kept-ms")
		report(ms(stats(nil), 1), "hub-stats-first-ms")
		// Five rounds of an import of 1,000 objects and a call of each
		// viewer's Stats after it: the medians.
		var imp, after, hubAfter []float64
		for range 5 {
			start := time.Now()
			importGenerated(b, db, producer, 1000, time.Now().UnixNano())
			imp = append(imp, float64(time.Since(start).Microseconds())/1000)
			after = append(after, ms(stats(reader), 1))
			hubAfter = append(hubAfter, ms(stats(nil), 1))
		}
		median := func(xs []float64) float64 { slices.Sort(xs); return xs[len(xs)/2] }
		report(median(imp), "import-1000-ms")
		report(median(after), "stats-after-import-ms")
		report(median(hubAfter), "hub-stats-after-import-ms")
		report(ms(stats(reader), 5), "stats-kept-again-ms")
		report(ms(find(cyberpact.ObjectFilter{Viewer: reader, Limit: 100}), 5), "list-again-ms")
	}
}

// importGenerated imports n generated objects (seed) as producer for all
// members, TLP:RED ones refused.
func importGenerated(b *testing.B, db *sqlite.DB, producer int64, n int, seed int64) {
	b.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, n, seed)) }()
	dec := stix.NewDecoder(pr)
	defer dec.Close()
	if _, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: producer,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true}); err != nil {
		b.Fatal(err)
	}
}
