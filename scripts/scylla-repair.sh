#!/usr/bin/env bash
# scylla-repair.sh — the runbook's ScyllaDB repair: nodetool repair of every
# keyspace (anti-entropy after a node was down or added).
#
# Usage: scripts/scylla-repair.sh [--local|--k8s]
#   SCYLLA_KEYSPACES  default the runbook's four; missing keyspaces are skipped
#   see scripts/lib/scylla.sh for how each target reaches ScyllaDB
# Fails (exit 1, message) when ScyllaDB cannot be reached or a repair fails.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"
# shellcheck source=scripts/lib/scylla.sh
source "$TCHAT_ROOT/scripts/lib/scylla.sh"

usage() { tchat::usage_of "$0"; }

tchat::ops_parse_args 0 "$@"
tchat::ops_init
tchat::scylla_prepare

repaired=0
for keyspace in "${TCHAT_SCYLLA_KEYSPACES[@]}"; do
  if ! tchat::scylla_keyspace_exists "$keyspace"; then
    echo "Keyspace $keyspace does not exist: skipped"
    continue
  fi
  echo "Repairing $keyspace..."
  tchat::scylla_nodetool repair "$keyspace" || tchat::die "repair failed for $keyspace"
  repaired=$((repaired + 1))
done
((repaired > 0)) || tchat::die "none of the keyspaces (${TCHAT_SCYLLA_KEYSPACES[*]}) exists: nothing repaired"
echo "✅ Repair completed"
