-- Back to 000004's msg_send_batch: one-letter input keys and the message.created
-- envelope written by the service up to its seq (input "e"), completed here.

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
    SELECT array_agg(DISTINCT x.c) INTO conv_ids FROM jsonb_to_recordset(batch) AS x(c uuid);
    PERFORM 1 FROM conversations c WHERE c.id = ANY (conv_ids) ORDER BY c.id FOR UPDATE;
    RETURN QUERY
    WITH b AS MATERIALIZED (
        SELECT x.*, coalesce(x.sys, false) AS server
          FROM jsonb_to_recordset(batch) AS x(
              i int, id uuid, ev uuid, c uuid, s uuid, k text, t text, b text, rt bigint,
              a jsonb, p jsonb, mt jsonb, sys boolean, e text)
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
        SELECT tchat_ms(now()) AS ms, tchat_rfc3339(now()) AS rfc3339
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
                              reply_to_seq, attachment, payment, meta, created_at, change_xid)
        SELECT n.c, n.new_seq, n.id, n.s, n.t, coalesce(n.b, ''), n.k, n.rt, n.a, n.p, n.mt,
               now(), pg_current_xact_id()
          FROM numbered n
    ), upd AS (
        UPDATE conversations cv
           SET last_seq = mx.seq, updated_at = now(), change_xid = pg_current_xact_id()
          FROM (SELECT n.c, max(n.new_seq) AS seq FROM numbered n GROUP BY n.c) mx
         WHERE cv.id = mx.c
    ), events AS (
        INSERT INTO outbox (id, stream, type, payload)
        SELECT (array_agg(n.ev ORDER BY n.i))[1], 'tchat.events.messaging', 'batch',
               ('[' || string_agg(concat(coalesce(n.e, concat(
                   -- a service from before 000004 sends no prefix
                   '{"id":"', n.ev, '","type":"message.created","occurred_at":"',
                   clock.rfc3339, '","data":{"conversation_id":"', n.c,
                   '","message_id":"', n.id, '","sender_id":"', n.s, '","message_type":',
                   to_json(n.t)::text, ',"preview":', to_json(left(coalesce(n.b, ''), 140))::text,
                   ',"seq":')), n.new_seq, n.cenv,
                                         array_to_json(array_remove(n.users, n.s)), '}}'),
                                  ',' ORDER BY n.i) || ']')::json
          FROM numbered n CROSS JOIN clock
        HAVING count(*) > 0
    )
    SELECT chk.i, chk.st,
           CASE chk.st WHEN 'ok' THEN n.new_seq WHEN 'duplicate' THEN chk.dseq END,
           CASE chk.st WHEN 'ok' THEN chk.id WHEN 'duplicate' THEN chk.did END,
           CASE chk.st WHEN 'ok' THEN chk.t WHEN 'duplicate' THEN chk.dtype END,
           CASE chk.st WHEN 'ok' THEN coalesce(chk.b, '') WHEN 'duplicate' THEN chk.dbody END,
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
