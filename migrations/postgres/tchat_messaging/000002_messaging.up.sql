-- Messaging (docs/api/openapi.yaml, messaging): conversations, members, blocks and the PostgreSQL message store.
--
-- Large histories: messages are hash-partitioned by conversation and keyed by
-- (conversation_id, seq), so every read of history is one range of one index in one
-- partition and every append lands on the right edge of its own conversation's key
-- range — there is no global sequence or hot index page. Ids are UUIDv7 made by the
-- service; seq comes from the conversation row, locked for the length of the insert
-- transaction, so it starts at 1 and has neither gaps nor duplicates.
--
-- Sync (GET /v1/sync): every change stamps the rows it touches with the writing
-- transaction's id (change_xid, from pg_current_xact_id()). A sync token is a
-- pg_snapshot; "changed since the token" is exactly the set of rows whose change_xid
-- was not visible in that snapshot (pg_visible_in_snapshot), which is right even when
-- transactions commit out of id order: no gap and no duplicate.

-- Milliseconds since the epoch; times are formatted as RFC 3339 by the service.
CREATE FUNCTION tchat_ms(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM t) * 1000)::bigint $$;

CREATE FUNCTION tchat_rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

CREATE TABLE conversations (
    id          uuid        PRIMARY KEY,
    type        text        NOT NULL CHECK (type IN ('direct', 'group')),
    title       text        NULL,
    -- "<smaller user id>:<larger user id>" of a direct conversation: one per pair.
    direct_key  text        NULL UNIQUE,
    created_by  uuid        NOT NULL,
    last_seq    bigint      NOT NULL DEFAULT 0,
    change_xid  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()  -- last activity, for the list order
) WITH (fillfactor = 70);  -- room for HOT updates: last_seq changes with every message

CREATE TABLE members (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    last_read_seq   bigint      NOT NULL DEFAULT 0,
    joined_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (conversation_id, user_id)
) WITH (fillfactor = 80);

-- A user's conversations.
CREATE INDEX members_user_idx ON members (user_id, conversation_id);

-- Conversations a user left or was removed from, so that sync can tell them.
CREATE TABLE member_departures (
    user_id         uuid        NOT NULL,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    change_xid      xid8        NOT NULL,
    departed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, conversation_id)
);

