package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/privacy"
	"github.com/cyberpact/cyberpact/stix"
)

// Ensure Store keeps the privacy settings and warrants.
var _ cyberpact.PrivacyStore = (*Store)(nil)

// Where redaction happens. Every write goes through the store's Import,
// whichever front end made it; both stores pass the input through
// Redacting before anything is staged. A version released beyond its
// producer's organisation (to a sharing group, to all members) is
// redacted there under the policy of its audience: the redacted version
// is what the store keeps as the object, its search terms, its
// observables for correlation, its links. Every read path (REST, TAXII,
// search, correlation, exports, the web interface, alerts, federation)
// reads only that: none of them can serve the value, because the
// object rows never held it. The original goes to privacy_originals, in
// the import's transaction, and is read only by Original (the producer's
// organisation) and ReleaseByWarrant; the values behind pseudonyms go to
// privacy_values, read only by Unmask. The producer's own organisation
// reads the redacted version on the ordinary paths too, and its original
// through /api/v1/privacy/originals/{id}.

// PrivacyPolicies lists the policies set, the hub-wide default (group 0)
// first, then by group.
func (s *Store) PrivacyPolicies(ctx context.Context) ([]*cyberpact.PrivacyPolicy, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT grp, detectors, updated, actor FROM privacy_policies ORDER BY grp`)
	if err != nil {
		return nil, internal("reading privacy policies", err)
	}
	defer rows.Close()
	out := []*cyberpact.PrivacyPolicy{}
	for rows.Next() {
		p := &cyberpact.PrivacyPolicy{}
		var updated int64
		if err := rows.Scan(&p.Group, &p.Detectors, &updated, &p.Actor); err != nil {
			return nil, internal("reading privacy policies", err)
		}
		p.Updated = micros(updated)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading privacy policies", err)
	}
	return out, nil
}

// SetPrivacyPolicy sets the policy of p.Group (0: the hub-wide default),
// its Detectors written in their canonical form, and records it in the
// audit log. Returns EINVALID for an unknown detector, ENOTFOUND for an
// unknown group.
func (s *Store) SetPrivacyPolicy(ctx context.Context, p *cyberpact.PrivacyPolicy, actor string) error {
	d, err := privacy.ParseDetectors(p.Detectors)
	if err != nil {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s", err)
	}
	p.Detectors, p.Updated, p.Actor = d.String(), Now(), actor
	return s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		what := "the hub-wide default"
		if p.Group != 0 {
			a := s.d.Args()
			var name string
			err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = `+a.Add(p.Group), a.Vals...).Scan(&name)
			if errors.Is(err, sql.ErrNoRows) {
				return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no sharing group %d", p.Group)
			} else if err != nil {
				return "", 0, internal("setting privacy policy", err)
			}
			what = fmt.Sprintf("group %q", name)
		}
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO privacy_policies (grp, detectors, updated, actor) VALUES (`+a.Add(p.Group)+`, `+
			a.Add(p.Detectors)+`, `+a.Add(ToMicros(p.Updated))+`, `+a.Add(actor)+`)
			ON CONFLICT (grp) DO UPDATE SET detectors = excluded.detectors, updated = excluded.updated, actor = excluded.actor`, a.Vals...); err != nil {
			return "", 0, internal("setting privacy policy", err)
		}
		return fmt.Sprintf("privacy policy of %s: detectors %s", what, p.Detectors), 0, nil
	})
}

// SetPartnershipKey sets the key pseudonyms are made with, recording the
// change (never the key) in the audit log. Versions stored before keep
// the pseudonyms of the key they were redacted with.
func (s *Store) SetPartnershipKey(ctx context.Context, key []byte, actor string) error {
	if _, err := privacy.NewPseudonymizer(key); err != nil {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s", err)
	}
	return s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO privacy_key (one, key, updated) VALUES (1, `+a.Add(key)+`, `+a.Add(ToMicros(Now()))+`)
			ON CONFLICT (one) DO UPDATE SET key = excluded.key, updated = excluded.updated`, a.Vals...); err != nil {
			return "", 0, internal("setting the partnership key", err)
		}
		return "partnership key for pseudonyms set", 0, nil
	})
}

