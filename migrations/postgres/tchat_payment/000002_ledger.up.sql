-- Payment ledger (docs/api/openapi.yaml, payment): wallets and system accounts, an append-only double-entry
-- journal, transfers, payment requests, top-ups, withdrawals, idempotency keys and
-- processed provider events.
--
-- Money is a bigint in the currency's ISO 4217 minor units, never a float. The
-- invariants are enforced here as well as in the code:
--   * a journal entry's postings sum to zero per currency: every INSERT into postings
--     must balance per (entry, currency) (statement trigger), so by induction every
--     entry does;
--   * journal entries and postings are immutable (UPDATE/DELETE/TRUNCATE refused);
--   * only a provider clearing account may be negative (CHECK on accounts);
--   * a posting's currency is its account's currency (composite foreign key).
-- The cached balance of an account is updated in the same transaction as its
-- postings; GET /v1/admin/ledger/verify recomputes everything from the postings.

CREATE TABLE currencies (
    code        text     PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    minor_units smallint NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
);
INSERT INTO currencies (code, minor_units) VALUES
    ('THB', 2), ('SGD', 2), ('IDR', 2), ('MYR', 2), ('PHP', 2), ('VND', 0), ('USD', 2);

-- One wallet per user per currency (kind 'user', created on first use) and, per
-- currency, the system accounts: 'clearing' (the payment provider, i.e. the outside
-- world: money enters through it, so it goes negative), 'withdrawal_pending' (funds
-- held for withdrawals in flight) and 'fees'. The two busy system accounts are split
-- into 8 shards per currency (a top-up or withdrawal picks one), so that provider
-- traffic does not queue on one row lock. out_day/out_month track a wallet's
-- outgoing transfers for the daily and monthly limits (UTC periods).
CREATE TABLE accounts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL
                    CHECK (kind IN ('user', 'clearing', 'withdrawal_pending', 'fees')),
    user_id         uuid        NULL,
    currency        text        NOT NULL REFERENCES currencies (code),
    shard           smallint    NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 63),
    balance         bigint      NOT NULL DEFAULT 0,
    out_day         date        NULL,
    out_day_total   bigint      NOT NULL DEFAULT 0 CHECK (out_day_total >= 0),
    out_month       date        NULL,
    out_month_total bigint      NOT NULL DEFAULT 0 CHECK (out_month_total >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_owner CHECK ((kind = 'user') = (user_id IS NOT NULL)),
    CONSTRAINT accounts_balance_non_negative CHECK (kind = 'clearing' OR balance >= 0),
    CONSTRAINT accounts_id_currency UNIQUE (id, currency),
    CONSTRAINT accounts_user_unsharded CHECK (kind <> 'user' OR shard = 0),
    CONSTRAINT accounts_owner_currency UNIQUE NULLS NOT DISTINCT (kind, user_id, currency, shard)
) WITH (fillfactor = 70);  -- room for HOT updates of hot balances

-- System accounts get the lowest ids: they come first in the lock order.
INSERT INTO accounts (kind, currency, shard)
SELECT k.kind, c.code, s.shard
FROM (VALUES (1, 'clearing', 8), (2, 'withdrawal_pending', 8), (3, 'fees', 1))
     AS k (ord, kind, shards)
CROSS JOIN currencies c
CROSS JOIN LATERAL generate_series(0, k.shards - 1) AS s (shard)
ORDER BY k.ord, c.code, s.shard;

CREATE TABLE journal_entries (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('transfer', 'refund', 'request_payment',
                                 'topup', 'withdrawal', 'withdrawal_release',
                                 'withdrawal_settlement')),
    reference_id uuid        NOT NULL,  -- transfer, top-up or withdrawal id
    created_at   timestamptz NOT NULL
);

