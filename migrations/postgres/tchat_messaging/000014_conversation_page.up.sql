-- The conversation list at a cost that does not grow with the user's conversations
-- (issue 22, docs/operations/data-scale.md).
--
-- GET /v1/conversations pages a user's conversations by last activity
-- (conversations.updated_at). msg_user_conversations (000008) reads every one of
-- the user's memberships and conversations and sorts them for each page: for a
-- user in 2,000 conversations about 9,000 buffers a page, against 385 for a user
-- in a few (bench/scale_bench.sh --explain-only, 100 %).
--
-- member_activity keeps, per membership, the hour of the conversation's last
-- activity, indexed by user: a page reads the user's memberships from the newest
-- hour down until it holds a page, plus the rest of the last hour it touched, and
-- sorts those by the exact updated_at. Hours, not the timestamp itself, so that a
-- message does not rewrite every member's row: a conversation's rows change once
-- per hour of activity in which it was active (for a group of 1,000 members at
-- most 1,000 row updates an hour), and a send within the same hour changes none.
--
-- The hour is kept exact by triggers, so no page can miss a conversation:
--   * conversations: AFTER UPDATE when updated_at moves to another hour, all the
--     conversation's rows (the sender holds the conversation's row lock, so rows
--     are written in that order: conversation, then member_activity);
--   * members: AFTER INSERT, a row per new membership with the conversation's hour
--     (statement-level: one INSERT ... SELECT for a group of 1,000);
--   * a membership's row goes with it (ON DELETE CASCADE).
-- A separate table, not a column of members: the read receipt (MarkRead) and the
-- role change lock a member row before the conversation row, the opposite of a
-- send; they never touch member_activity, so the two orders never meet.
CREATE FUNCTION msg_activity_hour(t timestamptz) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM least(t, '9999-12-31 23:59:59+00')) / 3600)::integer $$;

CREATE TABLE member_activity (
    conversation_id uuid    NOT NULL,
    user_id         uuid    NOT NULL,
    activity_hour   integer NOT NULL,  -- msg_activity_hour(conversations.updated_at)
    PRIMARY KEY (conversation_id, user_id),
    FOREIGN KEY (conversation_id, user_id) REFERENCES members ON DELETE CASCADE
);
CREATE INDEX member_activity_user_idx ON member_activity (user_id, activity_hour DESC, conversation_id);

INSERT INTO member_activity (conversation_id, user_id, activity_hour)
SELECT me.conversation_id, me.user_id, msg_activity_hour(c.updated_at)
  FROM members me JOIN conversations c ON c.id = me.conversation_id;

CREATE FUNCTION msg_activity_members_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_activity (conversation_id, user_id, activity_hour)
    SELECT a.conversation_id, a.user_id, msg_activity_hour(c.updated_at)
      FROM added a JOIN conversations c ON c.id = a.conversation_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER members_activity AFTER INSERT ON members
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION msg_activity_members_added();

CREATE FUNCTION msg_activity_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE member_activity SET activity_hour = msg_activity_hour(NEW.updated_at)
     WHERE conversation_id = NEW.id;
    RETURN NULL;
END
$$;
-- Only when the hour changes: a send within the hour queues nothing.
CREATE TRIGGER conversations_activity AFTER UPDATE OF updated_at ON conversations
    FOR EACH ROW WHEN (msg_activity_hour(NEW.updated_at) <> msg_activity_hour(OLD.updated_at))
    EXECUTE FUNCTION msg_activity_moved();

-- One page of the user's conversations, newest activity first, strictly before
-- (p_before_at, p_before_id); the same columns as msg_user_conversations.
-- Every membership in an hour below the cursor's is older than the cursor, so the
-- page is among the cursor's own hour and the hours down to the one holding the
-- p_limit-th membership below it: rows read = the page + the rest of those two hours.
-- The planner is held to key access as in 000003 and 000008.
CREATE FUNCTION msg_conversation_page(p_user uuid, p_before_at timestamptz, p_before_id uuid,
                                      p_limit integer)
RETURNS TABLE (id uuid, type text, title text, last_seq bigint, created_at timestamptz,
               updated_at timestamptz, change_xid xid8, last_read_seq bigint)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
DECLARE
    h_from integer := msg_activity_hour(p_before_at);
    h_to   integer;
BEGIN
    SELECT a.activity_hour INTO h_to
      FROM member_activity a
     WHERE a.user_id = p_user AND a.activity_hour < h_from
     ORDER BY a.activity_hour DESC OFFSET greatest(p_limit, 1) - 1 LIMIT 1;
    RETURN QUERY
    SELECT c.id, c.type, c.title, c.last_seq, c.created_at, c.updated_at, c.change_xid,
           me.last_read_seq
      FROM member_activity a
      JOIN conversations c ON c.id = a.conversation_id
      JOIN members me ON me.conversation_id = a.conversation_id AND me.user_id = a.user_id
     WHERE a.user_id = p_user
       AND a.activity_hour <= h_from AND a.activity_hour >= coalesce(h_to, -2147483648)
       AND (c.updated_at, c.id) < (p_before_at, p_before_id)
     ORDER BY c.updated_at DESC, c.id DESC
     LIMIT p_limit;
END
$$;