// partnershipKey returns the key, making a random one (this hub's alone)
// when none was set.
func (s *Store) partnershipKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := s.read.QueryRowContext(ctx, `SELECT key FROM privacy_key WHERE one = 1`).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, internal("reading the partnership key", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	a := s.d.Args()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO privacy_key (one, key, updated) VALUES (1, `+a.Add(key)+`, `+a.Add(ToMicros(Now()))+`)
		ON CONFLICT (one) DO NOTHING`, a.Vals...); err != nil {
		return nil, internal("making a partnership key", err)
	}
	if err := s.write.QueryRowContext(ctx, `SELECT key FROM privacy_key WHERE one = 1`).Scan(&key); err != nil {
		return nil, internal("reading the partnership key", err)
	}
	return key, nil
}

// Redactions are the originals and pseudonyms of one import's redacted
// versions, to store in its transaction (Statements).
type Redactions struct {
	originals []original
	values    map[string]privacyValue
}

type original struct {
	id, version, originalID string
	producer                int64
	body                    []byte
}

type privacyValue struct {
	value    string
	producer int64
}

// Statement is one SQL statement with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// Statements returns the inserts that keep r's originals and values, for
// the store to run in the import's transaction once its versions are
// stored (those after seq start), up to 200 rows each; nil when r is nil
// or empty. Rows already kept (the same version imported again) are left
// as they are. The last statement takes back the originals this import
// kept of versions it did not store (refused: by the sharing rule,
// ownership, a conflict, a marking), so that no original is kept of
// what the hub refused.
func (r *Redactions) Statements(d Dialect, start int64) []Statement {
	if r == nil {
		return nil
	}
	const rows = 200
	now := ToMicros(Now())
	var out []Statement
	for i := 0; i < len(r.originals); i += rows {
		a := d.Args()
		var vals []string
		for _, o := range r.originals[i:min(i+rows, len(r.originals))] {
			vals = append(vals, `(`+a.Add(o.id)+`, `+a.Add(o.version)+`, `+a.Add(o.producer)+`, `+a.Add(o.originalID)+`, `+a.Add(string(o.body))+`, `+a.Add(now)+`)`)
		}
		out = append(out, Statement{`INSERT INTO privacy_originals (id, version, producer, original_id, body, added) VALUES ` +
			strings.Join(vals, ", ") + ` ON CONFLICT (id, version, producer) DO NOTHING`, a.Vals})
	}
	keys := make([]string, 0, len(r.values))
	for k := range r.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i := 0; i < len(keys); i += rows {
		a := d.Args()
		var vals []string
		for _, k := range keys[i:min(i+rows, len(keys))] {
			v := r.values[k]
			vals = append(vals, `(`+a.Add(k)+`, `+a.Add(v.value)+`, `+a.Add(v.producer)+`)`)
		}
		out = append(out, Statement{`INSERT INTO privacy_values (pseudonym, value, producer) VALUES ` + strings.Join(vals, ", ") +
			` ON CONFLICT (pseudonym) DO NOTHING`, a.Vals})
	}
	if len(r.originals) > 0 {
		a := d.Args()
		out = append(out, Statement{`DELETE FROM privacy_originals WHERE added = ` + a.Add(now) + ` AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.seq > ` +
			a.Add(start) + ` AND o.id = privacy_originals.id AND o.version = privacy_originals.version AND o.producer = privacy_originals.producer)`, a.Vals})
	}
	return out
}

// Redacting returns next with every version that opts releases beyond its
// producer's organisation redacted under its audience's policy: the
// group's, else the hub-wide default; the default for all members and
// for every participant of an exercise; and for TLP:CLEAR, which the
// public collection serves whatever its audience, the default as well as
// the audience's own. It returns the
// Redactions to keep with the import (nil when no policy is on). A
// redacted version is parsed again from its redacted JSON, so that what
// the store indexes of it (search text, observables, links) holds no
// value either. A version whose release opts refuses passes unchanged:
// the store refuses it.
func (s *Store) Redacting(ctx context.Context, next cyberpact.ObjectSource, opts cyberpact.ImportOptions) (cyberpact.ObjectSource, *Redactions, error) {
	pols, err := s.PrivacyPolicies(ctx)
	if err != nil {
		return nil, nil, err
	}
	policy := map[int64]privacy.Detectors{}
	on := false
	for _, p := range pols {
		d, err := privacy.ParseDetectors(p.Detectors)
		if err != nil {
			return nil, nil, internal("reading privacy policies", err)
		}
		policy[p.Group] = d
		on = on || d.Any()
	}
	// The agreements' personal-data policies add to those set on their
	// own; one that refuses makes what its detectors find a refusal.
	as, err := s.Agreements(ctx)
	if err != nil {
		return nil, nil, err
	}
	refuse := map[int64]string{}
	for _, a := range as {
		ds, ref := a.Privacy()
		if ds == "" {
			continue
		}
		d, err := privacy.ParseDetectors(ds)
		if err != nil {
			return nil, nil, internal("reading "+a.Name(), err)
		}
		policy[a.Group] = policy[a.Group].With(d)
		on = on || d.Any()
		if ref {
			refuse[a.Group] = a.Name()
		}
	}
	if !on {
		return next, nil, nil
	}
	key, err := s.partnershipKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	ps, err := privacy.NewPseudonymizer(key)
	if err != nil {
		return nil, nil, internal("reading the partnership key", err)
	}
	red := &Redactions{values: map[string]privacyValue{}}
	var pc privacy.Context
	return func() (*cyberpact.Object, error) {
		o, err := next()
		if err != nil {
			return o, err
		}
		rel, err := opts.Release(o)
		if err != nil {
			return o, nil
		}
		var d privacy.Detectors
		governs := int64(-1)
		switch rel.Audience.Kind {
		case cyberpact.AudienceGroup:
			var ok bool
			if d, ok = policy[rel.Audience.Group]; !ok {
				d = policy[0]
			}
			governs = rel.Audience.Group
		case cyberpact.AudienceAll, cyberpact.AudienceExercise:
			d = policy[0]
			governs = 0
		}
		if rel.TLP == cyberpact.TLPClear && !rel.Audience.Kind.IsExercise() {
			// TLP:CLEAR goes to anyone through the public collection,
			// whatever its audience: the default applies too.
			d = d.With(policy[0])
		}
		p, err := stix.Parse(o.Raw)
		if err != nil {
			return o, nil
		}
		pc.Learn(p.Props)
		if !d.Any() {
			return o, nil
		}
		r := ps.Redact(p.Props, d, &pc)
		if !r.Changed() {
			return o, nil
		}
		if name, ok := refuse[governs]; ok {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s holds personal data, which %s refuses: remove it, or share it under an agreement that redacts", o.ID, name)
		}
		n, err := stix.FromProps(p.Props)
		if err != nil {
			return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "redacting an object", Err: fmt.Errorf("%s: %w", o.ID, err)}
		}
		st := n.Stored()
		st.Index, st.Line = o.Index, o.Line
		red.originals = append(red.originals, original{id: st.ID, version: st.Modified, originalID: o.ID, producer: rel.Producer, body: o.Raw})
		for k, v := range r.Values {
			if _, seen := red.values[k]; !seen {
				red.values[k] = privacyValue{v, rel.Producer}
			}
		}
		return st, nil
	}, red, nil
}

// Original returns the latest original that org produced of the
// redacted object id. Returns ENOTFOUND when there is none.
func (s *Store) Original(ctx context.Context, id string, org int64) (json.RawMessage, error) {
	a := s.d.Args()
	var body string
	err := s.read.QueryRowContext(ctx, `SELECT body FROM privacy_originals WHERE id = `+a.Add(id)+` AND producer = `+a.Add(org)+
		` ORDER BY version DESC LIMIT 1`, a.Vals...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) || org == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no redacted object %s of your organisation", id)
	}
	if err != nil {
		return nil, internal("reading original", err)
	}
	return json.RawMessage(body), nil
}

// AddWarrantApprover makes user a warrant approver, recorded in the audit
// log. Returns ENOTFOUND for an unknown user.
func (s *Store) AddWarrantApprover(ctx context.Context, user string, actor string) error {
	u, err := s.UserByName(ctx, user)
	if err != nil {
		return err
	}
	return s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO warrant_approvers (user_id, added) VALUES (`+a.Add(u.ID)+`, `+a.Add(ToMicros(Now()))+
			`) ON CONFLICT (user_id) DO NOTHING`, a.Vals...); err != nil {
			return "", 0, internal("adding warrant approver", err)
		}
		return fmt.Sprintf("user %q made a warrant approver", u.Name), u.Org, nil
	})
}

