package cyberpact

import (
	"context"
	"encoding/json"
	"slices"
)

// k-anonymous sighting counts. A member may report a sighting to be
// shared only as a count: the sighting version stays with its reporter
// (audience: its organisation alone) and is counted, per sector of the
// reporting organisations, in the answers of SightingCounts. Counts are
// of distinct organisations, not of sightings: one organisation reporting
// a hundred times counts once. No answer ever names an organisation, and
// every number it gives is either absent or at least k (KAnonymous): a
// sector appears once k of its organisations have reported the object;
// the sectors with fewer are pooled as OtherSectors, which appears once
// the pool holds k; the total is the sum of what appears. So no number,
// and no total less the buckets shown, counts fewer than k organisations.

// DefaultKAnonymity is the k of k-anonymous sighting counts when none is
// configured.
const DefaultKAnonymity = 3

// SightingCounts is the k-anonymous answer for one sighted object.
type SightingCounts struct {
	Of string `json:"sighting_of_ref"`
	K  int    `json:"k"`
	// Orgs is the number of distinct organisations counted in Sectors: 0
	// while no bucket holds K.
	Orgs int `json:"organisations"`
	// Sectors are the sectors with at least K reporting organisations, by
	// name, then OtherSectors when the rest pool to at least K.
	Sectors []SectorCount `json:"sectors"`
}

// OtherSectors is the bucket of the sectors each with fewer than k
// reporting organisations, pooled.
const OtherSectors = "other sectors"

// SectorCount is how many distinct organisations of one sector reported
// a sighted object.
type SectorCount struct {
	Sector string `json:"sector"`
	Orgs   int    `json:"organisations"`
}

// SightingCountStore keeps the sightings reported to be shared as counts.
type SightingCountStore interface {
	// CountSightings records the sighting versions seqs, of the object
	// of, reported by org, as counted (a version recorded already is
	// left as it is).
	CountSightings(ctx context.Context, org int64, of string, seqs []int64) error
	// SectorSightings returns, for the object of, how many distinct
	// organisations of each sector reported it as counted: the raw
	// counts, before k is applied (KAnonymous does that).
	SectorSightings(ctx context.Context, of string) (map[string]int, error)
}

// KAnonymous applies k to raw per-sector counts of distinct organisations
// (k < 1 means DefaultKAnonymity): each sector with at least k shows, the
// others pool into OtherSectors, shown when the pool reaches k, and the
// total is the sum of what shows.
func KAnonymous(of string, k int, perSector map[string]int) *SightingCounts {
	if k < 1 {
		k = DefaultKAnonymity
	}
	out := &SightingCounts{Of: of, K: k, Sectors: []SectorCount{}}
	names := make([]string, 0, len(perSector))
	for s := range perSector {
		names = append(names, s)
	}
	slices.Sort(names)
	pool := 0
	for _, s := range names {
		if n := perSector[s]; n >= k {
			out.Sectors = append(out.Sectors, SectorCount{Sector: s, Orgs: n})
			out.Orgs += n
		} else {
			pool += n
		}
	}
	if pool >= k {
		out.Sectors = append(out.Sectors, SectorCount{Sector: OtherSectors, Orgs: pool})
		out.Orgs += pool
	}
	return out
}

// CountedReleases returns the ImportOptions.ReleaseFor of a report of
// sightings to be shared only as counts, by the organisation of viewer:
// each must be a sighting of an object the reporter may see (as
// SightingReleases checks), and is released to its reporter alone, at
// its own TLP level or that of what it sights when higher. Any other
// object is refused: such a report carries sightings only.
func CountedReleases(ctx context.Context, store ObjectStore, viewer Viewer) func(*Object, Release) (Release, error) {
	inner := SightingReleases(ctx, store, viewer)
	return func(o *Object, r Release) (Release, error) {
		if o.Type != "sighting" {
			return r, &Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified, Path: "type",
				Reason: "a report shared as counts carries sightings only; publish other objects in a report of their own"}
		}
		r, err := inner(o, r)
		if err != nil {
			return r, err
		}
		r.Audience = Audience{Kind: AudienceOrg}
		return r, nil
	}
}

// CountedImport imports next, sightings reported by who's organisation
// (viewer) to be shared only as k-anonymous counts (CountedReleases), and
// once the import commits records each version it added as counted for
// the object it sights. The result is the import's.
func CountedImport(ctx context.Context, store ObjectStore, counts SightingCountStore, log AuditLog, who Actor, viewer Viewer, next ObjectSource, opts ImportOptions, about string) (*ImportResult, error) {
	if viewer.Org == 0 {
		return nil, Errorf(EINVALID, "sightings shared as counts need an organisation that reports them (--org)")
	}
	opts.Producer = viewer.Org
	opts.ReleaseFor = CountedReleases(ctx, store, viewer)
	var ids []string
	rec := func() (*Object, error) {
		o, err := next()
		if err == nil {
			ids = append(ids, o.ID)
		}
		return o, err
	}
	if about != "" {
		about += "; "
	}
	res, err := AuditedImport(ctx, store, log, who, rec, opts, about+"sightings shared as k-anonymous counts")
	if err != nil || !res.Committed || res.Added == 0 {
		return res, err
	}
	bySighted := map[string][]int64{}
	err = store.EachObject(ctx, ObjectFilter{IDs: ids, Versions: []string{"all"}, Viewer: &viewer, After: res.FirstSeq - 1}, func(o *Object) error {
		if o.Seq > res.LastSeq || o.Release.Producer != viewer.Org {
			return nil
		}
		var s struct {
			Of string `json:"sighting_of_ref"`
		}
		if err := json.Unmarshal(o.Raw, &s); err != nil || s.Of == "" {
			return nil
		}
		bySighted[s.Of] = append(bySighted[s.Of], o.Seq)
		return nil
	})
	if err != nil {
		return res, err
	}
	for of, seqs := range bySighted {
		if err := counts.CountSightings(ctx, viewer.Org, of, seqs); err != nil {
			return res, err
		}
	}
	return res, nil
}

// CountsFor returns the k-anonymous counts of the sightings of id for
// viewer: ENOTFOUND when viewer may not see id (as everywhere, not told
// apart from an id the hub does not hold).
func CountsFor(ctx context.Context, store ObjectStore, counts SightingCountStore, viewer Viewer, id string, k int) (*SightingCounts, error) {
	if _, err := store.Object(ctx, id, &viewer); err != nil {
		return nil, err
	}
	per, err := counts.SectorSightings(ctx, id)
	if err != nil {
		return nil, err
	}
	return KAnonymous(id, k, per), nil
}
