package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/google/go-cmp/cmp"
)

// ModelStore is what RunModel tests: objects, the accounts that decide
// who sees them, and correlation.
type ModelStore interface {
	OwnershipStore
	CorrelationStore
	cyberpact.AgreementService
}

// RunModel is the model-based test of the sharing rule: random sequences
// of writes by several organisations (imports to every audience at every
// TLP level, TLP:RED also as upper-case and granular markings, versions,
// revocations, ids held out of sight, deletions, group changes, markings
// beside TLP: releasability to nations and sectors, PAP, levels of a
// marking set, sharing agreements' defaults and refusals) are applied to
// the store and to a plain in-memory model
// built on cyberpact.MaySee, Admit and EndVisible, and after every step
// every read path (list, all versions, get, versions, relationships,
// stats, correlation) must answer each viewer exactly as the model does.
// seeds sequences of steps steps each run; open returns a new, empty
// store for each.
func RunModel(t *testing.T, seeds, steps int, open func(t *testing.T) ModelStore) {
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("Seed", seed), func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			m := newModel(t, s, uint64(seed))
			for step := 0; step < steps; step++ {
				what := m.step(t)
				if !m.check(t) {
					t.Fatalf("after step %d (%s): the store and the model disagree", step, what)
				}
			}
		})
	}
}

// model is the in-memory version of the store: every stored version with
// its release, holding and links, and the groups as they are now.
type model struct {
	s      ModelStore
	rng    *rand.Rand
	orgs   []int64
	facts  map[int64]*cyberpact.Org // nation, sector and clearances by org
	terms  *cyberpact.Terms         // the agreements and marking definitions the model applies
	groups map[int64][]int64        // group -> members
	rows   []*modelRow
	seq    int64
}

type modelRow struct {
	seq, holding int64
	id, typ      string
	version      string
	revoked      bool
	release      cyberpact.Release
	targets      []string // a relationship's ends
	value        string   // the observable value it holds, "" if none
}

// tlpRedID is TLP 2.0's RED marking definition.
const tlpRedID = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

// The pool the random objects are drawn from: few ids, so that
// organisations collide on them all the time.
var (
	modelSDOs   = []string{"indicator", "malware", "malware", "indicator"}
	modelValues = []string{"a.example", "b.example", "c.example"}
)

// modelMarkings are the marking definitions objects of the model refer
// to, stored by the hub before the first step: releasability to nations
// and to a sector, PAP:RED (as OpenCTI writes it), and two levels of the
// marking set MODEL-CLASS.
var modelMarkings = []obj{
	markingExt(1, "REL TO US, JP", obj{"rel_nations": []any{"US", "jp"}}),
	markingExt(2, "REL TO GB", obj{"rel_nations": []any{"GB"}}),
	markingExt(3, "energy only", obj{"rel_sectors": []any{"energy"}}),
	{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + uuid(404), "created": ts(0),
		"definition_type": "statement", "definition": map[string]any{"statement": "PAP:RED"}, "name": "PAP:RED"},
	markingExt(5, "MODEL-CLASS 1", obj{"marking_set": "MODEL-CLASS", "level": 1}),
	markingExt(6, "MODEL-CLASS 2", obj{"marking_set": "MODEL-CLASS", "level": 2}),
}

// markingExt is a cyberpact extension marking definition numbered n.
func markingExt(n int, name string, ext obj) obj {
	ext["extension_type"] = "property-extension"
	return obj{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + uuid(400+n), "created": ts(0),
		"name": name, "extensions": map[string]any{cyberpact.MarkingExtension: map[string]any(ext)}}
}

