package sqlite

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/peerkey"
)

// Ensure DB implements the peer store.
var _ cyberpact.PeerStore = (*DB)(nil)

// Peers' keys are sealed with AES-256-GCM under a key of the hub's own,
// kept in a file beside the database (cyberpact-peers.key for
// cyberpact.db, mode 0600, made on first use). A copy of the database, a
// backup or a dump alone does not give away the credentials this hub holds
// for its peers; the file has to be taken too.

// peersKeyFile names the sealing key file of the object database file.
func peersKeyFile(path string) string {
	base := filepath.Base(path)
	return filepath.Join(filepath.Dir(path), strings.TrimSuffix(base, filepath.Ext(base))+"-peers.key")
}

// sealer returns the AEAD that seals peers' keys, making its key file when
// there is none.
func (db *DB) sealer() (cipher.AEAD, error) {
	key, err := peerkey.ReadOrMake(peersKeyFile(db.path))
	if err != nil {
		return nil, internal("reading the peer key file", err)
	}
	aead, err := peerkey.NewAEAD(key)
	if err != nil {
		return nil, internal("reading the peer key file", err)
	}
	return aead, nil
}

// CreatePeer adds a peer; see cyberpact.PeerStore.
func (db *DB) CreatePeer(ctx context.Context, p *cyberpact.Peer, actor string) error {
	if err := p.Check(); err != nil {
		return err
	}
	aead, err := db.sealer()
	if err != nil {
		return err
	}
	sealed, err := peerkey.Seal(aead, p.Name, p.Key)
	if err != nil {
		return internal("sealing the peer key", err)
	}
	created := now()
	var id int64
	err = db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		if taken, err := exists(ctx, tx, `SELECT 1 FROM peers WHERE name = ?`, p.Name); err != nil {
			return "", internal("creating peer", err)
		} else if taken {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "a peer named %q exists", p.Name)
		}
		if p.Org != 0 {
			if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE id = ?`, p.Org); err != nil {
				return "", internal("creating peer", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %d", p.Org)
			}
		}
		if p.Audience.Kind == cyberpact.AudienceGroup {
			if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE id = ?`, p.Audience.Group); err != nil {
				return "", internal("creating peer", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no sharing group %d", p.Audience.Group)
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO peers (name, url, collection, user, key_sealed, direction, aud_kind, aud_group, org, page_size, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.Name, p.URL, p.Collection, p.User, sealed, string(p.Direction), int(p.Audience.Kind), p.Audience.Group, p.Org, p.PageSize, toMicros(created)).Scan(&id)
		if err != nil {
			return "", internal("creating peer", err)
		}
		return fmt.Sprintf("peer %s added: %s collection %s, %s, audience %s, org %d", p.Name, p.URL, p.Collection, p.Direction, p.Audience, p.Org), nil
	})
	if err != nil {
		return err
	}
	p.ID, p.Created = id, created
	return nil
}

const peerCols = `id, name, url, collection, user, key_sealed, direction, aud_kind, aud_group, org, page_size, created`

func (db *DB) queryPeers(ctx context.Context, where string, args ...any) ([]*cyberpact.Peer, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+peerCols+` FROM peers `+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, internal("reading peers", err)
	}
	defer rows.Close()
	var aead cipher.AEAD
	var out []*cyberpact.Peer
	for rows.Next() {
		p := &cyberpact.Peer{}
		var sealed []byte
		var dir string
		var kind int
		var created int64
		if err := rows.Scan(&p.ID, &p.Name, &p.URL, &p.Collection, &p.User, &sealed, &dir, &kind, &p.Audience.Group, &p.Org, &p.PageSize, &created); err != nil {
			return nil, internal("reading peers", err)
		}
		if aead == nil {
			if aead, err = db.sealer(); err != nil {
				return nil, err
			}
		}
		if p.Key, err = peerkey.Open(aead, p.Name, sealed); err != nil {
			return nil, internal("reading peers", err)
		}
		p.Direction, p.Audience.Kind = cyberpact.SyncDirection(dir), cyberpact.AudienceKind(kind)
		p.Created = time.UnixMicro(created).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading peers", err)
	}
	return out, nil
}

// Peers lists the peers by name.
func (db *DB) Peers(ctx context.Context) ([]*cyberpact.Peer, error) {
	return db.queryPeers(ctx, "")
}

