-- Back to 000010: only the uploader can attach a media (000007's trigger).
-- Forwards already sent keep their messages and refs.

CREATE OR REPLACE FUNCTION media_attach() RETURNS trigger
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
