-- Scale generator, auth database (bench/scale_bench.sh): U users as sign-up
-- writes them (phone in E.164, country, locale, display name, username).
\if :{?step}
\else
\echo 'gen_auth.sql: -v step=NAME is required'
\quit
\endif
SELECT :'step' = 'users' AS is_users \gset
\if :is_users
INSERT INTO users (id, phone, country, locale, display_name, username, created_at, updated_at)
SELECT scale_gen.uid(i), '+6681' || lpad(i::text, 7, '0'), 'TH',
       (ARRAY['en', 'th', 'id', 'ms', 'fil', 'vi'])[1 + scale_gen.r(i, 5, 6)],
       'User ' || i, 'user_' || i, :'T0'::timestamptz - interval '2 days',
       :'T0'::timestamptz - interval '2 days'
  FROM generate_series(0, :U - 1) AS i;
\endif
