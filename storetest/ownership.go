package storetest

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// OwnershipStore is what RunOwnership tests: objects with the accounts
// that decide who sees them.
type OwnershipStore interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
}

// RunOwnership runs the suite of the ownership rule (see Ownership in
// ownership.go) and of the side doors around it: each case is named for the
// finding of issue 14 it keeps closed. open returns a new, empty store for
// each subtest; RunOwnership closes it.
func RunOwnership(t *testing.T, open func(t *testing.T) OwnershipStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, w *world)
	}{
		{"HiddenIDPostAnswersAsFresh", testHiddenIDAnswersAsFresh},
		{"HiddenObservablePostAnswersAsFresh", testHiddenObservableAnswersAsFresh},
		{"NonOwnerVersionRefusedWhereSeen", testNonOwnerVersionRefused},
		{"NonOwnerHoldingChangesNothingOthersSee", testNonOwnerHoldingChangesNothing},
		{"SameVersionOfSeenObjectIsPresent", testSameVersionPresent},
		{"OwnVersionsStayInOwnHolding", testOwnVersions},
		{"HiddenRelationshipStaysHiddenWhenEndPosted", testHiddenRelationshipStaysHidden},
		{"HiddenEndLeftOutOfGetAndStats", testHiddenEndGetAndStats},
		{"HiddenEndLeftOutOfVersionsAndRelationships", testHiddenEndVersions},
		{"ConflictPolicyTouchesOnlyTheProducersOwnHolding", testConflictReplaceOwnHoldingOnly},
		// The refused marking definition (markingrefs.go).
		{"RefusedMarkingDefinitionRefusesWhatItMarks", testRefusedMarkingRefusesWhatItMarks},
		{"UnknownMarkingDefinitionRefused", testUnknownMarkingRefused},
		{"LaterMarkingDefinitionApplies", testLaterMarkingApplies},
		{"HiddenMarkingDefinitionAnswersAsUnknown", testHiddenMarkingAnswersAsUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, newWorld(t, s))
		})
	}
}

// world is the cast of the ownership tests: organisations a, b and c,
// with a and c in group g (b outside it).
type world struct {
	s       OwnershipStore
	a, b, c cyberpact.Viewer
	g       int64
}

