package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// The conflict policies (cyberpact.ConflictPolicy), issue 16: a version
// stored with the same id and modified and other content is rejected,
// kept as stored, or replaced in its producer's own holding.

func testConflictRejectNamesThePolicy(t *testing.T, s cyberpact.ObjectStore) {
	mustImport(t, s, sdo("malware", 1, 1, obj{"description": "original"}))
	res, err := importRaw(t, s, bundle(t, sdo("malware", 1, 1, obj{"description": "changed"})), cyberpact.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 1 {
		t.Fatalf("rejected %v, want the conflict", cyberpact.Rejections(res.Rejected))
	}
	for _, w := range []string{"conflict", "reject", "keep-stored", "replace", "--on-conflict", "on_conflict="} {
		if !strings.Contains(res.Rejected[0].Reason, w) {
			t.Errorf("the conflict's reason %q does not name %q", res.Rejected[0].Reason, w)
		}
	}
}

func testConflictKeepStored(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	orig := sdo("malware", 1, 1, obj{"description": "original"})
	mustImport(t, s, orig)
	res, err := importRaw(t, s, bundle(t, sdo("malware", 1, 1, obj{"description": "changed"}), sdo("tool", 2, 1, nil)),
		cyberpact.ImportOptions{OnConflict: cyberpact.ConflictKeepStored})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.Added != 1 || res.Kept != 1 || len(res.Rejected) != 0 || len(res.Replaced) != 0 {
		t.Fatalf("keep-stored import: %+v; want committed, 1 added, 1 kept, nothing rejected or replaced", res)
	}
	o, err := s.Object(ctx, id(orig), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(o.Raw, []byte("original")) {
		t.Errorf("keep-stored changed the stored version: %s", o.Raw)
	}
	want := []cyberpact.TypeStats{{Type: "malware", Objects: 1, Versions: 1}, {Type: "tool", Objects: 1, Versions: 1}}
	if diff := cmp.Diff(want, stats(t, s)); diff != "" {
		t.Errorf("stats after keep-stored (-want +got):\n%s", diff)
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "changed"}); len(got) != 0 {
		t.Errorf("search finds the content kept out: %v", keys(got))
	}
}

func testConflictReplace(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	orig := sdo("malware", 1, 1, obj{"description": "original"})
	older := sdo("malware", 1, 0, obj{"description": "older"})
	mustImport(t, s, older, orig)
	first := all(t, s, cyberpact.ObjectFilter{AllVersions: true})
	changed := sdo("malware", 1, 1, obj{"description": "replacement"})
	res, err := importRaw(t, s, bundle(t, changed), cyberpact.ImportOptions{OnConflict: cyberpact.ConflictReplace})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{id(orig) + "@" + norm(t, ts(1))}
	if !res.Committed || res.Added != 1 || len(res.Rejected) != 0 || !cmp.Equal(res.Replaced, want) {
		t.Fatalf("replace import: %+v; want committed, 1 added, replaced %v", res, want)
	}
	vs, err := s.ObjectVersions(ctx, id(orig), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !bytes.Contains(vs[0].Raw, []byte("older")) || !bytes.Contains(vs[1].Raw, []byte("replacement")) {
		t.Fatalf("versions after the replace: %v; want the older one and the replacement", keys(vs))
	}
	// The replacement is a new version in the added sequence, so that a
	// reader following it (a peer's pull, the live stream) receives it.
	last := first[len(first)-1].Seq
	if vs[1].Seq <= last {
		t.Errorf("the replacement has Seq %d, not after the last before it (%d)", vs[1].Seq, last)
	}
	if res.FirstSeq != vs[1].Seq || res.LastSeq != vs[1].Seq {
		t.Errorf("the result's Seqs %d to %d do not name the replacement's %d", res.FirstSeq, res.LastSeq, vs[1].Seq)
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "original"}); len(got) != 0 {
		t.Errorf("search still finds the replaced content: %v", keys(got))
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "replacement"}); len(got) != 1 {
		t.Errorf("search for the replacement finds %v, want it once", keys(got))
	}
	if st := stats(t, s); len(st) != 1 || st[0].Objects != 1 || st[0].Versions != 2 {
		t.Errorf("stats after the replace: %+v; want one malware with two versions", st)
	}
	// The same content again is present, not replaced again.
	res, err = importRaw(t, s, bundle(t, changed), cyberpact.ImportOptions{OnConflict: cyberpact.ConflictReplace})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || res.Present != 1 || len(res.Replaced) != 0 {
		t.Errorf("re-importing the replacement: %+v; want it present", res)
	}
	// An atomic import refused for another object replaces nothing.
	bad := sdo("malware", 2, 1, nil)
	delete(bad, "name")
	res, err = importRaw(t, s, bundle(t, orig, bad), cyberpact.ImportOptions{OnConflict: cyberpact.ConflictReplace})
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed {
		t.Fatalf("an import with a refused object committed: %+v", res)
	}
	if o, _ := s.Object(ctx, id(orig), nil); o == nil || !bytes.Contains(o.Raw, []byte("replacement")) {
		t.Errorf("a refused import replaced the stored version")
	}
}

