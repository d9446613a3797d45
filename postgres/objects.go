package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/jackc/pgx/v5"
)

// Ensure DB implements the store interface.
var _ cyberpact.ObjectStore = (*DB)(nil)

const objectCols = `o.seq, o.id, o.version, o.type, o.added, o.revoked, o.producer, o.aud_kind, o.aud_group, o.tlp, o.body`

// Object returns the latest version of id the viewer may see.
func (db *DB) Object(ctx context.Context, id string, viewer *cyberpact.Viewer) (*cyberpact.Object, error) {
	var a args
	q := `SELECT ` + objectCols + ` FROM objects o WHERE o.id = ` + a.add(id) + ` AND ` + scopeSQL("o", cyberpact.ObjectFilter{Viewer: viewer}, &a) + ` ORDER BY o.version DESC LIMIT 1`
	objs, err := db.query(ctx, q, a)
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
	var a args
	q := `SELECT ` + objectCols + ` FROM objects o WHERE o.id = ` + a.add(id) + ` AND ` + scopeSQL("o", cyberpact.ObjectFilter{Viewer: viewer}, &a) + ` ORDER BY o.version`
	objs, err := db.query(ctx, q, a)
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
	var a args
	where, err := filterSQL(f, &a)
	if err != nil {
		return nil, err
	}
	return db.page(ctx, `SELECT `+objectCols+` FROM objects o WHERE `+where, a, f.Limit)
}

// page runs a query that selects objects and cuts one page of limit from
// it, in seq order.
func (db *DB) page(ctx context.Context, query string, a args, limit int) (*cyberpact.ObjectPage, error) {
	limit = cyberpact.PageLimit(limit)
	objs, err := db.query(ctx, query+` ORDER BY o.seq LIMIT `+a.add(limit+1), a)
	if err != nil {
		return nil, err
	}
	return cyberpact.NewPage(objs, limit), nil
}

// EachObject streams every version f selects to fn, in Seq order.
func (db *DB) EachObject(ctx context.Context, f cyberpact.ObjectFilter, fn func(*cyberpact.Object) error) error {
	var a args
	where, err := filterSQL(f, &a)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+objectCols+` FROM objects o WHERE `+where+` ORDER BY o.seq`, a...)
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
	var a args
	q := `SELECT ` + objectCols + ` FROM objects o WHERE o.seq IN (SELECT seq FROM refs WHERE target = ` + a.add(id) + cond + `) AND `
	where, err := filterSQL(f, &a)
	if err != nil {
		return nil, err
	}
	return db.page(ctx, q+where, a, f.Limit)
}

