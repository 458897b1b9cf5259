#!/usr/bin/env bash
# restore-postgres.sh — restores the service databases from the newest
# <database>_<date>.sql.gz in BACKUP_DIR (as written by postgres-backup.sh).
#
# Usage: scripts/restore-postgres.sh [--local|--k8s] BACKUP_DIR [DATABASE...]
#   DATABASE            default: every database of POSTGRES_DATABASES (the four
#                       service databases)
#   POSTGRES_HOST/PORT/USER/PASSWORD/SSLMODE  the server (as postgres-backup.sh)
#
# Each dump is checked (gzip, pg_dump's completion line) before anything changes,
# restored into a scratch database <database>__restore in one transaction, and
# only then swapped in: the live database is dropped (its connections are
# closed) and the restored one renamed. A failed restore leaves the live database
# as it was.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::ops_parse_args -1 "$@"
args=("${OPS_ARGS[@]}")
((${#args[@]} >= 1)) || { usage >&2; exit 2; }
BACKUP_DIR="${args[0]}"
[[ -d "$BACKUP_DIR" ]] || tchat::die "backup directory not found: $BACKUP_DIR"
tchat::ops_init
tchat::require psql gzip
tchat::pg_env

databases=("${args[@]:1}")
if ((${#databases[@]} == 0)); then mapfile -t databases < <(tchat::backup_databases); fi

# Every dump is checked before the first database is touched.
declare -A dump
for db in "${databases[@]}"; do
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || tchat::die "bad database name: $db"
  dump[$db]="$(tchat::newest "$BACKUP_DIR" "${db}_*.sql.gz")" ||
    tchat::die "no backup of $db in $BACKUP_DIR"
  tchat::pg_dump_complete "${dump[$db]}" ||
    tchat::die "${dump[$db]} is damaged or incomplete; nothing restored"
done

admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 --dbname=postgres "$@"; }
admin -c "SELECT 1" >/dev/null || tchat::die "cannot connect to PostgreSQL at $PGHOST:$PGPORT"

# The dump grants its tables to the service's own role (tchat_<service>, named
# after its database): on a new cluster that role does not exist yet. It is
# created without a login here; start.sh (locally) or postgres-init (Kubernetes,
# with its password) gives it one.
service_db() { [[ "$1" =~ ^tchat_(auth|messaging|payment|notification)$ ]]; }
ensure_role() {
  service_db "$1" || return 0
  admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 NOLOGIN; END IF; END \$\$"
}

for db in "${databases[@]}"; do
  scratch="${db}__restore"
  echo "Restoring $db from $(basename "${dump[$db]}")..."
  ensure_role "$db"
  admin -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"
  admin -c "CREATE DATABASE $scratch"
  if ! gzip -dc "${dump[$db]}" |
    psql -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname="$scratch" >/dev/null; then
    admin -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" || true
    echo "❌ Restore failed for $db (the live database is unchanged)" >&2
    exit 1
  fi
  # The swap: services reconnect to the restored database on their next attempt.
  admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  admin -c "ALTER DATABASE $scratch RENAME TO $db"
  # A new database is open to every role: only its service's may connect.
  if service_db "$db"; then
    admin -c "REVOKE ALL ON DATABASE $db FROM PUBLIC"
    admin -c "GRANT CONNECT, TEMPORARY ON DATABASE $db TO $db"
  fi
  echo "✅ Restore completed for $db"
done
