#!/bin/bash
# migrate.sh — the runbook's database migration: runs the migrations of every
# service database (migrations/postgres/<database>/) up to the latest version,
# as the databases' owner (POSTGRES_USER), never as a service's own role
# (tchat_<service>: rights on its rows, not its schema; docs/RUNBOOK.md, section 8).
#
#   POSTGRES_USER      default postgres
#   POSTGRES_PASSWORD  default empty (the local system trusts loopback)
#   POSTGRES_HOST      default localhost
#   POSTGRES_PORT      default 5432
#   POSTGRES_SSLMODE   default "disable" for localhost/127.0.0.1/::1, else "require"
#                      (the runbook's production setting)
#   TCHAT_MIGRATE      migration command; default `migrate` (golang-migrate) when it
#                      is on PATH, else build/bin/tchat-migrate (same file format,
#                      same schema_migrations table)
#
# Usage: scripts/migrate.sh [COMMAND...]   COMMAND defaults to "up"; e.g.
#        scripts/migrate.sh version   or   scripts/migrate.sh down 1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIGRATION_DIR="$ROOT/migrations/postgres"
DATABASES=("tchat_auth" "tchat_messaging" "tchat_payment" "tchat_notification")

case "${1:-}" in
    -h|--help)
        sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
esac
command_args=("$@")
if [ ${#command_args[@]} -eq 0 ]; then
    command_args=(up)
fi

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-}"
POSTGRES_HOST="${POSTGRES_HOST:-localhost}"
POSTGRES_PORT="${POSTGRES_PORT:-5432}"
case "$POSTGRES_HOST" in
    localhost|127.0.0.1|::1) default_sslmode=disable ;;
    *) default_sslmode=require ;;
esac
POSTGRES_SSLMODE="${POSTGRES_SSLMODE:-$default_sslmode}"

if [ -n "${TCHAT_MIGRATE:-}" ]; then
    MIGRATE="$TCHAT_MIGRATE"
elif command -v migrate >/dev/null 2>&1; then
    MIGRATE=migrate
elif [ -x "${TCHAT_BUILD_DIR:-$ROOT/build}/bin/tchat-migrate" ]; then
    MIGRATE="${TCHAT_BUILD_DIR:-$ROOT/build}/bin/tchat-migrate"
else
    echo "❌ no migration tool: install golang-migrate or build tchat-migrate (scripts/build.sh)" >&2
    exit 1
fi

# Percent-encodes $1 for the user-info part of a URL.
urlencode() {
    local LC_ALL=C s="$1" out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        case "$c" in
            [a-zA-Z0-9.~_-]) out+="$c" ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

userinfo="$(urlencode "$POSTGRES_USER")"
if [ -n "$POSTGRES_PASSWORD" ]; then
    userinfo+=":$(urlencode "$POSTGRES_PASSWORD")"
fi
host="$POSTGRES_HOST"
case "$host" in
    *:*) host="[$host]" ;;  # IPv6 literal
esac

for db in "${DATABASES[@]}"; do
    echo "Running migrations for $db..."
    if "$MIGRATE" -path "$MIGRATION_DIR/$db" \
        -database "postgres://$userinfo@$host:$POSTGRES_PORT/$db?sslmode=$POSTGRES_SSLMODE" \
        "${command_args[@]}"; then
        echo "✅ Migrations completed for $db"
    else
        echo "❌ Migrations failed for $db"
        exit 1
    fi
done
