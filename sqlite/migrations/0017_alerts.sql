-- Subscriptions to events (cyberpact.Subscription) and the outbox of
-- their notifications (cyberpact.Notification): a notification is a row
-- here before any attempt is made, so it survives a restart and is
-- delivered at least once; idem_key is its idempotency key (random,
-- the same for every attempt).
CREATE TABLE subscriptions (
    id       INTEGER PRIMARY KEY,
    org      INTEGER NOT NULL REFERENCES orgs (id),
    user_id  INTEGER NOT NULL DEFAULT 0,
    event    TEXT    NOT NULL CHECK (event IN ('object', 'sighting')),
    filter   TEXT    NOT NULL DEFAULT '{}',        -- cyberpact.AlertFilter as JSON
    channel  TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
    target   TEXT    NOT NULL CHECK (target <> ''),
    secret   TEXT    NOT NULL DEFAULT '',
    created  INTEGER NOT NULL                      -- unix microseconds
);
CREATE INDEX subscriptions_org ON subscriptions (org);

CREATE TABLE notifications (
    id        INTEGER PRIMARY KEY,
    sub       INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
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
CREATE INDEX notifications_due ON notifications (next_at) WHERE status = 'pending';
CREATE INDEX notifications_sub ON notifications (sub, id);
-- One notification per subscription and object version, whichever serve
-- process scans it first.
CREATE UNIQUE INDEX notifications_once ON notifications (sub, seq);

-- How far the object versions were examined for events: one row.
CREATE TABLE alert_cursor (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL
);
INSERT INTO alert_cursor (one, seq) SELECT 1, coalesce(max(seq), 0) FROM objects;
