package cyberpact

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// AuditScope names the object versions an audit entry concerns by their
// Seqs, which stay with a version for as long as it is stored, instead of
// listing each one: an entry costs the same for a page of a thousand
// versions as for one.
//
// The versions concerned have Seqs from First to Last. Without Runs every
// version stored in that range is concerned (a write: an import's versions
// are the only ones in its range). With Runs, they alternate between the
// number of consecutive Seqs concerned and the number skipped, starting at
// First with Seqs concerned: a page of a collection that skips other
// collections' versions, or older versions of the objects it lists. Count
// is the number of versions concerned.
//
// For a release the scope also says what was read, so that what the
// recipient could see then stays known: the recipient organisation's
// sharing groups at the time (the organisation is the entry's Recipient),
// whether it was a read of the public collection or inside an exercise,
// and the request's path and query.
//
// A release whose reading (actor, recipient, interface, detail, groups,
// public, exercise, path and query) is that of an earlier release entry
// names that entry in Cont instead of repeating it: the next pages of one
// TAXII reading cost their Seqs and little else. The log keeps such a
// continuation without the reading (see AuditEntry.stored), and reads
// fill it in again from the entry named (AuditEntry.Continue).
type AuditScope struct {
	First int64   `json:"first"`
	Last  int64   `json:"last"`
	Count int     `json:"count"`
	Runs  []int64 `json:"runs,omitempty"`

	Groups   []int64 `json:"groups,omitempty"`
	Public   bool    `json:"public,omitempty"`
	Exercise int64   `json:"exercise,omitempty"`
	Path     string  `json:"path,omitempty"`
	Query    string  `json:"query,omitempty"`
	// Cont is the Seq of the release entry whose reading this one
	// continues (0 for none): Groups, Public, Exercise, Path, Query,
	// Nation, Sector and Clearances, and the entry's Actor, Via and
	// Detail, are that entry's.
	Cont int64 `json:"cont,omitempty"`
	// Nation, Sector and Clearances (Clearances.String) are the
	// recipient's at the time, which markings beside TLP were checked
	// against.
	Nation     string `json:"nation,omitempty"`
	Sector     string `json:"sector,omitempty"`
	Clearances string `json:"clearances,omitempty"`
}

// maxAuditQuery caps the query kept of a release: a longer one is cut
// (at a character boundary) and ends in "…".
const maxAuditQuery = 2048

// NewAuditScope returns the scope of the versions with the given Seqs, in
// any order, or nil when there are none. Runs are left empty when the
// Seqs are every one from the first to the last.
func NewAuditScope(seqs []int64) *AuditScope {
	if len(seqs) == 0 {
		return nil
	}
	s := slices.Clone(seqs)
	slices.Sort(s)
	s = slices.Compact(s)
	sc := &AuditScope{First: s[0], Last: s[len(s)-1], Count: len(s)}
	if sc.Last-sc.First+1 == int64(len(s)) {
		return sc
	}
	run := int64(1)
	for i := 1; i < len(s); i++ {
		if gap := s[i] - s[i-1] - 1; gap > 0 {
			sc.Runs = append(sc.Runs, run, gap)
			run = 0
		}
		run++
	}
	sc.Runs = append(sc.Runs, run)
	return sc
}

// Contains reports whether the version with Seq seq is concerned.
func (s *AuditScope) Contains(seq int64) bool {
	if s == nil || seq < s.First || seq > s.Last {
		return false
	}
	if len(s.Runs) == 0 {
		return true
	}
	at := s.First
	for i, n := range s.Runs {
		if seq < at+n {
			return i%2 == 0
		}
		at += n
	}
	return false
}

// check reports what makes the scope inconsistent.
func (s *AuditScope) check() error {
	switch {
	case s.First < 1 || s.Last < s.First:
		return fmt.Errorf("scope Seqs %d to %d: not a range of Seqs", s.First, s.Last)
	case s.Count < 1:
		return fmt.Errorf("scope counts %d versions", s.Count)
	case len(s.Runs) == 0 && int64(s.Count) > s.Last-s.First+1:
		return fmt.Errorf("scope counts %d versions in %d Seqs", s.Count, s.Last-s.First+1)
	}
	if len(s.Runs) > 0 {
		if len(s.Runs)%2 == 0 {
			return errors.New("scope runs end in a gap")
		}
		var total, in int64
		for i, n := range s.Runs {
			if n < 1 {
				return fmt.Errorf("scope run %d is %d long", i, n)
			}
			total += n
			if i%2 == 0 {
				in += n
			}
		}
		if total != s.Last-s.First+1 || in != int64(s.Count) {
			return fmt.Errorf("scope runs cover %d Seqs with %d versions, not %d with %d", total, in, s.Last-s.First+1, s.Count)
		}
	}
	if s.Cont < 0 {
		return fmt.Errorf("scope continues entry %d", s.Cont)
	}
	for _, t := range [...]string{s.Path, s.Query} {
		if !ValidText(t) {
			return fmt.Errorf("text %q is not UTF-8 without NUL", t)
		}
	}
	return nil
}

