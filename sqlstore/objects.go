package sqlstore

import (
	"bytes"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// ObjectCols are the columns of an objects row o that a store scans into
// a cyberpact.Object, in this order.
const ObjectCols = `o.seq, o.holding, o.id, o.version, o.type, o.added, o.revoked, o.producer, o.aud_kind, o.aud_group, o.tlp, o.marks, o.body, o.sum`

// ScanObject reads a row of ObjectCols through scan (the driver's
// Rows.Scan, with any extra columns appended by the caller) and checks the
// body against its stored checksum.
func ScanObject(scan func(dst ...any) error) (*cyberpact.Object, error) {
	var o cyberpact.Object
	var added int64
	var body []byte
	var sum *int64
	var kind, tlp int
	if err := scan(&o.Seq, &o.Holding, &o.ID, &o.Modified, &o.Type, &added, &o.Revoked, &o.Release.Producer, &kind, &o.Release.Audience.Group, &tlp, &o.Release.Marks, &body, &sum); err != nil {
		return nil, internal("reading object", err)
	}
	if err := cyberpact.CheckBody(o.ID, o.Modified, body, sum); err != nil {
		return nil, err
	}
	o.Release.Audience.Kind = cyberpact.AudienceKind(kind)
	o.Release.TLP = cyberpact.TLP(tlp)
	o.Added = time.UnixMicro(added).UTC()
	o.Raw = body
	return &o, nil
}

// EnvelopeCols are the columns of a version that a TAXII envelope of it
// and the release entry of its page need (ScanEnvelope): a TAXII read
// scans half the columns of ObjectCols a row.
const EnvelopeCols = `o.seq, o.id, o.version, o.added, o.producer, o.body, o.sum`

// ScanEnvelope reads a row of EnvelopeCols as ScanObject reads ObjectCols:
// the object has its Seq, ID, Modified, Added, Release.Producer and Raw,
// checked against its checksum, and nothing else. Raw is copied into
// bodies, which the rows of one read share.
func ScanEnvelope(scan func(dst ...any) error, bodies *Bodies) (*cyberpact.Object, error) {
	var o cyberpact.Object
	var added int64
	var body sql.RawBytes
	var sum *int64
	if err := scan(&o.Seq, &o.ID, &o.Modified, &added, &o.Release.Producer, &body, &sum); err != nil {
		return nil, internal("reading object", err)
	}
	if err := cyberpact.CheckBody(o.ID, o.Modified, body, sum); err != nil {
		return nil, err
	}
	o.Added = time.UnixMicro(added).UTC()
	o.Raw = bodies.Copy(body)
	return &o, nil
}

// Bodies holds copies of the bodies of one read's rows in shared blocks:
// one allocation for many small bodies, where the driver's own copy of
// each (sql.RawBytes) lives only until the next row. A body of a
// quarter of a block or more gets an allocation of its own.
type Bodies struct{ block []byte }

const bodyBlock = 64 << 10

// Copy returns a copy of b that stays valid.
func (bs *Bodies) Copy(b []byte) []byte {
	if b == nil {
		return nil
	}
	if len(b) >= bodyBlock/4 {
		return bytes.Clone(b)
	}
	if len(b) > cap(bs.block)-len(bs.block) {
		bs.block = make([]byte, 0, bodyBlock)
	}
	start := len(bs.block)
	bs.block = append(bs.block, b...)
	return bs.block[start:len(bs.block):len(bs.block)]
}

// Objects builds the object queries both stores run, in one dialect. The
// conditions each engine writes its own way are its hooks.
type Objects struct {
	// Numbered selects PostgreSQL's $n placeholders.
	Numbered bool
	// SpecVersions is "o's spec_version is one of vals".
	SpecVersions func(a *Args, vals []string) string
	// Labels is "o has one of the labels vals".
	Labels func(a *Args, vals []string) string
	// Text is "o's words match the search text", or EINVALID for a text
	// that cannot be searched.
	Text func(a *Args, text string) (string, error)
	// Rank is the rank key of the objects row o among the matches of the
	// search text (cyberpact.RankCursor): its tier, from Exact, and
	// its relevance, from the row's own words alone.
	Rank func(a *Args, text string) (string, error)
}

// Query is one query's text and the values of its placeholders.
type Query struct {
	SQL  string
	Args []any
	// Ranked says that each row has one more column after ObjectCols, its
	// rank key, and that the page's cursor is a cyberpact.RankCursor.
	Ranked bool
	// Envelope says that the rows are of EnvelopeCols, not ObjectCols.
	Envelope bool
}

// Scan reads one row of q's columns (but for the extra ones the caller
// appends) through scan; bodies is shared by the rows of one read.
func (q Query) Scan(scan func(dst ...any) error, bodies *Bodies) (*cyberpact.Object, error) {
	if q.Envelope {
		return ScanEnvelope(scan, bodies)
	}
	return ScanObject(scan)
}

func (q *Objects) args() *Args { return &Args{Numbered: q.Numbered} }

// Get selects the version of id the viewer is shown: the newest it may
// see of the holding it is shown, unless that version's ends are hidden
// from it (nil viewer: the hub's own maintenance, the newest of the
// oldest holding).
func (q *Objects) Get(id string, viewer *cyberpact.Viewer) Query {
	a := q.args()
	f := cyberpact.ObjectFilter{Viewer: viewer}
	s := `SELECT ` + ObjectCols + ` FROM objects o WHERE o.id = ` + a.Add(id) + ` AND ` + Viewer(viewer, a) + ` AND ` + Latest(f, a) + ` ORDER BY o.version DESC LIMIT 1`
	return Query{SQL: s, Args: a.Vals}
}

// Versions selects every version of id the viewer is shown, oldest first.
func (q *Objects) Versions(id string, viewer *cyberpact.Viewer) Query {
	a := q.args()
	s := `SELECT ` + ObjectCols + ` FROM objects o WHERE o.id = ` + a.Add(id) + ` AND ` + Viewer(viewer, a) + ` ORDER BY o.holding, o.version`
	return Query{SQL: s, Args: a.Vals}
}

// Find selects the versions f selects in seq order, one more than a page
// of limit when limit > 0 (so that the caller knows whether more follow),
// else all of them.
func (q *Objects) Find(f cyberpact.ObjectFilter, limit int) (Query, error) {
	a := q.args()
	if f.Text != "" && limit > 0 && q.Rank != nil {
		return q.ranked(f, a, limit)
	}
	where, err := q.Filter(f, a)
	if err != nil {
		return Query{}, err
	}
	return q.page(`SELECT `+ObjectCols+` FROM objects o WHERE `+where, a, limit), nil
}

// FindEnvelope is Find of EnvelopeCols (a ranked search selects
// ObjectCols as Find).
func (q *Objects) FindEnvelope(f cyberpact.ObjectFilter, limit int) (Query, error) {
	if f.Text != "" && limit > 0 && q.Rank != nil {
		return q.Find(f, limit)
	}
	a := q.args()
	where, err := q.Filter(f, a)
	if err != nil {
		return Query{}, err
	}
	qu := q.page(`SELECT `+EnvelopeCols+` FROM objects o WHERE `+where, a, limit)
	qu.Envelope = true
	return qu, nil
}

// ranked selects one page of a search in rank order (see Ranked search in
// search.go): the rows after the cursor f.After's (rank key, seq), by rank
// key then seq. Every row the rank is computed for has passed the whole
// rule, and its key is a function of its own content and the text only.
// (Placeholders are added in the order they appear, as SQLite's ? needs.)
func (q *Objects) ranked(f cyberpact.ObjectFilter, a *Args, limit int) (Query, error) {
	key, seq := cyberpact.SplitRankCursor(f.After)
	f.After = 0
	rank, err := q.Rank(a, f.Text)
	if err != nil {
		return Query{}, err
	}
	where, err := q.Filter(f, a)
	if err != nil {
		return Query{}, err
	}
	s := `SELECT ` + ObjectCols + `, o.rk FROM (SELECT ` + ObjectCols + `, ` + rank + ` AS rk FROM objects o WHERE ` + where + `) o
		WHERE o.rk > ` + a.Add(key) + ` OR (o.rk = ` + a.Add(key) + ` AND o.seq > ` + a.Add(seq) + `)
		ORDER BY o.rk, o.seq LIMIT ` + a.Add(limit+1)
	return Query{SQL: s, Args: a.Vals, Ranked: true}, nil
}

// Tier is the tier of a row in a search for text
// (cyberpact.RankTierExternalID, RankTierName or RankTierOther), in SQL:
// hasID(x) is the store's condition "x is one of the row's external ids,
// lower-cased (ASCII)", name() the row's name lower-cased (ASCII), both of
// the objects row o, built only when the text has an exact form (their
// placeholders are added in the order they appear).
func Tier(a *Args, text string, hasID func(x string) string, name func() string) (string, error) {
	terms, err := cyberpact.ParseSearch(text)
	if err != nil {
		return "", err
	}
	exact := cyberpact.ExactSearch(terms)
	if exact == "" {
		return fmt.Sprint(cyberpact.RankTierOther), nil
	}
	c := hasID(a.Add(exact))
	n := name()
	return fmt.Sprintf(`(CASE WHEN %s THEN %d WHEN %s = %s THEN %d ELSE %d END)`,
		c, cyberpact.RankTierExternalID, n, a.Add(exact), cyberpact.RankTierName, cyberpact.RankTierOther), nil
}

// RankKey is the rank key of the objects row o of tier and relevance
// score, both SQL expressions, score an integer in [0,
// cyberpact.RankScores): revoked versions after the others of their tier.
func RankKey(tier, score string) string {
	return fmt.Sprintf(`((%s * 2 + CASE WHEN o.revoked THEN 1 ELSE 0 END) * %d + %d - %s)`, tier, cyberpact.RankScores, cyberpact.RankScores-1, score)
}

func (q *Objects) page(s string, a *Args, limit int) Query {
	s += ` ORDER BY o.seq`
	if limit > 0 {
		s += ` LIMIT ` + a.Add(limit+1)
	}
	return Query{SQL: s, Args: a.Vals}
}

// Relationships selects the latest relationships and sightings that link
// id on the end dir, filtered and paged by f as Find.
func (q *Objects) Relationships(id string, dir cyberpact.Direction, f cyberpact.ObjectFilter, limit int) (Query, error) {
	cond := ""
	switch dir {
	case cyberpact.Outgoing:
		cond = ` AND prop = 'source_ref'`
	case cyberpact.Incoming:
		cond = ` AND prop <> 'source_ref'`
	}
	f.AllVersions, f.Versions = false, nil
	a := q.args()
	s := `SELECT ` + ObjectCols + ` FROM objects o WHERE o.seq IN (SELECT seq FROM refs WHERE target = ` + a.Add(id) + cond + `) AND `
	where, err := q.Filter(f, a)
	if err != nil {
		return Query{}, err
	}
	return q.page(s+where, a, limit), nil
}

// Stats counts per type what the viewer is shown: distinct ids, versions,
// and ids whose shown version is revoked.
func (q *Objects) Stats(viewer *cyberpact.Viewer) Query {
	return q.StatsOf(cyberpact.ObjectFilter{Viewer: viewer}, nil)
}

// StatsOf is Stats for f's viewer as of f.AsOf, counting only the
// versions of ids (every id when ids is nil). Each id's counts depend
// only on its own versions, the rule's answers about them and the ends of
// the edge it is, so counts over disjoint sets of ids add up, and a count
// kept as of one Seq becomes the current one by taking away, as of that
// Seq, the counts of the ids whose counts may have changed since
// (Store.touchedSince finds them) and adding their counts now. The ids
// are a list of values (IN, or ANY of one array in PostgreSQL), probed
// one by one on objects_id_version: a count costs the ids it is given,
// not the store's size.
func (q *Objects) StatsOf(f cyberpact.ObjectFilter, ids []string) Query {
	if ids == nil {
		return q.stats(f, "", func(*Args) string { return True })
	}
	return q.stats(f, q.args().ByID(), func(a *Args) string {
		if len(ids) == 0 {
			return False
		}
		return a.InStrings("o.id", ids)
	})
}

// stats is Stats for f's viewer as of f.AsOf over the rows that also
// meet cond (its placeholders added after the rule's), read from objects
// with the index hint hint (Args.ByID, Args.ByKey).
func (q *Objects) stats(f cyberpact.ObjectFilter, hint string, cond func(a *Args) string) Query {
	a := q.args()
	f = cyberpact.ObjectFilter{Viewer: f.Viewer, AsOf: f.AsOf}
	latest := Latest(f, a)
	where := ViewerAsOf(f, a) + ` AND ` + cond(a)
	// Distinct ids: an id with a sole row has no other, so only the ids
	// of the other rows (few) need a set to be counted once.
	s := `SELECT o.type, SUM(CASE WHEN o.sole THEN 1 ELSE 0 END) + COUNT(DISTINCT CASE WHEN o.sole THEN NULL ELSE o.id END), COUNT(*), SUM(CASE WHEN o.revoked AND ` + latest + ` THEN 1 ELSE 0 END)
		FROM objects o` + hint + ` WHERE ` + where + ` GROUP BY o.type ORDER BY o.type`
	return Query{SQL: s, Args: a.Vals}
}

// DeleteSelection is the filter of the versions DeleteObject deletes:
// f's viewer, audience and versions (all unless told which) of id.
func DeleteSelection(id string, f cyberpact.ObjectFilter) cyberpact.ObjectFilter {
	sel := cyberpact.ObjectFilter{Viewer: f.Viewer, Audience: f.Audience, Versions: f.Versions, AllVersions: f.AllVersions, Holdings: f.Holdings, IDs: []string{id}}
	if len(sel.Versions) == 0 && !sel.AllVersions {
		sel.AllVersions = true // deleting an object deletes all its versions unless told which
	}
	return sel
}

// Filter turns a filter into a condition on the objects row o, its
// values appended to a.
func (q *Objects) Filter(f cyberpact.ObjectFilter, a *Args) (string, error) {
	conds := []string{"o.seq > " + a.Add(f.After), Scope("o", f, a)}
	if f.Viewer != nil {
		conds = append(conds, EndsVisible(f, a))
	}
	vc, err := VersionsOf(f, a, parseVersion)
	if err != nil {
		return "", err
	}
	conds = append(conds, vc)
	if len(f.Types) > 0 {
		conds = append(conds, a.InStrings("o.type", f.Types))
	}
	if len(f.IDs) > 0 {
		conds = append(conds, a.InStrings("o.id", f.IDs))
	}
	if len(f.Holdings) > 0 {
		conds = append(conds, a.InInts("o.holding", f.Holdings))
	}
	if len(f.SpecVersions) > 0 {
		conds = append(conds, q.SpecVersions(a, f.SpecVersions))
	}
	if len(f.Labels) > 0 {
		conds = append(conds, q.Labels(a, f.Labels))
	}
	if !f.ModifiedSince.IsZero() {
		conds = append(conds, "o.version >= "+a.Add(NormTime(f.ModifiedSince)))
	}
	if !f.ModifiedUntil.IsZero() {
		conds = append(conds, "o.version <= "+a.Add(NormTime(f.ModifiedUntil)))
	}
	if !f.AddedAfter.IsZero() {
		conds = append(conds, "o.seq > COALESCE((SELECT MAX(last_seq) FROM imports WHERE added <= "+a.Add(f.AddedAfter.UnixMicro())+"), 0)")
	}
	if f.ExcludeRevoked {
		conds = append(conds, "NOT o.revoked")
	}
	if f.MaxPAP != cyberpact.PAPUnknown {
		conds = append(conds, BelowPAP("o", f.MaxPAP))
	}
	if f.MaxTLP != cyberpact.TLPUnknown {
		conds = append(conds, "o.tlp <= "+a.Add(int(f.MaxTLP)))
	}
	if f.Text != "" {
		c, err := q.Text(a, f.Text)
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	return strings.Join(conds, " AND "), nil
}

// NormTime matches stix.NormTime: fixed-width UTC with nanoseconds, the
// form versions are kept in.
func NormTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// parseVersion reads a version selector's timestamp as the stores keep
// versions.
func parseVersion(v string) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return "", err
	}
	return NormTime(t), nil
}
