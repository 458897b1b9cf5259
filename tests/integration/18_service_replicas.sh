#!/usr/bin/env bash
# Replicas of every service (TCHAT_REPLICAS=2, scripts/lib/common.sh): the test
# stack is restarted with two processes of each service behind the gateway's
# upstreams, and under a bounded load through the gateway (sign-ins, message
# sends with WebSocket receivers, transfers, notification reads; two clients of
# each, tests/integration/replicas_load.mjs) one replica of every service is
# killed with SIGKILL at once. Checks: every client operation succeeds (clients
# retry idempotently), a failed attempt is only one in flight at the kill, every
# acknowledged message and transfer is there, the wallets and the ledger add up,
# the WebSockets reconnect and get every later message live; status.sh and
# health-check.sh show the replicas; the killed replicas, started again, take
# requests again. The stack goes back to one process per service afterwards.
# shellcheck disable=SC2317 # functions called through traps
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$ROOT/scripts/lib/nginx.sh"

for var in TCHAT_TEST_PSP_WEBHOOK_SECRET TCHAT_TEST_ADMIN_TOKEN TCHAT_TEST_GATEWAY_URL; do
  [[ -n "${!var:-}" ]] || { fail "$var is not set (run through scripts/test.sh)"; finish; }
done

work="$(mktemp -d)"
config="$(tchat::config_file)"
cp "$config" "$work/config.env"
# Back to one process per service with the settings the stack had.
restore() {
  local rc=$?
  trap - EXIT
  tchat::services_stop_all >/dev/null 2>&1 || true
  cp "$work/config.env" "$config"
  export TCHAT_REPLICAS=1
  tchat::record_replicas
  (tchat::nginx_start >/dev/null 2>&1) || echo "FAIL: the gateway did not take one replica per service back"
  (tchat::services_start_all >"$work/restore.log" 2>&1) || {
    echo "FAIL: the services did not start again with one replica each:"
    tail -n 20 "$work/restore.log"
    rc=1
  }
  rm -rf "$work"
  exit "$rc"
}
trap restore EXIT

# Two replicas each; sign-ins from one address far faster than a person, and a
# new code at once when a retry asks for one.
export TCHAT_REPLICAS=2
tchat::services_stop_all >/dev/null 2>&1 || true
(
  export AUTH_OTP_PER_IP_PER_HOUR=100000000 AUTH_OTP_VERIFY_PER_IP_PER_HOUR=100000000
  export AUTH_OTP_PER_NUMBER_PER_HOUR=1000000 AUTH_OTP_RESEND_COOLDOWN=0
  tchat::write_service_config
)
tchat::record_replicas
if ! (tchat::nginx_start >"$work/start.log" 2>&1 && tchat::services_start_all >>"$work/start.log" 2>&1); then
  fail "the stack did not start with two replicas:"
  tail -n 30 "$work/start.log" | indent
  finish
fi
pass "two replicas of every service ready"

