package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/cyberpact/cyberpact/stix"
)

// Ensure DB implements the store interface.
var _ cyberpact.ObjectStore = (*DB)(nil)

// importBatch is how many objects one multi-row statement writes. Such a
// statement copies each page it first changes into a statement journal,
// once per statement: with 64 KiB pages, batches of 512 made a
// million-object import 6-8% faster than batches of 128, and larger ones
// slower again. (Bulk mode's statements need no journal: see
// importer.append.)
const importBatch = 512

// importBatchBytes also ends a batch once its bodies reach it, so that
// the objects held for one statement (a body, its text and its values
// each) stay a few megabytes however large they are: 512 objects of 100
// KB would be 150 MB of live heap, which the collector doubles. Batches of
// the small objects most bundles hold end at the count, as before.
const importBatchBytes = 4 << 20

// maxRefRows is how many relationship links one statement writes at most,
// well under SQLite's limit of 32,766 bound values (a sighting may name
// thousands of places).
const maxRefRows = 4096

// storedCols are the columns an import writes besides seq, in the order
// of rowArgs.
const storedCols = `holding, id, version, type, added, revoked, producer, aud_kind, aud_group, tlp, marks, body, sum, sole`

// storedN is the number of storedCols.
const storedN = 14

// rowArgs appends the values of storedCols for o, added at added; sole
// says that no other version of its id is stored (see soles), and is the
// last, where soles finds it.
func rowArgs(args []any, o *cyberpact.Object, added int64, sole bool) []any {
	r := o.Release
	return append(args, o.Holding, o.ID, o.Modified, o.Type, added, o.Revoked, r.Producer, int(r.Audience.Kind), r.Audience.Group, int(r.TLP), string(r.Marks), []byte(o.Raw), cyberpact.BodySum(o.Raw), sole)
}

// soles keeps the sole flag of one batch's rows true: a row goes in as
// sole when no version of its id was stored before it, and a later row
// of the same id clears it, in the batch's values (pending) or, for rows
// already stored, in the table (unsole). The flag lets every read skip
// the rule's probes for the ids with one version, most of them.
type soles struct {
	pending map[string]int   // id -> the index of its row's sole value in the batch's values
	stored  map[string][]any // id -> seqs of its stored rows, sole no longer if a row of it is added
}

func newSoles() *soles { return &soles{pending: map[string]int{}, stored: map[string][]any{}} }

// add records that a row of id goes in, with the versions held of it
// before (held, from before is in the batch), and that its sole value is
// at args[at]; it returns that value.
func (ss *soles) add(args []any, id string, held []cyberpact.Holding, before int64) bool {
	if at, ok := ss.pending[id]; ok {
		args[at] = false
	}
	if _, ok := ss.stored[id]; !ok {
		for _, h := range held {
			if h.Seq < before {
				ss.stored[id] = append(ss.stored[id], h.Seq)
			}
		}
	}
	return len(held) == 0
}

// unsole clears the flag of the stored rows of the ids of added, the
// versions a batch added.
func (im *importer) unsole(ss *soles, added []*cyberpact.Object) error {
	var seqs []any
	for _, o := range added {
		seqs = append(seqs, ss.stored[o.ID]...)
		delete(ss.stored, o.ID)
	}
	for len(seqs) > 0 {
		n := min(len(seqs), maxObservableRows)
		if err := im.exec(`UPDATE objects SET sole = 0 WHERE sole <> 0 AND seq IN (`+placeholders(n)+`)`, seqs[:n]...); err != nil {
			return internal("storing objects", err)
		}
		seqs = seqs[n:]
	}
	return nil
}

