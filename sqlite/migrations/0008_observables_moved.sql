-- The correlation side table moved to the derived-index file beside the
-- objects (see search.go), where it is written in parallel with the
-- objects and rebuilt from them when missing.
DROP TABLE IF EXISTS observables;
DROP TABLE IF EXISTS observable_counts;
