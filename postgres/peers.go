package postgres

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/peerkey"
	"github.com/jackc/pgx/v5"
)

// Ensure DB implements the peer store.
var _ cyberpact.PeerStore = (*DB)(nil)

// Peers' keys are sealed with AES-256-GCM under a key of the hub's own,
// kept in a file outside the database (the PeerKeyFile option; the command
// reads its path from CYBERPACT_PEER_KEY_FILE). A dump or a copy of the
// database alone does not give away the credentials this hub holds for its
// peers; the file has to be taken too. Several serve processes on one
// database share the file (or copies of it): the database keeps an HMAC
// under the key of a fixed text (peer_key_check), so that a process given
// another key refuses to seal or open peers' keys and says why, instead of
// sealing keys the other processes cannot open.

// peerKey is the sealing key, read once from its file.
type peerKey struct {
	path string
	mu   sync.Mutex
	aead cipher.AEAD
}

// keyCheckText is what the HMAC in peer_key_check is computed over.
const keyCheckText = "cyberpact peer key check v1"

// sealer returns the AEAD that seals peers' keys, making the key file when
// there is none and checking it against the one the database was sealed
// with.
func (db *DB) sealer(ctx context.Context) (cipher.AEAD, error) {
	k := &db.peerKey
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.aead != nil {
		return k.aead, nil
	}
	if k.path == "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "no peer key file: the PostgreSQL store seals peers' keys under a key file every serve process shares; set CYBERPACT_PEER_KEY_FILE (made on first use)")
	}
	key, err := peerkey.ReadOrMake(k.path)
	if err != nil {
		return nil, internal("reading the peer key file", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(keyCheckText))
	sum := mac.Sum(nil)
	var stored []byte
	err = db.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO peer_key_check (check_mac) VALUES ($1) ON CONFLICT (one) DO NOTHING RETURNING check_mac)
		SELECT check_mac FROM ins UNION ALL SELECT check_mac FROM peer_key_check`, sum).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another process inserted its check after this statement's
		// snapshot was taken: read it now.
		err = db.pool.QueryRow(ctx, `SELECT check_mac FROM peer_key_check`).Scan(&stored)
	}
	if err != nil {
		return nil, internal("checking the peer key file", err)
	}
	if !hmac.Equal(stored, sum) {
		return nil, internal("checking the peer key file", fmt.Errorf("%s is not the key this database's peers are sealed with (each serve process needs a copy of the same file)", k.path))
	}
	if k.aead, err = peerkey.NewAEAD(key); err != nil {
		return nil, internal("reading the peer key file", err)
	}
	return k.aead, nil
}

// CreatePeer adds a peer, its key sealed, and records the change in the
// audit log in the same transaction; see cyberpact.PeerStore. Returns
// EINVALID too when the store was opened without a PeerKeyFile.
func (db *DB) CreatePeer(ctx context.Context, p *cyberpact.Peer, actor string) error {
	if err := p.Check(); err != nil {
		return err
	}
	aead, err := db.sealer(ctx)
	if err != nil {
		return err
	}
	sealed, err := peerkey.Seal(aead, p.Name, p.Key)
	if err != nil {
		return internal("sealing the peer key", err)
	}
	created := now()
	var id int64
	err = db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		if taken, err := exists(ctx, tx, `SELECT 1 FROM peers WHERE lower(name) = lower($1)`, p.Name); err != nil {
			return "", internal("creating peer", err)
		} else if taken {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "a peer named %q exists", p.Name)
		}
		if p.Org != 0 {
			if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE id = $1`, p.Org); err != nil {
				return "", internal("creating peer", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %d", p.Org)
			}
		}
		if p.Audience.Kind == cyberpact.AudienceGroup {
			if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE id = $1`, p.Audience.Group); err != nil {
				return "", internal("creating peer", err)
			} else if !ok {
				return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no sharing group %d", p.Audience.Group)
			}
		}
		var err error
		id, err = insertID(ctx, tx, "creating peer", fmt.Sprintf("a peer named %q exists", p.Name),
			`INSERT INTO peers (name, url, collection, username, key_sealed, direction, aud_kind, aud_group, org, page_size, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			p.Name, p.URL, p.Collection, p.User, sealed, string(p.Direction), int16(p.Audience.Kind), p.Audience.Group, p.Org, p.PageSize, toMicros(created))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("peer %s added: %s collection %s, %s, audience %s, org %d", p.Name, p.URL, p.Collection, p.Direction, p.Audience, p.Org), nil
	})
	if err != nil {
		return err
	}
	p.ID, p.Created = id, created
	return nil
}

const peerCols = `id, name, url, collection, username, key_sealed, direction, aud_kind, aud_group, org, page_size, created`

