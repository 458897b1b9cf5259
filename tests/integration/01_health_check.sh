#!/usr/bin/env bash
# (a) The runbook's scripts/health-check.sh reports every service of the test stack
# healthy, and reports an unreachable one as unhealthy with exit status 1.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ports="auth:$TCHAT_AUTH_PORT messaging:$TCHAT_MESSAGING_PORT payment:$TCHAT_PAYMENT_PORT notification:$TCHAT_NOTIFICATION_PORT"
rc=0
out="$(BASE_URL=http://127.0.0.1 TCHAT_SERVICE_PORTS="$ports" "$ROOT/scripts/health-check.sh")" || rc=$?
indent <<<"$out"
if [[ $rc == 0 ]]; then pass "health-check.sh exits 0"; else fail "health-check.sh exited $rc"; fi
for svc in auth messaging payment notification; do
  if grep -qx "✅ $svc service is healthy" <<<"$out"; then
    pass "$svc reported healthy"
  else
    fail "$svc not reported healthy"
  fi
done
if [[ "$(tail -n1 <<<"$out")" == "All services are healthy" ]]; then
  pass "final line"
else
  fail "final line: $(tail -n1 <<<"$out")"
fi

# A service that does not answer: ❌ line, exit 1, nothing checked after it.
rc=0
out="$(BASE_URL=http://127.0.0.1 TCHAT_SERVICE_PORTS="auth:$TCHAT_AUTH_PORT ghost:1 payment:$TCHAT_PAYMENT_PORT" \
  HEALTH_CHECK_TIMEOUT=2 "$ROOT/scripts/health-check.sh")" || rc=$?
if [[ $rc == 1 ]] && grep -qx "❌ ghost service is unhealthy (HTTP 000)" <<<"$out" &&
  ! grep -q payment <<<"$out"; then
  pass "an unreachable service fails the check at once"
else
  fail "unreachable service: rc=$rc output: $out"
fi

# The default list is the runbook's (ports 8081-8084): the script text must keep it.
if grep -q 'SERVICES=("auth:8081" "messaging:8082" "payment:8083" "notification:8084")' \
  "$ROOT/scripts/health-check.sh"; then
  pass "default service list is the runbook's"
else
  fail "default service list changed"
fi
finish
