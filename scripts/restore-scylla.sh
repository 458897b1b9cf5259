#!/usr/bin/env bash
# restore-scylla.sh — loads the ScyllaDB snapshots of a full backup
# (BACKUP_DIR/scylla/<keyspace>_<date>.{cql,tar.gz}, made by scylla-backup.sh):
# creates each keyspace from its saved schema when missing, truncates its
# tables, puts the SSTables into each table's upload/ directory and loads them
# with `nodetool refresh`.
#
# Usage: scripts/restore-scylla.sh [--local|--k8s] BACKUP_DIR
#   see scripts/lib/scylla.sh for how each target reaches ScyllaDB
# Fails (exit 1, message) when ScyllaDB cannot be reached or the backup has no
# ScyllaDB snapshot.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"
# shellcheck source=scripts/lib/scylla.sh
source "$TCHAT_ROOT/scripts/lib/scylla.sh"

usage() { tchat::usage_of "$0"; }

tchat::ops_parse_args 1 "$@"
BACKUP_DIR="${OPS_ARGS[0]:-}"
[[ -n "$BACKUP_DIR" ]] || { usage >&2; exit 2; }
[[ -d "$BACKUP_DIR/scylla" ]] || tchat::die "no ScyllaDB backup in $BACKUP_DIR (expected $BACKUP_DIR/scylla/)"
tchat::ops_init
tchat::scylla_prepare

restored=0
for archive in "$BACKUP_DIR"/scylla/*.tar.gz; do
  [[ -f "$archive" ]] || continue
  name="$(basename "$archive" .tar.gz)"
  keyspace="${name%_????????_??????}"
  schema="$BACKUP_DIR/scylla/$name.cql"
  [[ -s "$schema" ]] || tchat::die "schema file missing: $schema"
  gzip -t "$archive" || tchat::die "$archive is damaged; nothing restored"
  echo "Restoring $keyspace..."
  if ! tchat::scylla_keyspace_exists "$keyspace"; then
    tchat::scylla_cql "$(cat "$schema")" || tchat::die "could not create keyspace $keyspace"
  fi
  # The snapshot replaces what is there: empty each table, then load its files.
  tables="$(tchat::scylla_cql "SELECT table_name FROM system_schema.tables WHERE keyspace_name = '$keyspace'" |
    awk 'NF == 1 && $1 ~ /^[a-z_][a-z0-9_]*$/ && $1 != "table_name" { print $1 }')"
  for table in $tables; do
    tchat::scylla_cql "TRUNCATE $keyspace.$table" || tchat::die "could not truncate $keyspace.$table"
  done
  # Files of <keyspace>/<table>-<old id>/snapshots/<tag>/ go to the current
  # <keyspace>/<table>-<new id>/upload/ (table ids differ in a new cluster).
  gzip -dc "$archive" | tchat::scylla_sh "
    set -e
    tmp=\$(mktemp -d)
    tar -C \"\$tmp\" -xf -
    for snap in \"\$tmp\"/$keyspace/*/snapshots/*; do
      table=\$(basename \"\$(dirname \"\$(dirname \"\$snap\")\")\")
      table=\${table%-*}
      dest=\$(ls -d '$SCYLLA_DATA_DIR'/$keyspace/\"\$table\"-*/upload | head -n1)
      cp \"\$snap\"/* \"\$dest\"/
    done
    rm -rf \"\$tmp\"" || tchat::die "could not unpack the snapshot of $keyspace"
  for table in $tables; do
    tchat::scylla_nodetool refresh "$keyspace" "$table" || tchat::die "nodetool refresh failed for $keyspace.$table"
  done
  restored=$((restored + 1))
  echo "✅ Restore completed for $keyspace"
done
((restored > 0)) || tchat::die "no ScyllaDB snapshot archive in $BACKUP_DIR/scylla"
