-- Crisis mode (cyberpact.Crisis): a crisis declared on a stored STIX
-- incident alerts every organisation of the incident's audience at once,
-- tracks each one's acknowledgement, and escalates an organisation that
-- has not acknowledged in time to its next level of contacts. Times are
-- unix microseconds.

-- Each organisation's escalation contacts, in levels from 1.
CREATE TABLE crisis_contacts (
    id       INTEGER PRIMARY KEY,
    org      INTEGER NOT NULL REFERENCES orgs (id),
    level    INTEGER NOT NULL CHECK (level >= 1),
    name     TEXT    NOT NULL DEFAULT '',
    channel  TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
    target   TEXT    NOT NULL CHECK (target <> ''),
    secret   TEXT    NOT NULL DEFAULT '',
    created  INTEGER NOT NULL
);
CREATE INDEX crisis_contacts_org ON crisis_contacts (org, level, id);

CREATE TABLE crises (
    id             INTEGER PRIMARY KEY,
    incident       TEXT    NOT NULL,
    producer       INTEGER NOT NULL,
    escalate_after INTEGER NOT NULL CHECK (escalate_after > 0), -- microseconds
    declared_by    TEXT    NOT NULL,
    declared       INTEGER NOT NULL,
    ended          INTEGER NOT NULL DEFAULT 0,
    ended_by       TEXT    NOT NULL DEFAULT ''
);
-- One open crisis per incident.
CREATE UNIQUE INDEX crises_open ON crises (incident) WHERE ended = 0;

-- The organisations a crisis alerts, their acknowledgement and escalation
-- level (0: the organisation's own channels; n: its contacts of level n).
CREATE TABLE crisis_partners (
    crisis    INTEGER NOT NULL REFERENCES crises (id),
    org       INTEGER NOT NULL REFERENCES orgs (id),
    level     INTEGER NOT NULL DEFAULT 0,
    level_at  INTEGER NOT NULL,
    acked     INTEGER NOT NULL DEFAULT 0,
    acked_by  TEXT    NOT NULL DEFAULT '',
    acked_via TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (crisis, org)
);

-- The outbox of crisis alerts: a row before any attempt, delivered at
-- least once with its idempotency key, as notifications are.
CREATE TABLE crisis_alerts (
    id        INTEGER PRIMARY KEY,
    crisis    INTEGER NOT NULL REFERENCES crises (id),
    org       INTEGER NOT NULL,
    level     INTEGER NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('declared', 'escalated', 'ended')),
    channel   TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
    target    TEXT    NOT NULL,
    secret    TEXT    NOT NULL DEFAULT '',
    idem_key  TEXT    NOT NULL UNIQUE,
    status    TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'withheld')),
    attempts  INTEGER NOT NULL DEFAULT 0,
    next_at   INTEGER NOT NULL,
    error     TEXT    NOT NULL DEFAULT '',
    created   INTEGER NOT NULL,
    done      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX crisis_alerts_due ON crisis_alerts (next_at) WHERE status = 'pending';
CREATE INDEX crisis_alerts_crisis ON crisis_alerts (crisis, org, id);

-- Single-use acknowledgement tokens sent in mail: only their SHA-256.
CREATE TABLE crisis_tokens (
    hash    TEXT    PRIMARY KEY,
    crisis  INTEGER NOT NULL REFERENCES crises (id),
    org     INTEGER NOT NULL,
    used    INTEGER NOT NULL DEFAULT 0
);
