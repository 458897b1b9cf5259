#!/usr/bin/env bash
# Benchmark of message search (issue 19), all figures from one run against a
# private PostgreSQL 15 (fsync and synchronous_commit on):
#
#   0. fills --messages messages of generated text in Thai (no spaces), Vietnamese,
#      Indonesian, Malay, Filipino and English (3 to 14 words, some amounts such
#      as "1,250 บาท") across messages/50 conversations; one user is a member of
#      200 of them. The words are indexed by tchat-search-reindex (its rate is a
#      figure too; the terms it writes hold the conversation key, migration 000010).
#   1. persisted send throughput: msg_send_batch of 32 messages per call without
#      search terms (and without the GIN index), with them (000013: the terms and
#      the conversation key in messages.search_terms, one GIN index, the new terms
#      into search_vocab), with 000010's msg_send_batch (every term into
#      search_vocab ON CONFLICT DO NOTHING) and in 000006's design (the terms
#      only, and its msg_send_batch); where the cost goes: the terms without the
#      GIN index, and 000013 without its search_vocab insert. --rounds rounds,
#      --clients clients. Target: at most 15 % lower with terms.
#   2. search latency p50/p99 at --clients concurrent searchers for that user, SQL
#      as the service runs it (services/messaging/src/search_store.cpp), for a rare
#      word, a common word, a common word + a prefix, a Thai word and an amount:
#      the plan the service chooses (SearchPlan: "words", the GIN index for the
#      words alone, when the statistics estimate the rarest term in at most 500
#      messages; "keys", one GIN scan for the terms and the caller's conversation
#      keys, otherwise), and the keys plan for every query; anchors in the same
#      run: 000006's design (GIN over search_terms: the index first up to 2000
#      matches, else the caller's conversations; the keys are in search_terms here
#      too, which changes none of its results), and PostgreSQL's own
#      to_tsvector('simple') + GIN over the same rows, with how many of the user's
#      messages each finds (the latter cannot split Thai). Medians of --rounds
#      rounds. Target: p99 <= 50 ms.
#
# Latencies are of the SQL (pgbench per-transaction logs), without the HTTP hop
# and the service's query parsing and highlighting (microseconds per request).
# Not a test: nothing is asserted. Bounded: fill + about 25 * rounds * duration.
#
# Usage: bench/search_bench.sh [--messages N] [--duration S] [--clients N] [--rounds N]
# Needs $TCHAT_BUILD_DIR/bin/{tchat-migrate,tchat-search-reindex} (default build/),
# PostgreSQL 15 binaries (pgbench) and python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"

