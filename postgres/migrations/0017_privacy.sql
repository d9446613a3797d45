-- Personal data (cyberpact.PrivacyStore): the policies per sharing group
-- (grp 0: the hub-wide default), the partnership key pseudonyms are made
-- with, the originals of redacted versions (for their producer and for
-- warrants; never served by the object reads), the values behind
-- pseudonyms (for unmasking under a warrant), and the warrants with their
-- approvers. Times are unix microseconds.
CREATE TABLE privacy_policies (
    grp       bigint  PRIMARY KEY,
    detectors text    NOT NULL,
    updated   bigint  NOT NULL,
    actor     text    NOT NULL
);

CREATE TABLE privacy_key (
    one     integer PRIMARY KEY CHECK (one = 1),
    key     bytea   NOT NULL,
    updated bigint  NOT NULL
);

CREATE TABLE privacy_originals (
    id          text    NOT NULL,   -- the redacted version's id
    version     text    NOT NULL,   -- its version key ('' for observables)
    producer    bigint  NOT NULL,
    original_id text    NOT NULL,
    body        text    NOT NULL,   -- the object as its producer sent it
    added       bigint  NOT NULL,
    PRIMARY KEY (id, version, producer)
);

CREATE TABLE privacy_values (
    pseudonym text    PRIMARY KEY,
    value     text    NOT NULL,
    producer  bigint  NOT NULL      -- the first producer that sent it
);

CREATE TABLE warrant_approvers (
    user_id bigint  PRIMARY KEY REFERENCES users (id),
    added   bigint  NOT NULL
);

CREATE TABLE warrants (
    id            bigserial PRIMARY KEY,
    kind          text    NOT NULL CHECK (kind IN ('unmask', 'release')),
    target        text    NOT NULL,
    justification text    NOT NULL,
    requester     bigint  NOT NULL REFERENCES users (id),
    org           bigint  NOT NULL REFERENCES orgs (id),
    state         text    NOT NULL CHECK (state IN ('requested', 'approved', 'refused', 'expired')),
    decider       bigint  NOT NULL DEFAULT 0,
    reason        text    NOT NULL DEFAULT '',
    ttl           bigint  NOT NULL,   -- microseconds an approval lasts
    created       bigint  NOT NULL,
    decided       bigint  NOT NULL DEFAULT 0,
    expires       bigint  NOT NULL DEFAULT 0,
    uses          bigint  NOT NULL DEFAULT 0
);
CREATE INDEX warrants_org ON warrants (org, id);
