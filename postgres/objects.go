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
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal("beginning delete", err)
	}
	defer tx.Rollback()
	// Under the import lock (taken first, by StatsDeleting's DeleteLock),
	// as imports: the log's numbers are drawn and committed in one order,
	// so a reader never sees a later one first.
	seqs, err := db.Store.DeleteVersions(ctx, tx, objectQueries, id, f)
	if err != nil {
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
	var bodies sqlstore.Bodies
	for rows.Next() {
		o, err := q.Scan(scan, &bodies)
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
