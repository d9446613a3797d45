package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store implements the exercise store.
var _ cyberpact.ExerciseStore = (*Store)(nil)

const exerciseColumns = `id, name, scenario, seed, speed, participants, state, engine, version, created, updated`

// CreateExercise stores a new exercise, setting x's ID, Version, Created
// and Updated. Returns EINVALID without a scenario, a name or a speed.
func (s *Store) CreateExercise(ctx context.Context, x *cyberpact.Exercise) error {
	if x.Name == "" || x.Speed <= 0 || len(x.Scenario) == 0 {
		return cyberpact.Errorf(cyberpact.EINVALID, "an exercise needs a scenario, a name and a speed above 0")
	}
	parts, err := json.Marshal(x.Participants)
	if err != nil {
		return internal("encoding participants", err)
	}
	t := Now()
	defer s.lock()()
	a := s.d.Args()
	var id int64
	err = s.write.QueryRowContext(ctx, `INSERT INTO exercises (name, scenario, seed, speed, participants, state, engine, version, created, updated)
		VALUES (`+a.Add(x.Name)+`, `+a.Add([]byte(x.Scenario))+`, `+a.Add(int64(x.Seed))+`, `+a.Add(x.Speed)+`, `+a.Add(parts)+`, `+a.Add(x.State)+`, `+a.Add(engineJSON(x.Engine))+`, 1, `+a.Add(t.UnixMicro())+`, `+a.Add(t.UnixMicro())+`)
		RETURNING id`, a.Vals...).Scan(&id)
	if err != nil {
		return internal("creating exercise", err)
	}
	x.ID, x.Version, x.Created, x.Updated = id, 1, t, t
	return nil
}

func engineJSON(b json.RawMessage) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

func scanExercise(row interface{ Scan(...any) error }) (*cyberpact.Exercise, error) {
	var x cyberpact.Exercise
	var seed, created, updated int64
	var scenario, parts, engine []byte
	if err := row.Scan(&x.ID, &x.Name, &scenario, &seed, &x.Speed, &parts, &x.State, &engine, &x.Version, &created, &updated); err != nil {
		return nil, err
	}
	x.Scenario, x.Engine = scenario, engine
	x.Seed = uint64(seed)
	x.Created, x.Updated = micros(created), micros(updated)
	if err := json.Unmarshal(parts, &x.Participants); err != nil {
		return nil, err
	}
	return &x, nil
}