// Import adds the objects from next in one transaction; see
// cyberpact.ObjectStore.
func (db *DB) Import(ctx context.Context, next cyberpact.ObjectSource, opts cyberpact.ImportOptions) (*cyberpact.ImportResult, error) {
	// Personal data is redacted before anything is staged (see
	// sqlstore.Redacting); the originals commit with the objects.
	next, red, err := db.Store.Redacting(ctx, next, opts)
	if err != nil {
		return nil, err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if err := db.catchUp(ctx); err != nil {
		return nil, err
	}
	var im *importer
	defer func() { // after the transaction has ended
		if im != nil && im.versions != nil { // an import that did not reach endBulk
			im.versions.free()
			im.versions = nil
		}
		switch {
		case im == nil:
		case im.bulk:
			db.resetAfterBulk()
		case im.smallCache:
			db.write.ExecContext(context.Background(), `PRAGMA cache_size = `+writerCache)
		}
	}()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, beginError("beginning import", err)
	}
	defer tx.Rollback()
	sx, err := db.search.begin(ctx, db.correlationCap())
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			sx.rollback()
		}
	}()

	terms, err := db.Store.TermsFor(ctx, opts)
	if err != nil {
		return nil, err
	}
	// Marking definitions later in the input come before the objects
	// that refer to them (Terms.Ordered), so that Mark knows them.
	next = terms.Ordered(next)
	im = &importer{ctx: ctx, tx: tx, store: db.Store, sx: sx, res: &cyberpact.ImportResult{}, stmts: map[string]*sql.Stmt{}, groups: map[int64][]int64{}, relayed: opts.Origin != nil, submitter: opts.Submitter, policy: opts.OnConflict}
	defer im.close()
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_seq), 0), COALESCE(MAX(added), 0) FROM imports`).Scan(&im.seq, &im.added); err != nil {
		return nil, internal("reading sequence", err)
	}
	im.added = max(time.Now().UnixMicro(), im.added+1)
	im.start = im.seq
	// A store that was ever given fewer than bulkAfter versions (its
	// sequence is below that) has indexes that fit in the bulk cache, and
	// an import into it that grows large goes bulk (see goBulk): it starts
	// with that cache. The pages a transaction dirties stay in the cache
	// until it commits, so the writer's cache, once filled, would be held
	// to the end of the import, bulk or not (40 MB of a large pull's peak;
	// issue 15).
	if im.start < bulkAfter {
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = `+bulkCache); err != nil {
			return nil, internal("sizing the page cache", err)
		}
		im.smallCache = true
	}

	batch := make([]*cyberpact.Object, 0, importBatch)
	batchBytes := 0 // of the batch's bodies
	for {
		obj, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if rs, ok := cyberpact.RejectionsOf(err); ok {
				im.res.Rejected = append(im.res.Rejected, rs...)
				terms.Note(rs...)
				continue
			}
			switch {
			case cyberpact.ErrorCode(err) != cyberpact.EINTERNAL:
				return nil, err
			case ctx.Err() != nil:
				return nil, ctx.Err()
			}
			return nil, &cyberpact.Error{Code: cyberpact.EINVALID, Message: err.Error(), Err: err}
		}
		if obj.Release, err = opts.Release(obj); err != nil {
			var r *cyberpact.Rejection
			if !errors.As(err, &r) {
				return nil, err
			}
			im.res.Rejected = append(im.res.Rejected, r)
			terms.Note(r)
			continue
		}
		if rel, rej := terms.Mark(obj, obj.Release); rej != nil {
			im.res.Rejected = append(im.res.Rejected, rej)
			continue
		} else {
			obj.Release = rel
		}
		if why := cyberpact.RefuseRelease(obj.Release); why != "" {
			rej := &cyberpact.Rejection{Index: obj.Index, Line: obj.Line, ID: obj.ID, Modified: obj.Modified, Path: "object_marking_refs", Reason: why}
			im.res.Rejected = append(im.res.Rejected, rej)
			terms.Note(rej)
			continue
		}
		batch = append(batch, obj)
		batchBytes += len(obj.Raw)
		if len(batch) == importBatch || batchBytes >= importBatchBytes {
			// Flushed by bytes, a batch goes in power-of-two parts:
			// each count is a statement prepared for the import, and
			// a few shapes serve any mix of sizes.
			n := len(batch)
			if n < importBatch {
				n = 1 << (bits.Len(uint(n)) - 1)
			}
			if err := im.flush(batch[:n]); err != nil {
				return nil, err
			}
			batch = append(batch[:0], batch[n:]...)
			clear(batch[len(batch):cap(batch)])
			batchBytes = 0
			for _, o := range batch {
				batchBytes += len(o.Raw)
			}
		}
	}
	if err := im.flush(batch); err != nil {
		return nil, err
	}
	// The index writer finishes its rows while the objects commit: it is
	// committed after them either way (see searchTx.commit).
	sx.add(im.search)
	sx.end()
	res := im.res
	if len(res.Rejected) > 0 && !opts.Partial {
		return res, nil // rolled back by the deferred Rollback
	}
	if err := im.endBulk(); err != nil {
		return nil, err
	}
	var entry *cyberpact.AuditEntry
	if res.Added > 0 {
		var audit []byte
		if opts.Audit != nil {
			entry = opts.Audit(res)
			entry.Time = sqlstore.Now()
			if audit, err = json.Marshal(entry); err != nil {
				return nil, internal("encoding the import's audit entry", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO imports (last_seq, first_seq, added, audit) VALUES (?, ?, ?, ?)`, im.seq, res.FirstSeq, im.added, string(audit)); err != nil {
			return nil, internal("recording the import", err)
		}
		if err := recordOrigin(ctx, tx, opts.Origin, res.FirstSeq, res.LastSeq); err != nil {
			return nil, err
		}
	}
	if err := savePeerState(ctx, tx, &opts, res); err != nil {
		return nil, err
	}
	if im.bulk {
		// The WAL holds the whole import: copying it into the database
		// (seconds) runs beside the index's commit instead of inside this
		// one (see checkpointAfterBulk).
		if _, err := tx.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
			return nil, internal("committing import", err)
		}
	}
	for _, st := range red.Statements(dialect, im.start) {
		if _, err := tx.ExecContext(ctx, st.SQL, st.Args...); err != nil {
			return nil, internal("keeping the originals of redacted objects", err)
		}
	}
	if st := sqlstore.AnonymousHoldings(dialect, opts.Submitter, im.start); st != nil {
		if _, err := tx.ExecContext(ctx, st.SQL, st.Args...); err != nil {
			return nil, internal("recording the anonymous submitter", err)
		}
	}
	cleared, err := db.outbox.clear(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, internal("committing import", err)
	}
	committed = true
	db.outbox.cleared(cleared)
	if entry != nil {
		db.outbox.append(ctx, db, entry, im.seq)
		res.Audited = true
	}
	if im.bulk {
		defer db.checkpointAfterBulk()()
	}
	res.Committed = true
	if res.Added > 0 {
		db.changes.Notify()
	}
	if err := sx.commit(ctx, im.seq); err != nil {
		// The objects are stored and answered as stored: the next import,
		// or the next Open, indexes them (reindex).
		db.outbox.reindex = true
	}
	return res, nil
}

type importer struct {
	ctx     context.Context
	tx      *sql.Tx
	store   *sqlstore.Store // for the stats' classes across replacements
	res     *cyberpact.ImportResult
	seq     int64
	start   int64 // the last seq before this import: higher ones are its own
	added   int64
	stmts   map[string]*sql.Stmt // prepared once per import, by query text
	groups  map[int64][]int64    // the sharing groups of producers, for admit
	relayed bool                 // federation pulled the input (cyberpact.Admit)
	// submitter is the organisation publishing the input anonymously
	// (cyberpact.ImportOptions.Submitter), 0 for none.
	submitter int64
	policy    cyberpact.ConflictPolicy
	replace   []*cyberpact.Object // conflicting versions to store in place of the held ones (ConflictReplace)
	err       error               // an error admit met, ending the import
	sx        *searchTx
	search    indexChunk // derived-index rows not yet handed to sx

	// Bulk mode (see bulk.go): the versions stored and added, while the
	// indexes ddl creates are dropped; bulk once the import went bulk.
	versions  *versionSet
	ddl       []string
	bulk      bool
	appending bool // objects' last rowid is seq: rows may go in without theirs (see append)
	// smallCache: the import began with the bulk cache (a small store).
	smallCache bool
}

// stmt returns q prepared once per import: the batches mostly have the
// same shape, and SQLite's parser would otherwise be a tenth of the
// import's time.
func (im *importer) stmt(q string) (*sql.Stmt, error) {
	if st, ok := im.stmts[q]; ok {
		return st, nil
	}
	st, err := im.tx.PrepareContext(im.ctx, q)
	if err != nil {
		return nil, err
	}
	im.stmts[q] = st
	return st, nil
}

func (im *importer) exec(q string, args ...any) error {
	st, err := im.stmt(q)
	if err == nil {
		_, err = st.ExecContext(im.ctx, args...)
	}
	return err
}

func (im *importer) close() {
	for _, st := range im.stmts {
		st.Close()
	}
}

// flush writes one batch with a multi-row INSERT that skips any (id,
// version) already stored and returns the rows it added. A skipped object
// is then compared with the stored one: equal is "already present",
// different a conflict. Only the added rows get links and search entries.
func (im *importer) flush(batch []*cyberpact.Object) error {
	if len(batch) == 0 {
		return nil
	}
	if im.versions != nil {
		return im.flushBulk(batch)
	}
	held, err := im.heldOf(batch)
	if err != nil {
		return err
	}
	args := make([]any, 0, (storedN+1)*len(batch))
	first := im.seq + 1
	rowObjs := batch[:0:0]
	ss := newSoles()
	for _, o := range batch {
		before := held[o.ID]
		if !im.admit(o, held, im.seq+1) {
			continue
		}
		im.seq++
		rowObjs = append(rowObjs, o)
		sole := ss.add(args, o.ID, before, first)
		args = rowArgs(append(args, im.seq), o, im.added, sole)
		ss.pending[o.ID] = len(args) - 1
	}
	if im.err != nil {
		return im.err
	}
	batch = rowObjs
	if len(batch) == 0 {
		return nil
	}
	st, err := im.stmt(`INSERT INTO objects (seq, ` + storedCols + `) VALUES ` + rowsOf(len(batch), storedN+1) + ` ON CONFLICT (id, holding, version) DO NOTHING RETURNING seq`)
	if err != nil {
		return internal("storing objects", err)
	}
	rows, err := st.QueryContext(im.ctx, args...)
	if err != nil {
		return internal("storing objects", err)
	}
	isAdded := make([]bool, len(batch))
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return internal("storing objects", err)
		}
		isAdded[seq-first] = true
	}
	if err := rows.Close(); err != nil {
		return internal("storing objects", err)
	}
	added := make([]*cyberpact.Object, 0, len(batch))
	seqs := make([]int64, 0, len(batch))
	for i, o := range batch {
		if !isAdded[i] {
			if err := im.compare(o); err != nil {
				return err
			}
			continue
		}
		added = append(added, o)
		seqs = append(seqs, first+int64(i))
	}
	if err := im.unsole(ss, added); err != nil {
		return err
	}
	if err := im.stored(added, seqs); err != nil {
		return err
	}
	if err := im.replaceHeld(); err != nil {
		return err
	}
	return im.goBulk()
}

// replaceHeld stores the versions judge queued under ConflictReplace in
// place of the versions with the same id and modified in the same
// holding, their producer's own: each held version is deleted with its
// links (its search row goes with the import's index transaction) and the
// new content added with a new Seq. A held version this import added
// (an earlier copy in the same input) is simply superseded; one stored
// before is listed in the result as replaced.
func (im *importer) replaceHeld() error {
	if len(im.replace) == 0 {
		return nil
	}
	counted, err := im.store.StatsDeleting(im.ctx, im.tx, func() ([]string, error) {
		ids := make([]string, len(im.replace))
		for i, o := range im.replace {
			ids[i] = o.ID
		}
		return ids, nil
	})
	if err != nil {
		return err
	}
	for _, o := range im.replace {
		st, err := im.stmt(`DELETE FROM objects WHERE id = ? AND holding = ? AND version = ? RETURNING seq, sole`)
		if err != nil {
			return internal("replacing a stored version", err)
		}
		var old int64
		var sole bool
		if err := st.QueryRowContext(im.ctx, o.ID, o.Holding, o.Modified).Scan(&old, &sole); err != nil {
			return internal("replacing a stored version", err)
		}
		if err := im.exec(`DELETE FROM refs WHERE seq = ?`, old); err != nil {
			return internal("replacing a stored version's links", err)
		}
		// Rows still waiting for the index writer are taken back; those
		// already handed to it go in the order the writer keeps.
		im.search.text = slices.DeleteFunc(im.search.text, func(r searchRow) bool { return r[0] == any(old) })
		im.search.obs = slices.DeleteFunc(im.search.obs, func(r observableRow) bool { return r.seq == old })
		im.search.drop = append(im.search.drop, old)
		if old > im.start {
			im.res.Added-- // added earlier in this input: counted again below
		} else {
			im.res.Replaced = append(im.res.Replaced, o.ID+"@"+o.Modified)
			if err := im.exec(`INSERT INTO deletes (id) VALUES (?)`, o.ID); err != nil {
				return internal("logging the replacement", err)
			}
		}
		im.seq++
		if err := im.exec(`INSERT INTO objects (seq, `+storedCols+`) VALUES `+rowsOf(1, storedN+1), rowArgs([]any{im.seq}, o, im.added, sole)...); err != nil {
			return internal("storing objects", err)
		}
		if err := im.stored([]*cyberpact.Object{o}, []int64{im.seq}); err != nil {
			return err
		}
	}
	im.replace = im.replace[:0]
	return counted()
}

// stored records the versions a batch added, as seqs: the count, their
// relationship links, and their derived-index rows.
func (im *importer) stored(added []*cyberpact.Object, seqs []int64) error {
	var refArgs []any
	nrefs := 0
	flushRefs := func() error {
		if nrefs == 0 {
			return nil
		}
		if err := im.append(`INSERT OR IGNORE INTO refs (seq, prop, target) VALUES `+rowsOf(nrefs, 3), nrefs, 0, refArgs); err != nil {
			return internal("storing relationship links", err)
		}
		refArgs, nrefs = refArgs[:0], 0
		return nil
	}
	for i, o := range added {
		seq := seqs[i]
		im.res.Added++
		if im.res.FirstSeq == 0 {
			im.res.FirstSeq = seq
		}
		im.res.LastSeq = seq
		for _, r := range o.Refs {
			refArgs = append(refArgs, seq, r.Prop, r.ID)
			if nrefs++; nrefs == maxRefRows {
				if err := flushRefs(); err != nil {
					return err
				}
			}
		}
		im.search.addVersion(seq, o)
		if im.search.full() {
			im.sx.add(im.search)
			im.search = indexChunk{bulk: im.search.bulk}
		}
	}
	return flushRefs()
}

// textRow is the full-text index row of a version.
func textRow(seq int64, o *cyberpact.Object) searchRow {
	t := o.Text
	parts := [...]string{t.Description, t.Pattern, t.Values}
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	// One allocation: the builder's buffer becomes the string.
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		if p != "" {
			b.WriteString(p)
			b.WriteByte('\n')
		}
	}
	return searchRow{seq, orNull(t.Name), orNull(t.ExternalIDs), orNull(t.Aliases), orNull(b.String())}
}

// orNull is s, or NULL for the empty string: the index reads both as no
// words, and NULL costs the driver no copy.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// heldExtra are the columns of a stored version Admit needs besides its
// release: its created_by_ref, whether federation brought it, and who
// published its holding anonymously (see heldSubmitter).
const heldExtra = `COALESCE(json_extract(body, '$.created_by_ref'), ''), EXISTS (SELECT 1 FROM provenance p WHERE p.seq = objects.seq), ` + sqlstore.HeldSubmitter

// heldSubmitter completes h, a stored version read with heldExtra: the
// holdings this import added to are recorded as its submitter's only
// when it commits, so its own versions are its submitter's.
func (im *importer) heldSubmitter(h *cyberpact.Holding) {
	if h.Seq > im.start && h.Release.Producer == 0 {
		h.Submitter = im.submitter
	}
}

// heldOf returns the stored versions of the ids of batch, by id, for
// admit.
func (im *importer) heldOf(batch []*cyberpact.Object) (map[string][]cyberpact.Holding, error) {
	ids := make([]string, 0, len(batch))
	for _, o := range batch {
		ids = append(ids, o.ID)
	}
	a := &sqlstore.Args{}
	st, err := im.stmt(`SELECT seq, holding, id, producer, aud_kind, aud_group, tlp, marks, ` + heldExtra + ` FROM objects WHERE ` + a.InStrings("id", ids))
	if err != nil {
		return nil, internal("reading stored versions", err)
	}
	rows, err := st.QueryContext(im.ctx, a.Vals...)
	if err != nil {
		return nil, internal("reading stored versions", err)
	}
	defer rows.Close()
	held := map[string][]cyberpact.Holding{}
	for rows.Next() {
		var h cyberpact.Holding
		var id string
		var kind, tlp int
		if err := rows.Scan(&h.Seq, &h.Holding, &id, &h.Release.Producer, &kind, &h.Release.Audience.Group, &tlp, &h.Release.Marks, &h.CreatedBy, &h.Federated, &h.Submitter); err != nil {
			return nil, internal("reading stored versions", err)
		}
		im.heldSubmitter(&h)
		h.Release.Audience.Kind, h.Release.TLP = cyberpact.AudienceKind(kind), cyberpact.TLP(tlp)
		held[id] = append(held[id], h)
	}
	return held, queryError(rows.Err())
}

// admit places o in its holding (cyberpact.Admit) among the versions
// held of its id, to be stored as seq, and adds it to held; or rejects it
// and reports false.
func (im *importer) admit(o *cyberpact.Object, held map[string][]cyberpact.Holding, seq int64) bool {
	if !im.place(o, held[o.ID], seq) {
		return false
	}
	held[o.ID] = append(held[o.ID], cyberpact.Holding{Seq: seq, Holding: o.Holding, Release: o.Release, CreatedBy: o.CreatedBy, Federated: im.relayed, Submitter: im.submitter})
	return true
}

// place sets o's holding (cyberpact.Admit) among held, the versions
// stored of its id, o to be stored as seq; or rejects it and reports
// false (with im.err set if that was the store's fault).
func (im *importer) place(o *cyberpact.Object, held []cyberpact.Holding, seq int64) bool {
	p := o.Release.Producer
	if im.submitter != 0 {
		p = im.submitter // Admit decides by what the submitter may see
	}
	groups, ok := im.groups[p]
	if !ok {
		var err error
		if groups, err = groupsOf(im.ctx, im.tx, p); err != nil {
			im.err = err
			return false
		}
		im.groups[p] = groups
	}
	h, producer, rej := cyberpact.Admit(o, held, groups, im.relayed, im.submitter)
	if rej != nil {
		same, err := im.sameAs(o, h)
		switch {
		case err != nil:
			im.err = err
		case same:
			im.res.Present++
		default:
			im.res.Rejected = append(im.res.Rejected, rej)
		}
		return false
	}
	if h == 0 {
		h = seq
	}
	o.Holding, o.Release.Producer = h, producer
	return true
}

// sameAs reports whether holding h of o's id holds o's version with the
// same content.
func (im *importer) sameAs(o *cyberpact.Object, h int64) (bool, error) {
	st, err := im.stmt(`SELECT body FROM objects WHERE id = ? AND holding = ? AND version = ?`)
	if err != nil {
		return false, internal("reading stored version", err)
	}
	var body []byte
	switch err := st.QueryRowContext(im.ctx, o.ID, h, o.Modified).Scan(&body); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, internal("reading stored version", err)
	}
	return bytes.Equal(body, o.Raw) || stix.JSONEqual(body, o.Raw), nil
}

// compare decides for an object whose (id, version) is already stored
// whether it is the same (present) or different (a conflict rejection).
func (im *importer) compare(o *cyberpact.Object) error {
	st, err := im.stmt(`SELECT seq, body FROM objects WHERE id = ? AND holding = ? AND version = ?`)
	if err != nil {
		return internal("reading stored version", err)
	}
	var seq int64
	var body []byte
	if err := st.QueryRowContext(im.ctx, o.ID, o.Holding, o.Modified).Scan(&seq, &body); err != nil {
		return internal("reading stored version", err)
	}
	im.judge(o, seq, body)
	return nil
}

// judge counts o, whose id and version are stored as seq with body, as
// present when the content is the same and rejects it as a conflict
// otherwise.
func (im *importer) judge(o *cyberpact.Object, seq int64, body []byte) {
	if bytes.Equal(body, o.Raw) || stix.JSONEqual(body, o.Raw) {
		im.res.Present++
		return
	}
	switch im.policy {
	case cyberpact.ConflictKeepStored:
		im.res.Kept++
		return
	case cyberpact.ConflictReplace:
		im.replace = append(im.replace, o)
		return
	}
	// Say which: a version stored before, or one added earlier in this
	// same input (then the reader of the message must look in the file,
	// not the store).
	im.res.Rejected = append(im.res.Rejected, &cyberpact.Rejection{
		Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified, Reason: cyberpact.ConflictReason(o.Modified, seq > im.start),
	})
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// rowsOf returns "(?,?),(?,?)..." for n rows of k columns.
func rowsOf(n, k int) string {
	row := "(" + placeholders(k) + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// objectQueries builds the object queries in SQLite's dialect.
var objectQueries = &sqlstore.Objects{
	SpecVersions: func(a *sqlstore.Args, vals []string) string {
		return a.InStrings("COALESCE(json_extract(o.body, '$.spec_version'), '2.1')", vals)
	},
	Labels: func(a *sqlstore.Args, vals []string) string {
		return "EXISTS (SELECT 1 FROM json_each(o.body, '$.labels') WHERE " + a.InStrings("value", vals) + ")"
	},
	Text: func(a *sqlstore.Args, text string) (string, error) {
		q, err := ftsQuery(text)
		if err != nil {
			return "", err
		}
		return "o.seq IN (SELECT rowid FROM s.search WHERE search MATCH " + a.Add(q) + ")", nil
	},
	Rank: searchRank,
}

// searchRank is the rank key of the objects row o among the matches of
// text (see Ranked search in search.go): its tier from its stored JSON, and
// as relevance the weights of the columns in which the whole query
// matches (name 8, external ids 4, aliases 2, the rest 1). FTS5's bm25
// would weigh each match by how many stored versions hold its words and
// by their average length, counting versions the caller may not see, so
// an order of what it sees would tell of what it does not.
func searchRank(a *sqlstore.Args, text string) (string, error) {
	q, err := ftsQuery(text)
	if err != nil {
		return "", err
	}
	tier, err := sqlstore.Tier(a, text, func(x string) string {
		return "EXISTS (SELECT 1 FROM json_each(o.body, '$.external_references') r WHERE lower(json_extract(r.value, '$.external_id')) = " + x + ")"
	}, func() string { return "lower(json_extract(o.body, '$.name'))" })
	if err != nil {
		return "", err
	}
	var score []string
	for _, c := range []struct {
		col    string
		weight int
	}{{"name", 8}, {"ids", 4}, {"aliases", 2}, {"other", 1}} {
		score = append(score, fmt.Sprintf("(CASE WHEN o.seq IN (SELECT rowid FROM s.search WHERE search MATCH %s) THEN %d ELSE 0 END)", a.Add("{"+c.col+"} : ("+q+")"), c.weight))
	}
	return sqlstore.RankKey(tier, "("+strings.Join(score, " + ")+")"), nil
}

// Stats counts per type the objects the viewer is shown, from the class
// counts kept once for the store and brought up to date from what was
// stored since (sqlstore.Store.CountStats).
func (db *DB) Stats(ctx context.Context, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	return db.Store.CountStats(ctx, objectQueries, viewer)
}

// DeleteObject deletes the versions of id that f selects.
func (db *DB) DeleteObject(ctx context.Context, id string, f cyberpact.ObjectFilter) (int, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal("beginning delete", err)
	}
	defer tx.Rollback()
	seqs, err := db.Store.DeleteVersions(ctx, tx, objectQueries, id, f)
	if err != nil {
		return 0, err
	}
	// The search index drops the rows before the objects commit: a search
	// may miss a version about to be deleted, never find a deleted one.
	rowids := make([]any, len(seqs))
	for i, seq := range seqs {
		rowids[i] = seq
	}
	if _, err := db.search.db.ExecContext(ctx, `DELETE FROM search WHERE rowid IN (`+placeholders(len(rowids))+`)`, rowids...); err != nil {
		return 0, internal("deleting from the search index", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, internal("committing delete", err)
	}
	db.changes.Notify()
	return len(seqs), nil
}

// ftsQuery turns a user's search text into an FTS5 query: each term
// (cyberpact.ParseSearch) quoted, so that punctuation inside it
// (T1059.001, CAPEC-66, 198.51.100.7) searches as the sequence of its
// parts, a prefix term ending in *, all terms required.
func ftsQuery(text string) (string, error) {
	terms, err := cyberpact.ParseSearch(text)
	if err != nil {
		return "", err
	}
	qs := make([]string, len(terms))
	for i, t := range terms {
		qs[i] = `"` + strings.ReplaceAll(t.Text, `"`, `""`) + `"`
		if t.Prefix {
			qs[i] += "*"
		}
	}
	return strings.Join(qs, " AND "), nil
}

// eachObject runs q, an object query of objectQueries, on a reader and
// calls fn with each object it selects, its extra columns scanned into
// extra. The query is kept prepared (see stmts.go).
func (db *DB) eachObject(ctx context.Context, q sqlstore.Query, extra []any, fn func(*cyberpact.Object) error) error {
	st, err := db.stmts.get(ctx, q.SQL)
	if err != nil {
		return queryError(err)
	}
	rows, err := st.QueryContext(ctx, q.Args...)
	if err != nil {
		return queryError(err)
	}
	defer rows.Close()
	scan := func(dst ...any) error { return rows.Scan(append(dst, extra...)...) }
	var bodies sqlstore.Bodies
	for rows.Next() {
		o, err := q.Scan(scan, &bodies)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return queryError(rows.Err())
}

// queryError maps a read error: a malformed full-text query is the
// caller's, anything else is internal.
func queryError(err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "fts5") {
		return &cyberpact.Error{Code: cyberpact.EINVALID, Message: "bad search query", Err: err}
	}
	return internal("querying objects", fmt.Errorf("%w", err))
}
