package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// TestPresentImportThenCrashStillIndexes is issue 15's "search and
// correlation lose committed objects after a crash when an earlier import
// added nothing": an import whose every object is already present must
// not move the sequence or the index's progress, so that when the next
// import's objects commit and the process dies before the search index
// commits, opening the store indexes them.
func TestPresentImportThenCrashStillIndexes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first := bundleOf([]string{indicator(1, 1), indicator(2, 2)})
	importText(t, db, first, false)
	var uptoBefore int64
	search := openSearchFile(t, dir)
	if err := search.QueryRowContext(ctx, `SELECT upto FROM indexed`).Scan(&uptoBefore); err != nil {
		t.Fatal(err)
	}
	for range 3 { // all already present: nothing added
		if res := importText(t, db, first, false); res.Added != 0 {
			t.Fatalf("re-import added %d", res.Added)
		}
	}
	res := importText(t, db, bundleOf([]string{indicator(3, 77)}), false)
	if res.Added != 1 || res.FirstSeq <= uptoBefore {
		t.Fatalf("new import added %d from seq %d; the index covered up to %d before the repeats", res.Added, res.FirstSeq, uptoBefore)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The crash: the objects committed, the search index's commit never
	// happened.
	if _, err := search.ExecContext(ctx, `UPDATE indexed SET upto = ?`, uptoBefore); err != nil {
		t.Fatal(err)
	}
	if _, err := search.ExecContext(ctx, `DELETE FROM search WHERE rowid > ?`, uptoBefore); err != nil {
		t.Fatal(err)
	}
	if _, err := search.ExecContext(ctx, `DELETE FROM observables WHERE seq > ?`, uptoBefore); err != nil {
		t.Fatal(err)
	}
	search.Close()

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Text: "198.51.100.77"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 1 {
		t.Errorf("search after the crash finds %d objects, want the one committed before it", len(page.Objects))
	}
	key, _, ok := match.ObservableKey("ipv4-addr", "198.51.100.77")
	if !ok {
		t.Fatal("no observable key for an IPv4 address")
	}
	c, err := db.Correlate(ctx, []string{key}, &cyberpact.Viewer{Org: 5}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Objects) != 1 {
		t.Errorf("correlation after the crash finds %d objects holding 198.51.100.77, want the one committed before it", len(c.Objects))
	}
}

// openSearchFile opens the search index file of the store in dir for
// writing behind the store's back.
func openSearchFile(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cyberpact-search.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestImportAuditedAfterFailedAppend is issue 15's "a committed write
// answered as a failure": when the audit log cannot be appended to just
// after an import commits, the import is still answered as stored (its
// entry was committed with the objects, in the import's row), and the
// entry reaches the log when the store next opens, once: the chain
// verifies and names the import's range.
func TestImportAuditedAfterFailedAppend(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	importAudited(t, db, bundleOf([]string{indicator(1, 1)}))
	if err := db.BreakAuditLog(); err != nil {
		t.Fatal(err)
	}
	res := importAudited(t, db, bundleOf([]string{indicator(2, 2), indicator(3, 3)}))
	if !res.Committed || res.Added != 2 {
		t.Fatalf("import with a broken log: %+v, want 2 added and committed", res)
	}
	db.Close() // the broken log's close may fail; the objects are committed

	for range 2 { // the second open finds nothing left to append
		db, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		writes, err := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditWrite})
		if err != nil {
			t.Fatal(err)
		}
		if len(writes) != 2 {
			t.Fatalf("%d write entries after reopening, want 2 (one per import)", len(writes))
		}
		if s := writes[1].Scope; s == nil || s.First != res.FirstSeq || s.Last != res.LastSeq || writes[1].Actor != "tester" {
			t.Errorf("second write entry %+v, want the import of Seqs %d-%d by tester", writes[1], res.FirstSeq, res.LastSeq)
		}
		if broken, err := db.VerifyAudit(ctx); err != nil || broken != 0 {
			t.Fatalf("audit chain broken at %d (%v)", broken, err)
		}
		db.Close()
	}
}

// importAudited imports text through cyberpact.AuditedImport, the log
// being the store itself, as every front end does.
func importAudited(t *testing.T, db *sqlite.DB, text string) *cyberpact.ImportResult {
	t.Helper()
	dec := stix.NewDecoder(strings.NewReader(text))
	defer dec.Close()
	res, err := cyberpact.AuditedImport(context.Background(), db, db, cyberpact.Actor{Name: "tester", Via: "cli"}, dec.Next, cyberpact.ImportOptions{}, "")
	if err != nil {
		t.Fatalf("AuditedImport: %v", err)
	}
	return res
}