func newModel(t *testing.T, s ModelStore, seed uint64) *model {
	ctx := context.Background()
	m := &model{s: s, rng: rand.New(rand.NewPCG(seed, 7)), groups: map[int64][]int64{}, facts: map[int64]*cyberpact.Org{}}
	if err := s.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "MODEL-CLASS", Levels: []string{"RESTRICTED", "SECRET"}}, "model"); err != nil {
		t.Fatal(err)
	}
	for i, f := range []struct {
		nation, sector string
		clearance      int
	}{{"GB", "finance", 2}, {"US", "finance", 1}, {"JP", "energy", 0}, {"GB", "energy", 1}} {
		o := &cyberpact.Org{Name: fmt.Sprintf("Model org %d", i), Nation: f.nation, Sector: f.sector}
		if err := s.CreateOrg(ctx, o, "model"); err != nil {
			t.Fatal(err)
		}
		if f.clearance > 0 {
			if err := s.SetClearance(ctx, o.ID, "MODEL-CLASS", f.clearance, "model"); err != nil {
				t.Fatal(err)
			}
			o.Clearances = cyberpact.Clearances{"MODEL-CLASS": f.clearance}
		}
		m.orgs = append(m.orgs, o.ID)
		m.facts[o.ID] = o
	}
	for i, members := range [][]int64{{m.orgs[0], m.orgs[1]}, {m.orgs[1], m.orgs[2]}} {
		g := &cyberpact.Group{Name: fmt.Sprintf("Model group %d", i), Orgs: members}
		if err := s.CreateGroup(ctx, g, "model"); err != nil {
			t.Fatal(err)
		}
		m.groups[g.ID] = slices.Clone(members)
	}
	// The first group's agreement releases to GB and US by default and
	// refuses PAP:RED; the hub's refuses TLP:AMBER+STRICT.
	gs := m.groupIDs()
	for _, a := range []*cyberpact.Agreement{
		{Group: gs[0], Purpose: "model", RelNations: []string{"GB", "US"}, PAPs: []cyberpact.PAP{cyberpact.PAPClear, cyberpact.PAPGreen, cyberpact.PAPAmber}},
		{Group: 0, Purpose: "model hub", TLPs: []cyberpact.TLP{cyberpact.TLPClear, cyberpact.TLPGreen, cyberpact.TLPAmber, cyberpact.TLPRed}},
	} {
		if err := s.SetAgreement(ctx, a, "model"); err != nil {
			t.Fatal(err)
		}
	}
	// The marking definitions, stored by the hub for everyone.
	res, err := importRaw(t, s, bundle(t, modelMarkings...), cyberpact.ImportOptions{Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, DefaultTLP: cyberpact.TLPClear})
	if err != nil || res.Added != len(modelMarkings) {
		t.Fatalf("storing the marking definitions: %+v, %v", res, err)
	}
	m.terms, err = s.Terms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.terms.Markings) != len(modelMarkings) || len(m.terms.Agreements) != 2 {
		t.Fatalf("the store's terms: %d markings, %d agreements; want %d, 2", len(m.terms.Markings), len(m.terms.Agreements), len(modelMarkings))
	}
	for _, o := range modelMarkings {
		m.seq++
		m.rows = append(m.rows, &modelRow{seq: m.seq, holding: m.seq, id: id(o), typ: "marking-definition", version: norm(t, ts(0)),
			release: cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPClear}})
	}
	return m
}

// viewerOf is org with the groups it is in now.
func (m *model) viewerOf(org int64) cyberpact.Viewer {
	v := cyberpact.Viewer{Org: org}
	if f := m.facts[org]; f != nil {
		v.Nation, v.Sector, v.Clearances = f.Nation, f.Sector, f.Clearances
	}
	for g, members := range m.groups {
		if slices.Contains(members, org) {
			v.Groups = append(v.Groups, g)
		}
	}
	slices.Sort(v.Groups)
	return v
}

func (m *model) groupIDs() []int64 {
	var gs []int64
	for g := range m.groups {
		gs = append(gs, g)
	}
	slices.Sort(gs)
	return gs
}

