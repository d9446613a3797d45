package cyberpact

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"
)

// What every store's audit log shares: the row it keeps of an entry, the
// chaining of appended entries, the check of the chain and the group
// commit of appends. A store supplies only the SQL that reads the chain's
// head and inserts rows, in one transaction.

// AuditColumns are the columns of the audit table, the same in every
// store, in the order of AuditRow.Values and AuditRow.Fields.
const AuditColumns = "seq, time, action, actor, actor_org, recipient, via, objects, detail, prev, hash, first_seq, last_seq, scope, runs"

// AuditRow is an audit entry as a store keeps it: Time in unix
// microseconds, Objects as a JSON array ("" for none), the scope in
// First, Last, Scope and Runs (see AuditScopeColumns), a continuation
// without what it takes from the entry it continues (AuditScope.Cont).
//
// Hash is the entry's SHA-256, 32 bytes, and Prev is empty: the hash of
// the entry before is that entry's Hash. Rows written before hashes were
// kept as bytes hold both in hex (64 characters), and are read and
// verified as they are.
type AuditRow struct {
	Seq, Time           int64
	Action, Actor       string
	ActorOrg, Recipient int64
	Via, Objects        string
	Detail, Prev        string
	Hash                []byte
	First, Last         int64
	Scope               string
	Runs                []byte
}

// hashText is a stored hash as AuditEntry keeps it, hex: 32 bytes are
// encoded, anything else (a row written before hashes were bytes holds 64
// hex characters) is taken as it is.
func hashText(b []byte) string {
	if len(b) == 32 {
		return hex.EncodeToString(b)
	}
	return string(b)
}

// AuditHashText is a hash read from a store's hash column, as AuditEntry
// and ChainAudit take it: hex.
func AuditHashText(b []byte) string { return hashText(b) }

// hashBytes is the inverse of hashText for a hash AuditHash returned.
func hashBytes(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		return []byte(h)
	}
	return b
}

// Values returns the row's values in the order of AuditColumns.
func (r *AuditRow) Values() []any {
	return []any{r.Seq, r.Time, r.Action, r.Actor, r.ActorOrg, r.Recipient, r.Via, r.Objects, r.Detail, r.Prev, r.Hash, r.First, r.Last, r.Scope, r.Runs}
}

// Fields returns pointers to the row's fields in the order of
// AuditColumns, to scan a row into.
func (r *AuditRow) Fields() []any {
	return []any{&r.Seq, &r.Time, &r.Action, &r.Actor, &r.ActorOrg, &r.Recipient, &r.Via, &r.Objects, &r.Detail, &r.Prev, &r.Hash, &r.First, &r.Last, &r.Scope, &r.Runs}
}

// Entry decodes the row. A row whose objects or scope do not decode is
// returned with the error, as far as it was read. Prev is the row's own
// (rows written before hashes were bytes), else empty: the caller knows
// the entry before. A continuation comes without what it takes from the
// entry it continues (see AuditEntry.Continue).
func (r *AuditRow) Entry() (*AuditEntry, error) {
	e := &AuditEntry{Seq: r.Seq, Time: time.UnixMicro(r.Time).UTC(), Action: r.Action, Actor: r.Actor, ActorOrg: r.ActorOrg,
		Recipient: r.Recipient, Via: r.Via, Detail: r.Detail, Prev: r.Prev, Hash: hashText(r.Hash)}
	if r.Objects != "" {
		if err := json.Unmarshal([]byte(r.Objects), &e.Objects); err != nil {
			return e, fmt.Errorf("audit entry %d: objects: %w", r.Seq, err)
		}
	}
	sc, err := AuditScopeOf(r.First, r.Last, r.Scope, r.Runs)
	if err != nil {
		return e, fmt.Errorf("audit entry %d: %w", r.Seq, err)
	}
	e.Scope = sc
	return e, nil
}

// auditZeroHash is the Prev of the first entry.
var auditZeroHash = strings.Repeat("0", 64)

