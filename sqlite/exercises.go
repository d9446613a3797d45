package sqlite

import (
	"context"
	"database/sql"
	"slices"
)

// The exercises are kept by the shared store (sqlstore); what is SQLite's
// own is the search index, in a file of its own.

// purgeSearch deletes the search index rows of the object versions seqs,
// purged with their exercise in tx. As in DeleteObject, the index rows go
// before the objects commit.
func (db *DB) purgeSearch(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	for chunk := range slices.Chunk(seqs, 500) {
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		if _, err := db.search.db.ExecContext(ctx, `DELETE FROM search WHERE rowid IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return internal("purging exercise search rows", err)
		}
	}
	return nil
}
