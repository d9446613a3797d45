package cyberpact

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Retention. A rule says how long the hub keeps the object versions of
// one type (or of every type) shared with one sharing group (or, hub-wide,
// with any audience): a version added longer ago than the rule's period
// is purged (RetentionStore.Purge), leaving nothing of it in the store:
// no row, no search or correlation entry, no link, no entry in the log of
// deletes. One audit entry says what was purged (counts per type, the
// rules), never what the versions held.
//
// The rule that applies to a version is the most specific one: its
// group's rule for its type, else its group's rule for every type, else
// the hub-wide rule for its type, else the hub-wide rule for every type;
// no rule, no purge. Exercise objects have their own purge (the
// exercise's) and no rule applies to them.
//
// Rules come from two places: the rules set with `cyberpact retention`,
// kept in their own table, and the retention periods of the sharing
// agreements in force (AgreementRules): a group's agreement gives its
// group's rules, the hub's agreement hub-wide rules. Where both give a
// rule for one group and type, the shorter period applies: an agreement's
// retention is the longest its partners agreed objects may be kept.

// AnyType is the Type of a rule for every type.
const AnyType = "*"

// RetentionRule is one retention period.
type RetentionRule struct {
	ID    int64  `json:"id"`
	Group int64  `json:"group,omitempty"` // the sharing group; 0: hub-wide
	Type  string `json:"type"`            // a STIX type, or AnyType
	Days  int    `json:"days"`            // versions are kept this many days after they were added
	// Agreement is the version of the sharing agreement the rule comes
	// from (0: a rule set on its own). Such a rule's ID is negative.
	Agreement int `json:"agreement,omitempty"`
}

// Period is how long the rule keeps a version.
func (r RetentionRule) Period() time.Duration { return time.Duration(r.Days) * 24 * time.Hour }

// String describes the rule, e.g. "indicator in group 3: 30 days".
func (r RetentionRule) String() string {
	where := "hub-wide"
	if r.Group != 0 {
		where = fmt.Sprintf("group %d", r.Group)
	}
	t := r.Type
	if t == AnyType {
		t = "every type"
	}
	if r.Agreement != 0 {
		return fmt.Sprintf("%s %s: %d days (agreement version %d)", t, where, r.Days, r.Agreement)
	}
	return fmt.Sprintf("%s %s: %d days", t, where, r.Days)
}

// AgreementRules returns the retention rules the agreements as set: one
// for every type from an agreement's Retention, one per type from its
// RetentionByType, in the agreement's group (0 for the hub's), a period
// rounded up to whole days. Their IDs are negative, numbered in order.
func AgreementRules(as []*Agreement) RetentionRules {
	var out RetentionRules
	add := func(a *Agreement, typ string, d time.Duration) {
		if d <= 0 {
			return
		}
		days := int((d + 24*time.Hour - 1) / (24 * time.Hour))
		out = append(out, RetentionRule{ID: -int64(len(out) + 1), Group: a.Group, Type: typ, Days: days, Agreement: a.Version})
	}
	for _, a := range as {
		add(a, AnyType, a.Retention)
		types := make([]string, 0, len(a.RetentionByType))
		for t := range a.RetentionByType {
			types = append(types, t)
		}
		slices.Sort(types)
		for _, t := range types {
			add(a, t, a.RetentionByType[t])
		}
	}
	return out
}

// With returns rs and more together; where both hold a rule for one group
// and type, only the one of the shorter period (rs's on a tie).
func (rs RetentionRules) With(more RetentionRules) RetentionRules {
	out := slices.Clone(rs)
	for _, m := range more {
		i := slices.IndexFunc(out, func(r RetentionRule) bool { return r.Group == m.Group && r.Type == m.Type })
		switch {
		case i < 0:
			out = append(out, m)
		case m.Days < out[i].Days:
			out[i] = m
		}
	}
	return out
}

// Check says what is wrong with the rule: EINVALID for a period under one
// day or a type that is not a STIX type name.
func (r RetentionRule) Check() error {
	if r.Days < 1 {
		return Errorf(EINVALID, "retention of %d days: the period must be at least 1 day", r.Days)
	}
	if r.Type != AnyType && !validTypeName(r.Type) {
		return Errorf(EINVALID, "retention type %q: want a STIX type such as indicator, or * for every type", r.Type)
	}
	if r.Group < 0 {
		return Errorf(EINVALID, "retention group %d: not a group id", r.Group)
	}
	return nil
}

