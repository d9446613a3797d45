package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// ModelStore is what RunModel tests: objects, the accounts that decide
// who sees them, and correlation.
type ModelStore interface {
	OwnershipStore
	CorrelationStore
	cyberpact.AgreementService
	cyberpact.AnonymityStore
	cyberpact.AuditLog
	cyberpact.PrivacyStore
}

// RunModel is the model-based test of the sharing rule: random sequences
// of writes by several organisations (imports to every audience at every
// TLP level, TLP:RED also as upper-case and granular markings, versions,
// revocations, ids held out of sight, deletions, group changes,
// organisations moving nation or sector (entered in mixed case), markings
// beside TLP: releasability to nations and sectors (in mixed case), PAP,
// levels of a marking set up to cyberpact.MaxLevels, sharing agreements'
// defaults and refusals, personal data redacted under the agreements and
// policies of the audience, anonymous publications held per submitter,
// release warrants) are applied to the store and to a plain in-memory
// model built on cyberpact.MaySee, Admit and EndVisible, and after every
// step every read path (list, all versions, get, versions, relationships,
// stats, correlation, the stream's paging, search) must answer each viewer
// exactly as the model does: the same versions, each with exactly the
// personal values the model says survive redaction (none that a redacting
// policy covers, for any viewer, the producer's own organisation included:
// it reads its originals apart, through Original, and anyone else only
// through an approved warrant), and nothing that names an anonymous
// submitter (the hub as producer, the hub's identity as created_by_ref, no
// audit trail of another organisation's anonymous writes).
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
				t.Logf("step %d: %s", step, what)
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
	hub    string // the hub's identity, created_by_ref of anonymous versions
	// originals are the producers (0 for anonymous ones) of the redacted
	// versions of each id, whose originals the store keeps.
	originals map[string]map[int64]bool
	users     map[int64]*cyberpact.Principal // a member analyst of each organisation
	approver  *cyberpact.Principal           // a warrant approver
}

type modelRow struct {
	seq, holding int64
	id, typ      string
	version      string
	revoked      bool
	release      cyberpact.Release
	targets      []string // a relationship's ends
	value        string   // the observable value it holds, "" if none
	// submitter is the organisation that published it anonymously (its
	// producer is then the hub), 0 for none.
	submitter int64
	// personal is whether its description holds the victim's address and
	// phone number; redEmail and redPhone whether the store replaced
	// them by pseudonyms (the audience's policy).
	personal, redEmail, redPhone bool
}

// The personal data some versions carry in their description.
const (
	modelEmail    = "jane.doe@northbank-finance.example"
	modelPhone    = "+44 20 7946 0958"
	modelPersonal = "Victim " + modelEmail + " called the SOC from " + modelPhone + "."
)

