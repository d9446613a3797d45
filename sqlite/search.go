package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// The derived indexes, full text and correlation, live in their own
// database file beside the objects, written through its own connection. SQLite lets one connection write a
// file at a time, so keeping the index in the objects' file would put its
// work (a third of an import) on the same single thread as the object
// inserts; in its own file it is written in parallel, on another core.
//
// An import writes both in step and commits the objects first, then the
// index, which records the highest sequence it covers. If the process stops
// between the two commits, the next Open indexes what is missing from the
// stored bodies (reindex), so search never loses committed objects.

// searchSchemaVersion is recorded in the index file's user_version; an
// index of another version is dropped and rebuilt from the stored objects
// (it holds nothing else).
const searchSchemaVersion = 6

const searchSchema = `
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    name,     -- name, and title-like properties
    ids,      -- external ids
    aliases,  -- aliases of any kind
    other,    -- description, pattern, values: one line each
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS indexed (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL          -- every object version with seq <= upto is indexed
);
INSERT OR IGNORE INTO indexed (id, upto) VALUES (1, 0);

-- Correlation ("who else has this value?"): the normalised observable
-- values of every version (SCO values and hashes, values inside indicator
-- patterns; see match.ObservableKey). A value held by as many versions of
-- one producer as the cap stops being indexed for that producer. Rows of
-- deleted versions are left: they join no object (a seq is never reused).
CREATE TABLE IF NOT EXISTS observables (
    key      TEXT    NOT NULL,   -- the normalised value
    seq      INTEGER NOT NULL,   -- the object version holding it
    kind     TEXT    NOT NULL,   -- ip, domain, url, email, md5, sha1, sha256, sha512, other
    producer INTEGER NOT NULL,   -- the version's producer
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
`

// dropSearchSchema removes an index of an older version.
const dropSearchSchema = `
DROP TABLE IF EXISTS search;
DROP TABLE IF EXISTS indexed;
DROP TABLE IF EXISTS observables;
DROP TABLE IF EXISTS observable_counts;
`

// searchChunk is how many versions' derived rows the import hands to the
// index writer at a time.
const searchChunk = 8192

// searchChunkBytes also ends a chunk once its text and correlation values
// reach it, so that the few chunks in flight (see searchTx) hold a
// bounded amount of text however long the objects' descriptions: with 4
// KB descriptions, 8,192 rows are 32 MB a chunk, and an import held four
// (issue 15). Every column counts: counting the name alone let chunks
// of long descriptions grow to the row bound again.
const searchChunkBytes = 1 << 20

// searchRow is one version's full-text row: its seq and its text in the
// columns a ranked search weighs (name, external ids, aliases) and the
// rest (description, pattern, values) in one column, which makes FTS5
// tokenize one value instead of three and bind fewer values per row. A
// quoted phrase never matches across two columns; within the last it may
// run from the description into the pattern.
type searchRow [5]any

type searchIndex struct {
	db  *sql.DB
	dir string // the directory of its file, where a bulk import's runs go (see bulkObservables.spill)
}

func openSearch(ctx context.Context, path string) (*searchIndex, error) {
	if err := create(ctx, path, searchPageSize); err != nil {
		return nil, fmt.Errorf("search index %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	fail := func(err error) (*searchIndex, error) {
		db.Close()
		return nil, fmt.Errorf("search index %s: %w", path, err)
	}
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fail(err)
	}
	if version == searchSchemaVersion {
		// Nothing to write: opening never waits for another process's
		// import, which holds the index's writer until it commits.
		return &searchIndex{db: db, dir: filepath.Dir(path)}, nil
	}
	// Derived data only, of another layout or none: drop it, and reindex
	// rebuilds it.
	if _, err := db.ExecContext(ctx, dropSearchSchema); err != nil {
		return fail(err)
	}
	if _, err := db.ExecContext(ctx, searchSchema); err != nil {
		return fail(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, searchSchemaVersion)); err != nil {
		return fail(err)
	}
	return &searchIndex{db: db, dir: filepath.Dir(path)}, nil
}

func (si *searchIndex) close() error { return si.db.Close() }

// searchTx is one import's share of the index: rows sent to it are written
// by its own goroutine inside a transaction that commits after the
// objects'.
type searchTx struct {
	tx      *sql.Tx
	rows    chan indexChunk
	done    chan error
	err     error
	cancel  context.CancelFunc
	corrCap int
	bulk    *bulkObservables // a bulk import's correlation rows, for commit to merge (set by the writer before done)
}

// indexChunk is one batch of derived rows: full text and, unless the
// versions belong to an exercise, correlation values. Bulk chunks come
// from an import in bulk mode (see bulk.go).
type indexChunk struct {
	drop  []int64 // versions replaced (cyberpact.ConflictReplace): their rows go
	text  []searchRow
	bytes int // the length of the text and correlation values held
	obs   []observableRow
	bulk  bool
}

