package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ensure DB implements the audit log.
var _ cyberpact.AuditLog = (*DB)(nil)

// The audit log is one table. Appending takes the audit lock (a
// transaction-scoped advisory lock, one per schema), reads the chain's
// head, inserts the entries chained to it and commits: processes sharing
// the database build one chain, and seqs are contiguous. Each entry's Hash
// is cyberpact.AuditHash, the encoding the SQLite store uses too, so a log
// verifies the same wherever it is kept.
//
// Appends are group-committed: Audit queues its entries for one appender
// goroutine per process, which writes everything queued in one transaction
// and then acknowledges each caller. Account changes append their entry in
// their own transaction instead, so a change and its entry commit together
// or not at all.
//
// Writes and releases name their versions by Seqs (cyberpact.AuditScope)
// in first_seq, last_seq, scope and runs, the columns the SQLite store
// keeps, encoded alike (cyberpact.AuditScopeColumns); AuditFilter.Object
// is answered the same way too: entries whose range overlaps the object's
// stored Seqs (audit_scope), checked against their runs, and entries whose
// objects list names the id (strpos, no side table).

// zeroHash is the Prev of the first entry.
var zeroHash = strings.Repeat("0", 64)

// auditBatch caps the entries written in one transaction.
const auditBatch = 4096

type auditLog struct {
	pool   *pgxpool.Pool
	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *auditReq
	done   chan struct{} // closed when the appender has written everything queued
}

// auditReq is one call of Audit waiting for its entries to be committed,
// with each entry's Objects and Scope already encoded.
type auditReq struct {
	entries []*cyberpact.AuditEntry
	rows    []auditRow
	done    chan error
}

// auditRow is what is stored of an entry's Objects and Scope.
type auditRow struct {
	objects     string
	first, last int64
	scope       string
	runs        []byte
}

// auditScopeDDL adds the scope's columns to a log made before them. It
// runs on open under the migration lock, after the migrations.
const auditScopeDDL = `
ALTER TABLE audit ADD COLUMN IF NOT EXISTS first_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS last_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN IF NOT EXISTS runs bytea;
CREATE INDEX IF NOT EXISTS audit_scope ON audit (first_seq, last_seq) WHERE first_seq <> 0;
`

