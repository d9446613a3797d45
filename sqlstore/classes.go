package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// Class counts: what Stats answers for any viewer, kept once for the
// store instead of once per viewer.
//
// An id is uniform (as of a Seq) when its versions outside exercises are
// all of one holding and released alike (producer, audience, TLP, marks:
// everything Scope reads). Every viewer outside an exercise sees all of
// such an id's versions or none, the holding it is shown is its only one,
// and the version it is shown is its newest: its counts are one object,
// its number of versions, and one revoked when its newest version is. Ids
// only released inside exercises are counted for no one outside them.
// A relationship or sighting is counted alike when its versions have the
// same ends and each end is uniform or missing: whether a viewer sees it
// then depends only on its release and its ends' (EndsVisible of a
// uniform end is Scope of the end and ProducerSees of the end for the
// edge's producer). The counts of uniform ids are summed per class (type,
// release, ends' releases); the other ids (the rest, expected few) are
// kept by id and counted per viewer with the rule's SQL (Objects.StatsOf).
// A viewer's counts are the sum of the classes it may see, decided in Go
// with cyberpact.MaySee and the group members as they are now, and the
// SQL counts of the rest: a first call costs the classes and the rest,
// not the store's size.
//
// The classes are kept as of the store's last Seq and delete and brought
// up to date from what was stored since (touchedSince): the ids touched
// lose their counts as of then and gain their counts now; ids stored once
// since are summed from their new rows (addFresh). A delete cannot be counted later, its rows being gone: a
// transaction that deletes versions takes the counts of the ids it
// touches (and of the edges to them) as of the classes' Seq before and
// after the delete and saves the classes, with its delete, in the same
// transaction (StatsDeleting). Without kept classes, or with classes
// older than the last delete (PostgreSQL's replacing import deletes
// without them), the classes are built again from the whole store, once
// (buildClasses).

// rel is what the rule reads of an objects row: its release.
type rel struct {
	Producer int64
	Kind     int
	Group    int64
	TLP      int
	Marks    string
}

func (r rel) exercise() bool { return cyberpact.AudienceKind(r.Kind).IsExercise() }

func (r rel) release() cyberpact.Release {
	return cyberpact.Release{Producer: r.Producer, Audience: cyberpact.Audience{Kind: cyberpact.AudienceKind(r.Kind), Group: r.Group},
		TLP: cyberpact.TLP(r.TLP), Marks: cyberpact.Marks(r.Marks)}
}

// encode writes r as one end of a class's ends (marks last: they hold no
// comma, nor do the numbers).
func (r rel) encode() string {
	return fmt.Sprintf("%d,%d,%d,%d,%s", r.Producer, r.Kind, r.Group, r.TLP, r.Marks)
}

// missingEnd is an end no viewer outside an exercise may see: an id not
// stored, or stored only inside exercises.
const missingEnd = "-"

// parseEnds reads a class's ends; ok false for a missing end among them.
func parseEnds(ends string) (out []rel, ok bool) {
	if ends == "" {
		return nil, true
	}
	for e := range strings.SplitSeq(ends, "\n") {
		if e == missingEnd {
			return nil, false
		}
		f := strings.SplitN(e, ",", 5)
		if len(f) != 5 {
			return nil, false
		}
		var r rel
		var k, t int64
		var err [4]error
		r.Producer, err[0] = strconv.ParseInt(f[0], 10, 64)
		k, err[1] = strconv.ParseInt(f[1], 10, 64)
		r.Group, err[2] = strconv.ParseInt(f[2], 10, 64)
		t, err[3] = strconv.ParseInt(f[3], 10, 64)
		if errors.Join(err[:]...) != nil {
			return nil, false
		}
		r.Kind, r.TLP, r.Marks = int(k), int(t), f[4]
		out = append(out, r)
	}
	return out, true
}

// classKey is one class: the type, the release and, for relationships
// and sightings, the ends' releases (rel.encode or missingEnd), sorted,
// one a line.
type classKey struct {
	Type string
	Rel  rel
	Edge bool
	Ends string
}

