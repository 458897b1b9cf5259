#!/usr/bin/env bash
# (f) With debug endpoints on (the test stack turns them on), every service serves
# a tcmalloc heap profile at /debug/pprof/heap in the text format pprof reads.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for svc in "${TCHAT_SERVICES[@]}"; do
  port="$(tchat::service_port "$svc")"
  body="$(curl -s -m 10 "http://127.0.0.1:$port/debug/pprof/heap" | head -c 200 || true)"
  if [[ "$body" == "heap profile:"* ]]; then
    pass "$svc serves a heap profile"
  else
    fail "$svc /debug/pprof/heap answered: ${body:0:120}"
  fi
done
finish
