package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/storetest"
	"github.com/google/go-cmp/cmp"
)

// TestStore runs the behavioural suite every store passes against a real
// SQLite file.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cyberpact.ObjectStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// migrationCount is the number of embedded migrations (files named
// NNNN_*.sql).
// migrationCount returns the schema version every embedded migration
// brings a store to: the highest migration number (numbers may have gaps
// while branches that each add one are merged).
func migrationCount(t *testing.T) int {
	t.Helper()
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	highest := 0
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(n), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		highest = max(highest, v)
	}
	return highest
}

const sample = `{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000001","objects":[
{"type":"tool","id":"tool--00000001-0000-4000-8000-000000000001","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Hammer"},
{"type":"tool","id":"tool--00000001-0000-4000-8000-000000000001","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","name":"Hammer","description":"v2"},
{"type":"ipv4-addr","spec_version":"2.1","value":"198.51.100.7"}]}`

func importSample(t *testing.T, db *sqlite.DB) {
	t.Helper()
	dec := stix.NewDecoder(bytes.NewReader([]byte(sample)))
	defer dec.Close()
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{})
	if err != nil || !res.Committed || res.Added != 3 {
		t.Fatalf("Import: %+v, %v", res, err)
	}
}

func TestMigrationsAppliedOnOpenAndRecorded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := migrationCount(t); v != want {
		t.Errorf("schema version after open = %d, want %d (every embedded migration)", v, want)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	// The schema is usable: every table the store needs exists.
	importSample(t, db)
	if _, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Text: "hammer"}); err != nil {
		t.Errorf("search after migrations: %v", err)
	}
}

func TestReopenKeepsDataAndDoesNotRemigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	importSample(t, db)
	var before []*cyberpact.Object
	if err := db.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		before = append(before, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	statsBefore, err := db.Stats(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != migrationCount(t) {
		t.Errorf("schema version after reopen = %d, %v", v, err)
	}
	var after []*cyberpact.Object
	if err := db.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		after = append(after, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("objects changed across reopen (-before +after):\n%s", diff)
	}
	statsAfter, err := db.Stats(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(statsBefore, statsAfter); diff != "" {
		t.Errorf("stats changed across reopen (-before +after):\n%s", diff)
	}
	// Re-importing into the reopened store finds everything present, and a
	// new import continues the sequence.
	dec := stix.NewDecoder(bytes.NewReader([]byte(sample)))
	defer dec.Close()
	res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{})
	if err != nil || res.Added != 0 || res.Present != 3 {
		t.Errorf("re-import after reopen: %+v, %v; want 0 added, 3 present", res, err)
	}
	importTool := `{"type":"tool","id":"tool--00000002-0000-4000-8000-000000000002","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Saw"}`
	dec2 := stix.NewDecoder(bytes.NewReader([]byte(importTool)))
	defer dec2.Close()
	res, err = db.Import(ctx, dec2.Next, cyberpact.ImportOptions{})
	if err != nil || res.Added != 1 {
		t.Fatalf("import after reopen: %+v, %v", res, err)
	}
	if last := before[len(before)-1]; res.FirstSeq <= last.Seq {
		t.Errorf("seq after reopen %d does not continue after %d", res.FirstSeq, last.Seq)
	}
	o, err := db.Object(ctx, "tool--00000002-0000-4000-8000-000000000002", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Added.After(before[len(before)-1].Added) {
		t.Errorf("added time after reopen %v is not after the earlier import's %v", o.Added, before[len(before)-1].Added)
	}
}

// TestSearchIndexRebuiltWhenRemoved deletes the full-text index file, as if
// the process had stopped between the objects' commit and the index's, and
// checks that reopening indexes the stored objects again.
func TestSearchIndexRebuiltWhenRemoved(t *testing.T) {
	ctx := context.Background()
	dir, path := closedSample(t)
	removed := 0
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, "cyberpact-search.db"+suffix)); err == nil {
			removed++
		}
	}
	if removed == 0 {
		t.Fatalf("no search index file beside %s to remove", path)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSampleFound(t, db, "after rebuilding the index")
}

