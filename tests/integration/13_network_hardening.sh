#!/usr/bin/env bash
# What other hosts and other processes can do to the test stack (issue 17):
#  - every process of the stack listens on loopback only;
#  - development OTP refuses a non-loopback address, in start-up (config.env)
#    and in the service itself, unless TCHAT_DEV_OTP_ALLOW_NETWORK=1;
#  - the client address of per-address limits comes from X-Forwarded-For /
#    X-Real-IP of a trusted proxy only, validated (auth's request log shows it);
#  - each service connects to PostgreSQL as its own role, which cannot reach
#    another service's database nor change its own schema.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"

work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- Listening addresses.
for what in "auth $TCHAT_AUTH_PORT" "messaging $TCHAT_MESSAGING_PORT" "payment $TCHAT_PAYMENT_PORT" \
  "notification $TCHAT_NOTIFICATION_PORT" "gateway $TCHAT_GATEWAY_PORT" \
  "PostgreSQL $TCHAT_PG_PORT" "Redis $TCHAT_REDIS_PORT"; do
  port="${what##* }"
  addrs="$(ss -Hltn "sport = :$port" | awk '{ print $4 }' | sed 's/:[0-9]*$//' | sort -u | tr '\n' ' ')"
  if [[ -n "$addrs" && -z "$(tr ' ' '\n' <<<"$addrs" | grep -vxE '127\.[0-9.]+|\[::1\]|' || true)" ]]; then
    pass "${what% *} listens on loopback only ($addrs)"
  else
    fail "${what% *} (port $port) listens on: '${addrs}'"
  fi
done

# --- Development OTP on an address other hosts reach.
# Writes config.env into $work with the settings $@ (NAME=value) in the environment.
write_config() {
  (
    unset LISTEN_ADDRESS TCHAT_DEV_OTP_ALLOW_NETWORK TCHAT_TRUSTED_PROXIES
    # shellcheck disable=SC2163 # NAME=value arguments
    export TCHAT_RUN_DIR="$work" "$@"
    tchat::write_service_config
  )
}
out="$(write_config TCHAT_DEV_OTP=1 LISTEN_ADDRESS=0.0.0.0 2>&1)" &&
  fail "config.env written with TCHAT_DEV_OTP=1 LISTEN_ADDRESS=0.0.0.0: $(grep -E '^(LISTEN|TCHAT_DEV)' "$work/config.env" | tr '\n' ' ')" ||
  { [[ "$out" == *TCHAT_DEV_OTP_ALLOW_NETWORK* ]] && pass "start-up stops: development OTP on 0.0.0.0" ||
    fail "start-up stopped without naming the switch: $out"; }
write_config TCHAT_DEV_OTP=1 LISTEN_ADDRESS=0.0.0.0 TCHAT_DEV_OTP_ALLOW_NETWORK=1 2>/dev/null &&
  pass "the second switch allows it" ||
  fail "TCHAT_DEV_OTP_ALLOW_NETWORK=1 did not allow development OTP on 0.0.0.0"
rm -f "$work/config.env"
write_config TCHAT_DEV_OTP=1 2>/dev/null || true
grep -qx 'LISTEN_ADDRESS=127.0.0.1' "$work/config.env" && pass "config.env: LISTEN_ADDRESS=127.0.0.1 by default" ||
  fail "config.env default listen address: $(grep LISTEN_ADDRESS "$work/config.env" || echo none)"

port=$((TCHAT_GATEWAY_PORT + 31))
while tchat::port_open "$port"; do port=$((port + 1)); done
env -i PATH="$PATH" PORT="$port" LISTEN_ADDRESS=0.0.0.0 TCHAT_DEV_OTP=1 \
  "$TCHAT_BUILD_DIR/bin/tchat-auth" >"$work/auth.log" 2>&1 </dev/null &
pid=$!
if tchat::wait_until 10 tchat::_pid_gone "$pid"; then
  pid=""
  grep -q TCHAT_DEV_OTP_ALLOW_NETWORK "$work/auth.log" &&
    pass "tchat-auth refuses development OTP on 0.0.0.0 and names the switch" ||
    fail "tchat-auth exited without naming the switch: $(tail -n 3 "$work/auth.log")"
