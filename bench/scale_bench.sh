#!/usr/bin/env bash
# Data-scale benchmark (issue 22): fills the four service databases with a year of
# use at a scale factor, then measures the services' reads against that data with
# 20 concurrent readers, so that the growth from 1 % to 10 % (to 100 %) shows.
#
# 100 % is 100,000 users, 1,000,000 conversations (98 % direct; groups of 3..50
# members, 20 of 1,000), 20,000,000 messages over 12 months, 5,000,000 transfers
# (10,000,000 postings plus one top-up per user) and one inbox entry per transfer;
# 5 heavy users with 2,000 conversations each (1 below 100 %). A scale of P % has
# P % of each count; the heavy users keep their 2,000 conversations and the five
# "hot" conversations their 10,000 messages at every scale.
#
# The generator (bench/scale/gen_*.sql) writes the rows the services write, set-based
# inside PostgreSQL (INSERT ... SELECT into tables whose indexes are built after the
# load), in steps of one transaction each: a rerun resumes after the last step done.
# Afterwards the payment service's own ledger verification must pass.
# Timestamps: the year ends at the moment generation first started; each row's
# change_xid (the sync watermark) is X0 + its second of the year / 30, and the
# server's transaction counter is advanced past the year's last id, so that a
# sync token of "N hours ago" is the snapshot a client would have kept.
#
# Measured per scale, with the four services, Redis and the gateway running
# (scripts/start.sh) against that database: message history (newest page, a page
# a year back), conversation list with unread counts (a light and a heavy user),
# /v1/sync after 1 hour, 1 day and 7 days offline, wallet balance, transaction
# history (newest, half a year deep), inbox page: each read by --concurrency
# readers (20) at --rate requests/s in all (200; an open loop, latency counted from
# when a request was due), p50/p99 over --duration seconds. Then message sends by
# 20 senders in a closed loop: the throughput.
#
# Usage: bench/scale_bench.sh [--scale P]... [--data DIR] [--duration S]
#            [--concurrency N] [--rate R] [--generate-only | --measure-only |
#            --explain-only] [--clean]
#   --scale P      1, 10 or 100 (repeatable; default: 1 and 10)
#   --data DIR     where the PostgreSQL clusters live, one per scale
#                  (default ${TMPDIR:-/tmp}/tchat-scale); never inside the repository
#   --explain-only the database's work per read (EXPLAIN ANALYZE buffers) and the table
#                  sizes, without services
#   --clean        stop anything running there and delete DIR, then exit
# Ports: TCHAT_SCALE_PORT_BASE (default 48000) .. +11. Needs $TCHAT_BUILD_DIR/bin
# (default build/) with the services, tchat-migrate, tchat-keygen and tchat-scale-load.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"

scales=()
data="${TMPDIR:-/tmp}/tchat-scale"
duration=10
concurrency=20
rate=200
generate=1
measure=1
clean=0
explain_only=0
usage() { sed -n '31,41p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --scale) scales+=("$2"); shift ;;
    --data) data="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --concurrency) concurrency="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --generate-only) measure=0 ;;
    --measure-only) generate=0 ;;
    --clean) clean=1 ;;
    --explain-only) generate=0; measure=0; explain_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
