-- Users, sessions and refresh tokens of the auth service (docs/api/openapi.yaml, auth).

-- One row per person, keyed by a UUIDv7 and found by phone (E.164) or username.
CREATE TABLE users (
    id                  uuid        PRIMARY KEY,
    phone               text        NOT NULL,
    country             text        NOT NULL,
    locale              text        NOT NULL DEFAULT 'en',
    display_name        text        NULL,
    username            text        NULL,
    avatar_url          text        NULL,
    -- Argon2id in the PHC string format; NULL: no password (OTP sign-in only).
    password_hash       text        NULL,
    password_changed_at timestamptz NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_phone_key UNIQUE (phone),
    CONSTRAINT users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    CONSTRAINT users_country_code CHECK (country ~ '^[A-Z]{2}$'),
    CONSTRAINT users_locale_known CHECK (locale IN ('en', 'th', 'id', 'ms', 'fil', 'vi')),
    CONSTRAINT users_username_format CHECK (username IS NULL OR username ~ '^[A-Za-z][A-Za-z0-9_]{2,31}$')
);

-- Usernames are unique regardless of case ("Alice" and "alice" are one name).
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username)) WHERE username IS NOT NULL;

-- A signed-in device. Revoking it (logout, DELETE, eviction, refresh-token reuse,
-- password change) stops its refresh token at once.
CREATE TABLE sessions (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method        text        NOT NULL CHECK (method IN ('otp', 'password')),
    device_name   text        NULL,
    platform      text        NULL,
    ip            text        NULL,
    user_agent    text        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz NULL,
    revoke_reason text        NULL
);

-- Active sessions of a user, newest first (listing and the per-user cap).
CREATE INDEX sessions_user_active_idx ON sessions (user_id, id DESC) WHERE revoked_at IS NULL;
-- Clean-up of ended sessions.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Refresh tokens, stored as SHA-256 only. Each use rotates the token: the old
-- row is marked used and a new one is added to the same session (the family).
-- Presenting a used token again revokes the session.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz NULL
);

CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- The outbox relay deletes published events after a retention period.
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
