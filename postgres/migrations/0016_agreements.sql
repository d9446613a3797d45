-- Markings beside TLP (cyberpact.Marks): releasability, PAP and
-- marking-set levels of each object version, in the canonical token form
-- the sharing rule's SQL matches ('' for none; see sqlstore.Permit).
ALTER TABLE objects ADD COLUMN marks text NOT NULL DEFAULT '';

-- An organisation's clearances in the hub's marking sets ("SET:L,...").
ALTER TABLE orgs ADD COLUMN clearances text NOT NULL DEFAULT '';

-- Every version of every sharing agreement (cyberpact.Agreement); the
-- highest version of a group (0: the whole hub) is in force.
CREATE TABLE agreements (
    grp     bigint  NOT NULL,
    version bigint  NOT NULL,
    body    text    NOT NULL,      -- the terms as JSON (sqlstore.agreementRow)
    actor   text    NOT NULL,
    created bigint  NOT NULL,      -- unix microseconds
    PRIMARY KEY (grp, version)
);

-- The hub's ordered marking sets (cyberpact.MarkingSet).
CREATE TABLE marking_sets (
    name    text    PRIMARY KEY,
    levels  text    NOT NULL,      -- the level names, lowest first, as a JSON array
    created bigint  NOT NULL
);
