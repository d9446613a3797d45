-- Subscriptions to the events of joint incidents ('assigned', 'request'):
-- the event kinds are checked in Go (cyberpact.Subscription.Check), where
-- each kind is defined, instead of by a CHECK naming them. SQLite cannot
-- drop a CHECK, so both tables are rebuilt: the outbox first, pointing at
-- the new subscriptions table, whose rename then carries the reference.
CREATE TABLE subscriptions_new (
    id       INTEGER PRIMARY KEY,
    org      INTEGER NOT NULL REFERENCES orgs (id),
    user_id  INTEGER NOT NULL DEFAULT 0,
    event    TEXT    NOT NULL CHECK (event <> ''),
    filter   TEXT    NOT NULL DEFAULT '{}',        -- cyberpact.AlertFilter as JSON
    channel  TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
    target   TEXT    NOT NULL CHECK (target <> ''),
    secret   TEXT    NOT NULL DEFAULT '',
    created  INTEGER NOT NULL                      -- unix microseconds
);
INSERT INTO subscriptions_new SELECT id, org, user_id, event, filter, channel, target, secret, created FROM subscriptions;

CREATE TABLE notifications_new (
    id        INTEGER PRIMARY KEY,
    sub       INTEGER NOT NULL REFERENCES subscriptions_new (id) ON DELETE CASCADE,
    org       INTEGER NOT NULL,
    event     TEXT    NOT NULL,
    seq       INTEGER NOT NULL,                    -- the object version
    object_id TEXT    NOT NULL,
    idem_key  TEXT    NOT NULL UNIQUE,
    status    TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'withheld')),
    attempts  INTEGER NOT NULL DEFAULT 0,
    next_at   INTEGER NOT NULL,                    -- unix microseconds
    error     TEXT    NOT NULL DEFAULT '',
    created   INTEGER NOT NULL,
    done      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO notifications_new SELECT id, sub, org, event, seq, object_id, idem_key, status, attempts, next_at, error, created, done FROM notifications;

DROP TABLE notifications;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_new RENAME TO subscriptions;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX subscriptions_org ON subscriptions (org);
CREATE INDEX notifications_due ON notifications (next_at) WHERE status = 'pending';
CREATE INDEX notifications_sub ON notifications (sub, id);
CREATE UNIQUE INDEX notifications_once ON notifications (sub, seq);
