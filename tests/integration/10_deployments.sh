#!/usr/bin/env bash
# The runbook's deployment and security scripts against a private copy of the
# local system: blue-green-deploy.sh switches a service to a new binary without a
# failed request and refuses a binary that does not come up; canary-deploy.sh
# promotes a canary that served without errors and removes one that got no
# traffic; cert-renewal.sh issues and renews the local certificate;
# security-audit.sh passes, and fails on a secrets file readable by others;
# status.sh shows everything up, then the part that is down. The deployments are
# watched through the gateway, where clients come in.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else; some
# functions are called through tchat::wait_until and traps.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/ops_stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/ops_stack.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$ROOT/scripts/lib/nginx.sh"

S="$ROOT/scripts"
load_pid=""
cleanup() {
  [[ -z "$load_pid" ]] || kill "$load_pid" 2>/dev/null || true
  tchat::nginx_stop >/dev/null 2>&1 || true
  ops_stack_stop
}
trap cleanup EXIT
ops_stack_start deployments || exit 1
tchat::nginx_start >/dev/null 2>&1 || fail "private gateway did not start"
pass "private stack started (run dir $TCHAT_RUN_DIR)"
# Clients use the gateway: that is where a deployment must not lose a request.
gw="http://127.0.0.1:$TCHAT_GATEWAY_PORT"

# Requests against $1 (URL) until stopped; counts the answers that are not $2 in
# file $3.
load() {
  local url="$1" want="$2" out="$3" code
  : >"$out"
  while true; do
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)"
    [[ "$code" == "$want" ]] || echo "$code" >>"$out"
    echo ok >>"$out.count"
  done
}
start_load() {
  rm -f "$2.count"
  load "$@" &
  load_pid=$!
}
stop_load() {
  kill "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  load_pid=""
}
pid_of() { tchat::live_pid "$(tchat::service_pidfile "$1")" "tchat-$1" || echo none; }

# --- Blue-green: a good binary takes over with no failed request.
before="$(pid_of auth)"
errors="$TCHAT_RUN_DIR/bg-errors"
start_load "$gw/.well-known/jwks.json" 200 "$errors"
rc=0
out="$("$S/blue-green-deploy.sh" --local auth-service "$TCHAT_BUILD_DIR/bin/tchat-auth" 2>&1)" || rc=$?
sleep 1
stop_load
indent <<<"$out"
after="$(pid_of auth)"
if [[ $rc == 0 && "$(tail -n1 <<<"$out")" == "✅ Traffic switched to green deployment" ]]; then
  pass "blue-green-deploy.sh --local auth-service: switched to green"
else
  fail "blue-green-deploy.sh exited $rc"
fi
[[ "$after" != none && "$after" != "$before" ]] && ! kill -0 "$before" 2>/dev/null &&
  pass "a new auth process serves (pid $before → $after), the old one exited" ||
  fail "auth pid $before → $after"
n="$(wc -l <"$errors.count")"
if [[ ! -s "$errors" ]] && ((n > 20)); then
  pass "no failed request through the gateway during the switch ($n requests)"
else
  fail "failed requests during the switch: $(sort "$errors" | uniq -c | tr '\n' ' ') of $n"
fi
[[ "$(tchat::deployed_color auth 2>/dev/null || cut -d' ' -f1 "$TCHAT_RUN_DIR/deploy/auth.version")" == green ]] &&
  pass "deployed colour recorded: green" || fail "colour not recorded"

# A second deployment goes back to blue.
rc=0
out="$("$S/blue-green-deploy.sh" --local auth-service "$TCHAT_BUILD_DIR/bin/tchat-auth" 2>&1)" || rc=$?
[[ $rc == 0 && "$(tail -n1 <<<"$out")" == "✅ Traffic switched to blue deployment" ]] &&
  pass "the next blue-green deployment switches back to blue" || fail "second switch: rc=$rc $out"

# A binary that does not come up: rolled back, the running one untouched.
broken="$TCHAT_RUN_DIR/broken/tchat-auth"
mkdir -p "$(dirname "$broken")"
printf '#!/bin/sh\necho "broken build" >&2\nexit 1\n' >"$broken"
chmod +x "$broken"
before="$(pid_of auth)"
rc=0
out="$("$S/blue-green-deploy.sh" --local auth-service "$broken" 2>&1)" || rc=$?
if [[ $rc != 0 ]] && grep -q '❌ Health checks failed, rolling back' <<<"$out" &&
  [[ "$(pid_of auth)" == "$before" && "$(http_status "$(svc_url auth)/health/ready")" == 200 ]]; then
  pass "a binary that fails its health check is rolled back; auth keeps running (pid $before)"
else
  fail "broken blue-green: rc=$rc pid $before → $(pid_of auth) out=$out"
fi

