package http

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cyberpact/cyberpact"
)

// TAXII read-ahead. A client paging through a collection asks for the
// next page as soon as it has this one's cursor, and then waits while the
// server reads that page. When the store can prove a read unchanged
// (cyberpact.SnapshotStore), the server starts reading the next page as
// soon as it has a page's cursor, while it audits and sends that page and
// the client takes it in, and keeps it for the client's next request. That
// request is then served the page read ahead only if the key of its read
// is the same (the caller, its whole viewer, the collection and the whole
// filter, cursor included) and the store proves that nothing was
// committed since the read began: the page is then the one a read now
// returns. Otherwise it is dropped and the page read as usual. Everything
// else (authentication, the cursor's check, the audit entry of the page
// released, the next cursor, headers) is done for the request as without
// read-ahead, so the answer is byte for byte the same.
//
// The embedded store proves a read unchanged (sqlite/snapshot.go);
// PostgreSQL does not try: the one change check it offers, its snapshot
// (pg_current_snapshot), moves with every transaction of the cluster, the
// audit entry of each page another reader is served included, so with
// several readers a page read ahead would seldom be served and the reads
// would be made twice.
//
// Bounds: at most readAheadMax pages kept or being read, readAheadPerUser
// of them for one user (past either, the oldest page kept, of the user
// when it is the user's bound, makes room, or none is read ahead when all
// are being read); pages kept hold at most readAheadBytes in all and
// readAheadUserBytes for one user (a page over either is dropped once
// read); a page not asked for within readAheadTTL is dropped.
const (
	readAheadMax       = 8
	readAheadPerUser   = 2
	readAheadBytes     = 64 << 20
	readAheadUserBytes = 16 << 20
	readAheadTTL       = 30 * time.Second
)

// readAhead keeps the pages read ahead.
type readAhead struct {
	store  cyberpact.SnapshotStore
	ctx    context.Context // ended when the server shuts down
	cancel context.CancelFunc
	wg     sync.WaitGroup // the reads under way
	metric func(outcome string)
	off    atomic.Bool // no page is read ahead (benchmarks compare)
	counts sync.Map    // outcome -> *atomic.Int64: what became of the pages read ahead

	mu    sync.Mutex
	pages map[string]*aheadPage
	bytes int64            // of the pages read and kept
	users map[int64]*usage // by user id
}

type usage struct {
	pages int
	bytes int64
}

// aheadPage is a page being read, then read, for one key.
type aheadPage struct {
	key   string
	user  int64
	done  chan struct{} // closed once the read ended
	page  *cyberpact.ObjectPage
	snap  cyberpact.Snapshot
	size  int64
	read  time.Time   // when the read ended
	timer *time.Timer // set once the page is read and kept: it drops it at readAheadTTL
}

// newReadAhead returns the read-ahead over store, or nil when the store
// cannot prove a read unchanged.
func newReadAhead(store cyberpact.ObjectStore, count func(outcome string)) *readAhead {
	ss, ok := store.(cyberpact.SnapshotStore)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &readAhead{store: ss, ctx: ctx, cancel: cancel, metric: count, pages: map[string]*aheadPage{}, users: map[int64]*usage{}}
}

