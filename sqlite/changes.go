package sqlite

import (
	"sync"

	"github.com/cyberpact/cyberpact"
)

// Ensure DB tells of changes (LastSeq and DeletedSince come from the
// shared store core).
var _ cyberpact.ChangeNotifier = (*DB)(nil)

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
