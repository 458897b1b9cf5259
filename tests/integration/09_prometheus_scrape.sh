#!/usr/bin/env bash
# A real Prometheus (scripts/prometheus.sh, the local system's monitoring) scrapes
# the four services of the test stack as job "tchat-services": every target is
# up, the runbook's six alerts are loaded, the series the alerts query carry the
# labels they group by, and no alert fires on a healthy stack.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else; some
# functions are called through tchat::wait_until and traps.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib/prometheus.sh
source "$ROOT/scripts/lib/prometheus.sh"

export TCHAT_PROMETHEUS_PORT="${TCHAT_TEST_PROMETHEUS_PORT:-19090}" TCHAT_PROMETHEUS_SCRAPE_INTERVAL=1s
prom="http://127.0.0.1:$TCHAT_PROMETHEUS_PORT"
trap '"$ROOT/scripts/prometheus.sh" stop >/dev/null 2>&1 || true' EXIT

# A fresh database: samples of an earlier run must not answer for this one.
"$ROOT/scripts/prometheus.sh" stop >/dev/null 2>&1 || true
rm -rf "$(tchat::prom_dir)/data"
if "$ROOT/scripts/prometheus.sh" start; then pass "scripts/prometheus.sh start"; else fail "Prometheus did not start"; finish; fi
# The generated configuration is valid for promtool.
if promtool check config "$(tchat::prom_config)" >/dev/null 2>&1; then
  pass "generated configuration passes promtool check config"
else
  fail "promtool check config $(tchat::prom_config)"
fi

query() { curl -s -m 5 "$prom/api/v1/query" --data-urlencode "query=$1"; }
# Live target state (the scrape manager's, not stored samples), then the query.
all_up() {
  [[ "$(curl -s -m 5 "$prom/api/v1/targets" |
    jq '[.data.activeTargets[] | select(.labels.job == "tchat-services" and .health == "up")] | length')" == 4 ]] &&
    [[ "$(query 'sum(up{job="tchat-services"})' | jq -r '.data.result[0].value[1] // 0')" == 4 ]]
}
if tchat::wait_until 60 all_up; then
  pass "all four services are up in Prometheus"
else
  fail "not all targets up: $(curl -s "$prom/api/v1/targets" | jq -c '[.data.activeTargets[] | {scrapeUrl, health, lastError}]')"
fi
for svc in "${TCHAT_SERVICES[@]}"; do
  port="$(tchat::service_port "$svc")"
  v="$(query "up{job=\"tchat-services\",instance=\"127.0.0.1:$port\"}" | jq -r '.data.result[0].value[1] // "absent"')"
  [[ "$v" == 1 ]] && pass "up{instance=127.0.0.1:$port} = 1 ($svc)" || fail "$svc: up = $v"
done

alerts="$(curl -s -m 5 "$prom/api/v1/rules" | jq -c '[.data.groups[].rules[] | select(.type == "alerting") | .name] | sort')"
want='["DatabaseConnectionFailures","HighDiskUsage","HighErrorRate","HighLatency","HighMemoryUsage","ServiceDown"]'
[[ "$alerts" == "$want" ]] && pass "the runbook's six alerts are loaded" || fail "alerts loaded: $alerts"

# The alerts group by these labels: each service must expose them.
services="$(query 'count by (service) (http_requests_total)' | jq -c '[.data.result[].metric.service] | sort')"
[[ "$services" == '["auth","messaging","notification","payment"]' ]] &&
  pass "http_requests_total carries service for all four" || fail "http_requests_total services: $services"
for metric in http_request_duration_seconds_bucket db_connection_errors_total process_resident_memory_bytes; do
  n="$(query "count(count by (instance) ($metric))" | jq -r '.data.result[0].value[1] // 0')"
  [[ "$n" == 4 ]] && pass "$metric scraped from 4 instances" || fail "$metric from $n instances"
done
labels="$(query 'db_connection_errors_total' | jq -c '[.data.result[].metric | has("service") and has("database")] | unique')"
[[ "$labels" == '[true]' ]] && pass "db_connection_errors_total has service and database labels" ||
  fail "db_connection_errors_total labels: $(query db_connection_errors_total | jq -c '[.data.result[].metric]')"

firing="$(curl -s -m 5 "$prom/api/v1/alerts" | jq -c '[.data.alerts[] | select(.state == "firing") | .labels.alertname]')"
[[ "$firing" == "[]" ]] && pass "no alert fires on the healthy stack" || fail "firing: $firing"
finish
