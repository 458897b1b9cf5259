# shellcheck shell=bash
# Helpers of the stack tests (tests/integration/*.sh). scripts/test.sh starts the
# test stack and runs each test with its settings in the environment; a test run
# without them fails at once rather than skipping.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

for var in TCHAT_RUN_DIR TCHAT_BUILD_DIR TCHAT_PG_PORT TCHAT_REDIS_PORT TCHAT_GATEWAY_PORT \
  TCHAT_AUTH_PORT TCHAT_MESSAGING_PORT TCHAT_PAYMENT_PORT TCHAT_NOTIFICATION_PORT \
  TCHAT_TEST_PG_URL TCHAT_TEST_REDIS_URL; do
  if [[ -z "${!var:-}" ]]; then
    echo "FAIL: $var is not set (run the stack tests through scripts/test.sh)"
    exit 1
  fi
done

TEST_NAME="$(basename "$0" .sh)"
FAILURES=0
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}
# Ends the test: exit status 1 when any check failed.
finish() {
  if ((FAILURES)); then
    echo "$TEST_NAME: $FAILURES check(s) failed"
    exit 1
  fi
  echo "$TEST_NAME: all checks passed"
  exit 0
}

# HTTP status of GET $1 ("000" when nothing answers).
http_status() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true
}

# Sum of every sample of metric $2 in the Prometheus text at URL $1 (0 when absent).
metric_sum() {
  curl -s -m 5 "$1" | awk -v name="$2" '
    $1 == name || index($1, name "{") == 1 { sum += $NF }
    END { printf "%.0f\n", sum + 0 }'
}

# Copies stdin to stdout, indented (for quoting a command's output).
indent() { sed 's/^/    /'; }
