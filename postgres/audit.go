package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ensure DB implements the audit log.
var _ cyberpact.AuditLog = (*DB)(nil)

// The audit log is one table. Appending takes the audit lock (a
// transaction-scoped advisory lock, one per schema), reads the chain's
// head, inserts the entries chained to it and commits: processes sharing
// the database build one chain, and seqs are contiguous. Each entry's Hash
// is cyberpact.AuditHash, the encoding the SQLite store uses too, so a log
// verifies the same wherever it is kept.
//
// Appends are group-committed (cyberpact.AuditAppender): Audit queues its
// entries for one appender goroutine per process, which writes everything
// queued in one transaction and then acknowledges each caller. Account
// changes append their entry in their own transaction instead, so a change
// and its entry commit together or not at all. The rows, the chaining and
// the check of the chain are the ones every store shares
// (cyberpact.AuditRow, ChainAudit, VerifyAuditChain); this file holds only
// PostgreSQL's SQL.
//
// Writes and releases name their versions by Seqs (cyberpact.AuditScope)
// in first_seq, last_seq, scope and runs, the columns the SQLite store
// keeps, encoded alike (cyberpact.AuditScopeColumns). Hashes are bytea
// and rows keep no Prev (migration 0023 turned the hex of older rows into
// bytes and left their Prev as it was). Listing and
// verifying the log are sqlstore.AuditReads, as SQLite reads its log too.

type auditLog struct {
	pool     *pgxpool.Pool
	appender *cyberpact.AuditAppender
}

// auditScopeDDL adds the scope's columns to a log made before them. It
// runs on open under the migration lock, after the migrations.
const auditScopeDDL = `
ALTER TABLE audit ADD COLUMN IF NOT EXISTS first_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS last_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN IF NOT EXISTS runs bytea;
CREATE INDEX IF NOT EXISTS audit_scope ON audit (first_seq, last_seq) WHERE first_seq <> 0;
`

// migrateAudit gives the audit table the scope's columns when it has not
// got them yet (they came after the numbered migrations of this table).
func migrateAudit(ctx context.Context, pool *pgxpool.Pool) error {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'audit' AND column_name = 'runs'`).Scan(&n); err != nil {
		return fmt.Errorf("reading the audit table's columns: %w", err)
	}
	if n > 0 {
		return nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, lockSQL(lockMigrate)); err != nil {
		return fmt.Errorf("locking for migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, auditScopeDDL); err != nil {
		return fmt.Errorf("adding the audit scope's columns: %w", err)
	}
	return tx.Commit(ctx)
}

func startAudit(pool *pgxpool.Pool) *auditLog {
	a := &auditLog{pool: pool}
	a.appender = cyberpact.NewAuditAppender(a.write)
	return a
}

// close writes what is queued and stops the appender.
func (a *auditLog) close() { a.appender.Close() }

// Audit appends entries to the audit log, chaining each to the one before,
// and returns once they are committed. It is safe for concurrent use;
// concurrent calls share transactions. Seq, Prev and Hash are set on the
// entries; a zero Time is set to the time of the append, and every Time is
// kept to the microsecond. Returns EINVALID for an entry without action or
// actor, with text that is not UTF-8 or holds NUL, or with an inconsistent
// scope.
func (db *DB) Audit(ctx context.Context, entries ...*cyberpact.AuditEntry) error {
	return db.audit.appender.Append(ctx, entries...)
}

// write appends entries in a transaction of their own.
func (a *auditLog) write(entries []*cyberpact.AuditEntry) error {
	ctx := context.Background()
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		return internal("appending to the audit log", err)
	}
	defer tx.Rollback(ctx)
	set, err := appendAudit(ctx, tx, entries)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return internal("committing the audit log", err)
	}
	set()
	return nil
}

// appendAudit appends checked entries inside tx, under the audit lock
// (held until tx ends). It returns the function that sets Seq, Time, Prev
// and Hash on the entries, to call once tx has committed.
func appendAudit(ctx context.Context, tx pgx.Tx, entries []*cyberpact.AuditEntry) (func(), error) {
	if _, err := tx.Exec(ctx, lockSQL(lockAudit)); err != nil {
		return nil, internal("taking the audit lock", err)
	}
	var seq int64
	var prev []byte
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, internal("reading the audit log's head", err)
	}
	rows, set, err := cyberpact.ChainAudit(seq, cyberpact.AuditHashText(prev), entries, time.Now())
	if err != nil {
		return nil, internal("encoding an audit entry", err)
	}
	values := make([][]any, len(rows))
	for i := range rows {
		values[i] = rows[i].Values()
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit"}, strings.Split(cyberpact.AuditColumns, ", "), pgx.CopyFromRows(values)); err != nil {
		return nil, internal("appending to the audit log", err)
	}
	return set, nil
}
