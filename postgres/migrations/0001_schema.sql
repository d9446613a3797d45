-- Every version of every STIX object, in the order the hub added them.
-- Which version of an id is the latest is not stored: it is the one with
-- no newer version (a probe on objects_id_version), so adding a version
-- never rewrites another row.
CREATE TABLE objects (
    seq          bigint   PRIMARY KEY,  -- the added sequence: increasing in commit order, never reused (see import.go)
    id           text     NOT NULL,
    version      text     NOT NULL,     -- normalised modified, else created, else '' (fixed width, sorts as time)
    type         text     NOT NULL,
    added        bigint   NOT NULL,     -- unix microseconds; equal within one import, increasing across imports
    revoked      boolean  NOT NULL,
    producer     bigint   NOT NULL,     -- the release: producer organisation,
    aud_kind     smallint NOT NULL,     -- audience (1 org, 2 group, 3 all members),
    aud_group    bigint   NOT NULL,     -- its group,
    tlp          smallint NOT NULL,     -- and effective TLP level (1 clear .. 5 red)
    spec_version text     NOT NULL,
    labels       text[]   NOT NULL,
    body         bytea    NOT NULL,     -- the object's JSON as it came in
    search       tsvector NOT NULL      -- full-text words (see search.go)
);
CREATE UNIQUE INDEX objects_id_version ON objects (id, version);
CREATE INDEX objects_type ON objects (type, seq);
CREATE INDEX objects_search ON objects USING gin (search);

-- One row per committed import: added times are equal within an import and
-- increase across imports, so "added after T" is "seq after the last
-- import at or before T". MAX(last_seq) is where the next import's seqs
-- start, read under the import lock.
CREATE TABLE imports (
    last_seq  bigint PRIMARY KEY,
    first_seq bigint NOT NULL,
    added     bigint NOT NULL
);
CREATE INDEX imports_added ON imports (added);

-- Links held by relationships and sightings, for "relationships of X" in
-- both directions and for hiding edges whose ends a viewer may not see.
CREATE TABLE refs (
    seq    bigint NOT NULL,  -- the relationship or sighting version
    prop   text   NOT NULL,  -- source_ref, target_ref, sighting_of_ref, ...
    target text   NOT NULL   -- the object it names
);
CREATE INDEX refs_target ON refs (target, seq);
CREATE INDEX refs_seq ON refs (seq);

-- The statuses of POSTs (TAXII status resources), readable by the
-- organisation that posted.
CREATE TABLE statuses (
    id      text   PRIMARY KEY,
    org     bigint NOT NULL,
    created bigint NOT NULL,  -- unix microseconds
    body    bytea  NOT NULL   -- the status as JSON
);

-- Member organisations, sharing groups, users and their API keys. Names
-- are unique whatever their case (unique indexes on lower(name)). Times are
-- unix microseconds; 0 means "never" for expires, revoked and last_used.
CREATE TABLE orgs (
    id      bigserial PRIMARY KEY,
    name    text   NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    nation  text   NOT NULL CHECK (length(nation) = 2 AND nation = upper(nation)),
    sector  text   NOT NULL CHECK (sector <> ''),
    created bigint NOT NULL
);
CREATE UNIQUE INDEX orgs_name ON orgs (lower(name));

CREATE TABLE groups (
    id      bigserial PRIMARY KEY,
    name    text   NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created bigint NOT NULL
);
CREATE UNIQUE INDEX groups_name ON groups (lower(name));

CREATE TABLE group_orgs (
    grp bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    org bigint NOT NULL REFERENCES orgs (id),
    PRIMARY KEY (grp, org)
);
CREATE INDEX group_orgs_org ON group_orgs (org, grp);

CREATE TABLE users (
    id      bigserial PRIMARY KEY,
    name    text   NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    org     bigint NOT NULL REFERENCES orgs (id),
    role    text   NOT NULL CHECK (role IN ('admin', 'org-admin', 'analyst', 'reader', 'sync')),
    created bigint NOT NULL
);
CREATE UNIQUE INDEX users_name ON users (lower(name));
CREATE INDEX users_org ON users (org);

-- A key is stored only as the SHA-256 of its text; prefix is its first
-- characters, shown in listings to tell keys apart.
CREATE TABLE api_keys (
    id        bigserial PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users (id),
    hash      bytea  NOT NULL UNIQUE CHECK (length(hash) = 32),
    prefix    text   NOT NULL,
    created   bigint NOT NULL,
    expires   bigint NOT NULL DEFAULT 0,
    revoked   bigint NOT NULL DEFAULT 0,
    last_used bigint NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user ON api_keys (user_id);

-- The append-only, hash-chained audit log (see audit.go). seq is assigned
-- by the appender under the audit lock: 1, 2, 3... without gaps.
CREATE TABLE audit (
    seq       bigint PRIMARY KEY,
    time      bigint NOT NULL,              -- unix microseconds
    action    text   NOT NULL,
    actor     text   NOT NULL,
    actor_org bigint NOT NULL DEFAULT 0,
    recipient bigint NOT NULL DEFAULT 0,
    via       text   NOT NULL DEFAULT '',
    objects   text   NOT NULL DEFAULT '',   -- JSON array of "id@version", '' for none
    detail    text   NOT NULL DEFAULT '',
    prev      text   NOT NULL,              -- hex SHA-256 of the entry before
    hash      text   NOT NULL               -- hex SHA-256 of this entry
);
CREATE INDEX audit_time ON audit (time);
CREATE INDEX audit_actor_org ON audit (actor_org) WHERE actor_org <> 0;
CREATE INDEX audit_recipient ON audit (recipient) WHERE recipient <> 0;
