#!/usr/bin/env bash
# Benchmark of tchat-auth against the Keycloak anchors: OTP sign-ins per second
# (code verification + first sign-in: user, session, refresh token, access token),
# refresh-token rotations per second (over HTTP, PostgreSQL with
# synchronous_commit on), password logins per second (Argon2id), and access-token
# verifications per second of the shared verifier (in process, one thread).
# "Per core" is operations per CPU-second of the tchat-auth process (read from
# /proc during the timed phase), with the service on one worker thread; the
# database, Redis and the load generator run beside it on the same machine.
# Not a test: the targets (>= 10x Keycloak per core for refresh and OTP
# sign-in, >= 50,000 cached verifications/s per core) are reported, not asserted.
# Tails at half load (issue 22): OTP sign-in and refresh then run again open loop
# at half the rate each measured (--duration seconds), printing p50/p99/p99.9
# (targets: OTP verify p99 <= 25 ms, refresh p99 <= 10 ms) and CPU-µs per
# operation of all server processes together (tchat-auth, PostgreSQL, Redis; the
# load generator left out).
#
# Usage: bench/auth_bench.sh [--signins N] [--duration SECONDS] [--clients N] [--threads N]
# Needs $TCHAT_BUILD_DIR (default build/) with bin/tchat-auth, bin/auth_loadgen and
# bin/tchat-migrate (a release build), PostgreSQL 15 and redis-server. Starts
# private servers on loopback ports and removes them afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

signins=3000
duration=10
clients=32
threads=1
PG_BIN="${TCHAT_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${TCHAT_BENCH_PG_PORT:-55493}"
REDIS_PORT="${TCHAT_BENCH_REDIS_PORT:-56393}"
SERVICE_PORT="${TCHAT_BENCH_SERVICE_PORT:-18293}"
BUILD="${TCHAT_BUILD_DIR:-$ROOT/build}"

usage() { sed -n '13,14p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --signins) signins="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$signins" "$duration" "$clients" "$threads"; do
  [[ "$n" =~ ^[0-9]+$ ]] || tchat::die "not a non-negative integer: $n"
done
((signins >= 100 && signins <= 100000 && duration >= 1 && duration <= 120 &&
  clients >= 1 && clients <= 256 && threads >= 1 && threads <= 16)) ||
  tchat::die "keep it bounded: 100 <= --signins <= 100000, 1 <= --duration <= 120, 1 <= --clients <= 256, 1 <= --threads <= 16"

for b in tchat-auth auth_loadgen tchat-migrate; do
  [[ -x "$BUILD/bin/$b" ]] || tchat::die "$BUILD/bin/$b not found (build it; set TCHAT_BUILD_DIR)"
done
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/psql"; do
  [[ -x "$tool" ]] || tchat::die "$tool not found"
done
command -v redis-server >/dev/null || tchat::die "redis-server not found"
command -v curl >/dev/null || tchat::die "curl not found"
for port in "$PG_PORT" "$REDIS_PORT" "$SERVICE_PORT"; do
  if tchat::port_open "$port"; then tchat::die "port $port is in use"; fi
done
if grep -q 'CMAKE_BUILD_TYPE:STRING=Debug' "$BUILD/CMakeCache.txt" 2>/dev/null; then
  tchat::warn "$BUILD is a Debug build: figures will be low (use a Release build)"
fi

# shellcheck source=scripts/lib/bench_pg.sh
source "$ROOT/scripts/lib/bench_pg.sh"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"  # tchat::seal_keypair
# shellcheck source=scripts/lib/bench_tails.sh
source "$ROOT/scripts/lib/bench_tails.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/tchat-auth-bench.XXXXXX")"
chmod 755 "$work"
service_pid=""
redis_pid=""
cleanup() {
  if [[ -n "$service_pid" ]]; then tchat::terminate_pid "$service_pid" 20 >/dev/null 2>&1 || true; fi
  if [[ -n "$redis_pid" ]]; then tchat::terminate_pid "$redis_pid" 10 >/dev/null 2>&1 || true; fi
  tchat::bench_pg_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT

tchat::bench_pg_start "$work" "$PG_PORT" -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=2GB
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -q -d postgres -c "CREATE DATABASE tchat_auth"
db_url="postgres://postgres@127.0.0.1:$PG_PORT/tchat_auth?sslmode=disable"
"$BUILD/bin/tchat-migrate" -path "$ROOT/migrations/postgres/tchat_auth" -database "$db_url" up \
  >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; tchat::die "migration failed"; }

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  >"$work/redis.log" 2>&1 </dev/null &
redis_pid=$!

