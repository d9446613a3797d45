-- Federation with peer hubs over TAXII 2.1 (see peers.go). A peer's key is
-- stored sealed with AES-256-GCM under the hub's peer key file
-- (cyberpact-peers.key beside this database), never in clear.
CREATE TABLE peers (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    url        TEXT    NOT NULL CHECK (url <> ''),   -- the peer's TAXII API root
    collection TEXT    NOT NULL CHECK (collection <> ''),
    user       TEXT    NOT NULL,
    key_sealed BLOB    NOT NULL,                     -- nonce || AES-GCM(key)
    direction  TEXT    NOT NULL CHECK (direction IN ('pull', 'push', 'both')),
    aud_kind   INTEGER NOT NULL CHECK (aud_kind IN (1, 2, 3)),
    aud_group  INTEGER NOT NULL DEFAULT 0,
    org        INTEGER NOT NULL DEFAULT 0,
    page_size  INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL                      -- unix microseconds
);

-- Where synchronisation with each peer stands (cyberpact.PeerState): the
-- cursors move only after what they cover is committed.
CREATE TABLE peer_state (
    peer         INTEGER PRIMARY KEY REFERENCES peers (id) ON DELETE CASCADE,
    body         BLOB    NOT NULL                    -- the state as JSON
);

-- Object versions that could not cross, retried on every run until they do.
CREATE TABLE sync_failures (
    peer      INTEGER NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
    direction TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    version   TEXT    NOT NULL,
    seq       INTEGER NOT NULL DEFAULT 0,
    reason    TEXT    NOT NULL,
    attempts  INTEGER NOT NULL,
    first     INTEGER NOT NULL,
    last      INTEGER NOT NULL,
    PRIMARY KEY (peer, direction, id, version)
) WITHOUT ROWID;

-- The provenance of every object version federation added, written in the
-- import's own transaction: which peer hub, which collection, when. A peer
-- removed later keeps its name here.
CREATE TABLE provenance (
    seq        INTEGER PRIMARY KEY REFERENCES objects (seq) ON DELETE CASCADE,
    peer       TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    collection TEXT    NOT NULL,
    synced     INTEGER NOT NULL                      -- unix microseconds
);
