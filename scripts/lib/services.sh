# shellcheck shell=bash
# The four Tchat services as background processes: binaries from
# $TCHAT_BUILD_DIR/bin, pid files in $TCHAT_RUN_DIR/pids, logs (JSON lines) in
# $TCHAT_RUN_DIR/logs/<service>.log. Requires common.sh, postgres.sh, redis.sh.

tchat::service_bin() { echo "$TCHAT_BUILD_DIR/bin/tchat-$1"; }
tchat::service_pidfile() { echo "$TCHAT_RUN_DIR/pids/$1.pid"; }
tchat::service_log() { echo "$TCHAT_RUN_DIR/logs/$1.log"; }
tchat::secrets_file() { echo "$TCHAT_RUN_DIR/secrets.env"; }
tchat::jwt_key_file() { echo "$TCHAT_RUN_DIR/jwt-signing-keys.json"; }
tchat::jwks_file() { echo "$TCHAT_RUN_DIR/jwks.json"; }
tchat::config_file() { echo "$TCHAT_RUN_DIR/config.env"; }

# Creates the local secrets once, never printing them: secrets.env (mode 600:
# admin token, PSP webhook secret, OTP pepper) and auth's access-token signing
# key file (mode 600, made by tchat-keygen from $TCHAT_BUILD_DIR, with its public
# JWKS beside it). Kept across restarts, so issued tokens stay valid.
tchat::ensure_secrets() {
  local file
  file="$(tchat::secrets_file)"
  mkdir -p "$TCHAT_RUN_DIR"
  if [[ ! -s "$file" ]]; then
    tchat::log "generating local secrets in $file"
    (
      umask 077
      {
        echo "# Local secrets of the Tchat services (generated once by scripts/start.sh)."
        echo "TCHAT_ADMIN_TOKEN=$(openssl rand -hex 32)"
        echo "TCHAT_PSP_WEBHOOK_SECRET=$(openssl rand -hex 32)"
        echo "TCHAT_OTP_PEPPER=$(openssl rand -hex 32)"
      } >"$file.tmp"
      mv "$file.tmp" "$file"
    )
    chmod 600 "$file"
  fi
  if [[ ! -s "$(tchat::jwt_key_file)" ]]; then
    local keygen="$TCHAT_BUILD_DIR/bin/tchat-keygen"
    [[ -x "$keygen" ]] || tchat::die "$keygen not found: build first (scripts/build.sh)"
    tchat::log "generating the access-token signing key in $(tchat::jwt_key_file)"
    (umask 077 && "$keygen" "$(tchat::jwt_key_file)" "$(tchat::jwks_file)" >/dev/null) ||
      tchat::die "tchat-keygen failed"
    chmod 600 "$(tchat::jwt_key_file)"
  fi
}

# Loads the secrets into the environment (exported).
tchat::load_secrets() {
  local file
  file="$(tchat::secrets_file)"
  [[ -r "$file" ]] || tchat::die "missing $file"
  set -a
  # shellcheck disable=SC1090
  source "$file"
  set +a
}

# Writes the non-secret settings every service gets to config.env (a record of
# what the running system uses; regenerated on each start) and exports them.
tchat::write_service_config() {
  mkdir -p "$TCHAT_RUN_DIR"
  local file
  file="$(tchat::config_file)"
  {
    echo "# Effective configuration of the local Tchat services, written by scripts/start.sh."
    echo "# Regenerated on every start: change values through the environment instead"
    echo "# (e.g. TCHAT_AUTH_PORT=9081 LOG_LEVEL=debug scripts/start.sh)."
    tchat::_kv REDIS_URL "$(tchat::redis_url)"
    tchat::_kv JWKS_URL "http://127.0.0.1:${TCHAT_AUTH_PORT}/.well-known/jwks.json"
    tchat::_kv TCHAT_JWT_KEY_FILE "$(tchat::jwt_key_file)"
    tchat::_kv TCHAT_DEV_OTP "${TCHAT_DEV_OTP:-1}"
    tchat::_kv TCHAT_DEBUG_ENDPOINTS "${TCHAT_DEBUG_ENDPOINTS:-0}"
    if [[ "${TCHAT_DEBUG_ENDPOINTS:-0}" == 1 ]]; then
      # tcmalloc samples one allocation per this many bytes for /debug/pprof/heap.
      tchat::_kv TCMALLOC_SAMPLE_PARAMETER "${TCMALLOC_SAMPLE_PARAMETER:-524288}"
    fi
    tchat::_kv TCHAT_PUSH_WEBHOOK_URL "${TCHAT_PUSH_WEBHOOK_URL:-}"
    tchat::_kv TCHAT_SMS_WEBHOOK_URL "${TCHAT_SMS_WEBHOOK_URL:-}"
    tchat::_kv LOG_LEVEL "${LOG_LEVEL:-info}"
    if [[ -n "${PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE:-}" ]]; then
      tchat::_kv PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE "$PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE"
    fi
    tchat::_kv TCHAT_AUTH_URL "http://127.0.0.1:${TCHAT_AUTH_PORT}"
    tchat::_kv TCHAT_MESSAGING_URL "http://127.0.0.1:${TCHAT_MESSAGING_PORT}"
    tchat::_kv TCHAT_PAYMENT_URL "http://127.0.0.1:${TCHAT_PAYMENT_PORT}"
    tchat::_kv TCHAT_NOTIFICATION_URL "http://127.0.0.1:${TCHAT_NOTIFICATION_PORT}"
    local svc
    for svc in "${TCHAT_SERVICES[@]}"; do
      echo "# $svc: PORT=$(tchat::service_port "$svc") DATABASE_URL=$(tchat::pg_url "tchat_$svc")"
    done
  } >"$file"
}