"$BUILD/bin/tchat-auth" --generate-key >"$work/jwt-key.json"
chmod 600 "$work/jwt-key.json"
# OTP codes are sealed to the notification service's key (required by tchat-auth).
seal_public="$(tchat::seal_keypair | sed -n 's/^TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY=//p')"
[[ -n "$seal_public" ]] || tchat::die "cannot generate an X25519 key (openssl)"
# The load generator spreads its requests over many client addresses; limits are
# raised only so that one host can drive the whole benchmark.
PORT="$SERVICE_PORT" LISTEN_ADDRESS=127.0.0.1 DATABASE_URL="$db_url" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  TCHAT_JWT_KEY_FILE="$work/jwt-key.json" TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY="$seal_public" TCHAT_DEV_OTP=1 TCHAT_THREADS="$threads" \
  LOG_LEVEL=warn AUTH_OTP_PER_NUMBER_PER_HOUR=1000 AUTH_OTP_PER_IP_PER_HOUR=100000000 \
  AUTH_OTP_VERIFY_PER_IP_PER_HOUR=100000000 AUTH_LOGIN_PER_IP_PER_HOUR=100000000 \
  AUTH_MAX_SESSIONS_PER_USER=200 db_max_open_conns=64 \
  "$BUILD/bin/tchat-auth" >"$work/service.log" 2>&1 </dev/null &
service_pid=$!
ready() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVICE_PORT/health/ready")" == 200 ]]; }
tchat::wait_until 20 ready || { tail -n 20 "$work/service.log" >&2; tchat::die "tchat-auth did not become ready"; }

url="http://127.0.0.1:$SERVICE_PORT"
cpu_pids="$service_pid,$redis_pid,$(tchat::bench_pg_pid "$work/pg")"
load() { "$BUILD/bin/auth_loadgen" --url "$url" --pid "$service_pid" --cpu-pids "$cpu_pids" "$@"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

tchat::log "warm-up"
load --mode otp --count 200 --concurrency "$clients" >/dev/null
tchat::log "OTP sign-ins of $signins new users, $clients in flight"
otp="$(load --mode otp --count "$signins" --concurrency "$clients")"
load_otp="$(tchat::bench_loadavg)"
otp_half_rate="$(tchat::bench_half "$(field "$otp" rate)")"
tchat::log "OTP sign-ins open loop at $otp_half_rate/s (half), ${duration}s"
otp_half="$(load --mode otp --rate "$otp_half_rate" --duration "$duration" --concurrency "$clients")"
load_otp_half="$(tchat::bench_loadavg)"
tchat::log "refresh rotations, $clients sessions, ${duration}s"
refresh="$(load --mode refresh --duration "$duration" --concurrency "$clients")"
load_refresh="$(tchat::bench_loadavg)"
refresh_half_rate="$(tchat::bench_half "$(field "$refresh" rate)")"
tchat::log "refresh rotations open loop at $refresh_half_rate/s (half), $clients sessions, ${duration}s"
refresh_half="$(load --mode refresh --rate "$refresh_half_rate" --duration "$duration" --concurrency "$clients")"
load_refresh_half="$(tchat::bench_loadavg)"
tchat::log "password logins (Argon2id), 4 in flight, ${duration}s"
login="$(load --mode login --duration "$duration" --concurrency 4)"
tchat::log "shared verifier, one thread, ${duration}s each"
verify="$("$BUILD/bin/auth_loadgen" --mode verify --duration "$duration")"
verify_cached="$(grep 'mode=verify_cached' <<<"$verify")"
verify_uncached="$(grep 'mode=verify_uncached' <<<"$verify")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
met() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b ? "met" : "NOT met") }'; }
printf '\ntchat-auth on %s worker thread(s); %s CPUs on this machine, shared with PostgreSQL, Redis and the load generator\n' \
  "$threads" "$(nproc)"