// auditScopeText is what a store keeps of a scope as text: everything
// but the range, which it keeps in columns of its own to search by, and
// the runs, which it keeps as bytes.
type auditScopeText struct {
	Count    int     `json:"count,omitempty"` // left out when the range and runs say it
	Cont     int64   `json:"cont,omitempty"`
	Groups   []int64 `json:"groups,omitempty"`
	Public   bool    `json:"public,omitempty"`
	Exercise int64   `json:"exercise,omitempty"`
	Path     string  `json:"path,omitempty"`
	Query    string  `json:"query,omitempty"`
	// Nation, Sector and Clearances: see AuditScope.
	Nation     string `json:"nation,omitempty"`
	Sector     string `json:"sector,omitempty"`
	Clearances string `json:"clearances,omitempty"`
}

// AuditScopeColumns returns what a store keeps of s, in the columns every
// store has for it: the range (0 and 0 without a scope), the rest as JSON
// text ("" without a scope), and the runs as unsigned varints (nil when
// there are none), so that a page that skips every other Seq still costs
// about two bytes a version. The count is left out of the text when the
// range and runs say it, and a continuation's text holds only what is its
// own (AuditEntry.stored).
func AuditScopeColumns(s *AuditScope) (first, last int64, text string, runs []byte, err error) {
	if s == nil {
		return 0, 0, "", nil, nil
	}
	t := auditScopeText{Count: s.Count, Cont: s.Cont, Groups: s.Groups, Public: s.Public, Exercise: s.Exercise, Path: s.Path, Query: s.Query,
		Nation: s.Nation, Sector: s.Sector, Clearances: s.Clearances}
	if s.Count == impliedCount(s.First, s.Last, s.Runs) {
		t.Count = 0
	}
	if s.Cont != 0 {
		t.Groups, t.Public, t.Exercise, t.Path, t.Query = nil, false, 0, "", ""
		t.Nation, t.Sector, t.Clearances = "", "", ""
	}
	// Queries are full of &, which HTML escaping would make six bytes.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return 0, 0, "", nil, err
	}
	for _, r := range s.Runs {
		runs = binary.AppendUvarint(runs, uint64(r))
	}
	return s.First, s.Last, strings.TrimSuffix(b.String(), "\n"), runs, nil
}

// AuditScopeOf reads back what AuditScopeColumns returned: nil for an
// entry without a scope.
func AuditScopeOf(first, last int64, text string, runs []byte) (*AuditScope, error) {
	if text == "" && first == 0 && last == 0 && len(runs) == 0 {
		return nil, nil
	}
	var t auditScopeText
	if err := json.Unmarshal([]byte(text), &t); err != nil {
		return nil, fmt.Errorf("scope: %w", err)
	}
	s := &AuditScope{First: first, Last: last, Count: t.Count, Cont: t.Cont, Groups: t.Groups, Public: t.Public, Exercise: t.Exercise, Path: t.Path, Query: t.Query,
		Nation: t.Nation, Sector: t.Sector, Clearances: t.Clearances}
	for len(runs) > 0 {
		v, n := binary.Uvarint(runs)
		if n <= 0 || v > 1<<62 {
			return nil, errors.New("scope: runs are not varints")
		}
		s.Runs = append(s.Runs, int64(v))
		runs = runs[n:]
	}
	if s.Count == 0 {
		s.Count = impliedCount(first, last, s.Runs)
	}
	return s, nil
}

// impliedCount is the number of versions a range and its runs concern:
// every Seq of the range without runs, the runs concerned with them.
func impliedCount(first, last int64, runs []int64) int {
	if len(runs) == 0 {
		return int(last - first + 1)
	}
	n := int64(0)
	for i := 0; i < len(runs); i += 2 {
		n += runs[i]
	}
	return int(n)
}

// Continue fills in what the continuation e takes from head, the entry
// its scope's Cont names: the actor, interface and detail, and the
// reading (groups, public, exercise, path and query, and the recipient's
// nation, sector and clearances). e's hash is the
// same before and after.
func (e *AuditEntry) Continue(head *AuditEntry) {
	if e.Scope == nil || e.Scope.Cont == 0 || head == nil || head.Seq != e.Scope.Cont {
		return
	}
	e.Actor, e.Via, e.Detail = head.Actor, head.Via, head.Detail
	if h := head.Scope; h != nil {
		e.Scope.Groups, e.Scope.Public, e.Scope.Exercise = slices.Clone(h.Groups), h.Public, h.Exercise
		e.Scope.Path, e.Scope.Query = h.Path, h.Query
		e.Scope.Nation, e.Scope.Sector, e.Scope.Clearances = h.Nation, h.Sector, h.Clearances
	}
}

