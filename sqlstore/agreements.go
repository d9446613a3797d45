package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store keeps agreements.
var _ cyberpact.AgreementService = (*Store)(nil)

// Sharing agreements, marking sets and clearances. Every agreement version
// is a row of agreements (grp 0: the hub's), never changed once written;
// the highest version of a group is in force. Each change is audited
// under cyberpact.AuditAgreement in the transaction that makes it.

// agreementRow is an agreement's terms as the body column keeps them: the
// levels by name and the durations as Go durations, so that the JSON
// reads for people too.
type agreementRow struct {
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
}

func rowOf(a *cyberpact.Agreement) agreementRow {
	r := agreementRow{Purpose: a.Purpose, RelNations: a.RelNations, RelSectors: a.RelSectors, Federate: a.Federate, PersonalData: a.PersonalData}
	for _, t := range a.TLPs {
		r.TLPs = append(r.TLPs, t.String())
	}
	for _, p := range a.PAPs {
		r.PAPs = append(r.PAPs, p.String())
	}
	if a.Retention > 0 {
		r.Retention = a.Retention.String()
	}
	for t, d := range a.RetentionByType {
		if r.RetentionByType == nil {
			r.RetentionByType = map[string]string{}
		}
		r.RetentionByType[t] = d.String()
	}
	if !a.Expires.IsZero() {
		e := a.Expires.UTC()
		r.Expires = &e
	}
	return r
}

func (r agreementRow) agreement(a *cyberpact.Agreement) error {
	a.Purpose, a.RelNations, a.RelSectors, a.Federate, a.PersonalData = r.Purpose, r.RelNations, r.RelSectors, r.Federate, r.PersonalData
	for _, t := range r.TLPs {
		l, err := cyberpact.ParseTLP(t)
		if err != nil {
			return err
		}
		a.TLPs = append(a.TLPs, l)
	}
	for _, p := range r.PAPs {
		l, err := cyberpact.ParsePAP(p)
		if err != nil {
			return err
		}
		a.PAPs = append(a.PAPs, l)
	}
	var err error
	if r.Retention != "" {
		if a.Retention, err = time.ParseDuration(r.Retention); err != nil {
			return err
		}
	}
	for t, d := range r.RetentionByType {
		if a.RetentionByType == nil {
			a.RetentionByType = map[string]time.Duration{}
		}
		if a.RetentionByType[t], err = time.ParseDuration(d); err != nil {
			return err
		}
	}
	if r.Expires != nil {
		a.Expires = *r.Expires
	}
	return nil
}

