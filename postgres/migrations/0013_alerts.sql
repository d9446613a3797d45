-- Subscriptions to events (cyberpact.Subscription) and the outbox of
-- their notifications (cyberpact.Notification): a notification is a row
-- here before any attempt is made, so it survives a restart and is
-- delivered at least once; idem_key is its idempotency key (random,
-- the same for every attempt). Times are unix
-- microseconds.
CREATE TABLE subscriptions (
    id       bigserial PRIMARY KEY,
    org      bigint NOT NULL REFERENCES orgs (id),
    user_id  bigint NOT NULL DEFAULT 0,
    event    text   NOT NULL CHECK (event IN ('object', 'sighting')),
    filter   text   NOT NULL DEFAULT '{}',
    channel  text   NOT NULL CHECK (channel IN ('webhook', 'email')),
    target   text   NOT NULL CHECK (target <> ''),
    secret   text   NOT NULL DEFAULT '',
    created  bigint NOT NULL
);
CREATE INDEX subscriptions_org ON subscriptions (org);

CREATE TABLE notifications (
    id        bigserial PRIMARY KEY,
    sub       bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    org       bigint NOT NULL,
    event     text   NOT NULL,
    seq       bigint NOT NULL,
    object_id text   NOT NULL,
    idem_key  text   NOT NULL UNIQUE,
    status    text   NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'withheld')),
    attempts  integer NOT NULL DEFAULT 0,
    next_at   bigint NOT NULL,
    error     text   NOT NULL DEFAULT '',
    created   bigint NOT NULL,
    done      bigint NOT NULL DEFAULT 0
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE status = 'pending';
CREATE INDEX notifications_sub ON notifications (sub, id);
-- One notification per subscription and object version, whichever serve
-- process scans it first.
CREATE UNIQUE INDEX notifications_once ON notifications (sub, seq);

CREATE TABLE alert_cursor (
    one integer PRIMARY KEY CHECK (one = 1),
    seq bigint  NOT NULL
);
INSERT INTO alert_cursor (one, seq) SELECT 1, coalesce(max(seq), 0) FROM objects;
