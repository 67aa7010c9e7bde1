-- Accounts hardened for a national deployment: sign-in throttling, API tokens that expire and
-- can be revoked, and what a user is told of failed sign-ins to their account.

-- Failed sign-ins per account (lower-cased username) and per client address (core::account).
CREATE TABLE login_throttle (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('account', 'address')),
    subject      TEXT NOT NULL,
    failures     BIGINT NOT NULL CHECK (failures > 0),
    last_failure TEXT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (subject_kind, subject)
);

-- failed_logins: failures since the last successful sign-in; last_login_failures: that count as
-- it stood at the last successful sign-in, shown to the user then.
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at TEXT;
ALTER TABLE users ADD COLUMN last_login_failures BIGINT NOT NULL DEFAULT 0;
-- A password set by an administrator's reset is temporary: it must be replaced at the first
-- sign-in, and it stops working at password_expires_at.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
ALTER TABLE users ADD COLUMN password_expires_at TEXT;

-- Second factor (RFC 6238 TOTP): the secret once confirmed, the one being enrolled, and the last
-- time step accepted (a code is accepted once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- Recovery codes for a lost authenticator: SHA-256 of each, used once.
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
);

-- Tokens get an id (to list and revoke them), an expiry and their last use. Tokens issued
-- before had no expiry: they are carried over as revoked, so their holders ask for new ones.
CREATE TABLE api_tokens_v2 (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    label        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
INSERT INTO api_tokens_v2 (token_hash, user_id, label, created_at, expires_at, revoked_at)
    SELECT token_hash, user_id, label, created_at, created_at, created_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens(user_id, id);

-- Sessions get an id and the address they were opened from, so that a user can see theirs and
-- end one. Sessions are short-lived: the upgrade signs everyone out.
DROP TABLE sessions;
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    address    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id, id);
