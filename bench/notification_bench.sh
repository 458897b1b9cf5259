#!/usr/bin/env bash
# Benchmark: the notification service from Redis stream to provider sink.
# Starts a private PostgreSQL and Redis (a temp directory, durability off, as in
# the tests), measures the anchor — redis-benchmark's XADD rate on that same
# Redis — then runs bench/notification/notification_loadgen: message.created
# events for offline users with --devices devices each, at --rate events/s for
# --duration seconds, through tchat-notification (webhook provider) to an
# in-process HTTP sink. Prints notifications delivered per second, events per
# second, event-to-sink latency percentiles and the backlog left when
# publishing stopped, and their ratio to the anchor.
# --sink-threads: threads of the provider stand-in (the in-process HTTP sink;
# default 2). With one, the sink bounded delivery on the busy shared machine:
# 3,000 notifications/s, p99 652 ms with 1 thread against 24 ms with 2, in two
# consecutive runs at load average 12 (2026-12-07, docs/CAPACITY.md).
# Tails at half load (issue 22), with --tails: first a run offered more than the
# service can take (--peak-rate events/s) measures its maximum (the steady
# delivery rate), then a run open loop at half of it and one at --target
# notifications/s (20,000: target p99 <= 100 ms), each with p50/p99/p99.9 and
# CPU-µs per notification of all server processes together (tchat-notification,
# PostgreSQL, Redis; not the load generator and its sink).
# Not a test: nothing is asserted. Bounded: about 2 * duration + 30 s per run.
#
# Usage: bench/notification_bench.sh [--rate EVENTS_PER_S] [--duration SECONDS]
#                                    [--devices N] [--users N] [--threads N]
#                                    [--collapse-window DUR] [--sink-threads N]
#                                    [--tails [--peak-rate EVENTS_PER_S] [--target NOTIFICATIONS_PER_S]]
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
sink_threads=2
tails=0
peak_rate=6000
target=20000
usage() { sed -n '21,25p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --devices) devices="$2"; shift ;;
    --users) users="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --collapse-window) collapse="$2"; shift ;;
    --sink-threads) sink_threads="$2"; shift ;;
    --tails) tails=1 ;;
    --peak-rate) peak_rate="$2"; shift ;;
    --target) target="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$rate" "$duration" "$devices" "$users" "$threads" "$peak_rate" "$target" "$sink_threads"; do
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
# shellcheck source=scripts/lib/bench_tails.sh
source "$ROOT/scripts/lib/bench_tails.sh"
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

# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"  # tchat::seal_keypair
# tchat-notification requires the key that opens sealed OTP codes.
TCHAT_NOTIFICATION_SEAL_KEY="$(tchat::seal_keypair | sed -n 's/^TCHAT_NOTIFICATION_SEAL_KEY=//p')"
[[ -n "$TCHAT_NOTIFICATION_SEAL_KEY" ]] || tchat::die "cannot generate an X25519 key (openssl)"
export TCHAT_NOTIFICATION_SEAL_KEY
cpu_pids="$(tchat::bench_pg_pid "$(tchat::pg_data)"),$(cat "$(tchat::redis_pidfile)")"
# run EVENTS_PER_S: one load generator run; its output is printed, the RESULT
# line kept in $result, the load average after it in $load1.
run() {
  echo "== notification: $1 events/s x ${duration}s, $devices devices per user, $users users, $threads worker threads, collapse window $collapse"
  local out
  out="$("$gen" --service-bin "$svc" --pg-url "$(tchat::pg_admin_url)" \
    --redis-url "redis://127.0.0.1:$TCHAT_REDIS_PORT/0" --rate "$1" --seconds "$duration" \
    --devices "$devices" --users "$users" --threads "$threads" --collapse-window "$collapse" \
    --sink-threads "$sink_threads" --cpu-pids "$cpu_pids")" || true
  load1="$(tchat::bench_loadavg)"
  echo "$out" | grep -v '^RESULT '
  result="$(echo "$out" | grep '^RESULT ' || true)"
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$result"; }

if ((tails == 0)); then
  run "$rate"
  delivered="$(field delivered_per_s)"
  events="$(field events_per_s)"
  if [[ -n "$delivered" && -n "$anchor" ]]; then
    awk -v d="$delivered" -v e="$events" -v a="$anchor" 'BEGIN {
      printf "ratio: events consumed / XADD anchor = %.3f; notifications delivered / XADD anchor = %.3f\n", e / a, d / a }'
  fi
  exit 0
fi

run "$peak_rate"
max="$(field delivered_per_s)"
[[ -n "$max" ]] || tchat::die "the peak run gave no figures"
peak=("$max" "$(field offered_events_per_s)" "$(field p50_ms)" "$(field p99_ms)" "$(field p999_ms)" \
  "$(field cpu_us_per_notification)" "$(field runq_wait_us_per_notification)" "$load1")
half_events="$(awk -v m="$max" -v d="$devices" 'BEGIN { h = int(m / 2 / d); print (h < 1 ? 1 : h) }')"
run "$half_events"
half=("$(field p50_ms)" "$(field p99_ms)" "$(field p999_ms)" "$(field cpu_us_per_notification)" \
  "$(field runq_wait_us_per_notification)" "$load1")
target_events="$(awk -v t="$target" -v d="$devices" 'BEGIN { h = int(t / d); print (h < 1 ? 1 : h) }')"
run "$target_events"
tchat::bench_tail_header
tchat::bench_tail_row "notifications, offered ${peak[1]} ev/s" "${peak[0]}" "$((peak_rate * devices))" \
  "${peak[2]}" "${peak[3]}" "${peak[4]}" "${peak[5]}" "${peak[6]}" "${peak[7]}" -
tchat::bench_tail_row "event->provider, half" "$max" "$((half_events * devices))" "${half[@]}" 100
tchat::bench_tail_row "event->provider, $target/s" "$max" "$((target_events * devices))" "$(field p50_ms)" \
  "$(field p99_ms)" "$(field p999_ms)" "$(field cpu_us_per_notification)" \
  "$(field runq_wait_us_per_notification)" "$load1" 100
echo "(cpu_us_by_process: PostgreSQL/Redis/tchat-notification)"
echo "XADD anchor: $anchor per second; maximum notifications/s / anchor = $(awk -v m="$max" -v a="$anchor" 'BEGIN { printf "%.3f", m / a }')"
