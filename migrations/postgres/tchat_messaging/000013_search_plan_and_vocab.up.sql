-- Message search: the plan by the words' frequency, and a cheaper vocabulary
-- insert on sends (docs/api/openapi.yaml, /v1/search/messages;
-- services/messaging/src/search_store.hpp, SearchPlan).
--
-- 1. A search chooses between two plans by how many messages of the whole table
--    hold its rarest term, estimated from the statistics ANALYZE keeps of
--    messages.search_terms (pg_stats.most_common_elems and their frequencies): the
--    GIN index for the words alone when they are rare, with the caller's
--    conversation keys (000010) otherwise. A term that is not among the most common
--    is estimated at the lowest frequency of that list, so the list must reach down
--    to rare words: at the default statistics target (100) it holds about 1,000
--    terms and stops near 0.07 % of the messages (3,500 of 5 million, too many for
--    the words plan), at 1000 about 10,000 terms down to near 0.006 %.
--
--    ANALYZE then samples 300,000 rows instead of 30,000 (autovacuum does it in the
--    background; about 20 s on 2 million messages). This statement changes the
--    catalogue only: it does not read the table or block sends; the new target
--    applies from the next ANALYZE.
--
-- 2. msg_send_batch (000010's, otherwise unchanged) inserts into search_vocab
--    only the terms it does not hold yet. Almost every term of a message is
--    already there; INSERT ... ON CONFLICT DO NOTHING went through the insert
--    path for each of them (about 250 per batch of 32 messages), a read that
--    finds them is cheaper (bench/search_bench.sh measures the send with both).
--    ON CONFLICT DO NOTHING still covers a term two sends add at once; the
--    order of the inserts (sorted, after every other lock) is 000006's.
--
-- The CONTRACT of msg_send_batch (000005, 000006, 000010: "search_terms" per
-- element, stored with the conversation key first) is unchanged.

ALTER TABLE messages ALTER COLUMN search_terms SET STATISTICS 1000;

DROP FUNCTION msg_send_batch(jsonb);

CREATE FUNCTION msg_send_batch(batch jsonb)
RETURNS TABLE (
    idx int, status text, seq bigint, id uuid, type text, body text, reply_to_seq bigint,
    attachment jsonb, payment jsonb, meta jsonb, reactions jsonb, created_ms bigint,
    edited_ms bigint, deleted boolean, recipients uuid[])
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $fn$
DECLARE
    conv_ids uuid[];
BEGIN
    -- A batch comes from one service; one without the named fields is from a
    -- service older than this migration, whose messages would all come back
    -- not_found: refuse it loudly instead.
    IF jsonb_typeof(batch) <> 'array' OR
       (jsonb_array_length(batch) > 0 AND NOT (batch->0 ? 'message_id')) THEN
        RAISE EXCEPTION 'msg_send_batch: the input is not the array of named fields of 000005'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(DISTINCT x.conversation_id) INTO conv_ids
      FROM jsonb_to_recordset(batch) AS x(conversation_id uuid);
    PERFORM 1 FROM conversations c WHERE c.id = ANY (conv_ids) ORDER BY c.id FOR UPDATE;
    RETURN QUERY
    WITH b AS MATERIALIZED (
        SELECT x.index AS i, x.message_id AS mid, x.event_id AS ev, x.conversation_id AS c,
               x.sender_id AS s, x.client_msg_id AS k, x.type AS t, coalesce(x.body, '') AS b,
               x.reply_to_seq AS rt, x.attachment AS a, x.payment AS p, x.system AS mt,
               coalesce(x.server_posted, false) AS server,
               CASE WHEN x.search_terms IS NOT NULL THEN
                   ARRAY(SELECT jsonb_array_elements_text(x.search_terms)) END AS terms
          FROM jsonb_to_recordset(batch) AS x(
              index int, message_id uuid, event_id uuid, conversation_id uuid, sender_id uuid,
              client_msg_id text, type text, body text, reply_to_seq bigint, attachment jsonb,
              payment jsonb, system jsonb, server_posted boolean, search_terms jsonb)
    ), conv AS MATERIALIZED (
        SELECT c.id, c.type, c.last_seq, u.users,
               CASE WHEN c.type = 'direct' THEN (
                   SELECT array_agg(bl.blocked_id) FROM blocks bl
                    WHERE bl.blocker_id = ANY (u.users) AND bl.blocked_id = ANY (u.users)
                      AND bl.blocker_id <> bl.blocked_id)
               END AS blocked,
               concat(',"conversation_type":"', c.type, '","conversation_title":',
                      coalesce(to_json(c.title)::text, 'null'), ',"recipients":') AS env
          FROM conversations c
          CROSS JOIN LATERAL (
              SELECT array_agg(mb.user_id ORDER BY mb.user_id) AS users FROM members mb
               WHERE mb.conversation_id = c.id) u
         WHERE c.id = ANY (conv_ids)
    ), clock AS MATERIALIZED (
        SELECT tchat_ms(now()) AS ms,
               concat('","type":"message.created","occurred_at":"', tchat_rfc3339(now()),
                      '","data":{"conversation_id":"') AS head
    ), chk AS MATERIALIZED (
        SELECT b.*, conv.last_seq, conv.users, conv.env AS cenv,
               dup.seq AS dseq, dup.id AS did, dup.type AS dtype, dup.body AS dbody,
               dup.reply_to_seq AS drt, dup.attachment AS da, dup.payment AS dp,
               dup.meta AS dmt, dup.reactions AS dre, dup.created_at AS dcreated,
               dup.edited_at AS dedited, dup.deleted AS ddeleted,
               CASE
                 WHEN conv.id IS NULL THEN 'not_found'
                 WHEN NOT b.server AND NOT coalesce(b.s = ANY (conv.users), false)
                   THEN 'not_member'
                 WHEN NOT b.server AND coalesce(b.s = ANY (conv.blocked), false) THEN 'blocked'
                 WHEN dup.seq IS NOT NULL THEN 'duplicate'
                 WHEN b.rt IS NOT NULL AND (b.rt < 1 OR b.rt > conv.last_seq) THEN 'bad_reply'
                 ELSE 'ok'
               END AS st
          FROM b
          LEFT JOIN conv ON conv.id = b.c
          LEFT JOIN LATERAL (
              SELECT m.* FROM messages m
               WHERE b.k IS NOT NULL AND m.sender_id = b.s AND m.client_msg_id = b.k
                 AND m.conversation_id IS NOT DISTINCT FROM b.c LIMIT 1) dup ON true
    ), numbered AS MATERIALIZED (
        SELECT chk.*, chk.last_seq + row_number() OVER (PARTITION BY chk.c ORDER BY chk.i)
                 AS new_seq
          FROM chk WHERE chk.st = 'ok'
    ), ins AS (
        INSERT INTO messages (conversation_id, seq, id, sender_id, type, body, client_msg_id,
                              reply_to_seq, attachment, payment, meta, created_at, change_xid,
                              search_terms)
        SELECT n.c, n.new_seq, n.mid, n.s, n.t, n.b, n.k, n.rt, n.a, n.p, n.mt,
               now(), pg_current_xact_id(),
               CASE WHEN n.terms IS NOT NULL THEN array_prepend(search_conversation_key(n.c), n.terms) END
          FROM numbered n
    ), vocab AS (
        -- After the conversations' locks, in sorted order (000006's header); only
        -- the terms the vocabulary lacks (see this file's header).
        INSERT INTO search_vocab (term)
        SELECT t.term FROM (SELECT DISTINCT v.term FROM numbered n
                              CROSS JOIN LATERAL unnest(n.terms) AS v(term)) AS t
         WHERE NOT EXISTS (SELECT 1 FROM search_vocab sv WHERE sv.term = t.term)
         ORDER BY t.term
        ON CONFLICT DO NOTHING
    ), upd AS (
        UPDATE conversations cv
           SET last_seq = mx.seq, updated_at = now(), change_xid = pg_current_xact_id()
          FROM (SELECT n.c, max(n.new_seq) AS seq FROM numbered n GROUP BY n.c) mx
         WHERE cv.id = mx.c
    ), events AS (
        -- The message.created envelopes (the CONTRACT above).
        INSERT INTO outbox (id, stream, type, payload)
        SELECT (array_agg(n.ev ORDER BY n.i))[1], 'tchat.events.messaging', 'batch',
               ('[' || string_agg(concat(
                   '{"id":"', n.ev, clock.head, n.c, '","message_id":"', n.mid,
                   '","sender_id":"', n.s, '","message_type":', to_json(n.t),
                   ',"preview":', to_json(left(n.b, 140)), ',"seq":', n.new_seq, n.cenv,
                   array_to_json(array_remove(n.users, n.s)), '}}'),
                   ',' ORDER BY n.i) || ']')::json
          FROM numbered n CROSS JOIN clock
        HAVING count(*) > 0
    )
    SELECT chk.i, chk.st,
           CASE chk.st WHEN 'ok' THEN n.new_seq WHEN 'duplicate' THEN chk.dseq END,
           CASE chk.st WHEN 'ok' THEN chk.mid WHEN 'duplicate' THEN chk.did END,
           CASE chk.st WHEN 'ok' THEN chk.t WHEN 'duplicate' THEN chk.dtype END,
           CASE chk.st WHEN 'ok' THEN chk.b WHEN 'duplicate' THEN chk.dbody END,
           CASE chk.st WHEN 'ok' THEN chk.rt WHEN 'duplicate' THEN chk.drt END,
           CASE chk.st WHEN 'ok' THEN chk.a WHEN 'duplicate' THEN chk.da END,
           CASE chk.st WHEN 'ok' THEN chk.p WHEN 'duplicate' THEN chk.dp END,
           CASE chk.st WHEN 'ok' THEN chk.mt WHEN 'duplicate' THEN chk.dmt END,
           CASE chk.st WHEN 'ok' THEN '{}'::jsonb WHEN 'duplicate' THEN chk.dre END,
           CASE chk.st WHEN 'ok' THEN clock.ms WHEN 'duplicate' THEN tchat_ms(chk.dcreated) END,
           CASE chk.st WHEN 'duplicate' THEN tchat_ms(chk.dedited) END,
           CASE chk.st WHEN 'ok' THEN false WHEN 'duplicate' THEN chk.ddeleted END,
           CASE WHEN chk.st IN ('ok', 'duplicate') THEN chk.users END
      FROM chk
      CROSS JOIN clock
      LEFT JOIN numbered n ON n.i = chk.i
     ORDER BY chk.i;
END
$fn$;