else
  fail "tchat-auth runs with development OTP on 0.0.0.0 (port $port)"
fi

# --- The client address auth's limits count under.
# Which address auth logged for a request with request id $1.
logged_ip() {
  local rid="$1"
  tchat::wait_until 5 grep -q "$rid" "$(tchat::service_log auth)" || true
  grep -F "$rid" "$(tchat::service_log auth)" | jq -r 'select(.msg == "request") | .remote_ip' | head -n 1
}
# POST /v1/auth/otp/verify {} (400, logged) to $1 with curl arguments $3...; the
# address auth logged must be $2.
expect_client() {
  local url="$1" want="$2" rid got
  shift 2
  rid="h17net$RANDOM$RANDOM"
  curl -s -o /dev/null -m 5 -H "X-Request-ID: $rid" -H 'Content-Type: application/json' \
    -d '{}' "$@" "$url/v1/auth/otp/verify" || true
  got="$(logged_ip "$rid")"
  [[ "$got" == "$want" ]] && pass "client $want: $*" || fail "client '$got', want $want: $*"
}
direct="http://127.0.0.1:$TCHAT_AUTH_PORT"
gw="http://127.0.0.1:$TCHAT_GATEWAY_PORT"
expect_client "$direct" 203.0.113.7 -H 'X-Real-IP: 203.0.113.7'
expect_client "$direct" 127.0.0.1 -H 'X-Real-IP: <script>alert(1)</script>'
expect_client "$direct" 127.0.0.1 -H 'X-Real-IP: 203.0.113.7, 10.0.0.1'
expect_client "$direct" 203.0.113.9 -H 'X-Forwarded-For: 6.6.6.6, 203.0.113.9' -H 'X-Real-IP: 1.1.1.1'
expect_client "$direct" 2001:db8::7 -H 'X-Forwarded-For: 2001:DB8:0::7'
expect_client "$direct" 127.0.0.1 -H 'X-Forwarded-For: 203.0.113.9, garbage'
# Through the gateway (the edge), a client's own claims are dropped.
expect_client "$gw" 127.0.0.1 -H 'X-Forwarded-For: 203.0.113.5' -H 'X-Real-IP: 203.0.113.6'

# --- PostgreSQL roles (each service has a connection open once it is ready).
for svc in "${TCHAT_SERVICES[@]}"; do http_status "http://127.0.0.1:$(tchat::service_port "$svc")/health/ready" >/dev/null; done
as_role() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TCHAT_PG_PORT" -U "$1" -d "$2" -c "$3" 2>&1; }
for svc in "${TCHAT_SERVICES[@]}"; do
  users="$(tchat::psql postgres -c "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE datname = 'tchat_$svc' AND application_name NOT LIKE 'psql%' AND pid <> pg_backend_pid()")"
  [[ "$users" == "tchat_$svc" ]] && pass "$svc connects as tchat_$svc" ||
    fail "$svc's connections to tchat_$svc are of: '$users'"
done
out="$(as_role tchat_messaging tchat_payment 'SELECT count(*) FROM accounts')" &&
  fail "tchat_messaging read tchat_payment: $out" || pass "tchat_messaging cannot connect to tchat_payment (${out%%$'\n'*})"
out="$(as_role tchat_payment tchat_auth 'SELECT 1')" &&
  fail "tchat_payment connected to tchat_auth" || pass "tchat_payment cannot connect to tchat_auth"
out="$(as_role tchat_messaging tchat_messaging 'SELECT count(*) >= 0 FROM conversations')" &&
  [[ "$out" == t ]] && pass "tchat_messaging reads its own tables" || fail "tchat_messaging on its own database: $out"
out="$(as_role tchat_messaging tchat_messaging 'CREATE TABLE h17_net_probe (x int)')" &&
  fail "tchat_messaging may create tables" || pass "tchat_messaging cannot change its schema"
out="$(as_role tchat_messaging tchat_messaging 'DROP TABLE conversations')" &&
  fail "tchat_messaging dropped a table!" || pass "tchat_messaging cannot drop its tables"

finish
