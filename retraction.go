package cyberpact

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// Retractions. When a producer deletes an object, the hub stores a
// retraction object in its place: a custom STIX object of type
// RetractionType naming the object (retracted_ref) and its
// created_by_ref, released exactly as the deleted object was (producer,
// audience, TLP). It travels as any object does: peers that pull read it
// from the collection's feed, peers the hub pushes to receive it in a
// POST, and each hub that stores it applies it (ApplyRetractions) and
// passes it on the same way, so a delete made at A reaches B and, through
// B, C.
//
// Ownership holds at every hop: a retraction stored with producer P (the
// organisation standing for the peer it came from, or the member that
// posted it) deletes only versions of the named object that P itself
// holds here (for an anonymous publication, that the same submitter
// holds: the hub stands as producer of every one), whose created_by_ref
// is the retraction's, and that are no newer than the retraction. A peer
// cannot retract what another hub, or a local member, holds: it is not
// their producer here.
//
// And a retraction is honoured only from the object's origin: one whose
// producer here holds no version of the object it names (a member
// retracting what a peer brought, a peer retracting what it never sent)
// is not the origin's, and is not kept: ApplyRetractions deletes it again
// (audited) as soon as the import that stored it commits, so that it
// never goes on to the hubs this one shares with. Otherwise a member of a
// middle hub B could retract hub A's object at hub C, where everything B
// sends is held by the one organisation that stands for B. (B's own
// operator can still forge what B sends: retractions carry no signature
// of their origin hub.)

// RetractionType is the STIX type of retraction objects.
const RetractionType = "x-cyberpact-retraction"

// Retracting returns a source that yields next's objects and collects,
// into ids, the ids of the retraction objects among them: the import's
// retractions to apply once it commits (ApplyRetractions).
func Retracting(next ObjectSource, ids *[]string) ObjectSource {
	return func() (*Object, error) {
		o, err := next()
		if err == nil && o.Type == RetractionType && !slices.Contains(*ids, o.ID) {
			*ids = append(*ids, o.ID)
		}
		return o, err
	}
}

// retractionBody is what a retraction says.
type retractionBody struct {
	Ref       string `json:"retracted_ref"`
	CreatedBy string `json:"created_by_ref"`
	Created   string `json:"created"`
}

// ApplyRetractions applies the stored retraction objects ids: for each,
// its latest stored version (any producer's holding of the id) deletes
// the versions of its retracted_ref that its producer holds, whose
// created_by_ref is the retraction's, and that were modified no later
// than the retraction was made; versions of other producers are left.
// A retraction version res added (the import that stored ids; nil for
// none) whose producer holds no version of its retracted_ref by that
// created_by_ref is not from the object's origin: it is deleted again.
// Each delete is audited as done by who. Returns the refs it deleted
// versions of, and how many versions.
func ApplyRetractions(ctx context.Context, store ObjectStore, log AuditLog, who Actor, ids []string, res *ImportResult) ([]string, int, error) {
	var refs []string
	total := 0
	for _, rid := range ids {
		rs, err := store.ObjectVersions(ctx, rid, nil)
		if ErrorCode(err) == ENOTFOUND {
			continue
		}
		if err != nil {
			return refs, total, err
		}
		for _, r := range rs {
			if r.Type != RetractionType {
				continue
			}
			var b retractionBody
			if err := json.Unmarshal(r.Raw, &b); err != nil || b.Ref == "" {
				continue
			}
			n, owner, err := retract(ctx, store, log, who, r, b)
			if err != nil {
				return refs, total, err
			}
			if !owner && res != nil && res.Added > 0 && r.Seq >= res.FirstSeq && r.Seq <= res.LastSeq {
				if err := dropRetraction(ctx, store, log, who, r, b); err != nil {
					return refs, total, err
				}
			}
			if n > 0 {
				refs = append(refs, b.Ref)
				total += n
			}
		}
	}
	return refs, total, nil
}

// dropRetraction deletes the retraction version r saying b, not from its
// object's origin, and audits why.
func dropRetraction(ctx context.Context, store ObjectStore, log AuditLog, who Actor, r *Object, b retractionBody) error {
	n, err := store.DeleteObject(ctx, r.ID, ObjectFilter{Holdings: []int64{r.Holding}, Versions: []string{r.Modified}})
	if ErrorCode(err) == ENOTFOUND || err == nil && n == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	return AuditDeletion(ctx, log, who, []string{r.ID + "@" + r.Modified},
		fmt.Sprintf("retraction of %s ignored and not passed on: its producer here holds no version of it by %s, so it is not from the object's origin", b.Ref, b.CreatedBy))
}

// submitterOf returns who published holding h anonymously when store
// keeps that (0 for none, and for a store that does not).
func submitterOf(ctx context.Context, store ObjectStore, r Release, h int64) (int64, error) {
	a, ok := store.(AnonymityStore)
	if !ok || r.Producer != 0 {
		return 0, nil
	}
	return a.AnonymousSubmitter(ctx, h)
}

// retract applies one retraction version r saying b, and reports whether
// r's producer holds a version of b.Ref by b.CreatedBy (owner): whether
// r is from the object's origin.
func retract(ctx context.Context, store ObjectStore, log AuditLog, who Actor, r *Object, b retractionBody) (int, bool, error) {
	sub, err := submitterOf(ctx, store, r.Release, r.Holding)
	if err != nil {
		return 0, false, err
	}
	vs, err := store.ObjectVersions(ctx, b.Ref, nil)
	if ErrorCode(err) == ENOTFOUND {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var holdings []int64
	var refs, versions []string
	all, owner := true, false
	for _, v := range vs {
		if v.Type == RetractionType || v.Release.Producer != r.Release.Producer {
			continue
		}
		if s, err := submitterOf(ctx, store, v.Release, v.Holding); err != nil {
			return 0, false, err
		} else if s != sub {
			continue // another member's anonymous holding
		}
		var cb struct {
			CreatedBy string `json:"created_by_ref"`
		}
		if json.Unmarshal(v.Raw, &cb) != nil || cb.CreatedBy != b.CreatedBy {
			all = false
			continue
		}
		owner = true
		if v.Modified > r.Modified {
			all = false // a version made after the retraction stays
			continue
		}
		if !slices.Contains(holdings, v.Holding) {
			holdings = append(holdings, v.Holding)
		}
		refs = append(refs, b.Ref+"@"+v.Modified)
		versions = append(versions, v.Modified)
	}
	if len(holdings) == 0 {
		return 0, owner, nil
	}
	f := ObjectFilter{Holdings: holdings, AllVersions: true}
	if !all {
		f = ObjectFilter{Holdings: holdings, Versions: versions}
	}
	n, err := store.DeleteObject(ctx, b.Ref, f)
	if ErrorCode(err) == ENOTFOUND {
		return 0, owner, nil
	}
	if err != nil {
		return 0, owner, err
	}
	if err := AuditDeletion(ctx, log, who, refs, fmt.Sprintf("%d versions retracted by their producer (retraction %s)", n, r.ID)); err != nil {
		return n, owner, err
	}
	return n, owner, nil
}