// classSums are the counts of a class's ids.
type classSums struct{ Objects, Versions, Revoked int64 }

// classState is the classes and the rest as of a Seq and a delete, and
// the ids missing at an end of the edges of the classes, with how many
// edges miss each: an id stored for the first time since can only be the
// end of an edge stored before when it is one of them (touchedSince
// probes the edges of those alone).
type classState struct {
	seq, deletes int64
	classes      map[classKey]classSums
	rest         map[string]bool
	missing      map[string]int64
}

func newClassState() *classState {
	return &classState{classes: map[classKey]classSums{}, rest: map[string]bool{}, missing: map[string]int64{}}
}

func (c *classState) clone() *classState {
	return &classState{seq: c.seq, deletes: c.deletes, classes: maps.Clone(c.classes), rest: maps.Clone(c.rest), missing: maps.Clone(c.missing)}
}

// contrib is what one id adds to the classes: nothing, a class's counts,
// or the id to the rest.
type contrib struct {
	kind    int // contribNone, contribClass, contribRest
	key     classKey
	sums    classSums
	missing []string // an edge's end ids not stored (missingEnd)
}

const (
	contribNone = iota
	contribClass
	contribRest
)

func (c *classState) apply(id string, x contrib, sign int64) {
	switch x.kind {
	case contribClass:
		s := c.classes[x.key]
		s.Objects += sign * x.sums.Objects
		s.Versions += sign * x.sums.Versions
		s.Revoked += sign * x.sums.Revoked
		if s == (classSums{}) {
			delete(c.classes, x.key)
		} else {
			c.classes[x.key] = s
		}
		for _, m := range x.missing {
			if c.missing[m] += sign; c.missing[m] == 0 {
				delete(c.missing, m)
			}
		}
	case contribRest:
		if sign > 0 {
			c.rest[id] = true
		} else {
			delete(c.rest, id)
		}
	}
}

// isEdge says whether objects of type t are relationships or sightings,
// whose ends EndsVisible reads.
func isEdge(t string) bool { return t == "relationship" || t == "sighting" }

// sees is Scope outside exercises, in Go: the hub (nil) sees every
// version outside exercises, the public collection and organisations what
// cyberpact.MaySee lets them.
func sees(v *cyberpact.Viewer, r rel) bool {
	if r.exercise() {
		return false
	}
	switch {
	case v == nil:
		return true
	case v.Public:
		return cyberpact.MaySee(cyberpact.Viewer{Public: true}, r.release())
	case v.Org == 0:
		return false
	}
	return cyberpact.MaySee(*v, r.release())
}

// producerSees is ProducerSees in Go for an end e and an edge p, both
// outside exercises, with the sharing groups' members now.
func producerSees(e, p rel, members map[[2]int64]bool) bool {
	if e.Producer == p.Producer || p.Producer == 0 {
		return true
	}
	switch cyberpact.AudienceKind(e.Kind) {
	case cyberpact.AudienceAll:
		return cyberpact.TLP(e.TLP) != cyberpact.TLPRed
	case cyberpact.AudienceGroup:
		return members[[2]int64{e.Group, p.Producer}]
	}
	return false
}

