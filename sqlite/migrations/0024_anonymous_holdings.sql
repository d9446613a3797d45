-- Anonymous publications are held per submitter (issue 20): each
-- holding the hub stands as producer of for a member that published
-- anonymously names that member here, so that another member's anonymous
-- version of the same id starts a holding of its own (cyberpact.Admit)
-- and posting an id someone else published anonymously, out of the
-- poster's sight, answers as a fresh id does. The hub's own reference
-- data has no row. Read only by hub admins and the submitter's own
-- management; the audit log records the submitter too.
CREATE TABLE anonymous_holdings (
    holding INTEGER PRIMARY KEY,   -- objects.holding
    id      TEXT    NOT NULL,      -- the object id
    org     INTEGER NOT NULL       -- the submitting organisation
);
CREATE INDEX anonymous_holdings_id ON anonymous_holdings (id);

-- Until now one submitter was kept per id: its holdings the hub stands
-- as producer of become that submitter's.
INSERT INTO anonymous_holdings (holding, id, org)
    SELECT DISTINCT o.holding, o.id, a.org FROM anonymous a JOIN objects o ON o.id = a.id AND o.producer = 0;
DROP TABLE anonymous;
