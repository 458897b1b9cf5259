#!/usr/bin/env bash
# (d) scripts/check-dependencies.sh passes against the test stack's PostgreSQL
# (every service database) and Redis, and fails when Redis is unreachable.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
out="$(POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$TCHAT_PG_PORT" POSTGRES_USER=postgres \
  REDIS_URL="$TCHAT_TEST_REDIS_URL" "$ROOT/scripts/check-dependencies.sh" 2>&1)" || rc=$?
indent <<<"$out"
if [[ $rc == 0 ]]; then pass "check-dependencies.sh exits 0"; else fail "check-dependencies.sh exited $rc"; fi
n="$(grep -c '^✅ PostgreSQL is healthy' <<<"$out" || true)"
if [[ "$n" == 4 ]]; then pass "all four databases answer"; else fail "$n of 4 databases healthy"; fi
if grep -q '^✅ Redis is healthy' <<<"$out"; then pass "Redis answers"; else fail "Redis not healthy"; fi
if ! grep -q ScyllaDB <<<"$out"; then pass "ScyllaDB not checked without SCYLLA_HOSTS"; else fail "ScyllaDB checked"; fi

rc=0
out="$(DATABASE_URL="$TCHAT_TEST_PG_URL" REDIS_URL="redis://127.0.0.1:1/0" CHECK_TIMEOUT=2 \
  "$ROOT/scripts/check-dependencies.sh" 2>&1)" || rc=$?
if [[ $rc == 1 ]] && grep -q '^❌ Redis' <<<"$out" && grep -q '^✅ PostgreSQL' <<<"$out"; then
  pass "an unreachable Redis fails the check (and PostgreSQL via DATABASE_URL passes)"
else
  fail "unreachable Redis: rc=$rc output: $out"
fi
finish
