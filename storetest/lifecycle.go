package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// LifecycleStore is what the lifecycle suite needs of a store: objects,
// accounts, the audit log, correlation, the log of deletes, and the
// anonymity, counted sightings and retention of issue 20.
type LifecycleStore interface {
	OwnershipStore
	cyberpact.AuditLog
	cyberpact.CorrelationStore
	cyberpact.ChangeNotifier
	cyberpact.AnonymityStore
	cyberpact.SightingCountStore
	cyberpact.RetentionStore
	cyberpact.AgreementService
}

// RunLifecycle runs the suite of anonymous publication, k-anonymous
// sighting counts, retention purges and retractions. open returns a new,
// empty store for each subtest; RunLifecycle closes it.
func RunLifecycle(t *testing.T, open func(t *testing.T) LifecycleStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s LifecycleStore, w *world)
	}{
		{"AnonymousPublicationNamesTheHubOnly", testAnonymousNamesTheHub},
		{"AnonymousPublicationNeverAddsToAnothersHolding", testAnonymousOwnership},
		{"AnonymousPostOfAHiddenAnonymousIDAnswersAsFresh", testAnonymousHiddenID},
		{"CountsAppearFromKOrganisationsAndNameNoOne", testKAnonymousCounts},
		{"PurgeLeavesNothingAndIsAudited", testPurgeLeavesNothing},
		{"AgreementRetentionPurges", testAgreementRetention},
		{"RetractionDeletesOnlyItsProducersHolding", testRetractionOwnership},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s, newWorld(t, s))
		})
	}
}

// anonymous publishes objs anonymously as v's organisation.
func anonymous(t *testing.T, s LifecycleStore, v cyberpact.Viewer, aud cyberpact.Audience, objs ...obj) *cyberpact.ImportResult {
	t.Helper()
	ctx := context.Background()
	hub, err := s.HubIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dec := stix.NewDecoder(bytes.NewReader(bundle(t, objs...)))
	defer dec.Close()
	res, err := cyberpact.AnonymousImport(ctx, s, s, cyberpact.Actor{Name: "analyst", Org: v.Org, Via: "rest"},
		stix.Anonymise(dec.Next, hub), cyberpact.ImportOptions{Audience: aud, DefaultTLP: cyberpact.TLPGreen, Partial: true}, "")
	if err != nil {
		t.Fatalf("AnonymousImport: %v", err)
	}
	return res
}

