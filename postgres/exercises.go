package postgres

import (
	"context"
	"database/sql"
)

// The exercises are kept by the shared store (sqlstore); what is
// PostgreSQL's own is telling the other processes of a purge.

// notifyPurge queues, in the purge's transaction tx, the notification
// that object versions were deleted (see notify).
func notifyPurge(ctx context.Context, tx *sql.Tx, _ []int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, 'delete ' || current_schema())`, NotifyChannel); err != nil {
		return internal("notifying the purge", err)
	}
	return nil
}
