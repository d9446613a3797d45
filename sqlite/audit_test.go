package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/storetest"
)

// openTest opens a store in a new directory and returns it with the path
// of its audit file.
func openTest(t testing.TB) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(context.Background(), filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, filepath.Join(dir, "cyberpact-audit.db")
}

// sampleLog appends six entries of every kind.
func sampleLog(t *testing.T, db *DB) []*cyberpact.AuditEntry {
	t.Helper()
	var es []*cyberpact.AuditEntry
	for i := range 6 {
		es = append(es, &cyberpact.AuditEntry{
			Action: []string{cyberpact.AuditWrite, cyberpact.AuditRelease, cyberpact.AuditAccount}[i%3],
			Actor:  fmt.Sprintf("user%d", i), ActorOrg: int64(i + 1), Recipient: int64(i + 2), Via: "taxii",
			Objects: []string{fmt.Sprintf("indicator--%d@v1", i), fmt.Sprintf("tool--%d@v1", i)},
			Detail:  fmt.Sprintf("entry %d", i),
		})
	}
	if err := db.Audit(context.Background(), es...); err != nil {
		t.Fatal(err)
	}
	return es
}

// TestVerifyAuditNamesFirstBrokenEntry tampers with the audit file through
// a raw connection, as someone with access to the disk could, and checks
// that verification names the first entry that no longer fits the chain.
func TestVerifyAuditNamesFirstBrokenEntry(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  []string
		want int64
	}{
		{"Intact", nil, 0},
		{"TimeEdited", []string{`UPDATE audit SET time = time + 1 WHERE seq = 3`}, 3},
		{"ActionEdited", []string{`UPDATE audit SET action = 'write' WHERE seq = 2`}, 2},
		{"ActorEdited", []string{`UPDATE audit SET actor = 'someone-else' WHERE seq = 3`}, 3},
		{"ActorOrgEdited", []string{`UPDATE audit SET actor_org = 99 WHERE seq = 3`}, 3},
		{"RecipientEdited", []string{`UPDATE audit SET recipient = 99 WHERE seq = 4`}, 4},
		{"ViaEdited", []string{`UPDATE audit SET via = 'rest' WHERE seq = 3`}, 3},
		{"ObjectRemovedFromList", []string{`UPDATE audit SET objects = '["indicator--2@v1"]' WHERE seq = 3`}, 3},
		{"ObjectsEmptied", []string{`UPDATE audit SET objects = '' WHERE seq = 3`}, 3},
		{"ObjectsNotJSON", []string{`UPDATE audit SET objects = 'garbage' WHERE seq = 5`}, 5},
		{"DetailEdited", []string{`UPDATE audit SET detail = 'nothing happened' WHERE seq = 6`}, 6},
		{"PrevEdited", []string{`UPDATE audit SET prev = hash WHERE seq = 3`}, 3},
		{"HashEdited", []string{`UPDATE audit SET hash = prev WHERE seq = 3`}, 3},
		{"FirstEntryEdited", []string{`UPDATE audit SET actor = 'x' WHERE seq = 1`}, 1},
		{"SeqEdited", []string{`UPDATE audit SET seq = 100 WHERE seq = 3`}, 3},
		{"EntryDeleted", []string{`DELETE FROM audit WHERE seq = 3`}, 3},
		{"FirstEntryDeleted", []string{`DELETE FROM audit WHERE seq = 1`}, 1},
		{"EntriesSwapped", []string{
			`UPDATE audit SET seq = -1 WHERE seq = 3`,
			`UPDATE audit SET seq = 3 WHERE seq = 4`,
			`UPDATE audit SET seq = 4 WHERE seq = -1`}, 3},
		{"EntriesSwappedWithSeqKept", []string{
			`CREATE TEMP TABLE x AS SELECT * FROM audit WHERE seq IN (3, 4)`,
			`UPDATE audit SET (time, action, actor, actor_org, recipient, via, objects, detail, prev, hash) =
				(SELECT time, action, actor, actor_org, recipient, via, objects, detail, prev, hash FROM x WHERE x.seq = 7 - audit.seq)
				WHERE seq IN (3, 4)`}, 3},
		{"EntryAppendedWithoutChain", []string{
			`INSERT INTO audit (seq, time, action, actor, prev, hash) VALUES (7, 0, 'write', 'x', '', '')`}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openTest(t)
			sampleLog(t, db)
			tamper(t, path, tc.sql...)
			n, err := db.VerifyAudit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("VerifyAudit = %d, want %d", n, tc.want)
			}
		})
	}
}