func newWorld(t *testing.T, s OwnershipStore) *world {
	t.Helper()
	ctx := context.Background()
	var orgs [3]*cyberpact.Org
	for i, name := range []string{"Org A", "Org B", "Org C"} {
		orgs[i] = &cyberpact.Org{Name: name, Nation: "GB", Sector: "finance"}
		if err := s.CreateOrg(ctx, orgs[i], "admin-test"); err != nil {
			t.Fatalf("CreateOrg: %v", err)
		}
	}
	g := &cyberpact.Group{Name: "A and C", Orgs: []int64{orgs[0].ID, orgs[2].ID}}
	if err := s.CreateGroup(ctx, g, "admin-test"); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	w := &world{s: s, g: g.ID}
	for i, v := range []*cyberpact.Viewer{&w.a, &w.b, &w.c} {
		groups, err := s.GroupsOf(ctx, orgs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		*v = cyberpact.Viewer{Org: orgs[i].ID, Groups: groups}
	}
	return w
}

// post imports objs as the organisation of v to audience, the way a
// member's REST or TAXII POST does, and returns the result.
func (w *world) post(t *testing.T, v cyberpact.Viewer, aud cyberpact.Audience, objs ...obj) *cyberpact.ImportResult {
	t.Helper()
	res, err := importRaw(t, w.s, bundle(t, objs...), cyberpact.ImportOptions{Producer: v.Org, Audience: aud, DefaultTLP: cyberpact.TLPGreen})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// answer is what a poster learns from an import's result.
type answer struct {
	Added, Present int
	Rejected       int
	Committed      bool
}

func answerOf(r *cyberpact.ImportResult) answer {
	return answer{r.Added, r.Present, len(r.Rejected), r.Committed}
}

// view is what v sees of id: the body and release of the version it is
// shown, or "" when none.
func (w *world) view(t *testing.T, v cyberpact.Viewer, id string) string {
	t.Helper()
	o, err := w.s.Object(context.Background(), id, &v)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND {
		return ""
	}
	if err != nil {
		t.Fatalf("Object(%s): %v", id, err)
	}
	return string(o.Raw) + " " + o.Release.Audience.String()
}

var (
	audOrg = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	audAll = cyberpact.Audience{Kind: cyberpact.AudienceAll}
)

// Finding 1: posting an id another organisation holds out of the poster's
// sight answers exactly as posting a fresh one, same content or not.
func testHiddenIDAnswersAsFresh(t *testing.T, w *world) {
	held := sdo("indicator", 1, 1, nil)
	w.post(t, w.a, audOrg, held)
	before := w.view(t, w.a, id(held))

	fresh := w.post(t, w.b, audOrg, sdo("indicator", 2, 1, nil))
	same := w.post(t, w.b, audOrg, held)
	// (c, since b now holds the id itself.)
	other := w.post(t, w.c, audOrg, sdo("indicator", 1, 1, obj{"name": "other content"}))
	want := answerOf(fresh)
	for name, got := range map[string]*cyberpact.ImportResult{"same content": same, "other content": other} {
		if diff := cmp.Diff(want, answerOf(got)); diff != "" {
			t.Errorf("posting a hidden id with %s answers differently from a fresh id (-fresh +got):\n%s", name, diff)
		}
	}
	if got := w.view(t, w.a, id(held)); got != before {
		t.Errorf("the owner's view changed:\n got %s\nwant %s", got, before)
	}
	if got := w.view(t, w.b, id(held)); got == "" {
		t.Errorf("the poster does not see what it posted")
	}
}

// Finding 1, observables: one organisation's holding of a value says
// nothing about another's.
func testHiddenObservableAnswersAsFresh(t *testing.T, w *world) {
	ip := sco("ipv4-addr", 0, obj{"value": "198.51.100.7"})
	ip["id"] = "ipv4-addr--" + uuid(7)
	w.post(t, w.a, audOrg, ip)
	freshIP := sco("ipv4-addr", 0, obj{"value": "198.51.100.8"})
	freshIP["id"] = "ipv4-addr--" + uuid(8)
	fresh := w.post(t, w.b, audAll, freshIP)
	got := w.post(t, w.b, audAll, ip)
	if diff := cmp.Diff(answerOf(fresh), answerOf(got)); diff != "" {
		t.Errorf("posting a value held out of sight answers differently (-fresh +got):\n%s", diff)
	}
	// Held in plain sight, an observable is still the poster's own to hold.
	seen := w.post(t, w.c, audOrg, ip)
	if seen.Added != 1 || len(seen.Rejected) != 0 {
		t.Errorf("an organisation that sees another's observable could not hold its own: %+v", seen)
	}
}

// Finding 2: a member may not store a version of an object it sees but
// did not produce; revoking it for everyone is refused.
func testNonOwnerVersionRefused(t *testing.T, w *world) {
	ind := sdo("indicator", 1, 1, nil)
	w.post(t, w.a, audAll, ind)
	before := w.view(t, w.c, id(ind))
	res := w.post(t, w.b, audAll, sdo("indicator", 1, 5, obj{"revoked": true}))
	if res.Added != 0 || len(res.Rejected) != 1 || res.Rejected[0].Path != "id" {
		t.Fatalf("a version of another organisation's object was not refused: %+v", res)
	}
	for name, v := range map[string]cyberpact.Viewer{"a": w.a, "b": w.b, "c": w.c} {
		if got := w.view(t, v, id(ind)); got != before {
			t.Errorf("%s's view of the object changed:\n got %s\nwant %s", name, got, before)
		}
	}
}

// Finding 2: a holding made while the owner's was out of sight never
// replaces the owner's for those who see both.
func testNonOwnerHoldingChangesNothing(t *testing.T, w *world) {
	ind := sdo("indicator", 1, 1, nil)
	w.post(t, w.a, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, ind)
	beforeA, beforeC := w.view(t, w.a, id(ind)), w.view(t, w.c, id(ind))
	if res := w.post(t, w.b, audAll, sdo("indicator", 1, 9, obj{"revoked": true, "name": "b's"})); res.Added != 1 {
		t.Fatalf("b's post of an id it cannot see: %+v", res)
	}
	if got := w.view(t, w.a, id(ind)); got != beforeA {
		t.Errorf("the owner's view changed:\n got %s\nwant %s", got, beforeA)
	}
	if got := w.view(t, w.c, id(ind)); got != beforeC {
		t.Errorf("a group member's view changed:\n got %s\nwant %s", got, beforeC)
	}
	for _, v := range []cyberpact.Viewer{w.a, w.c} {
		vs, err := w.s.ObjectVersions(context.Background(), id(ind), &v)
		if err != nil || len(vs) != 1 || vs[0].Release.Producer != w.a.Org {
			t.Errorf("versions as org %d: %v, %v; want a's one version", v.Org, err, vs)
		}
		page, err := w.s.FindObjects(context.Background(), cyberpact.ObjectFilter{Viewer: &v, IDs: []string{id(ind)}, AllVersions: true})
		if err != nil || len(page.Objects) != 1 || page.Objects[0].Release.Producer != w.a.Org {
			t.Errorf("all versions as org %d: %v, %v; want a's one version", v.Org, err, page)
		}
		st, err := w.s.Stats(context.Background(), &v)
		if err != nil || len(st) != 1 || st[0].Versions != 1 {
			t.Errorf("stats as org %d: %v, %+v; want one version", v.Org, err, st)
		}
	}
}

// The owner's later versions go on in its own holding.
func testOwnVersions(t *testing.T, w *world) {
	w.post(t, w.a, audAll, sdo("malware", 1, 1, nil))
	if res := w.post(t, w.a, audAll, sdo("malware", 1, 2, nil)); res.Added != 1 || len(res.Rejected) != 0 {
		t.Fatalf("the owner's new version: %+v", res)
	}
	vs, err := w.s.ObjectVersions(context.Background(), "malware--"+uuid(1), &w.c)
	if err != nil || len(vs) != 2 || vs[0].Holding != vs[1].Holding {
		t.Fatalf("versions: %v, %v; want two in one holding", err, vs)
	}
	if res := w.post(t, w.a, audAll, sdo("malware", 1, 2, obj{"name": "changed"})); len(res.Rejected) != 1 {
		t.Errorf("the same version with other content was not a conflict: %+v", res)
	}
}

// Finding 2: posting the hidden end of another organisation's relationship
// does not make the relationship visible.
func testHiddenRelationshipStaysHidden(t *testing.T, w *world) {
	end := sdo("malware", 1, 1, nil)
	tool := sdo("tool", 2, 1, nil)
	rel := sdo("relationship", 3, 1, obj{"relationship_type": "uses", "source_ref": id(end), "target_ref": id(tool)})
	w.post(t, w.a, audOrg, end)
	w.post(t, w.a, audAll, tool, rel)
	if got := w.view(t, w.b, id(rel)); got != "" {
		t.Fatalf("b sees a relationship whose end it may not see")
	}
	w.post(t, w.b, audAll, end)
	for name, v := range map[string]cyberpact.Viewer{"b": w.b, "c": w.c} {
		if got := w.view(t, v, id(rel)); got != "" {
			t.Errorf("b's posting the hidden end to all members made the relationship visible to %s: %s", name, got)
		}
	}
	page, err := w.s.Relationships(context.Background(), id(tool), cyberpact.Both, cyberpact.ObjectFilter{Viewer: &w.b})
	if err != nil || len(page.Objects) != 0 {
		t.Errorf("relationships of the visible end as b: %v, %v; want none", err, ids(page.Objects))
	}
	if got := w.view(t, w.a, id(rel)); got == "" {
		t.Errorf("the producer no longer sees its relationship")
	}
}

// Finding 7: get and stats leave out a relationship whose end the viewer
// may not see, on every store.
func testHiddenEndGetAndStats(t *testing.T, w *world) {
	end := sdo("malware", 1, 1, nil)
	tool := sdo("tool", 2, 1, nil)
	rel := sdo("relationship", 3, 1, obj{"relationship_type": "uses", "source_ref": id(end), "target_ref": id(tool)})
	w.post(t, w.a, audOrg, end)
	w.post(t, w.a, audAll, tool, rel)
	if _, err := w.s.Object(context.Background(), id(rel), &w.b); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("Object of a relationship with a hidden end: %v, want not found", err)
	}
	st, err := w.s.Stats(context.Background(), &w.b)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Type == "relationship" {
			t.Errorf("stats count a relationship with a hidden end: %+v", st)
		}
	}
}