messages=1000000
duration=10
clients=20
rounds=1
usage() { sed -n '/^# Usage/,/^# PostgreSQL/p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --messages) messages="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$messages" "$duration" "$clients" "$rounds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || tchat::die "not a positive integer: $n"
done
((messages >= 20000)) || tchat::die "--messages: at least 20000 (200 conversations of 50 and more)"
((messages <= 20000000)) || tchat::die "keep it bounded: --messages <= 20000000"
((duration <= 120)) || tchat::die "keep it bounded: --duration <= 120"
((rounds <= 5)) || tchat::die "keep it bounded: --rounds <= 5"

BUILD="${TCHAT_BUILD_DIR:-$ROOT/build}"
for b in tchat-migrate tchat-search-reindex; do
  [[ -x "$BUILD/bin/$b" ]] || tchat::die "$BUILD/bin/$b not found (scripts/build.sh)"
done
PGBENCH="$TCHAT_PG_BIN/pgbench"
[[ -x "$PGBENCH" ]] || tchat::die "pgbench not found in $TCHAT_PG_BIN"

export TCHAT_RUN_DIR TCHAT_PG_PORT TCHAT_DURABLE=1
TCHAT_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tchat-search-bench.XXXXXX")"
chmod 755 "$TCHAT_RUN_DIR"
TCHAT_PG_PORT="${TCHAT_BENCH_PG_PORT:-18450}"
if tchat::port_open "$TCHAT_PG_PORT"; then tchat::die "port $TCHAT_PG_PORT is in use"; fi
work="$TCHAT_RUN_DIR"
cleanup() {
  tchat::pg_stop >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

tchat::pg_start
tchat::pg_prealloc_wal 64
tchat::psql postgres -c "CREATE DATABASE tchat_messaging" >/dev/null
db_url="$(tchat::pg_url tchat_messaging)"
"$BUILD/bin/tchat-migrate" -path "$ROOT/migrations/postgres/tchat_messaging" -database "$db_url" up >/dev/null
sql() { tchat::psql tchat_messaging -v ON_ERROR_STOP=1 -qAt "$@"; }
now() { date +%s.%N; }

# ---- 0. data ---------------------------------------------------------------
conversations=$((messages / 50))
echo "filling $messages messages in $conversations conversations (50 each)..."
t0="$(now)"
sql -f "$ROOT/bench/search/fill.sql" -v conversations="$conversations" >/dev/null
t1="$(now)"
reindex="$(DATABASE_URL="$db_url" "$BUILD/bin/tchat-search-reindex" --batch 2000)"
t2="$(now)"
sql -c "VACUUM ANALYZE"
python3 - "$t0" "$t1" "$t2" "$messages" <<'EOF'
import sys
t0, t1, t2, n = map(float, sys.argv[1:])
print(f"fill {t1 - t0:.0f} s; tchat-search-reindex {t2 - t1:.0f} s ({n / (t2 - t1):,.0f} messages/s)")
EOF
echo "  $reindex"
user="00000000-0000-7000-8000-000000000001" # fill.sql's user in 200 conversations

# ---- 1. send throughput without terms, with them, with them in 000006's design --
# 000006's msg_send_batch (terms without the key), from its up migration, under
# another name. The GIN index exists only for the runs with terms.
sed -n '/^CREATE FUNCTION msg_send_batch/,$p' \
  "$ROOT/migrations/postgres/tchat_messaging/000006_search.up.sql" |
  sed 's/^CREATE FUNCTION msg_send_batch/CREATE FUNCTION bench_gin_send_batch/' >"$work/gin_send.sql"
sql -f "$work/gin_send.sql" >/dev/null
# Where the cost goes: the current msg_send_batch (000013) without its
# search_vocab insert; 000010's, which inserted every term ON CONFLICT DO NOTHING.
sed -n '/^CREATE FUNCTION msg_send_batch/,$p' \
  "$ROOT/migrations/postgres/tchat_messaging/000013_search_plan_and_vocab.up.sql" |
  sed 's/^CREATE FUNCTION msg_send_batch/CREATE FUNCTION bench_novocab_send_batch/' |
  sed '/^    ), vocab AS (/,/^        ON CONFLICT DO NOTHING/d' >"$work/novocab_send.sql"
sql -f "$work/novocab_send.sql" >/dev/null
sed -n '/^CREATE FUNCTION msg_send_batch/,$p' \
  "$ROOT/migrations/postgres/tchat_messaging/000010_search_conversation_key.up.sql" |
  sed 's/^CREATE FUNCTION msg_send_batch/CREATE FUNCTION bench_keys10_send_batch/' \
  >"$work/keys10_send.sql"
sql -f "$work/keys10_send.sql" >/dev/null
sql -c "CREATE TABLE bench_samples AS SELECT row_number() OVER () AS i, body,
          array_remove(search_terms, search_conversation_key(conversation_id)) AS search_terms
        FROM (SELECT body, search_terms, conversation_id FROM messages
               WHERE search_terms IS NOT NULL LIMIT 32) x" \
  -c "CREATE TABLE bench_conversations AS SELECT row_number() OVER (ORDER BY id) AS n, id
        FROM conversations" \
  -c "CREATE UNIQUE INDEX ON bench_conversations (n)" >/dev/null
send_tps() { # mode: off | keys | novocab | keys10 | gin
  local dir="$work/send-$1-$RANDOM" fn=msg_send_batch
  local terms="'search_terms', to_jsonb(s.search_terms),"
  mkdir -p "$dir"
  chmod 777 "$dir"
  [[ "$1" == off ]] && terms=""
  [[ "$1" == gin ]] && fn=bench_gin_send_batch
  [[ "$1" == novocab ]] && fn=bench_novocab_send_batch
  [[ "$1" == keys10 ]] && fn=bench_keys10_send_batch
  cat >"$dir/script.sql" <<EOF
\\set c random(1, $conversations)
SELECT count(*) FROM $fn((
  SELECT jsonb_agg(jsonb_build_object('index', s.i - 1, 'message_id', gen_random_uuid(),
           'event_id', gen_random_uuid(),
           'conversation_id', (SELECT id FROM bench_conversations WHERE n = :c),
           'sender_id', '$user', 'type', 'text', 'body', s.body, $terms
           'server_posted', true) ORDER BY s.i)
    FROM bench_samples s WHERE s.i <= 32));
EOF
  sql -c "CHECKPOINT" >/dev/null
  "$PGBENCH" -n -M prepared -c "$clients" -j 2 -T "$duration" -f "$dir/script.sql" "$db_url" 2>&1 |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
gin_index() { # none | gin
  sql -c "DROP INDEX IF EXISTS messages_search_idx"
  if [[ "$1" == gin ]]; then
    sql -c "CREATE INDEX messages_search_idx ON messages USING gin (search_terms)"
  fi
}
echo
echo "persisted sends, msg_send_batch of 32 messages, $clients clients, ${duration}s each, $rounds rounds"
sends=()
for ((r = 1; r <= rounds; r++)); do
  gin_index none
  off="$(send_tps off)"
  heap="$(send_tps keys)"
  gin_index gin
  keys="$(send_tps keys)"
  novocab="$(send_tps novocab)"
  keys10="$(send_tps keys10)"
  gin="$(send_tps gin)"
  sends+=("$off $keys $gin $heap $novocab $keys10")
  python3 - "$r" "$off" "$keys" "$gin" "$heap" "$novocab" "$keys10" <<'EOF'
import sys
r = sys.argv[1]
off, keys, gin, heap, novocab, keys10 = map(float, sys.argv[2:])
cost = lambda x: f"{x * 32:,.0f} (ratio {x / off:.2f}, cost {100 * (1 - x / off):.0f} %)"
print(f"  round {r}: without terms {off * 32:,.0f} messages/s; 000013 {cost(keys)}; "
      f"000010 {cost(keys10)}; 000006 GIN {cost(gin)}; where it goes: terms without the "
      f"GIN index {cost(heap)}, 000013 without the search_vocab insert {cost(novocab)}")
EOF
done
python3 - "${sends[@]}" <<'EOF'
import statistics, sys
rows = [list(map(float, a.split())) for a in sys.argv[1:]]
out = []
for i, name in ((1, "000013"), (5, "000010"), (2, "000006 GIN"), (3, "terms, no GIN index"),
                (4, "000013 without search_vocab")):
    m = statistics.median(r[i] / r[0] for r in rows)
    out.append(f"{name} {m:.2f} (cost {100 * (1 - m):.0f} %)")
print("  median ratio: " + ", ".join(out))
EOF

# ---- 2. search latency -----------------------------------------------------
echo
echo "anchor index: to_tsvector('simple', body) GIN..."
sql -c "CREATE INDEX messages_simple_tsv_idx ON messages USING gin (to_tsvector('simple', body))" \
  -c "VACUUM ANALYZE"
# 000006's index, without the keys, for its size only.
sql -c "CREATE INDEX bench_nokeys_idx ON messages
  USING gin (array_remove(search_terms, search_conversation_key(conversation_id)))"
sql -c "SELECT 'sizes: messages ' || pg_size_pretty(pg_table_size('messages')) || ' ('
  || (SELECT count(*) FROM messages) || ' rows), search_terms GIN with keys (000010) '
  || pg_size_pretty(pg_relation_size('messages_search_idx')) || ', without (000006) '
  || pg_size_pretty(pg_relation_size('bench_nokeys_idx')) || ', search_vocab '
  || pg_size_pretty(pg_total_relation_size('search_vocab')) || ', simple tsvector GIN '
  || pg_size_pretty(pg_relation_size('messages_simple_tsv_idx'))"
sql -c "DROP INDEX bench_nokeys_idx"

# Ours, as search_store.cpp builds it (PrepareSql, then KeysSql or WordsSql): one
# statement for the settings, the prefix's expansion and the user's conversations,
# then the plan, planned with its values. $1 plan (keys | words), $2 words
# (text[] literal), $3 prefix.
ours() {
  local words="" terms keys convs
  terms="$(sql -c "SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab
    WHERE term >= '$3' COLLATE \"C\" AND term < ('$3' || chr(1114111)) COLLATE \"C\"
    ORDER BY term LIMIT 128) v")"
  keys="$(sql -c "SELECT ARRAY(SELECT search_conversation_key(me.conversation_id) FROM members me
    WHERE me.user_id = '$user')")"
  convs="$(sql -c "SELECT ARRAY(SELECT me.conversation_id FROM members me WHERE me.user_id = '$user')")"
  cat <<EOF
SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
 set_config('enable_seqscan', 'off', true),
 (SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab
 WHERE term >= '$3' COLLATE "C" AND term < ('$3' || chr(1114111)) COLLATE "C"
 ORDER BY term LIMIT 128) v), ARRAY(SELECT search_conversation_key(me.conversation_id)
 FROM members me WHERE me.user_id = '$user'), ARRAY(SELECT me.conversation_id
 FROM members me WHERE me.user_id = '$user');
EOF
  if [[ "$1" == keys ]]; then
    [[ "$2" != "{}" ]] && words="AND m.search_terms @> '$2'::text[]"
    cat <<EOF
WITH g AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id FROM messages m
 WHERE m.search_terms && '$terms'::text[] AND m.search_terms && '$keys'::text[] $words
   AND NOT m.deleted AND m.id < 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
SELECT NULL::bigint, m.conversation_id, m.seq, m.id, m.body FROM (SELECT g.conversation_id, g.seq,
 g.id FROM g ORDER BY g.id DESC LIMIT 21) AS p
 JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq ORDER BY p.id DESC;
EOF
  else
    [[ "$2" != "{}" ]] && words="AND m.search_terms @> '$2'::text[]"
    cat <<EOF
WITH w AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id, m.search_terms[1] AS k
   FROM messages m WHERE m.search_terms && '$terms'::text[] $words AND NOT m.deleted LIMIT 2000),
 g AS MATERIALIZED (SELECT w.conversation_id, w.seq, w.id FROM w
   WHERE w.conversation_id = ANY ('$convs'::uuid[])
     AND w.k = search_conversation_key(w.conversation_id)
     AND w.id < 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
SELECT n.read, r.* FROM (SELECT count(*) AS read FROM w) AS n LEFT JOIN LATERAL (
 SELECT m.conversation_id, m.seq, m.id, m.body FROM (SELECT g.conversation_id, g.seq, g.id FROM g
 ORDER BY g.id DESC LIMIT 21) AS p JOIN messages m ON m.conversation_id = p.conversation_id
 AND m.seq = p.seq) AS r ON true ORDER BY r.id DESC;
EOF
  fi
}
# The plan the service chooses (search_store.cpp, PgSearchStore::Estimate): words
# when the statistics estimate the rarest term in at most 500 messages (and the
# words plan does not meet 2000, which it then gives up for the keys).
# $1 words, $2 prefix.
chosen_plan() {
  local est n
  est="$(sql -c "WITH st AS (SELECT s.most_common_elems::text::text[] AS e,
      s.most_common_elem_freqs AS f, s.null_frac FROM pg_stats s
     WHERE s.schemaname = current_schema() AND s.tablename = 'messages'
       AND s.attname = 'search_terms'),
    fr AS (SELECT t, coalesce(st.f[array_position(st.e, t)], st.f[cardinality(st.e) + 1]) AS q
      FROM st, unnest('$1'::text[] || ARRAY(SELECT term FROM search_vocab
        WHERE term >= '$2' COLLATE \"C\" AND term < ('$2' || chr(1114111)) COLLATE \"C\"
        ORDER BY term LIMIT 128)) AS t)
    SELECT round(least(1, (SELECT sum(q) FROM fr WHERE NOT t = ANY ('$1'::text[])),
        (SELECT min(q) FROM fr WHERE t = ANY ('$1'::text[])))
      * (SELECT reltuples FROM pg_class WHERE oid = 'messages'::regclass)
      * (1 - (SELECT null_frac FROM st)))")"
  n="$(sql -c "SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.search_terms && ARRAY(
    SELECT term FROM search_vocab WHERE term >= '$2' COLLATE \"C\"
      AND term < ('$2' || chr(1114111)) COLLATE \"C\" ORDER BY term LIMIT 128)
    AND m.search_terms @> '$1'::text[] LIMIT 2000) x")"
  if ((est <= 500 && n < 2000)); then echo "words $est"; else echo "keys $est"; fi
}
# 000006's design, as its search_store.cpp ran it: the prefix's expansion through
# search_vocab; the search through the GIN index, at most 2001 matches; and,
# when there were more, the search through the user's conversations.
gin() { # $1 words (text[] literal), $2 prefix
  local words="" convwords="" terms cte n
  [[ "$1" != "{}" ]] && words="AND m.search_terms @> '$1'::text[]"
  [[ "$1" != "{}" ]] && convwords="AND (m.search_terms || '{}'::text[]) @> '$1'::text[]"
  terms="$(sql -c "SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab
    WHERE term >= '$2' COLLATE \"C\" AND term < ('$2' || chr(1114111)) COLLATE \"C\"
    ORDER BY term LIMIT 128) v")"
  cte="WITH g AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id FROM messages m
 WHERE m.search_terms && '$terms'::text[] AND NOT m.deleted $words LIMIT 2001)"
  n="$(sql -c "$cte SELECT count(*) FROM g")"
  cat <<EOF
SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab
 WHERE term >= '$2' COLLATE "C" AND term < ('$2' || chr(1114111)) COLLATE "C"
 ORDER BY term LIMIT 128) v;
$cte
SELECT (SELECT count(*) FROM g), r.* FROM (SELECT 1) AS one LEFT JOIN LATERAL (
 SELECT m.conversation_id, m.seq, m.id, m.body FROM g
   JOIN messages m ON m.conversation_id = g.conversation_id AND m.seq = g.seq
  WHERE g.conversation_id IN (SELECT me.conversation_id FROM members me WHERE me.user_id = '$user')
    AND g.id < 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
  ORDER BY g.id DESC LIMIT 21) AS r ON true;
EOF
  if ((n > 2000)); then
    cat <<EOF
SELECT m.conversation_id, m.seq, m.id, m.body FROM messages m
 WHERE m.conversation_id IN (SELECT me.conversation_id FROM members me WHERE me.user_id = '$user')
   AND (m.search_terms || '{}'::text[]) && '$terms'::text[] AND NOT m.deleted
   AND m.id < 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid $convwords
 ORDER BY m.id DESC LIMIT 21;
EOF
  fi
}
simple() { # $1 tsquery
  cat <<EOF
SELECT m.conversation_id, m.seq, m.id, m.body FROM messages m
 WHERE m.conversation_id IN (SELECT me.conversation_id FROM members me WHERE me.user_id = '$user')
   AND to_tsvector('simple', m.body) @@ to_tsquery('simple', '$1') AND NOT m.deleted
 ORDER BY m.id DESC LIMIT 21;
EOF
}
# Runs one script with pgbench; prints "p50 p99 count" (ms, ms, searches).
latency() { # name, script
  local dir="$work/pgb-$1"
  mkdir -p "$dir"
  chmod 777 "$dir"
  printf '%s\n' "$2" >"$dir/script.sql"
  (cd "$dir" && "$PGBENCH" -n -M simple -c "$clients" -j 2 -T "$duration" -l \
    -f "$dir/script.sql" "$db_url" >"$dir/out.txt" 2>&1) || {
    cat "$dir/out.txt" >&2
    return 1
  }
  python3 - "$dir" <<'EOF'
import glob, sys
lat = []
for f in glob.glob(sys.argv[1] + "/pgbench_log.*"):
    for line in open(f):
        parts = line.split()
        if len(parts) >= 3:
            lat.append(int(parts[2]) / 1000.0)
lat.sort()
if not lat:
    print("- - 0")
    sys.exit(0)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"{p(0.50):.2f} {p(0.99):.2f} {len(lat)}")
