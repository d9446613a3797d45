package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/cyberpact/cyberpact"
)

// Ensure DB implements the exercise store.
var _ cyberpact.ExerciseStore = (*DB)(nil)

const exerciseColumns = `id, name, scenario, seed, speed, participants, state, engine, version, created, updated`

// CreateExercise stores a new exercise.
func (db *DB) CreateExercise(ctx context.Context, x *cyberpact.Exercise) error {
	if x.Name == "" || x.Speed <= 0 || len(x.Scenario) == 0 {
		return cyberpact.Errorf(cyberpact.EINVALID, "an exercise needs a scenario, a name and a speed above 0")
	}
	parts, err := json.Marshal(x.Participants)
	if err != nil {
		return internal("encoding participants", err)
	}
	t := now()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	var id int64
	err = db.write.QueryRowContext(ctx, `INSERT INTO exercises (name, scenario, seed, speed, participants, state, engine, version, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
		x.Name, []byte(x.Scenario), int64(x.Seed), x.Speed, parts, x.State, engineJSON(x.Engine), t.UnixMicro(), t.UnixMicro()).Scan(&id)
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

func scanExercise(s scanner) (*cyberpact.Exercise, error) {
	var x cyberpact.Exercise
	var seed, created, updated int64
	var scenario, parts, engine []byte
	if err := s.Scan(&x.ID, &x.Name, &scenario, &seed, &x.Speed, &parts, &x.State, &engine, &x.Version, &created, &updated); err != nil {
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

// Exercise returns one exercise.
func (db *DB) Exercise(ctx context.Context, id int64) (*cyberpact.Exercise, error) {
	x, err := scanExercise(db.read.QueryRowContext(ctx, `SELECT `+exerciseColumns+` FROM exercises WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	if err != nil {
		return nil, internal("reading exercise", err)
	}
	return x, nil
}

// Exercises returns every exercise, oldest first.
func (db *DB) Exercises(ctx context.Context) ([]*cyberpact.Exercise, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+exerciseColumns+` FROM exercises ORDER BY id`)
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

// UpdateExercise saves x's state over the version it was read at.
func (db *DB) UpdateExercise(ctx context.Context, x *cyberpact.Exercise) error {
	t := now()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	res, err := db.write.ExecContext(ctx, `UPDATE exercises SET state = ?, engine = ?, version = version + 1, updated = ? WHERE id = ? AND version = ?`,
		x.State, engineJSON(x.Engine), t.UnixMicro(), x.ID, x.Version)
	if err != nil {
		return internal("saving exercise", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := db.write.QueryRowContext(ctx, `SELECT 1 FROM exercises WHERE id = ?`, x.ID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", x.ID)
		}
		return cyberpact.Errorf(cyberpact.ECONFLICT, "exercise %d was saved by someone else since version %d", x.ID, x.Version)
	}
	x.Version++
	x.Updated = t
	return nil
}

// PurgeExercise deletes an exercise with every object version of its
// audiences, their links and their search index rows (provenance goes
// with the objects). The imports table keeps its rows: they hold only
// sequence numbers and times, and the sequence must never be reused.
func (db *DB) PurgeExercise(ctx context.Context, id int64) (int, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal("beginning purge", err)
	}
	defer tx.Rollback()
	var parts []byte
	err = tx.QueryRowContext(ctx, `DELETE FROM exercises WHERE id = ? RETURNING participants`, id).Scan(&parts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	if err != nil {
		return 0, internal("purging exercise", err)
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM objects WHERE aud_kind IN (?, ?) AND aud_group = ? RETURNING seq, id`,
		cyberpact.AudienceExerciseOrg, cyberpact.AudienceExercise, id)
	if err != nil {
		return 0, internal("purging exercise objects", err)
	}
	var seqs []any
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
	rows.Close()
	if err := purgeStatuses(ctx, tx, parts, ids); err != nil {
		return 0, err
	}
	n := len(seqs)
	for len(seqs) > 0 {
		chunk := seqs[:min(len(seqs), 500)]
		seqs = seqs[len(chunk):]
		if _, err := tx.ExecContext(ctx, `DELETE FROM refs WHERE seq IN (`+placeholders(len(chunk))+`)`, chunk...); err != nil {
			return 0, internal("purging exercise links", err)
		}
		// As in DeleteObject: the index rows go before the objects commit.
		if _, err := db.search.db.ExecContext(ctx, `DELETE FROM search WHERE rowid IN (`+placeholders(len(chunk))+`)`, chunk...); err != nil {
			return 0, internal("purging exercise search rows", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, internal("committing purge", err)
	}
	db.changes.notify()
	return n, nil
}

// purgeStatuses deletes the TAXII statuses of the participants' posts
// that name an object of the exercise: a status lists the ids it stored,
// and a post goes to one collection, so they are the exercise's.
func purgeStatuses(ctx context.Context, tx *sql.Tx, participants []byte, ids map[string]bool) error {
	var orgs map[string]int64
	if err := json.Unmarshal(participants, &orgs); err != nil {
		return internal("reading exercise participants", err)
	}
	var drop []any
	for _, org := range orgs {
		rows, err := tx.QueryContext(ctx, `SELECT id, body FROM statuses WHERE org = ?`, org)
		if err != nil {
			return internal("reading statuses", err)
		}
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
		rows.Close()
	}
	if len(drop) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM statuses WHERE id IN (`+placeholders(len(drop))+`)`, drop...); err != nil {
		return internal("purging exercise statuses", err)
	}
	return nil
}
