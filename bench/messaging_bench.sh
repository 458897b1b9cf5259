#!/usr/bin/env bash
# Benchmark of the messaging service (issue 4), all figures from one run against a
# private PostgreSQL 15 (fsync and synchronous_commit on), Redis and one
# tchat-messaging process (2 workers), with the load generator on the same machine:
#
#   1. persisted throughput, 1:1 conversations over WebSocket: messages/s
#      acknowledged and delivered, against pgbench running a single-row INSERT
#      script with the same number of clients on the same PostgreSQL
#      (target: >= 1.5x pgbench's inserts/s);
#   2. send -> delivered latency p50/p99/p99.9 at half the rate of (1), open loop
#      (target p99 <= 15 ms, issue 22);
#   3. group fan-out with 100-member groups: deliveries/s (target >= 50,000/s);
#   4. idle WebSockets on one process: resident memory per connection
#      (target <= 10 KiB). RLIMIT_NOFILE caps how many one process can hold here;
#   5. one group of 1,000 members (issue 22), all online: its owner sends
#      --group-rate messages/s (open loop); send -> delivered p50/p99 over every
#      member's deliveries, then every member's unread count from its list page
#      (checked against the messages sent) and those reads' latency.
#
# (1), (2) and (3) also print CPU-µs per message (per delivery for (3)) of all server processes together
# (tchat-messaging, PostgreSQL with its backends, Redis; the load generator left
# out: scripts/lib/bench_tails.sh), and (1) the WAL and table bytes written per
# message (pg_current_wal_lsn and pg_total_relation_size before and after).
# Not a test: nothing is asserted. Bounded: about 7 * duration + setup.
#
# Usage: bench/messaging_bench.sh [--duration S] [--clients N] [--window W]
#            [--groups G] [--members M] [--idle N] [--skip-idle | --only-idle]
#            [--group-members N] [--group-rate R] [--only-group]
#            [--latency-samples FILE]
#   --only-idle runs section 4 alone (no pgbench, no load sections); --only-group
#   section 5 alone.
#   --latency-samples writes section 2's samples, "<send µs> <latency µs>" each.
# Needs $TCHAT_BUILD_DIR/bin/{tchat-messaging,tchat-msg-loadgen,tchat-migrate,tchat-keygen}
# (default build/), PostgreSQL 15 binaries and redis-server.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/bench_tails.sh
source "$ROOT/scripts/lib/bench_tails.sh"

duration=10
clients=64
window=64
groups=5
members=100
idle=""
samples=""
skip_idle=0
only_idle=0
only_group=0
group_members=1000
group_rate=10
usage() { sed -n '26,32p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --window) window="$2"; shift ;;
    --groups) groups="$2"; shift ;;
    --members) members="$2"; shift ;;
    --idle) idle="$2"; shift ;;
    --latency-samples) samples="$2"; shift ;;
    --skip-idle) skip_idle=1 ;;
    --only-idle) only_idle=1 ;;
    --only-group) only_group=1 ;;
    --group-members) group_members="$2"; shift ;;
    --group-rate) group_rate="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$duration" "$clients" "$window" "$groups" "$members" "$group_members" "$group_rate"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || tchat::die "not a positive integer: $n"
done
((skip_idle && only_idle)) && tchat::die "--skip-idle and --only-idle exclude each other"
((only_idle && only_group)) && tchat::die "--only-idle and --only-group exclude each other"
# At most 1,000 unread are counted, and the group's sends must all count.
((group_rate * (duration + 2) <= 1000)) || tchat::die "--group-rate * (--duration + 2) must be <= 1000"
if ((only_group)); then skip_idle=1; fi
((duration <= 120)) || tchat::die "keep it bounded: --duration <= 120"

BUILD="${TCHAT_BUILD_DIR:-$ROOT/build}"
for b in tchat-messaging tchat-msg-loadgen tchat-migrate tchat-keygen; do
  [[ -x "$BUILD/bin/$b" ]] || tchat::die "$BUILD/bin/$b not found (scripts/build.sh)"
done
PGBENCH="$TCHAT_PG_BIN/pgbench"
[[ -x "$PGBENCH" ]] || tchat::die "pgbench not found in $TCHAT_PG_BIN"

