# shellcheck shell=bash
# The four Tchat services as background processes: binaries from
# $TCHAT_BUILD_DIR/bin, pid files in $TCHAT_RUN_DIR/pids, logs (JSON lines) in
# $TCHAT_RUN_DIR/logs/<service>.log. Requires common.sh, postgres.sh, redis.sh.

tchat::service_bin() { echo "$TCHAT_BUILD_DIR/bin/tchat-$1"; }
tchat::service_pidfile() { echo "$TCHAT_RUN_DIR/pids/$1.pid"; }
tchat::service_log() { echo "$TCHAT_RUN_DIR/logs/$1.log"; }

# Replica r's pid file and log (the port and the count: tchat::replica_port and
# tchat::replicas in common.sh).
tchat::replica_pidfile() {
  if (($(tchat::replicas) == 1)); then tchat::service_pidfile "$1"; else echo "$TCHAT_RUN_DIR/pids/$1-$2.pid"; fi
}
tchat::replica_log() {
  if (($(tchat::replicas) == 1)); then tchat::service_log "$1"; else echo "$TCHAT_RUN_DIR/logs/$1-$2.log"; fi
}
# Every pid file of service $1 there is (one replica's or several), whatever N is now.
tchat::service_pidfiles() {
  local f
  for f in "$TCHAT_RUN_DIR/pids/$1.pid" "$TCHAT_RUN_DIR/pids/$1"-[1-9].pid; do
    if [[ -e "$f" ]]; then echo "$f"; fi
  done
}
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
  # Each one when missing: the file may already hold others (the PostgreSQL
  # replication password, scripts/lib/pg_replica.sh, can come first).
  local name
  for name in TCHAT_ADMIN_TOKEN TCHAT_PSP_WEBHOOK_SECRET TCHAT_OTP_PEPPER; do
    if ! grep -q "^$name=" "$file" 2>/dev/null; then
      tchat::log "generating $name in $file"
      (
        umask 077
        [[ -s "$file" ]] || echo "# Local secrets of the Tchat services (generated once by scripts/start.sh)." >>"$file"
        echo "$name=$(openssl rand -hex 32)" >>"$file"
      )
    fi
  done
  chmod 600 "$file"
  # Added to files made before it existed, too.
  if ! grep -q '^TCHAT_NOTIFICATION_SEAL_KEY=' "$file"; then
    tchat::log "generating the notification service's OTP sealing key in $file"
    local pair
    pair="$(tchat::seal_keypair)" || tchat::die "cannot generate an X25519 key (openssl)"
    (umask 077 && echo "$pair" >>"$file")
  fi
  if ! grep -q '^TCHAT_MEDIA_URL_KEY=' "$file"; then
    tchat::log "generating the key of signed media URLs in $file"
    (umask 077 && echo "TCHAT_MEDIA_URL_KEY=$(openssl rand -hex 32)" >>"$file")
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

