#!/usr/bin/env bash
# Benchmark: acknowledged transfers per second of tchat-payment (POST /v1/transfers
# through HTTP, each its own Idempotency-Key, synchronous_commit on) with uniform
# accounts and with a 10-account hot set, against pgbench's built-in tpcb-like
# script on the same PostgreSQL server with the same client count, in one run.
# Prints TPS, p50/p99 latency of each and the ratios to pgbench, then checks the
# ledger invariants (the service's verification endpoint and an independent SQL
# query). Not a test: the targets (>= 1.5x with uniform accounts, >= 1.0x with the
# hot set) are reported, not asserted. pgbench runs in its default (simple) query
# protocol unless --pgbench-mode prepared asks for the stronger anchor; pgbench
# scale = client count. Bounded: about 3 * (warmup + duration) plus set-up.
# tchat-auth runs beside the service, as deployed: the load generator's users sign
# up there (development OTP), and payment asks it whether the other user of a
# transfer exists (remembered 10 minutes per worker). The warm-up (10 s by default)
# also fills that cache, as steady traffic would: a shorter one leaves first
# transfers to a recipient, each with a round trip to auth, in the measured window
# (1000 uniform accounts on a shared 2-core machine: 0.65x and 0.95x of pgbench
# with 3 s, 1.76x with 15 s).
# Tails at half load (issue 22): after the uniform run, the same load generator
# offers transfers open loop at half the TPS it measured, for --half-duration
# seconds (0: skip), and prints p50/p99/p99.9 (target p99 <= 25 ms). Each phase
# also reports CPU-µs per acknowledged transfer of all server processes together
# (tchat-payment, tchat-auth, PostgreSQL, Redis; not the load generator), and the
# hot-set run the WAL and database bytes written per transfer.
#
# Usage: bench/payment_bench.sh [--clients N] [--duration SECONDS] [--warmup SECONDS]
#                               [--accounts N] [--hot N] [--pgbench-mode simple|prepared]
#                               [--half-duration SECONDS]
# Needs $TCHAT_BUILD_DIR (default build/) with bin/tchat-payment, bin/tchat-auth,
# bin/payment-load and bin/tchat-migrate (a release build), PostgreSQL 15,
# redis-server and openssl. Starts private servers on loopback ports and removes
# them after.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

clients=64
duration=20
warmup=10
accounts=1000
hot=10
pgbench_mode=simple
half_duration=20
PG_BIN="${TCHAT_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${TCHAT_BENCH_PG_PORT:-55491}"
REDIS_PORT="${TCHAT_BENCH_REDIS_PORT:-56391}"
SERVICE_PORT="${TCHAT_BENCH_SERVICE_PORT:-18291}"
AUTH_PORT="${TCHAT_BENCH_AUTH_PORT:-18295}"
BUILD="${TCHAT_BUILD_DIR:-$ROOT/build}"

usage() { sed -n '26,28p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --clients) clients="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --accounts) accounts="$2"; shift ;;
    --hot) hot="$2"; shift ;;
    --pgbench-mode) pgbench_mode="$2"; shift ;;
    --half-duration) half_duration="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$clients" "$duration" "$warmup" "$accounts" "$hot" "$half_duration"; do
  [[ "$n" =~ ^[0-9]+$ ]] || tchat::die "not a non-negative integer: $n"
done
((duration >= 1 && duration <= 120 && warmup <= 30 && clients >= 1 && clients <= 256 && half_duration <= 120)) ||
  tchat::die "keep it bounded: 1 <= --duration <= 120, --warmup <= 30, 1 <= --clients <= 256, --half-duration <= 120"
((hot >= 2 && accounts >= 2)) || tchat::die "--hot and --accounts need at least 2 accounts"
[[ "$pgbench_mode" == simple || "$pgbench_mode" == prepared ]] || tchat::die "--pgbench-mode simple|prepared"

for b in tchat-payment tchat-auth payment-load tchat-migrate; do
  [[ -x "$BUILD/bin/$b" ]] || tchat::die "$BUILD/bin/$b not found (build it; set TCHAT_BUILD_DIR)"
done
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/pgbench" "$PG_BIN/psql"; do
  [[ -x "$tool" ]] || tchat::die "$tool not found"
