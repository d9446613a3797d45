-- Every version of every STIX object, in the order the hub added them.
-- Which version of an id is the latest is not stored: it is the one with
-- no newer version (an index probe on objects_id_version), so adding a
-- version never rewrites another row.
CREATE TABLE objects (
    seq     INTEGER PRIMARY KEY,   -- the added sequence: strictly increasing, never reused
    id      TEXT    NOT NULL,
    version TEXT    NOT NULL,      -- normalised modified, else created, else '' (fixed width, sorts as time)
    type    TEXT    NOT NULL,
    added   INTEGER NOT NULL,      -- unix microseconds; equal within one import, increasing across imports (see imports)
    revoked INTEGER NOT NULL,
    body    BLOB    NOT NULL       -- the object's compact JSON
);
CREATE UNIQUE INDEX objects_id_version ON objects (id, version);
CREATE INDEX objects_type ON objects (type, seq);

-- One row per committed import: added times are equal within an import and
-- increase across imports, so "added after T" is "seq after the last
-- import at or before T", found here without an index on objects.added.
-- MAX(last_seq) is also where the next import's seq starts.
CREATE TABLE imports (
    last_seq  INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    added     INTEGER NOT NULL
);
CREATE INDEX imports_added ON imports (added);

-- Links held by relationships and sightings, for "relationships of X" in
-- both directions.
CREATE TABLE refs (
    seq    INTEGER NOT NULL,       -- the relationship or sighting version
    prop   TEXT    NOT NULL,       -- source_ref, target_ref, sighting_of_ref, ...
    target TEXT    NOT NULL        -- the object it names
);
CREATE INDEX refs_target ON refs (target, seq);

-- Full-text search is in its own file: see search.go.