// TestSearchIndexOfOlderVersionRebuilt replaces the full-text index with
// one of an earlier layout (six columns, schema version 3) that claims to
// cover everything, and checks that opening drops it and indexes the
// stored objects again.
func TestSearchIndexOfOlderVersionRebuilt(t *testing.T) {
	ctx := context.Background()
	dir, path := closedSample(t)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(dir, "cyberpact-search.db"+suffix))
	}
	old, err := sql.Open("sqlite", filepath.Join(dir, "cyberpact-search.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE VIRTUAL TABLE search USING fts5 (name, description, aliases, external_ids, pattern, vals, content = '', contentless_delete = 1);
		CREATE TABLE indexed (id INTEGER PRIMARY KEY, upto INTEGER NOT NULL);
		INSERT INTO indexed VALUES (1, 1000000);
		PRAGMA user_version = 3;`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSampleFound(t, db, "after replacing an older index")
}

// closedSample makes a store in a new directory, imports the sample into
// it and closes it; it returns the directory and the store's path.
func closedSample(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "cyberpact.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	importSample(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// checkSampleFound checks that full-text search finds the sample's
// objects (importSample) by a name and by an observable value.
func checkSampleFound(t *testing.T, db *sqlite.DB, when string) {
	t.Helper()
	for _, q := range []string{"hammer", "198.51.100.7"} {
		p, err := db.FindObjects(context.Background(), cyberpact.ObjectFilter{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Objects) != 1 {
			t.Errorf("search %q %s found %d objects, want 1", q, when, len(p.Objects))
		}
	}
}

// TestCorrelation runs the correlation suite against a real SQLite file.
func TestCorrelation(t *testing.T) {
	storetest.RunCorrelation(t, func(t *testing.T, limit int) storetest.CorrelationStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		db.SetCorrelationCap(limit)
		return db
	})
}

// TestOwnership runs the ownership rule's suite against a real SQLite
// file.
func TestOwnership(t *testing.T) {
	storetest.RunOwnership(t, func(t *testing.T) storetest.OwnershipStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestSearchRanks runs the suite of ranked search against a real SQLite
// file: TestSearchRanks/RanksExactExternalIDFirst and the rest.
func TestSearchRanks(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.OwnershipStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestSearchRanksATTACK checks ranked search over MITRE's Enterprise
// ATT&CK from the shared folder (skipped without it).
func TestSearchRanksATTACK(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.RunSearchATTACK(t, db)
}

// TestModel runs the model-based test of the sharing rule against a real
// SQLite file.
func TestModel(t *testing.T) {
	seeds, steps := 5, 30
	if testing.Short() {
		seeds = 3
	}
	storetest.RunModel(t, seeds, steps, func(t *testing.T) storetest.ModelStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestDeleteLog checks the log of deletes live indexes follow.
func TestDeleteLog(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.RunDeleteLog(t, db)
}

// TestStats runs the suite of Stats cases that do not decompose by
// release (ids held twice, mixed versions, edges whose ends change)
// against a real SQLite file.
func TestStats(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.OwnershipStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestLifecycle runs the suite of anonymity, counted sightings, retention
// and retractions.
func TestLifecycle(t *testing.T) {
	storetest.RunLifecycle(t, func(t *testing.T) storetest.LifecycleStore { return openDB(t, t.TempDir()) })
}

// TestDamagedBodyFailsEveryRead changes a stored body behind the store's
// back: a TAXII page (FindEnvelope), a page of the API (FindObjects) and
// an export (EachObject) each fail naming the damaged version instead of
// serving it.
func TestDamagedBodyFailsEveryRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importSample(t, db)
	all := cyberpact.ObjectFilter{AllVersions: true}
	page, err := db.FindEnvelope(ctx, all)
	if err != nil || len(page.Objects) == 0 {
		t.Fatalf("FindEnvelope before the damage: %v, %v", page, err)
	}
	id := page.Objects[0].ID
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE objects SET body = CAST(replace(CAST(body AS TEXT), '"id"', '"iD"') AS BLOB) WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() error{
		"FindEnvelope": func() error { _, err := db.FindEnvelope(ctx, all); return err },
		"FindObjects":  func() error { _, err := db.FindObjects(ctx, all); return err },
		"EachObject":   func() error { return db.EachObject(ctx, all, func(*cyberpact.Object) error { return nil }) },
	} {
		if err := read(); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), id) {
			t.Errorf("%s over a damaged body: %v; want an error naming %s as damaged", name, err, id)
		}
	}
}