// content is what decides a version's stored bytes beside its id and
// version: whether it was anonymised (created_by_ref set to the hub's
// identity; observables are left as they are) and which personal values
// were redacted. Two versions of one holding with the same version and
// another content conflict.
func (x *modelRow) content() string {
	return fmt.Sprint(x.submitter != 0 && !cyberpact.IsObservable(x.typ), x.personal && x.redEmail, x.personal && x.redPhone)
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
// and to a sector (written in mixed case), PAP:RED (as OpenCTI writes it),
// and levels of the marking set MODEL-CLASS: the first, the second and the
// top one (cyberpact.MaxLevels).
var modelMarkings = []obj{
	markingExt(1, "REL TO US, JP", obj{"rel_nations": []any{"US", "jp"}}),
	markingExt(2, "REL TO GB", obj{"rel_nations": []any{"gB"}}),
	markingExt(3, "energy only", obj{"rel_sectors": []any{"Energy"}}),
	{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + uuid(404), "created": ts(0),
		"definition_type": "statement", "definition": map[string]any{"statement": "PAP:RED"}, "name": "PAP:RED"},
	markingExt(5, "MODEL-CLASS 1", obj{"marking_set": "MODEL-CLASS", "level": 1}),
	markingExt(6, "MODEL-CLASS 2", obj{"marking_set": "MODEL-CLASS", "level": 2}),
	markingExt(7, "MODEL-CLASS top", obj{"marking_set": "MODEL-CLASS", "level": cyberpact.MaxLevels}),
}

// modelPrivateMarking is a marking definition the first organisation
// stores for itself alone: an import by another organisation that refers
// to it is refused exactly as one referring to modelUnknownMarking, which
// no one stores (Terms: a marking definition held out of the producer's
// sight is answered as one that does not exist).
var (
	modelPrivateMarking = markingExt(8, "REL TO JP (private)", obj{"rel_nations": []any{"JP"}})
	modelUnknownMarking = "marking-definition--" + uuid(409)
	// modelRefs are the marking definitions the generator refers to.
	modelRefs = append(idsOf(modelMarkings), id(modelPrivateMarking), modelUnknownMarking)
)

func idsOf(objs []obj) []string {
	var out []string
	for _, o := range objs {
		out = append(out, id(o))
	}
	return out
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
	levels := []string{"RESTRICTED", "SECRET"}
	for len(levels) < cyberpact.MaxLevels {
		levels = append(levels, fmt.Sprintf("SECRET %d", len(levels)))
	}
	if err := s.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "MODEL-CLASS", Levels: levels}, "model"); err != nil {
		t.Fatal(err)
	}
	// Nations and sectors entered in mixed case: the store keeps them as
	// the rule compares them (nations upper case, sectors lower case).
	for i, f := range []struct {
		nation, sector string
		clearance      int
	}{{"gb", "Finance", cyberpact.MaxLevels}, {"Us", "finance", 1}, {"jp", "ENERGY", 0}, {"GB", "energy", 2}} {
		o := &cyberpact.Org{Name: fmt.Sprintf("Model org %d", i), Nation: f.nation, Sector: f.sector}
		if err := s.CreateOrg(ctx, o, "model"); err != nil {
			t.Fatal(err)
		}
		if o.Nation != strings.ToUpper(f.nation) || o.Sector != strings.ToLower(f.sector) {
			t.Fatalf("CreateOrg(%q, %q) stored %s, %s", f.nation, f.sector, o.Nation, o.Sector)
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
	// The second group's agreement redacts e-mail addresses and phone
	// numbers in what is shared with it; the hub's redacts phone numbers
	// in what is shared with all members (and, as the hub-wide default,
	// in any TLP:CLEAR version, which the public collection serves); the
	// first group's privacy policy redacts nothing.
	gs := m.groupIDs()
	for _, a := range []*cyberpact.Agreement{
		{Group: gs[0], Purpose: "model", RelNations: []string{"GB", "US"}, PAPs: []cyberpact.PAP{cyberpact.PAPClear, cyberpact.PAPGreen, cyberpact.PAPAmber}},
		{Group: gs[1], Purpose: "model redacting", PersonalData: []string{"detect-email", "detect-phone", "redact"}},
		{Group: 0, Purpose: "model hub", TLPs: []cyberpact.TLP{cyberpact.TLPClear, cyberpact.TLPGreen, cyberpact.TLPAmber, cyberpact.TLPRed},
			PersonalData: []string{"detect-phone", "redact"}},
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
	res, err = importRaw(t, s, bundle(t, modelPrivateMarking), cyberpact.ImportOptions{Producer: m.orgs[0], Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}})
	if err != nil || res.Added != 1 {
		t.Fatalf("storing the private marking definition: %+v, %v", res, err)
	}
	m.terms, err = s.Terms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.terms.Markings) != len(modelMarkings)+1 || len(m.terms.Agreements) != 3 {
		t.Fatalf("the store's terms: %d markings, %d agreements; want %d, 3", len(m.terms.Markings), len(m.terms.Agreements), len(modelMarkings)+1)
	}
	if err := s.SetPrivacyPolicy(ctx, &cyberpact.PrivacyPolicy{Group: gs[0], Detectors: "none"}, "model"); err != nil {
		t.Fatal(err)
	}
	if m.hub, err = s.HubIdentity(ctx); err != nil {
		t.Fatal(err)
	}
	m.originals, m.users = map[string]map[int64]bool{}, map[int64]*cyberpact.Principal{}
	for i, org := range m.orgs {
		u := &cyberpact.User{Name: fmt.Sprintf("model-analyst-%d", i), Org: org, Role: cyberpact.RoleAnalyst}
		if err := s.CreateUser(ctx, u, "model"); err != nil {
			t.Fatal(err)
		}
		m.users[org] = &cyberpact.Principal{User: *u, Org: *m.facts[org]}
	}
	ap := &cyberpact.User{Name: "model-approver", Org: m.orgs[3], Role: cyberpact.RoleAnalyst}
	if err := s.CreateUser(ctx, ap, "model"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWarrantApprover(ctx, ap.Name, "model"); err != nil {
		t.Fatal(err)
	}
	m.approver = &cyberpact.Principal{User: *ap, Org: *m.facts[m.orgs[3]]}
	for _, o := range modelMarkings {
		m.seq++
		m.rows = append(m.rows, &modelRow{seq: m.seq, holding: m.seq, id: id(o), typ: "marking-definition", version: norm(t, ts(0)),
			release: cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPClear}})
	}
	m.seq++
	m.rows = append(m.rows, &modelRow{seq: m.seq, holding: m.seq, id: id(modelPrivateMarking), typ: "marking-definition", version: norm(t, ts(0)),
		release: cyberpact.Release{Producer: m.orgs[0], Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber}})
	return m
}