// Exercise returns one exercise. Returns ENOTFOUND.
func (s *Store) Exercise(ctx context.Context, id int64) (*cyberpact.Exercise, error) {
	a := s.d.Args()
	x, err := scanExercise(s.read.QueryRowContext(ctx, `SELECT `+exerciseColumns+` FROM exercises WHERE id = `+a.Add(id), a.Vals...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	if err != nil {
		return nil, internal("reading exercise", err)
	}
	return x, nil
}

// Exercises returns every exercise, oldest first.
func (s *Store) Exercises(ctx context.Context) ([]*cyberpact.Exercise, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+exerciseColumns+` FROM exercises ORDER BY id`)
	if err != nil {
		return nil, internal("listing exercises", err)
	}
	defer rows.Close()
	var out []*cyberpact.Exercise
	for rows.Next() {
		x, err := scanExercise(rows)
		if err != nil {
			return nil, internal("listing exercises", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing exercises", err)
	}
	return out, nil
}

// UpdateExercise saves x's state over the version it was read at: of
// several writers advancing the same exercise (several serve processes on
// one PostgreSQL database), one wins and the others read its save and try
// again. Returns ENOTFOUND, or ECONFLICT when x's version is not the
// stored one.
func (s *Store) UpdateExercise(ctx context.Context, x *cyberpact.Exercise) error {
	t := Now()
	defer s.lock()()
	a := s.d.Args()
	res, err := s.write.ExecContext(ctx, `UPDATE exercises SET state = `+a.Add(x.State)+`, engine = `+a.Add(engineJSON(x.Engine))+`, version = version + 1, updated = `+a.Add(t.UnixMicro())+`
		WHERE id = `+a.Add(x.ID)+` AND version = `+a.Add(x.Version), a.Vals...)
	if err != nil {
		return internal("saving exercise", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		a := s.d.Args()
		if ok, err := exists(ctx, s.write, `SELECT 1 FROM exercises WHERE id = `+a.Add(x.ID), a.Vals...); err == nil && !ok {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", x.ID)
		}
		return cyberpact.Errorf(cyberpact.ECONFLICT, "exercise %d was saved by someone else since version %d", x.ID, x.Version)
	}
	x.Version++
	x.Updated = t
	return nil
}

// PurgeExercise deletes an exercise with every object version of its
// audiences, their links, and the TAXII statuses of the participants'
// posts into it, in one transaction; the store's Purging hook removes what
// else it keeps of the versions (SQLite: their search index rows) before
// the purge commits. The imports table keeps its rows: they hold only
// sequence numbers and times, and the sequence must never be reused.
// Returns the number of versions deleted, or ENOTFOUND.
func (s *Store) PurgeExercise(ctx context.Context, id int64) (int, error) {
	defer s.lock()()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal("beginning purge", err)
	}
	defer tx.Rollback()
	var parts []byte
	a := s.d.Args()
	err = tx.QueryRowContext(ctx, `DELETE FROM exercises WHERE id = `+a.Add(id)+` RETURNING participants`, a.Vals...).Scan(&parts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	if err != nil {
		return 0, internal("purging exercise", err)
	}
	// Stats count no exercise version outside exercises; what the purge
	// may change of them is the ids also released outside
	// (StatsDeleting), which the log of deletes names, so that the counts
	// kept as of the last delete, in any process, are counted again.
	outside, err := s.releasedOutside(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	counted, err := s.StatsDeleting(ctx, tx, func() ([]string, error) { return outside, nil })
	if err != nil {
		return 0, err
	}
	a = s.d.Args()
	rows, err := tx.QueryContext(ctx, `DELETE FROM objects WHERE aud_kind IN (`+a.Add(int(cyberpact.AudienceExerciseOrg))+`, `+a.Add(int(cyberpact.AudienceExercise))+`) AND aud_group = `+a.Add(id)+`
		RETURNING seq, id`, a.Vals...)
	if err != nil {
		return 0, internal("purging exercise objects", err)
	}
	var seqs []int64
	ids := map[string]bool{}
	for rows.Next() {
		var seq int64
		var oid string
		if err := rows.Scan(&seq, &oid); err != nil {
			rows.Close()
			return 0, internal("purging exercise objects", err)
		}
		seqs = append(seqs, seq)
		ids[oid] = true
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, internal("purging exercise objects", err)
	}
	if err := s.purgeStatuses(ctx, tx, parts, ids); err != nil {
		return 0, err
	}
	for chunk := range slices.Chunk(seqs, s.d.chunk()) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM refs WHERE `+a.InInts("seq", chunk), a.Vals...); err != nil {
			return 0, internal("purging exercise links", err)
		}
	}
	if s.h.Purging != nil {
		if err := s.h.Purging(ctx, tx, seqs); err != nil {
			return 0, err
		}
	}
	for _, oid := range outside {
		if err := s.logDelete(ctx, tx, oid); err != nil {
			return 0, err
		}
	}
	if err := counted(); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, internal("committing purge", err)
	}
	if s.h.Changed != nil {
		s.h.Changed()
	}
	return len(seqs), nil
}

// releasedOutside is the ids of exercise id's versions that also have
// versions outside exercises.
func (s *Store) releasedOutside(ctx context.Context, tx *sql.Tx, id int64) ([]string, error) {
	a := s.d.Args()
	ids, err := queryStrings(ctx, tx, fmt.Sprintf(`SELECT DISTINCT o.id FROM objects o WHERE o.aud_kind IN (%d, %d) AND o.aud_group = `+a.Add(id)+`
		AND EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND n.aud_kind < %d)`, cyberpact.AudienceExerciseOrg, cyberpact.AudienceExercise, cyberpact.AudienceExerciseOrg), a.Vals...)
	if err != nil {
		return nil, internal("reading the exercise's ids", err)
	}
	return ids, nil
}

// purgeStatuses deletes the TAXII statuses of the participants' posts
// that name an object of the exercise: a status lists the ids it stored,
// and a post goes to one collection, so they are the exercise's.
func (s *Store) purgeStatuses(ctx context.Context, tx *sql.Tx, participants []byte, ids map[string]bool) error {
	var orgs map[string]int64
	if err := json.Unmarshal(participants, &orgs); err != nil {
		return internal("reading exercise participants", err)
	}
	if len(orgs) == 0 {
		return nil
	}
	list := make([]int64, 0, len(orgs))
	for _, o := range orgs {
		list = append(list, o)
	}
	a := s.d.Args()
	rows, err := tx.QueryContext(ctx, `SELECT id, body FROM statuses WHERE `+a.InInts("org", list), a.Vals...)
	if err != nil {
		return internal("reading statuses", err)
	}
	var drop []string
	for rows.Next() {
		var sid string
		var body []byte
		if err := rows.Scan(&sid, &body); err != nil {
			rows.Close()
			return internal("reading statuses", err)
		}
		var st cyberpact.Status
		if json.Unmarshal(body, &st) != nil {
			continue
		}
		for _, d := range append(append(st.Successes, st.Failures...), st.Pendings...) {
			if ids[d.ID] {
				drop = append(drop, sid)
				break
			}
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return internal("reading statuses", err)
	}
	for chunk := range slices.Chunk(drop, s.d.chunk()) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM statuses WHERE `+a.InStrings("id", chunk), a.Vals...); err != nil {
			return internal("purging exercise statuses", err)
		}
	}
	return nil
}
