-- Consumer-side de-duplication (docs/ARCHITECTURE.md, events): an event id is recorded in the same
-- transaction as its effects, so redelivery after a crash changes nothing.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Old entries are pruned by age.
CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);