// Finding 7: versions and relationship listings leave it out too.
func testHiddenEndVersions(t *testing.T, w *world) {
	end := sdo("malware", 1, 1, nil)
	tool := sdo("tool", 2, 1, nil)
	rel := sdo("relationship", 3, 1, obj{"relationship_type": "uses", "source_ref": id(end), "target_ref": id(tool)})
	w.post(t, w.a, audOrg, end)
	w.post(t, w.a, audAll, tool, rel)
	if _, err := w.s.ObjectVersions(context.Background(), id(rel), &w.b); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("ObjectVersions of a relationship with a hidden end: %v, want not found", err)
	}
	page, err := w.s.FindObjects(context.Background(), cyberpact.ObjectFilter{Viewer: &w.b, AllVersions: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Objects); !cmp.Equal(got, []string{id(tool)}) {
		t.Errorf("b lists %v, want only the tool", got)
	}
}

// Reposting exactly a version one may see of another's object (a MISP
// community's identity, an ATT&CK technique) is already present, not
// refused, so that imports several members make stay importable.
func testSameVersionPresent(t *testing.T, w *world) {
	ap := sdo("attack-pattern", 1, 1, nil)
	w.post(t, w.a, audAll, ap)
	res := w.post(t, w.b, audAll, ap)
	if res.Present != 1 || res.Added != 0 || len(res.Rejected) != 0 || !res.Committed {
		t.Errorf("the same version again: %+v, want already present", res)
	}
	other := sdo("attack-pattern", 1, 1, obj{"name": "changed"})
	if res := w.post(t, w.b, audAll, other); len(res.Rejected) != 1 {
		t.Errorf("the same version with other content: %+v, want refused", res)
	}
}