func testAnonymousNamesTheHub(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	hub, err := s.HubIdentity(ctx)
	if err != nil || !strings.HasPrefix(hub, "identity--") {
		t.Fatalf("HubIdentity = %q, %v", hub, err)
	}
	if again, _ := s.HubIdentity(ctx); again != hub {
		t.Errorf("HubIdentity changed: %q then %q", hub, again)
	}
	mine := sdo("identity", 500, 1, nil)
	ind := indicatorOf(1, "[ipv4-addr:value = '203.0.113.77']")
	ind["created_by_ref"] = id(mine)
	w.post(t, w.b, audAll, sdo("malware", 2, 1, nil))
	sight := sdo("sighting", 3, 1, obj{"sighting_of_ref": id(sdo("malware", 2, 1, nil)), "where_sighted_refs": []string{id(mine)}, "created_by_ref": id(mine)})
	res := anonymous(t, s, w.a, audAll, ind, sight, mine)
	if res.Added != 2 || len(res.Rejected) != 1 || res.Rejected[0].ID != id(mine) {
		t.Fatalf("anonymous import: added %d, rejected %v; want the indicator and sighting added and the identity refused", res.Added, cyberpact.Rejections(res.Rejected))
	}
	for _, v := range []cyberpact.Viewer{w.a, w.b, w.c} {
		for _, x := range []string{id(ind), id(sight)} {
			o, err := s.Object(ctx, x, &v)
			if err != nil {
				t.Fatalf("org %d: Object(%s): %v", v.Org, x, err)
			}
			if o.Release.Producer != 0 {
				t.Errorf("org %d sees %s with producer %d; want the hub (0)", v.Org, x, o.Release.Producer)
			}
			if bytes.Contains(o.Raw, []byte(id(mine))) || !bytes.Contains(o.Raw, []byte(hub)) {
				t.Errorf("org %d sees %s as %s; want the hub's identity and never the submitter's", v.Org, x, o.Raw)
			}
		}
		c, got := correlate(t, s, "203.0.113.77", v)
		if !cmp.Equal(got, []string{id(ind)}) || c.Objects[0].Release.Producer != 0 {
			t.Errorf("org %d: correlation of the anonymous value = %v; want the indicator, produced by the hub", v.Org, got)
		}
	}
	ho, err := s.Object(ctx, id(ind), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sub, err := s.AnonymousSubmitter(ctx, ho.Holding); err != nil || sub != w.a.Org {
		t.Errorf("AnonymousSubmitter = %d, %v; want %d", sub, err, w.a.Org)
	}
	named, err := s.Object(ctx, id(sdo("malware", 2, 1, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sub, _ := s.AnonymousSubmitter(ctx, named.Holding); sub != 0 {
		t.Errorf("AnonymousSubmitter of a named object = %d; want 0", sub)
	}
	// The audit log knows who: the write entry names the submitter.
	es, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Org: w.a.Org, Action: cyberpact.AuditWrite})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Detail, "anonymously") {
		t.Errorf("the submitter's audit trail = %+v, %v; want its anonymous write", es, err)
	}
	if !cyberpact.MayManage(w.a.Org, cyberpact.Release{}, w.a.Org) || cyberpact.MayManage(w.c.Org, cyberpact.Release{}, w.a.Org) {
		t.Error("MayManage: only the submitter manages its anonymous objects")
	}
}

func testAnonymousOwnership(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	ind := indicatorOf(1, "[ipv4-addr:value = '203.0.113.78']")
	if res := anonymous(t, s, w.a, audAll, ind); res.Added != 1 {
		t.Fatalf("anonymous import: %+v", res)
	}
	next := indicatorOf(1, "[ipv4-addr:value = '203.0.113.79']")
	next["modified"] = ts(5)
	if res := anonymous(t, s, w.c, audAll, next); res.Added != 0 || len(res.Rejected) != 1 {
		t.Errorf("another member's anonymous version of it: %+v; want it refused", res)
	}
	if res := anonymous(t, s, w.a, audAll, next); res.Added != 1 {
		t.Errorf("the submitter's own next anonymous version: %+v %v; want it added", res, cyberpact.Rejections(res.Rejected))
	}
	mustImport(t, s, sdo("attack-pattern", 9, 1, nil)) // the hub's reference data
	if res := anonymous(t, s, w.a, audAll, sdo("attack-pattern", 9, 2, nil)); res.Added != 0 || len(res.Rejected) != 1 {
		t.Errorf("an anonymous version of the hub's reference data: %+v; want it refused", res)
	}
	w.post(t, w.b, audAll, sdo("malware", 7, 1, nil))
	if res := anonymous(t, s, w.a, audAll, sdo("malware", 7, 2, nil)); res.Added != 0 || len(res.Rejected) != 1 {
		t.Errorf("an anonymous version of another member's object: %+v; want it refused", res)
	}
	if res := anonymous(t, s, w.a, audOrg, sdo("malware", 8, 1, nil)); res.Added != 0 || len(res.Rejected) != 1 {
		t.Errorf("an anonymous publication to the producer alone: %+v; want it refused", res)
	}
	o, err := s.Object(ctx, id(ind), &w.b)
	if err != nil || !strings.HasPrefix(o.Modified, ts(5)[:10]) {
		t.Errorf("latest anonymous version = %v, %v", o, err)
	}
}

// testAnonymousHiddenID: A publishes an indicator anonymously to the
// group of A and C; B, outside it, publishing the same id anonymously
// answers exactly as a fresh id does and starts a holding of its own
// (held per submitter): A and C still read A's, B reads its own, and each
// holding names its own submitter. B's next version goes into B's
// holding, A's into A's.
func testAnonymousHiddenID(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	audG := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}
	ind := indicatorOf(1, "[ipv4-addr:value = '203.0.113.81']")
	if res := anonymous(t, s, w.a, audG, ind); res.Added != 1 {
		t.Fatalf("A's anonymous import: %+v", res)
	}
	theirs := indicatorOf(1, "[ipv4-addr:value = '203.0.113.82']")
	theirs["modified"] = ts(2)
	fresh := indicatorOf(2, "[ipv4-addr:value = '203.0.113.82']")
	fresh["modified"] = ts(2)
	norm := func(r *cyberpact.ImportResult) cyberpact.ImportResult {
		x := *r
		x.FirstSeq, x.LastSeq = 0, 0
		return x
	}
	got, want := anonymous(t, s, w.b, audAll, theirs), anonymous(t, s, w.b, audAll, fresh)
	if d := cmp.Diff(norm(want), norm(got)); d != "" || got.Added != 1 {
		t.Errorf("B's anonymous version of A's hidden id answers otherwise than a fresh id (-fresh +hidden):\n%s", d)
	}
	holdingOf := func(v cyberpact.Viewer, wantPattern string) int64 {
		t.Helper()
		o, err := s.Object(ctx, id(ind), &v)
		if err != nil || o.Release.Producer != 0 || !strings.Contains(string(o.Raw), wantPattern) {
			t.Fatalf("org %d reads %s as %v, %v; want the version with %s", v.Org, id(ind), o, err, wantPattern)
		}
		return o.Holding
	}
	ha, hc, hb := holdingOf(w.a, "203.0.113.81"), holdingOf(w.c, "203.0.113.81"), holdingOf(w.b, "203.0.113.82")
	if ha != hc || ha == hb {
		t.Errorf("holdings: A reads %d, C %d, B %d; want A's for A and C, B's own for B", ha, hc, hb)
	}
	for h, org := range map[int64]int64{ha: w.a.Org, hb: w.b.Org} {
		if sub, err := s.AnonymousSubmitter(ctx, h); err != nil || sub != org {
			t.Errorf("AnonymousSubmitter(%d) = %d, %v; want %d", h, sub, err, org)
		}
	}
	// Later versions go to their own submitter's holding.
	nextB := indicatorOf(1, "[ipv4-addr:value = '203.0.113.83']")
	nextB["modified"] = ts(3)
	nextA := indicatorOf(1, "[ipv4-addr:value = '203.0.113.84']")
	nextA["modified"] = ts(4)
	if res := anonymous(t, s, w.b, audAll, nextB); res.Added != 1 {
		t.Errorf("B's next version: %+v %v", res, cyberpact.Rejections(res.Rejected))
	}
	if res := anonymous(t, s, w.a, audG, nextA); res.Added != 1 {
		t.Errorf("A's next version: %+v %v", res, cyberpact.Rejections(res.Rejected))
	}
	if h := holdingOf(w.b, "203.0.113.83"); h != hb {
		t.Errorf("B's next version went to holding %d; want %d", h, hb)
	}
	if h := holdingOf(w.c, "203.0.113.84"); h != ha {
		t.Errorf("A's next version went to holding %d; want %d", h, ha)
	}
	// C, who sees A's anonymous holding, is refused as for any visible id.
	if res := anonymous(t, s, w.c, audAll, indicatorOf(1, "[ipv4-addr:value = '203.0.113.85']")); res.Added != 0 || len(res.Rejected) != 1 {
		t.Errorf("C's anonymous version of an id it sees held: %+v; want it refused", res)
	}
}

