package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/cyberpact/cyberpact"
	"github.com/jackc/pgx/v5"
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
	var id int64
	err = db.pool.QueryRow(ctx, `INSERT INTO exercises (name, scenario, seed, speed, participants, state, engine, version, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id`,
		x.Name, []byte(x.Scenario), int64(x.Seed), x.Speed, parts, x.State, engineJSON(x.Engine), t.UnixMicro()).Scan(&id)
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

func scanExercise(row pgx.Row) (*cyberpact.Exercise, error) {
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

// Exercise returns one exercise.
func (db *DB) Exercise(ctx context.Context, id int64) (*cyberpact.Exercise, error) {
	x, err := scanExercise(db.pool.QueryRow(ctx, `SELECT `+exerciseColumns+` FROM exercises WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	if err != nil {
		return nil, internal("reading exercise", err)
	}
	return x, nil
}

// Exercises returns every exercise, oldest first.
func (db *DB) Exercises(ctx context.Context) ([]*cyberpact.Exercise, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+exerciseColumns+` FROM exercises ORDER BY id`)
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
// several serve processes advancing the same exercise, one wins and the
// others read its save and try again.
func (db *DB) UpdateExercise(ctx context.Context, x *cyberpact.Exercise) error {
	t := now()
	tag, err := db.pool.Exec(ctx, `UPDATE exercises SET state = $1, engine = $2, version = version + 1, updated = $3 WHERE id = $4 AND version = $5`,
		x.State, engineJSON(x.Engine), t.UnixMicro(), x.ID, x.Version)
	if err != nil {
		return internal("saving exercise", err)
	}
	if tag.RowsAffected() == 0 {
		var one int
		if err := db.pool.QueryRow(ctx, `SELECT 1 FROM exercises WHERE id = $1`, x.ID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", x.ID)
		}
		return cyberpact.Errorf(cyberpact.ECONFLICT, "exercise %d was saved by someone else since version %d", x.ID, x.Version)
	}
	x.Version++
	x.Updated = t
	return nil
}

// PurgeExercise deletes an exercise with every object version of its
// audiences (their search words are in the rows), their links, and the
// TAXII statuses of the participants' posts into it, in one transaction.
// The imports table keeps its rows: only sequence numbers and times.
func (db *DB) PurgeExercise(ctx context.Context, id int64) (int, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, internal("beginning purge", err)
	}
	defer tx.Rollback(ctx)
	var parts []byte
	err = tx.QueryRow(ctx, `DELETE FROM exercises WHERE id = $1 RETURNING participants`, id).Scan(&parts)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	if err != nil {
		return 0, internal("purging exercise", err)
	}
	rows, err := tx.Query(ctx, `DELETE FROM objects WHERE aud_kind IN ($1, $2) AND aud_group = $3 RETURNING seq, id`,
		int(cyberpact.AudienceExerciseOrg), int(cyberpact.AudienceExercise), id)
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
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, internal("purging exercise objects", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM refs WHERE seq = ANY($1)`, seqs); err != nil {
		return 0, internal("purging exercise links", err)
	}
	var orgs map[string]int64
	if err := json.Unmarshal(parts, &orgs); err != nil {
		return 0, internal("reading exercise participants", err)
	}
	var list []int64
	for _, o := range orgs {
		list = append(list, o)
	}
	srows, err := tx.Query(ctx, `SELECT id, body FROM statuses WHERE org = ANY($1)`, list)
	if err != nil {
		return 0, internal("reading statuses", err)
	}
	var drop []string
	for srows.Next() {
		var sid string
		var body []byte
		if err := srows.Scan(&sid, &body); err != nil {
			srows.Close()
			return 0, internal("reading statuses", err)
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
	srows.Close()
	if len(drop) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM statuses WHERE id = ANY($1)`, drop); err != nil {
			return 0, internal("purging exercise statuses", err)
		}
	}
	if err := notify(ctx, tx, "delete"); err != nil {
		return 0, internal("notifying the purge", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, internal("committing purge", err)
	}
	return len(seqs), nil
}
