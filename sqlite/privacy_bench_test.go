package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// personalBundle is n notes, each naming a person and a phone number, and
// n victims' e-mail addresses, all distinct.
func personalBundle(n int) []byte {
	objs := make([]any, 0, 2*n)
	for i := range n {
		objs = append(objs, map[string]any{"type": "email-addr", "spec_version": "2.1", "value": fmt.Sprintf("victim%d@northbank.example", i)},
			map[string]any{"type": "note", "spec_version": "2.1", "id": fmt.Sprintf("note--%08x-0000-4000-8000-%012x", i, i),
				"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
				"content":     fmt.Sprintf("Victim Laurent Dubois %d called the SOC on +44 20 7946 %04d after the lure; Cobalt Strike beacons reached 198.51.100.%d.", i, i%10000, i%250),
				"object_refs": []any{fmt.Sprintf("note--%08x-0000-4000-8000-%012x", i, i)}})
	}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--00000001-0000-4000-8000-000000000001", "objects": objs})
	return b
}

// BenchmarkImportPersonalData imports 1,000 notes and 1,000 addresses
// into a fresh store, with no privacy policy (every import reads the
// policies and finds none) and with every detector on (every object is
// parsed again, searched and, here, redacted): the cost of redaction at
// import, beside its baseline in the same run.
func BenchmarkImportPersonalData(b *testing.B) {
	raw := personalBundle(1000)
	for _, policy := range []string{"none", "all"} {
		b.Run("policy="+policy, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cyberpact.db"))
				if err != nil {
					b.Fatal(err)
				}
				if err := db.SetPrivacyPolicy(ctx, &cyberpact.PrivacyPolicy{Detectors: policy}, "cli"); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				dec := stix.NewDecoder(bytes.NewReader(raw))
				res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: 1, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}})
				dec.Close()
				if err != nil || res.Added != 2000 {
					b.Fatalf("import: %+v %v", res, err)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
