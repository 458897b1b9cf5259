# shellcheck shell=bash
# A throw-away PostgreSQL for the benchmarks, durable as in production (fsync and
# synchronous_commit on) so that commit rates mean something. Its data lives in
# $1/pg and disappears with that directory. Needs PG_BIN (PostgreSQL 15 binaries).

# PostgreSQL refuses to run as root: its commands run as the postgres user then.
tchat::as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# tchat::bench_pg_start WORK PORT [-c name=value ...]: initdb and start on
# 127.0.0.1:PORT, socket in WORK, with the extra server settings given.
tchat::bench_pg_start() {
  local work="$1" port="$2"
  shift 2
  if [[ "$(id -u)" == 0 ]]; then chown postgres "$work"; fi
  tchat::log "PostgreSQL on port $port (synchronous_commit on, fsync on)"
  tchat::as_pg "$PG_BIN/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; tchat::die "initdb failed"; }
  tchat::as_pg "$PG_BIN/pg_ctl" start -D "$work/pg" -w -t 60 -l "$work/pg.log" \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on $*" \
    >/dev/null || { cat "$work/pg.log" >&2; tchat::die "PostgreSQL did not start"; }
}

# tchat::bench_pg_stop WORK: stops it if it was started (for cleanup traps).
tchat::bench_pg_stop() {
  if [[ -f "$1/pg/PG_VERSION" ]]; then
    tchat::as_pg "$PG_BIN/pg_ctl" stop -D "$1/pg" -m fast -w -t 60 >/dev/null 2>&1 || true
  fi
}