// count adds to m the counts of the classes viewer v (outside
// exercises) sees, with the groups' members now.
func (c *classState) count(v *cyberpact.Viewer, members map[[2]int64]bool, m map[string]cyberpact.TypeStats) {
	ends := map[string][]rel{}
	missing := map[string]bool{}
	for k, s := range c.classes {
		if !sees(v, k.Rel) {
			continue
		}
		if k.Edge && v != nil {
			es, seen := ends[k.Ends]
			if !seen && !missing[k.Ends] {
				var ok bool
				if es, ok = parseEnds(k.Ends); !ok {
					missing[k.Ends] = true
				}
				ends[k.Ends] = es
			}
			if missing[k.Ends] {
				continue
			}
			ok := true
			for _, e := range es {
				if !sees(v, e) || !producerSees(e, k.Rel, members) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		t := m[k.Type]
		t.Type, t.Objects, t.Versions, t.Revoked = k.Type, t.Objects+s.Objects, t.Versions+s.Versions, t.Revoked+s.Revoked
		m[k.Type] = t
	}
}

// statRow is what the classes read of one objects row.
type statRow struct {
	seq, holding int64
	version, typ string
	revoked      bool
	rel          rel
	ends         []string // an edge's end ids, sorted, without repeats
}

// idRows holds the rows of ids, an id without rows held as an empty list.
type idRows map[string][]statRow

const rowCols = `o.seq, o.id, o.holding, o.version, o.type, o.revoked, o.producer, o.aud_kind, o.aud_group, o.tlp, o.marks`

// load reads the rows of ids not yet held, statsChunk ids at a time, and
// the ends of the edges among them.
func (s *Store) loadRows(ctx context.Context, db querier, ids []string, r idRows) error {
	var todo []string
	for _, id := range ids {
		if _, ok := r[id]; !ok {
			todo = append(todo, id)
			r[id] = nil
		}
	}
	slices.Sort(todo)
	for chunk := range slices.Chunk(todo, statsChunk) {
		a := s.d.Args()
		rows, err := db.QueryContext(ctx, `SELECT `+rowCols+` FROM objects o`+a.ByID()+` WHERE `+a.InStrings("o.id", chunk), a.Vals...)
		if err != nil {
			return internal("reading objects to count", err)
		}
		edges := map[int64][2]any{}
		for rows.Next() {
			var x statRow
			var id string
			if err := rows.Scan(&x.seq, &id, &x.holding, &x.version, &x.typ, &x.revoked, &x.rel.Producer, &x.rel.Kind, &x.rel.Group, &x.rel.TLP, &x.rel.Marks); err != nil {
				rows.Close()
				return internal("reading objects to count", err)
			}
			r[id] = append(r[id], x)
			if isEdge(x.typ) {
				edges[x.seq] = [2]any{id, len(r[id]) - 1}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return internal("reading objects to count", err)
		}
		if err := s.loadEnds(ctx, db, edges, r); err != nil {
			return err
		}
	}
	return nil
}

// loadEnds reads the end ids of the edge rows edges (seq to id and index
// in r).
func (s *Store) loadEnds(ctx context.Context, db querier, edges map[int64][2]any, r idRows) error {
	seqs := slices.Sorted(maps.Keys(edges))
	for chunk := range slices.Chunk(seqs, statsChunk) {
		a := s.d.Args()
		rows, err := db.QueryContext(ctx, `SELECT x.seq, x.target FROM refs x WHERE x.prop IN (`+refProps+`) AND `+a.InInts("x.seq", chunk), a.Vals...)
		if err != nil {
			return internal("reading the ends of edges", err)
		}
		for rows.Next() {
			var seq int64
			var target string
			if err := rows.Scan(&seq, &target); err != nil {
				rows.Close()
				return internal("reading the ends of edges", err)
			}
			e := edges[seq]
			x := &r[e[0].(string)][e[1].(int)]
			if !slices.Contains(x.ends, target) {
				x.ends = append(x.ends, target)
				slices.Sort(x.ends)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return internal("reading the ends of edges", err)
		}
	}
	return nil
}

// endIDs is the end ids of the edges among ids, for loadRows.
func (r idRows) endIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		for _, x := range r[id] {
			out = append(out, x.ends...)
		}
	}
	return out
}

// now is the bound of contrib that takes every row.
const now = math.MaxInt64

// contrib is what id adds to the classes as of Seq bound, from its rows
// and its ends' rows (loaded).
func (r idRows) contrib(id string, bound int64) contrib {
	var n []statRow
	for _, x := range r[id] {
		if x.seq <= bound && !x.rel.exercise() {
			n = append(n, x)
		}
	}
	if len(n) == 0 {
		return contrib{}
	}
	first := n[0]
	newest := first
	for _, x := range n {
		if x.holding != first.holding || x.rel != first.rel || !slices.Equal(x.ends, first.ends) {
			return contrib{kind: contribRest}
		}
		if x.version > newest.version {
			newest = x
		}
	}
	k := classKey{Type: first.typ, Rel: first.rel, Edge: isEdge(first.typ)}
	var missing []string
	if k.Edge {
		var ends []string
		for _, e := range first.ends {
			enc, ok := r.endState(e, bound)
			if !ok {
				return contrib{kind: contribRest}
			}
			if enc == missingEnd {
				missing = append(missing, e)
			}
			ends = append(ends, enc)
		}
		slices.Sort(ends)
		k.Ends = strings.Join(ends, "\n")
	}
	c := contrib{kind: contribClass, key: k, sums: classSums{Objects: 1, Versions: int64(len(n))}, missing: missing}
	if newest.revoked {
		c.sums.Revoked = 1
	}
	return c
}

// endState is an end id as of Seq bound: its release when uniform, with
// no exercise version in an older holding (which ProducerSees may let
// hide it, see EndsVisible), missingEnd when it has no version outside
// exercises, ok false otherwise.
func (r idRows) endState(id string, bound int64) (string, bool) {
	var n, ex []statRow
	for _, x := range r[id] {
		switch {
		case x.seq > bound:
		case x.rel.exercise():
			ex = append(ex, x)
		default:
			n = append(n, x)
		}
	}
	if len(n) == 0 {
		return missingEnd, true
	}
	for _, x := range n {
		if x.holding != n[0].holding || x.rel != n[0].rel {
			return "", false
		}
	}
	for _, x := range ex {
		if x.holding < n[0].holding {
			return "", false
		}
	}
	return n[0].rel.encode(), true
}

// endOfRow is the end state of an end read beside its edge (addFresh):
// a sole row's release, or missingEnd.
func endOfRow(r rel) string {
	if r.exercise() {
		return missingEnd
	}
	return r.encode()
}

// contribs loads ids (and their ends) and returns what each adds as of
// Seq bound and now.
func (s *Store) contribs(ctx context.Context, db querier, ids []string, bounds ...int64) ([]map[string]contrib, error) {
	r := idRows{}
	if err := s.loadRows(ctx, db, ids, r); err != nil {
		return nil, err
	}
	if err := s.loadRows(ctx, db, r.endIDs(ids), r); err != nil {
		return nil, err
	}
	out := make([]map[string]contrib, len(bounds))
	for i, b := range bounds {
		out[i] = make(map[string]contrib, len(ids))
		for _, id := range ids {
			out[i][id] = r.contrib(id, b)
		}
	}
	return out, nil
}

// addFresh adds to c the ids whose one version was stored after Seq
// after (sole rows): the others summed from their rows, read in seq
// order, the edges with their ends read beside them (addFreshEdges).
// After 0 (buildClasses) it reads every row, and returns the ids with
// more than one version (not sole), counted apart.
func (s *Store) addFresh(ctx context.Context, db querier, after int64, c *classState) (several []string, err error) {
	a := s.d.Args()
	// After 0, the id of the rows not sole alone: to be counted apart.
	// Else every new row's, with its release: the ends of the new edges
	// are mostly new too, found here rather than probed (addFreshEdges).
	cond, idCol, fresh := ` AND o.sole`, `o.id`, map[string]rel{}
	if after == 0 {
		cond, idCol, fresh = "", `CASE WHEN o.sole THEN '' ELSE o.id END`, nil
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT o.type, o.producer, o.aud_kind, o.aud_group, o.tlp, o.marks, o.revoked, o.sole, `+idCol+`
		FROM objects o`+a.ByKey()+` WHERE o.seq > `+a.Add(after)+cond+` AND o.aud_kind < %d AND o.type NOT IN ('relationship', 'sighting')`, cyberpact.AudienceExerciseOrg), a.Vals...)
	if err != nil {
		return nil, internal("counting what was stored", err)
	}
	// Sums by class, found by the row's columns as bytes: a row of a
	// class met before allocates nothing.
	type agg struct {
		key  classKey
		sums classSums
	}
	by := map[string]*agg{}
	seen := map[string]bool{}
	var typ, marks, id sql.RawBytes
	var buf []byte
	for rows.Next() {
		var r rel
		var revoked, sole bool
		if err := rows.Scan(&typ, &r.Producer, &r.Kind, &r.Group, &r.TLP, &marks, &revoked, &sole, &id); err != nil {
			rows.Close()
			return nil, internal("counting what was stored", err)
		}
		if !sole {
			if !seen[string(id)] {
				seen[string(id)] = true
				several = append(several, string(id))
			}
			continue
		}
		if fresh != nil {
			x := r
			x.Marks = string(marks)
			fresh[string(id)] = x
		}
		buf = append(buf[:0], typ...)
		buf = append(buf, 0)
		buf = append(buf, marks...)
		buf = fmt.Appendf(buf, "\x00%d,%d,%d,%d", r.Producer, r.Kind, r.Group, r.TLP)
		g := by[string(buf)]
		if g == nil {
			r.Marks = string(marks)
			g = &agg{key: classKey{Type: string(typ), Rel: r}}
			by[string(buf)] = g
		}
		g.sums.Objects++
		if revoked {
			g.sums.Revoked++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("counting what was stored", err)
	}
	for _, g := range by {
		g.sums.Versions = g.sums.Objects
		c.apply("", contrib{kind: contribClass, key: g.key, sums: g.sums}, 1)
	}
	edges, err := s.addFreshEdges(ctx, db, after, c, fresh)
	if err != nil {
		return nil, err
	}
	for _, id := range edges {
		if !seen[id] {
			seen[id] = true
			several = append(several, id)
		}
	}
	return several, nil
}

// freshEdge is an edge row of addFreshEdges.
type freshEdge struct {
	id      string
	key     classKey
	revoked bool
	ends    map[string]string // end id to its state, "" when to be read
}

// addFreshEdges is addFresh for the relationships and sightings. After
// 0, their ends are read beside them (one probe of objects_id_version per
// end), and it returns the edges with several versions (not sole),
// counted apart; else their ends are found among the new rows (fresh) or
// read from their rows, the edges being read in seq order. An edge one of
// whose ends has several versions is counted from that end's rows.
func (s *Store) addFreshEdges(ctx context.Context, db querier, after int64, c *classState, fresh map[string]rel) (several []string, err error) {
	a := s.d.Args()
	hint, cond, order := a.ByKey(), ` AND o.sole`, `o.seq`
	endCols, endJoin := `NULL, NULL, NULL, NULL, NULL, NULL, NULL`, ""
	if after == 0 {
		hint, cond, order = "", "", `o.type, o.seq`
		endCols, endJoin = `e.seq, e.sole, e.producer, e.aud_kind, e.aud_group, e.tlp, e.marks`, `
		LEFT JOIN objects e`+a.ByID()+` ON e.id = x.target`
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT o.seq, o.id, o.sole, o.type, o.producer, o.aud_kind, o.aud_group, o.tlp, o.marks, o.revoked,
			x.target, `+endCols+`
		FROM objects o`+hint+`
		LEFT JOIN refs x ON x.seq = o.seq AND x.prop IN (`+refProps+`)`+endJoin+`
		WHERE o.seq > `+a.Add(after)+cond+` AND o.aud_kind < %d AND o.type IN ('relationship', 'sighting')
		ORDER BY `+order, cyberpact.AudienceExerciseOrg), a.Vals...)
	if err != nil {
		return nil, internal("counting the edges stored", err)
	}
	var cur *freshEdge
	var curSeq int64 = -1
	var pending []*freshEdge
	done := func() {
		if cur == nil {
			return
		}
		for _, st := range cur.ends {
			if st == "" {
				pending = append(pending, cur)
				return
			}
		}
		c.apply(cur.id, cur.contrib(), 1)
	}
	for rows.Next() {
		var seq int64
		var id string
		var sole bool
		var k classKey
		var revoked bool
		var target sql.NullString
		var eseq sql.NullInt64
		var esole sql.NullBool
		var ep, ek, eg, et sql.NullInt64
		var em sql.NullString
		if err := rows.Scan(&seq, &id, &sole, &k.Type, &k.Rel.Producer, &k.Rel.Kind, &k.Rel.Group, &k.Rel.TLP, &k.Rel.Marks, &revoked,
			&target, &eseq, &esole, &ep, &ek, &eg, &et, &em); err != nil {
			rows.Close()
			return nil, internal("counting the edges stored", err)
		}
		if !sole {
			if seq != curSeq {
				done()
				cur, curSeq = nil, seq
				several = append(several, id)
			}
			continue
		}
		if seq != curSeq {
			done()
			k.Edge = true
			cur, curSeq = &freshEdge{id: id, key: k, revoked: revoked, ends: map[string]string{}}, seq
		}
		if !target.Valid {
			continue
		}
		switch {
		case after > 0:
			if r, ok := fresh[target.String]; ok {
				cur.ends[target.String] = endOfRow(r)
			} else {
				cur.ends[target.String] = "" // read from the end's rows below
			}
		case !eseq.Valid:
			cur.ends[target.String] = missingEnd
		case esole.Bool:
			cur.ends[target.String] = endOfRow(rel{ep.Int64, int(ek.Int64), eg.Int64, int(et.Int64), em.String})
		default:
			cur.ends[target.String] = ""
		}
	}
	done()
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("counting the edges stored", err)
	}
	if len(pending) == 0 {
		return several, nil
	}
	var ids []string
	for _, p := range pending {
		for e, st := range p.ends {
			if st == "" {
				ids = append(ids, e)
			}
		}
	}
	r := idRows{}
	if err := s.loadRows(ctx, db, ids, r); err != nil {
		return nil, err
	}
	for _, p := range pending {
		x := contrib{kind: contribRest}
		if p.readEnds(r) {
			x = p.contrib()
		}
		c.apply(p.id, x, 1)
	}
	return several, nil
}

