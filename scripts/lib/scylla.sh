# shellcheck shell=bash
# ScyllaDB access for the scylla-*.sh scripts. Requires common.sh and ops.sh.
#   k8s     every command runs inside pod scylla-0 of namespace tchat (kubectl exec),
#           as in the runbook
#   local   nodetool and cqlsh of this machine against the first of SCYLLA_HOSTS
#           (host[:port], default 127.0.0.1:9042); snapshot files are read from
#           and written to SCYLLA_DATA_DIR (default /var/lib/scylla/data)
# There is no fallback: without ScyllaDB (its tools, or the pod) the scripts stop
# with a message, never report a backup that did not happen. (full-backup.sh asks
# tchat::scylla_reachable first and skips ScyllaDB with a warning instead.)
# No service of this build reads or writes ScyllaDB (messages live in
# PostgreSQL): these scripts operate a ScyllaDB cluster, not the services' data.

: "${SCYLLA_DATA_DIR:=/var/lib/scylla/data}"
# The runbook's keyspaces. Only tchat_messaging exists in this project's schema
# (migrations/scylla/); the scripts skip, and say so, keyspaces that do not exist.
# shellcheck disable=SC2034 # used by the scripts that source this file
read -r -a TCHAT_SCYLLA_KEYSPACES <<<"${SCYLLA_KEYSPACES:-tchat_auth tchat_messaging tchat_payment tchat_notification}"

# Checks that ScyllaDB can be reached at all; dies with the reason otherwise.
tchat::scylla_prepare() {
  tchat::scylla_reachable || tchat::die "$TCHAT_SCYLLA_PROBLEM"
}

# Succeeds when ScyllaDB can be reached; otherwise fails with the reason in
# TCHAT_SCYLLA_PROBLEM. Sets what the other functions need (call it first).
tchat::scylla_reachable() {
  TCHAT_SCYLLA_PROBLEM=""
  if tchat::is_local; then
    local tool
    for tool in nodetool cqlsh; do
      if ! command -v "$tool" >/dev/null 2>&1; then
        TCHAT_SCYLLA_PROBLEM="ScyllaDB's $tool is not installed: this machine has no ScyllaDB (set SCYLLA_HOSTS and install scylla-tools to use these scripts locally)"
        return 1
      fi
    done
    local entry="${SCYLLA_HOSTS:-127.0.0.1:9042}"
    entry="${entry%%,*}"
    TCHAT_SCYLLA_HOST="${entry%:*}"
    TCHAT_SCYLLA_PORT="${entry##*:}"
    [[ "$TCHAT_SCYLLA_HOST" != "$entry" ]] || TCHAT_SCYLLA_PORT=9042
    if ! tchat::scylla_nodetool status >/dev/null 2>&1; then
      TCHAT_SCYLLA_PROBLEM="ScyllaDB does not answer nodetool status at $TCHAT_SCYLLA_HOST"
      return 1
    fi
  else
    if ! command -v kubectl >/dev/null 2>&1; then
      TCHAT_SCYLLA_PROBLEM="required command(s) not found: kubectl"
      return 1
    fi
    if ! tchat::kube get pod scylla-0 >/dev/null 2>&1; then
      TCHAT_SCYLLA_PROBLEM="pod scylla-0 not found in namespace $TCHAT_NAMESPACE"
      return 1
    fi
  fi
  if ! tchat::scylla_cql "SELECT release_version FROM system.local" >/dev/null 2>&1; then
    TCHAT_SCYLLA_PROBLEM="ScyllaDB does not answer CQL queries"
    return 1
  fi
}

tchat::scylla_nodetool() {
  if tchat::is_local; then
    nodetool -h "$TCHAT_SCYLLA_HOST" "$@"
  else
    tchat::kube exec scylla-0 -- nodetool "$@"
  fi
}

# cqlsh -e "$1".
tchat::scylla_cql() {
  if tchat::is_local; then
    cqlsh "$TCHAT_SCYLLA_HOST" "$TCHAT_SCYLLA_PORT" -e "$1"
  else
    tchat::kube exec scylla-0 -- cqlsh -e "$1"
  fi
}

# Runs shell command $1 where ScyllaDB's data directory is (stdin/stdout pass through).
tchat::scylla_sh() {
  if tchat::is_local; then
    bash -c "$1"
  else
    tchat::kube exec -i scylla-0 -- sh -c "$1"
  fi
}

# Succeeds when keyspace $1 exists.
tchat::scylla_keyspace_exists() {
  tchat::scylla_cql "DESCRIBE KEYSPACE $1" >/dev/null 2>&1
}
