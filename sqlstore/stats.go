package sqlstore

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Stats are counted from the class counts (see classes.go) kept once for
// the store as of its last Seq and delete and brought up to date from
// what was stored since: a call costs what was added since the last call
// of any viewer, the classes and the ids counted apart (the rest), not
// what the store holds. Nothing is done at write time but for deletes,
// whose transactions bring the kept classes past them (StatsDeleting), so
// imports cost what they did. The classes are also saved in the store
// (stats_kept), for the next process: `cyberpact stats` counts what was
// stored since the last call, whichever process made it. Inside an
// exercise, whose objects are few, counts are read from the objects.

// statsCache is the classes this process keeps.
type statsCache struct {
	build   sync.Mutex // one caller brings the classes up to date at a time
	mu      sync.Mutex
	classes *classState // the newest classes, as of their Seq and delete
	pending *statsSave  // classes waiting to be saved
	saving  bool        // saveLoop runs
	saved   time.Time   // when saveLoop last started
	saves   sync.WaitGroup
	builds  atomic.Int64 // classes built from the whole store
}

// StatsBuilds is how many times this process counted the classes of the
// whole store (buildClasses): once per store, unless deletes were made
// without them (tests hold that a viewer's first call and a call after a
// delete do not).
func (s *Store) StatsBuilds() int64 { return s.stats.builds.Load() }

