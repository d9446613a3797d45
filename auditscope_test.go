package cyberpact_test

import (
	"context"
	"encoding/hex"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// TestAuditScopeHoldsExactlyItsSeqs builds scopes from random sets of Seqs,
// dense and sparse, and checks that each holds exactly its own, that it is
// consistent, and that it survives the stores' column encoding.
func TestAuditScopeHoldsExactlyItsSeqs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		density := []float64{1, 0.97, 0.5, 0.05}[i%4]
		base := int64(1 + r.IntN(1_000_000))
		var seqs []int64
		for s := base; s < base+int64(1+r.IntN(3000)); s++ {
			if r.Float64() < density {
				seqs = append(seqs, s)
			}
		}
		if len(seqs) == 0 {
			continue
		}
		sc := cyberpact.NewAuditScope(seqs)
		if sc.Count != len(seqs) || sc.First != seqs[0] || sc.Last != seqs[len(seqs)-1] {
			t.Fatalf("scope %+v of %d Seqs from %d to %d", sc, len(seqs), seqs[0], seqs[len(seqs)-1])
		}
		if density == 1 && sc.Runs != nil {
			t.Fatalf("dense Seqs gave runs %v", sc.Runs)
		}
		e := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "x", Scope: sc}
		if err := e.Check(); err != nil {
			t.Fatalf("scope %+v: %v", sc, err)
		}
		first, last, text, runs, err := cyberpact.AuditScopeColumns(sc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := cyberpact.AuditScopeOf(first, last, text, runs)
		if err != nil || back.Count != sc.Count || !slices.Equal(back.Runs, sc.Runs) {
			t.Fatalf("scope %+v read back as %+v, %v", sc, back, err)
		}
		for s := sc.First - 2; s <= sc.Last+2; s++ {
			if _, in := slices.BinarySearch(seqs, s); back.Contains(s) != in {
				t.Fatalf("scope of %v: Contains(%d) = %v", seqs, s, !in)
			}
		}
	}
	if cyberpact.NewAuditScope(nil) != nil {
		t.Error("a scope of no Seqs")
	}
}

// TestReleaseEntryLeavesOwnPagesOut checks that a page of the reader's own
// versions is no release, and that a page holding one version of another
// organisation is recorded whole, with the viewer it was read with.
func TestReleaseEntryLeavesOwnPagesOut(t *testing.T) {
	own := &cyberpact.Object{Seq: 4, Release: cyberpact.Release{Producer: 2}}
	other := &cyberpact.Object{Seq: 9, Release: cyberpact.Release{Producer: 3}}
	who := cyberpact.Actor{Name: "bob", Org: 2, Via: "taxii"}
	v := &cyberpact.Viewer{Org: 2, Groups: []int64{5, 6}}
	if e := cyberpact.ReleaseEntry(who, v, "/p", "q", []*cyberpact.Object{own}); e != nil {
		t.Errorf("own page recorded: %+v", e)
	}
	e := cyberpact.ReleaseEntry(who, v, "/p", "q", []*cyberpact.Object{own, other})
	if e == nil || e.Recipient != 2 || e.Scope.Count != 2 || !e.Scope.Contains(4) || !e.Scope.Contains(9) || e.Scope.Contains(5) ||
		!slices.Equal(e.Scope.Groups, []int64{5, 6}) || e.Scope.Path != "/p" || e.Scope.Query != "q" {
		t.Errorf("release entry %+v (scope %+v)", e, e.Scope)
	}
	anon := cyberpact.ReleaseEntry(cyberpact.Actor{Name: "anonymous", Via: "taxii"}, &cyberpact.Viewer{Public: true}, "/p", "", []*cyberpact.Object{own})
	if anon == nil || anon.Recipient != 0 || !anon.Scope.Public || anon.Detail != "public collection" {
		t.Errorf("anonymous release %+v", anon)
	}
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'a'
	}
	if e := cyberpact.ReleaseEntry(who, v, "/p", string(long), []*cyberpact.Object{other}); len(e.Scope.Query) > 2048 || e.Check() != nil {
		t.Errorf("a 5,000-byte query kept as %d bytes (%v)", len(e.Scope.Query), e.Check())
	}
}