CREATE TABLE blocks (
    blocker_id uuid        NOT NULL,
    blocked_id uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE TABLE messages (
    conversation_id uuid        NOT NULL,
    seq             bigint      NOT NULL,
    id              uuid        NOT NULL,
    sender_id       uuid        NOT NULL,
    type            text        NOT NULL
                                CHECK (type IN ('text', 'image', 'file', 'payment', 'system')),
    body            text        NOT NULL DEFAULT '',
    client_msg_id   text        NULL,
    reply_to_seq    bigint      NULL,
    attachment      jsonb       NULL,  -- image/file: {"url","mime_type","name","size",...}
    payment         jsonb       NULL,  -- payment: the transfer or request it shows
    meta            jsonb       NULL,  -- system: {"action",...}
    reactions       jsonb       NOT NULL DEFAULT '{}',  -- {"<emoji>":["<user id>",...]}
    created_at      timestamptz NOT NULL,
    edited_at       timestamptz NULL,
    deleted         boolean     NOT NULL DEFAULT false,
    change_xid      xid8        NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) PARTITION BY HASH (conversation_id);

DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format('CREATE TABLE messages_p%s PARTITION OF messages '
                       'FOR VALUES WITH (MODULUS 16, REMAINDER %s) WITH (fillfactor = 90)', i, i);
    END LOOP;
END $$;

-- Idempotent sends: one message per (conversation, sender, client_msg_id).
CREATE UNIQUE INDEX messages_client_msg_idx
    ON messages (conversation_id, sender_id, client_msg_id);
-- Sync: the messages of one conversation changed since a snapshot.
CREATE INDEX messages_change_idx ON messages (conversation_id, change_xid);

-- The outbox relay takes unpublished rows in (created_at, id) order; every row of
-- a send batch has the same created_at, so the index must carry id too or each
-- relay pass sorts the whole backlog.
CREATE INDEX outbox_unpublished_order_idx ON outbox (created_at, id) WHERE published_at IS NULL;

-- Appends a batch of messages in the caller's transaction (the service commits a
-- whole batch at once: group commit). `batch` is a JSON array of
--   {"i":index,"id":uuid,"ev":event uuid,"c":conversation,"s":sender,"k":client_msg_id,
--    "t":type,"b":body,"rt":reply_to_seq,"a":attachment,"p":payment,"mt":meta,
--    "sys":true when the server posts it (no membership or block check)}
-- without two elements of the same (c, s, k) — the service folds those — and each
-- element yields one row whose status is 'ok' (appended), 'duplicate' (the same
-- client_msg_id was appended before: that message is returned), 'not_found',
-- 'not_member', 'blocked' or 'bad_reply' (reply_to_seq names no committed message).
--
-- Set-based, so the cost per message is a few index probes and inserts: first the
-- batch's conversation rows are locked in id order (concurrent batches lock in the
-- same order and cannot deadlock), then one statement — which, taken after the
-- locks, sees every message committed before them — checks, numbers (last_seq + 1,
-- + 2, ... in batch order per conversation), inserts the messages and their
-- message.created events for the outbox, and moves last_seq.
CREATE FUNCTION msg_send_batch(batch jsonb)
RETURNS TABLE (
    idx int, status text, seq bigint, id uuid, type text, body text, reply_to_seq bigint,
    attachment jsonb, payment jsonb, meta jsonb, reactions jsonb, created_ms bigint,
    edited_ms bigint, deleted boolean, recipients uuid[])
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1 FROM conversations c
      WHERE c.id IN (SELECT DISTINCT x.c FROM jsonb_to_recordset(batch) AS x(c uuid))
      ORDER BY c.id FOR UPDATE;
    RETURN QUERY
    WITH b AS (
        SELECT x.*, coalesce(x.sys, false) AS server
          FROM jsonb_to_recordset(batch) AS x(
              i int, id uuid, ev uuid, c uuid, s uuid, k text, t text, b text, rt bigint,
              a jsonb, p jsonb, mt jsonb, sys boolean)
    ), ids AS (
        SELECT DISTINCT b.c FROM b
    ), conv AS (  -- lookups by key, one conversation at a time (never a scan)
        SELECT cv.* FROM ids CROSS JOIN LATERAL (
            SELECT c.id, c.type, c.title, c.last_seq FROM conversations c WHERE c.id = ids.c) cv
    ), rec AS (
        SELECT ids.c, (SELECT array_agg(mb.user_id ORDER BY mb.user_id) FROM members mb
                        WHERE mb.conversation_id = ids.c) AS users
          FROM ids
    ), clock AS (
        SELECT tchat_rfc3339(now()) AS rfc3339, tchat_ms(now()) AS ms
    ), chk AS (
        SELECT b.*, conv.type AS ctype, conv.title AS ctitle, conv.last_seq,
               dup.seq AS dseq, dup.id AS did, dup.type AS dtype, dup.body AS dbody,
               dup.reply_to_seq AS drt, dup.attachment AS da, dup.payment AS dp,
               dup.meta AS dmt, dup.reactions AS dre, dup.created_at AS dcreated,
               dup.edited_at AS dedited, dup.deleted AS ddeleted,
               CASE
                 WHEN conv.id IS NULL THEN 'not_found'
                 WHEN NOT b.server AND NOT EXISTS (
                     SELECT 1 FROM members mb WHERE mb.conversation_id = b.c AND mb.user_id = b.s)
                   THEN 'not_member'
                 WHEN NOT b.server AND conv.type = 'direct' AND EXISTS (
                     SELECT 1 FROM members o
                       JOIN blocks bl ON bl.blocker_id = o.user_id AND bl.blocked_id = b.s
                      WHERE o.conversation_id = b.c AND o.user_id <> b.s)
                   THEN 'blocked'
                 WHEN dup.seq IS NOT NULL THEN 'duplicate'
                 WHEN b.rt IS NOT NULL AND (b.rt < 1 OR b.rt > conv.last_seq) THEN 'bad_reply'
                 ELSE 'ok'
               END AS st
          FROM b
          LEFT JOIN conv ON conv.id = b.c
          LEFT JOIN LATERAL (  -- LIMIT keeps it a per-row index probe of one partition
              SELECT m.* FROM messages m
               WHERE b.k IS NOT NULL AND m.conversation_id = b.c AND m.sender_id = b.s
                 AND m.client_msg_id = b.k LIMIT 1) dup ON true
    ), numbered AS (
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
        SELECT n.ev, 'tchat.events.messaging', 'message.created', jsonb_build_object(
                 'id', n.ev, 'type', 'message.created', 'occurred_at', clock.rfc3339,
                 'data', jsonb_build_object(
                     'conversation_id', n.c, 'conversation_type', n.ctype,
                     'conversation_title', n.ctitle, 'message_id', n.id, 'seq', n.new_seq,
                     'sender_id', n.s, 'message_type', n.t,
                     'preview', left(coalesce(n.b, ''), 140),
                     'recipients', to_jsonb(array_remove(rec.users, n.s))))
          FROM numbered n CROSS JOIN clock LEFT JOIN rec ON rec.c = n.c
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
           CASE WHEN chk.st IN ('ok', 'duplicate') THEN rec.users END
      FROM chk
      CROSS JOIN clock
      LEFT JOIN numbered n ON n.i = chk.i
      LEFT JOIN rec ON rec.c = chk.c
     ORDER BY chk.i;
END
$fn$;