CREATE TABLE postings (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id             uuid        NOT NULL REFERENCES journal_entries (id),
    account_id           bigint      NOT NULL,
    currency             text        NOT NULL,
    amount               bigint      NOT NULL CHECK (amount <> 0),
    balance_after        bigint      NOT NULL,
    counterparty_user_id uuid        NULL,
    created_at           timestamptz NOT NULL,
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
-- History by account, newest first (the cursor is the posting id).
CREATE INDEX postings_account_idx ON postings (account_id, id);

CREATE FUNCTION payment_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_postings GROUP BY entry_id, currency
               HAVING sum(amount) <> 0) THEN
        RAISE EXCEPTION 'unbalanced journal entry' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER postings_balanced AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION payment_postings_balanced();

CREATE FUNCTION payment_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: corrections are new entries', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION payment_append_only();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION payment_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION payment_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION payment_append_only();

-- Transfers between users: plain transfers, refunds (refund_of) and payments of
-- payment requests. The money moved is the journal entry; this row is what clients
-- see. status goes from 'completed' to 'refunded' at most once.
CREATE TABLE transfers (
    id                 uuid        PRIMARY KEY,
    kind               text        NOT NULL CHECK (kind IN ('transfer', 'refund', 'request_payment')),
    from_user_id       uuid        NOT NULL,
    to_user_id         uuid        NOT NULL,
    from_account_id    bigint      NOT NULL,
    to_account_id      bigint      NOT NULL,
    amount             bigint      NOT NULL CHECK (amount > 0),
    currency           text        NOT NULL,
    note               text        NULL,
    conversation_id    uuid        NULL,
    status             text        NOT NULL CHECK (status IN ('completed', 'refunded')),
    refund_of          uuid        NULL REFERENCES transfers (id),
    refunded_by        uuid        NULL,
    payment_request_id uuid        NULL,
    entry_id           uuid        NOT NULL REFERENCES journal_entries (id),
    idempotency_key    text        NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT transfers_distinct_parties CHECK (from_user_id <> to_user_id)
);
-- At most one refund per transfer, one payment per request, one transfer per key.
CREATE UNIQUE INDEX transfers_refund_of_key ON transfers (refund_of) WHERE refund_of IS NOT NULL;
CREATE UNIQUE INDEX transfers_payment_request_key ON transfers (payment_request_id)
    WHERE payment_request_id IS NOT NULL;
CREATE UNIQUE INDEX transfers_idempotency_key ON transfers (from_user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Idempotency-Key records (docs/api/openapi.yaml, payment), per user. The row is inserted first in the
-- transaction that performs the request, so a concurrent duplicate waits on it and
-- then reads the stored answer. Kept at least 24 hours (pruned by created_at).
CREATE TABLE idempotency_keys (
    user_id      uuid        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL DEFAULT 0,
    result_code  text        NOT NULL DEFAULT '',  -- 'ok' or the domain error code
    response     text        NOT NULL DEFAULT '',  -- the success body
    resource_id  uuid        NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
) WITH (fillfactor = 80);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys USING brin (created_at);

-- Payment requests: to_user_id asks from_user_id to pay.
CREATE TABLE payment_requests (
    id              uuid        PRIMARY KEY,
    from_user_id    uuid        NOT NULL,
    to_user_id      uuid        NOT NULL,
    amount          bigint      NOT NULL CHECK (amount > 0),
    currency        text        NOT NULL REFERENCES currencies (code),
    note            text        NULL,
    conversation_id uuid        NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'paid', 'declined', 'cancelled')),
    transfer_id     uuid        NULL REFERENCES transfers (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT payment_requests_distinct_parties CHECK (from_user_id <> to_user_id),
    CONSTRAINT payment_requests_paid CHECK ((status = 'paid') = (transfer_id IS NOT NULL))
);
CREATE INDEX payment_requests_from_idx ON payment_requests (from_user_id, created_at);
CREATE INDEX payment_requests_to_idx ON payment_requests (to_user_id, created_at);