((${#scales[@]})) || scales=(1 10)
for p in "${scales[@]}"; do
  [[ "$p" == 1 || "$p" == 10 || "$p" == 100 ]] || tchat::die "--scale is 1, 10 or 100, not $p"
done
if ! [[ "$duration" =~ ^[1-9][0-9]*$ ]] || ((duration > 120)); then tchat::die "--duration: 1..120"; fi
[[ "$concurrency" =~ ^[1-9][0-9]*$ ]] || tchat::die "--concurrency: a positive integer"
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || tchat::die "--rate: a positive integer"
case "$(readlink -f "$data")/" in "$ROOT"/*) tchat::die "--data must be outside the repository" ;; esac

export TCHAT_BUILD_DIR="${TCHAT_BUILD_DIR:-$ROOT/build}"
base="${TCHAT_SCALE_PORT_BASE:-48000}"
export TCHAT_GATEWAY_PORT=$base TCHAT_AUTH_PORT=$((base + 1)) TCHAT_MESSAGING_PORT=$((base + 2))
export TCHAT_PAYMENT_PORT=$((base + 3)) TCHAT_NOTIFICATION_PORT=$((base + 4))
export TCHAT_PSP_SIM_PORT=$((base + 9)) TCHAT_PG_PORT=$((base + 10)) TCHAT_REDIS_PORT=$((base + 11))
export TCHAT_DURABLE=1 LOG_LEVEL=warn TCHAT_PG_REPLICA=0
# The benchmark sends far more than a person may per minute.
export messaging_rate_messages_per_minute=1000000000
DBS=(auth messaging payment notification)

use_scale() {
  export TCHAT_RUN_DIR="$data/s$1"
  gen="$TCHAT_RUN_DIR/scale-gen"
}
stop_stack() { "$ROOT/scripts/stop.sh" >/dev/null 2>&1 || true; }

if ((clean)); then
  for d in "$data"/s*; do
    [[ -d "$d" ]] || continue
    TCHAT_RUN_DIR="$d" stop_stack
  done
  rm -rf "$data"
  echo "removed $data"
  exit 0
fi

psql_db() {  # psql_db DB [psql args...]: as the owner, stopping at the first error
  local db="$1"
  shift
  PGOPTIONS="-c client_min_messages=warning" \
    tchat::pg_exec "$TCHAT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TCHAT_PG_PORT" \
    -U postgres -d "$db" "$@"
}

# step NAME DB FILE [psql -v args...]: runs one generator step unless done.
step() {
  local name="$1" db="$2" file="$3"
  shift 3
  [[ -f "$gen/$name.done" ]] && return 0
  local t0=$SECONDS
  psql_db "$db" -1 -v "T0=$T0" -v "X0=$X0" -v "U=$U" -v "C=$C" -v "G=$G" -v "B=$B" -v "H=$H" \
    -v "M=$M" -v "T=$T" "$@" -f "$ROOT/bench/scale/$file" >/dev/null ||
    tchat::die "generator step $name failed"
  echo "$((SECONDS - t0))" >"$gen/$name.done"
  echo "  step $name: $((SECONDS - t0)) s"
}

sizes_for() {  # sets the counts of scale $1 (percent)
  local p="$1"
  U=$((1000 * p)) C=$((10000 * p)) G=$((200 * p)) M=$((200000 * p)) T=$((50000 * p))
  B=$(((p + 4) / 5)) H=1
  ((p < 100)) || H=5
  K_MSG=4 K_TX=2
  ((p < 10)) || { K_MSG=24; K_TX=12; }
}

generate_scale() {
  local p="$1"
  use_scale "$p"
  sizes_for "$p"
  mkdir -p "$gen"
  if [[ -f "$gen/complete" ]]; then
    echo "== scale $p %: generated before ($(cat "$gen/complete") s)"
    return 0
  fi
  echo "== scale $p %: generating $U users, $C conversations, $M messages, $T transfers into $TCHAT_RUN_DIR"
  local started=$SECONDS
  # The generator's PostgreSQL runs at a lower priority: the machine stays usable.
  nice -n 10 bash -c "source '$ROOT/scripts/lib/common.sh'; source '$ROOT/scripts/lib/postgres.sh'; \
    tchat::pg_start && tchat::pg_setup_databases" 2>&1 | grep -v '^\s*tchat_.*: no change' || true
  tchat::pg_running || tchat::die "PostgreSQL did not start"
  if [[ ! -f "$gen/meta.env" ]]; then
    local now x0
    now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    x0="$(psql_db postgres -At -c "SELECT pg_current_xact_id()::text::bigint + 1000")"
    printf 'NOW=%s\nT0=%s\nX0=%s\n' "$now" "$(date -u -d "$now - 365 days" +%Y-%m-%dT%H:%M:%SZ)" \
      "$x0" >"$gen/meta.env"
  fi
  # shellcheck disable=SC1091
  source "$gen/meta.env"
  local db c
  for db in postgres "${DBS[@]/#/tchat_}"; do psql_db "$db" -f "$ROOT/bench/scale/gen_common.sql" >/dev/null; done
  step users tchat_auth gen_auth.sql -v step=users
  step plan tchat_messaging gen_messaging.sql -v step=plan
  step conversations tchat_messaging gen_messaging.sql -v step=conversations
  step members tchat_messaging gen_messaging.sql -v step=members
  step messages_prep tchat_messaging gen_messaging.sql -v step=messages_prep
  for ((c = 0; c < K_MSG; c++)); do
    step "messages_$c" tchat_messaging gen_messaging.sql -v step=messages -v "c=$c" -v "K=$K_MSG"
  done
  step messages_finish tchat_messaging gen_messaging.sql -v step=messages_finish
  step accounts tchat_payment gen_payment.sql -v step=accounts
  step topups tchat_payment gen_payment.sql -v step=topups
  step transfers_prep tchat_payment gen_payment.sql -v step=transfers_prep
  for ((c = 0; c < K_TX; c++)); do
    step "transfers_$c" tchat_payment gen_payment.sql -v step=transfers -v "c=$c" -v "K=$K_TX"
  done
  step transfers_finish tchat_payment gen_payment.sql -v step=transfers_finish
  step inbox_prep tchat_notification gen_notification.sql -v step=inbox_prep
  for ((c = 0; c < K_TX; c++)); do
    step "inbox_$c" tchat_notification gen_notification.sql -v step=inbox -v "c=$c" -v "K=$K_TX"
  done
  step inbox_finish tchat_notification gen_notification.sql -v step=inbox_finish
  # The year's last change_xid is X0 + 365 * 86400 / 30: advance the server past it
  # (one committed transaction per id, about a minute), so that the rows' ids are
  # in the past of every snapshot, as they would be after a year of use.
  if [[ ! -f "$gen/xids.done" ]]; then
    local t0=$SECONDS
    psql_db postgres -c "CREATE OR REPLACE PROCEDURE scale_gen.burn_xids(target bigint)
      LANGUAGE plpgsql AS \$\$ BEGIN
        WHILE pg_current_xact_id()::text::bigint < target LOOP COMMIT; END LOOP; END \$\$" \
      -c "SET synchronous_commit = off" -c "CALL scale_gen.burn_xids($((X0 + 365 * 86400 / 30 + 10)))"
    echo "$((SECONDS - t0))" >"$gen/xids.done"
    echo "  step xids: $((SECONDS - t0)) s"
  fi
  if [[ ! -f "$gen/vacuum.done" ]]; then
    local t0=$SECONDS
    # The generator's helpers go; VACUUM leaves the visibility map and statistics
    # a year-old table has.
    psql_db postgres -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS scale_gen CASCADE" >/dev/null
    for db in "${DBS[@]/#/tchat_}"; do
      psql_db "$db" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS scale_gen CASCADE" \
        -c "VACUUM (ANALYZE)" >/dev/null
    done
    echo "$((SECONDS - t0))" >"$gen/vacuum.done"
    echo "  step vacuum: $((SECONDS - t0)) s"
  fi
  local total=0 f
  for f in "$gen"/*.done; do total=$((total + $(cat "$f"))); done
  echo "$total" >"$gen/complete"
  echo "== scale $p %: generated in $total s of steps ($((SECONDS - started)) s this run)"
  # Stopped, so that the measurement's PostgreSQL runs at normal priority.
  tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" stop -D "$(tchat::pg_data)" -m fast -w >/dev/null
}

b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
uid() { printf '00000000-0000-7000-8000-%012x' "$1"; }
cid() { printf '00000001-0000-7000-8000-%012x' "$1"; }

# The plan of tchat-scale-load (bench/scale/scale_load.cpp) for scale $1.
write_plan() {
  local msg="http://127.0.0.1:$TCHAT_MESSAGING_PORT" pay="http://127.0.0.1:$TCHAT_PAYMENT_PORT"
  local ntf="http://127.0.0.1:$TCHAT_NOTIFICATION_PORT" i j u h d x
  # Light users: 20 ordinary ones (not heavy, each in direct conversation u with u + 1).
  local light=()
  for ((i = 0; i < 20; i++)); do light+=($((U / 4 + i * (U / 50)))); done
  {
    for ((j = 0; j < 5; j++)); do
      printf 'history_newest\tGET\t%s\t%s\t/v1/conversations/%s/messages?limit=50\n' "$msg" "$(uid $((j + 1)))" "$(cid "$j")"
    done
    for ((j = 0; j < 5; j++)); do
      printf 'history_year_back\tGET\t%s\t%s\t/v1/conversations/%s/messages?limit=50&before_seq=60\n' "$msg" "$(uid $((j + 1)))" "$(cid "$j")"
    done
    for u in "${light[@]}"; do printf 'conv_list_light\tGET\t%s\t%s\t/v1/conversations?limit=50\n' "$msg" "$(uid "$u")"; done
    for ((h = 0; h < H; h++)); do printf 'conv_list_heavy\tGET\t%s\t%s\t/v1/conversations?limit=50\n' "$msg" "$(uid "$h")"; done
    for d in 3600:1h 86400:1d 604800:7d; do
      x=$((X0 + (365 * 86400 - ${d%%:*}) / 30))
      for u in "${light[@]}"; do
        printf 'sync_%s\tGET\t%s\t%s\t/v1/sync?since=s1.%s\n' "${d##*:}" "$msg" "$(uid "$u")" "$(b64url "$x:$x:")"
      done
    done
    for u in "${light[@]}"; do printf 'wallet_balance\tGET\t%s\t%s\t/v1/wallets\n' "$pay" "$(uid "$u")"; done
    for u in "${light[@]}"; do printf 'tx_history_newest\tGET\t%s\t%s\t/v1/transactions?limit=50\n' "$pay" "$(uid "$u")"; done
    for u in "${light[@]}"; do
      printf 'tx_history_deep\tGET\t%s\t%s\t/v1/transactions?limit=50&cursor=%s\n' "$pay" "$(uid "$u")" $((2 * U + T))
    done
    for u in "${light[@]}"; do printf 'inbox\tGET\t%s\t%s\t/v1/notifications?limit=20\n' "$ntf" "$(uid "$u")"; done
  } >"$TCHAT_RUN_DIR/plan-reads.tsv"
  {
    # User i and i + 1 share direct conversation i (gen_messaging.sql's layout).
    for u in "${light[@]}"; do
      printf 'send\tPOST\t%s\t%s\t/v1/conversations/%s/messages\t{"client_msg_id":"scale-{n}","type":"text","body":"a message sent by the scale benchmark"}\n' \
        "$msg" "$(uid "$u")" "$(cid "$u")"
    done
  } >"$TCHAT_RUN_DIR/plan-send.tsv"
}

# explain DB NAME SQL: the statement's buffers (shared hit + read) and execution
# time from EXPLAIN (ANALYZE, BUFFERS): the database's work per read, which does
# not depend on how busy the machine is, unlike the latencies. The second run in
# one session counts, as in a service's pooled connection: the first also reads
# the catalogue for a function's plans (~400 buffers for msg_conversation_page).
explain() {
  local db="$1" name="$2" sql="$3" json
  json="$(psql_db "$db" -At -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) $sql" \
    -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) $sql" | jq -c -s '.[1]')" ||
    tchat::die "EXPLAIN failed for $name"
  jq -r --arg n "$name" '.[0] | "explain \($n) buffers=\(.Plan["Shared Hit Blocks"] + .Plan["Shared Read Blocks"]) exec_ms=\(."Execution Time")"' <<<"$json"
}

# The services' statements behind each read (as in services/*/src at this commit),
# for the plan's users and conversations.
explain_reads() {
  explain_samples | awk '{ split($3, b, "="); split($4, e, "="); n[$2]++; buf[$2] += b[2]; ms[$2] += e[2]
                           if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
    END { for (i = 1; i <= k; i++) { x = order[i]
            printf "explain %s buffers=%.0f exec_ms=%.3f\n", x, buf[x] / n[x], ms[x] / n[x] } }'
}

explain_samples() {
  local u h x d i page
  for h in 0 1 2; do
    explain tchat_messaging history_newest "SELECT * FROM messages m WHERE m.conversation_id = '$(cid "$h")'
      AND m.seq < 9223372036854775807 ORDER BY m.seq DESC LIMIT 51"
    explain tchat_messaging history_year_back "SELECT * FROM messages m WHERE m.conversation_id = '$(cid "$h")'
      AND m.seq < 60 ORDER BY m.seq DESC LIMIT 51"
  done
  for i in 0 1 2; do
    for x in "conv_list_light:$(uid $((U / 4 + i * (U / 50))))" "conv_list_heavy:$(uid 0)"; do
      page="msg_conversation_page('${x#*:}', 'epoch'::timestamptz + 253402300799000000 * interval '1 microsecond',
        'ffffffff-ffff-ffff-ffff-ffffffffffff', 51)"
      explain tchat_messaging "${x%%:*}" "SELECT c.id, c.last_seq, c.last_read_seq FROM $page c
        ORDER BY c.updated_at DESC, c.id DESC"
      explain tchat_messaging "${x%%:*}_unread" "SELECT k.id, (SELECT count(*) FROM (SELECT 1 FROM messages m
        WHERE m.conversation_id = k.id AND m.seq > k.last_read_seq AND m.seq <= k.last_seq
        AND m.sender_id <> '${x#*:}' LIMIT 1000) z) FROM (SELECT * FROM $page c
        ORDER BY c.updated_at DESC, c.id DESC LIMIT 50) k"
      # The page's members (pgrows::MemberDetail::kListPage), its own read included.
      explain tchat_messaging "${x%%:*}_members" "WITH k AS MATERIALIZED (SELECT c.id, c.type FROM $page c
        ORDER BY c.updated_at DESC, c.id DESC LIMIT 50)
        SELECT conversation_id, user_id, NULL::bigint FROM members
          WHERE conversation_id IN (SELECT id FROM k WHERE type = 'direct')
        UNION ALL SELECT conversation_id, user_id, NULL FROM members
          WHERE conversation_id IN (SELECT id FROM k WHERE type = 'group') AND user_id = '${x#*:}'
        UNION ALL SELECT k.id, NULL, (SELECT count(*) FROM members m WHERE m.conversation_id = k.id) FROM k
          WHERE k.type = 'group'"
    done
    u="$(uid $((U / 4 + i * (U / 50))))"
    for d in 3600:1h 86400:1d 604800:7d; do
      x=$((X0 + (365 * 86400 - ${d%%:*}) / 30))
      explain tchat_messaging "sync_${d##*:}" "SELECT c.id, z.n FROM msg_user_conversations('$u') c
        CROSS JOIN LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
          AND m.change_xid >= pg_snapshot_xmin('$x:$x:') AND NOT pg_visible_in_snapshot(m.change_xid, '$x:$x:')
          ORDER BY m.seq LIMIT 51) y) z
        WHERE NOT pg_visible_in_snapshot(c.change_xid, '$x:$x:')"
    done
    explain tchat_payment wallet_balance "SELECT currency, balance FROM accounts WHERE kind = 'user' AND user_id = '$u'"
    for x in "tx_history_newest:9223372036854775807" "tx_history_deep:$((2 * U + T))"; do
      explain tchat_payment "${x%%:*}" "SELECT p.id, e.id, e.kind, p.amount FROM accounts a
        CROSS JOIN LATERAL (SELECT * FROM postings q WHERE q.account_id = a.id AND q.id < ${x#*:}
        ORDER BY q.id DESC LIMIT 51) p JOIN journal_entries e ON e.id = p.entry_id
        WHERE a.kind = 'user' AND a.user_id = '$u' ORDER BY p.id DESC LIMIT 51"
    done
    explain tchat_notification inbox "WITH page AS (SELECT id, kind, created_at FROM notifications
        WHERE user_id = '$u' ORDER BY created_at DESC, id DESC LIMIT 21),
      unread AS (SELECT count(*) AS n FROM notifications WHERE user_id = '$u' AND read_at IS NULL)
      SELECT page.id, unread.n FROM unread LEFT JOIN page ON true"
  done
}