// termsFor are the terms an import by poster (the submitter of an
// anonymous one) applies: of the stored marking definitions, those it may
// see (the hub: all), and the hub's own kept to the hub alone.
func (m *model) termsFor(poster int64) *cyberpact.Terms {
	t := &cyberpact.Terms{Agreements: m.terms.Agreements, Markings: map[string]cyberpact.MarkParts{}, Now: m.terms.Now}
	v := m.viewerOf(poster)
	for _, y := range m.rows {
		if p, ok := m.terms.Markings[y.id]; ok && y.typ == "marking-definition" && (poster == 0 || cyberpact.MaySee(v, y.release) || y.release.Producer == 0 && y.release.Audience.Kind == cyberpact.AudienceOrg) {
			t.Markings[y.id] = p
		}
	}
	return t
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
	switch r := m.rng.IntN(11); {
	case r < 7:
		return m.importStep(t)
	case r == 10:
		return m.warrantStep(t)
	case r < 9:
		// A producer deletes its own visible versions of an id (those it
		// published anonymously included: cyberpact.MayManage, as the
		// TAXII DELETE checks before it deletes what its caller sees).
		org := m.orgs[m.rng.IntN(len(m.orgs))]
		v := m.viewerOf(org)
		id := m.randomID()
		if m.rng.IntN(2) == 0 { // half the time an id it sees and holds, if any, one it published anonymously first
			var own, anon []string
			for _, x := range m.visibleAll(v) {
				if cyberpact.MayManage(org, x.release, x.submitter) {
					own = append(own, x.id)
					if x.submitter != 0 {
						anon = append(anon, x.id)
					}
				}
			}
			if len(anon) > 0 {
				own = anon
			}
			if len(own) > 0 {
				id = own[m.rng.IntN(len(own))]
			}
		}
		var mine []int64
		for _, x := range m.visibleAll(v) {
			if x.id == id {
				if !cyberpact.MayManage(org, x.release, x.submitter) {
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
		how := ""
		for _, x := range m.rows {
			if slices.Contains(mine, x.seq) && x.submitter != 0 {
				how = " (published anonymously)"
			}
		}
		m.rows = slices.DeleteFunc(m.rows, func(x *modelRow) bool { return slices.Contains(mine, x.seq) })
		return fmt.Sprintf("org %d deleted %s%s", org, id, how)
	default:
		if m.rng.IntN(2) == 0 {
			return m.moveStep(t)
		}
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

// moveStep changes an organisation's nation, sector or both, entered in
// mixed case: what it is shown follows them at once.
func (m *model) moveStep(t *testing.T) string {
	nations := []string{"gb", "Us", "JP", "fR"}
	sectors := []string{"Finance", "energy", "ENERGY", "health"}
	org := m.orgs[m.rng.IntN(len(m.orgs))]
	o := &cyberpact.Org{ID: org}
	switch m.rng.IntN(3) {
	case 0:
		o.Nation = nations[m.rng.IntN(len(nations))]
	case 1:
		o.Sector = sectors[m.rng.IntN(len(sectors))]
	default:
		o.Nation, o.Sector = nations[m.rng.IntN(len(nations))], sectors[m.rng.IntN(len(sectors))]
	}
	entered := *o
	if err := m.s.SetOrg(context.Background(), o, "model"); err != nil {
		t.Fatalf("SetOrg(%q, %q): %v", entered.Nation, entered.Sector, err)
	}
	f := m.facts[org]
	if entered.Nation != "" {
		f.Nation = strings.ToUpper(entered.Nation)
	}
	if entered.Sector != "" {
		f.Sector = strings.ToLower(entered.Sector)
	}
	if o.Nation != f.Nation || o.Sector != f.Sector {
		t.Fatalf("SetOrg(%q, %q) stored %s, %s; want %s, %s", entered.Nation, entered.Sector, o.Nation, o.Sector, f.Nation, f.Sector)
	}
	for _, p := range []*cyberpact.Principal{m.users[org], m.approver} {
		if p.Org.ID == org {
			p.Org.Nation, p.Org.Sector = f.Nation, f.Sector
		}
	}
	return fmt.Sprintf("org %d is now %s, %s (entered %q, %q)", org, f.Nation, f.Sector, entered.Nation, entered.Sector)
}

// redacts says which of the personal values a version released as rel
// has replaced by pseudonyms: the second group's agreement redacts
// addresses and phone numbers, the hub's (for all members, and as the
// default for TLP:CLEAR, which the public collection serves) phone
// numbers; the first group's policy and a version kept for its producer
// alone redact nothing.
func (m *model) redacts(rel cyberpact.Release) (email, phone bool) {
	gs := m.groupIDs()
	switch rel.Audience.Kind {
	case cyberpact.AudienceGroup:
		if rel.Audience.Group == gs[1] {
			email, phone = true, true
		}
	case cyberpact.AudienceAll:
		phone = true
	}
	if rel.TLP == cyberpact.TLPClear {
		phone = true
	}
	return email, phone
}

// warrantStep: an organisation's analyst asks for the release of a
// random object as its producer sent it; before a second person approves
// it nothing is released; once the approver has, the original of a
// redacted object is released, with its personal values, and nothing of
// an object the hub kept no original of (nor TLP:RED version).
func (m *model) warrantStep(t *testing.T) string {
	ctx := context.Background()
	org := m.orgs[m.rng.IntN(len(m.orgs))]
	target := m.randomID()
	w := &cyberpact.Warrant{Kind: cyberpact.WarrantRelease, Target: target, Justification: "model: the victim must be warned", TTL: time.Hour}
	if err := m.s.RequestWarrant(ctx, w, m.users[org], "rest"); err != nil {
		t.Fatalf("warrant request: %v", err)
	}
	if _, err := m.s.ReleaseByWarrant(ctx, w.ID, m.users[org], "rest"); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Fatalf("release by a warrant not yet approved: %v; want ECONFLICT", err)
	}
	if _, err := m.s.DecideWarrant(ctx, w.ID, true, "model", m.users[org], "rest"); cyberpact.ErrorCode(err) != cyberpact.EFORBIDDEN && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Fatalf("the requester's organisation approving its own warrant: %v", err)
	}
	if _, err := m.s.DecideWarrant(ctx, w.ID, true, "model", m.approver, "rest"); err != nil {
		t.Fatalf("approval: %v", err)
	}
	raw, err := m.s.ReleaseByWarrant(ctx, w.ID, m.users[org], "rest")
	red := false
	for _, x := range m.rows {
		red = red || x.id == target && x.release.TLP == cyberpact.TLPRed
	}
	switch {
	case len(m.originals[target]) > 0:
		if err != nil || !bytes.Contains(raw, []byte(modelEmail)) || !bytes.Contains(raw, []byte(modelPhone)) {
			t.Fatalf("release of the original of %s by an approved warrant: %s, %v; want its personal values", target, raw, err)
		}
	case red:
		if err != nil {
			t.Fatalf("release of the TLP:RED %s by an approved warrant: %v", target, err)
		}
	default:
		if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Fatalf("release of %s, of which the hub keeps no original: %s, %v; want ENOTFOUND", target, raw, err)
		}
	}
	return fmt.Sprintf("org %d released %s by warrant %d", org, target, w.ID)
}

func (m *model) randomID() string {
	n := m.rng.IntN(len(modelSDOs) + 3)
	if n < len(modelSDOs) {
		return modelSDOs[n] + "--" + uuid(100+n)
	}
	return "relationship--" + uuid(200+n)
}

// importStep imports a small bundle as one organisation (or the hub) to
// a random audience, under its own name or anonymously, and applies
// Admit to the model.
func (m *model) importStep(t *testing.T) string {
	producer, submitter := int64(0), int64(0)
	if m.rng.IntN(8) > 0 {
		producer = m.orgs[m.rng.IntN(len(m.orgs))]
		if m.rng.IntN(4) == 0 {
			producer, submitter = 0, producer
		}
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
	var res *cyberpact.ImportResult
	var err error
	if submitter != 0 {
		dec := stix.NewDecoder(bytes.NewReader(bundle(t, objs...)))
		res, err = cyberpact.AnonymousImport(context.Background(), m.s, m.s, cyberpact.Actor{Name: "model-anonymous", Org: submitter, Via: "rest"},
			stix.Anonymise(dec.Next, m.hub), cyberpact.ImportOptions{Audience: aud, DefaultTLP: tlp, Partial: true}, "")
		dec.Close()
	} else {
		res, err = importRaw(t, m.s, bundle(t, objs...), cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: tlp, Partial: true})
	}
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	// The model: each object, in order, through the rule.
	want := cyberpact.ImportResult{Committed: true}
	opts := cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: tlp}
	poster := producer
	if submitter != 0 {
		poster = submitter
	}
	terms := m.termsFor(poster)
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
		if submitter != 0 && rel.Audience.Kind == cyberpact.AudienceOrg {
			rejected = append(rejected, id(o)) // anonymous, to be seen by no one
			continue
		}
		var refs []string
		if ms, ok := o["object_marking_refs"].([]any); ok {
			for _, r := range ms {
				if stix.TLPOf([]string{r.(string)}) == cyberpact.TLPUnknown {
					refs = append(refs, strings.ToLower(r.(string)))
				}
			}
		}
		rel, rej := terms.Mark(&cyberpact.Object{ID: id(o), Type: o["type"].(string), MarkingRefs: refs}, rel)
		if rej != nil || cyberpact.RefuseRelease(rel) != "" {
			rejected = append(rejected, id(o))
			continue
		}
		x := &modelRow{id: id(o), typ: o["type"].(string), release: rel, submitter: submitter}
		if d, _ := o["description"].(string); strings.Contains(d, modelEmail) {
			x.personal = true
			x.redEmail, x.redPhone = m.redacts(rel)
		}
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
				held = append(held, cyberpact.Holding{Seq: y.seq, Holding: y.holding, Release: y.release, Submitter: y.submitter})
			}
		}
		h, _, rej := cyberpact.Admit(&cyberpact.Object{ID: x.id, Type: x.typ, Index: i, Release: rel}, held, m.viewerOf(poster).Groups, false, submitter)
		if rej != nil {
			// The same version of a holding it may see is already present
			// when its content is the same.
			present := false
			for _, y := range m.rows {
				if y.id == x.id && y.holding == h && y.version == x.version && y.content() == x.content() {
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
		// The same version again in the same holding: present when its
		// content is the same (the generator's content is a function of
		// id and version, then anonymised and redacted by the release),
		// a conflict otherwise.
		var same *modelRow
		for _, y := range m.rows {
			if y.id == x.id && y.holding == h && h != 0 && y.version == x.version {
				same = y
			}
		}
		if p, ok := batch[x.id+"\x00"+x.version]; ok && (h == 0 || p.holding == h) {
			same = p
		}
		if same != nil {
			if same.content() == x.content() {
				want.Present++
			} else {
				rejected = append(rejected, x.id)
			}
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
		if x.personal && (x.redEmail || x.redPhone) {
			if m.originals[x.id] == nil {
				m.originals[x.id] = map[int64]bool{}
			}
			m.originals[x.id][x.release.Producer] = true
		}
	}
	if res.Added != want.Added || res.Present != want.Present || len(res.Rejected) != len(rejected) {
		t.Fatalf("import as org %d (anonymously for %d) to %s of %v: added %d, present %d, rejected %v; want %d, %d, %v",
			producer, submitter, aud, ids2(objs), res.Added, res.Present, cyberpact.Rejections(res.Rejected), want.Added, want.Present, rejected)
	}
	m.checkHoldings(t)
	if submitter != 0 {
		return fmt.Sprintf("org %d published %v anonymously to %s at %s", submitter, ids2(objs), aud, tlp)
	}
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
		sub := int64(0)
		if o.Release.Producer == 0 {
			var err error
			if sub, err = m.s.AnonymousSubmitter(context.Background(), o.Holding); err != nil {
				t.Fatal(err)
			}
		}
		byKey[fmt.Sprint(o.ID, o.Release.Producer, sub, o.Modified)] = o
	}
	if len(byKey) != len(m.rows) {
		t.Fatalf("the store holds %d versions (by id, producer, submitter, version), the model %d", len(byKey), len(m.rows))
	}
	storeSeq := map[int64]int64{}
	for _, x := range m.rows {
		o, ok := byKey[fmt.Sprint(x.id, x.release.Producer, x.submitter, x.version)]
		if !ok {
			t.Fatalf("the store lost %s by %d (anonymously for %d) at %q, or holds it under another submitter", x.id, x.release.Producer, x.submitter, x.version)
		}
		storeSeq[x.seq] = o.Seq
	}
	for _, x := range m.rows {
		o := byKey[fmt.Sprint(x.id, x.release.Producer, x.submitter, x.version)]
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
		// Personal data in the description of some versions.
		if (n+2*day)%3 == 0 {
			o["description"] = modelPersonal
		}
		// TLP:RED written the ways that once passed as something else.
		switch (n + day) % 5 {
		case 0:
			o["object_marking_refs"] = []any{"marking-definition--" + strings.ToUpper(tlpRedID[len("marking-definition--"):])}
		case 1:
			o["object_marking_refs"] = []any{"marking-definition--E828b379-4E03-4974-9aC4-e53A884C97C1"}
		case 2:
			d, _ := o["description"].(string)
			o["description"] = strings.TrimSpace(d + " restricted")
			o["granular_markings"] = []any{map[string]any{"marking_ref": tlpRedID, "selectors": []any{"description"}}}
		}
		// Markings beside TLP, one or two, or none; now and then one held
		// privately by the first organisation, or one no one holds.
		if k := (n*3 + day) % (len(modelRefs) + 3); k < len(modelRefs) {
			refs, _ := o["object_marking_refs"].([]any)
			refs = append(refs, modelRefs[k])
			if k2 := (n + 2*day) % (len(modelMarkings) + 2); k2 < len(modelMarkings) && modelRefs[k2] != modelRefs[k] {
				refs = append(refs, modelRefs[k2])
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
		listed := all(t, m.s, cyberpact.ObjectFilter{Viewer: &v})
		diff(name+": list", rowKeys(latest), objKeys(listed))
		ok = m.checkBodies(t, name+": list", listed) && ok
		diff(name+": paged list", rowKeys(latest), objKeys(find(t, m.s, cyberpact.ObjectFilter{Viewer: &v, Limit: 2})))
		everything := m.visibleAll(v)
		versions := all(t, m.s, cyberpact.ObjectFilter{Viewer: &v, AllVersions: true})
		diff(name+": all versions", rowKeys(everything), objKeys(versions))
		ok = m.checkBodies(t, name+": all versions", versions) && ok
		// The live stream's reading: every version, a page at a time
		// after a cursor.
		var streamed []*cyberpact.Object
		for after := int64(0); ; {
			page, err := m.s.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: &v, AllVersions: true, After: after, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Objects) == 0 {
				break
			}
			streamed = append(streamed, page.Objects...)
			after = page.Objects[len(page.Objects)-1].Seq
		}
		diff(name+": stream", rowKeys(everything), objKeys(streamed))
		ok = m.checkBodies(t, name+": stream", streamed) && ok
		// A TAXII reading: the latest versions, a page at a time.
		var taxii []*cyberpact.Object
		for f := (cyberpact.ObjectFilter{Viewer: &v, Limit: 3}); ; {
			page, err := m.s.FindEnvelope(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			taxii = append(taxii, page.Objects...)
			if !page.More {
				break
			}
			f.After = page.Next
		}
		diff(name+": TAXII pages", rowKeys(latest), objKeys(taxii))
		ok = m.checkBodies(t, name+": TAXII pages", taxii) && ok
		// Search finds the victim's address only where it was not
		// redacted.
		for _, o := range all(t, m.s, cyberpact.ObjectFilter{Viewer: &v, AllVersions: true, Text: "northbank"}) {
			if !bytes.Contains(o.Raw, []byte(modelEmail)) {
				t.Errorf("%s: searching the redacted address finds %s@%s: %s", name, o.ID, o.Modified, o.Raw)
				ok = false
			}
		}
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
				ok = m.checkBodies(t, name+": get", []*cyberpact.Object{o}) && ok
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
			ok = m.checkBodies(t, name+": versions", gotVs) && ok
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
			ok = m.checkBodies(t, name+": relationships", page.Objects) && ok
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
				ok = m.checkBodies(t, name+": correlate", c.Objects) && ok
			}
		}
	}
	// Only the producer's organisation reads the originals of its
	// redacted versions; anonymous ones (the hub's) no member does.
	for id := range ids {
		for _, org := range m.orgs {
			raw, err := m.s.Original(ctx, id, org)
			switch want := m.originals[id][org]; {
			case want && (err != nil || !bytes.Contains(raw, []byte(modelEmail))):
				t.Errorf("org %d: the original of its redacted %s: %s, %v", org, id, raw, err)
				ok = false
			case !want && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND:
				var rows []string
				for _, x := range m.rows {
					if x.id == id {
						rows = append(rows, fmt.Sprintf("%+v", *x))
					}
				}
				t.Errorf("org %d reads an original of %s it did not produce: %s, %v; the model holds %v", org, id, raw, err, rows)
				ok = false
			}
		}
	}
	// An organisation's audit trail (what its admins are shown) holds its
	// own anonymous writes and nothing of another's.
	for _, org := range m.orgs {
		es, err := m.s.AuditEntries(ctx, cyberpact.AuditFilter{Org: org})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.ActorOrg != org && (strings.Contains(e.Detail, "anonymous") || e.Actor == "model-anonymous") {
				t.Errorf("org %d's audit trail shows org %d's anonymous write: %+v", org, e.ActorOrg, e)
				ok = false
			}
		}
	}
	return ok
}