// readEnds sets the states of the ends of e still to be read from their
// rows r, and says whether each is uniform or missing (else e is counted
// with the rest).
func (e *freshEdge) readEnds(r idRows) bool {
	for id, st := range e.ends {
		if st != "" {
			continue
		}
		st, ok := r.endState(id, now)
		if !ok {
			return false
		}
		e.ends[id] = st
	}
	return true
}

// contrib is what the sole edge row e adds, its ends' states all known:
// one object and one version of its class.
func (e *freshEdge) contrib() contrib {
	ends := make([]string, 0, len(e.ends))
	var missing []string
	for id, st := range e.ends {
		if st == missingEnd {
			missing = append(missing, id)
		}
		ends = append(ends, st)
	}
	slices.Sort(ends)
	key := e.key
	key.Ends = strings.Join(ends, "\n")
	x := contrib{kind: contribClass, key: key, sums: classSums{Objects: 1, Versions: 1}, missing: missing}
	if e.revoked {
		x.sums.Revoked = 1
	}
	return x
}

// buildClasses counts the classes of the whole store: the ids with one
// version from their rows (addFresh), the others (not sole) by id.
func (s *Store) buildClasses(ctx context.Context, db querier, seq, deletes int64) (*classState, error) {
	s.stats.builds.Add(1)
	c := newClassState()
	c.seq, c.deletes = seq, deletes
	ids, err := s.addFresh(ctx, db, 0, c)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	for chunk := range slices.Chunk(ids, statsChunk) {
		cs, err := s.contribs(ctx, db, chunk, now)
		if err != nil {
			return nil, err
		}
		for id, x := range cs[0] {
			c.apply(id, x, 1)
		}
	}
	return c, nil
}