func validTypeName(t string) bool {
	if len(t) < 3 || len(t) > 250 {
		return false
	}
	for i, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// RetentionRules is a set of rules.
type RetentionRules []RetentionRule

// For returns the rule that applies to a version of type typ released to
// aud, or nil when none does.
func (rs RetentionRules) For(typ string, aud Audience) *RetentionRule {
	if aud.Kind.IsExercise() {
		return nil
	}
	group := int64(-1)
	if aud.Kind == AudienceGroup {
		group = aud.Group
	}
	var best *RetentionRule
	rank := 0
	for i, r := range rs {
		n := 0
		switch {
		case r.Group == group && r.Type == typ:
			n = 4
		case r.Group == group && r.Type == AnyType:
			n = 3
		case r.Group == 0 && r.Type == typ:
			n = 2
		case r.Group == 0 && r.Type == AnyType:
			n = 1
		}
		if n > rank {
			best, rank = &rs[i], n
		}
	}
	return best
}

// Shortest is the shortest period of the rules: no version younger than
// it can be expired.
func (rs RetentionRules) Shortest() time.Duration {
	var d time.Duration
	for i, r := range rs {
		if i == 0 || r.Period() < d {
			d = r.Period()
		}
	}
	return d
}

// Candidate is a stored version the purge looks at: what retention
// decides by.
type Candidate struct {
	Seq      int64
	ID       string
	Type     string
	Added    time.Time
	Audience Audience
}

// Expired reports whether the version c has outlived the rule that
// applies to it at now, and that rule.
func (rs RetentionRules) Expired(c Candidate, now time.Time) (*RetentionRule, bool) {
	r := rs.For(c.Type, c.Audience)
	if r == nil {
		return nil, false
	}
	return r, c.Added.Before(now.Add(-r.Period()))
}

// PurgeResult says what a purge removed: counts, types and rules, never
// the content.
type PurgeResult struct {
	Versions int            `json:"versions"` // object versions purged
	Objects  int            `json:"objects"`  // ids of which no version is left
	Types    map[string]int `json:"types"`    // versions purged per type
	Rules    map[int64]int  `json:"rules"`    // versions purged per rule id
	// Residue is what a verification found left of the purged versions
	// after the purge ("table: n rows"); empty when nothing is.
	Residue []string `json:"residue,omitempty"`
}

// Detail is the audit entry's words for the result under rules.
func (p *PurgeResult) Detail(rules RetentionRules) string {
	var types []string
	for t, n := range p.Types {
		types = append(types, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(types)
	var rs []string
	for _, r := range rules {
		if n := p.Rules[r.ID]; n > 0 {
			rs = append(rs, fmt.Sprintf("rule %d (%s) %d", r.ID, r, n))
		}
	}
	return fmt.Sprintf("retention purge: %d versions of %d objects no longer held; by type: %s; by rule: %s",
		p.Versions, p.Objects, strings.Join(types, ", "), strings.Join(rs, "; "))
}

// RetentionStore keeps retention rules and purges what they expire.
type RetentionStore interface {
	// SetRetention adds the rule, or changes the period of the rule of
	// its group and type; it sets r.ID. Returns EINVALID (Check).
	SetRetention(ctx context.Context, r *RetentionRule, actor string) error
	// RetentionRules returns every rule set on its own, by group and type.
	RetentionRules(ctx context.Context) (RetentionRules, error)
	// Agreements returns the sharing agreements in force, whose
	// retention periods are rules too (AgreementRules).
	Agreements(ctx context.Context) ([]*Agreement, error)
	// RemoveRetention deletes rule id. Returns ENOTFOUND.
	RemoveRetention(ctx context.Context, id int64, actor string) error
	// Candidates calls fn with every version, outside exercises, added
	// before the time before (in no set order).
	Candidates(ctx context.Context, before time.Time, fn func(Candidate) error) error
	// PurgeVersions removes the versions seqs and everything derived
	// from them in one transaction, and returns how many it removed and
	// the ids of which no version is left.
	PurgeVersions(ctx context.Context, seqs []int64) (n int, gone []string, err error)
	// Residue reports what the store still holds of the versions seqs of
	// the objects ids, or of ids no longer held at all ("table: n rows"
	// per place that holds any): nothing, after PurgeVersions.
	Residue(ctx context.Context, seqs []int64, ids []string) ([]string, error)
}

// Purge purges the versions the store's rules expire at now, verifies
// that nothing of them is left and records one audit entry by who, of the
// counts and rules alone. With no version expired it does nothing and
// records nothing. Returns what it purged; an error when the verification
// finds residue (the entry is recorded first: the purge happened).
func Purge(ctx context.Context, store RetentionStore, log AuditLog, who Actor, now time.Time) (*PurgeResult, error) {
	res := &PurgeResult{Types: map[string]int{}, Rules: map[int64]int{}}
	rules, err := store.RetentionRules(ctx)
	if err != nil {
		return res, err
	}
	as, err := store.Agreements(ctx)
	if err != nil {
		return res, err
	}
	if rules = rules.With(AgreementRules(as)); len(rules) == 0 {
		return res, nil
	}
	if log == nil {
		return res, Errorf(EINTERNAL, "no audit log: refusing to purge unrecorded")
	}
	var seqs []int64
	err = store.Candidates(ctx, now.Add(-rules.Shortest()), func(c Candidate) error {
		if r, ok := rules.Expired(c, now); ok {
			seqs = append(seqs, c.Seq)
			res.Types[c.Type]++
			res.Rules[r.ID]++
		}
		return nil
	})
	if err != nil || len(seqs) == 0 {
		return res, err
	}
	slices.Sort(seqs)
	n, gone, err := store.PurgeVersions(ctx, seqs)
	if err != nil {
		return res, err
	}
	if n == 0 {
		// Another process purged them first, and recorded it.
		return &PurgeResult{Types: map[string]int{}, Rules: map[int64]int{}}, nil
	}
	res.Versions, res.Objects = n, len(gone)
	e := &AuditEntry{Action: AuditDelete, Actor: who.Name, ActorOrg: who.Org, Via: who.Via, Detail: res.Detail(rules)}
	if err := log.Audit(ctx, e); err != nil {
		return res, &Error{Code: EINTERNAL, Message: "audit failed", Err: err}
	}
	if res.Residue, err = store.Residue(ctx, seqs, gone); err != nil {
		return res, err
	}
	if len(res.Residue) > 0 {
		return res, Errorf(EINTERNAL, "the purge left %s", strings.Join(res.Residue, ", "))
	}
	return res, nil
}
