# shellcheck shell=bash
# DEVELOPMENT ONLY: the payment-provider simulator (web/dev/psp-simulator.mjs) of
# the local and test stacks. It shows a "pay" page for a pending top-up and sends
# the signed webhook that completes it, holding TCHAT_PSP_WEBHOOK_SECRET on the
# server side. The gateway reaches it under /dev/psp/ through a location file in
# the run directory's nginx/dev.d/, written here only while the simulator runs:
# the gateway template itself has no such route. Requires common.sh, services.sh
# and nginx.sh; start it before tchat::nginx_start so that the route is loaded.

tchat::psp_sim_pidfile() { echo "$TCHAT_RUN_DIR/pids/psp-sim.pid"; }
tchat::psp_sim_log() { echo "$TCHAT_RUN_DIR/logs/psp-sim.log"; }
tchat::psp_sim_route() { echo "$(tchat::nginx_dir)/dev.d/psp-sim.conf"; }

tchat::psp_sim_running() {
  tchat::live_pid "$(tchat::psp_sim_pidfile)" node >/dev/null
}

tchat::_psp_sim_ready() {
  [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$TCHAT_PSP_SIM_PORT/dev/psp/health")" == 200 ]]
}

# Starts the simulator (restarts it when it runs) and writes its gateway route.
# Without node it warns and carries on: only the top-up page is missing then.
tchat::psp_sim_start() {
  : "${TCHAT_PSP_SIM_PORT:=8089}"
  tchat::psp_sim_stop
  if ! command -v node >/dev/null; then
    tchat::warn "node not found: the development payment page (/dev/psp/) is not available"
    return 0
  fi
  if tchat::port_open "$TCHAT_PSP_SIM_PORT"; then
    tchat::die "port $TCHAT_PSP_SIM_PORT (payment simulator) is taken by another process (set TCHAT_PSP_SIM_PORT)"
  fi
  mkdir -p "$TCHAT_RUN_DIR/pids" "$TCHAT_RUN_DIR/logs" "$(dirname "$(tchat::psp_sim_route)")"
  tchat::log "starting the development payment simulator on 127.0.0.1:$TCHAT_PSP_SIM_PORT"
  (
    set -a
    # shellcheck disable=SC1090
    source "$(tchat::secrets_file)"
    set +a
    export TCHAT_PSP_SIM_PORT
    export TCHAT_PSP_WEBHOOK_URL="http://127.0.0.1:$TCHAT_PAYMENT_PORT/v1/webhooks/psp"
    cd "$TCHAT_RUN_DIR" || exit 1
    exec setsid node "$TCHAT_ROOT/web/dev/psp-simulator.mjs" >>"$(tchat::psp_sim_log)" 2>&1 </dev/null 9>&-
  ) &
  echo $! >"$(tchat::psp_sim_pidfile)"
  if ! tchat::wait_until 10 tchat::_psp_sim_ready; then
    tail -n 20 "$(tchat::psp_sim_log)" >&2 || true
    tchat::die "the payment simulator did not start (log: $(tchat::psp_sim_log))"
  fi
  cat >"$(tchat::psp_sim_route)" <<CONF
# Written by scripts/lib/psp_sim.sh for the local stack only (development).
location /dev/psp/ {
    proxy_pass http://127.0.0.1:$TCHAT_PSP_SIM_PORT;
}
CONF
}

tchat::psp_sim_stop() {
  local pid
  rm -f "$(tchat::psp_sim_route)"
  if pid="$(tchat::live_pid "$(tchat::psp_sim_pidfile)" node)"; then
    tchat::log "stopping the payment simulator (pid $pid)"
    tchat::terminate_pid "$pid" 10 || true
  fi
  rm -f "$(tchat::psp_sim_pidfile)"
}