// tamper runs statements on the file through a connection of its own.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	if len(stmts) == 0 {
		return
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestRewrittenEntryBreaksTheNextLink rewrites an entry and recomputes its
// hash, as a tamperer who knows the encoding would: the entry after it no
// longer links to it.
func TestRewrittenEntryBreaksTheNextLink(t *testing.T) {
	db, path := openTest(t)
	es := sampleLog(t, db)
	forged := *es[2]
	forged.Detail = "nothing to see"
	forged.Hash = auditHash(&forged)
	tamper(t, path, fmt.Sprintf(`UPDATE audit SET detail = %s, hash = %s WHERE seq = 3`, quote(forged.Detail), quote(forged.Hash)))
	if n, err := db.VerifyAudit(context.Background()); n != 4 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 4", n, err)
	}
}

// TestTailCutShowsInTheHead: removing the last entries leaves a whole,
// shorter chain; only the head recorded elsewhere shows it.
func TestTailCutShowsInTheHead(t *testing.T) {
	db, path := openTest(t)
	sampleLog(t, db)
	ctx := context.Background()
	n, head, broken, err := db.AuditHead(ctx)
	if err != nil || n != 6 || broken != 0 || len(head) != 64 {
		t.Fatalf("AuditHead = %d, %q, %d, %v", n, head, broken, err)
	}
	tamper(t, path, `DELETE FROM audit WHERE seq = 6`)
	n2, head2, broken, err := db.AuditHead(ctx)
	if err != nil || broken != 0 || n2 != 5 || head2 == head {
		t.Errorf("after cutting the tail: AuditHead = %d, %q, %d, %v; want 5 entries and another head", n2, head2, broken, err)
	}
}

// TestHashIsTheDocumentedEncoding pins the canonical encoding: a change
// to it would break every stored chain.
func TestHashIsTheDocumentedEncoding(t *testing.T) {
	e := &cyberpact.AuditEntry{Seq: 1, Time: time.UnixMicro(1700000000000000), Action: "release", Actor: "a",
		ActorOrg: 2, Recipient: 3, Via: "taxii", Objects: []string{"x--1@v"}, Detail: "d", Prev: zeroHash}
	// The encoding written out by hand, as another store would.
	var buf []byte
	num := func(n int64) { buf = binary.BigEndian.AppendUint64(buf, uint64(n)) }
	str := func(s string) { num(int64(len(s))); buf = append(buf, s...) }
	str(zeroHash)
	num(1)
	num(1700000000000000)
	str("release")
	str("a")
	num(2)
	num(3)
	str("taxii")
	num(1)
	str("x--1@v")
	str("d")
	sum := sha256.Sum256(buf)
	const pinned = "ab7000e640b64dbe7a5a32d1cb96fe49a18db97df0a5fef6b529a65f180ff72f"
	if got := auditHash(e); got != hex.EncodeToString(sum[:]) || got != pinned {
		t.Errorf("auditHash = %s, want %x (by hand) = %s (pinned)", got, sum, pinned)
	}
	// Fields that would run together without their lengths hash apart.
	a := *e
	a.Actor, a.Via = "ab", ""
	b := *e
	b.Actor, b.Via = "a", "b"
	if auditHash(&a) == auditHash(&b) {
		t.Error("ambiguous encoding: shifting text between fields keeps the hash")
	}
}

func TestAuditLogIsItsOwnFile(t *testing.T) {
	db, path := openTest(t)
	sampleLog(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no audit file: %v", err)
	}
	var n int
	if err := db.write.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'audit'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("objects file has an audit table (%d, %v)", n, err)
	}
}

func TestAuditAfterCloseRefused(t *testing.T) {
	db, _ := openTest(t)
	db.Close()
	err := db.Audit(context.Background(), &cyberpact.AuditEntry{Action: "write", Actor: "a"})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Audit after Close: %v", err)
	}
}

