-- Markings beside TLP (cyberpact.Marks): releasability, PAP and
-- marking-set levels of each object version, in the canonical token form
-- the sharing rule's SQL matches ('' for none; see sqlstore.Permit).
ALTER TABLE objects ADD COLUMN marks TEXT NOT NULL DEFAULT '';

-- An organisation's clearances in the hub's marking sets ("SET:L,...").
ALTER TABLE orgs ADD COLUMN clearances TEXT NOT NULL DEFAULT '';

-- Every version of every sharing agreement (cyberpact.Agreement); the
-- highest version of a group (0: the whole hub) is in force.
CREATE TABLE agreements (
    grp     INTEGER NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT    NOT NULL,      -- the terms as JSON (sqlstore.agreementRow)
    actor   TEXT    NOT NULL,
    created INTEGER NOT NULL,      -- unix microseconds
    PRIMARY KEY (grp, version)
);

-- The hub's ordered marking sets (cyberpact.MarkingSet).
CREATE TABLE marking_sets (
    name    TEXT    PRIMARY KEY,
    levels  TEXT    NOT NULL,      -- the level names, lowest first, as a JSON array
    created INTEGER NOT NULL
);
