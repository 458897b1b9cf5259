# shellcheck shell=bash
# Shared helpers for the scripts in scripts/. Source this file; it defines
# functions and variables only (no side effects besides TCHAT_ROOT).

# Repository root: the parent of scripts/.
TCHAT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TCHAT_ROOT

# The four services in start order (auth first: the others fetch its JWKS).
# shellcheck disable=SC2034 # used by the scripts that source this file
TCHAT_SERVICES=(auth messaging payment notification)

# Takes the run-dir lock of start.sh/stop.sh (waiting up to $1 seconds; 0: fail at
# once) on file descriptor 9. The long-lived processes they spawn must not inherit
# it, or the lock would outlive the script: every spawn closes it ("9>&-").
tchat::lock_run_dir() {
  mkdir -p "$TCHAT_RUN_DIR"
  exec 9>"$TCHAT_RUN_DIR/.lock"
  if [[ "${1:-0}" == 0 ]]; then
    flock -n 9 || tchat::die "another start/stop is running on $TCHAT_RUN_DIR"
  else
    flock -w "$1" 9 || tchat::die "another start/stop is running on $TCHAT_RUN_DIR"
  fi
}

tchat::log() { printf '==> %s\n' "$*" >&2; }
tchat::warn() { printf 'warning: %s\n' "$*" >&2; }
tchat::die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
tchat::as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    tchat::die "need root to run: $* (no sudo available)"
  fi
}

# Succeeds when something accepts TCP connections on 127.0.0.1:$1.
tchat::port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Polls `$@` every 0.2 s until it succeeds or $1 seconds pass.
# Usage: tchat::wait_until SECONDS command [args...]
tchat::wait_until() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  while true; do
    if "$@"; then return 0; fi
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

# Prints the pid stored in file $1 when that process is alive and its command
# line's program name is $2 (guards against a recycled pid). Fails otherwise.
tchat::live_pid() {
  local pidfile="$1" name="$2" pid argv0
  [[ -s "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  argv0="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1)" || return 1
  [[ "$(basename -- "${argv0%%:*}")" == "$name"* ]] || return 1
  printf '%s\n' "$pid"
}

# Sends SIGTERM to $1 and waits up to $2 seconds (default 25) for it to exit; then
# SIGKILL. Returns 0 when it exited on its own, 1 when it had to be killed.
tchat::terminate_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  tchat::await_exit "$@"
}

# Waits up to $2 seconds (default 25) for pid $1, already signalled, to exit; then
# SIGKILL. Returns 0 when it exited on its own, 1 when it had to be killed.
tchat::await_exit() {
  local pid="$1" grace="${2:-25}"
  if tchat::wait_until "$grace" tchat::_pid_gone "$pid"; then return 0; fi
  tchat::warn "pid $pid did not exit within ${grace}s of SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  tchat::wait_until 5 tchat::_pid_gone "$pid" || true
  return 1
}
# True when pid $1 no longer runs. A zombie (an exited child its parent has not
# reaped yet, e.g. a service started by the running test script) counts as gone.
tchat::_pid_gone() {
  local stat
  kill -0 "$1" 2>/dev/null || return 0
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  [[ "${stat%% *}" == Z ]]
}

# Port of a service by name from the TCHAT_<NAME>_PORT variables.
tchat::service_port() {
  case "$1" in
    auth) echo "${TCHAT_AUTH_PORT}" ;;
    messaging) echo "${TCHAT_MESSAGING_PORT}" ;;
    payment) echo "${TCHAT_PAYMENT_PORT}" ;;
    notification) echo "${TCHAT_NOTIFICATION_PORT}" ;;
    *) tchat::die "unknown service: $1" ;;
  esac
}

# Replicas (TCHAT_REPLICAS=N, 1 to 9, default 1). With one, a service listens on
# its own port P (TCHAT_<SERVICE>_PORT) as it always did. With N >= 2, replica r
# (1..N) listens on P + 10*r (auth 8091, 8101, ...; messaging 8092, 8102, ...: the
# services' own ports are consecutive, 8081-8084, so a service's replicas step by
# ten and never meet another service's), and P belongs to the gateway (nginx),
# which balances it over the replicas as a Kubernetes Service would: the other
# services, the health checks and the tests keep reaching "the service" at P.
# Replica r's pid file is pids/<service>-r.pid and its log logs/<service>-r.log.
# start.sh records N in $TCHAT_RUN_DIR/replicas; stop.sh and status.sh read it.
tchat::replicas_file() { echo "$TCHAT_RUN_DIR/replicas"; }
tchat::replicas() {
  local n="${TCHAT_REPLICAS:-}"
  if [[ -z "$n" && -s "$(tchat::replicas_file)" ]]; then n="$(<"$(tchat::replicas_file)")"; fi
  n="${n:-1}"
  [[ "$n" =~ ^[1-9]$ ]] || tchat::die "TCHAT_REPLICAS=$n: must be 1 to 9"
  echo "$n"
}
tchat::record_replicas() {
  mkdir -p "$TCHAT_RUN_DIR"
  tchat::replicas >"$(tchat::replicas_file)"
}
# Port of replica $2 of service $1 (with one replica: the service's own).
tchat::replica_port() {
  if (($(tchat::replicas) == 1)); then tchat::service_port "$1"; else echo $(($(tchat::service_port "$1") + 10 * $2)); fi
}

# Sets the defaults of every knob the start/stop/test machinery reads. Values
# already in the environment win.
tchat::defaults() {
  : "${TCHAT_RUN_DIR:=$TCHAT_ROOT/.run}"
  : "${TCHAT_BUILD_DIR:=$TCHAT_ROOT/build}"
  : "${TCHAT_PG_PORT:=5432}"
  : "${TCHAT_REDIS_PORT:=6379}"
  : "${TCHAT_GATEWAY_PORT:=8080}"
  : "${TCHAT_AUTH_PORT:=8081}"
  : "${TCHAT_MESSAGING_PORT:=8082}"
  : "${TCHAT_PAYMENT_PORT:=8083}"
  : "${TCHAT_NOTIFICATION_PORT:=8084}"
  # 1: the local system's data survives crashes; 0: throwaway test servers (fsync
  # off, no Redis snapshots).
  : "${TCHAT_DURABLE:=1}"
  export TCHAT_RUN_DIR TCHAT_BUILD_DIR TCHAT_PG_PORT TCHAT_REDIS_PORT TCHAT_GATEWAY_PORT \
    TCHAT_AUTH_PORT TCHAT_MESSAGING_PORT TCHAT_PAYMENT_PORT TCHAT_NOTIFICATION_PORT TCHAT_DURABLE
}

# The messaging service's media store (TCHAT_MEDIA_DIR), which the gateway
# serves files from: inside the run directory unless set.
tchat::media_dir() { echo "${TCHAT_MEDIA_DIR:-$TCHAT_RUN_DIR/media}"; }