ports_ok=1
for svc in "${TCHAT_SERVICES[@]}"; do
  tchat::nginx_balances "$(tchat::service_port "$svc")" || ports_ok=0
  for r in 1 2; do
    [[ "$(http_status "http://127.0.0.1:$(tchat::replica_port "$svc" "$r")/health/ready")" == 200 ]] || ports_ok=0
  done
done
if ((ports_ok)); then
  pass "each service's port is the gateway's balancer; replicas ready on port + 10 and + 20"
else
  fail "balancers or replica ports: $(ss -ltn | awk 'NR > 1 { print $4 }' | tr '\n' ' ')"
fi

out="$("$ROOT/scripts/status.sh" 2>&1)" && rc=0 || rc=$?
if [[ $rc == 0 ]] && grep -qE '^  payment-2 +up ' <<<"$out" && grep -qE '^auth +up .*balancer over 2 replicas' <<<"$out"; then
  pass "status.sh: every replica up"
else
  fail "status.sh (rc=$rc):"
  indent <<<"$out"
fi
ports="auth:$TCHAT_AUTH_PORT messaging:$TCHAT_MESSAGING_PORT payment:$TCHAT_PAYMENT_PORT notification:$TCHAT_NOTIFICATION_PORT"
out="$(TCHAT_SERVICE_PORTS="$ports" BASE_URL=http://127.0.0.1 "$ROOT/scripts/health-check.sh" 2>&1)" && rc=0 || rc=$?
if [[ $rc == 0 ]] && [[ "$(grep -c '✅' <<<"$out")" == 12 ]]; then
  pass "health-check.sh: 4 services and their 8 replicas healthy"
else
  fail "health-check.sh (rc=$rc):"
  indent <<<"$out"
fi

# Replica 1 of every service dies under the load.
pids=()
for svc in "${TCHAT_SERVICES[@]}"; do
  pid="$(tchat::live_pid "$(tchat::replica_pidfile "$svc" 1)" "tchat-$svc")" || { fail "$svc-1 is not running"; finish; }
  pids+=("$pid")
done
echo "load through the gateway; kill -9 of ${TCHAT_SERVICES[*]} replica 1 (pids ${pids[*]}) after 4 s"
access="$TCHAT_RUN_DIR/logs/nginx-access.log"
load_mark="$(wc -l <"$access")"
ws_metrics="http://127.0.0.1:$(tchat::replica_port messaging 1)/metrics http://127.0.0.1:$(tchat::replica_port messaging 2)/metrics"
if REPLICAS_KILL_PIDS="${pids[*]}" REPLICAS_LOAD_SUMMARY="$work/summary.json" REPLICAS_WS_METRICS="$ws_metrics" \
  node --experimental-websocket "$ROOT/tests/integration/replicas_load.mjs" >"$work/load.log" 2>&1; then
  pass "the load and its checks (below)"
else
  fail "the load or one of its checks (below)"
fi
indent <"$work/load.log"
# What the gateway did about the dead replicas: requests it sent on to the other
# replica (two upstreams in one access-log line), and the ones it answered 502.
moved="$(tail -n +"$((load_mark + 1))" "$access" | jq -r 'select(.upstream | contains(",")) | .uri' 2>/dev/null | wc -l)"
gateway_502="$(tail -n +"$((load_mark + 1))" "$access" | jq -r 'select(.status == 502) | .uri' 2>/dev/null | wc -l)"
if ((moved > 0)); then
  pass "the gateway moved $moved requests from a dead replica to a live one (answered $gateway_502 with 502)"
else
  fail "no request went from a dead replica to a live one: the kill was not under load"
fi
mkdir -p "$TCHAT_RUN_DIR/artifacts"
cp "$work/summary.json" "$TCHAT_RUN_DIR/artifacts/replicas-summary.json" 2>/dev/null || true

gone=1
for pid in "${pids[@]}"; do tchat::_pid_gone "$pid" || gone=0; done
if ((gone)); then
  pass "the four killed replicas are gone"
else
  fail "a killed replica still runs"
  # The load did not kill it (it stopped early): kill it here, so that no process
  # outlives the test holding its port (and the test lock, inherited from start.sh).
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
fi

# The ledger adds up (payment's own port: the balancer).
ledger="$(curl -s -m 30 -H "Authorization: Bearer $TCHAT_TEST_ADMIN_TOKEN" \
  "http://127.0.0.1:$TCHAT_PAYMENT_PORT/v1/admin/ledger/verify")"
if [[ "$(jq -r .ok <<<"$ledger" 2>/dev/null)" == true ]]; then
  pass "the ledger verifies after the kill"
else
  fail "ledger: $ledger"
fi

# The killed replicas start again and, once the gateway's fail_timeout (5 s) has
# passed, take requests again.
restarted=1
for svc in "${TCHAT_SERVICES[@]}"; do
  rm -f "$(tchat::replica_pidfile "$svc" 1)"
  (tchat::service_start "$svc" 1) || restarted=0
done
for svc in "${TCHAT_SERVICES[@]}"; do
  tchat::wait_until 30 tchat::_ready "$(tchat::replica_port "$svc" 1)" || restarted=0
done
if ((restarted)); then pass "the killed replicas started again"; else fail "a killed replica did not start again"; fi
sleep 6
mark="$(wc -l <"$access")"
phone="+6689$(printf '%07d' $((RANDOM * 32768 % 10000000 + RANDOM % 1000)))"
code="$(curl -s -m 10 -H 'Content-Type: application/json' -d "{\"phone\":\"$phone\"}" "$TCHAT_TEST_GATEWAY_URL/v1/auth/otp/request" | jq -r .dev_code)"
token="$(curl -s -m 10 -H 'Content-Type: application/json' -d "{\"phone\":\"$phone\",\"code\":\"$code\"}" \
  "$TCHAT_TEST_GATEWAY_URL/v1/auth/otp/verify" | jq -r .access_token)"
for _ in 1 2 3 4 5 6; do
  for path in /v1/users/me /v1/conversations /v1/wallets /v1/notifications; do
    curl -s -o /dev/null -m 10 -H "Authorization: Bearer $token" "$TCHAT_TEST_GATEWAY_URL$path" || true
  done
done
served="$(tail -n +"$((mark + 1))" "$access" | jq -r '.upstream | split(", ")[]' 2>/dev/null | sort -u | tr '\n' ' ')"
back=1
for svc in "${TCHAT_SERVICES[@]}"; do
  [[ " $served " == *" 127.0.0.1:$(tchat::replica_port "$svc" 1) "* ]] || back=0
done
if ((back)); then
  pass "every restarted replica serves requests through the gateway again"
else
  fail "upstreams used after the restart: $served"
fi
finish
