#!/usr/bin/env bash
# canary-deploy.sh — the runbook's canary deployment: a small share of the traffic
# goes to the new version for a while; if its 5xx rate stays under the threshold
# the new version replaces the old one, else the canary is removed.
#
# Usage: scripts/canary-deploy.sh [--local|--k8s] <service> <image> [percentage]
#   <service>     auth-service, messaging-service, payment-service or notification-service
#   <image>       k8s: a container image; --local: a service binary
#   percentage    share of the replicas for the canary, 1-100 (default 10)
#   CANARY_DURATION        seconds of observation (default 600, the runbook's 10 minutes)
#   CANARY_MAX_ERROR_RATE  highest acceptable share of 5xx answers (default 0.01)
#   PROMETHEUS_URL         k8s: where to query (default http://prometheus:9090)
#
# k8s: <service>-canary is a copy of the Deployment with the new image and
# `track: canary` (the Service selects both tracks), max(1, replicas × percentage
# / 100) replicas. Its error rate is
#   sum(rate(http_requests_total{deployment="<service>-canary",status=~"5.."}[5m]))
#     / sum(rate(http_requests_total{deployment="<service>-canary"}[5m]))
# (deploy/prometheus/prometheus-k8s.yml sets `deployment`).
# --local: the binary runs on a port of its own (the service's port + 2000) and
# the gateway sends the service's traffic through a small nginx that splits it
# by weight (percentage to the canary, the rest to the running version) and logs
# which version gave which answer; the error rate is the canary's share of 5xx
# answers there. A canary that received no request is not promoted. Needs the
# gateway (scripts/start.sh starts it).
# Promotion: k8s `kubectl set image`; --local the binary takes over the service's
# port as in blue-green-deploy.sh. Either way the canary is removed.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::ops_parse_args -1 "$@"
args=("${OPS_ARGS[@]}")
if ((${#args[@]} < 2 || ${#args[@]} > 3)); then usage >&2; exit 1; fi
SERVICE="${args[0]}"
NEW_IMAGE="${args[1]}"
CANARY_PERCENTAGE="${args[2]:-10}"
if ! [[ "$CANARY_PERCENTAGE" =~ ^[0-9]+$ ]] || ((CANARY_PERCENTAGE < 1 || CANARY_PERCENTAGE > 100)); then
  usage >&2
  exit 1
fi
CANARY_DURATION="${CANARY_DURATION:-600}"
CANARY_MAX_ERROR_RATE="${CANARY_MAX_ERROR_RATE:-0.01}"
[[ "$CANARY_DURATION" =~ ^[0-9]+$ ]] || tchat::die "CANARY_DURATION must be a number of seconds"
tchat::ops_init

echo "Starting canary deployment for $SERVICE (${CANARY_PERCENTAGE}% traffic)"

# Succeeds when error rate $1 (a number, maybe "1e-05") is acceptable.
acceptable() { awk -v r="$1" -v max="$CANARY_MAX_ERROR_RATE" 'BEGIN { exit !(r + 0 < max + 0) }'; }

if tchat::is_local; then
  # shellcheck source=scripts/lib/postgres.sh
  source "$TCHAT_ROOT/scripts/lib/postgres.sh"
  # shellcheck source=scripts/lib/redis.sh
  source "$TCHAT_ROOT/scripts/lib/redis.sh"
  # shellcheck source=scripts/lib/services.sh
  source "$TCHAT_ROOT/scripts/lib/services.sh"
  # shellcheck source=scripts/lib/nginx.sh
  source "$TCHAT_ROOT/scripts/lib/nginx.sh"
  # shellcheck source=scripts/lib/deploy.sh
  source "$TCHAT_ROOT/scripts/lib/deploy.sh"
  tchat::require nginx
  svc="$(tchat::service_of "$SERVICE")"
  tchat::lock_run_dir 120
  tchat::service_running "$svc" || tchat::die "$svc is not running (scripts/start.sh)"
  tchat::nginx_running || tchat::die "the gateway is not running: the canary's share of traffic goes through it"
  bin="$(tchat::stage_release "$svc" "$NEW_IMAGE")"
  port="$(tchat::service_port "$svc")"
  cport=$((port + ${TCHAT_CANARY_PORT_OFFSET:-2000}))
  sport=$((port + ${TCHAT_SPLITTER_PORT_OFFSET:-3000}))
  canary_pidfile="$TCHAT_RUN_DIR/pids/$svc-canary.pid"
  # shellcheck disable=SC2317 # the EXIT trap calls it
  restore() {
    tchat::gateway_route "$svc" "$port"
    tchat::splitter_stop "$svc"
    tchat::instance_stop "$canary_pidfile" "$svc"
  }
  trap restore EXIT

  # Create canary deployment
  tchat::instance_start "$svc" "$bin" "$cport" "$canary_pidfile" "$TCHAT_RUN_DIR/logs/$svc-canary.log"
  tchat::instance_wait_ready "$canary_pidfile" "$svc" "$cport" ||
    { echo "❌ Canary did not become ready, rolling back"; tail -n 5 "$TCHAT_RUN_DIR/logs/$svc-canary.log" >&2; exit 1; }
  # The gateway sends the service's traffic through the weighted split.
  tchat::splitter_start "$svc" "$sport" "$port" $((100 - CANARY_PERCENTAGE)) "$cport" "$CANARY_PERCENTAGE"
  tchat::gateway_route "$svc" "$sport"

  # Monitor canary metrics
  echo "Monitoring canary deployment for $CANARY_DURATION seconds..."
  sleep "$CANARY_DURATION"
  tchat::gateway_route "$svc" "$port"

  # Check error rates: what the canary answered through the split.
  read -r total errors < <(tchat::splitter_counts "$svc" "$cport")
  tchat::splitter_stop "$svc"
  echo "Canary answered $total requests, $errors with 5xx"
  if ((total == 0)); then
    echo "❌ No traffic reached the canary: nothing to judge it by, rolling back"
    exit 1
  fi
  ERROR_RATE="$(awk -v e="$errors" -v n="$total" 'BEGIN { printf "%.6f", e / n }')"
  if acceptable "$ERROR_RATE"; then
    echo "✅ Canary deployment successful, promoting to production"
    # From here on the canary is the new version: a failure must not remove it.
    trap - EXIT
    tchat::takeover "$svc" "$bin" "$canary_pidfile" "$cport"
    tchat::record_deployment "$svc" "$(tchat::deployed_color "$svc")" "$bin"
    echo "✅ $SERVICE now runs $NEW_IMAGE"
  else
    echo "❌ Canary deployment failed (error rate $ERROR_RATE), rolling back"
    exit 1
  fi
  exit 0
fi

tchat::require kubectl jq curl
PROMETHEUS_URL="${PROMETHEUS_URL:-http://prometheus:9090}"
CURRENT_REPLICAS="$(tchat::kube get deployment "$SERVICE" -o jsonpath='{.spec.replicas}')"
CANARY_REPLICAS=$((CURRENT_REPLICAS * CANARY_PERCENTAGE / 100))
((CANARY_REPLICAS >= 1)) || CANARY_REPLICAS=1

# Create canary deployment: the same pod template (so the Service selects it),
# the new image, its own track so the two Deployments never claim each other's pods.
tchat::kube get deployment "$SERVICE" -o json | jq --arg name "${SERVICE}-canary" --arg image "$NEW_IMAGE" \
  --argjson replicas "$CANARY_REPLICAS" --arg container "$SERVICE" '
  del(.status, .metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp,
      .metadata.managedFields, .metadata.generation, .metadata.annotations)
  | .metadata.name = $name
  | .metadata.labels.track = "canary"
  | .spec.replicas = $replicas
  | .spec.selector.matchLabels.track = "canary"
  | .spec.template.metadata.labels.track = "canary"
  | .spec.template.spec.containers |= map(if .name == $container then .image = $image else . end)' |
  tchat::kube apply -f -
remove_canary() { tchat::kube delete deployment "${SERVICE}-canary" --ignore-not-found; }
tchat::kube rollout status "deployment/${SERVICE}-canary" --timeout=300s ||
  { echo "❌ Canary did not become ready, rolling back"; remove_canary; exit 1; }

# Monitor canary metrics
echo "Monitoring canary deployment for $CANARY_DURATION seconds..."
sleep "$CANARY_DURATION"

# Check error rates
query="sum(rate(http_requests_total{status=~\"5..\",deployment=\"${SERVICE}-canary\"}[5m])) / sum(rate(http_requests_total{deployment=\"${SERVICE}-canary\"}[5m]))"
ERROR_RATE="$(curl -s --get "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$query" |
  jq -r '.data.result[0].value[1] // "none"')"
if [[ "$ERROR_RATE" == none || "$ERROR_RATE" == NaN ]]; then
  echo "❌ No canary traffic in Prometheus: nothing to judge it by, rolling back"
  remove_canary
  exit 1
fi

if acceptable "$ERROR_RATE"; then
  echo "✅ Canary deployment successful, promoting to production"
  # Update main deployment
  tchat::kube set image "deployment/$SERVICE" "$SERVICE=$NEW_IMAGE"
  tchat::kube rollout status "deployment/$SERVICE" --timeout=600s
  # Delete canary
  remove_canary
else
  echo "❌ Canary deployment failed (error rate $ERROR_RATE), rolling back"
  remove_canary
  exit 1
fi
