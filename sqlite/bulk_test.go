package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// tool is a STIX tool version numbered n, named name.
func tool(n int, day int, name string) string {
	return fmt.Sprintf(`{"type":"tool","spec_version":"2.1","id":"tool--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-%02dT00:00:00.000Z","name":%q}`, n, day, name)
}

func uses(n, from, to int) string {
	return fmt.Sprintf(`{"type":"relationship","spec_version":"2.1","id":"relationship--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","relationship_type":"related-to","source_ref":"tool--%08x-0000-4000-8000-000000000000","target_ref":"tool--%08x-0000-4000-8000-000000000000"}`, n, from, to)
}

// indicator n detects the IPv4 address 198.51.100.v.
func indicator(n, v int) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, v)
}

func bundleOf(objs []string) string {
	return `{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000001","objects":[` + strings.Join(objs, ",\n") + `]}`
}

func importText(t *testing.T, db *sqlite.DB, text string, partial bool) *cyberpact.ImportResult {
	t.Helper()
	dec := stix.NewDecoder(strings.NewReader(text))
	defer dec.Close()
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Partial: partial})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// dump is every stored version as "id modified body", sorted, and what
// links to one tool.
func dump(t *testing.T, db *sqlite.DB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	err := db.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		out = append(out, o.ID+" "+o.Modified+" "+string(o.Raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	page, err := db.Relationships(ctx, "tool--00000096-0000-4000-8000-000000000000", cyberpact.Incoming, cyberpact.ObjectFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range page.Objects {
		out = append(out, "incoming "+o.ID)
	}
	return out
}

// checkIndexes fails unless the indexes a bulk import drops are in the
// database file at path.
func checkIndexes(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"objects_id_version", "refs_target"} {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("index %s missing after the import", name)
		}
	}
}

// correlationRows lists the correlation index of the store at path as
// "value kind id modified".
func correlationRows(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	search := strings.TrimSuffix(path, ".db") + "-search.db"
	if _, err := db.Exec(`ATTACH DATABASE ? AS s`, "file:"+search+"?mode=ro"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT b.key, b.kind, o.id, o.version FROM s.observables b JOIN objects o ON o.seq = b.seq ORDER BY 1, 3, 4`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var key, kind, id, version string
		if err := rows.Scan(&key, &kind, &id, &version); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{key, kind, id, version}, " "))
	}
	if len(out) == 0 {
		t.Fatal("no correlation rows")
	}
	return out
}

// TestBulkImportMatchesRowByRow imports the same input into a store that
// switches to bulk mode and one that does not: the results, what is stored
// and the relationships found must be the same, including versions already
// stored, repeated within a batch and across batches, and conflicts of
// each kind.
func TestBulkImportMatchesRowByRow(t *testing.T) {
	var pre []string
	for i := range 20 {
		pre = append(pre, tool(i, 1, fmt.Sprintf("stored %d", i)))
	}
	pre = append(pre, indicator(1, 1))
	var in []string
	for i := 100; i < 1100; i++ {
		in = append(in, tool(i, 2, fmt.Sprintf("new %d", i)))
		switch i {
		case 200:
			in = append(in, tool(i, 2, "new 200")) // the same version again, same batch
		case 300:
			in = append(in, tool(i, 2, "other 300")) // a conflict within the batch
		}
		if i%100 == 50 {
			in = append(in, uses(i, i, 150))
		}
		if i%10 == 0 {
			in = append(in, indicator(i, i%7)) // each address in many: the cap applies
		}
	}
	for i := 100; i < 110; i++ {
		in = append(in, tool(i, 2, fmt.Sprintf("new %d", i))) // again, batches later
	}
	in = append(in, tool(400, 2, "other 400")) // a conflict batches later
	for i := range 5 {
		in = append(in, tool(i, 1, fmt.Sprintf("stored %d", i))) // already stored
	}
	in = append(in, tool(7, 1, "changed 7")) // a conflict with a stored version
	in = append(in, tool(7, 3, "stored 7, new version"))

	run := func(bulkAfter int64) (*cyberpact.ImportResult, []string, int64) {
		defer sqlite.SetBulkAfter(bulkAfter)()
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetCorrelationCap(3)
		importText(t, db, bundleOf(pre), false)
		before := sqlite.BulkImports()
		res := importText(t, db, bundleOf(in), true)
		checkIndexes(t, db.Path())
		return res, append(dump(t, db), correlationRows(t, db.Path())...), sqlite.BulkImports() - before
	}
	bulkRes, bulkDump, went := run(100)
	if went != 1 {
		t.Fatalf("the import went bulk %d times, want 1", went)
	}
	// Correlation rows written in runs of a few during the import (as an
	// import of millions writes them) end the same as written at once.
	restore := sqlite.SetObsRunRows(7)
	runsRes, runsDump, went := run(100)
	restore()
	if went != 1 {
		t.Fatalf("the import in runs went bulk %d times, want 1", went)
	}
	if runsRes.Added != bulkRes.Added || runsRes.Present != bulkRes.Present || len(runsRes.Rejected) != len(bulkRes.Rejected) {
		t.Errorf("in runs added %d, present %d, rejected %d; at once %d, %d, %d", runsRes.Added, runsRes.Present, len(runsRes.Rejected), bulkRes.Added, bulkRes.Present, len(bulkRes.Rejected))
	}
	if diff := cmp.Diff(bulkDump, runsDump); diff != "" {
		t.Errorf("stored versions or correlation rows differ (-at once +in runs):\n%s", diff)
	}
	rowRes, rowDump, went := run(1 << 40)
	if went != 0 {
		t.Fatalf("the row-by-row import went bulk")
	}
	if bulkRes.Added != rowRes.Added || bulkRes.Present != rowRes.Present {
		t.Errorf("bulk added %d, present %d; row by row %d, %d", bulkRes.Added, bulkRes.Present, rowRes.Added, rowRes.Present)
	}
	if want := 1000 + 10 + 1 + 100; rowRes.Added != want {
		t.Errorf("added %d, want %d", rowRes.Added, want)
	}
	if want := 1 + 10 + 5; rowRes.Present != want {
		t.Errorf("present %d, want %d", rowRes.Present, want)
	}
	reasons := func(rs []*cyberpact.Rejection) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%d %s %s", r.Index, r.ID, r.Reason))
		}
		return out
	}
	if diff := cmp.Diff(reasons(rowRes.Rejected), reasons(bulkRes.Rejected)); diff != "" {
		t.Errorf("rejections differ (-row by row +bulk):\n%s", diff)
	}
	if len(rowRes.Rejected) != 3 {
		t.Errorf("%d rejections, want 3: %v", len(rowRes.Rejected), reasons(rowRes.Rejected))
	}
	if diff := cmp.Diff(rowDump, bulkDump); diff != "" {
		t.Errorf("stored versions differ (-row by row +bulk):\n%s", diff)
	}
}

// TestBulkImportRolledBack: an atomic import that went bulk and then met a
// conflict leaves the store as it was, indexes included: a stored version
// imported again is found present, not added twice.
func TestBulkImportRolledBack(t *testing.T) {
	defer sqlite.SetBulkAfter(100)()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importText(t, db, bundleOf([]string{tool(1, 1, "stored")}), false)
	before := dump(t, db)
	var in []string
	for i := 100; i < 400; i++ {
		in = append(in, tool(i, 2, "new"), uses(i, i, 150))
	}
	in = append(in, tool(1, 1, "changed"))
	went := sqlite.BulkImports()
	res := importText(t, db, bundleOf(in), false)
	if sqlite.BulkImports() == went {
		t.Fatal("the import did not go bulk")
	}
	if res.Committed || len(res.Rejected) != 1 {
		t.Fatalf("committed %v with %d rejections, want a rolled-back import with 1", res.Committed, len(res.Rejected))
	}
	checkIndexes(t, db.Path())
	if diff := cmp.Diff(before, dump(t, db)); diff != "" {
		t.Errorf("store changed by a rolled-back import (-before +after):\n%s", diff)
	}
	res = importText(t, db, bundleOf([]string{tool(1, 1, "stored")}), false)
	if res.Added != 0 || res.Present != 1 {
		t.Errorf("re-importing a stored version after the rollback: added %d, present %d; want 0, 1", res.Added, res.Present)
	}
}

// TestBulkImportSeqs: a bulk import appends its rows without naming their
// seqs (see importer.append), so SQLite numbers them from the largest one
// stored. That may be below the import's last seq: the newest stored
// version may have been deleted, and a version found already present takes
// a seq without a row. The import must still give its versions seqs above
// every one given before, increasing in the order of the input, and keep
// each relationship's links on its own seq.
func TestBulkImportSeqs(t *testing.T) {
	defer sqlite.SetBulkAfter(100)()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res := importText(t, db, bundleOf([]string{tool(1, 1, "kept"), tool(2, 1, "deleted")}), false)
	lastBefore := res.LastSeq
	if n, err := db.DeleteObject(ctx, "tool--00000002-0000-4000-8000-000000000000", cyberpact.ObjectFilter{}); err != nil || n != 1 {
		t.Fatalf("DeleteObject: %d, %v", n, err)
	}
	var in []string
	for i := 100; i < 611; i++ {
		in = append(in, tool(i, 2, fmt.Sprintf("new %d", i)))
	}
	in = append(in, tool(1, 1, "kept")) // present, last of the first batch (512)
	for i := 1000; i < 1300; i++ {
		in = append(in, tool(i, 2, fmt.Sprintf("new %d", i)), uses(i, i, 150))
	}
	went := sqlite.BulkImports()
	res = importText(t, db, bundleOf(in), false)
	if sqlite.BulkImports() == went {
		t.Fatal("the import did not go bulk")
	}
	if res.Added != len(in)-1 || res.Present != 1 || res.FirstSeq <= lastBefore {
		t.Fatalf("added %d from seq %d, %d present; want %d above %d, 1 present", res.Added, res.FirstSeq, res.Present, len(in)-1, lastBefore)
	}
	seqs := map[string]int64{}
	err = db.EachObject(ctx, cyberpact.ObjectFilter{After: lastBefore}, func(o *cyberpact.Object) error {
		seqs[o.ID] = o.Seq
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	prev := lastBefore
	for i, text := range in {
		o, err := stix.Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if o.ID == "tool--00000001-0000-4000-8000-000000000000" {
			continue
		}
		if seqs[o.ID] <= prev {
			t.Fatalf("%s (input %d) has seq %d, after %d", o.ID, i, seqs[o.ID], prev)
		}
		prev = seqs[o.ID]
	}
	page, err := db.Relationships(ctx, "tool--00000096-0000-4000-8000-000000000000", cyberpact.Incoming, cyberpact.ObjectFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 300 {
		t.Errorf("%d relationships point at tool 150, want 300", len(page.Objects))
	}
	for _, o := range page.Objects {
		if o.Seq != seqs[o.ID] {
			t.Errorf("%s found through its link as seq %d, stored as %d", o.ID, o.Seq, seqs[o.ID])
		}
	}
}

// TestBulkImportEmptiesWAL: a committed bulk import leaves its WAL copied
// into the database and emptied (see checkpointAfterBulk), and everything
// it added is there when the store is opened again.
func TestBulkImportEmptiesWAL(t *testing.T) {
	defer sqlite.SetBulkAfter(100)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for i := 100; i < 400; i++ {
		in = append(in, tool(i, 2, fmt.Sprintf("new %d", i)), uses(i, i, 150))
	}
	went := sqlite.BulkImports()
	if res := importText(t, db, bundleOf(in), false); res.Added != len(in) {
		t.Fatalf("added %d, want %d", res.Added, len(in))
	}
	if sqlite.BulkImports() == went {
		t.Fatal("the import did not go bulk")
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 {
		t.Errorf("the WAL holds %d bytes after the bulk import, want 0", fi.Size())
	}
	before := dump(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if diff := cmp.Diff(before, dump(t, db)); diff != "" {
		t.Errorf("the store differs once opened again (-before +after):\n%s", diff)
	}
}

// TestPageSizes: new files get their page sizes although the driver
// applies journal_mode, which fixes the size, before page_size.
func TestPageSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for file, want := range map[string]int{path: 65536, strings.TrimSuffix(path, ".db") + "-search.db": 65536} {
		c, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var got int
		var mode string
		if err := c.QueryRow(`PRAGMA page_size`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if got != want || mode != "wal" {
			t.Errorf("%s: page size %d in %s mode, want %d in wal", filepath.Base(file), got, mode, want)
		}
	}
}

// TestSightingOfManyPlaces: a sighting may name more places than one
// statement can bind values for; its links are written in several.
func TestSightingOfManyPlaces(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const places = 12000 // 36,000 bound values in one statement, over SQLite's 32,766
	refs := make([]string, places)
	for i := range refs {
		refs[i] = fmt.Sprintf(`"identity--%08x-0000-4000-8000-000000000000"`, i)
	}
	sighting := `{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000001","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",` +
		`"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001","where_sighted_refs":[` + strings.Join(refs, ",") + `]}`
	res := importText(t, db, bundleOf([]string{sighting}), false)
	if res.Added != 1 || len(res.Rejected) != 0 {
		t.Fatalf("added %d, rejected %v; want 1 added", res.Added, res.Rejected)
	}
	for _, i := range []int{0, places - 1} {
		id := fmt.Sprintf("identity--%08x-0000-4000-8000-000000000000", i)
		page, err := db.Relationships(context.Background(), id, cyberpact.Incoming, cyberpact.ObjectFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 1 {
			t.Errorf("%s: %d sightings name it, want 1", id, len(page.Objects))
		}
	}
}

// TestImportBatchesByBytes: objects of 1 to 200 KB, whose batches end at
// bytes rather than at their count and go in power-of-two parts, are
// stored as they are, row by row and in bulk mode alike: every version
// once, a repeat present, a conflict refused, though they fall in other
// parts of a batch than their first copy.
func TestImportBatchesByBytes(t *testing.T) {
	big := func(n, day, size int, name string) string {
		return fmt.Sprintf(`{"type":"tool","spec_version":"2.1","id":"tool--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-%02dT00:00:00.000Z","name":%q,"description":%q}`,
			n, day, name, strings.Repeat("d", size))
	}
	var in []string
	for i := range 300 {
		in = append(in, big(i, 1, 1000+(i*7919)%200_000, fmt.Sprintf("tool %d", i)))
		switch i {
		case 40:
			in = append(in, in[3]) // a repeat of a version batches earlier
		case 41:
			in = append(in, big(5, 1, 10, "tool 5, changed")) // a conflict
		case 150:
			in = append(in, big(150, 2, 50_000, "tool 150, second version"))
		}
	}
	run := func(bulkAfter int64) (*cyberpact.ImportResult, []string, int64) {
		defer sqlite.SetBulkAfter(bulkAfter)()
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		before := sqlite.BulkImports()
		res := importText(t, db, bundleOf(in), true)
		checkIndexes(t, db.Path())
		return res, dump(t, db), sqlite.BulkImports() - before
	}
	bulkRes, bulkDump, went := run(50)
	if went != 1 {
		t.Fatalf("the import went bulk %d times, want 1", went)
	}
	rowRes, rowDump, went := run(1 << 40)
	if went != 0 {
		t.Fatalf("the row-by-row import went bulk")
	}
	for _, r := range []*cyberpact.ImportResult{rowRes, bulkRes} {
		if r.Added != 301 || r.Present != 1 || len(r.Rejected) != 1 || r.Rejected[0].ID != "tool--00000005-0000-4000-8000-000000000000" {
			t.Errorf("added %d, present %d, refused %d (%v); want 301, 1 and tool 5", r.Added, r.Present, len(r.Rejected), r.Rejected)
		}
	}
	if len(rowDump) < 301 {
		t.Fatalf("%d versions stored, want 301", len(rowDump))
	}
	if diff := cmp.Diff(rowDump, bulkDump); diff != "" {
		t.Errorf("stored versions differ (-row by row +bulk):\n%.2000s", diff)
	}
}

// TestBulkObservablesInRuns: a bulk import whose correlation rows are
// spilled in sorted runs of a few rows (as an import of millions spills
// runs of obsRunRows) indexes the same rows as one that keeps them all in
// memory and as one row by row, the last run cut short included.
func TestBulkObservablesInRuns(t *testing.T) {
	var in []string
	for i := range 150 {
		in = append(in, tool(i, 1, fmt.Sprintf("tool %d", i)))
	}
	for i := range 250 {
		in = append(in, indicator(1000+i, i)) // a value each
		if i%50 == 0 {
			in = append(in, indicator(2000+i, 7)) // one value in several versions
		}
	}
	run := func(bulkAfter int64, runRows int) []string {
		defer sqlite.SetBulkAfter(bulkAfter)()
		defer sqlite.SetObsRunRows(runRows)()
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		before := sqlite.BulkImports()
		if res := importText(t, db, bundleOf(in), false); res.Added != len(in) {
			t.Fatalf("added %d of %d", res.Added, len(in))
		}
		if went := sqlite.BulkImports() - before; went != min(1, int64(len(in))/bulkAfter) {
			t.Fatalf("went bulk %d times", went)
		}
		entries, err := os.ReadDir(filepath.Dir(db.Path()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".run") {
				t.Errorf("runs file %s left behind", e.Name())
			}
		}
		return correlationRows(t, db.Path())
	}
	rowByRow := run(1<<40, 1<<18)
	if len(rowByRow) != 250+5 {
		t.Fatalf("%d correlation rows row by row, want 255", len(rowByRow))
	}
	if diff := cmp.Diff(rowByRow, run(100, 1<<18)); diff != "" {
		t.Errorf("bulk, rows in memory (-row by row +bulk):\n%s", diff)
	}
	if diff := cmp.Diff(rowByRow, run(100, 7)); diff != "" {
		t.Errorf("bulk, rows in runs of 7 (-row by row +bulk):\n%s", diff)
	}
}
