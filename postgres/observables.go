package postgres

import (
	"context"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/jackc/pgx/v5"
)

// Ensure DB answers correlation queries.
var _ cyberpact.CorrelationStore = (*DB)(nil)

// SetCorrelationCap sets how many object versions one observable value is
// indexed for before it counts as common (n <= 0: the default,
// cyberpact.DefaultCorrelationCap). Set it before the first import; every
// process serving the same database should be given the same cap, since
// the count each import checks against it is shared.
func (db *DB) SetCorrelationCap(n int) { db.corrCap = n }

func (db *DB) correlationCap() int {
	if db.corrCap > 0 {
		return db.corrCap
	}
	return cyberpact.DefaultCorrelationCap
}

// stageObservables keeps the normalised observable values of obj, staged
// as row idx, each value once per version. Exercise objects are never
// correlated: their values would count towards what the hub reports as
// common, and outlive a purge.
func (im *importer) stageObservables(idx int, obj *cyberpact.Object) {
	if obj.Release.Audience.Kind.IsExercise() {
		return
	}
	start := len(im.obs)
next:
	for _, ob := range obj.Observables {
		key, k, ok := match.ObservableKey(ob.Kind, ob.Value)
		if !ok {
			continue
		}
		for _, r := range im.obs[start:] {
			if r[1] == key {
				continue next
			}
		}
		im.obs = append(im.obs, []any{idx, key, k.String()})
	}
}

// storeObservables writes the side table rows of the versions the import
// added (seq base+idx), in its transaction and under the import lock: it
// counts each value's new versions per producer in observable_counts and
// indexes a producer's versions of a value only while its count before
// them stays under the cap, so that no organisation's holdings crowd
// another's out of the index.
func (im *importer) storeObservables(ctx context.Context, tx pgx.Tx, base int64, limit int) error {
	if len(im.obs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_observables (idx integer, key text, kind text) ON COMMIT DROP`); err != nil {
		return internal("staging observable values", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_observables"}, []string{"idx", "key", "kind"}, pgx.CopyFromRows(im.obs)); err != nil {
		return internal("staging observable values", err)
	}
	// Only versions this import added have seq base+idx: a staged version
	// already stored (or refused as a conflict) joins nothing.
	if _, err := tx.Exec(ctx, `WITH s AS (
			SELECT t.key, t.kind, $1 + t.idx AS seq, o.producer FROM import_observables t JOIN objects o ON o.seq = $1 + t.idx),
		per AS (SELECT key, producer, count(*) AS n FROM s GROUP BY key, producer),
		up AS (
			INSERT INTO observable_counts AS c (key, producer, n) SELECT key, producer, n FROM per
			ON CONFLICT (key, producer) DO UPDATE SET n = c.n + excluded.n
			RETURNING c.key, c.producer, c.n),
		r AS (SELECT key, producer, seq, kind, row_number() OVER (PARTITION BY key, producer ORDER BY seq) AS rn FROM s)
		INSERT INTO observables (key, seq, kind, producer)
		SELECT r.key, r.seq, r.kind, r.producer FROM r
			JOIN up ON up.key = r.key AND up.producer = r.producer
			JOIN per ON per.key = r.key AND per.producer = r.producer
		WHERE up.n - per.n + r.rn <= $2
		ON CONFLICT DO NOTHING`, base, limit); err != nil {
		return internal("storing observable values", err)
	}
	return nil
}
