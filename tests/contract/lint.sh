#!/usr/bin/env bash
# Lints the API contract docs/api/openapi.yaml with Redocly CLI (a devDependency
# of web/, installed by `npm ci`) under docs/api/redocly.yaml: the recommended
# rules, warnings counted as errors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
redocly="$ROOT/web/node_modules/.bin/redocly"
if [[ ! -x "$redocly" ]]; then
  echo "FAIL: $redocly is missing: install the web packages (scripts/install-deps.sh, or npm ci in web/)"
  exit 1
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
"$redocly" lint --config "$ROOT/docs/api/redocly.yaml" "$ROOT/docs/api/openapi.yaml"
