package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store implements the crisis store.
var _ cyberpact.CrisisStore = (*Store)(nil)

// DeclareCrisis stores an open crisis, its partners and its first alerts;
// see cyberpact.CrisisStore.
func (s *Store) DeclareCrisis(ctx context.Context, c *cyberpact.Crisis, alerts []*cyberpact.CrisisAlert, actor string) error {
	if c.EscalateAfter <= 0 {
		return cyberpact.Errorf(cyberpact.EINVALID, "escalation delay %s is not positive", c.EscalateAfter)
	}
	var id int64
	err := s.changeAs(ctx, cyberpact.AuditCrisis, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		var err error
		id, err = s.insertID(ctx, tx, "declaring crisis", "incident "+c.Incident+" already has an open crisis",
			`INSERT INTO crises (incident, producer, escalate_after, declared_by, declared) VALUES (`+a.Add(c.Incident)+`, `+a.Add(c.Producer)+`, `+
				a.Add(c.EscalateAfter.Microseconds())+`, `+a.Add(c.DeclaredBy)+`, `+a.Add(ToMicros(c.Declared))+`) RETURNING id`, a.Vals...)
		if err != nil {
			return "", 0, err
		}
		var names []string
		for _, p := range c.Partners {
			a := s.d.Args()
			if _, err := tx.ExecContext(ctx, `INSERT INTO crisis_partners (crisis, org, level, level_at, acked, acked_by, acked_via) VALUES (`+
				a.Add(id)+`, `+a.Add(p.Org)+`, 0, `+a.Add(ToMicros(c.Declared))+`, `+a.Add(ToMicros(p.Acked))+`, `+a.Add(p.AckedBy)+`, `+a.Add(p.AckedVia)+`)`, a.Vals...); err != nil {
				return "", 0, internal("declaring crisis", err)
			}
			names = append(names, fmt.Sprint(p.Org))
		}
		if err := s.enqueueCrisisAlerts(ctx, tx, id, alerts); err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("crisis %d declared on %s: organisations %s alerted (%d alerts), escalation after %s",
			id, c.Incident, strings.Join(names, ", "), len(alerts), c.EscalateAfter), 0, nil
	})
	if err != nil {
		return err
	}
	c.ID = id
	for _, p := range c.Partners {
		p.LevelAt = c.Declared
	}
	return nil
}

func (s *Store) enqueueCrisisAlerts(ctx context.Context, tx *sql.Tx, crisis int64, alerts []*cyberpact.CrisisAlert) error {
	now := Now()
	for _, al := range alerts {
		al.Crisis, al.Status, al.Created = crisis, cyberpact.DeliveryPending, now
		if al.NextAttempt.IsZero() {
			al.NextAttempt = now
		}
		a := s.d.Args()
		id, err := s.insertID(ctx, tx, "enqueueing crisis alerts", "", `INSERT INTO crisis_alerts (crisis, org, level, kind, channel, target, secret, idem_key, status, next_at, created) VALUES (`+
			a.Add(crisis)+`, `+a.Add(al.Org)+`, `+a.Add(al.Level)+`, `+a.Add(al.Kind)+`, `+a.Add(string(al.Channel))+`, `+a.Add(al.Target)+`, `+a.Add(al.Secret)+`, `+
			a.Add(al.Key)+`, 'pending', `+a.Add(ToMicros(al.NextAttempt))+`, `+a.Add(ToMicros(now))+`) RETURNING id`, a.Vals...)
		if err != nil {
			return err
		}
		al.ID = id
	}
	return nil
}

const crisisCols = `id, incident, producer, escalate_after, declared_by, declared, ended, ended_by`