done
command -v redis-server >/dev/null || tchat::die "redis-server not found"
command -v curl >/dev/null || tchat::die "curl not found"
for port in "$PG_PORT" "$REDIS_PORT" "$SERVICE_PORT" "$AUTH_PORT"; do
  if tchat::port_open "$port"; then tchat::die "port $port is in use"; fi
done

# shellcheck source=scripts/lib/bench_pg.sh
source "$ROOT/scripts/lib/bench_pg.sh"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"  # tchat::seal_keypair
# shellcheck source=scripts/lib/bench_tails.sh
source "$ROOT/scripts/lib/bench_tails.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/tchat-payment-bench.XXXXXX")"
chmod 755 "$work"
service_pid=""
auth_pid=""
redis_pid=""
cleanup() {
  if [[ -n "$service_pid" ]]; then tchat::terminate_pid "$service_pid" 20 >/dev/null 2>&1 || true; fi
  if [[ -n "$auth_pid" ]]; then tchat::terminate_pid "$auth_pid" 20 >/dev/null 2>&1 || true; fi
  if [[ -n "$redis_pid" ]]; then tchat::terminate_pid "$redis_pid" 10 >/dev/null 2>&1 || true; fi
  tchat::bench_pg_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT

tchat::bench_pg_start "$work" "$PG_PORT" -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB
psql_() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "CREATE DATABASE tchat_payment" -c "CREATE DATABASE tchat_auth" \
  -c "CREATE DATABASE pgbench"
db_url="postgres://postgres@127.0.0.1:$PG_PORT/tchat_payment?sslmode=disable"
auth_db_url="postgres://postgres@127.0.0.1:$PG_PORT/tchat_auth?sslmode=disable"
for db in payment auth; do
  url="$db_url"
  [[ "$db" == auth ]] && url="$auth_db_url"
  "$BUILD/bin/tchat-migrate" -path "$ROOT/migrations/postgres/tchat_$db" -database "$url" up \
    >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; tchat::die "migration of tchat_$db failed"; }
done
# Scale = clients, as pgbench's documentation advises, so that tpcb-like is not
# serialised on fewer branch rows than there are clients.
tchat::log "pgbench -i -s $clients"
"$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -q -s "$clients" pgbench \
  >"$work/pgbench-init.log" 2>&1 || { cat "$work/pgbench-init.log" >&2; tchat::die "pgbench -i failed"; }

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  >"$work/redis.log" 2>&1 </dev/null &
redis_pid=$!

"$BUILD/bin/tchat-auth" --generate-key >"$work/keys.json"
chmod 600 "$work/keys.json"
seal_public="$(tchat::seal_keypair | sed -n 's/^TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY=//p')"
[[ -n "$seal_public" ]] || tchat::die "cannot generate an X25519 key (openssl)"
admin_token="bench-admin-$RANDOM$RANDOM"
psp_secret="bench-psp-$RANDOM$RANDOM"
# Auth as the users' home: development OTP on loopback, sign-in limits raised so
# that one host can sign the load generator's users up.
PORT="$AUTH_PORT" LISTEN_ADDRESS=127.0.0.1 DATABASE_URL="$auth_db_url" \
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" TCHAT_JWT_KEY_FILE="$work/keys.json" \
  TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY="$seal_public" TCHAT_DEV_OTP=1 TCHAT_THREADS=1 LOG_LEVEL=warn \
  AUTH_OTP_PER_IP_PER_HOUR=100000000 AUTH_OTP_VERIFY_PER_IP_PER_HOUR=100000000 \
  AUTH_ACCESS_TOKEN_TTL=3600 \
  "$BUILD/bin/tchat-auth" >"$work/auth.log" 2>&1 </dev/null &
auth_pid=$!
auth_ready() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AUTH_PORT/health/ready")" == 200 ]]; }
tchat::wait_until 20 auth_ready || { tail -n 20 "$work/auth.log" >&2; tchat::die "tchat-auth did not become ready"; }
curl -sf "http://127.0.0.1:$AUTH_PORT/.well-known/jwks.json" >"$work/jwks.json" ||
  tchat::die "cannot read auth's JWKS"
