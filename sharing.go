package cyberpact

import "fmt"

// TLP is a Traffic Light Protocol 2.0 level. The order of the constants is
// from least to most restricted.
type TLP int

const (
	TLPUnknown     TLP = iota // not marked: takes its collection's default
	TLPClear                  // may be shared without restriction
	TLPGreen                  // the community: here, the audience
	TLPAmber                  // the recipients' organisations: here, the audience
	TLPAmberStrict            // the recipients' organisations only, never passed on
	TLPRed                    // the named recipients only
)

var tlpNames = [...]string{"", "clear", "green", "amber", "amber+strict", "red"}

// String returns the level's name: clear, green, amber, amber+strict, red.
func (t TLP) String() string {
	if t < 0 || int(t) >= len(tlpNames) {
		return fmt.Sprintf("tlp(%d)", int(t))
	}
	return tlpNames[t]
}

// ParseTLP reads a level name, with or without the "TLP:" prefix, any case.
// Returns EINVALID for anything else.
func ParseTLP(s string) (TLP, error) {
	n := s
	if len(n) > 4 && (n[:4] == "TLP:" || n[:4] == "tlp:") {
		n = n[4:]
	}
	for i, name := range tlpNames {
		if i > 0 && equalFold(name, n) {
			return TLP(i), nil
		}
	}
	if equalFold(n, "white") {
		return TLPClear, nil
	}
	return TLPUnknown, Errorf(EINVALID, "%q is not a TLP level (clear, green, amber, amber+strict, red)", s)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// AudienceKind says who an object version is shared with.
type AudienceKind int

const (
	AudienceOrg   AudienceKind = iota + 1 // the producer organisation alone
	AudienceGroup                         // one sharing group
	AudienceAll                           // every member organisation

	// The audiences inside a joint exercise (Group holds the exercise's
	// id). Exercise objects exist only for viewers inside that exercise:
	// never in normal collections, search, correlation or federation.
	AudienceExerciseOrg // one participant of the exercise (its telemetry, its own reports)
	AudienceExercise    // every participant of the exercise (shared warnings)
)

// IsExercise reports whether the audience is inside an exercise.
func (k AudienceKind) IsExercise() bool { return k == AudienceExerciseOrg || k == AudienceExercise }

// Audience is who an object version is shared with: its producer's own
// organisation, one sharing group, or all members.
type Audience struct {
	Kind  AudienceKind
	Group int64 // the sharing group, for AudienceGroup
}

// String names the audience: "org", "group:ID" or "all".
func (a Audience) String() string {
	switch a.Kind {
	case AudienceOrg:
		return "org"
	case AudienceGroup:
		return fmt.Sprintf("group:%d", a.Group)
	case AudienceAll:
		return "all"
	case AudienceExerciseOrg:
		return fmt.Sprintf("exercise:%d:org", a.Group)
	case AudienceExercise:
		return fmt.Sprintf("exercise:%d", a.Group)
	}
	return "none"
}

// Name names the audience for people, as --audience takes it: "org",
// "all", or "group:NAME" with the group's name from groups (by id; a group
// missing from it keeps its id). Exercise audiences are named as String
// names them.
func (a Audience) Name(groups map[int64]string) string {
	if a.Kind == AudienceGroup {
		if n, ok := groups[a.Group]; ok {
			return "group:" + n
		}
	}
	return a.String()
}

// Release is what the sharing rule needs to know of one stored object
// version: who produced it, for whom, at which TLP level, and its other
// markings (releasability, PAP, marking-set levels).
type Release struct {
	Producer int64 // the producer organisation
	Audience Audience
	TLP      TLP
	Marks    Marks
}

// Viewer is who asks to see objects: a member organisation and the sharing
// groups it belongs to; or a reader of the public collection.
type Viewer struct {
	Org    int64
	Groups []int64
	// Nation, Sector and Clearances are the viewer organisation's
	// (Org.Nation, Org.Sector, Org.Clearances): what releasability and
	// marking-set levels are checked against (Marks.Permit). A viewer
	// without them sees no version that carries such marks.
	Nation     string
	Sector     string
	Clearances Clearances
	// Sync is a read by a machine account for federation (RoleSync): a
	// peer hub, which never receives PAP:RED.
	Sync bool
	// Public is a read through the hub's public collection (when it is
	// enabled): it sees TLP:CLEAR objects, whoever their audience, and
	// nothing else.
	Public bool
	// Exercise, when set, is a read inside that joint exercise: the
	// viewer sees the exercise's objects addressed to its organisation or
	// to every participant, and nothing outside the exercise. Without it
	// no exercise object is ever seen.
	Exercise int64
}

// InGroup reports whether the viewer's organisation is in group g.
func (v Viewer) InGroup(g int64) bool {
	for _, x := range v.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// MaySee is the sharing rule: whether viewer may see an object version
// released as r. Every read path goes through it (stores translate it into
// their queries; storetest checks that they agree with it).
//
//   - Through the public collection: TLP:CLEAR objects, whatever their
//     audience (CLEAR may be disclosed without limit), and nothing else.
//   - Otherwise the producer organisation sees its own objects; the members
//     of a sharing group see what is shared with the group; every member
//     organisation sees what is shared with all members.
//   - TLP:RED is never shared with all members (RefuseRelease refuses it at
//     write time); should one be stored so, only its producer sees it.
//   - Exercise objects are seen only inside their exercise (Viewer.Exercise),
//     by the participant they are addressed to or, when addressed to the
//     whole exercise, by every participant; inside an exercise nothing else
//     is seen.
//   - Beside all of that, a version whose Marks restrict it (releasable to
//     other nations or sectors, a marking-set level above the viewer's
//     clearance) is seen by no one but its producer (Marks.Permit); the
//     public collection sees no restricted version at all. A peer hub's
//     sync account (Viewer.Sync) never sees PAP:RED, its own included.
func MaySee(v Viewer, r Release) bool {
	if !Reaches(v, r) {
		return false
	}
	if v.Sync && r.Marks.PAP() == PAPRed {
		return false
	}
	return v.Org == r.Producer && v.Org != 0 || r.Marks.Permit(v)
}

// Reaches is the rule's audience half: MaySee without the markings
// beside TLP. It decides which holding of an id an edge's producer meant
// (ProducerSees); what anyone is shown always goes through MaySee.
func Reaches(v Viewer, r Release) bool {
	if r.Audience.Kind.IsExercise() || v.Exercise != 0 {
		return v.Exercise != 0 && v.Org != 0 && r.Audience.Group == v.Exercise &&
			(r.Audience.Kind == AudienceExercise || r.Audience.Kind == AudienceExerciseOrg && r.Producer == v.Org)
	}
	if v.Public {
		return r.TLP == TLPClear
	}
	if v.Org == 0 {
		return false
	}
	if v.Org == r.Producer {
		return true
	}
	switch r.Audience.Kind {
	case AudienceGroup:
		return v.InGroup(r.Audience.Group)
	case AudienceAll:
		return r.TLP != TLPRed
	}
	return false
}

// RefuseRelease says why a version may not be released as r, or "" when it
// may: TLP:RED needs one organisation or one sharing group as audience.
func RefuseRelease(r Release) string {
	if r.TLP == TLPRed && r.Audience.Kind == AudienceAll {
		return "TLP:RED may only be shared with one organisation or one sharing group, not with all members"
	}
	return ""
}

// MayForward reports whether a version released as r may be passed on by
// federation to another hub: never RED or AMBER+STRICT, never PAP:RED.
// (Releasability is the receiving peer's to pass: a peer hub is a member
// organisation with a nation, and reads through MaySee.)
func MayForward(r Release) bool {
	return r.TLP != TLPRed && r.TLP != TLPAmberStrict && r.Marks.PAP() != PAPRed
}
