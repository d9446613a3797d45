-- Personal data (cyberpact.PrivacyStore): the policies per sharing group
-- (grp 0: the hub-wide default), the partnership key pseudonyms are made
-- with, the originals of redacted versions (for their producer and for
-- warrants; never served by the object reads), the values behind
-- pseudonyms (for unmasking under a warrant), and the warrants with their
-- approvers. Times are unix microseconds.
CREATE TABLE privacy_policies (
    grp       INTEGER PRIMARY KEY,
    detectors TEXT    NOT NULL,
    updated   INTEGER NOT NULL,
    actor     TEXT    NOT NULL
);

CREATE TABLE privacy_key (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    key     BLOB    NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE privacy_originals (
    id          TEXT    NOT NULL,   -- the redacted version's id
    version     TEXT    NOT NULL,   -- its version key ('' for observables)
    producer    INTEGER NOT NULL,
    original_id TEXT    NOT NULL,
    body        TEXT    NOT NULL,   -- the object as its producer sent it
    added       INTEGER NOT NULL,
    PRIMARY KEY (id, version, producer)
);

CREATE TABLE privacy_values (
    pseudonym TEXT    PRIMARY KEY,
    value     TEXT    NOT NULL,
    producer  INTEGER NOT NULL      -- the first producer that sent it
);

CREATE TABLE warrant_approvers (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    added   INTEGER NOT NULL
);

CREATE TABLE warrants (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('unmask', 'release')),
    target        TEXT    NOT NULL,
    justification TEXT    NOT NULL,
    requester     INTEGER NOT NULL REFERENCES users (id),
    org           INTEGER NOT NULL REFERENCES orgs (id),
    state         TEXT    NOT NULL CHECK (state IN ('requested', 'approved', 'refused', 'expired')),
    decider       INTEGER NOT NULL DEFAULT 0,
    reason        TEXT    NOT NULL DEFAULT '',
    ttl           INTEGER NOT NULL,   -- microseconds an approval lasts
    created       INTEGER NOT NULL,
    decided       INTEGER NOT NULL DEFAULT 0,
    expires       INTEGER NOT NULL DEFAULT 0,
    uses          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX warrants_org ON warrants (org, id);
