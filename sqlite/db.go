// Package sqlite is the embedded store: the hub's data in SQLite files in
// the data directory, through modernc.org/sqlite (pure Go, no cgo). The
// objects live in cyberpact.db, whose schema is a sequence of numbered
// migrations embedded in the binary and applied on open; the full-text
// index lives beside it in search.db (see search.go).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the embedded store. Writes go through one connection, so they are
// serialised; reads use a pool of read-only connections that see committed
// data (WAL mode) without waiting for writers.
type DB struct {
	*sqlstore.Store      // accounts, peers, exercises and statuses, as PostgreSQL keeps them too
	sqlstore.ObjectReads // objects by id, their versions, lists and relationships, as PostgreSQL reads them too
	sqlstore.AuditReads  // the audit log listed and verified, as PostgreSQL reads it too

	path     string
	write    *sql.DB
	read     *sql.DB
	stmts    *stmtCache    // the object queries kept prepared on read (see stmts.go)
	versions *dataVersions // proves reads unchanged (see snapshot.go)
	search   *searchIndex
	audit    *auditLog          // the audit log, in its own file (see audit.go)
	writeMu  sync.Mutex         // one import (objects and search index together) at a time
	changes  sqlstore.Broadcast // subscribers to committed writes (see changes.go)
	outbox   outbox             // imports' audit entries on their way to the log (see outbox.go)
	corrCap  int                // versions a value is indexed for; 0 means the default (see SetCorrelationCap)
}

// pragmas are set on every connection. Temporary structures stay in
// memory: every multi-row INSERT of an import opens a statement journal,
// and in a file it cost a write system call per index page the statement
// touched (a seventh of a million-object import's time); in memory it is a
// few megabytes at a time.
var pragmas = []string{"busy_timeout(" + busyTimeout + ")", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(on)", "cache_size(" + writerCache + ")", "temp_store(memory)"}

// busyTimeout is how long a connection waits for another's lock, in
// milliseconds.
const busyTimeout = "10000"

// writerCache is the page cache of the writing connections, in KiB
// (negative, as PRAGMA cache_size takes it).
const writerCache = "-40960"

// Page sizes of the files this package creates: 64 KiB for both. Every
// page an import writes costs two system calls into the WAL and two more
// when the WAL is checkpointed, and a bulk import reads its table back to
// build indexes: with 4 KiB object pages a million-object import made over
// two million such calls, and took 15% longer. Readers map the objects
// file (readerMmap), so the random probes of a read (latest version,
// visible ends) touch the part of a big page they need instead of copying
// it whole; an existing file keeps the page size it was created with.
const (
	objectsPageSize = 65536
	searchPageSize  = 65536
)

// readerMmap is how much of the objects file each reader maps (SQLite's
// most, 2 GB less 64 KiB); beyond it, reads copy pages as usual.
const readerMmap = "2147418112"

// create makes the database file at path, if it does not exist yet, with
// pages of pageSize bytes, in WAL mode. An existing file keeps the size it
// has. (The driver applies DSN pragmas in alphabetical order, journal_mode
// before page_size, and the first one fixes the size: so create sets it
// first.)
func create(ctx context.Context, path string, pageSize int) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma="+url.QueryEscape(fmt.Sprintf("page_size(%d)", pageSize)))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `PRAGMA journal_mode = WAL`)
	return err
}