// addVersion appends the derived rows of the version o, stored as seq:
// its full-text row and, unless it belongs to an exercise (whose values
// would count towards what the hub reports as common, and outlive a
// purge), its correlation values.
func (c *indexChunk) addVersion(seq int64, o *cyberpact.Object) {
	row := textRow(seq, o)
	for _, v := range row[1:] {
		if s, ok := v.(string); ok {
			c.bytes += len(s)
		}
	}
	c.text = append(c.text, row)
	if !o.Release.Audience.Kind.IsExercise() {
		start := len(c.obs)
		c.obs = appendObservables(c.obs, seq, o)
		for _, r := range c.obs[start:] {
			c.bytes += len(r.key)
		}
	}
}

// full reports whether the chunk is to be handed to the writer: at
// searchChunk versions, or at searchChunkBytes of text and values.
func (c *indexChunk) full() bool {
	return len(c.text) >= searchChunk || c.bytes >= searchChunkBytes
}

// begin starts an update of the derived indexes; corrCap is how many
// versions one observable value is indexed for.
func (si *searchIndex) begin(ctx context.Context, corrCap int) (*searchTx, error) {
	// A rollback cancels what the writer is doing (a bulk merge may take
	// seconds) instead of waiting for work that will be thrown away.
	ctx, cancel := context.WithCancel(ctx)
	tx, err := si.db.BeginTx(ctx, nil)
	if err != nil {
		cancel()
		return nil, internal("beginning search index update", err)
	}
	st := &searchTx{tx: tx, rows: make(chan indexChunk, 2), done: make(chan error, 1), cancel: cancel, corrCap: corrCap}
	text, err := tx.PrepareContext(ctx, `INSERT INTO search (rowid, name, ids, aliases, other) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		tx.Rollback()
		cancel()
		return nil, internal("beginning search index update", err)
	}
	obs, err := tx.PrepareContext(ctx, `INSERT INTO observables (key, seq, kind, producer) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		text.Close()
		tx.Rollback()
		cancel()
		return nil, internal("beginning search index update", err)
	}
	rows, done := st.rows, st.done
	go func() {
		bulk, err := writeIndex(ctx, tx, text, obs, rows, corrCap, si.dir)
		st.bulk = bulk
		done <- err
	}()
	return st, nil
}

// writeIndex writes the chunks from rows with the prepared INSERTs of the
// full-text and correlation tables, and closes them; everything it does to
// tx is done when it returns, so that the caller may commit. It returns
// the correlation rows of bulk chunks, for commit to merge.
func writeIndex(ctx context.Context, tx *sql.Tx, text, obs *sql.Stmt, rows <-chan indexChunk, corrCap int, dir string) (bulk *bulkObservables, err error) {
	defer text.Close()
	defer obs.Close()
	// The one-row statements run without the cancellable context: the
	// driver would watch it with a goroutine per statement (a tenth of the
	// writer's time); cancellation is checked once a chunk instead.
	rowCtx := context.WithoutCancel(ctx)
	for chunk := range rows {
		if err != nil {
			continue // drain
		}
		if err = ctx.Err(); err != nil {
			continue
		}
		if err = dropSearch(rowCtx, tx, chunk.drop); err != nil {
			continue
		}
		if err = insertSearch(rowCtx, text, chunk.text); err != nil {
			continue
		}
		if !chunk.bulk {
			err = storeObservables(rowCtx, tx, obs, chunk.obs, corrCap)
			continue
		}
		if bulk == nil {
			bulk = &bulkObservables{dir: dir}
			// Appending needs few pages cached (see goBulk).
			if _, err = tx.ExecContext(ctx, `PRAGMA cache_size = `+bulkCache); err != nil {
				err = internal("sizing the page cache", err)
				continue
			}
			defer tx.ExecContext(ctx, `PRAGMA cache_size = `+writerCache)
		}
		for _, r := range chunk.obs {
			if err = bulk.add(r); err != nil {
				break
			}
			if bulk.full() {
				if err = bulk.spill(); err != nil {
					break
				}
			}
		}
	}
	return bulk, err
}