func (s *Store) readCrises(ctx context.Context, q querier, where string, args ...any) ([]*cyberpact.Crisis, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+crisisCols+` FROM crises`+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, internal("reading crises", err)
	}
	var out []*cyberpact.Crisis
	byID := map[int64]*cyberpact.Crisis{}
	for rows.Next() {
		c := &cyberpact.Crisis{Partners: []*cyberpact.CrisisPartner{}}
		var after, declared, ended int64
		if err := rows.Scan(&c.ID, &c.Incident, &c.Producer, &after, &c.DeclaredBy, &declared, &ended, &c.EndedBy); err != nil {
			rows.Close()
			return nil, internal("reading crises", err)
		}
		c.EscalateAfter, c.Declared, c.Ended = time.Duration(after)*time.Microsecond, micros(declared), micros(ended)
		out = append(out, c)
		byID[c.ID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("reading crises", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(out))
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	a := s.d.Args()
	prows, err := q.QueryContext(ctx, `SELECT crisis, org, level, level_at, acked, acked_by, acked_via FROM crisis_partners WHERE `+a.InInts("crisis", ids)+` ORDER BY crisis, org`, a.Vals...)
	if err != nil {
		return nil, internal("reading crisis partners", err)
	}
	defer prows.Close()
	for prows.Next() {
		p := &cyberpact.CrisisPartner{}
		var crisis, levelAt, acked int64
		if err := prows.Scan(&crisis, &p.Org, &p.Level, &levelAt, &acked, &p.AckedBy, &p.AckedVia); err != nil {
			return nil, internal("reading crisis partners", err)
		}
		p.LevelAt, p.Acked = micros(levelAt), micros(acked)
		if c := byID[crisis]; c != nil {
			c.Partners = append(c.Partners, p)
		}
	}
	if err := prows.Err(); err != nil {
		return nil, internal("reading crisis partners", err)
	}
	return out, nil
}

// Crisis returns one crisis with its partners.
func (s *Store) Crisis(ctx context.Context, id int64) (*cyberpact.Crisis, error) {
	a := s.d.Args()
	cs, err := s.readCrises(ctx, s.read, ` WHERE id = `+a.Add(id), a.Vals...)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no crisis %d", id)
	}
	return cs[0], nil
}

// Crises lists crises, newest first.
func (s *Store) Crises(ctx context.Context, open bool) ([]*cyberpact.Crisis, error) {
	where := ""
	if open {
		where = ` WHERE ended = 0`
	}
	return s.readCrises(ctx, s.read, where)
}

// openCrisis fails unless crisis id exists (ENOTFOUND) and is open
// (ECONFLICT), in tx.
func (s *Store) openCrisis(ctx context.Context, tx *sql.Tx, id int64) error {
	a := s.d.Args()
	var ended int64
	err := tx.QueryRowContext(ctx, `SELECT ended FROM crises WHERE id = `+a.Add(id)+s.d.ForUpdate(""), a.Vals...).Scan(&ended)
	if errors.Is(err, sql.ErrNoRows) {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no crisis %d", id)
	}
	if err != nil {
		return internal("reading crisis", err)
	}
	if ended != 0 {
		return cyberpact.Errorf(cyberpact.ECONFLICT, "crisis %d has ended", id)
	}
	return nil
}

// AckCrisis records a partner's acknowledgement; see cyberpact.CrisisStore.
func (s *Store) AckCrisis(ctx context.Context, id, org int64, actor, via string, now time.Time) (bool, error) {
	acked := false
	err := s.changeAs(ctx, cyberpact.AuditCrisis, actor, func(tx *sql.Tx) (string, int64, error) {
		var err error
		acked, err = s.ack(ctx, tx, id, org, actor, via, now)
		if err != nil {
			return "", 0, err
		}
		if !acked {
			return "", 0, errAlready
		}
		return fmt.Sprintf("crisis %d acknowledged for organisation %d by %s via %s", id, org, actor, via), org, nil
	})
	if errors.Is(err, errAlready) {
		return false, nil
	}
	return acked, err
}

// errAlready rolls back a change that finds nothing to do.
var errAlready = errors.New("already acknowledged")

