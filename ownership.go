package cyberpact

import "fmt"

// Ownership. An object's id is held per producer: each organisation that
// stores a version of an id adds to its own holding of that id, and no
// version from one organisation changes another's holding. The first
// organisation to store an id owns it; another may add a holding of the
// same id only while it may see none of the existing ones (the store then
// answers exactly as for a fresh id, so nothing tells it that the id is
// held), and is refused when it may see one: it contributes through
// notes, opinions and sightings that refer to the owner's object instead.
// Cyber observables, whose ids derive from their values, are held by every
// producer that reports them, whatever it may see.
//
// Anonymous publications (anonymity.go) are held per submitter: the hub
// stands as their producer, and each organisation that publishes an id
// anonymously adds to its own holding of it, apart from the hub's own
// reference data and from other members' anonymous holdings of the same
// id, under the same rule: refused when the submitter may see another
// holding, a holding of its own (answered as a fresh id is) when it may
// see none. So an anonymous post of an id someone else holds out of the
// poster's sight tells it nothing.
//
// A viewer is shown one holding of an id: the oldest (the first stored)
// of those with a version it may see, and of it the latest such version
// (Shown). So another organisation's later holding never changes what
// anyone already sees of an id.

// ProducerSees reports whether organisation p may see a version released
// as r, as the producer of another object referring to it: its own, or
// what its audience reaches (Reaches: markings beside TLP do not change
// which holding an edge's producer meant; what a viewer is shown of the
// edge's ends still goes through MaySee). The hub itself (organisation 0,
// reference data) sees everything outside exercises.
func ProducerSees(p Viewer, r Release) bool {
	if r.Producer == p.Org {
		return true
	}
	if p.Org == 0 && p.Exercise == 0 {
		return !r.Audience.Kind.IsExercise()
	}
	if p.Exercise != 0 {
		return r.Audience.Kind == AudienceExercise && r.Audience.Group == p.Exercise
	}
	return Reaches(p, r)
}

// EndVisible is the rule for the ends of relationships and sightings:
// given every stored version of one end, an edge produced by organisation
// producer is shown to viewer only when the viewer may see a version of
// the end's holding the producer is shown (the oldest holding with a
// version the producer sees). An edge is never shown to an end its viewer
// may not see, nor attached to another organisation's holding of the id
// its producer meant.
func EndVisible(viewer, producer Viewer, end []Holding) bool {
	meant := int64(0)
	for _, h := range end {
		if ProducerSees(producer, h.Release) && (meant == 0 || h.Holding < meant) {
			meant = h.Holding
		}
	}
	for _, h := range end {
		if h.Holding == meant && meant != 0 && ProducerSees(producer, h.Release) && MaySee(viewer, h.Release) {
			return true
		}
	}
	return false
}

// IsObservable reports whether objects of type t are cyber observables
// (SCOs), whose ids derive from their values.
func IsObservable(t string) bool {
	switch t {
	case "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
		"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
		"software", "url", "user-account", "windows-registry-key", "x509-certificate":
		return true
	}
	return false
}

// Holding is what an import needs to know of one stored version of an id
// to decide where a new version of it goes (Admit).
type Holding struct {
	Seq       int64 // the stored version
	Holding   int64 // its holding (Object.Holding)
	Release   Release
	CreatedBy string // its created_by_ref
	Federated bool   // federation brought it from a peer hub
	// Submitter is the organisation that published the holding
	// anonymously (its producer is then the hub, 0); 0 for any other.
	Submitter int64
}

// Admit decides where the version o, released as o.Release, goes among
// the stored versions held of its id: into its producer's own holding
// (returned), into a new holding (0: the store makes it the version's own
// Seq), or nowhere, refused with a rejection because its producer, whose
// sharing groups are groups, may see another organisation's holding of
// that id. Cyber observables always go to their producer's holding. A
// refused version comes back with the holding it was refused for, the
// oldest it may see (the one it is shown, whatever order held is in):
// where
// that holding has the same version with the same content, the store
// counts it as already present instead (the poster may see it, so saying
// so tells it nothing), and MISP events or ATT&CK sets that several
// members import stay importable.
//
// submitter, when not 0, is the organisation publishing o anonymously
// (o's producer is then the hub, 0), and groups are its sharing groups:
// o joins the holding that submitter published anonymously, never the
// hub's own nor another submitter's, and the rule above is applied to
// what the submitter may see.
//
// A version federation pulls (relayed) joins the oldest holding that
// federation brought from any peer with the same created_by_ref: the same
// origin's object, arriving through another hub of a triangle, keeps one
// holding, and its later versions arrive by either path. It is then
// attributed to that holding's producer, the organisation standing for
// the peer it first arrived through; the returned producer says which.
func Admit(o *Object, held []Holding, groups []int64, relayed bool, submitter int64) (holding, producer int64, rej *Rejection) {
	p := o.Release.Producer
	if relayed && o.CreatedBy != "" {
		var origin *Holding
		for i, h := range held {
			if h.Federated && h.CreatedBy == o.CreatedBy && (origin == nil || h.Holding < origin.Holding) {
				origin = &held[i]
			}
		}
		if origin != nil {
			return origin.Holding, origin.Release.Producer, nil
		}
	}
	for _, h := range held {
		if h.Release.Producer == p && h.Submitter == submitter {
			return h.Holding, p, nil
		}
	}
	if IsObservable(o.Type) {
		return 0, p, nil
	}
	who := p
	if submitter != 0 {
		who = submitter
	}
	// Refused for the holding the poster is shown: the oldest it may see
	// (whatever order the store read the versions in).
	v := Viewer{Org: who, Groups: groups}
	seen := int64(0)
	for _, h := range held {
		if who != 0 && MaySee(v, h.Release) && (seen == 0 || h.Holding < seen) {
			seen = h.Holding
		}
	}
	if seen != 0 {
		return seen, p, &Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified, Path: "id",
			Reason: fmt.Sprintf("%s belongs to another organisation: only its producer adds versions of it; "+
				"add yours as a note or opinion referring to it (object_refs), or report a sighting of it", o.ID)}
	}
	return 0, p, nil
}
