#!/usr/bin/env bash
# data-fingerprint.sh — prints a fingerprint of the data of PostgreSQL and Redis,
# one line per table and per key, so that two moments (before a backup, after a
# restore) can be compared with diff:
#   pg <database>.<schema>.<table> rows=<n> md5=<checksum of the sorted rows>
#   redis <key> type=<type> ttl=<persist|volatile> md5=<checksum of the value>
# A stream's checksum covers its entries and its consumer groups' positions.
#
# Usage: scripts/data-fingerprint.sh [--local|--k8s] [--min-ttl SECONDS]
#   --min-ttl S  leaves out Redis keys that expire within S seconds (they may
#                legitimately be gone by the time of the comparison)
#   POSTGRES_HOST/PORT/USER/PASSWORD/SSLMODE, POSTGRES_DATABASES  as postgres-backup.sh
#   REDIS_URL    default: the local system's Redis
# Reads every row and key: meant for drills and verification, not for a large
# production data set.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

min_ttl=0
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --min-ttl)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
      min_ttl="$2"
      shift
      ;;
    *) tchat::ops_target_flag "$1" || { usage >&2; exit 2; } ;;
  esac
  shift
done
tchat::ops_init
tchat::require psql redis-cli md5sum
tchat::pg_env

# --- PostgreSQL: every ordinary table (partitions included) of every database.
while read -r db; do
  tables="$(psql -X -At -v ON_ERROR_STOP=1 --dbname="$db" -c "
    SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1")" ||
    tchat::die "cannot read the tables of $db"
  for table in $tables; do
    # Row order is not stable across a restore: hash each row, sort the hashes.
    line="$(psql -X -At -F ' ' -v ON_ERROR_STOP=1 --dbname="$db" -c "
      SELECT 'rows=' || count(*), 'md5=' || md5(coalesce(string_agg(h, '' ORDER BY h), ''))
        FROM (SELECT md5(t::text) AS h FROM $table t) s")" ||
      tchat::die "cannot read $db.$table"
    echo "pg $db.$table $line"
  done
done < <(tchat::backup_databases)

# --- Redis: every key of the database in REDIS_URL.
url="${REDIS_URL:-}"
if [[ -z "$url" ]]; then
  tchat::is_local || tchat::die "set REDIS_URL (or use --local)"
  url="$(tchat::local_redis_url)"
fi
r() { redis-cli --no-auth-warning -u "$url" "$@"; }
[[ "$(r PING 2>&1)" == PONG ]] || tchat::die "Redis does not answer at $url"

# The value of key $1 in a form that does not depend on the server's internal
# encoding or iteration order.
canonical() {
  local key="$1" type="$2"
  case "$type" in
    string) r GET "$key" ;;
    hash) r HGETALL "$key" | paste - - | LC_ALL=C sort ;;
    list) r LRANGE "$key" 0 -1 ;;
    set) r SMEMBERS "$key" | LC_ALL=C sort ;;
    zset) r ZRANGE "$key" 0 -1 WITHSCORES ;;
    stream)
      r XRANGE "$key" - +
      # Consumer groups: name, last delivered id, pending count.
      r XINFO GROUPS "$key" | paste - - | awk -F'\t' '$1 == "name" || $1 == "last-delivered-id" || $1 == "pending"'
      ;;
    *) echo "unsupported type $type" ;;
  esac
}

r --scan | LC_ALL=C sort | while IFS= read -r key; do
  type="$(r TYPE "$key")"
  [[ "$type" != none ]] || continue # expired meanwhile
  pttl="$(r PTTL "$key")"
  ttl=persist
  if ((pttl >= 0)); then
    ((pttl >= min_ttl * 1000)) || continue
    ttl=volatile
  fi
  echo "redis $key type=$type ttl=$ttl md5=$(canonical "$key" "$type" | md5sum | cut -d' ' -f1)"
done
