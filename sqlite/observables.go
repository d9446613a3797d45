package sqlite

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"io"
	"os"
	"slices"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"modernc.org/memory"
)

// Ensure DB answers correlation queries.
var _ cyberpact.CorrelationStore = (*DB)(nil)

// maxObservableRows bounds the values one query counts, under SQLite's
// limit on bound parameters.
const maxObservableRows = 3000

// SetCorrelationCap sets how many object versions one observable value is
// indexed for before it counts as common (n <= 0: the default,
// cyberpact.DefaultCorrelationCap). Set it before the first import.
func (db *DB) SetCorrelationCap(n int) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	db.corrCap = n
}

func (db *DB) correlationCap() int {
	if db.corrCap > 0 {
		return db.corrCap
	}
	return cyberpact.DefaultCorrelationCap
}

// observableRow is one value of one version for the side table.
type observableRow struct {
	key      string
	kind     string
	seq      int64
	producer int64 // the version's producer: the cap holds per producer
}

// appendObservables appends the normalised observable values of the
// version o, stored as seq, each value once.
func appendObservables(rows []observableRow, seq int64, o *cyberpact.Object) []observableRow {
	start := len(rows)
next:
	for _, ob := range o.Observables {
		key, k, ok := match.ObservableKey(ob.Kind, ob.Value)
		if !ok {
			continue
		}
		for _, r := range rows[start:] {
			if r.key == key {
				continue next
			}
		}
		rows = append(rows, observableRow{key: key, kind: k.String(), seq: seq, producer: o.Release.Producer})
	}
	return rows
}

// storeObservables writes correlation rows in the index's transaction with
// ins, the prepared single-row INSERT (see insertSearch for why one row),
// leaving out the rows of a value already held by limit versions of the
// same producer: the cap holds per producer, so that no organisation's
// holdings, however many and however hidden, crowd another's out of the
// index. How many versions hold a value is read from the rows themselves
// (an index probe per value, almost always finding none), not kept in a
// counter table whose upsert for every value cost a third of the index's
// time.
func storeObservables(ctx context.Context, tx *sql.Tx, ins *sql.Stmt, rows []observableRow, limit int) error {
	if len(rows) == 0 {
		return nil
	}
	var keys []any
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.key] {
			seen[r.key] = true
			keys = append(keys, r.key)
		}
	}
	type holder struct {
		key      string
		producer int64
	}
	held := make(map[holder]int)
	for len(keys) > 0 {
		n := min(len(keys), maxObservableRows)
		res, err := tx.QueryContext(ctx, `SELECT key, producer, COUNT(*) FROM observables WHERE key IN (`+placeholders(n)+`) GROUP BY key, producer`, keys[:n]...)
		if err != nil {
			return internal("counting observable values", err)
		}
		for res.Next() {
			var h holder
			var c int
			if err := res.Scan(&h.key, &h.producer, &c); err != nil {
				res.Close()
				return internal("counting observable values", err)
			}
			held[h] = c
		}
		if err := res.Close(); err != nil {
			return internal("counting observable values", err)
		}
		keys = keys[n:]
	}
	for _, r := range rows {
		h := holder{r.key, r.producer}
		if held[h] >= limit {
			continue
		}
		held[h]++
		if _, err := ins.ExecContext(ctx, r.key, r.seq, r.kind, r.producer); err != nil {
			return internal("storing observable values", err)
		}
	}
	return nil
}

// In bulk mode (see bulk.go) correlation rows are kept aside, in
// bulkObservables, and merged into observables in key order when the index
// commits: one sort instead of a random B-tree probe and insert per value.
// Past obsRunRows they go to sorted runs in a file, merged in one pass.

// bulkObservables holds a bulk import's correlation rows, encoded in
// blocks outside the Go heap: a million-object import has about 800,000,
// some 50 MB, which on the heap would raise the collector's target by
// twice as much again (GOGC). Staging them in an SQLite table instead cost
// a statement per row and a sort in SQL, five CPU-seconds against two.
type bulkObservables struct {
	alloc  memory.Allocator
	blocks [][]byte // each filled up to its length, within its capacity
	rows   []uint64 // block << 32 | offset of each row, in blocks

	dir     string   // where the runs file goes (see spill)
	runs    *os.File // the sorted runs spilled so far, one after the other
	ends    []int64  // where each run ends in runs
	written int64    // bytes written to runs
	removed bool     // runs has no name left to remove
}

