package sqlite

import (
	"context"
	"database/sql"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
)

// Accounts are in the objects' file (migration 0003): organisations,
// sharing groups, users and API keys, kept by the shared store (sqlstore).
// Changes go through the one writer, each in a transaction that commits
// only after its audit entry is on disk (auditChange), so no change is
// ever left unaudited. Reads, Authenticate among them, use the read pool
// and never wait for a writer; a key's last use is written in the
// background.

// The times as stored (see sqlstore): unix microseconds, 0 for none;
// now to the microsecond, in UTC.
var toMicros, now = sqlstore.ToMicros, sqlstore.Now

// auditChange records e, describing an account or peer change, before the
// change commits: the audit log is a file of its own, and the change
// commits only once its entry is on disk.
func (db *DB) auditChange(ctx context.Context, _ *sql.Conn, e *cyberpact.AuditEntry) (func(), error) {
	return nil, db.Audit(ctx, e)
}

// groupsOf returns the ids of the groups org belongs to, in order, as q
// (an import's transaction) sees them.
func groupsOf(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, org int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT grp FROM group_orgs WHERE org = ? ORDER BY grp`, org)
	if err != nil {
		return nil, internal("reading groups", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, internal("reading groups", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading groups", err)
	}
	return out, nil
}
