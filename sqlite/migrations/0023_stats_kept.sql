-- The counts of Stats kept per viewer (sqlstore.Store.CountStats), as of
-- the store's last Seq and delete and the sharing groups' members then:
-- a later call, in this process or another (cyberpact stats), counts only
-- what was stored since.
CREATE TABLE stats_kept (
    viewer  TEXT    PRIMARY KEY,   -- sqlstore's statsKey
    seq     INTEGER NOT NULL,
    deletes INTEGER NOT NULL,
    groups  TEXT    NOT NULL,
    counts  TEXT    NOT NULL       -- JSON array of cyberpact.TypeStats
);
