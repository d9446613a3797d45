package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/storetest"
)

// TestAccounts runs the accounts and audit suite every store passes
// against real SQLite files.
func TestAccounts(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) interface {
		cyberpact.AccountService
		cyberpact.AuditLog
		Close() error
	} {
		return openDB(t, t.TempDir())
	})
}

// TestDialect checks the shared store's SQLite dialect on a real store.
func TestDialect(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	sqlDB, d := db.SQL()
	storetest.RunDialect(t, sqlDB, d)
}

// openDB opens the store in dir.
func openDB(t testing.TB, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// rawDB opens a file of the data directory directly, as someone with
// access to the disk could.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	return raw
}

// account makes an organisation, a user of it and a key.
func account(t *testing.T, db *sqlite.DB) (*cyberpact.User, string) {
	t.Helper()
	ctx := context.Background()
	o := &cyberpact.Org{Name: "Thamesgate Clearing Bank", Nation: "GB", Sector: "finance"}
	if err := db.CreateOrg(ctx, o, "cli"); err != nil {
		t.Fatal(err)
	}
	u := &cyberpact.User{Name: "soc", Org: o.ID, Role: cyberpact.RoleAnalyst}
	if err := db.CreateUser(ctx, u, "cli"); err != nil {
		t.Fatal(err)
	}
	key, _, err := db.CreateKey(ctx, u.ID, time.Time{}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	return u, key
}

func TestKeyStoredOnlyAsHash(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	_, key := account(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(key)) || bytes.Contains(b, []byte(key[len(cyberpact.APIKeyPrefix)+8:])) {
			t.Errorf("%s holds the key's text", filepath.Base(f))
		}
	}
	// It still authenticates after reopening: the hash is what is kept.
	db = openDB(t, dir)
	defer db.Close()
	if _, err := db.Authenticate(context.Background(), "soc", key); err != nil {
		t.Errorf("Authenticate after reopen: %v", err)
	}
}

func TestAccountsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	u, _ := account(t, db)
	db.Close()
	db = openDB(t, dir)
	defer db.Close()
	got, err := db.UserByName(context.Background(), "soc")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByName after reopen = %+v, %v", got, err)
	}
	// The chain goes on where it stopped.
	if err := db.Audit(context.Background(), &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "soc"}); err != nil {
		t.Fatal(err)
	}
	es, _ := db.AuditEntries(context.Background(), cyberpact.AuditFilter{})
	if len(es) != 4 || es[3].Seq != 4 || es[3].Prev != es[2].Hash {
		t.Errorf("after reopen: %d entries, last %+v", len(es), es[len(es)-1])
	}
	if n, err := db.VerifyAudit(context.Background()); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
}

// TestAuditAndAuthenticateDoNotWaitForObjectsWriter holds the objects'
// file's write lock, as a long import does, and checks that releases can
// still be audited and callers authenticated.
func TestAuditAndAuthenticateDoNotWaitForObjectsWriter(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	defer db.Close()
	_, key := account(t, db)
	raw := rawDB(t, filepath.Join(dir, "cyberpact.db"))
	ctx := context.Background()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)

	quick, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	for i := range 3 { // the third use is past the once-a-minute check
		if _, err := db.Authenticate(quick, "", key); err != nil {
			t.Fatalf("Authenticate %d while the objects are locked: %v", i, err)
		}
	}
	e := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "soc", Recipient: 2, Objects: []string{"x--1@v"}}
	if err := db.Audit(quick, e); err != nil {
		t.Fatalf("Audit while the objects are locked: %v", err)
	}
}

func TestNationsAreTheAssignedISOCodes(t *testing.T) {
	// Debian's iso-codes, when installed, is the reference to compare with.
	const ref = "/usr/share/iso-codes/json/iso_3166-1.json"
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Skipf("no %s to compare with", ref)
	}
	var list struct {
		Countries []struct {
			Alpha2 string `json:"alpha_2"`
		} `json:"3166-1"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Countries) < 249 {
		t.Fatalf("%s lists %d codes", ref, len(list.Countries))
	}
	assigned := map[string]bool{}
	for _, c := range list.Countries {
		assigned[c.Alpha2] = true
	}
	db := openDB(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()
	// Every pair of letters: accepted exactly when assigned.
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			c := string([]rune{a, b})
			err := db.CreateOrg(ctx, &cyberpact.Org{Name: "Org " + c, Nation: c, Sector: "other"}, "cli")
			switch {
			case assigned[c] && err != nil:
				t.Errorf("%s refused: %v", c, err)
			case !assigned[c] && cyberpact.ErrorCode(err) != cyberpact.EINVALID:
				t.Errorf("%s, not assigned: error %v, want EINVALID", c, err)
			}
		}
	}
}

// TestSignIn runs the sign-in credentials and sessions suite every store
// passes against real SQLite files.
func TestSignIn(t *testing.T) {
	storetest.RunSignIn(t, func(t *testing.T) storetest.SignInStore { return openDB(t, t.TempDir()) })
}
