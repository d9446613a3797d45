package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// keyUse writes keys' last-used times in the background, so that an
// authentication never waits for a writer (SQLite's one writer, which a
// long import may hold), batched, and at most once a minute per key.
type keyUse struct {
	db *sql.DB
	d  Dialect

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

func startKeyUse(db *sql.DB, d Dialect) *keyUse {
	u := &keyUse{db: db, d: d, queued: map[int64]time.Time{}, uses: make(chan keyUsed, 256), done: make(chan struct{})}
	go u.writer()
	return u
}

// note records that key id was used at t, unless that was done less than
// a minute ago. It never blocks: when the writer is behind, the use is
// dropped and a later one recorded instead.
func (u *keyUse) note(id int64, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || t.Sub(u.queued[id]) < LastUsedEvery {
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
		a := u.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used = `+u.d.Greatest("last_used", a.Add(at.UnixMicro()))+` WHERE id = `+a.Add(id), a.Vals...); err != nil {
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