// updateClasses brings c (as of its Seq and of the last delete) up to
// Seq seq: the ids touched since lose their counts as of then and gain
// their counts now, the fresh ones are added from their rows.
func (s *Store) updateClasses(ctx context.Context, tx *sql.Tx, c *classState, seq int64) (*classState, error) {
	ids, fresh, err := s.touchedSince(ctx, tx, c.seq, func(id string, sole bool) bool { return !sole || c.missing[id] > 0 })
	if err != nil {
		return nil, err
	}
	c = c.clone()
	for chunk := range slices.Chunk(ids, statsChunk) {
		cs, err := s.contribs(ctx, tx, chunk, c.seq, now)
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			c.apply(id, cs[0][id], -1)
			c.apply(id, cs[1][id], 1)
		}
	}
	if fresh {
		if _, err := s.addFresh(ctx, tx, c.seq, c); err != nil {
			return nil, err
		}
	}
	c.seq = seq
	return c, nil
}

// classesKey is the row of stats_kept that holds the classes.
const classesKey = "classes"

// keptClasses is the classes as stats_kept holds them.
type keptClasses struct {
	Classes [][]any          `json:"classes"` // type, producer, kind, group, tlp, marks, ends, objects, versions, revoked
	Rest    []string         `json:"rest"`
	Missing map[string]int64 `json:"missing"`
}

