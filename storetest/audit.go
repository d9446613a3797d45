package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// AuditStore is what RunAuditScopes tests: a store's objects and its audit
// log.
type AuditStore interface {
	cyberpact.ObjectStore
	cyberpact.AuditLog
}

// RunAuditScopes runs the suite of audit entries that name versions by
// their Seqs (cyberpact.AuditScope): writes recorded by AuditedImport,
// compact releases, the object filter, and the chain over them. open
// returns a new, empty store for each subtest; the test closes it.
func RunAuditScopes(t *testing.T, open func(t *testing.T) AuditStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s AuditStore)
	}{
		{"ScopeRoundTripsAndVerifies", testScopeRoundTrip},
		{"AuditedImportNamesEveryVersionAdded", testAuditedImport},
		{"AuditedImportRefusesWithoutLog", testAuditedImportNoLog},
		{"ObjectFilterFollowsScopes", testScopeObjectFilter},
		{"InconsistentScopesRefused", testScopeRefused},
		{"ContinuationsReadFilledIn", testReleaseContinuation},
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

// auditedImport imports objs as org through AuditedImport.
func auditedImport(t *testing.T, s AuditStore, org int64, objs ...obj) *cyberpact.ImportResult {
	t.Helper()
	dec := stix.NewDecoder(bytes.NewReader(bundle(t, objs...)))
	defer dec.Close()
	res, err := cyberpact.AuditedImport(context.Background(), s, s, cyberpact.Actor{Name: "tester", Org: org, Via: "cli"}, dec.Next,
		cyberpact.ImportOptions{Producer: org, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}, "storetest")
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("AuditedImport: %+v, %v", res, err)
	}
	return res
}

func testScopeRoundTrip(t *testing.T, s AuditStore) {
	ctx := context.Background()
	es := []*cyberpact.AuditEntry{
		{Action: cyberpact.AuditWrite, Actor: "a", ActorOrg: 1, Via: "cli", Scope: &cyberpact.AuditScope{First: 1, Last: 10, Count: 7}},
		{Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: &cyberpact.AuditScope{
			First: 3, Last: 400, Count: 390, Runs: []int64{2, 1, 300, 7, 88}, Groups: []int64{4, 9}, Exercise: 0,
			Path: "/taxii2/api1/collections/c/objects/", Query: "limit=1000&match[type]=indicator",
			Nation: "GB", Sector: "finance", Clearances: "UK-CLASS:2"}},
		{Action: cyberpact.AuditRelease, Actor: "anonymous", Via: "taxii", Detail: "public collection", Scope: &cyberpact.AuditScope{
			First: 5, Last: 5, Count: 1, Public: true, Path: "/taxii2/api1/collections/p/objects/"}},
		{Action: cyberpact.AuditRelease, Actor: "c", ActorOrg: 3, Recipient: 3, Via: "stream", Scope: &cyberpact.AuditScope{
			First: 1 << 40, Last: 1<<40 + 2, Count: 2, Runs: []int64{1, 1, 1}, Exercise: 12, Path: "/api/v1/stream", Query: "type=indicator"}},
		{Action: cyberpact.AuditDelete, Actor: "a", ActorOrg: 1, Via: "taxii", Objects: []string{"tool--1@2024-01-01T00:00:00.000Z"}},
	}
	if err := s.Audit(ctx, es...); err != nil {
		t.Fatal(err)
	}
	stored, err := s.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, stored, cmpTimes); diff != "" {
		t.Errorf("stored entries -appended +read:\n%s", diff)
	}
	for _, e := range stored {
		if cyberpact.AuditHash(e) != e.Hash {
			t.Errorf("entry %d read back hashes to something else than its Hash", e.Seq)
		}
	}
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 0", n, err)
	}
}