// count counts a page read ahead that had outcome (served, changed,
// dropped, evicted, expired).
func (ra *readAhead) count(outcome string) {
	n, _ := ra.counts.LoadOrStore(outcome, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	ra.metric(outcome)
}

// aheadKey is the key of a read of f by p in collection: everything the
// page depends on but the store's state.
func aheadKey(p *cyberpact.Principal, collection string, f cyberpact.ObjectFilter) (string, bool) {
	b, err := json.Marshal(struct {
		User, Org  int64
		Groups     []int64
		Collection string
		Filter     cyberpact.ObjectFilter
	}{p.User.ID, p.Org.ID, p.Groups, collection, f})
	return string(b), err == nil
}

// start reads the page of f for p in collection ahead, unless the bounds
// are reached or it is being read already.
func (ra *readAhead) start(p *cyberpact.Principal, collection string, f cyberpact.ObjectFilter) {
	if ra == nil || p == nil || ra.off.Load() {
		return
	}
	key, ok := aheadKey(p, collection, f)
	if !ok {
		return
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.ctx.Err() != nil || ra.pages[key] != nil {
		return
	}
	// At a bound, the user's (else anyone's) oldest page read and not
	// taken makes room; pages being read are left to finish.
	for {
		mine := ra.users[p.User.ID] != nil && ra.users[p.User.ID].pages >= readAheadPerUser
		if !mine && len(ra.pages) < readAheadMax {
			break
		}
		var oldest *aheadPage
		for _, ap := range ra.pages {
			if ap.timer != nil && (!mine || ap.user == p.User.ID) && (oldest == nil || ap.read.Before(oldest.read)) {
				oldest = ap
			}
		}
		if oldest == nil {
			return
		}
		ra.drop(oldest)
		ra.count("evicted")
	}
	u := ra.users[p.User.ID]
	if u == nil {
		u = &usage{}
		ra.users[p.User.ID] = u
	}
	u.pages++
	ap := &aheadPage{key: key, user: p.User.ID, done: make(chan struct{})}
	ra.pages[key] = ap
	ra.wg.Add(1)
	go func() {
		defer ra.wg.Done()
		defer close(ap.done)
		page, snap, err := ra.store.FindEnvelopeSnapshot(ra.ctx, f)
		ra.mu.Lock()
		defer ra.mu.Unlock()
		if ra.pages[key] != ap {
			return // dropped meanwhile
		}
		u := ra.users[ap.user] // there while ap is
		size := pageSize(page)
		if err != nil || snap == "" || ra.bytes+size > readAheadBytes || u.bytes+size > readAheadUserBytes {
			ra.drop(ap)
			ra.count("dropped")
			return
		}
		ap.page, ap.snap, ap.size, ap.read = page, snap, size, time.Now()
		ra.bytes += size
		u.bytes += size
		ap.timer = time.AfterFunc(readAheadTTL, func() {
			ra.mu.Lock()
			defer ra.mu.Unlock()
			if ra.pages[key] == ap {
				ra.drop(ap)
				ra.count("expired")
			}
		})
	}()
}

// drop forgets ap; ra.mu is held.
func (ra *readAhead) drop(ap *aheadPage) {
	delete(ra.pages, ap.key)
	u := ra.users[ap.user]
	u.pages--
	u.bytes -= ap.size
	ra.bytes -= ap.size
	if u.pages == 0 {
		delete(ra.users, ap.user)
	}
	if ap.timer != nil {
		ap.timer.Stop()
	}
}

// take returns the page read ahead for a read of f by p in collection,
// waiting for its read when it is under way, if the store proves that
// nothing was committed since it was read; else nil, and the page is
// dropped. A page is taken once.
func (ra *readAhead) take(ctx context.Context, p *cyberpact.Principal, collection string, f cyberpact.ObjectFilter) *cyberpact.ObjectPage {
	if ra == nil || p == nil {
		return nil
	}
	key, ok := aheadKey(p, collection, f)
	if !ok {
		return nil
	}
	ra.mu.Lock()
	ap := ra.pages[key]
	ra.mu.Unlock()
	if ap == nil {
		return nil
	}
	select {
	case <-ap.done:
	case <-ctx.Done():
		return nil
	}
	ra.mu.Lock()
	if ra.pages[key] != ap {
		ra.mu.Unlock()
		return nil // dropped (a failed read, the bounds, expiry) or taken
	}
	ra.drop(ap)
	ra.mu.Unlock()
	if !ra.store.Unchanged(ctx, ap.snap) {
		ra.count("changed")
		return nil
	}
	ra.count("served")
	return ap.page
}

// close ends the reads under way, waits for them and drops every page.
func (ra *readAhead) close() {
	if ra == nil {
		return
	}
	// Under the lock, so that a start either sees the end or is
	// counted before the wait.
	ra.mu.Lock()
	ra.cancel()
	ra.mu.Unlock()
	ra.wg.Wait()
	ra.mu.Lock()
	defer ra.mu.Unlock()
	for _, ap := range ra.pages {
		ra.drop(ap)
	}
}

// pageSize is about the memory a page holds: its objects' JSON.
func pageSize(p *cyberpact.ObjectPage) int64 {
	if p == nil {
		return 0
	}
	var n int64
	for _, o := range p.Objects {
		n += int64(len(o.Raw)) + 256
	}
	return n
}