func (c *classState) marshal() (string, error) {
	var k keptClasses
	keys := slices.SortedFunc(maps.Keys(c.classes), func(a, b classKey) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Rel.encode(), b.Rel.encode()), strings.Compare(a.Ends, b.Ends))
	})
	for _, key := range keys {
		s := c.classes[key]
		ends := any(nil)
		if key.Edge {
			ends = key.Ends
		}
		k.Classes = append(k.Classes, []any{key.Type, key.Rel.Producer, key.Rel.Kind, key.Rel.Group, key.Rel.TLP, key.Rel.Marks, ends, s.Objects, s.Versions, s.Revoked})
	}
	k.Rest = slices.Sorted(maps.Keys(c.rest))
	k.Missing = c.missing
	b, err := json.Marshal(k)
	return string(b), err
}

func unmarshalClasses(text string) (*classState, bool) {
	var k struct {
		Classes [][]json.RawMessage `json:"classes"`
		Rest    []string            `json:"rest"`
		Missing map[string]int64    `json:"missing"`
	}
	if err := json.Unmarshal([]byte(text), &k); err != nil {
		return nil, false
	}
	c := newClassState()
	for _, f := range k.Classes {
		var key classKey
		var ends *string
		var s classSums
		dsts := []any{&key.Type, &key.Rel.Producer, &key.Rel.Kind, &key.Rel.Group, &key.Rel.TLP, &key.Rel.Marks, &ends, &s.Objects, &s.Versions, &s.Revoked}
		if len(f) != len(dsts) {
			return nil, false
		}
		for i, dst := range dsts {
			if err := json.Unmarshal(f[i], dst); err != nil {
				return nil, false
			}
		}
		if ends != nil {
			key.Edge, key.Ends = true, *ends
		}
		c.classes[key] = s
	}
	for _, id := range k.Rest {
		c.rest[id] = true
	}
	if k.Missing == nil {
		return nil, false // kept before the missing ends were: counted again
	}
	c.missing = k.Missing
	return c, true
}