// step applies one random write to the store and the model and says what
// it was.
func (m *model) step(t *testing.T) string {
	ctx := context.Background()
	switch r := m.rng.IntN(10); {
	case r < 7:
		return m.importStep(t)
	case r < 9:
		// A producer deletes its own visible versions of an id.
		org := m.orgs[m.rng.IntN(len(m.orgs))]
		v := m.viewerOf(org)
		id := m.randomID()
		var mine []int64
		for _, x := range m.visibleAll(v) {
			if x.id == id {
				if x.release.Producer != org {
					return "delete refused: not the producer's"
				}
				mine = append(mine, x.seq)
			}
		}
		n, err := m.s.DeleteObject(ctx, id, cyberpact.ObjectFilter{Viewer: &v, AllVersions: true})
		if len(mine) == 0 {
			if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				t.Fatalf("delete of %s by org %d that sees none of it: %d, %v", id, org, n, err)
			}
			return "delete of nothing visible"
		}
		if err != nil || n != len(mine) {
			t.Fatalf("delete of %s by org %d: %d, %v; want %d", id, org, n, err, len(mine))
		}
		m.rows = slices.DeleteFunc(m.rows, func(x *modelRow) bool { return slices.Contains(mine, x.seq) })
		return fmt.Sprintf("org %d deleted %s", org, id)
	default:
		gs := m.groupIDs()
		g := gs[m.rng.IntN(len(gs))]
		var members []int64
		for _, o := range m.orgs {
			if m.rng.IntN(2) == 0 {
				members = append(members, o)
			}
		}
		if len(members) == 0 {
			members = []int64{m.orgs[0]}
		}
		if err := m.s.SetGroupOrgs(ctx, g, members, "model"); err != nil {
			t.Fatal(err)
		}
		m.groups[g] = members
		return fmt.Sprintf("group %d is now %v", g, members)
	}
}

func (m *model) randomID() string {
	n := m.rng.IntN(len(modelSDOs) + 3)
	if n < len(modelSDOs) {
		return modelSDOs[n] + "--" + uuid(100+n)
	}
	return "relationship--" + uuid(200+n)
}

// importStep imports a small bundle as one organisation (or the hub) to
// a random audience, and applies Admit to the model.
func (m *model) importStep(t *testing.T) string {
	producer := int64(0)
	if m.rng.IntN(8) > 0 {
		producer = m.orgs[m.rng.IntN(len(m.orgs))]
	}
	var aud cyberpact.Audience
	switch m.rng.IntN(4) {
	case 0:
		aud = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	case 1:
		gs := m.groupIDs()
		aud = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: gs[m.rng.IntN(len(gs))]}
	default:
		aud = cyberpact.Audience{Kind: cyberpact.AudienceAll}
	}
	tlp := cyberpact.TLP(1 + m.rng.IntN(5))
	if aud.Kind == cyberpact.AudienceAll && tlp == cyberpact.TLPRed {
		aud = cyberpact.Audience{} // the default: RED stays with its producer
	}
	var objs []obj
	for n := 1 + m.rng.IntN(3); n > 0; n-- {
		objs = append(objs, m.randomObject())
	}
	res, err := importRaw(t, m.s, bundle(t, objs...), cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: tlp, Partial: true})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	// The model: each object, in order, through the rule.
	want := cyberpact.ImportResult{Committed: true}
	opts := cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: tlp}
	batch := map[string]*modelRow{}
	var rejected []string
	for i, o := range objs {
		objTLP := cyberpact.TLPUnknown
		if o["granular_markings"] != nil {
			objTLP = cyberpact.TLPRed
		}
		if ms, ok := o["object_marking_refs"].([]any); ok {
			for _, r := range ms {
				if strings.EqualFold(r.(string), tlpRedID) {
					objTLP = cyberpact.TLPRed
				}
			}
		}
		rel := opts.ReleaseOf(objTLP)
		var refs []string
		if ms, ok := o["object_marking_refs"].([]any); ok {
			for _, r := range ms {
				refs = append(refs, strings.ToLower(r.(string)))
			}
		}
		rel, rej := m.terms.Mark(&cyberpact.Object{ID: id(o), Type: o["type"].(string), MarkingRefs: refs}, rel)
		if rej != nil || cyberpact.RefuseRelease(rel) != "" {
			rejected = append(rejected, id(o))
			continue
		}
		x := &modelRow{id: id(o), typ: o["type"].(string), release: rel}
		if o["modified"] != nil {
			x.version = norm(t, o["modified"].(string))
		}
		x.revoked, _ = o["revoked"].(bool)
		if x.typ == "relationship" {
			x.targets = []string{o["source_ref"].(string), o["target_ref"].(string)}
		}
		if v, ok := o["value"].(string); ok {
			x.value = v
		}
		if p, ok := o["pattern"].(string); ok {
			x.value = strings.TrimSuffix(strings.TrimPrefix(p, "[domain-name:value = '"), "']")
		}
		var held []cyberpact.Holding
		for _, y := range m.rows {
			if y.id == x.id {
				held = append(held, cyberpact.Holding{Seq: y.seq, Holding: y.holding, Release: y.release})
			}
		}
		h, _, rej := cyberpact.Admit(&cyberpact.Object{ID: x.id, Type: x.typ, Index: i, Release: rel}, held, m.viewerOf(producer).Groups, false, 0)
		if rej != nil {
			// The same version of a holding it may see is already present.
			present := false
			for _, y := range m.rows {
				if y.id == x.id && y.holding == h && y.version == x.version {
					present = true
				}
			}
			if present {
				want.Present++
			} else {
				rejected = append(rejected, x.id)
			}
			continue
		}
		dup := false
		for _, y := range m.rows {
			if y.id == x.id && y.holding == h && h != 0 && y.version == x.version {
				dup = true
			}
		}
		if p, ok := batch[x.id+"\x00"+x.version]; ok && (h == 0 || p.holding == h) {
			dup = true
		}
		if dup {
			want.Present++ // the generator never changes a version's content
			continue
		}
		m.seq++
		x.seq = m.seq
		if h == 0 {
			h = x.seq
		}
		x.holding = h
		batch[x.id+"\x00"+x.version] = x
		m.rows = append(m.rows, x)
		want.Added++
	}
	if res.Added != want.Added || res.Present != want.Present || len(res.Rejected) != len(rejected) {
		t.Fatalf("import as org %d to %s of %v: added %d, present %d, rejected %v; want %d, %d, %v",
			producer, aud, ids2(objs), res.Added, res.Present, cyberpact.Rejections(res.Rejected), want.Added, want.Present, rejected)
	}
	m.checkHoldings(t)
	return fmt.Sprintf("org %d imported %v to %s at %s", producer, ids2(objs), aud, tlp)
}

