package cyberpact

import (
	"context"
	"fmt"
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
// 64-bit hash of its id, so a million-object import costs it a few tens of
// megabytes, not the ids themselves.
func SightingReleases(ctx context.Context, store ObjectStore, viewer Viewer) func(*Object, Release) (Release, error) {
	earlier := map[uint64]uint16{} // objects of this input, by idHash: audience kind << 8 | TLP
	known := map[string]*Release{} // sighted objects looked up: nil when not visible
	return func(o *Object, r Release) (Release, error) {
		if r.Audience.Kind.IsExercise() {
			return r, nil
		}
		defer func() { earlier[idHash(o.ID)] = uint16(r.Audience.Kind)<<8 | uint16(r.TLP) }()
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
		if packed, ok := earlier[idHash(ref)]; ok {
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
