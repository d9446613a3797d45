-- Federation with peer hubs over TAXII 2.1 (see peers.go). A peer's key is
-- stored sealed with AES-256-GCM under the hub's peer key file (the
-- PeerKeyFile option of Open; CYBERPACT_PEER_KEY_FILE for the command),
-- never in clear. Times are unix microseconds.
CREATE TABLE peers (
    id         bigserial PRIMARY KEY,
    name       text     NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    url        text     NOT NULL CHECK (url <> ''),   -- the peer's TAXII API root
    collection text     NOT NULL CHECK (collection <> ''),
    username   text     NOT NULL,
    key_sealed bytea    NOT NULL,                     -- nonce || AES-GCM(key)
    direction  text     NOT NULL CHECK (direction IN ('pull', 'push', 'both')),
    aud_kind   smallint NOT NULL CHECK (aud_kind IN (1, 2, 3)),
    aud_group  bigint   NOT NULL DEFAULT 0,
    org        bigint   NOT NULL DEFAULT 0,
    page_size  integer  NOT NULL DEFAULT 0,
    created    bigint   NOT NULL
);
CREATE UNIQUE INDEX peers_name ON peers (lower(name));

-- Which key sealed the peers' keys: an HMAC of a fixed text under it, so
-- that a process given another key file says so instead of failing to
-- open every key (or sealing new ones no other process can open).
CREATE TABLE peer_key_check (
    one   boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    check_mac bytea NOT NULL
);

-- Where synchronisation with each peer stands (cyberpact.PeerState): the
-- cursors move only after what they cover is committed.
CREATE TABLE peer_state (
    peer bigint PRIMARY KEY REFERENCES peers (id) ON DELETE CASCADE,
    body bytea  NOT NULL                             -- the state as JSON
);

-- Object versions that could not cross, retried on every run until they do.
CREATE TABLE sync_failures (
    peer      bigint  NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
    direction text    NOT NULL,
    id        text    NOT NULL,
    version   text    NOT NULL,
    seq       bigint  NOT NULL DEFAULT 0,
    reason    text    NOT NULL,
    attempts  integer NOT NULL,
    first     bigint  NOT NULL,
    last      bigint  NOT NULL,
    PRIMARY KEY (peer, direction, id, version)
);

-- The provenance of every object version federation added, written in the
-- import's own transaction: which peer hub, which collection, when. A peer
-- removed later keeps its name here; a version deleted takes its row along.
CREATE TABLE provenance (
    seq        bigint PRIMARY KEY REFERENCES objects (seq) ON DELETE CASCADE,
    peer       text   NOT NULL,
    url        text   NOT NULL,
    collection text   NOT NULL,
    synced     bigint NOT NULL
);