// TestChainAndVerify chains entries as a store's appender does and checks
// the chain over the rows it would store, whole and with each kind of
// change.
func TestChainAndVerify(t *testing.T) {
	entries := func() []*cyberpact.AuditEntry {
		return []*cyberpact.AuditEntry{
			{Action: cyberpact.AuditWrite, Actor: "a", ActorOrg: 1, Via: "cli", Scope: &cyberpact.AuditScope{First: 1, Last: 9, Count: 9}},
			{Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: cyberpact.NewAuditScope([]int64{2, 3, 7})},
			{Action: cyberpact.AuditDelete, Actor: "a", ActorOrg: 1, Via: "taxii", Objects: []string{"tool--1@v"}},
		}
	}
	verify := func(rows []cyberpact.AuditRow) int64 {
		broken, _, err := cyberpact.VerifyAuditChain(func(yield func(*cyberpact.AuditRow, error) bool) {
			for i := range rows {
				if !yield(&rows[i], nil) {
					return
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return broken
	}
	es := entries()
	rows, set, err := cyberpact.ChainAudit(0, "", es, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Seq != 0 {
		t.Error("entries changed before the commit")
	}
	set()
	if es[2].Seq != 3 || es[1].Prev != es[0].Hash || es[2].Hash != hex.EncodeToString(rows[2].Hash) || rows[1].Prev != "" {
		t.Errorf("entries after the commit: %+v", es)
	}
	if n := verify(rows); n != 0 {
		t.Errorf("whole chain broken at %d", n)
	}
	for _, tc := range []struct {
		name   string
		change func(rows []cyberpact.AuditRow) []cyberpact.AuditRow
		want   int64
	}{
		{"RunsChanged", func(r []cyberpact.AuditRow) []cyberpact.AuditRow { r[1].Runs = []byte{1, 1, 2}; return r }, 2},
		{"LastChanged", func(r []cyberpact.AuditRow) []cyberpact.AuditRow { r[0].Last = 10; return r }, 1},
		{"ObjectsChanged", func(r []cyberpact.AuditRow) []cyberpact.AuditRow { r[2].Objects = `["tool--2@v"]`; return r }, 3},
		{"EntryRemoved", func(r []cyberpact.AuditRow) []cyberpact.AuditRow { return append(r[:1], r[2]) }, 2},
		{"Appended", func(r []cyberpact.AuditRow) []cyberpact.AuditRow {
			return append(r, cyberpact.AuditRow{Seq: 4, Action: "write", Actor: "x", Hash: r[2].Hash})
		}, 4},
		{"ContentChangedAndRehashed", func(r []cyberpact.AuditRow) []cyberpact.AuditRow {
			e, _ := r[1].Entry()
			e.Prev, e.Actor = hex.EncodeToString(r[0].Hash), "mallory"
			r[1].Actor, r[1].Hash = "mallory", must(hex.DecodeString(cyberpact.AuditHash(e)))
			return r
		}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, _, err := cyberpact.ChainAudit(0, "", entries(), time.Unix(1, 0))
			if err != nil {
				t.Fatal(err)
			}
			if n := verify(tc.change(rows)); n != tc.want {
				t.Errorf("broken at %d, want %d", n, tc.want)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestReleaseContinuations appends the pages of one reading through an
// appender and checks that the second and later pages are kept as
// continuations naming the first page's entry, without its reading, that
// reads fill the reading in again, and that the chain covers both: a
// continuation's link and its head's reading cannot change unnoticed.
func TestReleaseContinuations(t *testing.T) {
	var rows []cyberpact.AuditRow
	a := cyberpact.NewAuditAppender(func(es []*cyberpact.AuditEntry) error {
		var seq int64
		prev := ""
		if len(rows) > 0 {
			seq, prev = rows[len(rows)-1].Seq, cyberpact.AuditHashText(rows[len(rows)-1].Hash)
		}
		r, set, err := cyberpact.ChainAudit(seq, prev, es, time.Now())
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		set()
		return nil
	})
	page := func(query string, seqs ...int64) *cyberpact.AuditEntry {
		sc := cyberpact.NewAuditScope(seqs)
		sc.Path, sc.Query, sc.Groups = "/taxii2/api1/collections/c/objects/", query, []int64{4}
		return &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "bob", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: sc}
	}
	es := []*cyberpact.AuditEntry{page("limit=2", 1, 2), page("limit=2", 3, 5), page("limit=3", 6), page("limit=2", 7, 8)}
	for _, e := range es {
		if err := a.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	for i, want := range []int64{0, 1, 0, 1} {
		if got := es[i].Scope.Cont; got != want {
			t.Errorf("entry %d continues %d, want %d", i+1, got, want)
		}
	}
	if rows[1].Actor != "" || rows[1].Via != "" || strings.Contains(rows[1].Scope, "taxii2") || rows[1].Scope != `{"cont":1}` {
		t.Errorf("continuation kept as %+v, want no actor, interface or reading", rows[1])
	}
	if !strings.Contains(rows[2].Scope, "limit=3") || rows[2].Actor != "bob" {
		t.Errorf("another reading kept as %+v, want a full entry", rows[2])
	}
	head, _ := rows[0].Entry()
	got, err := rows[3].Entry()
	if err != nil {
		t.Fatal(err)
	}
	got.Continue(head)
	got.Prev = es[3].Prev
	if diff := cmp.Diff(es[3], got); diff != "" {
		t.Errorf("continuation read back and filled in (-appended +read):\n%s", diff)
	}
	if cyberpact.AuditHash(got) != es[3].Hash {
		t.Error("the filled-in continuation hashes differently")
	}
	verify := func(rows []cyberpact.AuditRow) int64 {
		broken, _, err := cyberpact.VerifyAuditChain(rowSeq(rows))
		if err != nil {
			t.Fatal(err)
		}
		return broken
	}
	if n := verify(rows); n != 0 {
		t.Fatalf("whole chain broken at %d", n)
	}
	for _, tc := range []struct {
		name   string
		change func(r []cyberpact.AuditRow)
		want   int64
	}{
		{"ContinuesAnother", func(r []cyberpact.AuditRow) { r[3].Scope = `{"cont":3}` }, 4},
		{"HeadPathChanged", func(r []cyberpact.AuditRow) { r[0].Scope = strings.Replace(r[0].Scope, "/c/", "/d/", 1) }, 1},
		{"HeadGroupsChanged", func(r []cyberpact.AuditRow) { r[0].Scope = strings.Replace(r[0].Scope, "[4]", "[5]", 1) }, 1},
		{"ContinuationMadeFull", func(r []cyberpact.AuditRow) { r[1].Scope, r[1].Actor, r[1].Via = r[0].Scope, "bob", "taxii" }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := slices.Clone(rows)
			tc.change(c)
			if n := verify(c); n != tc.want {
				t.Errorf("broken at %d, want %d", n, tc.want)
			}
		})
	}
}

// TestAuditRowsOfEitherHashForm verifies a log whose first entries were
// written before hashes were kept as bytes (hex hash and Prev in every
// row) and whose later ones keep 32 bytes and no Prev: older logs stay
// verifiable as they are.
func TestAuditRowsOfEitherHashForm(t *testing.T) {
	old := []*cyberpact.AuditEntry{
		{Action: cyberpact.AuditWrite, Actor: "a", ActorOrg: 1, Via: "cli", Objects: []string{"tool--1@v"}},
		{Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Via: "taxii", Objects: []string{"tool--1@v"}},
	}
	rows, set, err := cyberpact.ChainAudit(0, "", old, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	set()
	for i := range rows { // as rows were kept before
		rows[i].Prev, rows[i].Hash = old[i].Prev, []byte(old[i].Hash)
	}
	more, _, err := cyberpact.ChainAudit(2, cyberpact.AuditHashText(rows[1].Hash), []*cyberpact.AuditEntry{
		{Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Via: "taxii", Scope: cyberpact.NewAuditScope([]int64{1})},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rows = append(rows, more...)
	if broken, last, err := cyberpact.VerifyAuditChain(rowSeq(rows)); err != nil || broken != 0 || last.Seq != 3 {
		t.Fatalf("mixed log: broken at %d, last %+v, %v", broken, last, err)
	}
	rows[0].Prev = strings.Repeat("1", 64)
	if broken, _, _ := cyberpact.VerifyAuditChain(rowSeq(rows)); broken != 1 {
		t.Errorf("an old row's Prev changed: broken at %d, want 1", broken)
	}
}

// rowSeq yields rows as a store's reads do.
func rowSeq(rows []cyberpact.AuditRow) iter.Seq2[*cyberpact.AuditRow, error] {
	return func(yield func(*cyberpact.AuditRow, error) bool) {
		for i := range rows {
			if !yield(&rows[i], nil) {
				return
			}
		}
	}
}
