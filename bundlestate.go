package cyberpact

import (
	"context"
	"time"
)

// BundleChain is where offline bundles with one peer stand, each way: the
// peer's trusted Ed25519 public key, the last bundle sealed for it (its
// sequence number and hash, and the local Seq up to which objects were
// considered) and the last bundle opened from it. Sequence numbers start
// at 1; a zero sequence has the empty hash.
type BundleChain struct {
	Peer int64 `json:"peer"`
	// PublicKey is the peer's bundle key (32 bytes), nil when none is
	// trusted yet.
	PublicKey []byte `json:"public_key,omitempty"`

	SealedSeq   int64     `json:"sealed_seq"`
	SealedHash  string    `json:"sealed_hash,omitempty"`
	SealedAfter int64     `json:"sealed_after"`
	SealedAt    time.Time `json:"sealed_at,omitzero"`

	OpenedSeq  int64     `json:"opened_seq"`
	OpenedHash string    `json:"opened_hash,omitempty"`
	OpenedAt   time.Time `json:"opened_at,omitzero"`
}

// BundleStore keeps what offline bundles need: the hub's own signing key
// and, per peer, the trusted key and the two chains.
type BundleStore interface {
	// HubBundleKey returns the hub's Ed25519 private key (64 bytes), made
	// on first use and kept sealed like the peers' keys. Returns EINVALID
	// when the store cannot seal keys.
	HubBundleKey(ctx context.Context) ([]byte, error)
	// TrustBundleKey sets the Ed25519 public key of the named peer and
	// records the change in the audit log. Returns ENOTFOUND for an
	// unknown peer, EINVALID for a key that is not 32 bytes, ECONFLICT
	// when another peer has that key.
	TrustBundleKey(ctx context.Context, peer string, key []byte, actor string) error
	// BundleChain returns the chains of a peer, the zero chain before the
	// first bundle. Returns ENOTFOUND for an unknown peer.
	BundleChain(ctx context.Context, peer int64) (*BundleChain, error)
	// PeerByBundleKey returns the peer that key is trusted for. Returns
	// ENOTFOUND when there is none.
	PeerByBundleKey(ctx context.Context, key []byte) (*Peer, error)
	// RecordSealed moves the sealing chain of peer from sequence prev to
	// prev+1 with hash and local cursor after. Returns ECONFLICT, changing
	// nothing, when the chain is no longer at prev (another seal came
	// first).
	RecordSealed(ctx context.Context, peer, prev int64, hash string, after int64) error
	// RecordOpened moves the opening chain of peer from sequence prev to
	// prev+1 with hash. Returns ECONFLICT, changing nothing, when the
	// chain is no longer at prev (another open came first).
	RecordOpened(ctx context.Context, peer, prev int64, hash string) error
}
