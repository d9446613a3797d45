package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"sync/atomic"

	"github.com/cyberpact/cyberpact"
	"modernc.org/memory"
)

// Bulk imports. Keeping the (id, holding, version) index up to date row by row costs
// a random B-tree insert per version: for an import of a million objects
// into a small store that is over half the writer's time, where building the
// index afterwards from sorted keys costs a fifth of it. So an import that
// has added bulkAfter versions, and more than twice as many as the store
// held before it, drops the indexes whose keys arrive in random order
// (objects_id_version, refs_target) inside its transaction, finds the
// versions it already holds of each id in an in-memory table of id hashes
// instead, and creates the indexes again, with the same SQL, before it
// commits. Readers never see the difference: they read the last committed
// state, which has the indexes; a rolled-back import restores them.

// bulkAfter is how many versions an import adds before it may go bulk.
// Going bulk at 10,000 rather than 50,000 took a million-object import's
// peak RSS from 285 to 226 MB (the row-by-row phase fills the writer's
// 40 MB cache) at the same speed.
var bulkAfter int64 = 10_000

// bulkImports counts the imports that went bulk (for the tests).
var bulkImports atomic.Int64

// bulkCache is the writer's page cache in bulk mode (KiB, negative).
const bulkCache = "-8192"

// bulkIndexes are the indexes a bulk import drops and rebuilds.
var bulkIndexes = []string{"objects_id_version", "refs_target"}

// versionSet maps hashes of ids to the seqs of their versions: one entry a
// version, so that a lookup yields every holding of an id (for Admit) and
// every version stored of it. Hashes may collide: the caller compares the
// stored id.
//
// Its slots, 16 bytes a version (32 MB for a million, 256 MB for ten
// million), are kept outside the Go heap, like bulkObservables' rows: on
// the heap they would raise the collector's target by twice as much again
// (the import's GOGC of 200), and the table grows with the import. They go
// back to the system when the import ends (free).
type versionSet struct {
	seed  maphash.Seed
	alloc memory.Allocator
	slots []byte // open addressing, linear probing: hash, then seq, 8 bytes each little-endian; seq 0 is empty
	n     int
}

// slotSize is the bytes of one slot of a versionSet.
const slotSize = 16

func newVersionSet(capacity int) (*versionSet, error) {
	size := 1 << 16
	for size*3/4 < capacity {
		size *= 2
	}
	s := &versionSet{seed: maphash.MakeSeed()}
	var err error
	if s.slots, err = s.alloc.Calloc(size * slotSize); err != nil {
		return nil, err
	}
	return s, nil
}

// free returns the slots to the system; the set is empty and unusable
// afterwards.
func (s *versionSet) free() {
	if s != nil {
		s.alloc.Close()
		s.slots, s.n = nil, 0
	}
}

func (s *versionSet) hash(id string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(id)
	return h.Sum64()
}

// len is the number of slots.
func (s *versionSet) len() int { return len(s.slots) / slotSize }

// slot returns the hash and seq in slot i.
func (s *versionSet) slot(i uint64) (h uint64, seq int64) {
	p := s.slots[i*slotSize : i*slotSize+slotSize]
	return binary.LittleEndian.Uint64(p), int64(binary.LittleEndian.Uint64(p[8:]))
}

func (s *versionSet) add(h uint64, seq int64) error {
	if (s.n+1)*4 > s.len()*3 {
		old, oldAlloc := s.slots, s.alloc
		s.alloc = memory.Allocator{}
		grown, err := s.alloc.Calloc(2 * len(old))
		if err != nil {
			s.alloc = oldAlloc
			return err
		}
		s.slots, s.n = grown, 0
		for i := 0; i < len(old); i += slotSize {
			if seq := binary.LittleEndian.Uint64(old[i+8:]); seq != 0 {
				s.put(binary.LittleEndian.Uint64(old[i:]), int64(seq))
			}
		}
		oldAlloc.Close()
	}
	s.put(h, seq)
	return nil
}

