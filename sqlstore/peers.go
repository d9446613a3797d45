package sqlstore

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/peerkey"
)

// Ensure Store implements the peer store.
var _ cyberpact.PeerStore = (*Store)(nil)

// sealer returns the AEAD of the Sealer hook.
func (s *Store) sealer(ctx context.Context) (cipher.AEAD, error) {
	if s.h.Sealer == nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "this store keeps no peers")
	}
	return s.h.Sealer(ctx)
}

// CreatePeer adds a peer, its key sealed by the Sealer hook, and records
// the change in the audit log; see cyberpact.PeerStore. Returns EINVALID
// for a peer that does not check or when the store cannot seal keys,
// ECONFLICT when the name is taken (whatever its case), ENOTFOUND for an
// unknown organisation or sharing group.
func (s *Store) CreatePeer(ctx context.Context, p *cyberpact.Peer, actor string) error {
	if err := p.Check(); err != nil {
		return err
	}
	aead, err := s.sealer(ctx)
	if err != nil {
		return err
	}
	sealed, err := peerkey.Seal(aead, p.Name, p.Key)
	if err != nil {
		return internal("sealing the peer key", err)
	}
	created := Now()
	var id int64
	// The entry concerns the organisation the peer stands for: it is in
	// that organisation's trail.
	add := func(tx *sql.Tx) (string, error) {
		taken := fmt.Sprintf("a peer named %q exists", p.Name)
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM peers WHERE `+s.d.NameIs("name", a, p.Name), a.Vals...); err != nil {
			return "", internal("creating peer", err)
		} else if ok {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		if p.Org != 0 {
			a := s.d.Args()
			if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE id = `+a.Add(p.Org), a.Vals...); err != nil {
				return "", internal("creating peer", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %d", p.Org)
			}
		}
		if p.Audience.Kind == cyberpact.AudienceGroup {
			a := s.d.Args()
			if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE id = `+a.Add(p.Audience.Group), a.Vals...); err != nil {
				return "", internal("creating peer", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no sharing group %d", p.Audience.Group)
			}
		}
		a = s.d.Args()
		var err error
		id, err = s.insertID(ctx, tx, "creating peer", taken, `INSERT INTO peers (name, url, collection, `+s.d.PeerUser+`, key_sealed, direction, aud_kind, aud_group, org, page_size, created)
			VALUES (`+a.Add(p.Name)+`, `+a.Add(p.URL)+`, `+a.Add(p.Collection)+`, `+a.Add(p.User)+`, `+a.Add(sealed)+`, `+a.Add(string(p.Direction))+`, `+a.Add(int(p.Audience.Kind))+`, `+a.Add(p.Audience.Group)+`, `+a.Add(p.Org)+`, `+a.Add(p.PageSize)+`, `+a.Add(ToMicros(created))+`)
			RETURNING id`, a.Vals...)
		if err != nil {
			return "", err
		}
		// Named, so that the entry reads without looking ids up.
		aud := p.Audience.String()
		if p.Audience.Kind == cyberpact.AudienceGroup {
			a := s.d.Args()
			var name string
			if err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = `+a.Add(p.Audience.Group), a.Vals...).Scan(&name); err != nil {
				return "", internal("creating peer", err)
			}
			aud = p.Audience.Name(map[int64]string{p.Audience.Group: name})
		}
		org := "the hub itself"
		if p.Org != 0 {
			names, err := s.orgNames(ctx, tx, []int64{p.Org})
			if err != nil {
				return "", err
			}
			org = strconv.Quote(names[0])
		}
		return fmt.Sprintf("peer %s added: %s collection %s, %s, audience %s, pulled objects attributed to %s", p.Name, p.URL, p.Collection, p.Direction, aud, org), nil
	}
	err = s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		d, err := add(tx)
		return d, p.Org, err
	})
	if err != nil {
		return err
	}
	p.ID, p.Created = id, created
	return nil
}

