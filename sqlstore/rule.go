// Package sqlstore is the store core the SQL stores (sqlite/, postgres/)
// share: the sharing rule (cyberpact.MaySee and the ownership of ids) as
// SQL over their common objects, refs and group_orgs tables, and the
// common reads and writes of accounts, peers, exercises and POST statuses
// (Store), each written once over database/sql with a small Dialect for
// what the engines' SQL tells apart (placeholders, lists, case folding of
// names, row locks, constraint errors). sqlite/ and postgres/ keep what is
// their own: setup, migrations, search, bulk loading, change notification
// and the audit log. storetest holds every store against the Go version
// of the rule and the behaviour of the rest.
package sqlstore

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// Args collects the values of one query's placeholders in the dialect of
// its store.
type Args struct {
	// Numbered makes placeholders $1, $2, ... (PostgreSQL) instead of ?
	// (SQLite).
	Numbered bool
	Vals     []any
}

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.Vals = append(a.Vals, v)
	if a.Numbered {
		return "$" + strconv.Itoa(len(a.Vals))
	}
	return "?"
}

// InInts is "col is one of vals" (vals not empty): IN (?, ...) or
// = ANY($n::bigint[]).
func (a *Args) InInts(col string, vals []int64) string {
	if a.Numbered {
		return col + " = ANY(" + a.Add(vals) + "::bigint[])"
	}
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = a.Add(v)
	}
	return col + " IN (" + strings.Join(ps, ",") + ")"
}

// InStrings is "col is one of vals" (vals not empty).
func (a *Args) InStrings(col string, vals []string) string {
	if a.Numbered {
		return col + " = ANY(" + a.Add(vals) + "::text[])"
	}
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = a.Add(v)
	}
	return col + " IN (" + strings.Join(ps, ",") + ")"
}

// The conditions that are always false or true, in both dialects.
const (
	False = "1 = 0"
	True  = "1 = 1"
)

// Scope is the sharing rule (cyberpact.MaySee) and the collection
// (f.Audience) as a condition on the objects row alias t. storetest's
// RunModel holds every store's answers, built from it, against MaySee.
func Scope(t string, f cyberpact.ObjectFilter, a *Args) string {
	var conds []string
	v := f.Viewer
	switch {
	case v != nil && v.Exercise != 0:
		// Inside an exercise: its objects addressed to the viewer's
		// organisation or to every participant, and nothing else.
		conds = append(conds, fmt.Sprintf("(%[1]s.aud_group = %[2]s AND (%[1]s.aud_kind = %[3]d OR (%[1]s.aud_kind = %[4]d AND %[1]s.producer = %[5]s)))",
			t, a.Add(v.Exercise), cyberpact.AudienceExercise, cyberpact.AudienceExerciseOrg, a.Add(v.Org)))
		if v.Org == 0 {
			conds = append(conds, False)
		}
		// Markings beside TLP hold inside an exercise too (cyberpact.MaySee).
		conds = append(conds, fmt.Sprintf("(%s.producer = %s OR %s)", t, a.Add(v.Org), Permit(t, *v, a)))
		if v.Sync {
			conds = append(conds, BelowPAP(t, cyberpact.PAPAmber))
		}
	default:
		// Outside an exercise no exercise object exists, whoever asks.
		conds = append(conds, fmt.Sprintf("%s.aud_kind < %d", t, cyberpact.AudienceExerciseOrg))
		if v != nil {
			switch {
			case v.Public:
				conds = append(conds, fmt.Sprintf("%s.tlp = %d AND %s", t, cyberpact.TLPClear, Permit(t, cyberpact.Viewer{}, a)))
			case v.Org == 0:
				conds = append(conds, False)
			default:
				// Placeholders in textual order: SQLite's ? are positional.
				prod := a.Add(v.Org)
				c := fmt.Sprintf("(%[1]s.aud_kind = %[2]d AND %[1]s.tlp <> %[3]d)", t, cyberpact.AudienceAll, cyberpact.TLPRed)
				if len(v.Groups) > 0 {
					c += fmt.Sprintf(" OR (%s.aud_kind = %d AND %s)", t, cyberpact.AudienceGroup, a.InInts(t+".aud_group", v.Groups))
				}
				conds = append(conds, fmt.Sprintf("(%s.producer = %s OR ((%s) AND %s))", t, prod, c, Permit(t, *v, a)))
				if v.Sync {
					// A peer hub never receives PAP:RED (cyberpact.MaySee).
					conds = append(conds, BelowPAP(t, cyberpact.PAPAmber))
				}
			}
		}
	}
	if au := f.Audience; au != nil {
		conds = append(conds, fmt.Sprintf("%[1]s.aud_kind = %[2]d AND %[1]s.aud_group = %[3]s", t, au.Kind, a.Add(au.Group)))
	}
	if f.AsOf != 0 {
		conds = append(conds, asOf(t, f, a))
	}
	return strings.Join(conds, " AND ")
}

// asOf is the condition that the objects row t was stored by f.AsOf
// (True without AsOf).
func asOf(t string, f cyberpact.ObjectFilter, a *Args) string {
	if f.AsOf == 0 {
		return True
	}
	return t + ".seq <= " + a.Add(f.AsOf)
}

