package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/peerkey"
)

// Ensure Store implements the source store.
var _ cyberpact.SourceStore = (*Store)(nil)

// sourceSealName is what a source's sealed key is bound to: its name, in
// a space of its own, so that a sealed key cannot pass for a peer's.
func sourceSealName(name string) string { return "source:" + name }

// CreateSource adds a source, its key (if any) sealed by the Sealer hook,
// and records the change in the audit log; see cyberpact.SourceStore.
func (s *Store) CreateSource(ctx context.Context, src *cyberpact.Source, actor string) error {
	if err := src.Check(); err != nil {
		return err
	}
	var sealed []byte
	if src.Key != "" {
		aead, err := s.sealer(ctx)
		if err != nil {
			return err
		}
		if sealed, err = peerkey.Seal(aead, sourceSealName(src.Name), src.Key); err != nil {
			return internal("sealing the source key", err)
		}
	}
	created := Now()
	var id int64
	err := s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		taken := fmt.Sprintf("a source named %q exists", src.Name)
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM sources WHERE `+s.d.NameIs("name", a, src.Name), a.Vals...); err != nil {
			return "", internal("creating source", err)
		} else if ok {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		if src.Org != 0 {
			a := s.d.Args()
			if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE id = `+a.Add(src.Org), a.Vals...); err != nil {
				return "", internal("creating source", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %d", src.Org)
			}
		}
		if src.Audience.Kind == cyberpact.AudienceGroup {
			a := s.d.Args()
			if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE id = `+a.Add(src.Audience.Group), a.Vals...); err != nil {
				return "", internal("creating source", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no sharing group %d", src.Audience.Group)
			}
		}
		a = s.d.Args()
		var err error
		id, err = s.insertID(ctx, tx, "creating source", taken, `INSERT INTO sources (name, kind, url, collection, username, key_sealed, column_map, value_type, aud_kind, aud_group, org, every_s, created)
			VALUES (`+a.Add(src.Name)+`, `+a.Add(string(src.Kind))+`, `+a.Add(src.URL)+`, `+a.Add(src.Collection)+`, `+a.Add(src.User)+`, `+a.Add(sealed)+`, `+a.Add(src.Columns)+`, `+a.Add(src.Type)+`, `+
			a.Add(int(src.Audience.Kind))+`, `+a.Add(src.Audience.Group)+`, `+a.Add(src.Org)+`, `+a.Add(int64(src.Interval/time.Second))+`, `+a.Add(ToMicros(created))+`)
			RETURNING id`, a.Vals...)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("source %s added: %s %s, audience %s, org %d, every %s", src.Name, src.Kind, src.URL, src.Audience, src.Org, src.Interval), nil
	})
	if err != nil {
		return err
	}
	src.ID, src.Created = id, created
	return nil
}

// querySources reads the sources matching where (with its arguments a),
// by name, their keys opened.
func (s *Store) querySources(ctx context.Context, where string, a *Args) ([]*cyberpact.Source, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, kind, url, collection, username, key_sealed, column_map, value_type, aud_kind, aud_group, org, every_s, created
		FROM sources `+where+` ORDER BY `+s.d.ByName("name"), a.Vals...)
	if err != nil {
		return nil, internal("reading sources", err)
	}
	defer rows.Close()
	type row struct {
		src    *cyberpact.Source
		sealed []byte
	}
	var got []row
	for rows.Next() {
		src := &cyberpact.Source{}
		var sealed []byte
		var kind string
		var aud int
		var every, created int64
		if err := rows.Scan(&src.ID, &src.Name, &kind, &src.URL, &src.Collection, &src.User, &sealed, &src.Columns, &src.Type,
			&aud, &src.Audience.Group, &src.Org, &every, &created); err != nil {
			return nil, internal("reading sources", err)
		}
		src.Kind, src.Audience.Kind = cyberpact.SourceKind(kind), cyberpact.AudienceKind(aud)
		src.Interval, src.Created = time.Duration(every)*time.Second, micros(created)
		got = append(got, row{src, sealed})
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading sources", err)
	}
	rows.Close()
	// Keys are opened once the rows are read: the Sealer hook may query
	// the database itself.
	out := make([]*cyberpact.Source, 0, len(got))
	for _, r := range got {
		if len(r.sealed) > 0 {
			aead, err := s.sealer(ctx)
			if err != nil {
				return nil, err
			}
			if r.src.Key, err = peerkey.Open(aead, sourceSealName(r.src.Name), r.sealed); err != nil {
				return nil, internal("reading sources", err)
			}
		}
		out = append(out, r.src)
	}
	return out, nil
}

// Sources lists the sources by name, keys included.
func (s *Store) Sources(ctx context.Context) ([]*cyberpact.Source, error) {
	return s.querySources(ctx, "", s.d.Args())
}

// SourceByName returns the source named name, whatever its case, or
// ENOTFOUND.
func (s *Store) SourceByName(ctx context.Context, name string) (*cyberpact.Source, error) {
	a := s.d.Args()
	srcs, err := s.querySources(ctx, `WHERE `+s.d.NameIs("name", a, name), a)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no source %q", name)
	}
	return srcs[0], nil
}

// DeleteSource removes a source with its state, recording the change in
// the audit log. Returns ENOTFOUND.
func (s *Store) DeleteSource(ctx context.Context, name string, actor string) error {
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		a := s.d.Args()
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM sources WHERE `+s.d.NameIs("name", a, name), a.Vals...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no source %q", name)
		}
		if err != nil {
			return "", internal("removing source", err)
		}
		// Both stores cascade; SQLite only with its foreign keys on, so the
		// state goes explicitly.
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM source_state WHERE source = `+a.Add(id), a.Vals...); err != nil {
			return "", internal("removing source", err)
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = `+a.Add(id), a.Vals...); err != nil {
			return "", internal("removing source", err)
		}
		return "source " + name + " removed", nil
	})
}

// SourceState returns where ingestion of source stands, the zero state
// before its first run. Returns ENOTFOUND for an unknown source.
func (s *Store) SourceState(ctx context.Context, source int64) (*cyberpact.SourceState, error) {
	var body []byte
	a := s.d.Args()
	err := s.read.QueryRowContext(ctx, `SELECT st.body FROM sources src LEFT JOIN source_state st ON st.source = src.id WHERE src.id = `+a.Add(source), a.Vals...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no source %d", source)
	}
	if err != nil {
		return nil, internal("reading source state", err)
	}
	st := &cyberpact.SourceState{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, st); err != nil {
			return nil, internal("reading source state", err)
		}
	}
	st.Source = source
	return st, nil
}

// SaveSourceState replaces the state of st.Source. Returns ENOTFOUND.
func (s *Store) SaveSourceState(ctx context.Context, st *cyberpact.SourceState) error {
	body, err := json.Marshal(st)
	if err != nil {
		return internal("saving source state", err)
	}
	a := s.d.Args()
	res, err := s.write.ExecContext(ctx, `INSERT INTO source_state (source, body) SELECT id, `+a.Add(body)+` FROM sources WHERE id = `+a.Add(st.Source)+`
		ON CONFLICT (source) DO UPDATE SET body = excluded.body`, a.Vals...)
	if err != nil {
		return internal("saving source state", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no source %d", st.Source)
	}
	return nil
}
