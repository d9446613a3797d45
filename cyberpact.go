// Package cyberpact holds the domain of the hub: the types every other
// package speaks (stored STIX object versions, filters, pages, import
// results) and the service interfaces the stores implement. It imports
// nothing from the project; each subpackage is either pure domain code
// (stix, pattern, match) or the adapter for exactly one dependency (sqlite,
// http).
package cyberpact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Object is one version of one STIX object as the hub keeps it. Raw holds
// the object's JSON exactly (whitespace aside) as it came in, so exporting
// it gives back what was imported; the other fields are the properties the
// store indexes, read once at import. Objects read back from a store carry
// Seq, Added, Holding, ID, Type, Modified, Revoked, Release and Raw; the
// rest is in Raw.
type Object struct {
	Seq   int64     // position in the hub's added sequence, set by the store; strictly increasing
	Added time.Time // when this version was added, set by the store
	// Holding is the Seq of the first version of this id its producer
	// stored: the producer's holding of the id (see Ownership in
	// ownership.go). Set by the store.
	Holding int64

	ID          string
	Type        string
	SpecVersion string
	Created     string // normalised timestamp (see stix.NormTime), "" when absent
	Modified    string // normalised version key: modified, else created, else ""
	Revoked     bool
	Labels      []string
	Raw         json.RawMessage

	// TLP is the level read from the object's own markings (TLPUnknown
	// when it has none); Release is how the store shared this version: its
	// producer, audience and effective level (the collection's default
	// where the object carries none).
	TLP     TLP
	Release Release

	// Index-only fields, filled in by the parser and not read back.
	CreatedBy string // created_by_ref: the identity that made the object, "" when absent
	// MarkingRefs are the marking definitions other than TLP's in the
	// object's object_marking_refs, and GranularMarkingRefs those in its
	// granular_markings (which mark the whole object as TLP's do), in
	// canonical form; Terms.Mark reads them into Release.Marks, and
	// refuses the object when one is refused or unknown.
	MarkingRefs         []string
	GranularMarkingRefs []string
	Text                SearchText
	Refs                []Ref // for relationship and sighting objects: the objects they link
	// Observables are the observable values the object holds (SCO values
	// and hashes, values inside indicator patterns), for correlation.
	Observables []Observable
	Index       int // position in the input's objects array, from 0
	Line        int // line of the input the object starts on, from 1; 0 when unknown
}

// SearchText is what full-text search indexes of an object version.
type SearchText struct {
	Name        string // name, and title-like properties
	Description string
	Aliases     string // aliases of any kind, space separated
	ExternalIDs string // external_references[].external_id, e.g. T1059, CAPEC-66
	Pattern     string // an indicator's pattern text
	Values      string // observable values: SCO values, hashes, values inside patterns not quoted verbatim in Pattern
}

// Ref is one link from a relationship or sighting to another object: Prop is
// the property that holds it (source_ref, target_ref, sighting_of_ref,
// where_sighted_refs, observed_data_refs) and ID the object it names.
type Ref struct {
	Prop string
	ID   string
}

// Outgoing reports whether r points from its relationship's subject: the
// source_ref of a relationship. Every other link points at the object.
func (r Ref) Outgoing() bool { return r.Prop == "source_ref" }

// Direction selects relationships by which end an object is on.
type Direction int

const (
	Both     Direction = iota // either end
	Outgoing                  // the object is the relationship's source_ref
	Incoming                  // the object is a target_ref, sighting_of_ref or other referenced end
)