func ids2(objs []obj) []string {
	var out []string
	for _, o := range objs {
		out = append(out, id(o))
	}
	return out
}

// checkHoldings checks that the store put every version in the holding
// the model did: the store's seqs are its own, so the model's rows are
// matched to the store's versions by id, producer and version (unique).
func (m *model) checkHoldings(t *testing.T) {
	t.Helper()
	byKey := map[string]*cyberpact.Object{}
	for _, o := range all(t, m.s, cyberpact.ObjectFilter{AllVersions: true}) {
		byKey[fmt.Sprint(o.ID, o.Release.Producer, o.Modified)] = o
	}
	storeSeq := map[int64]int64{}
	for _, x := range m.rows {
		o, ok := byKey[fmt.Sprint(x.id, x.release.Producer, x.version)]
		if !ok {
			t.Fatalf("the store lost %s by %d at %q", x.id, x.release.Producer, x.version)
		}
		storeSeq[x.seq] = o.Seq
	}
	for _, x := range m.rows {
		o := byKey[fmt.Sprint(x.id, x.release.Producer, x.version)]
		if want, ok := storeSeq[x.holding]; ok && o.Holding != want {
			t.Fatalf("%s by %d at %s: holding %d, model %d", x.id, x.release.Producer, x.version, o.Holding, want)
		}
	}
}