// dsn returns the connection string of the file at path with the pragmas.
func dsn(path string, extra ...string) string {
	q := url.Values{}
	for _, p := range append(append([]string(nil), pragmas...), extra...) {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating when needed) the store whose object database is the
// file at path, and brings its schema and search index up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	if err := create(ctx, path, objectsPageSize); err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	write, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	db := &DB{path: path, write: write}
	fail := func(err error) (*DB, error) {
		db.Close()
		if !cyberpact.DiskFull(err) && diskFull(dir) {
			// SQLite says "disk I/O error" when it cannot make the
			// shared-memory file its readers need.
			return nil, &cyberpact.Error{Code: cyberpact.EFULL, Message: fmt.Sprintf("opening %s: the disk is full where the hub keeps its data; free space there and try again", path), Err: err}
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		return fail(err)
	}
	searchPath := filepath.Join(dir, searchFile(path))
	if db.search, err = openSearch(ctx, searchPath); err != nil {
		return fail(err)
	}
	if db.audit, err = openAudit(ctx, filepath.Join(dir, auditFile(path))); err != nil {
		return fail(err)
	}
	// Readers see the search index as schema "s".
	// Readers keep a smaller page cache each: there are several, the OS
	// caches the file for all of them, and an import that looks objects up
	// (sightings take their indicator's release) would otherwise hold a
	// writer-sized cache in every reader. They map the file (see
	// objectsPageSize).
	base, err := sqlite.NewConnector(dsn(path, "query_only(on)", "cache_size(-8192)", "mmap_size("+readerMmap+")"))
	if err != nil {
		return fail(err)
	}
	attach := attachConnector{Connector: base, attach: `ATTACH DATABASE ` + quote("file:"+searchPath+"?mode=ro") + ` AS s`}
	db.read = sql.OpenDB(attach)
	db.versions = newDataVersions(sql.OpenDB(attach))
	n := runtime.GOMAXPROCS(0) * 2
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.stmts = newStmtCache(db.read)
	db.AuditReads = sqlstore.AuditReads{Log: db.audit.read, Objects: db.read, D: dialect}
	db.ObjectReads = sqlstore.ObjectReads{Q: objectQueries, Each: db.eachObject, DB: db.read, Observables: "s.observables", Cap: db.correlationCap}
	db.Store = sqlstore.New(db.read, db.write, dialect, sqlstore.Hooks{
		Audit:   db.auditChange,
		Sealer:  db.sealer,
		Purging: db.purgeSearch,
		Purge:   db.purgeDerived,
		Residue: db.derivedResidue,
		Changed: db.changes.Notify,
		WriteMu: &db.writeMu,
	})
	// Catching up (indexing versions a crash left out of the search
	// index, appending audit entries kept with their imports) writes, and
	// must not make a reader wait: when another process holds a writer
	// (an import indexing its versions, or checkpointing), or the disk is
	// full, it is left to the next write of this process, or to the
	// other's own catch-up.
	if err := db.waitForWriters(ctx, false); err != nil {
		return fail(err)
	}
	if err := db.reindex(ctx); err != nil {
		if !cyberpact.DiskFull(err) && !isBusy(err) {
			return fail(err)
		}
		db.outbox.reindex = true
	}
	if err := db.appendOutbox(ctx); err != nil {
		if !cyberpact.DiskFull(err) && !isBusy(err) {
			return fail(err)
		}
		db.outbox.pending = true
	}
	if err := db.waitForWriters(ctx, true); err != nil {
		return fail(err)
	}
	return db, nil
}

// Ensure DB keeps, through the shared store, accounts, exercises and POST
// statuses (and peers: see peers.go).
var (
	_ cyberpact.AccountService = (*DB)(nil)
	_ cyberpact.ExerciseStore  = (*DB)(nil)
	_ cyberpact.StatusStore    = (*DB)(nil)
)

// dialect is SQLite's SQL for the shared store.
var dialect = sqlstore.Dialect{
	KeyUser:  "user",
	PeerUser: "user",
	Unique: func(err error) bool {
		return isCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	ForeignKey: func(err error) bool { return isCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
}

// isCode reports whether err is an SQLite error with one of the extended
// result codes.
func isCode(err error, codes ...int) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// searchFile names the search index of the object database file name:
// cyberpact.db has cyberpact-search.db.
func searchFile(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base)) + "-search.db"
}

// attachConnector attaches the search index to each new read connection.
type attachConnector struct {
	driver.Connector
	attach string
}

func (c attachConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, c.attach, nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("attaching the search index: %w", err)
	}
	return conn, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Close closes the store.
func (db *DB) Close() error {
	var errs []error
	if db.Store != nil {
		db.Store.Close()
	}
	if db.audit != nil {
		errs = append(errs, db.audit.close())
	}
	if db.stmts != nil {
		db.stmts.close()
	}
	if db.versions != nil {
		errs = append(errs, db.versions.close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.search != nil {
		errs = append(errs, db.search.close())
	}
	errs = append(errs, db.write.Close())
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Path returns the object database file's path.
func (db *DB) Path() string { return db.path }

// SchemaVersion returns the number of the last migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.write.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations numbered above the schema version recorded in the file's
// user_version.
func (db *DB) migrate(ctx context.Context) error {
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	steps, err := sqlstore.Migrations(migrations, current)
	if err != nil {
		return err
	}
	for _, m := range steps {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.N)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// internal wraps an unexpected database error.
func internal(op string, err error) error {
	return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: op, Err: err}
}

// beginError is the error of beginning a write transaction: EBUSY when
// another process held the writer for the whole busy timeout (a write
// transaction takes the lock when it begins, before any input is read, so
// the caller may simply try again), else internal.
func beginError(op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqliteBusy {
		return &cyberpact.Error{Code: cyberpact.EBUSY, Message: "another process is writing to this hub (an import from the command line, or another serve); try again when it has finished", Err: err}
	}
	return internal(op, err)
}

// isBusy reports whether err is SQLite's SQLITE_BUSY: another connection
// holds the lock.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}

// waitForWriters sets whether the store's writing connections (one each
// for the objects, the search index and the audit log) wait for another
// process's writer, as they do but while Open catches up.
func (db *DB) waitForWriters(ctx context.Context, wait bool) error {
	t := "0"
	if wait {
		t = busyTimeout
	}
	for _, w := range []*sql.DB{db.write, db.search.db, db.audit.write} {
		if _, err := w.ExecContext(ctx, `PRAGMA busy_timeout = `+t); err != nil {
			return err
		}
	}
	return nil
}

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5
