package match

import (
	"encoding/binary"
	"math/bits"
)

// filter is a blocked Bloom filter over the hashes of a layer's exact
// values: two bits in one 64-bit word per value, about 16 bits per value.
// Most event values name no indicator; the filter, a few megabytes that
// stay in cache, turns them away before the large tables are touched.
type filter struct {
	words []uint64
	mask  uint64
}

func newFilter(n int) filter {
	size := 1
	for size*64 < 16*n {
		size <<= 1
	}
	return filter{words: make([]uint64, size), mask: uint64(size - 1)}
}

func (f *filter) add(h uint64) {
	f.words[(h>>12)&f.mask] |= 1<<(h&63) | 1<<((h>>6)&63)
}

// has reports whether h may have been added; an empty filter has all.
func (f *filter) has(h uint64) bool {
	if f.words == nil {
		return true
	}
	m := uint64(1)<<(h&63) | uint64(1)<<((h>>6)&63)
	return f.words[(h>>12)&f.mask]&m == m
}

// ipHash mixes the 16 bytes of an address into 64 bits.
func ipHash(k *[16]byte) uint64 {
	a := binary.LittleEndian.Uint64(k[:8])
	b := binary.LittleEndian.Uint64(k[8:])
	h := (a ^ bits.RotateLeft64(b, 29)) * 0x9e3779b97f4a7c15
	return h ^ h>>31
}

// finish builds the layer's filter once all its values are in.
func (l *layer) finish() {
	l.filt = newFilter(len(l.ents) + len(l.ip))
	for i := range l.ents {
		e := &l.ents[i]
		l.filt.add(l.hash(e.kind, l.value(e)))
	}
	for k := range l.ip {
		l.filt.add(ipHash(&k))
	}
}
