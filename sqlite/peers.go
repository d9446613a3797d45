package sqlite

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/peerkey"
)

// Ensure DB implements the peer store (through the shared store).
var _ cyberpact.PeerStore = (*DB)(nil)

// Ensure DB implements the source store (through the shared store).
var _ cyberpact.SourceStore = (*DB)(nil)

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
func (db *DB) sealer(context.Context) (cipher.AEAD, error) {
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

// savePeerState saves opts' peer state (ImportOptions.PeerState) of an
// import whose result is res, in the import's transaction.
func savePeerState(ctx context.Context, tx *sql.Tx, opts *cyberpact.ImportOptions, res *cyberpact.ImportResult) error {
	if opts.PeerState == nil {
		return nil
	}
	st := opts.PeerState(res)
	body, err := json.Marshal(st)
	if err != nil {
		return internal("saving peer state", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO peer_state (peer, body) SELECT id, ? FROM peers WHERE id = ?
		ON CONFLICT (peer) DO UPDATE SET body = excluded.body`, body, st.Peer); err != nil {
		return internal("saving peer state", err)
	}
	return nil
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