// ObjectFilter selects stored object versions. Zero fields select
// everything; a list matches any of its values.
type ObjectFilter struct {
	IDs          []string
	Types        []string
	Labels       []string
	SpecVersions []string
	Text         string // full-text query (words, "phrases", prefix*)

	// ModifiedSince and ModifiedUntil bound the version key (inclusive).
	ModifiedSince time.Time
	ModifiedUntil time.Time
	// AddedAfter selects versions added strictly after this time.
	AddedAfter time.Time

	// AllVersions returns every version instead of only each object's
	// latest.
	AllVersions bool
	// Viewer, when set, applies the sharing rule (MaySee): only versions it
	// may see are selected, "latest" means the latest of those, and a
	// relationship or sighting whose ends it may not see is left out. Nil
	// means no restriction: for the hub's own maintenance only.
	Viewer *Viewer
	// Audience, when set, selects only versions released to it: a TAXII
	// collection's contents.
	Audience *Audience
	// MaxTLP, when set, leaves out versions above this level: exported
	// feeds never carry TLP:RED.
	MaxTLP TLP
	// MaxPAP, when set, leaves out versions marked with a higher PAP
	// level: exports to sensors and feeds never carry PAP:RED.
	MaxPAP PAP
	// Versions selects versions by TAXII's match[version]: "last" (the
	// default), "first", "all", or STIX timestamps; several are ORed.
	// AllVersions is the same as "all".
	Versions []string

	// Holdings, when set, selects only versions of these holdings
	// (Object.Holding): one producer's versions of an id, for a delete
	// that must touch no other producer's (a retraction).
	Holdings []int64

	// ExcludeRevoked leaves out objects whose selected version is revoked.
	// By default they are listed, and their Revoked field flags them.
	ExcludeRevoked bool

	// After is the cursor: only versions with Seq > After. Results come in
	// Seq order.
	After int64
	// AsOf, when not 0, reads the store as it was when AsOf was its last
	// Seq: versions added since, and what they change in the sharing
	// rule's answers (newer versions, holdings, the ends of edges), are
	// left out. Deletions since are not undone. Stats keeps its counts
	// current with it.
	AsOf int64
	// Limit caps a page; 0 means the store's default, and stores cap it.
	Limit int
}

// ObjectPage is one page of a listing. Next is the cursor for the following
// page (pass it as ObjectFilter.After) and More says whether there is one.
type ObjectPage struct {
	Objects []*Object
	Next    int64
	More    bool
}

// TypeStats counts the stored objects of one type.
type TypeStats struct {
	Type     string `json:"type"`
	Objects  int64  `json:"objects"`  // distinct ids
	Versions int64  `json:"versions"` // stored versions
	Revoked  int64  `json:"revoked"`  // ids whose latest version is revoked
}

// Rejection says why one object of an import was refused and where.
type Rejection struct {
	Index    int    `json:"index"`              // position in the bundle's objects array, from 0
	ID       string `json:"id,omitempty"`       // the object's id, when it had a readable one
	Modified string `json:"modified,omitempty"` // its version key, when known
	Path     string `json:"path,omitempty"`     // JSON path inside the object, e.g. external_references[2].url
	Line     int    `json:"line,omitempty"`     // line of the object's start in the input, from 1
	Reason   string `json:"reason"`
}

// Error formats the rejection with where it happened.
func (r *Rejection) Error() string {
	s := ""
	if r.ID != "" {
		s = r.ID
	} else {
		s = "object #" + strconv.Itoa(r.Index)
	}
	if r.Path != "" {
		s += " at " + r.Path
	}
	return s + ": " + r.Reason
}

// ImportOptions tune an import.
type ImportOptions struct {
	// Partial stores the acceptable objects even when others are rejected.
	// By default an import is atomic: any rejection stores nothing.
	Partial bool
	// Producer and Audience are the release of every version imported:
	// which organisation produced them (0: the hub itself, as for reference
	// data imported from the command line) and who they are shared with.
	// The zero Audience means all members, except that TLP:RED versions
	// stay with the producer alone; an explicit AudienceAll refuses them.
	Producer int64
	Audience Audience
	// Submitter, when not 0, makes the import an anonymous publication by
	// that organisation (see AnonymousImport; Producer is then 0): the
	// store holds its versions apart per submitter (Admit, with the
	// submitter's sharing groups) and records the submitter of each
	// holding it adds to in the import's transaction
	// (AnonymityStore.AnonymousSubmitter).
	Submitter int64
	// DefaultTLP is the level of objects that carry no TLP marking; zero
	// means TLP:AMBER.
	DefaultTLP TLP
	// Origin, when set, is the provenance of every version added: the
	// peer hub federation brought them from. The store records it in the
	// import's transaction (see PeerStore.Origins).
	Origin *Origin
	// PeerState, when set, returns the state of the peer a pull reads
	// from as it stands once this import is stored (its counts moved by
	// res); the store saves it in the import's transaction, when that
	// commits, so that what peer status counts is what is stored whatever
	// ends the process.
	PeerState func(res *ImportResult) *PeerState
	// ReleaseFor, when set, decides each version's release from the one
	// the options give it (ReleaseOf): sightings take the release of what
	// they sight (SightingReleases). A *Rejection refuses the version;
	// any other error ends the import and stores nothing.
	ReleaseFor func(o *Object, r Release) (Release, error)
	// Audit, when set, returns the audit entry of an import that adds
	// versions, given its result; the store records it with the write
	// and sets ImportResult.Audited. PostgreSQL appends it in the
	// import's transaction. SQLite, whose log is another file, keeps it
	// in the import's row (committed with the objects) and appends it
	// after the commit; one that a crash or a failed append leaves behind
	// is appended when the store next opens or imports. AuditedImport
	// sets it; see there.
	Audit func(res *ImportResult) *AuditEntry
	// OnConflict says what becomes of a version whose id and modified its
	// producer already holds with different content (or that appears
	// earlier in the same input with different content); the zero value
	// rejects it. It applies only within the producer's own holding of
	// the id: a version refused because another organisation holds the id
	// stays refused whatever the policy.
	OnConflict ConflictPolicy
}

