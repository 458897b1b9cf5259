-- Scale generator, payment database (bench/scale_bench.sh): the rows the service
-- writes for a top-up and for a transfer (payment_post_entry: one journal entry,
-- two postings with the running balance, the cached account balance), so that
-- GET /v1/admin/ledger/verify passes afterwards. One step per -v step=NAME, each
-- in one transaction. Variables: U users, T transfers over the year from T0,
-- c/K (transfer chunk c of K).
--
-- Every user has one THB wallet, account 1000 + i, funded by one top-up of
-- 1,000,000.00 THB a day before T0 (from the first THB clearing account). Transfer k
-- (k in [0, T)) is at T0 + 365 days * (k + 0.5) / T from user r(k,31) to another,
-- 1.00..500.00 THB: about 50 out and 50 in per user, far below the top-up, so no
-- wallet goes below zero. Postings ids: the top-ups' 1..2U, then transfer k's
-- 2U + 2k + 1 (debit) and 2U + 2k + 2 (credit): ascending with time.

\if :{?step}
\else
\echo 'gen_payment.sql: -v step=NAME is required'
\quit
\endif

SELECT :'step' = 'accounts' AS is_accounts, :'step' = 'topups' AS is_topups,
       :'step' = 'transfers_prep' AS is_prep, :'step' = 'transfers' AS is_transfers,
       :'step' = 'transfers_finish' AS is_finish \gset

\if :is_accounts
INSERT INTO accounts (id, kind, user_id, currency, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT 1000 + i, 'user', scale_gen.uid(i), 'THB', :'T0'::timestamptz - interval '2 days',
       :'T0'::timestamptz - interval '2 days'
  FROM generate_series(0, :U - 1) AS i;
SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts));
DROP TABLE IF EXISTS scale_gen.bal;
CREATE UNLOGGED TABLE scale_gen.bal (acct bigint PRIMARY KEY, bal bigint NOT NULL);
INSERT INTO scale_gen.bal SELECT id, 0 FROM accounts
 WHERE kind = 'user' OR id = (SELECT min(id) FROM accounts WHERE kind = 'clearing' AND currency = 'THB');
\endif

\if :is_topups
SELECT min(id) AS clearing FROM accounts WHERE kind = 'clearing' AND currency = 'THB' \gset
INSERT INTO journal_entries (id, kind, reference_id, created_at)
SELECT scale_gen.uuid7(at, 1, i), 'topup', scale_gen.uuid7(at, 4, i), at
  FROM generate_series(0, :U - 1) AS i, LATERAL (SELECT :'T0'::timestamptz - interval '1 day' AS at) t;
INSERT INTO topups (id, user_id, account_id, amount, currency, method, status, provider_reference,
                    entry_id, created_at, updated_at)
SELECT scale_gen.uuid7(at, 4, i), scale_gen.uid(i), 1000 + i, 100000000, 'THB', 'card', 'succeeded',
       'psp-scale-' || i, scale_gen.uuid7(at, 1, i), at, at
  FROM generate_series(0, :U - 1) AS i, LATERAL (SELECT :'T0'::timestamptz - interval '1 day' AS at) t;
INSERT INTO postings (id, entry_id, account_id, currency, amount, balance_after,
                      counterparty_user_id, created_at)
OVERRIDING SYSTEM VALUE
SELECT 2 * i + 1, scale_gen.uuid7(at, 1, i), :clearing, 'THB', -100000000, -100000000::bigint * (i + 1), NULL::uuid, at
  FROM generate_series(0, :U - 1) AS i, LATERAL (SELECT :'T0'::timestamptz - interval '1 day' AS at) t
UNION ALL
SELECT 2 * i + 2, scale_gen.uuid7(at, 1, i), 1000 + i, 'THB', 100000000, 100000000, NULL::uuid, at
  FROM generate_series(0, :U - 1) AS i, LATERAL (SELECT :'T0'::timestamptz - interval '1 day' AS at) t
 ORDER BY 1;
UPDATE scale_gen.bal SET bal = CASE WHEN acct = :clearing THEN -100000000 * :U::bigint ELSE 100000000 END;
\endif

\if :is_prep
-- Only postings' indexes go (nothing references them); journal_entries and
-- transfers keep theirs (UUIDv7 keys: appends at the right edge). The foreign-key
-- and balance triggers are off for the load; the ledger verification checks
-- the same properties over every row afterwards.
CALL scale_gen.drop_indexes('postings');
ALTER TABLE postings DISABLE TRIGGER ALL;
ALTER TABLE transfers DISABLE TRIGGER ALL;
\endif

\if :is_transfers
SET LOCAL work_mem = '256MB';
CREATE TEMP TABLE chunk ON COMMIT DROP AS
SELECT k, at, fu, (fu + 1 + scale_gen.r(k, 37, :U - 1)) % :U AS tu,
       100 + scale_gen.r(k, 41, 49900) AS amount
  FROM generate_series((:T::bigint * :c) / :K, (:T::bigint * (:c + 1)) / :K - 1) AS k,
       LATERAL (SELECT :'T0'::timestamptz + interval '365 days' * ((k + 0.5) / :T) AS at,
                       scale_gen.r(k, 31, :U) AS fu) x;
INSERT INTO journal_entries (id, kind, reference_id, created_at)
SELECT scale_gen.uuid7(at, 1, :U + k), 'transfer', scale_gen.uuid7(at, 3, k), at FROM chunk ORDER BY k;
INSERT INTO transfers (id, kind, from_user_id, to_user_id, from_account_id, to_account_id, amount,
                       currency, note, status, entry_id, idempotency_key, created_at)
SELECT scale_gen.uuid7(at, 3, k), 'transfer', scale_gen.uid(fu), scale_gen.uid(tu), 1000 + fu,
       1000 + tu, amount, 'THB', CASE WHEN k % 3 = 0 THEN 'dinner' END, 'completed',
       scale_gen.uuid7(at, 1, :U + k), 'scale-' || k, at
  FROM chunk ORDER BY k;
CREATE TEMP TABLE legs ON COMMIT DROP AS
SELECT 2 * :U::bigint + 2 * k + 1 AS id, k, 1000 + fu AS acct, -amount AS amount, tu AS cp, at FROM chunk
UNION ALL
SELECT 2 * :U::bigint + 2 * k + 2, k, 1000 + tu, amount, fu, at FROM chunk;
INSERT INTO postings (id, entry_id, account_id, currency, amount, balance_after,
                      counterparty_user_id, created_at)
OVERRIDING SYSTEM VALUE
SELECT l.id, scale_gen.uuid7(l.at, 1, :U + l.k), l.acct, 'THB', l.amount,
       b.bal + sum(l.amount) OVER (PARTITION BY l.acct ORDER BY l.id),
       scale_gen.uid(l.cp), l.at
  FROM legs l JOIN scale_gen.bal b ON b.acct = l.acct
 ORDER BY l.id;
UPDATE scale_gen.bal b SET bal = b.bal + d.s
  FROM (SELECT acct, sum(amount) AS s FROM legs GROUP BY acct) d WHERE d.acct = b.acct;
\endif

\if :is_finish
SET maintenance_work_mem = '1GB';
CALL scale_gen.restore_indexes('postings');
ALTER TABLE postings ENABLE TRIGGER ALL;
ALTER TABLE transfers ENABLE TRIGGER ALL;
SELECT setval(pg_get_serial_sequence('postings', 'id'), (SELECT max(id) FROM postings));
UPDATE accounts a SET balance = b.bal, updated_at = :'T0'::timestamptz + interval '365 days'
  FROM scale_gen.bal b WHERE a.id = b.acct;
\endif