# One shell-quoted KEY=value line.
tchat::_kv() { printf '%s=%q\n' "$1" "$2"; }

tchat::service_running() {
  tchat::live_pid "$(tchat::service_pidfile "$1")" "tchat-$1" >/dev/null
}

# Starts service $1 in the background (in its own session, so it outlives the
# terminal), with the shared config, the secrets and its own PORT/DATABASE_URL.
tchat::service_start() {
  local svc="$1" bin port log
  bin="$(tchat::service_bin "$svc")"
  port="$(tchat::service_port "$svc")"
  log="$(tchat::service_log "$svc")"
  [[ -x "$bin" ]] || tchat::die "$bin not found: build first (scripts/build.sh)"
  if tchat::service_running "$svc"; then tchat::die "$svc is already running"; fi
  if tchat::port_open "$port"; then tchat::die "port $port ($svc) is taken by another process"; fi
  mkdir -p "$TCHAT_RUN_DIR/pids" "$TCHAT_RUN_DIR/logs"
  (
    set -a
    # shellcheck disable=SC1090
    source "$(tchat::config_file)"
    # shellcheck disable=SC1090
    source "$(tchat::secrets_file)"
    set +a
    PORT="$port"
    DATABASE_URL="$(tchat::pg_url "tchat_$svc")"
    export PORT DATABASE_URL
    cd "$TCHAT_RUN_DIR" || exit 1
    exec setsid "$bin" >>"$log" 2>&1 </dev/null 9>&-
  ) &
  echo $! >"$(tchat::service_pidfile "$svc")"
}

# Stops service $1 with SIGTERM (SIGKILL after the grace period). Returns 1 when
# it had to be killed.
tchat::service_stop() {
  local svc="$1" pid rc=0
  if pid="$(tchat::live_pid "$(tchat::service_pidfile "$svc")" "tchat-$svc")"; then
    tchat::log "stopping $svc (pid $pid)"
    tchat::terminate_pid "$pid" 25 || rc=1
  fi
  rm -f "$(tchat::service_pidfile "$svc")"
  return "$rc"
}

tchat::_ready() {
  [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/health/ready")" == 200 ]]
}

# Waits until every service answers 200 on /health/ready; on timeout shows why.
tchat::wait_services_ready() {
  local timeout="${1:-60}" svc port
  for svc in "${TCHAT_SERVICES[@]}"; do
    port="$(tchat::service_port "$svc")"
    tchat::wait_until "$timeout" tchat::_service_ready_or_dead "$svc" "$port" || true
    if ! tchat::_ready "$port"; then
      printf 'error: %s is not ready on port %s. /health/ready says:\n' "$svc" "$port" >&2
      curl -s -m 2 "http://127.0.0.1:$port/health/ready" >&2 || echo "(no answer)" >&2
      printf '\nlast lines of %s:\n' "$(tchat::service_log "$svc")" >&2
      tail -n 20 "$(tchat::service_log "$svc")" >&2 || true
      return 1
    fi
  done
}
# Stops waiting early when the process died.
# By pid, not by name: until its exec a just-started service still runs as bash,
# and tchat::service_running would call it dead.
tchat::_service_ready_or_dead() {
  tchat::_ready "$2" && return 0
  local pid
  pid="$(cat "$(tchat::service_pidfile "$1")" 2>/dev/null)" || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  tchat::_pid_gone "$pid"
}

# Starts every service: auth first and ready before the others, so that they find
# its JWKS at once; then waits until all are ready.
tchat::services_start_all() {
  local svc
  for svc in "${TCHAT_SERVICES[@]}"; do
    tchat::log "starting $svc on port $(tchat::service_port "$svc")"
    tchat::service_start "$svc"
    if [[ "$svc" == auth ]]; then
      tchat::wait_until 30 tchat::_service_ready_or_dead auth "$(tchat::service_port auth)" || true
    fi
  done
  tchat::wait_services_ready 60
}

# Stops every running service: SIGTERM to all at once, then waits for each (they
# drain in parallel). Returns 1 when one had to be killed.
tchat::services_stop_all() {
  local svc pid rc=0
  local -a pids=()
  for svc in "${TCHAT_SERVICES[@]}"; do
    if pid="$(tchat::live_pid "$(tchat::service_pidfile "$svc")" "tchat-$svc")"; then
      tchat::log "stopping $svc (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    tchat::await_exit "$pid" 25 || rc=1
  done
  for svc in "${TCHAT_SERVICES[@]}"; do rm -f "$(tchat::service_pidfile "$svc")"; done
  return "$rc"
}