// BenchmarkAuditParallel appends release entries from many goroutines at
// once, as the HTTP layer does under load; group commit shares each
// transaction and fsync between them. Serial is one caller, the baseline.
func BenchmarkAuditParallel(b *testing.B) {
	for _, objects := range []int{1, 100, 1000} {
		page := make([]string, objects)
		for i := range page {
			page[i] = fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000@2024-01-01T00:00:00.000Z", i)
		}
		entry := func() *cyberpact.AuditEntry {
			return &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "sync-peer", ActorOrg: 1, Recipient: 2, Via: "taxii", Objects: page}
		}
		b.Run(fmt.Sprintf("Objects=%d/Serial", objects), func(b *testing.B) {
			db, _ := openTest(b)
			ctx := context.Background()
			start := time.Now()
			for b.Loop() {
				if err := db.Audit(ctx, entry()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
		})
		b.Run(fmt.Sprintf("Objects=%d/Parallel", objects), func(b *testing.B) {
			db, _ := openTest(b)
			ctx := context.Background()
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := db.Audit(ctx, entry()); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
			b.StopTimer()
			if n, err := db.VerifyAudit(ctx); n != 0 || err != nil {
				b.Fatalf("VerifyAudit = %d, %v", n, err)
			}
		})
	}
}

// TestAuditScopes runs the suite of compact audit entries every store
// passes.
func TestAuditScopes(t *testing.T) {
	storetest.RunAuditScopes(t, func(t *testing.T) storetest.AuditStore {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// scopedLog appends four entries naming versions by Seqs.
func scopedLog(t *testing.T, db *DB) {
	t.Helper()
	err := db.Audit(context.Background(),
		&cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "alice", ActorOrg: 1, Via: "rest", Scope: &cyberpact.AuditScope{First: 1, Last: 1000, Count: 990}},
		&cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: &cyberpact.AuditScope{
			First: 1, Last: 1000, Count: 998, Runs: []int64{500, 2, 498}, Groups: []int64{3, 4}, Path: "/taxii2/api1/collections/c/objects/", Query: "limit=1000"}},
		&cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "carol", ActorOrg: 3, Recipient: 3, Via: "stream", Scope: &cyberpact.AuditScope{
			First: 1001, Last: 1001, Count: 1, Path: "/api/v1/stream"}},
		&cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "anonymous", Via: "taxii", Detail: "public collection", Scope: &cyberpact.AuditScope{
			First: 7, Last: 9, Count: 2, Runs: []int64{1, 1, 1}, Public: true, Path: "/taxii2/api1/collections/p/objects/"}},
	)
	if err != nil {
		t.Fatal(err)
	}
}

