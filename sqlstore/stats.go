package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Stats are kept per viewer (its organisation, groups, public or hub
// view) as of the store's last Seq, and brought up to date from what was
// stored since (touchedSince, Objects.StatsFresh and Objects.StatsOf): a
// call costs what was added since the viewer's last call, not what the
// store holds. Nothing is done at write time, so imports cost what they
// did. A change of a sharing group's members (which ProducerSees reads)
// recounts the edges to what that group was given (touchedByGroups).
// Counts are recomputed from the objects when versions were deleted since,
// and inside an exercise, whose objects are few. Each process keeps its own counts; they are exact for the
// snapshot each call reads, as the counts read from the objects are.
// The last counts of each viewer are also saved in the store (stats_kept),
// for the next process: `cyberpact stats` counts what was stored since
// the last call, whichever process made it.

// statsViewers caps the viewers whose counts are kept; past it they are
// all forgotten and computed again.
const statsViewers = 1024

// statsCache is the counts kept per viewer.
type statsCache struct {
	mu      sync.Mutex
	by      map[string]*statsKept
	pending map[string]statsSave // counts waiting to be saved
	saving  bool                 // saveLoop runs
	saves   sync.WaitGroup       // saveLoop, for Close
}

// statsKept is one viewer's counts as of a state of the store.
type statsKept struct {
	seq     int64  // the store's last Seq
	deletes int64  // its last delete
	groups  string // the sharing groups' members
	types   map[string]cyberpact.TypeStats
}

// CountStats counts per type what the viewer is shown (q.Stats), from the
// counts kept for it when the store has only grown since.
func (s *Store) CountStats(ctx context.Context, q *Objects, viewer *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	if viewer != nil && viewer.Exercise != 0 {
		m, err := s.statsRun(ctx, s.read, q.Stats(viewer))
		if err != nil {
			return nil, err
		}
		return sortedStats(m), nil
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.Numbered {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for the state and the counts
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, internal("counting objects", err)
	}
	defer tx.Rollback()
	now := &statsKept{}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(last_seq) FROM imports), 0), COALESCE((SELECT MAX(n) FROM deletes), 0)`).Scan(&now.seq, &now.deletes); err != nil {
		return nil, internal("counting objects", err)
	}
	if now.groups, err = groupsState(ctx, tx); err != nil {
		return nil, err
	}
	key := statsKey(viewer)
	s.stats.mu.Lock()
	kept := s.stats.by[key]
	s.stats.mu.Unlock()
	if kept == nil {
		if kept, err = s.loadStats(ctx, tx, key); err != nil {
			return nil, err
		}
	}
	switch {
	case kept != nil && kept.deletes == now.deletes && kept.seq == now.seq && (kept.groups == now.groups || viewer == nil):
		return sortedStats(kept.types), nil
	case kept != nil && kept.deletes == now.deletes && kept.seq <= now.seq && groupsValid(kept.groups):
		// What was stored since, and, when the sharing groups' members
		// changed, the edges whose ends were released to a group that
		// changed (EndsVisible reads the members of those groups alone;
		// the hub's counts read no group), counted as of then, with the
		// members then, and now.
		ids, fresh, err := s.touchedSince(ctx, tx, kept.seq, viewer != nil)
		if err != nil {
			return nil, err
		}
		then := ""
		if viewer != nil && kept.groups != now.groups {
			if ids, err = s.touchedByGroups(ctx, tx, kept.seq, changedGroups(kept.groups, now.groups), ids); err != nil {
				return nil, err
			}
			then = groupsThen(kept.groups)
		}
		now.types = make(map[string]cyberpact.TypeStats, len(kept.types))
		for t, c := range kept.types {
			now.types[t] = c
		}
		if kept.seq > 0 { // as of Seq 0 nothing was stored (AsOf 0 is no bound)
			if err := s.statsOfIDs(ctx, tx, q, cyberpact.ObjectFilter{Viewer: viewer, AsOf: kept.seq}, then, ids, now.types, -1); err != nil {
				return nil, err
			}
		}
		if err := s.statsOfIDs(ctx, tx, q, cyberpact.ObjectFilter{Viewer: viewer}, "", ids, now.types, 1); err != nil {
			return nil, err
		}
		if fresh {
			c, err := s.statsRun(ctx, tx, q.StatsFresh(cyberpact.ObjectFilter{Viewer: viewer}, kept.seq))
			if err != nil {
				return nil, err
			}
			addStats(now.types, c, 1)
		}
		for t, c := range now.types {
			if c.Versions == 0 {
				delete(now.types, t)
			}
		}
	default:
		if now.types, err = s.statsRun(ctx, tx, q.Stats(viewer)); err != nil {
			return nil, err
		}
	}
	s.stats.mu.Lock()
	if s.stats.by == nil || len(s.stats.by) >= statsViewers {
		s.stats.by = map[string]*statsKept{}
	}
	if k := s.stats.by[key]; k == nil || k.seq <= now.seq {
		s.stats.by[key] = now
	}
	s.stats.mu.Unlock()
	out := sortedStats(now.types)
	if kept == nil || kept.seq != now.seq || kept.deletes != now.deletes || kept.groups != now.groups {
		s.saveStats(ctx, key, now, out)
	}
	return out, nil
}

// loadStats reads the counts another call (of this process or another)
// kept for the viewer key, nil when there are none.
func (s *Store) loadStats(ctx context.Context, tx *sql.Tx, key string) (*statsKept, error) {
	a := s.d.Args()
	k := &statsKept{}
	var counts string
	err := tx.QueryRowContext(ctx, `SELECT seq, deletes, groups, counts FROM stats_kept WHERE viewer = `+a.Add(key), a.Vals...).Scan(&k.seq, &k.deletes, &k.groups, &counts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("reading the counts kept", err)
	}
	var ts []cyberpact.TypeStats
	if err := json.Unmarshal([]byte(counts), &ts); err != nil {
		return nil, nil // counts that do not read are counted again
	}
	k.types = make(map[string]cyberpact.TypeStats, len(ts))
	for _, t := range ts {
		k.types[t.Type] = t
	}
	return k, nil
}

// saveStats keeps the viewer key's counts for later calls, in the
// background: Stats never waits for the store's writer, which another
// process's import may hold for minutes. One saver writes what is
// pending, the newest counts of each viewer; while this process's own
// writer is busy it drops them (the counts stay kept in this process, and
// a later call saves them), and a failed save only means that another
// process counts again. Close waits for the saver.
func (s *Store) saveStats(_ context.Context, key string, k *statsKept, ts []cyberpact.TypeStats) {
	counts, err := json.Marshal(ts)
	if err != nil {
		return
	}
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]statsSave{}
	}
	c.pending[key] = statsSave{k.seq, k.deletes, k.groups, string(counts)}
	if c.saving {
		return
	}
	c.saving = true
	c.saves.Add(1)
	go s.saveLoop()
}

// statsSave is one viewer's counts waiting to be saved.
type statsSave struct {
	seq, deletes   int64
	groups, counts string
}

// saveLoop writes the pending counts until none are left.
func (s *Store) saveLoop() {
	c := &s.stats
	defer c.saves.Done()
	for {
		c.mu.Lock()
		batch := c.pending
		c.pending = nil
		if len(batch) == 0 {
			c.saving = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		s.writeStats(batch)
	}
}

func (s *Store) writeStats(batch map[string]statsSave) {
	if s.h.WriteMu != nil {
		if !s.h.WriteMu.TryLock() {
			return
		}
		defer s.h.WriteMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for key, k := range batch {
		a := s.d.Args()
		_, _ = s.write.ExecContext(ctx, `INSERT INTO stats_kept (viewer, seq, deletes, groups, counts) VALUES (`+
			a.Add(key)+`, `+a.Add(k.seq)+`, `+a.Add(k.deletes)+`, `+a.Add(k.groups)+`, `+a.Add(k.counts)+`)
			ON CONFLICT (viewer) DO UPDATE SET seq = excluded.seq, deletes = excluded.deletes, groups = excluded.groups, counts = excluded.counts
			WHERE excluded.seq >= stats_kept.seq`, a.Vals...)
	}
}

// statsChunk is how many ids one count names at most: well under SQLite's
// limit of 32,766 bound values.
const statsChunk = 1000

// refProps are the properties of the edges whose ends EndsVisible reads.
const refProps = `'source_ref', 'target_ref', 'sighting_of_ref'`

// touchedSince returns, sorted, the ids whose counts may have changed
// since Seq seq and may have had a version at or before it: those with
// versions stored after it, and, when edges (any viewer but the hub's,
// whose counts do not read the ends), the relationships and sightings
// whose ends (EndsVisible) are among them, stored before or after; but
// not the fresh ids, whose one version was stored after seq (a new row
// marked sole, as an import keeps an id's rows only while it has one),
// which Objects.StatsFresh counts from the new rows; fresh says whether
// there are any. It reads the new rows themselves, statsChunk at a time in
// seq order (seq is the key), and, for the edges, probes refs_target once
// per new id: what was added, not the store's size, and it keeps in
// memory only the ids it returns.
func (s *Store) touchedSince(ctx context.Context, tx *sql.Tx, seq int64, edges bool) (ids []string, fresh bool, err error) {
	touched := map[string]bool{}
	for after := seq; ; {
		a := s.d.Args()
		rows, err := tx.QueryContext(ctx, `SELECT seq, id, sole FROM objects WHERE seq > `+a.Add(after)+` ORDER BY seq LIMIT `+a.Add(statsChunk), a.Vals...)
		if err != nil {
			return nil, false, internal("reading what was stored", err)
		}
		var news []string
		for rows.Next() {
			var id string
			var sole bool
			if err := rows.Scan(&after, &id, &sole); err != nil {
				rows.Close()
				return nil, false, internal("reading what was stored", err)
			}
			news = append(news, id)
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
		if len(news) == 0 {
			break
		}
		if edges {
			slices.Sort(news)
			if err := s.edgesOf(ctx, tx, seq, news, touched); err != nil {
				return nil, false, err
			}
		}
		if len(news) < statsChunk {
			break
		}
	}
	return slices.Sorted(maps.Keys(touched)), fresh, nil
}

// edgesOf adds to touched the ids of the relationships and sightings one
// of whose ends is one of ends (sorted), but the fresh ones (a sole row
// stored after Seq seq), which Objects.StatsFresh counts.
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

// touchedByGroups adds to ids (sorted, as touchedSince returns them) the
// relationships and sightings, but the fresh ones (sole rows stored after
// Seq seq), one of whose ends has
// a version released to one of groups: those whose ends' visibility to
// their producers (ProducerSees) reads those groups' members. It costs
// what was released to those groups, not the store's size.
func (s *Store) touchedByGroups(ctx context.Context, tx *sql.Tx, seq int64, groups []int64, ids []string) ([]string, error) {
	if len(groups) == 0 {
		return ids, nil
	}
	a := s.d.Args()
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT id FROM objects WHERE aud_kind = %d AND `, cyberpact.AudienceGroup)+a.InInts("aud_group", groups), a.Vals...)
	if err != nil {
		return nil, internal("reading what the groups were given", err)
	}
	var ends []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, internal("reading what the groups were given", err)
		}
		ends = append(ends, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("reading what the groups were given", err)
	}
	slices.Sort(ends)
	touched := map[string]bool{}
	for _, id := range ids {
		touched[id] = true
	}
	if err := s.edgesOf(ctx, tx, seq, ends, touched); err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(touched)), nil
}

