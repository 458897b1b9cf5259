#!/usr/bin/env bash
# postgres-backup.sh — the runbook's PostgreSQL backup: pg_dump of every service
# database into BACKUP_DIR/<database>_<YYYYmmdd_HHMMSS>.sql.gz, then removes the
# *.sql.gz files there older than BACKUP_RETENTION_DAYS (7).
#
# Usage: scripts/postgres-backup.sh [--local|--k8s] [BACKUP_DIR]
#   BACKUP_DIR          default /backups/postgres (full-backup.sh passes its own)
#   POSTGRES_HOST/PORT/USER/PASSWORD/SSLMODE  the server (as migrate.sh); with
#                       --local (or TCHAT_TARGET=local) the local system's server
#   POSTGRES_DATABASES  space-separated list; default the four service databases
#
# A dump is written to a ".partial" file and renamed only once pg_dump succeeded,
# gzip verifies and the dump ends with pg_dump's completion line: a file named
# *.sql.gz is always a complete dump. Any failure stops the script (exit 1).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::backup_begin /backups/postgres "$@"
tchat::require pg_dump gzip
tchat::pg_env

mkdir -p "$BACKUP_DIR"
partial=""
trap '[[ -z "$partial" ]] || rm -f "$partial"' EXIT

while read -r db; do
  echo "Backing up $db..."
  final="$BACKUP_DIR/${db}_${DATE}.sql.gz"
  partial="$final.partial"
  if pg_dump --dbname="$db" | gzip >"$partial" && tchat::pg_dump_complete "$partial"; then
    mv "$partial" "$final"
    partial=""
    echo "✅ Backup completed for $db"
  else
    echo "❌ Backup failed for $db ($PGUSER@$PGHOST:$PGPORT)" >&2
    exit 1
  fi
done < <(tchat::backup_databases)

# Clean up old backups (keep the last BACKUP_RETENTION_DAYS days).
find "$BACKUP_DIR" -maxdepth 1 -name "*.sql.gz" -mtime "+${BACKUP_RETENTION_DAYS:-7}" -delete
