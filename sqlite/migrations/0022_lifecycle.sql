-- Anonymity, k-anonymous sighting counts and retention (issue 20).

-- Settings the hub makes once and keeps: the id of the hub's own STIX
-- identity, which stands as producer of anonymous publications.
CREATE TABLE hub_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Who published an object anonymously: the hub stands as its producer
-- everywhere else; only this table (read by hub admins and the
-- submitter's own management) and the audit log know the organisation.
CREATE TABLE anonymous (
    id  TEXT    PRIMARY KEY,   -- the object id
    org INTEGER NOT NULL       -- the submitting organisation
);

-- Sightings reported to be shared only as k-anonymous counts: the
-- sighting version stays with its reporter, and this row counts it.
CREATE TABLE counted_sightings (
    seq INTEGER PRIMARY KEY,   -- the sighting version
    of  TEXT    NOT NULL,      -- its sighting_of_ref
    org INTEGER NOT NULL       -- the reporting organisation
);
CREATE INDEX counted_sightings_of ON counted_sightings (of, org);

-- Retention rules: versions of type (or '*', every type) shared with a
-- sharing group (grp; 0 for the hub-wide rule) are purged once added more
-- than days ago.
CREATE TABLE retention (
    id   INTEGER PRIMARY KEY,
    grp  INTEGER NOT NULL DEFAULT 0,
    type TEXT    NOT NULL CHECK (type <> ''),
    days INTEGER NOT NULL CHECK (days > 0),
    UNIQUE (grp, type)
);
