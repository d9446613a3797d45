package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// BenchmarkReimportAsHub re-imports, as the hub (producer 0), a generated
// bundle of 20,000 objects it already holds: every version is placed among
// the held ones (cyberpact.Admit), whose anonymous submitter the store
// reads for each held version of the hub's (see BENCHMARKS.md, anonymous
// holdings).
func BenchmarkReimportAsHub(b *testing.B) {
	raw := generated(b, 20000)
	opts := cyberpact.ImportOptions{Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cyberpact.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	imp := func() *cyberpact.ImportResult {
		dec := stix.NewDecoder(bytes.NewReader(raw))
		defer dec.Close()
		res, err := db.Import(ctx, dec.Next, opts)
		if err != nil || !res.Committed {
			b.Fatalf("import: %v %+v", err, res)
		}
		return res
	}
	imp()
	n := 0
	for b.Loop() {
		res := imp()
		n += res.Present
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
}
