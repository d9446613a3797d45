-- Offline bundles (cyberpact bundle seal/open; see sqlstore/bundles.go).
-- The hub's own Ed25519 signing key, sealed with AES-256-GCM like the
-- peers' keys, made on first use.
CREATE TABLE hub_keys (
    name       text   PRIMARY KEY,
    key_sealed bytea  NOT NULL,                      -- nonce || AES-GCM(private key)
    public_key bytea  NOT NULL,
    created    bigint NOT NULL                       -- unix microseconds
);

-- Per peer: its trusted bundle key and the two hash chains, sealed for it
-- and opened from it. A chain only moves from the sequence it was read at.
CREATE TABLE bundle_chains (
    peer         bigint PRIMARY KEY REFERENCES peers (id) ON DELETE CASCADE,
    public_key   bytea  UNIQUE,
    sealed_seq   bigint NOT NULL DEFAULT 0,
    sealed_hash  text   NOT NULL DEFAULT '',
    sealed_after bigint NOT NULL DEFAULT 0,
    sealed_at    bigint NOT NULL DEFAULT 0,
    opened_seq   bigint NOT NULL DEFAULT 0,
    opened_hash  text   NOT NULL DEFAULT '',
    opened_at    bigint NOT NULL DEFAULT 0
);
