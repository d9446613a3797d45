package postgres

import (
	"context"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
)

// Ensure DB implements the store interface.
var _ cyberpact.ObjectStore = (*DB)(nil)

// objectQueries builds the object queries in PostgreSQL's dialect.
var objectQueries = &sqlstore.Objects{
	Numbered: true,
	SpecVersions: func(a *sqlstore.Args, vals []string) string {
		return a.InStrings("o.spec_version", vals)
	},
	Labels: func(a *sqlstore.Args, vals []string) string {
		return "o.labels && " + a.Add(vals) + "::text[]"
	},
	Text: func(a *sqlstore.Args, text string) (string, error) {
		q, err := tsQuery(text)
		if err != nil {
			return "", err
		}
		return "o.search @@ " + a.Add(q) + "::tsquery", nil
	},
	Rank: searchRank,
}

// Stats counts per type the objects the viewer is shown, from the class
// counts kept once for the store and brought up to date from what was
// stored since (sqlstore.Store.CountStats).
func (db *DB) Stats(ctx context.Context, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	return db.Store.CountStats(ctx, objectQueries, viewer)
}

// DeleteObject deletes the versions of id that f selects.
func (db *DB) DeleteObject(ctx context.Context, id string, f cyberpact.ObjectFilter) (int, error) {
	a := &sqlstore.Args{Numbered: true}
	where, err := objectQueries.Filter(sqlstore.DeleteSelection(id, f), a)
	if err != nil {
		return 0, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal("beginning delete", err)
	}
	defer tx.Rollback()
	// Under the import lock (taken first, by StatsDeleting's DeleteLock),
	// as imports: the log's numbers are drawn and committed in one order,
	// so a reader never sees a later one first.
	counted, err := db.Store.StatsDeleting(ctx, tx, func() ([]string, error) { return []string{id}, nil })
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM objects AS o WHERE `+where+` RETURNING o.seq`, a.Vals...)
	if err != nil {
		return 0, internal("deleting object", err)
	}
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return 0, internal("deleting object", err)
		}
		seqs = append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, internal("deleting object", err)
	}
	if len(seqs) == 0 {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM refs WHERE seq = ANY($1)`, seqs); err != nil {
		return 0, internal("deleting object links", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deletes (n, id) SELECT COALESCE(MAX(n), 0) + 1, $1 FROM deletes`, id); err != nil {
		return 0, internal("logging the delete", err)
	}
	if err := counted(); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, 'delete ' || current_schema())`, NotifyChannel); err != nil {
		return 0, internal("notifying the delete", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, internal("committing delete", err)
	}
	return len(seqs), nil
}

// eachObject runs q, an object query of objectQueries, through the pool
// and calls fn with each object it selects, its extra columns scanned
// into extra.
func (db *DB) eachObject(ctx context.Context, q sqlstore.Query, extra []any, fn func(*cyberpact.Object) error) error {
	rows, err := db.pool.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return internal("querying objects", err)
	}
	defer rows.Close()
	scan := func(dst ...any) error { return rows.Scan(append(dst, extra...)...) }
	for rows.Next() {
		o, err := sqlstore.ScanObject(scan)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return internal("querying objects", err)
	}
	return nil
}
