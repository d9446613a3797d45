-- Feed sources ingested on a schedule (see source.go): TAXII collections,
-- MISP feeds, CSV and plain lists. A source's key, when it has one, is
-- sealed like a peer's (cyberpact-peers.key beside this database).
CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    kind        TEXT    NOT NULL CHECK (kind IN ('taxii', 'misp', 'csv', 'list')),
    url         TEXT    NOT NULL CHECK (url <> ''),
    collection  TEXT    NOT NULL DEFAULT '',
    username    TEXT    NOT NULL DEFAULT '',
    key_sealed  BLOB,                                -- nonce || AES-GCM(key); NULL for none
    column_map  TEXT    NOT NULL DEFAULT '',
    value_type  TEXT    NOT NULL DEFAULT '',
    aud_kind    INTEGER NOT NULL CHECK (aud_kind IN (1, 2, 3)),
    aud_group   INTEGER NOT NULL DEFAULT 0,
    org         INTEGER NOT NULL DEFAULT 0,
    every_s     INTEGER NOT NULL CHECK (every_s >= 60), -- the interval, in seconds
    created     INTEGER NOT NULL                     -- unix microseconds
);

-- Where ingestion of each source stands (cyberpact.SourceState), as JSON:
-- its cursors move only after what they cover is committed.
CREATE TABLE source_state (
    source INTEGER PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    body   BLOB    NOT NULL
);
