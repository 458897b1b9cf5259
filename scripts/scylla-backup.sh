#!/usr/bin/env bash
# scylla-backup.sh — the runbook's ScyllaDB backup: a snapshot
# (nodetool snapshot -t snapshot_<date>) of every keyspace. Given BACKUP_DIR (as
# full-backup.sh does), it also copies each snapshot out of the node, with the
# keyspace's schema, so that restore-scylla.sh can load it elsewhere:
#   BACKUP_DIR/scylla/<keyspace>_<date>.cql       schema (DESCRIBE KEYSPACE)
#   BACKUP_DIR/scylla/<keyspace>_<date>.tar.gz    the snapshot's SSTables
#
# Usage: scripts/scylla-backup.sh [--local|--k8s] [BACKUP_DIR]
#   SCYLLA_KEYSPACES  default the runbook's four; keyspaces that do not exist are
#                     skipped with a note (this project has only tchat_messaging)
#   see scripts/lib/scylla.sh for how each target reaches ScyllaDB
# Fails (exit 1, message) when ScyllaDB cannot be reached: no success without a
# snapshot.
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
tchat::ops_init
tchat::scylla_prepare
DATE="$(tchat::backup_date)"
tag="snapshot_$DATE"
partial=""
trap '[[ -z "$partial" ]] || rm -f "$partial"' EXIT

snapshots=0
for keyspace in "${TCHAT_SCYLLA_KEYSPACES[@]}"; do
  [[ "$keyspace" =~ ^[a-z_][a-z0-9_]*$ ]] || tchat::die "bad keyspace name: $keyspace"
  if ! tchat::scylla_keyspace_exists "$keyspace"; then
    echo "Keyspace $keyspace does not exist: skipped"
    continue
  fi
  echo "Creating snapshot for $keyspace..."
  tchat::scylla_nodetool snapshot "$keyspace" -t "$tag" >/dev/null ||
    tchat::die "nodetool snapshot failed for $keyspace"
  snapshots=$((snapshots + 1))
  if [[ -n "$BACKUP_DIR" ]]; then
    mkdir -p "$BACKUP_DIR/scylla"
    base="$BACKUP_DIR/scylla/${keyspace}_${DATE}"
    tchat::scylla_cql "DESCRIBE KEYSPACE $keyspace" >"$base.cql" ||
      tchat::die "could not read the schema of $keyspace"
    partial="$base.tar.gz.partial"
    # Each table's snapshot lives in <data>/<keyspace>/<table>-<id>/snapshots/<tag>/.
    tchat::scylla_sh "cd '$SCYLLA_DATA_DIR' && tar -cf - $keyspace/*/snapshots/$tag" | gzip >"$partial" ||
      tchat::die "could not copy the snapshot of $keyspace"
    gzip -t "$partial" || tchat::die "the copy of the snapshot of $keyspace is damaged"
    mv "$partial" "$base.tar.gz"
    partial=""
  fi
done
((snapshots > 0)) || tchat::die "none of the keyspaces (${TCHAT_SCYLLA_KEYSPACES[*]}) exists: nothing backed up"

echo "Snapshots created successfully"
