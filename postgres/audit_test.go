package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/storetest"
	"github.com/jackc/pgx/v5"
)

// TestAuditScopes runs the suite of compact audit entries every store
// passes.
func TestAuditScopes(t *testing.T) {
	requirePostgres(t)
	storetest.RunAuditScopes(t, func(t *testing.T) storetest.AuditStore { return openDB(t) })
}

// TestAuditTableFromBeforeScopes opens a schema whose audit table has no
// scope columns, as a database made before them: the columns are added on
// open, its entries still verify and compact entries chain on.
func TestAuditTableFromBeforeScopes(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	old := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "taxii", Objects: []string{"tool--1@2024-01-01T00:00:00.000Z"}}
	if err := db.Audit(ctx, old); err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DROP INDEX audit_scope; ALTER TABLE audit DROP COLUMN first_seq, DROP COLUMN last_seq, DROP COLUMN scope, DROP COLUMN runs`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	db, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scoped := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "taxii",
		Scope: &cyberpact.AuditScope{First: 1, Last: 5, Count: 4, Runs: []int64{2, 1, 2}, Groups: []int64{3}, Path: "/taxii2/"}}
	if err := db.Audit(ctx, scoped); err != nil {
		t.Fatal(err)
	}
	if n, err := db.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 0", n, err)
	}
	es, err := db.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil || len(es) != 2 || es[0].Hash != old.Hash || es[0].Scope != nil || es[1].Prev != old.Hash || es[1].Scope == nil || es[1].Scope.Runs[2] != 2 {
		t.Errorf("entries %+v, %v: want the old one first, the compact one chained after it", es, err)
	}
}

// TestPrivacy runs the personal-data and warrant suite every store passes.
func TestPrivacy(t *testing.T) {
	requirePostgres(t)
	storetest.RunPrivacy(t, func(t *testing.T) storetest.PrivacyStore { return openDB(t) })
}

// TestAuditHashesFromBeforeBytes turns a log back into the form it had
// before hashes were kept as bytes (hex hash and prev in every row), runs
// the migration that keeps them as bytes over it, and checks that the
// older entries still verify, read back as they were, and that new
// entries chain on after them.
func TestAuditHashesFromBeforeBytes(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	old := []*cyberpact.AuditEntry{
		{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "taxii", Objects: []string{"tool--1@2024-01-01T00:00:00.000Z"}},
		{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: &cyberpact.AuditScope{First: 1, Last: 3, Count: 3, Path: "/taxii2/"}},
	}
	if err := db.Audit(ctx, old...); err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE audit ALTER COLUMN hash TYPE text USING encode(hash, 'hex')`); err != nil {
		t.Fatal(err)
	}
	for _, e := range old {
		if _, err := conn.Exec(ctx, `UPDATE audit SET prev = $1 WHERE seq = $2`, e.Prev, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	migration, err := filepath.Glob("migrations/*_audit_bytes_stats_kept.sql")
	if err != nil || len(migration) != 1 {
		t.Fatalf("the migration: %v, %v", migration, err)
	}
	body, err := os.ReadFile(migration[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, string(body)); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	db, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	next := &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "alice", ActorOrg: 1, Via: "rest", Scope: &cyberpact.AuditScope{First: 4, Last: 4, Count: 1}}
	if err := db.Audit(ctx, next); err != nil {
		t.Fatal(err)
	}
	if n, err := db.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 0", n, err)
	}
	es, err := db.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil || len(es) != 3 || es[0].Hash != old[0].Hash || es[1].Prev != old[0].Hash || es[1].Hash != old[1].Hash || es[2].Prev != old[1].Hash {
		t.Errorf("entries %+v, %v: want the old ones as they were, the new one chained after them", es, err)
	}
	conn, err = pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE audit SET prev = repeat('1', 64) WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if n, err := db.VerifyAudit(ctx); n != 2 || err != nil {
		t.Errorf("an old entry's prev changed: VerifyAudit = %d, %v; want 2", n, err)
	}
}
