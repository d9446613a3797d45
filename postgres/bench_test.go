package postgres_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/storetest"
)

// generated returns a generated bundle of n objects.
func generated(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := gen.Write(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchImport imports raw into a fresh schema per iteration: read, decode,
// upgrade, validate and store, as the import command does, beside the
// SQLite store's benchmark of the same name. The objects are released to
// their producer alone, since generated bundles hold TLP:RED.
func benchImport(b *testing.B, raw []byte) {
	opts := cyberpact.ImportOptions{Producer: 1, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}}
	ctx := context.Background()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	objects := 0
	for b.Loop() {
		b.StopTimer()
		db := openDB(b)
		b.StartTimer()
		dec := stix.NewDecoder(bytes.NewReader(raw))
		res, err := db.Import(ctx, dec.Next, opts)
		dec.Close()
		if err != nil {
			b.Fatalf("import: %v", err)
		}
		if !res.Committed || len(res.Rejected) > 0 {
			b.Fatalf("import: committed %v, %d objects refused: %.500v", res.Committed, len(res.Rejected), cyberpact.Rejections(res.Rejected))
		}
		objects += res.Added
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}

const generatedObjects = 100_000

func BenchmarkImportGenerated(b *testing.B) { benchImport(b, generated(b, generatedObjects)) }

// BenchmarkAuthenticate is one request's authentication (see
// storetest.BenchAuthenticate).
func BenchmarkAuthenticate(b *testing.B) {
	db := openDB(b)
	defer db.Close()
	storetest.BenchAuthenticate(b, db)
}
