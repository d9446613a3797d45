-- Correlation ("who else has this value?"): the normalised observable
-- values of every version (SCO values and hashes, values inside indicator
-- patterns; see match.ObservableKey), written in the import's own
-- transaction. A value held by more versions than the cap stops being
-- indexed: observable_counts keeps how many versions held it, so it can be
-- reported as common. Rows of deleted versions are left: they join no
-- object (a seq is never reused), and an index by seq to delete them would
-- double the table's cost on every import.
CREATE TABLE observables (
    key  TEXT    NOT NULL,   -- the normalised value
    seq  INTEGER NOT NULL,   -- the object version holding it
    kind TEXT    NOT NULL,   -- ip, domain, url, email, md5, sha1, sha256, sha512, other
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;

CREATE TABLE observable_counts (
    key TEXT    PRIMARY KEY,
    n   INTEGER NOT NULL     -- versions that held the value, indexed or not
) WITHOUT ROWID;
