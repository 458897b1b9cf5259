#!/usr/bin/env bash
# Benchmark of the PostgreSQL read replica (docs/operations/read-replica.md), all
# figures from one run against a private primary (fsync on) and its streaming
# replica (scripts/lib/pg_replica.sh) on this machine:
#
#   1. message history pages (the messaging service's own query, 50 messages of a
#      random one of 200 conversations of 500 messages) read for D seconds by C
#      concurrent readers from the primary, then from the replica, while one
#      writer inserts messages on the primary: pages/s, p50, p99 side by side and
#      the replica/primary ratio (the anchor is the primary in the same run);
#   2. pg::ReadPool with its lag checks (250 ms) and C readers: the time from
#      stopping the replica to the first read answered by the primary, and from
#      its start to the first read answered by it again; failed reads (expected
#      0); median of N runs.
#
# Not a test: nothing is asserted. Bounded: about 2 * D + N * 8 s + setup.
# Usage: bench/pg_replica_bench.sh [--duration D] [--readers C] [--runs N]
# Needs $TCHAT_BUILD_DIR/bin/{tchat-replica-bench,tchat-migrate} (default build/)
# and PostgreSQL 15. Ports 27532 (primary) and 27542 (replica), TCHAT_BENCH_PG_PORT
# moves them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

duration=5
readers=16
runs=3
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift ;;
    --readers) readers="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    -h | --help) sed -n '17,18p' "$0" | sed 's/^# //'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

work="$(mktemp -d /tmp/tchat-replica-bench.XXXXXX)"
chmod 755 "$work"
export TCHAT_RUN_DIR="$work" TCHAT_PG_PORT="${TCHAT_BENCH_PG_PORT:-27532}" TCHAT_DURABLE=1
unset TCHAT_PG_REPLICA_PORT
tchat::defaults
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/pg_replica.sh
source "$ROOT/scripts/lib/pg_replica.sh"
cleanup() {
  tchat::pg_replica_stop >/dev/null 2>&1 || true
  tchat::pg_stop >/dev/null 2>&1 || true
  tchat::pg_replica_destroy
  tchat::pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT

bin="$TCHAT_BUILD_DIR/bin"
for b in tchat-replica-bench tchat-migrate; do
  [[ -x "$bin/$b" ]] || tchat::die "$bin/$b not found (cmake --build build --target $b)"
done
for port in "$TCHAT_PG_PORT" "$(tchat::pg_replica_port)"; do
  if tchat::port_open "$port"; then tchat::die "port $port is taken (set TCHAT_BENCH_PG_PORT)"; fi
done

tchat::pg_start >/dev/null 2>&1 || tchat::die "PostgreSQL did not start"
tchat::pg_create_db tchat_messaging 2>/dev/null
"$bin/tchat-migrate" -path "$ROOT/migrations/postgres/tchat_messaging" \
  -database "$(tchat::pg_url tchat_messaging)" up >/dev/null 2>&1 || tchat::die "migrations failed"
tchat::log "seeding 200 conversations of 500 messages"
tchat::psql tchat_messaging <<'SQL'
INSERT INTO conversations (id, type, title, created_by)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, 'group', 'bench',
       '00000000-0000-7000-8000-000000000001'::uuid
FROM generate_series(1, 200) c UNION ALL
SELECT '00000000-0000-7000-8000-0000000000ff'::uuid, 'group', 'writer', '00000000-0000-7000-8000-000000000001'::uuid;
INSERT INTO messages (conversation_id, seq, id, sender_id, type, body, created_at, change_xid)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, s, gen_random_uuid(),
       '00000000-0000-7000-8000-000000000001', 'text', repeat('message ', 8) || s, now(), pg_current_xact_id()
FROM generate_series(1, 200) c, generate_series(1, 500) s;
ANALYZE messages;
SQL
tchat::psql tchat_messaging -c "SELECT id FROM conversations WHERE title = 'bench'" >"$work/conversations"
tchat::pg_replica_start >/dev/null 2>&1 || tchat::die "the replica did not start"

echo "PostgreSQL primary 127.0.0.1:$TCHAT_PG_PORT, replica 127.0.0.1:$(tchat::pg_replica_port); $(nproc) cores"
"$bin/tchat-replica-bench" "$(tchat::pg_url tchat_messaging)" \
  "$(tchat::pg_replica_url tchat_messaging)" "$ROOT/scripts/pg-replica.sh" "$work/conversations" \
  "$duration" "$readers" "$runs"
