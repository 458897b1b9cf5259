-- Message search, second design (docs/api/openapi.yaml, /v1/search/messages):
-- a words table read newest first per conversation, instead of 000006's GIN
-- index over messages.search_terms.
--
-- The GIN index answers "which messages hold these terms" for the whole table;
-- a search must then keep those of the caller's conversations and sort them by
-- time, so a common word cost as much as its matches (bench/search_bench.sh:
-- p99 456 ms at 1 million messages). search_words holds one row per
-- (conversation, term, message) in that key order, message id (a UUIDv7: the
-- time of the send) last: per conversation of the caller, the newest messages
-- holding a term are the first entries of one index range, so a page costs one
-- short descent per conversation, however many messages match. A prefix (the
-- query's last word) is a range of terms within the conversation (code point
-- order, COLLATE "C"), so search_vocab and its expansion are no longer needed.
--
-- Kept in the writer's transaction:
-- * msg_send_batch inserts the rows of each new message's terms (the CONTRACT
--   of 000006 is unchanged: "search_terms" per element);
-- * a trigger on messages replaces them when search_terms changes (an edit, a
--   deletion's tombstone sets it NULL, tchat-search-reindex) and removes them
--   with the row.
-- messages.search_terms stays: it is what the rows are made from, and a search
-- tests its other words against it.
--
-- Messages indexed before this migration have their terms but no rows yet:
-- `tchat-search-reindex --words` adds them in short batches (sends go on); until
-- it has run they are not found. This migration itself only creates an empty
-- table, so it does not block sends.

CREATE TABLE search_words (
    conversation_id uuid             NOT NULL,
    term            text COLLATE "C" NOT NULL,
    id              uuid             NOT NULL,  -- the message's id
    seq             bigint           NOT NULL,  -- the message's seq (its key)
    PRIMARY KEY (conversation_id, term, id) INCLUDE (seq)
);

CREATE FUNCTION search_words_sync() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF OLD.search_terms IS NOT NULL THEN
        DELETE FROM search_words w
         WHERE w.conversation_id = OLD.conversation_id AND w.term = ANY (OLD.search_terms)
           AND w.id = OLD.id;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.search_terms IS NOT NULL AND NOT NEW.deleted THEN
        INSERT INTO search_words (conversation_id, term, id, seq)
        SELECT DISTINCT NEW.conversation_id, t, NEW.id, NEW.seq FROM unnest(NEW.search_terms) AS t
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER messages_search_words_update AFTER UPDATE OF search_terms ON messages
    FOR EACH ROW WHEN (OLD.search_terms IS DISTINCT FROM NEW.search_terms)
    EXECUTE FUNCTION search_words_sync();
CREATE TRIGGER messages_search_words_delete AFTER DELETE ON messages
    FOR EACH ROW WHEN (OLD.search_terms IS NOT NULL)
    EXECUTE FUNCTION search_words_sync();

DROP INDEX messages_search_idx;
DROP TABLE search_vocab;

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
               now(), pg_current_xact_id(), n.terms
          FROM numbered n
    ), words AS (
        -- One row per term of each new message (000008's header).
        INSERT INTO search_words (conversation_id, term, id, seq)
        SELECT DISTINCT n.c, v.term, n.mid, n.new_seq
          FROM numbered n CROSS JOIN LATERAL unnest(n.terms) AS v(term)
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