// loadClasses reads the classes kept in the store, nil when there are
// none or they do not read.
func (s *Store) loadClasses(ctx context.Context, db querier, lock bool) (*classState, error) {
	a := s.d.Args()
	q := `SELECT seq, deletes, counts FROM stats_kept WHERE viewer = ` + a.Add(classesKey)
	if lock && s.d.Numbered {
		q += ` FOR UPDATE`
	}
	var seq, deletes int64
	var text string
	err := db.QueryRowContext(ctx, q, a.Vals...).Scan(&seq, &deletes, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("reading the counts kept", err)
	}
	c, ok := unmarshalClasses(text)
	if !ok {
		return nil, nil
	}
	c.seq, c.deletes = seq, deletes
	return c, nil
}

// keepClassesSQL saves classes unless newer ones are kept: later deletes,
// or as many and a later Seq.
const keepClassesSQL = ` ON CONFLICT (viewer) DO UPDATE SET seq = excluded.seq, deletes = excluded.deletes, groups = excluded.groups, counts = excluded.counts
	WHERE excluded.deletes > stats_kept.deletes OR (excluded.deletes = stats_kept.deletes AND excluded.seq >= stats_kept.seq)`

func (s *Store) writeClasses(ctx context.Context, db querier, seq, deletes int64, counts string) error {
	a := s.d.Args()
	_, err := db.ExecContext(ctx, `INSERT INTO stats_kept (viewer, seq, deletes, groups, counts) VALUES (`+
		a.Add(classesKey)+`, `+a.Add(seq)+`, `+a.Add(deletes)+`, '', `+a.Add(counts)+`)`+keepClassesSQL, a.Vals...)
	if err != nil {
		return internal("keeping the counts", err)
	}
	return nil
}

