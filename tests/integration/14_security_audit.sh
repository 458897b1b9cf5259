#!/usr/bin/env bash
# scripts/security-audit.sh --local against the running test stack: it passes
# (no FAIL: loopback-only listeners, secrets mode 600, the gateway's security
# headers, TLS settings), and it finds what it should: a secret readable by
# others and a service listening on every address each fail it.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

audit=("$ROOT/scripts/security-audit.sh" --local)
work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if out="$("${audit[@]}" 2>&1)"; then
  pass "security-audit.sh --local passes on the test stack"
else
  fail "security-audit.sh --local on the test stack:"
  grep -E '^(FAIL|❌)' <<<"$out" | indent
fi
for what in "gateway / : X-Content-Type-Options" "gateway / : Content-Security-Policy" \
  "auth listens on loopback only (port $TCHAT_AUTH_PORT)" "secrets.env mode 600"; do
  grep -qF "OK ${what/ : /: }" <<<"$out" && pass "audit checked: $what" ||
    fail "audit did not report 'OK ${what/ : /: }'"
done

# A copy of the run directory's secrets, readable by others: a finding.
cp -p "$TCHAT_RUN_DIR/secrets.env" "$work/secrets.env"
chmod 644 "$work/secrets.env"
out="$(TCHAT_RUN_DIR="$work" "${audit[@]}" 2>&1)" && fail "a secrets.env of mode 644 passed the audit" ||
  { grep -q '^FAIL secrets.env mode 644' <<<"$out" && pass "a secrets.env of mode 644 fails the audit" ||
    fail "audit failed without naming secrets.env: $(grep '^FAIL' <<<"$out" | head -n 3)"; }

# A listener on every address at a service's port (another instance's): a finding.
port=$((TCHAT_GATEWAY_PORT + 41))
while tchat::port_open "$port"; do port=$((port + 1)); done
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
pid=$!
tchat::wait_until 5 tchat::port_open "$port" || true
out="$(TCHAT_NOTIFICATION_PORT="$port" "${audit[@]}" 2>&1)" &&
  fail "a service on 0.0.0.0 passed the audit" ||
  { grep -q "^FAIL notification listens on 0.0.0.0 (port $port;" <<<"$out" &&
    pass "a service listening on 0.0.0.0 fails the audit" ||
    fail "audit failed without naming the listener: $(grep '^FAIL' <<<"$out" | head -n 3)"; }

finish