sizes_report() {
  psql_db tchat_messaging -At -F ' ' -c "
    SELECT 'size messages rows=' || count(*) || ' table_bytes=' || pg_table_size('messages')
      || ' index_bytes=' || pg_indexes_size('messages')
      || ' bytes_per_message=' || round(pg_total_relation_size('messages')::numeric / greatest(count(*), 1))
    FROM messages"
  psql_db tchat_messaging -At -F ' ' -c "
    SELECT 'index ' || indexrelname || ' bytes=' || pg_relation_size(indexrelid)
    FROM pg_stat_user_indexes WHERE relname IN ('messages', 'members', 'conversations') ORDER BY 1"
  psql_db tchat_payment -At -F ' ' -c "
    SELECT 'size postings rows=' || (SELECT count(*) FROM postings) || ' table_bytes=' || pg_table_size('postings')
      || ' index_bytes=' || pg_indexes_size('postings')
      || ' journal_entries_bytes=' || pg_total_relation_size('journal_entries')
      || ' transfers_bytes=' || pg_total_relation_size('transfers')
      || ' bytes_per_posting=' || round(pg_total_relation_size('postings')::numeric / greatest((SELECT count(*) FROM postings), 1))
      || ' bytes_per_transfer_all_tables=' || round((pg_total_relation_size('postings') + pg_total_relation_size('journal_entries')
         + pg_total_relation_size('transfers'))::numeric / greatest((SELECT count(*) FROM transfers), 1))"
  psql_db tchat_notification -At -F ' ' -c "
    SELECT 'size notifications rows=' || count(*) || ' total_bytes=' || pg_total_relation_size('notifications')
    FROM notifications"
  local db
  for db in "${DBS[@]/#/tchat_}"; do
    psql_db "$db" -At -c "SELECT 'database $db bytes=' || pg_database_size(current_database())"
  done
}

