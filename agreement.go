package cyberpact

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Agreement is one version of the written terms a sharing group (or, with
// Group 0, the whole hub) shares under. Every version is kept; the latest
// is in force. The terms the hub enforces:
//
//   - TLPs and PAPs: the levels objects shared under it may carry; a write
//     of another level is refused with an error naming the agreement.
//   - RelNations and RelSectors: the releasability of objects shared under
//     it that carry none of their own (see Marks).
//   - Expires: after it, writes under the agreement are refused.
//   - Federate: whether members' objects shared under it may be passed on
//     to peer hubs by federation.
//
// Retention gives the retention purge its rules (AgreementRules), and
// PersonalData the import's personal-data policy for the agreement's
// group (Privacy), beside those set on their own.
//
// An object version is shared under the agreement of its audience's group
// (AudienceGroup), or the hub's (AudienceAll); an organisation's own
// versions (AudienceOrg) are under none.
type Agreement struct {
	Group     int64  `json:"group"`                // 0: the whole hub
	GroupName string `json:"group_name,omitempty"` // for people; not stored
	Version   int    `json:"version"`              // from 1, set by the store
	Purpose   string `json:"purpose"`
	TLPs      []TLP  `json:"-"` // permitted levels; none: any
	PAPs      []PAP  `json:"-"` // permitted levels; none: any
	// RelNations and RelSectors are the default releasability.
	RelNations []string `json:"rel_nations,omitempty"`
	RelSectors []string `json:"rel_sectors,omitempty"`
	// Retention is how long objects are kept (0: for ever); RetentionByType
	// overrides it per STIX type.
	Retention       time.Duration            `json:"-"`
	RetentionByType map[string]time.Duration `json:"-"`
	Expires         time.Time                `json:"expires,omitzero"` // zero: never
	Federate        bool                     `json:"federate"`
	// PersonalData is the personal-data policy: a set of PersonalDataFlags.
	PersonalData []string  `json:"personal_data,omitempty"`
	Actor        string    `json:"actor"`
	Created      time.Time `json:"created"`
}

// PersonalDataFlags are the flags Agreement.PersonalData may hold: which
// detectors run on what members publish under the agreement, and what is
// done with what they find.
var PersonalDataFlags = []string{
	"detect-email",    // e-mail addresses of non-attackers
	"detect-account",  // user accounts of non-attackers
	"detect-phone",    // telephone numbers
	"detect-name",     // personal names in free text
	"detect-identity", // identity objects for individuals
	"detect-address",  // postal addresses in free text and locations' street addresses
	"redact",          // replace what is found by a stable pseudonym before release beyond the producer
	"refuse",          // refuse objects in which personal data is found
}

// Privacy returns the personal-data policy the agreement sets, as the
// detectors it turns on ("email,phone", as privacy policies name them;
// every detector when it names none) and whether what they find is
// refused rather than redacted; "" when it neither redacts nor refuses.
func (a *Agreement) Privacy() (detectors string, refuse bool) {
	kinds := map[string]string{"detect-email": "email", "detect-account": "account", "detect-phone": "phone",
		"detect-name": "name", "detect-identity": "individual", "detect-address": "address"}
	var on []string
	redact := false
	for _, f := range a.PersonalData {
		switch f {
		case "redact":
			redact = true
		case "refuse":
			refuse = true
		default:
			if k, ok := kinds[f]; ok {
				on = append(on, k)
			}
		}
	}
	if !redact && !refuse {
		return "", false
	}
	if len(on) == 0 {
		return "all", refuse
	}
	return strings.Join(on, ","), refuse
}

// Name names the agreement for people and errors: `the agreement of group
// "NAME"` or `the hub's agreement`, with its version.
func (a *Agreement) Name() string {
	if a.Group == 0 {
		return fmt.Sprintf("the hub's agreement (version %d)", a.Version)
	}
	n := a.GroupName
	if n == "" {
		n = fmt.Sprint(a.Group)
	}
	return fmt.Sprintf("the agreement of group %q (version %d)", n, a.Version)
}

// Check validates the terms and puts lists in canonical order. Returns
// EINVALID naming the field.
func (a *Agreement) Check() error {
	var err error
	if !ValidText(a.Purpose) || len(a.Purpose) > 4000 {
		return Errorf(EINVALID, "purpose: must be printable text of at most 4000 bytes")
	}
	if a.RelNations, err = CheckNations(a.RelNations); err != nil {
		return Errorf(EINVALID, "releasable nations: %s", ErrorMessage(err))
	}
	if a.RelSectors, err = CheckSectors(a.RelSectors); err != nil {
		return Errorf(EINVALID, "releasable sectors: %s", ErrorMessage(err))
	}
	slices.Sort(a.TLPs)
	a.TLPs = slices.Compact(a.TLPs)
	slices.Sort(a.PAPs)
	a.PAPs = slices.Compact(a.PAPs)
	if a.Retention < 0 {
		return Errorf(EINVALID, "retention: %v is negative", a.Retention)
	}
	for t, d := range a.RetentionByType {
		if d <= 0 || t == "" {
			return Errorf(EINVALID, "retention of type %q: %v must be positive", t, d)
		}
	}
	for _, f := range a.PersonalData {
		if !slices.Contains(PersonalDataFlags, f) {
			return Errorf(EINVALID, "personal-data flag %q is not one of %s", f, strings.Join(PersonalDataFlags, ", "))
		}
	}
	slices.Sort(a.PersonalData)
	a.PersonalData = slices.Compact(a.PersonalData)
	return nil
}

// Defaults are the markings objects shared under the agreement carry when
// they have no releasability of their own.
func (a *Agreement) Defaults() MarkParts {
	return MarkParts{Nations: a.RelNations, Sectors: a.RelSectors}
}

// Refuse says why the agreement forbids a version released as r with
// markings p at time now, or "" when it permits it.
func (a *Agreement) Refuse(r Release, p MarkParts, now time.Time) string {
	switch {
	case !a.Expires.IsZero() && !now.Before(a.Expires):
		return fmt.Sprintf("%s expired on %s: nothing more may be shared under it", a.Name(), a.Expires.UTC().Format(time.RFC3339))
	case len(a.TLPs) > 0 && !slices.Contains(a.TLPs, r.TLP):
		return fmt.Sprintf("%s does not permit TLP:%s (it permits %s)", a.Name(), strings.ToUpper(r.TLP.String()), tlpList(a.TLPs))
	case len(a.PAPs) > 0 && p.PAP != PAPUnknown && !slices.Contains(a.PAPs, p.PAP):
		return fmt.Sprintf("%s does not permit PAP:%s (it permits %s)", a.Name(), strings.ToUpper(p.PAP.String()), papList(a.PAPs))
	}
	return ""
}

func tlpList(ts []TLP) string {
	var s []string
	for _, t := range ts {
		s = append(s, "TLP:"+strings.ToUpper(t.String()))
	}
	return strings.Join(s, ", ")
}

func papList(ps []PAP) string {
	var s []string
	for _, p := range ps {
		s = append(s, "PAP:"+strings.ToUpper(p.String()))
	}
	return strings.Join(s, ", ")
}

// Governs returns the group whose agreement a version shared with audience
// au is under (0: the hub's), and false when none is (an organisation's
// own versions, exercises).
func Governs(au Audience) (int64, bool) {
	switch au.Kind {
	case AudienceGroup:
		return au.Group, true
	case AudienceAll, 0:
		return 0, true
	}
	return 0, false
}

// AgreementService keeps the sharing agreements and the hub's marking
// sets. Every change is recorded in the audit log by the implementation.
type AgreementService interface {
	// SetAgreement stores a new version of the agreement of a.Group,
	// setting a.Version, a.Created and a.Actor. Returns EINVALID,
	// ENOTFOUND for an unknown group.
	SetAgreement(ctx context.Context, a *Agreement, actor string) error
	// Agreement returns the agreement in force for group (0: the hub's).
	// Returns ENOTFOUND when there is none.
	Agreement(ctx context.Context, group int64) (*Agreement, error)
	// AgreementHistory returns every version for group, oldest first.
	AgreementHistory(ctx context.Context, group int64) ([]*Agreement, error)
	// Agreements returns the agreements in force, the hub's first, then
	// by group name.
	Agreements(ctx context.Context) ([]*Agreement, error)
	// Terms returns what every import applies (Terms.Mark): the
	// agreements in force and the stored marking definitions that stand
	// for marks.
	Terms(ctx context.Context) (*Terms, error)

	// SetMarkingSet defines or redefines a marking set (its levels may
	// only grow, so that stored objects keep their meaning). Returns
	// EINVALID.
	SetMarkingSet(ctx context.Context, s *MarkingSet, actor string) error
	// MarkingSets lists the marking sets by name.
	MarkingSets(ctx context.Context) ([]*MarkingSet, error)
	// SetClearance sets organisation org's clearance in set (0 removes
	// it). Returns EINVALID, ENOTFOUND (organisation or set).
	SetClearance(ctx context.Context, org int64, set string, level int, actor string) error
}

// Terms are what an import needs of the hub's agreements and marking
// definitions: the store loads them in the import's transaction and
// passes every version through Mark.
//
// A marking definition restricts what refers to it, so an import never
// stores an object with less restriction than its producer asked for: an
// object that refers (in object_marking_refs or granular_markings) to a
// marking definition other than TLP's is refused, naming it, unless the
// definition is known, that is stored where the import's producer may see
// it (TermsFor), or met earlier in the same input and accepted there
// (Ordered brings one that comes later in the input before the objects
// that refer to it). So a
// reference to a marking definition refused in the same input (Refused),
// or to one the hub does not hold (STIX allows definitions held
// elsewhere; the hub cannot apply what it does not have), is refused
// rather than marking nothing; a definition held out of the producer's
// sight is answered exactly as one that does not exist.
type Terms struct {
	// Agreements in force, by group (0: the hub's).
	Agreements map[int64]*Agreement
	// Markings are the marking definitions the import may rely on, by
	// canonical id, and what each stands for (ParseMarkingDefinition; no
	// parts for a definition, such as a statement, that marks nothing
	// beside TLP): those stored that the producer may see, and those
	// accepted earlier in the same import.
	Markings map[string]MarkParts
	// Refused are the marking definitions an object may not rely on, by
	// canonical id, with why: those refused earlier in the same import
	// (Mark, Note), and stored ones that no longer parse.
	Refused map[string]string
	Now     time.Time
}

// IsMarkingDefinition reports whether id names a marking definition.
func IsMarkingDefinition(id string) bool {
	return len(id) > len("marking-definition--") && strings.EqualFold(id[:len("marking-definition--")], "marking-definition--")
}

// Note records the refusal r of an object of the import that did not
// pass through Mark (the input's own checks, the release, RefuseRelease):
// when it refused a marking definition, an object after it that refers
// to that definition is refused too, naming why.
func (t *Terms) Note(rs ...*Rejection) {
	for _, r := range rs {
		if r == nil || !IsMarkingDefinition(r.ID) {
			continue
		}
		id := strings.ToLower(r.ID)
		if t.Refused == nil {
			t.Refused = map[string]string{}
		}
		if _, had := t.Refused[id]; !had {
			t.Refused[id] = r.Reason
		}
	}
}

// Mark settles the markings beside TLP of a version about to be released
// as r, and checks the agreement it is shared under. A marking
// definition the version refers to (o.MarkingRefs, o.GranularMarkingRefs)
// must be known (Terms): a reference to one refused in the same input, or
// to one that is neither stored where the producer may see it nor earlier
// in the input, refuses the version, naming the definition. The known
// ones are combined with the marks r already carries (a sighting's take
// those of what it sights, see SightingRelease) by Restrict; when they
// name no nations or sectors, the agreement's default releasability
// applies. A marking definition that is accepted is registered for the
// objects after it (combined by Restrict with the stored definition of
// the same id the producer may see, so that neither loosens the other);
// one that is refused is registered as refused. Returns the release with
// its Marks, or a rejection naming the agreement that forbids it, the
// malformed marking definition or the marking definition it may not rely
// on.
func (t *Terms) Mark(o *Object, r Release) (Release, *Rejection) {
	rel, rej := t.mark(o, r)
	if o.Type == "marking-definition" && rej != nil {
		t.Note(&Rejection{ID: o.ID, Reason: rej.Reason})
	}
	return rel, rej
}

func (t *Terms) mark(o *Object, r Release) (Release, *Rejection) {
	reject := func(path, why string) (Release, *Rejection) {
		return r, &Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified, Path: path, Reason: why}
	}
	var own *MarkParts // what a marking definition o stands for, once accepted
	if o.Type == "marking-definition" {
		p, _, err := ParseMarkingDefinition(o.Raw)
		if err != nil {
			return reject("extensions", ErrorMessage(err))
		}
		own = &p
	}
	parts := r.Marks.Parts()
	for i, id := range slices.Concat(o.MarkingRefs, o.GranularMarkingRefs) {
		path := "object_marking_refs"
		if i >= len(o.MarkingRefs) {
			path = "granular_markings"
		}
		key := strings.ToLower(id)
		if why, ok := t.Refused[key]; ok {
			return reject(path, fmt.Sprintf("it refers to marking definition %s, which was refused (%s): "+
				"an object is never stored with less restriction than its markings ask for", id, why))
		}
		m, ok := t.Markings[key]
		if !ok {
			return reject(path, fmt.Sprintf("it refers to marking definition %s, which is not known: "+
				"a marking definition must be stored, or be in the same input, for the objects it marks to be accepted", id))
		}
		parts = Restrict(parts, m)
	}
	if g, ok := Governs(r.Audience); ok {
		if a := t.Agreements[g]; a != nil {
			if len(parts.Nations) == 0 {
				parts.Nations = a.RelNations
			}
			if len(parts.Sectors) == 0 {
				parts.Sectors = a.RelSectors
			}
			now := t.Now
			if now.IsZero() {
				now = time.Now()
			}
			if why := a.Refuse(r, parts, now); why != "" {
				return reject("object_marking_refs", why)
			}
		}
	}
	if own != nil {
		t.know(strings.ToLower(o.ID), *own)
	}
	r.Marks = parts.Marks()
	return r, nil
}