// CountStats counts per type what the viewer is shown (q.Stats): the
// classes it may see and the rest's counts.
func (s *Store) CountStats(ctx context.Context, q *Objects, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	if viewer != nil && viewer.Exercise != 0 {
		m, err := s.statsRun(ctx, s.read, q.Stats(viewer))
		if err != nil {
			return nil, err
		}
		return sortedStats(m), nil
	}
	tx, c, err := s.classesNow(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	m := map[string]cyberpact.TypeStats{}
	var members map[[2]int64]bool
	if viewer != nil {
		if members, err = groupMembersNow(ctx, tx); err != nil {
			return nil, err
		}
	}
	c.count(viewer, members, m)
	if err := s.statsOfIDs(ctx, tx, q, cyberpact.ObjectFilter{Viewer: viewer}, slices.Sorted(maps.Keys(c.rest)), m); err != nil {
		return nil, err
	}
	for t, c := range m {
		if c.Versions == 0 {
			delete(m, t)
		}
	}
	return sortedStats(m), nil
}

// WarmStats brings the classes up to date (builds them, the first time),
// so that the first Stats call does not: serve calls it at start.
func (s *Store) WarmStats(ctx context.Context) error {
	tx, _, err := s.classesNow(ctx)
	if err != nil {
		return err
	}
	return tx.Rollback()
}

// classesNow begins the read transaction of a count and returns the
// classes as of its snapshot: this process's or the store's kept ones
// when made since the last delete, brought up to date, else built.
func (s *Store) classesNow(ctx context.Context) (*sql.Tx, *classState, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.Numbered {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for the state and the counts
	}
	s.stats.build.Lock()
	defer s.stats.build.Unlock()
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, nil, internal("counting objects", err)
	}
	ok := false
	defer func() {
		if !ok {
			tx.Rollback()
		}
	}()
	var seq, deletes int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(last_seq) FROM imports), 0), COALESCE((SELECT MAX(n) FROM deletes), 0)`).Scan(&seq, &deletes); err != nil {
		return nil, nil, internal("counting objects", err)
	}
	usable := func(c *classState) bool { return c != nil && c.deletes == deletes && c.seq <= seq }
	s.stats.mu.Lock()
	c := s.stats.classes
	s.stats.mu.Unlock()
	if !usable(c) || c.seq < seq {
		k, err := s.loadClasses(ctx, tx, false)
		if err != nil {
			return nil, nil, err
		}
		if usable(k) && (!usable(c) || k.seq > c.seq) {
			c = k
		}
	}
	switch {
	case usable(c) && c.seq == seq:
	case usable(c) && c.seq > 0: // as of Seq 0 nothing was stored (AsOf 0 is no bound)
		if c, err = s.updateClasses(ctx, tx, c, seq); err != nil {
			return nil, nil, err
		}
		s.saveClasses(c, false)
	default:
		if c, err = s.buildClasses(ctx, tx, seq, deletes); err != nil {
			return nil, nil, err
		}
		s.saveClasses(c, true)
	}
	s.stats.mu.Lock()
	if k := s.stats.classes; k == nil || k.deletes != c.deletes || k.seq <= c.seq {
		s.stats.classes = c
	}
	s.stats.mu.Unlock()
	ok = true
	return tx, c, nil
}

// saveClasses keeps the classes for later calls and other processes, in
// the background: Stats never waits for the store's writer, which another
// process's import may hold for minutes. One saver writes the newest
// classes pending; while this process's own writer is busy it drops them
// (they stay kept in this process, and a later call saves them), and a
// failed save only means that another process counts again from older
// classes. Classes brought up to date are saved at most every
// statsSaveEvery (a save is a write, after which each reader's next read
// starts from an empty page cache), built ones at once; Close saves the
// classes still pending (FlushStats).
func (s *Store) saveClasses(k *classState, now bool) {
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = &statsSave{k}
	if c.saving || !now && time.Since(c.saved) < statsSaveEvery {
		return
	}
	c.saving, c.saved = true, time.Now()
	c.saves.Add(1)
	go s.saveLoop()
}

// statsSaveEvery is how often classes brought up to date are saved at
// most.
const statsSaveEvery = 5 * time.Second

// FlushStats waits for the saver and saves the classes still pending;
// Close calls it.
func (s *Store) FlushStats() {
	c := &s.stats
	c.saves.Wait()
	c.mu.Lock()
	p := c.pending
	c.pending = nil
	c.mu.Unlock()
	if p != nil {
		s.writeStats(p.c)
	}
}

// statsSave is classes waiting to be saved.
type statsSave struct{ c *classState }

// saveLoop writes the pending classes until none are left.
func (s *Store) saveLoop() {
	c := &s.stats
	defer c.saves.Done()
	for {
		c.mu.Lock()
		p := c.pending
		c.pending = nil
		if p == nil {
			c.saving = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		s.writeStats(p.c)
	}
}

func (s *Store) writeStats(k *classState) {
	text, err := k.marshal()
	if err != nil {
		return
	}
	if s.h.WriteMu != nil {
		if !s.h.WriteMu.TryLock() {
			return
		}
		defer s.h.WriteMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = s.writeClasses(ctx, s.write, k.seq, k.deletes, text)
}

// statsChunk is how many ids one count names at most: well under SQLite's
// limit of 32,766 bound values.
const statsChunk = 1000

// refProps are the properties of the edges whose ends EndsVisible reads.
const refProps = `'source_ref', 'target_ref', 'sighting_of_ref'`

// touchedSince returns, sorted, the ids whose counts may have changed
// since Seq seq and may have had a version at or before it: those with
// versions stored after it, and the relationships and sightings whose
// ends (EndsVisible) are among the new ids probe says may be ends of
// edges stored before (probed: the ids with several versions, and those
// the classes miss at an end), stored before or after; but not the fresh
// ids, whose one version was stored after seq (a new row marked sole, as
// an import keeps an id's rows only while it has one), which addFresh
// counts from the new rows; fresh says whether there are any. It reads
// the new rows themselves, statsChunk at a time in seq order (seq is the
// key), and, for the edges, probes refs_target once per id probed: what
// was added, not the store's size, and it keeps in memory only the ids
// it returns.
func (s *Store) touchedSince(ctx context.Context, tx *sql.Tx, seq int64, probe func(id string, sole bool) bool) (ids []string, fresh bool, err error) {
	touched := map[string]bool{}
	for after := seq; ; {
		a := s.d.Args()
		rows, err := tx.QueryContext(ctx, `SELECT seq, id, sole FROM objects WHERE seq > `+a.Add(after)+` ORDER BY seq LIMIT `+a.Add(statsChunk), a.Vals...)
		if err != nil {
			return nil, false, internal("reading what was stored", err)
		}
		var news []string
		n := 0
		for rows.Next() {
			var id string
			var sole bool
			n++
			if err := rows.Scan(&after, &id, &sole); err != nil {
				rows.Close()
				return nil, false, internal("reading what was stored", err)
			}
			if probe(id, sole) {
				news = append(news, id)
			}
			if sole {
				fresh = true
			} else {
				touched[id] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, internal("reading what was stored", err)
		}
		slices.Sort(news)
		if err := s.edgesOf(ctx, tx, seq, news, touched); err != nil {
			return nil, false, err
		}
		if n < statsChunk {
			break
		}
	}
	return slices.Sorted(maps.Keys(touched)), fresh, nil
}

// edgesOf adds to touched the ids of the relationships and sightings one
// of whose ends is one of ends (sorted), but the fresh ones (a sole row
// stored after Seq seq), which addFresh counts.
func (s *Store) edgesOf(ctx context.Context, tx *sql.Tx, seq int64, ends []string, touched map[string]bool) error {
	for chunk := range slices.Chunk(ends, statsChunk) {
		a := s.d.Args()
		rows, err := tx.QueryContext(ctx, edgesTo(a, chunk), a.Vals...)
		if err != nil {
			return internal("reading the edges to what was stored", err)
		}
		for rows.Next() {
			var id string
			var at int64
			var sole bool
			if err := rows.Scan(&id, &at, &sole); err != nil {
				rows.Close()
				return internal("reading the edges to what was stored", err)
			}
			if !sole || at <= seq {
				touched[id] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return internal("reading the edges to what was stored", err)
		}
	}
	return nil
}

// edgesTo selects the id, seq and sole flag of the relationships and
// sightings one of whose ends is one of ids, one probe of refs_target per id. (PostgreSQL's
// planner, given = ANY of a thousand ids, scans refs whole instead: each
// id is a lateral probe there.)
func edgesTo(a *Args, ids []string) string {
	if a.Numbered {
		return `SELECT r.id, r.seq, r.sole FROM unnest(` + a.Add(ids) + `::text[]) AS t(id)
			CROSS JOIN LATERAL (SELECT x.seq FROM refs x WHERE x.target = t.id AND x.prop IN (` + refProps + `)` + a.Probe() + `) x
			JOIN objects r ON r.seq = x.seq`
	}
	return `SELECT r.id, r.seq, r.sole FROM refs x JOIN objects r ON r.seq = x.seq WHERE x.prop IN (` + refProps + `) AND ` + a.InStrings("x.target", ids)
}

// statsOfIDs adds to m f's counts of ids (Objects.StatsOf),
// counted statsChunk ids at a time: an id's counts are its own, so the
// chunks' counts add up.
func (s *Store) statsOfIDs(ctx context.Context, tx *sql.Tx, q *Objects, f cyberpact.ObjectFilter, ids []string, m map[string]cyberpact.TypeStats) error {
	for chunk := range slices.Chunk(ids, statsChunk) {
		c, err := s.statsRun(ctx, tx, q.StatsOf(f, chunk))
		if err != nil {
			return err
		}
		addStats(m, c)
	}
	return nil
}

// addStats adds to m the counts c.
func addStats(m, c map[string]cyberpact.TypeStats) {
	for t, c := range c {
		k := m[t]
		k.Type, k.Objects, k.Versions, k.Revoked = t, k.Objects+c.Objects, k.Versions+c.Versions, k.Revoked+c.Revoked
		m[t] = k
	}
}

func (s *Store) statsRun(ctx context.Context, db querier, q Query) (map[string]cyberpact.TypeStats, error) {
	rows, err := db.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, internal("counting objects", err)
	}
	defer rows.Close()
	out := map[string]cyberpact.TypeStats{}
	for rows.Next() {
		var t cyberpact.TypeStats
		var revoked sql.NullInt64
		if err := rows.Scan(&t.Type, &t.Objects, &t.Versions, &revoked); err != nil {
			return nil, internal("counting objects", err)
		}
		t.Revoked = revoked.Int64
		out[t.Type] = t
	}
	if err := rows.Err(); err != nil {
		return nil, internal("counting objects", err)
	}
	return out, nil
}

// groupMembersNow is the sharing groups' members: (group, organisation)
// pairs.
func groupMembersNow(ctx context.Context, tx *sql.Tx) (map[[2]int64]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT grp, org FROM group_orgs`)
	if err != nil {
		return nil, internal("reading the sharing groups", err)
	}
	defer rows.Close()
	out := map[[2]int64]bool{}
	for rows.Next() {
		var g, o int64
		if err := rows.Scan(&g, &o); err != nil {
			return nil, internal("reading the sharing groups", err)
		}
		out[[2]int64{g, o}] = true
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading the sharing groups", err)
	}
	return out, nil
}

// sortedStats is the counts by type, in type order.
func sortedStats(m map[string]cyberpact.TypeStats) []cyberpact.TypeStats {
	out := make([]cyberpact.TypeStats, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b cyberpact.TypeStats) int { return strings.Compare(a.Type, b.Type) })
	return out
}
