package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cyberpact/cyberpact"
)

// Ensure DB can prove a read unchanged (cyberpact.SnapshotStore).
var _ cyberpact.SnapshotStore = (*DB)(nil)

// dataVersions reads SQLite's data version of the objects file and of the
// search index on one connection of their own, which never writes. PRAGMA
// data_version answers the same on one connection until a commit of any
// other connection, of this process or another, lands in that file (and
// then answers differently): two equal answers prove that nothing was
// committed between them. The value is per connection, so it is always
// read on the same one, kept for the store's life; if that connection
// fails, nothing is proved unchanged again.
//
// Every read of objects (the rule's tables, accounts and groups,
// holdings, privacy, exercises) is of those two files; the audit log,
// the third file, is never read by FindObjects.
type dataVersions struct {
	db   *sql.DB // a pool of one connection, over the readers' connector
	name string  // tells this store's snapshots from another's

	mu     sync.Mutex
	conn   *sql.Conn // pinned at the first use
	broken bool
}

var storeInstances atomic.Int64

func newDataVersions(db *sql.DB) *dataVersions {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return &dataVersions{db: db, name: fmt.Sprintf("sqlite-%d", storeInstances.Add(1))}
}

// now returns the snapshot of the state now: the store's name and the
// data version of both files.
func (v *dataVersions) now(ctx context.Context) (cyberpact.Snapshot, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.broken {
		return "", errors.New("the data version connection failed")
	}
	if v.conn == nil {
		c, err := v.db.Conn(ctx)
		if err != nil {
			return "", err
		}
		v.conn = c
	}
	var main, search int64
	// Not under ctx: a read cancelled half-way through must not leave the
	// pinned connection unusable.
	err := v.conn.QueryRowContext(context.Background(), `PRAGMA main.data_version`).Scan(&main)
	if err == nil {
		err = v.conn.QueryRowContext(context.Background(), `PRAGMA s.data_version`).Scan(&search)
	}
	if err != nil {
		v.broken = true
		return "", err
	}
	return cyberpact.Snapshot(fmt.Sprintf("%s:%d:%d", v.name, main, search)), nil
}

func (v *dataVersions) close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.broken = true
	if v.conn != nil {
		v.conn.Close()
	}
	return v.db.Close()
}

// FindEnvelopeSnapshot is FindEnvelope with the data versions read just
// before the page's query began its read: if Unchanged confirms them
// later, nothing was committed from before the page was read until then,
// so the page is what a read then returns.
func (db *DB) FindEnvelopeSnapshot(ctx context.Context, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, cyberpact.Snapshot, error) {
	snap, err := db.versions.now(ctx)
	if err != nil {
		return nil, "", internal("reading the data version", err)
	}
	page, err := db.FindEnvelope(ctx, f)
	if err != nil {
		return nil, "", err
	}
	return page, snap, nil
}

// Unchanged reports whether the data versions are still those of snap.
func (db *DB) Unchanged(ctx context.Context, snap cyberpact.Snapshot) bool {
	if snap == "" {
		return false
	}
	now, err := db.versions.now(ctx)
	return err == nil && now == snap
}