// counted reports a sighting of of, by v's organisation, as a count.
func counted(t *testing.T, s LifecycleStore, v cyberpact.Viewer, n int, of string) {
	t.Helper()
	dec := stix.NewDecoder(bytes.NewReader(bundle(t, sdo("sighting", n, 1, obj{"sighting_of_ref": of}))))
	defer dec.Close()
	res, err := cyberpact.CountedImport(context.Background(), s, s, s, cyberpact.Actor{Name: "analyst", Org: v.Org, Via: "rest"}, v, dec.Next, cyberpact.ImportOptions{DefaultTLP: cyberpact.TLPGreen}, "")
	if err != nil || !res.Committed || res.Added != 1 {
		t.Fatalf("CountedImport: %+v, %v", res, err)
	}
}

func testKAnonymousCounts(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	// A fourth organisation, of another sector.
	d := &cyberpact.Org{Name: "Org D", Nation: "GB", Sector: "energy"}
	if err := s.CreateOrg(ctx, d, "admin-test"); err != nil {
		t.Fatal(err)
	}
	vd := cyberpact.Viewer{Org: d.ID}
	ind := indicatorOf(1, "[ipv4-addr:value = '203.0.113.80']")
	w.post(t, w.b, audAll, ind)
	names := []string{"Org A", "Org B", "Org C", "Org D"}
	check := func(step string, want *cyberpact.SightingCounts) {
		t.Helper()
		for _, v := range []cyberpact.Viewer{w.a, w.b, w.c, vd} {
			got, err := cyberpact.CountsFor(ctx, s, s, v, id(ind), 3)
			if err != nil {
				t.Fatalf("%s: CountsFor as org %d: %v", step, v.Org, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: counts for org %d (-want +got):\n%s", step, v.Org, diff)
			}
			b, _ := json.Marshal(got)
			for _, n := range names {
				if strings.Contains(string(b), n) {
					t.Errorf("%s: the counts name %s: %s", step, n, b)
				}
			}
			// The sightings themselves are seen by their reporters alone:
			// no listing, relationship or correlation shows them to others.
			for _, o := range all(t, s, cyberpact.ObjectFilter{Types: []string{"sighting"}, Viewer: &v, Versions: []string{"all"}}) {
				if o.Release.Producer != v.Org {
					t.Errorf("%s: org %d sees a counted sighting of org %d", step, v.Org, o.Release.Producer)
				}
			}
			rel, err := s.Relationships(ctx, id(ind), cyberpact.Both, cyberpact.ObjectFilter{Viewer: &v})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range rel.Objects {
				if o.Release.Producer != v.Org {
					t.Errorf("%s: org %d sees, linked to the indicator, a counted sighting of org %d", step, v.Org, o.Release.Producer)
				}
			}
			if c, _ := correlate(t, s, "203.0.113.80", v); len(c.Objects) != 1 {
				t.Errorf("%s: correlation for org %d shows %d objects; want the indicator alone", step, v.Org, len(c.Objects))
			}
		}
	}
	none := &cyberpact.SightingCounts{Of: id(ind), K: 3, Sectors: []cyberpact.SectorCount{}}
	check("none", none)
	counted(t, s, w.a, 11, id(ind))
	counted(t, s, w.a, 12, id(ind)) // the same organisation again counts once
	counted(t, s, w.c, 13, id(ind))
	check("two organisations", none)
	counted(t, s, vd, 14, id(ind))
	check("three organisations, two sectors", &cyberpact.SightingCounts{Of: id(ind), K: 3, Orgs: 3, Sectors: []cyberpact.SectorCount{{Sector: cyberpact.OtherSectors, Orgs: 3}}})
	counted(t, s, w.b, 15, id(ind))
	// Energy's one organisation is left out: counted, it would be told
	// apart as the total less finance's.
	check("four organisations, three of finance", &cyberpact.SightingCounts{Of: id(ind), K: 3, Orgs: 3, Sectors: []cyberpact.SectorCount{{Sector: "finance", Orgs: 3}}})
	// A viewer who may not see the sighted object learns nothing.
	hidden := indicatorOf(2, "[ipv4-addr:value = '203.0.113.81']")
	w.post(t, w.a, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, hidden)
	if _, err := cyberpact.CountsFor(ctx, s, s, w.b, id(hidden), 3); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("counts of an object b may not see: %v; want ENOTFOUND", err)
	}
}

