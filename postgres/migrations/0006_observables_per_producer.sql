-- The correlation cap holds per producer: no organisation's holdings of a
-- value, however many and however hidden, crowd another's out of the
-- index (see storeObservables).
ALTER TABLE observables ADD COLUMN producer bigint NOT NULL DEFAULT 0;
UPDATE observables x SET producer = o.producer FROM objects o WHERE o.seq = x.seq;
DROP TABLE observable_counts;
CREATE TABLE observable_counts (
    key      text   NOT NULL,
    producer bigint NOT NULL,
    n        bigint NOT NULL,   -- versions of this producer that held the value, indexed or not
    PRIMARY KEY (key, producer)
);
INSERT INTO observable_counts (key, producer, n) SELECT key, producer, count(*) FROM observables GROUP BY key, producer;