// ConflictPolicy is what an import does with a version that conflicts
// with one its producer already holds: the same id and modified with
// different content. MITRE, for one, ships some objects in several of its
// sets with the same modified and different x_mitre_domains.
type ConflictPolicy int

const (
	// ConflictReject refuses the version, with a rejection naming the
	// policy (the default).
	ConflictReject ConflictPolicy = iota
	// ConflictKeepStored keeps the stored content (or, within one input,
	// the first copy) and counts the version as kept.
	ConflictKeepStored
	// ConflictReplace stores the version in place of the producer's own
	// stored one (or, within one input, the last copy wins): the stored
	// version is deleted and the new content added with a new Seq, so
	// that readers and peers following the added sequence receive it. The
	// replaced versions are listed in the result and in the import's
	// audit entry.
	ConflictReplace
)

var conflictNames = [...]string{"reject", "keep-stored", "replace"}

// String names the policy as --on-conflict and on_conflict= take it.
func (p ConflictPolicy) String() string {
	if p < 0 || int(p) >= len(conflictNames) {
		return fmt.Sprintf("ConflictPolicy(%d)", int(p))
	}
	return conflictNames[p]
}

// ParseConflictPolicy reads a policy's name; "" is reject. Returns
// EINVALID for any other name.
func ParseConflictPolicy(s string) (ConflictPolicy, error) {
	if s == "" {
		return ConflictReject, nil
	}
	for i, n := range conflictNames {
		if s == n {
			return ConflictPolicy(i), nil
		}
	}
	return 0, Errorf(EINVALID, "conflict policy %q must be reject, keep-stored or replace", s)
}

// ConflictReason is the reason a version is rejected as a conflict under
// ConflictReject, in every store the same: sameInput says the conflicting
// copy came earlier in the same input rather than from the store.
func ConflictReason(modified string, sameInput bool) string {
	what := fmt.Sprintf("the version modified %s is already stored with different content", modified)
	if sameInput {
		what = fmt.Sprintf("an object earlier in the same input has this id and modified %s with different content", modified)
	}
	return "conflict: " + what + "; rejected under the conflict policy reject " +
		"(--on-conflict, or on_conflict= over HTTP: keep-stored keeps the stored content, replace stores this one in its place in your own holding)"
}

// ImportResult counts what an import did. When Committed is false, nothing
// was stored and Added counts what would have been.
type ImportResult struct {
	Added     int          `json:"added"`
	Present   int          `json:"already_present"`
	Rejected  []*Rejection `json:"rejected,omitempty"`
	Committed bool         `json:"committed"`
	FirstSeq  int64        `json:"-"` // Seq of the first version added, 0 if none
	LastSeq   int64        `json:"-"` // Seq of the last version added
	// Audited says that the store recorded ImportOptions.Audit's entry
	// with the write.
	Audited bool `json:"-"`
	// Kept counts the conflicting versions left as stored under
	// ConflictKeepStored.
	Kept int `json:"kept,omitempty"`
	// Replaced lists ("id@modified") the stored versions that
	// ConflictReplace replaced; their new content is counted in Added.
	Replaced []string `json:"replaced,omitempty"`
}

// ObjectSource yields the objects of one import in order. It returns io.EOF
// after the last one. An error that is a Rejections refuses that one object
// and the import goes on; any other error ends the import and stores nothing.
type ObjectSource func() (*Object, error)

