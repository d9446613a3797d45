package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxStmts bounds the object queries the readers keep prepared. The texts
// differ by the shape of a read (the viewer's groups and clearances, the
// filters it names), not by its values, so a few dozen cover the reads of
// a running hub; each is prepared at most once on each reader connection.
const maxStmts = 64

// stmtCache keeps the object queries of the reader pool prepared, by their
// text, the most recently used maxStmts of them.
//
// A page of a list or a TAXII collection is one query whose text is the
// same from page to page (only the cursor's value changes). SQLite
// compiles a query with the rule's subqueries in about the time it takes
// to read a few hundred rows, and a query whose LIMIT or audience value
// decides its plan is compiled again at its first step once its values are
// bound: two compilations a page. Kept prepared, it is compiled once on
// each connection and again only when one of those values changes.
// Closing a statement that a read still uses is safe: database/sql frees
// it when the read's rows are closed. A statement's rows reset it when
// closed, so a kept statement holds no read transaction open.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	byText map[string]*list.Element // of *cachedStmt
	order  list.List                // most recently used first
	closed bool
}

type cachedStmt struct {
	text string
	stmt *sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, byText: map[string]*list.Element{}}
}

// get returns the prepared statement of text, preparing it when it is
// not kept. Prepared outside the lock (it waits for a connection); of
// two preparing the same text at once, the second is closed.
func (c *stmtCache) get(ctx context.Context, text string) (*sql.Stmt, error) {
	if s := c.lookup(text); s != nil {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		s.Close()
		return nil, errors.New("store closed")
	}
	if e, ok := c.byText[text]; ok {
		s.Close()
		c.order.MoveToFront(e)
		return e.Value.(*cachedStmt).stmt, nil
	}
	c.byText[text] = c.order.PushFront(&cachedStmt{text: text, stmt: s})
	for c.order.Len() > maxStmts {
		e := c.order.Back()
		old := c.order.Remove(e).(*cachedStmt)
		delete(c.byText, old.text)
		old.stmt.Close()
	}
	return s, nil
}

func (c *stmtCache) lookup(text string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byText[text]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedStmt).stmt
}

// close closes every kept statement; later reads prepare their own.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for e := c.order.Front(); e != nil; e = e.Next() {
		e.Value.(*cachedStmt).stmt.Close()
	}
	c.order.Init()
	clear(c.byText)
}
