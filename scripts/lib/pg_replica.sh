# shellcheck shell=bash
# A streaming hot standby of the private PostgreSQL (scripts/lib/postgres.sh), the
# local form of the runbook's postgres-replica (deploy/k8s/base/data/postgres-replica.yaml):
# cloned with pg_basebackup -R as the replication role `replicator`, whose password
# is generated once into secrets.env (TCHAT_PG_REPLICATION_PASSWORD) and required
# by the primary (scram-sha-256 for replication connections of that role).
# Files under $TCHAT_RUN_DIR/postgres-replica, listening on
# 127.0.0.1:$TCHAT_PG_REPLICA_PORT (default: the primary's port + 10). The services
# read from it when they get DATABASE_REPLICA_URL (TCHAT_PG_REPLICA=1 in start.sh;
# docs/operations/read-replica.md). Requires common.sh and postgres.sh.

tchat::pg_replica_port() { echo "${TCHAT_PG_REPLICA_PORT:-$((TCHAT_PG_PORT + 10))}"; }
tchat::pg_replica_dir() {
  local dir="$TCHAT_RUN_DIR/postgres-replica"
  if [[ -L "$dir" ]]; then readlink -f "$dir"; else echo "$dir"; fi
}
tchat::pg_replica_data() { echo "$(tchat::pg_replica_dir)/data"; }
tchat::pg_replica_log() { echo "$(tchat::pg_replica_dir)/postgres.log"; }
# The URL service $1 reads its replica with (its own role, replicated from the primary).
tchat::pg_replica_service_url() {
  echo "postgresql://tchat_$1@127.0.0.1:$(tchat::pg_replica_port)/tchat_$1?sslmode=disable"
}
tchat::pg_replica_url() { echo "postgresql://postgres@127.0.0.1:$(tchat::pg_replica_port)/$1?sslmode=disable"; }

tchat::pg_replica_running() {
  [[ -f "$(tchat::pg_replica_data)/PG_VERSION" ]] &&
    tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" status -D "$(tchat::pg_replica_data)" >/dev/null 2>&1
}

# The replication password from secrets.env, generated there once.
tchat::_pg_replication_password() {
  local file="$TCHAT_RUN_DIR/secrets.env"
  mkdir -p "$TCHAT_RUN_DIR"
  if ! grep -q '^TCHAT_PG_REPLICATION_PASSWORD=' "$file" 2>/dev/null; then
    (umask 077 && echo "TCHAT_PG_REPLICATION_PASSWORD=$(openssl rand -hex 24)" >>"$file")
    chmod 600 "$file"
  fi
  sed -n 's/^TCHAT_PG_REPLICATION_PASSWORD=//p' "$file" | tail -n1
}

# On the primary (idempotent, also after a restore made a new cluster): the role
# with the current password, and a pg_hba.conf line ahead of initdb's trust lines
# that makes its replication connections prove the password.
tchat::_pg_ensure_replicator() {
  local password="$1" hba
  tchat::psql postgres <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'replicator') THEN
    CREATE ROLE replicator WITH REPLICATION LOGIN;
  END IF;
END \$\$;
SET password_encryption = 'scram-sha-256';
ALTER ROLE replicator WITH REPLICATION LOGIN PASSWORD '$password';
SQL
  hba="$(tchat::pg_data)/pg_hba.conf"
  if ! tchat::pg_exec grep -q '^host replication replicator 127.0.0.1/32 scram-sha-256' "$hba"; then
    tchat::pg_exec sed -i '1i host replication replicator 127.0.0.1/32 scram-sha-256' "$hba"
    tchat::psql postgres -c "SELECT pg_reload_conf()" >/dev/null
  fi
}

# The cluster's system identifier: of the running primary, of the replica's files.
tchat::_pg_primary_sysid() { tchat::psql postgres -c "SELECT system_identifier FROM pg_control_system()"; }
tchat::_pg_replica_sysid() {
  tchat::pg_exec "$TCHAT_PG_BIN/pg_controldata" -D "$(tchat::pg_replica_data)" 2>/dev/null |
    sed -n 's/^Database system identifier: *//p'
}

