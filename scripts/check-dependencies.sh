#!/bin/bash
# check-dependencies.sh — checks the external dependencies of the Tchat services
# (runbook, incident response step 2) and prints ✅/❌ for each. Checks all of
# them, then exits 1 when any failed.
#
#   PostgreSQL  DATABASE_URL when set (that one database); otherwise POSTGRES_HOST
#               [localhost], POSTGRES_PORT [5432], POSTGRES_USER [postgres],
#               POSTGRES_PASSWORD, POSTGRES_SSLMODE [disable on localhost, else
#               require]: each of the four service databases. pg_isready, then
#               SELECT 1.
#   Redis       REDIS_URL [redis://localhost:6379/0]: PING must answer PONG.
#   ScyllaDB    only when SCYLLA_HOSTS is set (comma-separated host[:port], port
#               9042 by default): cqlsh when installed, else a TCP connect. This
#               is the cluster's reachability only: no service of this build
#               uses ScyllaDB, and the services refuse to start while
#               SCYLLA_HOSTS is set in their environment (the script says so).
#   CHECK_TIMEOUT  seconds per check (default 5).
# No errexit: a failing probe is reported (❌), not fatal to the script itself.
set -uo pipefail

TIMEOUT="${CHECK_TIMEOUT:-5}"
failed=0

ok() { echo "✅ $*"; }
bad() {
    echo "❌ $*"
    failed=1
}

# A URL with its password replaced, for messages.
redact() { sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<< "$1"; }

# Checks one database: $1 is what to show, the rest are the libpq arguments.
check_postgres() {
    local shown="$1" out
    shift
    echo "Checking PostgreSQL ($shown)..."
    if ! out=$(PGCONNECT_TIMEOUT="$TIMEOUT" pg_isready "$@" 2>&1); then
        bad "PostgreSQL is not accepting connections ($shown): $out"
        return
    fi
    if out=$(PGCONNECT_TIMEOUT="$TIMEOUT" timeout "$TIMEOUT" psql -X -At "$@" -c "SELECT 1" 2>&1) &&
        [ "$out" = "1" ]; then
        ok "PostgreSQL is healthy ($shown)"
    else
        bad "PostgreSQL query failed ($shown): $out"
    fi
}

# --- PostgreSQL
if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    bad "PostgreSQL client tools (pg_isready, psql) are not installed"
elif [ -n "${DATABASE_URL:-}" ]; then
    check_postgres "$(redact "$DATABASE_URL")" -d "$DATABASE_URL"
else
    # Through libpq's environment: no URL encoding of the password needed.
    export PGHOST="${POSTGRES_HOST:-localhost}" PGPORT="${POSTGRES_PORT:-5432}"
    export PGUSER="${POSTGRES_USER:-postgres}"
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
    case "$PGHOST" in
        localhost|127.0.0.1|::1) PGSSLMODE="${POSTGRES_SSLMODE:-disable}" ;;
        *) PGSSLMODE="${POSTGRES_SSLMODE:-require}" ;;
    esac
    export PGSSLMODE
    for db in tchat_auth tchat_messaging tchat_payment tchat_notification; do
        check_postgres "$PGUSER@$PGHOST:$PGPORT/$db" -d "$db"
    done
fi

# --- Redis
redis_url="${REDIS_URL:-redis://localhost:6379/0}"
echo "Checking Redis ($(redact "$redis_url"))..."
if ! command -v redis-cli >/dev/null 2>&1; then
    bad "redis-cli is not installed"
elif out=$(timeout "$TIMEOUT" redis-cli --no-auth-warning -u "$redis_url" PING 2>&1) && [ "$out" = "PONG" ]; then
    ok "Redis is healthy"
else
    bad "Redis did not answer PING: ${out:-timeout}"
fi

# --- ScyllaDB (optional; not a dependency of this build's services)
if [ -n "${SCYLLA_HOSTS:-}" ]; then
    echo "Note: no service of this build uses ScyllaDB; with SCYLLA_HOSTS set in their environment they refuse to start"
    IFS=',' read -r -a scylla_hosts <<< "$SCYLLA_HOSTS"
    for entry in "${scylla_hosts[@]}"; do
        entry="${entry// /}"
        [ -n "$entry" ] || continue
        shost="${entry%:*}"
        sport="${entry##*:}"
        [ "$shost" = "$entry" ] && sport=9042
        echo "Checking ScyllaDB ($shost:$sport)..."
        if command -v cqlsh >/dev/null 2>&1; then
            if timeout "$((TIMEOUT * 2))" cqlsh "$shost" "$sport" --connect-timeout="$TIMEOUT" \
                -e "SELECT release_version FROM system.local" >/dev/null 2>&1; then
                ok "ScyllaDB is healthy ($shost:$sport)"
            else
                bad "ScyllaDB query failed ($shost:$sport)"
            fi
        elif timeout "$TIMEOUT" bash -c "exec 3<>/dev/tcp/$shost/$sport" 2>/dev/null; then
            ok "ScyllaDB is accepting connections ($shost:$sport; cqlsh not installed, TCP check only)"
        else
            bad "ScyllaDB is unreachable ($shost:$sport)"
        fi
    done
fi

if [ "$failed" -ne 0 ]; then
    echo "Some dependencies are unhealthy"
    exit 1
fi
echo "All dependencies are healthy"
