-- Correlation ("who else has this value?"): the normalised observable
-- values of every version (SCO values and hashes, values inside indicator
-- patterns; see match.ObservableKey), written in the import's own
-- transaction. A value held by more versions than the cap stops being
-- indexed: observable_counts keeps how many versions held it, so it can be
-- reported as common.
CREATE TABLE observables (
    key  TEXT    NOT NULL,   -- the normalised value
    seq  INTEGER NOT NULL,   -- the object version holding it
    kind TEXT    NOT NULL,   -- ip, domain, url, email, md5, sha1, sha256, sha512, other
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE INDEX observables_seq ON observables (seq);

CREATE TABLE observable_counts (
    key TEXT    PRIMARY KEY,
    n   INTEGER NOT NULL     -- versions that held the value, indexed or not
) WITHOUT ROWID;