func (s *Store) ack(ctx context.Context, tx *sql.Tx, id, org int64, actor, via string, now time.Time) (bool, error) {
	if err := s.openCrisis(ctx, tx, id); err != nil {
		return false, err
	}
	a := s.d.Args()
	var acked int64
	err := tx.QueryRowContext(ctx, `SELECT acked FROM crisis_partners WHERE crisis = `+a.Add(id)+` AND org = `+a.Add(org), a.Vals...).Scan(&acked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, cyberpact.Errorf(cyberpact.ENOTFOUND, "no crisis %d", id)
	}
	if err != nil {
		return false, internal("acknowledging crisis", err)
	}
	if acked != 0 {
		return false, nil
	}
	a = s.d.Args()
	if _, err := tx.ExecContext(ctx, `UPDATE crisis_partners SET acked = `+a.Add(ToMicros(now))+`, acked_by = `+a.Add(actor)+`, acked_via = `+a.Add(via)+
		` WHERE crisis = `+a.Add(id)+` AND org = `+a.Add(org)+` AND acked = 0`, a.Vals...); err != nil {
		return false, internal("acknowledging crisis", err)
	}
	return true, nil
}

// AddCrisisToken records an acknowledgement token's hash.
func (s *Store) AddCrisisToken(ctx context.Context, crisis, org int64, hash string) error {
	a := s.d.Args()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO crisis_tokens (hash, crisis, org) VALUES (`+a.Add(hash)+`, `+a.Add(crisis)+`, `+a.Add(org)+`)`, a.Vals...); err != nil {
		return internal("recording an acknowledgement token", err)
	}
	return nil
}

// AckCrisisToken acknowledges by a mailed token; see cyberpact.CrisisStore.
func (s *Store) AckCrisisToken(ctx context.Context, hash string, now time.Time) (int64, int64, error) {
	var crisis, org int64
	err := s.changeAs(ctx, cyberpact.AuditCrisis, "(mail link)", func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		var used int64
		err := tx.QueryRowContext(ctx, `SELECT crisis, org, used FROM crisis_tokens WHERE hash = `+a.Add(hash)+s.d.ForUpdate(""), a.Vals...).Scan(&crisis, &org, &used)
		if errors.Is(err, sql.ErrNoRows) || err == nil && used != 0 {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "this acknowledgement link is unknown or was already used")
		}
		if err != nil {
			return "", 0, internal("acknowledging crisis", err)
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE crisis_tokens SET used = 1 WHERE hash = `+a.Add(hash), a.Vals...); err != nil {
			return "", 0, internal("acknowledging crisis", err)
		}
		acked, err := s.ack(ctx, tx, crisis, org, "(mail link)", "mail", now)
		if err != nil {
			return "", 0, err
		}
		what := "acknowledged"
		if !acked {
			what = "link used; already acknowledged"
		}
		return fmt.Sprintf("crisis %d %s for organisation %d via a mailed link", crisis, what, org), org, nil
	})
	if err != nil {
		return 0, 0, err
	}
	return crisis, org, nil
}

