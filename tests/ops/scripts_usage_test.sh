#!/usr/bin/env bash
# The runbook's operations scripts, called wrongly, print their usage and exit
# non-zero before touching anything; with --help they print it and exit 0.
# Hermetic: no server is needed (the calls fail in argument parsing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
S="$ROOT/scripts"
failures=0
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_usage SCRIPT ARGS...: non-zero exit and "Usage:" in the output.
expect_usage() {
  local script="$1" out rc=0
  shift
  out="$(TCHAT_RUN_DIR=/nonexistent/tchat-usage-test BACKUP_STORE=/nonexistent/store \
    timeout 20 "$S/$script" "$@" 2>&1 </dev/null)" || rc=$?
  if [[ $rc != 0 ]] && grep -q "Usage:" <<<"$out"; then
    pass "$script ${*:-(no arguments)} → usage, exit $rc"
  else
    fail "$script ${*:-(no arguments)}: exit $rc, output: $out"
  fi
}

for s in postgres-backup.sh redis-backup.sh scylla-backup.sh scylla-repair.sh full-backup.sh \
  media-backup.sh data-fingerprint.sh cert-renewal.sh security-audit.sh status.sh; do
  expect_usage "$s" --no-such-option
done
for s in restore-postgres.sh restore-redis.sh restore-scylla.sh restore-media.sh disaster-recovery.sh \
  blue-green-deploy.sh canary-deploy.sh prometheus.sh; do
  expect_usage "$s"
done
expect_usage containers.sh
expect_usage containers.sh --no-such-option
expect_usage restore-postgres.sh --no-such-option /tmp
expect_usage blue-green-deploy.sh auth-service
expect_usage canary-deploy.sh auth-service
expect_usage canary-deploy.sh auth-service image:1 not-a-number
expect_usage canary-deploy.sh auth-service image:1 150
expect_usage disaster-recovery.sh 20240101_000000 extra

for s in postgres-backup.sh restore-postgres.sh redis-backup.sh restore-redis.sh media-backup.sh \
  restore-media.sh scylla-backup.sh scylla-repair.sh restore-scylla.sh full-backup.sh disaster-recovery.sh blue-green-deploy.sh \
  canary-deploy.sh cert-renewal.sh security-audit.sh status.sh prometheus.sh data-fingerprint.sh; do
  if out="$("$S/$s" --help 2>&1)" && grep -q "Usage:" <<<"$out"; then
    pass "$s --help"
  else
    fail "$s --help: $out"
  fi
done

if ((failures)); then
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "OK: usage checks passed"