# The service as deployed: 2 workers, the outbox relay to Redis running, and the
# per-user rate limit checked on every transfer (a Redis round trip) but raised
# far above what the load generator reaches per account (it is a script on purpose).
PORT="$SERVICE_PORT" DATABASE_URL="$db_url" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  JWKS_FILE="$work/jwks.json" TCHAT_ADMIN_TOKEN="$admin_token" \
  TCHAT_PSP_WEBHOOK_SECRET="$psp_secret" TCHAT_AUTH_URL="http://127.0.0.1:$AUTH_PORT" \
  TCHAT_THREADS=2 LOG_LEVEL=warn \
  PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE=100000000 \
  "$BUILD/bin/tchat-payment" >"$work/service.log" 2>&1 </dev/null &
service_pid=$!
ready() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVICE_PORT/health/ready")" == 200 ]]; }
tchat::wait_until 20 ready || { tail -n 20 "$work/service.log" >&2; tchat::die "tchat-payment did not become ready"; }

cpu_pids="$service_pid,$auth_pid,$redis_pid,$(tchat::bench_pg_pid "$work/pg")"
load() {  # $1 accounts [options]
  local n="$1"
  shift
  "$BUILD/bin/payment-load" --url "http://127.0.0.1:$SERVICE_PORT" --auth-url "http://127.0.0.1:$AUTH_PORT" \
    --secret "$psp_secret" --clients "$clients" --accounts "$n" --duration "$duration" \
    --warmup "$warmup" --threads 2 --fund 5000000 --cpu-pids "$cpu_pids" "$@"
}
# A figure of the peak phase (before "half") or, with json_half, of the half-load one.
json_field() { local main="${1%%,\"half\":*}"; sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$main"; }
json_half() { [[ "$1" == *'"half":'* ]] && sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"${1#*\"half\":}"; }

tchat::log "transfers, $accounts uniform accounts, $clients clients, ${duration}s, then open loop at half for ${half_duration}s"
half_args=()
((half_duration > 0)) && half_args=(--half-duration "$half_duration")
uniform="$(load "$accounts" "${half_args[@]}")"
load_uniform="$(tchat::bench_loadavg)"
tchat::log "transfers, $hot-account hot set, $clients clients, ${duration}s"
lsn0="$(psql_ -d postgres -At -c "SELECT pg_current_wal_lsn()")"
read -r transfers0 dbsize0 < <(psql_ -d tchat_payment -At -F ' ' -c "SELECT count(*), pg_database_size('tchat_payment') FROM transfers")
hotset="$(load "$hot")"
read -r transfers1 dbsize1 < <(psql_ -d tchat_payment -At -F ' ' -c "SELECT count(*), pg_database_size('tchat_payment') FROM transfers")
wal_bytes="$(psql_ -d postgres -At -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")"

