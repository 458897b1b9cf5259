#!/usr/bin/env bash
# (b) Readiness follows PostgreSQL: with the test PostgreSQL stopped, every
# service's /health/ready turns 503 within 2 s and names postgres as the failing
# dependency while /health stays 200 and db_connection_errors_total grows; once
# PostgreSQL is back, /health/ready returns to 200 within a few seconds without
# any service restarting.
# shellcheck disable=SC2317 # functions called through tchat::wait_until and traps
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"

declare -A pid_before errors_before
for svc in "${TCHAT_SERVICES[@]}"; do
  port="$(tchat::service_port "$svc")"
  pid_before[$svc]="$(tchat::live_pid "$TCHAT_RUN_DIR/pids/$svc.pid" "tchat-$svc" || echo none)"
  errors_before[$svc]="$(metric_sum "http://127.0.0.1:$port/metrics" db_connection_errors_total)"
  if [[ "$(http_status "http://127.0.0.1:$port/health/ready")" == 200 ]]; then
    pass "$svc ready before the outage"
  else
    fail "$svc not ready before the outage"
  fi
done

# Whatever happens, PostgreSQL runs again when this test ends.
trap 'tchat::pg_running || tchat::pg_start >/dev/null 2>&1 || true' EXIT
tchat::pg_stop 2>/dev/null

all_503() {
  local svc
  for svc in "${TCHAT_SERVICES[@]}"; do
    [[ "$(http_status "http://127.0.0.1:$(tchat::service_port "$svc")/health/ready")" == 503 ]] || return 1
  done
}
start=$SECONDS
if tchat::wait_until 2 all_503; then
  pass "every /health/ready is 503 within 2 s of PostgreSQL stopping ($((SECONDS - start))s)"
else
  fail "not every /health/ready turned 503 within 2 s"
fi

for svc in "${TCHAT_SERVICES[@]}"; do
  port="$(tchat::service_port "$svc")"
  body="$(curl -s -m 5 "http://127.0.0.1:$port/health/ready")"
  if jq -e '.checks.postgres.status != "ok" and .checks.redis.status == "ok"' <<<"$body" >/dev/null 2>&1; then
    pass "$svc readiness names postgres as failing, redis ok"
  else
    fail "$svc readiness body: $body"
  fi
  code="$(http_status "http://127.0.0.1:$port/health")"
  if [[ "$code" == 200 ]]; then pass "$svc /health stays 200"; else fail "$svc /health → $code"; fi
  errors_grew() {
    (($(metric_sum "http://127.0.0.1:$1/metrics" db_connection_errors_total) > $2))
  }
  if tchat::wait_until 5 errors_grew "$port" "${errors_before[$svc]}"; then
    pass "$svc db_connection_errors_total grew (was ${errors_before[$svc]})"
  else
    fail "$svc db_connection_errors_total did not grow (still $(metric_sum "http://127.0.0.1:$port/metrics" db_connection_errors_total))"
  fi
done

tchat::pg_start 2>/dev/null
all_200() {
  local svc
  for svc in "${TCHAT_SERVICES[@]}"; do
    [[ "$(http_status "http://127.0.0.1:$(tchat::service_port "$svc")/health/ready")" == 200 ]] || return 1
  done
}
start=$SECONDS
if tchat::wait_until 10 all_200; then
  pass "every /health/ready is 200 again $((SECONDS - start))s after PostgreSQL restarted"
else
  fail "not every service recovered within 10 s of PostgreSQL restarting"
fi
for svc in "${TCHAT_SERVICES[@]}"; do
  now="$(tchat::live_pid "$TCHAT_RUN_DIR/pids/$svc.pid" "tchat-$svc" || echo none)"
  if [[ "$now" != none && "$now" == "${pid_before[$svc]}" ]]; then
    pass "$svc kept running (pid $now)"
  else
    fail "$svc pid changed: ${pid_before[$svc]} → $now"
  fi
done
finish
