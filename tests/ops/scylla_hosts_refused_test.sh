#!/usr/bin/env bash
# No service of this build has a ScyllaDB message store, so each one refuses to
# start when SCYLLA_HOSTS is set: a non-zero exit and a message naming the key,
# at configuration load, before it listens or connects to anything. With
# SCYLLA_HOSTS empty (the ConfigMap's value) the same binary starts and answers
# /health, which shows that the refusal is SCYLLA_HOSTS's doing.
# Hermetic: the databases named below do not exist (port 1); no server is needed.
# Usage: scylla_hosts_refused_test.sh <service binary>...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

(($#)) || { echo "Usage: $0 <service binary>..." >&2; exit 2; }
failures=0
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

work="$(mktemp -d /tmp/tchat-scylla-refused.XXXXXX)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 9000))
    if ! tchat::port_open "$p"; then echo "$p"; return 0; fi
  done
  return 1
}
# The minimal environment of a service whose dependencies are unreachable
# (PORT is added per run).
base_env=(env -i PATH=/usr/bin:/bin LISTEN_ADDRESS=127.0.0.1 TCHAT_THREADS=1
  DATABASE_URL=postgresql://postgres@127.0.0.1:1/tchat_ops_none REDIS_URL=redis://127.0.0.1:1/0
  JWKS_URL=http://127.0.0.1:1/.well-known/jwks.json SHUTDOWN_TIMEOUT=1s
  # Payment requires auth's address (it asks auth about transfers' counterparties).
  TCHAT_AUTH_URL=http://127.0.0.1:1
  # RFC 7748's published X25519 test pair (auth and notification require one).
  TCHAT_NOTIFICATION_SEAL_KEY=77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a
  TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY=8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a)
health_ok() { [[ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$1/health")" == 200 ]]; }

for bin in "$@"; do
  name="$(basename "$bin")"
  [[ -x "$bin" ]] || { fail "$bin is not an executable"; continue; }
  port="$(free_port)" || { fail "no free port"; continue; }
  rc=0
  timeout 10 "${base_env[@]}" PORT="$port" SCYLLA_HOSTS=scylla-0.scylla:9042 "$bin" \
    >"$work/$name.out" 2>"$work/$name.err" </dev/null || rc=$?
  if [[ $rc != 0 && $rc != 124 ]] &&
    grep -q 'SCYLLA_HOSTS.*no ScyllaDB message store' "$work/$name.err"; then
    pass "$name with SCYLLA_HOSTS set → exit $rc: $(head -n1 "$work/$name.err")"
  else
    fail "$name with SCYLLA_HOSTS set: exit $rc (124: still running after 10 s), stderr: $(head -c 400 "$work/$name.err")"
  fi

  # The control: the same environment with SCYLLA_HOSTS empty comes up.
  "${base_env[@]}" PORT="$port" SCYLLA_HOSTS= "$bin" >"$work/$name.ctl" 2>&1 </dev/null &
  pid=$!
  if tchat::wait_until 15 health_ok "$port"; then
    pass "$name with SCYLLA_HOSTS empty starts and answers /health"
  elif grep -q SCYLLA_HOSTS "$work/$name.ctl"; then
    fail "$name refused an empty SCYLLA_HOSTS: $(head -c 400 "$work/$name.ctl")"
  else
    fail "$name with SCYLLA_HOSTS empty did not come up: $(head -c 400 "$work/$name.ctl")"
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done

if ((failures)); then
  echo "scylla_hosts_refused_test: $failures failure(s)"
  exit 1
fi
echo "scylla_hosts_refused_test: all checks passed"
