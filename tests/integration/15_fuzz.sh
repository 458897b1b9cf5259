#!/usr/bin/env bash
# Fuzz run against the running stack (tests/fuzz/http_fuzz.py): every route of the
# contract on its service and through the gateway with random, deeply nested and
# non-UTF-8 bodies and hostile parameters, malformed HTTP on every port, and
# malformed and oversized WebSocket frames. Seeded and bounded (75 s of requests):
# no 5xx, no hang, no silent close of a malformed request, no internal text in an
# error body, every service still healthy. scripts/test.sh runs it once more in
# its ASan phase, where a sanitizer report fails the suite.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for var in TCHAT_TEST_GATEWAY_URL TCHAT_TEST_AUTH_URL TCHAT_TEST_MESSAGING_URL \
  TCHAT_TEST_PAYMENT_URL TCHAT_TEST_NOTIFICATION_URL; do
  [[ -n "${!var:-}" ]] || { fail "$var is not set"; finish; }
done
if python3 "$ROOT/tests/fuzz/http_fuzz.py" --seed "${TCHAT_FUZZ_SEED:-17}"; then
  pass "fuzz run: no 5xx, hang, silent close, leak or crash"
else
  fail "fuzz run (seed ${TCHAT_FUZZ_SEED:-17}): see the FAIL lines above"
fi
finish