// randomObject is a version of an id from the pool.
func (m *model) randomObject() obj {
	day := 1 + m.rng.IntN(4)
	switch r := m.rng.IntN(10); {
	case r < 6:
		n := m.rng.IntN(len(modelSDOs))
		typ := modelSDOs[n]
		// A version's content is a function of its id and day: the same
		// version posted twice is the same.
		o := sdo(typ, 100+n, day, nil)
		if typ == "indicator" {
			o["pattern"] = fmt.Sprintf("[domain-name:value = '%s']", modelValues[(n+day)%len(modelValues)])
		}
		if day == 4 {
			o["revoked"] = true
		}
		// TLP:RED written the ways that once passed as something else.
		switch (n + day) % 5 {
		case 0:
			o["object_marking_refs"] = []any{"marking-definition--" + strings.ToUpper(tlpRedID[len("marking-definition--"):])}
		case 1:
			o["object_marking_refs"] = []any{"marking-definition--E828b379-4E03-4974-9aC4-e53A884C97C1"}
		case 2:
			o["description"] = "restricted"
			o["granular_markings"] = []any{map[string]any{"marking_ref": tlpRedID, "selectors": []any{"description"}}}
		}
		// Markings beside TLP, one or two, or none.
		if k := (n*3 + day) % (len(modelMarkings) + 3); k < len(modelMarkings) {
			refs, _ := o["object_marking_refs"].([]any)
			refs = append(refs, id(modelMarkings[k]))
			if k2 := (n + 2*day) % (len(modelMarkings) + 2); k2 < len(modelMarkings) && k2 != k {
				refs = append(refs, id(modelMarkings[k2]))
			}
			o["object_marking_refs"] = refs
		}
		return o
	case r < 8:
		n := m.rng.IntN(3)
		src := modelSDOs[n] + "--" + uuid(100+n)
		dst := modelSDOs[n+1] + "--" + uuid(101+n)
		r := sdo("relationship", 200+len(modelSDOs)+n, day, obj{"relationship_type": "related-to", "source_ref": src, "target_ref": dst})
		if (n+day)%3 == 0 {
			r["object_marking_refs"] = []any{id(modelMarkings[(n+day)%len(modelMarkings)])}
		}
		return r
	default:
		v := modelValues[m.rng.IntN(len(modelValues))]
		return obj{"type": "domain-name", "spec_version": "2.1", "id": "domain-name--" + uuid(300+slices.Index(modelValues, v)), "value": v}
	}
}

// --- what the model says each viewer sees -----------------------------

// shownHolding is the holding of id a viewer is shown: the oldest with a
// version it may see (0: none).
func (m *model) shownHolding(v cyberpact.Viewer, id string) int64 {
	best := int64(0)
	for _, x := range m.rows {
		if x.id == id && cyberpact.MaySee(v, x.release) && (best == 0 || x.holding < best) {
			best = x.holding
		}
	}
	return best
}

// endsVisible is EndVisible for each end of x.
func (m *model) endsVisible(v cyberpact.Viewer, x *modelRow) bool {
	if len(x.targets) == 0 {
		return true
	}
	prod := m.viewerOf(x.release.Producer)
	for _, end := range x.targets {
		var held []cyberpact.Holding
		for _, y := range m.rows {
			if y.id == end {
				held = append(held, cyberpact.Holding{Seq: y.seq, Holding: y.holding, Release: y.release})
			}
		}
		if !cyberpact.EndVisible(v, prod, held) {
			return false
		}
	}
	return true
}

// visibleAll is every version v is shown, in seq order.
func (m *model) visibleAll(v cyberpact.Viewer) []*modelRow {
	var out []*modelRow
	for _, x := range m.rows {
		if cyberpact.MaySee(v, x.release) && x.holding == m.shownHolding(v, x.id) && m.endsVisible(v, x) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *modelRow) int { return int(a.seq - b.seq) })
	return out
}

// latest is the version of each id v is shown, in seq order: the newest
// it may see of the shown holding, when its ends are visible.
func (m *model) latest(v cyberpact.Viewer) []*modelRow {
	var out []*modelRow
	for _, x := range m.rows {
		if !cyberpact.MaySee(v, x.release) || x.holding != m.shownHolding(v, x.id) {
			continue
		}
		newest := true
		for _, y := range m.rows {
			if y.id == x.id && y.holding == x.holding && y.version > x.version && cyberpact.MaySee(v, y.release) {
				newest = false
			}
		}
		if newest && m.endsVisible(v, x) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *modelRow) int { return int(a.seq - b.seq) })
	return out
}

func rowKeys(rows []*modelRow) []string {
	out := []string{}
	for _, x := range rows {
		out = append(out, fmt.Sprintf("%s@%s/%d", x.id, x.version, x.release.Producer))
	}
	return out
}

func objKeys(objs []*cyberpact.Object) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s@%s/%d", o.ID, o.Modified, o.Release.Producer))
	}
	return out
}

