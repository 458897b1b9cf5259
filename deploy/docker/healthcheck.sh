#!/bin/bash
# The service images' HEALTHCHECK, without curl: GET /health/ready on the
# service's own port over bash's /dev/tcp, healthy on a 200. Readiness, not
# liveness: to Docker (docker-compose's depends_on: service_healthy) "healthy"
# means the service answers with PostgreSQL and Redis reachable. Kubernetes does
# not use this: its probes are the manifests' httpGet.
port="${PORT:?PORT is not set}"
host="${LISTEN_ADDRESS:-127.0.0.1}"
case "$host" in 0.0.0.0 | :: | "[::]") host=127.0.0.1 ;; esac
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /health/ready HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ "$status" == "HTTP/1."?" 200 "* ]] || { echo "not ready: ${status%$'\r'}"; exit 1; }
echo ready