# One process may hold about as many sockets as its descriptor limit allows.
fd_limit="$(ulimit -Hn)"
ulimit -n "$fd_limit" 2>/dev/null || true
if [[ -z "$idle" ]]; then
  idle=50000
  if [[ "$fd_limit" != unlimited ]] && ((fd_limit - 500 < idle)); then idle=$((fd_limit - 500)); fi
fi

export TCHAT_RUN_DIR TCHAT_PG_PORT TCHAT_REDIS_PORT TCHAT_DURABLE=1
TCHAT_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tchat-msg-bench.XXXXXX")"
chmod 755 "$TCHAT_RUN_DIR"
TCHAT_PG_PORT="${TCHAT_BENCH_PG_PORT:-18440}"
TCHAT_REDIS_PORT="${TCHAT_BENCH_REDIS_PORT:-18441}"
SERVICE_PORT="${TCHAT_BENCH_SERVICE_PORT:-18442}"
for port in "$TCHAT_PG_PORT" "$TCHAT_REDIS_PORT" "$SERVICE_PORT"; do
  if tchat::port_open "$port"; then tchat::die "port $port is in use"; fi
done
work="$TCHAT_RUN_DIR"
service_pid=""
stop_service() {
  if [[ -n "$service_pid" ]]; then
    tchat::terminate_pid "$service_pid" 30 || true
    service_pid=""
  fi
}
cleanup() {
  stop_service
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::pg_stop >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

tchat::pg_start
tchat::redis_start
# Steady-state WAL, as on a server that has run: 1 GB of segments to reuse, and a
# checkpoint before each measured phase recycles what the phase before wrote
# (see tchat::pg_prealloc_wal). Without it, each new 16 MB segment of a fresh
# cluster stalls commits for 20-30 ms, which the latency percentiles would show
# as a property of the service.
tchat::pg_prealloc_wal 64
# Periodic maintenance runs before each phase rather than at a random point in
# one: a PostgreSQL checkpoint, and a Redis snapshot ("save 60 10000" would take
# one about a minute in, and its fork and write of the event stream compete with
# the phase for a core).
checkpoint() {
  tchat::psql postgres -c "CHECKPOINT" >/dev/null
  redis-cli -h 127.0.0.1 -p "$TCHAT_REDIS_PORT" SAVE >/dev/null
}
tchat::psql postgres -c "CREATE DATABASE tchat_messaging" -c "CREATE DATABASE pgbench_anchor"
db_url="$(tchat::pg_url tchat_messaging)"
"$BUILD/bin/tchat-migrate" -path "$ROOT/migrations/postgres/tchat_messaging" -database "$db_url" up >/dev/null
tchat::psql postgres -c "SHOW synchronous_commit" -c "SHOW fsync" | tr '\n' ' ' | sed 's/^/postgres: synchronous_commit fsync = /'
echo
"$BUILD/bin/tchat-keygen" "$work/keys.json" "$work/jwks.json" >/dev/null

start_service() {
  tchat::bench_messaging_start "$SERVICE_PORT" "$db_url" "$TCHAT_REDIS_PORT" "$work" "$BUILD"
  service_pid=$!
  ready() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVICE_PORT/health/ready")" == 200 ]]; }
  tchat::wait_until 20 ready || { tail -n 20 "$work/service.log" >&2; tchat::die "tchat-messaging did not start"; }
}
loadgen() {
  "$BUILD/bin/tchat-msg-loadgen" "$@" --url "http://127.0.0.1:$SERVICE_PORT" \
    --key-file "$work/keys.json" | tee -a "$work/loadgen.out"
}
value() { awk -v k="$1" '$1 == k { print $2 }' "$work/loadgen.out" | tail -n1; }
# The server processes whose CPU counts: the service, PostgreSQL and Redis.
cpu_pids() { echo "$service_pid,$(tchat::bench_pg_pid "$(tchat::pg_data)"),$(cat "$(tchat::redis_pidfile)")"; }
# WAL position, and the messages table's rows and bytes (table + indexes + TOAST).
wal_lsn() { tchat::psql postgres -Atc "SELECT pg_current_wal_lsn()"; }
message_stats() {
  tchat::psql tchat_messaging -Atc "SELECT count(*), pg_total_relation_size('messages') FROM messages" | tr '|' ' '
}

