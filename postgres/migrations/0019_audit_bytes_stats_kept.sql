-- Audit entries keep their hash as 32 bytes and no longer the hash of
-- the entry before, which that entry's row holds (issue 14: a release of
-- a page costs a few bytes an object). Older rows' hashes become bytes,
-- the same hash; their prev stays as it was and is still checked.
ALTER TABLE audit ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex');
-- A release's recipient is its actor's organisation: index only the
-- entries where they differ (sqlstore.AuditReads asks in these terms).
DROP INDEX IF EXISTS audit_recipient;
CREATE INDEX IF NOT EXISTS audit_recipient_other ON audit (recipient) WHERE recipient <> 0 AND recipient <> actor_org;

-- The counts of Stats kept per viewer (sqlstore.Store.CountStats), as of
-- the store's last Seq and delete and the sharing groups' members then:
-- a later call, in this process or another, counts only what was stored
-- since.
CREATE TABLE IF NOT EXISTS stats_kept (
    viewer  text   PRIMARY KEY,
    seq     bigint NOT NULL,
    deletes bigint NOT NULL,
    groups  text   NOT NULL,
    counts  text   NOT NULL
);
