#!/usr/bin/env bash
# (k) The API contract: every service's registered routes (GET /debug/routes,
# served with TCHAT_DEBUG_ENDPOINTS=1 as on the test stack) are, per service, the
# paths and methods docs/api/openapi.yaml documents for it: nothing undocumented,
# nothing documented that is not served.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v node >/dev/null || { echo "FAIL: node is not installed"; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

args=()
for svc in "${TCHAT_SERVICES[@]}"; do
  port="$(tchat::service_port "$svc")"
  status="$(curl -s -m 10 -o "$dir/$svc.json" -w '%{http_code}' "http://127.0.0.1:$port/debug/routes" || true)"
  if [[ "$status" == 200 ]]; then
    args+=("$svc=$dir/$svc.json")
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

finish
