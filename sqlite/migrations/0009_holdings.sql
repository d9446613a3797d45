-- Ownership: an id is held per producer (see Ownership in sharing.go).
-- holding is the seq of the first version of the id its producer stored;
-- versions are unique within a holding, and a viewer is shown the oldest
-- holding it may see. objects_id_version serves both the lookups of an
-- import and the latest-version probe of every read.
ALTER TABLE objects ADD COLUMN holding INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET holding = (SELECT MIN(m.seq) FROM objects m WHERE m.id = objects.id AND m.producer = objects.producer);
DROP INDEX objects_id_version;
CREATE UNIQUE INDEX objects_id_version ON objects (id, holding, version);
