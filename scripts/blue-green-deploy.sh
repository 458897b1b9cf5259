#!/usr/bin/env bash
# blue-green-deploy.sh — the runbook's blue-green deployment of one service.
#
# Usage: scripts/blue-green-deploy.sh [--local|--k8s] <service> <image>
#   <service>  auth-service, messaging-service, payment-service or notification-service
#   <image>    k8s: a container image; --local: a service binary (e.g. a new
#              build's build/bin/tchat-auth)
#
# k8s: the Deployment's pods get the other colour's `version` label and the new
# image; while they roll out the Service selects the app without a colour (old
# and new pods serve, the rollout never drops below the wanted replicas); the
# new pods are health-checked (kubectl port-forward + health-check.sh); then the
# Service selects the new colour. A failed check rolls the Deployment back and
# the Service returns to the old colour.
# --local: the binary is started as the new colour on a port of its own (the
# service's port + 1000, TCHAT_VERIFY_PORT_OFFSET) and checked there (readiness
# and health-check.sh). A failed check stops it and leaves the running version
# alone. Then the gateway sends the service's traffic to it, the old process
# drains and stops, the new binary starts again on the service's own port and
# the gateway returns there (scripts/lib/deploy.sh): through the gateway no
# request fails. The deployed colour is kept in
# $TCHAT_RUN_DIR/deploy/<service>.version; start.sh starts build/bin's binaries.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::ops_parse_args -1 "$@"
args=("${OPS_ARGS[@]}")
if ((${#args[@]} != 2)); then usage >&2; exit 1; fi
SERVICE="${args[0]}"
NEW_IMAGE="${args[1]}"
tchat::ops_init

echo "Starting blue-green deployment for $SERVICE"

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
  tchat::require curl
  svc="$(tchat::service_of "$SERVICE")"
  tchat::lock_run_dir 120
  tchat::service_running "$svc" || tchat::die "$svc is not running (scripts/start.sh)"
  current="$(tchat::deployed_color "$svc")"
  if [[ "$current" == blue ]]; then new=green; else new=blue; fi
  bin="$(tchat::stage_release "$svc" "$NEW_IMAGE")"
  vport=$(($(tchat::service_port "$svc") + ${TCHAT_VERIFY_PORT_OFFSET:-1000}))
  new_pidfile="$TCHAT_RUN_DIR/pids/$svc-$new.pid"
  trap 'tchat::instance_stop "$new_pidfile" "$svc"' EXIT

  # Create the $new deployment on a port of its own and wait for it to be ready.
  tchat::instance_start "$svc" "$bin" "$vport" "$new_pidfile" "$TCHAT_RUN_DIR/logs/$svc-$new.log"
  # Run health checks
  if tchat::instance_wait_ready "$new_pidfile" "$svc" "$vport" &&
    TCHAT_SERVICE_PORTS="$svc:$vport" BASE_URL=http://127.0.0.1 "$TCHAT_ROOT/scripts/health-check.sh"; then
    echo "✅ ${new^} deployment successful"
  else
    echo "❌ Health checks failed, rolling back"
    tail -n 5 "$TCHAT_RUN_DIR/logs/$svc-$new.log" >&2 || true
    exit 1
  fi
  # Switch traffic (through the gateway) and put the new version on the service's port.
  trap - EXIT
  tchat::takeover "$svc" "$bin" "$new_pidfile" "$vport"
  tchat::record_deployment "$svc" "$new" "$bin"
  echo "✅ Traffic switched to $new deployment"
  exit 0
fi

tchat::require kubectl jq curl
current="$(tchat::kube get service "$SERVICE" -o jsonpath='{.spec.selector.version}')"
[[ -n "$current" ]] || current=blue
if [[ "$current" == blue ]]; then new=green; else new=blue; fi
port="$(tchat::kube get service "$SERVICE" -o jsonpath='{.spec.ports[0].port}')"

# While both colours run, the Service selects the app only.
tchat::kube patch service "$SERVICE" --type=json -p '[{"op":"remove","path":"/spec/selector/version"}]' >/dev/null
rollback() {
  echo "❌ Health checks failed, rolling back"
  tchat::kube rollout undo "deployment/$SERVICE" || true
  tchat::kube rollout status "deployment/$SERVICE" --timeout=300s || true
  tchat::kube patch service "$SERVICE" --patch "{\"spec\":{\"selector\":{\"version\":\"$current\"}}}" >/dev/null
  exit 1
}

# Create the $new deployment
tchat::kube patch deployment "$SERVICE" --patch "{
    \"metadata\": {\"labels\": {\"version\": \"$new\"}},
    \"spec\": {
        \"template\": {
            \"metadata\": {\"labels\": {\"version\": \"$new\"}},
            \"spec\": {\"containers\": [{\"name\": \"$SERVICE\", \"image\": \"$NEW_IMAGE\"}]}
        }
    }
}"

# Wait for the deployment to be ready
tchat::kube rollout status "deployment/$SERVICE" --timeout=300s || rollback

# Run health checks against a pod of the new colour.
tchat::kube port-forward "deployment/$SERVICE" "$port:$port" >/dev/null 2>&1 &
forward=$!
trap 'kill "$forward" 2>/dev/null || true' EXIT
sleep 2
name="${SERVICE%-service}"
if TCHAT_SERVICE_PORTS="$name:$port" BASE_URL=http://127.0.0.1 "$TCHAT_ROOT/scripts/health-check.sh"; then
  echo "✅ ${new^} deployment successful"
  # Update service selector to point to the new colour
  tchat::kube patch service "$SERVICE" --patch "{\"spec\": {\"selector\": {\"version\": \"$new\"}}}"
  echo "✅ Traffic switched to $new deployment"
else
  rollback
fi