-- Top-ups and withdrawals through the payment provider (webhook-driven).
CREATE TABLE topups (
    id                 uuid        PRIMARY KEY,
    user_id            uuid        NOT NULL,
    account_id         bigint      NOT NULL REFERENCES accounts (id),
    amount             bigint      NOT NULL CHECK (amount > 0),
    currency           text        NOT NULL REFERENCES currencies (code),
    method             text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_reference text        NOT NULL UNIQUE,
    entry_id           uuid        NULL REFERENCES journal_entries (id),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX topups_user_idx ON topups (user_id, created_at);

CREATE TABLE withdrawals (
    id                 uuid        PRIMARY KEY,
    user_id            uuid        NOT NULL,
    account_id         bigint      NOT NULL REFERENCES accounts (id),
    amount             bigint      NOT NULL CHECK (amount > 0),
    currency           text        NOT NULL REFERENCES currencies (code),
    destination        text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_reference text        NOT NULL UNIQUE,
    pending_account_id bigint      NOT NULL REFERENCES accounts (id),  -- the shard holding it
    hold_entry_id      uuid        NOT NULL REFERENCES journal_entries (id),
    final_entry_id     uuid        NULL REFERENCES journal_entries (id),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX withdrawals_user_idx ON withdrawals (user_id, created_at);

-- Provider webhook events already applied: a replayed event id changes nothing.
CREATE TABLE psp_events (
    id          text        PRIMARY KEY,
    type        text        NOT NULL,
    reference   text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- One transfer as the service hands it to the database. The JSON built by the
-- service is read into this type; the field names are the JSON keys.
CREATE TYPE payment_transfer_item AS (
    ord                integer, -- 1-based position in its batch
    transfer_id        uuid,
    entry_id           uuid,
    kind               text,
    from_user          uuid,
    to_user            uuid,
    from_account       bigint,
    to_account         bigint,
    amount             bigint,
    currency           text,
    note               text,
    conversation_id    uuid,
    idem_key           text,
    request_hash       text,
    refund_of          uuid,
    payment_request_id uuid,
    created_at         timestamptz,
    daily_limit        bigint,  -- NULL: no limits (refunds)
    monthly_limit      bigint,
    response           text,    -- the 201 body, stored for idempotent replays
    event_id           uuid,
    event              text     -- the outbox envelope of payment.transfer.completed
);

-- Moves p_amount from p_from to p_to as one journal entry with two postings and
-- returns 'ok', 'insufficient_funds', 'limit_exceeded' or 'amount_overflow' (nothing
-- is written unless 'ok'). With p_lock the two accounts are locked in id order
-- first; otherwise the caller already holds both locks. p_day/p_month with the
-- limits count the amount against p_from's outgoing totals (NULL: not counted).
CREATE FUNCTION payment_post_entry(
    p_entry_id uuid, p_kind text, p_reference uuid,
    p_from bigint, p_to bigint, p_amount bigint, p_currency text,
    p_from_counterparty uuid, p_to_counterparty uuid, p_at timestamptz, p_lock boolean,
    p_day date DEFAULT NULL, p_month date DEFAULT NULL,
    p_daily_limit bigint DEFAULT NULL, p_monthly_limit bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_from_kind  text;
    v_from_bal   bigint;
    v_day_total  bigint;
    v_mon_total  bigint;
    v_to_bal     bigint;
    v_from_after bigint;
    v_to_after   bigint;
BEGIN
    IF p_amount <= 0 OR p_from = p_to THEN
        RAISE EXCEPTION 'invalid entry' USING ERRCODE = 'check_violation';
    END IF;
    IF p_lock THEN
        PERFORM 1 FROM accounts WHERE id IN (p_from, p_to) ORDER BY id FOR NO KEY UPDATE;
    END IF;
    SELECT kind, balance,
           CASE WHEN out_day = p_day THEN out_day_total ELSE 0 END,
           CASE WHEN out_month = p_month THEN out_month_total ELSE 0 END
      INTO v_from_kind, v_from_bal, v_day_total, v_mon_total
      FROM accounts WHERE id = p_from;
    SELECT balance INTO v_to_bal FROM accounts WHERE id = p_to;
    IF v_from_kind IS NULL OR v_to_bal IS NULL THEN
        RAISE EXCEPTION 'unknown account' USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF p_daily_limit IS NOT NULL AND v_day_total > p_daily_limit - p_amount THEN
        RETURN 'limit_exceeded';
    END IF;
    IF p_monthly_limit IS NOT NULL AND v_mon_total > p_monthly_limit - p_amount THEN
        RETURN 'limit_exceeded';
    END IF;
    IF v_from_kind <> 'clearing' AND v_from_bal < p_amount THEN
        RETURN 'insufficient_funds';
    END IF;
    -- Overflow checks without overflowing: bigint arithmetic would raise.
    IF v_to_bal > 9223372036854775807 - p_amount
       OR v_from_bal < (-9223372036854775807 - 1) + p_amount THEN
        RETURN 'amount_overflow';
    END IF;

    UPDATE accounts SET
        balance = balance - p_amount,
        out_day = COALESCE(p_day, out_day),
        out_day_total = CASE WHEN p_day IS NULL THEN out_day_total
                             ELSE v_day_total + p_amount END,
        out_month = COALESCE(p_month, out_month),
        out_month_total = CASE WHEN p_month IS NULL THEN out_month_total
                               ELSE v_mon_total + p_amount END,
        updated_at = p_at
    WHERE id = p_from
    RETURNING balance INTO v_from_after;
    UPDATE accounts SET balance = balance + p_amount, updated_at = p_at
    WHERE id = p_to
    RETURNING balance INTO v_to_after;

    INSERT INTO journal_entries (id, kind, reference_id, created_at)
    VALUES (p_entry_id, p_kind, p_reference, p_at);
    INSERT INTO postings (entry_id, account_id, currency, amount, balance_after,
                          counterparty_user_id, created_at)
    VALUES (p_entry_id, p_from, p_currency, -p_amount, v_from_after, p_from_counterparty, p_at),
           (p_entry_id, p_to, p_currency, p_amount, v_to_after, p_to_counterparty, p_at);
    RETURN 'ok';
END $$;

-- Applies one transfer item: the entry (with the sender's limits when given), the
-- transfer row and its payment.transfer.completed outbox event. Returns the code of
-- payment_post_entry. See payment_post_entry for p_lock.
CREATE FUNCTION payment_apply_transfer(it payment_transfer_item, p_lock boolean)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_code  text;
    v_local timestamp := it.created_at AT TIME ZONE 'UTC';
    v_day   date := NULL;
    v_month date := NULL;
BEGIN
    IF it.daily_limit IS NOT NULL OR it.monthly_limit IS NOT NULL THEN
        v_day := v_local::date;
        v_month := date_trunc('month', v_local)::date;
    END IF;
    v_code := payment_post_entry(it.entry_id, it.kind, it.transfer_id, it.from_account,
                                 it.to_account, it.amount, it.currency, it.to_user,
                                 it.from_user, it.created_at, p_lock, v_day, v_month,
                                 it.daily_limit, it.monthly_limit);
    IF v_code <> 'ok' THEN
        RETURN v_code;
    END IF;
    INSERT INTO transfers (id, kind, from_user_id, to_user_id, from_account_id, to_account_id,
                           amount, currency, note, conversation_id, status, refund_of,
                           payment_request_id, entry_id, idempotency_key, created_at)
    VALUES (it.transfer_id, it.kind, it.from_user, it.to_user, it.from_account, it.to_account,
            it.amount, it.currency, it.note, it.conversation_id, 'completed', it.refund_of,
            it.payment_request_id, it.entry_id, it.idem_key, it.created_at);
    IF it.event IS NOT NULL THEN
        INSERT INTO outbox (id, stream, type, payload, created_at)
        VALUES (it.event_id, 'tchat.events.payment', 'payment.transfer.completed',
                it.event::jsonb, it.created_at);
    END IF;
    RETURN 'ok';
END $$;

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