// check compares every read path with the model for every viewer; it
// reports each difference and returns whether there was none.
func (m *model) check(t *testing.T) bool {
	t.Helper()
	ctx := context.Background()
	ok := true
	diff := func(what string, want, got any) {
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-model +store):\n%s", what, d)
			ok = false
		}
	}
	viewers := []cyberpact.Viewer{{Public: true}}
	for _, o := range m.orgs {
		viewers = append(viewers, m.viewerOf(o))
	}
	// A peer hub's sync account of org 1, which never sees PAP:RED.
	sync := m.viewerOf(m.orgs[1])
	sync.Sync = true
	viewers = append(viewers, sync)
	ids := map[string]bool{}
	for _, x := range m.rows {
		ids[x.id] = true
	}
	for _, v := range viewers {
		v := v
		name := fmt.Sprintf("org %d %v", v.Org, v.Groups)
		if v.Sync {
			name += " sync"
		}
		if v.Public {
			name = "public"
		}
		latest := m.latest(v)
		diff(name+": list", rowKeys(latest), objKeys(all(t, m.s, cyberpact.ObjectFilter{Viewer: &v})))
		diff(name+": paged list", rowKeys(latest), objKeys(find(t, m.s, cyberpact.ObjectFilter{Viewer: &v, Limit: 2})))
		everything := m.visibleAll(v)
		diff(name+": all versions", rowKeys(everything), objKeys(all(t, m.s, cyberpact.ObjectFilter{Viewer: &v, AllVersions: true})))
		for id := range ids {
			var want []string
			for _, x := range latest {
				if x.id == id {
					want = rowKeys([]*modelRow{x})
				}
			}
			got := []string{}
			if o, err := m.s.Object(ctx, id, &v); err == nil {
				got = objKeys([]*cyberpact.Object{o})
			} else if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				t.Fatal(err)
			}
			if want == nil {
				want = []string{}
			}
			diff(name+": get "+id, want, got)
			var wantVs []*modelRow
			for _, x := range everything {
				if x.id == id {
					wantVs = append(wantVs, x)
				}
			}
			slices.SortFunc(wantVs, func(a, b *modelRow) int { return strings.Compare(a.version, b.version) })
			gotVs := []*cyberpact.Object{}
			if vs, err := m.s.ObjectVersions(ctx, id, &v); err == nil {
				gotVs = vs
			} else if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				t.Fatal(err)
			}
			diff(name+": versions of "+id, rowKeys(wantVs), objKeys(gotVs))
			var wantRel []*modelRow
			for _, x := range latest {
				if slices.Contains(x.targets, id) {
					wantRel = append(wantRel, x)
				}
			}
			page, err := m.s.Relationships(ctx, id, cyberpact.Both, cyberpact.ObjectFilter{Viewer: &v, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			diff(name+": relationships of "+id, rowKeys(wantRel), objKeys(page.Objects))
		}
		diff(name+": stats", m.stats(v, latest, everything), statsOf(t, m.s, &v))
		if !v.Public {
			for _, value := range modelValues {
				var want []*modelRow
				for _, x := range latest {
					if x.value == value {
						want = append(want, x)
					}
				}
				var keys []string
				for _, c := range match.ObservableKeys(value) {
					keys = append(keys, c.Key)
				}
				c, err := m.s.Correlate(ctx, keys, &v, 0)
				if err != nil {
					t.Fatal(err)
				}
				diff(name+": correlate "+value, rowKeys(want), objKeys(c.Objects))
			}
		}
	}
	return ok
}

// stats is what Stats should say to v.
func (m *model) stats(v cyberpact.Viewer, latest, everything []*modelRow) []cyberpact.TypeStats {
	by := map[string]*cyberpact.TypeStats{}
	idsOf := map[string]map[string]bool{}
	for _, x := range everything {
		s := by[x.typ]
		if s == nil {
			s = &cyberpact.TypeStats{Type: x.typ}
			by[x.typ], idsOf[x.typ] = s, map[string]bool{}
		}
		s.Versions++
		idsOf[x.typ][x.id] = true
	}
	for _, x := range latest {
		if x.revoked {
			by[x.typ].Revoked++
		}
	}
	out := []cyberpact.TypeStats{}
	for typ, s := range by {
		s.Objects = int64(len(idsOf[typ]))
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b cyberpact.TypeStats) int { return strings.Compare(a.Type, b.Type) })
	return out
}

func statsOf(t *testing.T, s cyberpact.ObjectStore, v *cyberpact.Viewer) []cyberpact.TypeStats {
	t.Helper()
	st, err := s.Stats(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		st = []cyberpact.TypeStats{}
	}
	return st
}