func testAuditedImport(t *testing.T, s AuditStore) {
	ctx := context.Background()
	first := auditedImport(t, s, 7, sdo("malware", 1, 1, nil), sdo("malware", 2, 1, nil), sdo("tool", 3, 1, nil))
	// A second import with one new version among present ones: its entry
	// names only the new version.
	second := auditedImport(t, s, 7, sdo("malware", 1, 1, nil), sdo("malware", 1, 2, nil), sdo("tool", 3, 1, nil))
	// Another organisation's object.
	third := auditedImport(t, s, 8, sdo("malware", 5, 1, nil))
	// Nothing new: nothing recorded.
	auditedImport(t, s, 7, sdo("malware", 2, 1, nil))
	writes, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditWrite})
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) != 3 {
		t.Fatalf("%d write entries, want 3 (the last import added nothing): %+v", len(writes), writes)
	}
	orgs := []int64{7, 7, 8}
	for i, res := range []*cyberpact.ImportResult{first, second, third} {
		w := writes[i]
		if w.Scope == nil || w.Scope.Count != res.Added || w.Actor != "tester" || w.Via != "cli" || w.ActorOrg != orgs[i] {
			t.Errorf("write %d: %+v (scope %+v), want %d versions by tester of org %d via cli", i, w, w.Scope, res.Added, orgs[i])
		}
	}
	if second.Added != 1 {
		t.Errorf("the second import added %d versions, want 1", second.Added)
	}
	err = s.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		var by []int64
		for _, w := range writes {
			if w.Scope.Contains(o.Seq) {
				by = append(by, w.ActorOrg)
			}
		}
		if len(by) != 1 || by[0] != o.Release.Producer {
			t.Errorf("%s@%s is named by writes of orgs %v, want only its producer's (%d)", o.ID, o.Modified, by, o.Release.Producer)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testAuditedImportNoLog(t *testing.T, s AuditStore) {
	dec := stix.NewDecoder(bytes.NewReader(bundle(t, sdo("malware", 1, 1, nil))))
	defer dec.Close()
	_, err := cyberpact.AuditedImport(context.Background(), s, nil, cyberpact.Actor{Name: "x", Via: "cli"}, dec.Next, cyberpact.ImportOptions{}, "")
	if cyberpact.ErrorCode(err) != cyberpact.EINTERNAL {
		t.Errorf("AuditedImport without a log: %v, want EINTERNAL", err)
	}
	if stats, _ := s.Stats(context.Background(), nil); len(stats) != 0 {
		t.Errorf("AuditedImport without a log stored %+v", stats)
	}
}

func testScopeObjectFilter(t *testing.T, s AuditStore) {
	ctx := context.Background()
	auditedImport(t, s, 1, sdo("malware", 2, 1, nil), sdo("malware", 1, 1, nil), sdo("malware", 3, 1, nil))
	auditedImport(t, s, 1, sdo("malware", 1, 2, nil), sdo("malware", 4, 1, nil))
	seqOf := map[string]int64{}
	err := s.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		seqOf[o.ID+"@"+o.Modified[:10]] = o.Seq
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := func(n int) string { return "malware--" + uuid(n) }
	page := func(keys ...string) []*cyberpact.Object {
		var objs []*cyberpact.Object
		for _, k := range keys {
			objs = append(objs, &cyberpact.Object{Seq: seqOf[k], Release: cyberpact.Release{Producer: 1}})
		}
		return objs
	}
	v1, v2 := "@2024-01-02", "@2024-01-03"
	reader := cyberpact.Actor{Name: "bob", Org: 2, Via: "taxii"}
	// The latest versions: malware 1's second version, skipping its first.
	latest := cyberpact.ReleaseEntry(reader, &cyberpact.Viewer{Org: 2}, "/objects/", "", page(m(2)+v1, m(3)+v1, m(1)+v2, m(4)+v1))
	// Malware 3 alone.
	three := cyberpact.ReleaseEntry(reader, &cyberpact.Viewer{Org: 2}, "/objects/"+m(3)+"/", "", page(m(3)+v1))
	// A release listing its versions, as entries did before scopes.
	old := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "rest", Objects: []string{m(2) + "@2024-01-02T00:00:00.000Z"}}
	if latest.Scope.Runs == nil {
		t.Fatalf("the latest versions' page skips malware 1's first version, yet its scope has no runs: %+v", latest.Scope)
	}
	if err := s.Audit(ctx, latest, three, old); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		object string
		want   []int64
	}{
		{m(1), []int64{1, 2, 3}},     // both writes, and the latest versions' page (its second version)
		{m(2), []int64{1, 3, 5}},     // first write, the latest page, the old-style entry
		{m(3), []int64{1, 3, 4}},     // first write, the latest page, its own page
		{m(4), []int64{2, 3}},        // second write, the latest page
		{"malware--" + uuid(9), nil}, // never stored
	} {
		got, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Object: tc.object})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if diff := cmp.Diff(tc.want, seqs); diff != "" {
			t.Errorf("entries of %s -want +got:\n%s", tc.object, diff)
		}
	}
	// Malware 1's first version was written, but never released.
	rels, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Object: m(1), Action: cyberpact.AuditRelease})
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 || rels[0].Scope.Contains(seqOf[m(1)+v1]) || !rels[0].Scope.Contains(seqOf[m(1)+v2]) {
		t.Errorf("releases of %s: %+v, want the latest page alone, holding its second version only", m(1), rels)
	}
	// A limit counts entries concerning the object, not entries read.
	got, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Object: m(3), Limit: 2})
	if err != nil || len(got) != 2 || got[1].Seq != 3 {
		t.Errorf("entries of %s, limit 2: %+v, %v", m(3), got, err)
	}
}

