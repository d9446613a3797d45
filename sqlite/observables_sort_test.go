package sqlite

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestBulkObservablesSorted: the merge order from the 16-byte prefixes is
// the (key, seq) order of the keys themselves, for keys shorter and longer
// than the prefix, sharing it, ending in zero bytes, and repeated.
func TestBulkObservablesSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "\x00", ".", "1", "9", "é"}
	bases := []string{"", "198.51.100.", "https://example.", "0123456789abcdef", "0123456789abcde"}
	var b bulkObservables
	defer b.free()
	type row struct {
		key string
		seq int64
	}
	var want []row
	for i := range 5000 {
		var sb strings.Builder
		sb.WriteString(bases[rng.IntN(len(bases))])
		for range rng.IntN(12) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		r := row{sb.String(), int64(rng.IntN(50))}
		if i%7 == 0 && len(want) > 0 {
			r.key = want[rng.IntN(len(want))].key // the same value in another version
		}
		want = append(want, r)
		if err := b.add(observableRow{key: r.key, kind: "other", seq: r.seq}); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(want, func(x, y row) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	for i, sk := range b.sorted() {
		seq, _, _, key := b.row(sk.ref)
		if !bytes.Equal(key, []byte(want[i].key)) || seq != want[i].seq {
			t.Fatalf("row %d is (%q, %d), want (%q, %d)", i, key, seq, want[i].key, want[i].seq)
		}
	}
}
