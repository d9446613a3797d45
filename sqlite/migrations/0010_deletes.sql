-- The log of deletes of object versions, in commit order, across every
-- process: a live index (the matcher's) reads the ids deleted since it
-- last looked and patches them out, where a change notice cannot tell a
-- delete from an addition.
CREATE TABLE deletes (
    n  INTEGER PRIMARY KEY,   -- increasing in commit order
    id TEXT    NOT NULL       -- the object some of whose versions were deleted
);
