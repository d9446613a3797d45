package sqlite

import (
	"context"
	"sync"
)

// changes broadcasts, inside this process, that a write committed. The
// embedded store has one process, so that is everyone who can be
// listening.
type changes struct {
	mu   sync.Mutex
	subs map[chan struct{}]bool
}

// Changes subscribes to committed imports and deletes; see
// cyberpact.ChangeNotifier.
func (db *DB) Changes() (<-chan struct{}, func()) {
	c := &db.changes
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[chan struct{}]bool{}
	}
	c.subs[ch] = true
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

// notify wakes every subscriber; one that is already due a wake-up keeps
// its single pending value.
func (c *changes) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// LastSeq returns the newest Seq ever added.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_seq), 0) FROM imports`).Scan(&seq); err != nil {
		return 0, internal("reading sequence", err)
	}
	return seq, nil
}

// DeletedSince returns the ids deleted after the delete numbered after,
// and the number of the last delete.
func (db *DB) DeletedSince(ctx context.Context, after int64) ([]string, int64, error) {
	var last int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) FROM deletes`).Scan(&last); err != nil {
		return nil, 0, internal("reading the log of deletes", err)
	}
	if after < 0 || last <= after {
		return nil, last, nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM deletes WHERE n > ? AND n <= ? ORDER BY n`, after, last)
	if err != nil {
		return nil, 0, internal("reading the log of deletes", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, 0, internal("reading the log of deletes", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, internal("reading the log of deletes", err)
	}
	return ids, last, nil
}