// put stores (h, seq) in the first empty slot from h's; there is one.
func (s *versionSet) put(h uint64, seq int64) {
	mask := uint64(s.len() - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if _, stored := s.slot(i); stored == 0 {
			p := s.slots[i*slotSize : i*slotSize+slotSize]
			binary.LittleEndian.PutUint64(p, h)
			binary.LittleEndian.PutUint64(p[8:], uint64(seq))
			s.n++
			return
		}
	}
}

// lookup calls fn with each seq stored under h until fn returns true.
func (s *versionSet) lookup(h uint64, fn func(seq int64) bool) {
	mask := uint64(s.len() - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sh, seq := s.slot(i)
		if seq == 0 {
			return
		}
		if sh == h && fn(seq) {
			return
		}
	}
}

// goBulk switches the import to bulk mode if it has grown large enough
// against the store it started from.
func (im *importer) goBulk() error {
	added := int64(im.res.Added)
	// An import that may replace stored versions deletes rows, which bulk
	// mode's appending and version set do not follow: it stays out.
	if im.versions != nil || added < bulkAfter || added <= 2*im.start || im.policy == cyberpact.ConflictReplace {
		return nil
	}
	im.ddl = im.ddl[:0]
	for _, name := range bulkIndexes {
		var ddl string
		if err := im.tx.QueryRowContext(im.ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&ddl); err != nil {
			return internal("reading index "+name, err)
		}
		im.ddl = append(im.ddl, ddl)
	}
	vs, err := newVersionSet(int(im.seq + added))
	if err != nil {
		return internal("making the version table", err)
	}
	kept := false
	defer func() {
		if !kept {
			vs.free()
		}
	}()
	rows, err := im.tx.QueryContext(im.ctx, `SELECT id, seq FROM objects INDEXED BY objects_id_version`)
	if err != nil {
		return internal("reading stored versions", err)
	}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return internal("reading stored versions", err)
		}
		if err := vs.add(vs.hash(id), seq); err != nil {
			rows.Close()
			return internal("making the version table", err)
		}
	}
	if err := rows.Close(); err != nil {
		return internal("reading stored versions", err)
	}
	// Statements prepared against the old schema go; the ones bulk mode
	// needs are prepared again.
	im.close()
	im.stmts = map[string]*sql.Stmt{}
	for _, name := range bulkIndexes {
		if _, err := im.tx.ExecContext(im.ctx, `DROP INDEX `+name); err != nil {
			return internal("dropping index "+name, err)
		}
	}
	// Appending needs few pages cached, where the random index inserts
	// needed many; the sort of endBulk sizes its memory by this too.
	if _, err := im.tx.ExecContext(im.ctx, `PRAGMA cache_size = `+bulkCache); err != nil {
		return internal("sizing the page cache", err)
	}
	im.versions, kept = vs, true
	im.bulk = true
	im.search.bulk = true
	bulkImports.Add(1)
	return nil
}

