#!/usr/bin/env bash
# prometheus.sh — runs a Prometheus for the local system (scripts/start.sh):
# scrapes the four services as job "tchat-services" and evaluates the runbook's
# alerts (deploy/prometheus/alerts.yml). Then the runbook's queries work here:
#   curl -s 'http://127.0.0.1:9090/api/v1/query?query=up{job="tchat-services"}'
#
# Usage: scripts/prometheus.sh start|stop|status
#   TCHAT_PROMETHEUS_PORT            default 9090
#   TCHAT_PROMETHEUS_SCRAPE_INTERVAL default 15s
#   and the ports of the local system (TCHAT_AUTH_PORT, ...), as start.sh
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"
# shellcheck source=scripts/lib/prometheus.sh
source "$TCHAT_ROOT/scripts/lib/prometheus.sh"

usage() { tchat::usage_of "$0"; }

(($# == 1)) || { usage >&2; exit 2; }
tchat::defaults
case "$1" in
  start)
    tchat::prom_start
    echo "Prometheus: $(tchat::prom_url)  (config $(tchat::prom_config))"
    ;;
  stop) tchat::prom_stop ;;
  status)
    if tchat::prom_running; then
      echo "Prometheus running: $(tchat::prom_url)"
      curl -s -m 5 "$(tchat::prom_url)/api/v1/query" --data-urlencode 'query=up{job="tchat-services"}' |
        jq -r '.data.result[] | "  \(.metric.instance)  up=\(.value[1])"'
    else
      echo "Prometheus not running"
      exit 1
    fi
    ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