// groupMembers reads a groupsState text: its (group, organisation)
// pairs, ok false when it does not read.
func groupMembers(state string) (pairs [][2]int64, ok bool) {
	for p := range strings.SplitSeq(state, ",") {
		if p == "" {
			continue
		}
		g, o, found := strings.Cut(p, ":")
		gi, err1 := strconv.ParseInt(g, 10, 64)
		oi, err2 := strconv.ParseInt(o, 10, 64)
		if !found || err1 != nil || err2 != nil {
			return nil, false
		}
		pairs = append(pairs, [2]int64{gi, oi})
	}
	return pairs, true
}

// groupsValid says that a groupsState text reads.
func groupsValid(state string) bool {
	_, ok := groupMembers(state)
	return ok
}

// changedGroups is the groups whose members differ between two
// groupsState texts.
func changedGroups(then, now string) []int64 {
	a, _ := groupMembers(then)
	b, _ := groupMembers(now)
	in := map[[2]int64]int{}
	for _, p := range a {
		in[p]++
	}
	for _, p := range b {
		in[p]--
	}
	var out []int64
	for p, n := range in {
		if n != 0 && !slices.Contains(out, p[0]) {
			out = append(out, p[0])
		}
	}
	slices.Sort(out)
	return out
}

// groupsThen is a WITH clause naming group_orgs the members a
// groupsState text holds: a query after it reads the groups as they
// were then (the only table of the rule's that changes in place).
func groupsThen(state string) string {
	pairs, _ := groupMembers(state)
	if len(pairs) == 0 {
		return `WITH group_orgs (grp, org) AS (SELECT 0, 0 WHERE ` + False + `) `
	}
	var b strings.Builder
	b.WriteString(`WITH group_orgs (grp, org) AS (VALUES `)
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d)", p[0], p[1])
	}
	b.WriteString(`) `)
	return b.String()
}