measure_scale() {
  local p="$1"
  use_scale "$p"
  sizes_for "$p"
  [[ -f "$gen/complete" ]] || tchat::die "scale $p % is not generated (run without --measure-only)"
  # shellcheck disable=SC1091
  source "$gen/meta.env"
  local out="$data/results-s$p.txt"
  echo "== scale $p %: starting the services on $TCHAT_RUN_DIR"
  "$ROOT/scripts/start.sh" --no-install --no-build >"$TCHAT_RUN_DIR/start.log" 2>&1 ||
    { tail -n 30 "$TCHAT_RUN_DIR/start.log" >&2; tchat::die "scripts/start.sh failed"; }
  # shellcheck disable=SC1091
  source "$TCHAT_RUN_DIR/secrets.env"
  local t0=$SECONDS verify
  verify="$(curl -s -m 1800 -H "Authorization: Bearer $TCHAT_ADMIN_TOKEN" \
    "http://127.0.0.1:$TCHAT_PAYMENT_PORT/v1/admin/ledger/verify")"
  echo "ledger_verify seconds=$((SECONDS - t0)) $(jq -c '{ok, counts, failed: [.checks[] | select(.ok | not) | .name]}' <<<"$verify")" |
    tee "$out"
  [[ "$(jq -r .ok <<<"$verify")" == true ]] || tchat::die "the ledger verification failed at scale $p %"
  write_plan
  local load=("$TCHAT_BUILD_DIR/bin/tchat-scale-load" --key-file "$TCHAT_RUN_DIR/jwt-signing-keys.json"
    --concurrency "$concurrency" --duration "$duration" --warmup 2)
  tchat::psql postgres -c "CHECKPOINT" >/dev/null
  # Reads at a fixed offered rate (open loop): their latency, not the machine's maximum.
  "${load[@]}" --plan "$TCHAT_RUN_DIR/plan-reads.tsv" --rate "$rate" | sed "s/^/scale=$p /" | tee -a "$out"
  # Sends in a closed loop: the throughput of $concurrency senders.
  "${load[@]}" --plan "$TCHAT_RUN_DIR/plan-send.tsv" | sed "s/^/scale=$p /" | tee -a "$out"
  explain_reads | sed "s/^/scale=$p /" | tee -a "$out"
  sizes_report | sed "s/^/scale=$p /" | tee -a "$out"
  stop_stack
}