// dropSearch deletes the full-text rows of the replaced versions seqs,
// as DeleteObject does; their correlation rows are left, joining no
// object, as those of deleted versions are.
func dropSearch(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	for _, seq := range seqs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM search WHERE rowid = ?`, seq); err != nil {
			return internal("dropping a replaced version from the search index", err)
		}
	}
	return nil
}

// insertSearch writes full-text rows one statement each: a statement
// that writes one row opens no statement journal, so FTS5 keeps
// accumulating terms in memory across statements and flushes them in
// large segments, where a multi-row statement would flush a segment each.
func insertSearch(ctx context.Context, ins *sql.Stmt, chunk []searchRow) error {
	for _, r := range chunk {
		if _, err := ins.ExecContext(ctx, r[:]...); err != nil {
			return internal("indexing objects for search", err)
		}
	}
	return nil
}

// add hands a chunk of rows to the writer; the chunk is the writer's now.
func (st *searchTx) add(chunk indexChunk) {
	if len(chunk.text) > 0 || len(chunk.obs) > 0 || len(chunk.drop) > 0 {
		if n := chunk.size(); n > largestChunk.Load() {
			largestChunk.Store(n)
		}
		st.rows <- chunk
	}
}

// largestChunk is the most bytes of text and values a chunk handed to an
// index writer held, for the tests (a few writers may race to raise it;
// a lost update only makes it smaller).
var largestChunk atomic.Int64

// size counts the bytes of text and values of the chunk's rows, as the
// tests check the count kept in bytes.
func (c *indexChunk) size() int64 {
	var n int64
	for _, r := range c.text {
		for _, v := range r[1:] {
			if s, ok := v.(string); ok {
				n += int64(len(s))
			}
		}
	}
	for _, r := range c.obs {
		n += int64(len(r.key))
	}
	return n
}

// end says no more rows will be added.
func (st *searchTx) end() {
	if st.rows != nil {
		close(st.rows)
		st.rows = nil
	}
}

// finish waits until every row added is written.
func (st *searchTx) finish() error {
	st.end()
	if st.done != nil {
		st.err = <-st.done
		st.done = nil
	}
	return st.err
}

// commit merges the correlation rows a bulk import staged, records upto
// as indexed and commits. The merge waits for commit, not for the end of
// the rows: the objects' commit comes first, then the copy of their WAL
// into their database on the writer connection (seconds, see
// checkpointAfterBulk), which the merge runs beside.
func (st *searchTx) commit(ctx context.Context, upto int64) error {
	defer st.cancel()
	if err := st.finish(); err != nil {
		st.freeBulk()
		st.tx.Rollback()
		return err
	}
	if st.bulk != nil {
		if err := st.bulk.merge(ctx, st.tx, st.corrCap); err != nil {
			st.tx.Rollback()
			return err
		}
	}
	if _, err := st.tx.ExecContext(ctx, `UPDATE indexed SET upto = MAX(upto, ?)`, upto); err != nil {
		st.tx.Rollback()
		return internal("recording search index progress", err)
	}
	if err := st.tx.Commit(); err != nil {
		return internal("committing search index", err)
	}
	return nil
}

// rollback drops everything this transaction wrote.
func (st *searchTx) rollback() {
	st.cancel()
	st.finish()
	st.freeBulk()
	st.tx.Rollback()
}

// freeBulk frees the bulk correlation rows that will not be merged.
func (st *searchTx) freeBulk() {
	if st.bulk != nil {
		st.bulk.free()
	}
}

// reindex indexes the stored versions the index does not cover yet: after
// a stop between an import's two commits, or for a data directory whose
// index file was removed.
func (db *DB) reindex(ctx context.Context) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return db.reindexLocked(ctx)
}

// reindexLocked is reindex with the write lock held.
func (db *DB) reindexLocked(ctx context.Context) error {
	var upto, last int64
	if err := db.search.db.QueryRowContext(ctx, `SELECT upto FROM indexed`).Scan(&upto); err != nil {
		return internal("reading search index progress", err)
	}
	if err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_seq), 0) FROM imports`).Scan(&last); err != nil {
		return internal("reading sequence", err)
	}
	if last <= upto {
		return nil
	}
	st, err := db.search.begin(ctx, db.correlationCap())
	if err != nil {
		return err
	}
	// Another process's import may have indexed its versions while this
	// one waited for the index's writer: read its progress again under
	// the writer.
	if err := st.tx.QueryRowContext(ctx, `SELECT upto FROM indexed`).Scan(&upto); err != nil {
		st.rollback()
		return internal("reading search index progress", err)
	}
	if last <= upto {
		st.rollback()
		return nil
	}
	rows, err := db.write.QueryContext(ctx, `SELECT seq, aud_kind, producer, body FROM objects WHERE seq > ? ORDER BY seq`, upto)
	if err != nil {
		st.rollback()
		return internal("reading objects to index", err)
	}
	var chunk indexChunk
	for rows.Next() {
		var seq, producer int64
		var kind int
		var body []byte
		if err := rows.Scan(&seq, &kind, &producer, &body); err != nil {
			rows.Close()
			st.rollback()
			return internal("reading objects to index", err)
		}
		o, err := stix.Parse(body)
		if err != nil {
			continue // stored bodies are valid; nothing to index otherwise
		}
		stored := o.Stored()
		stored.Release.Producer = producer
		stored.Release.Audience.Kind = cyberpact.AudienceKind(kind)
		chunk.addVersion(seq, stored)
		if chunk.full() {
			st.add(chunk)
			chunk = indexChunk{}
		}
	}
	rows.Close()
	st.add(chunk)
	return st.commit(ctx, last)
}
