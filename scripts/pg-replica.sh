#!/usr/bin/env bash
# Starts, stops or shows the streaming read replica of the private PostgreSQL
# (scripts/lib/pg_replica.sh; docs/operations/read-replica.md). The run dir and
# ports come from the environment as for start.sh (TCHAT_RUN_DIR, TCHAT_PG_PORT,
# TCHAT_PG_REPLICA_PORT [primary + 10]). Services started with TCHAT_PG_REPLICA=1
# read from it and fall back to the primary by themselves while it is stopped.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$TCHAT_ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/pg_replica.sh
source "$TCHAT_ROOT/scripts/lib/pg_replica.sh"

usage() { echo "Usage: $0 start|stop|status"; }

tchat::defaults
case "${1:-}" in
  start) tchat::pg_replica_start ;;
  stop) tchat::pg_replica_stop ;;
  status) tchat::pg_replica_status ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