// ChainAudit chains entries after the head of a log, the Seq and Hash of
// its last entry (0 and "" for an empty log): each gets the next Seq, the
// Hash before it as Prev, a Time (now when zero, every Time kept to the
// microsecond) and its Hash. It returns the rows to insert and the
// function that sets Seq, Time, Prev and Hash on the entries, to call once
// the rows are committed; the entries are left as they are until then.
func ChainAudit(seq int64, prev string, entries []*AuditEntry, now time.Time) ([]AuditRow, func(), error) {
	if prev == "" {
		prev = auditZeroHash
	}
	rows := make([]AuditRow, len(entries))
	chained := make([]AuditEntry, len(entries))
	for i, e := range entries {
		t := e.Time
		if t.IsZero() {
			t = now
		}
		seq++
		c := *e
		c.Seq, c.Time, c.Prev = seq, time.UnixMicro(t.UnixMicro()).UTC(), prev
		c.Hash = AuditHash(&c)
		s := e.stored()
		r := AuditRow{Seq: seq, Time: c.Time.UnixMicro(), Action: s.Action, Actor: s.Actor, ActorOrg: s.ActorOrg, Recipient: s.Recipient,
			Via: s.Via, Detail: s.Detail, Hash: hashBytes(c.Hash)}
		if len(e.Objects) > 0 {
			b, err := json.Marshal(e.Objects)
			if err != nil {
				return nil, nil, err
			}
			r.Objects = string(b)
		}
		var err error
		if r.First, r.Last, r.Scope, r.Runs, err = AuditScopeColumns(e.Scope); err != nil {
			return nil, nil, err
		}
		rows[i], chained[i] = r, c
		prev = c.Hash
	}
	return rows, func() {
		for i, e := range entries {
			c := &chained[i]
			e.Seq, e.Time, e.Prev, e.Hash = c.Seq, c.Time, c.Prev, c.Hash
		}
	}, nil
}