// testAgreementRetention: the group's agreement keeps indicators one day
// and the hub's keeps everything a year; a rule set on its own keeps the
// group's malware two days. Two days on, the group's indicator and
// malware are purged, and what all members share is kept; the audit
// entry names the agreement's rule.
func testAgreementRetention(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	group := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}
	if err := s.SetAgreement(ctx, &cyberpact.Agreement{Group: w.g, Purpose: "cell", RetentionByType: map[string]time.Duration{"indicator": 24 * time.Hour}}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAgreement(ctx, &cyberpact.Agreement{Purpose: "hub", Retention: 365 * 24 * time.Hour}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRetention(ctx, &cyberpact.RetentionRule{Group: w.g, Type: "malware", Days: 2}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	ind, mal := indicatorOf(1, "[ipv4-addr:value = '203.0.113.95']"), sdo("malware", 2, 1, nil)
	w.post(t, w.a, group, ind, mal)
	kept := indicatorOf(3, "[ipv4-addr:value = '203.0.113.96']")
	w.post(t, w.a, audAll, kept)
	res, err := cyberpact.Purge(ctx, s, s, cyberpact.Actor{Name: "cli", Via: "cli"}, time.Now().Add(49*time.Hour))
	if err != nil {
		t.Fatalf("Purge: %v (%+v)", err, res)
	}
	if res.Versions != 2 || res.Types["indicator"] != 1 || res.Types["malware"] != 1 {
		t.Errorf("Purge = %+v; want the group's indicator and malware", res)
	}
	for _, x := range []string{id(ind), id(mal)} {
		if _, err := s.Object(ctx, x, &w.a); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("%s after its retention: %v; want ENOTFOUND", x, err)
		}
	}
	if _, err := s.Object(ctx, id(kept), &w.a); err != nil {
		t.Errorf("what all members share is kept a year: %v", err)
	}
	es, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditDelete})
	if err != nil || len(es) == 0 || !strings.Contains(es[len(es)-1].Detail, "(agreement version 1)") {
		t.Errorf("the purge's audit entry does not name the agreement's rule: %v %v", es, err)
	}
}

