package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/cyberpact/cyberpact"
)

// An import's audit entry (cyberpact.ImportOptions.Audit) is written into
// its row of imports, in the import's transaction, so that it commits with
// the objects: the audit log is another file, and a commit across two
// files is not atomic. Once committed the entry is appended to the log;
// the row's copy is cleared in the next import's transaction. An entry
// whose append failed, or that a crash left behind, is appended when the
// store opens or after the next import, unless the log already holds it
// (a write entry with the same range of Seqs: the crash came between the
// append and the clearing).
//
// The same import answers as stored when its objects committed but the
// search index's commit failed: the index catches up at the start of the
// next import (or at the next Open), as after a crash.

// outbox is what the store still owes the audit log and the search index.
// It is used with the write lock held.
type outbox struct {
	done    []int64 // imports (their last Seq) whose entry is in the log, to clear
	pending bool    // an entry's append failed: append the outbox again
	reindex bool    // the search index's commit failed: index what it missed
}

// clear empties, in tx, the copies of the entries already in the log,
// and returns how many of done it cleared, for cleared once tx commits.
func (o *outbox) clear(ctx context.Context, tx *sql.Tx) (int, error) {
	if len(o.done) == 0 {
		return 0, nil
	}
	args := make([]any, len(o.done))
	for i, s := range o.done {
		args[i] = s
	}
	if _, err := tx.ExecContext(ctx, `UPDATE imports SET audit = '' WHERE last_seq IN (`+placeholders(len(args))+`)`, args...); err != nil {
		return 0, internal("clearing appended audit entries", err)
	}
	return len(o.done), nil
}

// cleared forgets the first n of done, cleared by a committed transaction.
func (o *outbox) cleared(n int) { o.done = o.done[n:] }

// append appends e, the entry of the import that ended at Seq last and has
// just committed, to db's log. A failure leaves the entry to be appended
// later; the import stays answered as stored.
func (o *outbox) append(ctx context.Context, db *DB, e *cyberpact.AuditEntry, last int64) {
	if err := db.Audit(context.WithoutCancel(ctx), e); err != nil {
		o.pending = true
		return
	}
	o.done = append(o.done, last)
}

// catchUp, at the start of an import, indexes what a failed index commit
// missed and appends entries a failed append left behind.
func (db *DB) catchUp(ctx context.Context) error {
	if db.outbox.reindex {
		if err := db.reindexLocked(ctx); err != nil {
			return err
		}
		db.outbox.reindex = false
	}
	if db.outbox.pending {
		if err := db.appendOutboxLocked(ctx); err != nil {
			return err
		}
	}
	return nil
}

// appendOutbox appends to the log every entry still kept in imports that
// the log does not hold, and clears them.
func (db *DB) appendOutbox(ctx context.Context) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return db.appendOutboxLocked(ctx)
}

func (db *DB) appendOutboxLocked(ctx context.Context) error {
	rows, err := db.write.QueryContext(ctx, `SELECT last_seq, audit FROM imports WHERE audit <> '' ORDER BY last_seq`)
	if err != nil {
		return internal("reading imports' audit entries", err)
	}
	type kept struct {
		last  int64
		entry cyberpact.AuditEntry
	}
	var all []kept
	for rows.Next() {
		var k kept
		var text string
		if err := rows.Scan(&k.last, &text); err != nil {
			rows.Close()
			return internal("reading imports' audit entries", err)
		}
		if err := json.Unmarshal([]byte(text), &k.entry); err != nil {
			rows.Close()
			return internal("decoding an import's audit entry", err)
		}
		all = append(all, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal("reading imports' audit entries", err)
	}
	if len(all) == 0 {
		db.outbox.pending = false
		return nil
	}
	args := make([]any, 0, len(all))
	for _, k := range all {
		e := &k.entry
		var n int
		err := db.audit.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit WHERE first_seq = ? AND last_seq = ? AND action = ?`,
			e.Scope.First, e.Scope.Last, cyberpact.AuditWrite).Scan(&n)
		if err != nil {
			return internal("reading the audit log", err)
		}
		if n == 0 {
			if err := db.Audit(ctx, e); err != nil {
				return internal("appending an import's audit entry", err)
			}
		}
		args = append(args, k.last)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE imports SET audit = '' WHERE last_seq IN (`+placeholders(len(args))+`)`, args...); err != nil {
		return internal("clearing appended audit entries", err)
	}
	db.outbox.pending, db.outbox.done = false, nil
	return nil
}
