-- Crisis mode (cyberpact.Crisis): a crisis declared on a stored STIX
-- incident alerts every organisation of the incident's audience at once,
-- tracks each one's acknowledgement, and escalates an organisation that
-- has not acknowledged in time to its next level of contacts. Times are
-- unix microseconds.

-- Each organisation's escalation contacts, in levels from 1.
CREATE TABLE crisis_contacts (
    id       bigserial PRIMARY KEY,
    org      bigint NOT NULL REFERENCES orgs (id),
    level    bigint NOT NULL CHECK (level >= 1),
    name     text    NOT NULL DEFAULT '',
    channel  text    NOT NULL CHECK (channel IN ('webhook', 'email')),
    target   text    NOT NULL CHECK (target <> ''),
    secret   text    NOT NULL DEFAULT '',
    created  bigint NOT NULL
);
CREATE INDEX crisis_contacts_org ON crisis_contacts (org, level, id);

CREATE TABLE crises (
    id             bigserial PRIMARY KEY,
    incident       text    NOT NULL,
    producer       bigint NOT NULL,
    escalate_after bigint NOT NULL CHECK (escalate_after > 0), -- microseconds
    declared_by    text    NOT NULL,
    declared       bigint NOT NULL,
    ended          bigint NOT NULL DEFAULT 0,
    ended_by       text    NOT NULL DEFAULT ''
);
-- One open crisis per incident.
CREATE UNIQUE INDEX crises_open ON crises (incident) WHERE ended = 0;

-- The organisations a crisis alerts, their acknowledgement and escalation
-- level (0: the organisation's own channels; n: its contacts of level n).
CREATE TABLE crisis_partners (
    crisis    bigint NOT NULL REFERENCES crises (id),
    org       bigint NOT NULL REFERENCES orgs (id),
    level     bigint NOT NULL DEFAULT 0,
    level_at  bigint NOT NULL,
    acked     bigint NOT NULL DEFAULT 0,
    acked_by  text    NOT NULL DEFAULT '',
    acked_via text    NOT NULL DEFAULT '',
    PRIMARY KEY (crisis, org)
);

-- The outbox of crisis alerts: a row before any attempt, delivered at
-- least once with its idempotency key, as notifications are.
CREATE TABLE crisis_alerts (
    id        bigserial PRIMARY KEY,
    crisis    bigint NOT NULL REFERENCES crises (id),
    org       bigint NOT NULL,
    level     bigint NOT NULL,
    kind      text    NOT NULL CHECK (kind IN ('declared', 'escalated', 'ended')),
    channel   text    NOT NULL CHECK (channel IN ('webhook', 'email')),
    target    text    NOT NULL,
    secret    text    NOT NULL DEFAULT '',
    idem_key  text    NOT NULL UNIQUE,
    status    text    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'withheld')),
    attempts  bigint NOT NULL DEFAULT 0,
    next_at   bigint NOT NULL,
    error     text    NOT NULL DEFAULT '',
    created   bigint NOT NULL,
    done      bigint NOT NULL DEFAULT 0
);
CREATE INDEX crisis_alerts_due ON crisis_alerts (next_at) WHERE status = 'pending';
CREATE INDEX crisis_alerts_crisis ON crisis_alerts (crisis, org, id);

-- Single-use acknowledgement tokens sent in mail: only their SHA-256.
CREATE TABLE crisis_tokens (
    hash    text    PRIMARY KEY,
    crisis  bigint NOT NULL REFERENCES crises (id),
    org     bigint NOT NULL,
    used    bigint NOT NULL DEFAULT 0
);
