-- Scale generator, messaging database (bench/scale_bench.sh). One step per
-- \if block, chosen with -v step=NAME; each step runs in one transaction (psql -1)
-- and the script records it as done, so a rerun resumes at the first step not done.
-- Variables: U users, C conversations, G groups of which B have 1,000 members,
-- H heavy users (2,000 conversations each), M messages, T0 (start of the year of
-- history), X0 (the transaction id the year starts at: one id per 30 s; see
-- scale_bench.sh), c/K (message chunk c of K: the messages of the c-th K-th of the year,
-- inserted in time order so that the table's pages hold what a year of sending puts there).
--
-- Layout (the load client relies on it): user i = scale_gen.uid(i), i in [0, U);
-- conversation j = scale_gen.cid(j):
--   [0, Dn)            direct {a, a + 1 + 7k} with a = j mod U, k = j div U
--                      (j < 5: "hot", 10,000 messages each over the year);
--   [Dn, Dn + G)       groups: the first B of min(1000, U) members, the rest 3..50;
--   [Dn + G, C)        the heavy users' (h in [0, H)) 1,990 more each: directs with
--                      offsets 100.. (below U/2, so no pair repeats), then groups of 3.

\if :{?step}
\else
\echo 'gen_messaging.sql: -v step=NAME is required'
\quit
\endif

SELECT :'step' = 'plan' AS is_plan, :'step' = 'conversations' AS is_conversations,
       :'step' = 'members' AS is_members, :'step' = 'messages_prep' AS is_prep,
       :'step' = 'messages' AS is_messages, :'step' = 'messages_finish' AS is_finish \gset

\if :is_plan
DROP TABLE IF EXISTS scale_gen.plan;
CREATE UNLOGGED TABLE scale_gen.plan (
    j      bigint  PRIMARY KEY,
    cid    uuid    NOT NULL,
    type   text    NOT NULL,
    users  int[]   NOT NULL,
    uids   uuid[]  NOT NULL,
    n      int     NOT NULL,
    phase  float8  NOT NULL
);
WITH k AS (
    SELECT :U::bigint AS u, :C::bigint AS c, :G::bigint AS g, :B::bigint AS b, :H::bigint AS h,
           :M::bigint AS m, (:C::bigint - :G::bigint - :H::bigint * 1990) AS dn
), mean AS (
    SELECT greatest(1.0, (k.m - 5 * 10000)::float8 / (k.c - 5)) AS avg FROM k
), conv AS (
    SELECT j, 'direct' AS type,
           ARRAY[(j % k.u)::int, ((j % k.u + 1 + 7 * (j / k.u)) % k.u)::int] AS users
      FROM k, generate_series(0, k.dn - 1) AS j
    UNION ALL
    SELECT j, 'group',
           ARRAY(SELECT ((((j - k.dn) * 7919) + i) % k.u)::int
                   FROM generate_series(0, CASE WHEN j - k.dn < k.b THEN least(1000, k.u)
                                                ELSE 3 + scale_gen.r(j, 11, 48) END - 1) AS i)
      FROM k, generate_series(k.dn, k.dn + k.g - 1) AS j
    UNION ALL
    SELECT j, CASE WHEN e % 1990 < least(1000, k.u / 2 - 101) THEN 'direct' ELSE 'group' END,
           CASE WHEN e % 1990 < least(1000, k.u / 2 - 101)
                THEN ARRAY[(e / 1990)::int, ((e / 1990 + 100 + e % 1990) % k.u)::int]
                ELSE ARRAY[(e / 1990)::int, ((e / 1990 + 1 + (e % 1990) % (k.u - 3)) % k.u)::int,
                           ((e / 1990 + 2 + (e % 1990) % (k.u - 3)) % k.u)::int] END
      FROM k, generate_series(k.dn + k.g, k.c - 1) AS j, LATERAL (SELECT j - k.dn - k.g AS e) x
)
INSERT INTO scale_gen.plan (j, cid, type, users, uids, n, phase)
SELECT conv.j, scale_gen.cid(conv.j), conv.type, conv.users,
       ARRAY(SELECT scale_gen.uid(x) FROM unnest(conv.users) AS x),
       CASE WHEN conv.j < 5 THEN 10000
            ELSE greatest(1, round(-ln(1.0 - scale_gen.u(conv.j, 3)) * mean.avg))::int END,
       scale_gen.u(conv.j, 7)
  FROM conv, mean;
\endif

\if :is_conversations
-- Message s of conversation j is written at T0 + 365 days * (s - 1 + phase) / n, and
-- its change_xid is X0 + (seconds since T0) / 30.
INSERT INTO conversations (id, type, title, direct_key, created_by, last_seq, change_xid,
                           created_at, updated_at)
SELECT scale_gen.cid(p.j), p.type,
       CASE WHEN p.type = 'group' THEN 'Group ' || p.j END,
       CASE WHEN p.type = 'direct' THEN
           scale_gen.uid(least(p.users[1], p.users[2]))::text || ':' ||
           scale_gen.uid(greatest(p.users[1], p.users[2]))::text END,
       scale_gen.uid(p.users[1]), p.n,
       (:X0::bigint + floor(extract(epoch FROM t.last - :'T0'::timestamptz) / 30))::text::xid8,
       t.first - interval '1 minute', t.last
  FROM scale_gen.plan p,
       LATERAL (SELECT :'T0'::timestamptz + interval '365 days' * (p.phase / p.n) AS first,
                       :'T0'::timestamptz + interval '365 days' * ((p.n - 1 + p.phase) / p.n) AS last) t;
\endif

\if :is_members
-- Half of the memberships have read everything; the others have 1..6 unread.
INSERT INTO members (conversation_id, user_id, role, last_read_seq, joined_at)
SELECT scale_gen.cid(p.j), scale_gen.uid(m.u),
       CASE WHEN p.type = 'group' AND m.o = 1 THEN 'owner' ELSE 'member' END,
       greatest(0, p.n - CASE WHEN scale_gen.r(p.j * 7 + m.o, 13, 2) = 0 THEN 0
                              ELSE scale_gen.r(p.j * 7 + m.o, 17, 7) END),
       :'T0'::timestamptz + interval '365 days' * (p.phase / p.n) - interval '1 minute'
  FROM scale_gen.plan p, unnest(p.users) WITH ORDINALITY AS m(u, o);
\endif

\if :is_prep
CALL scale_gen.drop_indexes('messages');
ALTER TABLE messages DISABLE TRIGGER USER;  -- media triggers: no attachments here
\endif

\if :is_messages
SET LOCAL work_mem = '256MB';
INSERT INTO messages (conversation_id, seq, id, sender_id, type, body, client_msg_id,
                      created_at, change_xid)
SELECT p.cid, s,
       gen_random_uuid(),  -- (the service's are UUIDv7; no index or order depends on them)
       p.uids[1 + scale_gen.r(p.j * 65536 + s, 19, cardinality(p.uids))],
       'text',
       (ARRAY['ok see you there', 'haha yes', 'Can you send me the file from yesterday?',
              'I will be 10 minutes late, sorry!', 'thanks :)', 'where are we meeting tonight?',
              'Did you see the news about the new train line to the airport?',
              'sure', 'Happy birthday!! Have a great day', 'lunch at 12?',
              'I paid for the tickets, you can send me your half later',
              'on my way', 'no problem', 'Let me check and get back to you this afternoon',
              'good night', 'What time does the shop close on Sundays?'])[1 + scale_gen.r(p.j * 65536 + s, 23, 16)],
       'c-' || p.j || '-' || s,
       t.at,
       (:X0::bigint + floor(extract(epoch FROM t.at - :'T0'::timestamptz) / 30))::text::xid8
  FROM scale_gen.plan p
 -- The seqs written in chunk c's part of the year: (s - 1 + phase) / n in [c/K, (c+1)/K).
 CROSS JOIN LATERAL generate_series(
       greatest(1, ceil((p.n::bigint * :c)::float8 / :K - p.phase + 1)::int),
       least(p.n, ceil((p.n::bigint * (:c + 1))::float8 / :K - p.phase + 1)::int - 1)) AS s
 CROSS JOIN LATERAL (SELECT :'T0'::timestamptz + interval '365 days' * ((s - 1 + p.phase) / p.n) AS at) t
 ORDER BY t.at;  -- appended in time order, as the service appends them
\endif

\if :is_finish
SET maintenance_work_mem = '1GB';
CALL scale_gen.restore_indexes('messages');
ALTER TABLE messages ENABLE TRIGGER USER;
\endif
