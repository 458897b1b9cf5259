#!/usr/bin/env bash
# Benchmark: single Redis vs Redis Cluster through the services' Redis client
# (bench/redis_cluster/redis_cluster_bench.cpp), in one run: XADD entries/s to one
# stream (single Redis: the anchor; the cluster, where one stream is one slot on
# one master; three streams on the three masters) and fan-out deliveries/s with
# publish->deliver p50/p99 (PUBLISH on the single Redis, SPUBLISH on the
# cluster). Starts its own Redis and six-node cluster (3 masters + 3 replicas) on
# private ports under a temporary directory and stops them at the end. Prints
# figures and ratios against the single-Redis anchor; asserts nothing.
#
# Usage: bench/cluster_bench.sh [--duration SECONDS]
# Needs build/bin/redis_cluster_bench (scripts/build.sh) and redis-server.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

duration=5
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift ;;
    -h | --help) sed -n '11,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bin="$ROOT/build/bin/redis_cluster_bench"
[[ -x $bin ]] || tchat::die "$bin is missing (scripts/build.sh)"

TCHAT_RUN_DIR="$(mktemp -d /tmp/tchat-cluster-bench-XXXXXX)"
export TCHAT_RUN_DIR TCHAT_DURABLE=0
export TCHAT_REDIS_PORT="${TCHAT_BENCH_REDIS_PORT:-26480}"
export TCHAT_REDIS_CLUSTER_PORT="${TCHAT_BENCH_REDIS_CLUSTER_PORT:-26481}"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
cleanup() {
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::redis_cluster_stop >/dev/null 2>&1 || true
  rm -rf "$TCHAT_RUN_DIR"
}
trap cleanup EXIT
tchat::redis_start
tchat::redis_cluster_start
echo "redis-server $(redis-server --version | grep -o 'v=[^ ]*'), $(nproc) cores, ${duration}s per figure"
"$bin" "redis://127.0.0.1:$TCHAT_REDIS_PORT/0" "$(tchat::redis_cluster_url)" "$duration"
