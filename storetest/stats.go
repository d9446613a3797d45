package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// RunStats runs the suite of Stats cases that do not decompose by release
// (ids held by several organisations, versions released differently,
// edges whose ends are such ids or change ends), which any faster Stats
// kept per release class must still answer exactly: each case is a
// sequence of writes after which every viewer's Stats must equal what the
// store's lists show it (all versions, and the latest of each id), and at
// named points the numbers a reader works out by hand. RunModel checks the
// same against the model on random writes. open returns a new, empty store
// for each subtest; RunStats closes it.
func RunStats(t *testing.T, open func(t *testing.T) OwnershipStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, w *statsWorld)
	}{
		{"EdgeFollowsItsProducersGroups", testStatsEdgeFollowsGroups},
		{"EdgeBeforeItsEnd", testStatsEdgeBeforeEnd},
		{"IDHeldTwiceCountsOnce", testStatsHeldTwice},
		{"VersionsReleasedDifferently", testStatsMixedVersions},
		{"EdgeChangesEnds", testStatsEdgeChangesEnds},
		{"ManyAddedSinceTheLastCall", testStatsManyAdded},
		{"NewViewerCountsNotTheStore", testStatsNewViewer},
		{"DeleteCountsNotTheStore", testStatsAfterDelete},
		{"PurgeCountsNotTheStore", testStatsAfterPurge},
		{"GroupChangeCountsNotTheStore", testStatsGroupChange},
		{"ReplacedVersionExact", testStatsReplaced},
		{"NewestVersionRevoked", testStatsNewestRevoked},
		{"MarkingsAsEntered", testStatsMarkingsAsEntered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, newStatsWorld(t, s))
		})
	}
}

// statsWorld is three organisations A, B, C and group G of A and B.
type statsWorld struct {
	s       OwnershipStore
	a, b, c int64
	g       int64
}

func newStatsWorld(t *testing.T, s OwnershipStore) *statsWorld {
	ctx := context.Background()
	w := &statsWorld{s: s}
	for i, p := range []*int64{&w.a, &w.b, &w.c} {
		o := &cyberpact.Org{Name: fmt.Sprintf("Stats org %c", 'A'+i), Nation: "GB", Sector: "energy"}
		if err := s.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
		*p = o.ID
	}
	g := &cyberpact.Group{Name: "Stats group", Orgs: []int64{w.a, w.b}}
	if err := s.CreateGroup(ctx, g, "test"); err != nil {
		t.Fatal(err)
	}
	w.g = g.ID
	return w
}

func (w *statsWorld) viewers(t *testing.T) map[string]*cyberpact.Viewer {
	t.Helper()
	out := map[string]*cyberpact.Viewer{"hub": nil, "public": {Public: true}}
	for name, org := range map[string]int64{"A": w.a, "B": w.b, "C": w.c} {
		gs, err := w.s.GroupsOf(context.Background(), org)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = &cyberpact.Viewer{Org: org, Groups: gs}
	}
	return out
}

// put imports objs as producer to aud at tlp.
func (w *statsWorld) put(t *testing.T, producer int64, aud cyberpact.Audience, tlp cyberpact.TLP, objs ...obj) {
	t.Helper()
	res, err := importRaw(t, w.s, bundle(t, objs...), cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: tlp})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("import by %d: %v %+v %v", producer, err, res, cyberpact.Rejections(res.Rejected))
	}
}

func (w *statsWorld) setGroup(t *testing.T, orgs ...int64) {
	t.Helper()
	if err := w.s.SetGroupOrgs(context.Background(), w.g, orgs, "test"); err != nil {
		t.Fatal(err)
	}
}

