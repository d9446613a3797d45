-- Offline bundles (cyberpact bundle seal/open; see sqlstore/bundles.go).
-- The hub's own Ed25519 signing key, sealed with AES-256-GCM like the
-- peers' keys, made on first use.
CREATE TABLE hub_keys (
    name       TEXT    PRIMARY KEY,
    key_sealed BLOB    NOT NULL,                     -- nonce || AES-GCM(private key)
    public_key BLOB    NOT NULL,
    created    INTEGER NOT NULL                      -- unix microseconds
);

-- Per peer: its trusted bundle key and the two hash chains, sealed for it
-- and opened from it. A chain only moves from the sequence it was read at.
CREATE TABLE bundle_chains (
    peer         INTEGER PRIMARY KEY REFERENCES peers (id) ON DELETE CASCADE,
    public_key   BLOB    UNIQUE,
    sealed_seq   INTEGER NOT NULL DEFAULT 0,
    sealed_hash  TEXT    NOT NULL DEFAULT '',
    sealed_after INTEGER NOT NULL DEFAULT 0,
    sealed_at    INTEGER NOT NULL DEFAULT 0,
    opened_seq   INTEGER NOT NULL DEFAULT 0,
    opened_hash  TEXT    NOT NULL DEFAULT '',
    opened_at    INTEGER NOT NULL DEFAULT 0
);
