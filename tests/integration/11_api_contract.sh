#!/usr/bin/env bash
# (k) The API contract: every service's registered routes (GET /debug/routes,
# served with TCHAT_DEBUG_ENDPOINTS=1 as on the test stack) are, per service, the
# paths and methods docs/api/openapi.yaml documents for it: nothing undocumented,
# nothing documented that is not served. And the gateway serves the document,
# rendered, at /docs/api/ with nothing loaded from elsewhere.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v node >/dev/null || { echo "FAIL: node is not installed"; exit 1; }
# Kept with the run's artifacts: what each service registered.
dir="$TCHAT_RUN_DIR/artifacts/contract"
mkdir -p "$dir"

args=()
for svc in "${TCHAT_SERVICES[@]}"; do
  port="$(tchat::service_port "$svc")"
  status="$(curl -s -m 10 -o "$dir/routes-$svc.json" -w '%{http_code}' "http://127.0.0.1:$port/debug/routes" || true)"
  if [[ "$status" == 200 ]]; then
    args+=("$svc=$dir/routes-$svc.json")
  else
    fail "$svc GET /debug/routes answered HTTP $status"
  fi
done
if ((${#args[@]})); then
  if out="$(node "$ROOT/tests/contract/route_contract.mjs" "${args[@]}")"; then
    echo "$out"
  else
    echo "$out"
    fail "registered routes differ from docs/api/openapi.yaml"
  fi
fi

gw="http://127.0.0.1:$TCHAT_GATEWAY_PORT"
status="$(curl -s -m 10 -o "$dir/docs.html" -w '%{http_code}' "$gw/docs/api/" || true)"
if [[ "$status" == 200 ]] && grep -q '<title>Tchat API</title>' "$dir/docs.html"; then
  pass "the gateway serves the API reference at /docs/api/"
else
  fail "GET /docs/api/ answered HTTP $status without the rendered document"
fi
if grep -qE '<(script|link)[^>]*(src|href)="(https?:)?//' "$dir/docs.html"; then
  fail "/docs/api/ loads something from another site"
else
  pass "/docs/api/ loads nothing from another site"
fi
if [[ "$(http_status "$gw/docs/api/redoc.standalone.js")" == 200 ]]; then
  pass "the gateway serves Redoc's script beside it"
else
  fail "/docs/api/redoc.standalone.js is not served"
fi
finish
