// Package postgres is the store on PostgreSQL, through jackc/pgx: the same
// interfaces as the embedded SQLite store (objects, full-text search,
// accounts, the audit log, POST statuses), for hubs where several serve
// processes share one database.
//
// The schema is a sequence of numbered migrations embedded in the binary
// (migrations/NNNN_*.sql), applied on Open in one transaction under an
// advisory lock, so that processes starting together migrate once. Tables
// live in the connection's current schema (the first of its search_path),
// and every advisory lock is keyed by that schema too, so several hubs, or
// tests, can share one database in schemas of their own.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock classes: the first key of pg_advisory_xact_lock(int, int);
// the second is hashtext(current_schema()), so that each schema has its
// own locks.
const (
	lockMigrate = 0x63700001 // applying migrations
	lockImport  = 0x63700002 // assigning seqs and committing an import (see import.go)
	lockAudit   = 0x63700003 // appending to the audit chain (see audit.go)
)

// lockSQL takes the transaction-scoped advisory lock of class k in the
// current schema.
func lockSQL(k int) string {
	return fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext(current_schema()))`, k)
}

// DB is the PostgreSQL store. It is safe for concurrent use, and several
// processes may open the same database and schema at once.
type DB struct {
	*sqlstore.Store      // accounts, peers, exercises and statuses, as SQLite keeps them too
	sqlstore.ObjectReads // objects by id, their versions, lists and relationships, as SQLite reads them too
	sqlstore.AuditReads  // the audit log listed and verified, as SQLite reads it too

	pool    *pgxpool.Pool
	sql     *sql.DB   // the pool through database/sql, for the shared store
	schema  string    // the schema the tables live in: current_schema() of the pool's connections
	audit   *auditLog // the group-committing appender (see audit.go)
	peerKey peerKey   // what seals peers' keys (see peers.go)
	changes changes   // the listener and its subscribers (see changes.go)
	corrCap int       // versions an observable value is indexed for; 0 means the default (see observables.go)
}

// An Option configures Open.
type Option func(*DB)

// PeerKeyFile names the file holding the 32-byte key that seals peers' keys
// (AES-256-GCM): every process serving the same database must be given the
// same file, or a copy of it. Open makes the file (mode 0600) when it does
// not exist, on the first use of a peer. Without this option the store
// keeps no peers: CreatePeer and reading peers return EINVALID, saying so;
// everything else works.
func PeerKeyFile(path string) Option {
	return func(db *DB) { db.peerKey.path = path }
}

// Open connects to the database at url (postgres://user@host:port/db?...;
// any runtime parameter such as search_path may be given as a query
// parameter) and brings its schema up to date.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "store URL: %v", err)
	}
	// The sharing rule's per-row subqueries give page queries large cost
	// estimates, and JIT compilation then costs more than the query (about
	// 180 ms a TAXII page, measured); these queries are short and do not
	// need it. A jit set in the URL still wins.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	db := &DB{pool: pool}
	for _, o := range opts {
		o(db)
	}
	where := fmt.Sprintf("PostgreSQL %s@%s/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database)
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := migrateAudit(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&db.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: reading the current schema: %w", where, err)
	}
	db.changes.cfg = cfg.ConnConfig.Copy()
	db.changes.schema = db.schema
	db.audit = startAudit(pool)
	db.sql = stdlib.OpenDBFromPool(pool)
	db.AuditReads = sqlstore.AuditReads{Log: db.sql, Objects: db.sql, D: dialect}
	db.ObjectReads = sqlstore.ObjectReads{Q: objectQueries, Each: db.eachObject, DB: db.sql, Observables: "observables", Cap: db.correlationCap}
	db.Store = sqlstore.New(db.sql, db.sql, dialect, sqlstore.Hooks{
		Audit:   db.auditChange,
		Sealer:  db.sealer,
		Purging: notifyPurge,
		Purge:   purgeDerived,
		Residue: db.derivedResidue,
		DeleteLock: func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, lockSQL(lockImport)); err != nil {
				return internal("taking the import lock", err)
			}
			return nil
		},
	})
	return db, nil
}

// Close waits for background writes, stops listening for changes and
// closes the connections.
func (db *DB) Close() error {
	db.changes.close()
	db.Store.Close()
	db.audit.close()
	if db.sql != nil {
		db.sql.Close()
	}
	db.pool.Close()
	return nil
}

// SchemaVersion returns the number of the last migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// migrate applies, in order and all in one transaction, the embedded
// migrations numbered above the version recorded in schema_version. The
// advisory lock makes processes that open the store together wait for the
// first one's migrations instead of applying them twice.
func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, lockSQL(lockMigrate)); err != nil {
		return fmt.Errorf("locking for migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("creating schema_version: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	steps, err := sqlstore.Migrations(migrations, current)
	if err != nil {
		return err
	}
	for _, m := range steps {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.N); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// internal wraps an unexpected database error.
func internal(op string, err error) error {
	return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: op, Err: err}
}

// Ensure DB keeps, through the shared store, accounts, exercises and POST
// statuses (and peers: see peers.go).
var (
	_ cyberpact.AccountService = (*DB)(nil)
	_ cyberpact.ExerciseStore  = (*DB)(nil)
	_ cyberpact.StatusStore    = (*DB)(nil)
)

// dialect is PostgreSQL's SQL for the shared store.
var dialect = sqlstore.Dialect{
	Numbered:   true,
	KeyUser:    "user_id",
	PeerUser:   "username",
	Unique:     isUniqueViolation,
	ForeignKey: isForeignKeyViolation,
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKeyViolation reports whether err is PostgreSQL's
// foreign_key_violation.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// args collects the arguments of a query as it is built and returns each
// one's placeholder.
type args []any

// add appends v and returns its placeholder, $n.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = pgx.Tx(nil)
)