# --explain-only: the database side alone (PostgreSQL started, no services),
# replacing the scale's earlier explain lines.
explain_scale() {
  local p="$1" out="$data/results-s$1.txt"
  use_scale "$p"
  sizes_for "$p"
  [[ -f "$gen/complete" ]] || tchat::die "scale $p % is not generated"
  # shellcheck disable=SC1091
  source "$gen/meta.env"
  tchat::pg_start >/dev/null
  tchat::pg_setup_databases 2>/dev/null
  touch "$out"
  sed -i '/ explain /d; / size /d; / index /d; / database /d' "$out"
  explain_reads | sed "s/^/scale=$p /" | tee -a "$out"
  sizes_report | sed "s/^/scale=$p /" | tee -a "$out"
  tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" stop -D "$(tchat::pg_data)" -m fast -w >/dev/null
}

summary() {
  echo
  echo "== database work per read (EXPLAIN ANALYZE): buffers touched / execution ms, mean of the samples"
  cat "$data"/results-s*.txt 2>/dev/null | awk '
    $2 == "explain" {
      s = substr($1, 7) + 0; name = $3; split($4, b, "="); split($5, e, "=")
      buf[name, s] = b[2]; ms[name, s] = e[2]
      if (!(name in seen)) { seen[name] = 1; names[++n] = name }
      if (!(s in sc)) { sc[s] = 1; scales[++m] = s }
    }
    END {
      if (n == 0) exit
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (scales[j] < scales[i]) { t = scales[i]; scales[i] = scales[j]; scales[j] = t }
      printf "%-24s", "statement"
      for (i = 1; i <= m; i++) printf " %18s", scales[i] "% buf/ms"
      printf " %12s\n", "buf ratio"
      for (k = 1; k <= n; k++) {
        name = names[k]; printf "%-24s", name
        for (i = 1; i <= m; i++) printf " %18s", buf[name, scales[i]] "/" ms[name, scales[i]]
        lo = buf[name, scales[1]]; hi = buf[name, scales[m]]
        printf " %12s\n", (lo > 0 ? sprintf("%.2f", hi / lo) : "-")
      }
    }'
  echo
  echo "== summary: p50/p99 in ms per scale; ratio = p99 at the largest scale / p99 at the smallest"
  cat "$data"/results-s*.txt 2>/dev/null | awk '
    $2 == "result" {
      s = substr($1, 7) + 0; name = $3
      for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      p50[name, s] = v["p50_ms"]; p99[name, s] = v["p99_ms"]; rps[name, s] = v["rps"]; err[name, s] = v["errors"]
      if (!(name in seen)) { seen[name] = 1; names[++n] = name }
      if (!(s in sc)) { sc[s] = 1; scales[++m] = s }
    }
    END {
      if (n == 0) exit
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (scales[j] < scales[i]) { t = scales[i]; scales[i] = scales[j]; scales[j] = t }
      printf "%-18s", "read"
      for (i = 1; i <= m; i++) printf " %16s", scales[i] "% p50/p99"
      printf " %8s\n", "ratio"
      for (k = 1; k <= n; k++) {
        name = names[k]; printf "%-18s", name
        for (i = 1; i <= m; i++) printf " %16s", p50[name, scales[i]] "/" p99[name, scales[i]]
        lo = p99[name, scales[1]]; hi = p99[name, scales[m]]
        printf " %8s", (lo > 0 ? sprintf("%.2f", hi / lo) : "-")
        if (name == "send") printf "   msgs/s:"; 
        if (name == "send") for (i = 1; i <= m; i++) printf " %s", rps[name, scales[i]]
        printf "\n"
      }
    }'
}

mkdir -p "$data"
chmod 755 "$data"
for p in "${scales[@]}"; do
  if ((generate)); then generate_scale "$p"; fi
  if ((measure)); then measure_scale "$p"; fi
  if ((explain_only)); then explain_scale "$p"; fi
done
summary