# Prints TCHAT_NOTIFICATION_SEAL_KEY=<private> and TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY=<public>:
# a fresh X25519 pair in hex. Auth seals OTP codes to the public half; only the
# notification service, which sends the SMS, holds the private half.
tchat::seal_keypair() {
  local der pub
  # The PKCS#8 (DER) form of an X25519 key ends with the 32 raw bytes, and so
  # does the SubjectPublicKeyInfo of its public half.
  der="$(openssl genpkey -algorithm X25519 -outform DER | xxd -p | tr -d '\n')" || return 1
  pub="$(xxd -r -p <<<"$der" | openssl pkey -inform DER -pubout -outform DER | xxd -p | tr -d '\n')" ||
    return 1
  [[ ${#der} -ge 64 && ${#pub} -ge 64 ]] || return 1
  echo "TCHAT_NOTIFICATION_SEAL_KEY=${der: -64}"
  echo "TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY=${pub: -64}"
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

# The settings of the services that config.env records: names, and prefixes
# ending in "_" for each service's own families (PAYMENT_DAILY_LIMIT_THB, ...).
# A lower-case name (the runbook's ConfigMap keys) also matches its upper-case
# form, as the services read both. Keep in step with the keys the C++ reads
# (core/src/base/config.cpp, services/*/src; tests/integration/12_config_env.sh
# compares). The secrets are not settings: they stay in secrets.env.
# shellcheck disable=SC2034 # also read by the tests
TCHAT_SERVICE_SETTINGS=(
  db_max_open_conns db_max_idle_conns db_conn_max_lifetime db_max_connections
  redis_pool_size redis_min_idle_conns redis_dial_timeout redis_read_timeout redis_write_timeout
  http_client_timeout http_client_max_idle_conns http_client_max_conns_per_host
  LOG_LEVEL TCHAT_DEV_OTP TCHAT_DEV_OTP_ALLOW_NETWORK TCHAT_DEBUG_ENDPOINTS TCHAT_PUSH_WEBHOOK_URL
  TCHAT_SMS_WEBHOOK_URL TCHAT_VERSION TCHAT_THREADS LISTEN_ADDRESS TCHAT_TRUSTED_PROXIES JWKS_FILE TCHAT_JWT_ISSUER TCHAT_JWT_AUDIENCE
  SCYLLA_HOSTS HTTP_MAX_BODY_BYTES HTTP_HEADER_TIMEOUT HTTP_BODY_TIMEOUT HTTP_WRITE_TIMEOUT
  HTTP_IDLE_TIMEOUT SHUTDOWN_TIMEOUT READINESS_TIMEOUT TCMALLOC_SAMPLE_PARAMETER TCHAT_MEDIA_DIR
  TCHAT_PG_REPLICA TCHAT_REDIS_CLUSTER DATABASE_REPLICA_MAX_LAG_MS DATABASE_REPLICA_CHECK_INTERVAL_MS
  AUTH_ messaging_ PAYMENT_ NOTIFICATION_ FCM_ APNS_
)
TCHAT_SECRET_SETTINGS=(TCHAT_ADMIN_TOKEN TCHAT_PSP_WEBHOOK_SECRET TCHAT_OTP_PEPPER
  TCHAT_NOTIFICATION_SEAL_KEY TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY TCHAT_MEDIA_URL_KEY
  TCHAT_PG_REPLICATION_PASSWORD)

# Succeeds when variable name $1 is a service setting (TCHAT_SERVICE_SETTINGS).
tchat::is_service_setting() {
  local name="$1" s
  for s in "${TCHAT_SECRET_SETTINGS[@]}"; do [[ "$name" != "$s" ]] || return 1; done
  for s in "${TCHAT_SERVICE_SETTINGS[@]}"; do
    if [[ "$s" == *_ ]]; then
      if [[ "$name" == "$s"?* || "$name" == "${s^^}"?* ]]; then return 0; fi
    elif [[ "$name" == "$s" || "$name" == "${s^^}" ]]; then
      return 0
    fi
  done
  return 1
}

# The names of the exported variables that are service settings.
tchat::_exported_settings() {
  local name
  while read -r name; do
    if tchat::is_service_setting "$name"; then echo "$name"; fi
  done < <(compgen -e)
}

# NAME NUL value NUL of each setting in the current config.env (none without one).
tchat::_recorded_settings() {
  local file name
  file="$(tchat::config_file)"
  [[ -r "$file" ]] || return 0
  (
    for name in $(tchat::_exported_settings); do unset "$name"; done
    set -a
    # shellcheck disable=SC1090
    source "$file"
    set +a
    for name in $(tchat::_exported_settings); do printf '%s\0%s\0' "$name" "${!name}"; done
  )
}

# Writes config.env: every non-secret setting the services get, the record of what
# the running system uses and what every later start uses (start.sh, a deployment
# or a restore from another shell). A setting in the environment replaces the
# recorded one (empty: back to the service's default); one not in the environment
# keeps its recorded value, so a restart from a fresh shell changes nothing.
tchat::write_service_config() {
  mkdir -p "$TCHAT_RUN_DIR"
  local file name value
  file="$(tchat::config_file)"
  local -A settings=()
  while IFS= read -r -d '' name && IFS= read -r -d '' value; do
    settings[$name]="$value"
  done < <(tchat::_recorded_settings)
  for name in $(tchat::_exported_settings); do
    if [[ -n "${!name}" ]]; then settings[$name]="${!name}"; else unset "settings[$name]"; fi
  done
  # The Redis the services use is a recorded choice like the others: a later start
  # from a fresh shell keeps the cluster (or the single Redis) it was given.
  export TCHAT_REDIS_CLUSTER="${settings[TCHAT_REDIS_CLUSTER]:-0}"
  : "${settings[LOG_LEVEL]:=info}" "${settings[TCHAT_DEV_OTP]:=1}" "${settings[TCHAT_DEBUG_ENDPOINTS]:=0}"
  # Reachable from this host only, unless told otherwise; the gateway in front
  # is on loopback, so loopback is the trusted proxy that names the client.
  : "${settings[LISTEN_ADDRESS]:=127.0.0.1}" "${settings[TCHAT_TRUSTED_PROXIES]:=127.0.0.0/8,::1}"
  tchat::_check_dev_otp "${settings[TCHAT_DEV_OTP]}" "${settings[LISTEN_ADDRESS]}" \
    "${settings[TCHAT_DEV_OTP_ALLOW_NETWORK]:-0}"
  # tcmalloc samples one allocation per this many bytes for /debug/pprof/heap:
  # only while that endpoint is on, unless the environment asks for it.
  if [[ "${settings[TCHAT_DEBUG_ENDPOINTS]}" == 1 ]]; then
    : "${settings[TCMALLOC_SAMPLE_PARAMETER]:=524288}"
  elif [[ -z "${TCMALLOC_SAMPLE_PARAMETER:-}" ]]; then
    unset "settings[TCMALLOC_SAMPLE_PARAMETER]"
  fi
  {
    echo "# Configuration of the local Tchat services, written by scripts/start.sh: what"
    echo "# they run with, and what every later start uses. A variable in the environment"
    echo "# of start.sh replaces a value here (empty: the service's default), e.g."
    echo "#   db_max_open_conns=20 LOG_LEVEL=debug scripts/start.sh --no-build"
    echo "# Settings not listed take the services' defaults. Secrets: secrets.env."
    tchat::_kv REDIS_URL "$(tchat::redis_url)"
    tchat::_kv JWKS_URL "http://127.0.0.1:${TCHAT_AUTH_PORT}/.well-known/jwks.json"
    tchat::_kv TCHAT_JWT_KEY_FILE "$(tchat::jwt_key_file)"
    tchat::_kv TCHAT_AUTH_URL "http://127.0.0.1:${TCHAT_AUTH_PORT}"
    tchat::_kv TCHAT_MESSAGING_URL "http://127.0.0.1:${TCHAT_MESSAGING_PORT}"
    tchat::_kv TCHAT_PAYMENT_URL "http://127.0.0.1:${TCHAT_PAYMENT_PORT}"
    tchat::_kv TCHAT_NOTIFICATION_URL "http://127.0.0.1:${TCHAT_NOTIFICATION_PORT}"
    while read -r name; do
      tchat::_kv "$name" "${settings[$name]}"
    done < <(printf '%s\n' "${!settings[@]}" | LC_ALL=C sort)
    local svc
    for svc in "${TCHAT_SERVICES[@]}"; do
      echo "# $svc: PORT=$(tchat::service_port "$svc") DATABASE_URL=$(tchat::pg_service_url "$svc")"
    done
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}

# Stops start-up when development OTP ($1: sign-in codes in API answers) would be
# on a listen address ($2) other hosts reach, unless $3 (TCHAT_DEV_OTP_ALLOW_NETWORK)
# says so too. The services refuse the same; this says it before anything starts.
tchat::_check_dev_otp() {
  local otp="${1,,}" address="$2" allow="${3,,}"
  [[ "$otp" =~ ^(1|true|yes|on)$ ]] || return 0
  [[ "$allow" =~ ^(1|true|yes|on)$ ]] && return 0
  [[ "$address" =~ ^(127\.[0-9.]+|::1|localhost)$ ]] && return 0
  tchat::die "config: TCHAT_DEV_OTP=1 (anyone can sign in as any number) with LISTEN_ADDRESS=$address, which other hosts reach: use LISTEN_ADDRESS=127.0.0.1, or set TCHAT_DEV_OTP_ALLOW_NETWORK=1 as well"
}

# One shell-quoted KEY=value line.
tchat::_kv() { printf '%s=%q\n' "$1" "$2"; }

# In the subshell that becomes service $1 on port $2: its environment. The
# settings are exactly config.env's (one the caller's environment has and
# config.env does not is dropped), then the secrets, PORT and DATABASE_URL, and
# with TCHAT_PG_REPLICA=1 recorded, DATABASE_REPLICA_URL for messaging and payment
# (scripts/lib/pg_replica.sh).
tchat::service_env() {
  local name
  for name in $(tchat::_exported_settings); do unset "$name"; done
  set -a
  # shellcheck disable=SC1090
  source "$(tchat::config_file)"
  # shellcheck disable=SC1090
  source "$(tchat::secrets_file)"
  set +a
  # The OTP sealing key's private half is notification's alone; auth gets the public half.
  [[ "$1" == notification ]] || unset TCHAT_NOTIFICATION_SEAL_KEY
  [[ "$1" == auth ]] || unset TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY
  # The media URL key is messaging's alone.
  [[ "$1" == messaging ]] || unset TCHAT_MEDIA_URL_KEY
  PORT="$2"
  DATABASE_URL="$(tchat::pg_service_url "$1")"
  TCHAT_MEDIA_DIR="$(tchat::media_dir)"
  export PORT DATABASE_URL TCHAT_MEDIA_DIR
  unset DATABASE_REPLICA_URL TCHAT_PG_REPLICATION_PASSWORD
  # Only the services with replica reads get it (docs/operations/read-replica.md).
  if [[ "${TCHAT_PG_REPLICA:-0}" == 1 && ($1 == messaging || $1 == payment) ]]; then
    export DATABASE_REPLICA_URL="postgresql://tchat_$1@127.0.0.1:${TCHAT_PG_REPLICA_PORT:-$((TCHAT_PG_PORT + 10))}/tchat_$1?sslmode=disable"
  fi
}

# Succeeds when a replica of service $1 runs.
tchat::service_running() {
  local f
  for f in $(tchat::service_pidfiles "$1"); do
    if tchat::live_pid "$f" "tchat-$1" >/dev/null; then return 0; fi
  done
  return 1
}

# Starts replica $2 (default 1) of service $1 in the background (in its own
# session, so it outlives the terminal), with the shared config, the secrets and
# its own PORT/DATABASE_URL.
tchat::service_start() {
  local svc="$1" r="${2:-1}" bin port log pidfile
  bin="$(tchat::service_bin "$svc")"
  port="$(tchat::replica_port "$svc" "$r")"
  log="$(tchat::replica_log "$svc" "$r")"
  pidfile="$(tchat::replica_pidfile "$svc" "$r")"
  [[ -x "$bin" ]] || tchat::die "$bin not found: build first (scripts/build.sh)"
  if tchat::live_pid "$pidfile" "tchat-$svc" >/dev/null; then tchat::die "$svc (replica $r) is already running"; fi
  if tchat::port_open "$port"; then tchat::die "port $port ($svc) is taken by another process"; fi
  mkdir -p "$TCHAT_RUN_DIR/pids" "$TCHAT_RUN_DIR/logs"
  (
    tchat::service_env "$svc" "$port"
    cd "$TCHAT_RUN_DIR" || exit 1
    exec setsid "$bin" >>"$log" 2>&1 </dev/null 9>&-
  ) &
  echo $! >"$pidfile"
}

# Stops every replica of the services named ($1...): SIGTERM to all at once,
# then waits for each (they drain in parallel; SIGKILL after the grace period).
# Returns 1 when one had to be killed.
tchat::service_stop() {
  local svc pid f rc=0
  local -a pids=()
  for svc in "$@"; do
    for f in $(tchat::service_pidfiles "$svc"); do
      if pid="$(tchat::live_pid "$f" "tchat-$svc")"; then
        tchat::log "stopping $svc (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
      fi
    done
  done
  for pid in "${pids[@]}"; do tchat::await_exit "$pid" 25 || rc=1; done
  for svc in "$@"; do
    for f in $(tchat::service_pidfiles "$svc"); do rm -f "$f"; done
  done
  return "$rc"
}

tchat::_ready() {
  [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/health/ready")" == 200 ]]
}

# Waits until every replica of every service answers 200 on /health/ready; on
# timeout shows why.
tchat::wait_services_ready() {
  local timeout="${1:-60}" svc port r
  for svc in "${TCHAT_SERVICES[@]}"; do
    for ((r = 1; r <= $(tchat::replicas); r++)); do
      port="$(tchat::replica_port "$svc" "$r")"
      tchat::wait_until "$timeout" tchat::_service_ready_or_dead "$svc" "$port" "$r" || true
      if ! tchat::_ready "$port"; then
        printf 'error: %s is not ready on port %s. /health/ready says:\n' "$svc" "$port" >&2
        curl -s -m 2 "http://127.0.0.1:$port/health/ready" >&2 || echo "(no answer)" >&2
        printf '\nlast lines of %s:\n' "$(tchat::replica_log "$svc" "$r")" >&2
        tail -n 20 "$(tchat::replica_log "$svc" "$r")" >&2 || true
        return 1
      fi
    done
  done
}
# Stops waiting early when the process (replica $3 of service $1) died.
# By pid, not by name: until its exec a just-started service still runs as bash,
# and tchat::live_pid would call it dead.
tchat::_service_ready_or_dead() {
  tchat::_ready "$2" && return 0
  local pid
  pid="$(cat "$(tchat::replica_pidfile "$1" "${3:-1}")" 2>/dev/null)" || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  tchat::_pid_gone "$pid"
}

# Starts every replica of every service: auth first and ready before the others,
# so that they find its JWKS at once; then waits until all are ready. With
# replicas the gateway, which balances each service's own port, must run first
# (start.sh starts it before the services).
tchat::services_start_all() {
  local svc r n
  n="$(tchat::replicas)"
  for svc in "${TCHAT_SERVICES[@]}"; do
    for ((r = 1; r <= n; r++)); do
      tchat::log "starting $svc on port $(tchat::replica_port "$svc" "$r")$( ((n == 1)) || echo " (replica $r of $n)")"
      tchat::service_start "$svc" "$r"
    done
    if [[ "$svc" == auth ]]; then
      for ((r = 1; r <= n; r++)); do
        tchat::wait_until 30 tchat::_service_ready_or_dead auth "$(tchat::replica_port auth "$r")" "$r" || true
      done
    fi
  done
  tchat::wait_services_ready 60
}

# Stops every running replica of every service (tchat::service_stop). Returns 1
# when one had to be killed.
tchat::services_stop_all() { tchat::service_stop "${TCHAT_SERVICES[@]}"; }
