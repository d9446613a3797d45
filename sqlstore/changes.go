package sqlstore

import (
	"context"
	"sync"
)

// LastSeq returns the newest Seq ever added: the end of the last committed
// import's range.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_seq), 0) FROM imports`).Scan(&seq); err != nil {
		return 0, internal("reading sequence", err)
	}
	return seq, nil
}

// DeletedSince returns the ids deleted after the delete numbered after,
// and the number of the last delete (cyberpact.ChangeNotifier).
func (s *Store) DeletedSince(ctx context.Context, after int64) ([]string, int64, error) {
	var last int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) FROM deletes`).Scan(&last); err != nil {
		return nil, 0, internal("reading the log of deletes", err)
	}
	if after < 0 || last <= after {
		return nil, last, nil
	}
	a := s.d.Args()
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM deletes WHERE n > `+a.Add(after)+` AND n <= `+a.Add(last)+` ORDER BY n`, a.Vals...)
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

// Broadcast wakes its subscribers when a write commits, coalesced: a
// subscriber already due a wake-up keeps its one pending value. The zero
// value is ready to use; it is safe for concurrent use.
type Broadcast struct {
	mu   sync.Mutex
	subs map[chan struct{}]bool
}

// Subscribe returns a channel that receives a value after writes commit,
// and the function that ends the subscription.
func (b *Broadcast) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan struct{}]bool{}
	}
	b.subs[ch] = true
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// Notify wakes every subscriber.
func (b *Broadcast) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