printf '%-36s %10s %12s %9s %9s %14s\n' "figure" "ops/s" "per core" "p50 ms" "p99 ms" "vs Keycloak"
row() {  # name line anchor
  printf '%-36s %10s %12s %9s %9s %14s\n' "$1" "$(field "$2" rate)" "$(field "$2" per_core)" \
    "$(field "$2" p50_ms)" "$(field "$2" p99_ms)" "$3"
}
row "OTP sign-in (verify + token issue)" "$otp" \
  "$(ratio "$(field "$otp" per_core)" 15) (login 15/s)"
row "refresh-token rotation" "$refresh" "$(ratio "$(field "$refresh" per_core)" 120) (120/s)"
row "password login (Argon2id 64 MiB)" "$login" "$(ratio "$(field "$login" per_core)" 15) (15/s)"
printf '%-36s %10s %12s %9s %9s %14s\n' "token verification, cached" "$(field "$verify_cached" rate)" \
  "$(field "$verify_cached" per_core)" "-" "-" "-"
printf '%-36s %10s %12s %9s %9s %14s\n' "token verification, uncached" "$(field "$verify_uncached" rate)" \
  "$(field "$verify_uncached" per_core)" "-" "-" "-"
printf '\ntargets: refresh >= 1,200/s per core (%s), OTP sign-in >= 10x Keycloak: >= 150/s per core vs logins (%s), >= 1,200/s vs refresh (%s); cached verification >= 50,000/s per core (%s)\n' \
  "$(met "$(field "$refresh" per_core)" 1200)" "$(met "$(field "$otp" per_core)" 150)" \
  "$(met "$(field "$otp" per_core)" 1200)" "$(met "$(field "$verify_cached" per_core)" 50000)"
printf 'errors: otp %s (half %s), refresh %s (half %s), login %s\n' "$(field "$otp" errors)" \
  "$(field "$otp_half" errors)" "$(field "$refresh" errors)" "$(field "$refresh_half" errors)" \
  "$(field "$login" errors)"
tchat::bench_tail_header
printf '   (cpu_us_by_process in raw: tchat-auth/Redis/PostgreSQL)\n'
tail_row() {  # name line max offered load target
  tchat::bench_tail_row "$1" "$3" "$4" "$(field "$2" p50_ms)" "$(field "$2" p99_ms)" \
    "$(field "$2" p999_ms)" "$(field "$2" cpu_us_per_op)" "$(field "$2" runq_wait_us_per_op)" "$5" "$6"
}
tail_row "OTP verify->tokens, closed loop" "$otp" "$(field "$otp" rate)" - "$load_otp" -
tail_row "OTP verify->tokens, half" "$otp_half" "$(field "$otp" rate)" "$otp_half_rate" "$load_otp_half" 25
tail_row "refresh, closed loop" "$refresh" "$(field "$refresh" rate)" - "$load_refresh" -
tail_row "refresh, half" "$refresh_half" "$(field "$refresh" rate)" "$refresh_half_rate" "$load_refresh_half" 10
printf 'raw:\n  %s\n  %s\n  %s\n  %s\n  %s\n  %s\n  %s\n' "$otp" "$otp_half" "$refresh" "$refresh_half" \
  "$login" "$verify_cached" "$verify_uncached"
