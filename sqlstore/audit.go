package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// AuditReads are the reads of the audit log both stores answer alike:
// listing entries, verifying the chain and reading its head. Appending
// stays each store's own (SQLite writes its log file through its own
// connection; PostgreSQL takes an advisory lock and copies the rows in).
// sqlite.DB and postgres.DB embed it for its methods.
//
// AuditFilter.Object is answered from the object's stored Seqs: entries
// whose range overlaps them (the audit_scope index), checked one by one
// against their runs, and entries whose objects list names the id (a
// substring search, no side table). Bound such queries by time,
// organisation or action to keep them short.
type AuditReads struct {
	Log     *sql.DB // reads the audit table
	Objects *sql.DB // reads the objects table (the same database on PostgreSQL)
	D       Dialect
}

// AuditEntries returns the entries f selects, oldest first. f.Object
// matches entries concerning any stored version of that object id, by
// their scope or their objects list (a deleted version is found only by
// the latter). A zero Limit returns every entry selected.
func (r AuditReads) AuditEntries(ctx context.Context, f cyberpact.AuditFilter) ([]*cyberpact.AuditEntry, error) {
	a := r.D.Args()
	// A row keeps no Prev since hashes are bytes: it is the hash of the
	// row before.
	q := `SELECT ` + cyberpact.AuditColumns + `, (SELECT p.hash FROM audit p WHERE p.seq = audit.seq - 1) FROM audit WHERE seq > ` + a.Add(f.After)
	if f.Org != 0 {
		// The same as recipient = Org, in the terms of the index of
		// recipients other than the actor's organisation.
		q += ` AND (actor_org = ` + a.Add(f.Org) + ` OR (recipient = ` + a.Add(f.Org) + ` AND recipient <> 0 AND recipient <> actor_org))`
	}
	if f.Action != "" {
		q += ` AND action = ` + a.Add(f.Action)
	}
	if !f.Since.IsZero() {
		q += ` AND time >= ` + a.Add(f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		q += ` AND time <= ` + a.Add(f.Until.UnixMicro())
	}
	var seqs []int64
	if f.Object != "" {
		var err error
		if seqs, err = r.objectSeqs(ctx, f.Object); err != nil {
			return nil, err
		}
		// Each element of objects is the JSON string "id@version": match
		// its start. Scopes overlapping the object's Seqs are checked
		// against their runs below.
		b, _ := json.Marshal(f.Object + "@")
		cond := r.D.Contains("objects", a.Add(strings.TrimSuffix(string(b), `"`)))
		if len(seqs) > 0 {
			cond += ` OR (first_seq <> 0 AND first_seq <= ` + a.Add(seqs[len(seqs)-1]) + ` AND last_seq >= ` + a.Add(seqs[0]) + `)`
		}
		q += ` AND (` + cond + `)`
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 && f.Object == "" {
		q += ` LIMIT ` + a.Add(f.Limit)
	}
	rows, err := r.Log.QueryContext(ctx, q, a.Vals...)
	if err != nil {
		return nil, internal("reading the audit log", err)
	}
	defer rows.Close()
	var out []*cyberpact.AuditEntry
	for rows.Next() {
		var row cyberpact.AuditRow
		var before []byte
		if err := rows.Scan(append(row.Fields(), &before)...); err != nil {
			return nil, internal("reading the audit log", err)
		}
		e, err := row.Entry()
		if err != nil {
			return nil, internal("reading the audit log", err)
		}
		if e.Prev == "" {
			if e.Prev = cyberpact.AuditHashText(before); e.Seq == 1 {
				e.Prev = strings.Repeat("0", 64)
			}
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
	rows.Close()
	if err := r.continueEntries(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// continueEntries fills in the continuations among entries from the
// entries they continue (cyberpact.AuditEntry.Continue).
func (r AuditReads) continueEntries(ctx context.Context, entries []*cyberpact.AuditEntry) error {
	heads := map[int64]*cyberpact.AuditEntry{}
	var want []int64
	for _, e := range entries {
		if e.Scope != nil && e.Scope.Cont != 0 {
			if _, ok := heads[e.Scope.Cont]; !ok {
				heads[e.Scope.Cont] = nil
				want = append(want, e.Scope.Cont)
			}
		}
	}
	for len(want) > 0 {
		n := min(len(want), r.D.chunk())
		a := r.D.Args()
		rows, err := r.Log.QueryContext(ctx, `SELECT `+cyberpact.AuditColumns+` FROM audit WHERE `+a.InInts("seq", want[:n]), a.Vals...)
		if err != nil {
			return internal("reading the audit log", err)
		}
		for row, err := range cyberpact.AuditRowsOf(rows) {
			if err != nil {
				rows.Close()
				return internal("reading the audit log", err)
			}
			if heads[row.Seq], err = row.Entry(); err != nil {
				rows.Close()
				return internal("reading the audit log", err)
			}
		}
		rows.Close()
		want = want[n:]
	}
	for _, e := range entries {
		if e.Scope != nil && e.Scope.Cont != 0 {
			e.Continue(heads[e.Scope.Cont])
		}
	}
	return nil
}

// objectSeqs returns the Seqs of every stored version of id, exercise
// objects included, in increasing order.
func (r AuditReads) objectSeqs(ctx context.Context, id string) ([]int64, error) {
	a := r.D.Args()
	rows, err := r.Objects.QueryContext(ctx, `SELECT seq FROM objects WHERE id = `+a.Add(id)+` ORDER BY seq`, a.Vals...)
	if err != nil {
		return nil, internal("reading an object's versions", err)
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, internal("reading an object's versions", err)
		}
		seqs = append(seqs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading an object's versions", err)
	}
	return seqs, nil
}

// VerifyAudit recomputes the chain from the first entry and returns the
// Seq of the first place it breaks, 0 when it is whole: the first entry
// whose hash does not match its content, whose Prev is not the hash of the
// entry before, or whose Seq is not the one after the entry before (then
// the Seq returned is the missing one: entries were deleted or moved). An
// entry removed from the end leaves a shorter chain that is still whole;
// record the last hash elsewhere (cyberpact audit verify prints it) to
// detect that.
func (r AuditReads) VerifyAudit(ctx context.Context) (int64, error) {
	n, _, err := r.verifyAudit(ctx)
	return n, err
}

// verifyAudit is VerifyAudit that also returns the last entry of a whole
// chain (nil when the log is empty or broken).
func (r AuditReads) verifyAudit(ctx context.Context) (int64, *cyberpact.AuditEntry, error) {
	rows, err := r.Log.QueryContext(ctx, `SELECT `+cyberpact.AuditColumns+` FROM audit ORDER BY seq`)
	if err != nil {
		return 0, nil, internal("reading the audit log", err)
	}
	defer rows.Close()
	broken, last, err := cyberpact.VerifyAuditChain(cyberpact.AuditRowsOf(rows))
	if err != nil {
		return 0, nil, internal("reading the audit log", err)
	}
	return broken, last, nil
}

// AuditHead returns the number of entries in a whole audit log and the
// hash of the last one, which a careful operator records elsewhere: a log
// cut short at its end still verifies, but no longer ends in that hash.
// Returns the Seq of the first broken entry instead when the chain is
// broken.
func (r AuditReads) AuditHead(ctx context.Context) (entries int64, hash string, broken int64, err error) {
	broken, last, err := r.verifyAudit(ctx)
	if err != nil || broken != 0 || last == nil {
		return 0, "", broken, err
	}
	return last.Seq, last.Hash, 0, nil
}
