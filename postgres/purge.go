package postgres

import (
	"context"
	"database/sql"
	"fmt"
)

// purgeDerived removes, for a retention purge in tx, the correlation rows
// of the versions seqs (their search words are in their own rows, gone
// with them) with their counts, and queues the notice of the delete.
func purgeDerived(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	if _, err := tx.ExecContext(ctx, `WITH gone AS (DELETE FROM observables WHERE seq = ANY($1) RETURNING key, producer),
		n AS (SELECT key, producer, count(*) AS n FROM gone GROUP BY key, producer)
		UPDATE observable_counts c SET n = c.n - n.n FROM n WHERE c.key = n.key AND c.producer = n.producer`, seqs); err != nil {
		return internal("purging correlation rows", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM observable_counts WHERE n <= 0`); err != nil {
		return internal("purging correlation counts", err)
	}
	return notifyPurge(ctx, tx, seqs)
}

// derivedResidue counts the correlation rows left of the versions seqs.
func (db *DB) derivedResidue(ctx context.Context, seqs []int64) ([]string, error) {
	var n int64
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM observables WHERE seq = ANY($1)`, seqs).Scan(&n); err != nil {
		return nil, internal("verifying the purge", err)
	}
	if n > 0 {
		return []string{fmt.Sprintf("observables: %d rows", n)}, nil
	}
	return nil, nil
}