// Permit is cyberpact.Marks.Permit as a condition on the marks column of
// the objects row alias t: a version without marks, or one whose
// releasable nations (when it names any) include the viewer's, whose
// releasable sectors (when it names any) include the viewer's, and whose
// every marking-set level is within the viewer's clearances. The level
// test deletes from the marks every level token the viewer is cleared for
// (one nested replace per cleared level: at most MaxLevels per set) and
// asks that no level token remain. Tokens are delimited by < and >, so no
// token is found inside another; their characters (letters, digits, -, :)
// are none of LIKE's wildcards.
func Permit(t string, v cyberpact.Viewer, a *Args) string {
	col := t + ".marks"
	nation := col + " NOT LIKE '%<n:%'"
	if v.Nation != "" {
		nation = "(" + nation + " OR " + col + " LIKE " + a.Add("%<n:"+v.Nation+">%") + ")"
	}
	sector := col + " NOT LIKE '%<s:%'"
	if v.Sector != "" {
		sector = "(" + sector + " OR " + col + " LIKE " + a.Add("%<s:"+v.Sector+">%") + ")"
	}
	levels := col
	sets := make([]string, 0, len(v.Clearances))
	for set := range v.Clearances {
		sets = append(sets, set)
	}
	slices.Sort(sets)
	for _, set := range sets {
		for l := 1; l <= min(v.Clearances[set], cyberpact.MaxLevels); l++ {
			levels = "REPLACE(" + levels + ", " + a.Add(fmt.Sprintf("<m:%s:%d>", set, l)) + ", '')"
		}
	}
	return fmt.Sprintf("(%s = '' OR (%s AND %s AND %s NOT LIKE '%%<m:%%'))", col, nation, sector, levels)
}

// BelowPAP is the condition that the objects row alias t carries no PAP
// marking above max (ObjectFilter.MaxPAP).
func BelowPAP(t string, max cyberpact.PAP) string {
	var c []string
	for p := max + 1; p <= cyberpact.PAPRed; p++ {
		c = append(c, fmt.Sprintf("%s.marks NOT LIKE '%%<p:%d>%%'", t, p))
	}
	if len(c) == 0 {
		return True
	}
	return "(" + strings.Join(c, " AND ") + ")"
}

// Latest holds for a row o that is the version a viewer is shown of its
// id within f's scope: in the oldest holding of the id the viewer may see
// (see Ownership in ownership.go), no newer version it may see.
//
// A version whose id has no other (sole, most of them) is its id's latest
// under any scope; for the others, each half is one seek of
// objects_id_version (id, holding, version): a newer version in the same
// holding, or an older holding.
func Latest(f cyberpact.ObjectFilter, a *Args) string {
	return `(o.sole OR NOT EXISTS (SELECT 1 FROM objects n` + a.ByID() + ` WHERE n.id = o.id AND n.holding = o.holding AND n.version > o.version AND ` + Scope("n", f, a) + a.Probe() + `)
		AND ` + winning(f, a) + `)`
}

// First holds for a row o that is the oldest version within f's scope of
// the first holding of its id that the viewer may see.
func First(f cyberpact.ObjectFilter, a *Args) string {
	return `(o.sole OR NOT EXISTS (SELECT 1 FROM objects n` + a.ByID() + ` WHERE n.id = o.id AND n.holding = o.holding AND n.version < o.version AND ` + Scope("n", f, a) + a.Probe() + `)
		AND ` + winning(f, a) + `)`
}

// Winning holds for a row o of the first holding of its id that f's
// viewer may see: versions of other holdings are not shown to it.
func Winning(f cyberpact.ObjectFilter, a *Args) string {
	return `(o.sole OR ` + winning(f, a) + `)`
}

func winning(f cyberpact.ObjectFilter, a *Args) string {
	return `NOT EXISTS (SELECT 1 FROM objects n` + a.ByID() + ` WHERE n.id = o.id AND n.holding < o.holding AND ` + Scope("n", f, a) + a.Probe() + `)`
}

// ByID names, in SQLite, the index every per-row probe of the rule must
// use: SQLite's planner, seeing the rule's conditions on the audience
// columns, may otherwise pick objects_audience and scan a whole audience
// for every row of a page.
func (a *Args) ByID() string {
	if a.Numbered {
		return ""
	}
	return ` INDEXED BY objects_id_version`
}

// ByKey makes, in SQLite, a read of the objects rows of a range of seq
// (the table's key) read that range: seeing a GROUP BY o.type, SQLite's
// planner may otherwise scan the whole of objects_type, in type order,
// for the few rows of the range.
func (a *Args) ByKey() string {
	if a.Numbered {
		return ""
	}
	return ` NOT INDEXED`
}

// Probe ends the per-row subqueries of the rule. PostgreSQL's planner,
// misjudging the rule's conditions as matching one row, would otherwise
// turn them into an anti-join that scans the whole table for every row of
// a page; OFFSET 0 keeps each a probe of objects_id_version.
func (a *Args) Probe() string {
	if a.Numbered {
		return ` OFFSET 0`
	}
	return ""
}