tchat::log "pgbench tpcb-like ($pgbench_mode), $clients clients, ${duration}s"
pg_cpu0="$(tchat::bench_tree_cpu_us "$(tchat::bench_pg_pid "$work/pg")")"
(cd "$work" && "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -b tpcb-like \
  -M "$pgbench_mode" -c "$clients" -j 2 -T "$((duration + warmup))" -l --log-prefix=pgb \
  pgbench >"$work/pgbench.log" 2>&1) || { cat "$work/pgbench.log" >&2; tchat::die "pgbench failed"; }
pg_tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/pgbench.log")"
# PostgreSQL's CPU per tpcb-like transaction (pgbench's own left out).
pg_cpu_us="$(awk -v a="$pg_cpu0" -v b="$(tchat::bench_tree_cpu_us "$(tchat::bench_pg_pid "$work/pg")")" \
  -v t="$pg_tps" -v d="$((duration + warmup))" 'BEGIN { printf "%.1f", (b - a) / (t * d) }')"
# Per-transaction latencies (µs, third column) of the same window as the load's.
read -r pg_p50 pg_p99 < <(cat "$work"/pgb.* | awk -v from="$warmup" '
  NR == 1 { t0 = $5 } { if ($5 - t0 >= from) print $3 }' | sort -n |
  awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0"; exit }
        printf "%.2f %.2f\n", v[int((NR - 1) * 0.5) + 1] / 1000, v[int((NR - 1) * 0.99) + 1] / 1000 }')

tchat::log "ledger invariants after the run"
verify="$(curl -s -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$SERVICE_PORT/v1/admin/ledger/verify")"
verify_ok="$([[ "$verify" == '{"ok":true'* ]] && echo yes || echo NO)"
independent="$(psql_ -d tchat_payment -At -c "
  SELECT (SELECT count(*) FROM (SELECT currency FROM postings GROUP BY currency HAVING sum(amount) <> 0) a)
       + (SELECT count(*) FROM accounts WHERE kind <> 'clearing' AND balance < 0)
       + (SELECT count(*) FROM accounts x WHERE x.balance <> (SELECT COALESCE(sum(amount), 0) FROM postings p WHERE p.account_id = x.id))
       + (SELECT count(*) FROM (SELECT from_user_id, idempotency_key FROM transfers WHERE idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d)")"
transfers_total="$(psql_ -d tchat_payment -At -c "SELECT count(*) FROM transfers")"
outbox_left="$(psql_ -d tchat_payment -At -c "SELECT count(*) FROM outbox WHERE published_at IS NULL")"

u_tps="$(json_field "$uniform" tps)"
h_tps="$(json_field "$hotset" tps)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n%-34s %10s %9s %9s %8s\n' "run ($clients clients, ${duration}s)" "TPS" "p50 ms" "p99 ms" "ratio"
printf '%-34s %10s %9s %9s %8s\n' "pgbench tpcb-like (scale $clients)" "$pg_tps" "$pg_p50" "$pg_p99" "1.00"
printf '%-34s %10s %9s %9s %8s\n' "payment, $accounts uniform accounts" "$u_tps" \
  "$(json_field "$uniform" p50_ms)" "$(json_field "$uniform" p99_ms)" "$(ratio "$u_tps" "$pg_tps")"
printf '%-34s %10s %9s %9s %8s\n' "payment, $hot-account hot set" "$h_tps" \
  "$(json_field "$hotset" p50_ms)" "$(json_field "$hotset" p99_ms)" "$(ratio "$h_tps" "$pg_tps")"
printf '\ntargets: uniform >= 1.50x (%s), hot set >= 1.00x (%s)\n' \
  "$(awk -v r="$(ratio "$u_tps" "$pg_tps")" 'BEGIN { print (r >= 1.5 ? "met" : "NOT met") }')" \
  "$(awk -v r="$(ratio "$h_tps" "$pg_tps")" 'BEGIN { print (r >= 1.0 ? "met" : "NOT met") }')"
printf 'errors: uniform %s, hot %s; refused: uniform %s, hot %s\n' \
  "$(json_field "$uniform" errors)" "$(json_field "$hotset" errors)" \
  "$(json_field "$uniform" refused)" "$(json_field "$hotset" refused)"
printf 'invariants: verification endpoint ok=%s, independent SQL violations=%s, transfers=%s, outbox unpublished=%s\n' \
  "$verify_ok" "$independent" "$transfers_total" "$outbox_left"
awk -v w="$wal_bytes" -v t0="$transfers0" -v t1="$transfers1" -v d0="$dbsize0" -v d1="$dbsize1" 'BEGIN {
  n = t1 - t0; if (n < 1) n = 1
  printf "per transfer (hot-set run, %d transfers; its 10 sign-ups and top-ups included): %.0f bytes of WAL, %.0f bytes of database growth\n", n, w / n, (d1 - d0) / n }'
printf 'anchor: PostgreSQL CPU per pgbench tpcb-like transaction %s µs; transfer CPU at the maximum / that = %s\n' \
  "$pg_cpu_us" "$(ratio "$(json_field "$uniform" cpu_us_per_op)" "$pg_cpu_us")"
tchat::bench_tail_header
printf '   (cpu_us_by_process in raw: tchat-payment/tchat-auth/Redis/PostgreSQL)\n'
tchat::bench_tail_row "transfer, closed loop (maximum)" "$u_tps" - "$(json_field "$uniform" p50_ms)" \
  "$(json_field "$uniform" p99_ms)" "$(json_field "$uniform" p999_ms)" \
  "$(json_field "$uniform" cpu_us_per_op)" "$(json_field "$uniform" runq_wait_us_per_op)" "$load_uniform" -
if ((half_duration > 0)); then
  tchat::bench_tail_row "transfer acknowledged, half" "$u_tps" "$(json_half "$uniform" rate)" \
    "$(json_half "$uniform" p50_ms)" "$(json_half "$uniform" p99_ms)" "$(json_half "$uniform" p999_ms)" \
    "$(json_half "$uniform" cpu_us_per_op)" "$(json_half "$uniform" runq_wait_us_per_op)" "$load_uniform" 25
fi
printf 'raw: uniform %s\n     hot %s\n' "$uniform" "$hotset"
