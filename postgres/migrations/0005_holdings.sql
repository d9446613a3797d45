-- Ownership: an id is held per producer (see Ownership in sharing.go).
-- holding is the seq of the first version of the id its producer stored;
-- versions are unique within a holding, and a viewer is shown the oldest
-- holding it may see. objects_id_version serves both the lookups of an
-- import and the latest-version probe of every read.
ALTER TABLE objects ADD COLUMN holding bigint NOT NULL DEFAULT 0;
UPDATE objects o SET holding = m.first FROM (SELECT id, producer, MIN(seq) AS first FROM objects GROUP BY id, producer) m
    WHERE m.id = o.id AND m.producer = o.producer;
DROP INDEX objects_id_version;
CREATE UNIQUE INDEX objects_id_version ON objects (id, holding, version);
