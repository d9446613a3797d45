package cyberpact

import (
	"context"
	"fmt"
	"math/bits"
)

// SightingReleases returns the ImportOptions.ReleaseFor of an import
// reported by the organisation of viewer: a sighting carries the sharing
// rule of what it sights. It is used by every path a member reports
// through (REST and TAXII POSTs, import --org, match --report), not by
// federation, which keeps its peers' releases.
//
// A sighting whose sighting_of_ref names an object the reporter may see is
// released to the audience of the latest version of that object the
// reporter may see, at that version's TLP level or its own when higher;
// its producer stays the reporter. The audience the request asked for is
// replaced: the sighting goes to those who have the indicator, whatever
// collection it was posted to. One exception keeps TLP:RED from spreading:
// a TLP:RED sighting of an object shared with all members stays with the
// reporter alone.
//
// A sighting of an object the reporter may not see is refused, and so is
// one of an object the hub does not hold, with the same reason: telling
// the two apart would say that a hidden object exists. A sighting of an
// object earlier in the same input takes the release that object is
// given. Objects that are not sightings, and every object of an exercise
// import (the exercise keeps its own audiences), keep the release the
// import gives them.
//
// The returned function keeps what it learnt for the import it is used
// in: give each import its own. It remembers the audience kind and TLP of
// every object of the input (producer and group are the import's own) by a
// 64-bit hash of its id (see releaseTable), so a million-object import
// costs it 10 to 20 megabytes, not the ids themselves.
func SightingReleases(ctx context.Context, store ObjectStore, viewer Viewer) func(*Object, Release) (Release, error) {
	var earlier releaseTable       // objects of this input, by idHash: audience kind << 8 | TLP
	known := map[string]*Release{} // sighted objects looked up: nil when not visible
	return func(o *Object, r Release) (Release, error) {
		if r.Audience.Kind.IsExercise() {
			return r, nil
		}
		defer func() { earlier.put(idHash(o.ID), uint16(r.Audience.Kind)<<8|uint16(r.TLP)) }()
		if o.Type != "sighting" {
			return r, nil
		}
		ref := ""
		for _, x := range o.Refs {
			if x.Prop == "sighting_of_ref" {
				ref = x.ID
				break
			}
		}
		if ref == "" {
			return r, nil // validation refuses it
		}
		var of Release
		if packed, ok := earlier.get(idHash(ref)); ok {
			of = Release{Producer: r.Producer, Audience: Audience{Kind: AudienceKind(packed >> 8)}, TLP: TLP(packed & 0xff)}
			if of.Audience.Kind == AudienceGroup {
				of.Audience.Group = r.Audience.Group
			}
		} else {
			rel, seen := known[ref]
			if !seen {
				s, err := store.Object(ctx, ref, &viewer)
				switch {
				case err == nil:
					rel = &s.Release
				case ErrorCode(err) != ENOTFOUND:
					return r, err
				}
				known[ref] = rel
			}
			if rel == nil {
				return r, &Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified, Path: "sighting_of_ref",
					Reason: fmt.Sprintf("%s is not an object your organisation can see in the hub (it is unknown or not shared with you); a sighting is shared like what it sights, so that must be here first", ref)}
			}
			of = *rel
		}
		r = SightingRelease(r, of)
		return r, nil
	}
}

// SightingRelease is the release of a sighting that the import would
// release as r, of an object released as of: of's audience, the higher of
// the two TLP levels, both releasabilities (Restrict), r's producer; a TLP:RED result that would go to all
// members stays with the producer instead.
func SightingRelease(r, of Release) Release {
	out := Release{Producer: r.Producer, Audience: of.Audience, TLP: max(r.TLP, of.TLP),
		Marks: Restrict(r.Marks.Parts(), of.Marks.Parts()).Marks()}
	if out.TLP == TLPRed && out.Audience.Kind == AudienceAll {
		out.Audience = Audience{Kind: AudienceOrg}
	}
	return out
}

// Release returns the release of an imported version: ReleaseOf its TLP,
// passed through ReleaseFor when set. An error that is a *Rejection
// refuses the version; any other ends the import.
func (opts ImportOptions) Release(o *Object) (Release, error) {
	r := opts.ReleaseOf(o.TLP)
	if opts.ReleaseFor == nil {
		return r, nil
	}
	return opts.ReleaseFor(o, r)
}

// idHash is the 64-bit FNV-1a hash of an id.
func idHash(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// releaseTable maps 64-bit hashes of ids to packed releases, as a map
// would, in two flat arrays with open addressing and linear probing: 10
// bytes a slot, filled to at most 7/8 before it doubles, where a
// map[uint64]uint16 held about 37 bytes an entry (36 MB for a
// million-object import, three times that at the collector's target while
// an import runs). The zero value is empty and ready to use.
type releaseTable struct {
	keys    []uint64 // 0 is an empty slot; the hash 0 is kept in zero
	vals    []uint16
	n       int  // slots used
	shift   uint // 64 less log2 of the slots: home reads the hash's high bits
	zero    uint16
	hasZero bool
}

// put sets the value of hash h.
func (t *releaseTable) put(h uint64, v uint16) {
	if h == 0 {
		t.zero, t.hasZero = v, true
		return
	}
	if (t.n+1)*8 > len(t.keys)*7 {
		t.grow()
	}
	mask := uint64(len(t.keys) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case h:
			t.vals[i] = v
			return
		case 0:
			t.keys[i], t.vals[i] = h, v
			t.n++
			return
		}
	}
}

// get returns the value of hash h and whether it has one.
func (t *releaseTable) get(h uint64) (uint16, bool) {
	if h == 0 {
		return t.zero, t.hasZero
	}
	if len(t.keys) == 0 {
		return 0, false
	}
	mask := uint64(len(t.keys) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case h:
			return t.vals[i], true
		case 0:
			return 0, false
		}
	}
}

// home is the first slot to look in for hash h: FNV-1a's low bits mix
// only the ids' low bits, so the slot comes from the high bits of the hash
// times 2^64 over the golden ratio (Fibonacci hashing).
func (t *releaseTable) home(h uint64) uint64 {
	return (h * 0x9e3779b97f4a7c15) >> t.shift
}

// grow doubles the slots (1,024 at first) and places the entries again.
func (t *releaseTable) grow() {
	keys, vals := t.keys, t.vals
	size := max(1024, 2*len(keys))
	t.keys, t.vals, t.n = make([]uint64, size), make([]uint16, size), 0
	t.shift = uint(64 - bits.Len(uint(size-1)))
	for i, k := range keys {
		if k != 0 {
			t.put(k, vals[i])
		}
	}
}
