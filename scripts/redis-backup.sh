#!/usr/bin/env bash
# redis-backup.sh — the runbook's Redis backup: an RDB snapshot streamed from the
# server (redis-cli --rdb) into BACKUP_DIR/redis_<YYYYmmdd_HHMMSS>.rdb, then
# removes the *.rdb files there older than BACKUP_RETENTION_DAYS (7).
#
# Usage: scripts/redis-backup.sh [--local|--k8s] [BACKUP_DIR]
#   BACKUP_DIR   default /backups/redis (full-backup.sh passes its own)
#   k8s          kubectl exec redis-0 -n tchat -- redis-cli --rdb -
#   --local      redis-cli against REDIS_URL (default: the local system's Redis)
#
# The snapshot goes to a ".partial" file and is renamed only once it is complete
# (redis-check-rdb passes): a file named *.rdb is always a whole snapshot.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::backup_begin /backups/redis "$@"

mkdir -p "$BACKUP_DIR"
final="$BACKUP_DIR/redis_${DATE}.rdb"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

echo "Creating Redis backup..."
if tchat::is_local; then
  tchat::require redis-cli
  url="$(tchat::local_redis_url)"
  # redis-cli prints progress on stderr; keep it for the failure message.
  if ! out="$(timeout "${REDIS_BACKUP_TIMEOUT:-300}" redis-cli --no-auth-warning -u "$url" --rdb "$partial" 2>&1)"; then
    echo "❌ Redis backup failed ($url): $(tail -n 1 <<<"$out")" >&2
    exit 1
  fi
else
  tchat::require kubectl
  # No -t: a terminal would mangle the binary stream.
  if ! tchat::kube exec redis-0 -- redis-cli --rdb - >"$partial"; then
    echo "❌ Redis backup failed (kubectl exec redis-0 -n $TCHAT_NAMESPACE)" >&2
    exit 1
  fi
fi
if ! tchat::rdb_complete "$partial"; then
  echo "❌ Redis backup is not a complete RDB file" >&2
  exit 1
fi
mv "$partial" "$final"
echo "✅ Redis backup completed: $(basename "$final")"

# Clean up old backups.
find "$BACKUP_DIR" -maxdepth 1 -name "*.rdb" -mtime "+${BACKUP_RETENTION_DAYS:-7}" -delete
