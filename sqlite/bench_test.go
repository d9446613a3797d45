package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/internal/stixschema"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/storetest"
)

// enterpriseATTACK returns the ATT&CK Enterprise bundle (STIX 2.0) from the
// shared data folder, or skips.
func enterpriseATTACK(b *testing.B) []byte {
	b.Helper()
	dir, ok := stixschema.SharedDir()
	if !ok {
		b.Skip("no shared folder; set CYBERPACT_SHARED")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "data", "enterprise-attack-18.1.stix20.json"))
	if err != nil {
		b.Skip(err)
	}
	return raw
}

// generated returns a generated bundle of n objects.
func generated(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := gen.Write(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchImport imports raw into a fresh store per iteration: read, decode,
// upgrade, validate and store, as the import command does. The objects are
// released to their producer alone, since generated bundles hold TLP:RED,
// which is never shared with all members.
func benchImport(b *testing.B, raw []byte) {
	opts := cyberpact.ImportOptions{Producer: 1, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}}
	ctx := context.Background()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	objects := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cyberpact.db"))
		if err != nil {
			b.Fatal(err)
		}
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

// benchEncodingJSON decodes raw with encoding/json into any: the baseline
// for reading the same bytes with nothing stored.
func benchEncodingJSON(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportEnterpriseATTACK(b *testing.B) { benchImport(b, enterpriseATTACK(b)) }

func BenchmarkDecodeEnterpriseATTACKEncodingJSON(b *testing.B) {
	benchEncodingJSON(b, enterpriseATTACK(b))
}

const generatedObjects = 100_000

func BenchmarkImportGenerated(b *testing.B) { benchImport(b, generated(b, generatedObjects)) }

func BenchmarkDecodeGeneratedEncodingJSON(b *testing.B) {
	benchEncodingJSON(b, generated(b, generatedObjects))
}

// BenchmarkAuthenticate is one request's authentication (see
// storetest.BenchAuthenticate).
func BenchmarkAuthenticate(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	storetest.BenchAuthenticate(b, db)
}