// releaseReading is what a release entry continuing e must share with it
// (see AuditScope.Cont), as a map key; "" for an entry no release may
// continue: not a release, without a scope, or itself a continuation.
func releaseReading(e *AuditEntry) string {
	sc := e.Scope
	if e.Action != AuditRelease || sc == nil || sc.Cont != 0 || len(e.Objects) > 0 {
		return ""
	}
	b, _ := json.Marshal([]any{e.Actor, e.ActorOrg, e.Recipient, e.Via, e.Detail, sc.Groups, sc.Public, sc.Exercise, sc.Path, sc.Query, sc.Nation, sc.Sector, sc.Clearances})
	return string(b)
}

// Concerns reports whether the entry concerns a version of object id,
// whose stored versions have the given Seqs: by its Objects, or by its
// Scope.
func (e *AuditEntry) Concerns(id string, seqs []int64) bool {
	for _, o := range e.Objects {
		if strings.HasPrefix(o, id+"@") {
			return true
		}
	}
	for _, s := range seqs {
		if e.Scope.Contains(s) {
			return true
		}
	}
	return false
}

// Actor is who makes a write or receives a release, and through which
// interface: a user of a member organisation over rest, taxii or stream;
// "cli" (or a name given on the command line) through cli; a peer hub
// ("sync:NAME") through sync; the exercise engine; the demonstration seed.
type Actor struct {
	Name string
	Org  int64 // the actor's organisation, 0 for the hub itself
	Via  string
}

// ReleaseEntry returns the entry recording that objs, the versions of one
// page or stream segment read by who with the viewer v (nil for a read of
// the public collection without a key) through path and query, were
// delivered: one compact entry by Seqs, whatever the page's length. It
// returns nil when every version was produced by the reader's own
// organisation, which is no release.
func ReleaseEntry(who Actor, v *Viewer, path, query string, objs []*Object) *AuditEntry {
	seqs := make([]int64, 0, len(objs))
	released := false
	for _, o := range objs {
		seqs = append(seqs, o.Seq)
		if who.Org == 0 || o.Release.Producer != who.Org {
			released = true
		}
	}
	if !released {
		return nil
	}
	sc := NewAuditScope(seqs)
	sc.Path, sc.Query = path, cutText(query, maxAuditQuery)
	if v != nil {
		sc.Groups, sc.Public, sc.Exercise = slices.Clone(v.Groups), v.Public, v.Exercise
		sc.Nation, sc.Sector, sc.Clearances = v.Nation, v.Sector, v.Clearances.String()
	}
	e := &AuditEntry{Action: AuditRelease, Actor: who.Name, ActorOrg: who.Org, Recipient: who.Org, Via: who.Via, Scope: sc}
	if who.Org == 0 {
		e.Detail = "public collection"
	}
	return e
}

// cutText returns s cut to at most max bytes at a character boundary,
// ending in "…" when it was cut.
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// AuditedImport is the one path by which objects are written, whichever
// front end writes them (REST, TAXII, the command line's import, a
// federation pull, an exercise, the demonstration seed): it imports next
// into store with opts and, when the import committed and added versions,
// records in log the write entry naming them by their Seqs (every version
// an import adds lies between its first and its last Seq, and nothing
// else does), with what the import did and about, a few words on where
// the objects came from. Returns EINTERNAL without a log: a write is never
// left unrecorded.
//
// When log is the store itself, the entry is recorded with the write
// (ImportOptions.Audit): a write that commits is never left without its
// entry, even if the process dies at once, and a commit is never answered
// as a failure because the log could not be written at that moment. With
// another log the entry is appended after the import commits; when that
// append fails the error is returned and the write stays, unrecorded.
func AuditedImport(ctx context.Context, store ObjectStore, log AuditLog, who Actor, next ObjectSource, opts ImportOptions, about string) (*ImportResult, error) {
	if log == nil {
		return nil, &Error{Code: EINTERNAL, Message: "no audit log", Err: errors.New("refusing to write unrecorded: no audit log")}
	}
	audience := auditAudience(ctx, log, opts)
	entry := func(res *ImportResult) *AuditEntry {
		d := fmt.Sprintf("%d added, %d already present, %d refused; audience %s", res.Added, res.Present, len(res.Rejected), audience)
		if res.Kept > 0 {
			d += fmt.Sprintf("; %d conflicting versions left as stored (on-conflict keep-stored)", res.Kept)
		}
		if len(res.Replaced) > 0 {
			d += fmt.Sprintf("; replaced %d stored versions with different content (on-conflict replace), listed as the entry's objects", len(res.Replaced))
		}
		if about != "" {
			d += "; " + about
		}
		// A replacement deletes the stored version, whose Seq goes with
		// it: the entry names the versions replaced, as a deletion names
		// what it deleted.
		return &AuditEntry{Action: AuditWrite, Actor: who.Name, ActorOrg: who.Org, Via: who.Via, Detail: d,
			Objects: slices.Clone(res.Replaced), Scope: &AuditScope{First: res.FirstSeq, Last: res.LastSeq, Count: res.Added}}
	}
	if l, ok := log.(ObjectStore); ok && l == store {
		opts.Audit = entry
	}
	res, err := store.Import(ctx, next, opts)
	if err != nil || !res.Committed || res.Added == 0 || res.Audited {
		return res, err
	}
	if err := log.Audit(ctx, entry(res)); err != nil {
		return res, &Error{Code: EINTERNAL, Message: "audit failed", Err: err}
	}
	return res, nil
}

