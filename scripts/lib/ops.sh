# shellcheck shell=bash
# Helpers of the runbook's operations scripts (backups, restores, deployments).
# Requires common.sh.
#
# Target: every script that the runbook writes against Kubernetes (kubectl, the
# namespace tchat) also works against the local system of scripts/start.sh. The
# target is chosen by TCHAT_TARGET=k8s|local or the flags --k8s / --local; the
# default is k8s, so the runbook's commands keep their meaning. The local
# system's address comes from the same variables start.sh reads (TCHAT_RUN_DIR,
# TCHAT_PG_PORT, TCHAT_REDIS_PORT, TCHAT_*_PORT).
#
# Backup store: BACKUP_STORE is either an s3:// URL (the runbook's
# s3://tchat-backups, via the aws CLI) or a directory on this machine.

: "${TCHAT_TARGET:=k8s}"
: "${TCHAT_NAMESPACE:=tchat}"
: "${BACKUP_STORE:=s3://tchat-backups}"

# Handles a --local / --k8s flag: sets TCHAT_TARGET and succeeds; fails for any
# other argument, so callers can use it inside their option loop.
tchat::ops_target_flag() {
  case "$1" in
    --local) TCHAT_TARGET=local ;;
    --k8s) TCHAT_TARGET=k8s ;;
    *) return 1 ;;
  esac
}

# The arguments the runbook scripts share: -h/--help (usage, exit 0), the target
# flags (--local, --k8s) and at most $1 positional arguments (-1: any number),
# left in the array OPS_ARGS. Anything else prints usage and exits 2. The calling
# script defines `usage`.
tchat::ops_parse_args() {
  local max="$1"
  shift
  OPS_ARGS=()
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      -*) tchat::ops_target_flag "$1" || { usage >&2; exit 2; } ;;
      *)
        if ((max >= 0 && ${#OPS_ARGS[@]} >= max)); then
          usage >&2
          exit 2
        fi
        OPS_ARGS+=("$1")
        ;;
    esac
    shift
  done
}

# The opening of the backup scripts: parses [--local|--k8s] [BACKUP_DIR] (as
# tchat::ops_parse_args), validates the target (tchat::ops_init), sets BACKUP_DIR
# (default $1) and DATE (the backups' timestamp). The calling script defines
# `usage`.
tchat::backup_begin() {
  local default_dir="$1"
  shift
  tchat::ops_parse_args 1 "$@"
  BACKUP_DIR="${OPS_ARGS[0]:-}"
  tchat::ops_init
  BACKUP_DIR="${BACKUP_DIR:-$default_dir}"
  # shellcheck disable=SC2034  # read by the calling script
  DATE="$(tchat::backup_date)"
}

# The opening of the restore scripts: parses [--local|--k8s] BACKUP_DIR (usage and
# exit 2 without one), stops unless BACKUP_DIR is a directory, validates the
# target (tchat::ops_init). The calling script defines `usage`.
tchat::restore_begin() {
  tchat::ops_parse_args 1 "$@"
  BACKUP_DIR="${OPS_ARGS[0]:-}"
  [[ -n "$BACKUP_DIR" ]] || { usage >&2; exit 2; }
  [[ -d "$BACKUP_DIR" ]] || tchat::die "backup directory not found: $BACKUP_DIR"
  tchat::ops_init
}

# Validates TCHAT_TARGET and, for the local target, sets the local system's
# defaults. Call once after option parsing.
tchat::ops_init() {
  case "$TCHAT_TARGET" in
    k8s) ;;
    local) tchat::defaults ;;
    *) tchat::die "TCHAT_TARGET must be k8s or local, not '$TCHAT_TARGET'" ;;
  esac
  export TCHAT_TARGET TCHAT_NAMESPACE BACKUP_STORE
}

tchat::is_local() { [[ "$TCHAT_TARGET" == local ]]; }

# Fails with a message naming each missing command.
tchat::require() {
  local cmd missing=()
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  ((${#missing[@]} == 0)) || tchat::die "required command(s) not found: ${missing[*]}"
}

# kubectl in the tchat namespace.
tchat::kube() { kubectl -n "$TCHAT_NAMESPACE" "$@"; }

# Timestamp used for backup names (the runbook's format).
tchat::backup_date() { date +%Y%m%d_%H%M%S; }

tchat::store_is_s3() { [[ "$BACKUP_STORE" == s3://* ]]; }

# SHA-256 of file $1 (hex only).
tchat::sha256() { sha256sum "$1" | cut -d' ' -f1; }

# Newest file in directory $1 matching glob $2 (by name: names carry the date), or
# fails.
tchat::newest() {
  local dir="$1" glob="$2" f newest=""
  for f in "$dir"/$glob; do
    [[ -f "$f" ]] || continue
    if [[ -z "$newest" || "$f" > "$newest" ]]; then newest="$f"; fi
  done
  [[ -n "$newest" ]] || return 1
  printf '%s\n' "$newest"
}

# libpq environment for the PostgreSQL the scripts back up and restore:
# POSTGRES_HOST/PORT/USER/PASSWORD/SSLMODE as in migrate.sh; the local target
# defaults to the local system's server.
tchat::pg_env() {
  if tchat::is_local; then
    : "${POSTGRES_HOST:=127.0.0.1}"
    : "${POSTGRES_PORT:=$TCHAT_PG_PORT}"
  fi
  export PGHOST="${POSTGRES_HOST:-localhost}" PGPORT="${POSTGRES_PORT:-5432}"
  export PGUSER="${POSTGRES_USER:-postgres}"
  if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
  case "$PGHOST" in
    localhost | 127.0.0.1 | ::1) PGSSLMODE="${POSTGRES_SSLMODE:-disable}" ;;
    *) PGSSLMODE="${POSTGRES_SSLMODE:-require}" ;;
  esac
  export PGSSLMODE
  export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
}

# The service databases (the runbook's list unless POSTGRES_DATABASES names others).
tchat::backup_databases() {
  if [[ -n "${POSTGRES_DATABASES:-}" ]]; then
    local -a dbs
    read -r -a dbs <<<"$POSTGRES_DATABASES"
    printf '%s\n' "${dbs[@]}"
  else
    printf '%s\n' tchat_auth tchat_messaging tchat_payment tchat_notification
  fi
}

# The last line pg_dump writes to a complete plain-format dump. A dump without it
# was cut short and is never restored.
TCHAT_PG_DUMP_END="-- PostgreSQL database dump complete"

# Checks that $1 is an intact gzip of a complete plain pg_dump.
tchat::pg_dump_complete() {
  gzip -t "$1" 2>/dev/null || return 1
  gzip -dc "$1" | tail -n 5 | grep -qxF -- "$TCHAT_PG_DUMP_END"
}

# Checks that $1 is a complete RDB file (redis-check-rdb from redis-tools).
tchat::rdb_complete() {
  [[ -s "$1" ]] || return 1
  [[ "$(head -c 5 "$1")" == REDIS ]] || return 1
  if command -v redis-check-rdb >/dev/null 2>&1; then
    redis-check-rdb "$1" >/dev/null 2>&1 || return 1
  fi
}

# The REDIS_URL of the target's Redis for the local target.
tchat::local_redis_url() { echo "${REDIS_URL:-redis://127.0.0.1:${TCHAT_REDIS_PORT}/0}"; }

# Prints the "Usage:" paragraph of the header comment of script $1 (from the line
# "# Usage:" to the next empty comment line).
tchat::usage_of() {
  awk '/^# Usage:/ { on = 1 } on && (/^#$/ || !/^#/) { exit } on { sub(/^# ?/, ""); print }' "$1"
}
