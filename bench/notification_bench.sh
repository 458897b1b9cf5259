#!/usr/bin/env bash
# Benchmark: the notification service from Redis stream to provider sink.
# Starts a private PostgreSQL and Redis (a temp directory, durability off, as in
# the tests), measures the anchor — redis-benchmark's XADD rate on that same
# Redis — then runs bench/notification/notification_loadgen: message.created
# events for offline users with --devices devices each, at --rate events/s for
# --duration seconds, through tchat-notification (webhook provider) to an
# in-process HTTP sink. Prints notifications delivered per second, events per
# second, event-to-sink latency percentiles and the backlog left when
# publishing stopped, and their ratio to the anchor. Not a test: nothing is
# asserted. Bounded: about 2 * duration + 30 s.
#
# Usage: bench/notification_bench.sh [--rate EVENTS_PER_S] [--duration SECONDS]
#                                    [--devices N] [--users N] [--threads N]
#                                    [--collapse-window DUR]
# Needs $TCHAT_BUILD_DIR (default build/) with bin/tchat-notification and
# bin/notification_loadgen, PostgreSQL 15 and redis-server/redis-benchmark.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

rate=2500
duration=10
devices=10
users=2000
threads=2
collapse=0
usage() { sed -n '13,16p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --devices) devices="$2"; shift ;;
    --users) users="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --collapse-window) collapse="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$rate" "$duration" "$devices" "$users" "$threads"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || tchat::die "not a positive integer: $n"
done
((duration <= 120)) || tchat::die "keep it bounded: --duration <= 120"

build="${TCHAT_BUILD_DIR:-$ROOT/build}"
svc="$build/bin/tchat-notification"
gen="$build/bin/notification_loadgen"
[[ -x "$svc" ]] || tchat::die "$svc not found (scripts/build.sh)"
[[ -x "$gen" ]] || tchat::die "$gen not found (build target notification_loadgen)"
command -v redis-benchmark >/dev/null || tchat::die "redis-benchmark not found (redis-tools)"

export TCHAT_RUN_DIR
TCHAT_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tchat-ntf-bench.XXXXXX")"
chmod 755 "$TCHAT_RUN_DIR"
export TCHAT_PG_PORT="${TCHAT_BENCH_PG_PORT:-55497}" TCHAT_REDIS_PORT="${TCHAT_BENCH_REDIS_PORT:-56497}"
export TCHAT_DURABLE=0
tchat::defaults
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
cleanup() {
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::pg_stop >/dev/null 2>&1 || true
  rm -rf "$TCHAT_RUN_DIR"
}
trap cleanup EXIT
tchat::pg_start
tchat::redis_start

echo "== anchor: redis-benchmark XADD on the same Redis (50 clients, pipeline 1)"
anchor="$(redis-benchmark -h 127.0.0.1 -p "$TCHAT_REDIS_PORT" -n 200000 -c 50 -q \
  XADD bench.anchor '*' event '{"id":"x","type":"message.created","data":{}}' |
  tr '\r' '\n' | grep -Eo '[0-9.]+ requests per second' | tail -n 1 | awk '{print $1}')"
redis-cli -p "$TCHAT_REDIS_PORT" DEL bench.anchor >/dev/null
echo "XADD: ${anchor} per second"

echo "== notification: $rate events/s x ${duration}s, $devices devices per user, $users users, $threads worker threads, collapse window $collapse"
out="$("$gen" --service-bin "$svc" --pg-url "$(tchat::pg_admin_url)" \
  --redis-url "redis://127.0.0.1:$TCHAT_REDIS_PORT/0" --rate "$rate" --seconds "$duration" \
  --devices "$devices" --users "$users" --threads "$threads" --collapse-window "$collapse")" || true
echo "$out" | grep -v '^RESULT'
result="$(echo "$out" | grep '^RESULT' || true)"
delivered="$(sed -n 's/.*delivered_per_s=\([0-9.]*\).*/\1/p' <<<"$result")"
events="$(sed -n 's/.*events_per_s=\([0-9.]*\).*/\1/p' <<<"$result")"
if [[ -n "$delivered" && -n "$anchor" ]]; then
  awk -v d="$delivered" -v e="$events" -v a="$anchor" 'BEGIN {
    printf "ratio: events consumed / XADD anchor = %.3f; notifications delivered / XADD anchor = %.3f\n", e / a, d / a }'
fi
