-- sole is set on a version when no other version of its id is stored:
-- reads skip the rule's per-row probes for it (most ids have one
-- version). Imports clear it on the versions an id already had when they
-- add another; a cleared flag only costs the probes.
ALTER TABLE objects ADD COLUMN sole boolean NOT NULL DEFAULT false;
UPDATE objects o SET sole = true WHERE NOT EXISTS (SELECT 1 FROM objects m WHERE m.id = o.id AND m.seq <> o.seq);