// statsOfIDs adds to m, times sign, f's counts of ids (Objects.StatsOf),
// counted statsChunk ids at a time: an id's counts are its own, so the
// chunks' counts add up. with, when not empty, is a WITH clause put
// before each query (groupsThen).
func (s *Store) statsOfIDs(ctx context.Context, tx *sql.Tx, q *Objects, f cyberpact.ObjectFilter, with string, ids []string, m map[string]cyberpact.TypeStats, sign int64) error {
	for chunk := range slices.Chunk(ids, statsChunk) {
		sq := q.StatsOf(f, chunk)
		sq.SQL = with + sq.SQL
		c, err := s.statsRun(ctx, tx, sq)
		if err != nil {
			return err
		}
		addStats(m, c, sign)
	}
	return nil
}

// addStats adds to m the counts c, times sign.
func addStats(m, c map[string]cyberpact.TypeStats, sign int64) {
	for t, c := range c {
		k := m[t]
		k.Type, k.Objects, k.Versions, k.Revoked = t, k.Objects+sign*c.Objects, k.Versions+sign*c.Versions, k.Revoked+sign*c.Revoked
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

// groupsState is the sharing groups' members, as one text.
func groupsState(ctx context.Context, tx *sql.Tx) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT grp, org FROM group_orgs ORDER BY grp, org`)
	if err != nil {
		return "", internal("reading the sharing groups", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var g, o int64
		if err := rows.Scan(&g, &o); err != nil {
			return "", internal("reading the sharing groups", err)
		}
		fmt.Fprintf(&b, "%d:%d,", g, o)
	}
	if err := rows.Err(); err != nil {
		return "", internal("reading the sharing groups", err)
	}
	return b.String(), nil
}

// statsKey names a viewer's counts: the hub's, the public collection's,
// or an organisation's with everything the rule asks of the viewer: its
// groups, nation, sector and clearances, and whether it reads as a peer
// hub (Sync, which PAP:RED is withheld from).
func statsKey(v *cyberpact.Viewer) string {
	switch {
	case v == nil:
		return "hub"
	case v.Public:
		return "public"
	}
	gs := slices.Clone(v.Groups)
	slices.Sort(gs)
	return fmt.Sprintf("org %d groups %v nation %q sector %q clearances %q sync %t", v.Org, gs, v.Nation, v.Sector, v.Clearances.String(), v.Sync)
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
