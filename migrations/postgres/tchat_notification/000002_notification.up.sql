-- The notification service's own data (docs/api/openapi.yaml, notification): devices, preferences, the in-app
-- inbox, and the durable delivery queue with its dead letters. Consumer-side
-- de-duplication lives in processed_events (000001).

-- RFC 3339 UTC with milliseconds, as the API prints times (docs/api/openapi.yaml).
CREATE FUNCTION rfc3339(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Push tokens. A token identifies one app install; when another account signs in
-- on the same install, the token moves to that account (UNIQUE platform, token).
CREATE TABLE devices (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    platform   text        NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    token      text        NOT NULL CHECK (length(token) BETWEEN 1 AND 4096),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, token)
);
CREATE INDEX devices_user_idx ON devices (user_id);

-- One row per user who changed something; absent means the defaults. quiet_* are
-- minutes after local midnight in quiet_timezone (start > end wraps past midnight).
CREATE TABLE notification_preferences (
    user_id        uuid        PRIMARY KEY,
    push_enabled   boolean     NOT NULL DEFAULT true,
    show_previews  boolean     NOT NULL DEFAULT true,
    quiet_start    smallint    NULL CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end      smallint    NULL CHECK (quiet_end BETWEEN 0 AND 1439),
    quiet_timezone text        NULL,
    locale         text        NOT NULL DEFAULT 'en',
    timezone       text        NOT NULL DEFAULT 'Asia/Bangkok',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- until NULL: muted until unmuted.
CREATE TABLE muted_conversations (
    user_id         uuid        NOT NULL,
    conversation_id text        NOT NULL,
    until           timestamptz NULL,
    PRIMARY KEY (user_id, conversation_id)
);

-- The in-app inbox. ids are UUIDv7, so id order is creation order (the cursor).
CREATE TABLE notifications (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    kind       text        NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    event_id   text        NULL,
    read_at    timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Outgoing notifications not yet accepted by a provider, one row per recipient
-- (push: expanded to the user's devices when sent; sms: one phone number).
--   waiting: a message push held for the collapse window; later messages of the
--            same conversation merge into it (msg_count) until due_at.
--   sending: claimed by a sender until due_at (a lease: a crashed sender's rows
--            are picked up again when it runs out).
--   retry:   failed for some devices (device_ids), due again at due_at.
-- A row is deleted once every device has been answered for.
CREATE TABLE delivery_queue (
    id           uuid        PRIMARY KEY,
    channel      text        NOT NULL CHECK (channel IN ('push', 'sms')),
    user_id      uuid        NULL,
    collapse_key text        NULL,
    payload      jsonb       NOT NULL,
    msg_count    integer     NOT NULL DEFAULT 1,
    device_ids   uuid[]      NULL,
    state        text        NOT NULL CHECK (state IN ('waiting', 'sending', 'retry')),
    attempts     integer     NOT NULL DEFAULT 0,
    due_at       timestamptz NOT NULL,
    last_error   text        NULL,
    event_id     text        NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_queue_due_idx ON delivery_queue (due_at);
CREATE UNIQUE INDEX delivery_queue_collapse_idx ON delivery_queue (user_id, collapse_key)
    WHERE state = 'waiting' AND collapse_key IS NOT NULL;

-- Deliveries that failed for good (a permanent provider error, or the last retry).
-- Re-driven by an operator through the admin API.
CREATE TABLE dead_letters (
    id          uuid        PRIMARY KEY,
    channel     text        NOT NULL,
    user_id     uuid        NULL,
    device_id   uuid        NULL,
    platform    text        NULL,
    payload     jsonb       NOT NULL,
    attempts    integer     NOT NULL,
    last_error  text        NOT NULL,
    event_id    text        NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    redriven_at timestamptz NULL
);
CREATE INDEX dead_letters_pending_idx ON dead_letters (id DESC) WHERE redriven_at IS NULL;

-- Stream entries that could not be used (unparseable, unknown type, bad data):
-- recorded and acknowledged so they never block a stream.
CREATE TABLE poison_events (
    id         bigserial   PRIMARY KEY,
    stream     text        NOT NULL,
    entry_id   text        NOT NULL,
    event_id   text        NULL,
    event_type text        NULL,
    reason     text        NOT NULL,
    raw        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, entry_id)
);
