package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/storetest"
	"github.com/jackc/pgx/v5"
)

// requirePostgres skips when CYBERPACT_TEST_POSTGRES is not set.
func requirePostgres(t testing.TB) {
	t.Helper()
	if os.Getenv("CYBERPACT_TEST_POSTGRES") == "" {
		t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
}

// testURL returns the URL of a fresh schema of the test database, dropped
// when the test ends, or skips when CYBERPACT_TEST_POSTGRES is not set.
func testURL(t testing.TB) string {
	t.Helper()
	requirePostgres(t)
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openDB opens a store in a fresh schema.
func openDB(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestDialect checks the shared store's PostgreSQL dialect on a real
// store.
func TestDialect(t *testing.T) {
	db := openDB(t)
	defer db.Close()
	sqlDB, d := db.SQL()
	storetest.RunDialect(t, sqlDB, d)
}

// TestStore runs the behavioural suite every store passes.
func TestStore(t *testing.T) {
	requirePostgres(t)
	storetest.Run(t, func(t *testing.T) cyberpact.ObjectStore { return openDB(t) })
}

// TestOwnership runs the ownership rule's suite every store passes.
func TestOwnership(t *testing.T) {
	requirePostgres(t)
	storetest.RunOwnership(t, func(t *testing.T) storetest.OwnershipStore { return openDB(t) })
}

// TestSearchRanks runs the suite of ranked search every store passes.
func TestSearchRanks(t *testing.T) {
	requirePostgres(t)
	storetest.RunSearch(t, func(t *testing.T) storetest.OwnershipStore { return openDB(t) })
}

// TestSearchRanksATTACK checks ranked search over MITRE's Enterprise
// ATT&CK from the shared folder (skipped without it).
func TestSearchRanksATTACK(t *testing.T) {
	requirePostgres(t)
	storetest.RunSearchATTACK(t, openDB(t))
}

// TestModel runs the model-based test of the sharing rule.
func TestModel(t *testing.T) {
	requirePostgres(t)
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	storetest.RunModel(t, seeds, 30, func(t *testing.T) storetest.ModelStore { return openDB(t) })
}

// TestDeleteLog checks the log of deletes live indexes follow.
func TestDeleteLog(t *testing.T) {
	requirePostgres(t)
	storetest.RunDeleteLog(t, openDB(t))
}

// TestAccounts runs the accounts and audit suite every store passes.
func TestAccounts(t *testing.T) {
	requirePostgres(t)
	storetest.RunAccounts(t, func(t *testing.T) interface {
		cyberpact.AccountService
		cyberpact.AuditLog
		Close() error
	} {
		return openDB(t)
	})
}

// TestSignIn runs the sign-in credentials and sessions suite every store
// passes against a real PostgreSQL.
func TestSignIn(t *testing.T) {
	storetest.RunSignIn(t, func(t *testing.T) storetest.SignInStore { return openDB(t) })
}

// tool returns a tool object numbered n as a bundle of one.
func tool(n int) string {
	return fmt.Sprintf(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{"type":"tool","id":"tool--%08x-0000-4000-8000-000000000000","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Tool %d"}]}`, n, n)
}

func importBundle(t testing.TB, db *postgres.DB, raw string) *cyberpact.ImportResult {
	t.Helper()
	dec := stix.NewDecoder(bytes.NewReader([]byte(raw)))
	defer dec.Close()
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{})
	if err != nil || !res.Committed {
		t.Fatalf("Import: %+v, %v", res, err)
	}
	return res
}

func TestMigrationsAppliedOnceByConcurrentOpens(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	const n = 4
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(ctx, u)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	v, err := dbs[0].SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Errorf("SchemaVersion = %d, %v; want at least 1", v, err)
	}
	importBundle(t, dbs[1], tool(1))
	if _, err := dbs[2].Object(ctx, "tool--00000001-0000-4000-8000-000000000000", nil); err != nil {
		t.Errorf("another process does not see the import: %v", err)
	}
}

// TestSeqsCommitInOrderAcrossProcesses imports concurrently through several
// stores (as several serve processes would) while a reader pages through
// the added sequence, and checks that no version ever appears behind a
// cursor the reader already passed.
func TestSeqsCommitInOrderAcrossProcesses(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	const writers, each = 4, 30
	stores := make([]*postgres.DB, writers+1)
	for i := range stores {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		stores[i] = db
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				importBundle(t, stores[w], tool(w*1000+i))
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	reader := stores[writers]
	seen := map[int64]bool{}
	var cursor int64
	finished := false
	for !finished {
		select {
		case <-done:
			finished = true // one more full pass after the last commit
		default:
		}
		for {
			p, err := reader.FindObjects(ctx, cyberpact.ObjectFilter{After: cursor, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Objects {
				seen[o.Seq] = true
			}
			cursor = max(cursor, p.Next)
			if !p.More {
				break
			}
		}
	}
	all, err := reader.FindObjects(ctx, cyberpact.ObjectFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Objects) != writers*each {
		t.Fatalf("%d objects stored, want %d", len(all.Objects), writers*each)
	}
	for _, o := range all.Objects {
		if !seen[o.Seq] {
			t.Errorf("seq %d (%s) committed behind the reader's cursor and was never paged", o.Seq, o.ID)
		}
	}
	for i := 1; i < len(all.Objects); i++ {
		a, b := all.Objects[i-1], all.Objects[i]
		if b.Added.Before(a.Added) {
			t.Errorf("added time goes back from seq %d to %d", a.Seq, b.Seq)
		}
	}
}

func TestImportNotifiesLastSeq(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+postgres.NotifyChannel); err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	res := importBundle(t, db, tool(1))
	// Tests of other packages may write to other schemas of the same
	// database meanwhile: their notices, on the same channel, name their
	// schemas and are passed over.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("no notification from schema %s: %v", schema, err)
		}
		if !strings.HasSuffix(n.Payload, " "+schema) {
			continue
		}
		if want := fmt.Sprint(res.LastSeq, " ", schema); n.Payload != want {
			t.Errorf("notification payload %q, want the last seq and the schema, %q", n.Payload, want)
		}
		return
	}
}

func TestStatusOnlyForItsOrg(t *testing.T) {
	db := openDB(t)
	defer db.Close()
	ctx := context.Background()
	s := &cyberpact.Status{ID: "s1", Org: 7, Status: "complete", Total: 2, Success: 2}
	if err := db.CreateStatus(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		org  int64
		code string
	}{{"Poster", 7, ""}, {"OtherOrg", 8, cyberpact.ENOTFOUND}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.Status(ctx, "s1", tc.org)
			if code := cyberpact.ErrorCode(err); code != tc.code {
				t.Fatalf("Status = %v (code %q), want code %q", err, code, tc.code)
			}
			if err == nil && (got.Total != 2 || got.Org != 7) {
				t.Errorf("Status = %+v", got)
			}
		})
	}
	if err := db.CreateStatus(ctx, s); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Errorf("CreateStatus twice = %v, want ECONFLICT", err)
	}
}

// TestCorrelation runs the correlation suite every store passes.
func TestCorrelation(t *testing.T) {
	requirePostgres(t)
	storetest.RunCorrelation(t, func(t *testing.T, limit int) storetest.CorrelationStore {
		db := openDB(t)
		db.SetCorrelationCap(limit)
		return db
	})
}

// TestStats runs the suite of Stats cases that do not decompose by
// release (ids held twice, mixed versions, edges whose ends change).
func TestStats(t *testing.T) {
	requirePostgres(t)
	storetest.RunStats(t, func(t *testing.T) storetest.OwnershipStore { return openDB(t) })
}

// TestLifecycle runs the suite of anonymity, counted sightings, retention
// and retractions.
func TestLifecycle(t *testing.T) {
	requirePostgres(t)
	storetest.RunLifecycle(t, func(t *testing.T) storetest.LifecycleStore { return openDB(t) })
}