func testPurgeLeavesNothing(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	group := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}
	doomed := indicatorOf(1, "[ipv4-addr:value = '203.0.113.90']")
	doomed["name"] = "Quixotically purged indicator"
	doomed2 := indicatorOf(1, "[ipv4-addr:value = '203.0.113.90']")
	doomed2["modified"], doomed2["name"] = ts(3), "Quixotically purged indicator"
	kept := indicatorOf(2, "[ipv4-addr:value = '203.0.113.91']")
	kept["name"] = "Kept indicator"
	mal := sdo("malware", 3, 1, nil)
	rel := sdo("relationship", 4, 1, obj{"relationship_type": "indicates", "source_ref": id(doomed), "target_ref": id(mal)})
	w.post(t, w.a, group, doomed, doomed2, mal, rel)
	w.post(t, w.a, audAll, kept)
	counted(t, s, w.c, 5, id(doomed))
	if res := anonymous(t, s, w.a, group, indicatorOf(6, "[ipv4-addr:value = '203.0.113.92']")); res.Added != 1 {
		t.Fatalf("anonymous: %+v", res)
	}
	var seqs []int64
	for _, o := range all(t, s, cyberpact.ObjectFilter{Versions: []string{"all"}, Types: []string{"indicator", "sighting", "relationship"}}) {
		if o.Release.Audience.Kind != cyberpact.AudienceAll {
			seqs = append(seqs, o.Seq)
		}
	}
	if len(seqs) != 5 {
		t.Fatalf("%d versions to purge; want 5", len(seqs))
	}
	// Rules: indicators of the group kept 1 day; relationships of the
	// group 1 day; the hub keeps everything else 30 days; sightings of
	// the reporter alone fall under no group rule, so the hub rule for
	// them (1 day) applies.
	for _, r := range []cyberpact.RetentionRule{{Group: w.g, Type: "indicator", Days: 1}, {Group: w.g, Type: "relationship", Days: 1},
		{Type: cyberpact.AnyType, Days: 30}, {Type: "sighting", Days: 1}} {
		if err := s.SetRetention(ctx, &r, "admin-test"); err != nil {
			t.Fatalf("SetRetention(%v): %v", r, err)
		}
	}
	if err := s.SetRetention(ctx, &cyberpact.RetentionRule{Type: "indicator", Days: 0}, "admin-test"); cyberpact.ErrorCode(err) != cyberpact.EINVALID {
		t.Errorf("a rule of 0 days: %v; want EINVALID", err)
	}
	if err := s.SetRetention(ctx, &cyberpact.RetentionRule{Group: 999999, Type: "indicator", Days: 3}, "admin-test"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("a rule of a group that does not exist: %v; want ENOTFOUND", err)
	}
	_, deletesBefore, err := s.DeletedSince(ctx, -1)
	if err != nil {
		t.Fatal(err)
	}
	who := cyberpact.Actor{Name: "cli", Via: "cli"}
	// Not yet expired: nothing.
	if res, err := cyberpact.Purge(ctx, s, s, who, time.Now()); err != nil || res.Versions != 0 {
		t.Fatalf("Purge now = %+v, %v; want nothing purged", res, err)
	}
	res, err := cyberpact.Purge(ctx, s, s, who, time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatalf("Purge: %v (%+v)", err, res)
	}
	want := map[string]int{"indicator": 3, "relationship": 1, "sighting": 1}
	if res.Versions != 5 || res.Objects != 4 || !cmp.Equal(res.Types, want) {
		t.Errorf("Purge = %+v; want 5 versions of 4 objects, %v", res, want)
	}
	if len(res.Residue) != 0 {
		t.Errorf("residue: %v", res.Residue)
	}
	if left, err := s.Residue(ctx, seqs, []string{id(doomed), id(rel)}); err != nil || len(left) != 0 {
		t.Errorf("Residue = %v, %v; want none", left, err)
	}
	// Every read path, for every viewer and for the hub itself.
	for _, v := range []*cyberpact.Viewer{nil, &w.a, &w.b, &w.c} {
		if got := ids(all(t, s, cyberpact.ObjectFilter{Viewer: v, Versions: []string{"all"}, Types: []string{"indicator", "relationship", "sighting"}})); !cmp.Equal(got, []string{id(kept)}) {
			t.Errorf("viewer %v: after the purge %v; want the kept indicator alone", v, got)
		}
		if got := find(t, s, cyberpact.ObjectFilter{Viewer: v, Text: "Quixotically"}); len(got) != 0 {
			t.Errorf("viewer %v: a search finds the purged words: %v", v, ids(got))
		}
		if got := find(t, s, cyberpact.ObjectFilter{Viewer: v, Text: "Kept"}); len(got) != 1 {
			t.Errorf("viewer %v: a search for the kept indicator finds %v", v, ids(got))
		}
		p, err := s.Relationships(ctx, id(mal), cyberpact.Both, cyberpact.ObjectFilter{Viewer: v})
		if err != nil || len(p.Objects) != 0 {
			t.Errorf("viewer %v: relationships of the malware after the purge: %v, %v", v, p, err)
		}
		if v != nil {
			if c, got := correlate(t, s, "203.0.113.90", *v); len(got) != 0 || c.Common {
				t.Errorf("viewer %v: correlation of a purged value = %v", v, got)
			}
			if got, _ := cyberpact.CountsFor(ctx, s, s, *v, id(kept), 1); got.Orgs != 0 {
				t.Errorf("viewer %v: counts left after the purge: %+v", v, got)
			}
		}
	}
	per, err := s.SectorSightings(ctx, id(doomed))
	if err != nil || len(per) != 0 {
		t.Errorf("counted sightings left: %v, %v", per, err)
	}
	// The log of deletes keeps no entry naming a purged id.
	gone, _, err := s.DeletedSince(ctx, deletesBefore)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gone {
		if g != "" {
			t.Errorf("the log of deletes names %q after the purge", g)
		}
	}
	if len(gone) == 0 {
		t.Error("the purge logged no delete: live indexes would not know to rebuild")
	}
	// One audit entry: counts, types and rules, never the content.
	es, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditDelete})
	if err != nil || len(es) != 1 {
		t.Fatalf("audit deletes = %d, %v; want the purge's one entry", len(es), err)
	}
	e := es[0]
	for _, bad := range []string{"Quixotically", "203.0.113.90", id(doomed), id(rel)} {
		if strings.Contains(e.Detail, bad) || strings.Contains(fmt.Sprint(e.Objects), bad) {
			t.Errorf("the purge's audit entry repeats %q: %+v", bad, e)
		}
	}
	for _, good := range []string{"5 versions", "indicator 3", "relationship 1", "sighting 1", "30 days"} {
		if good == "30 days" {
			if strings.Contains(e.Detail, good) {
				t.Errorf("the audit entry names a rule that purged nothing: %s", e.Detail)
			}
			continue
		}
		if !strings.Contains(e.Detail, good) {
			t.Errorf("the audit entry %q does not say %q", e.Detail, good)
		}
	}
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit after the purge = %d, %v", n, err)
	}
	// Again: nothing left to purge.
	if res, err := cyberpact.Purge(ctx, s, s, who, time.Now().Add(48*time.Hour)); err != nil || res.Versions != 0 {
		t.Errorf("a second purge = %+v, %v; want nothing", res, err)
	}
	if rules, err := s.RetentionRules(ctx); err != nil || len(rules) != 4 {
		t.Errorf("RetentionRules = %v, %v", rules, err)
	} else if err := s.RemoveRetention(ctx, rules[0].ID, "admin-test"); err != nil {
		t.Errorf("RemoveRetention: %v", err)
	} else if err := s.RemoveRetention(ctx, rules[0].ID, "admin-test"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("RemoveRetention twice: %v; want ENOTFOUND", err)
	}
}