pgbench_tps=0 acked=0 delivered=0 half=0
if ((only_idle == 0 && only_group == 0)); then
# --- 1. persisted throughput vs pgbench --------------------------------------
echo "== anchor: pgbench, single-row INSERT, $clients clients, ${duration}s"
tchat::psql pgbench_anchor -c "CREATE TABLE anchor (id bigserial PRIMARY KEY, conversation_id uuid NOT NULL,
  body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
echo "INSERT INTO anchor (conversation_id, body) VALUES (gen_random_uuid(), 'a chat message of some sixty four bytes, more or less, like ours');" >"$work/insert.sql"
pg_threads=2
((clients < pg_threads)) && pg_threads="$clients"
pg_cpu0="$(tchat::bench_tree_cpu_us "$(tchat::bench_pg_pid "$(tchat::pg_data)")")"
pgbench_out="$(tchat::pg_exec "$PGBENCH" -h 127.0.0.1 -p "$TCHAT_PG_PORT" -U postgres -n \
  -f "$work/insert.sql" -c "$clients" -j "$pg_threads" -T "$duration" pgbench_anchor 2>&1)"
pgbench_tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$pgbench_out" | head -n1)"
echo "pgbench_inserts_per_second $pgbench_tps"
# The anchor's PostgreSQL CPU per committed insert (pgbench itself left out).
awk -v a="$pg_cpu0" -v b="$(tchat::bench_tree_cpu_us "$(tchat::bench_pg_pid "$(tchat::pg_data)")")" \
  -v t="$pgbench_tps" -v d="$duration" 'BEGIN { printf "pgbench_pg_cpu_us_per_insert %.1f\n", (b - a) / (t * d) }' |
  tee -a "$work/loadgen.out"
# Leave no clean-up of the anchor's rows (autovacuum, dirty buffers) to land in
# the service's measurement, as nothing came before the anchor's.
tchat::psql pgbench_anchor -c "VACUUM ANALYZE anchor" >/dev/null
checkpoint

start_service
echo "== 1. throughput: $clients WebSocket clients in $((clients / 2)) direct conversations, window $window, ${duration}s"
lsn0="$(wal_lsn)"
read -r rows0 bytes0 < <(message_stats)
loadgen throughput --clients "$clients" --window "$window" --duration "$duration" --warmup 3 \
  --cpu-pids "$(cpu_pids)"
load_peak="$(tchat::bench_loadavg)"
acked="$(value throughput_acked_per_second)"
delivered="$(value throughput_delivered_per_second)"
read -r rows1 bytes1 < <(message_stats)
wal_bytes="$(tchat::psql postgres -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")"
awk -v w="$wal_bytes" -v r0="$rows0" -v r1="$rows1" -v b0="$bytes0" -v b1="$bytes1" 'BEGIN {
  n = r1 - r0; if (n < 1) n = 1
  printf "messages_written %d\nwal_bytes_per_message %.0f\ntable_bytes_per_message %.0f\n", n, w / n, (b1 - b0) / n }' |
  tee -a "$work/loadgen.out"

# --- 2. latency at half the maximum rate --------------------------------------
persisted="$(awk -v a="$acked" -v d="$delivered" 'BEGIN { print (a < d ? a : d) }')"
half="$(awk -v p="$persisted" 'BEGIN { printf "%d", p / 2 }')"
echo "== 2. latency at $half messages/s (half of $persisted), $clients clients, ${duration}s"
stop_service
checkpoint
start_service
loadgen latency --clients "$clients" --rate "$half" --duration "$duration" --warmup 2 \
  --cpu-pids "$(cpu_pids)" ${samples:+--samples-file "$samples"}
load_half="$(tchat::bench_loadavg)"

# --- 3. group fan-out -----------------------------------------------------------
echo "== 3. fan-out: $groups groups of $members members, ${duration}s"
stop_service
checkpoint
start_service
loadgen fanout --groups "$groups" --members "$members" --window 16 --duration "$duration" --warmup 3 \
  --cpu-pids "$(cpu_pids)"
load_fanout="$(tchat::bench_loadavg)"
fi