// obsBlockSize is the size of the blocks rows are appended to.
const obsBlockSize = 4 << 20

// mergeBatch is how many rows one INSERT of the merge writes.
const mergeBatch = 512

// add appends a row: seq and producer (8 bytes each), then kind and key,
// each as its length (uvarint) and bytes.
func (b *bulkObservables) add(r observableRow) error {
	need := 16 + 2*binary.MaxVarintLen64 + len(r.kind) + len(r.key)
	last := len(b.blocks) - 1
	if last < 0 || cap(b.blocks[last])-len(b.blocks[last]) < need {
		blk, err := b.alloc.Malloc(max(obsBlockSize, need))
		if err != nil {
			return internal("staging observable values", err)
		}
		b.blocks = append(b.blocks, blk[:0])
		last++
	}
	blk := b.blocks[last]
	b.rows = append(b.rows, uint64(last)<<32|uint64(len(blk)))
	blk = binary.LittleEndian.AppendUint64(blk, uint64(r.seq))
	blk = binary.LittleEndian.AppendUint64(blk, uint64(r.producer))
	blk = append(binary.AppendUvarint(blk, uint64(len(r.kind))), r.kind...)
	blk = append(binary.AppendUvarint(blk, uint64(len(r.key))), r.key...)
	b.blocks[last] = blk
	return nil
}

// row decodes the row at ref.
func (b *bulkObservables) row(ref uint64) (seq, producer int64, kind, key []byte) {
	p := b.blocks[ref>>32][uint32(ref):]
	seq = int64(binary.LittleEndian.Uint64(p))
	producer = int64(binary.LittleEndian.Uint64(p[8:]))
	p = p[16:]
	n, w := binary.Uvarint(p)
	kind, p = p[w:w+int(n)], p[w+int(n):]
	n, w = binary.Uvarint(p)
	return seq, producer, kind, p[w : w+int(n)]
}

// obsSortKey is a row's place in the merge order, (key, seq): the first 16
// bytes of its key, zero-padded, as two big-endian integers (which compare
// as the bytes do), the key's length, its seq, and where the row is. Most
// comparisons end on these; reading the rows themselves, scattered over
// some 50 MB of blocks, cost the sort cache misses in every comparison (a
// million-object import's sort went from 0.95 to 0.40 CPU-seconds).
type obsSortKey struct {
	p0, p1 uint64
	seq    int64
	ref    uint64
	n      int
}