// SetAgreement stores a new version of the agreement of a.Group (0: the
// hub's), setting a.Version, a.Actor, a.Created and a.GroupName. Returns
// EINVALID for bad terms, ENOTFOUND for an unknown group.
func (s *Store) SetAgreement(ctx context.Context, a *cyberpact.Agreement, actor string) error {
	if err := a.Check(); err != nil {
		return err
	}
	body, err := json.Marshal(rowOf(a))
	if err != nil {
		return internal("encoding agreement", err)
	}
	created := Now()
	var version int
	var gname string
	err = s.changeAs(ctx, cyberpact.AuditAgreement, actor, func(tx *sql.Tx) (string, int64, error) {
		if a.Group != 0 {
			q := s.d.Args()
			err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = `+q.Add(a.Group)+s.d.ForUpdate(""), q.Vals...).Scan(&gname)
			if errors.Is(err, sql.ErrNoRows) {
				return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no group with id %d", a.Group)
			}
			if err != nil {
				return "", 0, internal("reading group", err)
			}
		}
		q := s.d.Args()
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM agreements WHERE grp = `+q.Add(a.Group), q.Vals...).Scan(&version); err != nil {
			return "", 0, internal("reading agreement", err)
		}
		version++
		q = s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreements (grp, version, body, actor, created) VALUES (`+
			q.Add(a.Group)+`, `+q.Add(version)+`, `+q.Add(string(body))+`, `+q.Add(actor)+`, `+q.Add(created.UnixMicro())+`)`, q.Vals...); err != nil {
			if s.unique(err) {
				return "", 0, cyberpact.Errorf(cyberpact.ECONFLICT, "the agreement was changed at the same time; try again")
			}
			return "", 0, internal("storing agreement", err)
		}
		shown := *a
		shown.Version, shown.GroupName = version, gname
		return fmt.Sprintf("set %s: %s", shown.Name(), body), 0, nil
	})
	if err != nil {
		return err
	}
	a.Version, a.Actor, a.Created, a.GroupName = version, actor, created, gname
	return nil
}

// agreements reads agreement versions: cond is a condition on the
// agreements row g.
func (s *Store) agreements(ctx context.Context, q querier, cond string, a *Args) ([]*cyberpact.Agreement, error) {
	rows, err := q.QueryContext(ctx, `SELECT g.grp, g.version, g.body, g.actor, g.created, COALESCE(gr.name, '')
		FROM agreements g LEFT JOIN groups gr ON gr.id = g.grp WHERE `+cond+` ORDER BY g.grp, g.version`, a.Vals...)
	if err != nil {
		return nil, internal("reading agreements", err)
	}
	defer rows.Close()
	var out []*cyberpact.Agreement
	for rows.Next() {
		var ag cyberpact.Agreement
		var body string
		var created int64
		if err := rows.Scan(&ag.Group, &ag.Version, &body, &ag.Actor, &created, &ag.GroupName); err != nil {
			return nil, internal("reading agreements", err)
		}
		var r agreementRow
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, internal("reading agreements", err)
		}
		if err := r.agreement(&ag); err != nil {
			return nil, internal("reading agreements", err)
		}
		ag.Created = micros(created)
		out = append(out, &ag)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading agreements", err)
	}
	return out, nil
}

// inForce is the condition that the agreements row g is its group's
// latest version.
const inForce = `g.version = (SELECT MAX(h.version) FROM agreements h WHERE h.grp = g.grp)`

// Agreement returns the agreement in force for group (0: the hub's).
// Returns ENOTFOUND when there is none.
func (s *Store) Agreement(ctx context.Context, group int64) (*cyberpact.Agreement, error) {
	a := s.d.Args()
	out, err := s.agreements(ctx, s.read, `g.grp = `+a.Add(group)+` AND `+inForce, a)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if group == 0 {
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "the hub has no sharing agreement")
		}
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "group %d has no sharing agreement", group)
	}
	return out[0], nil
}

// AgreementHistory returns every version of group's agreement, oldest
// first (none: an empty list).
func (s *Store) AgreementHistory(ctx context.Context, group int64) ([]*cyberpact.Agreement, error) {
	a := s.d.Args()
	return s.agreements(ctx, s.read, `g.grp = `+a.Add(group), a)
}

// Agreements returns the agreements in force: the hub's first, then by
// group name.
func (s *Store) Agreements(ctx context.Context) ([]*cyberpact.Agreement, error) {
	out, err := s.agreements(ctx, s.read, inForce, s.d.Args())
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(x, y *cyberpact.Agreement) int {
		if (x.Group == 0) != (y.Group == 0) {
			if x.Group == 0 {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(x.GroupName), strings.ToLower(y.GroupName))
	})
	return out, nil
}

// Terms reads the agreements in force and every stored marking
// definition (the hub's view of them: cyberpact.Terms with no producer).
// An import reads its own with TermsFor.
func (s *Store) Terms(ctx context.Context) (*cyberpact.Terms, error) {
	return s.terms(ctx, nil)
}

// TermsFor reads what an import with opts needs: the agreements in force
// and the stored marking definitions its producer may rely on
// (cyberpact.Terms.KnowMarking): those it may see, the oldest holding of
// each id; an anonymous publication relies on what its submitter may see.
// A definition held out of the producer's sight is left out, so that an
// object referring to it is refused exactly as one referring to a
// definition the hub does not hold.
func (s *Store) TermsFor(ctx context.Context, opts cyberpact.ImportOptions) (*cyberpact.Terms, error) {
	v := &cyberpact.Viewer{Org: opts.Producer}
	if opts.Submitter != 0 {
		v.Org = opts.Submitter
	}
	if opts.Audience.Kind.IsExercise() {
		v.Exercise = opts.Audience.Group
	}
	if v.Org != 0 {
		o, err := s.OrgByID(ctx, v.Org)
		switch {
		case err == nil:
			v.Nation, v.Sector, v.Clearances = o.Nation, o.Sector, o.Clearances
		case cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND:
			return nil, err
		}
		if v.Groups, err = s.GroupsOf(ctx, v.Org); err != nil {
			return nil, err
		}
	}
	return s.terms(ctx, v)
}

func (s *Store) terms(ctx context.Context, v *cyberpact.Viewer) (*cyberpact.Terms, error) {
	ags, err := s.agreements(ctx, s.read, inForce, s.d.Args())
	if err != nil {
		return nil, err
	}
	t := &cyberpact.Terms{Agreements: map[int64]*cyberpact.Agreement{}, Markings: map[string]cyberpact.MarkParts{}, Now: time.Now()}
	for _, a := range ags {
		t.Agreements[a.Group] = a
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, holding, producer, aud_kind, aud_group, tlp, marks, body FROM objects WHERE type = 'marking-definition' ORDER BY holding, seq`)
	if err != nil {
		return nil, internal("reading marking definitions", err)
	}
	defer rows.Close()
	shown := map[string]int64{}
	for rows.Next() {
		var id string
		var holding int64
		var r cyberpact.Release
		var kind, tlp int
		var body []byte
		if err := rows.Scan(&id, &holding, &r.Producer, &kind, &r.Audience.Group, &tlp, &r.Marks, &body); err != nil {
			return nil, internal("reading marking definitions", err)
		}
		r.Audience.Kind, r.TLP = cyberpact.AudienceKind(kind), cyberpact.TLP(tlp)
		t.KnowMarking(v, id, holding, r, body, shown)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading marking definitions", err)
	}
	return t, nil
}

// SetMarkingSet defines a marking set, or redefines one with at least its
// levels. Returns EINVALID.
func (s *Store) SetMarkingSet(ctx context.Context, m *cyberpact.MarkingSet, actor string) error {
	if err := cyberpact.CheckSetName(m.Name); err != nil {
		return err
	}
	if len(m.Levels) == 0 || len(m.Levels) > cyberpact.MaxLevels {
		return cyberpact.Errorf(cyberpact.EINVALID, "marking set %s: give 1 to %d levels, lowest first", m.Name, cyberpact.MaxLevels)
	}
	for i, l := range m.Levels {
		if strings.TrimSpace(l) == "" || !cyberpact.ValidText(l) || strings.Contains(l, ",") || slices.Contains(m.Levels[:i], l) {
			return cyberpact.Errorf(cyberpact.EINVALID, "marking set %s: level %d (%q) must be printable, without commas, and unique", m.Name, i+1, l)
		}
	}
	levels, _ := json.Marshal(m.Levels)
	return s.changeAs(ctx, cyberpact.AuditAgreement, actor, func(tx *sql.Tx) (string, int64, error) {
		q := s.d.Args()
		var was string
		err := tx.QueryRowContext(ctx, `SELECT levels FROM marking_sets WHERE name = `+q.Add(m.Name), q.Vals...).Scan(&was)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			q = s.d.Args()
			if _, err := tx.ExecContext(ctx, `INSERT INTO marking_sets (name, levels, created) VALUES (`+q.Add(m.Name)+`, `+q.Add(string(levels))+`, `+q.Add(Now().UnixMicro())+`)`, q.Vals...); err != nil {
				return "", 0, internal("storing marking set", err)
			}
			return fmt.Sprintf("defined marking set %s with levels %s", m.Name, levels), 0, nil
		case err != nil:
			return "", 0, internal("reading marking set", err)
		}
		var old []string
		if err := json.Unmarshal([]byte(was), &old); err != nil {
			return "", 0, internal("reading marking set", err)
		}
		if len(m.Levels) < len(old) {
			return "", 0, cyberpact.Errorf(cyberpact.EINVALID, "marking set %s has %d levels; a redefinition may add levels but not remove them (objects are marked by level number)", m.Name, len(old))
		}
		q = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE marking_sets SET levels = `+q.Add(string(levels))+` WHERE name = `+q.Add(m.Name), q.Vals...); err != nil {
			return "", 0, internal("storing marking set", err)
		}
		return fmt.Sprintf("redefined marking set %s with levels %s; were %s", m.Name, levels, was), 0, nil
	})
}

// MarkingSets lists the marking sets by name.
func (s *Store) MarkingSets(ctx context.Context) ([]*cyberpact.MarkingSet, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, levels FROM marking_sets ORDER BY name`)
	if err != nil {
		return nil, internal("listing marking sets", err)
	}
	defer rows.Close()
	var out []*cyberpact.MarkingSet
	for rows.Next() {
		var m cyberpact.MarkingSet
		var levels string
		if err := rows.Scan(&m.Name, &levels); err != nil {
			return nil, internal("listing marking sets", err)
		}
		if err := json.Unmarshal([]byte(levels), &m.Levels); err != nil {
			return nil, internal("listing marking sets", err)
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing marking sets", err)
	}
	return out, nil
}

// SetClearance sets org's clearance in set to level (0 removes it). The
// set is named in any case (set names are upper case: CheckSetName).
// Returns EINVALID for a level the set does not have, ENOTFOUND for an
// unknown organisation or set.
func (s *Store) SetClearance(ctx context.Context, org int64, set string, level int, actor string) error {
	set = strings.ToUpper(strings.TrimSpace(set))
	return s.changeAs(ctx, cyberpact.AuditAgreement, actor, func(tx *sql.Tx) (string, int64, error) {
		q := s.d.Args()
		var levels string
		err := tx.QueryRowContext(ctx, `SELECT levels FROM marking_sets WHERE name = `+q.Add(set), q.Vals...).Scan(&levels)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no marking set named %q", set)
		}
		if err != nil {
			return "", 0, internal("reading marking set", err)
		}
		var names []string
		if err := json.Unmarshal([]byte(levels), &names); err != nil {
			return "", 0, internal("reading marking set", err)
		}
		if level < 0 || level > len(names) {
			return "", 0, cyberpact.Errorf(cyberpact.EINVALID, "marking set %s has levels 1 to %d (0 removes the clearance), not %d", set, len(names), level)
		}
		q = s.d.Args()
		o, err := scanOrg(tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = `+q.Add(org)+s.d.ForUpdate(""), q.Vals...))
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation with id %d", org)
		}
		if err != nil {
			return "", 0, internal("reading organisation", err)
		}
		was := o.Clearances[set]
		if o.Clearances == nil {
			o.Clearances = cyberpact.Clearances{}
		}
		o.Clearances[set] = level
		q = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE orgs SET clearances = `+q.Add(o.Clearances.String())+` WHERE id = `+q.Add(org), q.Vals...); err != nil {
			return "", 0, internal("setting clearance", err)
		}
		return fmt.Sprintf("set the clearance of organisation %q (id %d) in marking set %s to %d; was %d", o.Name, org, set, level, was), org, nil
	})
}
