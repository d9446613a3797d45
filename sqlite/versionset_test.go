package sqlite

import (
	"fmt"
	"testing"
)

// TestVersionSetGrows: the version table outside the heap keeps every
// entry through its growth, several seqs under one hash among them, and
// finds nothing under a hash never added.
func TestVersionSetGrows(t *testing.T) {
	vs, err := newVersionSet(10)
	if err != nil {
		t.Fatal(err)
	}
	defer vs.free()
	const n = 200_000 // over three doublings from 65,536 slots
	for i := 1; i <= n; i++ {
		if err := vs.add(vs.hash(fmt.Sprint("id-", i%(n/2))), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if vs.len() < n*4/3 {
		t.Fatalf("%d slots for %d entries", vs.len(), n)
	}
	for j := 0; j < n/2; j++ {
		var got []int64
		vs.lookup(vs.hash(fmt.Sprint("id-", j)), func(seq int64) bool {
			got = append(got, seq)
			return false
		})
		want := map[int64]bool{int64(j): j > 0, int64(j + n/2): true}
		if j == 0 {
			want = map[int64]bool{n / 2: true, n: true}
		}
		if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
			t.Fatalf("id-%d: seqs %v, want the two of %v", j, got, want)
		}
	}
	vs.lookup(vs.hash("never"), func(seq int64) bool {
		t.Fatalf("found seq %d under a hash never added", seq)
		return true
	})
}