EOF
}
mine="m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = '$user')
  AND NOT m.deleted"
count_ours() {
  sql -c "SELECT count(*) FROM messages m WHERE $mine AND m.search_terms @> '$1'::text[]
    AND m.search_terms @> ARRAY[search_conversation_key(m.conversation_id)]
    AND EXISTS (SELECT 1 FROM unnest(m.search_terms) t WHERE starts_with(t, '$2'))"
}
# The same rows as ours: not the messages the send runs wrote without terms.
count_simple() {
  sql -c "SELECT count(*) FROM messages m WHERE $mine AND m.search_terms IS NOT NULL
    AND to_tsvector('simple', m.body) @@ to_tsquery('simple', '$1')"
}

sql -c "CHECKPOINT" >/dev/null
echo
echo "search latency, $clients concurrent searchers, ${duration}s each, user in 200 conversations,"
echo "medians of $rounds rounds (load average at the start: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-34s %13s %15s %15s %15s %15s %9s %9s\n' "query" "ours: plan" "ours p50/p99" \
  "keys p50/p99" "000006 p50/p99" "tsvector p50/p99" "ours hits" "tsv hits"
med() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.1f}")' "$@"; }
row() { # label, words, prefix, tsquery
  local plan est o50=() o99=() k50=() k99=() g50=() g99=() a50=() a99=() x y r
  read -r plan est <<<"$(chosen_plan "$2" "$3")"
  for ((r = 1; r <= rounds; r++)); do
    read -r x y _ <<<"$(latency "w-$RANDOM" "$(ours words "$2" "$3")")"
    [[ "$plan" == words ]] && { o50+=("$x"); o99+=("$y"); }
    read -r x y _ <<<"$(latency "k-$RANDOM" "$(ours keys "$2" "$3")")"
    k50+=("$x"); k99+=("$y")
    [[ "$plan" == keys ]] && { o50+=("$x"); o99+=("$y"); }
    read -r x y _ <<<"$(latency "g-$RANDOM" "$(gin "$2" "$3")")"
    g50+=("$x"); g99+=("$y")
    read -r x y _ <<<"$(latency "a-$RANDOM" "$(simple "$4")")"
    a50+=("$x"); a99+=("$y")
  done
  printf '%-34s %13s %15s %15s %15s %15s %9s %9s\n' "$1" "$plan (~$est)" \
    "$(med "${o50[@]}") / $(med "${o99[@]}")" "$(med "${k50[@]}") / $(med "${k99[@]}")" \
    "$(med "${g50[@]}") / $(med "${g99[@]}")" "$(med "${a50[@]}") / $(med "${a99[@]}")" \
    "$(count_ours "$2" "$3")" "$(count_simple "$4")"
}
row "rare word: bugis" "{}" "bugis" "bugis"
row "common word: the" "{}" "the" "the"
row "common word + prefix: kopi kenan*" "{kopi}" "kenan" "kopi & kenan:*"
row "Thai word: ร้าน" "{}" "ร้าน" "ร้าน"
row "amount: 1250 (text 1,250)" "{}" "1250" "1250"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