// resetAfterBulk sets the writer connection's page cache and temporary
// storage back to their usual settings once a bulk import's transaction
// has ended, committed, rolled back or cancelled.
func (db *DB) resetAfterBulk() {
	ctx := context.Background()
	db.write.ExecContext(ctx, `PRAGMA cache_size = `+writerCache)
	db.write.ExecContext(ctx, `PRAGMA temp_store = MEMORY`)
	db.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint = `+walAutocheckpoint)
	db.write.ExecContext(ctx, `PRAGMA threads = 0`)
}

// walAutocheckpoint is SQLite's default: a commit that leaves this many
// pages in the WAL copies them into the database.
const walAutocheckpoint = "1000"

// checkpointAfterBulk starts copying the WAL of a committed bulk import
// into the database, which that import's commit left undone, and returns
// a function that waits for it: the import commits its index meanwhile.
// (A checkpoint that fails leaves the WAL to the next one.)
//
// It then empties the WAL (TRUNCATE), which otherwise SQLite does when
// the store closes, by unlinking it: for a gigabyte WAL the system takes
// 0.4 s to free its cached pages, after everything else. Here that
// overlaps the index's commit. TRUNCATE waits for readers still using the
// WAL; without a busy timeout it does not, and then leaves the WAL as
// PASSIVE would (a server's readers, say).
func (db *DB) checkpointAfterBulk() (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := context.Background()
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
			return
		}
		conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		conn.ExecContext(ctx, `PRAGMA busy_timeout = `+busyTimeout)
	}()
	return func() { <-done }
}

// endBulk creates the dropped indexes again.
func (im *importer) endBulk() error {
	if im.versions == nil {
		return nil
	}
	// The version table goes back to the system before the sorts take
	// their memory, and so does the heap the import no longer uses.
	im.versions.free()
	im.versions = nil
	debug.FreeOSMemory()
	// The sort behind CREATE INDEX goes to a temporary file: kept in
	// memory, like the statement journals, it would hold the whole index.
	// SQLite refuses the switch if this connection has temporary tables
	// open; then the sort stays in memory. (resetAfterBulk switches back.)
	im.tx.ExecContext(im.ctx, `PRAGMA temp_store = FILE`)
	// The index writer has finished its rows and waits for the commit:
	// the sorts may have a helper thread on the other core.
	im.tx.ExecContext(im.ctx, `PRAGMA threads = 1`)
	for i, ddl := range im.ddl {
		if _, err := im.tx.ExecContext(im.ctx, ddl); err != nil {
			return internal("rebuilding index "+bulkIndexes[i], err)
		}
	}
	return nil
}

// flushBulk writes one batch in bulk mode: each object is placed in its
// holding among the versions stored or added so far of its id, found
// through the version table, and only new versions are inserted.
func (im *importer) flushBulk(batch []*cyberpact.Object) error {
	appending := im.appending
	args := make([]any, 0, (storedN+1)*len(batch))
	added := make([]*cyberpact.Object, 0, len(batch))
	seqs := make([]int64, 0, len(batch))
	first := im.seq + 1 // seq of the batch's first new version
	ss := newSoles()
	for _, o := range batch {
		h := im.versions.hash(o.ID)
		held, err := im.heldBulk(o.ID, h, first, added)
		if err != nil {
			return err
		}
		if !im.place(o, held.holdings, im.seq+1) {
			if im.err != nil {
				return im.err
			}
			continue
		}
		if stored := held.version(o.Holding, o.Modified); stored != 0 {
			body, err := im.bodyOf(stored, first, added)
			if err != nil {
				return err
			}
			im.judge(o, stored, body)
			continue
		}
		im.seq++
		if err := im.versions.add(h, im.seq); err != nil {
			return internal("growing the version table", err)
		}
		added = append(added, o)
		seqs = append(seqs, im.seq)
		if !appending {
			args = append(args, im.seq)
		}
		sole := ss.add(args, o.ID, held.holdings, first)
		args = rowArgs(args, o, im.added, sole)
		ss.pending[o.ID] = len(args) - 1
	}
	if len(added) == 0 {
		return nil
	}
	if err := im.unsole(ss, added); err != nil {
		return err
	}
	if !appending {
		if err := im.exec(`INSERT INTO objects (seq, `+storedCols+`) VALUES `+rowsOf(len(added), storedN+1), args...); err != nil {
			return internal("storing objects", err)
		}
		im.appending = true // the table's last rowid is im.seq now
	} else if err := im.append(`INSERT OR IGNORE INTO objects (`+storedCols+`) VALUES `+rowsOf(len(added), storedN), len(added), im.seq, args); err != nil {
		return internal("storing objects", err)
	}
	return im.stored(added, seqs)
}

// heldVersions are the versions stored of one id: their holdings, for
// Admit, and their version keys.
type heldVersions struct {
	holdings []cyberpact.Holding
	versions []string
}

// version returns the seq of the version of holding h with version key v,
// 0 when there is none.
func (hv heldVersions) version(h int64, v string) int64 {
	for i, x := range hv.holdings {
		if x.Holding == h && hv.versions[i] == v {
			return x.Seq
		}
	}
	return 0
}

// heldBulk returns the versions of id stored or added so far (the batch's
// own, from first on, are in added), found under its hash h in the
// version table: the id index is dropped in bulk mode.
func (im *importer) heldBulk(id string, h uint64, first int64, added []*cyberpact.Object) (heldVersions, error) {
	var out heldVersions
	get, err := im.stmt(`SELECT id, holding, version, producer, aud_kind, aud_group, tlp, marks, ` + heldExtra + ` FROM objects WHERE seq = ?`)
	if err != nil {
		return out, internal("reading stored versions", err)
	}
	im.versions.lookup(h, func(seq int64) bool {
		if seq >= first { // added earlier in this batch, not yet written
			p := added[seq-first]
			if p.ID == id {
				out.holdings = append(out.holdings, cyberpact.Holding{Seq: seq, Holding: p.Holding, Release: p.Release, CreatedBy: p.CreatedBy, Federated: im.relayed, Submitter: im.submitter})
				out.versions = append(out.versions, p.Modified)
			}
			return false
		}
		var x cyberpact.Holding
		var got, version string
		var kind, tlp int
		if err = get.QueryRowContext(im.ctx, seq).Scan(&got, &x.Holding, &version, &x.Release.Producer, &kind, &x.Release.Audience.Group, &tlp, &x.Release.Marks, &x.CreatedBy, &x.Federated, &x.Submitter); err != nil {
			return true
		}
		if got == id {
			x.Seq = seq
			im.heldSubmitter(&x)
			x.Release.Audience.Kind, x.Release.TLP = cyberpact.AudienceKind(kind), cyberpact.TLP(tlp)
			out.holdings = append(out.holdings, x)
			out.versions = append(out.versions, version)
		}
		return false
	})
	if err != nil {
		return out, internal("reading stored versions", err)
	}
	return out, nil
}

// bodyOf returns the stored body of the version seq (from added when it
// is the batch's own, from first on).
func (im *importer) bodyOf(seq, first int64, added []*cyberpact.Object) ([]byte, error) {
	if seq >= first {
		return added[seq-first].Raw, nil
	}
	get, err := im.stmt(`SELECT body FROM objects WHERE seq = ?`)
	if err != nil {
		return nil, internal("reading stored version", err)
	}
	var body []byte
	if err := get.QueryRowContext(im.ctx, seq).Scan(&body); err != nil {
		return nil, internal("reading stored version", err)
	}
	return body, nil
}

// append runs an INSERT OR IGNORE of n rows into a rowid table without
// naming the rowid, and checks that it added all n, the last as rowid
// last. SQLite gives such rows the next rowids in turn (one more than the
// largest), and a statement that names no INTEGER PRIMARY KEY value and
// cannot stop halfway (OR IGNORE: a NULL skips its row instead of aborting
// the statement) needs no statement journal: SQLite would otherwise copy
// every existing page the statement changes, 64 KiB each, so that it could
// undo the statement alone (a tenth of the object writer's time in a
// million-object import). Nothing is skipped unseen: fewer rows added, or
// other rowids, is an error, which rolls the import back.
func (im *importer) append(q string, n int, last int64, args []any) error {
	st, err := im.stmt(q)
	if err != nil {
		return err
	}
	res, err := st.ExecContext(im.ctx, args...)
	if err != nil {
		return err
	}
	added, err := res.RowsAffected()
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if added != int64(n) || (last != 0 && id != last) {
		return fmt.Errorf("%d of %d rows added, the last as rowid %d where %d was due", added, n, id, last)
	}
	return nil
}