// EndsVisible holds for a row o that is not a relationship or sighting,
// or each of whose ends (source, target, sighted object) has a version
// the viewer may see in the holding o's producer is shown of it
// (cyberpact.EndVisible): an edge is never shown to an end the viewer may
// not see, nor attached to another organisation's holding of the id its
// producer meant.
//
// The repeated test of o.type inside the subquery is for PostgreSQL's
// planner: with only x.seq = o.seq to correlate on, it may turn the
// subquery into one hashed set of every hidden edge, built in full for
// each page; referring to o.type it checks each relationship of the page
// through refs_seq instead. Probe keeps both levels per-row probes: once
// the ends' subquery grew the holding test, the planner otherwise joined
// it to refs and scanned refs whole for every relationship of a page
// (148 ms a page of 1,000 over 20,000 objects, 5 ms with it).
func EndsVisible(f cyberpact.ObjectFilter, a *Args) string {
	return `(o.type NOT IN ('relationship', 'sighting') OR NOT EXISTS (SELECT 1 FROM refs x WHERE x.seq = o.seq
		AND o.type IN ('relationship', 'sighting')
		AND x.prop IN ('source_ref', 'target_ref', 'sighting_of_ref')
		AND NOT EXISTS (SELECT 1 FROM objects e` + a.ByID() + ` WHERE e.id = x.target AND ` + Scope("e", cyberpact.ObjectFilter{Viewer: f.Viewer, AsOf: f.AsOf}, a) + ` AND ` + ProducerSees("e", "o") + `
			AND (e.sole OR NOT EXISTS (SELECT 1 FROM objects m` + a.ByID() + ` WHERE m.id = e.id AND m.holding < e.holding AND ` + asOf("m", f, a) + ` AND ` + ProducerSees("m", "o") + a.Probe() + `))` + a.Probe() + `)` + a.Probe() + `))`
}

// ProducerSees holds when the producer of the objects row p may see the
// objects row e (cyberpact.MaySee for that organisation, or e is its
// own), read from the group memberships as they are now. The hub itself
// (producer 0, reference data) sees every object outside exercises; inside
// an exercise, a producer sees what is addressed to the whole exercise.
func ProducerSees(e, p string) string {
	return fmt.Sprintf(`(%[1]s.producer = %[2]s.producer
		OR (%[2]s.aud_kind >= %[3]d AND %[1]s.aud_kind = %[4]d AND %[1]s.aud_group = %[2]s.aud_group)
		OR (%[2]s.aud_kind < %[3]d AND %[1]s.aud_kind < %[3]d AND (%[2]s.producer = 0 OR (%[1]s.aud_kind = %[5]d AND %[1]s.tlp <> %[6]d)
			OR (%[1]s.aud_kind = %[7]d AND EXISTS (SELECT 1 FROM group_orgs g WHERE g.grp = %[1]s.aud_group AND g.org = %[2]s.producer)))))`,
		e, p, cyberpact.AudienceExerciseOrg, cyberpact.AudienceExercise, cyberpact.AudienceAll, cyberpact.TLPRed, cyberpact.AudienceGroup)
}

// Viewer is everything the sharing rule hides from a viewer, as a
// condition on the objects row o: versions it may not see, versions of
// other holdings than the one it is shown, and edges to ends it may not
// see.
func Viewer(viewer *cyberpact.Viewer, a *Args) string {
	return ViewerAsOf(cyberpact.ObjectFilter{Viewer: viewer}, a)
}

// ViewerAsOf is Viewer for f's viewer, reading the store as of f.AsOf.
func ViewerAsOf(f cyberpact.ObjectFilter, a *Args) string {
	where := Scope("o", f, a)
	if f.Viewer == nil {
		return where
	}
	return where + " AND " + Winning(f, a) + " AND " + EndsVisible(f, a)
}

// VersionsOf is the condition of f's version selectors (TAXII's
// match[version]) on the objects row o, within the holding f's viewer is
// shown (every holding for the hub's own maintenance, without a viewer);
// parse normalises a timestamp as the stores keep versions. Returns
// EINVALID for a selector that is none of first, last, all or a
// timestamp.
func VersionsOf(f cyberpact.ObjectFilter, a *Args, parse func(string) (string, error)) (string, error) {
	var vconds []string
	for _, v := range f.VersionSelectors() {
		switch v {
		case "all":
			if f.Viewer == nil {
				vconds = append(vconds, True) // the hub's own maintenance sees every holding
			} else {
				vconds = append(vconds, Winning(f, a))
			}
		case "last":
			vconds = append(vconds, Latest(f, a))
		case "first":
			vconds = append(vconds, First(f, a))
		default:
			t, err := parse(v)
			if err != nil {
				return "", cyberpact.Errorf(cyberpact.EINVALID, "version %q is not first, last, all or a timestamp", v)
			}
			c := "o.version = " + a.Add(t)
			if f.Viewer != nil {
				c = "(" + c + " AND " + Winning(f, a) + ")"
			}
			vconds = append(vconds, c)
		}
	}
	return "(" + strings.Join(vconds, " OR ") + ")", nil
}
