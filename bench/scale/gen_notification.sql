-- Scale generator, notification database (bench/scale_bench.sh): the inbox entry
-- a recipient gets for each transfer (the same k, users and times as
-- gen_payment.sql), read an hour later except during the last 7 days. Message
-- notifications are not generated (at most one unread per conversation: they do
-- not grow with history). Variables: U, T, T0, c/K.
\if :{?step}
\else
\echo 'gen_notification.sql: -v step=NAME is required'
\quit
\endif
SELECT :'step' = 'inbox_prep' AS is_prep, :'step' = 'inbox' AS is_inbox,
       :'step' = 'inbox_finish' AS is_finish \gset

\if :is_prep
CALL scale_gen.drop_indexes('notifications');
\endif

\if :is_inbox
INSERT INTO notifications (id, user_id, kind, title, body, data, event_id, read_at, created_at)
SELECT scale_gen.uuid7(at + interval '1 second', 5, k), scale_gen.uid(tu), 'payment',
       'Money received', 'User ' || fu || ' sent you ' || (amount / 100.0)::text || ' THB',
       jsonb_build_object('kind', 'payment', 'transfer_id', scale_gen.uuid7(at, 3, k)),
       scale_gen.uuid7(at, 6, k)::text,
       CASE WHEN at < :'T0'::timestamptz + interval '358 days' THEN at + interval '1 hour' END,
       at + interval '1 second'
  FROM generate_series((:T::bigint * :c) / :K, (:T::bigint * (:c + 1)) / :K - 1) AS k,
       LATERAL (SELECT :'T0'::timestamptz + interval '365 days' * ((k + 0.5) / :T) AS at,
                       scale_gen.r(k, 31, :U) AS fu) x,
       LATERAL (SELECT (fu + 1 + scale_gen.r(k, 37, :U - 1)) % :U AS tu,
                       100 + scale_gen.r(k, 41, 49900) AS amount) y
 ORDER BY k;
\endif

\if :is_finish
SET maintenance_work_mem = '1GB';
CALL scale_gen.restore_indexes('notifications');
\endif
