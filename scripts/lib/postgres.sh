# shellcheck shell=bash
# A private PostgreSQL 15 server for the local system and the tests: data under
# $TCHAT_RUN_DIR/postgres, listening on 127.0.0.1:$TCHAT_PG_PORT, trust
# authentication on loopback (it is a development server; nothing else reaches it).
# Each service connects as its own role (tchat_<service>), whose rights end at
# its own database; migrations and the scripts use the owner, postgres.
# PostgreSQL refuses to run as root, so as root the server runs as user postgres.
# Requires common.sh.

TCHAT_PG_BIN="${TCHAT_PG_BIN:-/usr/lib/postgresql/15/bin}"

# Runs a PostgreSQL server binary as the postgres user when we are root.
tchat::pg_exec() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The directory holding data, log and socket. When the postgres user cannot reach
# the run dir (a checkout under a private home directory), the server's files live
# in a directory of their own under /var/tmp and the run dir links to it.
tchat::pg_dir() {
  local dir="$TCHAT_RUN_DIR/postgres"
  if [[ -L "$dir" ]]; then readlink -f "$dir"; else echo "$dir"; fi
}
tchat::pg_data() { echo "$(tchat::pg_dir)/data"; }
tchat::pg_log() { echo "$(tchat::pg_dir)/postgres.log"; }
tchat::pg_admin_url() { echo "postgresql://postgres@127.0.0.1:${TCHAT_PG_PORT}/postgres"; }
tchat::pg_url() { echo "postgresql://postgres@127.0.0.1:${TCHAT_PG_PORT}/$1?sslmode=disable"; }
# The URL service $1 connects with: its own role (tchat_$1) on its own database.
tchat::pg_service_url() { echo "postgresql://tchat_$1@127.0.0.1:${TCHAT_PG_PORT}/tchat_$1?sslmode=disable"; }

# Prepares the directory of server $1 (default postgres; the replica's is
# postgres-replica) under the run dir for the postgres user.
tchat::_pg_prepare_dir() {
  local name="${1:-postgres}"
  local dir="$TCHAT_RUN_DIR/$name"
  mkdir -p "$TCHAT_RUN_DIR"
  if [[ "$(id -u)" == 0 ]] && [[ ! -e "$dir" ]]; then
    if ! runuser -u postgres -- test -x "$TCHAT_RUN_DIR"; then
      local key target
      key="$(printf '%s' "$TCHAT_RUN_DIR" | md5sum | cut -c1-12)"
      target="/var/tmp/tchat-$name-$key"
      tchat::warn "user postgres cannot reach $TCHAT_RUN_DIR; keeping its files in $target"
      mkdir -p "$target"
      ln -sfn "$target" "$dir"
    fi
  fi
  dir="$(readlink -f "$dir" 2>/dev/null || echo "$dir")"
  mkdir -p "$dir"
  if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$dir/"; fi
  chmod 700 "$dir/"
}

# Creates the cluster when missing (idempotent).
tchat::pg_init() {
  [[ -x "$TCHAT_PG_BIN/initdb" ]] || tchat::die "PostgreSQL 15 not found in $TCHAT_PG_BIN (run scripts/install-deps.sh)"
  tchat::_pg_prepare_dir postgres
  local data
  data="$(tchat::pg_data)"
  if [[ -f "$data/PG_VERSION" ]]; then return 0; fi
  tchat::log "initialising PostgreSQL cluster in $data"
  local extra=()
  if [[ "$TCHAT_DURABLE" == 0 ]]; then extra+=(--no-sync); fi
  tchat::pg_exec "$TCHAT_PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 "${extra[@]}" >"$(tchat::pg_dir)/initdb.log" 2>&1 ||
    { cat "$(tchat::pg_dir)/initdb.log" >&2; tchat::die "initdb failed"; }
  {
    echo "# Added by scripts/lib/postgres.sh"
    echo "listen_addresses = '127.0.0.1'"
    echo "max_connections = 400"
    echo "shared_buffers = 256MB"
    echo "log_line_prefix = '%m [%p] %q%u@%d '"
    if [[ "$TCHAT_DURABLE" == 0 ]]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    else
      # Write-heavy work (group commits of messages and transfers): with the
      # default 1 GB a busy minute forced a checkpoint every ~30 s, and the full
      # page images after each one slowed every commit for a while.
      echo "max_wal_size = 4GB"
      echo "wal_compression = lz4"
      # Keep 1 GB of old WAL segments for reuse. A segment PostgreSQL has to create
      # is zero-filled and flushed (16 MB) while commits wait: at 14 MB/s of WAL
      # that was a 20-30 ms stall every ~1.2 s. A recycled one costs nothing.
      echo "min_wal_size = 1GB"
    fi
  } | tchat::pg_exec tee -a "$data/postgresql.conf" >/dev/null
}

# Has PostgreSQL create `n` WAL segments (16 MB each) now and recycle them at a
# checkpoint, so that the next n segments of WAL reuse files instead of creating
# them: a new cluster would otherwise pay the stall min_wal_size describes above
# until its first checkpoints, as a server that has run does not.
tchat::pg_prealloc_wal() {
  local n="$1" i
  for ((i = 0; i < n; i++)); do echo "SELECT txid_current(); SELECT pg_switch_wal();"; done |
    tchat::psql postgres >/dev/null
  tchat::psql postgres -c "CHECKPOINT" >/dev/null
}

