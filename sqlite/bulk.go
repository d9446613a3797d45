package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"sync/atomic"

	"github.com/cyberpact/cyberpact"
)

// Bulk imports. Keeping the (id, version) index up to date row by row costs
// a random B-tree insert per version: for an import of a million objects
// into a small store that is over half the writer's time, where building the
// index afterwards from sorted keys costs a fifth of it. So an import that
// has added bulkAfter versions, and more than twice as many as the store
// held before it, drops the indexes whose keys arrive in random order
// (objects_id_version, refs_target) inside its transaction, finds the
// versions it already holds in an in-memory table of (id, version) hashes
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

// versionSet maps hashes of (id, version) to the seqs holding them. Hashes
// may collide: a lookup yields every seq stored under the hash, and the
// caller compares the stored id and version.
type versionSet struct {
	seed  maphash.Seed
	slots []versionSlot // open addressing, linear probing; seq 0 is empty
	n     int
}

type versionSlot struct {
	h   uint64
	seq int64
}

func newVersionSet(capacity int) *versionSet {
	size := 1 << 16
	for size*3/4 < capacity {
		size *= 2
	}
	return &versionSet{seed: maphash.MakeSeed(), slots: make([]versionSlot, size)}
}

// idHash is the hash under which every stored version of id is also
// kept, for the holdings of an id (heldBulk).
func (s *versionSet) idHash(id string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(id)
	h.WriteByte(1)
	return h.Sum64()
}

func (s *versionSet) hash(id, version string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(id)
	h.WriteByte(0)
	h.WriteString(version)
	return h.Sum64()
}

func (s *versionSet) add(h uint64, seq int64) {
	if (s.n+1)*4 > len(s.slots)*3 {
		old := s.slots
		s.slots = make([]versionSlot, 2*len(old))
		s.n = 0
		for _, sl := range old {
			if sl.seq != 0 {
				s.add(sl.h, sl.seq)
			}
		}
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if s.slots[i].seq == 0 {
			s.slots[i] = versionSlot{h, seq}
			s.n++
			return
		}
	}
}

// lookup calls fn with each seq stored under h until fn returns true.
func (s *versionSet) lookup(h uint64, fn func(seq int64) bool) {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; s.slots[i].seq != 0; i = (i + 1) & mask {
		if s.slots[i].h == h && fn(s.slots[i].seq) {
			return
		}
	}
}

// goBulk switches the import to bulk mode if it has grown large enough
// against the store it started from.
func (im *importer) goBulk() error {
	added := int64(im.res.Added)
	if im.versions != nil || added < bulkAfter || added <= 2*im.start {
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
	vs := newVersionSet(2 * int(im.seq+added))
	rows, err := im.tx.QueryContext(im.ctx, `SELECT id, version, seq FROM objects INDEXED BY objects_id_version`)
	if err != nil {
		return internal("reading stored versions", err)
	}
	for rows.Next() {
		var id, version string
		var seq int64
		if err := rows.Scan(&id, &version, &seq); err != nil {
			rows.Close()
			return internal("reading stored versions", err)
		}
		vs.add(vs.hash(id, version), seq)
		vs.add(vs.idHash(id), seq)
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
	im.versions = vs
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
	// their memory.
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
// holding and looked up among the versions stored or added so far, and
// only new ones are inserted.
func (im *importer) flushBulk(batch []*cyberpact.Object) error {
	get, err := im.stmt(`SELECT id, holding, version, body FROM objects WHERE seq = ?`)
	if err != nil {
		return internal("reading stored version", err)
	}
	appending := im.appending
	args := make([]any, 0, (storedN+1)*len(batch))
	added := make([]*cyberpact.Object, 0, len(batch))
	seqs := make([]int64, 0, len(batch))
	first := im.seq + 1 // seq of the batch's first new version
	held := map[string][]cyberpact.Holding{}
	for _, o := range batch {
		if _, ok := held[o.ID]; !ok {
			if held[o.ID], err = im.heldBulk(o.ID); err != nil {
				return err
			}
		}
		if !im.admit(o, held, im.seq+1) {
			if im.err != nil {
				return im.err
			}
			continue
		}
		h := im.versions.hash(o.ID, o.Modified)
		var stored int64
		var body []byte
		im.versions.lookup(h, func(seq int64) bool {
			if seq >= first { // added earlier in this batch, not yet written
				p := added[seq-first]
				if p.ID == o.ID && p.Holding == o.Holding && p.Modified == o.Modified {
					stored, body = seq, []byte(p.Raw)
					return true
				}
				return false
			}
			var id, version string
			var holding int64
			var b []byte
			if err = get.QueryRowContext(im.ctx, seq).Scan(&id, &holding, &version, &b); err != nil {
				return true
			}
			if id == o.ID && holding == o.Holding && version == o.Modified {
				stored, body = seq, b
				return true
			}
			return false
		})
		if err != nil {
			return internal("reading stored version", err)
		}
		if stored != 0 {
			// Admitted as seq im.seq+1, which it does not take.
			hs := held[o.ID]
			held[o.ID] = hs[:len(hs)-1]
			im.judge(o, stored, body)
			continue
		}
		im.seq++
		im.versions.add(h, im.seq)
		im.versions.add(im.versions.idHash(o.ID), im.seq)
		added = append(added, o)
		seqs = append(seqs, im.seq)
		if !appending {
			args = append(args, im.seq)
		}
		args = rowArgs(args, o, im.added)
	}
	if len(added) == 0 {
		return nil
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

// heldBulk returns the stored versions of id in bulk mode, found through
// the version table (the id index is dropped).
func (im *importer) heldBulk(id string) ([]cyberpact.Holding, error) {
	get, err := im.stmt(`SELECT id, holding, producer, aud_kind, aud_group, tlp FROM objects WHERE seq = ?`)
	if err != nil {
		return nil, internal("reading stored versions", err)
	}
	var out []cyberpact.Holding
	im.versions.lookup(im.versions.idHash(id), func(seq int64) bool {
		var h cyberpact.Holding
		var got string
		var kind, tlp int
		if err = get.QueryRowContext(im.ctx, seq).Scan(&got, &h.Holding, &h.Release.Producer, &kind, &h.Release.Audience.Group, &tlp); err != nil {
			return true
		}
		if got == id {
			h.Seq = seq
			h.Release.Audience.Kind, h.Release.TLP = cyberpact.AudienceKind(kind), cyberpact.TLP(tlp)
			out = append(out, h)
		}
		return false
	})
	if err != nil {
		return nil, internal("reading stored versions", err)
	}
	return out, nil
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