# --- Canary: traffic without errors → promoted.
before="$(pid_of payment)"
start_load "$gw/v1/wallets" 401 "$TCHAT_RUN_DIR/canary-errors"
rc=0
out="$(CANARY_DURATION=4 "$S/canary-deploy.sh" --local payment-service "$TCHAT_BUILD_DIR/bin/tchat-payment" 25 2>&1)" || rc=$?
stop_load
indent <<<"$out"
if [[ $rc == 0 ]] && grep -q '✅ Canary deployment successful, promoting to production' <<<"$out" &&
  [[ "$(pid_of payment)" != "$before" && "$(http_status "$(svc_url payment)/health/ready")" == 200 ]] &&
  [[ ! -e "$TCHAT_RUN_DIR/pids/payment-canary.pid" ]]; then
  pass "canary-deploy.sh --local: a canary without errors is promoted (pid $before → $(pid_of payment))"
else
  fail "canary promotion: rc=$rc pid $before → $(pid_of payment)"
fi
[[ -s "$TCHAT_RUN_DIR/canary-errors" ]] && fail "failed requests during the canary: $(sort -u "$TCHAT_RUN_DIR/canary-errors" | tr '\n' ' ')" ||
  pass "no failed request during the canary and its promotion"

# No traffic: nothing to judge by → removed, stable untouched.
before="$(pid_of notification)"
rc=0
out="$(CANARY_DURATION=1 "$S/canary-deploy.sh" --local notification-service "$TCHAT_BUILD_DIR/bin/tchat-notification" 2>&1)" || rc=$?
if [[ $rc != 0 ]] && grep -q 'No traffic reached the canary' <<<"$out" && [[ "$(pid_of notification)" == "$before" ]] &&
  ! pgrep -F "$TCHAT_RUN_DIR/pids/notification-canary.pid" >/dev/null 2>&1; then
  pass "a canary that received no traffic is removed; notification keeps running"
else
  fail "idle canary: rc=$rc out=$out"
fi

# --- Certificates.
rc=0
out="$("$S/cert-renewal.sh" --local 2>&1)" || rc=$?
cert="$TCHAT_RUN_DIR/tls/live/api.tchat.sea/fullchain.pem"
[[ $rc == 0 ]] && openssl x509 -in "$cert" -noout -checkhost api.tchat.sea | grep -q 'does match' &&
  pass "cert-renewal.sh --local issues a certificate for api.tchat.sea" || fail "cert-renewal: rc=$rc $out"
first="$(openssl x509 -in "$cert" -noout -fingerprint)"
out="$("$S/cert-renewal.sh" --local 2>&1)"
[[ "$out" == *"not due for renewal"* && "$(openssl x509 -in "$cert" -noout -fingerprint)" == "$first" ]] &&
  pass "a valid certificate is kept" || fail "second run: $out"
out="$(RENEW_BEFORE_DAYS=120 "$S/cert-renewal.sh" --local 2>&1)"
[[ "$(openssl x509 -in "$cert" -noout -fingerprint)" != "$first" ]] &&
  pass "a certificate expiring within RENEW_BEFORE_DAYS is renewed" || fail "renewal: $out"

# --- Security audit.
rc=0
out="$("$S/security-audit.sh" --local 2>&1)" || rc=$?
[[ $rc == 0 ]] && grep -q 'OK PostgreSQL listens on loopback only' <<<"$out" &&
  grep -q 'OK secrets.env mode 600' <<<"$out" && grep -q '0 failure(s)' <<<"$out" &&
  pass "security-audit.sh --local passes (manifests and local system)" || fail "audit: rc=$rc $out"
chmod 644 "$TCHAT_RUN_DIR/secrets.env"
rc=0
out="$("$S/security-audit.sh" --local 2>&1)" || rc=$?
chmod 600 "$TCHAT_RUN_DIR/secrets.env"
[[ $rc == 1 ]] && grep -q 'FAIL secrets.env mode 644' <<<"$out" &&
  pass "security-audit.sh fails on a secrets file readable by others" || fail "audit with mode 644: rc=$rc"

# --- Status on one screen.
rc=0
out="$("$S/status.sh" 2>&1)" || rc=$?
indent <<<"$out"
[[ $rc == 0 ]] && [[ "$(grep -cE '^(postgres|redis|auth|messaging|payment|notification|gateway) +up ' <<<"$out")" == 7 ]] &&
  pass "status.sh: all seven parts up" || fail "status.sh: rc=$rc"
tchat::service_stop messaging >/dev/null 2>&1
rc=0
out="$("$S/status.sh" 2>&1)" || rc=$?
[[ $rc == 1 ]] && grep -qE '^messaging +DOWN ' <<<"$out" && pass "status.sh shows a stopped service DOWN, exit 1" ||
  fail "status.sh with messaging stopped: rc=$rc $out"
finish
