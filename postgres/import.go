package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/jackc/pgx/v5"
)

// NotifyChannel is the channel every committed change to the objects
// notifies (pg_notify, delivered at commit), for listeners that follow the
// added sequence (LISTEN; see changes.go). The payload is "SEQ SCHEMA" for
// an import that added versions, SEQ the Seq of its last new version, and
// "delete SCHEMA" for a delete; SCHEMA is the schema the store lives in,
// since channels are shared by every schema of a database.
const NotifyChannel = "cyberpact_objects"

// notify queues, in tx, the notification of a change: what is "delete" or
// the last Seq added.
func notify(ctx context.Context, tx pgx.Tx, what string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2::text || ' ' || current_schema())`, NotifyChannel, what)
	return err
}

// An import runs in one transaction in two phases.
//
// First, without any lock, the objects are read from the source and
// streamed with COPY into a temporary table: decoding, validation and the
// transfer, most of an import's time, run in parallel with other imports.
//
// Then it takes the import lock (a transaction-scoped advisory lock, one
// per schema) and holds it until it commits: reads where the added
// sequence stands, inserts the staged rows with seqs after it, records
// the import, commits. Since
// seqs are assigned and committed under one lock, imports commit in seq
// order: a reader that has seen seq N will never later see a new version
// with a seq at or below N, which is what TAXII paging by added_after and
// next relies on. A plain sequence (bigserial) would not do: a transaction
// that drew lower numbers could commit after one that drew higher ones,
// behind a cursor already handed out. Added times come from the database's
// clock under the same lock, equal within an import and strictly
// increasing across imports, whatever the clocks of the processes.
//
// Versions already stored are left out of the INSERT by an anti-join (NOT
// EXISTS) rather than ON CONFLICT DO NOTHING: every insert into objects
// happens under the import lock, so nothing can slip in between, and the
// anti-join inserts 100,000 versions in about half the time of ON
// CONFLICT's per-row speculative insertion (measured: ON CONFLICT 4.0 s, the anti-join 2.2 s for 100,000 rows). The unique
// index stays as the guard.

// importer is the COPY source of one import: it pulls objects from the
// source, rejects what must be, and yields the rest as rows.
//
// Everything the import keeps of a staged object goes into its staged row
// (where it was in the input, its relationship links and its observable
// values included), not into memory: the only thing held per object is
// its entry in seen, 36 bytes of digests, so that a million-object import
// stays well under 512 MB (BENCHMARKS.md).
type importer struct {
	next cyberpact.ObjectSource
	opts cyberpact.ImportOptions
	res  *cyberpact.ImportResult

	n    int                  // objects staged, the last idx
	seen map[[16]byte]seenRow // digest of (id, version) -> first staged row of it
	dups []dup                // later copies whose content differs
	// copies are the positions (index, line) of the later identical
	// copies of each staged row, counted present: if admit refuses the
	// row, they are refused with it, as SQLite refuses each copy.
	copies map[int32][][2]int
	vals   []any
	terms  *cyberpact.Terms // the agreements and marking definitions every version passes (Terms.Mark)
	err    error            // the error that ended the input, if any
	inErr  bool             // err came from the source (input), not from the store
}

// seenRow is the first staged row of a version and a digest of its bytes.
type seenRow struct {
	idx int32
	sum [16]byte
}

// versionKey is the digest seen is keyed by: 128 bits of SHA-256 of the id
// and version, collision-free in practice, in place of the two strings.
func versionKey(id, version string) (k [16]byte) {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(version))
	copy(k[:], h.Sum(nil))
	return k
}

// staged is where a staged row came from, read back from the staging
// table for a rejection.
type staged struct {
	index, line int
	id, version string
	createdBy   string
}

// dup is a version that appeared twice in the input with different bytes:
// compared with the first once it is staged.
type dup struct {
	first int
	obj   *cyberpact.Object
}

func (im *importer) Next() bool {
	for {
		obj, err := im.next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			if rs, ok := cyberpact.RejectionsOf(err); ok {
				im.res.Rejected = append(im.res.Rejected, rs...)
				im.terms.Note(rs...)
				continue
			}
			im.err, im.inErr = err, true
			return false
		}
		if obj.Release, err = im.opts.Release(obj); err != nil {
			var r *cyberpact.Rejection
			if !errors.As(err, &r) {
				im.err = err // the store's, not the input's
				return false
			}
			im.res.Rejected = append(im.res.Rejected, r)
			im.terms.Note(r)
			continue
		}
		if rel, rej := im.terms.Mark(obj, obj.Release); rej != nil {
			im.res.Rejected = append(im.res.Rejected, rej)
			continue
		} else {
			obj.Release = rel
		}
		if why := cyberpact.RefuseRelease(obj.Release); why != "" {
			rej := &cyberpact.Rejection{Index: obj.Index, Line: obj.Line, ID: obj.ID, Modified: obj.Modified, Path: "object_marking_refs", Reason: why}
			im.res.Rejected = append(im.res.Rejected, rej)
			im.terms.Note(rej)
			continue
		}
		k := versionKey(obj.ID, obj.Modified)
		full := sha256.Sum256(obj.Raw)
		sum := [16]byte(full[:16])
		if first, ok := im.seen[k]; ok {
			if first.sum == sum {
				im.res.Present++
				if im.copies == nil {
					im.copies = map[int32][][2]int{}
				}
				im.copies[first.idx] = append(im.copies[first.idx], [2]int{obj.Index, obj.Line})
			} else {
				im.dups = append(im.dups, dup{int(first.idx), obj})
			}
			continue
		}
		im.n++
		im.seen[k] = seenRow{int32(im.n), sum}
		im.vals = stageVals(im.n, obj)
		return true
	}
}

// stageVals is the staged row of obj as idx, in the order of stageCols.
func stageVals(idx int, obj *cyberpact.Object) []any {
	labels := obj.Labels
	if labels == nil {
		labels = []string{}
	}
	rel := obj.Release
	props, targets := make([]string, len(obj.Refs)), make([]string, len(obj.Refs))
	for i, r := range obj.Refs {
		props[i], targets[i] = r.Prop, r.ID
	}
	keys, kinds := observablesOf(obj)
	return []any{idx, obj.ID, obj.Modified, obj.Type, obj.Revoked, rel.Producer, int16(rel.Audience.Kind), rel.Audience.Group,
		int16(rel.TLP), string(rel.Marks), obj.SpecVersion, labels, []byte(obj.Raw), tsVector(&obj.Text), cyberpact.BodySum(obj.Raw),
		int32(obj.Index), int32(obj.Line), obj.CreatedBy, props, targets, keys, kinds}
}

// restage puts obj in place of the staged row idx, an earlier copy of the
// same id and modified in the input (ConflictReplace: the last copy wins).
// Called before the staged links are copied to the database.
func (im *importer) restage(ctx context.Context, tx pgx.Tx, idx int, obj *cyberpact.Object) error {
	if _, err := tx.Exec(ctx, `DELETE FROM import_objects WHERE idx = $1`, idx); err != nil {
		return internal("restaging an object", err)
	}
	vals := stageVals(idx, obj)
	ph := make([]string, len(vals))
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO import_objects (`+strings.Join(stageCols, ", ")+`) VALUES (`+strings.Join(ph, ", ")+`)`, vals...); err != nil {
		return internal("restaging an object", err)
	}
	return nil
}

