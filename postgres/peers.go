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

// Ensure DB implements the source store (through the shared store).
var _ cyberpact.SourceStore = (*DB)(nil)

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

// savePeerState saves opts' peer state (ImportOptions.PeerState) of an
// import whose result is res, in the import's transaction.
func savePeerState(ctx context.Context, tx pgx.Tx, opts *cyberpact.ImportOptions, res *cyberpact.ImportResult) error {
	if opts.PeerState == nil {
		return nil
	}
	st := opts.PeerState(res)
	body, err := json.Marshal(st)
	if err != nil {
		return internal("saving peer state", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO peer_state (peer, body) SELECT id, $1 FROM peers WHERE id = $2
		ON CONFLICT (peer) DO UPDATE SET body = excluded.body`, body, st.Peer); err != nil {
		return internal("saving peer state", err)
	}
	return nil
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
