package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/jackc/pgx/v5"
)

// Ensure DB tells subscribers of changes.
var _ cyberpact.ChangeNotifier = (*DB)(nil)

// Every import that adds versions and every delete notifies NotifyChannel
// in its own transaction, so the notification is delivered at commit, to
// every process listening on the database. Each process holds one
// connection of its own that LISTENs (opened on the first subscription,
// not from the pool, closed with the store) and fans each notification for
// its schema out to its in-process subscribers, coalesced as in the SQLite
// store: a subscriber already due a wake-up keeps its one pending value.
//
// Should the connection drop, the listener reconnects (backing off from
// 100 ms to 5 s) and, once listening again, wakes every subscriber, since
// a change may have committed while nobody listened. A connection that
// hangs without dropping is found by a ping after 30 s of silence.

// Timings of the listener.
const (
	listenIdle       = 30 * time.Second // silence after which the connection is pinged
	listenPing       = 5 * time.Second  // how long the ping may take
	listenRetryFirst = 100 * time.Millisecond
	listenRetryMax   = 5 * time.Second
)

// changes is the process's listener and its subscribers.
type changes struct {
	cfg    *pgx.ConnConfig // of the pool, copied at Open
	schema string

	sqlstore.Broadcast // the process's subscribers

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{} // closed when the listener has stopped
}

// Changes subscribes to committed imports and deletes, made by this
// process or any other on the same database and schema; see
// cyberpact.ChangeNotifier.
func (db *DB) Changes() (<-chan struct{}, func()) {
	c := &db.changes
	ch, cancel := c.Subscribe()
	c.mu.Lock()
	if !c.started && !c.closed {
		c.started = true
		ctx, cancel := context.WithCancel(context.Background())
		c.cancel, c.done = cancel, make(chan struct{})
		go c.listen(ctx)
	}
	c.mu.Unlock()
	return ch, cancel
}

// close stops the listener, if it runs, and waits for it.
func (c *changes) close() {
	c.mu.Lock()
	c.closed = true
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// listen keeps a listening connection until ctx ends, reconnecting when it
// drops.
func (c *changes) listen(ctx context.Context) {
	defer close(c.done)
	wait := listenRetryFirst
	for first := true; ; first = false {
		c.listenOnce(ctx, func() {
			wait = listenRetryFirst
			if !first {
				c.Notify() // something may have committed while nobody listened
			}
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce connects, LISTENs, calls listening and relays notifications
// until the connection fails or ctx ends.
func (c *changes) listenOnce(ctx context.Context, listening func()) error {
	cfg := c.cfg.Copy()
	cfg.RuntimeParams["application_name"] = ListenerName(c.schema)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	listening()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || (err != nil && wctx.Err() != nil):
			pctx, cancel := context.WithTimeout(ctx, listenPing)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		if _, schema, ok := strings.Cut(n.Payload, " "); ok && schema == c.schema {
			c.Notify()
		}
	}
}

// ListenerName is the application_name of the connection that listens for
// changes on behalf of the stores of one process in schema: what
// pg_stat_activity shows for it.
func ListenerName(schema string) string {
	name := "cyberpact changes " + schema
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}
