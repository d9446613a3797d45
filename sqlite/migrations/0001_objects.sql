-- Every version of every STIX object, in the order the hub added them.
CREATE TABLE objects (
    seq          INTEGER PRIMARY KEY,   -- the added sequence: strictly increasing, never reused
    id           TEXT    NOT NULL,
    version      TEXT    NOT NULL,      -- normalised modified, else created, else '' (fixed width, sorts as time)
    type         TEXT    NOT NULL,
    spec_version TEXT    NOT NULL,
    created      TEXT    NOT NULL,
    added        INTEGER NOT NULL,      -- unix microseconds; equal within one import, increasing across imports (see imports)
    revoked      INTEGER NOT NULL,
    latest       INTEGER NOT NULL,      -- 1 on the newest version of each id
    hash         BLOB    NOT NULL,      -- sha256 of body, for the fast equality test on re-import
    labels       TEXT,                  -- JSON array, NULL when none
    body         BLOB    NOT NULL       -- the object's compact JSON
);
CREATE UNIQUE INDEX objects_id_version ON objects (id, version);
CREATE INDEX objects_latest_type ON objects (type, seq) WHERE latest = 1;

-- One row per committed import: added times are equal within an import and
-- increase across imports, so "added after T" is "seq after the last
-- import at or before T", found here without an index on objects.added.
CREATE TABLE imports (
    last_seq  INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    added     INTEGER NOT NULL
);
CREATE INDEX imports_added ON imports (added);

-- Links held by relationships and sightings, for "relationships of X" in
-- both directions.
CREATE TABLE refs (
    seq    INTEGER NOT NULL,            -- the relationship or sighting version
    prop   TEXT    NOT NULL,            -- source_ref, target_ref, sighting_of_ref, ...
    target TEXT    NOT NULL             -- the object it names
);
CREATE INDEX refs_target ON refs (target, seq);
CREATE INDEX refs_seq ON refs (seq);

-- Full-text search; rowid is objects.seq.
CREATE VIRTUAL TABLE search USING fts5 (
    name, description, aliases, external_ids, pattern, vals,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
