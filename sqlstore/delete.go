package sqlstore

import (
	"context"
	"database/sql"

	"github.com/cyberpact/cyberpact"
)

// DeleteVersions deletes in tx (a write transaction, under the store's
// write lock) the versions of id that f selects (DeleteSelection, read
// with q) and their links, logs the delete, and keeps the counts of Stats
// exact across it (StatsDeleting). It returns the Seqs deleted, for the
// engine's own index (SQLite's search file) and change notice, and
// ENOTFOUND when f selects no version. The caller commits.
func (s *Store) DeleteVersions(ctx context.Context, tx *sql.Tx, q *Objects, id string, f cyberpact.ObjectFilter) ([]int64, error) {
	a := s.d.Args()
	where, err := q.Filter(DeleteSelection(id, f), a)
	if err != nil {
		return nil, err
	}
	counted, err := s.StatsDeleting(ctx, tx, func() ([]string, error) { return []string{id}, nil })
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM objects WHERE seq IN (SELECT o.seq FROM objects o WHERE `+where+`) RETURNING seq`, a.Vals...)
	if err != nil {
		return nil, internal("deleting object", err)
	}
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return nil, internal("deleting object", err)
		}
		seqs = append(seqs, seq)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, internal("deleting object", err)
	}
	if len(seqs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	a = s.d.Args()
	if _, err := tx.ExecContext(ctx, `DELETE FROM refs WHERE `+a.InInts("seq", seqs), a.Vals...); err != nil {
		return nil, internal("deleting object links", err)
	}
	if err := s.logDelete(ctx, tx, id); err != nil {
		return nil, err
	}
	if err := counted(); err != nil {
		return nil, err
	}
	return seqs, nil
}

// logDelete adds id to the log of deletes in tx, numbered after the last
// line: deletes are numbered in commit order, as they run one at a time
// (the write lock, or PostgreSQL's import lock that StatsDeleting takes
// first).
func (s *Store) logDelete(ctx context.Context, tx *sql.Tx, id string) error {
	a := s.d.Args()
	if _, err := tx.ExecContext(ctx, `INSERT INTO deletes (n, id) SELECT COALESCE(MAX(n), 0) + 1, `+a.Add(id)+` FROM deletes`, a.Vals...); err != nil {
		return internal("logging the delete", err)
	}
	return nil
}

// queryStrings runs q, which selects one text column, and returns its
// values in the order read.
func queryStrings(ctx context.Context, db querier, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
