-- Transactional outbox (docs/ARCHITECTURE.md, events): events are written here in the same transaction as
-- the change they describe, then relayed to the Redis stream and marked published.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    stream       text        NOT NULL,
    type         text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz NULL
);

-- The relay scans only what is still to be published, oldest first.
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;
