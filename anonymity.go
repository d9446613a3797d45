package cyberpact

import "context"

// Anonymous publication. A member may publish objects, and report
// sightings, anonymously to the partnership: the hub stands as their
// producer (organisation 0, the producer of the hub's own reference data)
// and their created_by_ref names the hub's identity (AnonymityStore.
// HubIdentity), so every read path that names or filters by a producer
// (the objects themselves, correlation's "who else has this", statistics,
// the stream, MISP feeds, federation) shows the hub and nothing else. The
// organisation that submitted them is kept apart, per holding
// (AnonymityStore): the store records it in the import's transaction
// (ImportOptions.Submitter), holds each submitter's anonymous objects
// apart from the hub's own and from other submitters' (Admit), and it is
// read only to let the submitter manage its objects (delete, revoke: a
// later anonymous version) and by hub admins; the audit log records it as
// the writer.

// AnonymityStore keeps who submitted the objects published anonymously.
type AnonymityStore interface {
	// HubIdentity returns the id of the hub's own STIX identity
	// ("identity--..."), made once and kept.
	HubIdentity(ctx context.Context) (string, error)
	// AnonymousSubmitter returns the organisation that published the
	// holding holding (Object.Holding) anonymously, 0 when none did.
	AnonymousSubmitter(ctx context.Context, holding int64) (int64, error)
}

// AnonymousReleases returns the ImportOptions.ReleaseFor of an anonymous
// import, wrapping inner (nil for none, else typically
// SightingReleases): it refuses a version whose release would be the
// producer alone, since anonymous means shared with a group or all
// members, and the hub as producer would leave it seen by nobody. Where
// each version goes among the holdings of its id, and whether it is
// refused because the submitter may see another organisation's, is
// Admit's to decide, per submitter, as for any import: an id held out of
// the submitter's sight answers as a fresh one does.
func AnonymousReleases(inner func(*Object, Release) (Release, error)) func(*Object, Release) (Release, error) {
	return func(o *Object, r Release) (Release, error) {
		if inner != nil {
			var err error
			if r, err = inner(o, r); err != nil {
				return r, err
			}
		}
		if r.Audience.Kind == AudienceOrg {
			return r, &Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified,
				Reason: "an anonymous publication must be shared with a sharing group or all members (audience group:NAME or all); " +
					"shared with the producer alone it would be seen by no one (a TLP:RED object needs a group audience)"}
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
// the hub's identity), as published anonymously by who's organisation:
// the hub is the producer (opts.Producer is set to 0), who's organisation
// the submitter (opts.Submitter), whose sharing groups the store reads
// for Admit; AnonymousReleases guards each version (around
// opts.ReleaseFor), and the audit entry names who (the log knows). The
// result is the import's.
func AnonymousImport(ctx context.Context, store ObjectStore, log AuditLog, who Actor, next ObjectSource, opts ImportOptions, about string) (*ImportResult, error) {
	if who.Org == 0 {
		return nil, Errorf(EINVALID, "an anonymous publication needs an organisation to publish for (--org)")
	}
	opts.Producer, opts.Submitter = 0, who.Org
	opts.ReleaseFor = AnonymousReleases(opts.ReleaseFor)
	if about != "" {
		about += "; "
	}
	return AuditedImport(ctx, store, log, who, next, opts, about+"published anonymously: the hub stands as producer")
}
