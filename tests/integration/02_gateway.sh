#!/usr/bin/env bash
# (c) The gateway in front of the real services: each service's prefix reaches that
# service (the access log names the upstream), an unknown path under a service's
# prefix gets that service's JSON 404, an unknown API path gets the gateway's JSON
# 404, and X-Request-ID travels through.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gw="http://127.0.0.1:$TCHAT_GATEWAY_PORT"
access_log="$TCHAT_RUN_DIR/logs/nginx-access.log"

# The access-log entry of the request with id $1 (nginx writes it after answering).
log_entry() {
  local id="$1" line=""
  for _ in $(seq 1 20); do
    line="$(grep -F "\"request_id\":\"$id\"" "$access_log" | tail -n1 || true)"
    [[ -n "$line" ]] && break
    sleep 0.1
  done
  printf '%s' "$line"
}

# An unknown path under each service's prefix: the service itself answers 404 JSON.
check_routed_404() {
  local svc="$1" path="$2" port="$3" id out code entry upstream
  id="itest-$svc-$RANDOM$RANDOM"
  out="$(curl -s -m 5 -D "$TCHAT_RUN_DIR/headers.$$" -H "X-Request-ID: $id" -w '\n%{http_code}' "$gw$path")"
  code="$(tail -n1 <<<"$out")"
  entry="$(log_entry "$id")"
  upstream="$(jq -r .upstream <<<"$entry" 2>/dev/null || true)"
  if [[ "$code" == 404 ]] && [[ "$(head -n1 <<<"$out" | jq -r .error.code 2>/dev/null)" == not_found ]] &&
    [[ "$upstream" == "127.0.0.1:$port" ]]; then
    pass "$path → JSON 404 from $svc (upstream $upstream)"
  else
    fail "$path: expected $svc's JSON 404; got HTTP $code body '$(head -n1 <<<"$out")' upstream '$upstream'"
  fi
  if grep -qi "^x-request-id: $id" "$TCHAT_RUN_DIR/headers.$$"; then
    pass "$svc echoes the X-Request-ID sent through the gateway"
  else
    fail "$svc did not echo X-Request-ID $id: $(tr -d '\r' <"$TCHAT_RUN_DIR/headers.$$" | tr '\n' '|')"
  fi
  rm -f "$TCHAT_RUN_DIR/headers.$$"
}
check_routed_404 auth /v1/auth/__no_such_endpoint "$TCHAT_AUTH_PORT"
check_routed_404 messaging /v1/conversations/__no/such/endpoint/at/all "$TCHAT_MESSAGING_PORT"
check_routed_404 payment /v1/wallets/__no/such/endpoint "$TCHAT_PAYMENT_PORT"
check_routed_404 notification /v1/devices/__no/such/endpoint "$TCHAT_NOTIFICATION_PORT"

# Unknown API path: the gateway's own JSON 404, no upstream involved.
id="itest-gw-$RANDOM$RANDOM"
out="$(curl -s -m 5 -H "X-Request-ID: $id" -w '\n%{http_code}' "$gw/v1/no-such-prefix")"
entry="$(log_entry "$id")"
if [[ "$(tail -n1 <<<"$out")" == 404 ]] &&
  [[ "$(head -n1 <<<"$out" | jq -r .error.code 2>/dev/null)" == not_found ]] &&
  [[ "$(jq -r .upstream <<<"$entry" 2>/dev/null)" == "" ]]; then
  pass "/v1/no-such-prefix → the gateway's JSON 404"
else
  fail "/v1/no-such-prefix: $out / log: $entry"
fi

# The web client or its placeholder at "/".
if [[ "$(http_status "$gw/")" == 200 ]]; then pass "/ → 200"; else fail "/ → $(http_status "$gw/")"; fi
finish
