package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store implements the alert store.
var _ cyberpact.AlertStore = (*Store)(nil)

// CreateSubscription stores a subscription and records it in the audit
// log; see cyberpact.AlertStore.
func (s *Store) CreateSubscription(ctx context.Context, sub *cyberpact.Subscription, actor string) error {
	if err := sub.Check(); err != nil {
		return err
	}
	filter, err := json.Marshal(sub.Filter)
	if err != nil {
		return internal("creating subscription", err)
	}
	created := Now()
	var id int64
	err = s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE id = `+a.Add(sub.Org), a.Vals...); err != nil {
			return "", 0, internal("creating subscription", err)
		} else if !ok {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %d", sub.Org)
		}
		if sub.User != 0 {
			a := s.d.Args()
			if ok, err := exists(ctx, tx, `SELECT 1 FROM users WHERE id = `+a.Add(sub.User)+` AND org = `+a.Add(sub.Org), a.Vals...); err != nil {
				return "", 0, internal("creating subscription", err)
			} else if !ok {
				return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no user %d in organisation %d", sub.User, sub.Org)
			}
		}
		a = s.d.Args()
		id, err = s.insertID(ctx, tx, "creating subscription", "", `INSERT INTO subscriptions (org, user_id, event, filter, channel, target, secret, created) VALUES (`+
			a.Add(sub.Org)+`, `+a.Add(sub.User)+`, `+a.Add(string(sub.Event))+`, `+a.Add(string(filter))+`, `+a.Add(string(sub.Channel))+`, `+
			a.Add(sub.Target)+`, `+a.Add(sub.Secret)+`, `+a.Add(ToMicros(created))+`) RETURNING id`, a.Vals...)
		if err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("subscription %d added: %s by %s", id, sub.Event, sub.Channel), sub.Org, nil
	})
	if err != nil {
		return err
	}
	sub.ID, sub.Created = id, created
	return nil
}

// Subscriptions lists the subscriptions of org (all when org is 0) by id,
// secrets included.
func (s *Store) Subscriptions(ctx context.Context, org int64) ([]*cyberpact.Subscription, error) {
	a := s.d.Args()
	where := ""
	if org != 0 {
		where = ` WHERE org = ` + a.Add(org)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, org, user_id, event, filter, channel, target, secret, created FROM subscriptions`+where+` ORDER BY id`, a.Vals...)
	if err != nil {
		return nil, internal("reading subscriptions", err)
	}
	defer rows.Close()
	out := []*cyberpact.Subscription{}
	for rows.Next() {
		sub := &cyberpact.Subscription{}
		var event, filter, channel string
		var created int64
		if err := rows.Scan(&sub.ID, &sub.Org, &sub.User, &event, &filter, &channel, &sub.Target, &sub.Secret, &created); err != nil {
			return nil, internal("reading subscriptions", err)
		}
		if err := json.Unmarshal([]byte(filter), &sub.Filter); err != nil {
			return nil, internal("reading subscription filter", err)
		}
		sub.Event, sub.Channel, sub.Created = cyberpact.EventKind(event), cyberpact.ChannelKind(channel), micros(created)
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading subscriptions", err)
	}
	return out, nil
}

// DeleteSubscription removes a subscription of org and its outbox rows;
// see cyberpact.AlertStore.
func (s *Store) DeleteSubscription(ctx context.Context, org, id int64, actor string) error {
	return s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM subscriptions WHERE id = `+a.Add(id)+` AND org = `+a.Add(org), a.Vals...); err != nil {
			return "", 0, internal("removing subscription", err)
		} else if !ok {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no subscription %d", id)
		}
		// Both stores cascade; SQLite only with its foreign keys on.
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE sub = `+a.Add(id), a.Vals...); err != nil {
			return "", 0, internal("removing subscription", err)
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = `+a.Add(id), a.Vals...); err != nil {
			return "", 0, internal("removing subscription", err)
		}
		return fmt.Sprintf("subscription %d removed", id), org, nil
	})
}

// AlertCursor returns how far object versions were examined for events.
func (s *Store) AlertCursor(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.read.QueryRowContext(ctx, `SELECT seq FROM alert_cursor WHERE one = 1`).Scan(&seq); err != nil {
		return 0, internal("reading the alert cursor", err)
	}
	return seq, nil
}

// EnqueueDeliveries adds notifications to the outbox and moves the cursor,
// in one transaction; see cyberpact.AlertStore.
func (s *Store) EnqueueDeliveries(ctx context.Context, ns []*cyberpact.Notification, cursor int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("enqueueing notifications", err)
	}
	defer tx.Rollback()
	now := ToMicros(Now())
	for _, n := range ns {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (sub, org, event, seq, object_id, idem_key, status, attempts, next_at, created) VALUES (`+
			a.Add(n.Subscription)+`, `+a.Add(n.Org)+`, `+a.Add(string(n.Event))+`, `+a.Add(n.Seq)+`, `+a.Add(n.ObjectID)+`, `+a.Add(n.Key)+
			`, 'pending', 0, `+a.Add(now)+`, `+a.Add(now)+`) ON CONFLICT (sub, seq) DO NOTHING`, a.Vals...); err != nil {
			if s.d.ForeignKey != nil && s.d.ForeignKey(err) {
				continue // the subscription was removed meanwhile
			}
			return internal("enqueueing notifications", err)
		}
	}
	a := s.d.Args()
	if _, err := tx.ExecContext(ctx, `UPDATE alert_cursor SET seq = `+s.d.Greatest("seq", a.Add(cursor))+` WHERE one = 1`, a.Vals...); err != nil {
		return internal("moving the alert cursor", err)
	}
	if err := tx.Commit(); err != nil {
		return internal("enqueueing notifications", err)
	}
	return nil
}

