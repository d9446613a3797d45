-- The log of deletes of object versions, in commit order, across every
-- process: a live index (the matcher's) reads the ids deleted since it
-- last looked and patches them out, where a change notice cannot tell a
-- delete from an addition. Deletes take the import lock, so numbers are
-- drawn and committed in the same order (see DeleteObject).
CREATE TABLE deletes (
    n  bigint PRIMARY KEY,
    id text   NOT NULL
);