// KnowMarking adds a stored marking definition whose JSON is raw, released
// as r, to what an import for viewer v may rely on (TermsFor), when v may
// see it: its parts (ParseMarkingDefinition), or a refusal when it no
// longer parses. The store calls it for every stored version, in holding
// order then Seq order; of an id, only the oldest holding v may see
// counts (the one v is shown), as ownership shows it (Admit).
func (t *Terms) KnowMarking(v *Viewer, id string, holding int64, r Release, raw json.RawMessage, shown map[string]int64) {
	if v != nil && !importSees(*v, r) {
		return
	}
	key := strings.ToLower(id)
	if h, ok := shown[key]; ok && h != holding {
		return
	}
	shown[key] = holding
	p, _, err := ParseMarkingDefinition(raw)
	if err == nil && !json.Valid(raw) {
		err = Errorf(EINVALID, "its stored body is damaged")
	}
	if err != nil {
		if t.Refused == nil {
			t.Refused = map[string]string{}
		}
		t.Refused[key] = ErrorMessage(err)
		delete(t.Markings, key)
		return
	}
	// A later version of the same holding: the most restrictive of its
	// versions.
	t.know(key, p)
}

// know registers what the marking definition of canonical id stands for,
// combined by Restrict with what was known of it already, so that neither
// loosens the other.
func (t *Terms) know(key string, p MarkParts) {
	if t.Markings == nil {
		t.Markings = map[string]MarkParts{}
	}
	if had, ok := t.Markings[key]; ok {
		p = Restrict(had, p)
	}
	t.Markings[key] = p
}

