package cyberpact

import (
	"fmt"
	"testing"
)

// TestReleaseTable: the table answers as a map would, through its growth,
// for the hash 0 and for a hash set twice (the later value wins).
func TestReleaseTable(t *testing.T) {
	var tab releaseTable
	want := map[uint64]uint16{}
	if _, ok := tab.get(1); ok {
		t.Fatal("the empty table has hash 1")
	}
	for i := range 100_000 {
		h := idHash(fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i))
		v := uint16(i%4)<<8 | uint16(i%6)
		tab.put(h, v)
		want[h] = v
		if i%3 == 0 { // a later version of an earlier id, released otherwise
			e := idHash(fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i/2))
			tab.put(e, v^1)
			want[e] = v ^ 1
		}
	}
	tab.put(0, 0x0305)
	want[0] = 0x0305
	for h, v := range want {
		if got, ok := tab.get(h); !ok || got != v {
			t.Fatalf("hash %x: %x, %v; want %x", h, got, ok, v)
		}
	}
	for i := range 1000 {
		h := idHash(fmt.Sprintf("sighting--%08x-0000-4000-8000-000000000000", i))
		if _, ok := want[h]; ok {
			continue
		}
		if v, ok := tab.get(h); ok {
			t.Fatalf("hash %x never put, found with %x", h, v)
		}
	}
	if tab.n != len(want)-1 {
		t.Errorf("%d slots used, want %d", tab.n, len(want)-1)
	}
}