// migrateAudit gives the audit table the scope's columns when it has not
// got them yet (they came after the numbered migrations of this table).
func migrateAudit(ctx context.Context, pool *pgxpool.Pool) error {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'audit' AND column_name = 'runs'`).Scan(&n); err != nil {
		return fmt.Errorf("reading the audit table's columns: %w", err)
	}
	if n > 0 {
		return nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, lockSQL(lockMigrate)); err != nil {
		return fmt.Errorf("locking for migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, auditScopeDDL); err != nil {
		return fmt.Errorf("adding the audit scope's columns: %w", err)
	}
	return tx.Commit(ctx)
}

func startAudit(pool *pgxpool.Pool) *auditLog {
	a := &auditLog{pool: pool, queue: make(chan *auditReq, 1024), done: make(chan struct{})}
	go a.appender()
	return a
}

// close writes what is queued and stops the appender.
func (a *auditLog) close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	<-a.done
}

// Audit appends entries to the audit log, chaining each to the one before,
// and returns once they are committed. It is safe for concurrent use;
// concurrent calls share transactions. Seq, Prev and Hash are set on the
// entries; a zero Time is set to the time of the append, and every Time is
// kept to the microsecond. Returns EINVALID for an entry without action or
// actor, or with text that is not UTF-8 or holds NUL.
func (db *DB) Audit(ctx context.Context, entries ...*cyberpact.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	req, err := newAuditReq(entries)
	if err != nil {
		return err
	}
	a := db.audit
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return internal("appending to the audit log", errors.New("store closed"))
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

// newAuditReq checks entries and encodes their objects.
func newAuditReq(entries []*cyberpact.AuditEntry) (*auditReq, error) {
	for i, e := range entries {
		if err := e.Check(); err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "audit entry %d: %s", i, err)
		}
	}
	req := &auditReq{entries: entries, rows: make([]auditRow, len(entries)), done: make(chan error, 1)}
	for i, e := range entries {
		r := &req.rows[i]
		if len(e.Objects) > 0 {
			b, err := json.Marshal(e.Objects)
			if err != nil {
				return nil, internal("encoding audit objects", err)
			}
			r.objects = string(b)
		}
		var err error
		if r.first, r.last, r.scope, r.runs, err = cyberpact.AuditScopeColumns(e.Scope); err != nil {
			return nil, internal("encoding an audit scope", err)
		}
	}
	return req, nil
}

// appender writes queued requests, as many as are waiting (up to
// auditBatch entries) per transaction, until the queue is closed.
func (a *auditLog) appender() {
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
		err := a.write(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// write appends the batch in its own transaction.
func (a *auditLog) write(batch []*auditReq) error {
	ctx := context.Background()
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		return internal("appending to the audit log", err)
	}
	defer tx.Rollback(ctx)
	set, err := appendAudit(ctx, tx, batch)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return internal("committing the audit log", err)
	}
	set()
	return nil
}

// appendAudit appends the batch's entries inside tx, under the audit lock
// (held until tx ends). It returns the function that sets Seq, Time, Prev
// and Hash on the entries, to call once tx has committed.
func appendAudit(ctx context.Context, tx pgx.Tx, batch []*auditReq) (func(), error) {
	if _, err := tx.Exec(ctx, lockSQL(lockAudit)); err != nil {
		return nil, internal("taking the audit lock", err)
	}
	var seq int64
	prev := zeroHash
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, internal("reading the audit log's head", err)
	}
	var done []cyberpact.AuditEntry
	var rows [][]any
	now := time.Now()
	for _, r := range batch {
		for i, e := range r.entries {
			t := e.Time
			if t.IsZero() {
				t = now
			}
			seq++
			c := *e
			c.Seq, c.Time, c.Prev = seq, time.UnixMicro(t.UnixMicro()).UTC(), prev
			c.Hash = cyberpact.AuditHash(&c)
			row := r.rows[i]
			rows = append(rows, []any{seq, c.Time.UnixMicro(), e.Action, e.Actor, e.ActorOrg, e.Recipient, e.Via, row.objects, e.Detail, prev, c.Hash,
				row.first, row.last, row.scope, row.runs})
			done = append(done, c)
			prev = c.Hash
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit"}, strings.Split(auditColumns, ", "), pgx.CopyFromRows(rows)); err != nil {
		return nil, internal("appending to the audit log", err)
	}
	return func() {
		i := 0
		for _, r := range batch {
			for _, e := range r.entries {
				d := done[i]
				e.Seq, e.Time, e.Prev, e.Hash = d.Seq, d.Time, d.Prev, d.Hash
				i++
			}
		}
	}, nil
}

const auditColumns = `seq, time, action, actor, actor_org, recipient, via, objects, detail, prev, hash, first_seq, last_seq, scope, runs`

// scanAudit reads one row of auditColumns. A row whose objects or scope
// do not decode is returned with the error.
func scanAudit(rows pgx.Rows) (*cyberpact.AuditEntry, error) {
	var e cyberpact.AuditEntry
	var t int64
	var row auditRow
	if err := rows.Scan(&e.Seq, &t, &e.Action, &e.Actor, &e.ActorOrg, &e.Recipient, &e.Via, &row.objects, &e.Detail, &e.Prev, &e.Hash,
		&row.first, &row.last, &row.scope, &row.runs); err != nil {
		return nil, err
	}
	e.Time = time.UnixMicro(t).UTC()
	if row.objects != "" {
		if err := json.Unmarshal([]byte(row.objects), &e.Objects); err != nil {
			return &e, fmt.Errorf("audit entry %d: objects: %w", e.Seq, err)
		}
	}
	sc, err := cyberpact.AuditScopeOf(row.first, row.last, row.scope, row.runs)
	if err != nil {
		return &e, fmt.Errorf("audit entry %d: %w", e.Seq, err)
	}
	e.Scope = sc
	return &e, nil
}

// AuditEntries returns the entries f selects, oldest first. f.Object
// matches entries concerning any stored version of that object id, by
// their scope or their objects list (a deleted version is found only by
// the latter). A zero Limit returns every entry selected.
func (db *DB) AuditEntries(ctx context.Context, f cyberpact.AuditFilter) ([]*cyberpact.AuditEntry, error) {
	var a args
	q := `SELECT ` + auditColumns + ` FROM audit WHERE seq > ` + a.add(f.After)
	if f.Org != 0 {
		p := a.add(f.Org)
		q += ` AND (actor_org = ` + p + ` OR recipient = ` + p + `)`
	}
	if f.Action != "" {
		q += ` AND action = ` + a.add(f.Action)
	}
	if !f.Since.IsZero() {
		q += ` AND time >= ` + a.add(f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		q += ` AND time <= ` + a.add(f.Until.UnixMicro())
	}
	var seqs []int64
	if f.Object != "" {
		if err := db.pool.QueryRow(ctx, `SELECT COALESCE(array_agg(seq ORDER BY seq), '{}') FROM objects WHERE id = $1`, f.Object).Scan(&seqs); err != nil {
			return nil, internal("reading an object's versions", err)
		}
		// Each element of objects is the JSON string "id@version": match
		// its start. Scopes overlapping the object's Seqs are checked
		// against their runs below.
		b, _ := json.Marshal(f.Object + "@")
		cond := `strpos(objects, ` + a.add(strings.TrimSuffix(string(b), `"`)) + `) > 0`
		if len(seqs) > 0 {
			cond += ` OR (first_seq <> 0 AND first_seq <= ` + a.add(seqs[len(seqs)-1]) + ` AND last_seq >= ` + a.add(seqs[0]) + `)`
		}
		q += ` AND (` + cond + `)`
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 && f.Object == "" {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	rows, err := db.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, internal("reading the audit log", err)
	}
	defer rows.Close()
	var out []*cyberpact.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, internal("reading the audit log", err)
		}
		if f.Object != "" && !e.Concerns(f.Object, seqs) {
			continue
		}
		out = append(out, e)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading the audit log", err)
	}
	return out, nil
}