// sorted returns the rows in (key, seq) order.
func (b *bulkObservables) sorted() []obsSortKey {
	keys := make([]obsSortKey, len(b.rows))
	for i, ref := range b.rows {
		seq, _, _, key := b.row(ref)
		var pad [16]byte
		copy(pad[:], key)
		keys[i] = obsSortKey{p0: binary.BigEndian.Uint64(pad[:8]), p1: binary.BigEndian.Uint64(pad[8:]), seq: seq, ref: ref, n: len(key)}
	}
	slices.SortFunc(keys, func(x, y obsSortKey) int {
		if c := cmp.Compare(x.p0, y.p0); c != 0 {
			return c
		}
		if c := cmp.Compare(x.p1, y.p1); c != 0 {
			return c
		}
		if x.n > 16 && y.n > 16 {
			_, _, _, kx := b.row(x.ref)
			_, _, _, ky := b.row(y.ref)
			if c := bytes.Compare(kx[16:], ky[16:]); c != 0 {
				return c
			}
		} else if c := cmp.Compare(x.n, y.n); c != 0 {
			// Equal padded prefixes, one key of 16 bytes at most: it is
			// the other's beginning, so the shorter comes first.
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	return keys
}

// free returns the blocks to the system and removes the runs.
func (b *bulkObservables) free() {
	b.alloc.Close()
	b.blocks, b.rows = nil, nil
	if b.runs != nil {
		b.runs.Close()
		if !b.removed {
			os.Remove(b.runs.Name())
		}
		b.runs, b.ends, b.written = nil, nil, 0
	}
}

// release returns the blocks to the system and empties the rows, keeping
// their slice for the next run.
func (b *bulkObservables) release() {
	b.alloc.Close()
	b.blocks, b.rows = nil, b.rows[:0]
}

// merge writes the correlation rows into observables in (key, seq) order,
// then keeps for each value only as many versions, oldest first, as make
// limit with those already indexed, and frees the rows. The values that
// went over the cap (few: the cap is what makes a value common) lose their
// newest rows afterwards; the versions already indexed are older than any
// bulk one, so this keeps the same rows as capping each value on the way
// in. Rows that filled runs during the import (see spill) are merged from
// their file with those still staged, as a sorted run too.
func (b *bulkObservables) merge(ctx context.Context, tx *sql.Tx, limit int) error {
	defer b.free()
	// Appending needs few pages cached (see goBulk).
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = `+bulkCache); err == nil {
		defer tx.ExecContext(ctx, `PRAGMA cache_size = `+writerCache)
	}
	w, err := newObsWriter(ctx, tx)
	if err != nil {
		return err
	}
	defer w.close()
	if b.runs == nil {
		for _, sk := range b.sorted() {
			if err := w.add(b.row(sk.ref)); err != nil {
				return err
			}
		}
	} else {
		if err := b.spill(); err != nil {
			return err
		}
		if err := b.mergeRuns(w); err != nil {
			return err
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	// The count behind the cap sorts every row of the table: kept in
	// memory, as temporary storage is on this connection, the sort would
	// hold them all (some 200 MB more at the end of a three-million-object
	// import). SQLite refuses the switch if this connection has temporary
	// tables open; then the sort stays in memory.
	if _, err := tx.ExecContext(ctx, `PRAGMA temp_store = FILE`); err == nil {
		defer tx.ExecContext(ctx, `PRAGMA temp_store = MEMORY`)
	}
	return capObservables(ctx, tx, limit)
}

// obsRunRows is how many rows a bulk import stages in memory: past it they
// are sorted and written to a run in a file beside the index (spill), and
// merge reads the runs back in one pass. Staged, a row costs some 150
// bytes at the sort (about 50 in its block, 8 to find it, a sort key of 40
// on the heap, whose target the collector doubles), and an import has
// most of a row per object: the runs keep the import's memory from
// growing with it.
var obsRunRows = 1 << 18

// full reports whether the staged rows make a run to spill.
func (b *bulkObservables) full() bool { return len(b.rows) >= obsRunRows }

// spill appends the staged rows, in (key, seq) order, to the runs file as
// a new run, encoded as in the blocks, and frees them. The file is made in
// the index's directory on the first run and removed at once where the
// system allows (else by free): a run is the index's own data, which
// temporary directories held in memory would keep in memory again.
func (b *bulkObservables) spill() error {
	defer b.release()
	if len(b.rows) == 0 {
		return nil
	}
	if b.runs == nil {
		f, err := os.CreateTemp(b.dir, ".observables-*.run")
		if err != nil {
			return internal("staging observable values", err)
		}
		if os.Remove(f.Name()) == nil {
			b.removed = true
		}
		b.runs = f
	}
	w := bufio.NewWriterSize(b.runs, 1<<16)
	var buf []byte
	for _, sk := range b.sorted() {
		seq, producer, kind, key := b.row(sk.ref)
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(seq))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(producer))
		buf = append(binary.AppendUvarint(buf, uint64(len(kind))), kind...)
		buf = append(binary.AppendUvarint(buf, uint64(len(key))), key...)
		if _, err := w.Write(buf); err != nil {
			return internal("staging observable values", err)
		}
		b.written += int64(len(buf))
	}
	if err := w.Flush(); err != nil {
		return internal("staging observable values", err)
	}
	b.ends = append(b.ends, b.written)
	return nil
}

// mergeRuns hands w the rows of every run in (key, seq) order.
func (b *bulkObservables) mergeRuns(w *obsWriter) error {
	h := make(runHeap, 0, len(b.ends))
	var start int64
	for _, end := range b.ends {
		c := &runCursor{r: bufio.NewReaderSize(io.NewSectionReader(b.runs, start, end-start), 1<<16)}
		start = end
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		c := h[0]
		if err := w.add(c.seq, c.producer, c.kind, c.key); err != nil {
			return err
		}
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// runCursor reads one run: its current row, which the next read replaces.
type runCursor struct {
	r             *bufio.Reader
	seq, producer int64
	kind, key     []byte
}

// next reads the next row; false at the run's end.
func (c *runCursor) next() (bool, error) {
	var head [16]byte
	if _, err := io.ReadFull(c.r, head[:]); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, internal("reading staged observable values", err)
	}
	c.seq = int64(binary.LittleEndian.Uint64(head[:]))
	c.producer = int64(binary.LittleEndian.Uint64(head[8:]))
	var err error
	if c.kind, err = readBytes(c.r, c.kind); err == nil {
		c.key, err = readBytes(c.r, c.key)
	}
	if err != nil {
		return false, internal("reading staged observable values", err)
	}
	return true, nil
}

// readBytes reads a length (uvarint) and as many bytes, into buf's array
// when it is large enough.
func readBytes(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err = io.ReadFull(r, buf)
	return buf, err
}

// runHeap orders the runs' cursors by their rows' (key, seq).
type runHeap []*runCursor

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// obsWriter inserts correlation rows, given in key order, mergeBatch to a
// statement. (A multi-row statement makes FTS5 flush the terms it holds
// for the same transaction: merge runs once every full-text row is in.)
type obsWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	full  *sql.Stmt
	kinds map[string]string
	args  []any
}

func newObsWriter(ctx context.Context, tx *sql.Tx) (*obsWriter, error) {
	full, err := tx.PrepareContext(ctx, `INSERT INTO observables (key, seq, kind, producer) VALUES `+rowsOf(mergeBatch, 4)+` ON CONFLICT DO NOTHING`)
	if err != nil {
		return nil, internal("merging observable values", err)
	}
	return &obsWriter{ctx: ctx, tx: tx, full: full, kinds: map[string]string{}, args: make([]any, 0, 4*mergeBatch)}, nil
}

// add inserts a row, or keeps it for the next full statement.
func (w *obsWriter) add(seq, producer int64, kind, key []byte) error {
	k, ok := w.kinds[string(kind)]
	if !ok {
		k = string(kind)
		w.kinds[k] = k
	}
	w.args = append(w.args, string(key), seq, k, producer)
	if len(w.args) < cap(w.args) {
		return nil
	}
	if _, err := w.full.ExecContext(w.ctx, w.args...); err != nil {
		return internal("merging observable values", err)
	}
	w.args = w.args[:0]
	return nil
}

// flush inserts the rows kept.
func (w *obsWriter) flush() error {
	if len(w.args) == 0 {
		return nil
	}
	if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO observables (key, seq, kind, producer) VALUES `+rowsOf(len(w.args)/4, 4)+` ON CONFLICT DO NOTHING`, w.args...); err != nil {
		return internal("merging observable values", err)
	}
	w.args = w.args[:0]
	return nil
}

func (w *obsWriter) close() { w.full.Close() }

// capObservables deletes the newest rows of values held by more than
// limit versions of one producer.
func capObservables(ctx context.Context, tx *sql.Tx, limit int) error {
	rows, err := tx.QueryContext(ctx, `SELECT key, producer FROM observables GROUP BY key, producer HAVING COUNT(*) > ?`, limit)
	if err != nil {
		return internal("capping observable values", err)
	}
	type holder struct {
		key      string
		producer int64
	}
	var over []holder
	for rows.Next() {
		var h holder
		if err := rows.Scan(&h.key, &h.producer); err != nil {
			rows.Close()
			return internal("capping observable values", err)
		}
		over = append(over, h)
	}
	if err := rows.Close(); err != nil {
		return internal("capping observable values", err)
	}
	for _, h := range over {
		if _, err := tx.ExecContext(ctx, `DELETE FROM observables WHERE key = ?1 AND producer = ?3 AND seq > (SELECT seq FROM observables WHERE key = ?1 AND producer = ?3 ORDER BY seq LIMIT 1 OFFSET ?2)`, h.key, limit-1, h.producer); err != nil {
			return internal("capping observable values", err)
		}
	}
	return nil
}
