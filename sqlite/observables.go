package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
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

// bulkObservables holds a bulk import's correlation rows, encoded in
// blocks outside the Go heap: a million-object import has about 800,000,
// some 50 MB, which on the heap would raise the collector's target by
// twice as much again (GOGC). Staging them in an SQLite table instead cost
// a statement per row and a sort in SQL, five CPU-seconds against two.
type bulkObservables struct {
	alloc  memory.Allocator
	blocks [][]byte // each filled up to its length, within its capacity
	rows   []uint64 // block << 32 | offset of each row, in blocks
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

// free returns the blocks to the system.
func (b *bulkObservables) free() {
	b.alloc.Close()
	b.blocks, b.rows = nil, nil
}

// merge writes the rows into observables in key order, keeping for each
// value only as many versions, oldest first, as make limit with those
// already indexed, and frees the rows. The values that went over the cap
// (few: the cap is what makes a value common) lose their newest rows
// afterwards; the versions already indexed are older than any bulk one, so
// this keeps the same rows as capping each value on the way in.
func (b *bulkObservables) merge(ctx context.Context, tx *sql.Tx, limit int) error {
	defer b.free()
	// Appending needs few pages cached (see goBulk).
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = `+bulkCache); err == nil {
		defer tx.ExecContext(ctx, `PRAGMA cache_size = `+writerCache)
	}
	order := b.sorted()
	// The full-text rows are all written: a multi-row statement may now
	// make FTS5 flush (see insertSearch), which the commit does anyway.
	full, err := tx.PrepareContext(ctx, `INSERT INTO observables (key, seq, kind, producer) VALUES `+rowsOf(mergeBatch, 4)+` ON CONFLICT DO NOTHING`)
	if err != nil {
		return internal("merging observable values", err)
	}
	defer full.Close()
	kinds := map[string]string{}
	args := make([]any, 0, 4*mergeBatch)
	for i, sk := range order {
		seq, producer, kind, key := b.row(sk.ref)
		k, ok := kinds[string(kind)]
		if !ok {
			k = string(kind)
			kinds[k] = k
		}
		args = append(args, string(key), seq, k, producer)
		if len(args) < cap(args) && i < len(b.rows)-1 {
			continue
		}
		if len(args) == cap(args) {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO observables (key, seq, kind, producer) VALUES `+rowsOf(len(args)/4, 4)+` ON CONFLICT DO NOTHING`, args...)
		}
		if err != nil {
			return internal("merging observable values", err)
		}
		args = args[:0]
	}
	return capObservables(ctx, tx, limit)
}

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