func (im *importer) Values() ([]any, error) { return im.vals, nil }

func (im *importer) Err() error { return im.err }

// stageCols are the staged row's columns: the object's own, then where it
// was in the input (pos, line), its creator, its relationship links (the
// property and target of each) and its observable values (the key and
// kind of each, observables.go).
var stageCols = []string{"idx", "id", "version", "type", "revoked", "producer", "aud_kind", "aud_group", "tlp", "marks", "spec_version", "labels", "body", "search", "sum",
	"pos", "line", "created_by", "ref_props", "ref_targets", "obs_keys", "obs_kinds"}

// Import adds the objects from next in one transaction; see
// cyberpact.ObjectStore and the comment above on the order of seqs.
func (db *DB) Import(ctx context.Context, next cyberpact.ObjectSource, opts cyberpact.ImportOptions) (*cyberpact.ImportResult, error) {
	// Personal data is redacted before anything is staged (see
	// sqlstore.Redacting); the originals commit with the objects.
	next, red, err := db.Store.Redacting(ctx, next, opts)
	if err != nil {
		return nil, err
	}
	res := &cyberpact.ImportResult{}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, internal("beginning import", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_objects (
			idx integer, holding bigint, id text, version text, type text, revoked boolean, producer bigint, aud_kind smallint,
			aud_group bigint, tlp smallint, marks text, spec_version text, labels text[], body bytea, search text, sum bigint,
			pos integer, line integer, created_by text, ref_props text[], ref_targets text[], obs_keys text[], obs_kinds text[]) ON COMMIT DROP`); err != nil {
		return nil, internal("staging import", err)
	}
	terms, err := db.Store.TermsFor(ctx, opts)
	if err != nil {
		return nil, err
	}
	// Marking definitions later in the input come before the objects
	// that refer to them (Terms.Ordered), so that Mark knows them.
	im := &importer{next: terms.Ordered(next), opts: opts, res: res, seen: map[[16]byte]seenRow{}, terms: terms}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"import_objects"}, stageCols, im)
	if im.inErr {
		err = im.err
		switch {
		case cyberpact.ErrorCode(err) != cyberpact.EINTERNAL:
			return nil, err
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		return nil, &cyberpact.Error{Code: cyberpact.EINVALID, Message: err.Error(), Err: err}
	}
	if err != nil {
		return nil, internal("staging objects", err)
	}
	im.seen = nil
	if err := im.compareDups(ctx, tx); err != nil {
		return nil, err
	}

	// The second phase, under the import lock until commit.
	if _, err := tx.Exec(ctx, lockSQL(lockImport)); err != nil {
		return nil, internal("taking the import lock", err)
	}
	var base, added int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(last_seq), 0),
			GREATEST((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, COALESCE(MAX(added), 0) + 1)
		FROM imports`).Scan(&base, &added); err != nil {
		return nil, internal("reading sequence", err)
	}
	if err := im.admit(ctx, tx, base); err != nil {
		return nil, err
	}
	var n int
	var first, last *int64
	if err := tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO objects (seq, holding, id, version, type, added, revoked, producer, aud_kind, aud_group, tlp, marks, spec_version, labels, body, search, sum, sole)
			SELECT $1 + idx, holding, id, version, type, $2, revoked, producer, aud_kind, aud_group, tlp, marks, spec_version, labels, body, search::tsvector, sum,
				t.staged_of_id = 1 AND NOT EXISTS (SELECT 1 FROM objects s WHERE s.id = t.id)
			FROM (SELECT *, count(*) OVER (PARTITION BY id) AS staged_of_id FROM import_objects) t
			WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.id = t.id AND o.holding = t.holding AND o.version = t.version)
			RETURNING seq)
		SELECT count(*), min(seq), max(seq) FROM ins`, base, added).Scan(&n, &first, &last); err != nil {
		return nil, internal("storing objects", err)
	}
	res.Added = n
	if n > 0 {
		res.FirstSeq, res.LastSeq = *first, *last
	}
	if n < im.n {
		replace, err := im.compareStored(ctx, tx, base)
		if err != nil {
			return nil, err
		}
		if err := im.replaceHeld(ctx, tx, base, added, replace); err != nil {
			return nil, err
		}
		n = res.Added
	}
	if n > 0 {
		// The versions an id had are sole no longer once it has another
		// (see the sole column).
		if _, err := tx.Exec(ctx, `UPDATE objects o SET sole = false WHERE o.sole AND o.seq <= $1
			AND o.id IN (SELECT t.id FROM import_objects t JOIN objects n ON n.seq = $1 + t.idx)`, base); err != nil {
			return nil, internal("storing objects", err)
		}
	}
	if n > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO refs (seq, prop, target)
			SELECT o.seq, r.prop, r.target FROM import_objects t JOIN objects o ON o.seq = $1 + t.idx
				CROSS JOIN LATERAL unnest(t.ref_props, t.ref_targets) AS r(prop, target)
			WHERE t.ref_props <> '{}'`, base); err != nil {
			return nil, internal("storing relationship links", err)
		}
	}
	if n > 0 {
		if err := im.storeObservables(ctx, tx, base, db.correlationCap()); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(res.Rejected, func(i, j int) bool { return res.Rejected[i].Index < res.Rejected[j].Index })
	if len(res.Rejected) > 0 && !opts.Partial {
		return res, nil // rolled back by the deferred Rollback
	}
	if n > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO imports (last_seq, first_seq, added) VALUES ($1, $2, $3)`, base+int64(im.n), res.FirstSeq, added); err != nil {
			return nil, internal("recording the import", err)
		}
		if err := recordOrigin(ctx, tx, opts.Origin, res.FirstSeq, res.LastSeq); err != nil {
			return nil, err
		}
		if err := notify(ctx, tx, strconv.FormatInt(res.LastSeq, 10)); err != nil {
			return nil, internal("notifying the import", err)
		}
	}
	for _, st := range red.Statements(dialect, base) {
		if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
			return nil, internal("keeping the originals of redacted objects", err)
		}
	}
	if st := sqlstore.AnonymousHoldings(dialect, opts.Submitter, base); st != nil {
		if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
			return nil, internal("recording the anonymous submitter", err)
		}
	}
	if err := savePeerState(ctx, tx, &opts, res); err != nil {
		return nil, err
	}
	// The import's audit entry commits in its transaction, or neither does.
	audited := func() {}
	if n > 0 && opts.Audit != nil {
		if audited, err = appendAudit(ctx, tx, []*cyberpact.AuditEntry{opts.Audit(res)}); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, internal("committing import", err)
	}
	audited()
	res.Committed, res.Audited = true, n > 0 && opts.Audit != nil
	return res, nil
}

// admit places every staged version in its holding (cyberpact.Admit),
// under the import lock: the versions of ids already held are decided one
// by one from what is stored of their ids; the refused ones are rejected
// and unstaged; every other version starts a new holding, numbered by the
// seq of its producer's first staged version of the id (base + idx).
func (im *importer) admit(ctx context.Context, tx pgx.Tx, base int64) error {
	rows, err := tx.Query(ctx, `SELECT t.idx, t.pos, t.line, t.id, t.version, t.created_by, t.type, t.producer, t.aud_kind, t.aud_group, t.tlp, t.marks,
			o.seq, o.holding, o.producer, o.aud_kind, o.aud_group, o.tlp, o.marks,
			COALESCE(convert_from(o.body, 'UTF8')::jsonb->>'created_by_ref', ''), EXISTS (SELECT 1 FROM provenance p WHERE p.seq = o.seq),
			`+strings.ReplaceAll(sqlstore.HeldSubmitter, "objects.", "o.")+`
		FROM import_objects t JOIN objects o ON o.id = t.id ORDER BY t.idx`)
	if err != nil {
		return internal("reading stored versions", err)
	}
	type stagedHeld struct {
		obj  cyberpact.Object
		held []cyberpact.Holding
		from staged
	}
	var byIdx []*stagedHeld
	for rows.Next() {
		var idx int
		var st staged
		var typ string
		var r, h cyberpact.Release
		var rk, rt, hk, ht int16
		var hd cyberpact.Holding
		if err := rows.Scan(&idx, &st.index, &st.line, &st.id, &st.version, &st.createdBy, &typ, &r.Producer, &rk, &r.Audience.Group, &rt, &r.Marks, &hd.Seq, &hd.Holding, &h.Producer, &hk, &h.Audience.Group, &ht, &h.Marks, &hd.CreatedBy, &hd.Federated, &hd.Submitter); err != nil {
			rows.Close()
			return internal("reading stored versions", err)
		}
		r.Audience.Kind, r.TLP = cyberpact.AudienceKind(rk), cyberpact.TLP(rt)
		h.Audience.Kind, h.TLP = cyberpact.AudienceKind(hk), cyberpact.TLP(ht)
		hd.Release = h
		if len(byIdx) == 0 || byIdx[len(byIdx)-1].obj.Index != idx {
			byIdx = append(byIdx, &stagedHeld{obj: cyberpact.Object{Index: idx, ID: st.id, Modified: st.version, Type: typ, Release: r, CreatedBy: st.createdBy}, from: st})
		}
		last := byIdx[len(byIdx)-1]
		last.held = append(last.held, hd)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal("reading stored versions", err)
	}
	groups := map[int64][]int64{}
	var setIdx, refused []int32
	var setHolding, setProducer []int64
	for _, sh := range byIdx {
		p := sh.obj.Release.Producer
		if im.opts.Submitter != 0 {
			p = im.opts.Submitter // Admit decides by what the submitter may see
		}
		g, ok := groups[p]
		if !ok {
			if g, err = groupsOf(ctx, tx, p); err != nil {
				return err
			}
			groups[p] = g
		}
		h, producer, rej := cyberpact.Admit(&sh.obj, sh.held, g, im.opts.Origin != nil, im.opts.Submitter)
		switch {
		case rej != nil:
			refused = append(refused, int32(sh.obj.Index))
			same, err := im.sameAs(ctx, tx, sh.obj.Index, h)
			if err != nil {
				return err
			}
			if same {
				im.res.Present++
				continue
			}
			rej.Index, rej.Line = sh.from.index, sh.from.line
			im.res.Rejected = append(im.res.Rejected, rej)
			for _, c := range im.copies[int32(sh.obj.Index)] {
				im.res.Present--
				r := *rej
				r.Index, r.Line = c[0], c[1]
				im.res.Rejected = append(im.res.Rejected, &r)
			}
		case h != 0:
			setIdx = append(setIdx, int32(sh.obj.Index))
			setHolding = append(setHolding, h)
			setProducer = append(setProducer, producer)
		}
	}
	if len(setIdx) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE import_objects t SET holding = u.h, producer = u.p
			FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS u(idx, h, p) WHERE t.idx = u.idx`, setIdx, setHolding, setProducer); err != nil {
			return internal("placing versions in their holdings", err)
		}
	}
	if len(refused) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM import_objects WHERE idx = ANY($1::int[])`, refused); err != nil {
			return internal("leaving out refused versions", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE import_objects t SET holding = $1 + m.first
		FROM (SELECT id, producer, MIN(idx) AS first FROM import_objects WHERE holding IS NULL GROUP BY id, producer) m
		WHERE t.holding IS NULL AND m.id = t.id AND m.producer = t.producer`, base); err != nil {
		return internal("placing versions in new holdings", err)
	}
	return nil
}

