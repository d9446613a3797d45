package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/jackc/pgx/v5"
)

// Ensure DB implements the store interface.
var _ cyberpact.ObjectStore = (*DB)(nil)

const objectCols = `o.seq, o.holding, o.id, o.version, o.type, o.added, o.revoked, o.producer, o.aud_kind, o.aud_group, o.tlp, o.body`

// Object returns the latest version of id the viewer may see.
func (db *DB) Object(ctx context.Context, id string, viewer *cyberpact.Viewer) (*cyberpact.Object, error) {
	a := &sqlstore.Args{Numbered: true}
	q := `SELECT ` + objectCols + ` FROM objects o WHERE o.id = ` + a.Add(id) + ` AND ` + sqlstore.Viewer(viewer, a) + ` ORDER BY o.holding, o.version DESC LIMIT 1`
	objs, err := db.query(ctx, q, a.Vals)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	return objs[0], nil
}

// ObjectVersions returns every version of id the viewer may see, oldest
// first.
func (db *DB) ObjectVersions(ctx context.Context, id string, viewer *cyberpact.Viewer) ([]*cyberpact.Object, error) {
	a := &sqlstore.Args{Numbered: true}
	q := `SELECT ` + objectCols + ` FROM objects o WHERE o.id = ` + a.Add(id) + ` AND ` + sqlstore.Viewer(viewer, a) + ` ORDER BY o.holding, o.version`
	objs, err := db.query(ctx, q, a.Vals)
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
	a := &sqlstore.Args{Numbered: true}
	where, err := filterSQL(f, a)
	if err != nil {
		return nil, err
	}
	return db.page(ctx, `SELECT `+objectCols+` FROM objects o WHERE `+where, a, f.Limit)
}

// page runs a query that selects objects and cuts one page of limit from
// it, in seq order.
func (db *DB) page(ctx context.Context, query string, a *sqlstore.Args, limit int) (*cyberpact.ObjectPage, error) {
	limit = cyberpact.PageLimit(limit)
	query += ` ORDER BY o.seq LIMIT ` + a.Add(limit+1)
	objs, err := db.query(ctx, query, a.Vals)
	if err != nil {
		return nil, err
	}
	return cyberpact.NewPage(objs, limit), nil
}

// EachObject streams every version f selects to fn, in Seq order.
func (db *DB) EachObject(ctx context.Context, f cyberpact.ObjectFilter, fn func(*cyberpact.Object) error) error {
	a := &sqlstore.Args{Numbered: true}
	where, err := filterSQL(f, a)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+objectCols+` FROM objects o WHERE `+where+` ORDER BY o.seq`, a.Vals...)
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
	cond := ""
	switch dir {
	case cyberpact.Outgoing:
		cond = ` AND prop = 'source_ref'`
	case cyberpact.Incoming:
		cond = ` AND prop <> 'source_ref'`
	}
	f.AllVersions, f.Versions = false, nil
	a := &sqlstore.Args{Numbered: true}
	q := `SELECT ` + objectCols + ` FROM objects o WHERE o.seq IN (SELECT seq FROM refs WHERE target = ` + a.Add(id) + cond + `) AND `
	where, err := filterSQL(f, a)
	if err != nil {
		return nil, err
	}
	return db.page(ctx, q+where, a, f.Limit)
}

// Stats counts stored objects per type, of those the viewer may see.
func (db *DB) Stats(ctx context.Context, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	f := cyberpact.ObjectFilter{Viewer: viewer}
	a := &sqlstore.Args{Numbered: true}
	q := `SELECT type, COUNT(DISTINCT id), COUNT(*), COUNT(*) FILTER (WHERE revoked AND ` + sqlstore.Latest(f, a) + `)
		FROM objects o WHERE ` + sqlstore.Viewer(viewer, a) + ` GROUP BY type ORDER BY type`
	rows, err := db.pool.Query(ctx, q, a.Vals...)
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
	sel := cyberpact.ObjectFilter{Viewer: f.Viewer, Audience: f.Audience, Versions: f.Versions, AllVersions: f.AllVersions, IDs: []string{id}}
	if len(sel.Versions) == 0 && !sel.AllVersions {
		sel.AllVersions = true // deleting an object deletes all its versions unless told which
	}
	a := &sqlstore.Args{Numbered: true}
	where, err := filterSQL(sel, a)
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
	if err := notify(ctx, tx, "delete"); err != nil {
		return 0, internal("notifying the delete", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, internal("committing delete", err)
	}
	return len(seqs), nil
}

// filterSQL turns a filter into a WHERE clause over objects o.
func filterSQL(f cyberpact.ObjectFilter, a *sqlstore.Args) (string, error) {
	conds := []string{"o.seq > " + a.Add(f.After), sqlstore.Scope("o", f, a)}
	if f.Viewer != nil {
		conds = append(conds, sqlstore.EndsVisible(f, a))
	}
	vc, err := sqlstore.Versions(f, a, func(v string) (string, error) {
		t, err := time.Parse(time.RFC3339Nano, v)
		return normTime(t), err
	})
	if err != nil {
		return "", err
	}
	conds = append(conds, vc)
	if len(f.Types) > 0 {
		conds = append(conds, "o.type = ANY("+a.Add(f.Types)+"::text[])")
	}
	if len(f.IDs) > 0 {
		conds = append(conds, "o.id = ANY("+a.Add(f.IDs)+"::text[])")
	}
	if len(f.SpecVersions) > 0 {
		conds = append(conds, "o.spec_version = ANY("+a.Add(f.SpecVersions)+"::text[])")
	}
	if len(f.Labels) > 0 {
		conds = append(conds, "o.labels && "+a.Add(f.Labels)+"::text[]")
	}
	if !f.ModifiedSince.IsZero() {
		conds = append(conds, "o.version >= "+a.Add(normTime(f.ModifiedSince)))
	}
	if !f.ModifiedUntil.IsZero() {
		conds = append(conds, "o.version <= "+a.Add(normTime(f.ModifiedUntil)))
	}
	if !f.AddedAfter.IsZero() {
		conds = append(conds, "o.seq > COALESCE((SELECT MAX(last_seq) FROM imports WHERE added <= "+a.Add(f.AddedAfter.UnixMicro())+"), 0)")
	}
	if f.ExcludeRevoked {
		conds = append(conds, "NOT o.revoked")
	}
	if f.MaxTLP != cyberpact.TLPUnknown {
		conds = append(conds, fmt.Sprintf("o.tlp <= %d", f.MaxTLP))
	}
	if f.Text != "" {
		q, err := tsQuery(f.Text)
		if err != nil {
			return "", err
		}
		conds = append(conds, "o.search @@ "+a.Add(q)+"::tsquery")
	}
	return strings.Join(conds, " AND "), nil
}

// normTime matches stix.NormTime: fixed-width UTC with nanoseconds.
func normTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
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

func (db *DB) query(ctx context.Context, q string, vals []any) ([]*cyberpact.Object, error) {
	rows, err := db.pool.Query(ctx, q, vals...)
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
