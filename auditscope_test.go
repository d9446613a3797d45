package cyberpact_test

import (
	"math/rand/v2"
	"slices"
	"testing"

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
