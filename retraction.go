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
// holds here, whose created_by_ref is the retraction's, and that are no
// newer than the retraction. A peer cannot retract what another hub, or
// a local member, holds: it is not their producer here.

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
// Each delete is audited as done by who. Returns the refs it deleted
// versions of, and how many versions.
func ApplyRetractions(ctx context.Context, store ObjectStore, log AuditLog, who Actor, ids []string) ([]string, int, error) {
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
			n, err := retract(ctx, store, log, who, r, b)
			if err != nil {
				return refs, total, err
			}
			if n > 0 {
				refs = append(refs, b.Ref)
				total += n
			}
		}
	}
	return refs, total, nil
}

// retract applies one retraction version r saying b.
func retract(ctx context.Context, store ObjectStore, log AuditLog, who Actor, r *Object, b retractionBody) (int, error) {
	vs, err := store.ObjectVersions(ctx, b.Ref, nil)
	if ErrorCode(err) == ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var holdings []int64
	var refs, versions []string
	all := true
	for _, v := range vs {
		if v.Type == RetractionType || v.Release.Producer != r.Release.Producer {
			continue
		}
		if v.Modified > r.Modified {
			all = false // a version made after the retraction stays
			continue
		}
		var cb struct {
			CreatedBy string `json:"created_by_ref"`
		}
		if json.Unmarshal(v.Raw, &cb) != nil || cb.CreatedBy != b.CreatedBy {
			all = false
			continue
		}
		if !slices.Contains(holdings, v.Holding) {
			holdings = append(holdings, v.Holding)
		}
		refs = append(refs, b.Ref+"@"+v.Modified)
		versions = append(versions, v.Modified)
	}
	if len(holdings) == 0 {
		return 0, nil
	}
	f := ObjectFilter{Holdings: holdings, AllVersions: true}
	if !all {
		f = ObjectFilter{Holdings: holdings, Versions: versions}
	}
	n, err := store.DeleteObject(ctx, b.Ref, f)
	if ErrorCode(err) == ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if err := AuditDeletion(ctx, log, who, refs, fmt.Sprintf("%d versions retracted by their producer (retraction %s)", n, r.ID)); err != nil {
		return n, err
	}
	return n, nil
}
