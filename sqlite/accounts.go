package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
)

// Accounts are in the objects' file (migration 0003): organisations,
// sharing groups, users and API keys, kept by the shared store (sqlstore).
// Changes go through the one writer, each in a transaction that commits
// only after its audit entry is on disk (auditChange), so no change is
// ever left unaudited. Reads, Authenticate among them, use the read pool
// and never wait for a writer; a key's last use is written in the
// background (keyUse).

// The times as stored (see sqlstore): unix microseconds, 0 for none;
// now to the microsecond, in UTC.
var toMicros, now = sqlstore.ToMicros, sqlstore.Now

// auditChange records e, describing an account or peer change, before the
// change commits: the audit log is a file of its own, and the change
// commits only once its entry is on disk.
func (db *DB) auditChange(ctx context.Context, _ *sql.Conn, e *cyberpact.AuditEntry) (func(), error) {
	return nil, db.Audit(ctx, e)
}

// groupsOf returns the ids of the groups org belongs to, in order, as q
// (an import's transaction) sees them.
func groupsOf(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, org int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT grp FROM group_orgs WHERE org = ? ORDER BY grp`, org)
	if err != nil {
		return nil, internal("reading groups", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, internal("reading groups", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading groups", err)
	}
	return out, nil
}

// keyUse writes keys' last-used times in the background, so that an
// authentication never waits for the objects' writer (which a long import
// may hold), and at most once a minute per key.
type keyUse struct {
	db *sql.DB

	mu     sync.Mutex
	closed bool
	queued map[int64]time.Time // when each key's use was last handed to the writer
	uses   chan keyUsed
	done   chan struct{}
}

type keyUsed struct {
	id int64
	at time.Time
}

func startKeyUse(db *sql.DB) *keyUse {
	u := &keyUse{db: db, queued: map[int64]time.Time{}, uses: make(chan keyUsed, 256), done: make(chan struct{})}
	go u.writer()
	return u
}

// note records that key id was used at t, unless that was done less than
// a minute ago. It never blocks: when the writer is behind, the use is
// dropped and a later one recorded instead.
func (u *keyUse) note(id int64, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || t.Sub(u.queued[id]) < sqlstore.LastUsedEvery {
		return
	}
	select {
	case u.uses <- keyUsed{id, t}:
		u.queued[id] = t
	default:
	}
}

func (u *keyUse) writer() {
	defer close(u.done)
	for first := range u.uses {
		batch := map[int64]time.Time{first.id: first.at}
	more:
		for {
			select {
			case x, ok := <-u.uses:
				if !ok {
					break more
				}
				batch[x.id] = x.at
			default:
				break more
			}
		}
		// Best effort: a failed write is retried on a later use.
		if err := u.write(batch); err != nil {
			u.mu.Lock()
			for id := range batch {
				delete(u.queued, id)
			}
			u.mu.Unlock()
		}
	}
}

func (u *keyUse) write(batch map[int64]time.Time) error {
	ctx := context.Background()
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for id, at := range batch {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used = max(last_used, ?) WHERE id = ?`, at.UnixMicro(), id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// close writes the uses noted so far and stops the writer.
func (u *keyUse) close() {
	u.mu.Lock()
	if !u.closed {
		u.closed = true
		close(u.uses)
	}
	u.mu.Unlock()
	<-u.done
}
