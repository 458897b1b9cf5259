#!/bin/bash
# health-check.sh — the runbook's service health check: GET /health of every
# service, stop at the first unhealthy one.
#
#   BASE_URL            default http://localhost (as in the runbook)
#   TCHAT_SERVICE_PORTS optional, replaces the default list "auth:8081 messaging:8082
#                       payment:8083 notification:8084" (used by the test stack)
#   HEALTH_CHECK_TIMEOUT seconds per request (default 10), so a hung service reports
#                       "HTTP 000" instead of hanging the check
#   TCHAT_REPLICAS      N >= 2 (scripts/start.sh's replicas): each service's port is
#                       the gateway's balancer, and replica r listens on that port
#                       + 10*r; every replica is checked as well, as name-r
# No errexit: a failing probe is reported (❌), not fatal to the script itself.
set -uo pipefail

SERVICES=("auth:8081" "messaging:8082" "payment:8083" "notification:8084")
if [ -n "${TCHAT_SERVICE_PORTS:-}" ]; then
    read -r -a SERVICES <<< "$TCHAT_SERVICE_PORTS"
fi
BASE_URL="${BASE_URL:-http://localhost}"
REPLICAS="${TCHAT_REPLICAS:-1}"
if ! [[ "$REPLICAS" =~ ^[1-9]$ ]]; then
    echo "❌ TCHAT_REPLICAS=$REPLICAS: must be 1 to 9"
    exit 2
fi
if [ "$REPLICAS" -gt 1 ]; then
    with_replicas=()
    for service in "${SERVICES[@]}"; do
        IFS=':' read -r name port <<< "$service"
        with_replicas+=("$service")
        for ((r = 1; r <= REPLICAS; r++)); do with_replicas+=("$name-$r:$((port + 10 * r))"); done
    done
    SERVICES=("${with_replicas[@]}")
fi

for service in "${SERVICES[@]}"; do
    IFS=':' read -r name port <<< "$service"
    echo "Checking $name service..."

    response=$(curl -s -o /dev/null --max-time "${HEALTH_CHECK_TIMEOUT:-10}" -w "%{http_code}" "$BASE_URL:$port/health")

    if [ "$response" = "200" ]; then
        echo "✅ $name service is healthy"
    else
        echo "❌ $name service is unhealthy (HTTP $response)"
        exit 1
    fi
done

echo "All services are healthy"
