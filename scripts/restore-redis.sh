#!/usr/bin/env bash
# restore-redis.sh — replaces Redis's data with the newest redis_<date>.rdb in
# BACKUP_DIR (as written by redis-backup.sh). Redis loads an RDB file only at
# start-up, so the server is restarted without saving its current data.
#
# Usage: scripts/restore-redis.sh [--local|--k8s] BACKUP_DIR
#   k8s      copies the file into redis-0 (/data/dump.rdb), then SHUTDOWN NOSAVE:
#            the kubelet restarts the container, which loads it. The StatefulSet
#            runs Redis with RDB persistence only (no AOF), so the RDB is what loads.
#   --local  the local system's Redis (scripts/lib/redis.sh): stopped, its
#            dump.rdb replaced, started again.
#
# The file is checked (redis-check-rdb) before the server is touched.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::restore_begin "$@"

rdb="$(tchat::newest "$BACKUP_DIR" "redis_*.rdb")" || tchat::die "no Redis backup (redis_*.rdb) in $BACKUP_DIR"
tchat::rdb_complete "$rdb" || tchat::die "$rdb is damaged or incomplete; nothing restored"
echo "Restoring Redis from $(basename "$rdb")..."

if tchat::is_local; then
  # shellcheck source=scripts/lib/redis.sh
  source "$TCHAT_ROOT/scripts/lib/redis.sh"
  tchat::require redis-server redis-cli
  dir="$(tchat::redis_dir)"
  mkdir -p "$dir"
  # Stop first: a server with persistence on saves its own data on SIGTERM.
  tchat::redis_stop
  cp "$rdb" "$dir/dump.rdb.restore"
  mv "$dir/dump.rdb.restore" "$dir/dump.rdb"
  tchat::redis_start
else
  tchat::require kubectl
  tchat::kube cp "$rdb" redis-0:/data/restore.rdb
  # Replace the file and stop without saving; the container restarts and loads it.
  # No snapshot of the current data may land on dump.rdb after the swap: turn
  # automatic snapshots off and let a running one finish first.
  tchat::kube exec redis-0 -- redis-cli CONFIG SET save "" >/dev/null
  for _ in $(seq 1 120); do
    tchat::kube exec redis-0 -- redis-cli INFO persistence | grep -q '^rdb_bgsave_in_progress:0' && break
    sleep 1
  done
  tchat::kube exec redis-0 -- mv /data/restore.rdb /data/dump.rdb ||
    tchat::die "could not put the backup in place in redis-0"
  # SHUTDOWN ends the container the exec runs in, so its status says nothing.
  tchat::kube exec redis-0 -- redis-cli SHUTDOWN NOSAVE || true
  sleep 2
  tchat::kube wait --for=condition=Ready pod/redis-0 --timeout=300s
  [[ "$(tchat::kube exec redis-0 -- redis-cli PING)" == PONG ]] || tchat::die "redis-0 does not answer PING after the restore"
fi
echo "✅ Redis restore completed"