// statsDeleteMax is how many ids (those deleted and the edges to them) a
// delete counts at most to keep the classes; past it (a large retention
// purge) it drops them.
var statsDeleteMax = 200_000

// StatsDeleting keeps the classes of Stats exact across a delete in tx
// (a write transaction) of versions of the ids listed by ids: called
// before the delete, it counts, as of the kept classes' Seq, the ids and
// the edges to them; the
// function it returns, called after the delete (and its line in the log
// of deletes), counts them again and saves the classes with the
// difference, as of the new last delete, in tx. Without classes kept as
// of the last delete it does nothing (the next Stats builds them).
func (s *Store) StatsDeleting(ctx context.Context, tx *sql.Tx, ids func() ([]string, error)) (func() error, error) {
	noop := func() error { return nil }
	if s.h.DeleteLock != nil {
		if err := s.h.DeleteLock(ctx, tx); err != nil {
			return nil, err
		}
	}
	var deletes int64
	c, err := s.loadClasses(ctx, tx, true)
	if err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) FROM deletes`).Scan(&deletes); err != nil {
		return nil, internal("reading the log of deletes", err)
	}
	if c != nil && c.deletes != deletes {
		c = nil
	}
	s.stats.mu.Lock()
	if m := s.stats.classes; m != nil && m.deletes == deletes && (c == nil || m.seq > c.seq) {
		c = m // this process's newer classes (their save may be pending)
	}
	s.stats.mu.Unlock()
	if c == nil {
		return noop, nil
	}
	list, err := ids()
	if err != nil {
		return nil, err
	}
	touched := map[string]bool{}
	for _, id := range list {
		touched[id] = true
	}
	ends := slices.Sorted(maps.Keys(touched))
	if err := s.edgesOf(ctx, tx, now, ends, touched); err != nil {
		return nil, err
	}
	all := slices.Sorted(maps.Keys(touched))
	if len(all) > statsDeleteMax {
		// Counting them twice would cost more than counting the store
		// once: the classes are dropped, and built again by the next call.
		s.stats.mu.Lock()
		s.stats.classes = nil
		s.stats.mu.Unlock()
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM stats_kept WHERE viewer = `+a.Add(classesKey), a.Vals...); err != nil {
			return nil, internal("dropping the counts kept", err)
		}
		return noop, nil
	}
	before, err := s.contribs(ctx, tx, all, c.seq)
	if err != nil {
		return nil, err
	}
	return func() error {
		after, err := s.contribs(ctx, tx, all, c.seq)
		if err != nil {
			return err
		}
		c = c.clone()
		for _, id := range all {
			c.apply(id, before[0][id], -1)
			c.apply(id, after[0][id], 1)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) FROM deletes`).Scan(&c.deletes); err != nil {
			return internal("reading the log of deletes", err)
		}
		text, err := c.marshal()
		if err != nil {
			return internal("keeping the counts", err)
		}
		// This process's classes are older than these once tx commits:
		// the next call reads the saved ones.
		s.stats.mu.Lock()
		s.stats.classes = nil
		s.stats.mu.Unlock()
		return s.writeClasses(ctx, tx, c.seq, c.deletes, text)
	}, nil
}