// importSees reports whether an import whose producer is v may rely on a
// stored version released as r: the hub (organisation 0) relies on
// everything outside exercises; an organisation on what it may see
// (MaySee), inside the exercise it imports into as well as outside, and on
// the hub's own marking definitions kept to the hub alone (producer 0,
// audience the producer: the hub's vocabulary, imported without --org,
// which no anonymous publication can be, since those go to a group or all
// members).
func importSees(v Viewer, r Release) bool {
	if v.Org == 0 {
		return !r.Audience.Kind.IsExercise() || v.Exercise != 0 && r.Audience.Group == v.Exercise
	}
	if r.Producer == 0 && r.Audience.Kind == AudienceOrg {
		return true
	}
	if MaySee(v, r) {
		return true
	}
	if v.Exercise != 0 {
		out := v
		out.Exercise = 0
		return MaySee(out, r)
	}
	return false
}

// agreementJSON is an agreement's JSON form (REST, --json): levels by
// name, spans as ParseSpan reads them.
type agreementJSON struct {
	Group           int64             `json:"group"`
	GroupName       string            `json:"group_name,omitempty"`
	Version         int               `json:"version,omitempty"`
	Purpose         string            `json:"purpose"`
	TLPs            []string          `json:"tlp,omitempty"`
	PAPs            []string          `json:"pap,omitempty"`
	RelNations      []string          `json:"rel_nations,omitempty"`
	RelSectors      []string          `json:"rel_sectors,omitempty"`
	Retention       string            `json:"retention,omitempty"`
	RetentionByType map[string]string `json:"retention_by_type,omitempty"`
	Expires         *time.Time        `json:"expires,omitempty"`
	Federate        bool              `json:"federate"`
	PersonalData    []string          `json:"personal_data,omitempty"`
	Actor           string            `json:"actor,omitempty"`
	Created         *time.Time        `json:"created,omitempty"`
}

