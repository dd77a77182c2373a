-- Accounts for users who have no identity provider, and the state behind
-- the tokens the server issues: login sessions (one per login: a refresh
-- token family), refresh tokens (stored only as SHA-256 hashes), revoked
-- access tokens, and the failed-login window.
--
-- users is small and read by e-mail, so under Citus it becomes a reference
-- table (a unique index on lower(email) needs that); the token tables are
-- keyed by their own random ids.

ALTER TABLE users
    ADD COLUMN email text CHECK (char_length(email) BETWEEN 3 AND 254),
    ADD COLUMN name text CHECK (char_length(name) <= 100),
    ADD COLUMN role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    -- An Argon2id encoded hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    ADD COLUMN password_hash text CHECK (password_hash LIKE '$argon2id$%');

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash  text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    session_id  text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Access tokens revoked before their expiry (logout), by jti.
CREATE TABLE revoked_tokens (
    jti         text PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);

CREATE TABLE login_failures (
    email       text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_by_email ON login_failures (email, failed_at);