// checkBodies checks what a read returned: each version holds exactly the
// personal values the model says survive its release's redaction (a
// pseudonym in place of each one redacted), and no created_by_ref but the
// hub's identity (anonymous versions; the model's own objects name no
// creator): nothing names who published anonymously.
func (m *model) checkBodies(t *testing.T, what string, objs []*cyberpact.Object) bool {
	t.Helper()
	ok := true
	for _, o := range objs {
		var p struct {
			CreatedBy string `json:"created_by_ref"`
		}
		if err := json.Unmarshal(o.Raw, &p); err != nil {
			t.Fatalf("%s: %s: %v", what, o.ID, err)
		}
		if p.CreatedBy != "" && p.CreatedBy != m.hub {
			t.Errorf("%s: %s@%s names its creator %s", what, o.ID, o.Modified, p.CreatedBy)
			ok = false
		}
		email, phone := bytes.Contains(o.Raw, []byte(modelEmail)), bytes.Contains(o.Raw, []byte(modelPhone))
		var saw []string
		match := false
		for _, x := range m.rows {
			if x.id != o.ID || x.version != o.Modified || x.release.Producer != o.Release.Producer {
				continue
			}
			if x.submitter != 0 && p.CreatedBy != m.hub && !cyberpact.IsObservable(x.typ) {
				continue
			}
			wantEmail, wantPhone := x.personal && !x.redEmail, x.personal && !x.redPhone
			pseudonyms := !x.personal || !(x.redEmail || x.redPhone) || bytes.Contains(o.Raw, []byte("pd:"))
			if email == wantEmail && phone == wantPhone && pseudonyms {
				match = true
			}
			saw = append(saw, fmt.Sprintf("%s released %+v (address %v, phone %v)", x.content(), x.release, wantEmail, wantPhone))
		}
		if !match {
			t.Errorf("%s: %s@%s by %d holds the address %v, the phone number %v; the model says %v: %s", what, o.ID, o.Modified, o.Release.Producer, email, phone, saw, o.Raw)
			ok = false
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
