#!/bin/bash
# Entrypoint of tchat-local/postgres:15-debian (postgres.Dockerfile): on the first
# start (empty $PGDATA) initdb with POSTGRES_USER and POSTGRES_PASSWORD (required:
# password authentication, scram-sha-256, for every connection from the network),
# then the scripts in /docker-entrypoint-initdb.d/ against a server listening on
# its socket only; then the server, listening on every address.
set -euo pipefail
: "${POSTGRES_USER:=postgres}"
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  [[ -n "${POSTGRES_PASSWORD:-}" ]] || { echo "error: POSTGRES_PASSWORD is required" >&2; exit 1; }
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # The first-start server listens on a private socket only: pg_isready (the
  # compose health check) says "no response" until the real server runs.
  PGHOST="$(mktemp -d)"
  export PGHOST
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$PGHOST" -w start >/dev/null
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; POSTGRES_USER="$POSTGRES_USER" bash "$f" ;;
      *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -f "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  unset PGHOST
  echo "initialised $PGDATA"
fi
if [[ "${1:-}" == postgres ]]; then
  shift
  exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