func (db *DB) queryPeers(ctx context.Context, where string, args ...any) ([]*cyberpact.Peer, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+peerCols+` FROM peers `+where+` ORDER BY lower(name)`, args...)
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
		var kind int16
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
	out := make([]*cyberpact.Peer, 0, len(got))
	for _, r := range got {
		aead, err := db.sealer(ctx)
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
func (db *DB) Peers(ctx context.Context) ([]*cyberpact.Peer, error) {
	return db.queryPeers(ctx, "")
}

// PeerByName returns the peer named name, whatever its case, or ENOTFOUND.
func (db *DB) PeerByName(ctx context.Context, name string) (*cyberpact.Peer, error) {
	ps, err := db.queryPeers(ctx, `WHERE lower(name) = lower($1)`, name)
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
func (db *DB) DeletePeer(ctx context.Context, name string, actor string) error {
	return db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM peers WHERE lower(name) = lower($1)`, name)
		if err != nil {
			return "", internal("removing peer", err)
		}
		if tag.RowsAffected() == 0 {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %q", name)
		}
		return "peer " + name + " removed", nil
	})
}

// PeerState returns where synchronisation with peer stands, the zero state
// before its first run. Returns ENOTFOUND for an unknown peer.
func (db *DB) PeerState(ctx context.Context, peer int64) (*cyberpact.PeerState, error) {
	var body []byte
	err := db.pool.QueryRow(ctx, `SELECT COALESCE((SELECT body FROM peer_state WHERE peer = p.id), '') FROM peers p WHERE p.id = $1`, peer).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
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
func (db *DB) SavePeerState(ctx context.Context, st *cyberpact.PeerState) error {
	body, err := json.Marshal(st)
	if err != nil {
		return internal("saving peer state", err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO peer_state (peer, body) SELECT id, $1 FROM peers WHERE id = $2
		ON CONFLICT (peer) DO UPDATE SET body = excluded.body`, body, st.Peer)
	if err != nil {
		return internal("saving peer state", err)
	}
	if tag.RowsAffected() == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", st.Peer)
	}
	return nil
}

// RecordFailure adds a failure or, when one of the same peer, direction,
// id and version is kept, updates its reason and counts one more attempt.
// Returns ENOTFOUND for an unknown peer.
func (db *DB) RecordFailure(ctx context.Context, f *cyberpact.SyncFailure) error {
	t := now()
	if !f.Last.IsZero() {
		t = f.Last
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO sync_failures AS s (peer, direction, id, version, seq, reason, attempts, first, last)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
		ON CONFLICT (peer, direction, id, version) DO UPDATE SET reason = excluded.reason, seq = excluded.seq,
			attempts = s.attempts + 1, last = excluded.last`,
		f.Peer, string(f.Direction), f.ObjectID, f.Version, f.Seq, f.Reason, toMicros(t))
	if isForeignKeyViolation(err) {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", f.Peer)
	}
	if err != nil {
		return internal("recording sync failure", err)
	}
	return nil
}

// ClearFailure forgets a failure; forgetting one that is not kept is no
// error.
func (db *DB) ClearFailure(ctx context.Context, peer int64, dir cyberpact.SyncDirection, id, version string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sync_failures WHERE peer = $1 AND direction = $2 AND id = $3 AND version = $4`, peer, string(dir), id, version); err != nil {
		return internal("clearing sync failure", err)
	}
	return nil
}

// Failures lists peer's failures, oldest first.
func (db *DB) Failures(ctx context.Context, peer int64) ([]*cyberpact.SyncFailure, error) {
	rows, err := db.pool.Query(ctx, `SELECT peer, direction, id, version, seq, reason, attempts, first, last
		FROM sync_failures WHERE peer = $1 ORDER BY first, id, version`, peer)
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
func (db *DB) Origins(ctx context.Context, seqs []int64) (map[int64]*cyberpact.Origin, error) {
	out := map[int64]*cyberpact.Origin{}
	if len(seqs) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, peer, url, collection, synced FROM provenance WHERE seq = ANY($1)`, seqs)
	if err != nil {
		return nil, internal("reading provenance", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, synced int64
		o := &cyberpact.Origin{}
		if err := rows.Scan(&seq, &o.Peer, &o.URL, &o.Collection, &synced); err != nil {
			return nil, internal("reading provenance", err)
		}
		o.Synced = micros(synced)
		out[seq] = o
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading provenance", err)
	}
	return out, nil
}

// recordOrigin writes, in the import's transaction, the provenance of the
// versions it added: every seq from first to last is one of them.
func recordOrigin(ctx context.Context, tx pgx.Tx, o *cyberpact.Origin, first, last int64) error {
	if o == nil {
		return nil
	}
	synced := o.Synced
	if synced.IsZero() {
		synced = now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO provenance (seq, peer, url, collection, synced)
		SELECT seq, $1, $2, $3, $4 FROM objects WHERE seq BETWEEN $5 AND $6`, o.Peer, o.URL, o.Collection, toMicros(synced), first, last); err != nil {
		return internal("recording provenance", err)
	}
	return nil
}
