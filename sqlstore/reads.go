package sqlstore

import (
	"context"
	"database/sql"

	"github.com/cyberpact/cyberpact"
)

// ObjectReads are the reads of objects both stores answer alike: the
// queries of Q, run by each engine its own way (SQLite through
// database/sql, PostgreSQL through native pgx for its faster scanning).
// sqlite.DB and postgres.DB embed it for its methods.
type ObjectReads struct {
	Q *Objects
	// Each runs q and calls fn with every object it selects, in order,
	// stopping at fn's first error, which it returns. q selects ObjectCols
	// and then one column for each of extra, which are scanned into
	// extra's pointers before fn is called.
	Each func(ctx context.Context, q Query, extra []any, fn func(*cyberpact.Object) error) error
	// DB runs the reads that count (the objects' database, with the
	// search database attached on SQLite).
	DB *sql.DB
	// Observables names the table of observable values (see
	// cyberpact.CorrelationStore).
	Observables string
	// Cap is how many versions one value is indexed for before it counts
	// as common.
	Cap func() int
}

// query returns every object q selects.
func (r ObjectReads) query(ctx context.Context, q Query) ([]*cyberpact.Object, error) {
	var out []*cyberpact.Object
	err := r.Each(ctx, q, nil, func(o *cyberpact.Object) error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// Object returns the version of id the viewer is shown. Returns ENOTFOUND
// when there is none, as for an id never stored.
func (r ObjectReads) Object(ctx context.Context, id string, viewer *cyberpact.Viewer) (*cyberpact.Object, error) {
	objs, err := r.query(ctx, r.Q.Get(id, viewer))
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	return objs[0], nil
}

// ObjectVersions returns every version of id the viewer is shown, oldest
// first. Returns ENOTFOUND when there is none.
func (r ObjectReads) ObjectVersions(ctx context.Context, id string, viewer *cyberpact.Viewer) ([]*cyberpact.Object, error) {
	objs, err := r.query(ctx, r.Q.Versions(id, viewer))
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	return objs, nil
}

// FindObjects returns one page of the versions f selects, in Seq order.
func (r ObjectReads) FindObjects(ctx context.Context, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error) {
	limit := cyberpact.PageLimit(f.Limit)
	q, err := r.Q.Find(f, limit)
	if err != nil {
		return nil, err
	}
	return r.page(ctx, q, limit)
}

// FindEnvelope returns the page FindObjects returns, each version read
// with only what a TAXII envelope of it needs (ScanEnvelope).
func (r ObjectReads) FindEnvelope(ctx context.Context, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error) {
	limit := cyberpact.PageLimit(f.Limit)
	q, err := r.Q.FindEnvelope(f, limit)
	if err != nil {
		return nil, err
	}
	return r.page(ctx, q, limit)
}

// EachObject streams every version f selects to fn, in Seq order.
func (r ObjectReads) EachObject(ctx context.Context, f cyberpact.ObjectFilter, fn func(*cyberpact.Object) error) error {
	q, err := r.Q.Find(f, 0)
	if err != nil {
		return err
	}
	return r.Each(ctx, q, nil, fn)
}

// Relationships returns one page of the relationships and sightings that
// link id in direction dir.
func (r ObjectReads) Relationships(ctx context.Context, id string, dir cyberpact.Direction, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error) {
	limit := cyberpact.PageLimit(f.Limit)
	q, err := r.Q.Relationships(id, dir, f, limit)
	if err != nil {
		return nil, err
	}
	return r.page(ctx, q, limit)
}

// page runs q, which selects one more than a page of limit objects, and
// cuts the page from it; a ranked query's cursor is the last row's rank
// and Seq (cyberpact.RankCursor).
func (r ObjectReads) page(ctx context.Context, q Query, limit int) (*cyberpact.ObjectPage, error) {
	if !q.Ranked {
		objs, err := r.query(ctx, q)
		if err != nil {
			return nil, err
		}
		return cyberpact.NewPage(objs, limit), nil
	}
	var objs []*cyberpact.Object
	var ranks []int64
	var rank int64
	err := r.Each(ctx, q, []any{&rank}, func(o *cyberpact.Object) error {
		objs = append(objs, o)
		ranks = append(ranks, rank)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p := cyberpact.NewPage(objs, limit)
	if n := len(p.Objects); n > 0 {
		p.Next = cyberpact.RankCursor(ranks[n-1], p.Objects[n-1].Seq)
	}
	return p, nil
}

// maxCorrelated is the most objects one correlation answer lists.
const maxCorrelated = 1000

// Correlate returns the latest visible versions of the objects that hold
// any of keys, and which of keys was found first (the most specific form
// held); see cyberpact.CorrelationStore. Common is told only
// to a viewer who sees the cap's number of versions holding the value:
// counted over what it may see alone, the flag tells nothing of what
// others hold, and to anyone else the answer is the same as for a value
// nobody holds.
func (r ObjectReads) Correlate(ctx context.Context, keys []string, viewer *cyberpact.Viewer, limit int) (*cyberpact.Correlation, error) {
	if viewer == nil {
		return nil, cyberpact.Errorf(cyberpact.EINTERNAL, "correlation without a viewer")
	}
	c := &cyberpact.Correlation{}
	if len(keys) == 0 {
		return c, nil
	}
	if limit <= 0 || limit > maxCorrelated {
		limit = maxCorrelated
	}
	f := cyberpact.ObjectFilter{Viewer: viewer}
	a := r.Q.args()
	// An object holds the value in at most one row per key: reading
	// len(keys) rows per object reaches limit objects.
	q := `SELECT ` + ObjectCols + `, x.key, x.kind FROM ` + r.Observables + ` x JOIN objects o ON o.seq = x.seq
		WHERE ` + a.InStrings("x.key", keys) + ` AND ` + Scope("o", f, a) + ` AND ` + Latest(f, a) + ` AND ` + EndsVisible(f, a) + `
		ORDER BY o.seq LIMIT ` + a.Add(limit*len(keys))
	found := map[string]string{}
	seen := map[int64]bool{}
	var key, kind string
	err := r.Each(ctx, Query{SQL: q, Args: a.Vals}, []any{&key, &kind}, func(o *cyberpact.Object) error {
		if _, ok := found[key]; !ok {
			found[key] = kind
		}
		if !seen[o.Seq] && len(c.Objects) < limit {
			seen[o.Seq] = true
			c.Objects = append(c.Objects, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.SetValue(keys, found)
	if len(c.Objects) == 0 {
		return c, nil
	}
	cap := int64(r.Cap())
	for _, k := range keys {
		a := r.Q.args()
		q := `SELECT COUNT(*) FROM (SELECT 1 FROM ` + r.Observables + ` x JOIN objects o ON o.seq = x.seq WHERE x.key = ` + a.Add(k) + ` AND ` +
			Scope("o", f, a) + ` AND ` + EndsVisible(f, a) + ` LIMIT ` + a.Add(cap) + `) v`
		var n int64
		if err := r.DB.QueryRowContext(ctx, q, a.Vals...).Scan(&n); err != nil {
			return nil, internal("correlating", err)
		}
		if n >= cap {
			c.Common, c.Count = true, cap
			break
		}
	}
	return c, nil
}