const notificationCols = `id, sub, org, event, seq, object_id, idem_key, status, attempts, next_at, error, created, done`

func scanNotifications(rows *sql.Rows) ([]*cyberpact.Notification, error) {
	defer rows.Close()
	out := []*cyberpact.Notification{}
	for rows.Next() {
		n := &cyberpact.Notification{}
		var event, status string
		var next, created, done int64
		if err := rows.Scan(&n.ID, &n.Subscription, &n.Org, &event, &n.Seq, &n.ObjectID, &n.Key, &status, &n.Attempts, &next, &n.LastError, &created, &done); err != nil {
			return nil, err
		}
		n.Event, n.Status = cyberpact.EventKind(event), cyberpact.DeliveryStatus(status)
		n.NextAttempt, n.Created, n.Done = micros(next), micros(created), micros(done)
		out = append(out, n)
	}
	return out, rows.Err()
}

// ClaimDeliveries takes due notifications for one dispatcher; see
// cyberpact.AlertStore.
func (s *Store) ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]*cyberpact.Notification, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal("claiming notifications", err)
	}
	defer tx.Rollback()
	a := s.d.Args()
	lock := ""
	if s.d.Numbered {
		lock = " FOR UPDATE SKIP LOCKED" // another serve process takes others
	}
	ids, err := int64s(tx.QueryContext(ctx, `SELECT id FROM notifications WHERE status = 'pending' AND next_at <= `+a.Add(ToMicros(now))+
		` ORDER BY next_at, id LIMIT `+a.Add(limit)+lock, a.Vals...))
	if err != nil {
		return nil, internal("claiming notifications", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	a = s.d.Args()
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET next_at = `+a.Add(ToMicros(until))+` WHERE `+a.InInts("id", ids), a.Vals...); err != nil {
		return nil, internal("claiming notifications", err)
	}
	a = s.d.Args()
	rows, err := tx.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE `+a.InInts("id", ids)+` ORDER BY id`, a.Vals...)
	if err != nil {
		return nil, internal("claiming notifications", err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, internal("claiming notifications", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, internal("claiming notifications", err)
	}
	return out, nil
}

// FinishAttempts records attempts' outcomes in one transaction; see
// cyberpact.AlertStore.
func (s *Store) FinishAttempts(ctx context.Context, ns []*cyberpact.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("recording delivery attempts", err)
	}
	defer tx.Rollback()
	for _, n := range ns {
		a := s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET status = `+a.Add(string(n.Status))+`, attempts = `+a.Add(n.Attempts)+
			`, next_at = `+a.Add(ToMicros(n.NextAttempt))+`, error = `+a.Add(n.LastError)+`, done = `+a.Add(ToMicros(n.Done))+
			` WHERE id = `+a.Add(n.ID), a.Vals...); err != nil {
			return internal("recording delivery attempts", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return internal("recording delivery attempts", err)
	}
	return nil
}

// Deliveries lists a subscription's notifications, newest first; see
// cyberpact.AlertStore.
func (s *Store) Deliveries(ctx context.Context, org, sub int64, limit int) ([]*cyberpact.Notification, error) {
	a := s.d.Args()
	if ok, err := exists(ctx, s.read, `SELECT 1 FROM subscriptions WHERE id = `+a.Add(sub)+` AND org = `+a.Add(org), a.Vals...); err != nil {
		return nil, internal("reading notifications", err)
	} else if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no subscription %d", sub)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	a = s.d.Args()
	rows, err := s.read.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE sub = `+a.Add(sub)+` ORDER BY id DESC LIMIT `+a.Add(limit), a.Vals...)
	if err != nil {
		return nil, internal("reading notifications", err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, internal("reading notifications", err)
	}
	return out, nil
}

// DeliveryCounts counts the outbox by status.
func (s *Store) DeliveryCounts(ctx context.Context) (map[cyberpact.DeliveryStatus]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM notifications GROUP BY status`)
	if err != nil {
		return nil, internal("counting notifications", err)
	}
	defer rows.Close()
	out := map[cyberpact.DeliveryStatus]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, internal("counting notifications", err)
		}
		out[cyberpact.DeliveryStatus(st)] = n
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, internal("counting notifications", err)
	}
	return out, nil
}
