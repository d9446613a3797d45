package cyberpact

import (
	"context"
	"fmt"
)

// Anonymous publication. A member may publish objects, and report
// sightings, anonymously to the partnership: the hub stands as their
// producer (organisation 0, the producer of the hub's own reference data)
// and their created_by_ref names the hub's identity (AnonymityStore.
// HubIdentity), so every read path that names or filters by a producer
// (the objects themselves, correlation's "who else has this", statistics,
// the stream, MISP feeds, federation) shows the hub and nothing else. The
// organisation that submitted them is kept apart (AnonymityStore), read
// only to let it manage its objects (delete, revoke: a later anonymous
// version) and by hub admins; the audit log records it as the writer.

// AnonymityStore keeps who submitted the objects published anonymously.
type AnonymityStore interface {
	// HubIdentity returns the id of the hub's own STIX identity
	// ("identity--..."), made once and kept.
	HubIdentity(ctx context.Context) (string, error)
	// RecordAnonymous records org as the submitter of ids (an id already
	// recorded keeps its submitter).
	RecordAnonymous(ctx context.Context, org int64, ids []string) error
	// AnonymousSubmitter returns the organisation that published id
	// anonymously, 0 when none did.
	AnonymousSubmitter(ctx context.Context, id string) (int64, error)
}

// AnonymousReleases returns the ImportOptions.ReleaseFor of an anonymous
// import by org (with sharing groups groups), wrapping inner (nil for
// none, else typically SightingReleases): it refuses, one version at a
// time,
//   - a version of an id the hub holds that org did not itself publish
//     anonymously (reference data or another member's anonymous object:
//     publishing anonymously never adds to someone else's holding);
//   - a version of an id another organisation holds and org may see, as
//     Admit refuses it to org publishing under its own name;
//   - a version whose release would be the producer alone: anonymous
//     means shared with a group or all members, and the hub as producer
//     would leave it seen by nobody.
//
// Cyber observables, held by everyone who reports them, are exempt from
// the first two.
func AnonymousReleases(ctx context.Context, store ObjectStore, anon AnonymityStore, org int64, groups []int64, inner func(*Object, Release) (Release, error)) func(*Object, Release) (Release, error) {
	return func(o *Object, r Release) (Release, error) {
		if inner != nil {
			var err error
			if r, err = inner(o, r); err != nil {
				return r, err
			}
		}
		refuse := func(path, why string) (Release, error) {
			return r, &Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified, Path: path, Reason: why}
		}
		if r.Audience.Kind == AudienceOrg {
			return refuse("", "an anonymous publication must be shared with a sharing group or all members (audience group:NAME or all); "+
				"shared with the producer alone it would be seen by no one (a TLP:RED object needs a group audience)")
		}
		if IsObservable(o.Type) {
			return r, nil
		}
		held, err := store.ObjectVersions(ctx, o.ID, nil)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return r, err
		}
		if len(held) == 0 {
			return r, nil
		}
		sub, err := anon.AnonymousSubmitter(ctx, o.ID)
		if err != nil {
			return r, err
		}
		v := Viewer{Org: org, Groups: groups}
		for _, h := range held {
			mine := h.Release.Producer == 0 && sub == org
			if h.Release.Producer == 0 && !mine || h.Release.Producer != 0 && MaySee(v, h.Release) {
				return refuse("id", fmt.Sprintf("%s belongs to another organisation: an anonymous publication adds only to objects your organisation published anonymously; "+
					"add yours as a note or opinion referring to it (object_refs), or report a sighting of it", o.ID))
			}
		}
		return r, nil
	}
}

// MayManage reports whether the organisation org may delete or revoke an
// object version released as r of the object id: its producer may, and so
// may the organisation that published it anonymously (anon: 0 when no one
// did; see AnonymityStore.AnonymousSubmitter).
func MayManage(org int64, r Release, anon int64) bool {
	if org == 0 {
		return false
	}
	return r.Producer == org || r.Producer == 0 && anon == org
}

// AnonymousImport imports next, already anonymised (stix.Anonymise with
// the hub's identity), as published anonymously by who's organisation
// (whose sharing groups are groups): the hub is the producer
// (opts.Producer is set to 0), AnonymousReleases guards each version
// (around opts.ReleaseFor), the audit entry names who (the log knows),
// and once the import commits its organisation is recorded as the
// submitter of every id it stored or found present. The result is the
// import's.
func AnonymousImport(ctx context.Context, store ObjectStore, anon AnonymityStore, log AuditLog, who Actor, groups []int64, next ObjectSource, opts ImportOptions, about string) (*ImportResult, error) {
	if who.Org == 0 {
		return nil, Errorf(EINVALID, "an anonymous publication needs an organisation to publish for (--org)")
	}
	opts.Producer = 0
	opts.ReleaseFor = AnonymousReleases(ctx, store, anon, who.Org, groups, opts.ReleaseFor)
	var seen []string
	byIndex := map[int]string{}
	rec := func() (*Object, error) {
		o, err := next()
		if err == nil {
			byIndex[o.Index] = o.ID
			seen = append(seen, o.ID)
		}
		return o, err
	}
	if about != "" {
		about += "; "
	}
	res, err := AuditedImport(ctx, store, log, who, rec, opts, about+"published anonymously: the hub stands as producer")
	if err != nil || !res.Committed {
		return res, err
	}
	refused := map[string]bool{}
	for _, rj := range res.Rejected {
		if id, ok := byIndex[rj.Index]; ok {
			refused[id] = true
		}
	}
	var ids []string
	for _, id := range seen {
		if !refused[id] && !IsObservable(typeOfID(id)) {
			ids = append(ids, id)
		}
	}
	if err := anon.RecordAnonymous(ctx, who.Org, ids); err != nil {
		return res, err
	}
	return res, nil
}

// typeOfID is the type part of a STIX id ("indicator" of
// "indicator--...").
func typeOfID(id string) string {
	for i := 0; i+1 < len(id); i++ {
		if id[i] == '-' && id[i+1] == '-' {
			return id[:i]
		}
	}
	return id
}
