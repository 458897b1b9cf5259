-- A user's conversations by key, whatever the sizes (issue 22, bench/scale_bench.sh).
--
-- The conversation list (GET /v1/conversations) and /v1/sync joined members and
-- conversations in one statement. For a user in many conversations (2,000 in the
-- benchmark) the planner judged a hash join cheaper: a sequential scan of every
-- conversation (100,000 at 10 % of the benchmark's year: 56 ms for the sync query,
-- 137 ms for the list page, EXPLAIN (ANALYZE, BUFFERS)), so the cost of one
-- user's list grew with everybody's conversations. Reading the user's
-- memberships (members_user_idx) and each conversation by its key is 2,000
-- probes: about 8,000 buffer hits, the same at any table size.
--
-- msg_user_conversations(user) is that read, with the planner held to key
-- access (as msg_send_batch, 000003): the settings cover exactly this statement.
-- PL/pgSQL, so that a connection plans it once (a SQL function would plan its
-- body again on every call); measured in one loop on the 10 % data, a light
-- user's list costs 0.81 ms through it against 0.65 ms for the plain join, and a
-- heavy user's (2,000 conversations) a third to a quarter. Callers filter,
-- order and cut its rows (services/messaging/src/conversation_store.cpp List,
-- pg_message_store.cpp Sync).
CREATE FUNCTION msg_user_conversations(p_user uuid)
RETURNS TABLE (id uuid, type text, title text, last_seq bigint, created_at timestamptz,
               updated_at timestamptz, change_xid xid8, last_read_seq bigint)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.id, c.type, c.title, c.last_seq, c.created_at, c.updated_at, c.change_xid,
           me.last_read_seq
      FROM members me
      JOIN conversations c ON c.id = me.conversation_id
     WHERE me.user_id = p_user;
END
$$;
