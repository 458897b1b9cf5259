-- Attachments (docs/api/openapi.yaml, /v1/media): the uploaded objects and the
-- messages that carry them.
--
-- media: one row per upload. The bytes live in the media store (TCHAT_MEDIA_DIR)
-- under their SHA-256, so two uploads of the same bytes share one file; the row
-- is the owner's. attached_at is set when a message first carries it.
-- media_refs: which messages carry which media, kept by the triggers below in the
-- transaction of the message's own write, so msg_send_batch is unchanged: a
-- message whose attachment names a media id ("id") gets its ref on insert (after
-- a check that the sender owns the upload), and loses it when it is deleted (the
-- tombstone clears the attachment) or its row goes.
--
-- The sweeper (services/messaging/src/media_service.cpp) deletes media never
-- attached after messaging_media_unattached_ttl and media whose messages are all
-- gone, then a file once no row names its hash.

-- The check of messages.type (named messages_type_check1 by 000003, whose old
-- table kept the first name) is found by what it checks.
DO $$
DECLARE
    c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
              WHERE conrelid = 'messages'::regclass AND contype = 'c'
                AND pg_get_constraintdef(oid) LIKE '%type = ANY%'
    LOOP
        EXECUTE format('ALTER TABLE messages DROP CONSTRAINT %I', c);
    END LOOP;
END
$$;
ALTER TABLE messages ADD CONSTRAINT messages_type_check
    CHECK (type IN ('text', 'image', 'voice', 'video', 'file', 'payment', 'system'));

CREATE TABLE media (
    id           uuid        PRIMARY KEY,
    owner_id     uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('image', 'voice', 'video', 'file')),
    content_type text        NOT NULL,
    bytes        bigint      NOT NULL CHECK (bytes >= 0),
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    filename     text        NULL,
    width        int         NULL,
    height       int         NULL,
    duration_ms  int         NULL,
    waveform     jsonb       NULL,
    placeholder  text        NULL,
    variants     jsonb       NOT NULL DEFAULT '{}',  -- {"thumb":"<file name>","display":...}
    created_at   timestamptz NOT NULL DEFAULT now(),
    attached_at  timestamptz NULL
);
CREATE INDEX media_owner_idx ON media (owner_id);
CREATE INDEX media_sha256_idx ON media (sha256);
CREATE INDEX media_unattached_idx ON media (created_at) WHERE attached_at IS NULL;

CREATE TABLE media_refs (
    media_id        uuid   NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    conversation_id uuid   NOT NULL,
    seq             bigint NOT NULL,
    PRIMARY KEY (media_id, conversation_id, seq)
);
CREATE INDEX media_refs_message_idx ON media_refs (conversation_id, seq);

-- On a new message with a media attachment: the sender must own the upload
-- (else the whole write fails: SQLSTATE 42501, or 23503 when the upload is
-- gone). The UPDATE locks the media row, so a sweeper deleting it waits for
-- this transaction and then sees the ref.
CREATE FUNCTION media_attach() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    mid   uuid := (NEW.attachment->>'id')::uuid;
    owner uuid;
BEGIN
    UPDATE media SET attached_at = coalesce(attached_at, now())
     WHERE id = mid RETURNING owner_id INTO owner;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'media % not found', mid USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF owner <> NEW.sender_id THEN
        RAISE EXCEPTION 'media % belongs to another user', mid
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO media_refs (media_id, conversation_id, seq)
    VALUES (mid, NEW.conversation_id, NEW.seq) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER messages_media_attach AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.attachment ? 'id') EXECUTE FUNCTION media_attach();

CREATE FUNCTION media_detach() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM media_refs
     WHERE media_id = (OLD.attachment->>'id')::uuid
       AND conversation_id = OLD.conversation_id AND seq = OLD.seq;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER messages_media_detach_update AFTER UPDATE OF attachment, deleted ON messages
    FOR EACH ROW WHEN (OLD.attachment ? 'id' AND (NEW.deleted OR NEW.attachment IS NULL))
    EXECUTE FUNCTION media_detach();
CREATE TRIGGER messages_media_detach_delete AFTER DELETE ON messages
    FOR EACH ROW WHEN (OLD.attachment ? 'id') EXECUTE FUNCTION media_detach();
