-- Member organisations, sharing groups, users and their API keys. Names
-- are unique whatever their case (COLLATE NOCASE, ASCII folding), so
-- "UK NCRC" and "uk ncrc" cannot be two organisations. Times are unix
-- microseconds; 0 means "never" for expires, revoked and last_used.
CREATE TABLE orgs (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    nation  TEXT    NOT NULL CHECK (length(nation) = 2 AND nation = upper(nation)),  -- ISO 3166-1 alpha-2
    sector  TEXT    NOT NULL CHECK (sector <> ''),
    created INTEGER NOT NULL
);

CREATE TABLE groups (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created INTEGER NOT NULL
);

-- The members of each sharing group; group_orgs_org answers "the groups of
-- an organisation" on every authentication.
CREATE TABLE group_orgs (
    grp INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    org INTEGER NOT NULL REFERENCES orgs (id),
    PRIMARY KEY (grp, org)
) WITHOUT ROWID;
CREATE INDEX group_orgs_org ON group_orgs (org, grp);

CREATE TABLE users (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    org     INTEGER NOT NULL REFERENCES orgs (id),
    role    TEXT    NOT NULL CHECK (role IN ('admin', 'org-admin', 'analyst', 'reader', 'sync')),
    created INTEGER NOT NULL
);
CREATE INDEX users_org ON users (org);

-- A key is stored only as the SHA-256 of its text; prefix is its first
-- characters, shown in listings to tell keys apart.
CREATE TABLE api_keys (
    id        INTEGER PRIMARY KEY,
    user      INTEGER NOT NULL REFERENCES users (id),
    hash      BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    prefix    TEXT    NOT NULL,
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL DEFAULT 0,
    revoked   INTEGER NOT NULL DEFAULT 0,
    last_used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user ON api_keys (user);

-- The audit log is in its own file beside this one: see audit.go.
