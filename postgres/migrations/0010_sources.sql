-- Feed sources ingested on a schedule (see source.go): TAXII collections,
-- MISP feeds, CSV and plain lists. A source's key, when it has one, is
-- sealed like a peer's, under the peer key file. Times are unix
-- microseconds.
CREATE TABLE sources (
    id          bigserial PRIMARY KEY,
    name        text     NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    kind        text     NOT NULL CHECK (kind IN ('taxii', 'misp', 'csv', 'list')),
    url         text     NOT NULL CHECK (url <> ''),
    collection  text     NOT NULL DEFAULT '',
    username    text     NOT NULL DEFAULT '',
    key_sealed  bytea,                                -- nonce || AES-GCM(key); NULL for none
    column_map  text     NOT NULL DEFAULT '',
    value_type  text     NOT NULL DEFAULT '',
    aud_kind    smallint NOT NULL CHECK (aud_kind IN (1, 2, 3)),
    aud_group   bigint   NOT NULL DEFAULT 0,
    org         bigint   NOT NULL DEFAULT 0,
    every_s     bigint   NOT NULL CHECK (every_s >= 60), -- the interval, in seconds
    created     bigint   NOT NULL
);
CREATE UNIQUE INDEX sources_name ON sources (lower(name));

-- Where ingestion of each source stands (cyberpact.SourceState), as JSON:
-- its cursors move only after what they cover is committed.
CREATE TABLE source_state (
    source bigint PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    body   bytea  NOT NULL
);
