package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/uuid"
)

// Ensure Store keeps anonymous submitters, counted sightings and
// retention rules.
var (
	_ cyberpact.AnonymityStore     = (*Store)(nil)
	_ cyberpact.SightingCountStore = (*Store)(nil)
	_ cyberpact.RetentionStore     = (*Store)(nil)
)

// hubIdentitySetting names the hub's identity id in hub_settings.
const hubIdentitySetting = "hub_identity"

// HubIdentity returns the hub's identity id, made at the first call.
func (s *Store) HubIdentity(ctx context.Context) (string, error) {
	read := func() (string, error) {
		var v string
		a := s.d.Args()
		err := s.write.QueryRowContext(ctx, `SELECT value FROM hub_settings WHERE name = `+a.Add(hubIdentitySetting), a.Vals...).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return v, err
	}
	v, err := read()
	if err != nil {
		return "", internal("reading the hub identity", err)
	}
	if v != "" {
		return v, nil
	}
	a := s.d.Args()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO hub_settings (name, value) VALUES (`+a.Add(hubIdentitySetting)+`, `+a.Add("identity--"+uuid.NewString())+`)
		ON CONFLICT (name) DO NOTHING`, a.Vals...); err != nil {
		return "", internal("making the hub identity", err)
	}
	if v, err = read(); err != nil {
		return "", internal("reading the hub identity", err)
	}
	return v, nil
}

// AnonymousHoldings returns the statement that records submitter as the
// anonymous submitter of every holding the import's versions after seq
// start went into, for the store to run in the import's transaction once
// its versions are stored; a holding already recorded keeps its
// submitter (Admit puts an anonymous version only into its own
// submitter's holding or a new one). Nil when submitter is 0.
func AnonymousHoldings(d Dialect, submitter, start int64) *Statement {
	if submitter == 0 {
		return nil
	}
	a := d.Args()
	return &Statement{`INSERT INTO anonymous_holdings (holding, id, org) SELECT DISTINCT holding, id, CAST(` + a.Add(submitter) + ` AS BIGINT)` +
		` FROM objects WHERE seq > ` + a.Add(start) + ` AND producer = 0 ON CONFLICT (holding) DO NOTHING`, a.Vals}
}

// HeldSubmitter is the SQL expression, over a row of objects, of the
// organisation that published its holding anonymously (0 for none): the
// Submitter of a cyberpact.Holding.
const HeldSubmitter = `CASE WHEN objects.producer = 0 THEN COALESCE((SELECT ah.org FROM anonymous_holdings ah WHERE ah.holding = objects.holding), 0) ELSE 0 END`

// AnonymousSubmitter returns who published the holding anonymously, 0
// for none.
func (s *Store) AnonymousSubmitter(ctx context.Context, holding int64) (int64, error) {
	var org int64
	a := s.d.Args()
	err := s.read.QueryRowContext(ctx, `SELECT org FROM anonymous_holdings WHERE holding = `+a.Add(holding), a.Vals...).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, internal("reading anonymous submitter", err)
	}
	return org, nil
}

// CountSightings records sighting versions as counted; see
// cyberpact.SightingCountStore.
func (s *Store) CountSightings(ctx context.Context, org int64, of string, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	defer s.lock()()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("counting sightings", err)
	}
	defer tx.Rollback()
	for _, seq := range seqs {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO counted_sightings (seq, of, org) VALUES (`+a.Add(seq)+`, `+a.Add(of)+`, `+a.Add(org)+`) ON CONFLICT (seq) DO NOTHING`, a.Vals...); err != nil {
			return internal("counting sightings", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return internal("counting sightings", err)
	}
	return nil
}

