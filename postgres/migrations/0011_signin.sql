-- Signing in to the web interface (cyberpact.SessionStore). password is an
-- argon2id hash in PHC form, totp a base32 TOTP secret ('' for none);
-- disabled (1) keeps a user from signing in and from using its API keys.
-- A recovery code and a session token are kept only as their SHA-256.
-- Times are unix microseconds. The flags are 0/1 integers, as in SQLite,
-- so that the shared SQL (sqlstore/signin.go) reads them alike.
ALTER TABLE users ADD COLUMN password text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp text NOT NULL DEFAULT '';
-- totp_step: the last TOTP time step accepted, so that no code is accepted twice.
ALTER TABLE users ADD COLUMN totp_step bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled smallint NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
ALTER TABLE orgs ADD COLUMN require_totp smallint NOT NULL DEFAULT 0 CHECK (require_totp IN (0, 1));

CREATE TABLE recovery_codes (
    user_id bigint NOT NULL REFERENCES users (id),
    hash    bytea  NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (user_id, hash)
);

-- org_groups: the organisation's sharing groups at sign-in, comma separated;
-- the session ends when the organisation leaves one of them.
CREATE TABLE web_sessions (
    hash     bytea    PRIMARY KEY CHECK (length(hash) = 32),
    user_id  bigint   NOT NULL REFERENCES users (id),
    created  bigint   NOT NULL,
    seen     bigint   NOT NULL,
    org_groups text   NOT NULL DEFAULT '',
    csrf     text     NOT NULL,
    verified smallint NOT NULL DEFAULT 0 CHECK (verified IN (0, 1))
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