// sameAs reports whether holding h of the staged version idx's id holds
// that version with the same content.
func (im *importer) sameAs(ctx context.Context, tx pgx.Tx, idx int, h int64) (bool, error) {
	var in, stored []byte
	err := tx.QueryRow(ctx, `SELECT t.body, o.body FROM import_objects t JOIN objects o ON o.id = t.id AND o.holding = $2 AND o.version = t.version
		WHERE t.idx = $1`, idx, h).Scan(&in, &stored)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, internal("reading stored version", err)
	}
	return bytes.Equal(in, stored) || stix.JSONEqual(in, stored), nil
}

// compareDups decides for each version repeated in the input with other
// bytes whether it is the same JSON (present) or a conflict.
func (im *importer) compareDups(ctx context.Context, tx pgx.Tx) error {
	for _, d := range im.dups {
		var body []byte
		if err := tx.QueryRow(ctx, `SELECT body FROM import_objects WHERE idx = $1`, d.first).Scan(&body); err != nil {
			return internal("reading a staged object", err)
		}
		if stix.JSONEqual(body, d.obj.Raw) {
			im.res.Present++
			continue
		}
		o := d.obj
		switch im.opts.OnConflict {
		case cyberpact.ConflictKeepStored:
			im.res.Kept++
		case cyberpact.ConflictReplace:
			if err := im.restage(ctx, tx, d.first, o); err != nil {
				return err
			}
		default:
			im.res.Rejected = append(im.res.Rejected, &cyberpact.Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified,
				Reason: cyberpact.ConflictReason(o.Modified, true)})
		}
	}
	im.dups = nil
	return nil
}

