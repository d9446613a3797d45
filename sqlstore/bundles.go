package sqlstore

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/peerkey"
)

// Ensure Store implements the bundle store.
var _ cyberpact.BundleStore = (*Store)(nil)

// hubBundleKeyName is the name the hub's bundle key is kept and sealed
// under, in a space of its own, so that it cannot pass for a peer's key.
const hubBundleKeyName = "bundle:hub"

// HubBundleKey returns the hub's Ed25519 private key, made on first use
// and kept sealed by the Sealer hook; see cyberpact.BundleStore. Two
// processes making it at once keep the first one written.
func (s *Store) HubBundleKey(ctx context.Context) ([]byte, error) {
	aead, err := s.sealer(ctx)
	if err != nil {
		return nil, err
	}
	read := func() ([]byte, error) {
		var sealed []byte
		a := s.d.Args()
		err := s.write.QueryRowContext(ctx, `SELECT key_sealed FROM hub_keys WHERE name = `+a.Add(hubBundleKeyName), a.Vals...).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, internal("reading the hub's bundle key", err)
		}
		k, err := peerkey.Open(aead, hubBundleKeyName, sealed)
		if err != nil {
			return nil, internal("opening the hub's bundle key", err)
		}
		priv, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(priv) != ed25519.PrivateKeySize {
			return nil, internal("opening the hub's bundle key", fmt.Errorf("not an Ed25519 private key"))
		}
		return priv, nil
	}
	if k, err := read(); err != nil || k != nil {
		return k, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, internal("making the hub's bundle key", err)
	}
	sealed, err := peerkey.Seal(aead, hubBundleKeyName, base64.StdEncoding.EncodeToString(priv))
	if err != nil {
		return nil, internal("sealing the hub's bundle key", err)
	}
	a := s.d.Args()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO hub_keys (name, key_sealed, public_key, created) VALUES (`+
		a.Add(hubBundleKeyName)+`, `+a.Add(sealed)+`, `+a.Add([]byte(pub))+`, `+a.Add(ToMicros(Now()))+`) ON CONFLICT (name) DO NOTHING`, a.Vals...); err != nil {
		return nil, internal("keeping the hub's bundle key", err)
	}
	return read()
}

// TrustBundleKey sets a peer's bundle key and audits it; see
// cyberpact.BundleStore.
func (s *Store) TrustBundleKey(ctx context.Context, peer string, key []byte, actor string) error {
	if len(key) != ed25519.PublicKeySize {
		return cyberpact.Errorf(cyberpact.EINVALID, "a bundle key is an Ed25519 public key of %d bytes, not %d", ed25519.PublicKeySize, len(key))
	}
	return s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		var id, org int64
		err := tx.QueryRowContext(ctx, `SELECT id, org FROM peers WHERE `+s.d.NameIs("name", a, peer), a.Vals...).Scan(&id, &org)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %q", peer)
		}
		if err != nil {
			return "", 0, internal("trusting a bundle key", err)
		}
		a = s.d.Args()
		var other string
		err = tx.QueryRowContext(ctx, `SELECT p.name FROM bundle_chains b JOIN peers p ON p.id = b.peer WHERE b.public_key = `+a.Add(key)+` AND b.peer <> `+a.Add(id), a.Vals...).Scan(&other)
		if err == nil {
			return "", 0, cyberpact.Errorf(cyberpact.ECONFLICT, "that bundle key is already trusted for peer %s", other)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return "", 0, internal("trusting a bundle key", err)
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `INSERT INTO bundle_chains (peer, public_key) VALUES (`+a.Add(id)+`, `+a.Add(key)+`)
			ON CONFLICT (peer) DO UPDATE SET public_key = excluded.public_key`, a.Vals...); err != nil {
			return "", 0, internal("trusting a bundle key", err)
		}
		return fmt.Sprintf("peer %s: bundle key %s trusted", peer, base64.StdEncoding.EncodeToString(key)), org, nil
	})
}

// BundleChain reads a peer's chains; see cyberpact.BundleStore.
func (s *Store) BundleChain(ctx context.Context, peer int64) (*cyberpact.BundleChain, error) {
	c := &cyberpact.BundleChain{Peer: peer}
	var key []byte
	var sealedSeq, sealedAfter, sealedAt, openedSeq, openedAt sql.NullInt64
	var sealedHash, openedHash sql.NullString
	a := s.d.Args()
	err := s.write.QueryRowContext(ctx, `SELECT b.public_key, b.sealed_seq, b.sealed_hash, b.sealed_after, b.sealed_at, b.opened_seq, b.opened_hash, b.opened_at
		FROM peers p LEFT JOIN bundle_chains b ON b.peer = p.id WHERE p.id = `+a.Add(peer), a.Vals...).
		Scan(&key, &sealedSeq, &sealedHash, &sealedAfter, &sealedAt, &openedSeq, &openedHash, &openedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer %d", peer)
	}
	if err != nil {
		return nil, internal("reading a bundle chain", err)
	}
	c.PublicKey = key
	c.SealedSeq, c.SealedHash, c.SealedAfter = sealedSeq.Int64, sealedHash.String, sealedAfter.Int64
	c.OpenedSeq, c.OpenedHash = openedSeq.Int64, openedHash.String
	if sealedAt.Int64 != 0 {
		c.SealedAt = micros(sealedAt.Int64)
	}
	if openedAt.Int64 != 0 {
		c.OpenedAt = micros(openedAt.Int64)
	}
	return c, nil
}

// PeerByBundleKey finds the peer a key is trusted for; see
// cyberpact.BundleStore.
func (s *Store) PeerByBundleKey(ctx context.Context, key []byte) (*cyberpact.Peer, error) {
	a := s.d.Args()
	ps, err := s.queryPeers(ctx, `WHERE id IN (SELECT peer FROM bundle_chains WHERE public_key = `+a.Add(key)+`)`, a)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no peer trusts the bundle key %s", base64.StdEncoding.EncodeToString(key))
	}
	return ps[0], nil
}

// RecordSealed moves a peer's sealing chain on by one; see
// cyberpact.BundleStore.
func (s *Store) RecordSealed(ctx context.Context, peer, prev int64, hash string, after int64) error {
	a := s.d.Args()
	return s.moveChain(ctx, "sealed", `UPDATE bundle_chains SET sealed_seq = sealed_seq + 1, sealed_hash = `+a.Add(hash)+
		`, sealed_after = `+a.Add(after)+`, sealed_at = `+a.Add(ToMicros(Now()))+
		` WHERE peer = `+a.Add(peer)+` AND sealed_seq = `+a.Add(prev), a)
}

// RecordOpened moves a peer's opening chain on by one; see
// cyberpact.BundleStore.
func (s *Store) RecordOpened(ctx context.Context, peer, prev int64, hash string) error {
	a := s.d.Args()
	return s.moveChain(ctx, "opened", `UPDATE bundle_chains SET opened_seq = opened_seq + 1, opened_hash = `+a.Add(hash)+
		`, opened_at = `+a.Add(ToMicros(Now()))+
		` WHERE peer = `+a.Add(peer)+` AND opened_seq = `+a.Add(prev), a)
}

func (s *Store) moveChain(ctx context.Context, which, query string, a *Args) error {
	res, err := s.write.ExecContext(ctx, query, a.Vals...)
	if err != nil {
		return internal("recording a bundle "+which, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return internal("recording a bundle "+which, err)
	}
	if n != 1 {
		return cyberpact.Errorf(cyberpact.ECONFLICT, "the %s chain moved meanwhile (another bundle was %s first, or the peer has no bundle key)", which, which)
	}
	return nil
}
