#!/usr/bin/env bash
# Stops what scripts/start.sh started: the services first (SIGTERM, so they finish
# in-flight requests), then the gateway, Redis and PostgreSQL (its read replica first). Data under
# $TCHAT_RUN_DIR (default .run/) is kept; delete that directory to start afresh.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$TCHAT_ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/pg_replica.sh
source "$TCHAT_ROOT/scripts/lib/pg_replica.sh"
# shellcheck source=scripts/lib/redis.sh
source "$TCHAT_ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$TCHAT_ROOT/scripts/lib/services.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$TCHAT_ROOT/scripts/lib/nginx.sh"
# shellcheck source=scripts/lib/psp_sim.sh
source "$TCHAT_ROOT/scripts/lib/psp_sim.sh"
# shellcheck source=scripts/lib/prometheus.sh
source "$TCHAT_ROOT/scripts/lib/prometheus.sh"

usage() {
  echo "Usage: $0 [--services-only]"
  echo "  --services-only   stop the services and the gateway; keep PostgreSQL and Redis"
}

services_only=0
case "${1:-}" in
  "") ;;
  --services-only) services_only=1 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

tchat::defaults
if [[ ! -d "$TCHAT_RUN_DIR" ]]; then
  echo "nothing to stop: $TCHAT_RUN_DIR does not exist"
  exit 0
fi
tchat::lock_run_dir 120

rc=0
tchat::services_stop_all || rc=1
tchat::psp_sim_stop
tchat::prom_stop
tchat::nginx_stop
if ((!services_only)); then
  tchat::redis_stop
  tchat::redis_cluster_stop
  tchat::pg_replica_stop
  tchat::pg_stop
fi
echo "Stopped."
exit "$rc"
