package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cyberpact/cyberpact"
)

// change runs fn in a write transaction and commits it only with the
// audit entry describing the change (fn's result) recorded by the Audit
// hook, so that no change is ever left unaudited. A name that a
// concurrent change took first (a unique violation at commit) is
// ECONFLICT, like one taken before.
func (s *Store) change(ctx context.Context, actor string, fn func(tx *sql.Tx) (string, error)) error {
	return s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		d, err := fn(tx)
		return d, 0, err
	})
}

// changeFor is change for a change that concerns one organisation (its
// own record, or one of its users or their keys), which fn returns with
// the detail: the entry records it as its Recipient, so that the
// organisation's audit trail (AuditFilter.Org) shows its account changes
// whoever made them.
func (s *Store) changeFor(ctx context.Context, actor string, fn func(tx *sql.Tx) (string, int64, error)) error {
	return s.changeAs(ctx, cyberpact.AuditAccount, actor, fn)
}

// changeAs is changeFor recorded under the audit action given.
func (s *Store) changeAs(ctx context.Context, action, actor string, fn func(tx *sql.Tx) (string, int64, error)) error {
	if err := cyberpact.CheckActor(actor); err != nil {
		return err
	}
	if s.h.Audit == nil {
		return internal("changing accounts", errors.New("the store records no audit entries"))
	}
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return internal("beginning account change", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return internal("beginning account change", err)
	}
	defer tx.Rollback()
	detail, org, err := fn(tx)
	if err != nil {
		return err
	}
	e := &cyberpact.AuditEntry{Action: action, Actor: actor, Detail: detail, Recipient: org}
	if actor == "cli" {
		e.Via = "cli"
	} else {
		a := s.d.Args()
		if err := tx.QueryRowContext(ctx, `SELECT org FROM users WHERE `+s.d.NameIs("name", a, actor), a.Vals...).Scan(&e.ActorOrg); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return internal("reading actor", err)
		}
	}
	after, err := s.h.Audit(ctx, conn, e)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		if s.unique(err) {
			return cyberpact.Errorf(cyberpact.ECONFLICT, "the name is taken")
		}
		return internal("committing account change", err)
	}
	if after != nil {
		after()
	}
	return nil
}