tchat::pg_running() {
  [[ -f "$(tchat::pg_data)/PG_VERSION" ]] &&
    tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" status -D "$(tchat::pg_data)" >/dev/null 2>&1
}

# Starts the server (initialising it first) unless it already runs. The port is
# given on the command line so that one data directory can move between ports.
tchat::pg_start() {
  tchat::pg_init
  if tchat::pg_running; then
    tchat::log "PostgreSQL already running ($(tchat::pg_data))"
    return 0
  fi
  if tchat::port_open "$TCHAT_PG_PORT"; then
    tchat::die "port $TCHAT_PG_PORT is taken by another process (a system PostgreSQL? try 'pg_ctlcluster 15 main stop' or set TCHAT_PG_PORT)"
  fi
  tchat::log "starting PostgreSQL on 127.0.0.1:$TCHAT_PG_PORT"
  tchat::pg_ctl_start "$(tchat::pg_dir)" "$TCHAT_PG_PORT" || tchat::die "PostgreSQL did not start (log: $(tchat::pg_log))"
}

# Starts the server whose files are in directory $1 (data/, postgres.log, sock/)
# on 127.0.0.1:$2 and waits until it accepts connections; further arguments are
# server options (-c name=value). Shared by the primary and the streaming replica
# (scripts/lib/pg_replica.sh). Prints the log's tail and fails when it does not start.
tchat::pg_ctl_start() {
  local dir="$1" port="$2" sockdir
  shift 2
  sockdir="$dir/sock"
  # Unix socket paths are limited to ~107 bytes; go TCP-only when ours is too long.
  if ((${#sockdir} > 90)); then
    sockdir=""
  else
    mkdir -p "$sockdir"
    if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$sockdir"; fi
  fi
  if ! tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" start -D "$dir/data" -w -t 60 \
    -l "$dir/postgres.log" -o "-p $port -k '$sockdir' $*" >/dev/null 9>&-; then
    tail -n 20 "$dir/postgres.log" >&2 || true
    return 1
  fi
}

# Stops the server: "fast" mode rolls back open transactions and disconnects clients.
tchat::pg_stop() {
  if tchat::pg_running; then
    tchat::log "stopping PostgreSQL"
    tchat::pg_exec "$TCHAT_PG_BIN/pg_ctl" stop -D "$(tchat::pg_data)" -m fast -w -t 60 >/dev/null
  fi
}

# Runs SQL against database $1 as postgres; prints unaligned output.
tchat::psql() {
  local db="$1"
  shift
  psql -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$TCHAT_PG_PORT" -U postgres -d "$db" "$@"
}

# Creates database $1 when missing.
tchat::pg_create_db() {
  local db="$1"
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || tchat::die "bad database name: $db"
  if [[ "$(tchat::psql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
    tchat::log "creating database $db"
    tchat::psql postgres -c "CREATE DATABASE $db"
  fi
}

# Gives database $1 its service role of the same name (created when missing; a
# login, also when a restore created it without one; no superuser, DDL or right
# elsewhere): CONNECT on this database only (PUBLIC loses it), and reading and
# writing the rows of its tables and sequences, also of those later migrations
# create. The owner (postgres, which
# runs the migrations) keeps the schema. Idempotent.
tchat::pg_grant_service_role() {
  local db="$1"
  [[ "$db" =~ ^tchat_[a-z]+$ ]] || tchat::die "bad service database name: $db"
  tchat::psql postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$db') THEN
    CREATE ROLE $db LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END \$\$;
ALTER ROLE $db LOGIN;
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $db TO $db;
SQL
  tchat::psql "$db" <<SQL
GRANT USAGE ON SCHEMA public TO $db;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $db;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO $db;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $db;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO $db;
SQL
}

# Creates the four service databases, migrates each to the latest version with
# tchat-migrate from $TCHAT_BUILD_DIR (as the owner, postgres) and grants each
# service's role its own database (tchat::pg_grant_service_role).
tchat::pg_setup_databases() {
  local migrate="$TCHAT_BUILD_DIR/bin/tchat-migrate" svc db
  [[ -x "$migrate" ]] || tchat::die "$migrate not found: build first (scripts/build.sh)"
  for svc in "${TCHAT_SERVICES[@]}"; do
    db="tchat_$svc"
    tchat::pg_create_db "$db"
    "$migrate" -path "$TCHAT_ROOT/migrations/postgres/$db" -database "$(tchat::pg_url "$db")" up 2>&1 |
      sed "s/^/    $db: /" >&2 || tchat::die "migrations failed for $db"
    tchat::pg_grant_service_role "$db"
  done
}

# Deletes the server's files (stop it first), including a /var/tmp directory the
# run dir links to.
tchat::pg_destroy() {
  local dir
  dir="$(tchat::pg_dir)"
  [[ -n "$dir" && "$dir" != / ]] || return 0
  rm -rf "$dir" "$TCHAT_RUN_DIR/postgres"
}