// WarrantApprovers lists the approvers' user names, by name.
func (s *Store) WarrantApprovers(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT u.name FROM warrant_approvers w JOIN users u ON u.id = w.user_id ORDER BY u.name`)
	if err != nil {
		return nil, internal("reading warrant approvers", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, internal("reading warrant approvers", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// warrantChange runs fn in a write transaction and commits it only with
// the audit entry fn returns (action warrant, by who) recorded. An error
// from fn rolls back and records nothing.
func (s *Store) warrantChange(ctx context.Context, who cyberpact.Actor, fn func(tx *sql.Tx) (*cyberpact.AuditEntry, error)) error {
	if err := cyberpact.CheckActor(who.Name); err != nil {
		return err
	}
	if s.h.Audit == nil {
		return internal("recording a warrant", errors.New("the store records no audit entries"))
	}
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return internal("beginning warrant change", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return internal("beginning warrant change", err)
	}
	defer tx.Rollback()
	e, err := fn(tx)
	if err != nil {
		return err
	}
	e.Action, e.Actor, e.ActorOrg, e.Via = cyberpact.AuditWarrant, who.Name, who.Org, who.Via
	after, err := s.h.Audit(ctx, conn, e)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal("committing warrant change", err)
	}
	if after != nil {
		after()
	}
	return nil
}

func actorOf(p *cyberpact.Principal, via string) cyberpact.Actor {
	return cyberpact.Actor{Name: p.User.Name, Org: p.Org.ID, Via: via}
}

// cut returns s cut to n bytes for an audit entry.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// RequestWarrant records w, asked by p: an unmask warrant names a
// pseudonym; a release warrant an object's id. Whether the hub holds the
// target is not checked here but when the warrant is used, after a
// second person approved it: a request answers alike whether or not the
// target exists, so that asking tells nothing of objects out of the
// requester's sight (nor whether a value is behind a pseudonym that a
// partner holding the key could make). Returns EINVALID, EFORBIDDEN for a
// machine account.
func (s *Store) RequestWarrant(ctx context.Context, w *cyberpact.Warrant, p *cyberpact.Principal, via string) error {
	if err := w.Check(); err != nil {
		return err
	}
	if p.User.Role == cyberpact.RoleSync {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "a sync account may not ask for warrants")
	}
	if w.Kind == cyberpact.WarrantUnmask && !privacy.IsPseudonym(w.Target) {
		return cyberpact.Errorf(cyberpact.EINVALID, "target %q is not a pseudonym (pd:KIND:32 hex digits)", w.Target)
	}
	created := Now()
	var id int64
	err := s.warrantChange(ctx, actorOf(p, via), func(tx *sql.Tx) (*cyberpact.AuditEntry, error) {
		a := s.d.Args()
		var err error
		id, err = s.insertID(ctx, tx, "requesting warrant", "", `INSERT INTO warrants (kind, target, justification, requester, org, state, ttl, created) VALUES (`+
			a.Add(string(w.Kind))+`, `+a.Add(w.Target)+`, `+a.Add(w.Justification)+`, `+a.Add(p.User.ID)+`, `+a.Add(p.Org.ID)+`, `+
			a.Add(string(cyberpact.WarrantRequested))+`, `+a.Add(w.TTL.Microseconds())+`, `+a.Add(ToMicros(created))+`) RETURNING id`, a.Vals...)
		if err != nil {
			return nil, err
		}
		return &cyberpact.AuditEntry{Recipient: p.Org.ID, Detail: fmt.Sprintf("warrant %d (%s %s) requested for %s: %s", id, w.Kind, w.Target, w.TTL, cut(w.Justification, 300))}, nil
	})
	if err != nil {
		return err
	}
	w.ID, w.Requester, w.Org, w.State, w.Created = id, p.User.Name, p.Org.ID, cyberpact.WarrantRequested, created
	return nil
}

const warrantSelect = `SELECT w.id, w.kind, w.target, w.justification, u.name, w.org, w.state, COALESCE(d.name, ''), w.reason, w.ttl, w.created,
	w.decided, w.expires, w.uses FROM warrants w JOIN users u ON u.id = w.requester LEFT JOIN users d ON d.id = w.decider`

func scanWarrant(row interface{ Scan(...any) error }) (*cyberpact.Warrant, error) {
	w := &cyberpact.Warrant{}
	var kind, state string
	var ttl, created, decided, expires int64
	if err := row.Scan(&w.ID, &kind, &w.Target, &w.Justification, &w.Requester, &w.Org, &state, &w.Decider, &w.Reason, &ttl, &created,
		&decided, &expires, &w.Uses); err != nil {
		return nil, err
	}
	w.Kind, w.State, w.TTL, w.Created = cyberpact.WarrantKind(kind), cyberpact.WarrantState(state), time.Duration(ttl)*time.Microsecond, micros(created)
	if decided != 0 {
		w.Decided = micros(decided)
	}
	if expires != 0 {
		w.Expires = micros(expires)
	}
	return w, nil
}

// expireDue marks the approved warrants past their expiry expired, each
// with its audit entry (by the hub).
func (s *Store) expireDue(ctx context.Context) error {
	now := ToMicros(Now())
	a := s.d.Args()
	ids, err := int64s(s.read.QueryContext(ctx, `SELECT id FROM warrants WHERE state = 'approved' AND expires <= `+a.Add(now)+` ORDER BY id`, a.Vals...))
	if err != nil {
		return internal("expiring warrants", err)
	}
	for _, id := range ids {
		err := s.warrantChange(ctx, cyberpact.Actor{Name: "hub", Via: "hub"}, func(tx *sql.Tx) (*cyberpact.AuditEntry, error) {
			w, err := scanWarrant(tx.QueryRowContext(ctx, warrantSelect+` WHERE w.id = `+s.d.Args().Add(id), id))
			if err != nil {
				return nil, internal("expiring warrants", err)
			}
			a := s.d.Args()
			res, err := tx.ExecContext(ctx, `UPDATE warrants SET state = 'expired' WHERE id = `+a.Add(id)+` AND state = 'approved' AND expires <= `+a.Add(now), a.Vals...)
			if err != nil {
				return nil, internal("expiring warrants", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil, errUnchanged
			}
			return &cyberpact.AuditEntry{Recipient: w.Org, Detail: fmt.Sprintf("%s expired at %s after %d uses", w, w.Expires.Format(time.RFC3339), w.Uses)}, nil
		})
		if err != nil && !errors.Is(err, errUnchanged) {
			return err
		}
	}
	return nil
}

var errUnchanged = errors.New("unchanged")

// Warrants lists warrants, newest first: all for org 0, else org's.
func (s *Store) Warrants(ctx context.Context, org int64) ([]*cyberpact.Warrant, error) {
	if err := s.expireDue(ctx); err != nil {
		return nil, err
	}
	a := s.d.Args()
	q := warrantSelect
	if org != 0 {
		q += ` WHERE w.org = ` + a.Add(org)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY w.id DESC`, a.Vals...)
	if err != nil {
		return nil, internal("reading warrants", err)
	}
	defer rows.Close()
	out := []*cyberpact.Warrant{}
	for rows.Next() {
		w, err := scanWarrant(rows)
		if err != nil {
			return nil, internal("reading warrants", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Warrant returns warrant id. Returns ENOTFOUND.
func (s *Store) Warrant(ctx context.Context, id int64) (*cyberpact.Warrant, error) {
	if err := s.expireDue(ctx); err != nil {
		return nil, err
	}
	a := s.d.Args()
	w, err := scanWarrant(s.read.QueryRowContext(ctx, warrantSelect+` WHERE w.id = `+a.Add(id), a.Vals...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %d", id)
	}
	if err != nil {
		return nil, internal("reading warrant", err)
	}
	return w, nil
}

func (s *Store) isApprover(ctx context.Context, q querier, user int64) (bool, error) {
	a := s.d.Args()
	return exists(ctx, q, `SELECT 1 FROM warrant_approvers WHERE user_id = `+a.Add(user), a.Vals...)
}

// DecideWarrant approves (approve) or refuses warrant id as p, a warrant
// approver who is not its requester; an approval lasts the warrant's TTL
// from now. An attempt by the requester or by another user of its
// organisation who is not an approver is refused with EFORBIDDEN and
// recorded in the audit log all the same. Returns ENOTFOUND (also for a
// warrant of another organisation, to one who is not an approver),
// ECONFLICT when the warrant is decided.
func (s *Store) DecideWarrant(ctx context.Context, id int64, approve bool, reason string, p *cyberpact.Principal, via string) (*cyberpact.Warrant, error) {
	if len(reason) > 2000 {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "the reason is longer than 2000 characters")
	}
	verb := "approval"
	if !approve {
		verb = "refusal"
	}
	var denied error
	err := s.warrantChange(ctx, actorOf(p, via), func(tx *sql.Tx) (*cyberpact.AuditEntry, error) {
		a := s.d.Args()
		w, err := scanWarrant(tx.QueryRowContext(ctx, warrantSelect+` WHERE w.id = `+a.Add(id), a.Vals...))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %d", id)
		} else if err != nil {
			return nil, internal("deciding warrant", err)
		}
		approver, err := s.isApprover(ctx, tx, p.User.ID)
		if err != nil {
			return nil, internal("deciding warrant", err)
		}
		if !approver && w.Org != p.Org.ID {
			// Warrants are seen by their organisation and the approvers.
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %d", id)
		}
		switch {
		case w.Requester == p.User.Name:
			denied = cyberpact.Errorf(cyberpact.EFORBIDDEN, "%s of warrant %d refused: you asked for it; a second person, a warrant approver, must decide", verb, id)
		case !approver:
			denied = cyberpact.Errorf(cyberpact.EFORBIDDEN, "%s of warrant %d refused: %s is not a warrant approver", verb, id, p.User.Name)
		case w.State != cyberpact.WarrantRequested:
			return nil, cyberpact.Errorf(cyberpact.ECONFLICT, "warrant %d is %s already", id, w.State)
		}
		if denied != nil {
			return &cyberpact.AuditEntry{Recipient: w.Org, Detail: fmt.Sprintf("%s: %s denied: %s", w, verb, cyberpact.ErrorMessage(denied))}, nil
		}
		now := Now()
		state, expires, detail := cyberpact.WarrantRefused, int64(0), fmt.Sprintf("%s refused", w)
		if approve {
			state, expires = cyberpact.WarrantApproved, ToMicros(now.Add(w.TTL))
			detail = fmt.Sprintf("%s approved until %s", w, micros(expires).Format(time.RFC3339))
		}
		if reason != "" {
			detail += ": " + cut(reason, 300)
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE warrants SET state = `+a.Add(string(state))+`, decider = `+a.Add(p.User.ID)+`, reason = `+a.Add(reason)+
			`, decided = `+a.Add(ToMicros(now))+`, expires = `+a.Add(expires)+` WHERE id = `+a.Add(id), a.Vals...); err != nil {
			return nil, internal("deciding warrant", err)
		}
		return &cyberpact.AuditEntry{Recipient: w.Org, Detail: detail}, nil
	})
	if err != nil {
		return nil, err
	}
	if denied != nil {
		return nil, denied
	}
	return s.Warrant(ctx, id)
}

// useWarrant records one use of warrant id of kind by p, after checking
// that p's organisation may use it and that it is usable now, and returns
// it; read, when not nil, reads what the use gives inside the same
// transaction and says what the audit entry names.
func (s *Store) useWarrant(ctx context.Context, id int64, kind cyberpact.WarrantKind, p *cyberpact.Principal, via string,
	read func(tx *sql.Tx, w *cyberpact.Warrant) (objects []string, err error)) error {
	if err := s.expireDue(ctx); err != nil {
		return err
	}
	return s.warrantChange(ctx, actorOf(p, via), func(tx *sql.Tx) (*cyberpact.AuditEntry, error) {
		a := s.d.Args()
		w, err := scanWarrant(tx.QueryRowContext(ctx, warrantSelect+` WHERE w.id = `+a.Add(id), a.Vals...))
		if errors.Is(err, sql.ErrNoRows) || err == nil && w.Org != p.Org.ID {
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %d of your organisation", id)
		} else if err != nil {
			return nil, internal("using warrant", err)
		}
		if w.Kind != kind {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "warrant %d is a %s warrant, not %s", id, w.Kind, kind)
		}
		if !w.Usable(Now()) {
			return nil, cyberpact.Errorf(cyberpact.ECONFLICT, "warrant %d is %s, not approved and in force", id, w.State)
		}
		objects, err := read(tx, w)
		if err != nil {
			return nil, err
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE warrants SET uses = uses + 1 WHERE id = `+a.Add(id), a.Vals...); err != nil {
			return nil, internal("using warrant", err)
		}
		what := "pseudonym unmasked"
		if kind == cyberpact.WarrantRelease {
			what = "object released"
		}
		return &cyberpact.AuditEntry{Recipient: w.Org, Objects: objects, Detail: fmt.Sprintf("%s used by %s: %s", w, p.User.Name, what)}, nil
	})
}

// Unmask returns the value behind the pseudonym of warrant id, used by p;
// the use is audited (the value is not). See cyberpact.PrivacyStore.
func (s *Store) Unmask(ctx context.Context, id int64, p *cyberpact.Principal, via string) (string, error) {
	var value string
	err := s.useWarrant(ctx, id, cyberpact.WarrantUnmask, p, via, func(tx *sql.Tx, w *cyberpact.Warrant) ([]string, error) {
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT value FROM privacy_values WHERE pseudonym = `+a.Add(w.Target), a.Vals...).Scan(&value)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "the hub holds no value for %s", w.Target)
		}
		if err != nil {
			return nil, internal("unmasking", err)
		}
		return nil, nil
	})
	return value, err
}

// ReleaseByWarrant returns the object of release warrant id as its
// producer sent it (the latest original kept, else the stored TLP:RED
// version), used by p; the use is audited with the version released.
func (s *Store) ReleaseByWarrant(ctx context.Context, id int64, p *cyberpact.Principal, via string) (json.RawMessage, error) {
	var body []byte
	err := s.useWarrant(ctx, id, cyberpact.WarrantRelease, p, via, func(tx *sql.Tx, w *cyberpact.Warrant) ([]string, error) {
		var version string
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT body, version FROM privacy_originals WHERE id = `+a.Add(w.Target)+` ORDER BY added DESC, version DESC LIMIT 1`,
			a.Vals...).Scan(&body, &version)
		if errors.Is(err, sql.ErrNoRows) {
			a := s.d.Args()
			err = tx.QueryRowContext(ctx, `SELECT body, version FROM objects WHERE id = `+a.Add(w.Target)+` AND tlp = `+a.Add(int(cyberpact.TLPRed))+
				` ORDER BY seq DESC LIMIT 1`, a.Vals...).Scan(&body, &version)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "the hub holds no object %s to release", w.Target)
		}
		if err != nil {
			return nil, internal("releasing by warrant", err)
		}
		return []string{w.Target + "@" + version}, nil
	})
	return body, err
}
