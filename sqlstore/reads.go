package sqlstore

import (
	"context"

	"github.com/cyberpact/cyberpact"
)

// ObjectReads are the reads of objects both stores answer alike: the
// queries of Q, run by each engine its own way (SQLite through
// database/sql, PostgreSQL through native pgx for its faster scanning).
// sqlite.DB and postgres.DB embed it for its methods.
type ObjectReads struct {
	Q *Objects
	// Each runs q and calls fn with every object it selects, in order,
	// stopping at fn's first error, which it returns.
	Each func(ctx context.Context, q Query, fn func(*cyberpact.Object) error) error
}

// query returns every object q selects.
func (r ObjectReads) query(ctx context.Context, q Query) ([]*cyberpact.Object, error) {
	var out []*cyberpact.Object
	err := r.Each(ctx, q, func(o *cyberpact.Object) error {
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

// EachObject streams every version f selects to fn, in Seq order.
func (r ObjectReads) EachObject(ctx context.Context, f cyberpact.ObjectFilter, fn func(*cyberpact.Object) error) error {
	q, err := r.Q.Find(f, 0)
	if err != nil {
		return err
	}
	return r.Each(ctx, q, fn)
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
// cuts the page from it.
func (r ObjectReads) page(ctx context.Context, q Query, limit int) (*cyberpact.ObjectPage, error) {
	objs, err := r.query(ctx, q)
	if err != nil {
		return nil, err
	}
	return cyberpact.NewPage(objs, limit), nil
}
