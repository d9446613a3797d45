package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedBodyDetectedAndRepaired is issue 15's "corrupted object
// bodies are served silently": one letter of a stored body is changed
// behind the store's back. Reading it (get, export) fails naming it
// instead of serving it, check lists it and exits 1, and repair --from
// the original restores exactly what was stored.
func TestDamagedBodyDetectedAndRepaired(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "sensor", "testdata", "indicators.json")
	mustRun(t, "import", "--data", dir, src)
	const id = "indicator--00000002-0000-4000-8000-000000000002"
	before := mustRun(t, "get", "--data", dir, id).stdout

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec(`UPDATE objects SET body = CAST(replace(CAST(body AS TEXT), '"indicator"', '"indicatoR"') AS BLOB) WHERE id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("damaged %d rows, want 1", n)
	}
	db.Close()

	if r := cli(t, "get", "--data", dir, id); r.code == 0 || !strings.Contains(r.stderr, "damaged") {
		t.Errorf("get of a damaged version: exit %d, %q; want a failure naming the damage", r.code, r.stderr)
	}
	if r := cli(t, "export", "--data", dir); r.code == 0 || !strings.Contains(r.stderr, id) {
		t.Errorf("export over a damaged version: exit %d, %q; want a failure naming %s", r.code, r.stderr, id)
	}
	r := cli(t, "check", "--data", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "damaged: "+id) || strings.Count(r.stdout, "damaged:") != 1 {
		t.Errorf("check: exit %d, %q; want exit 1 listing %s alone", r.code, r.stdout, id)
	}
	if r := cli(t, "repair", "--data", dir); r.code != 2 {
		t.Errorf("repair without --from: exit %d, want 2", r.code)
	}
	r = mustRun(t, "repair", "--data", dir, "--from", src)
	if !strings.Contains(r.stdout, "restored: "+id) {
		t.Errorf("repair printed %q, want %s restored", r.stdout, id)
	}
	mustRun(t, "check", "--data", dir)
	if after := mustRun(t, "get", "--data", dir, id).stdout; after != before {
		t.Errorf("after repair get prints\n%s\nwant what it printed before the damage\n%s", after, before)
	}
}
