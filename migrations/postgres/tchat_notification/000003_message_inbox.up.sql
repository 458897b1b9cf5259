-- Messages in the in-app inbox (kind 'message'): someone who was away finds there
-- what they missed. At most one UNREAD message entry per user and conversation:
-- later messages update it (the latest message, a count in data) and move it to
-- the top; once it is read, the next message makes a new entry.

-- What a message entry's title and body are rendered from: the latest message's
-- push payload (nothing of the message for users who hide previews), so that the
-- texts can be rendered again, in the user's language, when a message joins the
-- entry. Not shown by the API. NULL for other kinds.
ALTER TABLE notifications ADD COLUMN render jsonb NULL;

-- The collapse rule, and the key the service locks and upserts message entries by.
-- (Before 000003 no entry had kind 'message', so no existing row can violate it.)
CREATE UNIQUE INDEX notifications_message_unread_idx
    ON notifications (user_id, (data->>'conversation_id'))
    WHERE kind = 'message' AND read_at IS NULL;

-- The inbox is listed newest first by created_at, then id (a message entry's
-- created_at is its latest message's time), rather than by id alone.
CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC, id DESC);
DROP INDEX notifications_user_idx;
