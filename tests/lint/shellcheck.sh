#!/usr/bin/env bash
# Runs shellcheck over every shell script of the repository (scripts/, tests/,
# bench/, .ci/run). Fails when shellcheck is missing: scripts/install-deps.sh
# installs it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is not installed"; exit 1; }

mapfile -t files < <(
  find scripts tests bench -type f -name '*.sh' 2>/dev/null | sort
  [[ -f .ci/run ]] && echo .ci/run
)
((${#files[@]} > 0)) || { echo "FAIL: no shell scripts found"; exit 1; }
shellcheck -x -P SCRIPTDIR -P "$ROOT" "${files[@]}"
echo "PASS: shellcheck clean (${#files[@]} files)"