func testScopeRefused(t *testing.T, s AuditStore) {
	ctx := context.Background()
	for _, sc := range []*cyberpact.AuditScope{
		{First: 0, Last: 3, Count: 1},
		{First: 5, Last: 4, Count: 1},
		{First: 1, Last: 3, Count: 0},
		{First: 1, Last: 3, Count: 4},
		{First: 1, Last: 5, Count: 3, Runs: []int64{2, 1}},
		{First: 1, Last: 5, Count: 4, Runs: []int64{2, 2, 1}},
		{First: 1, Last: 5, Count: 4, Runs: []int64{2, 0, 3}},
		{First: 1, Last: 1, Count: 1, Path: "a\x00b"},
	} {
		err := s.Audit(ctx, &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "a", Scope: sc})
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("scope %+v: %v, want EINVALID", sc, err)
		}
	}
	if es, _ := s.AuditEntries(ctx, cyberpact.AuditFilter{}); len(es) != 0 {
		t.Errorf("refused entries were stored: %+v", es)
	}
}

// testReleaseContinuation appends the pages of one reading, another
// reading between them, and checks that the later pages are kept as
// continuations of the first (AuditScope.Cont) and read back filled in
// with its reading, found by the recipient's organisation, and verified.
func testReleaseContinuation(t *testing.T, s AuditStore) {
	ctx := context.Background()
	page := func(query string, seqs ...int64) *cyberpact.AuditEntry {
		sc := cyberpact.NewAuditScope(seqs)
		sc.Path, sc.Query, sc.Groups = "/taxii2/api1/collections/c/objects/", query, []int64{4, 9}
		return &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: sc}
	}
	es := []*cyberpact.AuditEntry{page("limit=2", 1, 2), page("limit=3", 3), page("limit=2", 4, 6), page("limit=2", 7, 8)}
	for _, e := range es {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if es[2].Scope.Cont != es[0].Seq || es[3].Scope.Cont != es[0].Seq || es[1].Scope.Cont != 0 {
		t.Errorf("pages continue %d, %d, %d; want 0, %d, %d", es[1].Scope.Cont, es[2].Scope.Cont, es[3].Scope.Cont, es[0].Seq, es[0].Seq)
	}
	for _, f := range []cyberpact.AuditFilter{{}, {Org: 2}, {After: es[1].Seq}} {
		stored, err := s.AuditEntries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := es
		if f.After != 0 {
			want = es[2:]
		}
		if diff := cmp.Diff(want, stored, cmpTimes); diff != "" {
			t.Errorf("entries %+v -appended +read:\n%s", f, diff)
		}
	}
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 0", n, err)
	}
}
