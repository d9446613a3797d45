-- Correlation ("who else has this value?"): the normalised observable
-- values of every version (SCO values and hashes, values inside indicator
-- patterns; see match.ObservableKey), written in the import's own
-- transaction, under the import lock. A value held by more versions than
-- the cap stops being indexed: observable_counts keeps how many versions
-- held it, so it can be reported as common. Exercise objects are never
-- written here. Rows of deleted versions are left: they join no object (a
-- seq is never reused), and an index by seq to delete them would add to
-- every import's writes.
CREATE TABLE observables (
    key  text   NOT NULL,   -- the normalised value
    seq  bigint NOT NULL,   -- the object version holding it
    kind text   NOT NULL,   -- ip, domain, url, email, md5, sha1, sha256, sha512, other
    PRIMARY KEY (key, seq)
);

CREATE TABLE observable_counts (
    key text   PRIMARY KEY,
    n   bigint NOT NULL     -- versions that held the value, indexed or not
);
