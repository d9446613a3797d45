// Package storetest is the one behavioural suite every cyberpact.ObjectStore
// passes: the embedded SQLite store today, PostgreSQL later, unchanged. It
// feeds stores through the real STIX decoder, so what it checks is what the
// import command does.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// Run runs the suite. open returns a new, empty store for each subtest; Run
// closes it.
func Run(t *testing.T, open func(t *testing.T) cyberpact.ObjectStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s cyberpact.ObjectStore)
	}{
		{"EveryVersionKept", testEveryVersionKept},
		{"LatestIsNewestModifiedWhateverTheImportOrder", testLatestWhateverOrder},
		{"RevokedFlagged", testRevokedFlagged},
		{"SeqIncreasesAndAddedGrowsPerImport", testSeqAndAdded},
		{"AddedAfterIsStrict", testAddedAfter},
		{"CursorPagingGivesEveryObjectOnce", testCursorPaging},
		{"Filters", testFilters},
		{"TextSearch", testTextSearch},
		{"BadTextQueryInvalid", testBadTextQuery},
		{"OneBadObjectStoresNothing", testAtomicImport},
		{"PartialStoresTheRest", testPartialImport},
		{"BrokenInputStoresNothing", testBrokenInput},
		{"ReimportAddsNothing", testReimport},
		{"SameVersionDifferentContentConflicts", testConflict},
		{"SameVersionDifferentContentInOneImportConflicts", testConflictInOneImport},
		{"ConflictRejectNamesThePolicy", testConflictRejectNamesThePolicy},
		{"ConflictKeepStoredLeavesTheStoredContent", testConflictKeepStored},
		{"ConflictReplaceStoresTheNewContentAsANewSeq", testConflictReplace},
		{"ConflictPolicyInOneImport", testConflictPolicyInOneImport},
		{"NotFound", testNotFound},
		{"RelationshipsBothDirections", testRelationships},
		{"StatsCount", testStats},
		{"RawKeptExactly", testRawKept},
		{"OddlyWrittenRedStaysWithProducer", testOddlyWrittenRed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// obj is one STIX object under construction.
type obj map[string]any

// uuid returns a deterministic version 4 UUID for n.
func uuid(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

// ts returns a STIX timestamp d days after 2024-01-01.
func ts(d int) string {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d).Format("2006-01-02T15:04:05.000Z")
}

// sdo returns a valid object of typ (attack-pattern, identity, malware,
// intrusion-set, indicator...) numbered n, created and modified on day
// modDay.
func sdo(typ string, n, modDay int, extra obj) obj {
	o := obj{
		"type": typ, "id": typ + "--" + uuid(n), "spec_version": "2.1",
		"created": ts(0), "modified": ts(modDay),
	}
	switch typ {
	case "identity":
		o["name"], o["identity_class"] = fmt.Sprintf("Org %d", n), "organization"
	case "malware":
		o["name"], o["is_family"] = fmt.Sprintf("Malware %d", n), true
	case "indicator":
		o["pattern"], o["pattern_type"], o["valid_from"] = "[domain-name:value = 'x.example']", "stix", ts(0)
	case "relationship", "sighting":
	default:
		o["name"] = fmt.Sprintf("%s %d", typ, n)
	}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

func id(o obj) string { return o["id"].(string) }

// bundle encodes objs as a STIX bundle.
func bundle(t *testing.T, objs ...obj) []byte {
	t.Helper()
	list := make([]any, len(objs))
	for i, o := range objs {
		list[i] = map[string]any(o)
	}
	b, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid(999999), "objects": list})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importRaw imports a bundle's bytes through the STIX decoder.
func importRaw(t *testing.T, s cyberpact.ObjectStore, raw []byte, opts cyberpact.ImportOptions) (*cyberpact.ImportResult, error) {
	t.Helper()
	dec := stix.NewDecoder(bytes.NewReader(raw))
	defer dec.Close()
	return s.Import(context.Background(), dec.Next, opts)
}

// mustImport imports objs atomically and fails the test unless every one
// was accepted and the import committed.
func mustImport(t *testing.T, s cyberpact.ObjectStore, objs ...obj) *cyberpact.ImportResult {
	t.Helper()
	res, err := importRaw(t, s, bundle(t, objs...), cyberpact.ImportOptions{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(res.Rejected) > 0 || !res.Committed {
		t.Fatalf("Import: committed %v, rejected %v", res.Committed, cyberpact.Rejections(res.Rejected))
	}
	return res
}

// all returns every version f selects, through EachObject.
func all(t *testing.T, s cyberpact.ObjectStore, f cyberpact.ObjectFilter) []*cyberpact.Object {
	t.Helper()
	var out []*cyberpact.Object
	if err := s.EachObject(context.Background(), f, func(o *cyberpact.Object) error {
		out = append(out, o)
		return nil
	}); err != nil {
		t.Fatalf("EachObject(%+v): %v", f, err)
	}
	return out
}

// find returns one page (Limit 10000) of what f selects and checks that it
// agrees with EachObject: the same versions, in the same (Seq) order
// unless f searches text, whose page comes in rank order.
func find(t *testing.T, s cyberpact.ObjectStore, f cyberpact.ObjectFilter) []*cyberpact.Object {
	t.Helper()
	f.Limit = 10000
	p, err := s.FindObjects(context.Background(), f)
	if err != nil {
		t.Fatalf("FindObjects(%+v): %v", f, err)
	}
	each, paged := keys(all(t, s, f)), keys(p.Objects)
	if f.Text != "" {
		sortKeys(each)
		sortKeys(paged)
	}
	if diff := cmp.Diff(each, paged); diff != "" {
		t.Errorf("FindObjects and EachObject disagree for %+v (-each +find):\n%s", f, diff)
	}
	env, err := s.FindEnvelope(context.Background(), f)
	if err != nil {
		t.Fatalf("FindEnvelope(%+v): %v", f, err)
	}
	if diff := cmp.Diff(envelopeOf(p), envelopeOf(env)); diff != "" {
		t.Errorf("FindObjects and FindEnvelope disagree for %+v (-find +envelope):\n%s", f, diff)
	}
	return p.Objects
}

// envelopeOf is what FindEnvelope must return of a page: its cursor and
// what a TAXII envelope and its release entry need of each version.
func envelopeOf(p *cyberpact.ObjectPage) any {
	type version struct {
		Seq, Producer int64
		ID, Modified  string
		Added         time.Time
		Raw           string
	}
	vs := make([]version, len(p.Objects))
	for i, o := range p.Objects {
		vs[i] = version{o.Seq, o.Release.Producer, o.ID, o.Modified, o.Added, string(o.Raw)}
	}
	return struct {
		More     bool
		Next     int64
		Versions []version
	}{p.More, p.Next, vs}
}

// key names one stored version.
type key struct{ ID, Modified string }

func keys(objs []*cyberpact.Object) []key {
	out := make([]key, len(objs))
	for i, o := range objs {
		out[i] = key{o.ID, o.Modified}
	}
	return out
}

func ids(objs []*cyberpact.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.ID
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// norm is the store's version key of a STIX timestamp.
func norm(t *testing.T, s string) string {
	t.Helper()
	tm, err := stix.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return stix.NormTime(tm)
}

func stats(t *testing.T, s cyberpact.ObjectStore) []cyberpact.TypeStats {
	t.Helper()
	st, err := s.Stats(context.Background(), nil)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

func testEveryVersionKept(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	v1, v2, v3 := sdo("attack-pattern", 1, 1, nil), sdo("attack-pattern", 1, 2, obj{"description": "two"}), sdo("attack-pattern", 1, 3, obj{"description": "three"})
	other := sdo("attack-pattern", 2, 1, nil)
	mustImport(t, s, v1, other)
	mustImport(t, s, v2, v3) // two versions in one import

	vs, err := s.ObjectVersions(ctx, id(v1), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []key{{id(v1), norm(t, ts(1))}, {id(v1), norm(t, ts(2))}, {id(v1), norm(t, ts(3))}}
	if diff := cmp.Diff(want, keys(vs)); diff != "" {
		t.Errorf("ObjectVersions, oldest first (-want +got):\n%s", diff)
	}
	latest, err := s.Object(ctx, id(v1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Modified != norm(t, ts(3)) {
		t.Errorf("Object returned version %s, want the latest %s", latest.Modified, norm(t, ts(3)))
	}
	if got := keys(find(t, s, cyberpact.ObjectFilter{})); !cmp.Equal(got, []key{{id(other), norm(t, ts(1))}, {id(v1), norm(t, ts(3))}}) {
		t.Errorf("default listing = %v, want each object's latest version only", got)
	}
	if got := find(t, s, cyberpact.ObjectFilter{AllVersions: true}); len(got) != 4 {
		t.Errorf("AllVersions listing has %d versions, want 4: %v", len(got), keys(got))
	}
}

func testLatestWhateverOrder(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	newer, older := sdo("malware", 1, 5, nil), sdo("malware", 1, 2, obj{"description": "old"})
	mustImport(t, s, newer)
	mustImport(t, s, older)
	o, err := s.Object(ctx, id(newer), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Modified != norm(t, ts(5)) {
		t.Errorf("after importing an older version later, Object returned %s, want the newest %s", o.Modified, norm(t, ts(5)))
	}
	if got := keys(find(t, s, cyberpact.ObjectFilter{})); !cmp.Equal(got, []key{{id(newer), norm(t, ts(5))}}) {
		t.Errorf("default listing = %v, want only the newest version", got)
	}
}

func testRevokedFlagged(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	a1 := sdo("intrusion-set", 1, 1, nil)
	a2 := sdo("intrusion-set", 1, 2, obj{"revoked": true})
	b := sdo("intrusion-set", 2, 1, nil)
	mustImport(t, s, a1, a2, b)
	o, err := s.Object(ctx, id(a1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Revoked {
		t.Error("the latest version is revoked but Object's Revoked is false")
	}
	vs, err := s.ObjectVersions(ctx, id(a1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Revoked || !vs[1].Revoked {
		t.Errorf("versions' Revoked flags wrong: %+v", vs)
	}
	listed := find(t, s, cyberpact.ObjectFilter{})
	if diff := cmp.Diff(sorted(id(a1), id(b)), ids(listed)); diff != "" {
		t.Errorf("revoked objects must be listed by default (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{id(b)}, ids(find(t, s, cyberpact.ObjectFilter{ExcludeRevoked: true}))); diff != "" {
		t.Errorf("ExcludeRevoked (-want +got):\n%s", diff)
	}
}

func testSeqAndAdded(t *testing.T, s cyberpact.ObjectStore) {
	first := mustImport(t, s, sdo("tool", 1, 1, nil), sdo("tool", 2, 1, nil), sdo("tool", 3, 1, nil))
	second := mustImport(t, s, sdo("tool", 4, 1, nil), sdo("tool", 1, 2, nil))
	if first.Added != 3 || second.Added != 2 {
		t.Fatalf("Added counts %d and %d, want 3 and 2", first.Added, second.Added)
	}
	if !(first.FirstSeq > 0 && first.LastSeq >= first.FirstSeq && second.FirstSeq > first.LastSeq) {
		t.Errorf("result seqs not increasing: first %d..%d, second %d..%d", first.FirstSeq, first.LastSeq, second.FirstSeq, second.LastSeq)
	}
	objs := find(t, s, cyberpact.ObjectFilter{AllVersions: true})
	if len(objs) != 5 {
		t.Fatalf("got %d versions, want 5", len(objs))
	}
	for i := 1; i < len(objs); i++ {
		if objs[i].Seq <= objs[i-1].Seq {
			t.Errorf("Seq not strictly increasing: %d then %d", objs[i-1].Seq, objs[i].Seq)
		}
		if objs[i].Added.Before(objs[i-1].Added) {
			t.Errorf("Added decreases: %v then %v", objs[i-1].Added, objs[i].Added)
		}
	}
	if objs[0].Added.IsZero() {
		t.Error("Added not set")
	}
	for i := 1; i < 3; i++ {
		if !objs[i].Added.Equal(objs[0].Added) {
			t.Errorf("objects of one import have different Added: %v and %v", objs[0].Added, objs[i].Added)
		}
	}
	if !objs[3].Added.After(objs[2].Added) {
		t.Errorf("a later import's Added %v is not strictly after the earlier's %v", objs[3].Added, objs[2].Added)
	}
	if objs[0].Seq != first.FirstSeq || objs[4].Seq != second.LastSeq {
		t.Errorf("stored seqs %d..%d, results say %d..%d", objs[0].Seq, objs[4].Seq, first.FirstSeq, second.LastSeq)
	}
}

func testAddedAfter(t *testing.T, s cyberpact.ObjectStore) {
	mustImport(t, s, sdo("tool", 1, 1, nil), sdo("tool", 2, 1, nil))
	mustImport(t, s, sdo("tool", 3, 1, nil))
	mustImport(t, s, sdo("tool", 4, 1, nil))
	objs := find(t, s, cyberpact.ObjectFilter{})
	if len(objs) != 4 {
		t.Fatalf("got %d objects, want 4", len(objs))
	}
	for _, tc := range []struct {
		name  string
		after time.Time
		want  []string
	}{
		{"BeforeEverything", objs[0].Added.Add(-time.Second), ids(objs)},
		{"AtFirstImportExcludesIt", objs[0].Added, ids(objs[2:])},
		{"AtSecondImportExcludesIt", objs[2].Added, ids(objs[3:])},
		{"AtLastImportGivesNothing", objs[3].Added, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(find(t, s, cyberpact.ObjectFilter{AddedAfter: tc.after}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AddedAfter %v (-want +got):\n%s", tc.after, diff)
			}
		})
	}
}

func testCursorPaging(t *testing.T, s cyberpact.ObjectStore) {
	const n = 503
	var objs []obj
	want := map[key]int{}
	for i := range n {
		o := sdo("attack-pattern", i, 1, nil)
		objs = append(objs, o)
		want[key{id(o), norm(t, ts(1))}] = 1
		if i%5 == 0 { // some objects have two versions
			o2 := sdo("attack-pattern", i, 2, obj{"description": "v2"})
			objs = append(objs, o2)
			want[key{id(o2), norm(t, ts(2))}] = 1
		}
	}
	mustImport(t, s, objs[:200]...)
	mustImport(t, s, objs[200:]...)
	for _, limit := range []int{1, 7, 100, 1000} {
		t.Run(fmt.Sprint("Limit", limit), func(t *testing.T) {
			got := map[key]int{}
			f := cyberpact.ObjectFilter{AllVersions: true, Limit: limit}
			pages := 0
			for {
				p, err := s.FindObjects(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(p.Objects) > limit {
					t.Fatalf("page of %d objects over the limit %d", len(p.Objects), limit)
				}
				for _, o := range p.Objects {
					got[key{o.ID, o.Modified}]++
					if o.Seq <= f.After {
						t.Fatalf("object seq %d not after the cursor %d", o.Seq, f.After)
					}
				}
				if len(p.Objects) > 0 && p.Next != p.Objects[len(p.Objects)-1].Seq {
					t.Errorf("Next %d is not the last object's seq %d", p.Next, p.Objects[len(p.Objects)-1].Seq)
				}
				if !p.More {
					break
				}
				if len(p.Objects) == 0 {
					t.Fatal("More with an empty page")
				}
				f.After = p.Next
				if pages > 2*len(want)+2 {
					t.Fatal("paging does not end")
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("paging did not give every version exactly once (-want +got):\n%s", diff)
			}
		})
	}
}

func testFilters(t *testing.T, s cyberpact.ObjectStore) {
	ap1 := sdo("attack-pattern", 1, 10, obj{"labels": []any{"red", "blue"}})
	ap2 := sdo("attack-pattern", 2, 20, obj{"labels": []any{"green"}})
	mw := sdo("malware", 3, 30, obj{"labels": []any{"blue"}})
	is1 := sdo("intrusion-set", 4, 40, nil)
	mw2 := sdo("malware", 3, 35, obj{"labels": []any{"green"}}) // newer version of mw
	mustImport(t, s, ap1, ap2, mw, is1, mw2)
	day := func(d int) time.Time { tm, _ := stix.ParseTime(ts(d)); return tm }
	for _, tc := range []struct {
		name string
		f    cyberpact.ObjectFilter
		want []key
	}{
		{"Types", cyberpact.ObjectFilter{Types: []string{"attack-pattern", "intrusion-set"}}, []key{{id(ap1), norm(t, ts(10))}, {id(ap2), norm(t, ts(20))}, {id(is1), norm(t, ts(40))}}},
		{"IDs", cyberpact.ObjectFilter{IDs: []string{id(ap2), id(mw)}}, []key{{id(ap2), norm(t, ts(20))}, {id(mw), norm(t, ts(35))}}},
		{"IDsAllVersions", cyberpact.ObjectFilter{IDs: []string{id(mw)}, AllVersions: true}, []key{{id(mw), norm(t, ts(30))}, {id(mw), norm(t, ts(35))}}},
		{"LabelsMatchAny", cyberpact.ObjectFilter{Labels: []string{"blue", "nothing"}}, []key{{id(ap1), norm(t, ts(10))}}},
		{"LabelsOfLatestVersionOnly", cyberpact.ObjectFilter{Labels: []string{"green"}}, []key{{id(ap2), norm(t, ts(20))}, {id(mw), norm(t, ts(35))}}},
		{"LabelsAllVersions", cyberpact.ObjectFilter{Labels: []string{"blue"}, AllVersions: true}, []key{{id(ap1), norm(t, ts(10))}, {id(mw), norm(t, ts(30))}}},
		{"SpecVersion21", cyberpact.ObjectFilter{SpecVersions: []string{"2.1"}, Types: []string{"malware"}}, []key{{id(mw), norm(t, ts(35))}}},
		{"SpecVersion20None", cyberpact.ObjectFilter{SpecVersions: []string{"2.0"}}, []key{}},
		{"ModifiedSinceInclusive", cyberpact.ObjectFilter{ModifiedSince: day(20)}, []key{{id(ap2), norm(t, ts(20))}, {id(is1), norm(t, ts(40))}, {id(mw), norm(t, ts(35))}}},
		{"ModifiedUntilInclusive", cyberpact.ObjectFilter{ModifiedUntil: day(20)}, []key{{id(ap1), norm(t, ts(10))}, {id(ap2), norm(t, ts(20))}}},
		{"ModifiedBetween", cyberpact.ObjectFilter{ModifiedSince: day(11), ModifiedUntil: day(35), AllVersions: true}, []key{{id(ap2), norm(t, ts(20))}, {id(mw), norm(t, ts(30))}, {id(mw), norm(t, ts(35))}}},
		{"Combined", cyberpact.ObjectFilter{Types: []string{"attack-pattern"}, Labels: []string{"green"}, ModifiedSince: day(15)}, []key{{id(ap2), norm(t, ts(20))}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := keys(find(t, s, tc.f))
			sortKeys(got)
			sortKeys(tc.want)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("filter %+v (-want +got):\n%s", tc.f, diff)
			}
		})
	}
}

func sortKeys(ks []key) {
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].ID != ks[j].ID {
			return ks[i].ID < ks[j].ID
		}
		return ks[i].Modified < ks[j].Modified
	})
}

func testTextSearch(t *testing.T, s cyberpact.ObjectStore) {
	byName := sdo("attack-pattern", 1, 1, obj{"name": "Command and Scripting Interpreter",
		"external_references": []any{map[string]any{"source_name": "mitre-attack", "external_id": "T1059"}}})
	byDesc := sdo("attack-pattern", 2, 1, obj{"name": "Plain", "description": "Adversaries abuse zanzibar shells.",
		"external_references": []any{map[string]any{"source_name": "capec", "external_id": "CAPEC-66"}}})
	byAlias := sdo("intrusion-set", 3, 1, obj{"name": "Group", "aliases": []any{"Quokka Panda", "QP-17"}})
	ind := sdo("indicator", 4, 1, obj{"pattern": "[url:value = 'https://wombat.example/path']"})
	ip := obj{"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.7"}
	otherIP := obj{"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.8"}
	mustImport(t, s, byName, byDesc, byAlias, ind, ip, otherIP)
	typesOf := func(objs []*cyberpact.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.Type)
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		name, text string
		want       []string // ids, or for SCOs "type:"
	}{
		{"Name", "scripting interpreter", []string{id(byName)}},
		{"NamePrefix", "interpr*", []string{id(byName)}},
		{"Description", "zanzibar", []string{id(byDesc)}},
		{"Alias", "quokka", []string{id(byAlias)}},
		{"AliasWithPunctuation", "QP-17", []string{id(byAlias)}},
		{"ExternalIDTechnique", "T1059", []string{id(byName)}},
		{"ExternalIDCAPEC", "CAPEC-66", []string{id(byDesc)}},
		{"PatternText", "wombat.example", []string{id(ind)}},
		{"PatternValue", "https://wombat.example/path", []string{id(ind)}},
		{"Phrase", `"Command and Scripting"`, []string{id(byName)}},
		{"EveryWordMustAppear", "zanzibar interpreter", []string{}},
		{"NoMatch", "nonexistentword", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(find(t, s, cyberpact.ObjectFilter{Text: tc.text}))
			if diff := cmp.Diff(sorted(tc.want...), got); diff != "" {
				t.Errorf("search %q (-want +got):\n%s", tc.text, diff)
			}
		})
	}
	t.Run("ObservableValue", func(t *testing.T) {
		got := find(t, s, cyberpact.ObjectFilter{Text: "198.51.100.7"})
		if diff := cmp.Diff([]string{"ipv4-addr"}, typesOf(got)); diff != "" {
			t.Fatalf("search 198.51.100.7 (-want +got):\n%s", diff)
		}
		if !bytes.Contains(got[0].Raw, []byte(`"198.51.100.7"`)) {
			t.Errorf("search 198.51.100.7 found %s", got[0].Raw)
		}
	})
	t.Run("TextAndType", func(t *testing.T) {
		got := find(t, s, cyberpact.ObjectFilter{Text: "T1059", Types: []string{"intrusion-set"}})
		if len(got) != 0 {
			t.Errorf("text and type filters must both hold; got %v", keys(got))
		}
	})
}

func testBadTextQuery(t *testing.T, s cyberpact.ObjectStore) {
	mustImport(t, s, sdo("tool", 1, 1, nil))
	for _, q := range []string{`"unclosed`, `***`} {
		_, err := s.FindObjects(context.Background(), cyberpact.ObjectFilter{Text: q})
		if code := cyberpact.ErrorCode(err); code != cyberpact.EINVALID {
			t.Errorf("FindObjects(Text %q) = %v (code %q), want EINVALID", q, err, code)
		}
	}
}

func testAtomicImport(t *testing.T, s cyberpact.ObjectStore) {
	mustImport(t, s, sdo("tool", 100, 1, nil))
	before, beforeObjs := stats(t, s), keys(find(t, s, cyberpact.ObjectFilter{AllVersions: true}))
	bad := sdo("tool", 3, 1, obj{"created": "not a time"})
	res, err := importRaw(t, s, bundle(t, sdo("tool", 1, 1, nil), sdo("tool", 2, 1, obj{"name": "Refusedword"}), bad, sdo("tool", 4, 1, nil)), cyberpact.ImportOptions{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Committed {
		t.Error("an import with a rejected object committed")
	}
	if len(res.Rejected) == 0 {
		t.Fatal("the bad object was not rejected")
	}
	for _, r := range res.Rejected {
		if r.Index != 2 || r.ID != id(bad) {
			t.Errorf("rejection %+v does not name object #2 %s", r, id(bad))
		}
	}
	if res.Added != 3 {
		t.Errorf("Added = %d, want the 3 that would have been added", res.Added)
	}
	if diff := cmp.Diff(before, stats(t, s)); diff != "" {
		t.Errorf("a refused import changed the stats (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeObjs, keys(find(t, s, cyberpact.ObjectFilter{AllVersions: true}))); diff != "" {
		t.Errorf("a refused import changed the objects (-before +after):\n%s", diff)
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "refusedword"}); len(got) != 0 {
		t.Errorf("search finds objects of a refused import: %v", keys(got))
	}
	// The sequence continues as if the refused import never happened.
	res2 := mustImport(t, s, sdo("tool", 1, 1, nil))
	if got := find(t, s, cyberpact.ObjectFilter{IDs: []string{id(sdo("tool", 1, 1, nil))}}); len(got) != 1 || got[0].Seq != res2.FirstSeq {
		t.Errorf("after a refused import, the next import stored %v (result seq %d)", keys(got), res2.FirstSeq)
	}
}

func testPartialImport(t *testing.T, s cyberpact.ObjectStore) {
	bad := sdo("tool", 2, 1, obj{"id": "tool--not-a-uuid", "name": "Keptword Badword"})
	res, err := importRaw(t, s, bundle(t, sdo("tool", 1, 1, obj{"name": "Keptword"}), bad, sdo("tool", 3, 1, obj{"name": "Keptword"})), cyberpact.ImportOptions{Partial: true})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if !res.Committed || res.Added != 2 || len(res.Rejected) == 0 {
		t.Fatalf("partial import: committed %v, added %d, rejected %v; want committed, 2 added, 1 rejected", res.Committed, res.Added, res.Rejected)
	}
	if res.Rejected[0].Index != 1 || res.Rejected[0].Path != "id" {
		t.Errorf("rejection %+v, want object #1 at path id", res.Rejected[0])
	}
	if diff := cmp.Diff(sorted(id(sdo("tool", 1, 1, nil)), id(sdo("tool", 3, 1, nil))), ids(find(t, s, cyberpact.ObjectFilter{}))); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sorted(id(sdo("tool", 1, 1, nil)), id(sdo("tool", 3, 1, nil))), ids(find(t, s, cyberpact.ObjectFilter{Text: "keptword"}))); diff != "" {
		t.Errorf("search after a partial import (-want +got):\n%s", diff)
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "badword"}); len(got) != 0 {
		t.Errorf("search finds the rejected object: %v", keys(got))
	}
}

func testBrokenInput(t *testing.T, s cyberpact.ObjectStore) {
	mustImport(t, s, sdo("tool", 100, 1, nil))
	before := stats(t, s)
	good := bundle(t, sdo("tool", 1, 1, nil), sdo("tool", 2, 1, nil))
	for _, tc := range []struct{ name, input string }{
		{"Truncated", string(good[:len(good)-20])},
		{"GarbageAfterObjects", string(good[:len(good)-2]) + `,{"type":"tool",]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importRaw(t, s, []byte(tc.input), cyberpact.ImportOptions{Partial: true})
			if code := cyberpact.ErrorCode(err); code != cyberpact.EINVALID {
				t.Errorf("Import of broken input = %v (code %q), want EINVALID", err, code)
			}
			if diff := cmp.Diff(before, stats(t, s)); diff != "" {
				t.Errorf("broken input changed the store, even with Partial (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("SourceError", func(t *testing.T) {
		n := 0
		src := func() (*cyberpact.Object, error) {
			n++
			if n > 1 {
				return nil, errors.New("disk on fire")
			}
			dec := stix.NewDecoder(bytes.NewReader(bundle(t, sdo("tool", 5, 1, nil))))
			defer dec.Close()
			return dec.Next()
		}
		if _, err := s.Import(context.Background(), src, cyberpact.ImportOptions{}); err == nil {
			t.Error("a source error was not returned")
		}
		if diff := cmp.Diff(before, stats(t, s)); diff != "" {
			t.Errorf("a source error changed the store (-before +after):\n%s", diff)
		}
	})
}

func testReimport(t *testing.T, s cyberpact.ObjectStore) {
	objs := []obj{sdo("attack-pattern", 1, 1, obj{"description": "x \u00e9 \"q\"", "external_references": []any{map[string]any{"source_name": "a", "external_id": "T1"}}}),
		sdo("attack-pattern", 1, 2, nil), sdo("malware", 2, 1, nil), {"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.9"}}
	raw := bundle(t, objs...)
	mustImport(t, s, objs...)
	before := stats(t, s)
	beforeObjs := keys(find(t, s, cyberpact.ObjectFilter{AllVersions: true}))

	// The same objects, keys reordered and indented.
	var b bytes.Buffer
	b.WriteString("{\n  \"objects\": [\n")
	for i, o := range objs {
		m, _ := json.Marshal(map[string]any(o))
		var v map[string]any
		_ = json.Unmarshal(m, &v)
		var ks []string
		for k := range v {
			ks = append(ks, k)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(ks)))
		b.WriteString("    {")
		for j, k := range ks {
			if j > 0 {
				b.WriteString(",\n      ")
			}
			kb, _ := json.Marshal(k)
			vb, _ := json.MarshalIndent(v[k], "      ", "   ")
			b.Write(kb)
			b.WriteString(" : ")
			b.Write(vb)
		}
		b.WriteString("}")
		if i < len(objs)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ],\n  \"id\": \"bundle--" + uuid(5) + "\",\n  \"type\": \"bundle\"\n}\n")

	for _, tc := range []struct{ name, input string }{
		{"SameBytes", string(raw)},
		{"KeyOrderAndWhitespace", b.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importRaw(t, s, []byte(tc.input), cyberpact.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != 0 || res.Present != len(objs) || len(res.Rejected) != 0 {
				t.Errorf("re-import: added %d, present %d, rejected %v; want 0, %d, none", res.Added, res.Present, cyberpact.Rejections(res.Rejected), len(objs))
			}
			if diff := cmp.Diff(before, stats(t, s)); diff != "" {
				t.Errorf("re-import changed the stats (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(beforeObjs, keys(find(t, s, cyberpact.ObjectFilter{AllVersions: true}))); diff != "" {
				t.Errorf("re-import changed the objects (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("PresentAndNewTogether", func(t *testing.T) {
		res := mustImport(t, s, objs[0], sdo("malware", 2, 9, nil))
		if res.Added != 1 || res.Present != 1 {
			t.Errorf("added %d, present %d; want 1 and 1", res.Added, res.Present)
		}
	})
}

func testConflict(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	orig := sdo("malware", 1, 1, obj{"description": "original"})
	mustImport(t, s, orig)
	before := stats(t, s)
	changed := sdo("malware", 1, 1, obj{"description": "changed"})
	res, err := importRaw(t, s, bundle(t, sdo("tool", 7, 1, nil), changed), cyberpact.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed || len(res.Rejected) != 1 {
		t.Fatalf("conflicting import: committed %v, rejected %v; want not committed, one rejection", res.Committed, res.Rejected)
	}
	r := res.Rejected[0]
	if r.Index != 1 || r.ID != id(orig) || r.Modified != norm(t, ts(1)) {
		t.Errorf("rejection %+v does not name object #1, %s, version %s", r, id(orig), norm(t, ts(1)))
	}
	if diff := cmp.Diff(before, stats(t, s)); diff != "" {
		t.Errorf("a conflict changed the stats (-before +after):\n%s", diff)
	}
	o, err := s.Object(ctx, id(orig), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(o.Raw, []byte("original")) {
		t.Errorf("the stored version was replaced: %s", o.Raw)
	}
	// With Partial, the rest goes in and the stored version stays.
	res, err = importRaw(t, s, bundle(t, sdo("tool", 7, 1, nil), changed), cyberpact.ImportOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.Added != 1 || len(res.Rejected) != 1 {
		t.Errorf("partial conflicting import: committed %v, added %d, rejected %d; want true, 1, 1", res.Committed, res.Added, len(res.Rejected))
	}
	if o, _ := s.Object(ctx, id(orig), nil); o == nil || !bytes.Contains(o.Raw, []byte("original")) {
		t.Errorf("the stored version was replaced by a partial import")
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "changed"}); len(got) != 0 {
		t.Errorf("search finds the refused conflicting content: %v", keys(got))
	}
	if got := find(t, s, cyberpact.ObjectFilter{Text: "original"}); len(got) != 1 {
		t.Errorf("search for the stored content finds %v, want the one version", keys(got))
	}
}

func testConflictInOneImport(t *testing.T, s cyberpact.ObjectStore) {
	a := sdo("malware", 1, 1, obj{"description": "first"})
	b := sdo("malware", 1, 1, obj{"description": "second"})
	same := sdo("malware", 1, 1, obj{"description": "first"})
	res, err := importRaw(t, s, bundle(t, a, same, b), cyberpact.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed || len(res.Rejected) != 1 || res.Rejected[0].Index != 2 || res.Present != 1 {
		t.Errorf("bundle with two contents for one version: committed %v, present %d, rejected %v; want not committed, 1 present, object #2 rejected",
			res.Committed, res.Present, cyberpact.Rejections(res.Rejected))
	}
	if st := stats(t, s); len(st) != 0 {
		t.Errorf("store not empty after a refused import: %v", st)
	}
}

func testNotFound(t *testing.T, s cyberpact.ObjectStore) {
	ctx := context.Background()
	mustImport(t, s, sdo("tool", 1, 1, nil))
	missing := "tool--" + uuid(2)
	if _, err := s.Object(ctx, missing, nil); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("Object(missing) = %v, want ENOTFOUND", err)
	}
	if _, err := s.ObjectVersions(ctx, missing, nil); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("ObjectVersions(missing) = %v, want ENOTFOUND", err)
	}
}

func testRelationships(t *testing.T, s cyberpact.ObjectStore) {
	mw := sdo("malware", 1, 1, nil)
	ap := sdo("attack-pattern", 2, 1, nil)
	org := sdo("identity", 3, 1, nil)
	uses := sdo("relationship", 10, 1, obj{"relationship_type": "uses", "source_ref": id(mw), "target_ref": id(ap)})
	uses2 := sdo("relationship", 10, 2, obj{"relationship_type": "uses", "source_ref": id(mw), "target_ref": id(ap), "description": "v2"})
	seen := sdo("sighting", 11, 1, obj{"sighting_of_ref": id(mw), "where_sighted_refs": []any{id(org)}})
	unrelated := sdo("relationship", 12, 1, obj{"relationship_type": "uses", "source_ref": "malware--" + uuid(50), "target_ref": id(ap)})
	mustImport(t, s, mw, ap, org, uses, seen, uses2, unrelated)
	for _, tc := range []struct {
		name string
		id   string
		dir  cyberpact.Direction
		f    cyberpact.ObjectFilter
		want []key
	}{
		{"MalwareOutgoing", id(mw), cyberpact.Outgoing, cyberpact.ObjectFilter{}, []key{{id(uses), norm(t, ts(2))}}},
		{"MalwareIncoming", id(mw), cyberpact.Incoming, cyberpact.ObjectFilter{}, []key{{id(seen), norm(t, ts(1))}}},
		{"MalwareBoth", id(mw), cyberpact.Both, cyberpact.ObjectFilter{}, []key{{id(uses), norm(t, ts(2))}, {id(seen), norm(t, ts(1))}}},
		{"MalwareBothOnlySightings", id(mw), cyberpact.Both, cyberpact.ObjectFilter{Types: []string{"sighting"}}, []key{{id(seen), norm(t, ts(1))}}},
		{"AttackPatternIncoming", id(ap), cyberpact.Incoming, cyberpact.ObjectFilter{}, []key{{id(uses), norm(t, ts(2))}, {id(unrelated), norm(t, ts(1))}}},
		{"AttackPatternOutgoing", id(ap), cyberpact.Outgoing, cyberpact.ObjectFilter{}, []key{}},
		{"WhereSighted", id(org), cyberpact.Incoming, cyberpact.ObjectFilter{}, []key{{id(seen), norm(t, ts(1))}}},
		{"Unknown", "tool--" + uuid(99), cyberpact.Both, cyberpact.ObjectFilter{}, []key{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Relationships(context.Background(), tc.id, tc.dir, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := keys(p.Objects)
			sortKeys(got)
			sortKeys(tc.want)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Relationships(%s, %v) (-want +got):\n%s", tc.id, tc.dir, diff)
			}
		})
	}
	t.Run("Paged", func(t *testing.T) {
		var got []key
		f := cyberpact.ObjectFilter{Limit: 1}
		for {
			p, err := s.Relationships(context.Background(), id(mw), cyberpact.Both, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, keys(p.Objects)...)
			if !p.More {
				break
			}
			f.After = p.Next
		}
		if len(got) != 2 || got[0] == got[1] {
			t.Errorf("paging relationships gave %v, want the two links once each", got)
		}
	})
}

func testStats(t *testing.T, s cyberpact.ObjectStore) {
	if st := stats(t, s); len(st) != 0 {
		t.Errorf("empty store has stats %v", st)
	}
	mustImport(t, s,
		sdo("tool", 1, 1, nil), sdo("tool", 1, 2, nil), sdo("tool", 1, 3, obj{"revoked": true}),
		sdo("tool", 2, 1, nil),
		sdo("malware", 3, 1, obj{"revoked": true}), sdo("malware", 3, 2, nil), // un-revoking is not STIX, but counts use the latest
		obj{"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.1"},
	)
	want := []cyberpact.TypeStats{
		{Type: "ipv4-addr", Objects: 1, Versions: 1},
		{Type: "malware", Objects: 1, Versions: 2, Revoked: 0},
		{Type: "tool", Objects: 2, Versions: 4, Revoked: 1},
	}
	got := stats(t, s)
	sort.Slice(got, func(i, j int) bool { return got[i].Type < got[j].Type })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func testRawKept(t *testing.T, s cyberpact.ObjectStore) {
	o := sdo("attack-pattern", 1, 1, obj{
		"description":         "quotes \" backslash \\ unicode \u00e9\u4e2d\U0001F600 <html> & tab\t",
		"x_custom_number":     json.Number("12345678901234567890.5"),
		"x_custom_nested":     map[string]any{"a": []any{1, 2, map[string]any{"b": nil}}},
		"x_custom_bool":       false,
		"external_references": []any{map[string]any{"source_name": "s", "url": "https://example.com/?a=1&b=2"}},
	})
	raw := bundle(t, o)
	mustImport(t, s, o)
	got, err := s.Object(context.Background(), id(o), nil)
	if err != nil {
		t.Fatal(err)
	}
	var in struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decode(t, in.Objects[0]), decode(t, got.Raw)); diff != "" {
		t.Errorf("stored object differs from the input (-in +stored):\n%s", diff)
	}
	if got.Type != "attack-pattern" || got.ID != id(o) || got.Modified != norm(t, ts(1)) || got.Seq == 0 || got.Added.IsZero() {
		t.Errorf("indexed fields wrong: %+v", got)
	}
}

func decode(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("data after the value in %s", raw)
	}
	return v
}

// testOddlyWrittenRed imports, with default options, TLP:RED written with
// an upper-case marking id and as a granular marking on an otherwise
// TLP:CLEAR object: both are stored as TLP:RED for their producer alone,
// and neither another organisation nor the public sees them.
func testOddlyWrittenRed(t *testing.T, s cyberpact.ObjectStore) {
	const (
		clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
		red   = "marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"
	)
	upper := sdo("indicator", 1, 1, obj{"object_marking_refs": []string{clear, red}})
	granular := sdo("indicator", 2, 1, obj{"object_marking_refs": []string{clear},
		"granular_markings": []any{map[string]any{"marking_ref": red, "selectors": []string{"pattern"}}}})
	plain := sdo("indicator", 3, 1, obj{"object_marking_refs": []string{clear}})
	res, err := importRaw(t, s, bundle(t, upper, granular, plain), cyberpact.ImportOptions{Producer: 1})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("Import: %v %+v", err, res)
	}
	for _, o := range find(t, s, cyberpact.ObjectFilter{IDs: []string{id(upper), id(granular)}}) {
		if r := o.Release; r.TLP != cyberpact.TLPRed || r.Audience.Kind != cyberpact.AudienceOrg || r.Producer != 1 {
			t.Errorf("%s stored as %+v, want TLP:RED for its producer alone", o.ID, r)
		}
	}
	for _, v := range []cyberpact.Viewer{{Org: 1}, {Org: 2}, {Public: true}} {
		got := ids(find(t, s, cyberpact.ObjectFilter{Viewer: &v}))
		want := []string{id(plain)}
		if v.Org == 1 {
			want = sorted(id(upper), id(granular), id(plain))
		}
		if diff := cmp.Diff(want, sorted(got...)); diff != "" {
			t.Errorf("what %+v sees (-want +got):\n%s", v, diff)
		}
	}
}