// EscalateCrisis moves a partner to its next level; see
// cyberpact.CrisisStore.
func (s *Store) EscalateCrisis(ctx context.Context, id, org int64, from, to int, now time.Time, alerts []*cyberpact.CrisisAlert, actor string) (bool, error) {
	moved := false
	err := s.changeAs(ctx, cyberpact.AuditCrisis, actor, func(tx *sql.Tx) (string, int64, error) {
		if err := s.openCrisis(ctx, tx, id); err != nil {
			return "", 0, err
		}
		a := s.d.Args()
		res, err := tx.ExecContext(ctx, `UPDATE crisis_partners SET level = `+a.Add(to)+`, level_at = `+a.Add(ToMicros(now))+
			` WHERE crisis = `+a.Add(id)+` AND org = `+a.Add(org)+` AND level = `+a.Add(from)+` AND acked = 0`, a.Vals...)
		if err != nil {
			return "", 0, internal("escalating crisis", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", 0, internal("escalating crisis", err)
		} else if n == 0 {
			return "", 0, errAlready
		}
		if err := s.enqueueCrisisAlerts(ctx, tx, id, alerts); err != nil {
			return "", 0, err
		}
		moved = true
		return fmt.Sprintf("crisis %d: organisation %d did not acknowledge; escalated from level %d to level %d (%d alerts)", id, org, from, to, len(alerts)), org, nil
	})
	if errors.Is(err, errAlready) || cyberpact.ErrorCode(err) == cyberpact.ECONFLICT {
		return false, nil
	}
	return moved, err
}

// EndCrisis ends a crisis; see cyberpact.CrisisStore.
func (s *Store) EndCrisis(ctx context.Context, id int64, now time.Time, alerts []*cyberpact.CrisisAlert, actor string) error {
	return s.changeAs(ctx, cyberpact.AuditCrisis, actor, func(tx *sql.Tx) (string, int64, error) {
		if err := s.openCrisis(ctx, tx, id); err != nil {
			return "", 0, err
		}
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE crises SET ended = `+a.Add(ToMicros(now))+`, ended_by = `+a.Add(actor)+` WHERE id = `+a.Add(id), a.Vals...); err != nil {
			return "", 0, internal("ending crisis", err)
		}
		if err := s.enqueueCrisisAlerts(ctx, tx, id, alerts); err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("crisis %d ended (%d alerts)", id, len(alerts)), 0, nil
	})
}

// AddCrisisContact stores an escalation contact; see cyberpact.CrisisStore.
func (s *Store) AddCrisisContact(ctx context.Context, c *cyberpact.CrisisContact, actor string) error {
	if err := c.Check(); err != nil {
		return err
	}
	created := Now()
	var id int64
	err := s.changeAs(ctx, cyberpact.AuditCrisis, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE id = `+a.Add(c.Org), a.Vals...); err != nil {
			return "", 0, internal("adding contact", err)
		} else if !ok {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %d", c.Org)
		}
		a = s.d.Args()
		var err error
		id, err = s.insertID(ctx, tx, "adding contact", "", `INSERT INTO crisis_contacts (org, level, name, channel, target, secret, created) VALUES (`+
			a.Add(c.Org)+`, `+a.Add(c.Level)+`, `+a.Add(c.Name)+`, `+a.Add(string(c.Channel))+`, `+a.Add(c.Target)+`, `+a.Add(c.Secret)+`, `+a.Add(ToMicros(created))+`) RETURNING id`, a.Vals...)
		if err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("crisis contact %d added: level %d by %s", id, c.Level, c.Channel), c.Org, nil
	})
	if err != nil {
		return err
	}
	c.ID, c.Created = id, created
	return nil
}

