-- Anonymity, k-anonymous sighting counts and retention (issue 20).

-- Settings the hub makes once and keeps: the id of the hub's own STIX
-- identity, which stands as producer of anonymous publications.
CREATE TABLE hub_settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- Who published an object anonymously: the hub stands as its producer
-- everywhere else; only this table (read by hub admins and the
-- submitter's own management) and the audit log know the organisation.
CREATE TABLE anonymous (
    id  text    PRIMARY KEY,   -- the object id
    org bigint  NOT NULL       -- the submitting organisation
);

-- Sightings reported to be shared only as k-anonymous counts: the
-- sighting version stays with its reporter, and this row counts it.
CREATE TABLE counted_sightings (
    seq bigint  PRIMARY KEY,   -- the sighting version
    of  text    NOT NULL,      -- its sighting_of_ref
    org bigint  NOT NULL       -- the reporting organisation
);
CREATE INDEX counted_sightings_of ON counted_sightings (of, org);

-- Retention rules: versions of type (or '*', every type) shared with a
-- sharing group (grp; 0 for the hub-wide rule) are purged once added more
-- than days ago.
CREATE TABLE retention (
    id   bigserial PRIMARY KEY,
    grp  bigint  NOT NULL DEFAULT 0,
    type text    NOT NULL CHECK (type <> ''),
    days bigint  NOT NULL CHECK (days > 0),
    UNIQUE (grp, type)
);
