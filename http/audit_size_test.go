package http_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// auditBytes returns the size of the audit log file at path once its
// write-ahead log is folded into it: the bytes the log takes on disk.
func auditBytes(t testing.TB, path string) int64 {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err == nil {
			size += fi.Size()
		}
	}
	return size
}

// readCollection pages through a TAXII objects URL with limit as m and
// returns how many objects it received.
func readCollection(t testing.TB, m *member, objects string, limit int) int {
	t.Helper()
	h := &benchHub{}
	client := &http.Client{}
	n := 0
	u := fmt.Sprintf("%s?limit=%d", objects, limit)
	for {
		e, err := h.get(client, m, u)
		if err != nil {
			t.Fatal(err)
		}
		n += len(e.Objects)
		if !e.More {
			return n
		}
		u = fmt.Sprintf("%s?limit=%d&next=%s", objects, limit, url.QueryEscape(e.Next))
	}
}

// TestReleaseAuditBytesPerObject reads a 10,000-object collection over
// TAXII as another organisation, in pages of 1,000 and of 100 (the
// default), and holds the audit log's growth per object served under a
// bound: a release is recorded by what it was (viewer, path, query,
// sequence range, count), so the log grows per page, not per object. Per
// object entries ("id@version", about 75 bytes each) fail it.
func TestReleaseAuditBytesPerObject(t *testing.T) {
	const n = 10_000
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	orgA, orgB := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	reader := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, n, 1)) }()
	dec := stix.NewDecoder(pr)
	// Partial: the generator's TLP:RED objects may not go to all members.
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: orgA.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
	dec.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Added == 0 {
		t.Fatal("nothing stored")
	}
	// What B may read of the collection: each object's latest version.
	want := 0
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	v := reader.p.Viewer()
	if err := db.EachObject(context.Background(), cyberpact.ObjectFilter{Viewer: &v, Audience: &all}, func(*cyberpact.Object) error { want++; return nil }); err != nil {
		t.Fatal(err)
	}
	_, base := serve(t, db, nil)
	objects := base + "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	auditPath := filepath.Join(dir, "cyberpact-audit.db")
	for _, tc := range []struct {
		limit int
		bound float64 // bytes per object served
	}{
		{1000, 1.5},
		{100, 5},
	} {
		t.Run(fmt.Sprintf("PagesOf%d", tc.limit), func(t *testing.T) {
			before := auditBytes(t, auditPath)
			got := readCollection(t, reader, objects, tc.limit)
			if got != want {
				t.Fatalf("read %d objects, want %d", got, want)
			}
			grown := auditBytes(t, auditPath) - before
			per := float64(grown) / float64(got)
			t.Logf("%d objects served in pages of %d: audit log grew %d bytes, %.2f bytes per object", got, tc.limit, grown, per)
			if per > tc.bound {
				t.Errorf("audit log grew %.2f bytes per object served, want at most %.2f: are releases listing each object again?", per, tc.bound)
			}
		})
	}
}
