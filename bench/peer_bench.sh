#!/usr/bin/env bash
# A peer, side by side (issue 22): Tchat's messaging service and ejabberd (Debian's
# package, mod_mam archiving to PostgreSQL), the same 1:1 chat load on each, in one
# run. One private PostgreSQL 15 (fsync and synchronous_commit on) holds both
# databases: tchat_messaging (Tchat's migrations) and ejabberd (the package's
# /usr/share/ejabberd/sql/pg.sql).
#
#   Tchat:    tchat-messaging (2 workers) + Redis + PostgreSQL, driven by
#             tchat-msg-loadgen latency mode over WebSocket;
#   ejabberd: ejabberd 23.01 (c2s, everything in SQL, mod_mam default: always)
#             + PostgreSQL, driven by tsung 1.7.0 over XMPP (bench/peer/tsung.xml.in).
#
# Both: --users clients in users/2 fixed pairs, each sending to its partner at
# rate/users messages/s (open loop, fixed period) for --duration seconds, 64-byte
# bodies. Per side and run:
#   - delivered messages/s;
#   - send -> deliver p50/p99, both stamped by the sending client as it builds the
#     message and read by the receiving client: tchat-msg-loadgen --stamp-at-write
#     to the message.new frame read by the peer, tsung's xmpp_msg_latency to its
#     receiving session parsing the stanza. What differs is in bench/peer/README.md;
#     bench/messaging_bench.sh stamps the scheduled time instead (stricter);
#   - server CPU-us per persisted, delivered message: utime+stime from /proc of the
#     server processes and all their descendants (PostgreSQL's exited backends
#     through the postmaster's cutime/cstime), read just before the first send and
#     after the last delivery (logins and disconnects stay outside), divided by the
#     messages both persisted (Tchat: rows in messages; ejabberd: messages with both
#     archive rows) and delivered (seen by the receiving client; for ejabberd see
#     bench/peer/lib.sh on tsung's count). The load generators' CPU does not count.
# The sides alternate which goes first; the summary prints medians and ratios.
# Other processes on the machine move the latencies far more than the CPU per
# message (which they still touch: caches, scheduling), so the load average is printed.
#
# Not a test: nothing is asserted except that the traffic was persisted and
# delivered (a figure from a run that lost messages would be wrong; the script
# stops). Bounded: about runs * (2 * duration + 60 s), 127.0.0.1 only.
#
# Usage: bench/peer_bench.sh [--users N] [--rate R] [--duration S] [--runs K]
#   defaults: 64 users, 200 messages/s, 20 s, 2 runs
# Ports (TCHAT_PEER_PORT_BASE, default 16000): PostgreSQL +432, Redis +379,
# tchat-messaging +82, ejabberd c2s +222, its HTTP API +280, its Erlang
# distribution +369, tsung's epmd +370 and distribution +371..+378.
# Needs $TCHAT_BUILD_DIR/bin/{tchat-messaging,tchat-msg-loadgen,tchat-migrate,
# tchat-keygen} (default build/), PostgreSQL 15, redis-server, and ejabberd,
# erlang-p1-pgsql and tsung (installed with scripts/install-deps.sh --peer when
# missing).
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

