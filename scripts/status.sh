#!/usr/bin/env bash
# status.sh — the local system on one screen: for PostgreSQL, Redis, each service,
# the gateway and Prometheus, whether its process runs (pid), whether its port
# listens, and its health (the services' /health/ready with latency, version and
# uptime from /health). Exit 0 when everything that start.sh starts is up, 1 when
# something is down.
#
# Usage: scripts/status.sh
#   reads the same settings as start.sh (TCHAT_RUN_DIR, TCHAT_*_PORT, ...)
set -uo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$TCHAT_ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$TCHAT_ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$TCHAT_ROOT/scripts/lib/services.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$TCHAT_ROOT/scripts/lib/nginx.sh"
# shellcheck source=scripts/lib/prometheus.sh
source "$TCHAT_ROOT/scripts/lib/prometheus.sh"

case "${1:-}" in
  "") ;;
  -h | --help) tchat::usage_of "$0"; exit 0 ;;
  *) tchat::usage_of "$0" >&2; exit 2 ;;
esac
tchat::defaults

down=0
# Colour only on a terminal.
if [[ -t 1 ]]; then ok=$'\e[32mup\e[0m' bad=$'\e[31mDOWN\e[0m' off=$'\e[33moff\e[0m'; else ok=up bad=DOWN off=off; fi

row() { printf '%-16s %-6s %-8s %-7s %s\n' "$@"; }
# pid of pid file $1 for program $2, or "-".
pid_of() { tchat::live_pid "$1" "$2" 2>/dev/null || echo -; }
# "listen" or "closed" for port $1.
port_state() { if tchat::port_open "$1"; then echo listen; else echo closed; fi; }

echo "Tchat local system — run dir $TCHAT_RUN_DIR"
row PART STATE PID PORT HEALTH
row ---- ----- --- ---- ------

# PostgreSQL: pg_ctl's pid file.
pg_pid=-
if [[ -f "$(tchat::pg_data)/postmaster.pid" ]]; then pg_pid="$(head -n1 "$(tchat::pg_data)/postmaster.pid")"; fi
if tchat::pg_running; then
  ndb="$(tchat::psql postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'tchat\_%'" 2>/dev/null || echo '?')"
  row postgres "$ok" "$pg_pid" "$TCHAT_PG_PORT" "$(port_state "$TCHAT_PG_PORT"), $ndb tchat databases"
else
  row postgres "$bad" - "$TCHAT_PG_PORT" "$(port_state "$TCHAT_PG_PORT")"
  down=1
fi

if tchat::redis_running; then
  keys="$(redis-cli -h 127.0.0.1 -p "$TCHAT_REDIS_PORT" DBSIZE 2>/dev/null || echo '?')"
  mem="$(redis-cli -h 127.0.0.1 -p "$TCHAT_REDIS_PORT" INFO memory 2>/dev/null | tr -d '\r' | sed -n 's/^used_memory_human://p')"
  row redis "$ok" "$(pid_of "$(tchat::redis_pidfile)" redis-server)" "$TCHAT_REDIS_PORT" "PING ok, $keys keys, $mem"
else
  row redis "$bad" - "$TCHAT_REDIS_PORT" "$(port_state "$TCHAT_REDIS_PORT")"
  down=1
fi

# One row per replica: name, port, pid file.
service_row() {
  local name="$1" svc="$2" port="$3" pidfile="$4" ready code ms info color pid
  pid="$(pid_of "$pidfile" "tchat-$svc")"
  ready="$(curl -s -o /dev/null -m 3 -w '%{http_code} %{time_total}' "http://127.0.0.1:$port/health/ready" || true)"
  code="${ready%% *}"
  ms="$(awk -v t="${ready#* }" 'BEGIN { printf "%.0f", t * 1000 }')"
  info="$(curl -s -m 3 "http://127.0.0.1:$port/health" | jq -r '"v\(.version), up \(.uptime_seconds | floor)s"' 2>/dev/null || true)"
  # The colour a blue-green deployment left (scripts/blue-green-deploy.sh --local).
  color=""
  if [[ -s "$TCHAT_RUN_DIR/deploy/$svc.version" ]]; then color="$(cut -d' ' -f1 "$TCHAT_RUN_DIR/deploy/$svc.version")"; fi
  if [[ "$code" == 200 ]]; then
    row "$name" "$ok" "$pid" "$port" "ready ${ms}ms, ${info:-?}${color:+, $color}"
  else
    row "$name" "$bad" "$pid" "$port" "/health/ready → ${code:-no answer}"
    down=1
  fi
}

replicas="$(tchat::replicas)"
for svc in "${TCHAT_SERVICES[@]}"; do
  if ((replicas == 1)); then
    service_row "$svc" "$svc" "$(tchat::service_port "$svc")" "$(tchat::service_pidfile "$svc")"
    continue
  fi
  # The service's own port: the gateway's balancer over its replicas.
  port="$(tchat::service_port "$svc")"
  code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$port/health/ready" || true)"
  if tchat::nginx_balances "$port"; then
    row "$svc" "$ok" "-" "$port" "gateway balancer over $replicas replicas, /health/ready → $code"
  else
    row "$svc" "$bad" "-" "$port" "no balancer (the gateway is down?)"
    down=1
  fi
  for ((r = 1; r <= replicas; r++)); do
    service_row "  $svc-$r" "$svc" "$(tchat::replica_port "$svc" "$r")" "$(tchat::replica_pidfile "$svc" "$r")"
  done
done

if tchat::nginx_running; then
  code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$TCHAT_GATEWAY_PORT/" || true)"
  row gateway "$ok" "$(pid_of "$(tchat::nginx_pidfile)" nginx)" "$TCHAT_GATEWAY_PORT" "GET / → $code"
else
  row gateway "$bad" - "$TCHAT_GATEWAY_PORT" "$(port_state "$TCHAT_GATEWAY_PORT")"
  down=1
fi

# The development payment-provider simulator: start.sh runs it when node is there.
# shellcheck source=scripts/lib/psp_sim.sh
source "$TCHAT_ROOT/scripts/lib/psp_sim.sh"
: "${TCHAT_PSP_SIM_PORT:=8089}"
if tchat::psp_sim_running; then
  row psp-sim "$ok" "$(pid_of "$(tchat::psp_sim_pidfile)" node)" "$TCHAT_PSP_SIM_PORT" "development top-up simulator"
else
  row psp-sim "$off" - "$TCHAT_PSP_SIM_PORT" "not running (development only)"
fi

# Prometheus is optional (scripts/prometheus.sh start).
if tchat::prom_running; then
  n="$(curl -s -m 3 "$(tchat::prom_url)/api/v1/query" --data-urlencode 'query=sum(up{job="tchat-services"})' |
    jq -r '.data.result[0].value[1] // 0' 2>/dev/null || echo '?')"
  firing="$(curl -s -m 3 "$(tchat::prom_url)/api/v1/alerts" |
    jq -r '[.data.alerts[] | select(.state == "firing") | .labels.alertname] | unique | join(",")' 2>/dev/null || true)"
  row prometheus "$ok" "$(pid_of "$(tchat::prom_pidfile)" prometheus)" "$TCHAT_PROMETHEUS_PORT" \
    "$n targets up, firing: ${firing:-none}"
else
  row prometheus "$off" - "$TCHAT_PROMETHEUS_PORT" "not started (scripts/prometheus.sh start)"
fi

echo
echo "logs: $TCHAT_RUN_DIR/logs/   config: $(tchat::config_file)"
if ((down)); then
  echo "Something is down: scripts/start.sh starts it; the logs above say why it stopped."
  exit 1
fi
echo "Everything is up."