// ObjectStore keeps every version of every STIX object.
type ObjectStore interface {
	// Import adds the objects from next in one transaction. A version whose
	// (id, version key) is already stored with the same content counts as
	// present; with different content it is a conflict, which
	// opts.OnConflict settles (rejected by default).
	// Returns the result and a nil error when the input was read to its end
	// (rejections included); returns EINVALID when the input itself was
	// broken, and then stores nothing.
	Import(ctx context.Context, next ObjectSource, opts ImportOptions) (*ImportResult, error)

	// Object returns the latest version of id the viewer may see (any,
	// when viewer is nil). Returns ENOTFOUND.
	Object(ctx context.Context, id string, viewer *Viewer) (*Object, error)

	// ObjectVersions returns every version of id the viewer may see, oldest
	// first. Returns ENOTFOUND when there is none.
	ObjectVersions(ctx context.Context, id string, viewer *Viewer) ([]*Object, error)

	// FindObjects returns one page of the versions that f selects, in Seq
	// order. Returns EINVALID for a bad text query.
	FindObjects(ctx context.Context, f ObjectFilter) (*ObjectPage, error)

	// FindEnvelope returns the page FindObjects returns, each version
	// with only what a TAXII envelope of it and the release entry of the
	// page need: its Seq, ID, Modified, Added, Release.Producer and Raw
	// (the store may set more). A TAXII read reads half the columns.
	FindEnvelope(ctx context.Context, f ObjectFilter) (*ObjectPage, error)

	// EachObject calls fn for every version that f selects (f.Limit
	// ignored), in Seq order, streaming; fn's error stops it and is returned.
	EachObject(ctx context.Context, f ObjectFilter, fn func(*Object) error) error

	// Relationships returns the relationship and sighting objects (latest
	// versions) that link id, on the given end, filtered and paged by f.
	Relationships(ctx context.Context, id string, dir Direction, f ObjectFilter) (*ObjectPage, error)

	// Stats counts stored objects per type, of those the viewer may see
	// (all when viewer is nil).
	Stats(ctx context.Context, viewer *Viewer) ([]TypeStats, error)

	// DeleteObject deletes the versions of id that f selects (its Viewer,
	// Audience and Versions; other fields ignored) and returns how many it
	// deleted. Returns ENOTFOUND when f selects none.
	DeleteObject(ctx context.Context, id string, f ObjectFilter) (int, error)

	// Close releases the store.
	Close() error
}

// Rejections is the list of problems that refuse one object (or several).
type Rejections []*Rejection

// Error lists the rejections, one a line.
func (rs Rejections) Error() string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += "\n"
		}
		s += r.Error()
	}
	return s
}

// RejectionsOf returns the rejections err is (a *Rejection or
// Rejections), and whether it is one: an object source's way of refusing
// objects one by one while the import goes on.
func RejectionsOf(err error) (Rejections, bool) {
	var rs Rejections
	var r *Rejection
	switch {
	case errors.As(err, &rs):
		return rs, true
	case errors.As(err, &r):
		return Rejections{r}, true
	}
	return nil, false
}

// ChangeNotifier tells subscribers that objects were added or deleted, so a
// live stream can read what is new at once instead of polling. A store
// serving several processes (PostgreSQL) notifies across all of them.
type ChangeNotifier interface {
	// Changes returns a channel that receives a value (coalesced: one
	// pending at most) after each committed change, and a function that
	// ends the subscription.
	Changes() (<-chan struct{}, func())
	// LastSeq returns the newest Seq ever added: a live stream that starts
	// "now" reads what comes after it.
	LastSeq(ctx context.Context) (int64, error)
	// DeletedSince returns the ids of the objects whose versions were
	// deleted (by DeleteObject, in any process) after the delete numbered
	// after, in commit order, and the number of the last delete; after < 0
	// returns only the number. A notice that follows a delete cannot be
	// told from one that follows an addition: this log can.
	DeletedSince(ctx context.Context, after int64) (ids []string, last int64, err error)
}

// VersionSelectors returns which versions f selects as TAXII's
// match[version] values: "all" for AllVersions, "last" when none is given,
// else f.Versions.
func (f ObjectFilter) VersionSelectors() []string {
	switch {
	case f.AllVersions:
		return []string{"all"}
	case len(f.Versions) == 0:
		return []string{"last"}
	}
	return f.Versions
}
