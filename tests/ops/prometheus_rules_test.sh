#!/usr/bin/env bash
# deploy/prometheus: the configurations pass `promtool check config` (the
# docker-compose one and the one scripts/prometheus.sh generates for the local
# system), the alert rules pass `promtool check rules`, their unit tests pass
# `promtool test rules`, and every alert has a unit test where it fires and one
# where it stays silent. Needs promtool (Debian package prometheus).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROM="$ROOT/deploy/prometheus"
command -v promtool >/dev/null || { echo "FAIL: promtool is not installed (package prometheus)"; exit 1; }

failures=0
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# step DESCRIPTION COMMAND...: runs a promtool command, shows its output on failure.
step() {
  local what="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$what"
  else
    fail "$what"
    printf '    %s\n' "$out"
  fi
}

step "promtool check config deploy/prometheus/prometheus.yml" promtool check config "$PROM/prometheus.yml"
step "promtool check rules deploy/prometheus/alerts.yml" promtool check rules "$PROM/alerts.yml"
step "promtool test rules deploy/prometheus/alerts_test.yml" promtool test rules "$PROM/alerts_test.yml"

# The local system's generated configuration.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(
  # shellcheck source=scripts/lib/common.sh
  source "$ROOT/scripts/lib/common.sh"
  # shellcheck source=scripts/lib/prometheus.sh
  source "$ROOT/scripts/lib/prometheus.sh"
  TCHAT_RUN_DIR="$tmp"
  tchat::defaults
  tchat::prom_generate
)
step "promtool check config of the local system's generated configuration" \
  promtool check config "$tmp/prometheus/prometheus.yml"

# Every alert: a test expecting it to fire, a test expecting no alert.
py=/usr/bin/python3
[[ -x "$py" ]] || py=python3
coverage="$("$py" - "$PROM/alerts.yml" "$PROM/alerts_test.yml" <<'PY'
import sys, yaml
rules = [r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r]
fires, silent = set(), set()
for t in yaml.safe_load(open(sys.argv[2]))["tests"]:
    for a in t.get("alert_rule_test", []):
        (fires if a.get("exp_alerts") else silent).add(a["alertname"])
for r in rules:
    print(f"{r} {'fires' if r in fires else 'NO-FIRING-TEST'} {'silent' if r in silent else 'NO-SILENT-TEST'}")
PY
)" || { fail "could not read the rules and tests (python3-yaml missing?)"; coverage=""; }
n=0
while read -r alert firing silent; do
  [[ -n "$alert" ]] || continue
  n=$((n + 1))
  if [[ "$firing" == fires && "$silent" == silent ]]; then
    pass "$alert has a firing and a non-firing unit test"
  else
    fail "$alert: $firing $silent"
  fi
done <<<"$coverage"
if [[ "$n" == 6 ]]; then pass "the runbook's 6 alerts are defined"; else fail "$n alerts defined, expected 6"; fi

if ((failures)); then
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "OK: deploy/prometheus checks passed"
