#!/bin/bash
# Entrypoint of tchat-local/redis:7-debian (redis.Dockerfile): redis-server
# without a configuration file listens on every address with protected mode off.
set -euo pipefail
if [[ "${1:-}" == redis-server && "${2:-}" != *.conf ]]; then
  shift
  exec redis-server --bind '* -::*' --protected-mode no "$@"
fi
exec "$@"
