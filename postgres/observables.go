package postgres

import (
	"context"
	"slices"

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

// observablesOf returns the normalised observable values of obj, each
// value once, as the keys and kinds its staged row carries. Exercise
// objects are never correlated: their values would count towards what the
// hub reports as common, and outlive a purge.
func observablesOf(obj *cyberpact.Object) (keys, kinds []string) {
	keys, kinds = []string{}, []string{}
	if obj.Release.Audience.Kind.IsExercise() {
		return keys, kinds
	}
	for _, ob := range obj.Observables {
		key, k, ok := match.ObservableKey(ob.Kind, ob.Value)
		if !ok || slices.Contains(keys, key) {
			continue
		}
		keys, kinds = append(keys, key), append(kinds, k.String())
	}
	return keys, kinds
}

// storeObservables writes the side table rows of the versions the import
// added (seq base+idx), in its transaction and under the import lock: it
// counts each value's new versions per producer in observable_counts and
// indexes a producer's versions of a value only while its count before
// them stays under the cap, so that no organisation's holdings crowd
// another's out of the index.
func (im *importer) storeObservables(ctx context.Context, tx pgx.Tx, base int64, limit int) error {
	// Only versions this import added have seq base+idx: a staged version
	// already stored (or refused as a conflict) joins nothing.
	if _, err := tx.Exec(ctx, `WITH s AS (
			SELECT u.key, u.kind, o.seq, o.producer FROM import_objects t JOIN objects o ON o.seq = $1 + t.idx
				CROSS JOIN LATERAL unnest(t.obs_keys, t.obs_kinds) AS u(key, kind)
			WHERE t.obs_keys <> '{}'),
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