// VerifyAudit recomputes the chain from the first entry and returns the
// Seq of the first place it breaks, 0 when it is whole: the first entry
// whose hash does not match its content, whose Prev is not the hash of the
// entry before, or whose Seq is not the one after the entry before (then
// the Seq returned is the missing one). An entry removed from the end
// leaves a shorter chain that is still whole; AuditHead gives the hash to
// record elsewhere to detect that.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	n, _, err := db.verifyAudit(ctx)
	return n, err
}

// verifyAudit is VerifyAudit that also returns the last entry of a whole
// chain (nil when the log is empty or broken).
func (db *DB) verifyAudit(ctx context.Context) (int64, *cyberpact.AuditEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY seq`)
	if err != nil {
		return 0, nil, internal("reading the audit log", err)
	}
	defer rows.Close()
	want := int64(1)
	prev := zeroHash
	var last *cyberpact.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if e == nil {
			return 0, nil, internal("reading the audit log", err)
		}
		switch {
		case e.Seq != want:
			return want, nil, nil
		case err != nil, e.Prev != prev, cyberpact.AuditHash(e) != e.Hash:
			return e.Seq, nil, nil
		}
		prev = e.Hash
		want++
		last = e
	}
	if err := rows.Err(); err != nil {
		return 0, nil, internal("reading the audit log", err)
	}
	return 0, last, nil
}

// AuditHead returns the number of entries in a whole audit log and the
// hash of the last one, which a careful operator records elsewhere.
// Returns the Seq of the first broken entry instead when the chain is
// broken.
func (db *DB) AuditHead(ctx context.Context) (entries int64, hash string, broken int64, err error) {
	broken, last, err := db.verifyAudit(ctx)
	if err != nil || broken != 0 || last == nil {
		return 0, "", broken, err
	}
	return last.Seq, last.Hash, 0, nil
}