// queryPeers reads the peers matching the condition where (with its
// arguments a), by name, their keys opened.
func (s *Store) queryPeers(ctx context.Context, where string, a *Args) ([]*cyberpact.Peer, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, url, collection, `+s.d.PeerUser+`, key_sealed, direction, aud_kind, aud_group, org, page_size, created
		FROM peers `+where+` ORDER BY `+s.d.ByName("name"), a.Vals...)
	if err != nil {
		return nil, internal("reading peers", err)
	}
	defer rows.Close()
	type row struct {
		p      *cyberpact.Peer
		sealed []byte
	}
	var got []row
	for rows.Next() {
		p := &cyberpact.Peer{}
		var sealed []byte
		var dir string
		var kind int
		var created int64
		if err := rows.Scan(&p.ID, &p.Name, &p.URL, &p.Collection, &p.User, &sealed, &dir, &kind, &p.Audience.Group, &p.Org, &p.PageSize, &created); err != nil {
			return nil, internal("reading peers", err)
		}
		p.Direction, p.Audience.Kind = cyberpact.SyncDirection(dir), cyberpact.AudienceKind(kind)
		p.Created = micros(created)
		got = append(got, row{p, sealed})
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading peers", err)
	}
	rows.Close()
	// The keys are opened once the rows are read: the Sealer hook may
	// query the database itself.
	out := make([]*cyberpact.Peer, 0, len(got))
	for _, r := range got {
		aead, err := s.sealer(ctx)
		if err != nil {
			return nil, err
		}
		if r.p.Key, err = peerkey.Open(aead, r.p.Name, r.sealed); err != nil {
			return nil, internal("reading peers", err)
		}
		out = append(out, r.p)
	}
	return out, nil
}

// Peers lists the peers by name, keys included.
func (s *Store) Peers(ctx context.Context) ([]*cyberpact.Peer, error) {
	return s.queryPeers(ctx, "", s.d.Args())
}

// PeerByName returns the peer named name, whatever its case, or ENOTFOUND.
func (s *Store) PeerByName(ctx context.Context, name string) (*cyberpact.Peer, error) {
	a := s.d.Args()
	ps, err := s.queryPeers(ctx, `WHERE `+s.d.NameIs("name", a, name), a)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %q", name)
	}
	return ps[0], nil
}

// DeletePeer removes a peer with its state and failures, recording the
// change in the audit log. Returns ENOTFOUND.
func (s *Store) DeletePeer(ctx context.Context, name string, actor string) error {
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		a := s.d.Args()
		res, err := tx.ExecContext(ctx, `DELETE FROM peers WHERE `+s.d.NameIs("name", a, name), a.Vals...)
		if err != nil {
			return "", internal("removing peer", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %q", name)
		}
		return "peer " + name + " removed", nil
	})
}

// PeerState returns where synchronisation with peer stands, the zero state
// before its first run. Returns ENOTFOUND for an unknown peer.
func (s *Store) PeerState(ctx context.Context, peer int64) (*cyberpact.PeerState, error) {
	var body []byte
	a := s.d.Args()
	err := s.read.QueryRowContext(ctx, `SELECT st.body FROM peers p LEFT JOIN peer_state st ON st.peer = p.id WHERE p.id = `+a.Add(peer), a.Vals...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", peer)
	}
	if err != nil {
		return nil, internal("reading peer state", err)
	}
	st := &cyberpact.PeerState{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, st); err != nil {
			return nil, internal("reading peer state", err)
		}
	}
	st.Peer = peer
	return st, nil
}

// SavePeerState replaces the state of st.Peer. Returns ENOTFOUND.
func (s *Store) SavePeerState(ctx context.Context, st *cyberpact.PeerState) error {
	body, err := json.Marshal(st)
	if err != nil {
		return internal("saving peer state", err)
	}
	a := s.d.Args()
	res, err := s.write.ExecContext(ctx, `INSERT INTO peer_state (peer, body) SELECT id, `+a.Add(body)+` FROM peers WHERE id = `+a.Add(st.Peer)+`
		ON CONFLICT (peer) DO UPDATE SET body = excluded.body`, a.Vals...)
	if err != nil {
		return internal("saving peer state", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", st.Peer)
	}
	return nil
}

// RecordFailure adds a failure or, when one of the same peer, direction,
// id and version is kept, updates its reason and counts one more attempt.
// Returns ENOTFOUND for an unknown peer.
func (s *Store) RecordFailure(ctx context.Context, f *cyberpact.SyncFailure) error {
	t := Now()
	if !f.Last.IsZero() {
		t = f.Last
	}
	a := s.d.Args()
	_, err := s.write.ExecContext(ctx, `INSERT INTO sync_failures AS s (peer, direction, id, version, seq, reason, attempts, first, last)
		VALUES (`+a.Add(f.Peer)+`, `+a.Add(string(f.Direction))+`, `+a.Add(f.ObjectID)+`, `+a.Add(f.Version)+`, `+a.Add(f.Seq)+`, `+a.Add(f.Reason)+`, 1, `+a.Add(ToMicros(t))+`, `+a.Add(ToMicros(t))+`)
		ON CONFLICT (peer, direction, id, version) DO UPDATE SET reason = excluded.reason, seq = excluded.seq,
			attempts = s.attempts + 1, last = excluded.last`, a.Vals...)
	if err != nil && s.d.ForeignKey != nil && s.d.ForeignKey(err) {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", f.Peer)
	}
	if err != nil {
		return internal("recording sync failure", err)
	}
	return nil
}

// ClearFailure forgets a failure; forgetting one that is not kept is no
// error.
func (s *Store) ClearFailure(ctx context.Context, peer int64, dir cyberpact.SyncDirection, id, version string) error {
	a := s.d.Args()
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sync_failures WHERE peer = `+a.Add(peer)+` AND direction = `+a.Add(string(dir))+` AND id = `+a.Add(id)+` AND version = `+a.Add(version), a.Vals...); err != nil {
		return internal("clearing sync failure", err)
	}
	return nil
}