# Clones the primary into an empty replica directory (pg_basebackup -R writes
# standby.signal and primary_conninfo).
tchat::_pg_replica_clone() {
  local password="$1" data
  tchat::pg_replica_destroy
  tchat::_pg_prepare_dir postgres-replica
  data="$(tchat::pg_replica_data)"
  tchat::log "cloning the primary into $data (pg_basebackup -R)"
  if ! tchat::pg_exec env PGPASSWORD="$password" "$TCHAT_PG_BIN/pg_basebackup" -h 127.0.0.1 \
    -p "$TCHAT_PG_PORT" -U replicator -D "$data" -X stream -R -c fast \
    >"$(tchat::pg_replica_dir)/basebackup.log" 2>&1; then
    cat "$(tchat::pg_replica_dir)/basebackup.log" >&2
    return 1
  fi
}

# Starts the replica (the primary must run), cloning it first when it has no
# files or they belong to another cluster (the primary was re-created, e.g. by a
# restore). Idempotent.
tchat::pg_replica_start() {
  local port password
  port="$(tchat::pg_replica_port)"
  tchat::pg_running || tchat::die "the primary PostgreSQL does not run: start it first"
  password="$(tchat::_pg_replication_password)"
  tchat::_pg_ensure_replicator "$password"
  if tchat::pg_replica_running; then
    if [[ "$(tchat::_pg_replica_sysid)" == "$(tchat::_pg_primary_sysid)" ]]; then
      tchat::log "PostgreSQL replica already running ($(tchat::pg_replica_data))"
      return 0
    fi
    tchat::warn "the replica belongs to another cluster than the primary: cloning it again"
    tchat::pg_replica_stop
  fi
  if tchat::port_open "$port"; then tchat::die "port $port (PostgreSQL replica) is taken by another process"; fi
  if [[ "$(tchat::_pg_replica_sysid)" != "$(tchat::_pg_primary_sysid)" ]]; then
    tchat::_pg_replica_clone "$password" || tchat::die "pg_basebackup failed"
  fi
  tchat::log "starting the PostgreSQL replica on 127.0.0.1:$port"
  # hot_standby_feedback: long reads on the replica are not cancelled by vacuum on the primary.
  tchat::pg_ctl_start "$(tchat::pg_replica_dir)" "$port" -c hot_standby=on -c hot_standby_feedback=on ||
    tchat::die "the PostgreSQL replica did not start (log: $(tchat::pg_replica_log))"
}

tchat::pg_replica_stop() {
  if tchat::pg_replica_running; then
    tchat::log "stopping the PostgreSQL replica"
    tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" stop -D "$(tchat::pg_replica_data)" -m fast -w -t 60 >/dev/null
  fi
}

# One line: running or not, and its lag behind the primary when both run.
tchat::pg_replica_status() {
  local port
  port="$(tchat::pg_replica_port)"
  if ! tchat::pg_replica_running; then
    echo "replica: stopped (127.0.0.1:$port)"
    return 1
  fi
  local replay
  replay="$(psql -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c \
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)" 2>&1)" ||
    { echo "replica: running but not answering: $replay"; return 1; }
  echo "replica: running on 127.0.0.1:$port (in recovery|replay lsn|seconds since last replayed commit: $replay)"
  if tchat::pg_running; then
    echo "primary: $(tchat::psql postgres -c "SELECT client_addr, state, replay_lsn, replay_lag FROM pg_stat_replication WHERE application_name <> ''" | tr '\n' ' ')"
  fi
}

# Deletes the replica's files (stop it first), including a /var/tmp directory the
# run dir links to.
tchat::pg_replica_destroy() {
  local dir
  dir="$(tchat::pg_replica_dir)"
  [[ -n "$dir" && "$dir" != / ]] || return 0
  rm -rf "$dir" "$TCHAT_RUN_DIR/postgres-replica"
}

# Whether the services are to read from the replica: TCHAT_PG_REPLICA=1 as
# recorded in config.env (tchat::write_service_config records the environment's).
tchat::pg_replica_wanted() {
  local file="$TCHAT_RUN_DIR/config.env"
  [[ -r "$file" ]] || return 1
  # shellcheck disable=SC1090
  [[ "$(set +u && source "$file" && echo "${TCHAT_PG_REPLICA:-0}")" == 1 ]]
}
