package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
)

// purgeDerived removes, for a retention purge in tx, what the search index
// file holds of the versions seqs (their full-text rows and correlation
// rows). As in DeleteObject, the index rows go before the objects commit.
func (db *DB) purgeDerived(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	for chunk := range slices.Chunk(seqs, 500) {
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		if _, err := db.search.db.ExecContext(ctx, `DELETE FROM search WHERE rowid IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return internal("purging search rows", err)
		}
	}
	// The correlation table has no index by seq (see searchSchema): one
	// pass over it for every seq at once, not one a chunk.
	list, err := json.Marshal(seqs)
	if err != nil {
		return internal("purging correlation rows", err)
	}
	if _, err := db.search.db.ExecContext(ctx, `DELETE FROM observables WHERE seq IN (SELECT value FROM json_each(?))`, string(list)); err != nil {
		return internal("purging correlation rows", err)
	}
	return nil
}

// derivedResidue counts the search index file's rows of the versions
// seqs.
func (db *DB) derivedResidue(ctx context.Context, seqs []int64) ([]string, error) {
	var out []string
	list, err := json.Marshal(seqs)
	if err != nil {
		return nil, internal("verifying the purge", err)
	}
	for _, t := range [][2]string{{"search", "rowid"}, {"observables", "seq"}} {
		var n int64
		if err := db.search.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t[0]+` WHERE `+t[1]+` IN (SELECT value FROM json_each(?))`, string(list)).Scan(&n); err != nil {
			return nil, internal("verifying the purge", err)
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("search index %s: %d rows", t[0], n))
		}
	}
	return out, nil
}