// MarshalJSON writes the agreement with its levels by name and its
// retention as spans ("90d", "36h").
func (a Agreement) MarshalJSON() ([]byte, error) {
	j := agreementJSON{Group: a.Group, GroupName: a.GroupName, Version: a.Version, Purpose: a.Purpose,
		RelNations: a.RelNations, RelSectors: a.RelSectors, Federate: a.Federate, PersonalData: a.PersonalData, Actor: a.Actor}
	for _, t := range a.TLPs {
		j.TLPs = append(j.TLPs, t.String())
	}
	for _, p := range a.PAPs {
		j.PAPs = append(j.PAPs, p.String())
	}
	if a.Retention > 0 {
		j.Retention = FormatSpan(a.Retention)
	}
	for t, d := range a.RetentionByType {
		if j.RetentionByType == nil {
			j.RetentionByType = map[string]string{}
		}
		j.RetentionByType[t] = FormatSpan(d)
	}
	if !a.Expires.IsZero() {
		e := a.Expires.UTC()
		j.Expires = &e
	}
	if !a.Created.IsZero() {
		c := a.Created.UTC()
		j.Created = &c
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes. Returns EINVALID naming
// the field for a level or span it cannot read; Check validates the rest.
func (a *Agreement) UnmarshalJSON(b []byte) error {
	var j agreementJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Errorf(EINVALID, "agreement: %v", err)
	}
	*a = Agreement{Group: j.Group, GroupName: j.GroupName, Version: j.Version, Purpose: j.Purpose,
		RelNations: j.RelNations, RelSectors: j.RelSectors, Federate: j.Federate, PersonalData: j.PersonalData, Actor: j.Actor}
	for _, t := range j.TLPs {
		l, err := ParseTLP(t)
		if err != nil {
			return Errorf(EINVALID, "tlp: %s", ErrorMessage(err))
		}
		a.TLPs = append(a.TLPs, l)
	}
	for _, p := range j.PAPs {
		l, err := ParsePAP(p)
		if err != nil {
			return Errorf(EINVALID, "pap: %s", ErrorMessage(err))
		}
		a.PAPs = append(a.PAPs, l)
	}
	var err error
	if j.Retention != "" {
		if a.Retention, err = ParseSpan(j.Retention); err != nil {
			return Errorf(EINVALID, "retention: %s", ErrorMessage(err))
		}
	}
	for t, s := range j.RetentionByType {
		d, err := ParseSpan(s)
		if err != nil {
			return Errorf(EINVALID, "retention_by_type.%s: %s", t, ErrorMessage(err))
		}
		if a.RetentionByType == nil {
			a.RetentionByType = map[string]time.Duration{}
		}
		a.RetentionByType[t] = d
	}
	if j.Expires != nil {
		a.Expires = *j.Expires
	}
	if j.Created != nil {
		a.Created = *j.Created
	}
	return nil
}

// ParseSpan reads a span of time: a number of days ("90d") or a Go
// duration ("36h"). Returns EINVALID for anything else or a span that is
// not positive.
func ParseSpan(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 && n < 1000000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, Errorf(EINVALID, "%q is not a positive span of time (90d, 36h)", s)
}

// FormatSpan writes d as ParseSpan reads it: whole days as "90d".
func FormatSpan(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