// compareStored decides for each staged version that was already stored
// whether it is the same (present) or different (a conflict, which the
// policy settles: rejected, kept, or returned to be replaced). Equal
// bytes are settled by the database; only differing bodies come back to
// be compared as JSON.
func (im *importer) compareStored(ctx context.Context, tx pgx.Tx, base int64) (replace []int32, err error) {
	rows, err := tx.Query(ctx, `SELECT t.idx, t.pos, t.line, t.id, t.version, CASE WHEN t.body <> o.body THEN t.body END, CASE WHEN t.body <> o.body THEN o.body END
		FROM import_objects t JOIN objects o ON o.id = t.id AND o.holding = t.holding AND o.version = t.version
		WHERE o.seq <> $1 + t.idx`, base)
	if err != nil {
		return nil, internal("reading stored versions", err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx int
		var s staged
		var in, stored []byte
		if err := rows.Scan(&idx, &s.index, &s.line, &s.id, &s.version, &in, &stored); err != nil {
			return nil, internal("reading stored versions", err)
		}
		if in == nil || stix.JSONEqual(in, stored) {
			im.res.Present++
			continue
		}
		switch im.opts.OnConflict {
		case cyberpact.ConflictKeepStored:
			im.res.Kept++
			continue
		case cyberpact.ConflictReplace:
			replace = append(replace, int32(idx))
			continue
		}
		im.res.Rejected = append(im.res.Rejected, &cyberpact.Rejection{Index: s.index, Line: s.line, ID: s.id, Modified: s.version,
			Reason: cyberpact.ConflictReason(s.version, false)})
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading stored versions", err)
	}
	return replace, nil
}

// replaceHeld stores the staged versions idxs (ConflictReplace) in place
// of the stored versions with the same id and modified in the same
// holding, their producer's own: the stored ones are deleted with their
// links and the staged ones added as base+idx, like the rest of the
// import, so that the links and correlation values stored after this
// join them. The replaced versions are listed in the result.
func (im *importer) replaceHeld(ctx context.Context, tx pgx.Tx, base, added int64, idxs []int32) error {
	if len(idxs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `DELETE FROM objects o USING import_objects t
		WHERE t.idx = ANY($1::int[]) AND o.id = t.id AND o.holding = t.holding AND o.version = t.version
		RETURNING o.seq, o.id, o.version`, idxs)
	if err != nil {
		return internal("replacing stored versions", err)
	}
	var seqs []int64
	var ids []string
	for rows.Next() {
		var seq int64
		var id, version string
		if err := rows.Scan(&seq, &id, &version); err != nil {
			rows.Close()
			return internal("replacing stored versions", err)
		}
		seqs = append(seqs, seq)
		ids = append(ids, id)
		im.res.Replaced = append(im.res.Replaced, id+"@"+version)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal("replacing stored versions", err)
	}
	sort.Strings(im.res.Replaced)
	if _, err := tx.Exec(ctx, `DELETE FROM refs WHERE seq = ANY($1)`, seqs); err != nil {
		return internal("replacing stored versions' links", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO deletes (n, id) SELECT COALESCE((SELECT MAX(n) FROM deletes), 0) + row_number() OVER (), id
		FROM unnest($1::text[]) AS u(id)`, ids); err != nil {
		return internal("logging the replacements", err)
	}
	var n int
	var first, last *int64
	if err := tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO objects (seq, holding, id, version, type, added, revoked, producer, aud_kind, aud_group, tlp, marks, spec_version, labels, body, search, sum, sole)
			SELECT $1 + idx, holding, id, version, type, $2, revoked, producer, aud_kind, aud_group, tlp, marks, spec_version, labels, body, search::tsvector, sum,
				NOT EXISTS (SELECT 1 FROM objects s WHERE s.id = t.id)
			FROM import_objects t WHERE t.idx = ANY($3::int[])
			RETURNING seq)
		SELECT count(*), min(seq), max(seq) FROM ins`, base, added, idxs).Scan(&n, &first, &last); err != nil {
		return internal("storing objects", err)
	}
	if n > 0 {
		if im.res.Added == 0 || *first < im.res.FirstSeq {
			im.res.FirstSeq = *first
		}
		im.res.LastSeq = max(im.res.LastSeq, *last)
		im.res.Added += n
	}
	return nil
}
