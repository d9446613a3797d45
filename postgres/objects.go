package postgres

import (
	"context"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/jackc/pgx/v5"
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
}

// Object returns the version of id the viewer is shown.
func (db *DB) Object(ctx context.Context, id string, viewer *cyberpact.Viewer) (*cyberpact.Object, error) {
	objs, err := db.query(ctx, objectQueries.Get(id, viewer))
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	return objs[0], nil
}

// ObjectVersions returns every version of id the viewer is shown, oldest
// first.
func (db *DB) ObjectVersions(ctx context.Context, id string, viewer *cyberpact.Viewer) ([]*cyberpact.Object, error) {
	objs, err := db.query(ctx, objectQueries.Versions(id, viewer))
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	return objs, nil
}

// FindObjects returns one page of the versions f selects, in Seq order.
func (db *DB) FindObjects(ctx context.Context, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error) {
	limit := cyberpact.PageLimit(f.Limit)
	q, err := objectQueries.Find(f, limit)
	if err != nil {
		return nil, err
	}
	return db.page(ctx, q, limit)
}

// page runs a query that selects one more than a page of limit objects
// and cuts the page from it.
func (db *DB) page(ctx context.Context, q sqlstore.Query, limit int) (*cyberpact.ObjectPage, error) {
	objs, err := db.query(ctx, q)
	if err != nil {
		return nil, err
	}
	return cyberpact.NewPage(objs, limit), nil
}

// EachObject streams every version f selects to fn, in Seq order.
func (db *DB) EachObject(ctx context.Context, f cyberpact.ObjectFilter, fn func(*cyberpact.Object) error) error {
	q, err := objectQueries.Find(f, 0)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return internal("querying objects", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObject(rows)
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

// Relationships returns the relationships and sightings that link id.
func (db *DB) Relationships(ctx context.Context, id string, dir cyberpact.Direction, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error) {
	limit := cyberpact.PageLimit(f.Limit)
	q, err := objectQueries.Relationships(id, dir, f, limit)
	if err != nil {
		return nil, err
	}
	return db.page(ctx, q, limit)
}

// Stats counts per type the objects the viewer is shown.
func (db *DB) Stats(ctx context.Context, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	q := objectQueries.Stats(viewer)
	rows, err := db.pool.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, internal("counting objects", err)
	}
	defer rows.Close()
	var out []cyberpact.TypeStats
	for rows.Next() {
		var s cyberpact.TypeStats
		if err := rows.Scan(&s.Type, &s.Objects, &s.Versions, &s.Revoked); err != nil {
			return nil, internal("counting objects", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("counting objects", err)
	}
	return out, nil
}

// DeleteObject deletes the versions of id that f selects.
func (db *DB) DeleteObject(ctx context.Context, id string, f cyberpact.ObjectFilter) (int, error) {
	a := &sqlstore.Args{Numbered: true}
	where, err := objectQueries.Filter(sqlstore.DeleteSelection(id, f), a)
	if err != nil {
		return 0, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, internal("beginning delete", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `DELETE FROM objects AS o WHERE `+where+` RETURNING o.seq`, a.Vals...)
	if err != nil {
		return 0, internal("deleting object", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, internal("deleting object", err)
	}
	if len(seqs) == 0 {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM refs WHERE seq = ANY($1)`, seqs); err != nil {
		return 0, internal("deleting object links", err)
	}
	// Under the import lock, as imports: the log's numbers are drawn and
	// committed in one order, so a reader never sees a later one first.
	if _, err := tx.Exec(ctx, lockSQL(lockImport)); err != nil {
		return 0, internal("taking the import lock", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO deletes (n, id) SELECT COALESCE(MAX(n), 0) + 1, $1 FROM deletes`, id); err != nil {
		return 0, internal("logging the delete", err)
	}
	if err := notify(ctx, tx, "delete"); err != nil {
		return 0, internal("notifying the delete", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, internal("committing delete", err)
	}
	return len(seqs), nil
}

func scanObject(s pgx.Row) (*cyberpact.Object, error) {
	var o cyberpact.Object
	var added int64
	var body []byte
	var kind, tlp int16
	if err := s.Scan(&o.Seq, &o.Holding, &o.ID, &o.Modified, &o.Type, &added, &o.Revoked, &o.Release.Producer, &kind, &o.Release.Audience.Group, &tlp, &body); err != nil {
		return nil, internal("reading object", err)
	}
	o.Release.Audience.Kind = cyberpact.AudienceKind(kind)
	o.Release.TLP = cyberpact.TLP(tlp)
	o.Added = time.UnixMicro(added).UTC()
	o.Raw = body
	return &o, nil
}

func (db *DB) query(ctx context.Context, q sqlstore.Query) ([]*cyberpact.Object, error) {
	rows, err := db.pool.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, internal("querying objects", err)
	}
	defer rows.Close()
	var out []*cyberpact.Object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("querying objects", err)
	}
	return out, nil
}
