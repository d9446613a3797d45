package match

import (
	"net/netip"
)

// appendSlot appends the live indicators of table value v of layer li.
func (ix *Index) appendSlot(li int32, v int32, dst []*Indicator) []*Indicator {
	l := ix.layers[li]
	if v >= 0 {
		if ind := l.inds.at(v); ix.live(li, ind) {
			dst = append(dst, ind)
		}
		return dst
	}
	for _, s := range l.multi[-v-1] {
		if ind := l.inds.at(s); ix.live(li, ind) {
			dst = append(dst, ind)
		}
	}
	return dst
}

// LookupIP appends to dst the indicators that name address a, exactly or
// by a CIDR range holding it. The address must be unmapped (see ParseIP).
func (ix *Index) LookupIP(a netip.Addr, dst []*Indicator) []*Indicator {
	k := a.As16()
	for li, l := range ix.layers {
		if l.filt.has(ipHash(&k)) {
			if v, ok := l.ip[k]; ok {
				dst = ix.appendSlot(int32(li), v, dst)
			}
		}
		if l.cidr != nil && l.cidr.Contains(a) {
			for _, slots := range l.cidr.Supernets(netip.PrefixFrom(a, a.BitLen())) {
				for _, s := range slots {
					dst = ix.appendSlot(int32(li), s, dst)
				}
			}
		}
	}
	return dst
}

// appendEntries appends the live indicators of the entries of table
// value x that hold v.
func (ix *Index) appendEntries(li int32, x int32, kind Kind, v []byte, dst []*Indicator) []*Indicator {
	l := ix.layers[li]
	one := func(ei int32) {
		e := &l.ents[ei]
		if e.kind == kind && string(l.value(e)) == string(v) {
			dst = ix.appendSlot(li, e.slot, dst)
		}
	}
	if x >= 0 {
		one(x)
		return dst
	}
	for _, ei := range l.multi[-x-1] {
		one(ei)
	}
	return dst
}

// Lookup appends to dst the indicators that name the normalised value v of
// kind (any kind but KindIP; KindOther values are "type:path\x00value").
// With subdomains, a domain also finds the indicators of its parent
// domains: an indicator for evil.example matches www.evil.example.
func (ix *Index) Lookup(kind Kind, v []byte, subdomains bool, dst []*Indicator) []*Indicator {
	for li, l := range ix.layers {
		if len(l.str) == 0 {
			continue
		}
		if h := l.hash(kind, v); l.filt.has(h) {
			if x, ok := l.str[h]; ok {
				dst = ix.appendEntries(int32(li), x, kind, v, dst)
			}
		}
		if kind != KindDomain || !subdomains {
			continue
		}
		for i := 0; i < len(v); i++ {
			if v[i] == '.' && i+1 < len(v) {
				if h := l.hash(kind, v[i+1:]); l.filt.has(h) {
					if x, ok := l.str[h]; ok {
						dst = ix.appendEntries(int32(li), x, kind, v[i+1:], dst)
					}
				}
			}
		}
	}
	return dst
}

// ByType appends to dst the complex indicators that any object of the STIX
// type typ may satisfy, because a bracket of their pattern has no exact
// value to be found by.
func (ix *Index) ByType(typ string, dst []*Indicator) []*Indicator {
	for li, l := range ix.layers {
		for _, s := range l.types[typ] {
			dst = ix.appendSlot(int32(li), s, dst)
		}
	}
	return dst
}

// hasTypes reports whether any complex indicator is found by object type.
func (ix *Index) hasTypes() bool {
	for _, l := range ix.layers {
		if len(l.types) > 0 {
			return true
		}
	}
	return false
}
