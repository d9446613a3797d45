-- sole is set on a version when no other version of its id is stored:
-- reads skip the rule's per-row probes for it (most ids have one
-- version). Imports clear it on the versions an id already had when they
-- add another; a cleared flag only costs the probes.
ALTER TABLE objects ADD COLUMN sole INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET sole = 1 WHERE NOT EXISTS (SELECT 1 FROM objects m WHERE m.id = objects.id AND m.seq <> objects.seq);