// retraction stores a retraction of ref by v's organisation (created_by
// createdBy) and applies it.
func retractAs(t *testing.T, s LifecycleStore, v cyberpact.Viewer, n int, ref, createdBy string) int {
	t.Helper()
	ctx := context.Background()
	r, err := stix.Retraction("x-cyberpact-retraction--"+uuid(n), ref, createdBy, cyberpact.TLPGreen, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	res, err := cyberpact.AuditedImport(ctx, s, s, cyberpact.Actor{Name: "sync", Org: v.Org, Via: "taxii"},
		cyberpact.Retracting(sourceOf(r), &rids), cyberpact.ImportOptions{Producer: v.Org, Audience: audAll}, "")
	if err != nil || res.Added != 1 {
		t.Fatalf("importing the retraction: %+v, %v", res, err)
	}
	_, deleted, err := cyberpact.ApplyRetractions(ctx, s, s, cyberpact.Actor{Name: "sync", Org: v.Org, Via: "taxii"}, rids, res)
	if err != nil {
		t.Fatal(err)
	}
	return deleted
}

// sourceOf yields objs.
func sourceOf(objs ...*cyberpact.Object) cyberpact.ObjectSource {
	return func() (*cyberpact.Object, error) {
		if len(objs) == 0 {
			return nil, io.EOF
		}
		o := objs[0]
		objs = objs[1:]
		return o, nil
	}
}

func testRetractionOwnership(t *testing.T, s LifecycleStore, w *world) {
	ctx := context.Background()
	creator := "identity--" + uuid(77)
	a := sdo("malware", 1, 1, obj{"created_by_ref": creator})
	a2 := sdo("malware", 1, 2, obj{"created_by_ref": creator})
	w.post(t, w.a, audAll, a, a2)
	b := sdo("malware", 2, 1, obj{"created_by_ref": creator})
	w.post(t, w.b, audOrg, b)
	// Another producer's retraction deletes nothing.
	if n := retractAs(t, s, w.c, 1, id(a), creator); n != 0 {
		t.Errorf("org c retracting org a's object deleted %d versions; want none", n)
	}
	// The right producer with another created_by_ref deletes nothing.
	if n := retractAs(t, s, w.a, 2, id(a), "identity--"+uuid(78)); n != 0 {
		t.Errorf("a retraction of another created_by_ref deleted %d versions; want none", n)
	}
	if got := len(all(t, s, cyberpact.ObjectFilter{IDs: []string{id(a)}, Versions: []string{"all"}})); got != 2 {
		t.Fatalf("%d versions of a left; want 2", got)
	}
	// Its producer's retraction deletes every version of its holding.
	if n := retractAs(t, s, w.a, 3, id(a), creator); n != 2 {
		t.Errorf("the producer's retraction deleted %d versions; want 2", n)
	}
	if _, err := s.Object(ctx, id(a), nil); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("after its retraction, Object = %v; want ENOTFOUND", err)
	}
	if _, err := s.Object(ctx, id(b), nil); err != nil {
		t.Errorf("org b's object after the others' retractions: %v", err)
	}
	ids, _, err := s.DeletedSince(ctx, 0)
	if err != nil || !strings.Contains(strings.Join(ids, " "), id(a)) {
		t.Errorf("the log of deletes = %v, %v; want the retracted id, for live indexes", ids, err)
	}
	// The retractions not from the object's origin are not kept, to go
	// on to peers; each is audited; the producer's is kept.
	for n, kept := range map[int]bool{1: false, 2: false, 3: true} {
		rid := "x-cyberpact-retraction--" + uuid(n)
		if _, err := s.Object(ctx, rid, nil); (err == nil) != kept {
			t.Errorf("retraction %d: Object = %v; want it kept %v", n, err, kept)
		}
		es, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Object: rid, Action: cyberpact.AuditDelete})
		if err != nil || len(es) != map[bool]int{false: 1, true: 0}[kept] || !kept && !strings.Contains(es[0].Detail, "not from the object's origin") {
			t.Errorf("retraction %d's audited deletes: %+v, %v", n, es, err)
		}
	}
	// An anonymous retraction by another submitter (the hub stands as
	// producer of both) deletes nothing of an anonymous object.
	mine := indicatorOf(5, "[ipv4-addr:value = '203.0.113.90']")
	if res := anonymous(t, s, w.a, audAll, mine); res.Added != 1 {
		t.Fatalf("A's anonymous indicator: %+v", res)
	}
	hub, err := s.HubIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := stix.Retraction("x-cyberpact-retraction--"+uuid(9), id(mine), hub, cyberpact.TLPGreen, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	res, err := cyberpact.AnonymousImport(ctx, s, s, cyberpact.Actor{Name: "analyst", Org: w.c.Org, Via: "rest"},
		cyberpact.Retracting(sourceOf(forged), &rids), cyberpact.ImportOptions{Audience: audAll}, "")
	if err != nil || res.Added != 1 {
		t.Fatalf("C's anonymous retraction: %+v, %v", res, err)
	}
	if _, n, err := cyberpact.ApplyRetractions(ctx, s, s, cyberpact.Actor{Name: "analyst", Org: w.c.Org, Via: "rest"}, rids, res); err != nil || n != 0 {
		t.Errorf("C's anonymous retraction of A's anonymous object deleted %d, %v; want none", n, err)
	}
	if _, err := s.Object(ctx, id(mine), nil); err != nil {
		t.Errorf("A's anonymous object after C's retraction: %v", err)
	}
}
