package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// TestSearchChunksBoundedByBytes: an import of objects with long
// descriptions hands the index writer chunks of at most searchChunkBytes
// and one version more, so that the chunks in flight hold a few megabytes
// whatever the page (issue 15: counting the name alone let 8,192 rows of 4
// KB descriptions, 32 MB, make a chunk), both row by row and in bulk mode,
// and so does the reindex after a crash. Every version is still found.
func TestSearchChunksBoundedByBytes(t *testing.T) {
	const n, desc = 6000, 4000 // 24 MB of descriptions
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000001","objects":[`)
	pad := strings.Repeat("word ", desc/5)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"long %d","description":"needle%d %s","pattern":"[ipv4-addr:value = '198.51.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
			i, i, i, pad, i/250, i%250+1)
	}
	b.WriteString("]}")
	bound := int64(searchChunkBytes + desc + 1000)
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			defer func(old int64) { bulkAfter = old }(bulkAfter)
			if bulk {
				bulkAfter = 1000
			} else {
				bulkAfter = 1 << 40
			}
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "cyberpact.db")
			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			largestChunk.Store(0)
			before := bulkImports.Load()
			dec := stix.NewDecoder(strings.NewReader(b.String()))
			defer dec.Close()
			res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{})
			if err != nil || res.Added != n {
				t.Fatalf("Import: %v, %+v", err, res)
			}
			if went := bulkImports.Load() > before; went != bulk {
				t.Fatalf("the import went bulk: %v, want %v", went, bulk)
			}
			if got := largestChunk.Load(); got > bound || got < searchChunkBytes {
				t.Errorf("largest chunk handed to the index writer: %d bytes, want from %d to %d", got, searchChunkBytes, bound)
			}
			for _, i := range []int{0, n / 2, n - 1} {
				page, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Text: fmt.Sprintf("needle%d", i)})
				if err != nil || len(page.Objects) != 1 {
					t.Fatalf("search for needle%d: %v, %d found", i, err, len(page.Objects))
				}
			}
		})
	}
	t.Run("reindex", func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "cyberpact.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		dec := stix.NewDecoder(strings.NewReader(b.String()))
		defer dec.Close()
		if _, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		// Without its index file, the store indexes every version again
		// when it opens.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(filepath.Join(dir, searchFile(path)+suffix))
		}
		largestChunk.Store(0)
		db, err = Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if got := largestChunk.Load(); got > bound || got < searchChunkBytes {
			t.Errorf("largest chunk the reindex handed to the index writer: %d bytes, want from %d to %d", got, searchChunkBytes, bound)
		}
		page, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Text: fmt.Sprintf("needle%d", n-1)})
		if err != nil || len(page.Objects) != 1 {
			t.Fatalf("search after the reindex: %v, %d found", err, len(page.Objects))
		}
	})
}