// listed is what viewer v's lists say Stats should be: distinct ids and
// versions of every version it is shown, and revoked latest versions.
func listed(t *testing.T, s cyberpact.ObjectStore, v *cyberpact.Viewer) []cyberpact.TypeStats {
	t.Helper()
	by := map[string]*cyberpact.TypeStats{}
	ids := map[string]bool{}
	for _, o := range all(t, s, cyberpact.ObjectFilter{Viewer: v, AllVersions: true}) {
		st := by[o.Type]
		if st == nil {
			st = &cyberpact.TypeStats{Type: o.Type}
			by[o.Type] = st
		}
		st.Versions++
		if !ids[o.ID] {
			ids[o.ID] = true
			st.Objects++
		}
	}
	for _, o := range all(t, s, cyberpact.ObjectFilter{Viewer: v}) {
		if o.Revoked {
			by[o.Type].Revoked++
		}
	}
	out := []cyberpact.TypeStats{}
	for _, st := range by {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b cyberpact.TypeStats) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// check compares every viewer's Stats with its lists, and, for the
// viewers in want, with the counts of relationships want gives (-1: no
// relationship row).
func (w *statsWorld) check(t *testing.T, when string, rels map[string]int64) {
	t.Helper()
	for name, v := range w.viewers(t) {
		got := statsOf(t, w.s, v)
		if diff := cmp.Diff(listed(t, w.s, v), got); diff != "" {
			t.Errorf("%s: stats of %s (-lists +stats):\n%s", when, name, diff)
		}
		if want, ok := rels[name]; ok {
			n := int64(0)
			for _, st := range got {
				if st.Type == "relationship" {
					n = st.Objects
				}
			}
			if n != want {
				t.Errorf("%s: %s is shown %d relationships, want %d", when, name, n, want)
			}
		}
	}
}

// rel is relationship n, modified on day, from src to dst.
func rel(n int, day int, src, dst obj) obj {
	o := sdo("relationship", n, day, obj{"relationship_type": "uses"})
	o["source_ref"], o["target_ref"] = id(src), id(dst)
	return o
}

// testStatsEdgeFollowsGroups: A's relationship to B's malware shared with
// group G is shown to whoever may see both while A is in G, and to no one
// once A leaves G (A no longer sees the end it meant).
func testStatsEdgeFollowsGroups(t *testing.T, w *statsWorld) {
	m := sdo("malware", 1, 1, nil)
	i := sdo("intrusion-set", 2, 1, nil)
	w.put(t, w.b, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, cyberpact.TLPAmber, m)
	w.put(t, w.a, audAll, cyberpact.TLPGreen, i, rel(3, 1, i, m))
	w.check(t, "A in G", map[string]int64{"A": 1, "B": 1, "C": 0, "hub": 1, "public": 0})
	w.setGroup(t, w.b, w.c)
	w.check(t, "A left G", map[string]int64{"A": 0, "B": 0, "C": 0, "hub": 1})
	w.setGroup(t, w.a, w.b, w.c)
	w.check(t, "all in G", map[string]int64{"A": 1, "B": 1, "C": 1})
}

// testStatsEdgeBeforeItsEnd: a relationship to an id not stored is shown
// to no one; once its end is stored it is, and no longer once the end is
// deleted.
func testStatsEdgeBeforeEnd(t *testing.T, w *statsWorld) {
	x := sdo("tool", 1, 1, nil)
	i := sdo("intrusion-set", 2, 1, nil)
	w.put(t, w.a, audAll, cyberpact.TLPGreen, i, rel(3, 1, i, x))
	w.check(t, "end not stored", map[string]int64{"A": 0, "B": 0, "hub": 1})
	w.put(t, w.b, audAll, cyberpact.TLPClear, x)
	w.check(t, "end stored", map[string]int64{"A": 1, "B": 1, "C": 1, "public": 0})
	w.put(t, w.a, audAll, cyberpact.TLPClear, sdo("intrusion-set", 2, 2, nil), sdo("relationship", 3, 2, obj{"relationship_type": "uses", "source_ref": id(i), "target_ref": id(x)}))
	w.check(t, "all clear but the old versions", map[string]int64{"A": 1, "public": 1})
	vb := w.viewers(t)["B"]
	if _, err := w.s.DeleteObject(context.Background(), id(x), cyberpact.ObjectFilter{Viewer: vb, AllVersions: true}); err != nil {
		t.Fatal(err)
	}
	w.check(t, "end deleted", map[string]int64{"A": 0, "B": 0, "C": 0, "hub": 1})
}

// testStatsHeldTwice: an id held by two organisations counts once for the
// hub, once for each holder, and a relationship to it follows the holding
// its producer meant.
func testStatsHeldTwice(t *testing.T, w *statsWorld) {
	m := sdo("malware", 1, 1, nil)
	w.put(t, w.a, audOrg, cyberpact.TLPAmber, m)
	w.put(t, w.b, audOrg, cyberpact.TLPAmber, m) // B may not see A's: its own holding
	w.put(t, w.c, audAll, cyberpact.TLPGreen, sdo("malware", 1, 2, nil))
	i := sdo("intrusion-set", 2, 1, nil)
	w.put(t, w.b, audAll, cyberpact.TLPGreen, i, rel(3, 1, i, m))
	w.check(t, "three holdings", map[string]int64{"A": 0, "B": 1, "C": 0, "hub": 1})
}

// testStatsMixedVersions: the versions of one id released to different
// audiences and at different levels count for each viewer as it sees
// them, and so does a relationship to it.
func testStatsMixedVersions(t *testing.T, w *statsWorld) {
	m1, m2 := sdo("malware", 1, 1, nil), sdo("malware", 1, 2, obj{"revoked": true})
	w.put(t, w.a, audAll, cyberpact.TLPClear, m1)
	w.put(t, w.a, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, cyberpact.TLPAmber, m2)
	i := sdo("intrusion-set", 2, 1, nil)
	w.put(t, w.c, audAll, cyberpact.TLPClear, i, rel(3, 1, i, m1))
	w.check(t, "mixed", map[string]int64{"A": 1, "B": 1, "C": 1, "public": 1})
}

// testStatsEdgeChangesEnds: a relationship whose versions name different
// ends is shown, version by version, as its ends are.
func testStatsEdgeChangesEnds(t *testing.T, w *statsWorld) {
	m := sdo("malware", 1, 1, nil)
	n := sdo("malware", 4, 1, nil)
	i := sdo("intrusion-set", 2, 1, nil)
	w.put(t, w.a, audAll, cyberpact.TLPGreen, m, i)
	w.put(t, w.a, audOrg, cyberpact.TLPAmber, n)
	w.put(t, w.a, audAll, cyberpact.TLPGreen, rel(3, 1, i, m), rel(3, 2, i, n))
	w.check(t, "second version to A's own", map[string]int64{"A": 1, "B": 1, "C": 1})
}

// testStatsManyAdded: an import of more objects than one count names
// (sqlstore reads what was stored a thousand rows at a time) with new ids,
// new versions of stored ids, relationships stored before their ends, and
// ends shared with another group, counted from kept counts, is what the
// lists say for every viewer.
func testStatsManyAdded(t *testing.T, w *statsWorld) {
	i := sdo("intrusion-set", 1, 1, nil)
	var first []obj
	for n := 0; n < 300; n++ {
		first = append(first, sdo("malware", 10+n, 1, nil))
		first = append(first, rel(5000+n, 1, i, sdo("tool", 10000+n, 1, nil))) // to a tool not stored yet
	}
	w.put(t, w.a, audAll, cyberpact.TLPGreen, append(first, i)...)
	w.put(t, w.b, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, cyberpact.TLPAmber, sdo("malware", 9, 1, nil))
	w.check(t, "before", nil)
	var many []obj
	for n := 0; n < 300; n++ {
		many = append(many, sdo("tool", 10000+n, 1, nil))                      // the end of an edge stored before
		many = append(many, sdo("malware", 10+n, 2, nil))                      // a new version of a stored id
		many = append(many, sdo("malware", 2000+n, 1, nil))                    // a new id
		many = append(many, rel(7000+n, 1, i, sdo("malware", 2000+n, 1, nil))) // and an edge to it
		many = append(many, rel(8000+n, 1, i, sdo("malware", 9, 1, nil)))      // to B's, shared with the group
	}
	w.put(t, w.a, audAll, cyberpact.TLPGreen, many...)
	w.check(t, "after 1,500 more", map[string]int64{"A": 900, "B": 900, "C": 600, "hub": 900})
	w.setGroup(t, w.b, w.c)
	w.check(t, "A left G", map[string]int64{"A": 600, "B": 600, "C": 600, "hub": 900})
}

// builds is how many times s counted its whole store for Stats
// (sqlstore.Store.StatsBuilds).
func builds(t *testing.T, s cyberpact.ObjectStore) int64 {
	t.Helper()
	b, ok := s.(interface{ StatsBuilds() int64 })
	if !ok {
		t.Fatalf("%T does not say how often it counted the whole store", s)
	}
	return b.StatsBuilds()
}

// statsMix stores a little of everything: versions, revocations, group
// and own releases, relationships to ends released differently, one to an
// id not stored, and an id held twice.
func (w *statsWorld) statsMix(t *testing.T) (m, i obj) {
	m = sdo("malware", 1, 1, nil)
	i = sdo("intrusion-set", 2, 1, nil)
	x := sdo("tool", 4, 1, nil)
	w.put(t, w.b, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, cyberpact.TLPAmber, m)
	w.put(t, w.a, audAll, cyberpact.TLPGreen, i, rel(3, 1, i, m), rel(5, 1, i, sdo("tool", 6, 1, nil)), x, rel(7, 1, i, x))
	w.put(t, w.a, audAll, cyberpact.TLPClear, sdo("intrusion-set", 2, 2, nil), sdo("tool", 4, 2, obj{"revoked": true}))
	w.put(t, w.c, audOrg, cyberpact.TLPAmber, sdo("tool", 4, 1, nil)) // C's own holding of A's tool
	return m, i
}

// testStatsNewViewer: once the counts exist, the first call of viewers
// never seen does not count the store again, and is what their lists say.
func testStatsNewViewer(t *testing.T, w *statsWorld) {
	w.statsMix(t)
	statsOf(t, w.s, nil)
	n := builds(t, w.s)
	if n != 1 {
		t.Fatalf("the hub's first call counted the store %d times, want 1", n)
	}
	w.check(t, "first call of each", nil)
	statsOf(t, w.s, &cyberpact.Viewer{Org: w.c, Nation: "FR", Sector: "energy"})
	if got := builds(t, w.s); got != n {
		t.Errorf("new viewers counted the whole store %d more times, want none", got-n)
	}
}

// testStatsAfterDelete: a delete (of an edge's end, of one version of an
// id) does not make the next call count the store again, and every viewer
// is told what its lists say.
func testStatsAfterDelete(t *testing.T, w *statsWorld) {
	m, i := w.statsMix(t)
	w.check(t, "before", nil)
	n := builds(t, w.s)
	vs := w.viewers(t)
	if _, err := w.s.DeleteObject(context.Background(), id(m), cyberpact.ObjectFilter{Viewer: vs["B"], AllVersions: true}); err != nil {
		t.Fatal(err)
	}
	w.check(t, "end deleted", map[string]int64{"hub": 3})
	if _, err := w.s.DeleteObject(context.Background(), id(i), cyberpact.ObjectFilter{Viewer: vs["A"], Versions: []string{ts(1)}}); err != nil {
		t.Fatal(err)
	}
	w.check(t, "a version deleted", nil)
	if got := builds(t, w.s); got != n {
		t.Errorf("calls after deletes counted the whole store %d more times, want none", got-n)
	}
}

// testStatsAfterPurge: a retention purge of versions does not make the
// next call count the store again, and every viewer is told what its
// lists say.
func testStatsAfterPurge(t *testing.T, w *statsWorld) {
	p, ok := w.s.(interface {
		PurgeVersions(ctx context.Context, seqs []int64) (int, []string, error)
	})
	if !ok {
		t.Skipf("%T does not purge", w.s)
	}
	m, _ := w.statsMix(t)
	w.check(t, "before", nil)
	n := builds(t, w.s)
	var seqs []int64
	for _, o := range all(t, w.s, cyberpact.ObjectFilter{AllVersions: true}) {
		if o.ID == id(m) || o.Type == "tool" && o.Release.Producer == w.c {
			seqs = append(seqs, o.Seq)
		}
	}
	if _, _, err := p.PurgeVersions(context.Background(), seqs); err != nil {
		t.Fatal(err)
	}
	w.check(t, "purged", nil)
	if got := builds(t, w.s); got != n {
		t.Errorf("calls after a purge counted the whole store %d more times, want none", got-n)
	}
}

// testStatsGroupChange: a change of a group's members changes, without a
// count of the store, what every viewer is told of the edges to what the
// group was given.
func testStatsGroupChange(t *testing.T, w *statsWorld) {
	w.statsMix(t)
	w.check(t, "A in G", nil)
	n := builds(t, w.s)
	w.setGroup(t, w.b, w.c)
	w.check(t, "A left G", nil)
	w.setGroup(t, w.a, w.c)
	w.check(t, "B left G", nil)
	if got := builds(t, w.s); got != n {
		t.Errorf("calls after group changes counted the whole store %d more times, want none", got-n)
	}
}

// testStatsReplaced: a version replaced by an import (ConflictReplace)
// with another release is counted as the lists show it, for every viewer.
func testStatsReplaced(t *testing.T, w *statsWorld) {
	w.statsMix(t)
	w.check(t, "before", nil)
	res, err := importRaw(t, w.s, bundle(t, sdo("intrusion-set", 2, 1, obj{"revoked": true})), cyberpact.ImportOptions{Producer: w.a,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, DefaultTLP: cyberpact.TLPAmber, OnConflict: cyberpact.ConflictReplace})
	if err != nil || !res.Committed || len(res.Replaced) != 1 {
		t.Fatalf("replacing: %v %+v", err, res)
	}
	w.check(t, "replaced", nil)
}

// testStatsNewestRevoked: an id counts as revoked when the newest version
// a viewer is shown is, whatever its older versions say.
func testStatsNewestRevoked(t *testing.T, w *statsWorld) {
	w.put(t, w.a, audAll, cyberpact.TLPGreen, sdo("malware", 1, 1, nil), sdo("malware", 2, 1, nil))
	statsOf(t, w.s, nil)
	w.put(t, w.a, audAll, cyberpact.TLPGreen, sdo("malware", 1, 2, obj{"revoked": true}), sdo("malware", 2, 2, nil))
	w.check(t, "second versions", nil)
	for name, v := range w.viewers(t) {
		if name == "public" {
			continue
		}
		for _, st := range statsOf(t, w.s, v) {
			if st.Type == "malware" && st.Revoked != 1 {
				t.Errorf("%s is told of %d revoked malware, want 1", name, st.Revoked)
			}
		}
	}
}

// testStatsMarkingsAsEntered: nations, sectors and marking levels entered
// in any case and at the ends of their ranges (organisations' settings,
// clearances, marking definitions, an agreement's defaults) are stored in
// the one form in which the rule's Go (cyberpact.MaySee, with which Stats
// sums its classes) and its SQL (the lists: SQLite's LIKE ignores case,
// PostgreSQL's does not) answer alike, or refused with EINVALID; and every
// viewer, built as a request's is from its organisation as stored, is told
// by Stats what its lists show, and shown what the markings say.
func testStatsMarkingsAsEntered(t *testing.T, w *statsWorld) {
	ctx := context.Background()
	ag, ok := w.s.(cyberpact.AgreementService)
	if !ok {
		t.Fatalf("%T keeps no marking sets", w.s)
	}
	top := cyberpact.MaxLevels
	invalid := func(what string, err error) {
		t.Helper()
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("%s: %v; want EINVALID", what, err)
		}
	}

	// Organisations entered in mixed case: P (GB, finance), Q (GB,
	// energy), R (US, energy), S (FR, finance).
	orgs := map[string]int64{}
	for _, e := range []struct{ name, nation, sector, wantNation, wantSector string }{
		{"P", "gb", "Finance", "GB", "finance"},
		{"Q", "Gb", "ENERGY", "GB", "energy"},
		{"R", "uS", "energy", "US", "energy"},
		{"S", "fr", "fINANCE", "FR", "finance"},
	} {
		o := &cyberpact.Org{Name: "Marked org " + e.name, Nation: e.nation, Sector: e.sector}
		if err := w.s.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatalf("CreateOrg(%q, %q): %v", e.nation, e.sector, err)
		}
		got, err := w.s.OrgByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Nation != e.wantNation || o.Sector != e.wantSector || got.Nation != e.wantNation || got.Sector != e.wantSector {
			t.Errorf("CreateOrg(%q, %q) = %s, %s, stored %s, %s; want %s, %s", e.nation, e.sector, o.Nation, o.Sector, got.Nation, got.Sector, e.wantNation, e.wantSector)
		}
		orgs[e.name] = o.ID
	}
	for _, o := range []cyberpact.Org{{Nation: "uk", Sector: "finance"}, {Nation: "g", Sector: "finance"}, {Nation: "GB", Sector: "finances"}} {
		o.Name = fmt.Sprintf("Odd org %s %s", o.Nation, o.Sector)
		invalid(fmt.Sprintf("CreateOrg(%q, %q)", o.Nation, o.Sector), w.s.CreateOrg(ctx, &o, "test"))
	}
	invalid("SetOrg nation XX", w.s.SetOrg(ctx, &cyberpact.Org{ID: orgs["S"], Nation: "xx"}, "test"))
	invalid("SetOrg sector bank", w.s.SetOrg(ctx, &cyberpact.Org{ID: orgs["S"], Sector: "Bank"}, "test"))

	// A marking set of the most levels there may be; P is cleared for the
	// top one, Q for the one below, R for the first, S for none.
	levels := make([]string, top)
	for i := range levels {
		levels[i] = fmt.Sprintf("LEVEL %d", i+1)
	}
	if err := ag.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "ODD-CLASS", Levels: levels}, "test"); err != nil {
		t.Fatal(err)
	}
	invalid("a marking set of MaxLevels+1 levels", ag.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "ODD-CLASS", Levels: append(slices.Clone(levels), "BEYOND")}, "test"))
	invalid("a marking set named in lower case", ag.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "odd-class", Levels: levels[:2]}, "test"))
	for name, level := range map[string]int{"P": top, "Q": top - 1, "R": 1} {
		if err := ag.SetClearance(ctx, orgs[name], "ODD-CLASS", level, "test"); err != nil {
			t.Fatal(err)
		}
	}
	invalid("a clearance above the set's top level", ag.SetClearance(ctx, orgs["S"], "ODD-CLASS", top+1, "test"))

	// Group G's agreement releases to nations and sectors entered in
	// mixed case.
	if err := ag.SetAgreement(ctx, &cyberpact.Agreement{Group: w.g, Purpose: "test", RelNations: []string{"gb"}, RelSectors: []string{"Energy"}}, "test"); err != nil {
		t.Fatal(err)
	}
	invalid("an agreement releasing to UK", ag.SetAgreement(ctx, &cyberpact.Agreement{Group: w.g, Purpose: "test", RelNations: []string{"UK"}}, "test"))

	// Marking definitions in mixed case and at the ends of the levels,
	// stored by the hub for everyone; malformed ones refused, naming the
	// property.
	defs := []obj{
		markingExt(11, "REL TO gb, Us", obj{"rel_nations": []any{"gb", "Us"}}),
		markingExt(12, "Finance only", obj{"rel_sectors": []any{"Finance"}}),
		markingExt(13, "REL TO gb, energy", obj{"rel_nations": []any{" gb"}, "rel_sectors": []any{"eNERGY"}}),
		markingExt(14, "ODD-CLASS top", obj{"marking_set": "ODD-CLASS", "level": top}),
		markingExt(15, "ODD-CLASS below the top", obj{"marking_set": "ODD-CLASS", "level": top - 1}),
		markingExt(16, "ODD-CLASS 1", obj{"marking_set": "ODD-CLASS", "level": 1}),
		markingExt(17, "a set not defined", obj{"marking_set": "NO-SUCH-CLASS", "level": 1}),
		markingExt(18, "PAP:red, REL TO Fr", obj{"pap": "Red", "rel_nations": []any{"Fr"}}),
	}
	bad := []obj{
		markingExt(21, "REL TO uk", obj{"rel_nations": []any{"uk"}}),
		markingExt(22, "above the top", obj{"marking_set": "ODD-CLASS", "level": top + 1}),
		markingExt(23, "level 0", obj{"marking_set": "ODD-CLASS", "level": 0}),
		markingExt(24, "a set in lower case", obj{"marking_set": "odd-class", "level": 1}),
		markingExt(25, "no such sector", obj{"rel_sectors": []any{"finances"}}),
	}
	res, err := importRaw(t, w.s, bundle(t, append(slices.Clone(defs), bad...)...), cyberpact.ImportOptions{Audience: audAll, DefaultTLP: cyberpact.TLPClear, Partial: true})
	if err != nil || res.Added != len(defs) || len(res.Rejected) != len(bad) {
		t.Fatalf("storing the marking definitions: %+v, %v; want %d added, %d rejected", res, err, len(defs), len(bad))
	}
	for i, r := range res.Rejected {
		if r.ID != id(bad[i]) || !strings.Contains(r.Reason, "extensions") {
			t.Errorf("rejection %d: %s; want %s refused naming the extension's property", i, r.Error(), id(bad[i]))
		}
	}

	// A's malware n marked with definition n (GREEN, to all members), a
	// relationship from the one releasable to GB and US to the one at
	// level 1, and B's malware to group G, marked by its agreement.
	marked := func(n int) obj {
		return sdo("malware", n, 1, obj{"object_marking_refs": []any{id(markingExt(n, "", obj{}))}})
	}
	var objs []obj
	for n := 11; n <= 18; n++ {
		objs = append(objs, marked(n))
	}
	objs = append(objs, rel(30, 1, marked(11), marked(16)))
	w.put(t, w.a, audAll, cyberpact.TLPGreen, objs...)
	w.put(t, w.b, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, cyberpact.TLPAmber, sdo("malware", 31, 1, nil))
	wantMarks := map[string]cyberpact.Marks{
		id(marked(11)): "<n:GB><n:US>", id(marked(12)): "<s:finance>", id(marked(13)): "<n:GB><s:energy>",
		id(marked(14)): cyberpact.Marks(fmt.Sprintf("<m:ODD-CLASS:%d>", top)), id(marked(15)): cyberpact.Marks(fmt.Sprintf("<m:ODD-CLASS:%d>", top-1)),
		id(marked(16)): "<m:ODD-CLASS:1>", id(marked(17)): "<m:NO-SUCH-CLASS:1>", id(marked(18)): "<n:FR><p:4>",
		id(sdo("malware", 31, 1, nil)): "<n:GB><s:energy>",
	}
	for _, o := range all(t, w.s, cyberpact.ObjectFilter{Types: []string{"malware"}}) {
		if o.Release.Marks != wantMarks[o.ID] {
			t.Errorf("%s is stored with marks %q; want %q", o.ID, string(o.Release.Marks), string(wantMarks[o.ID]))
		}
	}

	// viewers are A, B, C, P, Q, R, S as a request is (from the
	// organisation as stored), S as a peer hub's sync account, the hub and
	// the public collection.
	viewers := func() map[string]*cyberpact.Viewer {
		out := map[string]*cyberpact.Viewer{"hub": nil, "public": {Public: true}}
		all := map[string]int64{"A": w.a, "B": w.b, "C": w.c}
		maps.Copy(all, orgs)
		for name, org := range all {
			o, err := w.s.OrgByID(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			gs, err := w.s.GroupsOf(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			v := cyberpact.OrgViewer(o, gs)
			out[name] = &v
		}
		sync := *out["S"]
		sync.Sync = true
		out["S sync"] = &sync
		return out
	}
	// check compares each viewer's Stats with its lists, and the malware
	// and relationships it is shown with shown (by number).
	check := func(when string, shown map[string][]int) {
		t.Helper()
		for name, v := range viewers() {
			if diff := cmp.Diff(listed(t, w.s, v), statsOf(t, w.s, v)); diff != "" {
				t.Errorf("%s: stats of %s (-lists +stats):\n%s", when, name, diff)
			}
			want, ok := shown[name]
			if !ok {
				continue
			}
			got := []int{}
			for _, o := range all(t, w.s, cyberpact.ObjectFilter{Viewer: v, Types: []string{"malware", "relationship"}}) {
				var n int
				fmt.Sscanf(o.ID[strings.LastIndexByte(o.ID, '-')+1:], "%x", &n)
				got = append(got, n)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s is shown %v; want %v", when, name, got, want)
			}
		}
	}
	check("as entered", map[string][]int{
		"A":      {11, 12, 13, 14, 15, 16, 17, 18, 30, 31},
		"B":      {11, 13, 31},
		"C":      {11, 13},
		"P":      {11, 12, 14, 15, 16, 30},
		"Q":      {11, 13, 15, 16, 30},
		"R":      {11, 16, 30},
		"S":      {12, 18},
		"S sync": {12},
		"public": {},
	})
	// S moves to GB and the energy sector, entered in mixed case: it is
	// counted as it is now shown.
	if err := w.s.SetOrg(ctx, &cyberpact.Org{ID: orgs["S"], Nation: "gB", Sector: "Energy"}, "test"); err != nil {
		t.Fatal(err)
	}
	check("S moved", map[string][]int{"S": {11, 13}, "S sync": {11, 13}})
	// New versions marked otherwise (ids then counted apart from the
	// classes), and a relationship of B's to the malware at level 1.
	w.put(t, w.a, audAll, cyberpact.TLPGreen,
		sdo("malware", 11, 2, obj{"object_marking_refs": []any{id(markingExt(12, "", obj{}))}}),
		sdo("malware", 14, 2, obj{"object_marking_refs": []any{id(markingExt(15, "", obj{}))}}))
	w.put(t, w.b, audAll, cyberpact.TLPGreen, rel(32, 1, sdo("malware", 31, 1, nil), marked(16)))
	check("second versions", map[string][]int{
		"P": {11, 12, 14, 15, 16, 30},
		"Q": {11, 13, 14, 15, 16, 30},
		"R": {11, 16, 30},
		"S": {11, 13},
	})
}
