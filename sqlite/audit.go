package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// The audit log lives in its own database file beside the objects
// (cyberpact.db has cyberpact-audit.db), written through its own
// connection. Entries are appended on hot read paths (every release of
// objects to another organisation), so they must never wait behind a long
// import holding the objects' writer; in their own file they do not.
//
// Appends are group-committed (cyberpact.AuditAppender): Audit queues its
// entries for one appender goroutine, which takes everything queued,
// writes it in one transaction (synchronous=FULL, so a commit is on disk),
// and only then acknowledges each caller. Many concurrent callers share
// one fsync.
//
// Each entry's Hash is the SHA-256 of its canonical encoding
// (cyberpact.AuditHash), which includes Prev, the Hash of the entry before
// (64 zeros for the first). A row keeps its hash as 32 bytes and no Prev,
// which the row before says (rows written before keep both in hex). The appender reads the chain's head inside its
// write transaction, so several processes appending to one file (serve,
// and the command line managing accounts) still build one chain. The rows,
// the chaining and the check of the chain are the ones every store shares
// (cyberpact.AuditRow, ChainAudit, VerifyAuditChain); this file holds only
// SQLite's SQL.
//
// Writes and releases name their versions by Seqs (cyberpact.AuditScope):
// first_seq and last_seq hold the range, scope the rest as JSON and runs
// the runs as varints, so an entry for a page of a thousand versions is
// about as long as one for a single version. Entries written before
// scopes existed list their versions in objects.
//
// Listing and verifying the log are sqlstore.AuditReads, as PostgreSQL
// reads its log too.

const auditSchema = `
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,           -- 1, 2, 3...: contiguous, assigned by the appender
    time      INTEGER NOT NULL,              -- unix microseconds
    action    TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    actor_org INTEGER NOT NULL DEFAULT 0,
    recipient INTEGER NOT NULL DEFAULT 0,
    via       TEXT    NOT NULL DEFAULT '',
    objects   TEXT    NOT NULL DEFAULT '',   -- JSON array of "id@version", '' for none
    detail    TEXT    NOT NULL DEFAULT '',
    prev      TEXT    NOT NULL,              -- '' (entries before hashes were bytes: hex SHA-256 of the entry before)
    hash      TEXT    NOT NULL,              -- SHA-256 of this entry (auditHash), 32 bytes (before: hex)
    first_seq INTEGER NOT NULL DEFAULT 0,    -- the scope's Seqs, 0 without a scope
    last_seq  INTEGER NOT NULL DEFAULT 0,
    scope     TEXT    NOT NULL DEFAULT '',   -- the rest of the scope as JSON, '' for none
    runs      BLOB                           -- the scope's runs as unsigned varints
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE INDEX IF NOT EXISTS audit_actor_org ON audit (actor_org) WHERE actor_org <> 0;
`

// auditScopeColumns are the columns added when scopes came in, with their
// definitions: a log made before gets them on open.
var auditScopeColumns = [][2]string{
	{"first_seq", "INTEGER NOT NULL DEFAULT 0"},
	{"last_seq", "INTEGER NOT NULL DEFAULT 0"},
	{"scope", "TEXT NOT NULL DEFAULT ''"},
	{"runs", "BLOB"},
}

// auditIndexes are the indexes made after the columns. A release's
// recipient is its actor's organisation: audit_recipient holds only the
// entries where they differ (sqlstore.AuditReads asks for
// recipient <> actor_org), and replaces the index of every recipient
// that logs made before it had.
const auditIndexes = `
CREATE INDEX IF NOT EXISTS audit_scope ON audit (first_seq, last_seq) WHERE first_seq <> 0;
DROP INDEX IF EXISTS audit_recipient;
CREATE INDEX IF NOT EXISTS audit_recipient_other ON audit (recipient) WHERE recipient <> 0 AND recipient <> actor_org;
`

// zeroHash is the Prev of the first entry.
var zeroHash = strings.Repeat("0", 64)

// auditFile names the audit log of the object database file name:
// cyberpact.db has cyberpact-audit.db.
func auditFile(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base)) + "-audit.db"
}

type auditLog struct {
	write    *sql.DB
	read     *sql.DB
	appender *cyberpact.AuditAppender
}

func openAudit(ctx context.Context, path string) (*auditLog, error) {
	write, err := sql.Open("sqlite", dsn(path, "synchronous(FULL)"))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := migrateAudit(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, "query_only(on)"))
	if err != nil {
		write.Close()
		return nil, err
	}
	a := &auditLog{write: write, read: read}
	a.appender = cyberpact.NewAuditAppender(a.append)
	return a, nil
}

// migrateAudit creates the audit table, or adds the scope's columns to a
// log made before them, in one transaction.
func migrateAudit(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, auditSchema); err != nil {
		return err
	}
	have := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info('audit')`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range auditScopeColumns {
		if !have[c[0]] {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE audit ADD COLUMN `+c[0]+` `+c[1]); err != nil {
				return err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, auditIndexes); err != nil {
		return err
	}
	return tx.Commit()
}

// close writes what is queued and closes the file.
func (a *auditLog) close() error {
	a.appender.Close()
	return errors.Join(a.read.Close(), a.write.Close())
}

// Audit appends entries to the audit log, chaining each to the one before,
// and returns once they are committed to disk. It is safe for concurrent
// use; concurrent calls share transactions. Seq, Prev and Hash are set on
// the entries; a zero Time is set to the time of the commit, and every Time
// is kept to the microsecond. Returns EINVALID for an entry without action
// or actor, with text that is not UTF-8, or with an inconsistent scope.
// Once queued, entries are written even if ctx ends meanwhile; Audit then
// still waits for them.
func (db *DB) Audit(ctx context.Context, entries ...*cyberpact.AuditEntry) error {
	return db.audit.appender.Append(ctx, entries...)
}

// append writes entries in one transaction, chained after the head it
// reads there, and once it is committed sets Seq, Time, Prev and Hash on
// them.
func (a *auditLog) append(entries []*cyberpact.AuditEntry) error {
	ctx := context.Background()
	tx, err := a.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("appending to the audit log", err)
	}
	defer tx.Rollback()
	var seq int64
	var prev []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return internal("reading the audit log's head", err)
	}
	rows, set, err := cyberpact.ChainAudit(seq, cyberpact.AuditHashText(prev), entries, time.Now())
	if err != nil {
		return internal("encoding an audit entry", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit (`+cyberpact.AuditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return internal("appending to the audit log", err)
	}
	defer stmt.Close()
	for i := range rows {
		if _, err := stmt.ExecContext(ctx, rows[i].Values()...); err != nil {
			return internal("appending to the audit log", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return internal("committing the audit log", err)
	}
	set()
	return nil
}

// auditHash is cyberpact.AuditHash: the one canonical encoding every store
// hashes entries with.
func auditHash(e *cyberpact.AuditEntry) string { return cyberpact.AuditHash(e) }
