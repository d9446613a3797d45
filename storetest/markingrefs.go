package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cyberpact/cyberpact"
)

// The finding of the refused marking definition: a partial import that
// carried a marking definition the hub refused (rel_nations ["uk"]) stored
// the objects that referred to it with no markings at all, so that an
// object its producer restricted to one nation was released to every
// member. An object is never stored with less restriction than its
// markings ask for: one that refers to a refused marking definition, or to
// one the hub does not know (neither stored where its producer may see
// it, nor in the input), is refused, naming the definition.

// rejected returns the rejections of res by id.
func rejected(res *cyberpact.ImportResult) map[string]*cyberpact.Rejection {
	out := map[string]*cyberpact.Rejection{}
	for _, r := range res.Rejected {
		out[r.ID] = r
	}
	return out
}

// stored reports whether any version of id is stored, whoever may see it.
func (w *world) stored(t *testing.T, id string) []*cyberpact.Object {
	t.Helper()
	return all(t, w.s, cyberpact.ObjectFilter{IDs: []string{id}, AllVersions: true})
}

// testRefusedMarkingRefusesWhatItMarks is the finding itself: the objects
// that refer to the refused definition, in object_marking_refs or in
// granular_markings, are refused with a reason naming it and why it was
// refused; nothing else in the input changes.
func testRefusedMarkingRefusesWhatItMarks(t *testing.T, w *world) {
	bad := markingExt(51, "REL TO uk", obj{"rel_nations": []any{"uk"}})
	good := markingExt(52, "REL TO GB", obj{"rel_nations": []any{"GB"}})
	byRef := sdo("indicator", 53, 1, obj{"object_marking_refs": []any{id(bad)}})
	byGranular := sdo("indicator", 54, 1, obj{"granular_markings": []any{map[string]any{"marking_ref": id(bad), "selectors": []any{"description"}}}, "description": "for the UK only"})
	byBoth := sdo("indicator", 55, 1, obj{"object_marking_refs": []any{id(good), id(bad)}})
	byGood := sdo("indicator", 56, 1, obj{"object_marking_refs": []any{id(good)}})
	plain := sdo("indicator", 57, 1, nil)
	objs := []obj{bad, good, byRef, byGranular, byBoth, byGood, plain}
	res, err := importRaw(t, w.s, bundle(t, objs...), cyberpact.ImportOptions{Producer: w.a.Org, Audience: audAll, DefaultTLP: cyberpact.TLPGreen, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	rej := rejected(res)
	if res.Added != 3 || len(res.Rejected) != 4 || rej[id(bad)] == nil {
		t.Fatalf("import: added %d, rejected %v; want 3 added, the bad definition and the three objects it marks rejected", res.Added, res.Rejected)
	}
	for _, tc := range []struct {
		o    obj
		path string
	}{{byRef, "object_marking_refs"}, {byGranular, "granular_markings"}, {byBoth, "object_marking_refs"}} {
		r := rej[id(tc.o)]
		if r == nil {
			t.Errorf("%s was accepted; want it refused for referring to the refused %s", id(tc.o), id(bad))
			continue
		}
		if r.Path != tc.path || !strings.Contains(r.Reason, id(bad)) || !strings.Contains(r.Reason, "refused") || !strings.Contains(r.Reason, "rel_nations") {
			t.Errorf("%s refused as %s; want path %s and a reason naming %s and why it was refused (rel_nations)", id(tc.o), r.Error(), tc.path, id(bad))
		}
	}
	for _, o := range []obj{bad, byRef, byGranular, byBoth} {
		if got := w.stored(t, id(o)); len(got) != 0 {
			t.Errorf("%s is stored (marks %q); want it refused", id(o), got[0].Release.Marks)
		}
	}
	for o, marks := range map[string]cyberpact.Marks{id(good): "", id(byGood): "<n:GB>", id(plain): ""} {
		got := w.stored(t, o)
		if len(got) != 1 || got[0].Release.Marks != marks {
			t.Errorf("%s stored as %v; want one version with marks %q", o, got, marks)
		}
	}
}

// testUnknownMarkingRefused: a reference to a marking definition the hub
// does not hold is refused, naming it, rather than marking nothing; TLP's
// own marking definitions are known to every hub.
func testUnknownMarkingRefused(t *testing.T, w *world) {
	const unknown = "marking-definition--7f3e0a52-41c8-4d2e-9b1a-6c5d4e3f2a10"
	const tlpGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" // TLP 2.0 GREEN
	byUnknown := sdo("indicator", 61, 1, obj{"object_marking_refs": []any{unknown}})
	byTLP := sdo("indicator", 62, 1, obj{"object_marking_refs": []any{tlpGreen}})
	res, err := importRaw(t, w.s, bundle(t, byUnknown, byTLP), cyberpact.ImportOptions{Producer: w.a.Org, Audience: audAll, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rejected(res)[id(byUnknown)]
	if res.Added != 1 || len(res.Rejected) != 1 || r == nil {
		t.Fatalf("import: added %d, rejected %v; want the TLP-marked one added, the other rejected", res.Added, res.Rejected)
	}
	if r.Path != "object_marking_refs" || !strings.Contains(r.Reason, unknown) || !strings.Contains(r.Reason, "not known") {
		t.Errorf("refused as %s; want a reason naming %s as not known", r.Error(), unknown)
	}
	if got := w.stored(t, id(byUnknown)); len(got) != 0 {
		t.Errorf("%s is stored; want it refused", id(byUnknown))
	}
}

// testLaterMarkingApplies: a marking definition later in the input than
// the objects that refer to it marks them (MITRE's bundles carry theirs
// after thousands of objects), and a refused one later in the input
// refuses them.
func testLaterMarkingApplies(t *testing.T, w *world) {
	us := markingExt(71, "REL TO US", obj{"rel_nations": []any{"US"}})
	bad := markingExt(72, "REL TO uk", obj{"rel_nations": []any{"uk"}})
	statement := obj{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + uuid(473), "created": ts(0),
		"definition_type": "statement", "definition": map[string]any{"statement": "Copyright the producer"}}
	early := sdo("malware", 74, 1, obj{"object_marking_refs": []any{id(statement), id(us)}})
	refused := sdo("malware", 75, 1, obj{"object_marking_refs": []any{id(bad)}})
	objs := []obj{early, refused, sdo("malware", 76, 1, nil), statement, us, bad}
	res, err := importRaw(t, w.s, bundle(t, objs...), cyberpact.ImportOptions{Producer: w.a.Org, Audience: audAll, DefaultTLP: cyberpact.TLPGreen, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	rej := rejected(res)
	if res.Added != 4 || len(res.Rejected) != 2 || rej[id(bad)] == nil || rej[id(refused)] == nil {
		t.Fatalf("import: added %d, rejected %v; want 4 added, %s and %s rejected", res.Added, res.Rejected, id(bad), id(refused))
	}
	if r := rej[id(refused)]; r.Index != 1 || !strings.Contains(r.Reason, id(bad)) {
		t.Errorf("refused as %s at index %d; want index 1 and a reason naming %s", r.Error(), r.Index, id(bad))
	}
	if got := w.stored(t, id(early)); len(got) != 1 || got[0].Release.Marks != "<n:US>" {
		t.Errorf("%s stored as %v; want it marked REL TO US by the definition after it", id(early), got)
	}
}

// testHiddenMarkingAnswersAsUnknown: a marking definition another
// organisation holds out of the poster's sight is, for the poster,
// exactly one that does not exist: a reference to it is refused with the
// same answer, and the poster's own definition of the same id marks the
// poster's objects, never the hidden one. The hub's own definitions, even
// kept to the hub alone, mark every member's objects.
func testHiddenMarkingAnswersAsUnknown(t *testing.T, w *world) {
	hidden := markingExt(81, "REL TO JP", obj{"rel_nations": []any{"JP"}})
	if res := w.post(t, w.a, audOrg, hidden); res.Added != 1 {
		t.Fatalf("storing A's private definition: %+v", res)
	}
	const unknown = "marking-definition--7f3e0a52-41c8-4d2e-9b1a-6c5d4e3f2a11"
	answerFor := func(v cyberpact.Viewer, ref string, n int) (answer, string) {
		res, err := importRaw(t, w.s, bundle(t, sdo("indicator", n, 1, obj{"object_marking_refs": []any{ref}})), cyberpact.ImportOptions{Producer: v.Org, Audience: audAll, Partial: true})
		if err != nil {
			t.Fatal(err)
		}
		why := ""
		for _, r := range res.Rejected {
			why = strings.ReplaceAll(strings.ReplaceAll(r.Error(), ref, "REF"), id(sdo("indicator", n, 1, nil)), "ID")
		}
		return answerOf(res), why
	}
	for _, v := range []struct {
		name string
		v    cyberpact.Viewer
	}{{"B, outside A's group", w.b}, {"C, in A's group", w.c}} {
		gotHidden, whyHidden := answerFor(v.v, id(hidden), 82)
		gotUnknown, whyUnknown := answerFor(v.v, unknown, 83)
		if diff := cmp.Diff(gotUnknown, gotHidden); diff != "" || whyHidden != whyUnknown || whyHidden == "" {
			t.Errorf("%s: referring to A's private definition answers differently from an unknown one (-unknown +hidden):\n%s\n%q\n%q", v.name, diff, whyUnknown, whyHidden)
		}
	}
	// B's own definition of the same id (its own holding) marks B's
	// object with B's terms, not A's.
	mine := markingExt(81, "REL TO FR", obj{"rel_nations": []any{"FR"}})
	byB := sdo("indicator", 84, 1, obj{"object_marking_refs": []any{id(mine)}})
	if res := w.post(t, w.b, audAll, mine, byB); res.Added != 2 {
		t.Fatalf("B's definition and object: %+v", res)
	}
	if got := w.stored(t, id(byB)); len(got) != 1 || got[0].Release.Marks != "<n:FR>" {
		t.Errorf("B's object stored as %v; want it marked by B's own definition, REL TO FR", got)
	}
	// A, which holds the definition, relies on it.
	byA := sdo("indicator", 85, 1, obj{"object_marking_refs": []any{id(hidden)}})
	if res := w.post(t, w.a, audAll, byA); res.Added != 1 {
		t.Fatalf("A's object: %+v", res)
	}
	if got := w.stored(t, id(byA)); len(got) != 1 || got[0].Release.Marks != "<n:JP>" {
		t.Errorf("A's object stored as %v; want it marked by A's definition, REL TO JP", got)
	}
	// The hub's own definitions, kept to the hub alone, are the hub's
	// vocabulary: every member's objects rely on them.
	hubs := markingExt(86, "REL TO GB (the hub's)", obj{"rel_nations": []any{"GB"}})
	if res, err := importRaw(t, w.s, bundle(t, hubs), cyberpact.ImportOptions{Audience: audOrg}); err != nil || res.Added != 1 {
		t.Fatalf("storing the hub's definition: %+v, %v", res, err)
	}
	byBHub := sdo("indicator", 87, 1, obj{"object_marking_refs": []any{id(hubs)}})
	if res := w.post(t, w.b, audAll, byBHub); res.Added != 1 {
		t.Fatalf("B's object marked by the hub's definition: %+v", res)
	}
	if got := w.stored(t, id(byBHub)); len(got) != 1 || got[0].Release.Marks != "<n:GB>" {
		t.Errorf("B's object stored as %v; want it marked by the hub's definition, REL TO GB", got)
	}
	if got := w.stored(t, id(hidden)); !slices.ContainsFunc(got, func(o *cyberpact.Object) bool { return o.Release.Producer == w.a.Org }) {
		t.Errorf("A's definition is no longer stored: %v", got)
	}
}
