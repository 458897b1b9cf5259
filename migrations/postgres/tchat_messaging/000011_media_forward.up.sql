-- Forwarding an attachment (docs/api/openapi.yaml, POST …/messages with an
-- attachment_id): a message may carry a media that its sender did not upload
-- when the sender can currently see it, by the rule of GET /v1/media/{id}: a
-- message that is not deleted carries it in a conversation the sender is a
-- member of. An upload never posted stays its uploader's alone (000007's rule).
--
-- The check runs in the send's own transaction (this trigger), and it locks
-- what it relies on: FOR KEY SHARE on the sender's members row and on the
-- media_refs row of the message it was seen in. A removal from that
-- conversation (DELETE FROM members) or a deletion of that message (which
-- deletes the ref) that is still running makes the send wait for its outcome
-- and then see it; one that starts later waits for the send. So a forward can
-- never commit on the strength of a membership or a message already gone.
-- FOR KEY SHARE does not block updates of other columns (last_read_seq, role).
--
-- The forward gets its own media_refs row: the file lives as long as any
-- message that is not deleted carries it (deleting the original does not break
-- the forward), and the media row keeps its owner (it counts in the uploader's
-- quota, not the forwarder's).

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
        PERFORM 1
           FROM media_refs r
           JOIN members mb ON mb.conversation_id = r.conversation_id
                          AND mb.user_id = NEW.sender_id
          WHERE r.media_id = mid
            AND NOT (r.conversation_id = NEW.conversation_id AND r.seq = NEW.seq)
          LIMIT 1
            FOR KEY SHARE OF r, mb;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'media % is not visible to the sender', mid
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    INSERT INTO media_refs (media_id, conversation_id, seq)
    VALUES (mid, NEW.conversation_id, NEW.seq) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;