func testConflictPolicyInOneImport(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	a := sdo("malware", 1, 1, obj{"description": "first"})
	b := sdo("malware", 1, 1, obj{"description": "second"})
	c := sdo("malware", 1, 1, obj{"description": "third"})
	for _, tc := range []struct {
		policy cyberpact.ConflictPolicy
		kept   int
		want   string
	}{
		{cyberpact.ConflictKeepStored, 2, "first"},
		{cyberpact.ConflictReplace, 0, "third"},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			for _, v := range all(t, s, cyberpact.ObjectFilter{AllVersions: true}) {
				if _, err := s.DeleteObject(ctx, v.ID, cyberpact.ObjectFilter{}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := importRaw(t, s, bundle(t, a, b, c, sdo("tool", 2, 1, nil)), cyberpact.ImportOptions{OnConflict: tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Committed || res.Added != 2 || res.Kept != tc.kept || len(res.Rejected) != 0 || len(res.Replaced) != 0 {
				t.Fatalf("import of three copies: %+v; want committed, 2 added, %d kept, none replaced", res, tc.kept)
			}
			vs, err := s.ObjectVersions(ctx, id(a), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 || !bytes.Contains(vs[0].Raw, []byte(tc.want)) {
				t.Errorf("stored %d versions, the latest %s; want one, the %s copy", len(vs), vs[len(vs)-1].Raw, tc.want)
			}
			for _, other := range []string{"first", "second", "third"} {
				n := len(find(t, s, cyberpact.ObjectFilter{Text: other}))
				if w := map[bool]int{true: 1}[other == tc.want]; n != w {
					t.Errorf("search for %q finds %d, want %d", other, n, w)
				}
			}
		})
	}
}

// A replace works within the producer's own holding only: another
// organisation that sees the object is refused whatever the policy, and
// one that does not see it starts its own holding, as for a fresh id.
func testConflictReplaceOwnHoldingOnly(t *testing.T, w *world) {
	ind := sdo("indicator", 1, 1, nil)
	w.post(t, w.a, audAll, ind)
	hidden := sdo("indicator", 2, 1, nil)
	w.post(t, w.a, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: w.g}, hidden)
	before := map[string]string{}
	for _, x := range []obj{ind, hidden} {
		before[id(x)] = w.view(t, w.c, id(x))
	}
	for _, policy := range []cyberpact.ConflictPolicy{cyberpact.ConflictKeepStored, cyberpact.ConflictReplace} {
		opts := cyberpact.ImportOptions{Producer: w.b.Org, Audience: audAll, DefaultTLP: cyberpact.TLPGreen, OnConflict: policy}
		res, err := importRaw(t, w.s, bundle(t, sdo("indicator", 1, 1, obj{"name": "b's rewrite"})), opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 0 || res.Kept != 0 || len(res.Replaced) != 0 || len(res.Rejected) != 1 || res.Rejected[0].Path != "id" {
			t.Errorf("%s: a version of another organisation's object it sees: %+v; want refused for its id", policy, res)
		}
	}
	res, err := importRaw(t, w.s, bundle(t, sdo("indicator", 2, 1, obj{"name": "b's own"})),
		cyberpact.ImportOptions{Producer: w.b.Org, Audience: audAll, DefaultTLP: cyberpact.TLPGreen, OnConflict: cyberpact.ConflictReplace})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || len(res.Replaced) != 0 || len(res.Rejected) != 0 {
		t.Errorf("replace of an id held out of sight: %+v; want added as fresh, nothing replaced", res)
	}
	for _, x := range []obj{ind, hidden} {
		if got := w.view(t, w.c, id(x)); got != before[id(x)] {
			t.Errorf("c's view of %s changed:\n got %s\nwant %s", id(x), got, before[id(x)])
		}
		if got := w.view(t, w.a, id(x)); strings.Contains(got, "b's") {
			t.Errorf("the owner sees b's content: %s", got)
		}
	}
}
