package storetest

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/cyberpact/cyberpact/sqlstore"
)

// RunDialect checks a store's sqlstore.Dialect against its own database
// db, whose schema is applied and empty: its error tests tell a unique
// violation from a foreign key violation, and its name matching and order
// fold case as the shared store relies on. A dialect that got either
// wrong would turn a taken name or an unknown peer into an internal error,
// or find no user typed in another case.
func RunDialect(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	ctx := context.Background()
	exec := func(q string, args ...any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}
	a := d.Args()
	insertOrg := `INSERT INTO orgs (name, nation, sector, created) VALUES (` + a.Add("Dialect Org") + `, 'GB', 'energy', 1)`
	if err := exec(insertOrg, a.Vals...); err != nil {
		t.Fatalf("inserting an organisation: %v", err)
	}
	a = d.Args()
	err := exec(`INSERT INTO orgs (name, nation, sector, created) VALUES (`+a.Add("DIALECT ORG")+`, 'GB', 'energy', 1)`, a.Vals...)
	if err == nil {
		t.Fatal("a name taken in another case was inserted again")
	}
	if !d.Unique(err) || d.ForeignKey(err) {
		t.Errorf("a taken name: Unique = %v, ForeignKey = %v (%v); want true, false", d.Unique(err), d.ForeignKey(err), err)
	}
	a = d.Args()
	err = exec(`INSERT INTO users (name, org, role, created) VALUES (`+a.Add("nobody")+`, `+a.Add(int64(987654))+`, 'reader', 1)`, a.Vals...)
	if err == nil {
		t.Fatal("a user of an unknown organisation was inserted")
	}
	if d.Unique(err) || !d.ForeignKey(err) {
		t.Errorf("an unknown organisation: Unique = %v, ForeignKey = %v (%v); want false, true", d.Unique(err), d.ForeignKey(err), err)
	}
	for _, name := range []string{"b-second", "A-first"} {
		a := d.Args()
		if err := exec(`INSERT INTO orgs (name, nation, sector, created) VALUES (`+a.Add(name)+`, 'GB', 'energy', 1)`, a.Vals...); err != nil {
			t.Fatal(err)
		}
	}
	a = d.Args()
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM orgs WHERE `+d.NameIs("name", a, "dialect org"), a.Vals...).Scan(&id); err != nil {
		t.Errorf("finding %q by %q: %v", "Dialect Org", "dialect org", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM orgs ORDER BY `+d.ByName("name"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if want := []string{"A-first", "b-second", "Dialect Org"}; !slices.Equal(got, want) {
		t.Errorf("ordered by name: %q, want %q", got, want)
	}
}
