package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// purgeFixture is a store holding a generated bundle of n objects
// released to organisation 1 alone, with a hub-wide rule of one day for
// every type, and the ids it holds.
func purgeFixture(b *testing.B, raw []byte) (*sqlite.DB, []string) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cyberpact.db"))
	if err != nil {
		b.Fatal(err)
	}
	dec := stix.NewDecoder(bytes.NewReader(raw))
	defer dec.Close()
	res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{Partial: true, Producer: 1, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}})
	if err != nil || !res.Committed {
		b.Fatal(err, res)
	}
	if err := db.SetRetention(ctx, &cyberpact.RetentionRule{Type: cyberpact.AnyType, Days: 1}, "cli"); err != nil {
		b.Fatal(err)
	}
	seen := map[string]bool{}
	var ids []string
	err = db.EachObject(ctx, cyberpact.ObjectFilter{Versions: []string{"all"}}, func(o *cyberpact.Object) error {
		if !seen[o.ID] {
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return db, ids
}

// BenchmarkPurge20k purges every version of 20,000 generated objects by
// retention (one transaction, verified, audited), beside deleting the same
// objects one DeleteObject each (the baseline: what a purge by the
// existing delete would cost, without removing correlation rows).
func BenchmarkPurge20k(b *testing.B) {
	raw := generated(b, 20000)
	ctx := context.Background()
	b.Run("RetentionPurge", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db, _ := purgeFixture(b, raw)
			b.StartTimer()
			res, err := cyberpact.Purge(ctx, db, db, cyberpact.Actor{Name: "cli", Via: "cli"}, time.Now().Add(48*time.Hour))
			if err != nil || res.Versions == 0 {
				b.Fatal(err, res)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
	})
	b.Run("DeleteObjectEach", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db, ids := purgeFixture(b, raw)
			b.StartTimer()
			for _, id := range ids {
				if _, err := db.DeleteObject(ctx, id, cyberpact.ObjectFilter{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
	})
}