// CrisisContacts lists an organisation's contacts by level.
func (s *Store) CrisisContacts(ctx context.Context, org int64) ([]*cyberpact.CrisisContact, error) {
	a := s.d.Args()
	rows, err := s.read.QueryContext(ctx, `SELECT id, org, level, name, channel, target, secret, created FROM crisis_contacts WHERE org = `+a.Add(org)+` ORDER BY level, id`, a.Vals...)
	if err != nil {
		return nil, internal("reading contacts", err)
	}
	defer rows.Close()
	out := []*cyberpact.CrisisContact{}
	for rows.Next() {
		c := &cyberpact.CrisisContact{}
		var channel string
		var created int64
		if err := rows.Scan(&c.ID, &c.Org, &c.Level, &c.Name, &channel, &c.Target, &c.Secret, &created); err != nil {
			return nil, internal("reading contacts", err)
		}
		c.Channel, c.Created = cyberpact.ChannelKind(channel), micros(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading contacts", err)
	}
	return out, nil
}

// RemoveCrisisContact removes a contact of org.
func (s *Store) RemoveCrisisContact(ctx context.Context, org, id int64, actor string) error {
	return s.changeAs(ctx, cyberpact.AuditCrisis, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		res, err := tx.ExecContext(ctx, `DELETE FROM crisis_contacts WHERE id = `+a.Add(id)+` AND org = `+a.Add(org), a.Vals...)
		if err != nil {
			return "", 0, internal("removing contact", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", 0, internal("removing contact", err)
		} else if n == 0 {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no contact %d", id)
		}
		return fmt.Sprintf("crisis contact %d removed", id), org, nil
	})
}

const crisisAlertCols = `id, crisis, org, level, kind, channel, target, secret, idem_key, status, attempts, next_at, error, created, done`

func scanCrisisAlerts(rows *sql.Rows, err error) ([]*cyberpact.CrisisAlert, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*cyberpact.CrisisAlert{}
	for rows.Next() {
		al := &cyberpact.CrisisAlert{}
		var channel, status string
		var next, created, done int64
		if err := rows.Scan(&al.ID, &al.Crisis, &al.Org, &al.Level, &al.Kind, &channel, &al.Target, &al.Secret, &al.Key, &status, &al.Attempts, &next, &al.LastError, &created, &done); err != nil {
			return nil, err
		}
		al.Channel, al.Status = cyberpact.ChannelKind(channel), cyberpact.DeliveryStatus(status)
		al.NextAttempt, al.Created, al.Done = micros(next), micros(created), micros(done)
		out = append(out, al)
	}
	return out, rows.Err()
}

// ClaimCrisisAlerts takes due crisis alerts for one dispatcher.
func (s *Store) ClaimCrisisAlerts(ctx context.Context, now, until time.Time, limit int) ([]*cyberpact.CrisisAlert, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal("claiming crisis alerts", err)
	}
	defer tx.Rollback()
	a := s.d.Args()
	lock := ""
	if s.d.Numbered {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	ids, err := int64s(tx.QueryContext(ctx, `SELECT id FROM crisis_alerts WHERE status = 'pending' AND next_at <= `+a.Add(ToMicros(now))+
		` ORDER BY next_at, id LIMIT `+a.Add(limit)+lock, a.Vals...))
	if err != nil {
		return nil, internal("claiming crisis alerts", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	a = s.d.Args()
	if _, err := tx.ExecContext(ctx, `UPDATE crisis_alerts SET next_at = `+a.Add(ToMicros(until))+` WHERE `+a.InInts("id", ids), a.Vals...); err != nil {
		return nil, internal("claiming crisis alerts", err)
	}
	a = s.d.Args()
	out, err := scanCrisisAlerts(tx.QueryContext(ctx, `SELECT `+crisisAlertCols+` FROM crisis_alerts WHERE `+a.InInts("id", ids)+` ORDER BY id`, a.Vals...))
	if err != nil {
		return nil, internal("claiming crisis alerts", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, internal("claiming crisis alerts", err)
	}
	return out, nil
}

// FinishCrisisAlerts records attempts' outcomes in one transaction.
func (s *Store) FinishCrisisAlerts(ctx context.Context, as []*cyberpact.CrisisAlert) error {
	if len(as) == 0 {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("recording crisis alerts", err)
	}
	defer tx.Rollback()
	for _, al := range as {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE crisis_alerts SET status = `+a.Add(string(al.Status))+`, attempts = `+a.Add(al.Attempts)+
			`, next_at = `+a.Add(ToMicros(al.NextAttempt))+`, error = `+a.Add(al.LastError)+`, done = `+a.Add(ToMicros(al.Done))+
			` WHERE id = `+a.Add(al.ID), a.Vals...); err != nil {
			return internal("recording crisis alerts", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return internal("recording crisis alerts", err)
	}
	return nil
}

// CrisisAlerts lists a crisis's alerts, oldest first.
func (s *Store) CrisisAlerts(ctx context.Context, id int64) ([]*cyberpact.CrisisAlert, error) {
	a := s.d.Args()
	out, err := scanCrisisAlerts(s.read.QueryContext(ctx, `SELECT `+crisisAlertCols+` FROM crisis_alerts WHERE crisis = `+a.Add(id)+` ORDER BY id`, a.Vals...))
	if err != nil {
		return nil, internal("reading crisis alerts", err)
	}
	return out, nil
}