// PeerByName returns the peer named name, whatever its case, or ENOTFOUND.
func (db *DB) PeerByName(ctx context.Context, name string) (*cyberpact.Peer, error) {
	ps, err := db.queryPeers(ctx, `WHERE name = ?`, name)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %q", name)
	}
	return ps[0], nil
}

// DeletePeer removes a peer with its state and failures.
func (db *DB) DeletePeer(ctx context.Context, name string, actor string) error {
	return db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM peers WHERE name = ?`, name)
		if err != nil {
			return "", internal("removing peer", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %q", name)
		}
		return "peer " + name + " removed", nil
	})
}

// PeerState returns where synchronisation with peer stands.
func (db *DB) PeerState(ctx context.Context, peer int64) (*cyberpact.PeerState, error) {
	var body []byte
	var known int
	err := db.read.QueryRowContext(ctx, `SELECT 1, COALESCE((SELECT body FROM peer_state WHERE peer = p.id), x'') FROM peers p WHERE p.id = ?`, peer).Scan(&known, &body)
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

// SavePeerState replaces peer's state.
func (db *DB) SavePeerState(ctx context.Context, st *cyberpact.PeerState) error {
	body, err := json.Marshal(st)
	if err != nil {
		return internal("saving peer state", err)
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO peer_state (peer, body) SELECT id, ? FROM peers WHERE id = ?
		ON CONFLICT (peer) DO UPDATE SET body = excluded.body`, body, st.Peer)
	if err != nil {
		return internal("saving peer state", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", st.Peer)
	}
	return nil
}

// RecordFailure adds or updates a failure.
func (db *DB) RecordFailure(ctx context.Context, f *cyberpact.SyncFailure) error {
	t := now()
	if !f.Last.IsZero() {
		t = f.Last
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO sync_failures (peer, direction, id, version, seq, reason, attempts, first, last)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (peer, direction, id, version) DO UPDATE SET reason = excluded.reason, seq = excluded.seq,
			attempts = attempts + 1, last = excluded.last`,
		f.Peer, string(f.Direction), f.ObjectID, f.Version, f.Seq, f.Reason, toMicros(t), toMicros(t))
	if err != nil {
		if strings.Contains(err.Error(), "FOREIGN KEY") {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", f.Peer)
		}
		return internal("recording sync failure", err)
	}
	return nil
}

// ClearFailure forgets a failure.
func (db *DB) ClearFailure(ctx context.Context, peer int64, dir cyberpact.SyncDirection, id, version string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sync_failures WHERE peer = ? AND direction = ? AND id = ? AND version = ?`, peer, string(dir), id, version); err != nil {
		return internal("clearing sync failure", err)
	}
	return nil
}

// Failures lists peer's failures, oldest first.
func (db *DB) Failures(ctx context.Context, peer int64) ([]*cyberpact.SyncFailure, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT peer, direction, id, version, seq, reason, attempts, first, last FROM sync_failures WHERE peer = ? ORDER BY first, id, version`, peer)
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
		f.First, f.Last = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading sync failures", err)
	}
	return out, nil
}

// Origins returns the provenance of those of seqs that federation added.
func (db *DB) Origins(ctx context.Context, seqs []int64) (map[int64]*cyberpact.Origin, error) {
	out := map[int64]*cyberpact.Origin{}
	for len(seqs) > 0 {
		n := min(len(seqs), 500)
		args := make([]any, n)
		for i, s := range seqs[:n] {
			args[i] = s
		}
		seqs = seqs[n:]
		rows, err := db.read.QueryContext(ctx, `SELECT seq, peer, url, collection, synced FROM provenance WHERE seq IN (`+placeholders(n)+`)`, args...)
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
			o.Synced = time.UnixMicro(synced).UTC()
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

// recordOrigin writes the provenance of the versions an import added, seqs
// first to last, in the import's transaction.
func recordOrigin(ctx context.Context, tx *sql.Tx, o *cyberpact.Origin, first, last int64) error {
	if o == nil {
		return nil
	}
	synced := o.Synced
	if synced.IsZero() {
		synced = now()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO provenance (seq, peer, url, collection, synced)
		SELECT seq, ?, ?, ?, ? FROM objects WHERE seq BETWEEN ? AND ?`, o.Peer, o.URL, o.Collection, toMicros(synced), first, last); err != nil {
		return internal("recording provenance", err)
	}
	return nil
}
