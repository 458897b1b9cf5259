DROP FUNCTION IF EXISTS payment_settle_idempotency_key(uuid, text, text, text, uuid);
DROP FUNCTION IF EXISTS payment_claim_idempotency_key(uuid, text, text);
DROP FUNCTION IF EXISTS payment_post_transfers(jsonb);
ALTER TYPE payment_transfer_item RENAME ATTRIBUTE snapshot TO response;
ALTER TABLE idempotency_keys RENAME COLUMN snapshot TO response;
ALTER TABLE idempotency_keys ADD COLUMN status_code integer NOT NULL DEFAULT 0;
-- Every stored success was a 201 (transfers, payment requests, top-ups,
-- withdrawals); every stored refusal a 422.
UPDATE idempotency_keys
   SET status_code = CASE WHEN result_code = 'ok' THEN 201 ELSE 422 END
 WHERE result_code <> '';
COMMENT ON COLUMN idempotency_keys.result_code IS NULL;

-- Posts a batch of transfers (a JSON array of payment_transfer_item, ord = 1..n) in
-- one transaction and returns, per item, the result code ('ok' or a domain code),
-- whether it is an idempotent replay and, for replays, the stored success body.
--
-- Set-based: a handful of statements per batch however large it is, the balance
-- logic running in memory between them. Lock order, which keeps batches running
-- concurrently free of deadlocks:
--   1. idempotency keys, claimed in (user, key) order by one INSERT: a duplicate of
--      a key another transaction holds waits here for its answer, holding no
--      account;
--   2. every account of the batch, in id order, by one SELECT ... FOR NO KEY UPDATE;
--   3. the items are decided in submission order, each on its own: one item's
--      insufficient funds or limit does not affect the others;
--   4. balances, entries, postings (in item order, so posting ids follow the
--      running balances), transfers, outbox events and key results are written
--      with one statement each.
CREATE FUNCTION payment_post_transfers(p_items jsonb)
RETURNS TABLE (ord integer, code text, response text, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_items     payment_transfer_item[];
    v_n         integer;
    v_codes     text[];
    v_bodies    text[];
    v_replayed  boolean[];
    v_first     integer[];
    v_claims    text[];     -- "user key" claimed by this batch's INSERT
    v_claimer   integer[];  -- parallel to v_claims: the first item with that key
    v_need      bigint[] := '{}';
    v_ids       bigint[];
    v_kind      text[];
    v_bal       bigint[];
    v_day       date[];
    v_day_total bigint[];
    v_mon       date[];
    v_mon_total bigint[];
    v_touched   boolean[];
    v_from_bal  bigint[];
    v_to_bal    bigint[];
    v_claim     text;
    v_pos       integer;
    v_fi        integer;
    v_ti        integer;
    v_local     timestamp;
    v_d         date;
    v_m         date;
    v_dt        bigint;
    v_mt        bigint;
    it          payment_transfer_item;
    r           record;
    i           integer;
BEGIN
    SELECT array_agg(t ORDER BY t.ord) INTO v_items
      FROM jsonb_populate_recordset(NULL::payment_transfer_item, p_items) AS t;
    v_n := COALESCE(array_length(v_items, 1), 0);
    IF v_n = 0 THEN
        RETURN;
    END IF;
    FOR i IN 1 .. v_n LOOP
        IF v_items[i].ord IS DISTINCT FROM i THEN
            RAISE EXCEPTION 'batch items must have ord 1..n' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    v_codes := array_fill(NULL::text, ARRAY[v_n]);
    v_bodies := array_fill(NULL::text, ARRAY[v_n]);
    v_replayed := array_fill(false, ARRAY[v_n]);
    v_first := array_fill(NULL::integer, ARRAY[v_n]);
    v_from_bal := array_fill(NULL::bigint, ARRAY[v_n]);
    v_to_bal := array_fill(NULL::bigint, ARRAY[v_n]);

    -- 1. Idempotency keys: claim what is free, read what is taken.
    WITH ins AS (
        INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
        SELECT t.from_user, t.idem_key, t.request_hash, t.created_at
          FROM unnest(v_items) AS t
         WHERE t.idem_key IS NOT NULL
         ORDER BY t.from_user, t.idem_key, t.ord
        ON CONFLICT DO NOTHING
        RETURNING user_id::text || ' ' || key AS claim)
    SELECT COALESCE(array_agg(claim), '{}') INTO v_claims FROM ins;
    v_claimer := array_fill(NULL::integer, ARRAY[COALESCE(array_length(v_claims, 1), 0)]);
    FOR i IN 1 .. v_n LOOP
        it := v_items[i];
        CONTINUE WHEN it.idem_key IS NULL;
        v_claim := it.from_user::text || ' ' || it.idem_key;
        v_pos := array_position(v_claims, v_claim);
        IF v_pos IS NULL THEN
            v_codes[i] := '?';  -- held by an earlier transaction: read below
        ELSIF v_claimer[v_pos] IS NULL THEN
            v_claimer[v_pos] := i;
        ELSIF v_items[v_claimer[v_pos]].request_hash IS DISTINCT FROM it.request_hash THEN
            v_codes[i] := 'idempotency_key_reused';
        ELSE
            v_first[i] := v_claimer[v_pos];  -- same request twice in this batch
        END IF;
    END LOOP;
    IF '?' = ANY (v_codes) THEN
        FOR r IN SELECT t.ord AS i, k.request_hash, k.result_code, k.response
                   FROM unnest(v_items) AS t
                   JOIN idempotency_keys k ON k.user_id = t.from_user AND k.key = t.idem_key
                  WHERE v_codes[t.ord] = '?' LOOP
            IF r.request_hash IS DISTINCT FROM v_items[r.i].request_hash THEN
                v_codes[r.i] := 'idempotency_key_reused';
            ELSIF r.result_code = '' THEN
                RAISE EXCEPTION 'idempotency key without a result' USING ERRCODE = 'internal_error';
            ELSE
                v_codes[r.i] := r.result_code;
                v_bodies[r.i] := NULLIF(r.response, '');
                v_replayed[r.i] := true;
            END IF;
        END LOOP;
        IF '?' = ANY (v_codes) THEN
            RAISE EXCEPTION 'idempotency key vanished' USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;

    -- 2. Lock and read the accounts of the items still to decide, in id order.
    FOR i IN 1 .. v_n LOOP
        IF v_codes[i] IS NULL AND v_first[i] IS NULL THEN
            v_need := v_need || v_items[i].from_account || v_items[i].to_account;
        END IF;
    END LOOP;
    SELECT array_agg(a.id ORDER BY a.id), array_agg(a.kind ORDER BY a.id),
           array_agg(a.balance ORDER BY a.id), array_agg(a.out_day ORDER BY a.id),
           array_agg(a.out_day_total ORDER BY a.id), array_agg(a.out_month ORDER BY a.id),
           array_agg(a.out_month_total ORDER BY a.id)
      INTO v_ids, v_kind, v_bal, v_day, v_day_total, v_mon, v_mon_total
      FROM (SELECT id, kind, balance, out_day, out_day_total, out_month, out_month_total
              FROM accounts WHERE id = ANY (v_need) ORDER BY id FOR NO KEY UPDATE) AS a;
    v_touched := array_fill(false, ARRAY[COALESCE(array_length(v_ids, 1), 0)]);

    -- 3. Decide each item in submission order against the running balances.
    FOR i IN 1 .. v_n LOOP
        CONTINUE WHEN v_codes[i] IS NOT NULL OR v_first[i] IS NOT NULL;
        it := v_items[i];
        IF it.amount IS NULL OR it.amount <= 0 OR it.from_account = it.to_account THEN
            RAISE EXCEPTION 'invalid transfer item %', i USING ERRCODE = 'check_violation';
        END IF;
        v_fi := array_position(v_ids, it.from_account);
        v_ti := array_position(v_ids, it.to_account);
        IF v_fi IS NULL OR v_ti IS NULL THEN
            RAISE EXCEPTION 'unknown account in item %', i USING ERRCODE = 'foreign_key_violation';
        END IF;
        v_d := NULL;
        v_m := NULL;
        IF it.daily_limit IS NOT NULL OR it.monthly_limit IS NOT NULL THEN
            v_local := it.created_at AT TIME ZONE 'UTC';
            v_d := v_local::date;
            v_m := date_trunc('month', v_local)::date;
        END IF;
        v_dt := CASE WHEN v_day[v_fi] = v_d THEN v_day_total[v_fi] ELSE 0 END;
        v_mt := CASE WHEN v_mon[v_fi] = v_m THEN v_mon_total[v_fi] ELSE 0 END;
        IF (it.daily_limit IS NOT NULL AND v_dt > it.daily_limit - it.amount)
           OR (it.monthly_limit IS NOT NULL AND v_mt > it.monthly_limit - it.amount) THEN
            v_codes[i] := 'limit_exceeded';
        ELSIF v_kind[v_fi] <> 'clearing' AND v_bal[v_fi] < it.amount THEN
            v_codes[i] := 'insufficient_funds';
        ELSIF v_bal[v_ti] > 9223372036854775807 - it.amount
              OR v_bal[v_fi] < (-9223372036854775807 - 1) + it.amount THEN
            v_codes[i] := 'amount_overflow';
        ELSE
            v_codes[i] := 'ok';
            v_bal[v_fi] := v_bal[v_fi] - it.amount;
            v_bal[v_ti] := v_bal[v_ti] + it.amount;
            IF v_d IS NOT NULL THEN
                v_day[v_fi] := v_d;
                v_day_total[v_fi] := v_dt + it.amount;
                v_mon[v_fi] := v_m;
                v_mon_total[v_fi] := v_mt + it.amount;
            END IF;
            v_touched[v_fi] := true;
            v_touched[v_ti] := true;
            v_from_bal[i] := v_bal[v_fi];
            v_to_bal[i] := v_bal[v_ti];
            v_bodies[i] := it.response;
        END IF;
    END LOOP;

    -- 4. Write what was decided, in one statement: balances, entries, postings (in
    --    item order, so posting ids follow the running balances), transfers, outbox
    --    events and the idempotency keys' answers. Foreign keys are checked at its
    --    end, when parents and children are all in place.
    WITH items AS (
        SELECT t.*, v_codes[t.ord] = 'ok' AND v_first[t.ord] IS NULL
                    AND NOT v_replayed[t.ord] AS applied
          FROM unnest(v_items) AS t
    ), balances AS (
        UPDATE accounts AS a
           SET balance = u.balance, out_day = u.out_day, out_day_total = u.day_total,
               out_month = u.out_month, out_month_total = u.month_total, updated_at = now()
          FROM unnest(v_ids, v_bal, v_day, v_day_total, v_mon, v_mon_total, v_touched)
               AS u (id, balance, out_day, day_total, out_month, month_total, touched)
         WHERE a.id = u.id AND u.touched
    ), entries AS (
        INSERT INTO journal_entries (id, kind, reference_id, created_at)
        SELECT t.entry_id, t.kind, t.transfer_id, t.created_at FROM items AS t
         WHERE t.applied ORDER BY t.ord
    ), legs AS (
        INSERT INTO postings (entry_id, account_id, currency, amount, balance_after,
                              counterparty_user_id, created_at)
        SELECT t.entry_id, l.account_id, t.currency, l.amount, l.balance_after, l.counterparty,
               t.created_at
          FROM items AS t
         CROSS JOIN LATERAL (VALUES (1, t.from_account, -t.amount, v_from_bal[t.ord], t.to_user),
                                    (2, t.to_account, t.amount, v_to_bal[t.ord], t.from_user))
               AS l (leg, account_id, amount, balance_after, counterparty)
         WHERE t.applied ORDER BY t.ord, l.leg
    ), moved AS (
        INSERT INTO transfers (id, kind, from_user_id, to_user_id, from_account_id, to_account_id,
                               amount, currency, note, conversation_id, status, refund_of,
                               payment_request_id, entry_id, idempotency_key, created_at)
        SELECT t.transfer_id, t.kind, t.from_user, t.to_user, t.from_account, t.to_account,
               t.amount, t.currency, t.note, t.conversation_id, 'completed', t.refund_of,
               t.payment_request_id, t.entry_id, t.idem_key, t.created_at
          FROM items AS t WHERE t.applied ORDER BY t.ord
    ), events AS (
        INSERT INTO outbox (id, stream, type, payload, created_at)
        SELECT t.event_id, 'tchat.events.payment', 'payment.transfer.completed', t.event::jsonb,
               t.created_at
          FROM items AS t WHERE t.applied AND t.event IS NOT NULL ORDER BY t.ord
    )
    UPDATE idempotency_keys AS k
       SET status_code = CASE WHEN v_codes[t.ord] = 'ok' THEN 201 ELSE 422 END,
           result_code = v_codes[t.ord],
           response = COALESCE(v_bodies[t.ord], ''),
           resource_id = CASE WHEN v_codes[t.ord] = 'ok' THEN t.transfer_id END
      FROM items AS t
     WHERE k.user_id = t.from_user AND k.key = t.idem_key
       AND v_first[t.ord] IS NULL AND NOT v_replayed[t.ord]
       AND v_codes[t.ord] <> 'idempotency_key_reused';

    FOR i IN 1 .. v_n LOOP
        IF v_first[i] IS NOT NULL THEN
            v_codes[i] := v_codes[v_first[i]];
            v_bodies[i] := v_bodies[v_first[i]];
            v_replayed[i] := true;
        END IF;
    END LOOP;
    -- The caller has the body of what it just posted: only replays carry one back.
    RETURN QUERY SELECT g, v_codes[g], CASE WHEN v_replayed[g] THEN v_bodies[g] END, v_replayed[g]
                   FROM generate_series(1, v_n) AS g;
END $$;