# --- 5. one large group ----------------------------------------------------------
if ((only_idle == 0)); then
  echo "== 5. one group of $group_members members, all online: $group_rate messages/s, ${duration}s"
  stop_service
  checkpoint
  start_service
  loadgen group --members "$group_members" --rate "$group_rate" --duration "$duration" --warmup 2
fi

# --- 4. idle connections --------------------------------------------------------
if ((skip_idle == 0)); then
  echo "== 4. $idle idle WebSocket connections on one process (descriptor limit $fd_limit)"
  stop_service
  start_service
  sleep 1
  loadgen idle --connections "$idle" --sources 4 --server-pid "$service_pid" --hold 5
fi

echo
echo "== summary"
((only_idle || only_group)) || awk -v pg="$pgbench_tps" -v a="$acked" -v d="$delivered" 'BEGIN {
  p = (a < d ? a : d);
  printf "1. persisted messages/s (acked %.0f, delivered %.0f) vs pgbench %.0f inserts/s: %.2fx (target >= 1.5x)\n", a, d, pg, (pg > 0 ? p / pg : 0) }'
((only_idle || only_group)) || printf "2. latency p50 %s ms, p99 %s ms, p99.9 %s ms at %s msg/s (target p99 <= 15 ms); ack p50 %s ms, p99 %s ms\n" \
  "$(value latency_p50_ms)" "$(value latency_p99_ms)" "$(value latency_p999_ms)" "$half" \
  "$(value ack_latency_p50_ms)" "$(value ack_latency_p99_ms)"
((only_idle || only_group)) || printf "   CPU per message at the maximum / PostgreSQL CPU per pgbench insert (%s µs) = %s\n" \
  "$(value pgbench_pg_cpu_us_per_insert)" "$(awk -v m="$(value throughput_cpu_us_per_message)" \
    -v a="$(value pgbench_pg_cpu_us_per_insert)" 'BEGIN { if (a > 0) printf "%.2f", m / a; else print "-" }')"
((only_idle || only_group)) || printf "   per message written: %s bytes of WAL, %s bytes of messages table + indexes\n" \
  "$(value wal_bytes_per_message)" "$(value table_bytes_per_message)"
((only_idle || only_group)) || printf "3. fan-out deliveries/s %s (messages/s %s; target >= 50000); server CPU %s µs per delivery (load %s)\n" \
  "$(value fanout_delivered_per_second)" "$(value fanout_acked_per_second)" \
  "$(awk -v c="$(value fanout_cpu_seconds)" -v d="$(value fanout_delivered_per_second)" -v t="$duration" \
    'BEGIN { if (d > 0) printf "%.1f", c * 1e6 / (d * t); else print "-" }')" "$load_fanout"
if ((only_idle == 0 && only_group == 0)); then
  tchat::bench_tail_header
  printf '   (CPU µs per message by process, tchat-messaging/PostgreSQL/Redis: %s at the maximum, %s at half)\n' \
    "$(value throughput_cpu_us_per_message_by_process)" "$(value latency_cpu_us_per_message_by_process)"
  tchat::bench_tail_row "messaging 1:1, at the maximum" "$persisted" - - - - \
    "$(value throughput_cpu_us_per_message)" "$(value throughput_runq_wait_us_per_message)" "$load_peak" -
  tchat::bench_tail_row "messaging send->delivered, half" "$persisted" "$half" \
    "$(value latency_p50_ms)" "$(value latency_p99_ms)" "$(value latency_p999_ms)" \
    "$(value latency_cpu_us_per_message)" "$(value latency_runq_wait_us_per_message)" "$load_half" 15
fi
((only_idle)) || printf "5. group of %s: send -> delivered p50 %s ms, p99 %s ms (%s deliveries); unread right %s of %s (want %s), list read p50 %s ms, p99 %s ms\n" \
  "$group_members" "$(value group_latency_p50_ms)" "$(value group_latency_p99_ms)" "$(value group_latency_samples)" \
  "$(value unread_right)" "$((group_members - 1))" "$(value unread_expected)" \
  "$(value unread_list_p50_ms)" "$(value unread_list_p99_ms)"
if ((skip_idle == 0)); then
  printf "4. %s idle connections: %s KiB resident per connection (target <= 10 KiB)\n" \
    "$(value idle_connections)" "$(value server_kib_per_connection)"
fi