// auditAudience names an import's audience as the store applies it, a
// sharing group by its name when the log can tell it (a store that keeps
// the accounts too), so that the entry reads without looking ids up.
func auditAudience(ctx context.Context, log AuditLog, opts ImportOptions) string {
	if opts.Audience.Kind == 0 {
		return "all (TLP:RED to the producer alone)"
	}
	names := map[int64]string{}
	if g, ok := log.(interface {
		Groups(context.Context) ([]*Group, error)
	}); ok && opts.Audience.Kind == AudienceGroup {
		if groups, err := g.Groups(ctx); err == nil {
			for _, x := range groups {
				names[x.ID] = x.Name
			}
		}
	}
	return opts.Audience.Name(names)
}

// AuditDeletion records that who deleted the versions refs ("id@version")
// of objects: deletions list their versions, whose Seqs go with them.
// Returns EINTERNAL without a log, or when the append fails.
func AuditDeletion(ctx context.Context, log AuditLog, who Actor, refs []string, detail string) error {
	if log == nil {
		return &Error{Code: EINTERNAL, Message: "no audit log", Err: errors.New("refusing to delete unrecorded: no audit log")}
	}
	e := &AuditEntry{Action: AuditDelete, Actor: who.Name, ActorOrg: who.Org, Via: who.Via, Objects: refs, Detail: detail}
	if err := log.Audit(ctx, e); err != nil {
		return &Error{Code: EINTERNAL, Message: "audit failed", Err: err}
	}
	return nil
}

// Delivery is one version of an object that one release delivered.
type Delivery struct {
	Entry *AuditEntry `json:"entry"`
	ID    string      `json:"id"`
	// Version is the version's key as stored; for an entry written
	// before scopes existed, the version as that entry listed it.
	Version string `json:"version"`
	Seq     int64  `json:"seq,omitempty"` // 0 for an entry written before scopes existed
	// Rule says whether the sharing rule (MaySee), applied to the
	// recipient as the entry recorded it (its organisation, and its
	// groups at the time), lets it see the version: false flags a release
	// to be looked into. Absent for releases the rule does not decide:
	// pushes to peer hubs and entries without a scope.
	Rule *bool `json:"rule,omitempty"`
}

// Deliveries answers who received which version of object id, when and
// through which interface: for each release entry among entries that
// concerns id, the versions it delivered to an organisation other than
// their producer, oldest entry first. versions are the object's stored
// versions (every one, whatever its audience): a scope names versions by
// their Seqs, so a version deleted since is found only in entries that
// list it by name.
func Deliveries(entries []*AuditEntry, id string, versions []*Object) []Delivery {
	vs := slices.Clone(versions)
	slices.SortFunc(vs, func(a, b *Object) int { return cmp.Compare(a.Seq, b.Seq) })
	var out []Delivery
	for _, e := range entries {
		if e.Action != AuditRelease {
			continue
		}
		for _, o := range e.Objects {
			if v, ok := strings.CutPrefix(o, id+"@"); ok {
				out = append(out, Delivery{Entry: e, ID: id, Version: v})
			}
		}
		for _, v := range vs {
			if !e.Scope.Contains(v.Seq) || e.Recipient != 0 && v.Release.Producer == e.Recipient {
				continue
			}
			d := Delivery{Entry: e, ID: id, Version: v.Modified, Seq: v.Seq}
			if e.Via != "sync" {
				ok := MaySee(e.Scope.Viewer(e.Recipient), v.Release)
				d.Rule = &ok
			}
			out = append(out, d)
		}
	}
	return out
}

// Viewer returns the viewer a release's scope recorded, for recipient
// org: the organisation with its groups, nation, sector and clearances
// at the time, through the public
// collection or inside an exercise.
func (s *AuditScope) Viewer(org int64) Viewer {
	c, _ := ParseClearances(s.Clearances)
	return Viewer{Org: org, Groups: slices.Clone(s.Groups), Public: s.Public, Exercise: s.Exercise,
		Nation: s.Nation, Sector: s.Sector, Clearances: c}
}