// Stats counts stored objects per type, of those the viewer may see.
func (db *DB) Stats(ctx context.Context, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	f := cyberpact.ObjectFilter{Viewer: viewer}
	var a args
	q := `SELECT type, COUNT(DISTINCT id), COUNT(*), COUNT(*) FILTER (WHERE revoked AND ` + latestSQL(f, &a) + `)
		FROM objects o WHERE ` + scopeSQL("o", f, &a) + ` GROUP BY type ORDER BY type`
	rows, err := db.pool.Query(ctx, q, a...)
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
	var a args
	where, err := filterSQL(sel, &a)
	if err != nil {
		return 0, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, internal("beginning delete", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `DELETE FROM objects AS o WHERE `+where+` RETURNING o.seq`, a...)
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

// scopeSQL is the sharing rule (cyberpact.MaySee) and the collection
// (f.Audience) as a condition on the objects row alias t. storetest checks
// that it agrees with MaySee.
func scopeSQL(t string, f cyberpact.ObjectFilter, a *args) string {
	var conds []string
	v := f.Viewer
	switch {
	case v != nil && v.Exercise != 0:
		// Inside an exercise: its objects addressed to the viewer's
		// organisation or to every participant, and nothing else.
		conds = append(conds, fmt.Sprintf("(%[1]s.aud_group = %[2]s AND (%[1]s.aud_kind = %[3]d OR (%[1]s.aud_kind = %[4]d AND %[1]s.producer = %[5]s)))",
			t, a.add(v.Exercise), cyberpact.AudienceExercise, cyberpact.AudienceExerciseOrg, a.add(v.Org)))
		if v.Org == 0 {
			conds = append(conds, "FALSE")
		}
	default:
		// Outside an exercise no exercise object exists, whoever asks.
		conds = append(conds, fmt.Sprintf("%s.aud_kind < %d", t, cyberpact.AudienceExerciseOrg))
		if v != nil {
			switch {
			case v.Public:
				conds = append(conds, fmt.Sprintf("%s.tlp = %d", t, cyberpact.TLPClear))
			case v.Org == 0:
				conds = append(conds, "FALSE")
			default:
				c := fmt.Sprintf("(%[1]s.producer = %[2]s OR (%[1]s.aud_kind = %[3]d AND %[1]s.tlp <> %[4]d)", t, a.add(v.Org), cyberpact.AudienceAll, cyberpact.TLPRed)
				if len(v.Groups) > 0 {
					c += fmt.Sprintf(" OR (%[1]s.aud_kind = %[2]d AND %[1]s.aud_group = ANY(%[3]s::bigint[]))", t, cyberpact.AudienceGroup, a.add(v.Groups))
				}
				conds = append(conds, c+")")
			}
		}
	}
	if au := f.Audience; au != nil {
		conds = append(conds, fmt.Sprintf("%[1]s.aud_kind = %[2]d AND %[1]s.aud_group = %[3]s", t, au.Kind, a.add(au.Group)))
	}
	return strings.Join(conds, " AND ")
}

// latestSQL holds for a row o that is the newest version of its id within
// f's scope: no newer version the viewer may see in the same collection.
//
// OFFSET 0 keeps the planner from turning the NOT EXISTS into an anti-join:
// misjudging the sharing rule's conditions as matching one row, it would
// scan the whole table for every row of a page; as a per-row subquery it
// is one probe of objects_id_version.
func latestSQL(f cyberpact.ObjectFilter, a *args) string {
	return `NOT EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND n.version > o.version AND ` + scopeSQL("n", f, a) + ` OFFSET 0)`
}

// firstSQL holds for a row o that is the oldest version of its id within
// f's scope.
func firstSQL(f cyberpact.ObjectFilter, a *args) string {
	return `NOT EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND n.version < o.version AND ` + scopeSQL("n", f, a) + ` OFFSET 0)`
}

// endsVisibleSQL holds for a row o that is not a relationship or sighting,
// or whose ends (source, target, sighted object) the viewer may all see:
// an edge to an object you may not see is not shown.
//
// The repeated test of o.type inside the subquery is for the planner: with
// only x.seq = o.seq to correlate on, it may turn the subquery into one
// hashed set of every hidden edge, built in full for each page (78 ms of
// a 1,000-object page over 100,000 objects); referring to o.type it cannot,
// and checks each relationship of the page through refs_seq instead (22
// ms).
func endsVisibleSQL(f cyberpact.ObjectFilter, a *args) string {
	return `(o.type NOT IN ('relationship', 'sighting') OR NOT EXISTS (SELECT 1 FROM refs x WHERE x.seq = o.seq
		AND o.type IN ('relationship', 'sighting')
		AND x.prop IN ('source_ref', 'target_ref', 'sighting_of_ref')
		AND NOT EXISTS (SELECT 1 FROM objects e WHERE e.id = x.target AND ` + scopeSQL("e", cyberpact.ObjectFilter{Viewer: f.Viewer}, a) + `)))`
}

// filterSQL turns a filter into a WHERE clause over objects o.
func filterSQL(f cyberpact.ObjectFilter, a *args) (string, error) {
	conds := []string{"o.seq > " + a.add(f.After), scopeSQL("o", f, a)}
	if f.Viewer != nil {
		conds = append(conds, endsVisibleSQL(f, a))
	}
	var vconds []string
	for _, v := range f.VersionSelectors() {
		switch v {
		case "all":
			vconds = append(vconds, "TRUE")
		case "last":
			vconds = append(vconds, latestSQL(f, a))
		case "first":
			vconds = append(vconds, firstSQL(f, a))
		default:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", cyberpact.Errorf(cyberpact.EINVALID, "version %q is not first, last, all or a timestamp", v)
			}
			vconds = append(vconds, "o.version = "+a.add(normTime(t)))
		}
	}
	conds = append(conds, "("+strings.Join(vconds, " OR ")+")")
	if len(f.Types) > 0 {
		conds = append(conds, "o.type = ANY("+a.add(f.Types)+"::text[])")
	}
	if len(f.IDs) > 0 {
		conds = append(conds, "o.id = ANY("+a.add(f.IDs)+"::text[])")
	}
	if len(f.SpecVersions) > 0 {
		conds = append(conds, "o.spec_version = ANY("+a.add(f.SpecVersions)+"::text[])")
	}
	if len(f.Labels) > 0 {
		conds = append(conds, "o.labels && "+a.add(f.Labels)+"::text[]")
	}
	if !f.ModifiedSince.IsZero() {
		conds = append(conds, "o.version >= "+a.add(normTime(f.ModifiedSince)))
	}
	if !f.ModifiedUntil.IsZero() {
		conds = append(conds, "o.version <= "+a.add(normTime(f.ModifiedUntil)))
	}
	if !f.AddedAfter.IsZero() {
		conds = append(conds, "o.seq > COALESCE((SELECT MAX(last_seq) FROM imports WHERE added <= "+a.add(f.AddedAfter.UnixMicro())+"), 0)")
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
		conds = append(conds, "o.search @@ "+a.add(q)+"::tsquery")
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
	if err := s.Scan(&o.Seq, &o.ID, &o.Modified, &o.Type, &added, &o.Revoked, &o.Release.Producer, &kind, &o.Release.Audience.Group, &tlp, &body); err != nil {
		return nil, internal("reading object", err)
	}
	o.Release.Audience.Kind = cyberpact.AudienceKind(kind)
	o.Release.TLP = cyberpact.TLP(tlp)
	o.Added = time.UnixMicro(added).UTC()
	o.Raw = body
	return &o, nil
}

func (db *DB) query(ctx context.Context, q string, a args) ([]*cyberpact.Object, error) {
	rows, err := db.pool.Query(ctx, q, a...)
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
