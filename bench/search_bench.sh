#!/usr/bin/env bash
# Benchmark of message search (issue 19), all figures from one run against a
# private PostgreSQL 15 (fsync and synchronous_commit on):
#
#   0. fills --messages messages of generated text in Thai (no spaces), Vietnamese,
#      Indonesian, Malay, Filipino and English (3 to 14 words, some amounts such
#      as "1,250 บาท") across messages/50 conversations; one user is a member of
#      200 of them. The words are indexed by tchat-search-reindex (its rate is a
#      figure too).
#   1. search latency p50/p99 at --clients concurrent searchers for that user, SQL
#      as the service runs it (services/messaging/src/search_store.cpp), for a
#      rare word, a common word, a common word + a prefix, and a Thai word;
#      anchor in the same run: the same searches with PostgreSQL's own
#      to_tsvector('simple') + GIN over the same rows, and how many of the user's
#      messages each finds for the Thai word (its parser cannot split Thai).
#      Target: p99 <= 50 ms.
#   2. persisted send throughput: msg_send_batch of 32 messages per call with their
#      search terms vs without (the index and vocabulary not written), pgbench,
#      --clients clients. Target: at most 15 % lower with terms.
#
# Latencies are of the SQL (pgbench per-transaction logs), without the HTTP hop
# and the service's query parsing and highlighting (microseconds per request).
# Not a test: nothing is asserted. Bounded: fill + about 8 * duration.
#
# Usage: bench/search_bench.sh [--messages N] [--duration S] [--clients N]
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
usage() { sed -n '25,27p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --messages) messages="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$messages" "$duration" "$clients"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || tchat::die "not a positive integer: $n"
done
((messages >= 20000)) || tchat::die "--messages: at least 20000 (200 conversations of 50 and more)"
((messages <= 20000000)) || tchat::die "keep it bounded: --messages <= 20000000"
((duration <= 120)) || tchat::die "keep it bounded: --duration <= 120"

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
echo "anchor index: to_tsvector('simple', body) GIN..."
sql -c "CREATE INDEX messages_simple_tsv_idx ON messages USING gin (to_tsvector('simple', body))" \
  -c "ANALYZE"
t3="$(now)"
python3 - "$t0" "$t1" "$t2" "$t3" "$messages" <<'EOF'
import sys
t0, t1, t2, t3, n = map(float, sys.argv[1:])
print(f"fill {t1 - t0:.0f} s; tchat-search-reindex {t2 - t1:.0f} s ({n / (t2 - t1):,.0f} messages/s); "
      f"anchor GIN build {t3 - t2:.0f} s")
EOF
echo "  $reindex"
sql -c "SELECT 'sizes: messages ' || pg_size_pretty(pg_table_size('messages')) || ', search_terms GIN '
  || pg_size_pretty(pg_relation_size('messages_search_idx')) || ', simple tsvector GIN '
  || pg_size_pretty(pg_relation_size('messages_simple_tsv_idx')) || ', vocabulary '
  || (SELECT count(*) FROM search_vocab) || ' terms'"

# ---- 1. search latency -----------------------------------------------------
user="00000000-0000-7000-8000-000000000001"  # fill.sql's user in 200 conversations
# Our search, as search_store.cpp builds it: words (@>), last word a prefix
# expanded through search_vocab (&&), newest first, a page of 20 (+1).
# The statements the service runs per search (search_store.cpp): the prefix's
# expansion through search_vocab; the search through the GIN index, at most
# 2001 matches; and, when there were more, the search through the user's
# conversations. Each planned with its values (the service forces custom plans;
# pgbench -M simple plans every time too).
ours() { # $1 words (text[] literal), $2 prefix
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
anchor() { # $1 tsquery
  cat <<EOF
SELECT m.conversation_id, m.seq, m.id, m.body FROM messages m
 WHERE m.conversation_id IN (SELECT me.conversation_id FROM members me WHERE me.user_id = '$user')
   AND to_tsvector('simple', m.body) @@ to_tsquery('simple', '$1') AND NOT m.deleted
 ORDER BY m.id DESC LIMIT 21;
EOF
}
# Runs one script with pgbench; prints "p50 p99 tps" (ms, ms, per second).
latency() { # name, script
  local dir="$work/pgb-$1"
  mkdir -p "$dir"
  chmod 777 "$dir"
  printf '%s\n' "$2" >"$dir/script.sql"
  (cd "$dir" && "$PGBENCH" -n -M simple -c "$clients" -j 2 -T "$duration" -l \
    -f "$dir/script.sql" "$db_url" >"$dir/out.txt" 2>&1) || { cat "$dir/out.txt" >&2; return 1; }
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
count_ours() { sql -c "SELECT count(*) FROM messages m WHERE m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = '$user') AND m.search_terms @> '$1'::text[]"; }
count_anchor() { sql -c "SELECT count(*) FROM messages m WHERE m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = '$user') AND to_tsvector('simple', m.body) @@ to_tsquery('simple', '$1')"; }

sql -c "CHECKPOINT" >/dev/null
echo
echo "search latency, $clients concurrent searchers, ${duration}s each, user in 200 conversations"
printf '%-34s %18s %18s %10s %10s\n' "query" "ours p50/p99 ms" "anchor p50/p99 ms" "ours hits" "anchor hits"
row() { # label, our words, our prefix, anchor tsquery, full words for counting
  local o a
  read -r o50 o99 _ <<<"$(latency "o-$RANDOM" "$(ours "$2" "$3")")"
  read -r a50 a99 _ <<<"$(latency "a-$RANDOM" "$(anchor "$4")")"
  printf '%-34s %18s %18s %10s %10s\n' "$1" "$o50 / $o99" "$a50 / $a99" \
    "$(count_ours "$5")" "$(count_anchor "$4")"
  o="$o99"
  a="$a99"
  if [[ "$o" != "-" && "$a" != "-" ]]; then
    python3 -c "print(f'    p99 ours/anchor = {$o / $a:.2f}')"
  fi
}
row "rare word: bugis" "{}" "bugis" "bugis" "{bugis}"
row "common word: the" "{}" "the" "the" "{the}"
row "common word + prefix: kopi kenan*" "{kopi}" "kenan" "kopi & kenan:*" "{kopi}"
row "Thai word: ร้าน" "{}" "ร้าน" "ร้าน" "{ร้าน}"
row "amount: 1250 (text 1,250)" "{}" "1250" "1250" "{1250}"

# ---- 2. send throughput with and without terms ------------------------------
send_tps() { # with_terms (1/0)
  local dir="$work/send-$1"
  mkdir -p "$dir"
  chmod 777 "$dir"
  local terms="'search_terms', to_jsonb(s.search_terms),"
  ((${1})) || terms=""
  cat >"$dir/script.sql" <<EOF
\\set c random(1, $conversations)
SELECT count(*) FROM msg_send_batch((
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
sql -c "CREATE TABLE bench_samples AS SELECT row_number() OVER () AS i, body, search_terms
          FROM (SELECT body, search_terms FROM messages WHERE search_terms IS NOT NULL LIMIT 32) x" \
  -c "CREATE TABLE bench_conversations AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM conversations" \
  -c "CREATE UNIQUE INDEX ON bench_conversations (n)" >/dev/null
echo
echo "persisted sends, msg_send_batch of 32 messages, $clients clients, ${duration}s each"
off="$(send_tps 0)"
on="$(send_tps 1)"
python3 - "$off" "$on" <<'EOF'
import sys
off, on = float(sys.argv[1]), float(sys.argv[2])
print(f"  without terms: {off * 32:,.0f} messages/s")
print(f"  with terms:    {on * 32:,.0f} messages/s  (ratio {on / off:.2f}; cost {100 * (1 - on / off):.0f} %)")
EOF
