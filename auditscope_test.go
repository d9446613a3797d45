package cyberpact_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
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
	if es[2].Seq != 3 || es[1].Prev != es[0].Hash || es[2].Hash != rows[2].Hash {
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
			return append(r, cyberpact.AuditRow{Seq: 4, Action: "write", Actor: "x", Prev: r[2].Hash})
		}, 4},
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