users=64
rate=200
duration=20
runs=2
usage() { sed -n '/^# Usage/,/^#   defaults/p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --users) users="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$users" "$rate" "$duration" "$runs"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || tchat::die "not a positive integer: $n"
done
((users % 2 == 0 && users <= 2000)) || tchat::die "--users must be even and <= 2000"
((rate <= 20000)) || tchat::die "keep it bounded: --rate <= 20000"
((duration <= 120)) || tchat::die "keep it bounded: --duration <= 120"
((runs <= 5)) || tchat::die "keep it bounded: --runs <= 5"
# Each user sends `messages` at a fixed period; the offered rate is users/period.
period="$(awk -v u="$users" -v r="$rate" 'BEGIN { printf "%.3f", u / r }')"
messages="$(awk -v d="$duration" -v p="$period" 'BEGIN { printf "%d", d / p }')"
((messages >= 1)) || tchat::die "fewer than one message per user: raise --duration"
awk -v p="$period" 'BEGIN { exit !(p >= 0.005) }' ||
  tchat::die "a send every $period s per user is below tsung's resolution: more --users"

BUILD="${TCHAT_BUILD_DIR:-$ROOT/build}"
for b in tchat-messaging tchat-msg-loadgen tchat-migrate tchat-keygen; do
  [[ -x "$BUILD/bin/$b" ]] || tchat::die "$BUILD/bin/$b not found (scripts/build.sh)"
done
if ! "$ROOT/scripts/install-deps.sh" --peer --check >/dev/null; then
  "$ROOT/scripts/install-deps.sh" --peer
fi
command -v python3 >/dev/null || tchat::die "python3 not found (scripts/install-deps.sh)"

base="${TCHAT_PEER_PORT_BASE:-16000}"
export TCHAT_RUN_DIR TCHAT_PG_PORT TCHAT_REDIS_PORT TCHAT_DURABLE=1
TCHAT_PG_PORT=$((base + 432))
TCHAT_REDIS_PORT=$((base + 379))
SERVICE_PORT=$((base + 82))
C2S_PORT=$((base + 222))
API_PORT=$((base + 280))
DIST_PORT=$((base + 369))
TSUNG_EPMD_PORT=$((base + 370))
for port in "$TCHAT_PG_PORT" "$TCHAT_REDIS_PORT" "$SERVICE_PORT" "$C2S_PORT" "$API_PORT" \
  "$DIST_PORT" "$TSUNG_EPMD_PORT"; do
  if tchat::port_open "$port"; then tchat::die "port $port is in use"; fi
done
TCHAT_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tchat-peer-bench.XXXXXX")"
chmod 755 "$TCHAT_RUN_DIR"
work="$TCHAT_RUN_DIR"
DOMAIN=peer.test
# shellcheck source=bench/peer/lib.sh
source "$ROOT/bench/peer/lib.sh"
trap peer::cleanup EXIT

tchat::log "$users users in $((users / 2)) pairs, $rate messages/s offered ($messages per user," \
  "one every ${period}s), ${duration}s, $runs runs; run dir $work"
tchat::pg_start
tchat::redis_start
tchat::pg_prealloc_wal 64
tchat::psql postgres -c "CREATE DATABASE tchat_messaging" -c "CREATE DATABASE ejabberd" >/dev/null
db_url="$(tchat::pg_url tchat_messaging)"
"$BUILD/bin/tchat-migrate" -path "$ROOT/migrations/postgres/tchat_messaging" -database "$db_url" up >/dev/null
tchat::psql ejabberd -q -f /usr/share/ejabberd/sql/pg.sql >/dev/null
"$BUILD/bin/tchat-keygen" "$work/keys.json" "$work/jwks.json" >/dev/null
peer::ejabberd_setup

results="$work/results.tsv"
printf 'run\tside\toffered_per_s\tsent\tpersisted\tdelivered\tdelivered_per_s\tp50_ms\tp99_ms\tserver_cpu_ms\tservice_cpu_ms\tpg_cpu_ms\tredis_cpu_ms\tcpu_us_per_msg\twindow_s\tidle_cpu_ms_per_s\tcpu_us_per_msg_net\tload_avg\n' >"$results"
for ((run = 1; run <= runs; run++)); do
  if ((run % 2 == 1)); then
    peer::run_tchat "$run"
    peer::run_ejabberd "$run"
  else
    peer::run_ejabberd "$run"
    peer::run_tchat "$run"
  fi
done

echo
echo "== peer benchmark: $users users, $rate messages/s offered, ${duration}s, $(nproc) cores"
python3 "$ROOT/bench/peer/report.py" summary "$results"
if [[ -n "${TCHAT_PEER_RESULTS:-}" ]]; then cp "$results" "$TCHAT_PEER_RESULTS"; fi
