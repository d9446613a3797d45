-- The release of each object version: who produced it, who it is shared
-- with (1 the producer's organisation, 2 a sharing group, 3 all members)
-- and its effective TLP level (1 clear .. 5 red; see cyberpact.TLP).
ALTER TABLE objects ADD COLUMN producer  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN aud_kind  INTEGER NOT NULL DEFAULT 3;
ALTER TABLE objects ADD COLUMN aud_group INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN tlp       INTEGER NOT NULL DEFAULT 3;

-- The statuses of POSTs (TAXII status resources), readable by the
-- organisation that posted.
CREATE TABLE statuses (
    id      TEXT    PRIMARY KEY,
    org     INTEGER NOT NULL,
    created INTEGER NOT NULL,      -- unix microseconds
    body    BLOB    NOT NULL       -- the status as JSON
);