// SectorSightings counts, per sector, the distinct organisations that
// reported of as counted, of the sighting versions still stored.
func (s *Store) SectorSightings(ctx context.Context, of string) (map[string]int, error) {
	a := s.d.Args()
	rows, err := s.read.QueryContext(ctx, `SELECT g.sector, COUNT(DISTINCT c.org) FROM counted_sightings c
		JOIN objects x ON x.seq = c.seq JOIN orgs g ON g.id = c.org
		WHERE c.of = `+a.Add(of)+` GROUP BY g.sector`, a.Vals...)
	if err != nil {
		return nil, internal("counting sightings", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sector string
		var n int
		if err := rows.Scan(&sector, &n); err != nil {
			return nil, internal("counting sightings", err)
		}
		out[sector] = n
	}
	return out, rows.Err()
}

// SetRetention adds or changes a retention rule, audited.
func (s *Store) SetRetention(ctx context.Context, r *cyberpact.RetentionRule, actor string) error {
	if err := r.Check(); err != nil {
		return err
	}
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		if r.Group != 0 {
			a := s.d.Args()
			if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE id = `+a.Add(r.Group), a.Vals...); err != nil {
				return "", internal("setting retention", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no sharing group %d", r.Group)
			}
		}
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `INSERT INTO retention (grp, type, days) VALUES (`+a.Add(r.Group)+`, `+a.Add(r.Type)+`, `+a.Add(r.Days)+`)
			ON CONFLICT (grp, type) DO UPDATE SET days = excluded.days RETURNING id`, a.Vals...).Scan(&r.ID)
		if err != nil {
			return "", internal("setting retention", err)
		}
		return fmt.Sprintf("retention rule %d set: %s", r.ID, r), nil
	})
}

// RetentionRules returns every rule, by group and type.
func (s *Store) RetentionRules(ctx context.Context) (cyberpact.RetentionRules, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, grp, type, days FROM retention ORDER BY grp, type`)
	if err != nil {
		return nil, internal("reading retention rules", err)
	}
	defer rows.Close()
	out := cyberpact.RetentionRules{}
	for rows.Next() {
		var r cyberpact.RetentionRule
		if err := rows.Scan(&r.ID, &r.Group, &r.Type, &r.Days); err != nil {
			return nil, internal("reading retention rules", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RemoveRetention deletes a rule, audited.
func (s *Store) RemoveRetention(ctx context.Context, id int64, actor string) error {
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		a := s.d.Args()
		res, err := tx.ExecContext(ctx, `DELETE FROM retention WHERE id = `+a.Add(id), a.Vals...)
		if err != nil {
			return "", internal("removing retention", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no retention rule %d", id)
		}
		return fmt.Sprintf("retention rule %d removed", id), nil
	})
}

// Candidates calls fn with every version outside exercises added before
// before.
func (s *Store) Candidates(ctx context.Context, before time.Time, fn func(cyberpact.Candidate) error) error {
	a := s.d.Args()
	rows, err := s.read.QueryContext(ctx, `SELECT seq, id, type, added, aud_kind, aud_group FROM objects
		WHERE added < `+a.Add(ToMicros(before))+` AND aud_kind NOT IN (`+a.Add(int(cyberpact.AudienceExerciseOrg))+`, `+a.Add(int(cyberpact.AudienceExercise))+`)`, a.Vals...)
	if err != nil {
		return internal("reading purge candidates", err)
	}
	var cs []cyberpact.Candidate
	for rows.Next() {
		var c cyberpact.Candidate
		var added int64
		var kind int
		if err := rows.Scan(&c.Seq, &c.ID, &c.Type, &added, &kind, &c.Audience.Group); err != nil {
			rows.Close()
			return internal("reading purge candidates", err)
		}
		c.Added, c.Audience.Kind = micros(added), cyberpact.AudienceKind(kind)
		cs = append(cs, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return internal("reading purge candidates", err)
	}
	for _, c := range cs {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// seqTables are the shared tables that hold rows of object versions by
// their seq, which a purge deletes and its verification counts.
var seqTables = []string{"objects", "refs", "provenance", "notifications", "counted_sightings"}

// idTables are the shared tables (and their id column) that hold rows
// naming an object id, which a purge deletes once no version of the id is
// left.
var idTables = [][2]string{{"anonymous_holdings", "id"}, {"deletes", "id"}, {"sync_failures", "id"}}

// PurgeVersions removes the versions seqs and every row derived from
// them, in one transaction: their rows in the shared tables (seqTables),
// then, for ids of which no version is left, the rows naming them
// (idTables, the log of deletes included), and what the engine keeps of
// its own (the Purge hook: search terms, correlation rows, a change
// notice); it logs one delete without an id, which makes live indexes
// rebuild (the purged ids' own lines are gone). Returns the number of
// versions removed and the ids no longer held.
func (s *Store) PurgeVersions(ctx context.Context, seqs []int64) (int, []string, error) {
	if len(seqs) == 0 {
		return 0, nil, nil
	}
	defer s.lock()()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, internal("beginning purge", err)
	}
	defer tx.Rollback()
	counted, err := s.StatsDeleting(ctx, tx, func() ([]string, error) { return s.idsOf(ctx, tx, seqs) })
	if err != nil {
		return 0, nil, err
	}
	var purged []int64
	idSet := map[string]bool{}
	for chunk := range slices.Chunk(seqs, s.d.chunk()) {
		a := s.d.Args()
		rows, err := tx.QueryContext(ctx, `DELETE FROM objects WHERE `+a.InInts("seq", chunk)+` RETURNING seq, id`, a.Vals...)
		if err != nil {
			return 0, nil, internal("purging objects", err)
		}
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				rows.Close()
				return 0, nil, internal("purging objects", err)
			}
			purged = append(purged, seq)
			idSet[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, nil, internal("purging objects", err)
		}
	}
	for _, t := range seqTables[1:] {
		for chunk := range slices.Chunk(purged, s.d.chunk()) {
			a := s.d.Args()
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE `+a.InInts("seq", chunk), a.Vals...); err != nil {
				return 0, nil, internal("purging "+t, err)
			}
		}
	}
	ids := make([]string, 0, len(idSet))
	for id := range idSet {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var gone []string
	for chunk := range slices.Chunk(ids, s.d.chunk()) {
		a := s.d.Args()
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT id FROM objects WHERE `+a.InStrings("id", chunk), a.Vals...)
		if err != nil {
			return 0, nil, internal("purging objects", err)
		}
		left := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, nil, internal("purging objects", err)
			}
			left[id] = true
		}
		rows.Close()
		for _, id := range chunk {
			if !left[id] {
				gone = append(gone, id)
			}
		}
	}
	for _, t := range idTables {
		for chunk := range slices.Chunk(gone, s.d.chunk()) {
			if t[0] == "deletes" {
				// The last line of the log stays, without its id: the last
				// delete's number must never be drawn again (SQLite takes
				// the highest left plus one), or counts kept as of it
				// (Stats) would pass for counts after this purge.
				a := s.d.Args()
				if _, err := tx.ExecContext(ctx, `UPDATE deletes SET id = '' WHERE n = (SELECT MAX(n) FROM deletes) AND `+a.InStrings("id", chunk), a.Vals...); err != nil {
					return 0, nil, internal("purging deletes", err)
				}
			}
			a := s.d.Args()
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t[0]+` WHERE `+a.InStrings(t[1], chunk), a.Vals...); err != nil {
				return 0, nil, internal("purging "+t[0], err)
			}
		}
	}
	if s.h.Purge != nil {
		if err := s.h.Purge(ctx, tx, purged); err != nil {
			return 0, nil, err
		}
	}
	// The purge's line goes before counted(), which saves the classes as
	// of the last line: saved after it, they would pass for older than
	// this purge and the next Stats would count the whole store again.
	if err := s.logDelete(ctx, tx, ""); err != nil {
		return 0, nil, err
	}
	if err := counted(); err != nil {
		return 0, nil, err
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, internal("committing purge", err)
	}
	if s.h.Changed != nil {
		s.h.Changed()
	}
	return len(purged), gone, nil
}

// idsOf is the ids of the versions seqs.
func (s *Store) idsOf(ctx context.Context, tx *sql.Tx, seqs []int64) ([]string, error) {
	set := map[string]bool{}
	for chunk := range slices.Chunk(seqs, s.d.chunk()) {
		a := s.d.Args()
		ids, err := queryStrings(ctx, tx, `SELECT DISTINCT id FROM objects WHERE `+a.InInts("seq", chunk), a.Vals...)
		if err != nil {
			return nil, internal("reading the ids purged", err)
		}
		for _, id := range ids {
			set[id] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// Residue counts what the shared tables, and the engine (the Residue
// hook), still hold of the versions seqs and the ids gone.
func (s *Store) Residue(ctx context.Context, seqs []int64, gone []string) ([]string, error) {
	var out []string
	count := func(table, cond string, a *Args) error {
		var n int64
		if err := s.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+cond, a.Vals...).Scan(&n); err != nil {
			return internal("verifying the purge", err)
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s: %d rows", table, n))
		}
		return nil
	}
	for _, t := range seqTables {
		for chunk := range slices.Chunk(seqs, s.d.chunk()) {
			a := s.d.Args()
			if err := count(t, a.InInts("seq", chunk), a); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range append([][2]string{{"objects", "id"}}, idTables...) {
		for chunk := range slices.Chunk(gone, s.d.chunk()) {
			a := s.d.Args()
			if err := count(t[0], a.InStrings(t[1], chunk), a); err != nil {
				return nil, err
			}
		}
	}
	if s.h.Residue != nil {
		more, err := s.h.Residue(ctx, seqs)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}
