package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Organisations, sharing groups, users and API keys (migration 0001) are
// kept by the shared store (sqlstore). Each change runs in one transaction
// that also appends its audit entry (auditChange), so no change is ever
// left unaudited and no entry describes a change that did not happen.
// Names are unique whatever their case through unique indexes on
// lower(name); a name taken by a concurrent change is reported as
// ECONFLICT like one taken before.

// The times as stored (see sqlstore): unix microseconds, 0 for none;
// now to the microsecond, in UTC.
var toMicros, now = sqlstore.ToMicros, sqlstore.Now

// groupsOf returns the ids of the groups org belongs to, in order, as q
// (an import's transaction) sees them.
func groupsOf(ctx context.Context, q querier, org int64) ([]int64, error) {
	rows, err := q.Query(ctx, `SELECT grp FROM group_orgs WHERE org = $1 ORDER BY grp`, org)
	if err != nil {
		return nil, internal("reading groups", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, internal("reading groups", err)
	}
	if out == nil {
		out = []int64{}
	}
	return out, nil
}

// auditChange appends e, describing an account or peer change, to the
// audit chain in the change's own transaction, open on conn: the entry
// commits exactly when the change does. The returned function publishes
// the new head of the chain once the change has committed.
func (db *DB) auditChange(ctx context.Context, conn *sql.Conn, e *cyberpact.AuditEntry) (func(), error) {
	if err := e.Check(); err != nil {
		return nil, err
	}
	var set func()
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return internal("appending to the audit log", fmt.Errorf("connection is a %T, not pgx's", dc))
		}
		var err error
		set, err = appendAudit(ctx, connTx{c.Conn()}, []*cyberpact.AuditEntry{e})
		return err
	})
	return set, err
}

// connTx is a connection inside a transaction that database/sql began on
// it, as the pgx.Tx that appendAudit writes through. It cannot end the
// transaction: database/sql does.
type connTx struct{ c *pgx.Conn }

var _ pgx.Tx = connTx{}

// errNotOwned is the error of ending, or nesting in, a transaction that
// database/sql owns.
var errNotOwned = errors.New("the transaction belongs to database/sql")

func (t connTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNotOwned }
func (t connTx) Commit(context.Context) error          { return errNotOwned }
func (t connTx) Rollback(context.Context) error        { return errNotOwned }
func (t connTx) LargeObjects() pgx.LargeObjects        { return pgx.LargeObjects{} }
func (t connTx) Conn() *pgx.Conn                       { return t.c }

func (t connTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, cols, src)
}

func (t connTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}

func (t connTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}

func (t connTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t connTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}

func (t connTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}