// TestVerifyAuditCoversScopes tampers with what compact entries record
// (the range, the runs, the recipient's groups, the request) and checks
// that verification names the entry.
func TestVerifyAuditCoversScopes(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  string
		want int64
	}{
		{"Intact", "", 0},
		{"RangeWidened", `UPDATE audit SET last_seq = 2000 WHERE seq = 1`, 1},
		{"RangeMoved", `UPDATE audit SET first_seq = 2 WHERE seq = 2`, 2},
		{"RunsChanged", `UPDATE audit SET runs = x'f40303f103' WHERE seq = 2`, 2},
		{"RunsRemoved", `UPDATE audit SET runs = NULL WHERE seq = 2`, 2},
		{"RunsGarbage", `UPDATE audit SET runs = x'ff' WHERE seq = 4`, 4},
		{"CountChanged", `UPDATE audit SET scope = replace(scope, '"count":990', '"count":10') WHERE seq = 1`, 1},
		{"GroupsChanged", `UPDATE audit SET scope = replace(scope, '[3,4]', '[3]') WHERE seq = 2`, 2},
		{"QueryChanged", `UPDATE audit SET scope = replace(scope, 'limit=1000', 'limit=1') WHERE seq = 2`, 2},
		{"PathChanged", `UPDATE audit SET scope = replace(scope, 'stream', 'objects') WHERE seq = 3`, 3},
		{"PublicDropped", `UPDATE audit SET scope = replace(scope, '"public":true,', '') WHERE seq = 4`, 4},
		{"ScopeRemoved", `UPDATE audit SET first_seq = 0, last_seq = 0, scope = '', runs = NULL WHERE seq = 3`, 3},
		{"ScopeNotJSON", `UPDATE audit SET scope = 'garbage' WHERE seq = 3`, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openTest(t)
			scopedLog(t, db)
			if tc.sql != "" {
				tamper(t, path, tc.sql)
			}
			if n, err := db.VerifyAudit(context.Background()); n != tc.want || err != nil {
				t.Errorf("VerifyAudit = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

// TestScopeHashIsTheDocumentedEncoding pins the encoding of a scope, which
// follows the fields every entry has.
func TestScopeHashIsTheDocumentedEncoding(t *testing.T) {
	e := &cyberpact.AuditEntry{Seq: 2, Time: time.UnixMicro(1700000000000000), Action: "release", Actor: "a",
		ActorOrg: 2, Recipient: 2, Via: "taxii", Prev: zeroHash, Scope: &cyberpact.AuditScope{
			First: 10, Last: 20, Count: 9, Runs: []int64{4, 2, 5}, Groups: []int64{7}, Public: false, Exercise: 3, Path: "/p", Query: "q=1"}}
	var buf []byte
	num := func(n int64) { buf = binary.BigEndian.AppendUint64(buf, uint64(n)) }
	str := func(s string) { num(int64(len(s))); buf = append(buf, s...) }
	str(zeroHash)
	num(2)
	num(1700000000000000)
	str("release")
	str("a")
	num(2)
	num(2)
	str("taxii")
	num(0) // no objects
	str("")
	str("scope")
	num(10)
	num(20)
	num(9)
	num(3)
	num(4)
	num(2)
	num(5)
	num(1)
	num(7)
	num(0) // not public
	num(3)
	str("/p")
	str("q=1")
	sum := sha256.Sum256(buf)
	if got := auditHash(e); got != hex.EncodeToString(sum[:]) {
		t.Errorf("auditHash = %s, want %x (by hand)", got, sum)
	}
	without := *e
	without.Scope = nil
	if auditHash(&without) == auditHash(e) {
		t.Error("the scope does not count in the hash")
	}
}

// TestAuditFileFromBeforeScopes opens an audit file made before scopes
// existed: its entries still verify, the columns are added, and new
// compact entries chain on.
func TestAuditFileFromBeforeScopes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cyberpact-audit.db")
	old := &cyberpact.AuditEntry{Seq: 1, Time: time.UnixMicro(1700000000000000).UTC(), Action: cyberpact.AuditRelease, Actor: "bob",
		ActorOrg: 2, Recipient: 2, Via: "taxii", Objects: []string{"tool--1@2024-01-01T00:00:00.000Z"}, Prev: zeroHash}
	old.Hash = auditHash(old)
	tamper(t, path, `CREATE TABLE audit (
		seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL,
		actor_org INTEGER NOT NULL DEFAULT 0, recipient INTEGER NOT NULL DEFAULT 0, via TEXT NOT NULL DEFAULT '',
		objects TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', prev TEXT NOT NULL, hash TEXT NOT NULL)`,
		fmt.Sprintf(`INSERT INTO audit VALUES (1, %d, 'release', 'bob', 2, 2, 'taxii', '["tool--1@2024-01-01T00:00:00.000Z"]', '', %s, %s)`,
			old.Time.UnixMicro(), quote(zeroHash), quote(old.Hash)))
	db, err := Open(context.Background(), filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	scopedLog(t, db)
	if n, err := db.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 0", n, err)
	}
	es, err := db.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil || len(es) != 5 || es[0].Hash != old.Hash || es[0].Scope != nil || es[1].Prev != old.Hash || es[1].Scope == nil {
		t.Errorf("entries %+v, %v: want the old one first, the new ones chained after it", es, err)
	}
}

// TestPrivacy runs the personal-data and warrant suite every store passes.
func TestPrivacy(t *testing.T) {
	storetest.RunPrivacy(t, func(t *testing.T) storetest.PrivacyStore {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