// Failures lists peer's failures, oldest first.
func (s *Store) Failures(ctx context.Context, peer int64) ([]*cyberpact.SyncFailure, error) {
	a := s.d.Args()
	rows, err := s.read.QueryContext(ctx, `SELECT peer, direction, id, version, seq, reason, attempts, first, last
		FROM sync_failures WHERE peer = `+a.Add(peer)+` ORDER BY first, id, version`, a.Vals...)
	if err != nil {
		return nil, internal("reading sync failures", err)
	}
	defer rows.Close()
	var out []*cyberpact.SyncFailure
	for rows.Next() {
		f := &cyberpact.SyncFailure{}
		var dir string
		var first, last int64
		if err := rows.Scan(&f.Peer, &dir, &f.ObjectID, &f.Version, &f.Seq, &f.Reason, &f.Attempts, &first, &last); err != nil {
			return nil, internal("reading sync failures", err)
		}
		f.Direction = cyberpact.SyncDirection(dir)
		f.First, f.Last = micros(first), micros(last)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading sync failures", err)
	}
	return out, nil
}

// Origins returns the provenance of those of seqs that federation added,
// by Seq.
func (s *Store) Origins(ctx context.Context, seqs []int64) (map[int64]*cyberpact.Origin, error) {
	out := map[int64]*cyberpact.Origin{}
	for chunk := range slices.Chunk(seqs, s.d.chunk()) {
		a := s.d.Args()
		rows, err := s.read.QueryContext(ctx, `SELECT seq, peer, url, collection, synced FROM provenance WHERE `+a.InInts("seq", chunk), a.Vals...)
		if err != nil {
			return nil, internal("reading provenance", err)
		}
		for rows.Next() {
			var seq, synced int64
			o := &cyberpact.Origin{}
			if err := rows.Scan(&seq, &o.Peer, &o.URL, &o.Collection, &synced); err != nil {
				rows.Close()
				return nil, internal("reading provenance", err)
			}
			o.Synced = micros(synced)
			out[seq] = o
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal("reading provenance", err)
		}
	}
	return out, nil
}