// AuditRows is what both stores' row cursors offer (database/sql's and
// pgx's).
type AuditRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// AuditRowsOf yields the rows of a query of AuditColumns, for
// VerifyAuditChain.
func AuditRowsOf(rows AuditRows) iter.Seq2[*AuditRow, error] {
	return func(yield func(*AuditRow, error) bool) {
		for rows.Next() {
			var r AuditRow
			if err := rows.Scan(r.Fields()...); err != nil {
				yield(nil, err)
				return
			}
			if !yield(&r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// VerifyAuditChain checks a log's rows, read in Seq order, and returns the
// Seq of the first place the chain breaks, 0 when it is whole: the first
// entry whose hash does not match its content (or whose content does not
// decode), whose Prev is not the hash of the entry before, or whose Seq is
// not the one after the entry before (then the Seq returned is the missing
// one: entries were deleted or moved). It also returns the last entry of a
// whole chain (nil when the log is empty or broken). An error reading the
// rows ends the check and is returned.
func VerifyAuditChain(rows iter.Seq2[*AuditRow, error]) (int64, *AuditEntry, error) {
	want := int64(1)
	prev := auditZeroHash
	var last *AuditEntry
	for r, err := range rows {
		if err != nil {
			return 0, nil, err
		}
		e, err := r.Entry()
		if r.Prev == "" {
			e.Prev = prev // the row keeps no Prev: it is the hash before
		}
		switch {
		case e.Seq != want:
			return want, nil, nil
		case err != nil, e.Prev != prev, AuditHash(e) != e.Hash:
			return e.Seq, nil, nil
		}
		prev = e.Hash
		want++
		last = e
	}
	return 0, last, nil
}

// auditBatch caps the entries an AuditAppender writes in one transaction.
const auditBatch = 4096

// AuditAppender group-commits appends to an audit log: Append queues its
// entries for one goroutine, which takes everything queued (up to 4,096
// entries) and hands it to the store's write function in one call, then
// acknowledges each caller with its outcome. Many concurrent callers share
// one transaction and one flush to disk.
//
// A release whose reading is that of a release the appender wrote before
// (the same actor, recipient, interface, groups, path and query: the next
// page of a TAXII reading) is written as a continuation naming that entry
// (AuditScope.Cont), which Append sets on the caller's entry.
type AuditAppender struct {
	write  func(entries []*AuditEntry) error
	heads  map[string]int64 // releaseReading of a full release entry written: its Seq
	mu     sync.RWMutex     // guards closed against sends on queue
	closed bool
	queue  chan *auditReq
	done   chan struct{} // closed when everything queued is written
}

// auditReq is one call of Append waiting for its entries to be committed.
type auditReq struct {
	entries []*AuditEntry
	done    chan error
}

// NewAuditAppender starts the appender of a store. write appends the
// entries in one transaction, chained after the log's head (ChainAudit),
// and sets their Seq, Time, Prev and Hash once committed.
func NewAuditAppender(write func(entries []*AuditEntry) error) *AuditAppender {
	a := &AuditAppender{write: write, heads: map[string]int64{}, queue: make(chan *auditReq, 1024), done: make(chan struct{})}
	go a.run()
	return a
}

// Append appends entries and returns once they are committed. It is safe
// for concurrent use. Returns EINVALID for an entry Check refuses, and
// EINTERNAL once the appender is closed. Once queued, entries are written
// even if ctx ends meanwhile; Append then still waits for them.
func (a *AuditAppender) Append(ctx context.Context, entries ...*AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i, e := range entries {
		if err := e.Check(); err != nil {
			return Errorf(EINVALID, "audit entry %d: %s", i, err)
		}
	}
	req := &auditReq{entries: entries, done: make(chan error, 1)}
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return &Error{Code: EINTERNAL, Message: "appending to the audit log", Err: errors.New("store closed")}
	}
	select {
	case a.queue <- req:
	case <-ctx.Done():
		a.mu.RUnlock()
		return ctx.Err()
	}
	a.mu.RUnlock()
	return <-req.done
}

// Close writes what is queued and stops the appender.
func (a *AuditAppender) Close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	<-a.done
}

func (a *AuditAppender) run() {
	defer close(a.done)
	for req := range a.queue {
		batch := []*auditReq{req}
		n := len(req.entries)
	more:
		for n < auditBatch {
			select {
			case r, ok := <-a.queue:
				if !ok {
					break more
				}
				batch = append(batch, r)
				n += len(r.entries)
			default:
				break more
			}
		}
		entries := make([]*AuditEntry, 0, n)
		for _, r := range batch {
			entries = append(entries, r.entries...)
		}
		err := a.writeContinued(entries)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// maxAuditHeads bounds the readings an appender remembers; past it, it
// forgets them all and starts again with full entries.
const maxAuditHeads = 10000

// writeContinued writes entries, those continuing a reading written
// before as continuations, and once they are committed remembers the
// readings of the full release entries among them.
func (a *AuditAppender) writeContinued(entries []*AuditEntry) error {
	out := entries
	var conts map[int]*AuditEntry // index in entries: the continuation written instead
	for i, e := range entries {
		head, ok := a.heads[releaseReading(e)]
		if !ok {
			continue
		}
		if conts == nil {
			out = slices.Clone(entries)
			conts = map[int]*AuditEntry{}
		}
		c, sc := *e, *e.Scope
		sc.Cont = head
		c.Scope = &sc
		out[i], conts[i] = &c, &c
	}
	if err := a.write(out); err != nil {
		return err
	}
	for i, c := range conts {
		e := entries[i]
		e.Seq, e.Time, e.Prev, e.Hash = c.Seq, c.Time, c.Prev, c.Hash
		e.Scope.Cont = c.Scope.Cont
	}
	for _, e := range entries {
		if k := releaseReading(e); k != "" {
			if len(a.heads) >= maxAuditHeads {
				clear(a.heads)
			}
			a.heads[k] = e.Seq
		}
	}
	return nil
}
